"""Planted errors checked by chapter 6, ``chapters/06_covariance_shapes.md``."""

from . import PlantedError

ERRORS = (
    PlantedError(
        "diag-5-percent-small",
        "gmmlib/em.py",
        "variances = scatter / nk[:, None] + reg_covar",
        "variances = 0.95 * scatter / nk[:, None] + reg_covar",
        "the diagonal and spherical variances 5 % too small",
        "06_covariance_shapes",
        cells=("# checks: eq-sigma-diag",),
    ),
    PlantedError(
        "spherical-trace-not-mean",
        "gmmlib/em.py",
        'covariances = variances if covariance_type == "diag" else variances.mean(1)',
        'covariances = variances if covariance_type == "diag" else variances.sum(1)',
        "spherical σ_k² = tr(S_k)/N_k, without the 1/d",
        "06_covariance_shapes",
        cells=("# checks: eq-sigma-spherical",),
    ),
    PlantedError(
        "tied-unweighted-average",
        "gmmlib/em.py",
        "covariances = scatter.sum(axis=0) / nk.sum() + reg_covar * identity",
        "covariances = (scatter / nk[:, None, None]).mean(axis=0) "
        "+ reg_covar * identity",
        "tied Σ = the plain average of the K full updates, not weighted by N_k/N",
        "06_covariance_shapes",
        cells=("# checks: eq-sigma-tied",),
    ),
    PlantedError(
        "diag-is-spherical",
        "gmmlib/em.py",
        "variances = scatter / nk[:, None] + reg_covar",
        "variances = np.repeat(scatter.mean(1, keepdims=True), scatter.shape[1], 1)"
        " / nk[:, None] + reg_covar",
        "diagonal and spherical confused: every variance of a diagonal Σ_k set "
        "to their mean",
        "06_covariance_shapes",
        cells=("# checks: eq-sigma-diag",),
    ),
    PlantedError(
        "mstep-spherical-trace",
        "gmmlib/suffstats.py",
        "covariances = stats.scatter.mean(axis=1) / nk + reg_covar",
        "covariances = stats.scatter.sum(axis=1) / nk + reg_covar",
        "GaussianMixture's spherical variance tr(S_k)/N_k, without the 1/d",
        "06_covariance_shapes",
        cells=(
            "# checks: eq-sigma-new, eq-sigma-tied, eq-sigma-diag, eq-sigma-spherical",
        ),
    ),
)
