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
        cells=(
            "resp = em.responsibilities(X, weights, means, covariances)",
            "gap = np.abs(gamma_without_pi - resp).max()",
        ),
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
    PlantedError(
        "mixture-without-weights",
        "chapters/01_model.md",
        "        w * multivariate_normal(m, c).pdf(points)",
        "        multivariate_normal(m, c).pdf(points)",
        "eq-mixture as Σ_j N(x | μ_j, Σ_j): the weights dropped, so p integrates to K",
        "01_model",
    ),
    PlantedError(
        "gamma-outside-log-space",
        "gmmlib/em.py",
        """    log_resp = weighted - _log_mixture_density(weighted)[:, None]
    return np.exp(log_resp)""",
        """    joint = np.exp(weighted)
    return joint / joint.sum(axis=1, keepdims=True)""",
        "γ in linear space: 0/0 where every density underflows",
        "01_model",
        cells=("nk_far = em.responsibilities(X, two, far, unit).sum(axis=0)",),
    ),
    PlantedError(
        "nk-sum-off-by-one-point",
        "chapters/01_model.md",
        "assert abs(math.fsum(resp.sum(axis=0)) - N) < 1e-12 * N",
        "assert abs(math.fsum(resp.sum(axis=0)) - (N - 1)) < 1e-12 * N",
        "Σ_j N_j = N − 1: the identity of eq-nk stated wrongly",
        "01_model",
    ),
    PlantedError(
        "nk-zero-threshold-700",
        "chapters/01_model.md",
        "for gap, underflows in ((740.0, False), (750.0, True)):",
        "for gap, underflows in ((690.0, False), (700.0, True)):",
        "γ_nk claimed to underflow at a log-space gap of 700, not about 745",
        "01_model",
    ),
    PlantedError(
        "no-point-shared",
        "chapters/01_model.md",
        "assert 0 < shared < N and agreement > 0.8",
        "assert shared == 0 and agreement > 0.8",
        "the claim that no point is shared (every largest γ at least 0.9), "
        "denying the overlap of the components",
        "01_model",
    ),
)
