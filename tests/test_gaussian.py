"""The Gaussian density and its gradients, checked by independent routes."""

import numpy as np
import pytest
import sympy
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from gmmlib import gaussian, numdiff

seeds = st.integers(0, 2**32 - 1)
dims = st.integers(1, 4)


def random_spd(rng, n_features, scale=1.0):
    """A random symmetric positive definite matrix of modest condition number."""
    A = rng.standard_normal((n_features, n_features))
    return scale * (A @ A.T / n_features + 0.5 * np.eye(n_features))


def random_gaussian(seed, n_features, n_samples=7):
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-1, 1)
    cov = random_spd(rng, n_features, scale)
    mean = rng.standard_normal(n_features)
    X = mean + np.sqrt(scale) * rng.standard_normal((n_samples, n_features))
    return X, mean, cov


@given(seeds, dims)
def test_log_pdf_matches_scipy_multivariate_normal(seed, n_features):
    # checks: eq-gaussian
    X, mean, cov = random_gaussian(seed, n_features)
    expected = multivariate_normal(mean, cov).logpdf(X)
    np.testing.assert_allclose(
        gaussian.log_pdf(X, mean, cov), np.atleast_1d(expected), rtol=1e-10
    )


@given(seeds, dims)
def test_pdf_matches_scipy_multivariate_normal(seed, n_features):
    X, mean, cov = random_gaussian(seed, n_features)
    expected = multivariate_normal(mean, cov).pdf(X)
    np.testing.assert_allclose(
        gaussian.pdf(X, mean, cov), np.atleast_1d(expected), rtol=1e-10
    )


def test_single_point_gives_a_scalar_equal_to_its_row():
    X, mean, cov = random_gaussian(0, 3)
    value = gaussian.log_pdf(X[2], mean, cov)
    assert np.ndim(value) == 0
    assert value == gaussian.log_pdf(X, mean, cov)[2]
    np.testing.assert_array_equal(
        gaussian.pdf_grad_cov(X[2], mean, cov), gaussian.pdf_grad_cov(X, mean, cov)[2]
    )


def test_log_pdf_stays_finite_where_pdf_underflows():
    mean, cov = np.zeros(2), np.eye(2)
    far = np.array([[1e3, 0.0], [0.0, -1e5]])
    assert np.all(gaussian.pdf(far, mean, cov) == 0.0)
    np.testing.assert_allclose(
        gaussian.log_pdf(far, mean, cov),
        -np.log(2 * np.pi) - 0.5 * np.array([1e6, 1e10]),
        rtol=1e-12,
    )


@given(seeds, dims)
def test_det_grad_matches_finite_differences_for_any_invertible_matrix(seed, d):
    # The lemma needs no symmetry: perturb each entry on its own.
    # checks: eq-det-grad
    A = np.random.default_rng(seed).standard_normal((d, d)) + 2 * np.eye(d)
    expected = numdiff.matrix_gradient(np.linalg.det, A)
    np.testing.assert_allclose(
        gaussian.det_grad(A), expected, rtol=1e-6, atol=1e-8 * np.abs(expected).max()
    )


def test_det_grad_matches_sympy_on_a_symbolic_2x2_matrix():
    # checks: eq-det-grad
    entries = sympy.symbols("a b c e")
    A = sympy.Matrix(2, 2, entries)
    symbolic = sympy.Matrix(2, 2, lambda i, j: sympy.diff(A.det(), A[i, j]))
    values = {s: v for s, v in zip(entries, [2.0, -0.7, 0.3, 1.5], strict=True)}
    expected = np.array(symbolic.subs(values), dtype=float)
    numeric = np.array(A.subs(values), dtype=float)
    np.testing.assert_allclose(gaussian.det_grad(numeric), expected, rtol=1e-12)


@given(seeds, dims)
@example(seed=84719513, d=3)  # cond(A) = 1.3e4: the truncation error dominates
def test_quad_form_grad_matches_finite_differences(seed, d):
    # checks: eq-quad-grad
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, d)) + 2 * np.eye(d)
    a = rng.standard_normal(d)
    expected = numdiff.matrix_gradient(lambda B: a @ np.linalg.solve(B, a), A)
    # The central difference with step h errs by O(h^2) times the third
    # derivative; relative to the gradient that is (h ||A^-1||)^2, which
    # grows with the conditioning of A.
    step = numdiff.DEFAULT_RELATIVE_STEP * np.abs(A).max()
    truncation = (step * np.linalg.norm(np.linalg.inv(A), 2)) ** 2
    np.testing.assert_allclose(
        gaussian.quad_form_grad(a, A),
        expected,
        rtol=1e-5 + 10 * truncation,
        atol=(1e-7 + 10 * truncation) * np.abs(expected).max(),
    )


@given(seeds, dims)
def test_pdf_grad_cov_matches_finite_differences_of_scipy_density(seed, n_features):
    # scipy's density needs a symmetric Σ, so perturb symmetric pairs and compare
    # with 2G − diag(G), the partial derivatives in the free entries.
    # checks: eq-gauss-grad
    X, mean, cov = random_gaussian(seed, n_features, n_samples=3)
    grad = gaussian.pdf_grad_cov(X, mean, cov)
    identity = np.eye(n_features)
    for n in range(X.shape[0]):
        expected = numdiff.matrix_gradient(
            lambda S, x=X[n]: multivariate_normal(mean, S).pdf(x), cov, symmetric=True
        )
        np.testing.assert_allclose(
            2 * grad[n] - identity * grad[n],
            expected,
            rtol=1e-5,
            atol=1e-7 * np.abs(expected).max(),
        )


@given(seeds, dims)
def test_pdf_grad_cov_is_the_chain_rule_through_both_lemmas(seed, n_features):
    # N = c |Σ|^{-1/2} exp(−q/2): ∂N/∂Σ = N (−½ ∂|Σ|/∂Σ / |Σ| − ½ ∂q/∂Σ).
    X, mean, cov = random_gaussian(seed, n_features, n_samples=4)
    density = gaussian.pdf(X, mean, cov)
    det_term = gaussian.det_grad(cov) / np.linalg.det(cov)
    for n in range(X.shape[0]):
        quad_term = gaussian.quad_form_grad(X[n] - mean, cov)
        expected = density[n] * (-0.5 * det_term - 0.5 * quad_term)
        np.testing.assert_allclose(
            gaussian.pdf_grad_cov(X[n], mean, cov),
            expected,
            rtol=1e-9,
            atol=1e-12 * np.abs(expected).max(),
        )


def test_float32_input_stays_float32():
    X, mean, cov = (a.astype(np.float32) for a in random_gaussian(1, 3))
    assert gaussian.log_pdf(X, mean, cov).dtype == np.float32
    assert gaussian.pdf(X, mean, cov).dtype == np.float32
    assert gaussian.pdf_grad_cov(X, mean, cov).dtype == np.float32
    np.testing.assert_allclose(
        gaussian.log_pdf(X, mean, cov),
        multivariate_normal(mean, cov).logpdf(X),
        rtol=1e-5,
    )


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_integer_and_float64_input_give_float64(dtype):
    X = np.array([[0, 1], [2, 3]], dtype=dtype)
    result = gaussian.log_pdf(X, np.zeros(2, dtype=dtype), np.eye(2, dtype=dtype))
    assert result.dtype == np.float64
