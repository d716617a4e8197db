"""GaussianMixture.sample draws each component from N(mu_k, Sigma_k).

For every covariance type and both float dtypes, a model is fitted once and
sampled once; then each component's rows are compared with the fitted
parameters by statistics whose law under a correct sampler is known (chi-square
and binomial exactly, Kolmogorov-Smirnov's asymptotically at these sizes), so
each tolerance is a quantile at a stated false-alarm rate: ``ALPHA`` per test,
split over its statistics by Bonferroni. The seeds are fixed, so the outcome is
the same on every run; the quantiles say why a correct sampler passes for all
but about one seed in a million.

The references are the fitted ``weights_``, ``means_`` and ``covariances_``,
expanded to full matrices by ``_full_covariances`` below (not by gmmlib), and
the features have unequal scales (standard deviations from about 0.2 to 8)
and correlations, so drawing with the wrong factor (precisions for
covariances, variances for standard deviations, a transposed factor, another
component's factor) changes a component's covariance by far more than its
tolerance.
"""

from numbers import Integral

import numpy as np
import pytest
from scipy import linalg, stats
from sklearn.utils._param_validation import InvalidParameterError

from gmmlib import GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
DTYPES = [np.float64, np.float32]
N_COMPONENTS = 3
N_SAMPLES = 60_000
# false-alarm probability of one assertion group for a correct sampler
ALPHA = 1e-6

# three components of unequal weight, scale, orientation and shape
_WEIGHTS = np.array([0.5, 0.3, 0.2])
_CENTRES = np.array([[0.0, 0.0, 0.0], [40.0, -4.0, 1.0], [-30.0, 5.0, -1.5]])
_SCALES = np.array([[8.0, 1.0, 0.2], [3.0, 2.0, 0.5], [5.0, 0.5, 1.0]])
_CORRELATIONS = np.array([0.8, -0.6, 0.3])


def _generating_covariances():
    covariances = []
    for scale, rho in zip(_SCALES, _CORRELATIONS, strict=True):
        correlation = np.array([[1.0, rho, 0.0], [rho, 1.0, rho / 2], [0, rho / 2, 1]])
        covariances.append(correlation * np.outer(scale, scale))
    return np.array(covariances)


def _training_data():
    rng = np.random.default_rng(0)
    counts = rng.multinomial(1500, _WEIGHTS)
    return np.vstack(
        [
            rng.multivariate_normal(centre, cov, size=count)
            for centre, cov, count in zip(
                _CENTRES, _generating_covariances(), counts, strict=True
            )
        ]
    )


def _full_covariances(model):
    """Each component's Sigma_k as a (K, d, d) array, from ``covariances_``."""
    K, d = model.means_.shape
    cov = np.asarray(model.covariances_, dtype=np.float64)
    if model.covariance_type == "full":
        return cov
    if model.covariance_type == "tied":
        return np.repeat(cov[None], K, axis=0)
    if model.covariance_type == "diag":
        return np.array([np.diag(c) for c in cov])
    return cov[:, None, None] * np.eye(d)


@pytest.fixture(
    scope="module",
    params=[(c, t) for c in COVARIANCE_TYPES for t in DTYPES],
    ids=lambda p: f"{p[0]}-{np.dtype(p[1]).name}",
)
def drawn(request):
    """(model, X, y): a fitted model and one sample of N_SAMPLES rows."""
    covariance_type, dtype = request.param
    model = GaussianMixture(
        N_COMPONENTS, covariance_type=covariance_type, random_state=0
    ).fit(_training_data().astype(dtype))
    X, y = model.sample(N_SAMPLES)
    return model, X, y


def _whitened(model, X, y, k):
    """Rows of component k as z = L_k^{-1} (x - mu_k), L_k L_k^T = Sigma_k.

    Under a correct sampler the rows of z are independent N(0, I).
    """
    L = linalg.cholesky(_full_covariances(model)[k], lower=True)
    centred = X[y == k].astype(np.float64) - model.means_[k].astype(np.float64)
    return linalg.solve_triangular(L, centred.T, lower=True).T


