"""GaussianMixture with sample weights: a weight counts how often a row occurs.

From the same initial parameters, integer weights give the fit of the data
with each row repeated that many times (to 1e-12, same number of iterations),
weight 0 is a deleted row and scaling every weight changes nothing. Only the
rounding of sums taken in another order separates the two fits, so 1e-12 is
a few hundred ulps of float64 after some tens of EM iterations.
"""

import warnings

import dask.array as da
import numpy as np
import pytest
from _mixture_helpers import initial_parameters
from sklearn.exceptions import ConvergenceWarning

from gmmlib import GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
FITTED = ["weights_", "means_", "covariances_", "precisions_cholesky_"]
N_COMPONENTS = 3


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(11)
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -1.0], [1.0, 5.0, 2.0]])
    labels = rng.integers(N_COMPONENTS, size=240)
    scales = np.array([1.0, 0.7, 1.3])
    return centres[labels] + rng.standard_normal((240, 3)) * scales


@pytest.fixture(scope="module")
def counts(X):
    return np.random.default_rng(12).integers(0, 4, size=len(X))


# The Dask fits stop at a loose tol, after 4 to 10 iterations: each iteration's
# parameters are a function of the previous ones, so equal parameters after a
# few iterations prove the Dask statistics equal, and the same n_iter_ and
# converged_ prove the same stopping decision. Run to tol 1e-10 (up to 209
# iterations) they proved nothing more, at about 10 ms per Dask iteration.
DASK_PARAMS = {"tol": 1e-3, "max_iter": 20}


def _model(X, covariance_type="full", **params):
    params = {"tol": 1e-10, "max_iter": 500, **params}
    return GaussianMixture(
        N_COMPONENTS,
        covariance_type=covariance_type,
        **initial_parameters(X, covariance_type, N_COMPONENTS),
        **params,
    )


