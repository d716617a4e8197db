"""Planted errors checked by chapter 3, ``chapters/03_stationarity.md``."""

from . import PlantedError

ERRORS = (
    PlantedError(
        "loglik-grad-lost-half",
        "gmmlib/em.py",
        "grad[k] = -0.5 * (resp[:, k].sum() * precision - weighted_outer)",
        "grad[k] = -(resp[:, k].sum() * precision - weighted_outer)",
        "∂L/∂Σ_k without its ½",
        "03_stationarity",
        cells=("G = em.log_likelihood_grad_cov(X, weights, means, covariances)",),
    ),
    PlantedError(
        "loglik-grad-sign",
        "gmmlib/em.py",
        "grad[k] = -0.5 * (resp[:, k].sum() * precision - weighted_outer)",
        "grad[k] = 0.5 * (resp[:, k].sum() * precision - weighted_outer)",
        "∂L/∂Σ_k with the wrong sign",
        "03_stationarity",
        cells=("G = em.log_likelihood_grad_cov(X, weights, means, covariances)",),
    ),
    PlantedError(
        "loglik-grad-n-for-nk",
        "gmmlib/em.py",
        "grad[k] = -0.5 * (resp[:, k].sum() * precision - weighted_outer)",
        "grad[k] = -0.5 * (len(X) * precision - weighted_outer)",
        "N for N_k in ∂L/∂Σ_k: Σ_n γ_nk Σ⁻¹ taken as N Σ⁻¹",
        "03_stationarity",
        cells=("G = em.log_likelihood_grad_cov(X, weights, means, covariances)",),
    ),
    PlantedError(
        "sym-grad-without-diag",
        "gmmlib/em.py",
        "return 2.0 * grad - identity * grad",
        "return 2.0 * grad",
        "the symmetric gradient 2G without − diag G (Flaw 3)",
        "03_stationarity",
        cells=("# checks: eq-sym-grad",),
    ),
)
