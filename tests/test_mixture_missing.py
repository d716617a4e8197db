"""GaussianMixture on X with missing values (NaN), against the gmmlib.em oracle.

gmmlib.em's missing-data functions (observed_log_likelihood,
observed_responsibilities, em_step_observed) are checked against independent
routes in tests/test_em_missing.py; here the estimator, whose E-step runs on
the precision factors (gmmlib.suffstats.BlockEStep), must reach their numbers
from the same start, for every covariance type and several patterns of
missingness.
"""

import re
import warnings

import dask.array as da
import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from gmmlib import GaussianMixture, covariance, em
from gmmlib._initialisation import complete_rows
from gmmlib.suffstats import (
    BlockEStep,
    accumulate_statistics,
    precisions_cholesky_from_covariances,
)

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
PATTERNS = ["mcar-1%", "mcar-10%", "mcar-30%", "monotone"]
K, D = 3, 4


def clustered(n_samples=600, seed=0):
    """Rows from three well separated Gaussians with correlated coordinates."""
    rng = np.random.default_rng(seed)
    centres = 4.0 * rng.standard_normal((K, D))
    mixing = rng.standard_normal((K, D, D)) / np.sqrt(D) + np.eye(D)
    labels = rng.integers(K, size=n_samples)
    noise = rng.standard_normal((n_samples, D))
    return centres[labels] + np.einsum("nd,nde->ne", noise, mixing[labels])


def with_missing(X, pattern, seed=1):
    """X with entries set to NaN: MCAR at a rate, or a monotone pattern.

    Monotone: four equal groups of rows miss their last 0, 1, 2 and 3
    coordinates. Every row keeps at least one observed entry.
    """
    rng = np.random.default_rng(seed)
    X = X.copy()
    n, d = X.shape
    if pattern == "monotone":
        group = np.arange(n) * d // n  # 0 .. d - 1
        missing = np.arange(d)[None, :] >= d - group[:, None]
    else:
        rate = float(pattern.split("-")[1].rstrip("%")) / 100
        missing = rng.random(X.shape) < rate
        missing[np.arange(n), rng.integers(d, size=n)] = False
    X[missing] = np.nan
    return X


def start(X, covariance_type):
    """Explicit initial parameters: equal weights, three observed rows'
    values as means (NaN filled by the column means), unit covariances."""
    column_means = np.nanmean(X, axis=0)
    means = np.where(np.isnan(X[:K]), column_means, X[:K]) + 0.1
    covariances = {
        "full": np.stack([np.eye(D)] * K),
        "tied": np.eye(D),
        "diag": np.ones((K, D)),
        "spherical": np.ones(K),
    }[covariance_type]
    return np.full(K, 1 / K), means, covariances


def estimator(X, covariance_type, max_iter, **kwargs):
    weights, means, covariances = start(X, covariance_type)
    # the precisions of diagonal (1 / variances) and matrix (inverse) shapes
    if covariance_type in ("full", "tied"):
        precisions = np.linalg.inv(covariances)
    else:
        precisions = 1 / covariances
    return GaussianMixture(
        K,
        covariance_type=covariance_type,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
        max_iter=max_iter,
        tol=0,
        **kwargs,
    )


def oracle(X, covariance_type, n_iter, reg_covar=1e-6):
    """The parameters after n_iter iterations of gmmlib.em.em_step_observed."""
    params = start(X, covariance_type)
    for _ in range(n_iter):
        params = em.em_step_observed(X, *params, covariance_type, reg_covar)
    return params


def fitted(model):
    return model.weights_, model.means_, model.covariances_


def fit_quietly(model, X, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, **kwargs)


def assert_parameters_close(actual, expected, rtol=1e-10):
    for name, a, b in zip(
        ("weights", "means", "covariances"), actual, expected, strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, err_msg=name)


