"""gmmlib.covariance: each model against the book's oracle and scikit-learn.

The models are the fast path's homes of the covariance structures; gmmlib.em
is the book's readable oracle, and scikit-learn's private functions
(sklearn.mixture._gaussian_mixture) the reference the estimator matches.
"""

import warnings

import numpy as np
import pytest
import sklearn.mixture._gaussian_mixture as skgm
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmmlib import GaussianMixture, covariance, em
from gmmlib.covariance import DiagonalLayout, pivots_singular
from gmmlib.suffstats import (
    SufficientStatistics,
    parameters_from_statistics,
    precisions_cholesky_from_covariances,
    precisions_from_cholesky,
)

NAMES = covariance.names()


def _data(seed=0, n=300, d=3, K=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + 2.0
    resp = rng.dirichlet(np.ones(K), size=n)
    return X, resp


def test_the_names_are_one_list_and_an_unknown_name_is_named():
    assert NAMES == ("full", "tied", "diag", "spherical")
    with pytest.raises(ValueError, match=r"covariance_type must be one of .*'banded'"):
        covariance.get("banded")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("reg_covar", [0.0, 1e-3])
def test_each_model_m_step_equals_the_oracle_and_scikit_learn(name, reg_covar):
    X, resp = _data()
    model = covariance.get(name)
    stats = SufficientStatistics.from_responsibilities(X, resp, name)
    covariances = model.update(stats.nk, stats.scatter, reg_covar)
    means = em.update_means(X, resp)
    oracle = em.update_covariances(X, resp, means, name, reg_covar)
    np.testing.assert_allclose(covariances, oracle, rtol=1e-12, atol=1e-14)
    nk, sk_means, sk_cov = skgm._estimate_gaussian_parameters(X, resp, reg_covar, name)
    # scikit-learn adds 10 eps to N_k; the engine's m_step does the same
    _, new_means, new_cov, new_prec_chol = parameters_from_statistics(stats, reg_covar)
    np.testing.assert_allclose(stats.nk + 10 * np.finfo(float).eps, nk, rtol=1e-14)
    np.testing.assert_allclose(new_means, sk_means, rtol=1e-12)
    np.testing.assert_allclose(new_cov, sk_cov, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        new_prec_chol, skgm._compute_precision_cholesky(sk_cov, name), rtol=1e-10
    )


@pytest.mark.parametrize("name", NAMES)
def test_each_model_counts_parameters_as_scikit_learn(name):
    K, d = 4, 5
    reference = SklearnGaussianMixture(K, covariance_type=name)
    reference.means_ = np.zeros((K, d))
    expected = reference._n_parameters() - (K * d + K - 1)
    assert covariance.get(name).n_parameters(K, d) == expected


@pytest.mark.parametrize("name", NAMES)
def test_each_model_converts_factors_as_scikit_learn(name):
    X, resp = _data(seed=1)
    _, _, sk_cov = skgm._estimate_gaussian_parameters(X, resp, 1e-6, name)
    model = covariance.get(name)
    prec_chol = model.precisions_cholesky(sk_cov)
    precisions = model.precisions_from_cholesky(prec_chol)
    np.testing.assert_allclose(
        prec_chol, skgm._compute_precision_cholesky(sk_cov, name), rtol=1e-10
    )
    np.testing.assert_allclose(
        model.precisions_cholesky_from_precisions(precisions),
        skgm._compute_precision_cholesky_from_precisions(precisions, name, xp=np),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        model.covariances_from_cholesky(prec_chol), sk_cov, rtol=1e-10
    )
    # to_full and the sampling factors agree with the attribute
    K, d = resp.shape[1], X.shape[1]
    full = model.to_full(sk_cov, K, d)
    assert full.shape == (K, d, d)
    expected = {
        "full": lambda: sk_cov,
        "tied": lambda: np.stack([sk_cov] * K),
        "diag": lambda: np.stack([np.diag(row) for row in sk_cov]),
        "spherical": lambda: np.stack([v * np.eye(d) for v in sk_cov]),
    }[name]()
    np.testing.assert_array_equal(full, expected)
    factors = model.sampling_factors(sk_cov, K, d)
    np.testing.assert_allclose(factors @ factors.transpose(0, 2, 1), full, rtol=1e-12)
    assert np.all(np.triu(factors, 1) == 0)


@pytest.mark.parametrize("name", ["full", "tied"])
def test_float32_features_of_very_different_scales_are_fitted(name):
    """Issue 19: standard deviations 3e4 and 1 in float32 were refused as
    "collapsed ... increase reg_covar"; scikit-learn fits them, and so must
    we, to the same parameters from the same start."""
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((500, 2)) * [3e4, 1.0]).astype(np.float32)
    X[:250] += np.array([1e5, 4.0], np.float32)
    params = {"n_components": 2, "covariance_type": name, "random_state": 0}
    ours = GaussianMixture(**params).fit(X)
    theirs = SklearnGaussianMixture(**params).fit(X)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-4)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=1e-3)


