"""Per-block sufficient statistics of a Gaussian mixture, and the M-step from them.

One EM iteration is a map-reduce over row blocks of ``X``. Each block, at the
current parameters, yields a :class:`SufficientStatistics`: the soft counts
:math:`N_k`, the weighted means and the weighted scatter about those means, and
the block's log-likelihood. Merging two of them (:meth:`SufficientStatistics.merge`,
Chan, Golub & LeVeque's pairwise update) is associative, so blocks can be
reduced in any tree shape: sequentially here, in parallel threads, or by Dask.
:func:`parameters_from_statistics` turns merged statistics into new parameters.

A block is processed by a :class:`BlockEStep`, built once per iteration from
the parameters: two loops compiled by numba walk the block in
tiles of 256 to 1024 rows, the first forming the whitened residuals and the
log-densities of all components, the second, after NumPy's exponential, the
responsibilities and the sums about the previous means. No matrix product of
the rows is formed. :func:`accumulate_statistics` runs the blocks on
``n_threads`` Python threads, each summing a contiguous share of them (the
loops and the exponential release the GIL), and merges the threads'
statistics in a fixed order.

Memory beyond ``X`` of a pass, per thread: (K + 2)·block_size numbers in the
working dtype (a (K, block_size) array of log-densities, then of their
exponentials, and two of one number per row); at most (2d + 3)·tile numbers
inside the compiled loops; float64 sums of at most K(1 + d + d²) numbers and
a few temporaries of that size that centre them. A block is copied first
(d·block_size numbers) only when ``X`` is not C-ordered in the working dtype,
and sample weights add a few arrays of one number per row of a block. In all,
O(n_threads·(block_size·K + K·d²)), whatever the number of rows: nothing of
size n·K or n·d is formed.

Numerics: the rows are first shifted by a fixed ``centre`` (the data mean in
:class:`gmmlib.GaussianMixture`), so data far from the origin (offset by 1e8)
lose nothing. For every covariance type the scatter of component k is summed
about its previous mean (:eq:`eq-tile-sums`), from the residuals
``(x_n - centre) - (mu_k - centre)``, so the relative rounding error of a
covariance grows only linearly, like ``eps * (|x_n - mu_k| + |mu_k - centre|)
/ sigma_k``, as in the E-step itself; the initialisation's statistics
(:meth:`SufficientStatistics.from_labels`, ``from_responsibilities``) are
summed about a first pass's means.
No statistic is ever formed from raw moments about the origin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gmmlib import _kernels, _threads, covariance
from gmmlib._validation import lost_responsibility, report_lost_components


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
        component; pooled by :func:`parameters_from_statistics`), only its
        diagonal, shape
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
        diagonal = covariance.get(covariance_type).diagonal
        shape = (
            (n_components, n_features)
            if diagonal
            else (n_components, n_features, n_features)
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
        wide = not covariance.get(covariance_type).diagonal
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
        wide = not covariance.get(covariance_type).diagonal
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
    on statistics per unit of weight (:eq:`eq-stepwise`). The result is
    :math:`W \\mathcal{T}_t`, kept in units of the batch's total weight W:
    ``running`` (any total weight :math:`W'`) is rescaled by
    :math:`(1 - ρ) W / W'` and ``batch`` by ρ (``SufficientStatistics.scaled``),
    and the two are merged with the pairwise update of :eq:`eq-merge`, which
    forms the combined scatter about the combined means without raw moments.
    The common factor W changes no parameter (the M-step is a ratio of sums
    linear in the weights); the factor :math:`W / W'` does: without it the
    step per unit of weight would be :math:`ρ W / ((1 - ρ) W' + ρ W)`.

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

    The model's :meth:`~gmmlib.covariance.CovarianceModel.precisions_cholesky`.

    Parameters
    ----------
    covariances : ndarray
        (n_components, n_features, n_features) for 'full', (n_features,
        n_features) for 'tied', (n_components, n_features) for 'diag',
        (n_components,) for 'spherical'.
    covariance_type : str
        A name of :func:`gmmlib.covariance.names`.
    reg_covar : float
        Only quoted in the error message.

    Returns
    -------
    precisions_cholesky : ndarray, same shape as ``covariances``

    Raises
    ------
    ValueError
        If a covariance is not positive definite, or singular to working
        precision (each pivot against its own variance).
    """
    return covariance.get(covariance_type).precisions_cholesky(covariances, reg_covar)


