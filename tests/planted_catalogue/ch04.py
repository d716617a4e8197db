"""Planted errors checked by chapter 4, ``chapters/04_covariance_update.md``."""

from . import PlantedError

ERRORS = (
    # --- gmmlib: the M-step and Q ---------------------------------------
    PlantedError(
        "mean-n-for-nk",
        "gmmlib/em.py",
        "means = (resp.T @ X) / nk[:, None]",
        "means = (resp.T @ X) / len(X)",
        "μ_k^new = Σ_n γ_nk x_n / N: N for N_k",
        "04_covariance_update",
        cells=("# checks: eq-sigma-implicit", "# checks: eq-mu-new"),
    ),
    PlantedError(
        "sigma-n-for-nk",
        "gmmlib/em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = scatter / nk.sum() + reg_covar * identity",
        "Σ_k^new = S_k / N: N for N_k",
        "04_covariance_update",
        cells=(
            "# the parallel-axis identity",
            "sigma_new = em.update_covariances(X, resp_old, mu_new)",
            "# the limit of 150 EM steps",
        ),
    ),
    PlantedError(
        "sigma-7-percent-large",
        "gmmlib/em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = 1.07 * scatter / nk[:, None, None] + reg_covar * identity",
        "Σ_k^new 7 % too large: a small error, not a wrong formula",
        "04_covariance_update",
        cells=(
            "# checks: eq-sigma-implicit",
            "sigma_new = em.update_covariances(X, resp_old, mu_new)",
            "def Q_at(k, Sigma):",
            "# the limit of 150 EM steps",
            "# K = 1: Q(θ, θ^old) = L(θ)",
        ),
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
        cells=(
            "# checks: eq-sigma-implicit",
            "sigma_new = em.update_covariances(X, resp_old, mu_new)",
        ),
    ),
    PlantedError(
        "q-without-log-pi",
        "gmmlib/em.py",
        "return float(np.sum(xlogy(resp, weights)) + np.sum(resp * log_densities))",
        "return float(np.sum(resp * log_densities))",
        "Q(θ, θ^old) without the terms γ_nk ln π_k",
        "04_covariance_update",
        cells=("# checks: eq-q-function", "# checks: eq-q-k\n"),
    ),
    PlantedError(
        "frozen-gamma-without-pi",
        "gmmlib/em.py",
        """    weighted = _log_weighted_densities(X, weights, means, cholesky)
    log_resp = weighted""",
        """    weighted = _log_weighted_densities(X, 1 + 0 * weights, means, cholesky)
    log_resp = weighted""",
        "the γ frozen in Q computed without π_k (Flaw 1): ∇Q ≠ ∇L at θ^old, "
        "and EM's fixed points are not stationary points of L",
        "04_covariance_update",
        cells=(
            "# checks: eq-sigma-implicit",
            "# p(Z | X) by Bayes over all 2^4 assignments",
            "# checks: eq-grad-l-equals-grad-q",
            "# the limit of 150 EM steps",
        ),
    ),
    PlantedError(
        "weights-equal-share",
        "gmmlib/em.py",
        """    nk = resp.sum(axis=0)
    return nk / nk.sum()""",
        """    nk = resp.sum(axis=0)
    return np.full_like(nk, 1 / nk.size)""",
        "π_k^new = 1/K in the M-step: not the maximiser of Σ_k N_k ln π_k",
        "04_covariance_update",
        cells=("# checks: eq-pi-new",),
    ),
    PlantedError(
        "positive-definite-check-skipped",
        "gmmlib/em.py",
        """    if factor is None:
        raise ValueError(
            f"{problem}: its N_k""",
        """    if factor is None and False:
        raise ValueError(
            f"{problem}: its N_k""",
        "the M-step returns a singular Σ_k^new instead of saying that the "
        "weighted points do not span R^d (Flaw 6)",
        "04_covariance_update",
        cells=("two_points = np.array", "rng_few = np.random.default_rng(1)"),
    ),
    PlantedError(
        "sigma-from-raw-moments",
        "gmmlib/em.py",
        """            scatter = np.einsum("nk,nki,nkj->kij", resp, diff, diff)""",
        """            scatter = np.einsum("nk,ni,nj->kij", resp, X, X) - np.einsum(
                "k,ki,kj->kij", resp.sum(0), means, means
            )""",
        "S_k from raw moments, Σγ x xᵀ − N_k μ μᵀ: right on paper, all digits "
        "lost far from the origin",
        "04_covariance_update",
        cells=("def raw_moment_variance",),
    ),
    # --- the claims as the cells state them --------------------------------
    PlantedError(
        "implicit-divides-by-n",
        "chapters/04_covariance_update.md",
        "diff.T @ (resp[:, k, None] * diff) / resp[:, k].sum()",
        "diff.T @ (resp[:, k, None] * diff) / len(X)",
        "eq-sigma-implicit with N for N_k: not solved at the maximiser of L",
        "04_covariance_update",
    ),
    PlantedError(
        "lagrange-multiplier-sign",
        "chapters/04_covariance_update.md",
        "def lagrangian(pi, lam=-N):",
        "def lagrangian(pi, lam=N):",
        "λ = +N with the Lagrangian L + λ(Σπ_k − 1): the gradient does not vanish",
        "04_covariance_update",
    ),
    PlantedError(
        "q-k-precision-logdet-sign",
        "chapters/04_covariance_update.md",
        "return 0.5 * (nk[k] * logdet - np.trace(Lam @ scatter_k(k)))",
        "return 0.5 * (-nk[k] * logdet - np.trace(Lam @ scatter_k(k)))",
        "Q_k in the precision with ln|Σ| = +ln|Λ| (eq-q-k's third line)",
        "04_covariance_update",
    ),
    PlantedError(
        "concave-in-variance-up-to-v-new",
        "chapters/04_covariance_update.md",
        "v[v > 2 * v_new + 0.05]",
        "v[v > v_new + 0.05]",
        "Q_k(σ²) convex beyond v^new instead of beyond 2v^new",
        "04_covariance_update",
    ),
)
