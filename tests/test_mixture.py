"""gmmlib.GaussianMixture: the estimator API, the history, numerics, bad input."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from gmmlib import GaussianMixture, em

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]])
    return np.vstack([c + rng.standard_normal((100, 2)) * [1.0, 0.6] for c in centres])


def _quiet_fit(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


# -- history ------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_history_has_one_entry_per_iteration_from_initial_to_fitted(X, covariance_type):
    model = GaussianMixture(
        3, covariance_type=covariance_type, keep_history=True, random_state=0
    ).fit(X)
    history = model.history_
    assert len(history) == model.n_iter_ + 1
    for entry in history:
        assert set(entry) == {"weights", "means", "covariances", "log_likelihood"}
    last = history[-1]
    np.testing.assert_array_equal(last["weights"], model.weights_)
    np.testing.assert_array_equal(last["means"], model.means_)
    np.testing.assert_array_equal(last["covariances"], model.covariances_)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_history_log_likelihood_is_the_total_L_of_its_parameters(X, covariance_type):
    model = GaussianMixture(
        3,
        covariance_type=covariance_type,
        keep_history=True,
        init_params="random",
        max_iter=15,
        tol=0.0,
        random_state=1,
    )
    _quiet_fit(model, X)
    for entry in model.history_:
        expected = em.log_likelihood(
            X, entry["weights"], entry["means"], entry["covariances"], covariance_type
        )
        np.testing.assert_allclose(entry["log_likelihood"], expected, rtol=1e-10)
    # lower_bounds_ are the per-sample L of the parameters before each M-step
    np.testing.assert_allclose(
        [entry["log_likelihood"] / len(X) for entry in model.history_[:-1]],
        model.lower_bounds_,
        rtol=1e-12,
    )


def test_history_log_likelihood_never_decreases(X):
    model = GaussianMixture(
        3, keep_history=True, init_params="random", max_iter=40, tol=0, random_state=3
    )
    _quiet_fit(model, X)
    values = np.array([entry["log_likelihood"] for entry in model.history_])
    assert np.all(np.diff(values) >= -1e-9 * np.abs(values[:-1]))


def test_history_is_not_kept_by_default(X):
    model = GaussianMixture(3, random_state=0).fit(X)
    assert not hasattr(model, "history_")
