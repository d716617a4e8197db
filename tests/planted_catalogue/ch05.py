"""Planted errors checked by chapter 5, ``chapters/05_em_in_action.md``."""

from . import PlantedError

ERRORS = (
    # --- gmmlib --------------------------------------------------------
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
        cells=("# iteration 0 is the initial guess", "L = np.array([entry"),
    ),
    PlantedError(
        "estep-without-pi",
        "gmmlib/suffstats.py",
        "self._const = (-0.5 * d * math.log(2 * math.pi) + log_det + log_weights)",
        "self._const = (-0.5 * d * math.log(2 * math.pi) + log_det + 0 * log_weights)",
        "GaussianMixture's E-step without ln π_k (Flaw 1 in the fast path)",
        "05_em_in_action",
        cells=("L = np.array([entry", "reference = SklearnGaussianMixture("),
    ),
    PlantedError(
        "estep-log-det-halved",
        "gmmlib/suffstats.py",
        "log_det = np.log(np.diagonal(stacked, axis1=1, axis2=2)).sum(axis=1)",
        "log_det = 0.5 * np.log(np.diagonal(stacked, axis1=1, axis2=2)).sum(axis=1)",
        "GaussianMixture's E-step with ln det Σ_k halved",
        "05_em_in_action",
        cells=("# iteration 0 is the initial guess", "L = np.array([entry"),
    ),
    PlantedError(
        "mstep-reg-covar-everywhere",
        "gmmlib/covariance/_base.py",
        "out[:, np.arange(d), np.arange(d)] += (reg_covar * nk)[:, None]",
        "out += (reg_covar * nk)[:, None, None]",
        "GaussianMixture adds reg_covar to every entry of Σ_k, not to its diagonal",
        "05_em_in_action",
        cells=("t = np.linspace(0, 1, 8)",),
    ),
    PlantedError(
        "mstep-reg-covar-twice",
        "gmmlib/covariance/_base.py",
        "out[:, np.arange(d), np.arange(d)] += (reg_covar * nk)[:, None]",
        "out[:, np.arange(d), np.arange(d)] += (2 * reg_covar * nk)[:, None]",
        "GaussianMixture adds 2ε to the diagonal: the smallest eigenvalue of the "
        "collinear component is 2ε, outside the rounding allowance 8 ε_mach ω_max",
        "05_em_in_action",
        cells=("t = np.linspace(0, 1, 8)",),
    ),
    PlantedError(
        "em-mstep-7-percent-large",
        "gmmlib/em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = 1.07 * scatter / nk[:, None, None] + reg_covar * identity",
        "gmmlib.em's Σ_k^new 7 % too large: not the maximiser of Q (or of Q̂)",
        "05_em_in_action",
        cells=("L = np.array([entry", "from scipy.special import rel_entr"),
    ),
    PlantedError(
        "loglik-without-pi-at-the-bound",
        "gmmlib/em.py",
        """    weighted = _log_weighted_densities(X, weights, means, cholesky)
    return float(np.sum(_log_mixture_density(weighted)))""",
        """    weighted = _log_weighted_densities(X, 1 + 0 * weights, means, cholesky)
    return float(np.sum(_log_mixture_density(weighted)))""",
        "L without the weights: Σ_k N instead of Σ_k π_k N exceeds the "
        "reg_covar bound where every component sits on the data",
        "05_em_in_action",
        cells=("def reg_covar_bound",),
    ),
    PlantedError(
        "log-pdf-log-det-halved",
        "gmmlib/gaussian.py",
        "log_det = 2.0 * np.sum(np.log(np.diag(cov_cholesky)))",
        "log_det = np.sum(np.log(np.diag(cov_cholesky)))",
        "ln det Σ halved in gaussian.log_pdf: the collapsing term grows like "
        "−(d/2) ln σ",
        "05_em_in_action",
        cells=("# checks: eq-collapse-term",),
    ),
    # --- the claims as the cells state them --------------------------------
    PlantedError(
        "monotone-l-gain-at-most-q-gain",
        "chapters/05_em_in_action.md",
        "L[i + 1] - L[i] >= q_gain - 1e-9",
        "L[i + 1] - L[i] <= q_gain + 1e-9",
        "eq-em-monotone reversed: L rises at most as much as Q",
        "05_em_in_action",
    ),
    PlantedError(
        "monotone-without-kl",
        "chapters/05_em_in_action.md",
        "assert L_gain >= Q_hat_gain - kl",
        "assert L_gain >= Q_hat_gain",
        "monotonicity claimed for rounded responsibilities without the "
        "Σ KL(γ̂ ‖ γ) term",
        "05_em_in_action",
    ),
    PlantedError(
        "monotone-kl-halved",
        "chapters/05_em_in_action.md",
        "kl = rel_entr(gamma_hat, gamma_fit).sum()",
        "kl = 0.5 * rel_entr(gamma_hat, gamma_fit).sum()",
        "the inexact monotonicity of chapter 5 with half the Σ KL(γ̂ ‖ γ^old) term (the "
        "inequality alone still holds: only the exact gap catches it)",
        "05_em_in_action",
    ),
    PlantedError(
        "monotone-kl-reversed",
        "chapters/05_em_in_action.md",
        "kl = rel_entr(gamma_hat, gamma_fit).sum()",
        "kl = rel_entr(gamma_fit, gamma_hat).sum()",
        "the inexact monotonicity of chapter 5 with KL(γ^old ‖ γ̂), infinite where γ̂ "
        "rounded to 0 (the inequality alone holds trivially)",
        "05_em_in_action",
    ),
    PlantedError(
        "collapse-rate-halved",
        "chapters/05_em_in_action.md",
        "by_formula = np.log(0.01) - d / 2 * np.log(2 * np.pi) - d * np.log(s)",
        "by_formula = np.log(0.01) - d / 2 * np.log(2 * np.pi) - d / 2 * np.log(s)",
        "eq-collapse-term growing like −(d/2) ln σ instead of −d ln σ",
        "05_em_in_action",
    ),
    PlantedError(
        "reg-covar-bound-without-eps",
        "chapters/05_em_in_action.md",
        "return -n_samples * n_features / 2 * np.log(2 * np.pi * eps)",
        "return -n_samples * n_features / 2 * np.log(2 * np.pi)",
        "eq-reg-covar-bound with ε dropped: −(Nd/2) ln 2π",
        "05_em_in_action",
    ),
    PlantedError(
        "reg-covar-bound-without-2pi",
        "chapters/05_em_in_action.md",
        "return -n_samples * n_features / 2 * np.log(2 * np.pi * eps)",
        "return -n_samples * n_features / 2 * np.log(eps)",
        "eq-reg-covar-bound with 2π dropped: −(Nd/2) ln ε",
        "05_em_in_action",
    ),
    PlantedError(
        "reg-covar-bound-n-for-nd-over-2",
        "chapters/05_em_in_action.md",
        "return -n_samples * n_features / 2 * np.log(2 * np.pi * eps)",
        "return -n_samples * np.log(2 * np.pi * eps)",
        "eq-reg-covar-bound with N for Nd/2 (the same only when d = 2)",
        "05_em_in_action",
    ),
    PlantedError(
        "reg-covar-point-ceiling-without-eps",
        "chapters/05_em_in_action.md",
        "log_peak = reg_covar_bound(1, d, eps)",
        "log_peak = reg_covar_bound(1, d, 1.0)",
        "each point's mixture density bounded by (2π)^(−d/2), ε dropped",
        "05_em_in_action",
    ),
)