def precisions_cholesky_from_precisions(precisions, covariance_type):
    """Upper-triangular ``U`` with ``U @ U.T == precisions`` (per component).

    Parameters
    ----------
    precisions : ndarray, shape as in :func:`precisions_cholesky_from_covariances`
    covariance_type : str

    Returns
    -------
    precisions_cholesky : ndarray, same shape
    """
    model = covariance.get(covariance_type)
    return model.precisions_cholesky_from_precisions(np.asarray(precisions))


def precisions_from_cholesky(precisions_cholesky, covariance_type):
    """Precisions ``U @ U.T`` from their Cholesky factors ``U``.

    Parameters
    ----------
    precisions_cholesky : ndarray
    covariance_type : str

    Returns
    -------
    precisions : ndarray, same shape
    """
    return covariance.get(covariance_type).precisions_from_cholesky(precisions_cholesky)


def covariances_from_cholesky(precisions_cholesky, covariance_type):
    """Covariances :math:`(U U^T)^{-1}` from the precisions' Cholesky factors.

    Parameters
    ----------
    precisions_cholesky : ndarray
    covariance_type : str

    Returns
    -------
    covariances : ndarray, same shape
    """
    return covariance.get(covariance_type).covariances_from_cholesky(
        precisions_cholesky
    )


def parameters_from_statistics(stats, reg_covar, warned=None):
    """New parameters from merged sufficient statistics.

    The weights are :math:`N_k / N` (:eq:`eq-pi-new`), the means the
    statistics' weighted means (:eq:`eq-mu-new`) and the covariances the
    model's M-step (:meth:`gmmlib.covariance.CovarianceModel.update`: the
    weighted scatter over :math:`N_k`, :eq:`eq-sigma-new`; pooled for
    :eq:`eq-sigma-tied`, its diagonal for :eq:`eq-sigma-diag`, the mean of
    the diagonal for :eq:`eq-sigma-spherical`), with ``reg_covar`` entering
    each scatter as :math:`S_k + \\varepsilon N_k I`
    (:eq:`eq-reg-covar-scatter`), the one place it is added. As in
    scikit-learn, :math:`N_k` gets ``10 * eps`` so an empty component stays
    finite. A component with :math:`N_k \\le` ``10 * eps`` has lost all its
    responsibility (``gmmlib._validation.lost_responsibility``): it gets
    the mean 0 and the covariance ``reg_covar * I`` (scikit-learn's result
    for it), and a ``gmmlib.DegenerateComponentWarning`` says so, as
    :func:`gmmlib.em.m_step` does. From weighted statistics
    (:math:`w_n γ_{nk}` in every sum) it is the weighted M-step:
    :eq:`eq-weighted-sigma-new`, the zero of :eq:`eq-weighted-loglik-grad`,
    and the weights :eq:`eq-weighted-pi-new`, whose denominator ``nk.sum()``
    is then :math:`\\sum_n w_n`.

    Parameters
    ----------
    stats : SufficientStatistics
    reg_covar : float
    warned : set, optional
        Components already warned about (one fit's iterations share it): only
        the others are named, and they are added to it.

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
        If a covariance is not positive definite after ``reg_covar``, or a
        component lost its responsibility while ``reg_covar == 0``.
    """
    dtype = stats.means.dtype
    nk = stats.nk + 10 * np.finfo(dtype).eps
    weights = nk / nk.sum()
    # means are weighted averages; scale by N_k / (N_k + 10 eps) like sklearn
    means = stats.means * (stats.nk / nk)[:, None]
    model = covariance.get(stats.covariance_type)
    covariances = model.update(nk, stats.scatter, reg_covar).astype(dtype, copy=False)
    lost = lost_responsibility(stats.nk, dtype)
    if lost.size:
        new = [k for k in lost if warned is None or k not in warned]
        if new or reg_covar == 0:
            report_lost_components(new or lost, dtype, reg_covar, model.name)
        if warned is not None:
            warned.update(new)
        means[lost] = 0
        covariances = model.reset(covariances, lost, reg_covar)
    if not (np.all(np.isfinite(means)) and np.all(np.isfinite(covariances))):
        raise ValueError(
            "The M-step produced non-finite parameters: the data or the "
            "responsibilities overflowed. Scale the input data, or pass float64 "
            "data instead of float32."
        )
    precisions_cholesky = model.precisions_cholesky(covariances, reg_covar)
    return weights.astype(dtype), means.astype(dtype), covariances, precisions_cholesky


