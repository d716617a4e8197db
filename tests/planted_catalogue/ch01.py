"""Planted errors checked by chapter 1, ``chapters/01_model.md``."""

from . import PlantedError

ERRORS = (
    PlantedError(
        "log-det-halved",
        "gmmlib/gaussian.py",
        "log_det = 2.0 * np.sum(np.log(np.diag(cov_cholesky)))",
        "log_det = np.sum(np.log(np.diag(cov_cholesky)))",
        "ln det Σ taken as Σ ln L_ii: the log-determinant halved",
        "01_model",
        cells=("# checks: eq-gaussian",),
    ),
    PlantedError(
        "density-lost-half",
        "gmmlib/gaussian.py",
        "return -0.5 * (d * math.log(2.0 * math.pi) + log_det + mahalanobis)",
        "return -(d * math.log(2.0 * math.pi) + log_det + mahalanobis)",
        "the ½ of the log-density lost",
        "01_model",
        cells=("# checks: eq-gaussian",),
    ),
    PlantedError(
        "density-2pi-once",
        "gmmlib/gaussian.py",
        "return -0.5 * (d * math.log(2.0 * math.pi) + log_det + mahalanobis)",
        "return -0.5 * (math.log(2.0 * math.pi) + log_det + mahalanobis)",
        "(2π)^{-1/2} instead of (2π)^{-d/2} in the normalising constant",
        "01_model",
        cells=("# checks: eq-gaussian",),
    ),
    PlantedError(
        "mahalanobis-with-sigma",
        "gmmlib/gaussian.py",
        """    z = scipy.linalg.solve_triangular(
        cov_cholesky, (X - mean).T, lower=True, check_finite=False
    )""",
        "    z = cov_cholesky.T @ (X - mean).T",
        "the quadratic form with Σ in place of Σ⁻¹",
        "01_model",
        cells=("# checks: eq-gaussian",),
    ),
    PlantedError(
        "gamma-without-pi",
        "gmmlib/em.py",
        """    weighted = _log_weighted_densities(X, weights, means, cholesky)
    log_resp = weighted""",
        """    weighted = _log_weighted_densities(X, 1 + 0 * weights, means, cholesky)
    log_resp = weighted""",
        "the source proof's γ: N_k / Σ_j N_j, without the mixing weights π_k (Flaw 1)",
        "01_model",
        cells=("resp = em.responsibilities(X, weights, means, covariances)",),
    ),
    PlantedError(
        "loglik-without-pi",
        "gmmlib/em.py",
        """    weighted = _log_weighted_densities(X, weights, means, cholesky)
    return float(np.sum(_log_mixture_density(weighted)))""",
        """    weighted = _log_weighted_densities(X, 1 + 0 * weights, means, cholesky)
    return float(np.sum(_log_mixture_density(weighted)))""",
        "L = Σ_n ln Σ_k N(x_n | μ_k, Σ_k): the mixture without its weights",
        "01_model",
        cells=("# checks: eq-log-likelihood",),
    ),
    PlantedError(
        "nk-is-n-over-k",
        "gmmlib/em.py",
        """    nk = resp.sum(axis=0)
    return nk / nk.sum()""",
        """    nk = resp.sum(axis=0)
    return np.full_like(nk, 1 / nk.size)""",
        "π_k^new = 1/K: N_k replaced by the equal share N/K",
        "01_model",
        cells=("# checks: eq-nk",),
    ),
)
