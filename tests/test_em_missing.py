"""The missing-data EM of gmmlib.em, each formula against an independent route.

NaN marks a missing entry. The routes: scipy.stats densities of each row's
observed sub-vector (the observed-data likelihood and γ), the precision matrix
Λ = Σ⁻¹ and a regression on Gaussian samples (the conditional moments), a
numerical maximiser of Q (the M-step), finite differences of L_obs (EM's fixed
point) and the complete-data functions of gmmlib.em (no NaN).
"""

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from test_em import COVARIANCE_TYPES, as_full, n_components, n_features, seeds

from gmmlib import DegenerateComponentWarning, em, numdiff


def random_spd(rng, d):
    A = rng.standard_normal((d, d))
    return A @ A.T / d + 0.5 * np.eye(d)


def missing_problem(seed, K, d, n_samples=40, fraction=0.2):
    """Clustered data with a fraction of its entries MCAR, and parameters θ_old.

    Each row keeps at least one observed entry.
    """
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.standard_normal((K, d))
    X = centres[rng.integers(K, size=n_samples)] + rng.standard_normal((n_samples, d))
    weights = rng.dirichlet(np.full(K, 2.0))
    means = X[rng.choice(n_samples, size=K, replace=False)]
    covariances = np.stack([random_spd(rng, d) for _ in range(K)])
    missing = rng.random(X.shape) < fraction
    missing[np.arange(n_samples), rng.integers(d, size=n_samples)] = False
    X[missing] = np.nan
    return X, weights, means, covariances


def shaped(covariances, covariance_type):
    """Full covariances reduced to the parameters of ``covariance_type``."""
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return covariances[0]
    variances = np.diagonal(covariances, axis1=1, axis2=2)
    return variances if covariance_type == "diag" else variances.mean(axis=1)


def scipy_observed_log_terms(X, weights, means, covariances):
    """ln π_k + ln N(x_{n,o} | μ_{k,o}, Σ_{k,oo}) row by row, by scipy.stats."""
    terms = np.empty((len(X), len(weights)))
    for n, x in enumerate(X):
        o = ~np.isnan(x)
        for k in range(len(weights)):
            sub = covariances[k][np.ix_(o, o)]
            terms[n, k] = np.log(weights[k]) + multivariate_normal(
                means[k][o], sub
            ).logpdf(x[o])
    return terms


def precision_route(x, mean, cov):
    """x̂ and C̃ of one row through the precision Λ = Σ⁻¹.

    x̂_m = μ_m − Λ_mm⁻¹ Λ_mo (x_o − μ_o) and C = Λ_mm⁻¹, another formula than
    gmmlib's (Σ_mo Σ_oo⁻¹ and the Schur complement of Σ_oo).
    """
    m = np.isnan(x)
    o = ~m
    precision = np.linalg.inv(cov)
    precision_mm = precision[np.ix_(m, m)]
    x_hat = x.copy()
    x_hat[m] = mean[m] - np.linalg.solve(
        precision_mm, precision[np.ix_(m, o)] @ (x[o] - mean[o])
    )
    c_tilde = np.zeros_like(cov)
    c_tilde[np.ix_(m, m)] = np.linalg.inv(precision_mm)
    return x_hat, c_tilde


def precision_moments(X, means, covariances):
    """x̂ (n, K, d) and C̃ (n, K, d, d) by :func:`precision_route`, row by row."""
    n, d = X.shape
    K = len(means)
    x_hat, c_tilde = np.empty((n, K, d)), np.empty((n, K, d, d))
    for i in range(n):
        for k in range(K):
            x_hat[i, k], c_tilde[i, k] = precision_route(X[i], means[k], covariances[k])
    return x_hat, c_tilde


# -- the observed-data likelihood and the E-step ------------------------------------


