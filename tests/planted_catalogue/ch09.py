"""Planted errors checked by chapter 9, ``chapters/09_prior_and_model_choice.md``."""

from . import PlantedError

CHAPTER = "09_prior_and_model_choice"
FILE = f"chapters/{CHAPTER}.md"

ERRORS = (
    PlantedError(
        "map-dof-minus",
        "gmmlib/em.py",
        "denominators = nk + dof + n_features + 1",
        "denominators = nk + dof + n_features - 1",
        "Σ_k^MAP divided by N_k + ν + d − 1: the mode of the inverse-Wishart misread",
        CHAPTER,
        cells=(
            "# checks: eq-sigma-map",
            "Sigma_empty = em.update_covariances_map(",
            "history = [penalised_loglik(X_line, theta)]",
        ),
    ),
    PlantedError(
        "map-prior-scale-dropped",
        "gmmlib/em.py",
        "covariances = (scatter + scales) / denominators[:, None, None]",
        "covariances = scatter / denominators[:, None, None]",
        "Σ_k^MAP without the prior's scale Ψ in the numerator",
        CHAPTER,
        cells=("# checks: eq-sigma-map", "Sigma_empty = em.update_covariances_map("),
    ),
    PlantedError(
        "inverse-wishart-exponent",
        FILE,
        "- (nu + size + 1) / 2 * logdet_sigma",
        "- (nu + size - 1) / 2 * logdet_sigma",
        "eq-inverse-wishart with |Σ|^{−(ν+d−1)/2}: the Wishart's exponent",
        CHAPTER,
    ),
    PlantedError(
        "log-posterior-q-density-halved",
        "gmmlib/em.py",
        "log_densities = _log_weighted_densities("
        "X, np.ones_like(weights), means, cholesky)",
        "log_densities = 0.5 * _log_weighted_densities(\n"
        "        X, np.ones_like(weights), means, cholesky\n    )",
        "Q with half the log-densities",
        CHAPTER,
        cells=("# checks: eq-log-posterior-k",),
    ),
    PlantedError(
        "log-posterior-count",
        FILE,
        "return -(nk[k] + nu + d + 1) / 2 * logdet",
        "return -(nk[k] + nu + d) / 2 * logdet",
        "eq-log-posterior-k with N_k + ν + d as the count of ln|Σ|",
        CHAPTER,
    ),
    PlantedError(
        "map-bound-without-2pi",
        FILE,
        "    -N * d / 2 * np.log(2 * np.pi)\n    - K4 * log_Z\n",
        "    - K4 * log_Z\n",
        "eq-map-bound without −(Nd/2) ln 2π (a bound that still holds, ≈ 551 too high)",
        CHAPTER,
    ),
    PlantedError(
        "map-bound-count",
        FILE,
        "    + g_hat(N + nu_fr + d + 1)\n",
        "    + g_hat(N + nu_fr + d - 1)\n",
        "eq-map-bound with the count N + ν + d − 1 for the component that "
        "carries the points",
        CHAPTER,
    ),
    PlantedError(
        "reg-covar-before-dividing",
        "gmmlib/em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = (scatter + reg_covar * identity) / nk[:, None, None]",
        "reg_covar added to S_k before dividing by N_k: εI/N_k instead of εI",
        CHAPTER,
        cells=("# checks: eq-reg-covar-penalty",),
    ),
    PlantedError(
        "penalty-integral-limit",
        FILE,
        "0.99 * 8 / 9 < ratios[-1] < 8 / 9",
        "0.99 < ratios[-1] < 1",
        "the penalty's integral over the box claimed to grow like R³ "
        "(the whole box), not (8/9) R³ (its positive definite part)",
        CHAPTER,
    ),
    PlantedError(
        "n-parameters-full-square",
        "gmmlib/covariance/_general.py",
        "return n_components * n_features * (n_features + 1) // 2",
        "return n_components * n_features * n_features",
        "a full covariance counted as d² free parameters, not d(d+1)/2",
        CHAPTER,
        cells=("# checks: eq-n-parameters", "# checks: eq-bic, eq-aic"),
    ),
    PlantedError(
        "aic-penalty-halved",
        "gmmlib/mixture.py",
        "return -2 * log_likelihood + 2 * self._n_parameters()",
        "return -2 * log_likelihood + self._n_parameters()",
        "AIC charging p instead of 2p",
        CHAPTER,
        cells=("# checks: eq-bic, eq-aic",),
    ),
    PlantedError(
        "far-mean-loglik-without-pi",
        "gmmlib/em.py",
        "    return log_weights + log_densities\n",
        "    return log_densities + 0 * log_weights\n",
        "L without the mixing weights: a component moved away no longer leaves "
        "Σ_n ln Σ_(j≠k) π_j N(x_n | μ_j, Σ_j)",
        CHAPTER,
        cells=("others = sum(",),
    ),
    PlantedError(
        "copied-fit-loses",
        FILE,
        "assert L_more >= L_start - 1e-9 * abs(L_start) and L_more > L_K",
        "assert L_more < L_start",
        "the claim turned round: EM from a K-component fit copied into K + 1 "
        "components lowers L",
        CHAPTER,
    ),
    PlantedError(
        "count-full-miscounted",
        FILE,
        'expected = {"full": 329, "tied": 109, "diag": 104, "spherical": 59}',
        'expected = {"full": 379, "tied": 109, "diag": 104, "spherical": 59}',
        "the exercise's total for 'full' miscounted: 379 instead of 5 · 55 + 54 = 329",
        CHAPTER,
    ),
    PlantedError(
        "bic-choice-four",
        FILE,
        "assert Ks[np.argmin(best[ct])] == 3, (ct, best[ct])",
        "assert Ks[np.argmin(best[ct])] == 4, (ct, best[ct])",
        "the figure's claim with the wrong K: the smallest BIC at K = 4",
        CHAPTER,
    ),
)
