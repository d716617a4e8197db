"""Planted errors checked by chapter 5, ``chapters/05_em_in_action.md``."""

from . import PlantedError

ERRORS = (
    PlantedError(
        "sigma-reg-covar-off-diagonal",
        "gmmlib/em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = scatter / nk[:, None, None] + reg_covar",
        "reg_covar added to every entry of Σ_k, not only to the diagonal",
        "05_em_in_action",
        cells=("t = np.linspace(0, 1, 8)",),
    ),
    PlantedError(
        "sigma-about-old-means",
        "gmmlib/suffstats.py",
        """        scatter = scatter - offset[:, :, None] * moved[:, None, :]
        scatter = 0.5 * (scatter + scatter.transpose(0, 2, 1))""",
        """        scatter = 0.5 * (scatter + scatter.transpose(0, 2, 1))""",
        "Σ_k^new about μ_k^old, the previous means (Flaw 5): the shifted "
        "scatter without − s_k s_kᵀ/N_k",
        "05_em_in_action",
        cells=("# checks: eq-em-monotone",),
    ),
    PlantedError(
        "estep-without-pi",
        "gmmlib/suffstats.py",
        "self._const = (-0.5 * d * math.log(2 * math.pi) + log_det + log_weights)",
        "self._const = (-0.5 * d * math.log(2 * math.pi) + log_det + 0 * log_weights)",
        "GaussianMixture's E-step without ln π_k (Flaw 1 in the fast path)",
        "05_em_in_action",
        cells=("# checks: eq-em-monotone",),
    ),
    PlantedError(
        "estep-log-det-halved",
        "gmmlib/suffstats.py",
        "log_det = np.log(np.diagonal(stacked, axis1=1, axis2=2)).sum(axis=1)",
        "log_det = 0.5 * np.log(np.diagonal(stacked, axis1=1, axis2=2)).sum(axis=1)",
        "GaussianMixture's E-step with ln det Σ_k halved",
        "05_em_in_action",
        cells=("# checks: eq-em-monotone",),
    ),
    PlantedError(
        "mstep-reg-covar-everywhere",
        "gmmlib/suffstats.py",
        "covariances[:, np.arange(n_features), np.arange(n_features)] += reg_covar",
        "covariances += reg_covar",
        "GaussianMixture adds reg_covar to every entry of Σ_k, not to its diagonal",
        "05_em_in_action",
        cells=("t = np.linspace(0, 1, 8)",),
    ),
)
