"""The thread policy of a pass over NumPy rows (gmmlib._threads), run in tests.

Tests, CI and the Makefile set OMP_NUM_THREADS=1, so the default policy runs
one thread here; these tests ask for two with ``n_threads=2``, and check the
default's choices by giving it the CPUs and the environment it reads.
"""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import gmmlib._threads
import gmmlib.suffstats
from gmmlib import GaussianMixture
from gmmlib._threads import MIN_ROWS_PER_THREAD, available_cpus, n_threads_for
from gmmlib.datasets import make_mixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
# the fits stop at max_iter on purpose
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def pool_sizes(monkeypatch):
    """The size of the pool each threaded pass asked for."""
    sizes = []
    real = gmmlib._threads.executor

    def recording(n_threads):
        sizes.append(n_threads)
        return real(n_threads)

    monkeypatch.setattr(gmmlib._threads, "executor", recording)
    return sizes


@pytest.fixture(scope="module")
def X():
    X, _, _ = make_mixture(n_samples=6000, n_components=3, random_state=0)
    return X


def _blas_threads():
    return sorted(
        lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_and_predictions_on_two_threads_equal_those_on_one(
    X, covariance_type, pool_sizes
):
    params = dict(covariance_type=covariance_type, max_iter=8, tol=0, random_state=0)
    one = GaussianMixture(3, n_threads=1, **params).fit(X)
    assert pool_sizes == []
    two = GaussianMixture(3, n_threads=2, **params).fit(X)
    # every pass of the fit (8 iterations and the final E-step) ran threaded
    assert pool_sizes == [2] * 9
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(
            getattr(two, name), getattr(one, name), rtol=1e-12, atol=1e-12
        )
    np.testing.assert_allclose(two.lower_bounds_, one.lower_bounds_, rtol=1e-12)
    np.testing.assert_allclose(two.score_samples(X), one.score_samples(X), rtol=1e-12)
    np.testing.assert_allclose(two.predict_proba(X), one.predict_proba(X), atol=1e-12)
    np.testing.assert_array_equal(two.predict(X), one.predict(X))
    assert pool_sizes == [2] * 12


def test_partial_fit_on_two_threads_equals_that_on_one(X, pool_sizes):
    one = GaussianMixture(3, n_threads=1, random_state=0)
    two = GaussianMixture(3, n_threads=2, random_state=0)
    for batch in np.array_split(X, 3):
        one.partial_fit(batch)
        two.partial_fit(batch)
    assert pool_sizes == [2] * 3
    np.testing.assert_allclose(two.means_, one.means_, rtol=1e-12)
    np.testing.assert_allclose(two.covariances_, one.covariances_, rtol=1e-12)
    np.testing.assert_allclose(two.weights_, one.weights_, rtol=1e-12)


def test_concurrent_fits_in_two_python_threads_equal_sequential_fits(X):
    settings = [
        dict(covariance_type="full", random_state=0),
        dict(covariance_type="diag", random_state=1),
    ]
    sequential = [
        GaussianMixture(3, n_threads=2, max_iter=20, **kw).fit(X) for kw in settings
    ]
    concurrent = [GaussianMixture(3, n_threads=2, max_iter=20, **kw) for kw in settings]
    errors = []

    def fit(model):
        try:
            for _ in range(3):  # several fits, so that their passes interleave
                model.fit(X)
        except Exception as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=fit, args=(m,)) for m in concurrent]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for seq, con in zip(sequential, concurrent, strict=True):
        np.testing.assert_array_equal(con.means_, seq.means_)
        np.testing.assert_array_equal(con.covariances_, seq.covariances_)
        assert con.n_iter_ == seq.n_iter_


