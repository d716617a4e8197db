"""The multivariate Gaussian density and its derivative with respect to Σ.

Chapter 2 of the book: the density, the two matrix-calculus lemmas (the
gradient of the determinant and of the quadratic form), and their combination,
the gradient of the density with respect to the covariance.

Gradients follow the source proof's convention: the density is extended off
the symmetric matrices by its formula (any Σ with det Σ > 0) and the d²
entries of Σ are treated as independent variables. At a symmetric Σ the result
G is also the gradient on the symmetric matrices under the trace inner
product. For the partial derivatives in the d(d+1)/2 free entries of a
symmetric Σ, take ``2 * G - np.diag(np.diag(G))`` (see :eq:`eq-sym-grad`).

``X`` is (n_samples, n_features). The functions also accept a 1-D ``X`` of
shape (n_features,) as a single point and then drop the sample axis from the
result.
"""

import math

import numpy as np
import scipy.linalg

from gmmlib._validation import (
    check_covariance,
    check_mean,
    check_square,
    check_X,
    float_dtype,
)

__all__ = ["det_grad", "log_pdf", "pdf", "pdf_grad_cov", "quad_form_grad"]


def _log_pdf_cholesky(X, mean, cov_cholesky):
    """ln N(x_n | mean, L Lᵀ) for each row, given the lower Cholesky factor L."""
    d = X.shape[1]
    # ||L⁻¹(x − μ)||² is the Mahalanobis term (x − μ)ᵀ Σ⁻¹ (x − μ) without Σ⁻¹.
    z = scipy.linalg.solve_triangular(
        cov_cholesky, (X - mean).T, lower=True, check_finite=False
    )
    with np.errstate(over="ignore"):  # overflow means density 0: ln N = -inf
        mahalanobis = np.sum(z**2, axis=0)
    log_det = 2.0 * np.sum(np.log(np.diag(cov_cholesky)))
    # math.log keeps float32 input float32 (a numpy float64 scalar would promote).
    return -0.5 * (d * math.log(2.0 * math.pi) + log_det + mahalanobis)


def _prepare(X, mean, cov):
    X, single = check_X(X, allow_1d=True)
    mean = check_mean(mean, X.shape[1])
    cov, cov_cholesky = check_covariance(cov, X.shape[1])
    dtype = float_dtype(X, mean, cov)
    return (
        X.astype(dtype, copy=False),
        mean.astype(dtype, copy=False),
        cov_cholesky.astype(dtype, copy=False),
        single,
    )


def log_pdf(X, mean, cov):
    """Log-density of the multivariate Gaussian at each row of ``X``.

    Computed through the Cholesky factor ``L`` of ``cov`` (no explicit
    inverse): ln N = −½ (d ln 2π + 2 Σ_i ln L_ii + ‖L⁻¹(x − μ)‖²).
    See :eq:`eq-gaussian`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_features,)
        Points; a 1-D array is one point.
    mean : array-like of shape (n_features,)
    cov : array-like of shape (n_features, n_features)
        Symmetric positive definite covariance matrix.

    Returns
    -------
    log_density : ndarray of shape (n_samples,), or float for a 1-D ``X``
        float32 if every input is float32, else float64.

    Raises
    ------
    ValueError
        If the shapes disagree, an input is not finite, or ``cov`` is not
        symmetric positive definite.
    """
    X, mean, cov_cholesky, single = _prepare(X, mean, cov)
    result = _log_pdf_cholesky(X, mean, cov_cholesky)
    return result[0] if single else result


def pdf(X, mean, cov):
    """Density of the multivariate Gaussian at each row of ``X``.

    ``exp(log_pdf(X, mean, cov))``; underflows to 0 far from the mean (work
    with :func:`log_pdf` there). See :eq:`eq-gaussian`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_features,)
    mean : array-like of shape (n_features,)
    cov : array-like of shape (n_features, n_features)

    Returns
    -------
    density : ndarray of shape (n_samples,), or float for a 1-D ``X``
    """
    return np.exp(log_pdf(X, mean, cov))


