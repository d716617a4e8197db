"""GaussianMixture.partial_fit: stepwise EM on the sufficient statistics.

Stepwise EM (Cappé & Moulines 2009) moves running statistics towards each
batch's with step rho_t = (t + tau_0)^(-kappa) (t >= 2) and M-steps them. The first
batch has nothing to forget (rho_1 = 1), so it is exactly one EM iteration;
on a long stream from a known mixture the parameters approach batch EM's on
all the rows; the state survives pickling in the middle of a stream. A
component that the stream starves (a first batch too small to start it) is
never lost silently: StarvedComponentWarning names it.
"""

import copy
import pickle
import warnings

import dask.array as da
import numpy as np
import pytest
from _mixture_helpers import initial_parameters
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from gmmlib import GaussianMixture
from gmmlib.datasets import make_mixture
from gmmlib.mixture import StarvedComponentWarning
from gmmlib.suffstats import SufficientStatistics, stepwise_statistics

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
FITTED = ["weights_", "means_", "covariances_", "precisions_cholesky_"]
K = 3


@pytest.fixture(scope="module")
def truth():
    _, _, params = make_mixture(n_samples=10, n_components=K, random_state=3)
    return params


def _batch(truth, seed, n_samples=500):
    X, _, _ = make_mixture(
        n_samples=n_samples,
        weights=truth.weights,
        means=truth.means,
        covariances=truth.covariances,
        random_state=seed,
    )
    return X


