"""EM on Dask arrays: one iteration is a tree reduction of block statistics.

``gmmlib.GaussianMixture`` hands a ``dask.array.Array`` to this module.
Each EM iteration maps every row block of ``X`` to its
``gmmlib.suffstats.SufficientStatistics`` at the current parameters
(``gmmlib.suffstats.BlockEStep.statistics``, the same code as the
in-memory fit) and merges them with ``gmmlib.suffstats.SufficientStatistics.merge``
in a tree built by ``dask.array.reduction``. Only the merged statistics,
``O(n_components * n_features**2)`` numbers, reach the driver, which does the
M-step. No ``(n_samples, n_components)`` array of responsibilities exists at
any time; ``predict_proba`` returns one lazily, block by block.

The computation runs on whatever scheduler Dask would use: the threaded
default, or a ``distributed.Client`` if one has been created (Dask makes the
most recent client the default). Nothing here imports dask until a dask array
is seen, so gmmlib works without dask installed.
"""

from __future__ import annotations

import math
import sys
from functools import partial

import numpy as np

from . import suffstats

#: Rows drawn (without replacement, seeded by ``random_state``) to initialise
#: a fit on a Dask array; the estimator's in-memory initialisation runs on them.
INIT_SAMPLE_SIZE = 20_000


def is_dask_array(X):
    """Whether ``X`` is a ``dask.array.Array``, without importing dask.

    If dask has not been imported, no object can be a dask array.

    Parameters
    ----------
    X : object

    Returns
    -------
    bool
    """
    dask_array = sys.modules.get("dask.array")
    return dask_array is not None and isinstance(X, dask_array.Array)


def validate(estimator, X, reset, ensure_min_samples=1):
    """Validate a Dask array for EM and chunk it by rows only.

    The counterpart of scikit-learn's ``validate_data`` for Dask arrays: it
    checks what it can without reading the data (shape, chunks, dtype, number
    of features) and leaves the values to be checked block by block when the
    blocks are computed.

    Parameters
    ----------
    estimator : gmmlib.GaussianMixture
        Gets ``n_features_in_`` when ``reset`` is true.
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked by rows. If it is also chunked along columns it is rechunked
        to one column chunk (each block must hold whole rows). Integer and
        boolean arrays become float64; float32 stays float32.
    reset : bool
        True in ``fit``; False at predict time, where the number of features
        must match the fitted one.
    ensure_min_samples : int
        Fewest rows accepted.

    Returns
    -------
    dask.array.Array of shape (n_samples, n_features)

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, has unknown chunk sizes, too few rows, a
        non-numeric dtype, or another number of features than in ``fit``.
    """
    from sklearn.utils.validation import _check_feature_names, _check_n_features

    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D dask array of shape (n_samples, n_features), got "
            f"ndim={X.ndim} with shape {X.shape}. Reshape it, e.g. "
            "X.reshape(-1, 1) for a single feature."
        )
    if any(math.isnan(size) for chunks in X.chunks for size in chunks):
        raise ValueError(
            "The dask array has unknown chunk sizes (NaN in X.chunks). Call "
            "X.compute_chunk_sizes() first, or build it with known chunks."
        )
    if X.shape[0] < ensure_min_samples:
        raise ValueError(
            f"Found a dask array with {X.shape[0]} sample(s) (shape={X.shape}) "
            f"while a minimum of {ensure_min_samples} is required."
        )
    if X.dtype.kind not in "fiub":
        raise ValueError(
            f"Expected a dask array of numbers, got dtype {X.dtype}. Convert it "
            "with X.astype(float)."
        )
    _check_feature_names(estimator, X, reset=reset)
    _check_n_features(estimator, X, reset=reset)
    if X.dtype.kind != "f" or X.dtype.itemsize < 4:
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def validate_sample_weight(sample_weight, X):
    """Sample weights for a Dask ``X``: a 1-D Dask array chunked like X's rows.

    Checks what it can without reading the weights (shape, dtype); their
    values are checked block by block when the blocks are computed
    (:func:`check_weights_block`), and their sum by :func:`column_mean`.

    Parameters
    ----------
    sample_weight : dask.array.Array or array-like of shape (n_samples,)
        A NumPy array or list is wrapped into a Dask array; a Dask array
        chunked otherwise is rechunked to X's row chunks.
    X : dask.array.Array of shape (n_samples, n_features)

    Returns
    -------
    dask.array.Array of shape (n_samples,), float64, chunks ``X.chunks[0]``

    Raises
    ------
    ValueError
        If the shape is not (n_samples,) or the dtype is not numeric.
    """
    import dask.array as da

    if not is_dask_array(sample_weight):
        sample_weight = np.asarray(sample_weight)
        if sample_weight.ndim == 0:
            sample_weight = np.full(X.shape[0], sample_weight, dtype=np.float64)
        sample_weight = da.from_array(sample_weight, chunks=X.chunks[0])
    if sample_weight.shape != (X.shape[0],):
        raise ValueError(
            f"sample_weight must have shape (n_samples,) = ({X.shape[0]},), got "
            f"{sample_weight.shape}: pass one non-negative weight per row of X."
        )
    if sample_weight.dtype.kind not in "fiub":
        raise ValueError(
            f"sample_weight must hold numbers, got dtype {sample_weight.dtype}."
        )
    sample_weight = sample_weight.astype(np.float64)
    if sample_weight.chunks[0] != X.chunks[0]:
        sample_weight = sample_weight.rechunk((X.chunks[0],))
    return sample_weight


