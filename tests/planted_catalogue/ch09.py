"""Planted errors checked by chapter 9, ``chapters/09_prior_and_model_choice.md``."""

from . import PlantedError

ERRORS = (
    PlantedError(
        "map-dof-minus",
        "gmmlib/em.py",
        "denominators = nk + dof + n_features + 1",
        "denominators = nk + dof + n_features - 1",
        "Σ_k^MAP divided by N_k + ν + d − 1: the mode of the inverse-Wishart misread",
        "09_prior_and_model_choice",
        cells=("# checks: eq-sigma-map",),
    ),
    PlantedError(
        "map-prior-scale-dropped",
        "gmmlib/em.py",
        "covariances = (scatter + scales) / denominators[:, None, None]",
        "covariances = scatter / denominators[:, None, None]",
        "Σ_k^MAP without the prior's scale Ψ in the numerator",
        "09_prior_and_model_choice",
        cells=("# checks: eq-sigma-map",),
    ),
)