def _assert_same_fit(ours, expected, rtol=1e-12):
    assert ours.n_iter_ == expected.n_iter_
    assert ours.converged_ == expected.converged_
    for name in FITTED:
        actual, wanted = getattr(ours, name), getattr(expected, name)
        atol = rtol * np.abs(wanted).max()
        np.testing.assert_allclose(actual, wanted, rtol=rtol, atol=atol, err_msg=name)
    np.testing.assert_allclose(ours.lower_bound_, expected.lower_bound_, rtol=rtol)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_integer_weights_fit_like_repeated_rows(X, counts, covariance_type):
    weighted = _model(X, covariance_type).fit(X, sample_weight=counts)
    repeated = _model(X, covariance_type).fit(np.repeat(X, counts, axis=0))
    assert repeated.n_iter_ > 5  # a real run of EM
    _assert_same_fit(weighted, repeated)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_zero_weight_is_a_deleted_row(X, covariance_type):
    weights = np.ones(len(X))
    weights[5::7] = 0
    weighted = _model(X, covariance_type).fit(X, sample_weight=weights)
    deleted = _model(X, covariance_type).fit(X[weights > 0])
    _assert_same_fit(weighted, deleted)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_scaling_all_weights_changes_nothing(X, covariance_type):
    weights = np.random.default_rng(13).uniform(0.1, 2.0, size=len(X))
    once = _model(X, covariance_type).fit(X, sample_weight=weights)
    scaled = _model(X, covariance_type).fit(X, sample_weight=1e3 * weights)
    _assert_same_fit(scaled, once, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_unit_weights_give_the_unweighted_fit(X, covariance_type):
    unit = _model(X, covariance_type).fit(X, sample_weight=np.ones(len(X)))
    plain = _model(X, covariance_type).fit(X)
    _assert_same_fit(unit, plain)


def test_one_component_gives_numpys_weighted_mean_and_covariance(X):
    weights = np.random.default_rng(14).uniform(0.0, 3.0, size=len(X))
    model = GaussianMixture(1, reg_covar=0).fit(X, sample_weight=weights)
    np.testing.assert_allclose(
        model.means_[0], np.average(X, axis=0, weights=weights), rtol=1e-12
    )
    # aweights with bias=True: sum_n w_n (x_n - m)(x_n - m)^T / sum_n w_n
    expected = np.cov(X.T, aweights=weights, bias=True)
    np.testing.assert_allclose(model.covariances_[0], expected, rtol=1e-11)


def test_weighted_score_and_criteria_equal_those_of_repeated_rows(X, counts):
    model = _model(X).fit(X)
    repeated = np.repeat(X, counts, axis=0)
    assert model.score(X, sample_weight=counts) == pytest.approx(
        model.score(repeated), rel=1e-12
    )
    assert model.bic(X, sample_weight=counts) == pytest.approx(
        model.bic(repeated), rel=1e-12
    )
    assert model.aic(X, sample_weight=counts) == pytest.approx(
        model.aic(repeated), rel=1e-12
    )


def test_fit_predict_with_weights_equals_fit_then_predict(X, counts):
    model = _model(X)
    labels = model.fit_predict(X, sample_weight=counts)
    np.testing.assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("init_params", ["random_from_data", "k-means++"])
def test_seeding_draws_only_rows_with_positive_weight(X, init_params):
    weights = np.zeros(len(X))
    chosen = [10, 50, 90]
    weights[chosen] = 1.0
    model = GaussianMixture(
        N_COMPONENTS, init_params=init_params, max_iter=0, random_state=0
    ).fit(X, sample_weight=weights)
    order = np.lexsort(model.means_.T)
    expected = X[chosen][np.lexsort(X[chosen].T)]
    np.testing.assert_allclose(model.means_[order], expected, rtol=1e-12)


@pytest.mark.parametrize("init_params", ["kmeans", "random"])
def test_initialisation_ignores_rows_of_weight_zero(X, init_params):
    far = np.vstack([X, X[:40] + 1e3])  # a far cluster that weighs nothing
    weights = np.r_[np.ones(len(X)), np.zeros(40)]
    model = GaussianMixture(
        N_COMPONENTS, init_params=init_params, max_iter=0, random_state=0
    ).fit(far, sample_weight=weights)
    assert np.abs(model.means_).max() < 10


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (lambda n: -np.ones(n), "sample_weight must be non-negative"),
        (lambda n: np.r_[np.nan, np.ones(n - 1)], "sample_weight contains nan"),
        (lambda n: np.r_[np.ones(n - 1), np.inf], "sample_weight contains inf"),
        (lambda n: np.zeros(n), "sample_weight is zero for every row"),
        (lambda n: np.ones(n + 1), "sample_weight must have shape \\(n_samples,\\)"),
        (lambda n: np.ones((n, 1)), "sample_weight must have shape \\(n_samples,\\)"),
        (lambda n: np.array(["a"] * n), "sample_weight must hold numbers"),
        (lambda n: np.r_[1.0, 1.0, np.zeros(n - 2)], "sample_weight is positive on 2"),
    ],
)
def test_bad_sample_weight_is_refused_by_name(X, weights, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(N_COMPONENTS).fit(X, sample_weight=weights(len(X)))


def test_sample_weight_is_not_written_to(X):
    weights = np.random.default_rng(15).uniform(size=len(X))
    before = weights.copy()
    _model(X, tol=1e-3).fit(X, sample_weight=weights)
    np.testing.assert_array_equal(weights, before)


# -- Dask: weights chunked like X's rows --------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_dask_weighted_fit_equals_the_in_memory_weighted_fit(X, covariance_type):
    weights = np.random.default_rng(16).uniform(0.0, 2.0, size=len(X))
    in_memory = _model(X, covariance_type, **DASK_PARAMS).fit(X, sample_weight=weights)
    Xd = da.from_array(X, chunks=(50, -1))
    on_dask = _model(X, covariance_type, **DASK_PARAMS).fit(
        Xd, sample_weight=da.from_array(weights, chunks=50)
    )
    assert in_memory.converged_ and in_memory.n_iter_ > 3  # a real run of EM
    _assert_same_fit(on_dask, in_memory, rtol=1e-10)


def test_dask_weights_chunked_otherwise_are_rechunked_like_X(X, counts):
    Xd = da.from_array(X, chunks=(50, -1))
    aligned = _model(X, **DASK_PARAMS).fit(
        Xd, sample_weight=da.from_array(counts, chunks=50)
    )
    other = _model(X, **DASK_PARAMS).fit(
        Xd, sample_weight=da.from_array(counts, chunks=70)
    )
    as_numpy = _model(X, **DASK_PARAMS).fit(Xd, sample_weight=counts)
    assert aligned.converged_ and aligned.n_iter_ > 3
    _assert_same_fit(other, aligned, rtol=1e-13)
    _assert_same_fit(as_numpy, aligned, rtol=1e-13)


def test_dask_float32_weighted_fit_stays_float32(X, counts):
    X32 = X.astype(np.float32)
    model = _model(X32, **DASK_PARAMS).fit(
        da.from_array(X32, chunks=(50, -1)), sample_weight=da.from_array(counts, 50)
    )
    assert model.means_.dtype == np.float32
    reference = _model(X32, **DASK_PARAMS).fit(X32, sample_weight=counts)
    assert reference.converged_ and model.n_iter_ == reference.n_iter_ > 3
    np.testing.assert_allclose(model.means_, reference.means_, rtol=1e-5)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (-1.0, "sample_weight must be non-negative"),
        (np.nan, "sample_weight contains nan"),
    ],
)
def test_dask_bad_weight_is_refused_by_name(X, bad, match):
    weights = np.ones(len(X))
    weights[123] = bad
    Xd = da.from_array(X, chunks=(50, -1))
    with pytest.raises(ValueError, match=match):
        _model(X).fit(Xd, sample_weight=da.from_array(weights, chunks=50))