@pytest.mark.parametrize("name", ["full", "tied"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_feature_of_large_variance_is_not_a_collapse(name, dtype):
    """diag(9e8, 1) was refused in float32 while diag(9, 1) was accepted."""
    for big in (9.0, 9e8):
        covariance_ = np.diag([big, 1.0]).astype(dtype)
        stack = covariance_[None] if name == "full" else covariance_
        prec_chol = precisions_cholesky_from_covariances(stack, name)
        inverse = np.linalg.inv(covariance_.astype(np.float64))
        precision = precisions_from_cholesky(prec_chol, name).reshape(2, 2)
        np.testing.assert_allclose(precision, inverse, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_singularity_test_does_not_depend_on_the_scale(dtype):
    """The verdict of the singularity test is the same for Σ and D Σ D."""
    # the verdict is the same for D Σ D, D a diagonal of powers of two (exact
    # in floating point, so Cholesky gives exactly D L)
    rng = np.random.default_rng(3)
    for _ in range(50):
        a = rng.standard_normal((4, 4))
        rank = rng.integers(1, 5)
        sigma = a[:, :rank] @ a[:, :rank].T + (rank == 4) * np.eye(4)
        low, high = (-20, 20) if dtype == np.float32 else (-60, 60)
        D = np.diag(2.0 ** rng.integers(low, high, size=4))
        verdicts = []
        for s in (sigma, D @ sigma @ D):
            s = s.astype(dtype)
            try:
                factor = np.linalg.cholesky(s)
            except np.linalg.LinAlgError:
                verdicts.append(True)
                continue
            verdicts.append(bool(pivots_singular(factor, s)))
        assert verdicts[0] == verdicts[1]
        if rank == 4:
            assert verdicts == [False, False]


@pytest.mark.parametrize("name", NAMES)
def test_a_rank_deficient_covariance_is_refused_with_what_to_try(name):
    model = covariance.get(name)
    K, d = 2, 3
    v = np.array([1.0, 2.0, -1.0])
    shaped = {
        "full": np.stack([np.outer(v, v), np.eye(d)]),
        "tied": np.outer(v, v),
        "diag": np.array([[1.0, 0.0, 2.0], [1.0, 1.0, 1.0]]),
        "spherical": np.array([0.0, 1.0]),
    }[name]
    assert shaped.shape == model.shape(K, d)
    with pytest.raises(ValueError, match="increase reg_covar") as info:
        model.precisions_cholesky(shaped, reg_covar=0.0)
    assert ("tied" if name == "tied" else "[0]") in str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_reg_covar_in_the_scatter_equals_sigma_plus_eps_for_the_four_types(name):
    """eq-reg-covar-scatter: S_k + eps N_k I before the maximisation gives
    the classical Sigma_k + eps I (tied: sum_k S_k / N + eps I)."""
    X, resp = _data(seed=2)
    model = covariance.get(name)
    stats = SufficientStatistics.from_responsibilities(X, resp, name)
    eps = 0.25
    plain = model.update(stats.nk, stats.scatter, 0.0)
    regularised = model.update(stats.nk, stats.scatter, eps)
    d = X.shape[1]
    identity = {"full": np.eye(d), "tied": np.eye(d), "diag": 1.0, "spherical": 1.0}
    np.testing.assert_allclose(regularised, plain + eps * identity[name], rtol=1e-13)


class TiedSpherical(DiagonalLayout):
    """A made-up fifth model (mclust's EII): Σ_k = σ² I, one σ² for all k."""

    name = "tied_spherical"
    shared = True
    shape_text = "(1,)"

    def shape(self, n_components, n_features):
        return (1,)

    def n_parameters(self, n_components, n_features):
        return 1

    def maximise(self, nk, scatter):
        return np.atleast_1d(scatter.sum() / (scatter.shape[1] * nk.sum()))

    def expand(self, values, n_components, n_features):
        return np.broadcast_to(values, (n_components, n_features))


@pytest.fixture
def fifth_model():
    model = covariance.register(TiedSpherical())
    yield model
    covariance.unregister(model.name)


def test_a_fifth_model_registered_in_one_place_works_end_to_end(fifth_model):
    """Registering a model is all it takes: fit, predict, score, sample and
    BIC run through it, and one EM iteration from given parameters is the
    model's M-step of the book's responsibilities."""
    rng = np.random.default_rng(0)
    X = np.vstack(
        [rng.normal(0.0, 1.0, (200, 2)), rng.normal([6.0, 0.0], 1.0, (200, 2))]
    )
    weights0 = np.array([0.5, 0.5])
    means0 = np.array([[1.0, 0.0], [5.0, 1.0]])
    sigma2 = 2.0
    reg_covar = 1e-6
    one_step = GaussianMixture(
        2,
        covariance_type="tied_spherical",
        weights_init=weights0,
        means_init=means0,
        precisions_init=np.array([1 / sigma2]),
        max_iter=1,
        reg_covar=reg_covar,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one_step.fit(X)
    resp = em.responsibilities(X, weights0, means0, sigma2 * np.ones(2), "spherical")
    means = em.update_means(X, resp)
    sq = ((X[:, None, :] - means[None]) ** 2).sum(axis=2)
    expected = (resp * sq).sum() / (2 * len(X)) + reg_covar
    np.testing.assert_allclose(one_step.means_, means, rtol=1e-10)
    np.testing.assert_allclose(one_step.covariances_, expected, rtol=1e-10)
    assert one_step.covariances_.shape == (1,)

    fitted = GaussianMixture(2, covariance_type="tied_spherical", random_state=0)
    labels = fitted.fit_predict(X)
    assert {tuple(np.bincount(labels[:200], minlength=2) > 150)} <= {
        (True, False),
        (False, True),
    }
    assert fitted._n_parameters() == 1 + 2 * 2 + 1
    score = fitted.score(X)
    direct = em.log_likelihood(
        X,
        fitted.weights_,
        fitted.means_,
        fitted.covariances_ * np.ones(2),
        "spherical",
    )
    np.testing.assert_allclose(score * len(X), direct, rtol=1e-10)
    np.testing.assert_allclose(
        fitted.bic(X), -2 * direct + 6 * np.log(len(X)), rtol=1e-10
    )
    drawn, component = fitted.sample(20000)
    spread = drawn - fitted.means_[component]
    np.testing.assert_allclose(
        spread.var(axis=0), np.full(2, fitted.covariances_[0]), rtol=0.05
    )


def test_the_oracle_refuses_a_model_it_does_not_write_out(fifth_model):
    """gmmlib.em derives the four shapes; a registered fifth model is not
    silently updated as 'full' there, and its densities still work."""
    X, resp = _data(seed=4, d=2, K=2)
    means = em.update_means(X, resp)
    with pytest.raises(ValueError, match=r"covariance\.get\('tied_spherical'\)"):
        em.update_covariances(X, resp, means, "tied_spherical")
    expected = em.log_likelihood(
        X, [0.5, 0.5], means, np.array([2.0, 2.0]), "spherical"
    )
    got = em.log_likelihood(X, [0.5, 0.5], means, np.array([2.0]), "tied_spherical")
    np.testing.assert_allclose(got, expected, rtol=1e-12)
