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
        cells=(
            "# checks: eq-sigma-tied",
            "assert np.allclose(tied_hard, pooled_hard / len(nine), rtol=1e-12)",
        ),
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
        "gmmlib/covariance/_diagonal.py",
        "return scatter.mean(axis=1) / nk",
        "return scatter.sum(axis=1) / nk",
        "GaussianMixture's spherical variance tr(S_k)/N_k, without the 1/d",
        "06_covariance_shapes",
        cells=(
            "# checks: eq-sigma-new, eq-sigma-tied, eq-sigma-diag, eq-sigma-spherical",
        ),
    ),
    PlantedError(
        "means-first-n-for-nk",
        "gmmlib/em.py",
        "means = (resp.T @ X) / nk[:, None]",
        "means = (resp.T @ X) / len(X)",
        "μ_k^new = Σ_n γ_nk x_n / N: the weighted mean that the means-first step "
        "relies on, with N for N_k",
        "06_covariance_shapes",
        cells=("assert np.allclose(em.update_means(X, resp), means, rtol=1e-12)",),
    ),
    PlantedError(
        "q-sigma-part-log-pi-twice",
        "gmmlib/em.py",
        "return float(np.sum(xlogy(resp, weights)) + np.sum(resp * log_densities))",
        "return float(2 * np.sum(xlogy(resp, weights)) + np.sum(resp * log_densities))",
        "Q(θ, θ^old) with the terms γ_nk ln π_k counted twice: its Σ-part is "
        "right, the rest is not",
        "06_covariance_shapes",
        cells=("# checks: eq-q-sigma-part",),
    ),
    PlantedError(
        "sigma-over-nk-minus-one",
        "gmmlib/em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = scatter / (nk[:, None, None] - 1) + reg_covar * identity",
        "Σ_k^new = S_k / (N_k − 1), the unbiased sample covariance: 1.5 % too "
        "large here, not the maximiser of Q",
        "06_covariance_shapes",
        cells=(
            "# checks: eq-sigma-new\nfull_gmmlib",
            "noise = {",
        ),
    ),
    PlantedError(
        "tied-parameters-per-component",
        "gmmlib/covariance/_general.py",
        "return n_features * (n_features + 1) // 2",
        "return n_components * n_features * (n_features + 1) // 2  # tied",
        "the tied shape's parameter count as if each component had its own "
        "matrix (BIC's p)",
        "06_covariance_shapes",
        cells=(
            "# checks: eq-sigma-new, eq-sigma-tied, eq-sigma-diag, eq-sigma-spherical",
        ),
    ),
    PlantedError(
        "reg-covar-scatter-without-nk-diagonal",
        "gmmlib/covariance/_base.py",
        "return scatter + (reg_covar * nk)[:, None]",
        "return scatter + reg_covar",
        "reg_covar added to the diagonal scatter as ε, not ε N_k: the diag and "
        "spherical updates get ε / N_k instead of ε",
        "06_covariance_shapes",
        cells=("# checks: eq-reg-covar-scatter",),
    ),
    PlantedError(
        "reg-covar-scatter-without-nk-full",
        "gmmlib/covariance/_base.py",
        "out[:, np.arange(d), np.arange(d)] += (reg_covar * nk)[:, None]",
        "out[:, np.arange(d), np.arange(d)] += reg_covar",
        "reg_covar added to the scatter as εI, not ε N_k I: the full and tied "
        "updates get ε / N_k (ε / N) instead of ε",
        "06_covariance_shapes",
        cells=("# checks: eq-reg-covar-scatter",),
    ),
    PlantedError(
        "reg-covar-penalty-without-nk",
        "chapters/06_covariance_shapes.md",
        "nk[k] * np.trace(np.linalg.inv(covariances[k])) for k in range(K)",
        "np.trace(np.linalg.inv(covariances[k])) for k in range(K)",
        "the claim that S_k + ε N_k I is the maximum of Q penalised by "
        "(ε/2) Σ_k tr Σ_k⁻¹, without the N_k: the regularised updates are "
        "then not its constrained maxima",
        "06_covariance_shapes",
    ),
    PlantedError(
        "reg-covar-objective-without-nk",
        "chapters/06_covariance_shapes.md",
        "penalised = by_scipy - 0.5 * eps * nk[k] * np.trace(np.linalg.inv(sigma))",
        "penalised = by_scipy - 0.5 * eps * np.trace(np.linalg.inv(sigma))",
        "the identity of the objectives with the penalty ε tr Σ⁻¹ / 2, "
        "without the N_k, against the trace form with S_k + ε N_k I",
        "06_covariance_shapes",
    ),
)