# --------------------------------------------------------------------------
# The E-step of one block


class BlockEStep:
    """The E-step at fixed parameters, applied one row block at a time.

    Built once per iteration; :meth:`statistics` and :meth:`weighted_log_prob`
    are then called on row blocks, from any number of threads (the object is
    read-only after construction, and its compiled loops release the GIL).

    Every covariance type is evaluated the same way (chapter 7, "One pass
    over a block: the engine"). The rows are taken about a fixed centre,
    :math:`\\mathbf{a}_n = \\mathbf{x}_n - \\mathbf{c}`, and component k's
    whitened residual is one row times one small matrix,
    :math:`\\mathbf{y}_{nk}^{\\mathsf{T}} = [\\mathbf{a}_n^{\\mathsf{T}}, 1] F_k`,
    with :math:`F_k` the Cholesky factor :math:`U_k` of the precision over
    the row :math:`-\\mathbf{b}_k^{\\mathsf{T}} U_k`,
    :math:`\\mathbf{b}_k = \\boldsymbol{μ}_k - \\mathbf{c}`
    (:eq:`eq-stacked-product`; :math:`U_k` is diagonal for 'diag' and
    'spherical', :eq:`eq-diag-product`, and the same for all k for 'tied').
    Its squared norm is the Mahalanobis term of the log-density
    :eq:`eq-stacked-log-density`. The responsibilities, computed in log space
    with a floor (:eq:`eq-floored-responsibility`), then weight the sums
    about the previous means (:eq:`eq-tile-sums`, that is
    :eq:`eq-shifted-stats` with :math:`\\mathbf{c}_k = \\boldsymbol{μ}_k`),
    so the relative rounding error of a covariance grows only like
    ``eps * |x_n - mu_k| / sigma_k``, as in the E-step itself. The loops are
    the two kernels compiled by numba; memory beyond ``X``
    is ``O(block_size * n_components)``.

    Parameters
    ----------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    precisions_cholesky : ndarray
        Upper-triangular Cholesky factors of the precisions, shape by
        covariance_type (see :func:`precisions_cholesky_from_covariances`).
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    centre : ndarray of shape (n_features,), optional
        Rows are shifted by it before anything else; choose it near the data
        (the data mean). Defaults to the weighted mean of ``means``.
    dtype : numpy dtype, optional
        Working precision; defaults to that of ``means``.
    missing : bool, default=False
        Whether the blocks may hold NaN, each a missing entry. Then each block's
        rows with a NaN are set apart and E-stepped on their observed
        coordinates (``_incomplete_sums``, the EM of Ghahramani and Jordan
        1994); its complete rows take the path above, unchanged. False (the
        default) skips the search for NaN, so complete data costs nothing more.

    Notes
    -----
    Missing values, by the precision :math:`Λ_k = U_k U_k^T`. For a row with
    observed coordinates o and missing ones m, the observed-data density
    :math:`N(x_o | μ_{k,o}, Σ_{k,oo})` needs :math:`Σ_{k,oo}`, which the
    factors do not hold. Two identities of the partitioned inverse give it:
    :math:`\\ln|Σ_{oo}| = \\ln|Σ| + \\ln|Λ_{mm}|`, and the quadratic form
    :math:`(x_o - μ_o)^T Σ_{oo}^{-1} (x_o - μ_o)` is the full form
    :math:`(x - μ)^T Λ (x - μ)` minimised over :math:`x_m`, whose minimiser is
    the conditional mean :math:`\\hat{x}_m = μ_m - Λ_{mm}^{-1} Λ_{mo} (x_o -
    μ_o)`. So the row is filled with :math:`\\hat{x}_{k}`, whitened with
    :math:`U_k` as a complete row, and its log-density corrected by
    :math:`-\\tfrac12 \\ln|Λ_{mm}|` and by :math:`|m|` fewer factors
    :math:`(2π)^{-1/2}`. The expected statistics given :math:`x_o` are
    :math:`E[x] = \\hat{x}_k` and :math:`E[(x - b)(x - b)^T] = (\\hat{x}_k -
    b)(\\hat{x}_k - b)^T + \\tilde{C}_k` with :math:`\\tilde{C}_k` zero but for
    the block :math:`Λ_{mm}^{-1}` (the conditional covariance, the Schur
    complement of :math:`Σ_{oo}`): they enter the same sums as complete rows
    do, so every covariance model's M-step applies unchanged. This is
    :func:`gmmlib.em.em_step_observed`, computed from the precision factors
    (the observed-data density from the filled row,
    :eq:`eq-observed-density-filled`);
    one Cholesky factor of :math:`Λ_{mm}` serves every row of a missing
    pattern and component, and is kept for the blocks that follow.

    The rows with a NaN take their own compiled loop
    (``gmmlib._kernels.incomplete_rows``, row by row rather than in tiles):
    a block's are set aside and E-stepped together once a block's worth has
    gathered (and at the end of a thread's share of blocks), so that the
    Python-level work per call (grouping the rows by pattern, stacking the
    patterns' pieces) is paid once for many rows. Memory beyond the complete
    path's: the rows set aside (at most a block's, d numbers each, with
    their mask and pattern) and 2 K d² numbers per pattern.
    """

    def __init__(
        self,
        weights,
        means,
        precisions_cholesky,
        covariance_type,
        centre=None,
        dtype=None,
        missing=False,
    ):
        model = covariance.get(covariance_type)
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
        self.centre = np.ascontiguousarray(centre, dtype)
        self.means = means
        # the previous means relative to the centre: the shift of the scatter
        self.shift = np.ascontiguousarray(means - self.centre)
        K, d = n_components, n_features
        self._diagonal = model.diagonal
        with np.errstate(divide="ignore"):
            log_weights = np.log(weights.astype(np.float64))
        # F_k (eq-stacked-product): U_k over the row -b_k U_k, scaled by
        # sqrt(1/2) so that the squared norms are the -log-density terms
        factors = np.zeros((K, d + 1, d), dtype)
        diagonal_entries = (
            prec_chol if model.diagonal else np.diagonal(prec_chol, axis1=-2, axis2=-1)
        )
        if not np.all(np.isfinite(prec_chol)) or np.any(diagonal_entries <= 0):
            raise ValueError(
                "precisions_cholesky must be finite with a positive diagonal (the "
                "upper-triangular Cholesky factor U of each precision, U @ U.T = "
                "precision, as precisions_cholesky_from_covariances returns); got "
                "a non-finite or non-positive diagonal entry."
            )
        if not model.diagonal and np.any(np.tril(prec_chol, -1) != 0):
            raise ValueError(
                "precisions_cholesky must be upper triangular (U with U @ U.T = "
                "precision, as precisions_cholesky_from_covariances returns); got "
                "a non-zero entry below the diagonal. For a lower factor L with "
                "L @ L.T = precision, pass precisions_cholesky_from_precisions"
                "(precision, covariance_type) instead."
            )
        # one U_k per component in the model's layout (a view for 'tied')
        stacked = model.expand(prec_chol, K, d)
        if model.diagonal:
            log_det = np.log(stacked).sum(axis=1)
            factors[:, np.arange(d), np.arange(d)] = stacked
        else:
            log_det = np.log(np.diagonal(stacked, axis1=1, axis2=2)).sum(axis=1)
            factors[:, :d] = stacked
        factors[:, d] = -np.einsum("kd,kde->ke", self.shift, factors[:, :d])
        factors *= math.sqrt(0.5)
        self._factors = factors
        self._const = (-0.5 * d * math.log(2 * math.pi) + log_det + log_weights).astype(
            dtype
        )
        self._floor = _log_floor(dtype)
        self._tile = _kernels.tile_rows(n_features, n_components)
        self.missing = bool(missing)
        if self.missing:
            # float64 precisions and constants of the observed-data densities
            upper = np.zeros((K, d, d))
            if model.diagonal:
                upper[:, np.arange(d), np.arange(d)] = stacked
            else:
                upper[:] = stacked
            self._upper = upper
            self._precisions = upper @ upper.transpose(0, 2, 1)
            self._const64 = (
                -0.5 * d * math.log(2 * math.pi)
                + log_det.astype(np.float64)
                + log_weights
            )
            self._shift64 = self.shift.astype(np.float64)
            self._means64 = means.astype(np.float64)
            self._patterns = {}  # missing pattern -> its per-component pieces
            self._ones = np.ones(d, dtype)

    # -- pieces -------------------------------------------------------------

    def _rows(self, X_block):
        """The block as the kernels take it: C-ordered, in the working dtype."""
        return np.ascontiguousarray(X_block, dtype=self.dtype)

    def _log_prob(self, rows, normalise, out, top):
        """The first kernel on C-ordered ``rows``: log-densities into ``out``
        (K, n); with ``normalise``, the row maxima into ``top`` and the
        floored differences to them into ``out``."""
        _kernels.log_prob_tiles(
            rows,
            self.centre,
            self._factors,
            self._diagonal,
            self._const,
            self._floor,
            normalise,
            out,
            top,
            self._tile,
        )

    def _workspace(self, n_rows):
        """Buffers for blocks of up to ``n_rows`` rows, reused block after block."""
        return {
            "log_prob": np.empty((self.n_components, n_rows), self.dtype),
            "top": np.empty(n_rows, self.dtype),
            "total": np.empty(n_rows, self.dtype),
            # rows with NaN set aside, E-stepped together (_flush_incomplete)
            "incomplete": [],
        }

    # -- rows with missing entries (NaN) ------------------------------------

    def _pattern(self, missing_row):
        """Per component, the pieces of one missing pattern (cached).

        For the missing coordinates m of ``missing_row`` (a boolean row, True
        where missing) and each component k, from :math:`Λ_{mm}` (positive
        definite, a principal block of a positive definite :math:`Λ_k`; its
        Cholesky factor gives the log-determinant, NumPy's batched inverse
        the inverse, for all components in one call each):
        :math:`\\tilde{C}_k`, the d×d matrix that is
        :math:`Λ_{mm}^{-1}` on the block m×m and zero elsewhere; the map
        :math:`M_k = I - \\tilde{C}_k Λ_k`, which takes the residual
        :math:`a` with :math:`a_o = x_o - μ_{k,o}`, :math:`a_m = 0` to
        :math:`\\hat{x}_k - μ_k` (its rows o are those of I, its rows m
        give :math:`-Λ_{mm}^{-1} Λ_{mo} a_o`); and the log-density's
        correction :math:`\\tfrac12 \\ln|Λ_{mm}| - \\tfrac{|m|}{2} \\ln 2π`.
        A pattern that misses nothing (a finite row whose sum overflowed)
        gets :math:`\\tilde{C} = 0`, M = I and no correction: a complete row.
        See the class's Notes.

        Returns
        -------
        conditionals, maps : ndarray of shape (n_components, d, d)
        corrections : ndarray of shape (n_components,)
        """
        key = missing_row.tobytes()
        pieces = self._patterns.get(key)
        if pieces is not None:
            return pieces
        K, d = self.n_components, self.n_features
        m = np.flatnonzero(missing_row)
        conditionals = np.zeros((K, d, d))
        corrections = np.zeros(K)
        if m.size:
            # Λ_mm of every component at once; Λ_mm = L L^T, ln|Λ_mm| = 2 Σ ln L_ii
            blocks = self._precisions[:, m[:, None], m[None, :]]
            lower = np.linalg.cholesky(blocks)
            inverse = np.linalg.inv(blocks)
            conditionals[:, m[:, None], m[None, :]] = 0.5 * (
                inverse + inverse.transpose(0, 2, 1)
            )
            corrections = np.log(np.diagonal(lower, axis1=1, axis2=2)).sum(axis=1)
            corrections -= 0.5 * m.size * math.log(2 * math.pi)
        maps = np.eye(d) - conditionals @ self._precisions
        pieces = (conditionals, maps, corrections)
        self._patterns[key] = pieces
        return pieces

    def _row_patterns(self, missing):
        """Each row's missing pattern among the distinct ones, and those
        patterns' pieces (:meth:`_pattern`) stacked: ``inverse`` (n,),
        ``conditionals`` and ``maps`` (n_patterns, K, d, d), ``corrections``
        (n_patterns, K)."""
        if self.n_features <= 62:
            # one integer per row, its bits the missing coordinates
            keys = missing @ (np.int64(1) << np.arange(self.n_features, dtype=np.int64))
        else:
            packed = np.ascontiguousarray(np.packbits(missing, axis=1))
            keys = packed.view(np.dtype((np.void, packed.shape[1])))[:, 0]
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        pieces = [self._pattern(missing[i]) for i in first]
        return (
            np.ascontiguousarray(inverse.reshape(-1), np.intp),
            np.stack([p[0] for p in pieces]),
            np.stack([p[1] for p in pieces]),
            np.stack([p[2] for p in pieces]),
        )

    def _incomplete_terms(self, rows, missing):
        """Observed-data log-densities and residuals of rows with NaN.

        :math:`\\ln π_k + \\ln N(x_{n,o} | μ_{k,o}, Σ_{k,oo})` (K, n), the
        term of :func:`gmmlib.em.observed_log_likelihood`, from the row filled
        with its conditional mean and whitened by :math:`U_k`
        (:eq:`eq-observed-density-filled`); the residuals
        :math:`\\hat{x}_{nk} - μ_k` (K, n, d); and each row's pattern among
        the block's, with those patterns' conditional covariances
        :math:`\\tilde{C}` (n_patterns, K, d, d). In float64.
        """
        inverse, conditionals, maps, corrections = self._row_patterns(missing)
        K, n = self.n_components, rows.shape[0]
        log_prob = np.empty((K, n))
        residuals = np.empty((K, n, self.n_features))
        for k in range(K):
            a = rows - self._means64[k]
            a[missing] = 0.0
            # x̂_nk - μ_k = M_k a_n, M_k of row n's pattern
            r = np.einsum("nij,nj->ni", maps[inverse, k], a, out=residuals[k])
            whitened = r @ self._upper[k]
            log_prob[k] = (
                self._const64[k]
                - corrections[inverse, k]
                - 0.5 * np.einsum("ij,ij->i", whitened, whitened)
            )
        return log_prob, residuals, inverse, conditionals

    def _incomplete_chunks(self, n_rows):
        """Row ranges that bound the per-row d×d maps to about 1 MiB."""
        step = max(64, 2**17 // (self.n_features * self.n_features))
        return _block_ranges(n_rows, step)

    def _incomplete_sums(self, rows, missing, sums, sample_weight=None):
        """Add the sums of rows with missing entries to ``sums``; their
        log-likelihood.

        As :meth:`_shifted_sums`, with each row's expected statistics given
        its observed entries: :math:`γ_{nk}` the observed-data
        responsibility (:func:`gmmlib.em.observed_responsibilities`),
        :math:`\\hat{x}_{nk} - μ_k` in place of :math:`a_n - b_k`, and
        :math:`\\tilde{C}_k` added to the scatter once per pattern, weighted
        by the pattern's :math:`\\sum_n γ_{nk}` (only its diagonal for the
        diagonal models). The rows are walked by one compiled loop
        (``gmmlib._kernels.incomplete_rows``).
        """
        nk, moved, scatter = sums
        rows = np.ascontiguousarray(rows, np.float64)
        inverse, conditionals, maps, corrections = self._row_patterns(missing)
        pattern_nk = np.zeros((len(conditionals), self.n_components))
        log_norm = np.empty(rows.shape[0])
        weights = (
            np.empty(0)
            if sample_weight is None
            else np.ascontiguousarray(sample_weight, np.float64)
        )
        _kernels.incomplete_rows(
            rows,
            inverse,
            self._means64,
            maps,
            self._upper,
            self._const64,
            corrections,
            _log_floor(np.float64),
            self._diagonal,
            weights,
            log_norm,
            nk,
            moved,
            scatter,
            pattern_nk,
        )
        # Σ_n γ_nk C̃_nk = Σ_p (Σ_{n in p} γ_nk) C̃_pk
        expected = np.einsum("pk,pkij->kij", pattern_nk, conditionals)
        if self._diagonal:
            scatter[:, :, 0] += np.diagonal(expected, axis1=1, axis2=2)
        else:
            scatter += expected
        if sample_weight is None:
            return float(log_norm.sum())
        return float(np.dot(weights, log_norm))

    def _flush_incomplete(self, workspace, sums):
        """E-step the rows with NaN set aside in ``workspace`` (by several
        blocks, so that their Python-level cost is paid once for many rows),
        add their sums to ``sums``, and return their log-likelihood."""
        parts = workspace["incomplete"]
        if not parts:
            return 0.0
        workspace["incomplete"] = []
        rows = np.concatenate([part[0] for part in parts])
        missing = np.concatenate([part[1] for part in parts])
        weights = None
        if parts[0][2] is not None:
            weights = np.concatenate([part[2] for part in parts])
        return self._incomplete_sums(rows, missing, sums, weights)

    def _split_missing(self, rows):
        """The mask of NaN in the rows that have one, and those rows' indices
        (None when ``missing`` is off or the block is complete)."""
        if not self.missing:
            return None, None
        # a NaN makes the row's sum NaN: one product finds the candidates
        with np.errstate(all="ignore"):
            candidates = np.flatnonzero(np.isnan(rows @ self._ones))
        if candidates.size == 0:
            return None, None
        # a row of finite values whose sum overflowed to inf - inf is taken
        # too: its pattern misses nothing, and it is E-stepped exactly
        return np.isnan(rows.take(candidates, axis=0)), candidates

    def weighted_log_prob(self, X_block):
        """:math:`\\ln π_k + \\ln N(x_n | μ_k, Σ_k)` for each row and component.

        See :eq:`eq-gaussian`, evaluated as :eq:`eq-stacked-log-density`.

        Parameters
        ----------
        X_block : ndarray of shape (n_rows, n_features)

        Returns
        -------
        ndarray of shape (n_rows, n_components)
        """
        rows = self._rows(X_block)
        out = np.empty((self.n_components, rows.shape[0]), self.dtype)
        missing, incomplete = self._split_missing(rows)
        if incomplete is None:
            self._log_prob(rows, False, out, out[0])
            return out.T
        complete = _other_rows(rows.shape[0], incomplete)
        if complete.size:
            part = np.empty((self.n_components, complete.size), self.dtype)
            self._log_prob(rows.take(complete, axis=0), False, part, part[0])
            out[:, complete] = part
        incomplete_rows = np.asarray(rows.take(incomplete, axis=0), np.float64)
        for start, stop in self._incomplete_chunks(incomplete.size):
            out[:, incomplete[start:stop]] = self._incomplete_terms(
                incomplete_rows[start:stop], missing[start:stop]
            )[0]
        return out.T

    def _shifted_sums(self, X_block, workspace, sums, sample_weight=None):
        """Add one block's sums about the shifts to ``sums``; its log-likelihood.

        ``sums`` holds float64 accumulators ``(nk, moved, scatter)``:
        :math:`N_k`, :math:`\\sum_n γ_{nk} (a_n - b_k)` and the lower triangle
        (the diagonal for 'diag' and 'spherical') of
        :math:`\\sum_n γ_{nk} (a_n - b_k)(a_n - b_k)^T`, where ``a = x -
        centre``. With ``sample_weight`` (shape (n,)) every γ here is
        :math:`w_n γ_{nk}` and the log-likelihood is
        :math:`\\sum_n w_n \\ln p(x_n)`.
        """
        rows = self._rows(X_block)
        missing, incomplete = self._split_missing(rows)
        if incomplete is not None:
            # rows with NaN by their observed entries, the others as always
            weights = None if sample_weight is None else sample_weight[incomplete]
            workspace["incomplete"].append(
                (rows.take(incomplete, axis=0), missing, weights)
            )
            log_likelihood = 0.0
            if sum(len(part[0]) for part in workspace["incomplete"]) >= len(
                workspace["top"]
            ):
                log_likelihood = self._flush_incomplete(workspace, sums)
            if incomplete.size == rows.shape[0]:
                return log_likelihood
            complete = _other_rows(rows.shape[0], incomplete)
            if sample_weight is not None:
                sample_weight = np.asarray(sample_weight).take(complete)
            return log_likelihood + self._shifted_sums(
                rows.take(complete, axis=0), workspace, sums, sample_weight
            )
        n = rows.shape[0]
        log_prob = workspace["log_prob"][:, :n]
        top, total = workspace["top"][:n], workspace["total"][:n]
        self._log_prob(rows, True, log_prob, top)
        # NumPy's vectorised exponential (numba's is a scalar call per number)
        np.exp(log_prob, out=log_prob)
        if sample_weight is None:
            weights = np.empty(0, self.dtype)
        else:
            # the one place the sample weights enter: γ_nk -> w_n γ_nk
            # (eq-weighted-nk); every sum then carries w_n
            weights = np.ascontiguousarray(sample_weight, self.dtype)
        _kernels.accumulate_tiles(
            rows,
            self.centre,
            self.shift,
            self._diagonal,
            log_prob,
            weights,
            total,
            *sums,
            self._tile,
        )
        # ln p(x_n) = m_n + ln sum_k e_nk (eq-log-likelihood), summed in float64
        log_total = np.log(total, out=total)
        if sample_weight is None:
            return float(top.sum(dtype=np.float64)) + float(
                log_total.sum(dtype=np.float64)
            )
        w = np.asarray(sample_weight, np.float64)
        return float(np.dot(w, top)) + float(np.dot(w, log_total))

    def _finish(self, n_samples, sums, log_likelihood, total_weight=None):
        """Centred statistics from the accumulated sums about the shifts."""
        nk, moved, scatter = sums
        if self._diagonal:
            scatter = scatter[:, :, 0]
        else:
            # the kernel fills the lower triangle
            scatter = np.tril(scatter) + np.tril(scatter, -1).transpose(0, 2, 1)
        stats = _centred(
            self.covariance_type,
            n_samples,
            nk,
            self.means.astype(np.float64),
            moved,
            scatter,
            log_likelihood,
            total_weight,
        )
        return SufficientStatistics(
            stats.covariance_type,
            stats.n_samples,
            stats.nk.astype(self.dtype),
            stats.means.astype(self.dtype),
            stats.scatter.astype(self.dtype),
            stats.log_likelihood,
            stats.total_weight,
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
        K, d = self.n_components, self.n_features
        sums = (
            np.zeros(K),
            np.zeros((K, d)),
            np.zeros((K, d, 1) if self._diagonal else (K, d, d)),
        )
        log_likelihood = 0.0
        total_weight = None
        workspace = self._workspace(max(stop - start for start, stop in ranges))
        for start, stop in ranges:
            weights = None if sample_weight is None else sample_weight[start:stop]
            log_likelihood += self._shifted_sums(
                X[start:stop], workspace, sums, weights
            )
            if weights is not None:
                total_weight = (total_weight or 0.0) + float(
                    weights.sum(dtype=np.float64)
                )
        log_likelihood += self._flush_incomplete(workspace, sums)
        n_samples = sum(stop - start for start, stop in ranges)
        return self._finish(n_samples, sums, log_likelihood, total_weight)


def _other_rows(n_rows, rows):
    """The indices of ``range(n_rows)`` not in ``rows`` (for ``take``, which
    copies rows many times faster than a boolean mask or ``np.delete``)."""
    keep = np.ones(n_rows, bool)
    keep[rows] = False
    return np.flatnonzero(keep)


def _log_floor(dtype):
    """ln of the floor under the responsibilities' numerators: tiny / eps.

    Below it (1e-31 in float32, 1e-292 in float64) exp and the products with
    the residuals give subnormal numbers, which are ten times slower; the floor
    moves each responsibility by at most K tiny / eps (chapter 7, "The
    responsibilities, with a floor").
    """
    info = np.finfo(dtype)
    return math.log(info.tiny / info.eps)


def _responsibilities_t(log_prob_t):
    """Transposed responsibilities (in place) and per-row log-likelihood.

    Works on the (n_components, n) layout, where the reductions over
    components run along contiguous rows.
    """
    top = log_prob_t.max(axis=0)
    log_prob_t -= top
    np.maximum(log_prob_t, _log_floor(log_prob_t.dtype), out=log_prob_t)
    np.exp(log_prob_t, out=log_prob_t)
    total = log_prob_t.sum(axis=0)
    log_prob_t /= total
    return log_prob_t, top + np.log(total)


def normalise_log_prob(weighted_log_prob):
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
    """Rows per block: the block and its buffers take about 1 MiB.

    A block's row needs its d numbers and K + 2 numbers of buffers (the
    exponents of the responsibilities, the row's maximum and its sum). The
    compiled kernels read the block twice and its buffers three times (the
    exponential between them is NumPy's), so a block that stays in the
    core's second-level cache (1 MiB here) is mostly read from it, not from
    memory. Each block costs a few Python-level calls, and with threads every
    call takes the GIL: blocks of several thousand rows keep that cost small
    (measured on 2 cores, N = 1e6, d = 2, K = 3: 8 192 rows 12.0 ms per pass,
    16 384 to 65 536 rows 10.0 to 10.5 ms). Given ``n_samples`` and more
    than one thread, blocks are also cut to at least 8 per thread, so the
    threads' shares stay even.

    Parameters
    ----------
    n_components, n_features : int
    itemsize : int
        Bytes per number (8 for float64, 4 for float32).
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
        Accepted for compatibility; the buffers do not depend on it.
    n_samples : int, optional
    n_threads : int

    Returns
    -------
    int
    """
    per_row = n_components + n_features + 2
    rows = min(32768, max(256, 2**20 // (itemsize * per_row)))
    if n_samples is not None and n_threads > 1:
        rows = min(rows, max(256, -(-n_samples // (8 * n_threads))))
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
        Threads that process disjoint ranges of blocks, from pools shared by
        all passes (made once per size).
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
    parts = list(
        _threads.executor(len(chunks)).map(
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
    pool = _threads.executor(len(chunks))
    return np.concatenate([part for parts in pool.map(work, chunks) for part in parts])