#: What the error for a non-finite value of ``X`` suggests, as code that runs
#: as written on a Dask ``X`` (and its ``sample_weight``, if any): the mask
#: leaves the row counts of the blocks unknown, and ``compute_chunk_sizes``
#: finds them, which ``fit`` needs (``validate``).
DROP_NON_FINITE_ROWS = (
    "keep = da.isfinite(X).all(axis=1); X = X[keep].compute_chunk_sizes()"
)


def _first_row(block_info):
    """The row of the array at which a block given to ``map_blocks`` starts."""
    if not block_info:
        return 0  # dask's probe call, on an empty array
    return block_info[0]["array-location"][0][0]


def _rows_named(rows):
    """Which rows of X ``rows`` (a range of one block, or an index array) are."""
    if isinstance(rows, range):
        return f"rows {rows.start} to {rows.stop - 1} of X, one Dask block"
    return f"the {len(rows)} rows of X sampled to initialise the fit"


def check_weights_block(weights, rows):
    """Raise a ValueError naming ``sample_weight`` if a block of weights is bad.

    Parameters
    ----------
    weights : ndarray of shape (n_rows,)
    rows : range or ndarray of int, of length n_rows
        The row of X (the index in ``sample_weight``) of each weight; the
        message names the bad weight by it, as in memory.
    """
    from ._validation import check_sample_weight_values

    check_sample_weight_values(weights, where=f" ({_rows_named(rows)})", rows=rows)


def _check_finite(block, rows):
    """Raise a ValueError naming the first NaN or infinity of a row block.

    Parameters
    ----------
    block : ndarray of shape (n_rows, n_features)
    rows : range or ndarray of int, of length n_rows
        The row of X of each row of ``block``; the message names the value
        by its place in X, ``X[row, column]``.
    """
    with np.errstate(all="ignore"):
        total = block.sum()
    if np.isfinite(total):
        return  # finite values only (a finite sum cannot hide a NaN or inf)
    bad = ~np.isfinite(block)
    if not bad.any():
        return  # the sum overflowed, the values are finite
    row, col = np.argwhere(bad)[0]
    value = block[row, col]
    in_memory = (
        "GaussianMixture fits missing values (NaN) only in a NumPy X: for data "
        "that fits in memory, pass X.compute(). Otherwise remove"
        if np.isnan(block[bad]).any()
        else "Remove"
    )
    raise ValueError(
        f"Input X contains {'NaN' if np.isnan(value) else value} at "
        f"X[{int(rows[row])}, {int(col)}]; {int(bad.sum())} non-finite value(s) "
        f"in {_rows_named(rows)}. {in_memory} or impute missing values before "
        f"fitting; to drop the rows that hold them: `{DROP_NON_FINITE_ROWS}` "
        "(and the same rows of sample_weight, if you pass it: "
        "`sample_weight = sample_weight[keep].compute_chunk_sizes()`)."
    )


def _checked(block, block_info=None):
    """A row block of X, after :func:`_check_finite` (for ``map_blocks``)."""
    start = _first_row(block_info)
    _check_finite(block, range(start, start + block.shape[0]))
    return block


def checked_weights(block, block_info=None):
    """A block of sample weights, after :func:`check_weights_block`.

    For ``map_blocks`` over ``sample_weight``: ``block_info`` gives the
    block's place, so a bad weight is named by its index in ``sample_weight``.
    """
    start = _first_row(block_info)
    check_weights_block(block, range(start, start + block.shape[0]))
    return block


def checked(X):
    """``X`` with every block checked for NaN and infinity when it is computed.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked by rows (one column chunk).

    Returns
    -------
    dask.array.Array
        The same values; computing a block raises ValueError naming the first
        non-finite value by its place in ``X``, ``X[row, column]``.
    """
    from dask.base import tokenize

    name = f"gmm-check-finite-{tokenize(X.name)}"
    return X.map_blocks(_checked, dtype=X.dtype, name=name)