def det_grad(cov):
    """Gradient of the determinant: ∂ det Σ / ∂Σ = det(Σ) Σ^{-T}.

    The lemma holds for any invertible square matrix, entries treated as
    independent, so ``cov`` need not be symmetric here. See :eq:`eq-det-grad`.

    Parameters
    ----------
    cov : array-like of shape (d, d)
        An invertible matrix.

    Returns
    -------
    grad : ndarray of shape (d, d)
        Entry (i, j) is ∂ det Σ / ∂Σ_ij.
    """
    cov = check_square(cov, "cov")
    determinant = np.linalg.det(cov)
    if determinant == 0:
        raise ValueError(
            "cov is singular (determinant 0); det(Σ) Σ^{-T} needs an invertible "
            "matrix. Add a small multiple of the identity to make it invertible."
        )
    return determinant * np.linalg.inv(cov).T


def quad_form_grad(a, cov):
    """Gradient of the quadratic form: ∂(aᵀ Σ⁻¹ a) / ∂Σ = −Σ^{-T} a aᵀ Σ^{-T}.

    Entries of Σ treated as independent; ``cov`` need only be invertible.
    Since (aᵀ Σ^{-T})ᵀ = Σ⁻¹ a, the result is the outer product of Σ^{-T} a and
    Σ⁻¹ a, computed with two solves. See :eq:`eq-quad-grad`; the step behind it
    is the differential of the inverse, :eq:`eq-inverse-diff`.

    Parameters
    ----------
    a : array-like of shape (d,)
        The vector of the quadratic form (x − μ in the density).
    cov : array-like of shape (d, d)
        An invertible matrix.

    Returns
    -------
    grad : ndarray of shape (d, d)
        Entry (i, j) is ∂(aᵀ Σ⁻¹ a) / ∂Σ_ij.
    """
    cov = check_square(cov, "cov")
    a, _ = check_X(a, "a", allow_1d=True)
    if a.shape != (1, cov.shape[0]):
        raise ValueError(
            f"a must be a vector of shape ({cov.shape[0]},) to match cov of shape "
            f"{cov.shape}; got shape {np.shape(a)}."
        )
    a = a[0]
    try:
        left = np.linalg.solve(cov.T, a)  # Σ^{-T} a
        right = np.linalg.solve(cov, a)  # (aᵀ Σ^{-T})ᵀ
    except np.linalg.LinAlgError:
        raise ValueError(
            "cov is singular; Σ^{-T} a aᵀ Σ^{-T} needs an invertible matrix. Add a "
            "small multiple of the identity to make it invertible."
        ) from None
    return -np.outer(left, right)


def pdf_grad_cov(X, mean, cov):
    """Gradient of the density with respect to the covariance, for each row of X.

    ∂N(x | μ, Σ)/∂Σ = −½ N(x | μ, Σ) (Σ⁻¹ − Σ⁻¹ (x − μ)(x − μ)ᵀ Σ⁻¹), the
    formula the source proof reaches, entries of Σ treated as independent.
    See :eq:`eq-gauss-grad`, derived line by line in :eq:`eq-gauss-grad-steps`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_features,)
    mean : array-like of shape (n_features,)
    cov : array-like of shape (n_features, n_features)
        Symmetric positive definite.

    Returns
    -------
    grad : ndarray of shape (n_samples, n_features, n_features)
        ``grad[n]`` is ∂N(x_n | μ, Σ)/∂Σ; shape (n_features, n_features) for a
        1-D ``X``.
    """
    X, mean, cov_cholesky, single = _prepare(X, mean, cov)
    factor = (cov_cholesky, True)
    identity = np.eye(X.shape[1], dtype=X.dtype)
    precision = scipy.linalg.cho_solve(factor, identity, check_finite=False)
    # Row n of w is Σ⁻¹ (x_n − μ).
    w = scipy.linalg.cho_solve(factor, (X - mean).T, check_finite=False).T
    density = np.exp(_log_pdf_cholesky(X, mean, cov_cholesky))
    outer = w[:, :, None] * w[:, None, :]
    grad = -0.5 * density[:, None, None] * (precision - outer)
    return grad[0] if single else grad
