"""gmmlib.GaussianMixture: the estimator API, the history, numerics, bad input."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

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


# -- scikit-learn API ---------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_predict_equals_fit_then_predict(X, covariance_type):
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0)
    labels = model.fit_predict(X)
    np.testing.assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_prediction_methods_agree_with_sklearn_on_same_parameters(X, covariance_type):
    ours = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    theirs = SklearnGaussianMixture(
        3, covariance_type=covariance_type, random_state=0
    ).fit(X)
    rng = np.random.default_rng(7)
    X_new = rng.uniform(-3, 8, size=(50, 2))
    np.testing.assert_allclose(
        ours.score_samples(X_new), theirs.score_samples(X_new), rtol=1e-8
    )
    np.testing.assert_allclose(
        ours.predict_proba(X_new), theirs.predict_proba(X_new), atol=1e-8
    )
    np.testing.assert_array_equal(ours.predict(X_new), theirs.predict(X_new))
    np.testing.assert_allclose(ours.score(X_new), theirs.score(X_new), rtol=1e-8)
    np.testing.assert_allclose(ours.bic(X_new), theirs.bic(X_new), rtol=1e-8)
    np.testing.assert_allclose(ours.aic(X_new), theirs.aic(X_new), rtol=1e-8)


def test_predict_proba_rows_sum_to_one_far_from_every_component(X):
    model = GaussianMixture(3, random_state=0).fit(X)
    far = np.array([[1e4, -1e4], [-5e3, 3e3]])
    resp = model.predict_proba(far)
    assert np.all(np.isfinite(resp))
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)


def test_warm_start_continues_from_the_previous_fit(X):
    cold = GaussianMixture(3, random_state=0, max_iter=20, tol=0, init_params="random")
    _quiet_fit(cold, X)
    warm = GaussianMixture(
        3, random_state=0, max_iter=10, tol=0, init_params="random", warm_start=True
    )
    _quiet_fit(warm, X)
    _quiet_fit(warm, X)
    np.testing.assert_allclose(warm.means_, cold.means_, rtol=1e-10)
    np.testing.assert_allclose(warm.covariances_, cold.covariances_, rtol=1e-10)


def test_n_init_keeps_an_initialisation_at_least_as_good_as_the_first(X):
    # both draw their first initialisation from the same random stream
    first = GaussianMixture(3, init_params="random", n_init=1, random_state=0).fit(X)
    best = GaussianMixture(3, init_params="random", n_init=4, random_state=0).fit(X)
    assert best.lower_bound_ >= first.lower_bound_
    assert best.lower_bound_ == best.lower_bounds_[-1]


def test_convergence_warning_when_max_iter_is_too_small(X):
    model = GaussianMixture(3, max_iter=2, tol=0, random_state=0)
    with pytest.warns(
        ConvergenceWarning, match="after max_iter=2 iterations. Increase"
    ):
        model.fit(X)
    assert not model.converged_ and model.n_iter_ == 2


def test_verbose_prints_iterations(X, capsys):
    GaussianMixture(3, verbose=2, verbose_interval=1, random_state=0).fit(X)
    out = capsys.readouterr().out
    assert "Initialization 0" in out and "Iteration 1" in out and "converged" in out


# -- numerics -----------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_component_at_offset_1e8_gives_the_exact_covariance(covariance_type):
    rng = np.random.default_rng(4)
    X = 1e8 + rng.standard_normal((500, 3)) * [1.0, 2.0, 0.5]
    centred = X - 1e8  # exact: X and 1e8 are within a factor 2
    full = np.cov(centred.T, bias=True)
    expected = {
        "full": full[None],
        "tied": full,
        "diag": np.diag(full)[None],
        "spherical": np.diag(full).mean()[None],
    }[covariance_type]
    model = GaussianMixture(1, covariance_type=covariance_type, reg_covar=0).fit(X)
    np.testing.assert_allclose(model.covariances_, expected, rtol=1e-9)
    np.testing.assert_allclose(model.means_[0] - 1e8, centred.mean(axis=0), atol=1e-7)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_stays_float32_with_positive_variances_at_an_offset(covariance_type):
    rng = np.random.default_rng(5)
    centres = np.array([[0.0, 0.0], [30.0, 0.0], [0.0, 30.0]])
    X64 = np.vstack([c + rng.standard_normal((200, 2)) for c in centres]) + 1e4
    X = X64.astype(np.float32)
    model = GaussianMixture(
        3, covariance_type=covariance_type, reg_covar=0, random_state=0
    ).fit(X)
    for name in [
        "weights_",
        "means_",
        "covariances_",
        "precisions_",
        "precisions_cholesky_",
    ]:
        assert getattr(model, name).dtype == np.float32, name
    assert model.predict_proba(X).dtype == np.float32
    assert model.score_samples(X).dtype == np.float32
    variances = model.covariances_
    if covariance_type in ("full", "tied"):
        variances = np.linalg.eigvalsh(variances.astype(np.float64))
    assert np.all(variances > 0)
    reference = GaussianMixture(
        3, covariance_type=covariance_type, reg_covar=0, random_state=0
    ).fit(X.astype(np.float64))
    np.testing.assert_allclose(model.covariances_, reference.covariances_, rtol=1e-3)


def test_collapsed_component_raises_a_clear_error():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]], 10, axis=0)
    model = GaussianMixture(3, reg_covar=0, random_state=0)
    with pytest.raises(ValueError, match="collapsed.*increase reg_covar"):
        model.fit(X)


def test_reg_covar_keeps_a_collapsed_component_finite():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]], 10, axis=0)
    model = GaussianMixture(3, reg_covar=1e-3, random_state=0).fit(X)
    assert np.all(np.isfinite(model.covariances_))
    np.testing.assert_allclose(
        model.covariances_, 1e-3 * np.eye(2)[None].repeat(3, 0), atol=1e-15
    )


# -- bad input ----------------------------------------------------------------


@pytest.mark.parametrize("value", [np.inf, -np.inf])
@pytest.mark.parametrize("method", ["fit", "predict", "score_samples", "partial_fit"])
def test_inf_in_X_is_refused_by_its_place(X, value, method):
    # NaN is a missing entry (tests/test_mixture_missing.py); ±inf is not
    bad = X.copy()
    bad[3, 1] = value
    model = GaussianMixture(2, random_state=0)
    if method in ("predict", "score_samples"):
        model.fit(X)
    with pytest.raises(
        ValueError, match=r"Input X contains infinity at X\[3, 1\] = -?inf .*np\.nan"
    ):
        getattr(model, method)(bad)


def test_X_must_be_two_dimensional():
    with pytest.raises(ValueError, match="(?s)Expected 2D array.*array.reshape"):
        GaussianMixture(2).fit(np.arange(10.0))


def test_fewer_samples_than_components_is_refused(X):
    with pytest.raises(ValueError, match="n_samples >= n_components.*decrease"):
        GaussianMixture(5).fit(X[:4])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_components": 0}, "'n_components' parameter .* range \\[1, inf\\)"),
        ({"reg_covar": -1e-6}, "'reg_covar' parameter .* range \\[0.0, inf\\)"),
        ({"tol": -1.0}, "'tol' parameter .* range \\[0.0, inf\\)"),
        ({"covariance_type": "banded"}, "'covariance_type' parameter .* among"),
        ({"init_params": "median"}, "'init_params' parameter .* among"),
    ],
)
def test_invalid_constructor_parameters_are_named(X, params, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**params).fit(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"weights_init": [0.5, 0.5]}, "weights_init must have shape"),
        ({"weights_init": [0.5, 0.3, 0.1]}, "weights_init must sum to 1.*divide"),
        ({"weights_init": [1.5, -0.25, -0.25]}, "weights_init must lie in \\[0, 1\\]"),
        ({"means_init": np.zeros((3, 3))}, "means_init must have shape"),
        (
            {"precisions_init": np.ones((3, 2))},
            "precisions_init \\(covariance_type='full'\\) must have shape",
        ),
        (
            {"precisions_init": np.array([np.eye(2), -np.eye(2), np.eye(2)])},
            "precisions_init\\[1\\] .* symmetric positive definite",
        ),
        (
            {"precisions_init": np.array([[[1.0, 2.0], [0.0, 1.0]]] * 3)},
            "symmetric positive definite",
        ),
        (
            {"covariance_type": "diag", "precisions_init": -np.ones((3, 2))},
            "must be positive",
        ),
    ],
)
def test_invalid_initial_parameters_are_named(X, params, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(3, **params).fit(X)


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "score", "score_samples", "bic", "aic"]
)
def test_methods_before_fit_raise_not_fitted(X, method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(GaussianMixture(2), method)(X)


def test_sample_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        GaussianMixture(2).sample(3)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score_samples"])
def test_X_with_another_number_of_features_is_refused(X, method):
    model = GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 3 features.* expecting 2"):
        getattr(model, method)(np.ones((4, 3)))


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_fit_on_two_threads_equals_the_fit_on_one(covariance_type):
    rng = np.random.default_rng(8)
    X = np.vstack(
        [rng.standard_normal((60000, 2)), 4 + rng.standard_normal((60000, 2))]
    )
    params = dict(covariance_type=covariance_type, max_iter=5, tol=0, random_state=0)
    one = _quiet_fit(GaussianMixture(2, n_threads=1, **params), X)
    two = _quiet_fit(GaussianMixture(2, n_threads=2, **params), X)
    np.testing.assert_allclose(two.means_, one.means_, rtol=1e-10)
    np.testing.assert_allclose(two.covariances_, one.covariances_, rtol=1e-10)
    np.testing.assert_allclose(two.lower_bounds_, one.lower_bounds_, rtol=1e-12)
    np.testing.assert_array_equal(two.predict(X), one.predict(X))


def test_fortran_ordered_input_gives_the_same_fit(X):
    c_fit = GaussianMixture(3, random_state=0).fit(np.ascontiguousarray(X))
    f_fit = GaussianMixture(3, random_state=0).fit(np.asfortranarray(X))
    np.testing.assert_allclose(f_fit.means_, c_fit.means_, rtol=1e-12)
    np.testing.assert_allclose(f_fit.covariances_, c_fit.covariances_, rtol=1e-12)


def test_float32_model_scores_float64_rows_like_float32_rows(X):
    model = GaussianMixture(3, random_state=0).fit(X.astype(np.float32))
    np.testing.assert_allclose(
        model.score_samples(X), model.score_samples(X.astype(np.float32)), rtol=1e-5
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_needs_less_memory_than_sklearn_and_no_n_by_k_by_d_array(
    covariance_type,
):
    import tracemalloc

    rng = np.random.default_rng(9)
    n_samples, n_features, n_components = 60000, 8, 6
    X = rng.standard_normal((n_samples, n_features))
    X[: n_samples // 2] += 3
    init = {
        "weights_init": np.full(n_components, 1 / n_components),
        "means_init": X[rng.choice(n_samples, n_components, replace=False)],
        "precisions_init": {
            "full": np.repeat(np.eye(n_features)[None], n_components, axis=0),
            "tied": np.eye(n_features),
            "diag": np.ones((n_components, n_features)),
            "spherical": np.ones(n_components),
        }[covariance_type],
    }
    params = dict(covariance_type=covariance_type, max_iter=3, **init)
    peaks = []
    for model in (
        GaussianMixture(n_components, n_threads=2, **params),
        SklearnGaussianMixture(n_components, **params),
    ):
        tracemalloc.start()
        try:
            _quiet_fit(model, X)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    ours, theirs = peaks
    assert ours < theirs
    # an (n_samples, n_components, n_features) temporary alone would be 3x this
    assert ours < 0.3 * n_samples * n_components * n_features * X.itemsize
