"""What mclust's parsimonious models share (Celeux & Govaert 1995).

Each Σ_k is written :math:`λ_k D_k A_k D_k^{\\mathsf{T}}` (Celeux & Govaert 1995):
:math:`λ_k = |Σ_k|^{1/d}` the volume, :math:`A_k` diagonal with
:math:`|A_k| = 1` the shape, :math:`D_k` orthogonal the orientation. A model
is named by three letters, one per factor: E (equal across k), V (varies) or
I (identity). The covariance part of Q that every M-step maximises within its
constraint is, with :math:`W_k` the regularised scatter about the new means
(:eq:`eq-reg-covar-scatter`),

.. math::

   Q_Σ = -\\tfrac12 \\sum_k \\left[N_k \\log|Σ_k|
         + \\operatorname{tr}(W_k Σ_k^{-1})\\right].

Here: the parameter count from the letters, the loop of the iterative
M-steps and its stopping rule, and the plane rotations of a common
orientation (EVE, VVE).
"""

from __future__ import annotations

import warnings

import numpy as np

# a module, not its name: gmmlib._validation imports gmmlib.covariance
from gmmlib import _validation

#: The cap on the iterations of an inner (M-step) loop.
MAX_INNER_ITER = 10_000


def n_variance_parameters(letters, n_components, n_features):
    """Free parameters of the covariances of mclust model ``letters``
    (:eq:`eq-n-parameters`; mclust's ``nVarParams``).

    Volume: 1 (E) or K (V). Shape, unless I: d - 1 (E) or K (d - 1) (V).
    Orientation, unless I: d (d - 1) / 2 (E) or K d (d - 1) / 2 (V).
    """
    K, d = n_components, n_features
    volume, shape, orientation = letters
    count = 1 if volume == "E" else K
    if shape != "I":
        count += (d - 1) * (1 if shape == "E" else K)
    if orientation != "I":
        count += d * (d - 1) // 2 * (1 if orientation == "E" else K)
    return count


def changed(new, old):
    """Whether an inner loop goes on: an entry of Σ moved by more than
    :math:`\\sqrt{\\varepsilon}` of the largest entry."""
    tolerance = np.sqrt(np.finfo(new.dtype).eps) * np.max(np.abs(new))
    return bool(np.max(np.abs(new - old)) > tolerance)


def iterate(step, state, covariances, name):
    """Run ``state = step(state)`` until the covariances stop changing.

    Parameters
    ----------
    step : callable
        ``step(state) -> state``, one sweep of the model's block ascent; it
        never lowers :math:`Q_Σ`.
    state : any
        The start.
    covariances : callable
        ``covariances(state) -> ndarray``, the Σ that the state describes.
    name : str
        The model, for the warning.

    Returns
    -------
    state
        After the first sweep that changed no entry of Σ by more than
        :math:`\\sqrt{\\varepsilon}` of the largest (``changed``), or after
        ``MAX_INNER_ITER`` sweeps with an ``InnerLoopWarning``.
    """
    old = covariances(state)
    for _ in range(MAX_INNER_ITER):
        state = step(state)
        new = covariances(state)
        if not changed(new, old):
            return state
        old = new
    warnings.warn(
        f"The M-step of covariance_type={name!r} did not converge in "
        f"{MAX_INNER_ITER} inner iterations (its covariances still change by "
        "more than sqrt(eps) of their largest entry); the fit goes on from "
        "the last iterate, which has a higher Q than the previous parameters. "
        "Scale the data, increase reg_covar, or use a model with a closed-form "
        "M-step (e.g. 'EEV', 'EVV' or 'full').",
        _validation.InnerLoopWarning,
        stacklevel=4,
    )
    return state


def sorted_eigh(matrices):
    """Eigenvalues (descending) and eigenvectors of symmetric matrices."""
    values, vectors = np.linalg.eigh(matrices)
    return values[..., ::-1], vectors[..., ::-1]


def unit_determinant(diagonals):
    """Rows divided by their geometric mean: the shape, :math:`|A| = 1`."""
    return diagonals / np.exp(np.mean(np.log(diagonals), axis=-1, keepdims=True))


# --------------------------------------------------------------------------
# A common orientation D: sweeps of plane rotations (EVE and VVE)
#
# Given D, the M-step of both models is closed form in the diagonals
# ω_ki = d_iᵀ W_k d_i; what is left to minimise over D is
#   VVE: Σ_k N_k Σ_i log ω_ki,
#   EVE: Σ_k Π_i ω_ki^{1/d}.
# A rotation of the columns (d_i, d_j) by θ changes only ω_ki and ω_kj; with
# t = 2θ, p = (a + c)/2, w(t) = (a - c)/2 cos t + b sin t for the 2x2 block
# [[a, b], [b, c]] of DᵀW_kD, ω_ki ω_kj = p² - w(t)² =: s_k(t) and the rest
# of ω_k is fixed. The plane's objective Σ_k c_k ψ(s_k(t)) (ψ = log, c_k = N_k;
# or ψ = s^{1/d}, c_k = the product of the other ω_kl^{1/d}) is minimised over
# t by a grid and safeguarded Newton steps, and the rotation is kept only if
# it lowers the objective: each sweep never raises it, so never lowers Q.

