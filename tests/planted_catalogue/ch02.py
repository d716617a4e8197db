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
)
