"""A component that loses all its responsibility: never silent, the same everywhere.

A component k has lost its responsibility when its soft count N_k is at most
10 eps of the working type (``gmmlib._validation.lost_responsibility``): the
``10 * eps`` that the M-step adds to every N_k, as scikit-learn does, then
outweighs the component's own count. Both M-steps (the functional core's
``gmmlib.em.m_step`` and the engine's
``gmmlib.suffstats.parameters_from_statistics``, which
``GaussianMixture.fit`` runs) give it the mean 0 and the covariance
``reg_covar * I`` (scikit-learn's numbers), and warn with a
``gmmlib.DegenerateComponentWarning`` naming it; with ``reg_covar = 0`` both
raise. Chapter 7, "A component that loses all its responsibility".
"""

import warnings

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

import gmmlib
from gmmlib import GaussianMixture, em
from gmmlib.datasets import make_mixture
from gmmlib.suffstats import (
    BlockEStep,
    SufficientStatistics,
    parameters_from_statistics,
    precisions_cholesky_from_covariances,
)

FITTED = ["weights_", "means_", "covariances_"]


def _data(dtype=np.float64):
    X, _, _ = make_mixture(n_samples=600, n_components=3, random_state=0)
    return X.astype(dtype)


def _start(X, far=60.0, weights=(1 / 3, 1 / 3, 1 / 3)):
    """Three components at data rows, the last moved ``far`` in every coordinate."""
    X = np.asarray(X, np.float64)
    means = X[[0, 250, 500]].copy()
    means[2] += far
    precision = np.linalg.inv(np.cov(X.T))
    return {
        "weights_init": np.array(weights),
        "means_init": means,
        "precisions_init": np.repeat(precision[None], 3, axis=0),
    }


def _degenerate_warnings(record):
    return [
        w for w in record if issubclass(w.category, gmmlib.DegenerateComponentWarning)
    ]


def test_the_warning_is_a_public_user_warning():
    assert issubclass(gmmlib.DegenerateComponentWarning, UserWarning)
    assert "DegenerateComponentWarning" in gmmlib.__all__


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_component_far_from_the_data_is_reset_with_a_warning(dtype):
    X = _data(dtype)
    model = GaussianMixture(3, max_iter=5, **_start(X))
    with pytest.warns(gmmlib.DegenerateComponentWarning) as record:
        model.fit(X)
    messages = [str(w.message) for w in _degenerate_warnings(record)]
    assert len(messages) == 1  # one warning per fit, not one per iteration
    assert "component(s) [2]" in messages[0].lower()
    for advice in ("fewer components", "reinitialise", "reg_covar", "prior"):
        assert advice in messages[0]
    eps = np.finfo(dtype).eps
    np.testing.assert_array_equal(model.means_[2], 0.0)
    np.testing.assert_array_equal(model.covariances_[2], 1e-6 * np.eye(2, dtype=dtype))
    assert 0 < model.weights_[2] <= 20 * eps / len(X)
    # the other two components are fitted as usual
    assert np.all(model.weights_[:2] > 0.4)


def test_a_far_component_fits_what_scikit_learn_fits():
    X = _data()
    start = _start(X)
    with pytest.warns(gmmlib.DegenerateComponentWarning):
        ours = GaussianMixture(3, max_iter=5, **start).fit(X)
    theirs = SklearnGaussianMixture(3, max_iter=5, **start).fit(X)
    assert ours.n_iter_ == theirs.n_iter_
    for name in FITTED:
        np.testing.assert_allclose(
            # measured: within 4e-15 absolute and relative (rounding only)
            getattr(ours, name),
            getattr(theirs, name),
            rtol=1e-12,
            atol=1e-14,
        )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_zero_initial_weight_is_reported_not_silently_revived(dtype):
    X = _data(dtype)
    start = _start(X, far=0.0, weights=(0.5, 0.5, 0.0))
    with pytest.warns(gmmlib.DegenerateComponentWarning, match=r"\[2\]"):
        model = GaussianMixture(3, max_iter=3, **start).fit(X)
    np.testing.assert_array_equal(model.means_[2], 0.0)
    assert model.weights_[2] <= 20 * np.finfo(dtype).eps / len(X)