def test_the_blas_is_held_at_one_thread_during_threaded_passes_and_given_back(
    X, monkeypatch
):
    seen = []
    real = gmmlib.suffstats.BlockEStep._statistics_of_blocks

    def recording(self, *args, **kwargs):
        seen.append(_blas_threads())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(gmmlib.suffstats.BlockEStep, "_statistics_of_blocks", recording)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        assert before and set(before) == {2}, "the BLAS does not take 2 threads"
        model = GaussianMixture(3, n_threads=2, max_iter=3, tol=0, random_state=0)
        model.fit(X)
        model.partial_fit(X)
        model.predict(X)
        after = _blas_threads()
        # one thread: no hold, the BLAS keeps its count
        seen_single = len(seen)
        GaussianMixture(3, n_threads=1, max_iter=2, tol=0, random_state=0).fit(X)
    # the threaded passes ran with one BLAS thread (idle BLAS workers spin and
    # take the cores from the pass's threads); afterwards the count is back
    assert len(seen) >= seen_single + 2 and seen_single >= 6
    assert all(set(counts) == {1} for counts in seen[:seen_single])
    assert all(counts == before for counts in seen[seen_single:])
    assert after == before


@pytest.mark.parametrize("init_params", ["kmeans", "random_from_data"])
def test_a_threaded_fit_holds_the_blas_from_its_start(X, monkeypatch, init_params):
    """The start's BLAS calls (k-means, the first statistics) run at one BLAS
    thread too: workers they woke would spin on and take the cores from the
    first EM passes (1e6 x 2, K = 3, 'full': 10.5 ms per iteration with the
    hold around the EM loop only, 6.9 ms with it around the whole fit)."""
    from gmmlib import _initialisation

    seen = []
    real = _initialisation.initial_parameters

    def recording(*args, **kwargs):
        seen.append(_blas_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(_initialisation, "initial_parameters", recording)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        model = GaussianMixture(
            3, n_threads=2, max_iter=2, tol=0, random_state=0, init_params=init_params
        )
        model.fit(X)
        after = _blas_threads()
    assert len(seen) == 1 and set(seen[0]) == {1}
    assert after == before


def test_holds_from_concurrent_estimators_restore_the_count_the_first_found():
    from gmmlib import _threads

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        first = _threads.one_blas_thread(2)
        second = _threads.one_blas_thread(3)
        first.__enter__()
        second.__enter__()  # a second estimator joins the hold
        assert set(_blas_threads()) == {1}
        first.__exit__(None, None, None)  # the first leaves before the second
        assert set(_blas_threads()) == {1}, "released while another still runs"
        second.__exit__(None, None, None)
        assert _blas_threads() == before
        with _threads.one_blas_thread(1):
            assert _blas_threads() == before


def test_pools_are_made_once_and_reused():
    assert gmmlib._threads.executor(2) is gmmlib._threads.executor(2)
    assert gmmlib._threads.executor(3) is not gmmlib._threads.executor(2)


def test_repeated_fits_start_no_new_threads(X):
    GaussianMixture(3, n_threads=2, max_iter=2, random_state=0).fit(X)
    running = threading.active_count()
    for seed in range(3):
        GaussianMixture(3, n_threads=2, max_iter=2, random_state=seed).fit(X)
    assert threading.active_count() == running


# -- the default policy -------------------------------------------------------


@pytest.fixture
def four_cpus(monkeypatch):
    monkeypatch.setattr(
        gmmlib._threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False
    )
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


def test_default_is_one_thread_per_2048_rows_at_most_the_cpus(four_cpus):
    assert MIN_ROWS_PER_THREAD == 2048
    assert available_cpus() == 4
    assert n_threads_for(None, 10) == 1
    assert n_threads_for(None, 4095) == 1
    assert n_threads_for(None, 4096) == 2
    assert n_threads_for(None, 3 * 2048) == 3
    assert n_threads_for(None, 10**7) == 4


def test_default_honours_omp_num_threads(four_cpus, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert available_cpus() == 2
    assert n_threads_for(None, 10**7) == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert available_cpus() == 4


def test_explicit_n_threads_is_used_as_given(four_cpus):
    assert n_threads_for(1, 10**7) == 1
    assert n_threads_for(3, 10) == 3


def test_default_runs_partial_fit_threaded_from_4096_rows(X, four_cpus, pool_sizes):
    GaussianMixture(3, random_state=0).partial_fit(X[:4095])
    assert pool_sizes == []
    GaussianMixture(3, random_state=0).partial_fit(X[:4096])
    assert pool_sizes == [2]


def test_n_threads_must_be_a_positive_int_or_none(X):
    with pytest.raises(ValueError, match="n_threads"):
        GaussianMixture(2, n_threads=0).fit(X)
