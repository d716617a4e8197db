"""Finite differences with respect to a matrix, on functions with known gradients."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmmlib import numdiff

seeds = st.integers(0, 2**32 - 1)
dims = st.integers(1, 4)


@given(seeds, dims)
def test_gradient_of_a_linear_function_is_its_coefficient_matrix(seed, d):
    rng = np.random.default_rng(seed)
    B, A = rng.standard_normal((2, d, d))
    grad = numdiff.matrix_gradient(lambda M: np.sum(B * M), A)
    np.testing.assert_allclose(grad, B, rtol=1e-8, atol=1e-8)


@given(seeds, dims)
def test_gradient_of_trace_of_square_is_twice_the_transpose(seed, d):
    A = np.random.default_rng(seed).standard_normal((d, d))
    grad = numdiff.matrix_gradient(lambda M: np.trace(M @ M), A)
    np.testing.assert_allclose(grad, 2 * A.T, rtol=1e-7, atol=1e-8)


@given(seeds, dims)
def test_symmetric_gradient_is_twice_g_minus_its_diagonal(seed, d):
    # For f(A) = Σ B_ij A_ij, G = B; along a symmetric pair the slope is B_ij + B_ji.
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((d, d))
    G_sym = (B + B.T) / 2
    A = rng.standard_normal((d, d))
    A = A + A.T
    grad = numdiff.matrix_gradient(lambda M: np.sum(G_sym * M), A, symmetric=True)
    np.testing.assert_allclose(grad, 2 * G_sym - np.diag(np.diag(G_sym)), atol=1e-8)


def test_symmetric_perturbations_keep_the_matrix_symmetric():
    A = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])

    def f(M):
        if not np.array_equal(M, M.T):
            raise AssertionError("perturbed matrix is not symmetric")
        return np.linalg.slogdet(M)[1]

    grad = numdiff.matrix_gradient(f, A, symmetric=True)
    # ∂ ln det/∂Σ = Σ⁻¹ entrywise, so along the symmetric pairs 2Σ⁻¹ − diag(Σ⁻¹).
    P = np.linalg.inv(A)
    np.testing.assert_allclose(grad, 2 * P - np.diag(np.diag(P)), rtol=1e-7)


def test_stack_of_matrices_gives_one_gradient_per_matrix():
    stack = np.stack([np.eye(2), 2 * np.eye(2), [[1.0, 0.5], [0.5, 1.0]]])
    grad = numdiff.matrix_gradient(lambda S: np.sum(S**2), stack, symmetric=True)
    expected = 2 * (2 * stack) - 2 * stack * np.eye(2)
    assert grad.shape == stack.shape
    np.testing.assert_allclose(grad, expected, rtol=1e-8)


def test_default_step_scales_with_the_matrix():
    # A covariance of size 1e-6: an absolute step of 1e-6 would leave the domain.
    A = 1e-6 * np.array([[2.0, 0.5], [0.5, 1.0]])
    grad = numdiff.matrix_gradient(lambda M: np.linalg.slogdet(M)[1], A)
    np.testing.assert_allclose(grad, np.linalg.inv(A).T, rtol=1e-6)


def test_error_against_step_is_v_shaped():
    # Truncation dominates for large steps, rounding for tiny ones.
    A = np.array([[0.3, -0.2], [0.4, 0.1]])
    exact = np.exp(A)

    def error(step):
        grad = numdiff.matrix_gradient(lambda M: np.sum(np.exp(M)), A, step=step)
        return np.max(np.abs(grad - exact))

    large, default, tiny = error(1e-1), error(None), error(1e-13)
    assert default < 1e-8
    assert large > 1e3 * default
    assert tiny > 1e3 * default


def test_f_returning_a_one_element_array_is_accepted():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    grad = numdiff.matrix_gradient(lambda M: np.array([M[0, 1]]), A)
    np.testing.assert_allclose(grad, [[0.0, 1.0], [0.0, 0.0]], atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"f": lambda M: M, "A": np.eye(2)}, "f must return a scalar"),
        ({"f": np.sum, "A": np.eye(2), "step": 0.0}, "step must be a positive"),
        ({"f": np.sum, "A": np.eye(2), "step": -1e-6}, "step must be a positive"),
        ({"f": np.sum, "A": np.ones((2, 3)), "symmetric": True}, "square trailing"),
        ({"f": np.sum, "A": [[1.0, np.nan], [0.0, 1.0]]}, "A contains NaN"),
        ({"f": np.sum, "A": np.empty((0, 0))}, "A must be a non-empty"),
    ],
)
def test_bad_arguments_raise_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        numdiff.matrix_gradient(**kwargs)