def test_a_far_initial_mean_alone_is_reported():
    X = _data()
    start = _start(X)
    del start["weights_init"], start["precisions_init"]
    # only the means given: weights and precisions from the k-means start
    start["means_init"][2] = X.mean(axis=0) + 1e3
    with pytest.warns(gmmlib.DegenerateComponentWarning, match=r"\[2\]"):
        GaussianMixture(3, max_iter=3, random_state=0, **start).fit(X)


def test_a_healthy_fit_does_not_warn():
    X = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmmlib.DegenerateComponentWarning)
        GaussianMixture(3, random_state=0).fit(X)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_the_engine_and_the_functional_core_agree_on_a_lost_component(
    covariance_type,
):
    X = _data()
    start = _start(X)
    weights, means = start["weights_init"], start["means_init"]
    full = np.repeat(np.cov(X.T)[None] / 3, 3, axis=0)
    covariances = {
        "full": full,
        "tied": full[0],
        "diag": np.diagonal(full, axis1=1, axis2=2).copy(),
        "spherical": np.diagonal(full, axis1=1, axis2=2).mean(axis=1),
    }[covariance_type]
    with pytest.warns(gmmlib.DegenerateComponentWarning, match=r"\[2\]"):
        core = em.m_step(
            X,
            em.e_step(X, weights, means, covariances, covariance_type),
            covariance_type,
            reg_covar=1e-6,
        )
    prec_chol = precisions_cholesky_from_covariances(covariances, covariance_type)
    engine_step = BlockEStep(weights, means, prec_chol, covariance_type, X.mean(0))
    with pytest.warns(gmmlib.DegenerateComponentWarning, match=r"\[2\]"):
        engine = parameters_from_statistics(engine_step.statistics(X), reg_covar=1e-6)
    np.testing.assert_array_equal(core[1][2], 0.0)
    np.testing.assert_array_equal(engine[1][2], 0.0)
    if covariance_type == "tied":  # one shared covariance, nothing to reset
        np.testing.assert_allclose(core[2], engine[2], rtol=1e-10)
    else:
        reset = 1e-6 * (np.eye(2) if covariance_type == "full" else np.ones(2))
        if covariance_type == "spherical":
            reset = 1e-6
        np.testing.assert_array_equal(core[2][2], reset)
        np.testing.assert_array_equal(engine[2][2], reset)
        np.testing.assert_allclose(core[2][:2], engine[2][:2], rtol=1e-10)
    # the weights: N_k / N against (N_k + 10 eps) / (N + 30 eps), both ≈ 0
    eps = np.finfo(float).eps
    assert core[0][2] <= 20 * eps / len(X) and engine[0][2] <= 20 * eps / len(X)
    np.testing.assert_allclose(core[0][:2], engine[0][:2], rtol=1e-14)
    # the two live components' means: the same update by both routes
    np.testing.assert_allclose(core[1][:2], engine[1][:2], rtol=1e-12)


