"""gmmlib.GaussianMixture fits what scikit-learn and the functional core fit.

From the same initial parameters, with the same tol, reg_covar and max_iter,
the fitted parameters agree with scikit-learn's to rtol 1e-6 and the number of
iterations is equal; one fused block-wise EM iteration equals one iteration of
the book's plain formulas (gmmlib.em).
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmmlib import GaussianMixture, em

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
FITTED = ["weights_", "means_", "covariances_", "precisions_cholesky_"]


def _mixture(seed, n_samples, means, scales, offset=0.0):
    """Rows from Gaussians with the given means and random rotations of scales."""
    rng = np.random.default_rng(seed)
    means = np.asarray(means, dtype=float)
    n_features = means.shape[1]
    parts = []
    for k, mean in enumerate(means):
        rotation, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
        factor = rotation * np.asarray(scales[k], dtype=float)
        z = rng.standard_normal((n_samples // len(means), n_features))
        parts.append(mean + z @ factor.T)
    return np.vstack(parts) + offset


DATASETS = {
    "separated-2d": _mixture(0, 600, [[0, 0], [6, 1], [1, 7]], [[1, 0.5]] * 3),
    "overlapping-5d": _mixture(1, 800, np.eye(4, 5) * 2.5, [[1, 1, 0.7, 0.5, 1.2]] * 4),
    "anisotropic-offset-3d": _mixture(
        2, 450, [[0, 0, 0], [4, -3, 2], [-4, 3, 5]], [[3, 1, 0.2]] * 3, 1e3
    ),
}


def _initial_parameters(X, n_components, covariance_type, seed):
    """Means at random rows, equal weights, the data's precision everywhere."""
    rng = np.random.default_rng(seed)
    means = X[rng.choice(len(X), n_components, replace=False)]
    weights = np.full(n_components, 1 / n_components)
    precision = np.linalg.inv(np.cov(X.T) / n_components)
    precisions = {
        "full": np.repeat(precision[None], n_components, axis=0),
        "tied": precision,
        "diag": np.repeat(np.diag(precision)[None], n_components, axis=0),
        "spherical": np.full(n_components, np.diag(precision).mean()),
    }[covariance_type]
    return {"weights_init": weights, "means_init": means, "precisions_init": precisions}


def _fit_both(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**params).fit(X)
        theirs = SklearnGaussianMixture(**params).fit(X)
    return ours, theirs


def _assert_same_fit(ours, theirs, rtol=1e-6):
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.converged_ == theirs.converged_
    for name in FITTED + ["precisions_"]:
        expected = getattr(theirs, name)
        scale = np.abs(expected).max()
        np.testing.assert_allclose(
            getattr(ours, name), expected, rtol=rtol, atol=1e-12 * scale, err_msg=name
        )
    np.testing.assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=rtol)
    # scikit-learn keeps lower_bounds_ from 1.7 on; 1.6 (the oldest gmmlib
    # supports) has only the last of them, lower_bound_
    expected_bounds = getattr(theirs, "lower_bounds_", [theirs.lower_bound_])
    np.testing.assert_allclose(
        ours.lower_bounds_[-len(expected_bounds) :], expected_bounds, rtol=rtol
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_fit_from_same_initial_parameters_matches_sklearn(dataset, covariance_type):
    X = DATASETS[dataset]
    init = _initial_parameters(X, 3, covariance_type, seed=len(dataset))
    ours, theirs = _fit_both(
        X,
        n_components=3,
        covariance_type=covariance_type,
        tol=1e-5,
        reg_covar=1e-6,
        max_iter=300,
        **init,
    )
    assert ours.converged_
    _assert_same_fit(ours, theirs)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fixed_iteration_count_matches_sklearn_when_not_converged(covariance_type):
    X = DATASETS["overlapping-5d"]
    init = _initial_parameters(X, 4, covariance_type, seed=3)
    ours, theirs = _fit_both(
        X, n_components=4, covariance_type=covariance_type, tol=0.0, max_iter=7, **init
    )
    assert ours.n_iter_ == 7 and not ours.converged_
    _assert_same_fit(ours, theirs)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random"])
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_same_random_state_gives_sklearn_initialisation_and_fit(
    init_params, covariance_type
):
    X = DATASETS["separated-2d"]
    ours, theirs = _fit_both(
        X,
        n_components=3,
        covariance_type=covariance_type,
        init_params=init_params,
        random_state=0,
        tol=1e-6,
    )
    _assert_same_fit(ours, theirs)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("init_params", ["kmeans", "random_from_data"])
def test_n_init_keeps_the_same_best_mixture_as_sklearn(init_params):
    # initialisations that reach the same mixture up to a relabelling tie in
    # lower bound to rounding; either may win, so compare label-free
    X = DATASETS["overlapping-5d"]
    ours, theirs = _fit_both(
        X, n_components=4, init_params=init_params, random_state=2, n_init=3
    )
    np.testing.assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-8)
    order_ours, order_theirs = np.argsort(ours.weights_), np.argsort(theirs.weights_)
    np.testing.assert_allclose(
        ours.weights_[order_ours], theirs.weights_[order_theirs], rtol=1e-5
    )
    np.testing.assert_allclose(
        ours.means_[order_ours], theirs.means_[order_theirs], rtol=1e-5, atol=1e-8
    )


def test_max_iter_zero_keeps_sklearn_initial_parameters():
    X = DATASETS["overlapping-5d"]
    ours, theirs = _fit_both(X, n_components=4, max_iter=0, random_state=1)
    for name in FITTED:
        np.testing.assert_allclose(
            getattr(ours, name), getattr(theirs, name), rtol=1e-9, err_msg=name
        )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_fused_iteration_equals_the_books_plain_formulas(covariance_type):
    X = DATASETS["anisotropic-offset-3d"]
    init = _initial_parameters(X, 3, covariance_type, seed=5)
    model = GaussianMixture(
        3, covariance_type=covariance_type, max_iter=1, reg_covar=1e-6, **init
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    precisions = init["precisions_init"]
    covariances = (
        np.linalg.inv(precisions)
        if covariance_type in ("full", "tied")
        else 1 / precisions
    )
    resp = em.e_step(
        X, init["weights_init"], init["means_init"], covariances, covariance_type
    )
    weights, means, new_covariances = em.m_step(
        X, resp, covariance_type=covariance_type, reg_covar=1e-6
    )
    np.testing.assert_allclose(model.weights_, weights, rtol=1e-9)
    np.testing.assert_allclose(model.means_, means, rtol=1e-9)
    np.testing.assert_allclose(model.covariances_, new_covariances, rtol=1e-8)
    expected_bound = em.log_likelihood(
        X, init["weights_init"], init["means_init"], covariances, covariance_type
    ) / len(X)
    np.testing.assert_allclose(model.lower_bound_, expected_bound, rtol=1e-10)