def checked_sample_weight(sample_weight):
    """``sample_weight`` with every block checked when it is computed.

    Parameters
    ----------
    sample_weight : dask.array.Array of shape (n_samples,)
        Chunked like X's rows (``validate_sample_weight``).

    Returns
    -------
    dask.array.Array
        The same values; computing a block raises ValueError naming the first
        bad weight (not finite, or negative) by its index in ``sample_weight``.
    """
    from dask.base import tokenize

    name = f"gmm-check-weights-{tokenize(sample_weight.name)}"
    return sample_weight.map_blocks(
        checked_weights, dtype=sample_weight.dtype, name=name
    )


def _flatten(parts):
    """The leaves of the (possibly nested) lists a dask reduction passes on."""
    if isinstance(parts, list):
        for part in parts:
            yield from _flatten(part)
    else:
        yield parts


def _block_statistics(block, axis=None, keepdims=None, *, estep, weighted=False):
    """The ``chunk`` step: one row block to its sufficient statistics.

    ``weighted``: the block's last column holds the rows' sample weights
    (float64), the others the rows, exactly, in a wider dtype. The values
    were checked by the layers ``statistics_graph`` puts before this one,
    which know where the block lies in X.
    """
    if block.shape[-1] != estep.n_features + weighted:
        # Dask infers the output type from a call on a 0x0 array
        return np.empty((0, 0), dtype=object)
    if block.shape[0] == 0:
        return suffstats.SufficientStatistics.empty(
            estep.n_components, estep.n_features, estep.covariance_type, estep.dtype
        )
    sample_weight = None
    if weighted:
        sample_weight = np.ascontiguousarray(block[:, -1])
        block = block[:, :-1].astype(estep.dtype)
    # cache-sized sub-blocks, as in memory: temporaries stay O(block * K * d)
    return suffstats.accumulate_statistics(block, estep, sample_weight=sample_weight)


def _merge_statistics(parts, axis=None, keepdims=None):
    """The ``combine``/``aggregate`` step: merge, in order, left to right."""
    parts = list(_flatten(parts))
    total = parts[0]
    for part in parts[1:]:
        total = total.merge(part)
    return total


def statistics_graph(X, estep, split_every=None, sample_weight=None):
    """The lazy tree reduction of the block statistics of ``X``.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Validated by ``validate`` (one column chunk).
    estep : gmmlib.suffstats.BlockEStep
        The E-step at the current parameters.
    split_every : int, optional
        Fan-in of the tree: each merge task takes at most this many inputs.
        Default: Dask's (``dask.config`` key ``split_every``, else 4).
    sample_weight : dask.array.Array of shape (n_samples,), optional
        Validated by ``validate_sample_weight`` (chunked like X's rows); it
        travels with the rows as one more column of each block.

    Every block of ``X`` and of ``sample_weight`` is checked (``checked``,
    ``checked_weights``) before its statistics are formed, so a NaN, an
    infinity or a bad weight is named by its row in X when it is computed.

    Returns
    -------
    dask.array.Array of shape (1, n_features), dtype object
        Its single block is the merged
        ``gmmlib.suffstats.SufficientStatistics`` (not an ndarray: get it
        with ``accumulate_statistics``). Exposed so the task graph can be
        inspected, e.g. ``statistics_graph(X, estep).dask.layers``.
    """
    import dask.array as da

    X = checked(X)
    weighted = sample_weight is not None
    if weighted:
        sample_weight = checked_sample_weight(sample_weight)
        wide = np.promote_types(X.dtype, np.float64)
        X = da.concatenate([X.astype(wide), sample_weight[:, None]], axis=1)
        X = X.rechunk({1: -1})
    return da.reduction(
        X,
        chunk=partial(_block_statistics, estep=estep, weighted=weighted),
        combine=_merge_statistics,
        aggregate=_merge_statistics,
        axis=0,
        keepdims=True,
        concatenate=False,
        dtype=object,
        split_every=split_every,
        meta=np.empty((0, 0), dtype=object),
        name="gmm-statistics",
    )


def accumulate_statistics(X, estep, split_every=None, sample_weight=None):
    """Merged sufficient statistics of all rows of a Dask array.

    The Dask counterpart of ``gmmlib.suffstats.accumulate_statistics``:
    every block's statistics are computed where the block lives and merged
    pairwise up a tree (the merge of :eq:`eq-merge`, applied to statistics
    formed about a shift as in :eq:`eq-shifted-stats`); only the result is
    returned to this process.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Validated by ``validate`` (one column chunk).
    estep : gmmlib.suffstats.BlockEStep
        The E-step at the current parameters.
    split_every : int, optional
        Fan-in of the reduction tree (see ``statistics_graph``).
    sample_weight : dask.array.Array of shape (n_samples,), optional
        Row weights chunked like X's rows (:eq:`eq-weighted-nk`).

    Returns
    -------
    gmmlib.suffstats.SufficientStatistics

    Raises
    ------
    ValueError
        If a block contains NaN or infinity (raised when that block is
        computed, naming the value's row and column in X), or a bad sample
        weight (named by its index).
    """
    graph = statistics_graph(X, estep, split_every, sample_weight)
    (result,) = graph.to_delayed().ravel()
    return result.compute()