def test_with_reg_covar_zero_both_m_steps_raise():
    X = _data()
    start = _start(X)
    weights, means = start["weights_init"], start["means_init"]
    covariances = np.repeat(np.cov(X.T)[None] / 3, 3, axis=0)
    resp = em.e_step(X, weights, means, covariances)
    with pytest.raises(ValueError, match=r"component\(s\) \[2\] lost all"):
        em.m_step(X, resp, reg_covar=0.0)
    prec_chol = precisions_cholesky_from_covariances(covariances, "full")
    stats = BlockEStep(weights, means, prec_chol, "full", X.mean(0)).statistics(X)
    with pytest.raises(ValueError, match=r"component\(s\) \[2\] lost all"):
        parameters_from_statistics(stats, reg_covar=0.0)
    # as scikit-learn, which cannot factor a zero covariance either
    with pytest.raises(ValueError):
        SklearnGaussianMixture(3, reg_covar=0.0, max_iter=2, **start).fit(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_threshold_is_ten_machine_epsilons(dtype):
    eps = np.finfo(dtype).eps
    means = np.array([[1.0, 2.0], [3.0, 4.0]], dtype)
    scatter = np.stack([np.eye(2), np.eye(2)]).astype(dtype)
    for nk_1, lost in ((10 * eps, True), (20 * eps, False)):
        nk = np.array([5.0, nk_1], dtype)
        stats = SufficientStatistics("full", 5, nk, means, scatter * nk[:, None, None])
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            _, new_means, new_covariances, _ = parameters_from_statistics(
                stats, reg_covar=1e-3
            )
        assert bool(_degenerate_warnings(record)) == lost
        if lost:
            np.testing.assert_array_equal(new_means[1], 0.0)
            reset = np.asarray(1e-3, dtype) * np.eye(2, dtype=dtype)
            np.testing.assert_array_equal(new_covariances[1], reset)
        else:  # shrunk by N_k / (N_k + 10 eps) = 2/3, as scikit-learn does
            np.testing.assert_allclose(new_means[1], means[1] * 2 / 3, rtol=1e-6)


def test_the_live_components_of_the_core_m_step_are_the_formulas():
    X = _data()
    start = _start(X)
    covariances = np.repeat(np.cov(X.T)[None] / 3, 3, axis=0)
    resp = em.e_step(X, start["weights_init"], start["means_init"], covariances)
    kept = resp[:, :2] / resp[:, :2].sum(axis=1, keepdims=True)
    with pytest.warns(gmmlib.DegenerateComponentWarning):
        weights, means, new_covariances = em.m_step(X, resp, reg_covar=1e-6)
    np.testing.assert_allclose(weights, em.update_weights(resp), rtol=0, atol=0)
    np.testing.assert_allclose(means[:2], em.update_means(X, kept), rtol=1e-12)
    np.testing.assert_allclose(
        new_covariances[:2],
        em.update_covariances(X, kept, means[:2], reg_covar=1e-6),
        rtol=1e-12,
    )


# -- one lost component, one warning: the start and the stream ------------------------


def _two_points():
    """100 rows on two distinct points, far from 0: k-means' third cluster is empty."""
    return np.repeat(np.array([[10.0, 10.0], [20.0, 20.0]]), 50, axis=0)


def _named(run):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        run()
    return [str(w.message) for w in _degenerate_warnings(record)]


@pytest.mark.parametrize("method", ["fit", "fit on dask", "partial_fit"])
def test_a_component_the_start_loses_is_named_once(method):
    """The k-means start leaves component 2 empty, and the first M-step, at
    its reset (mean 0, far from the rows), loses it again: one event, so one
    warning, not one from the start and one from the first iteration."""
    import dask.array as da

    X = _two_points()
    model = GaussianMixture(3, random_state=0, max_iter=5)
    if method == "fit":
        messages = _named(lambda: model.fit(X))
    elif method == "fit on dask":
        messages = _named(lambda: model.fit(da.from_array(X, chunks=50)))
    else:
        messages = _named(lambda: model.partial_fit(X))
    assert len(messages) == 1
    assert "component(s) [2]" in messages[0].lower()
    np.testing.assert_array_equal(model.means_[2], 0.0)


@pytest.mark.parametrize("on_dask", [False, True])
def test_a_stream_names_a_lost_component_once(on_dask):
    """One stream is one run of EM, as one fit is: component 2 (60 away from
    the data) is lost by the first batch and stays lost, and the six calls
    name it once, not once per call."""
    import dask.array as da

    X = _data()
    model = GaussianMixture(3, **_start(X))
    batches = [X[start : start + 100] for start in range(0, 600, 100)]
    if on_dask:
        batches = [da.from_array(batch, chunks=50) for batch in batches]

    def stream():
        for batch in batches:
            model.partial_fit(batch)

    messages = _named(stream)
    assert len(messages) == 1
    assert "component(s) [2]" in messages[0].lower()
    assert model.weights_[2] <= 20 * np.finfo(X.dtype).eps / 100


def test_a_new_stream_or_fit_names_the_lost_component_again():
    """`fit` ends a stream: the next stream is a new run and warns anew."""
    X = _data()
    model = GaussianMixture(3, max_iter=5, **_start(X))
    first = _named(lambda: model.partial_fit(X[:300]))
    refit = _named(lambda: model.fit(X))
    restream = _named(lambda: model.partial_fit(X[:300]))
    assert [len(first), len(refit), len(restream)] == [1, 1, 1]


def test_a_lost_component_is_not_reported_starved_as_well():
    """The starved-component watch warns before a component is lost; after a
    DegenerateComponentWarning has named it, every batch starves it, and a
    StarvedComponentWarning for it would report the same loss again."""
    X = _data()
    model = GaussianMixture(3, **_start(X))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for start in range(0, 600, 100):
            model.partial_fit(X[start : start + 100])
    assert [w.category for w in record] == [gmmlib.DegenerateComponentWarning]
    assert model._starved_batches[2] >= 3  # the watch did count it starved