def _assert_equal_fits(ours, expected):
    for name in FITTED:
        np.testing.assert_array_equal(getattr(ours, name), getattr(expected, name))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_first_batch_is_exactly_one_em_iteration(truth, covariance_type):
    X = _batch(truth, 0)
    init = initial_parameters(X, covariance_type, K)
    streamed = GaussianMixture(K, covariance_type=covariance_type, **init)
    streamed.partial_fit(X)
    batch = GaussianMixture(K, covariance_type=covariance_type, max_iter=1, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        batch.fit(X)
    _assert_equal_fits(streamed, batch)
    assert streamed.lower_bound_ == batch.lower_bound_
    assert streamed.n_batches_ == 1


def test_partial_fit_after_fit_is_one_more_em_iteration(truth):
    X = _batch(truth, 1)
    fitted = GaussianMixture(K, random_state=0, max_iter=5, tol=0)
    warm = GaussianMixture(K, random_state=0, max_iter=5, tol=0, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted.fit(X)
        warm.fit(X)
        warm.set_params(max_iter=1).fit(X)
    fitted.partial_fit(X)
    _assert_equal_fits(fitted, warm)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_stream_approaches_batch_em_on_all_rows(truth, covariance_type):
    """200 batches of 500 rows against batch EM on the 100 000 rows.

    With kappa = 0.7, tau_0 = 10 the last steps are rho_200 = 210^-0.7 = 0.024:
    the running statistics are an average over the last few dozen batches
    (some 10^4 rows, not all 10^5), so the streamed parameters keep the
    sampling noise of that many rows: about 0.01 in the means (standard
    deviations 0.6-0.8 here), 0.002 in the weights, 2% in the covariances
    (observed: 0.013, 0.0015, 1.6%). The tolerances, 0.05 in the means,
    0.01 in the weights and 5% in the covariances, are a few times that;
    the first batch's means miss them (0.14, asserted below), so the test
    sees the stream converge, not just start close.
    """
    batches = [_batch(truth, 100 + i) for i in range(200)]
    init = initial_parameters(batches[0], covariance_type, K)
    streamed = GaussianMixture(K, covariance_type=covariance_type, **init)
    streamed.partial_fit(batches[0])
    first_means = streamed.means_.copy()
    for X in batches[1:]:
        streamed.partial_fit(X)
    everything = np.vstack(batches)
    batch = GaussianMixture(K, covariance_type=covariance_type, tol=1e-8, **init)
    batch.fit(everything)
    order = np.argsort(batch.means_[:, 0])
    assert np.array_equal(np.argsort(streamed.means_[:, 0]), order)
    np.testing.assert_allclose(streamed.means_, batch.means_, atol=0.05)
    np.testing.assert_allclose(streamed.weights_, batch.weights_, atol=0.01)
    np.testing.assert_allclose(
        streamed.covariances_,
        batch.covariances_,
        rtol=0.05,
        atol=0.05 * np.abs(batch.covariances_).max(),
    )
    assert np.abs(first_means - batch.means_).max() > 0.05


def test_pickle_in_the_middle_of_a_stream_continues_identically(truth):
    batches = [_batch(truth, 200 + i) for i in range(8)]
    model = GaussianMixture(K, random_state=0, keep_history=True)
    for X in batches[:4]:
        model.partial_fit(X)
    restored = pickle.loads(pickle.dumps(model))
    copied = copy.deepcopy(model)
    for X in batches[4:]:
        model.partial_fit(X)
        restored.partial_fit(X)
        copied.partial_fit(X)
    _assert_equal_fits(restored, model)
    _assert_equal_fits(copied, model)
    assert restored.n_batches_ == model.n_batches_ == 8
    assert len(restored.history_) == 9


def test_clone_in_the_middle_of_a_stream_replays_it_identically(truth):
    batches = [_batch(truth, 300 + i) for i in range(6)]
    model = GaussianMixture(K, random_state=0, learning_decay=0.9)
    for X in batches[:3]:
        model.partial_fit(X)
    fresh = clone(model)  # the parameters, not the stream
    assert not hasattr(fresh, "n_batches_")
    for X in batches[3:]:
        model.partial_fit(X)
    for X in batches:
        fresh.partial_fit(X)
    _assert_equal_fits(fresh, model)


def test_integer_weights_in_a_stream_act_like_repeated_rows(truth):
    batches = [_batch(truth, 400 + i, 200) for i in range(5)]
    counts = [np.random.default_rng(i).integers(0, 4, size=200) for i in range(5)]
    init = initial_parameters(batches[0], "full", K)
    weighted = GaussianMixture(K, **init)
    repeated = GaussianMixture(K, **init)
    for X, c in zip(batches, counts, strict=True):
        weighted.partial_fit(X, sample_weight=c)
        repeated.partial_fit(np.repeat(X, c, axis=0))
    for name in FITTED:
        np.testing.assert_allclose(
            getattr(weighted, name), getattr(repeated, name), rtol=1e-12, atol=1e-14
        )


def test_dask_batches_give_the_in_memory_stream(truth):
    batches = [_batch(truth, 500 + i) for i in range(4)]
    in_memory = GaussianMixture(K, **initial_parameters(batches[0], "full", K))
    on_dask = GaussianMixture(K, **initial_parameters(batches[0], "full", K))
    for X in batches:
        in_memory.partial_fit(X)
        on_dask.partial_fit(da.from_array(X, chunks=(120, -1)))
    for name in FITTED:
        np.testing.assert_allclose(
            getattr(on_dask, name), getattr(in_memory, name), rtol=1e-10
        )


def test_another_number_of_features_is_refused(truth):
    model = GaussianMixture(K, random_state=0).partial_fit(_batch(truth, 0))
    with pytest.raises(ValueError, match="X has 3 features.* expecting 2"):
        model.partial_fit(np.ones((50, 3)))


def test_fit_discards_the_stream(truth):
    X = _batch(truth, 0)
    model = GaussianMixture(K, random_state=0).partial_fit(X).partial_fit(X)
    model.fit(X)
    assert not hasattr(model, "n_batches_")
    _assert_equal_fits(model, GaussianMixture(K, random_state=0).fit(X))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"learning_decay": 0.5}, "'learning_decay' parameter .* range \\(0.5, 1.0\\]"),
        ({"learning_decay": 1.5}, "'learning_decay' parameter"),
        ({"learning_offset": -1.0}, "'learning_offset' parameter .* range \\[0.0"),
    ],
)
def test_step_size_parameters_outside_their_range_are_named(truth, params, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(K, **params).partial_fit(_batch(truth, 0))


def test_later_steps_follow_the_step_size_formula(truth):
    """s_t = (1 - rho_t) s_{t-1} + rho_t s_batch, checked on the soft counts.

    The mixing weights are N_k / sum_j N_j of the running statistics, so the
    interpolation of the per-weight counts is visible in ``weights_``.
    """
    from gmmlib.suffstats import BlockEStep

    X1, X2 = _batch(truth, 600), _batch(truth, 601, 300)
    model = GaussianMixture(K, random_state=0, learning_offset=2.0)
    model.partial_fit(X1)
    pi_1 = model.weights_.copy()
    estep = BlockEStep(model.weights_, model.means_, model.precisions_cholesky_, "full")
    nk_batch = estep.statistics(X2).nk / len(X2)
    model.partial_fit(X2)
    rho = (2 + 2.0) ** -0.7
    expected = (1 - rho) * pi_1 + rho * nk_batch
    np.testing.assert_allclose(model.weights_, expected / expected.sum(), rtol=1e-9)


# -- components that the stream starves ----------------------------------------


def _stream(X, sizes, **params):
    """partial_fit over X in consecutive batches; the model and its warnings."""
    model = GaussianMixture(K, random_state=0, **params)
    stops = np.cumsum(sizes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for start, stop in zip(stops - sizes, stops, strict=True):
            model.partial_fit(X[start:stop])
    starved = [w for w in caught if issubclass(w.category, StarvedComponentWarning)]
    return model, starved


@pytest.fixture(scope="module")
def iris():
    X, _ = load_iris(return_X_y=True)
    return X[np.random.default_rng(0).permutation(len(X))]


def test_iris_in_batches_of_15_warns_that_components_starve(iris):
    """The first batch of 15 starts two components on fewer than 5 rows.

    Their covariances are singular but for reg_covar, no later row fits them,
    and their weights shrink towards 0 (0.032 and 0.064 after 10 batches).
    """
    model, starved = _stream(iris, np.full(10, 15))
    assert len(starved) == 1
    message = str(starved[0].message)
    assert "component(s) 1, 2 " in message
    assert (
        "n_features + 1 = 5" in message and "n_components * (n_features + 1)" in message
    )
    assert np.sort(model.weights_)[:2].max() < 0.07


def test_make_mixture_in_batches_of_10_warns():
    """The first 10 rows give one component a single row: a spike at it."""
    X, _, _ = make_mixture(3000, 3)
    model, starved = _stream(X, np.full(300, 10))
    assert len(starved) >= 1
    assert model.weights_.min() < 1e-4


def test_a_starved_weight_shrinks_by_one_minus_rho_per_batch(iris):
    model = GaussianMixture(K, random_state=0, keep_history=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarvedComponentWarning)
        for start in range(0, 150, 15):
            model.partial_fit(iris[start : start + 15])
    weights = np.array([entry["weights"] for entry in model.history_])
    t = np.arange(2, 11)
    rho = (t + model.learning_offset) ** -model.learning_decay
    for k in (1, 2):  # the starved ones
        np.testing.assert_allclose(
            weights[2:, k] / weights[1:-1, k], 1 - rho, rtol=1e-9
        )


@pytest.mark.parametrize("size", [50, 75, 150])
@pytest.mark.parametrize("shuffle", range(5))
def test_batches_of_50_rows_or_more_starve_nothing(truth, iris, size, shuffle):
    order = np.random.default_rng(shuffle).permutation(len(iris))
    _, starved = _stream(iris[order], np.full(150 // size, size))
    assert not starved
    X = _batch(truth, 800 + shuffle, 3000)
    _, starved = _stream(X, np.full(3000 // size, size))
    assert not starved


def test_a_first_batch_large_enough_lets_later_batches_be_small(iris):
    _, starved = _stream(iris, np.r_[60, np.full(6, 15)])
    assert not starved


def _unequal_mixture(n_samples):
    """Three components of weights 0.1, 0.45, 0.45 (means and covariances of a
    make_mixture draw)."""
    _, _, source = make_mixture(n_samples=10, n_components=3, random_state=3)
    return make_mixture(
        n_samples=n_samples,
        weights=np.array([0.1, 0.45, 0.45]),
        means=source.means,
        covariances=source.covariances,
        random_state=7,
    )[0]


def test_a_small_first_call_after_fit_can_leave_a_spike():
    """rho_1 = 1 after fit too: the first partial_fit M-steps its batch alone,
    so fitting a first sample does not make a small first batch safe."""
    X = _unequal_mixture(210)
    model = GaussianMixture(K, random_state=0).fit(X[:200])
    assert np.linalg.eigvalsh(model.covariances_)[:, 0].min() > 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarvedComponentWarning)
        model.partial_fit(X[200:210])
    assert np.linalg.eigvalsh(model.covariances_)[:, 0].min() < 2 * model.reg_covar


def test_batches_with_about_one_row_of_a_component_give_false_alarms():
    """After a first batch of 200 rows, 300 batches of 10 keep the component
    of weight 0.1 (n pi_k = 1), yet the warning fires: three batches in a row
    hold none of its rows with probability about 0.9^30 = 4%."""
    X = _unequal_mixture(200 + 10 * 300)
    model, starved = _stream(X, np.r_[200, np.full(300, 10)])
    assert len(starved) >= 1
    assert np.sort(model.weights_)[0] > 0.07  # the component is fine
    assert np.linalg.eigvalsh(model.covariances_)[:, 0].min() > 0.1


def test_fit_forgets_the_starved_count(iris):
    model, _ = _stream(iris, np.full(4, 15))
    model.fit(iris)
    assert not hasattr(model, "_starved_batches")


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_step_is_taken_per_unit_of_weight_for_unequal_batches(covariance_type):
    """Batches of 10 and 50 rows with unequal weights: raw moments by hand.

    Merging the stored sums with 1 - rho and rho alone would be the step
    rho W_2 / ((1 - rho) W_1 + rho W_2) per unit of weight (0.90 here).
    """
    rng = np.random.default_rng(21)
    X = rng.standard_normal((60, 2)) * [1.0, 2.0] + [3.0, -1.0]
    resp = rng.dirichlet(np.ones(K), size=60)
    w = np.r_[np.full(10, 0.5), np.full(50, 2.0)]
    parts = [slice(0, 10), slice(10, 60)]
    running, batch = (
        SufficientStatistics.from_responsibilities(
            X[p], resp[p], covariance_type, sample_weight=w[p]
        )
        for p in parts
    )
    rho = 0.3
    mixed = stepwise_statistics(running, batch, rho)
    assert mixed.total_weight == pytest.approx(batch.total_weight)

    def per_unit(p):
        wg = w[p, None] * resp[p]
        total = w[p].sum()
        second = np.einsum("nk,ni,nj->kij", wg, X[p], X[p]) / total
        return wg.sum(axis=0) / total, wg.T @ X[p] / total, second

    s0, s1, s2 = (a + rho * (b - a) for a, b in zip(*map(per_unit, parts), strict=True))
    means = s1 / s0[:, None]
    scatter = s2 / s0[:, None, None] - np.einsum("ki,kj->kij", means, means)
    unit = mixed.total_weight
    np.testing.assert_allclose(mixed.nk / unit, s0, rtol=1e-12)
    np.testing.assert_allclose(mixed.means, means, rtol=1e-12)
    if covariance_type in ("full", "tied"):
        expected = scatter
    else:
        expected = np.diagonal(scatter, axis1=1, axis2=2)
    np.testing.assert_allclose(
        mixed.scatter / mixed.nk.reshape((-1,) + (1,) * (expected.ndim - 1)),
        expected,
        rtol=1e-10,
    )