# -- fit against the oracle ---------------------------------------------------


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_is_the_observed_data_em_of_the_oracle(covariance_type, pattern):
    X = with_missing(clustered(), pattern)
    assert np.isnan(X).any()
    model = fit_quietly(estimator(X, covariance_type, max_iter=6), X)
    assert_parameters_close(fitted(model), oracle(X, covariance_type, 6))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_threads_and_blocks_change_nothing_but_rounding(covariance_type):
    X = with_missing(clustered(3000), "mcar-10%")
    one = fit_quietly(estimator(X, covariance_type, 4, n_threads=1), X)
    two = fit_quietly(estimator(X, covariance_type, 4, n_threads=2), X)
    assert_parameters_close(fitted(two), fitted(one), rtol=1e-12)
    assert_parameters_close(fitted(one), oracle(X, covariance_type, 4))


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_prediction_methods_are_the_oracle_observed_data_quantities(
    covariance_type, pattern
):
    X = with_missing(clustered(), pattern)
    model = fit_quietly(estimator(X, covariance_type, max_iter=3), X)
    params = fitted(model)
    resp = em.observed_responsibilities(X, *params, covariance_type)
    np.testing.assert_allclose(model.predict_proba(X), resp, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(model.predict(X), resp.argmax(axis=1))
    log_likelihood = em.observed_log_likelihood(X, *params, covariance_type)
    np.testing.assert_allclose(model.score_samples(X).sum(), log_likelihood, rtol=1e-12)
    np.testing.assert_allclose(model.score(X), log_likelihood / len(X), rtol=1e-12)
    p = model._n_parameters()
    np.testing.assert_allclose(
        model.bic(X), -2 * log_likelihood + p * np.log(len(X)), rtol=1e-12
    )
    np.testing.assert_allclose(model.aic(X), -2 * log_likelihood + 2 * p, rtol=1e-12)
    # fit_predict's labels are predict's on the fitted parameters
    labels = fit_quietly(estimator(X, covariance_type, max_iter=3), X).predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = estimator(X, covariance_type, max_iter=3).fit_predict(X)
    np.testing.assert_array_equal(again, labels)


def test_score_samples_is_the_log_density_of_each_row_observed_entries():
    """Row by row, against logsumexp of scipy-free Gaussian marginals."""
    X = with_missing(clustered(60), "mcar-30%")
    model = fit_quietly(estimator(X, "full", max_iter=2), X)
    expected = []
    for x in X:
        o = ~np.isnan(x)
        terms = []
        for k in range(K):
            sigma = model.covariances_[k][np.ix_(o, o)]
            r = x[o] - model.means_[k, o]
            _, log_det = np.linalg.slogdet(2 * np.pi * sigma)
            terms.append(
                np.log(model.weights_[k])
                - 0.5 * (log_det + r @ np.linalg.solve(sigma, r))
            )
        expected.append(logsumexp(terms))
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_observed_log_likelihood_never_decreases(covariance_type):
    X = with_missing(clustered(), "mcar-30%")
    model = fit_quietly(
        estimator(X, covariance_type, 15, keep_history=True, reg_covar=0.0), X
    )
    history = model.history_
    recorded = np.array([entry["log_likelihood"] for entry in history])
    assert np.all(np.diff(recorded) >= -1e-9 * np.abs(recorded[:-1]))
    assert recorded[-1] > recorded[0] + 1.0  # it did climb
    # each recorded value is the oracle's L_obs of that entry's parameters
    for entry in history[:: len(history) // 4]:
        expected = em.observed_log_likelihood(
            X, entry["weights"], entry["means"], entry["covariances"], covariance_type
        )
        np.testing.assert_allclose(entry["log_likelihood"], expected, rtol=1e-11)


@pytest.mark.parametrize("covariance_type", covariance.names("mclust"))
def test_every_model_fits_missing_values_monotonically(covariance_type):
    """mclust's fourteen models: the expected scatter enters each model's
    M-step as a complete scatter does, so L_obs never decreases; the recorded
    values are the oracle's L_obs of the parameters (as full matrices)."""
    X = with_missing(clustered(), "mcar-30%")
    model = fit_quietly(
        GaussianMixture(
            K,
            covariance_type=covariance_type,
            keep_history=True,
            max_iter=10,
            tol=0,
            reg_covar=0.0,
            random_state=0,
        ),
        X,
    )
    recorded = np.array([entry["log_likelihood"] for entry in model.history_])
    assert np.all(np.diff(recorded) >= -1e-9 * np.abs(recorded[:-1]))
    full = covariance.get(covariance_type).to_full(model.covariances_, K, D)
    expected = em.observed_log_likelihood(X, model.weights_, model.means_, full)
    np.testing.assert_allclose(recorded[-1], expected, rtol=1e-11)


def test_a_fit_from_its_own_start_converges_and_recovers_the_clusters():
    X_full = clustered(1500)
    X = with_missing(X_full, "mcar-10%")
    model = GaussianMixture(K, random_state=0, n_init=2).fit(X)
    assert model.converged_
    reference = GaussianMixture(K, random_state=0, n_init=2).fit(X_full)
    agreement = np.mean(model.predict(X) == reference.predict(X_full))
    # the same clusters, whatever their order
    assert (
        agreement > 0.97
        or np.mean(np.sort(model.means_, axis=0) - np.sort(reference.means_, axis=0))
        < 0.2
    )
    np.testing.assert_allclose(
        np.sort(model.means_[:, 0]), np.sort(reference.means_[:, 0]), atol=0.3
    )


# -- complete data keeps today's path -----------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_complete_data_takes_the_complete_path_bit_for_bit(
    covariance_type, monkeypatch
):
    X = clustered()
    weights, means, covariances = start(X, covariance_type)
    prec_chol = precisions_cholesky_from_covariances(covariances, covariance_type)
    centre = X.mean(axis=0)
    plain = accumulate_statistics(
        X, BlockEStep(weights, means, prec_chol, covariance_type, centre)
    )
    searched = accumulate_statistics(
        X,
        BlockEStep(weights, means, prec_chol, covariance_type, centre, missing=True),
    )
    for field in ("nk", "means", "scatter"):
        np.testing.assert_array_equal(getattr(searched, field), getattr(plain, field))
    assert searched.log_likelihood == plain.log_likelihood

    # the estimator never enters the missing-data code on complete rows
    def forbidden(*args, **kwargs):
        raise AssertionError("the missing-data path ran on complete data")

    reference = fit_quietly(estimator(X, covariance_type, 5), X)
    monkeypatch.setattr(BlockEStep, "_incomplete_sums", forbidden)
    monkeypatch.setattr(BlockEStep, "_pattern", forbidden)
    again = fit_quietly(estimator(X, covariance_type, 5), X)
    assert_parameters_close(fitted(again), fitted(reference), rtol=0)
    again.predict_proba(X)
    again.score(X)


def test_the_complete_rows_of_a_block_with_nan_take_the_complete_path():
    """A block's statistics are those of its complete rows (fused path) plus
    those of its rows with NaN."""
    X = with_missing(clustered(400), "mcar-10%")
    weights, means, covariances = start(X, "full")
    prec_chol = precisions_cholesky_from_covariances(covariances, "full")
    estep = BlockEStep(
        weights, means, prec_chol, "full", np.nanmean(X, 0), missing=True
    )
    complete = ~np.isnan(X).any(axis=1)
    whole = estep.statistics(X)
    parts = estep.statistics(X[complete]).merge(estep.statistics(X[~complete]))
    np.testing.assert_allclose(whole.scatter, parts.scatter, rtol=1e-12)
    np.testing.assert_allclose(whole.log_likelihood, parts.log_likelihood, rtol=1e-13)


# -- sample weights, partial_fit, float32 ----------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_integer_weights_fit_as_repeated_rows(covariance_type):
    X = with_missing(clustered(300), "mcar-10%")
    counts = np.random.default_rng(3).integers(0, 4, size=len(X))
    counts[:K] = 1  # the rows the start reads
    weighted = fit_quietly(
        estimator(X, covariance_type, 5), X, sample_weight=counts.astype(float)
    )
    repeated = fit_quietly(estimator(X, covariance_type, 5), np.repeat(X, counts, 0))
    assert_parameters_close(fitted(weighted), fitted(repeated), rtol=1e-10)
    np.testing.assert_allclose(
        weighted.score(X, sample_weight=counts),
        repeated.score(np.repeat(X, counts, 0)),
        rtol=1e-12,
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_partial_fit_steps_are_observed_data_em_steps(covariance_type):
    X = with_missing(clustered(), "mcar-10%")
    model = estimator(X, covariance_type, max_iter=1)
    model.partial_fit(X)  # rho_1 = 1: one EM iteration on the batch
    assert_parameters_close(fitted(model), oracle(X, covariance_type, 1))
    # later batches move the running expected statistics; L_obs rises
    before = em.observed_log_likelihood(X, *fitted(model), covariance_type)
    for _ in range(3):
        model.partial_fit(X)
    after = em.observed_log_likelihood(X, *fitted(model), covariance_type)
    assert after > before


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_partial_fit_with_integer_weights_is_partial_fit_of_repeated_rows(
    covariance_type,
):
    X = with_missing(clustered(), "mcar-10%")
    counts = np.random.default_rng(4).integers(0, 3, size=len(X))
    counts[:K] = 1
    weighted = estimator(X, covariance_type, max_iter=1)
    repeated = estimator(X, covariance_type, max_iter=1)
    for batch in (slice(0, 300), slice(300, 600)):
        weighted.partial_fit(X[batch], sample_weight=counts[batch])
        repeated.partial_fit(np.repeat(X[batch], counts[batch], axis=0))
    assert_parameters_close(fitted(weighted), fitted(repeated), rtol=1e-10)


def test_float32_rows_with_nan_fit_close_to_float64():
    X = with_missing(clustered(), "mcar-10%")
    single = fit_quietly(
        estimator(X.astype(np.float32), "full", 5), X.astype(np.float32)
    )
    assert single.means_.dtype == np.float32
    assert single.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert_parameters_close(fitted(single), oracle(X, "full", 5), rtol=1e-4)


# -- the start -------------------------------------------------------------------


def test_the_start_uses_complete_rows_when_there_are_enough():
    X = with_missing(clustered(), "mcar-10%")
    complete = ~np.isnan(X).any(axis=1)
    assert complete.sum() >= K * (D + 1)
    rows, weights = complete_rows(X, None, K, np.nanmean(X, axis=0))
    np.testing.assert_array_equal(rows, X[complete])
    assert weights is None
    w = np.arange(len(X), dtype=float)
    _, weights = complete_rows(X, w, K, np.nanmean(X, axis=0))
    np.testing.assert_array_equal(weights, w[complete])


def test_the_start_fills_the_rows_with_column_means_when_few_are_complete():
    X = with_missing(clustered(), "mcar-30%")
    X[:, 0][~np.isnan(X).any(axis=1)] = np.nan  # no complete row is left
    centre = np.nanmean(X, axis=0)
    rows, _ = complete_rows(X, None, K, centre)
    nan = np.isnan(X)
    np.testing.assert_array_equal(rows[~nan], X[~nan])
    np.testing.assert_array_equal(rows[nan], np.broadcast_to(centre, X.shape)[nan])
    # and every init_params fits from that start
    for init_params in ("kmeans", "k-means++", "random", "random_from_data"):
        model = fit_quietly(
            GaussianMixture(K, init_params=init_params, random_state=0, max_iter=20),
            X,
        )
        assert np.all(np.isfinite(model.covariances_))
        assert np.isfinite(model.score(X))


def test_the_tag_says_nan_is_allowed():
    assert GaussianMixture().__sklearn_tags__().input_tags.allow_nan


# -- refused input ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["fit", "partial_fit", "predict", "score"])
def test_inf_among_nan_is_refused_by_its_place(method):
    X = with_missing(clustered(), "mcar-10%")
    model = GaussianMixture(K, random_state=0)
    if method in ("predict", "score"):
        model.fit(X)
    bad = X.copy()
    bad[7, 2] = -np.inf
    with pytest.raises(
        ValueError,
        match=r"Input X contains infinity at X\[7, 2\] = -inf .*Only NaN marks a "
        r"missing entry.*np\.nan",
    ):
        getattr(model, method)(bad)


@pytest.mark.parametrize("method", ["fit", "partial_fit", "predict_proba"])
def test_a_row_with_no_observed_value_is_refused_by_its_place(method):
    X = with_missing(clustered(), "mcar-10%")
    model = GaussianMixture(K, random_state=0)
    if method == "predict_proba":
        model.fit(X)
    X[[11, 40]] = np.nan
    with pytest.raises(
        ValueError,
        match=r"X\[11\] has no observed value \(every entry is NaN; 2 such rows in "
        r"all\).*X = X\[~np\.isnan\(X\)\.all\(axis=1\)\]",
    ):
        getattr(model, method)(X)


def test_a_column_with_no_observed_value_is_refused_by_fit_not_by_predict():
    X = with_missing(clustered(), "mcar-10%")
    model = GaussianMixture(K, random_state=0).fit(X)
    X[:, 2] = np.nan
    message = (
        r"X\[:, 2\] has no observed value .*Drop the column, e\.g\. "
        r"X = X\[:, ~np\.isnan\(X\)\.all\(axis=0\)\]"
    )
    with pytest.raises(ValueError, match=message):
        GaussianMixture(K).fit(X)
    with pytest.raises(ValueError, match=message):
        GaussianMixture(K).partial_fit(X)
    # a fitted model predicts the column from the others
    resp = em.observed_responsibilities(X, *fitted(model), "full")
    np.testing.assert_allclose(model.predict_proba(X), resp, rtol=1e-10, atol=1e-12)


def test_nan_in_a_dask_array_is_refused_with_the_in_memory_route():
    X = with_missing(clustered(), "mcar-10%")
    with pytest.raises(
        ValueError,
        match=r"Input X contains NaN at X\[\d+, \d+\].*fits missing values "
        r"\(NaN\) only in a NumPy X: for data that fits in memory, pass X\.compute\(\)",
    ) as error:
        GaussianMixture(K, random_state=0).fit(da.from_array(X, chunks=(200, D)))
    # the entry it names is one of the NaN (whichever block failed first)
    row, col = map(int, re.search(r"X\[(\d+), (\d+)\]", str(error.value)).groups())
    assert np.isnan(X[row, col])
    # and the route it names fits
    model = GaussianMixture(K, random_state=0).fit(
        da.from_array(X, chunks=(200, D)).compute()
    )
    assert np.isfinite(model.score(X))
