"""Planted errors checked by chapter 4, ``chapters/04_covariance_update.md``."""

from . import PlantedError

ERRORS = (
    PlantedError(
        "mean-n-for-nk",
        "gmmlib/em.py",
        "means = (resp.T @ X) / nk[:, None]",
        "means = (resp.T @ X) / len(X)",
        "μ_k^new = Σ_n γ_nk x_n / N: N for N_k",
        "04_covariance_update",
        cells=("# checks: eq-sigma-implicit",),
    ),
    PlantedError(
        "sigma-n-for-nk",
        "gmmlib/em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = scatter / len(X) + reg_covar * identity",
        "Σ_k^new = S_k / N: N for N_k",
        "04_covariance_update",
        cells=("# checks: eq-sigma-implicit",),
    ),
    PlantedError(
        "sigma-7-percent-large",
        "gmmlib/em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = 1.07 * scatter / nk[:, None, None] + reg_covar * identity",
        "Σ_k^new 7 % too large: a small error, not a wrong formula",
        "04_covariance_update",
        cells=("# checks: eq-sigma-implicit",),
    ),
    PlantedError(
        "sigma-about-data-mean",
        "gmmlib/em.py",
        "covariances = update_covariances(X, resp, means, covariance_type, reg_covar)",
        "covariances = update_covariances(\n"
        "        X, resp, np.broadcast_to(X.mean(0), means.shape), covariance_type, "
        "reg_covar\n    )",
        "Σ_k^new about the mean of all the data instead of μ_k^new",
        "04_covariance_update",
        cells=("# checks: eq-sigma-implicit",),
    ),
    PlantedError(
        "q-without-log-pi",
        "gmmlib/em.py",
        "return float(np.sum(xlogy(resp, weights)) + np.sum(resp * log_densities))",
        "return float(np.sum(resp * log_densities))",
        "Q(θ, θ_old) without the terms γ_nk ln π_k",
        "04_covariance_update",
        cells=("# checks: eq-q-function",),
    ),
)
