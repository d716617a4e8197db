"""Finite-difference gradients with respect to a matrix.

The independent route by which the book and the tests check every analytic
gradient: central differences of a scalar function, one entry (or one
symmetric pair of entries) at a time.

**Choosing the step.** The central difference (f(A + hE) − f(A − hE)) / 2h
has two errors: truncation, about h² f‴ / 6, which shrinks with h; and
rounding, about ε_mach f / h (ε_mach ≈ 2.2e-16, the float64 machine
epsilon), which grows as h shrinks. Plotted against h on log axes their sum
is a V whose bottom lies near h ≈ ε_mach^{1/3} ≈ 6e-6 times the scale on
which f varies, where the relative error is about ε_mach^{2/3} ≈ 4e-11. The
default step, 1e-6 times the largest absolute entry of A, sits near that
bottom for covariance-like matrices.
"""

import numpy as np

__all__ = ["matrix_gradient"]

DEFAULT_RELATIVE_STEP = 1e-6


def matrix_gradient(f, A, step=None, symmetric=False):
    """Central finite-difference gradient of a scalar function of a matrix.

    With ``symmetric=False`` each entry A_ij is perturbed alone,
    (f(A + h E_ij) − f(A − h E_ij)) / 2h, which estimates the gradient G with
    the entries treated as independent (the source proof's convention).

    With ``symmetric=True`` the pair A_ij, A_ji is perturbed together, so A
    stays symmetric: A ± h (E_ij + E_ji) off the diagonal and A ± h E_ii on it.
    This estimates the partial derivatives in the d(d+1)/2 free entries of a
    symmetric matrix, which for a symmetric G are **2G − diag(G)** (each
    off-diagonal entry appears twice in A, each diagonal entry once): Flaw 3
    of the source proof in the book. These are the gradient only under the
    Euclidean inner product of the free entries; under the trace inner
    product the gradient on symmetric matrices is G itself (its symmetric
    part in general). The result is symmetric; G is recovered as
    (S + diag(S)) / 2. Use it for any f that only reads one triangle or
    requires a symmetric matrix (a Cholesky factor, ``eigh``,
    :func:`gmmlib.gaussian.log_pdf`).

    Parameters
    ----------
    f : callable
        ``f(A)`` returns a real scalar.
    A : array-like of shape (..., m, m) or (..., m)
        The point at which to differentiate. Leading axes index a stack of
        matrices (e.g. the (n_components, d, d) covariances of a mixture).
        ``symmetric=True`` needs square trailing axes.
    step : float, optional
        The absolute step h. Default ``1e-6 * np.abs(A).max()`` (``1e-6`` if A is 0),
        near the bottom of the truncation/rounding V described in the module
        docstring.
    symmetric : bool, default=False
        Perturb A_ij and A_ji together (see above).

    Returns
    -------
    grad : ndarray, the shape of A
        ``grad[idx]`` estimates ∂f/∂A[idx] (with ``symmetric=True``, the
        partial derivative in the free entry, along the symmetric pair).
    """
    A = np.array(A, dtype=np.float64)
    if A.ndim < 1 or A.size == 0:
        raise ValueError(f"A must be a non-empty array; got shape {A.shape}.")
    if not np.all(np.isfinite(A)):
        raise ValueError("A contains NaN or infinity; differentiate at a finite point.")
    if symmetric and (A.ndim < 2 or A.shape[-1] != A.shape[-2]):
        raise ValueError(
            "symmetric=True perturbs A[..., i, j] and A[..., j, i] together, so A "
            f"must have square trailing axes (..., m, m); got shape {A.shape}."
        )
    if step is None:
        scale = float(np.max(np.abs(A)))
        step = DEFAULT_RELATIVE_STEP * (scale if scale > 0 else 1.0)
    step = float(step)
    if not np.isfinite(step) or step <= 0:
        raise ValueError(f"step must be a positive finite float; got {step}.")

    def central_difference(direction):
        upper = _scalar(f(A + step * direction))
        lower = _scalar(f(A - step * direction))
        return (upper - lower) / (2.0 * step)

    grad = np.empty_like(A)
    for idx in np.ndindex(A.shape):
        if symmetric and idx[-2] > idx[-1]:
            continue  # filled from its mirror entry below
        direction = np.zeros_like(A)
        direction[idx] = 1.0
        if symmetric:
            mirror = idx[:-2] + (idx[-1], idx[-2])
            direction[mirror] = 1.0
            grad[mirror] = central_difference(direction)
        grad[idx] = central_difference(direction)
    return grad


def _scalar(value):
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError(
            f"f must return a scalar; it returned an array of shape {value.shape}. "
            "Sum or index its output to differentiate one number."
        )
    return float(value.reshape(()))
