"""`GaussianMixture`: scikit-learn's estimator API on gmmlib's block-wise EM.

The class validates, initialises, loops and keeps the history; every formula
lives in `gmmlib.suffstats` (the E-step of a row block, the merge of
block statistics, the M-step). The initialisation flow and the convergence
rule are scikit-learn's, so that from the same initial parameters both fit
the same mixture in the same number of iterations.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted

from gmmlib import _backend, _initialisation, _streaming, _threads, covariance
from gmmlib._validation import StarvedComponentWarning, check_sample_weight_total
from gmmlib._verbose import Progress
from gmmlib.suffstats import (
    BlockEStep,
    normalise_log_prob,
    parameters_from_statistics,
    precisions_from_cholesky,
)

__all__ = ["GaussianMixture", "StarvedComponentWarning"]


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM, with scikit-learn's estimator API.

    Same parameters, fitted attributes and methods as
    `sklearn.mixture.GaussianMixture`, and, from the same initial
    parameters, the same fitted parameters up to rounding (the tests check
    a relative 1e-6) and the same number of iterations. The EM iteration is
    gmmlib's own: one pass over row blocks, merging the blocks'
    `gmmlib.suffstats.SufficientStatistics` (eq-merge), then the
    M-step (`gmmlib.suffstats.parameters_from_statistics`). Each block goes through
    `gmmlib.suffstats.BlockEStep`: two loops compiled by numba walk its
    rows in tiles of 256 to 1024, the first forming every component's
    whitened residuals and log-densities, the second, after NumPy's
    exponential, the responsibilities and the block's
    sums about the previous means (chapter 7, "One pass over a block: the
    engine"). The rows never enter a matrix product.

    Threads (NumPy input): a pass runs on T Python threads, each summing a
    contiguous share of the blocks; the compiled loops and NumPy's
    exponential release the GIL, so the threads run at once, and their
    results are merged in a fixed order (T and the block size change the
    result only by rounding). T is `n_threads` if given; by default, one
    thread per 2 048 rows of `X` (so 1 below 4 096 rows), at most the CPUs
    the process may use and at most `OMP_NUM_THREADS` if that is set. The
    threads come from pools made once and shared by all estimators. With
    T > 1 the BLAS is held at one thread meanwhile (its idle workers would
    spin on the cores the loops need) and its count is given back when the
    last such estimator of the process finishes, so estimators may fit in
    concurrent Python threads. A block holds about
    1 MiB of rows and buffers, 256 to 32 768 rows
    (`gmmlib.suffstats.default_block_size`; with T > 1 it is cut to give
    each thread at least 8 blocks).

    Memory beyond `X` during EM, per thread: (K + 2)·block numbers in the
    dtype of `X` (a (K, block) array of log-densities, then of their
    exponentials, and two of one number per row); inside the compiled
    loops, a tile's residuals, at most (2d + 3)·tile numbers; float64 sums
    of at most K(1 + d + d²) numbers and a few temporaries of that size that
    centre them. A block is copied first (d·block numbers) only when `X` is not
    C-ordered or not in the model's dtype, and sample weights add a few
    arrays of one number per row of a block. That is O(T·(block·K + K·d²))
    whatever the number of rows n: nothing of size n·K or n·d is formed.
    `fit` then makes one last pass that keeps each row's label and
    log-likelihood as two float64 (for `fit_predict` and
    `history_`), in the blocks' results and once more joined: up to 32
    bytes per row. The prediction methods return n numbers,
    `predict_proba` n·K. On a Dask array, each Dask block is a task
    that runs the same pass over its rows, on one thread.

    `X` may also be a `dask.array.Array` chunked by rows:
    each EM iteration is then a Dask tree reduction of the blocks' statistics
    on the current scheduler (a `distributed.Client`, if one was created),
    the initialisation runs on a seeded sample of rows, and `fit_predict`,
    `predict`, `predict_proba` and `score_samples` return lazy Dask arrays.

    Beyond scikit-learn: `fit` takes `sample_weight` (a weight counts how
    often a row occurs; eq-weighted-sigma-new), and `partial_fit`
    runs stepwise EM on batches (eq-stepwise). Both work on NumPy and
    Dask input alike: the estimator chooses a backend once per call
    and the EM loop never looks at the type of `X`.

    Missing values: NaN in a NumPy `X` marks a missing entry, in `fit`,
    `partial_fit` and every method that reads rows. EM then maximises the
    observed-data log-likelihood Σ_n ln Σ_k π_k N(x_n,o | μ_k,o, Σ_k,oo),
    o the observed coordinates of row n (Ghahramani & Jordan 1994; Little &
    Rubin; right for values missing at random): the E-step gives each row
    its responsibilities given its observed entries, and the expected
    statistics E[x_n] and E[x_n x_nᵀ] given them (the missing entries'
    conditional mean and covariance under each component), which the
    M-step of every `covariance_type` takes as it takes complete rows
    (`gmmlib.em.em_step_observed` is the readable reference, and the
    tests check the estimator against it). `score_samples` returns the
    log-density of each row's observed entries, `predict_proba` the
    responsibilities given them. The start ('kmeans' and every other
    `init_params`) runs on the complete rows when at least
    `n_components * (n_features + 1)` are left, else on all rows with each
    NaN replaced by its column's mean. Refused, each by its place: ±inf
    (`X[row, col]`), a row with no observed value (`X[row]`), and in a fit a
    column with none (`X[:, j]`). A Dask `X` with NaN is refused when its
    blocks are computed (pass `X.compute()` for data that fits in memory).
    Complete rows cost what they cost without missing values; a row with a
    NaN costs several times more (benchmarks/bench_missing.py: with 1% and
    10% of the entries missing, 3% and 27% of the rows of 4 features, an
    iteration takes about 2 and 4 times as long; at 16 features and 8
    components, 14% and 80% of the rows, 2.6 and 6 times). Chapter 12
    derives it (eq-sigma-new-missing, and the engine's density from the
    filled row, eq-observed-density-filled).

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components K.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        'full': one general covariance per component; 'tied': one shared
        general covariance; 'diag': one diagonal covariance per component;
        'spherical': one variance per component. Also mclust's fourteen
        models by their three letters (`gmmlib.covariance.names("mclust")`;
        VII, VVI, EEE and VVV are 'spherical', 'diag', 'tied' and 'full').
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
        How responsibilities are initialised when not all of `weights_init`,
        `means_init` and `precisions_init` are given.
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
        Seeds the initialisation and `sample`.
    warm_start : bool, default=False
        Continue from the parameters of the previous `fit` or `partial_fit`
        (`n_init` is ignored); their `covariance_type`, `n_components` and
        number of features must be those of this fit (else a ValueError).
    verbose : int, default=0
        1 prints initialisations and iterations, 2 also timings and changes.
    verbose_interval : int, default=10
        Iterations between two prints.
    keep_history : bool, default=False
        Keep `history_`: the initial parameters of the best
        initialisation and those after each of its iterations, with their
        log-likelihoods (for `partial_fit`, after each batch).
    learning_decay : float in (0.5, 1], default=0.7
        κ in the step size of `partial_fit`: ρ_1 = 1, then
        ρ_t = (t + τ₀)^(-κ) for batch t ≥ 2
        (eq-step-size); named as in scikit-learn's
        `LatentDirichletAllocation`. Not used by `fit`.
    learning_offset : float >= 0, default=10.0
        τ₀ in the same step size: larger values take smaller steps
        early on.
        Not used by `fit`.
    n_threads : int >= 1 or None, default=None
        Python threads of a pass over NumPy rows (see Threads above); None
        chooses one per 2 048 rows, at most the CPUs this process may use
        (`os.sched_getaffinity`) and at most `OMP_NUM_THREADS` if set.
        Not used for Dask input, whose threads are Dask's.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        Shape as for `precisions_init`.
    precisions_ : ndarray
        Inverses of `covariances_`.
    precisions_cholesky_ : ndarray
        Upper-triangular `U` with `U @ U.T == precisions_` (square roots
        for 'diag' and 'spherical').
    converged_ : bool
    n_iter_ : int
        Iterations run by the best initialisation.
    lower_bound_ : float
        Mean log-likelihood per sample of the best initialisation, evaluated
        (as in scikit-learn) at the parameters before its last M-step (after
        `partial_fit`: that of the last batch, per unit of weight, at
        the parameters before its M-step).
    lower_bounds_ : list of float
        `lower_bound` after each iteration of the best initialisation.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when `X` had string column names.
    n_batches_ : int
        Only after `partial_fit`: the batches seen, t.
    history_ : list of dict
        Only with `keep_history=True`. After `fit`, `n_iter_ + 1`
        entries: entry 0 holds the initial parameters, entry i those after
        iteration i, the last the fitted ones; each has keys `"weights"`,
        `"means"`, `"covariances"` and `"log_likelihood"`, the total
        log-likelihood L of those parameters on the training data
        (eq-log-likelihood; with sample weights,
        eq-weighted-log-likelihood). After `partial_fit`,
        `n_batches_ + 1` entries: entry t the parameters after batch t
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
        "covariance_type": [StrOptions(covariance.ACCEPTED)],
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
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
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
        n_threads=None,
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
        self.n_threads = n_threads

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN is a missing entry (fitted by its observed-data likelihood)
        tags.input_tags.allow_nan = True
        return tags

    # -- fitting --------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None):
        """Estimate the parameters with EM.

        Runs `n_init` initialisations (one with `warm_start` after the
        first fit), each until the mean log-likelihood per sample changes by
        less than `tol` or for `max_iter` iterations, and keeps the best.

        With `sample_weight`, EM maximises the weighted log-likelihood
        Σ_n w_n ln p(x_n) (eq-weighted-log-likelihood):
        every responsibility γ_nk in the statistics becomes
        w_n γ_nk (eq-weighted-nk, eq-weighted-sigma-new)
        and the mixing weights are divided by Σ_n w_n
        (eq-weighted-pi-new). Integer weights give the fit of the data
        with each row repeated that many times (from the same initial
        parameters); weight 0 drops a row. Scaling all weights by one factor
        leaves the fitted parameters unchanged while every N_k stays far above
        10 eps, i.e. for weights on the scale of counts (chapter 7, "A
        component that loses all its responsibility"); `bic` and
        `aic` change, as they count frequency weights as rows. The
        initialisation honours the weights: 'kmeans' passes them
        to `KMeans`, 'k-means++' to `kmeans_plusplus`, 'random_from_data'
        draws rows in proportion to their weight, and 'random' draws each
        row's responsibilities as without weights, then weights them. The
        convergence test uses the weighted mean log-likelihood per unit of
        weight.

        With NaN in `X` (missing entries), EM maximises the observed-data
        log-likelihood; see Missing values in the class's description.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Or a `dask.array.Array` chunked by rows. NaN marks a missing
            entry (NumPy input only); each row and each column needs an
            observed value.
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
        """Fit as `fit` does, then return the most probable component of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            As in `fit`.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Lazy (a Dask array) for Dask input.
        """
        backend = _backend.select(X)
        X = backend.validate(self, X, reset=True, ensure_min_samples=2)
        missing = backend.missing_values(X, fitting=True)
        sample_weight = backend.sample_weight(sample_weight, X)
        self._check_enough_rows(backend, X, sample_weight)
        initial = self._checked_initial_parameters(X)
        # warm_start continues a fit or a stream (partial_fit) of the same model
        do_init = not (self.warm_start and _initialisation.is_fitted(self))
        if not do_init:
            _initialisation.check_same_model(
                self, X.shape[1], "fit with warm_start=True"
            )
        for name in (
            "n_batches_",
            "_stream_statistics",
            "_starved_batches",
            "_stream_warned",
        ):
            self.__dict__.pop(name, None)
        if not self.keep_history:
            self.__dict__.pop("history_", None)

        # The BLAS at one thread for the whole fit, the start included: OpenBLAS
        # workers that a start's calls woke spin on after it and take the cores
        # from the first EM passes' threads (gmmlib._threads says more).
        n_threads = _threads.n_threads_for(self.n_threads, len(X))
        with _threads.one_blas_thread(n_threads):
            n_init = self.n_init if do_init else 1
            random_state = check_random_state(self.random_state)
            centre = backend.centre(X, sample_weight).astype(X.dtype)
            if do_init:
                X_init, weights_init = _initialisation.initial_rows(
                    backend, X, sample_weight, initial, random_state
                )
                if missing:
                    X_init, weights_init = _initialisation.complete_rows(
                        X_init, weights_init, self.n_components, centre
                    )
            backend = backend.with_threads(n_threads)

            best = None
            warned = set()  # components named by a DegenerateComponentWarning
            progress = Progress(self.verbose, self.verbose_interval)
            for init in range(n_init):
                progress.init_begin(init)
                if do_init:
                    params = _initialisation.initial_parameters(
                        self, X_init, initial, random_state, weights_init, warned
                    )
                    lower_bound = -np.inf
                else:
                    params = self._get_parameters()
                    lower_bound = self.lower_bound_
                run = self._run_em(
                    backend,
                    X,
                    sample_weight,
                    params,
                    lower_bound,
                    centre,
                    warned,
                    progress,
                    missing,
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
            out = backend.map_blocks(
                X, self._estep(centre, missing), _labels_and_log_norm
            )
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
        self,
        backend,
        X,
        sample_weight,
        params,
        lower_bound,
        centre,
        warned,
        progress,
        missing=False,
    ):
        """EM from `params` until convergence or `max_iter`.

        With `missing`, X holds NaN and each E-step works on the observed
        entries of each row (`gmmlib.suffstats.BlockEStep`).

        `warned` collects the components that lost their responsibility, so
        that one fit names each in one `DegenerateComponentWarning`.
        """
        history = [self._history_entry(params)] if self.keep_history else None
        lower_bounds = []
        converged = False
        n_iter = 0
        # one BLAS thread meanwhile (gmmlib._threads says why)
        with _threads.one_blas_thread(backend.n_threads):
            for n_iter in range(1, self.max_iter + 1):
                previous = lower_bound
                estep = BlockEStep(
                    *_estep_arguments(params),
                    self.covariance_type,
                    centre,
                    missing=missing,
                )
                stats = backend.statistics(X, estep, sample_weight)
                params = parameters_from_statistics(stats, self.reg_covar, warned)
                lower_bound = stats.log_likelihood / stats.total_weight
                lower_bounds.append(lower_bound)
                if history is not None:
                    history[-1]["log_likelihood"] = stats.log_likelihood
                    history.append(self._history_entry(params))
                change = lower_bound - previous
                progress.iter_end(n_iter, change)
                if abs(change) < self.tol:
                    converged = True
                    break
        if self.max_iter > 0:
            progress.init_end(lower_bound, converged)
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
        statistics per unit of weight, T_t. Each batch is E-stepped at the
        current parameters; its statistics per unit of weight, T̄_t, pull
        the running ones towards them, T_t = T_(t-1) + ρ_t (T̄_t - T_(t-1))
        (eq-stepwise), with ρ_1 = 1 and ρ_t = (t + τ₀)^(-κ) for t ≥ 2
        (eq-step-size; κ = `learning_decay`, τ₀ = `learning_offset`), and
        the M-step of T_t gives the new parameters. The statistics are
        interpolated as weighted merges (`SufficientStatistics.scaled` and
        `merge`), never as raw moments. For κ in (0.5, 1] the steps satisfy
        Σ ρ_t = ∞ and Σ ρ_t² < ∞; these conditions alone do not make the
        stream converge (Cappé & Moulines also need, among other
        hypotheses, independent batches from one distribution, regular
        expected statistics, and running statistics that stay in a compact
        set away from degenerate components); the
        limit they prove is a stationary point of the expected
        log-likelihood under the data's distribution, not of the likelihood
        of the rows seen.

        The first call initialises the parameters from its batch as
        `fit` does (`init_params`, or `weights_init`, `means_init`,
        `precisions_init`), or starts from the parameters of an earlier
        `fit`; its statistics have no past to forget, so
        ρ_1 = 1 and the first call is exactly one EM iteration on the
        batch. Later calls continue the stream, with the same number of
        features; a changed `covariance_type` or `n_components` is refused
        (a ValueError: call `fit` with `warm_start=False`, or use a new
        estimator). `fit` ends the stream: it starts afresh, or with
        `warm_start=True` runs EM on its data from the streamed parameters.

        Batch size: the first batch is the start. A component that gets fewer
        than `n_features + 1` of its rows has a covariance that is singular
        but for `reg_covar`; no later row fits it, so each batch multiplies
        its weight by 1 - ρ_t, and the weight goes to 0 because
        Σ ρ_t = ∞. Give the first call several times
        `n_components * (n_features + 1)` rows, also after `fit`:
        with ρ_1 = 1 the first call keeps of the fit only the
        parameters at which it E-steps, and M-steps its own batch alone (a
        first call of 10 rows after a good fit can leave spikes). Later
        batches may be smaller, since ρ_t < 1 keeps the running
        statistics; but with few rows per component (`n * π_k` near 1)
        the warning below also fires for components that are fine. A larger
        `learning_offset` only slows the loss down.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One batch; or a `dask.array.Array` chunked by rows. NaN marks a
            missing entry (NumPy input only), as in `fit`: the batch's
            statistics are then the expected ones given each row's observed
            entries. The first batch needs an observed value in each column.
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            As in `fit`.

        Returns
        -------
        self : GaussianMixture

        Warns
        -----
        StarvedComponentWarning
            When a component has been starved by three batches in a row: each
            gave it a soft count Σ_n w_n γ_nk below 1% of
            π_k Σ_n w_n, the mean of that count when the rows
            follow the current mixture. Issued once per run of starved
            batches, naming the components. If a batch's n rows (unit
            weights) are independent draws from the current mixture, a
            component is starved by it with probability at most
            exp(-0.944 n π_k) (Chernoff), and by three in a row,
            at nearly fixed parameters, at most exp(-2.83 n π_k):
            a false alarm is rare once n π_k ≥ 5 (below
            1e-6), but not when n π_k is about 1 (batches
            of 10 rows and π_k = 0.1: about 4% per three batches). Not
            for a component that a DegenerateComponentWarning has named.
        DegenerateComponentWarning
            When the M-step resets a component that lost all its
            responsibility; one stream names each such component once, as one
            `fit` does, not once per call (a `fit` ends the stream).
        """
        backend = _backend.select(X)
        streaming = hasattr(self, "n_batches_")
        fitted = _initialisation.is_fitted(self)
        # components named by a DegenerateComponentWarning: once per stream
        warned = set(self._stream_warned) if streaming else set()
        X = backend.validate(self, X, reset=not fitted)
        missing = backend.missing_values(X, fitting=not fitted)
        sample_weight = backend.sample_weight(sample_weight, X)
        if fitted:
            _initialisation.check_same_model(self, X.shape[1], "partial_fit")
            params = self._get_parameters()
        else:
            self._check_enough_rows(backend, X, sample_weight)
            initial = self._checked_initial_parameters(X)
            random_state = check_random_state(self.random_state)
            X_init, weights_init = _initialisation.initial_rows(
                backend, X, sample_weight, initial, random_state
            )
            if missing:
                X_init, weights_init = _initialisation.complete_rows(
                    X_init,
                    weights_init,
                    self.n_components,
                    backend.centre(X, sample_weight),
                )
            params = _initialisation.initial_parameters(
                self, X_init, initial, random_state, weights_init, warned
            )
        # the first batch is centred on its mean, as fit centres on the data's;
        # later ones on the current mixture mean, which saves a pass per batch
        centre = None if streaming else backend.centre(X, sample_weight).astype(X.dtype)
        backend = backend.with_threads(_threads.n_threads_for(self.n_threads, len(X)))
        with _threads.one_blas_thread(backend.n_threads):
            t, batch, running, starved, new_params = _streaming.step(
                self, backend, X, sample_weight, params, centre, warned, missing
            )

        if self.keep_history:
            history = self.history_ if streaming else [self._history_entry(params)]
            history[-1]["log_likelihood"] = batch.log_likelihood
            history.append(self._history_entry(new_params))
            self.history_ = history
        else:
            self.__dict__.pop("history_", None)
        self._set_parameters(new_params)
        self._stream_statistics = running
        self._starved_batches = starved
        self._stream_warned = warned
        self.n_batches_ = t
        _streaming.warn_if_starved(starved, self, X, warned)
        self.lower_bound_ = batch.log_likelihood / batch.total_weight
        return self

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
        """`weights_init`, `means_init`, `precisions_init` validated, or None."""
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
        # what warm_start and partial_fit may continue (check_same_model)
        self._fitted_covariance_type = self.covariance_type

    def _estep(self, centre=None, missing=False):
        return BlockEStep(
            *_estep_arguments(self._get_parameters()),
            self.covariance_type,
            centre,
            missing=missing,
        )

    def _per_block(self, backend, X, func, missing=False):
        """`func(estep, block)` over X's row blocks at the fitted parameters."""
        backend = backend.with_threads(_threads.n_threads_for(self.n_threads, len(X)))
        with _threads.one_blas_thread(backend.n_threads):
            return backend.map_blocks(X, self._estep(missing=missing), func)

    def _validated(self, X):
        """The backend for X, X validated against the fitted model, and
        whether X has missing entries (NaN)."""
        check_is_fitted(self)
        backend = _backend.select(X)
        X = backend.validate(self, X, reset=False)
        return backend, X, backend.missing_values(X, fitting=False)

    # -- prediction -----------------------------------------------------------

    def score_samples(self, X):
        """Log-likelihood ln p(x_n) of each row (eq-mixture).

        Per row, so sample weights do not enter; `score`, `bic`
        and `aic` take `sample_weight` and weight these values. For a row
        with missing entries (NaN), the log-density of its observed entries
        o, ln Σ_k π_k N(x_n,o | μ_k,o, Σ_k,oo).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            In the dtype of the fitted parameters (that of the training
            data); a lazy Dask array for Dask input.
        """
        backend, X, missing = self._validated(X)
        return self._per_block(backend, X, _log_norm, missing)

    def score(self, X, y=None, sample_weight=None):
        """Mean log-likelihood per row; with weights, their weighted mean.

        Without weights, `score_samples(X).mean()`, computed as
        scikit-learn computes its `score`: NumPy's mean in the dtype of
        `X` (float32 rows give the float32 mean of float32 values, to the
        last bit the same number). With `sample_weight`,
        Σ_n w_n ln p(x_n) / Σ_n w_n, scikit-learn's
        convention for a `sample_weight` in `score` (the weighted
        log-likelihood eq-weighted-log-likelihood per unit of weight),
        computed the same way: `np.average(score_samples(X), weights=w)`
        with the weights divided by the largest of them (so that every
        finite weight fits in float32) and cast to the dtype of `X`.
        Weights all equal give `score(X)`, to the last bit below 2**24
        rows (where float32 still counts rows exactly).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            As in `fit`.

        Returns
        -------
        float
            Computed (before the conversion to `float`) in the dtype of
            `score_samples`.
        """
        backend, X, missing = self._validated(X)
        sample_weight = backend.sample_weight(sample_weight, X)
        log_prob = self._per_block(backend, X, _log_norm, missing)
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
        backend, X, missing = self._validated(X)
        return self._per_block(backend, X, _labels, missing)

    def predict_proba(self, X):
        """Responsibilities γ(z_nk) of each component for each row.

        See eq-responsibility. For a row with missing entries (NaN), the
        responsibilities given its observed entries o: π_k N(x_n,o | μ_k,o,
        Σ_k,oo) over their sum.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
        """
        backend, X, missing = self._validated(X)
        return self._per_block(backend, X, _resp, missing)

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
        ValueError
            If `n_samples` is not an int of at least 1 (a bool, a float such
            as 2.0 or None is refused). The error is scikit-learn's
            InvalidParameterError, a ValueError and a TypeError.
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
        """Σ_n w_n ln p(x_n) and Σ_n w_n."""
        backend, X, missing = self._validated(X)
        sample_weight = backend.sample_weight(sample_weight, X)
        log_prob = self._per_block(backend, X, _log_norm, missing)
        return (
            backend.weighted_sum(log_prob, sample_weight),
            backend.total_weight(sample_weight, X),
        )

    def bic(self, X, sample_weight=None):
        """Bayesian information criterion on X (lower is better).

        -2 L + p ln N for p free parameters (eq-bic); with
        weights, L is the weighted log-likelihood
        (eq-weighted-log-likelihood) and N is Σ_n w_n.
        That is the BIC only for frequency weights (integer counts of how
        often each row was observed): it is then the criterion of the data
        with repeated rows. For other weights Σ_n w_n is no
        sample size, and the result is not a BIC: multiplying every weight by
        the same factor leaves the fit unchanged but changes the value, and
        can change the number of components it prefers.
        R's mclust defines the BIC with the other sign, 2 L - p ln N (larger
        is better): its `bic()` of the same fit is minus this value.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), default=None
            As in `fit`.

        Returns
        -------
        float
        """
        log_likelihood, n = self._weighted_log_likelihood(X, sample_weight)
        return -2 * log_likelihood + self._n_parameters() * math.log(n)

    def aic(self, X, sample_weight=None):
        """Akaike information criterion on X (lower is better).

        -2 L + 2 p (eq-aic), with L weighted as in `bic`;
        likewise the AIC only for frequency weights (integer counts), since
        multiplying every weight by a factor multiplies L by it but leaves the
        penalty as it is.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), default=None
            As in `fit`.

        Returns
        -------
        float
        """
        log_likelihood, _ = self._weighted_log_likelihood(X, sample_weight)
        return -2 * log_likelihood + 2 * self._n_parameters()


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
