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
        cells=(
            "G = em.log_likelihood_grad_cov(X, weights, means, covariances)",
            "G_theorem = em.log_likelihood_grad_cov(",
            "euclidean_free = G_free[k][upper] @ E[upper]",
        ),
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
        cells=(
            "G = em.log_likelihood_grad_cov(X, weights, means, covariances)",
            "switched_off = np.array([0.0, 0.6, 0.4])",
        ),
    ),
    PlantedError(
        "sym-grad-without-diag",
        "gmmlib/em.py",
        "return 2.0 * grad - identity * grad",
        "return 2.0 * grad",
        "the symmetric gradient 2G without − diag G (Flaw 3)",
        "03_stationarity",
        cells=(
            "free_numeric = numdiff.matrix_gradient(",
            "euclidean_free = G_free[k][upper] @ E[upper]",
        ),
    ),
    PlantedError(
        "gamma-without-pi-ch03",
        "gmmlib/em.py",
        """    weighted = _log_weighted_densities(X, weights, means, cholesky)
    log_resp = weighted""",
        """    weighted = _log_weighted_densities(X, 1 + 0 * weights, means, cholesky)
    log_resp = weighted""",
        "γ without π_k (Flaw 1), seen in line (5) of the chain rule",
        "03_stationarity",
        cells=("line5 = -0.5 * np.einsum", "every_k_fixed = -0.5 * np.einsum"),
    ),
    PlantedError(
        "sym-grad-claimed-as-trace-gradient",
        "chapters/03_stationarity.md",
        "        trace_G = np.sum(G[k] * E)",
        "        trace_G = np.sum(G_free[k] * E)",
        "the claim that 2G − diag G is the gradient under the trace inner product",
        "03_stationarity",
    ),
    PlantedError(
        "weights-fixed-at-one-over-k-ch03",
        "gmmlib/em.py",
        """    nk = resp.sum(axis=0)
    return nk / nk.sum()""",
        """    nk = resp.sum(axis=0)
    return np.full_like(nk, 1 / nk.size)""",
        "π_k^new = 1/K: EM stops where ∂L/∂Σ_k, ∂L/∂μ_k vanish, ∂L/∂π does not",
        "03_stationarity",
        cells=("grad_all = np.array(",),
    ),
    PlantedError(
        "loglik-without-pi-ch03",
        "gmmlib/em.py",
        """    weighted = _log_weighted_densities(X, weights, means, cholesky)
    return float(np.sum(_log_mixture_density(weighted)))""",
        """    weighted = _log_weighted_densities(X, 1 + 0 * weights, means, cholesky)
    return float(np.sum(_log_mixture_density(weighted)))""",
        "L without its weights: the typed-in reference of chapter 3 disagrees",
        "03_stationarity",
        cells=("def gauss_any(X, mean, M):",),
    ),
)
