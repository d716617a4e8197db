"""Where the rows live: the one seam between the EM loop and its data.

``gmmlib.GaussianMixture`` chooses a backend once per call, from the type of
``X`` (:func:`select`), and then asks it for the handful of operations the EM
loop, the initialisation and ``partial_fit`` need; none of them looks at the
type of ``X`` again. Two backends offer the same methods:

- :class:`InMemory`: a NumPy array, processed in row blocks on threads
  (``gmmlib.suffstats``);
- :class:`OnDask`: a ``dask.array.Array`` chunked by rows, whose blocks are
  reduced to their statistics where they live (``gmmlib._dask``).

Sample weights travel through the same seam: each backend validates them
against its ``X`` and hands them, block by block, to
``gmmlib.suffstats.BlockEStep``, the one place they enter the sums.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import validate_data

from . import _dask, suffstats
from ._validation import check_missing_values, check_sample_weight


class InMemory:
    """Row blocks of a NumPy array, on ``n_threads`` threads.

    Parameters
    ----------
    n_threads : int
        Threads that process disjoint ranges of row blocks (the shared pools
        of ``gmmlib._threads``; the estimator holds the BLAS at one thread
        meanwhile, ``gmmlib._threads.one_blas_thread``).
    """

    def __init__(self, n_threads=1):
        self.n_threads = n_threads

    def with_threads(self, n_threads):
        """The same backend on ``n_threads`` threads."""
        return type(self)(n_threads)

    def validate(self, estimator, X, reset, ensure_min_samples=1):
        """scikit-learn's ``validate_data``: float64 or float32, 2-D.

        NaN and ±inf pass here; :meth:`missing_values` checks them.
        """
        try:
            return validate_data(
                estimator,
                X,
                reset=reset,
                dtype=[np.float64, np.float32],
                ensure_min_samples=ensure_min_samples,
                ensure_all_finite=False,
            )
        except ValueError as exc:
            if not str(exc).startswith("Complex data not supported"):
                raise
            # scikit-learn's message goes on to print the whole array
            raise ValueError(
                f"Complex data not supported: X has dtype {np.asarray(X).dtype}, "
                "and a Gaussian mixture is fitted to real data. Pass X.real, or "
                "the real and imaginary parts as features: "
                "np.hstack([X.real, X.imag])."
            ) from None

    def missing_values(self, X, fitting):
        """Whether X has missing entries (NaN), after refusing ±inf, a row with
        no observed value, and (``fitting``) a column with none
        (``gmmlib._validation.check_missing_values``)."""
        return check_missing_values(X, fitting)

    def sample_weight(self, sample_weight, X):
        """Checked float64 weights of shape (n_samples,), or None."""
        return check_sample_weight(sample_weight, X.shape[0])

    def n_positive(self, sample_weight, X):
        """Rows with a positive weight (all rows without weights)."""
        if sample_weight is None:
            return X.shape[0]
        return int(np.count_nonzero(sample_weight))

    def centre(self, X, sample_weight=None):
        """The (weighted) column means, float64: the shift of every block.

        With missing entries (NaN), the means of each column's observed values.
        """
        if sample_weight is None:
            centre = X.mean(axis=0, dtype=np.float64)
        else:
            centre = (sample_weight @ X) / sample_weight.sum()
        if not np.isnan(centre).any():
            return centre
        observed = ~np.isnan(X)
        weights = (
            observed if sample_weight is None else observed * sample_weight[:, None]
        )
        totals = weights.sum(axis=0, dtype=np.float64)
        # a column observed only in rows of weight 0 is centred at 0
        sums = (np.where(observed, X, 0) * weights).sum(axis=0, dtype=np.float64)
        return sums / np.where(totals > 0, totals, 1)

    def init_rows(self, X, sample_weight, random_state):
        """The rows (and their weights) the initialisation runs on: all of them."""
        return X, sample_weight

    def statistics(self, X, estep, sample_weight=None):
        """Merged sufficient statistics of all rows at ``estep``'s parameters."""
        return suffstats.accumulate_statistics(
            X, estep, n_threads=self.n_threads, sample_weight=sample_weight
        )

    def map_blocks(self, X, estep, func):
        """``func(estep, block)`` over the row blocks, rows stacked."""
        return suffstats.map_blocks(X, estep, func, n_threads=self.n_threads)

    def weighted_sum(self, values, sample_weight):
        """:math:`\\sum_n w_n v_n` (plain sum without weights), as a float."""
        if sample_weight is None:
            return float(np.sum(values, dtype=np.float64))
        return float(np.dot(sample_weight, np.asarray(values, np.float64)))

    def total_weight(self, sample_weight, X):
        """:math:`\\sum_n w_n`, or the number of rows without weights."""
        if sample_weight is None:
            return float(X.shape[0])
        return float(sample_weight.sum())


class OnDask(InMemory):
    """A ``dask.array.Array`` chunked by rows, on Dask's current scheduler.

    Every pass is a Dask graph over the blocks (``gmmlib._dask``); threads are
    Dask's, so ``n_threads`` is not used.
    """

    def with_threads(self, n_threads):
        return self

    def missing_values(self, X, fitting):
        """False: a Dask X with NaN is refused, block by block, when computed
        (``gmmlib._dask``); missing values are fitted only in memory."""
        return False

    def validate(self, estimator, X, reset, ensure_min_samples=1):
        return _dask.validate(estimator, X, reset, ensure_min_samples)

    def sample_weight(self, sample_weight, X):
        """A float64 Dask array chunked like X's rows, each block checked lazily."""
        if sample_weight is None:
            return None
        sample_weight = _dask.validate_sample_weight(sample_weight, X)
        return _dask.checked_sample_weight(sample_weight)

    def n_positive(self, sample_weight, X):
        if sample_weight is None:
            return X.shape[0]
        return int((sample_weight > 0).sum().compute())

    def centre(self, X, sample_weight=None):
        return _dask.column_mean(X, sample_weight)

    def init_rows(self, X, sample_weight, random_state):
        """A seeded sample of ``gmmlib._dask.INIT_SAMPLE_SIZE`` rows, in memory."""
        return _dask.sample_rows(X, random_state, sample_weight=sample_weight)

    def statistics(self, X, estep, sample_weight=None):
        return _dask.accumulate_statistics(X, estep, sample_weight=sample_weight)

    def map_blocks(self, X, estep, func):
        """Lazily: a Dask array chunked by rows like ``X``."""
        return _dask.map_blocks(X, estep, func)

    def weighted_sum(self, values, sample_weight):
        if sample_weight is None:
            return float(values.sum(dtype=np.float64).compute())
        return float((values.astype(np.float64) * sample_weight).sum().compute())

    def total_weight(self, sample_weight, X):
        if sample_weight is None:
            return float(X.shape[0])
        return float(sample_weight.sum().compute())


def select(X):
    """The backend for ``X``: :class:`OnDask` for a Dask array, else :class:`InMemory`.

    Parameters
    ----------
    X : array-like or dask.array.Array

    Returns
    -------
    InMemory or OnDask
    """
    return OnDask() if _dask.is_dask_array(X) else InMemory()
