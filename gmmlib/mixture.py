"""``GaussianMixture``: scikit-learn's estimator API on gmmlib's block-wise EM.

The class validates, initialises, loops and keeps the history; every formula
lives in ``gmmlib.suffstats`` (the E-step of a row block, the merge of
block statistics, the M-step). The initialisation flow and the convergence
rule are scikit-learn's, so that from the same initial parameters both fit
the same mixture in the same number of iterations.
"""

from __future__ import annotations

import math
import os
import warnings
from numbers import Integral, Real
from time import perf_counter

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted

from gmmlib import _backend, covariance
from gmmlib._validation import StarvedComponentWarning, check_sample_weight_total
from gmmlib.suffstats import (
    BlockEStep,
    SufficientStatistics,
    covariances_from_cholesky,
    default_block_size,
    normalise_log_prob,
    parameters_from_statistics,
    precisions_cholesky_from_precisions,
    precisions_from_cholesky,
    stepwise_statistics,
)

__all__ = ["GaussianMixture", "StarvedComponentWarning"]


def _blas_threads():
    """Threads the BLAS may use now (respects an enclosing threadpool_limits)."""
    counts = [
        info["num_threads"]
        for info in _backend.threadpool_controller().info()
        if info["user_api"] == "blas"
    ]
    return max(1, min(max(counts, default=1), os.cpu_count() or 1))


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM, with scikit-learn's estimator API.

    Same parameters, fitted attributes and methods as
    ``sklearn.mixture.GaussianMixture``, and, from the same initial
    parameters, the same fitted parameters up to rounding (the tests check
    a relative 1e-6) and the same number of iterations. The EM iteration is
    gmmlib's own: one pass over row blocks, merging the blocks'
    ``gmmlib.suffstats.SufficientStatistics`` (:eq:`eq-merge`), then the
    M-step (``gmmlib.suffstats.parameters_from_statistics``). Each block goes through
    ``gmmlib.suffstats.BlockEStep``: two compiled loops (numba,
    ``gmmlib._kernels``) walk its rows in tiles of 256 to 1024, the first
    forming every component's whitened residuals and log-densities, the
    second, after NumPy's exponential, the responsibilities and the block's
    sums about the previous means (chapter 7, "One pass over a block: the
    engine"). The rows never enter a matrix product.

    Threads (NumPy input): a pass runs on T Python threads, each summing a
    contiguous share of the blocks; the compiled loops and NumPy's
    exponential release the GIL, so the threads run at once, and their
    results are merged in a fixed order (T and the block size change the
    result only by rounding). T is the number of threads the BLAS may use
    when the method is called, the machine's thread budget as
    ``threadpoolctl`` reports it (so
    ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` or an enclosing
    ``threadpool_limits`` set it), at most ``os.cpu_count()``; T is 1 when
    ``X`` has fewer than four blocks (for :meth:`partial_fit`, fewer than
    4 096 rows). While T > 1 threads run, the BLAS is limited to one thread.
    A block holds about 1 MiB of rows and buffers, 256 to 32 768 rows
    (``gmmlib.suffstats.default_block_size``; with T > 1, ``fit`` cuts it
    to give each thread at least 8 blocks).

    Memory beyond ``X`` during EM, per thread: (K + 2)·block numbers in the
    dtype of ``X`` (a (K, block) array of log-densities, then of their
    exponentials, and two of one number per row); inside the compiled
    loops, a tile's residuals, at most (2d + 3)·tile numbers; float64 sums
    of at most K(1 + d + d²) numbers and a few temporaries of that size that
    centre them. A block is copied first (d·block numbers) only when ``X`` is not
    C-ordered or not in the model's dtype, and sample weights add a few
    arrays of one number per row of a block. That is O(T·(block·K + K·d²))
    whatever the number of rows n: nothing of size n·K or n·d is formed.
    :meth:`fit` then makes one last pass that keeps each row's label and
    log-likelihood as two float64 (for :meth:`fit_predict` and
    ``history_``), in the blocks' results and once more joined: up to 32
    bytes per row. The prediction methods return n numbers,
    :meth:`predict_proba` n·K. On a Dask array, each Dask block is a task
    that runs the same pass over its rows, on one thread.

    ``X`` may also be a ``dask.array.Array`` chunked by rows (``gmmlib._dask``):
    each EM iteration is then a Dask tree reduction of the blocks' statistics
    on the current scheduler (a ``distributed.Client``, if one was created),
    the initialisation runs on a seeded sample of rows, and ``fit_predict``,
    ``predict``, ``predict_proba`` and ``score_samples`` return lazy Dask arrays.

    Beyond scikit-learn: ``fit`` takes ``sample_weight`` (a weight counts how
    often a row occurs; :eq:`eq-weighted-sigma-new`), and :meth:`partial_fit`
    runs stepwise EM on batches (:eq:`eq-stepwise`). Both work on NumPy and
    Dask input alike: the estimator chooses a backend once per call
    (``gmmlib._backend``) and the EM loop never looks at the type of ``X``.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components K.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        'full': one general covariance per component; 'tied': one shared
        general covariance; 'diag': one diagonal covariance per component;
        'spherical': one variance per component.
    tol : float, default=1e-3
        EM stops when the mean log-likelihood per sample changes by less.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance in the M-step.
    max_iter : int, default=100
        Maximum number of EM iterations per initialisation.
    n_init : int, default=1
        Number of initialisations; the one with the largest lower bound wins.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, \
default='kmeans'
        How responsibilities are initialised when not all of ``weights_init``,
        ``means_init`` and ``precisions_init`` are given.
    weights_init : array-like of shape (n_components,), default=None
        Initial weights; non-negative, summing to 1.
    means_init : array-like of shape (n_components, n_features), default=None
        Initial means.
    precisions_init : array-like, default=None
        Initial precisions (inverse covariances): shape (n_components,) for
        'spherical', (n_features, n_features) for 'tied', (n_components,
        n_features) for 'diag', (n_components, n_features, n_features) for
        'full'.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and :meth:`sample`.
    warm_start : bool, default=False
        Continue from the previous fit's parameters (``n_init`` is ignored).
    verbose : int, default=0
        1 prints initialisations and iterations, 2 also timings and changes.
    verbose_interval : int, default=10
        Iterations between two prints.
    keep_history : bool, default=False
        Keep ``history_``: the initial parameters of the best
        initialisation and those after each of its iterations, with their
        log-likelihoods (for :meth:`partial_fit`, after each batch).
    learning_decay : float in (0.5, 1], default=0.7
        κ in the step size of :meth:`partial_fit`: :math:`ρ_1 = 1`, then
        :math:`ρ_t = (t + τ_0)^{-κ}` for batch :math:`t \\ge 2`
        (:eq:`eq-step-size`); named as in scikit-learn's
        ``LatentDirichletAllocation``. Not used by :meth:`fit`.
    learning_offset : float >= 0, default=10.0
        :math:`τ_0` in the same step size: larger values take smaller steps
        early on.
        Not used by :meth:`fit`.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        Shape as for ``precisions_init``.
    precisions_ : ndarray
        Inverses of ``covariances_``.
    precisions_cholesky_ : ndarray
        Upper-triangular ``U`` with ``U @ U.T == precisions_`` (square roots
        for 'diag' and 'spherical').
    converged_ : bool
    n_iter_ : int
        Iterations run by the best initialisation.
    lower_bound_ : float
        Mean log-likelihood per sample of the best initialisation, evaluated
        (as in scikit-learn) at the parameters before its last M-step (after
        :meth:`partial_fit`: that of the last batch, per unit of weight, at
        the parameters before its M-step).
    lower_bounds_ : list of float
        ``lower_bound`` after each iteration of the best initialisation.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Only when ``X`` had string column names.
    n_batches_ : int
        Only after :meth:`partial_fit`: the batches seen, t.
    history_ : list of dict
        Only with ``keep_history=True``. After :meth:`fit`, ``n_iter_ + 1``
        entries: entry 0 holds the initial parameters, entry i those after
        iteration i, the last the fitted ones; each has keys ``"weights"``,
        ``"means"``, ``"covariances"`` and ``"log_likelihood"``, the total
        log-likelihood L of those parameters on the training data
        (:eq:`eq-log-likelihood`; with sample weights,
        :eq:`eq-weighted-log-likelihood`). After :meth:`partial_fit`,
        ``n_batches_ + 1`` entries: entry t the parameters after batch t
        (entry 0 the initial ones), with the log-likelihood of batch t + 1
        at them (None in the last entry, until the next batch).

    Examples
    --------
    >>> import numpy as np
    >>> from gmmlib import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> np.sort(gm.means_[:, 0])
    array([ 1., 10.])
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        # the registry's live view of the names: a registered model is accepted
        "covariance_type": [StrOptions(covariance.MODELS.keys())],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [
            StrOptions({"kmeans", "k-means++", "random", "random_from_data"})
        ],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "keep_history": ["boolean"],
        "learning_decay": [Interval(Real, 0.5, 1.0, closed="right")],
        "learning_offset": [Interval(Real, 0.0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        keep_history=False,
        learning_decay=0.7,
        learning_offset=10.0,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.keep_history = keep_history
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset

    # -- fitting --------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None):
        """Estimate the parameters with EM.

        Runs ``n_init`` initialisations (one with ``warm_start`` after the
        first fit), each until the mean log-likelihood per sample changes by
        less than ``tol`` or for ``max_iter`` iterations, and keeps the best.

        With ``sample_weight``, EM maximises the weighted log-likelihood
        :math:`\\sum_n w_n \\ln p(x_n)` (:eq:`eq-weighted-log-likelihood`):
        every responsibility :math:`γ_{nk}` in the statistics becomes
        :math:`w_n γ_{nk}` (:eq:`eq-weighted-nk`, :eq:`eq-weighted-sigma-new`)
        and the mixing weights are divided by :math:`\\sum_n w_n`
        (:eq:`eq-weighted-pi-new`). Integer weights give the fit of the data
        with each row repeated that many times (from the same initial
        parameters); weight 0 drops a row. Scaling all weights by one factor
        leaves the fitted parameters unchanged while every N_k stays far above
        10 eps, i.e. for weights on the scale of counts (chapter 7, "A
        component that loses all its responsibility"); :meth:`bic` and
        :meth:`aic` change, as they count frequency weights as rows. The
        initialisation honours the weights: 'kmeans' passes them
        to ``KMeans``, 'k-means++' to ``kmeans_plusplus``, 'random_from_data'
        draws rows in proportion to their weight, and 'random' draws each
        row's responsibilities as without weights, then weights them. The
        convergence test uses the weighted mean log-likelihood per unit of
        weight.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Or a ``dask.array.Array`` chunked by rows.
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative, finite, not all zero; a Dask array chunked like X's
            rows when X is a Dask array. None weighs every row 1.

        Returns
        -------
        self : GaussianMixture
        """
        self.fit_predict(X, y, sample_weight=sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit as :meth:`fit` does, then return the most probable component of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Lazy (a Dask array) for Dask input.
        """
        backend = _backend.select(X)
        X = backend.validate(self, X, reset=True, ensure_min_samples=2)
        sample_weight = backend.sample_weight(sample_weight, X)
        self._check_enough_rows(backend, X, sample_weight)
        initial = self._checked_initial_parameters(X)
        for name in ("n_batches_", "_stream_statistics", "_starved_batches"):
            self.__dict__.pop(name, None)

        do_init = not (self.warm_start and hasattr(self, "converged_"))
        n_init = self.n_init if do_init else 1
        random_state = check_random_state(self.random_state)
        centre = backend.centre(X, sample_weight).astype(X.dtype)
        X_init, weights_init = X, sample_weight
        if do_init and any(p is None for p in initial):
            X_init, weights_init = backend.init_rows(X, sample_weight, random_state)
        backend = backend.with_threads(self._n_threads(*X.shape, X.dtype.itemsize))

        best = None
        warned = set()  # components named by a DegenerateComponentWarning
        with backend.threads():
            for init in range(n_init):
                self._print_init_begin(init)
                if do_init:
                    params = self._initial_parameters(
                        X_init, initial, random_state, weights_init
                    )
                    lower_bound = -np.inf
                else:
                    params = self._get_parameters()
                    lower_bound = self.lower_bound_
                run = self._run_em(
                    backend, X, sample_weight, params, lower_bound, centre, warned
                )
                # as scikit-learn: strictly better, or nothing finite yet
                if (
                    best is None
                    or run["lower_bound"] > best["lower_bound"]
                    or best["lower_bound"] == -np.inf
                ):
                    best = run

        if not best["converged"] and self.max_iter > 0:
            warnings.warn(
                f"EM did not converge: the best of the initialisations was still "
                f"changing by more than tol={self.tol:g} per sample after "
                f"max_iter={self.max_iter} iterations. Increase max_iter or tol, "
                "try other initial parameters, or check the data for duplicated "
                "or degenerate points.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._set_parameters(best["params"])
        self.converged_ = best["converged"]
        self.n_iter_ = best["n_iter"]
        self.lower_bound_ = best["lower_bound"]
        self.lower_bounds_ = best["lower_bounds"]

        # a final E-step, so that fit_predict(X) == fit(X).predict(X)
        with backend.threads():
            out = backend.map_blocks(X, self._estep(centre), _labels_and_log_norm)
        if self.keep_history:
            best["history"][-1]["log_likelihood"] = backend.weighted_sum(
                out[:, 1], sample_weight
            )
            self.history_ = best["history"]
        return out[:, 0].astype(np.intp)

    def _check_enough_rows(self, backend, X, sample_weight):
        n_samples = X.shape[0]
        if n_samples < self.n_components:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {n_samples}: pass more rows "
                "or decrease n_components."
            )
        if sample_weight is not None:
            n_positive = backend.n_positive(sample_weight, X)
            if n_positive == 0:
                check_sample_weight_total(0.0)
            if n_positive < self.n_components:
                raise ValueError(
                    f"sample_weight is positive on {n_positive} row(s), fewer than "
                    f"n_components = {self.n_components}: give more rows a "
                    "positive weight or decrease n_components."
                )

    def _run_em(
        self, backend, X, sample_weight, params, lower_bound, centre, warned=None
    ):
        """EM from ``params`` until convergence or ``max_iter``.

        ``warned`` collects the components that lost their responsibility, so
        that one fit names each in one ``DegenerateComponentWarning``.
        """
        history = [self._history_entry(params)] if self.keep_history else None
        lower_bounds = []
        converged = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            previous = lower_bound
            estep = BlockEStep(*_estep_arguments(params), self.covariance_type, centre)
            stats = backend.statistics(X, estep, sample_weight)
            params = parameters_from_statistics(stats, self.reg_covar, warned)
            lower_bound = stats.log_likelihood / stats.total_weight
            lower_bounds.append(lower_bound)
            if history is not None:
                history[-1]["log_likelihood"] = stats.log_likelihood
                history.append(self._history_entry(params))
            change = lower_bound - previous
            self._print_iter_end(n_iter, change)
            if abs(change) < self.tol:
                converged = True
                break
        if self.max_iter > 0:
            self._print_init_end(lower_bound, converged)
        return {
            "params": params,
            "lower_bound": lower_bound,
            "lower_bounds": lower_bounds,
            "converged": converged,
            "n_iter": n_iter,
            "history": history,
        }

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """One step of stepwise (online) EM on a batch of rows.

        Stepwise EM (Cappé & Moulines 2009) keeps running sufficient
        statistics per unit of weight, :math:`\\mathcal{T}_t`. Each batch is
        E-stepped at the current parameters; its statistics per unit of
        weight, :math:`\\bar{\\mathcal{T}}_t`, pull the running ones towards
        them, :math:`\\mathcal{T}_t = \\mathcal{T}_{t-1}
        + ρ_t (\\bar{\\mathcal{T}}_t - \\mathcal{T}_{t-1})`
        (:eq:`eq-stepwise`), with :math:`ρ_1 = 1` and
        :math:`ρ_t = (t + τ_0)^{-κ}` for :math:`t \\ge 2`
        (:eq:`eq-step-size`; κ = ``learning_decay``, :math:`τ_0` =
        ``learning_offset``), and the M-step of :math:`\\mathcal{T}_t` gives
        the new parameters. The statistics are interpolated as weighted merges
        (``SufficientStatistics.scaled`` and ``merge``), never as raw
        moments. For κ in (0.5, 1] the steps satisfy
        :math:`\\sum ρ_t = \\infty`, :math:`\\sum ρ_t^2 < \\infty`; these
        conditions alone do not make the stream converge (Cappé & Moulines
        also need, among other hypotheses, independent batches from one
        distribution, regular expected statistics, and running statistics
        that stay in a compact set away from degenerate components); the
        limit they prove is a stationary point of the expected
        log-likelihood under the data's distribution, not of the likelihood
        of the rows seen.

        The first call initialises the parameters from its batch as
        :meth:`fit` does (``init_params``, or ``weights_init``, ``means_init``,
        ``precisions_init``), or starts from the parameters of an earlier
        :meth:`fit`; its statistics have no past to forget, so
        :math:`ρ_1 = 1` and the first call is exactly one EM iteration on the
        batch. Later calls must have the same number of features. :meth:`fit`
        starts afresh and discards the stream.

        Batch size: the first batch is the start. A component that gets fewer
        than ``n_features + 1`` of its rows has a covariance that is singular
        but for ``reg_covar``; no later row fits it, so each batch multiplies
        its weight by :math:`1 - ρ_t`, and the weight goes to 0 because
        :math:`\\sum ρ_t = \\infty`. Give the first call several times
        ``n_components * (n_features + 1)`` rows, also after :meth:`fit`:
        with :math:`ρ_1 = 1` the first call keeps of the fit only the
        parameters at which it E-steps, and M-steps its own batch alone (a
        first call of 10 rows after a good fit can leave spikes). Later
        batches may be smaller, since :math:`ρ_t < 1` keeps the running
        statistics; but with few rows per component (``n * π_k`` near 1)
        the warning below also fires for components that are fine. A larger
        ``learning_offset`` only slows the loss down.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One batch; or a ``dask.array.Array`` chunked by rows.
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        self : GaussianMixture

        Warns
        -----
        StarvedComponentWarning
            When a component has been starved by three batches in a row: each
            gave it a soft count :math:`\\sum_n w_n γ_{nk}` below 1% of
            :math:`π_k \\sum_n w_n`, the mean of that count when the rows
            follow the current mixture. Issued once per run of starved
            batches, naming the components. If a batch's n rows (unit
            weights) are independent draws from the current mixture, a
            component is starved by it with probability at most
            :math:`e^{-0.944\\, n π_k}` (Chernoff), and by three in a row,
            at nearly fixed parameters, at most :math:`e^{-2.83\\, n π_k}`:
            a false alarm is rare once :math:`n π_k \\ge 5` (below
            :math:`10^{-6}`), but not when :math:`n π_k` is about 1 (batches
            of 10 rows and :math:`π_k = 0.1`: about 4% per three batches).
        """
        backend = _backend.select(X)
        streaming = hasattr(self, "n_batches_")
        fitted = streaming or hasattr(self, "converged_")
        X = backend.validate(self, X, reset=not fitted)
        sample_weight = backend.sample_weight(sample_weight, X)
        if fitted:
            params = self._get_parameters()
        else:
            self._check_enough_rows(backend, X, sample_weight)
            initial = self._checked_initial_parameters(X)
            random_state = check_random_state(self.random_state)
            X_init, weights_init = X, sample_weight
            if any(p is None for p in initial):
                X_init, weights_init = backend.init_rows(X, sample_weight, random_state)
            params = self._initial_parameters(
                X_init, initial, random_state, weights_init
            )
        t = self.n_batches_ + 1 if streaming else 1
        # the first batch is centred on its mean, as fit centres on the data's;
        # later ones on the current mixture mean, which saves a pass per batch
        centre = backend.centre(X, sample_weight).astype(X.dtype) if t == 1 else None
        # batches are smaller than fit's data: threads from 4 096 rows on (each
        # with one BLAS thread; a threaded BLAS on small blocks only contends)
        n_threads = _blas_threads() if X.shape[0] >= 4096 else 1
        backend = backend.with_threads(n_threads)
        with backend.threads():
            estep = BlockEStep(*_estep_arguments(params), self.covariance_type, centre)
            batch = backend.statistics(X, estep, sample_weight)
            if t == 1:
                running = batch
                starved = np.zeros(self.n_components, dtype=np.intp)
            else:
                rho = (t + self.learning_offset) ** -self.learning_decay
                running = stepwise_statistics(self._stream_statistics, batch, rho)
                starved = _starved_batches(self._starved_batches, params[0], batch)
            new_params = parameters_from_statistics(running, self.reg_covar)

        if self.keep_history:
            history = self.history_ if streaming else [self._history_entry(params)]
            history[-1]["log_likelihood"] = batch.log_likelihood
            history.append(self._history_entry(new_params))
            self.history_ = history
        self._set_parameters(new_params)
        self._stream_statistics = running
        self._starved_batches = starved
        self.n_batches_ = t
        if np.any(starved == _STARVED_BATCHES):
            _warn_starved(np.flatnonzero(starved == _STARVED_BATCHES), self, X)
        self.lower_bound_ = batch.log_likelihood / batch.total_weight
        return self

    def _n_threads(self, n_samples, n_features, itemsize=8):
        block = default_block_size(
            self.n_components, n_features, itemsize, self.covariance_type
        )
        if n_samples < 4 * block:
            return 1
        return _blas_threads()

    def _history_entry(self, params):
        weights, means, covariances, _ = params
        return {
            "weights": weights.copy(),
            "means": means.copy(),
            "covariances": covariances.copy(),
            "log_likelihood": None,
        }

    # -- initialisation -------------------------------------------------------

    def _checked_initial_parameters(self, X):
        """``weights_init``, ``means_init``, ``precisions_init`` validated, or None."""
        n_components, n_features = self.n_components, X.shape[1]
        weights = means = precisions = None
        if self.weights_init is not None:
            weights = check_array(
                self.weights_init, dtype=[np.float64, np.float32], ensure_2d=False
            ).astype(X.dtype)
            _check_shape(weights, (n_components,), "weights_init", "(n_components,)")
            if np.any(weights < 0) or np.any(weights > 1):
                raise ValueError(
                    "weights_init must lie in [0, 1], but got min "
                    f"{weights.min():.5g} and max {weights.max():.5g}."
                )
            atol = 1e-6 if weights.dtype == np.float32 else 1e-8
            if abs(1.0 - float(weights.sum(dtype=np.float64))) > atol:
                raise ValueError(
                    "weights_init must sum to 1, but sums to "
                    f"{float(weights.sum()):.8g}; divide it by its sum."
                )
        if self.means_init is not None:
            means = check_array(
                self.means_init, dtype=[np.float64, np.float32], ensure_2d=False
            ).astype(X.dtype)
            _check_shape(
                means,
                (n_components, n_features),
                "means_init",
                "(n_components, n_features)",
            )
        if self.precisions_init is not None:
            precisions = check_array(
                self.precisions_init,
                dtype=[np.float64, np.float32],
                ensure_2d=False,
                allow_nd=True,
            ).astype(X.dtype)
            covariance.get(self.covariance_type).check(
                precisions, n_components, n_features, "precisions_init", "precision"
            )
        return weights, means, precisions

    def _initial_parameters(self, X, initial, random_state, sample_weight=None):
        """Initial (weights, means, covariances, precisions_cholesky), as sklearn."""
        weights, means, precisions = initial
        covariances = prec_chol = None
        if weights is None or means is None or precisions is None:
            stats = self._initial_statistics(X, random_state, sample_weight)
            _, fit_means, covariances, prec_chol = parameters_from_statistics(
                stats, self.reg_covar
            )
            if weights is None:
                nk = stats.nk + 10 * np.finfo(X.dtype).eps
                weights = (nk / stats.total_weight).astype(X.dtype)
            if means is None:
                means = fit_means
        if precisions is not None:
            prec_chol = precisions_cholesky_from_precisions(
                precisions, self.covariance_type
            )
            covariances = covariances_from_cholesky(prec_chol, self.covariance_type)
        return weights, means, covariances, prec_chol

    def _initial_statistics(self, X, random_state, sample_weight=None):
        """Statistics of the initial responsibilities, drawn as scikit-learn does.

        Two passes: the second forms the scatter about the first pass's
        means, so the initial covariances lose no digits either. The sample
        weights enter as in :meth:`fit`'s description.
        """
        n_samples, K = X.shape[0], self.n_components
        ctype = self.covariance_type
        w = sample_weight
        if self.init_params == "random":
            resp = random_state.uniform(size=(n_samples, K)).astype(X.dtype)
            resp /= resp.sum(axis=1, keepdims=True)
            first = SufficientStatistics.from_responsibilities(
                X, resp, ctype, sample_weight=w
            )
            return SufficientStatistics.from_responsibilities(
                X, resp, ctype, shift=first.means, sample_weight=w
            )
        if self.init_params == "kmeans":
            kmeans = KMeans(n_clusters=K, n_init=1, random_state=random_state)
            labels = kmeans.fit(X, sample_weight=w).labels_
        else:
            if self.init_params == "random_from_data":
                p = None if w is None else w / w.sum()
                indices = random_state.choice(n_samples, size=K, replace=False, p=p)
            else:
                _, indices = kmeans_plusplus(
                    X, K, random_state=random_state, sample_weight=w
                )
            labels = np.full(n_samples, -1)
            labels[indices] = np.arange(K)
        first = SufficientStatistics.from_labels(X, labels, K, ctype, sample_weight=w)
        return SufficientStatistics.from_labels(
            X, labels, K, ctype, shift=first.means, sample_weight=w
        )

    # -- parameters -----------------------------------------------------------

    def _get_parameters(self):
        return (
            self.weights_,
            self.means_,
            self.covariances_,
            self.precisions_cholesky_,
        )

    def _set_parameters(self, params):
        (
            self.weights_,
            self.means_,
            self.covariances_,
            self.precisions_cholesky_,
        ) = params
        self.precisions_ = precisions_from_cholesky(
            self.precisions_cholesky_, self.covariance_type
        )

    def _estep(self, centre=None):
        return BlockEStep(
            *_estep_arguments(self._get_parameters()), self.covariance_type, centre
        )

    def _per_block(self, backend, X, func):
        """``func(estep, block)`` over X's row blocks at the fitted parameters."""
        backend = backend.with_threads(self._n_threads(*X.shape, X.dtype.itemsize))
        with backend.threads():
            return backend.map_blocks(X, self._estep(), func)

    def _validated(self, X):
        """The backend for X, and X validated against the fitted model."""
        check_is_fitted(self)
        backend = _backend.select(X)
        return backend, backend.validate(self, X, reset=False)

    # -- prediction -----------------------------------------------------------

    def score_samples(self, X):
        """Log-likelihood :math:`\\ln p(x_n)` of each row (:eq:`eq-mixture`).

        Per row, so sample weights do not enter; :meth:`score`, :meth:`bic`
        and :meth:`aic` take ``sample_weight`` and weight these values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            In the dtype of the fitted parameters (that of the training
            data); a lazy Dask array for Dask input.
        """
        backend, X = self._validated(X)
        return self._per_block(backend, X, _log_norm)

    def score(self, X, y=None, sample_weight=None):
        """Mean log-likelihood per row; with weights, their weighted mean.

        Without weights, ``score_samples(X).mean()``, computed as
        scikit-learn computes its ``score``: NumPy's mean in the dtype of
        ``X`` (float32 rows give the float32 mean of float32 values, to the
        last bit the same number). With ``sample_weight``,
        :math:`\\sum_n w_n \\ln p(x_n) / \\sum_n w_n`, scikit-learn's
        convention for a ``sample_weight`` in ``score`` (the weighted
        log-likelihood :eq:`eq-weighted-log-likelihood` per unit of weight),
        computed the same way: ``np.average(score_samples(X), weights=w)``
        with the weights divided by the largest of them (so that every
        finite weight fits in float32) and cast to the dtype of ``X``.
        Weights all equal give ``score(X)``, to the last bit below 2**24
        rows (where float32 still counts rows exactly).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        float
            Computed (before the conversion to ``float``) in the dtype of
            :meth:`score_samples`.
        """
        backend, X = self._validated(X)
        sample_weight = backend.sample_weight(sample_weight, X)
        log_prob = self._per_block(backend, X, _log_norm)
        if sample_weight is None:
            return float(log_prob.mean())
        # Dask's weights are only read now: refuse all-zero ones by name
        check_sample_weight_total(backend.total_weight(sample_weight, X))
        weights = (sample_weight / sample_weight.max()).astype(log_prob.dtype)
        return float((log_prob * weights).sum() / weights.sum())

    def predict(self, X):
        """Most probable component of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        backend, X = self._validated(X)
        return self._per_block(backend, X, _labels)

    def predict_proba(self, X):
        """Responsibilities γ(z_nk) of each component for each row.

        See :eq:`eq-responsibility`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
        """
        backend, X = self._validated(X)
        return self._per_block(backend, X, _resp)

    def sample(self, n_samples=1):
        """Draw rows from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            How many rows to draw, at least 1.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
            The component each row was drawn from.

        Raises
        ------
        InvalidParameterError
            (a ValueError and a TypeError) if ``n_samples`` is not an int of
            at least 1; a bool, a float such as 2.0 or None is refused.
        """
        check_is_fitted(self)
        if (
            isinstance(n_samples, bool)
            or not isinstance(n_samples, Integral)
            or n_samples < 1
        ):
            raise InvalidParameterError(
                "The 'n_samples' parameter of GaussianMixture.sample must be an "
                f"int of at least 1 (the number of rows to draw); got "
                f"{n_samples!r} of type {type(n_samples).__name__}. Pass a whole "
                "number, e.g. sample(100)."
            )
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_.astype(np.float64))
        n_features = self.means_.shape[1]
        factors = covariance.get(self.covariance_type).sampling_factors(
            self.covariances_, self.n_components, n_features
        )
        parts = [
            mean + rng.standard_normal((count, n_features)) @ factor.T
            for mean, factor, count in zip(self.means_, factors, counts, strict=True)
        ]
        X = np.vstack(parts).astype(self.means_.dtype)
        y = np.repeat(np.arange(self.n_components), counts)
        return X, y

    def _n_parameters(self):
        """Free parameters: means, covariances and K - 1 weights."""
        n_features = self.means_.shape[1]
        K = self.n_components
        model = covariance.get(self.covariance_type)
        covariance_parameters = model.n_parameters(K, n_features)
        return int(covariance_parameters + K * n_features + K - 1)

    def _weighted_log_likelihood(self, X, sample_weight):
        """:math:`\\sum_n w_n \\ln p(x_n)` and :math:`\\sum_n w_n`."""
        backend, X = self._validated(X)
        sample_weight = backend.sample_weight(sample_weight, X)
        log_prob = self._per_block(backend, X, _log_norm)
        return (
            backend.weighted_sum(log_prob, sample_weight),
            backend.total_weight(sample_weight, X),
        )

    def bic(self, X, sample_weight=None):
        """Bayesian information criterion on X (lower is better).

        :math:`-2 L + p \\ln N` for p free parameters (:eq:`eq-bic`); with
        weights, L is the weighted log-likelihood
        (:eq:`eq-weighted-log-likelihood`) and N is :math:`\\sum_n w_n`.
        That is the BIC only for frequency weights (integer counts of how
        often each row was observed): it is then the criterion of the data
        with repeated rows. For other weights :math:`\\sum_n w_n` is no
        sample size, and the result is not a BIC: multiplying every weight by
        the same factor leaves the fit unchanged but changes the value, and
        can change the number of components it prefers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        float
        """
        log_likelihood, n = self._weighted_log_likelihood(X, sample_weight)
        return -2 * log_likelihood + self._n_parameters() * math.log(n)

    def aic(self, X, sample_weight=None):
        """Akaike information criterion on X (lower is better).

        :math:`-2 L + 2 p` (:eq:`eq-aic`), with L weighted as in :meth:`bic`;
        likewise the AIC only for frequency weights (integer counts), since
        multiplying every weight by a factor multiplies L by it but leaves the
        penalty as it is.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        float
        """
        log_likelihood, _ = self._weighted_log_likelihood(X, sample_weight)
        return -2 * log_likelihood + 2 * self._n_parameters()

    # -- verbose output -------------------------------------------------------

    def _print_init_begin(self, init):
        if self.verbose >= 1:
            print(f"Initialization {init}")
            self._init_time = self._iter_time = perf_counter()

    def _print_iter_end(self, n_iter, change):
        if self.verbose >= 1 and n_iter % self.verbose_interval == 0:
            if self.verbose == 1:
                print(f"  Iteration {n_iter}")
            else:
                now = perf_counter()
                print(
                    f"  Iteration {n_iter}\t time lapse {now - self._iter_time:.5f}s"
                    f"\t ll change {change:.5f}"
                )
                self._iter_time = now

    def _print_init_end(self, lower_bound, converged):
        message = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {message}.")
        elif self.verbose >= 2:
            elapsed = perf_counter() - self._init_time
            print(
                f"Initialization {message}. time lapse {elapsed:.5f}s\t "
                f"lower bound {lower_bound:.5f}."
            )


def _estep_arguments(params):
    weights, means, _, prec_chol = params
    return weights, means, prec_chol


def _check_shape(array, shape, name, text):
    if array.shape != shape:
        raise ValueError(
            f"{name} must have shape {text} = {shape}, but got {array.shape}."
        )


def _labels_and_log_norm(estep, block):
    weighted = estep.weighted_log_prob(block)
    labels = weighted.argmax(axis=1)
    _, log_norm = normalise_log_prob(weighted)
    return np.stack([labels, log_norm], axis=1)


def _labels(estep, block):
    return estep.weighted_log_prob(block).argmax(axis=1)


def _log_norm(estep, block):
    return normalise_log_prob(estep.weighted_log_prob(block))[1]


def _resp(estep, block):
    return normalise_log_prob(estep.weighted_log_prob(block))[0]


# partial_fit's watch on components that the stream stops feeding. Under the
# current parameters a row drawn from the mixture gives component k the
# responsibility pi_k on average, so a batch of total weight W gives it the
# soft count pi_k W on average. A batch that gives it less than 1% of that
# "starves" it: the stepwise update then multiplies its weight by nearly
# 1 - rho_t. Three starved batches in a row are taken for a collapse. False
# alarms: if the n rows of a batch (unit weights) are independent draws from
# the current mixture, the soft count is a sum of n independent terms in
# [0, 1] with mean n pi, and Chernoff's lower tail bounds the chance that it
# falls below delta n pi, delta = 0.01, by exp(-n pi (1 - delta + delta ln delta))
# = exp(-0.944 n pi); for well-separated components it is about (1 - pi)^n,
# the chance that none of the rows comes from the component. Three in a row
# (parameters nearly fixed): at most exp(-2.83 n pi), 7e-7 for n pi = 5
# (about 1.4e-7 for pi = 0.1, n = 50, separated). The rule is reliable only
# when n pi is not small: with n = 10 and pi = 0.1, (1 - pi)^(3n) is 4%, and
# a stream of many such batches will warn about a component that is fine.
_STARVED_SHARE = 0.01
_STARVED_BATCHES = 3


def _starved_batches(previous, weights, batch):
    """Per component, how many batches in a row have starved it (see above)."""
    expected = np.asarray(weights, np.float64) * batch.total_weight
    starved = np.asarray(batch.nk, np.float64) < _STARVED_SHARE * expected
    return np.where(starved, previous + 1, 0)


def _warn_starved(components, model, X):
    n_features = X.shape[1]
    needed = model.n_components * (n_features + 1)
    which = ", ".join(str(k) for k in components)
    weights = ", ".join(f"{model.weights_[k]:.3g}" for k in components)
    warnings.warn(
        f"partial_fit: component(s) {which} received less than "
        f"{_STARVED_SHARE:.0%} of the responsibility their weights predict in "
        f"each of the last {_STARVED_BATCHES} batches (weights now {weights}). "
        "Stepwise EM shrinks such a weight by the factor 1 - rho_t per batch, "
        "towards 0, and the component is lost. The usual cause is a first batch "
        "too small to start from: a component initialised from fewer than "
        f"n_features + 1 = {n_features + 1} of its rows has a covariance that is "
        "singular but for reg_covar, and later rows do not fit it. Start from a "
        f"first batch several times n_components * (n_features + 1) = {needed} "
        "rows (also after fit(): the first partial_fit M-steps its batch "
        "alone), or pass larger batches. With batches that hold about one row "
        "of the component on average, it may be fine and this a false alarm.",
        StarvedComponentWarning,
        stacklevel=4,  # _warn_starved, partial_fit, _fit_context's wrapper, caller
    )
