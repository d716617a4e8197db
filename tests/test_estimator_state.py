"""What a GaussianMixture keeps between calls: refits, warm starts, streams.

Each test reproduces a bug of the estimator's state (issue 19): a history
that outlived the refit that should drop it, a warm start that discarded a
stream, and refits that continued parameters of another model.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from gmmlib import GaussianMixture
from gmmlib.datasets import make_mixture


@pytest.fixture(scope="module")
def X():
    X, _, _ = make_mixture(n_samples=600, n_components=3, random_state=0)
    return X


def _fit(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


# -- history_ ---------------------------------------------------------------------


def test_refit_without_keep_history_drops_the_history(X):
    model = _fit(GaussianMixture(3, keep_history=True, random_state=0), X)
    assert len(model.history_) == model.n_iter_ + 1
    model.set_params(keep_history=False)
    _fit(model, X)
    assert not hasattr(model, "history_")


def test_partial_fit_without_keep_history_drops_the_history(X):
    model = _fit(GaussianMixture(3, keep_history=True, random_state=0), X)
    model.set_params(keep_history=False)
    model.partial_fit(X[:300])
    assert not hasattr(model, "history_")


# -- warm start after a stream --------------------------------------------------------


def test_warm_start_fit_continues_from_the_streamed_parameters(X):
    streamed = GaussianMixture(3, random_state=0)
    for batch in np.array_split(X, 4):
        streamed.partial_fit(batch)
    start = tuple(
        np.copy(getattr(streamed, name))
        for name in ("weights_", "means_", "precisions_")
    )
    streamed.set_params(warm_start=True, max_iter=1)
    _fit(streamed, X)

    # one EM iteration from the streamed parameters, run by a fresh estimator
    weights, means, precisions = start
    reference = GaussianMixture(
        3,
        max_iter=1,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
    )
    _fit(reference, X)
    assert streamed.n_iter_ == 1
    np.testing.assert_allclose(streamed.means_, reference.means_, rtol=1e-10)
    np.testing.assert_allclose(
        streamed.covariances_, reference.covariances_, rtol=1e-10
    )
    np.testing.assert_allclose(streamed.weights_, reference.weights_, rtol=1e-10)
    assert not hasattr(streamed, "n_batches_")  # fit ends the stream


def test_warm_start_fit_after_a_stream_does_not_reinitialise(X):
    streamed = GaussianMixture(3, random_state=0, init_params="random")
    streamed.partial_fit(X)
    means = streamed.means_.copy()
    streamed.set_params(warm_start=True, max_iter=0)
    _fit(streamed, X)
    np.testing.assert_array_equal(streamed.means_, means)


# -- a changed model with warm_start or partial_fit ------------------------------------

CHANGES = [
    ("full", "diag"),
    ("diag", "spherical"),
    ("spherical", "diag"),
    ("full", "tied"),
    ("tied", "full"),
    ("diag", "full"),
]


@pytest.mark.parametrize(("before", "after"), CHANGES)
def test_warm_start_with_another_covariance_type_is_refused_by_name(X, before, after):
    model = _fit(GaussianMixture(3, covariance_type=before, random_state=0), X)
    model.set_params(covariance_type=after, warm_start=True)
    with pytest.raises(
        ValueError,
        match=rf"covariance_type was '{before}' and is now '{after}'.*warm_start=False",
    ):
        model.fit(X)


@pytest.mark.parametrize(("before", "after"), CHANGES)
def test_partial_fit_with_another_covariance_type_is_refused_by_name(X, before, after):
    model = GaussianMixture(3, covariance_type=before, random_state=0)
    model.partial_fit(X)
    model.set_params(covariance_type=after)
    with pytest.raises(
        ValueError, match=rf"covariance_type was '{before}' and is now '{after}'"
    ):
        model.partial_fit(X)


def test_warm_start_with_another_n_components_is_refused_by_name(X):
    model = _fit(GaussianMixture(3, random_state=0), X)
    model.set_params(n_components=2, warm_start=True)
    with pytest.raises(ValueError, match="n_components was 3 and is now 2"):
        model.fit(X)


def test_partial_fit_with_another_n_components_is_refused_by_name(X):
    model = GaussianMixture(3, random_state=0).partial_fit(X)
    model.set_params(n_components=4)
    with pytest.raises(ValueError, match="n_components was 3 and is now 4"):
        model.partial_fit(X)


def test_warm_start_with_another_number_of_features_is_refused_by_name(X):
    model = _fit(GaussianMixture(3, random_state=0), X)
    model.set_params(warm_start=True)
    with pytest.raises(ValueError, match="2 features and X has 3"):
        model.fit(np.hstack([X, X[:, :1]]))


def test_a_refused_change_fits_afresh_without_warm_start(X):
    model = _fit(GaussianMixture(3, covariance_type="full", random_state=0), X)
    model.set_params(covariance_type="diag", warm_start=True)
    with pytest.raises(ValueError):
        model.fit(X)
    model.set_params(warm_start=False)
    fresh = _fit(GaussianMixture(3, covariance_type="diag", random_state=0), X)
    np.testing.assert_allclose(_fit(model, X).covariances_, fresh.covariances_)
    # and the refitted model continues under its new type
    model.set_params(warm_start=True)
    _fit(model, X)
    assert model.covariances_.shape == (3, X.shape[1])