def _directions(d):
    """Unit vectors e_i and (e_i +- e_j)/sqrt(2): their variances fix a matrix."""
    eye = np.eye(d)
    pairs = [
        (eye[i] + sign * eye[j]) / np.sqrt(2)
        for i in range(d)
        for j in range(i + 1, d)
        for sign in (1.0, -1.0)
    ]
    return np.vstack([eye, *pairs])


def test_sample_returns_n_rows_of_the_models_dtype_and_a_label_each(drawn):
    model, X, y = drawn
    assert X.shape == (N_SAMPLES, model.means_.shape[1])
    assert X.dtype == model.means_.dtype
    assert y.shape == (N_SAMPLES,)
    assert np.issubdtype(y.dtype, np.integer)
    assert set(np.unique(y)) == set(range(N_COMPONENTS))
    assert np.all(np.isfinite(X))


def test_component_counts_follow_the_weights(drawn):
    # count_k ~ Binomial(N, pi_k) exactly
    model, _, y = drawn
    counts = np.bincount(y, minlength=N_COMPONENTS)
    weights = model.weights_.astype(np.float64)
    alpha = ALPHA / N_COMPONENTS
    low = stats.binom.ppf(alpha / 2, N_SAMPLES, weights)
    high = stats.binom.isf(alpha / 2, N_SAMPLES, weights)
    assert np.all((low <= counts) & (counts <= high)), (counts, low, high)


def test_each_components_sample_mean_is_its_mean(drawn):
    # n_k |z_bar|^2 ~ chi^2_d exactly, z_bar the mean of the whitened rows
    model, X, y = drawn
    d = model.means_.shape[1]
    limit = stats.chi2.isf(ALPHA / N_COMPONENTS, d)
    for k in range(N_COMPONENTS):
        z = _whitened(model, X, y, k)
        statistic = len(z) * np.sum(z.mean(axis=0) ** 2)
        assert statistic <= limit, (k, statistic, limit)


def test_each_components_sample_covariance_is_its_covariance(drawn):
    # along a unit direction u, sum_n (u^T z_n)^2 ~ chi^2_{n_k} exactly (z about
    # the true mean); the d^2 directions of _directions determine the whole
    # whitened covariance, so each entry of Sigma_k is checked
    model, X, y = drawn
    d = model.means_.shape[1]
    directions = _directions(d)
    alpha = ALPHA / (N_COMPONENTS * len(directions))
    for k in range(N_COMPONENTS):
        z = _whitened(model, X, y, k)
        n_k = len(z)
        sums = np.sum((z @ directions.T) ** 2, axis=0)
        low = stats.chi2.ppf(alpha / 2, n_k)
        high = stats.chi2.isf(alpha / 2, n_k)
        assert np.all((low <= sums) & (sums <= high)), (k, sums / n_k, low / n_k)


def test_each_component_is_gaussian_along_each_whitened_axis(drawn):
    # a sampler with the right mean and covariance but another law (uniform
    # or Student draws) fails Kolmogorov-Smirnov against N(0, 1)
    model, X, y = drawn
    d = model.means_.shape[1]
    alpha = ALPHA / (N_COMPONENTS * d)
    for k in range(N_COMPONENTS):
        z = _whitened(model, X, y, k)
        for axis in range(d):
            p_value = stats.kstest(z[:, axis], "norm").pvalue
            assert p_value >= alpha, (k, axis, p_value)


@pytest.fixture(scope="module")
def fitted():
    return GaussianMixture(N_COMPONENTS, random_state=0).fit(_training_data())


@pytest.mark.parametrize("n_samples", [1, 2, np.int64(5), np.uint8(3)], ids=repr)
def test_any_positive_int_is_a_sample_size(fitted, n_samples):
    X, y = fitted.sample(n_samples)
    assert isinstance(n_samples, Integral)
    assert X.shape == (int(n_samples), 3) and y.shape == (int(n_samples),)


@pytest.mark.parametrize(
    "n_samples",
    [0, -3, 2.5, 3.0, np.float64(3.0), None, True, False, "3", [3]],
    ids=repr,
)
def test_n_samples_must_be_a_positive_int(fitted, n_samples):
    match = r"'n_samples' .* must be an int of at least 1 .*got " + (
        r"\S+ of type " + type(n_samples).__name__
    )
    with pytest.raises(InvalidParameterError, match=match):
        fitted.sample(n_samples)