def sample_rows(X, random_state, n_rows=None, sample_weight=None):
    """A seeded random sample of rows of a Dask array, as a NumPy array.

    Used to initialise a fit on a Dask array: the estimator's in-memory
    initialisation (``init_params``: k-means, k-means++ or random, as in
    memory) runs on this sample, not k-means|| over all rows. Drawing it reads
    every block once (Dask loads a block to take rows from it).

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    random_state : numpy.random.RandomState
        Source of the row indices (not drawn from when all rows are taken).
    n_rows : int, optional
        Rows to draw without replacement (all rows if fewer); default
        ``INIT_SAMPLE_SIZE``.
    sample_weight : dask.array.Array of shape (n_samples,), optional
        The rows' weights; the same rows of it are drawn (rows are drawn
        uniformly and keep their weights, so the weighted sample stands for
        the weighted data).

    Returns
    -------
    sample : ndarray of shape (min(n_rows, n_samples), n_features)
        The rows in their order in ``X``.
    weights : ndarray of shape (min(n_rows, n_samples),) or None
        Their sample weights (None without ``sample_weight``).

    Raises
    ------
    ValueError
        If the sample contains NaN or infinity, or a bad weight.
    """
    import dask

    n_samples = X.shape[0]
    n_rows = INIT_SAMPLE_SIZE if n_rows is None else n_rows
    rows = slice(None)
    if n_rows < n_samples:
        rows = np.sort(random_state.choice(n_samples, size=n_rows, replace=False))
    if sample_weight is None:
        sample, weights = X[rows].compute(), None
    else:
        sample, weights = dask.compute(X[rows], sample_weight[rows])
        weights = np.asarray(weights, dtype=np.float64)
    drawn = np.arange(n_samples) if isinstance(rows, slice) else rows
    if weights is not None:
        check_weights_block(weights, drawn)
    _check_finite(sample, drawn)
    return np.asarray(sample), weights


def column_mean(X, sample_weight=None):
    """(Weighted) column means of a Dask array, in float64, checking every block.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    sample_weight : dask.array.Array of shape (n_samples,), optional
        Chunked like X's rows (``validate_sample_weight``).

    Returns
    -------
    ndarray of shape (n_features,), float64

    Raises
    ------
    ValueError
        If a block contains NaN or infinity, a weight is negative or not
        finite, or the weights sum to zero.
    """
    import dask

    rows = checked(X)
    if sample_weight is None:
        return np.asarray(rows.mean(axis=0, dtype=np.float64).compute())
    weights = checked_sample_weight(sample_weight)
    moment, total = dask.compute(
        (rows * weights[:, None]).sum(axis=0, dtype=np.float64), weights.sum()
    )
    from ._validation import check_sample_weight_total

    check_sample_weight_total(float(total))
    return np.asarray(moment) / float(total)


def _apply(block, estep, func, block_info=None):
    start = _first_row(block_info)
    _check_finite(block, range(start, start + block.shape[0]))
    return suffstats.map_blocks(block, estep, func)


def map_blocks(X, estep, func):
    """Apply ``func(estep, X_block)`` to every row block, lazily.

    The counterpart of ``gmmlib.suffstats.map_blocks`` for Dask arrays:
    nothing is computed until the result is.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Validated by ``validate`` (one column chunk).
    estep : gmmlib.suffstats.BlockEStep
    func : callable
        ``func(estep, block)`` returns an array with one row per row of
        ``block``: shape (n_rows,) or (n_rows, m).

    Returns
    -------
    dask.array.Array of shape (n_samples,) or (n_samples, m)
        Chunked by rows like ``X``. Computing a block raises ValueError if
        that block of ``X`` contains NaN or infinity, naming the value's row
        and column in ``X``.
    """
    probe = np.asarray(func(estep, np.zeros((1, X.shape[1]), X.dtype)))
    apply = partial(_apply, estep=estep, func=func)
    # A whole, unique name: `token=` (a prefix) warns as deprecated in the dask
    # releases of 2021-2025 that pyproject.toml allows, and `name=` is used
    # as given in every one of them.
    from dask.base import tokenize

    prefix = "gmm-" + func.__name__.strip("_")
    name = f"{prefix}-{tokenize(X.name, estep, prefix)}"
    kwargs = {"dtype": probe.dtype, "name": name}
    if probe.ndim == 1:
        return X.map_blocks(apply, drop_axis=1, **kwargs)
    return X.map_blocks(apply, chunks=(X.chunks[0], probe.shape[1:]), **kwargs)
