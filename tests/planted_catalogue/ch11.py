"""Planted errors checked by chapter 11, ``chapters/11_weights_and_streaming.md``."""

from . import PlantedError

ERRORS = (
    PlantedError(
        "stepwise-rho-swapped",
        "gmmlib/suffstats.py",
        "return running.scaled((1 - rho) * scale).merge(batch.scaled(rho))",
        "return running.scaled(rho * scale).merge(batch.scaled(1 - rho))",
        "stepwise EM weights the old statistics by ρ_t and the batch by 1 − ρ_t",
        "11_weights_and_streaming",
        cells=("# checks: eq-step-size",),
    ),
)