def test_dask_weighted_score_equals_in_memory_and_refuses_bad_weights(X, counts):
    model = _model(X).fit(X)
    Xd = da.from_array(X, chunks=(50, -1))
    weights = da.from_array(counts.astype(float), chunks=50)
    assert model.score(Xd, sample_weight=weights) == pytest.approx(
        model.score(X, sample_weight=counts), rel=1e-12
    )
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        model.score(Xd, sample_weight=-weights)


def test_dask_all_zero_or_misshapen_weights_are_refused(X):
    Xd = da.from_array(X, chunks=(50, -1))
    with pytest.raises(ValueError, match="sample_weight is zero for every row"):
        _model(X).fit(Xd, sample_weight=da.zeros(len(X), chunks=50))
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        _model(X).fit(Xd, sample_weight=da.ones(len(X) + 1, chunks=50))


def test_weighted_fit_converges_without_warnings(X, counts):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _model(X).fit(X, sample_weight=counts)


def test_bic_and_aic_of_rescaled_weights_move_with_the_scale(X, counts):
    """BIC and AIC are criteria of frequency weights: c * w is another data set.

    The fit is unchanged by the scale c, but L_w is multiplied by c and the
    BIC's ln sum(w) grows by ln c, as the docstrings say.
    """
    model = _model(X).fit(X, sample_weight=counts)
    log_likelihood = model.score(X, sample_weight=counts) * counts.sum()
    p = model._n_parameters()
    for c in (0.01, 1.0, 7.0):
        assert model.bic(X, sample_weight=c * counts) == pytest.approx(
            -2 * c * log_likelihood + p * np.log(c * counts.sum()), rel=1e-12
        )
        assert model.aic(X, sample_weight=c * counts) == pytest.approx(
            -2 * c * log_likelihood + 2 * p, rel=1e-12
        )
