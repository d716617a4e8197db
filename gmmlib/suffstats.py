"""Per-block sufficient statistics of a Gaussian mixture, and the M-step from them.

One EM iteration is a map-reduce over row blocks of ``X``. Each block, at the
current parameters, yields a :class:`SufficientStatistics`: the soft counts
:math:`N_k`, the weighted means and the weighted scatter about those means, and
the block's log-likelihood. Merging two of them (:meth:`SufficientStatistics.merge`,
Chan, Golub & LeVeque's pairwise update) is associative, so blocks can be
reduced in any tree shape: sequentially here, in parallel threads, or by Dask.
:func:`m_step` turns merged statistics into new parameters.

A block is processed by a :class:`BlockEStep`, built once per iteration from the
parameters. It evaluates all components with one matrix product against the
stacked Cholesky factors of the precisions, and forms the weighted second
moments of all components with a second one, so its memory beyond ``X`` is
``O(block_size * n_components * n_features)``.

Numerics: the rows are first shifted by a fixed ``centre`` (the data mean in
:class:`gmmlib.GaussianMixture`), so data far from the origin (offset by 1e8)
lose nothing. For ``'full'`` and ``'tied'`` the scatter of component k is
formed from the residuals about its previous mean, so the relative rounding
error of the covariance grows only linearly, like ``eps * |mu_k - centre| /
sigma_k`` (as in the E-step of any implementation); for ``'diag'`` and
``'spherical'`` it is formed about ``centre`` (two small products instead of
a pass over ``block * K * d`` elements), with error
``eps * (|mu_k - centre| / sigma_k) ** 2``, and variances clipped at zero.
No statistic is ever formed from raw moments about the origin.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")

_COLLAPSE_MESSAGE = (
    "Fitting the mixture failed: the covariance of component(s) {which} is not "
    "positive definite even after adding reg_covar={reg_covar:g} to its diagonal "
    "(a component collapsed onto a single point or onto a lower-dimensional "
    "subspace of the data). Try to decrease n_components, increase reg_covar, "
    "remove duplicated points, or scale the input data."
)


def _validate_covariance_type(covariance_type):
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCE_TYPES}, "
            f"got {covariance_type!r}."
        )


@dataclass(eq=False)  # fields are arrays: no elementwise __eq__
class SufficientStatistics:
    """Sufficient statistics of a Gaussian mixture over a set of rows.

    All fields are sums over the rows the statistics were computed from, with
    the responsibilities ``resp`` (γ) of the parameters they were computed at.

    Attributes
    ----------
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
        Decides the shape of ``scatter``.
    n_samples : int
        Number of rows.
    nk : ndarray of shape (n_components,)
        Soft counts :math:`N_k = \\sum_n γ_{nk}`.
    means : ndarray of shape (n_components, n_features)
        Weighted means :math:`\\sum_n γ_{nk} x_n / N_k` (zero where ``nk == 0``).
    scatter : ndarray
        Weighted scatter about ``means``,
        :math:`\\sum_n γ_{nk} (x_n - m_k)(x_n - m_k)^T`: shape
        (n_components, n_features, n_features) for 'full' and 'tied' (per
        component; pooled by :func:`m_step`), only its diagonal, shape
        (n_components, n_features), for 'diag' and 'spherical'.
    log_likelihood : float
        :math:`\\sum_n w_n \\ln \\sum_k π_k N(x_n | μ_k, Σ_k)` over the rows
        (0.0 when the statistics come from given responsibilities).
    total_weight : float
        :math:`\\sum_n w_n`, the sum of the rows' sample weights; ``n_samples``
        when the rows are unweighted (the default). With sample weights every
        sum above carries :math:`w_n` (:math:`γ_{nk}` becomes
        :math:`w_n γ_{nk}`, :eq:`eq-weighted-nk`).
    """

    covariance_type: str
    n_samples: int
    nk: np.ndarray
    means: np.ndarray
    scatter: np.ndarray
    log_likelihood: float = 0.0
    total_weight: float | None = None

    def __post_init__(self):
        if self.total_weight is None:
            self.total_weight = float(self.n_samples)

    @classmethod
    def empty(cls, n_components, n_features, covariance_type, dtype=np.float64):
        """The statistics of no rows: the identity of :meth:`merge`."""
        _validate_covariance_type(covariance_type)
        shape = (
            (n_components, n_features, n_features)
            if covariance_type in ("full", "tied")
            else (n_components, n_features)
        )
        return cls(
            covariance_type,
            0,
            np.zeros(n_components, dtype),
            np.zeros((n_components, n_features), dtype),
            np.zeros(shape, dtype),
            0.0,
            0.0,
        )

    @classmethod
    def from_responsibilities(
        cls, X, resp, covariance_type, shift=None, sample_weight=None
    ):
        """Statistics of rows ``X`` with given responsibilities.

        Used for the initialisation (k-means labels, random responsibilities).
        See :eq:`eq-nk` and :eq:`eq-mu-new`; with ``sample_weight``,
        :eq:`eq-weighted-nk`.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        resp : ndarray of shape (n_samples, n_components)
        covariance_type : {'full', 'tied', 'diag', 'spherical'}
        shift : ndarray of shape (n_components, n_features), optional
            Points close to the component means (for instance a first-pass
            estimate of them); the scatter is formed about them. Defaults to
            the column means of ``X``.
        sample_weight : ndarray of shape (n_samples,), optional
            Non-negative row weights :math:`w_n`; each row's responsibilities
            are multiplied by its weight.

        Returns
        -------
        SufficientStatistics
        """
        _validate_covariance_type(covariance_type)
        X = np.asarray(X)
        resp = np.asarray(resp, dtype=X.dtype)
        total_weight = None
        if sample_weight is not None:
            resp = resp * np.asarray(sample_weight, X.dtype)[:, None]
            total_weight = float(np.sum(sample_weight, dtype=np.float64))
        n_components = resp.shape[1]
        if shift is None:
            shift = np.broadcast_to(X.mean(axis=0), (n_components, X.shape[1]))
        n_features = X.shape[1]
        nk = resp.sum(axis=0)
        moved = np.zeros((n_components, n_features), X.dtype)
        wide = covariance_type in ("full", "tied")
        scatter = np.zeros(
            (n_components, n_features, n_features) if wide else moved.shape, X.dtype
        )
        # row blocks bound the temporaries to (block, n_features)
        for start, stop in _block_ranges(X.shape[0], 4096):
            rows, weights = X[start:stop], resp[start:stop]
            for k in range(n_components):
                diff = rows - shift[k]
                moved[k] += weights[:, k] @ diff
                if wide:
                    scatter[k] += (diff * weights[:, k : k + 1]).T @ diff
                else:
                    scatter[k] += weights[:, k] @ (diff * diff)
        return _centred(
            covariance_type, X.shape[0], nk, shift, moved, scatter, 0.0, total_weight
        )

    @classmethod
    def from_labels(
        cls, X, labels, n_components, covariance_type, shift=None, sample_weight=None
    ):
        """Statistics of rows ``X`` with hard assignments (one-hot γ).

        The same as :meth:`from_responsibilities` with ``resp[n, labels[n]] =
        1``, without forming the (n_samples, n_components) array.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        labels : ndarray of shape (n_samples,)
            Component of each row, or -1 for a row that belongs to none.
        n_components : int
        covariance_type : {'full', 'tied', 'diag', 'spherical'}
        shift : ndarray of shape (n_components, n_features), optional
            As in :meth:`from_responsibilities`.
        sample_weight : ndarray of shape (n_samples,), optional
            As in :meth:`from_responsibilities`.

        Returns
        -------
        SufficientStatistics
        """
        _validate_covariance_type(covariance_type)
        X = np.asarray(X)
        labels = np.asarray(labels)
        n_features = X.shape[1]
        if shift is None:
            shift = np.broadcast_to(X.mean(axis=0), (n_components, n_features))
        assigned = labels >= 0
        total_weight = None
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, X.dtype)
            total_weight = float(np.sum(sample_weight, dtype=np.float64))
            counts = np.bincount(
                labels[assigned], sample_weight[assigned], minlength=n_components
            )
        else:
            counts = np.bincount(labels[assigned], minlength=n_components)
        nk = counts.astype(X.dtype)
        moved = np.zeros((n_components, n_features), X.dtype)
        wide = covariance_type in ("full", "tied")
        scatter = np.zeros(
            (n_components, n_features, n_features) if wide else moved.shape, X.dtype
        )
        for start, stop in _block_ranges(X.shape[0], 4096):
            rows, block_labels = X[start:stop], labels[start:stop]
            for k in np.unique(block_labels[block_labels >= 0]):
                members = block_labels == k
                diff = rows[members] - shift[k]
                weighted = diff
                if sample_weight is not None:
                    weighted = diff * sample_weight[start:stop][members, None]
                moved[k] += weighted.sum(axis=0)
                scatter[k] += (
                    weighted.T @ diff if wide else (weighted * diff).sum(axis=0)
                )
        return _centred(
            covariance_type, X.shape[0], nk, shift, moved, scatter, 0.0, total_weight
        )

    def merge(self, other):
        """Statistics of the union of two disjoint sets of rows.

        Chan, Golub & LeVeque's pairwise update: counts and log-likelihoods
        add, means combine by weight, and scatters add with the correction
        :math:`\\frac{N_a N_b}{N_a + N_b} δ δ^T` for the difference δ of the
        means. Associative and commutative (up to rounding).

        Parameters
        ----------
        other : SufficientStatistics
            Same covariance_type and shapes.

        Returns
        -------
        SufficientStatistics
        """
        if other.covariance_type != self.covariance_type:
            raise ValueError(
                "Cannot merge statistics of covariance_type "
                f"{self.covariance_type!r} with {other.covariance_type!r}."
            )
        if other.means.shape != self.means.shape:
            raise ValueError(
                f"Cannot merge statistics of shapes {self.means.shape} and "
                f"{other.means.shape} (n_components, n_features)."
            )
        nk = self.nk + other.nk
        positive = nk > 0
        safe_nk = np.where(positive, nk, 1)
        share = np.where(positive, other.nk / safe_nk, 0)
        delta = other.means - self.means
        means = self.means + share[:, None] * delta
        weight = np.where(positive, self.nk * share, 0)
        if self.scatter.ndim == 3:
            correction = weight[:, None, None] * (delta[:, :, None] * delta[:, None, :])
        else:
            correction = weight[:, None] * (delta * delta)
        return SufficientStatistics(
            self.covariance_type,
            self.n_samples + other.n_samples,
            nk,
            means,
            self.scatter + other.scatter + correction,
            self.log_likelihood + other.log_likelihood,
            self.total_weight + other.total_weight,
        )

    __add__ = merge

    def scaled(self, factor):
        """The statistics with every weight multiplied by ``factor``.

        Counts, scatters, log-likelihood and total weight are sums over the
        rows, linear in the weights, so they scale; the means are ratios of
        such sums and do not. ``a.scaled(1 - ρ).merge(b.scaled(ρ))`` is the
        convex combination of two sets of statistics that stepwise EM takes
        (:eq:`eq-stepwise`), formed without raw moments.

        Parameters
        ----------
        factor : float
            Non-negative.

        Returns
        -------
        SufficientStatistics
        """
        return SufficientStatistics(
            self.covariance_type,
            self.n_samples,
            self.nk * factor,
            self.means,
            self.scatter * factor,
            self.log_likelihood * factor,
            self.total_weight * factor,
        )


def _centred(
    covariance_type,
    n_samples,
    nk,
    shift,
    moved,
    scatter,
    log_likelihood,
    total_weight=None,
):
    """Statistics about the means from statistics about a shift.

    ``moved`` is :math:`\\sum_n γ_{nk}(x_n - c_k)` and ``scatter`` the weighted
    scatter about ``c_k``; the mean is :math:`c_k + moved_k / N_k` and the
    scatter about it loses :math:`moved_k moved_k^T / N_k`.
    """
    positive = nk > 0
    inv = np.where(positive, 1 / np.where(positive, nk, 1), 0).astype(nk.dtype)
    offset = moved * inv[:, None]
    means = np.where(positive[:, None], shift + offset, 0).astype(nk.dtype)
    if scatter.ndim == 3:
        scatter = scatter - offset[:, :, None] * moved[:, None, :]
        scatter = 0.5 * (scatter + scatter.transpose(0, 2, 1))
    else:
        scatter = np.maximum(scatter - offset * moved, 0)
    return SufficientStatistics(
        covariance_type, n_samples, nk, means, scatter, log_likelihood, total_weight
    )


def stepwise_statistics(running, batch, rho):
    """The stepwise-EM update of running statistics by a batch's.

    :math:`\\mathcal{T}_t = (1 - ρ) \\mathcal{T}_{t-1} + ρ \\bar{\\mathcal{T}}_t`
    on statistics per unit of weight (:eq:`eq-stepwise`). The result is kept
    in units of the batch's total weight, so its M-step treats it like the
    batch itself: both terms are rescaled (``SufficientStatistics.scaled``)
    and merged with the pairwise update of :eq:`eq-merge`, which forms the
    combined scatter about the combined means without raw moments.

    Parameters
    ----------
    running : SufficientStatistics
        :math:`\\mathcal{T}_{t-1}`, in any units of weight.
    batch : SufficientStatistics
        The batch's statistics at the current parameters.
    rho : float
        Step size in (0, 1].

    Returns
    -------
    SufficientStatistics
        With ``total_weight == batch.total_weight``.
    """
    scale = batch.total_weight / running.total_weight
    return running.scaled((1 - rho) * scale).merge(batch.scaled(rho))


# --------------------------------------------------------------------------
# Parameters: Cholesky factors of the precisions


def precisions_cholesky_from_covariances(covariances, covariance_type, reg_covar=0.0):
    """Upper-triangular ``U`` with ``U @ U.T`` the inverse of each covariance.

    Parameters
    ----------
    covariances : ndarray
        (n_components, n_features, n_features) for 'full', (n_features,
        n_features) for 'tied', (n_components, n_features) for 'diag',
        (n_components,) for 'spherical'.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    reg_covar : float
        Only quoted in the error message.

    Returns
    -------
    precisions_cholesky : ndarray, same shape as ``covariances``

    Raises
    ------
    ValueError
        If a covariance is not positive definite.
    """
    covariances = np.asarray(covariances)
    if covariance_type in ("full", "tied"):
        stack = covariances if covariance_type == "full" else covariances[None]
        out = np.empty_like(stack)
        bad = []
        eye = np.eye(stack.shape[-1], dtype=stack.dtype)
        for k, cov in enumerate(stack):
            try:
                chol = np.linalg.cholesky(cov)
            except np.linalg.LinAlgError:
                bad.append(k)
                continue
            if not np.all(np.isfinite(chol)) or np.any(np.diagonal(chol) <= 0):
                bad.append(k)
                continue
            out[k] = solve_triangular(chol, eye, lower=True).T
        if bad:
            which = "tied" if covariance_type == "tied" else bad
            raise ValueError(_COLLAPSE_MESSAGE.format(which=which, reg_covar=reg_covar))
        return out if covariance_type == "full" else out[0]
    not_positive = ~(covariances > 0) | ~np.isfinite(covariances)
    if np.any(not_positive):
        bad = np.flatnonzero(not_positive.reshape(len(covariances), -1).any(axis=1))
        raise ValueError(
            _COLLAPSE_MESSAGE.format(which=bad.tolist(), reg_covar=reg_covar)
        )
    return (1 / np.sqrt(covariances)).astype(covariances.dtype)


def precisions_cholesky_from_precisions(precisions, covariance_type):
    """Upper-triangular ``U`` with ``U @ U.T == precisions`` (per component).

    For a matrix P, the Cholesky factor L of the reversed matrix J P J gives
    U = J L J (J reverses rows and columns).

    Parameters
    ----------
    precisions : ndarray, shape as in :func:`precisions_cholesky_from_covariances`
    covariance_type : {'full', 'tied', 'diag', 'spherical'}

    Returns
    -------
    precisions_cholesky : ndarray, same shape
    """
    precisions = np.asarray(precisions)
    if covariance_type in ("full", "tied"):
        reversed_ = precisions[..., ::-1, ::-1]
        return np.ascontiguousarray(np.linalg.cholesky(reversed_)[..., ::-1, ::-1])
    return np.sqrt(precisions)


def precisions_from_cholesky(precisions_cholesky, covariance_type):
    """Precisions ``U @ U.T`` from their Cholesky factors ``U``.

    Parameters
    ----------
    precisions_cholesky : ndarray
    covariance_type : {'full', 'tied', 'diag', 'spherical'}

    Returns
    -------
    precisions : ndarray, same shape
    """
    if covariance_type in ("full", "tied"):
        return precisions_cholesky @ np.swapaxes(precisions_cholesky, -1, -2)
    return precisions_cholesky**2


def covariances_from_cholesky(precisions_cholesky, covariance_type):
    """Covariances :math:`(U U^T)^{-1}` from the precisions' Cholesky factors.

    Parameters
    ----------
    precisions_cholesky : ndarray
    covariance_type : {'full', 'tied', 'diag', 'spherical'}

    Returns
    -------
    covariances : ndarray, same shape
    """
    if covariance_type in ("full", "tied"):
        stack = precisions_cholesky.reshape((-1,) + precisions_cholesky.shape[-2:])
        eye = np.eye(stack.shape[-1], dtype=stack.dtype)
        inverse = np.stack([solve_triangular(u, eye, lower=False) for u in stack])
        covariances = np.swapaxes(inverse, -1, -2) @ inverse
        return covariances.reshape(precisions_cholesky.shape)
    return 1 / precisions_cholesky**2


def m_step(stats, reg_covar):
    """New parameters from merged sufficient statistics.

    The weights are :math:`N_k / N` (:eq:`eq-pi-new`), the means the
    statistics' weighted means (:eq:`eq-mu-new`) and the covariances the
    weighted scatter over :math:`N_k` (:eq:`eq-sigma-new`; pooled for
    :eq:`eq-sigma-tied`, its diagonal for :eq:`eq-sigma-diag`, the mean of
    the diagonal for :eq:`eq-sigma-spherical`), plus ``reg_covar`` on the
    diagonal. This is the one place ``reg_covar`` is added. As in
    scikit-learn, :math:`N_k` gets ``10 * eps`` so an empty component stays
    finite. From weighted statistics (:math:`w_n γ_{nk}` in every sum) it is
    the weighted M-step: :eq:`eq-weighted-sigma-new`, the zero of
    :eq:`eq-weighted-loglik-grad`, and the weights :eq:`eq-weighted-pi-new`,
    whose denominator ``nk.sum()`` is then :math:`\\sum_n w_n`.

    Parameters
    ----------
    stats : SufficientStatistics
    reg_covar : float

    Returns
    -------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray
        Shape by covariance_type, as in
        :func:`precisions_cholesky_from_covariances`.
    precisions_cholesky : ndarray, same shape as ``covariances``

    Raises
    ------
    ValueError
        If a covariance is not positive definite after ``reg_covar``.
    """
    dtype = stats.means.dtype
    nk = stats.nk + 10 * np.finfo(dtype).eps
    weights = nk / nk.sum()
    # means are weighted averages; scale by N_k / (N_k + 10 eps) like sklearn
    means = stats.means * (stats.nk / nk)[:, None]
    n_features = means.shape[1]
    ctype = stats.covariance_type
    if ctype == "full":
        covariances = stats.scatter / nk[:, None, None]
        covariances[:, np.arange(n_features), np.arange(n_features)] += reg_covar
    elif ctype == "tied":
        covariances = stats.scatter.sum(axis=0) / nk.sum()
        covariances.flat[:: n_features + 1] += reg_covar
    elif ctype == "diag":
        covariances = stats.scatter / nk[:, None] + reg_covar
    else:
        covariances = stats.scatter.mean(axis=1) / nk + reg_covar
    covariances = covariances.astype(dtype, copy=False)
    if not (np.all(np.isfinite(means)) and np.all(np.isfinite(covariances))):
        raise ValueError(
            "The M-step produced non-finite parameters: the data or the "
            "responsibilities overflowed. Scale the input data, or pass float64 "
            "data instead of float32."
        )
    precisions_cholesky = precisions_cholesky_from_covariances(
        covariances, ctype, reg_covar
    )
    return weights.astype(dtype), means.astype(dtype), covariances, precisions_cholesky


# --------------------------------------------------------------------------
# The E-step of one block
# The E-step of one block


class BlockEStep:
    """The E-step at fixed parameters, applied one row block at a time.

    Built once per iteration; :meth:`statistics` and :meth:`weighted_log_prob`
    are then called on row blocks, from any number of threads (the object is
    read-only after construction).

    For 'full' and 'tied' the whitened residuals :math:`(x_n - μ_k) U_k` of
    all K components come from one product of the block, with a column of
    ones appended, and a (d + 1, K d) matrix that stacks the factors
    :math:`U_k` over the rows :math:`-μ_k U_k`. Scaled in place by the
    responsibilities, the same residuals give the weighted scatter of all K
    components from one more product,
    :math:`A^T [γ_1 (A - s_1) U_1, \\dots, γ_K (A - s_K) U_K]` with
    ``A = X - centre`` and :math:`s_k = μ_k - centre`, taken back to the
    data's coordinates by :math:`U_k^{-1}` once per pass.
    For 'diag' and 'spherical' both steps are products with K columns.

    Parameters
    ----------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    precisions_cholesky : ndarray
        Upper-triangular Cholesky factors of the precisions, shape by
        covariance_type (see :func:`precisions_cholesky_from_covariances`).
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    centre : ndarray of shape (n_features,), optional
        Rows are shifted by it before any product; choose it near the data
        (the data mean). Defaults to the weighted mean of ``means``.
    dtype : numpy dtype, optional
        Working precision; defaults to that of ``means``.
    """

    def __init__(
        self,
        weights,
        means,
        precisions_cholesky,
        covariance_type,
        centre=None,
        dtype=None,
    ):
        _validate_covariance_type(covariance_type)
        dtype = np.dtype(dtype or np.asarray(means).dtype)
        means = np.asarray(means, dtype)
        weights = np.asarray(weights, dtype)
        prec_chol = np.asarray(precisions_cholesky, dtype)
        n_components, n_features = means.shape
        if centre is None:
            centre = weights @ means
        self.covariance_type = covariance_type
        self.dtype = dtype
        self.n_components, self.n_features = n_components, n_features
        self.centre = np.asarray(centre, dtype)
        self.means = means
        # the previous means relative to the centre: the shift of the scatter
        self.shift = means - self.centre
        K, d = n_components, n_features
        with np.errstate(divide="ignore"):
            log_weights = np.log(weights.astype(np.float64))
        if covariance_type in ("full", "tied"):
            stacked = (
                prec_chol
                if covariance_type == "full"
                else np.broadcast_to(prec_chol, (K, d, d))
            )
            log_det = np.log(np.diagonal(stacked, axis1=1, axis2=2)).sum(axis=1)
            # columns k*d:(k+1)*d hold U_k over the row -shift_k U_k, scaled
            # by sqrt(1/2) so that the squared norms are the -log-density terms
            factors = np.empty((d + 1, K * d), dtype)
            factors[:-1] = stacked.transpose(1, 0, 2).reshape(d, K * d)
            factors[-1] = -np.einsum("kd,kde->ke", self.shift, stacked).ravel()
            factors *= math.sqrt(0.5)
            # sqrt(2) U_k^-1 takes the weighted products with the whitened
            # residuals back to the data's coordinates (once per pass)
            eye = np.eye(d, dtype=dtype)
            self._inverse_factors = math.sqrt(2) * np.stack(
                [solve_triangular(u, eye, lower=False) for u in stacked]
            )
        elif covariance_type == "diag":
            log_det = np.log(prec_chol).sum(axis=1)
            precisions = prec_chol**2
            # q_nk = sum_d p_kd a_nd^2 - 2 p_kd s_kd a_nd + p_kd s_kd^2
            factors = np.empty((2 * d + 1, K), dtype)
            factors[:d] = (-2 * self.shift * precisions).T
            factors[d:-1] = precisions.T
            factors[-1] = (self.shift**2 * precisions).sum(axis=1)
            factors *= 0.5
        else:
            log_det = d * np.log(prec_chol)
            # as 'diag' with p_kd = p_k; the column of squares then sums over d
            factors = np.empty((2 * d + 1, K), dtype)
            factors[:d] = (-2 * self.shift * prec_chol[:, None] ** 2).T
            factors[d:-1] = prec_chol**2
            factors[-1] = (self.shift**2).sum(axis=1) * prec_chol**2
            factors *= 0.5
        self._factors = factors
        self._const = (-0.5 * d * math.log(2 * math.pi) + log_det + log_weights).astype(
            dtype
        )[:, None]

    # -- pieces -------------------------------------------------------------

    def _workspace(self, n_rows):
        """Buffers for blocks of up to ``n_rows`` rows, reused block after block."""
        K, d = self.n_components, self.n_features
        wide = self.covariance_type in ("full", "tied")
        return {
            "aug": np.empty((n_rows, d + 1 if wide else 2 * d + 1), self.dtype),
            "white": np.empty(K * d * n_rows, self.dtype) if wide else None,
        }

    def _augmented(self, X_block, workspace=None):
        """Rows minus the centre, then (diag/spherical) their squares, then 1."""
        n, d = X_block.shape
        if workspace is None:
            workspace = self._workspace(n)
        aug = workspace["aug"][:n]
        np.subtract(X_block, self.centre, out=aug[:, :d])
        if aug.shape[1] > d + 1:
            np.square(aug[:, :d], out=aug[:, d:-1])
        aug[:, -1] = 1
        return aug

    def _log_prob_t(self, aug, workspace=None):
        """Transposed weighted log-densities, shape (n_components, n)."""
        n = aug.shape[0]
        if self.covariance_type in ("full", "tied"):
            # (K d, n): the sums over d and the scaling by γ below then run
            # along contiguous rows of length n, not in runs of d
            shape = (self._factors.shape[1], n)
            white = None if workspace is None else _view(workspace["white"], shape)
            white = np.matmul(self._factors.T, aug.T, out=white)
            white = white.reshape(self.n_components, -1, n)
            quad = np.empty((self.n_components, n), self.dtype)
            np.einsum("kdn,kdn->kn", white, white, out=quad)
        else:
            quad = self._factors.T @ aug.T
        # log π_k + log N = const_k - q_nk / 2 (the 1/2 is in the factors)
        return np.subtract(self._const, quad, out=quad)

    def weighted_log_prob(self, X_block):
        """:math:`\\ln π_k + \\ln N(x_n | μ_k, Σ_k)` for each row and component.

        See :eq:`eq-gaussian`.

        Parameters
        ----------
        X_block : ndarray of shape (n_rows, n_features)

        Returns
        -------
        ndarray of shape (n_rows, n_components)
        """
        return self._log_prob_t(self._augmented(X_block)).T

    def _shifted_sums(self, X_block, workspace=None, sample_weight=None):
        """Additive sums of one block about the fixed shifts.

        Returns ``(nk, moved, second, log_likelihood)``: :math:`N_k`,
        :math:`\\sum_n γ_{nk} (a_n - s_k)` and, for 'full' and 'tied', the
        (K d, d) product :math:`[γ_k (A - s_k) U_k]_k^T A` (for 'diag' and
        'spherical' :math:`\\sum_n γ_{nk} a_n^2`), where ``a = x - centre``.
        With ``sample_weight`` (shape (n,)) every γ here is :math:`w_n γ_{nk}`
        and the log-likelihood is :math:`\\sum_n w_n \\ln p(x_n)`.
        """
        n, d = X_block.shape
        if workspace is None:
            workspace = self._workspace(n)
        aug = self._augmented(X_block, workspace)
        resp_t, log_norm = _responsibilities_t(self._log_prob_t(aug, workspace))
        if sample_weight is None:
            log_likelihood = float(log_norm.sum(dtype=np.float64))
        else:
            # the one place the sample weights enter: γ_nk -> w_n γ_nk
            # (eq-weighted-nk); every sum below then carries w_n
            resp_t *= sample_weight.astype(self.dtype, copy=False)
            log_likelihood = float(np.dot(sample_weight, log_norm.astype(np.float64)))
        if self.covariance_type in ("full", "tied"):
            shifted = aug[:, :d]
            # the column of ones in aug gives N_k with the weighted sums
            sums = resp_t @ aug
            moved, nk = sums[:, :d], sums[:, d]
            moved -= nk[:, None] * self.shift
            # γ_k (a - s_k) U_k in place of the whitened residuals
            white = _view(workspace["white"], (self.n_components * d, n))
            white.reshape(self.n_components, d, n)[...] *= resp_t[:, None, :]
            second = white @ shifted
        else:
            sums = resp_t @ aug
            moved, second, nk = sums[:, :d], sums[:, d:-1], sums[:, -1]
        return nk, moved, second, log_likelihood

    def _finish(self, n_samples, nk, moved, second, log_likelihood, total_weight=None):
        """Centred statistics from the accumulated shifted sums."""
        K, d = self.n_components, self.n_features
        if self.covariance_type in ("full", "tied"):
            # (A^T γ_k (A - s_k) U_k) U_k^-1 - s_k moved_k^T: the scatter about
            # s_k (the previous mean)
            scatter = second.reshape(K, d, d).transpose(0, 2, 1) @ self._inverse_factors
            scatter -= self.shift[:, :, None] * moved[:, None, :]
            shift = self.means
        else:
            scatter = second
            shift = np.broadcast_to(self.centre, (K, d))
        return _centred(
            self.covariance_type,
            n_samples,
            nk,
            shift,
            moved,
            scatter,
            log_likelihood,
            total_weight,
        )

    def statistics(self, X_block, sample_weight=None):
        """E-step on one block and that block's sufficient statistics.

        Responsibilities :eq:`eq-responsibility` in log space, the block's
        log-likelihood :eq:`eq-log-likelihood`, then the sums of
        :eq:`eq-nk`, :eq:`eq-mu-new` and :eq:`eq-sigma-new`.

        With ``sample_weight``, the weighted sums of :eq:`eq-weighted-nk`
        and :eq:`eq-weighted-log-likelihood`.

        Parameters
        ----------
        X_block : ndarray of shape (n_rows, n_features)
        sample_weight : ndarray of shape (n_rows,), optional
            Non-negative row weights :math:`w_n`; default 1 for every row.

        Returns
        -------
        SufficientStatistics
        """
        return self._statistics_of_blocks(
            X_block, [(0, X_block.shape[0])], sample_weight
        )

    def _statistics_of_blocks(self, X, ranges, sample_weight=None):
        """Statistics of several row ranges of X, summed before centring."""
        total = None
        total_weight = None
        workspace = self._workspace(max(stop - start for start, stop in ranges))
        for start, stop in ranges:
            weights = None if sample_weight is None else sample_weight[start:stop]
            sums = self._shifted_sums(X[start:stop], workspace, weights)
            if total is None:
                total = [np.array(s) if i < 3 else s for i, s in enumerate(sums)]
            else:
                for i in range(3):
                    total[i] += sums[i]
                total[3] += sums[3]
            if weights is not None:
                total_weight = (total_weight or 0.0) + float(
                    weights.sum(dtype=np.float64)
                )
        n_samples = sum(stop - start for start, stop in ranges)
        return self._finish(n_samples, *total, total_weight)


def _view(buffer, shape):
    """A C-ordered array of ``shape`` at the start of a flat buffer."""
    return buffer[: math.prod(shape)].reshape(shape)


def _responsibilities_t(log_prob_t):
    """Transposed responsibilities (in place) and per-row log-likelihood.

    Works on the (n_components, n) layout, where the reductions over
    components run along contiguous rows.
    """
    top = log_prob_t.max(axis=0)
    log_prob_t -= top
    # responsibilities are floored at tiny/eps (1e-31 in float32): below it,
    # exp and the products with the residuals give subnormal numbers, which
    # are ten times slower; the floor adds at most n_samples * tiny / eps to N_k
    info = np.finfo(log_prob_t.dtype)
    np.maximum(log_prob_t, math.log(info.tiny / info.eps), out=log_prob_t)
    np.exp(log_prob_t, out=log_prob_t)
    total = log_prob_t.sum(axis=0)
    log_prob_t /= total
    return log_prob_t, top + np.log(total)


def responsibilities(weighted_log_prob):
    """Responsibilities and per-row log-likelihood, computed in log space.

    One exponential per entry: :math:`γ_{nk} = e^{w_{nk} - m_n} / \\sum_j
    e^{w_{nj} - m_n}` with :math:`m_n = \\max_k w_{nk}`, which cannot
    overflow and has a denominator of at least 1. See :eq:`eq-responsibility`
    and :eq:`eq-mixture`.

    Parameters
    ----------
    weighted_log_prob : ndarray of shape (n, n_components)
        :math:`w_{nk} = \\ln π_k + \\ln N(x_n | μ_k, Σ_k)`; overwritten with
        the responsibilities when it is writeable.

    Returns
    -------
    resp : ndarray of shape (n, n_components)
    log_norm : ndarray of shape (n,)
        :math:`\\ln \\sum_k π_k N(x_n | μ_k, Σ_k)`.
    """
    resp_t, log_norm = _responsibilities_t(weighted_log_prob.T)
    return resp_t.T, log_norm


# --------------------------------------------------------------------------
# A pass over the data


def default_block_size(
    n_components,
    n_features,
    itemsize=8,
    covariance_type="full",
    n_samples=None,
    n_threads=1,
):
    """Rows per block: the block's buffers take about 4 MiB.

    Measured on 2 cores (N=100 000, d=16, K=8): the time per row falls until
    blocks of about 4 MiB, where each numpy call handles enough numbers to
    amortise its overhead, and stays flat beyond. A row needs K d numbers for
    'full' and 'tied' (the whitened residuals), 2 d + 1 + K for 'diag' and
    'spherical'. Given ``n_samples``, blocks are also cut to at least 8 per
    thread, so the buffers of a small data set stay a fraction of it.

    Parameters
    ----------
    n_components, n_features : int
    itemsize : int
        Bytes per number (8 for float64, 4 for float32).
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    n_samples : int, optional
    n_threads : int

    Returns
    -------
    int
    """
    if covariance_type in ("full", "tied"):
        per_row = n_components * n_features
    else:
        per_row = 2 * n_features + 1 + n_components
    rows = min(16384, max(256, 2**22 // (itemsize * max(1, per_row))))
    if n_samples is not None:
        rows = min(rows, max(256, -(-n_samples // (8 * max(1, n_threads)))))
    return int(rows)


def _block_ranges(n_samples, block_size):
    starts = range(0, n_samples, block_size)
    return [(i, min(i + block_size, n_samples)) for i in starts]


def _thread_chunks(ranges, n_threads):
    n_threads = max(1, min(n_threads, len(ranges)))
    return [list(part) for part in np.array_split(np.arange(len(ranges)), n_threads)]


def accumulate_statistics(X, estep, block_size=None, n_threads=1, sample_weight=None):
    """Merged :class:`SufficientStatistics` of all rows of ``X``.

    Each thread sums its blocks' statistics about the fixed shifts (plain
    additions), centres them once, and the threads' results are merged with
    :meth:`SufficientStatistics.merge` in a fixed order, so the result depends
    only on ``block_size`` and ``n_threads``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    estep : BlockEStep
    block_size : int, optional
        Rows per block; default from :func:`default_block_size`.
    n_threads : int
        Threads that process disjoint ranges of blocks. Limit the BLAS to one
        thread meanwhile (``threadpoolctl.threadpool_limits(1, "blas")``).
    sample_weight : ndarray of shape (n_samples,), optional
        Non-negative row weights (:eq:`eq-weighted-nk`); default 1 per row.

    Returns
    -------
    SufficientStatistics
    """
    if block_size is None:
        block_size = default_block_size(
            estep.n_components,
            estep.n_features,
            estep.dtype.itemsize,
            estep.covariance_type,
            X.shape[0],
            n_threads,
        )
    ranges = _block_ranges(X.shape[0], block_size)
    chunks = [[ranges[i] for i in chunk] for chunk in _thread_chunks(ranges, n_threads)]
    if len(chunks) == 1:
        return estep._statistics_of_blocks(X, chunks[0], sample_weight)
    with ThreadPoolExecutor(len(chunks)) as pool:
        parts = list(
            pool.map(
                lambda chunk: estep._statistics_of_blocks(X, chunk, sample_weight),
                chunks,
            )
        )
    total = parts[0]
    for part in parts[1:]:
        total = total.merge(part)
    return total


def map_blocks(X, estep, func, block_size=None, n_threads=1):
    """Apply ``func(estep, X_block) -> ndarray`` to row blocks and stack the rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    estep : BlockEStep
    func : callable
    block_size : int, optional
    n_threads : int

    Returns
    -------
    ndarray with n_samples rows
    """
    if block_size is None:
        block_size = default_block_size(
            estep.n_components,
            estep.n_features,
            estep.dtype.itemsize,
            estep.covariance_type,
            X.shape[0],
            n_threads,
        )
    ranges = _block_ranges(X.shape[0], block_size)
    chunks = [[ranges[i] for i in chunk] for chunk in _thread_chunks(ranges, n_threads)]

    def work(chunk):
        return [func(estep, X[start:stop]) for start, stop in chunk]

    if len(chunks) == 1:
        return np.concatenate(work(chunks[0]))
    with ThreadPoolExecutor(len(chunks)) as pool:
        return np.concatenate(
            [part for parts in pool.map(work, chunks) for part in parts]
        )