@given(seeds, n_components, n_features)
def test_observed_log_likelihood_is_the_sum_of_scipy_marginal_densities(seed, K, d):
    X, weights, means, covariances = missing_problem(seed, K, d)
    expected = np.sum(
        logsumexp(scipy_observed_log_terms(X, weights, means, covariances), axis=1)
    )
    assert em.observed_log_likelihood(X, weights, means, covariances) == pytest.approx(
        expected, rel=1e-10
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_observed_likelihood_reads_every_covariance_shape(covariance_type):
    K, d = 3, 3
    X, weights, means, covariances = missing_problem(5, K, d, n_samples=60)
    given_covariances = shaped(covariances, covariance_type)
    full = as_full(given_covariances, covariance_type, K, d)
    terms = scipy_observed_log_terms(X, weights, means, full)
    L = em.observed_log_likelihood(
        X, weights, means, given_covariances, covariance_type
    )
    assert L == pytest.approx(np.sum(logsumexp(terms, axis=1)), rel=1e-10)
    resp = em.observed_responsibilities(
        X, weights, means, given_covariances, covariance_type
    )
    expected = np.exp(terms - logsumexp(terms, axis=1, keepdims=True))
    np.testing.assert_allclose(resp, expected, rtol=1e-9, atol=1e-300)


@given(seeds, n_components, n_features)
def test_observed_responsibilities_are_bayes_rule_on_the_observed_entries(seed, K, d):
    X, weights, means, covariances = missing_problem(seed, K, d)
    joint = np.exp(scipy_observed_log_terms(X, weights, means, covariances))
    expected = joint / joint.sum(axis=1, keepdims=True)
    resp = em.observed_responsibilities(X, weights, means, covariances)
    np.testing.assert_allclose(resp, expected, rtol=1e-8, atol=1e-300)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-12)


# -- the conditional moments ---------------------------------------------------------