_GRID = np.linspace(-np.pi / 2, np.pi / 2, 24, endpoint=False)


def _plane_objective(t, p, u, v, c, power):
    w = np.multiply.outer(np.cos(t), u) + np.multiply.outer(np.sin(t), v)
    s = np.maximum(p * p - w * w, np.finfo(float).tiny)
    values = np.log(s) if power is None else s**power
    return values @ c


def _plane_derivatives(t, p, u, v, c, power):
    w = u * np.cos(t) + v * np.sin(t)
    dw = -u * np.sin(t) + v * np.cos(t)
    s = p * p - w * w
    ds = -2 * w * dw
    dds = -2 * (dw * dw - w * w)
    if power is None:
        d1, d2 = 1 / s, -1 / s**2
    else:
        d1 = power * s ** (power - 1)
        d2 = power * (power - 1) * s ** (power - 2)
    return c @ (d1 * ds), c @ (d2 * ds * ds + d1 * dds)


def _best_angle(p, u, v, c, power):
    """The t in [-π/2, π/2) minimising the plane's objective, and its gain."""
    values = _plane_objective(_GRID, p, u, v, c, power)
    start = _plane_objective(np.zeros(1), p, u, v, c, power)[0]
    best = int(np.argmin(values))
    t, value = _GRID[best], values[best]
    for _ in range(30):
        g, h = _plane_derivatives(t, p, u, v, c, power)
        step = -g / h if h > 0 else -np.sign(g) * 0.05
        for _ in range(20):
            trial = _plane_objective(np.array([t + step]), p, u, v, c, power)[0]
            if trial <= value:
                break
            step /= 2
        else:
            break
        t, value = t + step, trial
        if abs(step) < 1e-15:
            break
    return t, start - value


def rotation_sweep(D, W, nk, equal_volume):
    """One sweep over all planes (i, j) of the common orientation ``D``.

    Parameters
    ----------
    D : ndarray of shape (d, d)
        Orthogonal; its columns are the axes.
    W : ndarray of shape (K, d, d)
        Regularised scatters.
    nk : ndarray of shape (K,)
    equal_volume : bool
        EVE (True) or VVE (False).

    Returns
    -------
    ndarray of shape (d, d)
        The rotated D; the objective above is not higher than at ``D``.
    """
    d = D.shape[0]
    D = D.copy()
    B = np.einsum("ai,kab,bj->kij", D, W, D)  # DᵀW_kD, kept up to date
    power = None if not equal_volume else 1.0 / d
    for i in range(d - 1):
        for j in range(i + 1, d):
            a, b, c = B[:, i, i], B[:, i, j], B[:, j, j]
            p, u = (a + c) / 2, (a - c) / 2
            if equal_volume:
                diag = np.diagonal(B, axis1=1, axis2=2)
                others = np.sum(np.log(diag), axis=1) - np.log(a) - np.log(c)
                weight = np.exp(others / d)
            else:
                weight = nk
            t, gain = _best_angle(p, u, b, weight, power)
            if not gain > 0:
                continue
            cos, sin = np.cos(t / 2), np.sin(t / 2)
            R = np.array([[cos, -sin], [sin, cos]])
            D[:, [i, j]] = D[:, [i, j]] @ R
            B[:, :, [i, j]] = B[:, :, [i, j]] @ R
            B[:, [i, j], :] = np.swapaxes(R, 0, 1) @ B[:, [i, j], :]
    return D


class Parsimonious:
    """Mixin of mclust's models named by three letters (``name``).

    A component that loses its responsibility keeps the constrained
    maximiser's covariance (``resets_lost = False``): resetting it to
    ``reg_covar * I`` would break the constraint that ties it to the others.
    """

    resets_lost = False
    #: Whether the M-step is an inner loop (``iterate``) rather than closed form.
    iterative = False

    def n_parameters(self, n_components, n_features):
        """mclust's count from the three letters
        (:eq:`eq-n-parameters`, ``n_variance_parameters``)."""
        return n_variance_parameters(self.name, n_components, n_features)

    def shape(self, n_components, n_features):
        if self.diagonal:
            return (n_components, n_features)
        return (n_components, n_features, n_features)

    def expand(self, values, n_components, n_features):
        return values
