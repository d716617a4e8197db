"""Planted errors checked by chapter 2, ``chapters/02_gaussian_derivative.md``."""

from . import PlantedError

ERRORS = (
    PlantedError(
        "det-grad-inverse-not-transposed",
        "gmmlib/gaussian.py",
        "return determinant * np.linalg.inv(cov).T",
        "return determinant * np.linalg.inv(cov)",
        "∂det Σ/∂Σ = det Σ · Σ⁻¹ instead of Σ^{-T} (right only for symmetric Σ)",
        "02_gaussian_derivative",
        cells=("numeric = numdiff.matrix_gradient(np.linalg.det, A)",),
    ),
    PlantedError(
        "quad-grad-inverse-not-transposed",
        "gmmlib/gaussian.py",
        "left = np.linalg.solve(cov.T, a)  # Σ^{-T} a",
        "left = np.linalg.solve(cov, a)  # Σ^{-T} a",
        "∂(aᵀΣ⁻¹a)/∂Σ = −Σ⁻¹aaᵀΣ⁻¹ instead of −Σ^{-T}aaᵀΣ^{-T} "
        "(right only for symmetric Σ)",
        "02_gaussian_derivative",
        cells=("# checks: eq-quad-grad",),
    ),
    PlantedError(
        "quad-grad-sign",
        "gmmlib/gaussian.py",
        "return -np.outer(left, right)",
        "return np.outer(left, right)",
        "the sign of ∂(aᵀΣ⁻¹a)/∂Σ (d(Σ⁻¹) = +Σ⁻¹ dΣ Σ⁻¹)",
        "02_gaussian_derivative",
        cells=("# checks: eq-quad-grad",),
    ),
    PlantedError(
        "gauss-grad-lost-half",
        "gmmlib/gaussian.py",
        "grad = -0.5 * density[:, None, None] * (precision - outer)",
        "grad = -density[:, None, None] * (precision - outer)",
        "∂N/∂Σ without its ½",
        "02_gaussian_derivative",
        cells=(
            "points = mu + rng.standard_normal((5, d)) @ np.linalg.cholesky(Sigma).T",
        ),
    ),
    PlantedError(
        "gauss-grad-bracket-sign",
        "gmmlib/gaussian.py",
        "grad = -0.5 * density[:, None, None] * (precision - outer)",
        "grad = -0.5 * density[:, None, None] * (precision + outer)",
        "∂N/∂Σ with Σ⁻¹ + Σ⁻¹ddᵀΣ⁻¹: a sign in the bracket",
        "02_gaussian_derivative",
        cells=(
            "points = mu + rng.standard_normal((5, d)) @ np.linalg.cholesky(Sigma).T",
        ),
    ),
    PlantedError(
        "gauss-grad-without-density",
        "gmmlib/gaussian.py",
        "grad = -0.5 * density[:, None, None] * (precision - outer)",
        "grad = -0.5 * (precision - outer)",
        "∂N/∂Σ without the factor N: the gradient of ln N reported as that of N",
        "02_gaussian_derivative",
        cells=(
            "points = mu + rng.standard_normal((5, d)) @ np.linalg.cholesky(Sigma).T",
        ),
    ),
    PlantedError(
        "det-grad-sympy-not-transposed",
        "chapters/02_gaussian_derivative.md",
        "assert sp.simplify(gradient - S.det() * S.inv().T) == sp.zeros(",
        "assert sp.simplify(gradient - S.det() * S.inv()) == sp.zeros(",
        "eq-det-grad claimed as |S| S⁻¹ in the symbolic check (no transpose)",
        "02_gaussian_derivative",
    ),
    PlantedError(
        "inverse-diff-sign",
        "chapters/02_gaussian_derivative.md",
        "assert np.allclose(numeric, -A_inv @ H @ A_inv, atol=1e-7)",
        "assert np.allclose(numeric, A_inv @ H @ A_inv, atol=1e-7)",
        "eq-inverse-diff claimed as d(Σ⁻¹) = +Σ⁻¹ dΣ Σ⁻¹",
        "02_gaussian_derivative",
    ),
    PlantedError(
        "gauss-grad-steps-line4-sign",
        "chapters/02_gaussian_derivative.md",
        "N_S * (-0.5 / det_S * det_S * S_inv.T + 0.5 * S_inv.T @ uu @ S_inv.T),",
        "N_S * (-0.5 / det_S * det_S * S_inv.T - 0.5 * S_inv.T @ uu @ S_inv.T),",
        "line (4) of eq-gauss-grad-steps with the two minus signs not made a plus",
        "02_gaussian_derivative",
    ),
    PlantedError(
        "numdiff-step-not-doubled",
        "gmmlib/numdiff.py",
        "return (upper - lower) / (2.0 * step)",
        "return (upper - lower) / step",
        "the central difference divided by h instead of 2h",
        "02_gaussian_derivative",
        cells=("numeric = numdiff.matrix_gradient(lambda M: v @ M @ w, A)",),
    ),
    PlantedError(
        "fd-truncation-first-order",
        "chapters/02_gaussian_derivative.md",
        "assert 1.7 < slope_big < 2.3 and -1.5 < slope_small < -0.5",
        "assert 0.7 < slope_big < 1.3 and -1.5 < slope_small < -0.5",
        "the central difference's truncation error claimed O(h), not O(h²)",
        "02_gaussian_derivative",
    ),
)
