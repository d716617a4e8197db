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

import numba
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


def volumes_and_common_shape(nk, diagonals, name):
    """:math:`λ_k A` for per-component diagonals :math:`ω_k`, one shape A.

    Block ascent (Celeux & Govaert 1995): :math:`λ_k = \\sum_i ω_{ki} / A_i
    / (d N_k)`, then :math:`A ∝ \\sum_k ω_k / λ_k` with :math:`|A| = 1`, from
    A of the pooled :math:`\\sum_k ω_k`, until :math:`λ_k A` stops changing
    (``iterate``). VEI takes :math:`ω_k = \\operatorname{diag} W_k`; VEV the
    eigenvalues of :math:`W_k`, whose eigenvectors are its :math:`D_k`.

    Returns
    -------
    ndarray of shape (n_components, n_features)
    """
    d = diagonals.shape[1]

    def volumes(shape):
        return (diagonals / shape).sum(axis=1) / (d * nk)

    def step(shape):
        return unit_determinant((diagonals / volumes(shape)[:, None]).sum(axis=0))

    def products(shape):
        return volumes(shape)[:, None] * shape

    start = unit_determinant(diagonals.sum(axis=0))
    return products(iterate(step, start, products, name))


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
# t by a grid (first sweep) and safeguarded Newton steps, over-relaxed by
# RELAX where that is lower still, and the rotation is kept only if it lowers
# the objective: each sweep never raises it, so never lowers Q.

RELAX = 1.5
_GRID = np.linspace(-np.pi / 2, np.pi / 2, 24, endpoint=False)


@numba.njit(cache=True, nogil=True)
def _plane_value(t, p, u, v, c, power):
    """Σ_k c_k ψ(s_k(t)): ψ = log (power 0) or s^power."""
    total = 0.0
    cos, sin = np.cos(t), np.sin(t)
    for k in range(p.size):
        w = u[k] * cos + v[k] * sin
        s = max(p[k] * p[k] - w * w, 1e-300)
        total += c[k] * (np.log(s) if power == 0.0 else np.exp(power * np.log(s)))
    return total


@numba.njit(cache=True, nogil=True)
def _plane_newton(t, p, u, v, c, power):
    """The Newton step -φ'/φ'' of the plane's objective at t (φ'' > 0), else
    a small step downhill."""
    g = 0.0
    h = 0.0
    cos, sin = np.cos(t), np.sin(t)
    for k in range(p.size):
        w = u[k] * cos + v[k] * sin
        dw = -u[k] * sin + v[k] * cos
        s = max(p[k] * p[k] - w * w, 1e-300)
        ds = -2.0 * w * dw
        dds = -2.0 * (dw * dw - w * w)
        if power == 0.0:
            d1, d2 = 1.0 / s, -1.0 / (s * s)
        else:
            d1 = power * np.exp(power * np.log(s)) / s
            d2 = (power - 1.0) * d1 / s
        g += c[k] * d1 * ds
        h += c[k] * (d2 * ds * ds + d1 * dds)
    if h > 0:
        return -g / h
    return -0.05 * np.sign(g)


@numba.njit(cache=True, nogil=True)
def _sweep(D, B, nk, equal_volume, grid):
    # grid: the angles tried before Newton's steps (empty: from t = 0 only)
    d = D.shape[0]
    K = B.shape[0]
    power = 1.0 / d if equal_volume else 0.0
    p = np.empty(K)
    u = np.empty(K)
    v = np.empty(K)
    c = np.empty(K)
    logs = np.zeros(K)  # Σ_m log ω_km, kept up to date (EVE)
    for k in range(K):
        for m in range(d):
            logs[k] += np.log(B[k, m, m])
    for i in range(d - 1):
        for j in range(i + 1, d):
            for k in range(K):
                a, b, cc = B[k, i, i], B[k, i, j], B[k, j, j]
                p[k] = (a + cc) / 2
                u[k] = (a - cc) / 2
                v[k] = b
                if equal_volume:
                    c[k] = np.exp((logs[k] - np.log(a) - np.log(cc)) / d)
                else:
                    c[k] = nk[k]
            start = _plane_value(0.0, p, u, v, c, power)
            t, value = 0.0, start
            for g in grid:
                trial = _plane_value(g, p, u, v, c, power)
                if trial < value:
                    t, value = g, trial
            for _ in range(30):
                step = _plane_newton(t, p, u, v, c, power)
                if abs(step) < 1e-12:  # the angle to ~1e-24 in the objective
                    break
                accepted = False
                for _ in range(20):
                    trial = _plane_value(t + step, p, u, v, c, power)
                    if trial <= value:
                        accepted = True
                        break
                    step /= 2
                if not accepted:
                    break
                t, value = t + step, trial
            if not value < start:
                continue
            # over-relaxation: the planes are coupled, and a rotation past the
            # plane's optimum speeds up the sweeps' linear convergence; kept
            # only where it lowers the objective below the start
            if _plane_value(RELAX * t, p, u, v, c, power) < start:
                t = RELAX * t
            cos, sin = np.cos(t / 2), np.sin(t / 2)
            for r in range(d):
                di, dj = D[r, i], D[r, j]
                D[r, i] = cos * di + sin * dj
                D[r, j] = -sin * di + cos * dj
            for k in range(K):
                for r in range(d):
                    bi, bj = B[k, r, i], B[k, r, j]
                    B[k, r, i] = cos * bi + sin * bj
                    B[k, r, j] = -sin * bi + cos * bj
                for r in range(d):
                    bi, bj = B[k, i, r], B[k, j, r]
                    B[k, i, r] = cos * bi + sin * bj
                    B[k, j, r] = -sin * bi + cos * bj
                if equal_volume:
                    logs[k] = 0.0
                    for m in range(d):
                        logs[k] += np.log(B[k, m, m])


def rotation_sweep(D, W, nk, equal_volume, search=True):
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
    search : bool
        Try a grid of angles in each plane before Newton's steps (the first
        sweep); later sweeps start Newton at the plane's current angle.

    Returns
    -------
    ndarray of shape (d, d)
        The rotated D; the objective above is not higher than at ``D``.
    """
    D = np.array(D, dtype=np.float64, order="C")
    B = D.T @ W @ D  # DᵀW_kD, kept up to date
    grid = _GRID if search else _GRID[:0]
    _sweep(D, B, np.asarray(nk, dtype=np.float64), bool(equal_volume), grid)
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
