"""Planted errors checked by chapter 8, ``chapters/08_lower_bound_and_rate.md``."""

from . import PlantedError

CHAPTER = "08_lower_bound_and_rate"
FILE = f"chapters/{CHAPTER}.md"

ERRORS = (
    PlantedError(
        "elbo-posterior-without-pi",
        "gmmlib/em.py",
        "    return log_weights + log_densities\n",
        "    return log_densities + 0 * log_weights\n",
        "the posterior (and L) without the mixing weights: the gap is no longer the "
        "divergence from the posterior, and the E-step no longer closes it",
        CHAPTER,
        cells=(
            "# checks: eq-elbo-decomposition",
            "# checks: eq-elbo-mixture",
            "# checks: eq-kl-nonnegative",
            "# checks: eq-em-linear",
        ),
    ),
    PlantedError(
        "coordinate-ascent-engine-sigma-large",
        "gmmlib/covariance/_general.py",
        "return scatter / nk[:, None, None]",
        "return 1.07 * scatter / nk[:, None, None]",
        "GaussianMixture's Σ_k^new 7 % too large: the M-step no longer maximises "
        "the bound",
        CHAPTER,
        cells=("# checks: eq-em-coordinate-ascent", "def matrix_power_spd(A, power):"),
    ),
    PlantedError(
        "em-map-sigma-large",
        "gmmlib/em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = 1.07 * scatter / nk[:, None, None] + reg_covar * identity",
        "gmmlib's EM step with Σ_k^new 7 % too large: still a smooth map with a "
        "fixed point, but not EM's",
        CHAPTER,
        cells=("# checks: eq-em-linear", "for start in ((np.ones(1)"),
    ),
    PlantedError(
        "em-linear-remainder-cubic",
        FILE,
        "assert 30 < ratio < 300, ratio",
        "assert 300 < ratio < 3000, ratio",
        "eq-em-linear's remainder claimed O(|h|³) instead of O(|h|²)",
        CHAPTER,
    ),
    PlantedError(
        "missing-information-q-density-halved",
        "gmmlib/em.py",
        "log_densities = _log_weighted_densities("
        "X, np.ones_like(weights), means, cholesky)",
        "log_densities = 0.5 * _log_weighted_densities(\n"
        "        X, np.ones_like(weights), means, cholesky\n    )",
        "Q with half the log-densities: the complete information I_c is wrong",
        CHAPTER,
        cells=("# checks: eq-missing-information",),
    ),
    PlantedError(
        "missing-information-ratio-inverted",
        FILE,
        "rate_matrix = np.eye(len(fixed)) - np.linalg.solve(I_c, I_obs)",
        "rate_matrix = np.eye(len(fixed)) - np.linalg.solve(I_obs, I_c)",
        "eq-missing-information as I − I_obs⁻¹ I_c: the information ratio upside down",
        CHAPTER,
    ),
    PlantedError(
        "em-rate-squared",
        FILE,
        'assert abs(observed / p["r"] - 1) < 0.01, (name, observed, p["r"])',
        'assert abs(observed / p["r"] ** 2 - 1) < 0.01, (name, observed, p["r"])',
        "eq-em-rate claimed with r(J)² (a quadratic rate) instead of r(J)",
        CHAPTER,
    ),
    PlantedError(
        "mstep-unbounded-rate-halved",
        FILE,
        "assert np.allclose(np.diff(Q_k), 5 / 2 * np.log(10), rtol=1e-9)",
        "assert np.allclose(np.diff(Q_k), 5 / 4 * np.log(10), rtol=1e-9)",
        "Q's rise along a direction the scatter misses claimed as (N_k/4) ln 10 "
        "per decade",
        CHAPTER,
    ),
)