@given(seeds, n_components, n_features)
def test_conditional_moments_match_the_precision_route(seed, K, d):
    X, _, means, covariances = missing_problem(seed, K, d, fraction=0.4)
    x_hat, c_tilde = em.conditional_moments(X, means, covariances)
    expected_x_hat, expected_c_tilde = precision_moments(X, means, covariances)
    np.testing.assert_allclose(x_hat, expected_x_hat, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(c_tilde, expected_c_tilde, rtol=1e-9, atol=1e-9)
    # the observed entries are kept as they are, and C̃ is zero outside m × m
    observed = ~np.isnan(X)
    for k in range(K):
        np.testing.assert_array_equal(x_hat[:, k][observed], X[observed])
    outside = observed[:, :, None] | observed[:, None, :]  # (n, d, d)
    for k in range(K):
        np.testing.assert_array_equal(c_tilde[:, k][outside], 0.0)


def test_conditional_moments_match_a_regression_on_gaussian_samples():
    # E[x_m | x_o] is linear in x_o with a Gaussian residual of covariance C:
    # least squares on many samples estimates both without any formula of Σ.
    rng = np.random.default_rng(7)
    d = 4
    mean, cov = rng.standard_normal(d), random_spd(rng, d)
    samples = rng.multivariate_normal(mean, cov, size=200_000)
    o, m = np.array([0, 2]), np.array([1, 3])
    design = np.column_stack([np.ones(len(samples)), samples[:, o]])
    coefficients, *_ = np.linalg.lstsq(design, samples[:, m], rcond=None)
    residual = samples[:, m] - design @ coefficients
    row = np.array([[0.3, np.nan, -1.2, np.nan]])
    x_hat, c_tilde = em.conditional_moments(row, mean[None], cov[None])
    np.testing.assert_allclose(
        x_hat[0, 0, m], np.array([1.0, 0.3, -1.2]) @ coefficients, atol=0.02
    )
    np.testing.assert_allclose(
        c_tilde[0, 0][np.ix_(m, m)], np.cov(residual, rowvar=False), atol=0.02
    )


# -- the M-step ----------------------------------------------------------------------


def _lower(values, d):
    """A lower-triangular matrix with a positive diagonal from d(d+1)/2 numbers."""
    L = np.zeros((d, d))
    L[np.tril_indices(d)] = values
    L[np.diag_indices(d)] = np.exp(np.diag(L))
    return L


def _unpack(theta, covariance_type, K, d):
    """Means and full covariances from an unconstrained parameter vector."""
    means = theta[: K * d].reshape(K, d)
    rest = theta[K * d :]
    if covariance_type == "full":
        size = d * (d + 1) // 2
        factors = [_lower(rest[k * size : (k + 1) * size], d) for k in range(K)]
        covariances = np.stack([L @ L.T for L in factors])
    elif covariance_type == "tied":
        L = _lower(rest, d)
        covariances = np.broadcast_to(L @ L.T, (K, d, d))
    elif covariance_type == "diag":
        covariances = np.exp(rest.reshape(K, d))[:, :, None] * np.eye(d)
    else:
        covariances = np.exp(rest)[:, None, None] * np.eye(d)
    return means, covariances


def _n_covariance_parameters(covariance_type, K, d):
    return {
        "full": K * d * (d + 1) // 2,
        "tied": d * (d + 1) // 2,
        "diag": K * d,
        "spherical": K,
    }[covariance_type]


def expected_q(resp, x_hat, c_tilde, means, covariances):
    """The (μ, Σ) part of Q: Σ_n Σ_k γ_nk [ln N(x̂_nk | μ_k, Σ_k) − ½ tr(Σ_k⁻¹ C̃_nk)]."""
    total = 0.0
    for k in range(len(means)):
        log_density = multivariate_normal(means[k], covariances[k]).logpdf(x_hat[:, k])
        trace = np.einsum("ij,nji->n", np.linalg.inv(covariances[k]), c_tilde[:, k])
        total += np.sum(resp[:, k] * (log_density - 0.5 * trace))
    return total


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_m_step_is_the_numerical_maximiser_of_q(covariance_type, seed):
    K, d = 2, 2 + seed % 2
    X, weights, means, covariances = missing_problem(seed, K, d, n_samples=30)
    old_covariances = shaped(covariances, covariance_type)
    resp = em.observed_responsibilities(
        X, weights, means, old_covariances, covariance_type
    )
    x_hat, c_tilde = precision_moments(
        X, means, as_full(old_covariances, covariance_type, K, d)
    )

    def negative_q(theta):
        return -expected_q(resp, x_hat, c_tilde, *_unpack(theta, covariance_type, K, d))

    start = np.zeros(K * d + _n_covariance_parameters(covariance_type, K, d))
    start[: K * d] = means.ravel()
    result = scipy.optimize.minimize(
        negative_q, start, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000}
    )
    best_means, best_covariances = _unpack(result.x, covariance_type, K, d)
    new_weights, new_means, new_covariances = em.m_step_observed(
        X, resp, means, old_covariances, covariance_type
    )
    full = as_full(new_covariances, covariance_type, K, d)
    np.testing.assert_allclose(new_weights, resp.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(new_means, best_means, atol=1e-4)
    np.testing.assert_allclose(full, best_covariances, atol=1e-4)
    # and no other parameter does better than the closed form
    q_closed_form = expected_q(resp, x_hat, c_tilde, new_means, full)
    assert q_closed_form >= -result.fun - 1e-9 * abs(result.fun)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_never_decreases_the_observed_log_likelihood(covariance_type):
    K, d = 3, 3
    X, weights, means, covariances = missing_problem(11, K, d, n_samples=200)
    params = (weights, means, shaped(covariances, covariance_type))
    previous = em.observed_log_likelihood(X, *params, covariance_type)
    increases = []
    for _ in range(30):
        params = em.em_step_observed(X, *params, covariance_type)
        current = em.observed_log_likelihood(X, *params, covariance_type)
        assert current >= previous - 1e-10 * abs(previous)
        increases.append(current - previous)
        previous = current
    assert increases[0] > 1.0  # the check has something to hold


def test_observed_log_likelihood_is_stationary_at_ems_fixed_point():
    K, d = 2, 2
    X, weights, means, covariances = missing_problem(3, K, d, n_samples=150)
    params = (weights, means, covariances)
    for _ in range(5000):
        new = em.em_step_observed(X, *params)
        change = max(np.max(np.abs(a - b)) for a, b in zip(new, params, strict=True))
        params = new
        if change < 1e-12:
            break
    assert change < 1e-12, "EM did not reach its fixed point"
    weights, means, covariances = params

    def L_of_means(M):
        return em.observed_log_likelihood(X, weights, M, covariances)

    def L_of_covariances(S):
        return em.observed_log_likelihood(X, weights, means, S)

    gradient = numdiff.matrix_gradient(L_of_means, means)
    assert np.max(np.abs(gradient)) < 1e-5
    gradient = numdiff.matrix_gradient(L_of_covariances, covariances, symmetric=True)
    assert np.max(np.abs(gradient)) < 1e-5
    # the same gradient is far from zero at the start, so the bound means something
    start = missing_problem(3, K, d, n_samples=150)
    gradient = numdiff.matrix_gradient(
        lambda M: em.observed_log_likelihood(X, start[1], M, start[3]), start[2]
    )
    assert np.max(np.abs(gradient)) > 1.0


def test_dropping_the_conditional_covariance_underestimates_the_variances():
    K, d = 2, 3
    X, weights, means, covariances = missing_problem(
        4, K, d, n_samples=100, fraction=0.3
    )
    resp = em.observed_responsibilities(X, weights, means, covariances)
    _, new_means, new_covariances = em.m_step_observed(X, resp, means, covariances)
    x_hat, c_tilde = precision_moments(X, means, covariances)
    nk = resp.sum(axis=0)
    for k in range(K):
        diff = x_hat[:, k] - new_means[k]
        naive = np.einsum("n,ni,nj->ij", resp[:, k], diff, diff) / nk[k]
        assert np.trace(new_covariances[k]) > np.trace(naive) + 1e-3
        # the difference is exactly the averaged conditional covariance
        np.testing.assert_allclose(
            new_covariances[k] - naive,
            np.einsum("n,nij->ij", resp[:, k], c_tilde[:, k]) / nk[k],
            rtol=1e-9,
            atol=1e-12,
        )


# -- nothing missing: the complete-data functions ------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_with_nothing_missing_every_function_is_the_complete_data_one(covariance_type):
    K, d = 3, 3
    X, weights, means, covariances = missing_problem(8, K, d, n_samples=60, fraction=0)
    assert not np.isnan(X).any()
    given_covariances = shaped(covariances, covariance_type)
    theta = (weights, means, given_covariances)
    assert em.observed_log_likelihood(X, *theta, covariance_type) == pytest.approx(
        em.log_likelihood(X, *theta, covariance_type), rel=1e-12
    )
    resp = em.observed_responsibilities(X, *theta, covariance_type)
    expected_resp = em.responsibilities(X, *theta, covariance_type)
    np.testing.assert_allclose(resp, expected_resp, rtol=1e-12, atol=1e-300)
    x_hat, c_tilde = em.conditional_moments(
        X, means, given_covariances, covariance_type
    )
    np.testing.assert_array_equal(x_hat, np.broadcast_to(X[:, None], (60, K, d)))
    np.testing.assert_array_equal(c_tilde, 0.0)
    expected = em.m_step(X, resp, covariance_type, reg_covar=1e-6)
    got = em.m_step_observed(
        X, resp, means, given_covariances, covariance_type, reg_covar=1e-6
    )
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    stepped = em.em_step_observed(X, *theta, covariance_type, reg_covar=1e-6)
    for a, b in zip(stepped, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_lost_component_is_reset_as_the_complete_data_m_step_does(covariance_type):
    K, d = 3, 2
    X, weights, means, covariances = missing_problem(9, K, d, n_samples=30)
    given_covariances = shaped(covariances, covariance_type)
    resp = em.observed_responsibilities(
        X, weights, means, given_covariances, covariance_type
    )
    resp[:, 0] += resp[:, 2]
    resp[:, 2] = 0.0
    with pytest.warns(DegenerateComponentWarning, match=r"Component\(s\) \[2\]"):
        new_weights, new_means, new_covariances = em.m_step_observed(
            X, resp, means, given_covariances, covariance_type, reg_covar=1e-3
        )
    assert new_weights[2] == 0.0
    np.testing.assert_array_equal(new_means[2], 0.0)
    full = as_full(new_covariances, covariance_type, K, d)
    if covariance_type != "tied":
        np.testing.assert_array_equal(full[2], 1e-3 * np.eye(d))
    # the kept components get the M-step on them alone (x̂ and C̃ per component)
    kept_covariances = given_covariances
    if covariance_type != "tied":
        kept_covariances = given_covariances[:2]
    _, kept_means, kept_new = em.m_step_observed(
        X, resp[:, :2], means[:2], kept_covariances, covariance_type, reg_covar=1e-3
    )
    np.testing.assert_allclose(new_means[:2], kept_means, rtol=1e-12)
    np.testing.assert_allclose(
        full[:2], as_full(kept_new, covariance_type, 2, d)[:2], rtol=1e-12
    )


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_a_lost_component_without_reg_covar_is_an_error(covariance_type):
    X, weights, means, covariances = missing_problem(9, 3, 2, n_samples=30)
    resp = em.observed_responsibilities(X, weights, means, covariances)
    resp[:, 0] += resp[:, 2]
    resp[:, 2] = 0.0
    with pytest.raises(ValueError, match="With reg_covar=0 the M-step"):
        em.m_step_observed(
            X, resp, means, shaped(covariances, covariance_type), covariance_type
        )


# -- bad input -----------------------------------------------------------------------


def _call(function, X, weights, means, covariances):
    if function is em.conditional_moments:
        return function(X, means, covariances)
    if function is em.m_step_observed:
        resp = np.full((len(X), len(means)), 1.0 / len(means))
        return function(X, resp, means, covariances)
    return function(X, weights, means, covariances)


FUNCTIONS = [
    em.observed_log_likelihood,
    em.observed_responsibilities,
    em.conditional_moments,
    em.m_step_observed,
    em.em_step_observed,
]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinity_is_refused_naming_the_entry(function, value):
    X, weights, means, covariances = missing_problem(0, 2, 3)
    X[12, 2] = value
    with pytest.raises(
        ValueError, match=r"X\[12, 2\] = -?inf: infinity is not a missing"
    ):
        _call(function, X, weights, means, covariances)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_row_with_no_observed_value_is_refused_naming_the_row(function):
    X, weights, means, covariances = missing_problem(0, 2, 3)
    X[17] = np.nan
    X[25] = np.nan
    with pytest.raises(ValueError, match=r"X\[17\] has no observed value; drop it"):
        _call(function, X, weights, means, covariances)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_wrong_shapes_are_refused_naming_what_is_wrong(function):
    X, weights, means, covariances = missing_problem(0, 2, 3)
    with pytest.raises(ValueError, match=r"X must be a 2-D array.*got shape \(3,\)"):
        _call(function, X[0], weights, means, covariances)
    with pytest.raises(ValueError, match="means has 2 columns but X has 3 features"):
        _call(function, X, weights, means[:, :2], covariances)
    with pytest.raises(ValueError, match="covariances"):
        _call(function, X, weights, means, covariances[:, :2, :2])


def test_m_step_refuses_responsibilities_that_do_not_fit():
    X, _, means, covariances = missing_problem(0, 2, 3)
    resp = np.full((len(X), 2), 0.5)
    with pytest.raises(ValueError, match="resp has 39 rows but X has 40 samples"):
        em.m_step_observed(X, resp[1:], means, covariances)
    with pytest.raises(
        ValueError, match="resp has 3 columns but means_prev has 2 rows"
    ):
        em.m_step_observed(X, np.full((len(X), 3), 1 / 3), means, covariances)
