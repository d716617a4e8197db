"""Properties of the EM formulas, each checked against an independent computation."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import logsumexp, xlogy
from scipy.stats import invwishart, multivariate_normal
from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters

from gmmlib import datasets, em, numdiff

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]

seeds = st.integers(0, 2**32 - 1)
n_components = st.integers(1, 3)
n_features = st.integers(1, 3)


def random_spd(rng, d):
    A = rng.standard_normal((d, d))
    return A @ A.T / d + 0.5 * np.eye(d)


def random_problem(seed, K, d, n_samples=40):
    """Data from K spread-out clusters, and different parameters to start EM from."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.standard_normal((K, d))
    X = centres[rng.integers(K, size=n_samples)] + rng.standard_normal((n_samples, d))
    weights = rng.dirichlet(np.full(K, 2.0))
    means = X[rng.choice(n_samples, size=K, replace=False)]
    covariances = np.stack([random_spd(rng, d) for _ in range(K)])
    return X, weights, means, covariances


def scipy_log_likelihood(X, weights, means, covariances):
    """L through scipy.stats, independent of gmmlib's densities."""
    log_terms = [
        np.log(w) + multivariate_normal(m, c).logpdf(X)
        for w, m, c in zip(weights, means, covariances, strict=True)
    ]
    return float(np.sum(logsumexp(np.reshape(log_terms, (len(weights), -1)), axis=0)))


def as_full(covariances, covariance_type, K, d):
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return np.broadcast_to(covariances, (K, d, d))
    variances = covariances if covariance_type == "diag" else covariances[:, None]
    return np.broadcast_to(variances, (K, d))[:, :, None] * np.eye(d)


@given(seeds, n_components, n_features)
def test_responsibilities_match_bayes_rule_with_scipy_densities(seed, K, d):
    # checks: eq-responsibility
    X, weights, means, covariances = random_problem(seed, K, d)
    joint = np.column_stack(
        [
            w * multivariate_normal(m, c).pdf(X)
            for w, m, c in zip(weights, means, covariances, strict=True)
        ]
    )
    expected = joint / joint.sum(axis=1, keepdims=True)
    resp = em.responsibilities(X, weights, means, covariances)
    np.testing.assert_allclose(resp, expected, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-12)


@given(seeds, n_components, n_features)
def test_log_likelihood_is_the_total_over_samples(seed, K, d):
    X, weights, means, covariances = random_problem(seed, K, d)
    expected = scipy_log_likelihood(X, weights, means, covariances)
    assert em.log_likelihood(X, weights, means, covariances) == pytest.approx(
        expected, rel=1e-10
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@given(seed=seeds, K=n_components, d=n_features)
def test_em_step_never_decreases_log_likelihood(covariance_type, seed, K, d):
    X, weights, means, covariances = random_problem(seed, K, d)
    params = (weights, means, covariances)
    previous = em.log_likelihood(X, *params)
    kind = "full"  # the random start is full; after one step, the fitted shape
    for _ in range(3):
        resp = em.e_step(X, *params, covariance_type=kind)
        params = em.m_step(X, resp, covariance_type)
        kind = covariance_type
        current = em.log_likelihood(X, *params, covariance_type=kind)
        assert current >= previous - 1e-9 * abs(previous)
        previous = current


@given(seeds, n_components, n_features)
def test_updated_weights_sum_to_one_and_covariances_are_spd(seed, K, d):
    X, weights, means, covariances = random_problem(seed, K, d)
    resp = em.e_step(X, weights, means, covariances)
    assert np.sum(em.update_weights(resp)) == pytest.approx(1.0, abs=1e-12)
    new_weights, new_means, new_covariances = em.m_step(X, resp)
    assert np.all(new_weights >= 0)
    for k in range(K):
        np.testing.assert_array_equal(new_covariances[k], new_covariances[k].T)
        assert np.all(np.linalg.eigvalsh(new_covariances[k]) > 0)


@given(seeds, n_components, n_features)
def test_m_step_matches_numpy_weighted_mean_and_covariance(seed, K, d):
    X, weights, means, covariances = random_problem(seed, K, d)
    resp = em.e_step(X, weights, means, covariances)
    new_weights, new_means, new_covariances = em.m_step(X, resp)
    np.testing.assert_allclose(new_weights, resp.mean(axis=0), rtol=1e-12)
    for k in range(K):
        expected_mean = np.average(X, axis=0, weights=resp[:, k])
        expected_cov = np.cov(X, rowvar=False, aweights=resp[:, k], bias=True)
        np.testing.assert_allclose(new_means[k], expected_mean, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            new_covariances[k], np.reshape(expected_cov, (d, d)), rtol=1e-9, atol=1e-12
        )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_m_step_agrees_with_scikit_learn(covariance_type):
    X, weights, means, covariances = random_problem(3, 3, 2, n_samples=200)
    resp = em.e_step(X, weights, means, covariances)
    reg_covar = 1e-6
    nk, sk_means, sk_covariances = _estimate_gaussian_parameters(
        X, resp, reg_covar, covariance_type
    )
    new_weights, new_means, new_covariances = em.m_step(
        X, resp, covariance_type, reg_covar
    )
    # scikit-learn adds 10 ε to N_k; the difference is far below rtol.
    np.testing.assert_allclose(new_weights, nk / nk.sum(), rtol=1e-10)
    np.testing.assert_allclose(new_means, sk_means, rtol=1e-10)
    np.testing.assert_allclose(new_covariances, sk_covariances, rtol=1e-8)


@given(seeds, n_components, n_features)
def test_shaped_updates_are_reductions_of_the_full_update(seed, K, d):
    X, weights, means, covariances = random_problem(seed, K, d)
    resp = em.e_step(X, weights, means, covariances)
    new_means = em.update_means(X, resp)
    nk = resp.sum(axis=0)

    def update(kind):
        return em.update_covariances(X, resp, new_means, kind, reg_covar=1e-3)

    full = update("full")
    np.testing.assert_allclose(
        update("diag"), np.diagonal(full, axis1=1, axis2=2), rtol=1e-12
    )
    np.testing.assert_allclose(
        update("spherical"), np.trace(full, axis1=1, axis2=2) / d, rtol=1e-12
    )
    np.testing.assert_allclose(
        update("tied"), np.einsum("k,kij->ij", nk, full) / nk.sum(), rtol=1e-12
    )


@given(seeds, n_components, n_features, st.floats(0.01, 0.9))
def test_covariance_update_maximizes_q_for_fixed_responsibilities(seed, K, d, size):
    # checks: eq-sigma-new
    X, weights, means, covariances = random_problem(seed, K, d)
    resp = em.e_step(X, weights, means, covariances)
    new_weights, new_means, new_covariances = em.m_step(X, resp)
    best = em.expected_complete_log_likelihood(
        X, resp, new_weights, new_means, new_covariances
    )
    rng = np.random.default_rng(seed + 1)
    for k in range(K):
        for _ in range(3):
            # Σ' = L (I + size B) Lᵀ with ||B|| = 1 stays symmetric positive definite.
            B = rng.standard_normal((d, d))
            B = (B + B.T) / np.linalg.norm(B + B.T, 2)
            L = np.linalg.cholesky(new_covariances[k])
            perturbed = new_covariances.copy()
            perturbed[k] = L @ (np.eye(d) + size * B) @ L.T
            perturbed[k] = (perturbed[k] + perturbed[k].T) / 2
            q = em.expected_complete_log_likelihood(
                X, resp, new_weights, new_means, perturbed
            )
            assert q < best + 1e-10 * abs(best)


@given(seeds, n_components, n_features)
def test_q_at_old_parameters_is_log_likelihood_minus_entropy_term(seed, K, d):
    # L(θ) = Q(θ, θ) − Σ_n Σ_k γ_nk ln γ_nk when γ is computed at θ.
    X, weights, means, covariances = random_problem(seed, K, d)
    resp = em.e_step(X, weights, means, covariances)
    q = em.expected_complete_log_likelihood(X, resp, weights, means, covariances)
    expected = scipy_log_likelihood(X, weights, means, covariances)
    assert q - np.sum(xlogy(resp, resp)) == pytest.approx(expected, rel=1e-9)


@given(seeds, n_components, n_features)
def test_log_likelihood_grad_cov_matches_finite_differences(seed, K, d):
    # checks: eq-loglik-grad
    X, weights, means, covariances = random_problem(seed, K, d, n_samples=15)
    symmetric = em.log_likelihood_grad_cov(
        X, weights, means, covariances, symmetric=True
    )
    expected = numdiff.matrix_gradient(
        lambda C: scipy_log_likelihood(X, weights, means, C),
        covariances,
        symmetric=True,
    )
    scale = np.abs(expected).max()
    np.testing.assert_allclose(symmetric, expected, rtol=1e-5, atol=1e-7 * scale)
    # The independent-entry gradient G is recovered as (S + diag S) / 2.
    independent = em.log_likelihood_grad_cov(X, weights, means, covariances)
    np.testing.assert_allclose(
        independent,
        (expected + expected * np.eye(d)) / 2,
        rtol=1e-5,
        atol=1e-7 * scale,
    )


@given(seeds, n_components, n_features)
def test_gradient_of_l_equals_gradient_of_q_at_old_parameters(seed, K, d):
    # checks: eq-grad-l-equals-grad-q
    X, weights, means, covariances = random_problem(seed, K, d, n_samples=15)
    resp = em.e_step(X, weights, means, covariances)
    grad_q = numdiff.matrix_gradient(
        lambda C: em.expected_complete_log_likelihood(X, resp, weights, means, C),
        covariances,
        symmetric=True,
    )
    grad_l = em.log_likelihood_grad_cov(X, weights, means, covariances, symmetric=True)
    scale = np.abs(grad_l).max()
    np.testing.assert_allclose(grad_q, grad_l, rtol=1e-5, atol=1e-7 * scale)


def test_gradient_vanishes_at_a_fixed_point_of_em():
    X, _, truth = datasets.make_mixture(300, 3, 2, random_state=4)
    rng = np.random.default_rng(0)
    weights = np.full(3, 1 / 3)
    means = truth.means + 0.5 * rng.standard_normal((3, 2))
    covariances = np.stack([np.eye(2)] * 3)
    start = em.log_likelihood_grad_cov(X, weights, means, covariances)
    for _ in range(1000):
        resp = em.e_step(X, weights, means, covariances)
        new = em.m_step(X, resp)
        old = (weights, means, covariances)
        step = max(np.abs(a - b).max() for a, b in zip(new, old, strict=True))
        weights, means, covariances = new
        if step < 1e-13:
            break
    assert step < 1e-13
    grad = em.log_likelihood_grad_cov(X, weights, means, covariances)
    # Relative to the size of the two terms that cancel, N_k Σ_k⁻¹.
    nk = 300 * weights
    scale = np.max(nk[:, None, None] * np.abs(np.linalg.inv(covariances)))
    assert np.abs(grad).max() < 1e-9 * scale
    assert np.abs(start).max() > 1e-2 * scale


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_covariance_update_is_exact_for_data_offset_by_1e8(covariance_type):
    # Quarter-integers plus 1e8 are exact in float64, so the exact answer is known.
    rng = np.random.default_rng(5)
    Y = rng.integers(-32, 33, size=(64, 3)) / 4.0
    Y[:, 1] += 0.5 * Y[:, 0]
    X = Y + 1e8
    resp = np.ones((64, 1))
    means = em.update_means(X, resp)
    covariances = em.update_covariances(X, resp, means, covariance_type)
    exact = np.cov(Y, rowvar=False, bias=True)
    expected = {
        "full": exact[None],
        "tied": exact,
        "diag": np.diag(exact)[None],
        "spherical": np.trace(exact)[None] / 3,
    }[covariance_type]
    np.testing.assert_allclose(means[0], Y.mean(axis=0) + 1e8, rtol=1e-15)
    np.testing.assert_allclose(covariances, expected, rtol=1e-12)
    # The raw-moment formula E[x²] − E[x]² loses every digit here.
    raw = (X**2).mean(axis=0) - X.mean(axis=0) ** 2
    assert np.max(np.abs(raw - np.diag(exact))) > 1.0


def test_far_away_points_get_finite_responsibilities():
    weights = np.array([0.5, 0.5])
    means = np.array([[0.0, 0.0], [1.0, 0.0]])
    covariances = np.stack([np.eye(2), np.eye(2)])
    X = np.array([[1e4, 0.0], [-1e4, 3e3], [0.5, 0.0]])  # densities underflow to 0
    resp = em.responsibilities(X, weights, means, covariances)
    assert np.all(np.isfinite(resp))
    np.testing.assert_allclose(resp, [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]], atol=1e-12)
    assert np.isfinite(em.log_likelihood(X, weights, means, covariances))


def test_component_with_zero_weight_takes_no_responsibility():
    X, weights, means, covariances = random_problem(0, 3, 2)
    weights = np.array([0.6, 0.0, 0.4])
    resp = em.responsibilities(X, weights, means, covariances)
    np.testing.assert_array_equal(resp[:, 1], 0.0)
    q = em.expected_complete_log_likelihood(X, resp, weights, means, covariances)
    assert np.isfinite(q)


def test_float32_input_stays_float32_and_variances_stay_positive():
    X, weights, means, covariances = (
        np.asarray(a, dtype=np.float32) for a in random_problem(2, 2, 3, 100)
    )
    resp = em.e_step(X, weights, means, covariances)
    assert resp.dtype == np.float32
    for covariance_type in COVARIANCE_TYPES:
        new = em.m_step(X, resp, covariance_type)
        assert all(array.dtype == np.float32 for array in new)
    # Data offset far from 0: centred sums keep float32 variances positive.
    far = X + np.float32(1e4)
    variances = em.m_step(far, resp, "diag")[2]
    assert variances.dtype == np.float32
    assert np.all(variances > 0)
    np.testing.assert_allclose(
        variances, em.m_step(X.astype(np.float64), resp, "diag")[2], rtol=1e-2
    )


@pytest.mark.parametrize("covariance_type", ["tied", "diag", "spherical"])
def test_shaped_covariances_give_the_likelihood_of_their_full_matrices(covariance_type):
    X, weights, means, covariances = random_problem(6, 3, 2)
    resp = em.e_step(X, weights, means, covariances)
    shaped = em.update_covariances(X, resp, em.update_means(X, resp), covariance_type)
    full = as_full(shaped, covariance_type, 3, 2)
    assert em.log_likelihood(
        X, weights, means, shaped, covariance_type
    ) == pytest.approx(scipy_log_likelihood(X, weights, means, full), rel=1e-10)


def test_rank_deficient_update_is_refused_even_when_cholesky_passes():
    # Component 0 owns two points in the plane: its scatter has rank 1, yet
    # Cholesky of the rounded matrix succeeds with a pivot at rounding level.
    X = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, -1.0], [2.0, 5.0], [1.5, 2.0]])
    resp = np.array([[0.7, 0.3], [0.4, 0.6], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    means = em.update_means(X, resp)
    diff = X - means[0]
    scatter = (resp[:, 0, None] * diff).T @ diff / resp[:, 0].sum()
    scipy.linalg.cholesky(0.5 * (scatter + scatter.T), lower=True)
    with pytest.raises(ValueError, match="component 0 is singular.*reg_covar"):
        em.update_covariances(X, resp, means)
    regularised = em.update_covariances(X, resp, means, reg_covar=1e-6)
    assert np.linalg.eigvalsh(regularised[0]).min() == pytest.approx(1e-6)


# -- the MAP covariance update under an inverse-Wishart prior (eq-sigma-map) --


def map_problem(seed, K=2, d=3, n_samples=30):
    X, weights, means, covariances = random_problem(seed, K, d, n_samples)
    resp = em.responsibilities(X, weights, means, covariances)
    rng = np.random.default_rng(seed + 1)
    prior_scale = random_spd(rng, d)
    return X, resp, em.update_means(X, resp), prior_scale, d + 2.5


def log_posterior(X, resp, means, covariances, prior_scale, prior_dof):
    """Q with γ fixed plus Σ_k ln IW(Σ_k | Ψ, ν), the prior by scipy.stats."""
    weights = resp.sum(axis=0) / resp.shape[0]
    log_prior = sum(
        invwishart(df=prior_dof, scale=prior_scale).logpdf(c) for c in covariances
    )
    return (
        em.expected_complete_log_likelihood(X, resp, weights, means, covariances)
        + log_prior
    )


@given(seeds)
def test_map_covariance_update_zeroes_the_log_posterior_gradient(seed):
    X, resp, means, prior_scale, prior_dof = map_problem(seed)
    covariances = em.update_covariances_map(X, resp, means, prior_scale, prior_dof)
    for k in range(len(covariances)):

        def f(S, k=k):
            replaced = covariances.copy()
            replaced[k] = S
            return log_posterior(X, resp, means, replaced, prior_scale, prior_dof)

        grad = numdiff.matrix_gradient(f, covariances[k], symmetric=True)
        assert np.allclose(grad, 0.0, atol=1e-5 * max(1.0, np.abs(f(covariances[k]))))


def test_map_log_posterior_gradient_matches_finite_differences_away_from_the_update():
    """The derivation's gradient, −½(N_k + ν + d + 1)Σ⁻¹ + ½Σ⁻¹(S_k + Ψ)Σ⁻¹."""
    X, resp, means, prior_scale, prior_dof = map_problem(7)
    d = X.shape[1]
    rng = np.random.default_rng(8)
    covariances = np.stack([random_spd(rng, d) for _ in range(resp.shape[1])])
    for k in range(len(covariances)):

        def f(S, k=k):
            replaced = covariances.copy()
            replaced[k] = S
            return log_posterior(X, resp, means, replaced, prior_scale, prior_dof)

        diff = X - means[k]
        scatter = diff.T @ (resp[:, k, None] * diff)
        inverse = np.linalg.inv(covariances[k])
        G = -0.5 * (resp[:, k].sum() + prior_dof + d + 1) * inverse + 0.5 * (
            inverse @ (scatter + prior_scale) @ inverse
        )
        numeric = numdiff.matrix_gradient(f, covariances[k], symmetric=True)
        assert np.allclose(numeric, 2 * G - np.diag(np.diag(G)), rtol=1e-5, atol=1e-6)
        assert np.abs(G).max() > 1e-2  # not the stationary point


@given(seeds)
def test_map_covariance_update_maximises_the_log_posterior(seed):
    X, resp, means, prior_scale, prior_dof = map_problem(seed)
    covariances = em.update_covariances_map(X, resp, means, prior_scale, prior_dof)
    best = log_posterior(X, resp, means, covariances, prior_scale, prior_dof)
    rng = np.random.default_rng(seed)
    # large moves, and small ones: half of these would go uphill from a point
    # that is off the maximiser by as little as 1 %
    for size in np.repeat([0.1, 1e-3], 5):
        factor = scipy.linalg.expm(size * rng.standard_normal((3, 3)))
        moved = covariances.copy()
        moved[0] = factor @ moved[0] @ factor.T
        assert log_posterior(X, resp, means, moved, prior_scale, prior_dof) < best


def test_map_covariance_update_is_weighted_scatter_plus_scale_over_count():
    X, resp, means, prior_scale, prior_dof = map_problem(3)
    d = X.shape[1]
    covariances = em.update_covariances_map(X, resp, means, prior_scale, prior_dof)
    for k in range(resp.shape[1]):
        nk = resp[:, k].sum()
        # np.cov with bias=True about the weighted mean, which the new means are
        weighted = np.cov(X.T, aweights=resp[:, k], bias=True)
        expected = (nk * weighted + prior_scale) / (nk + prior_dof + d + 1)
        assert np.allclose(covariances[k], expected, rtol=1e-12)


def test_map_covariance_of_an_empty_component_is_the_prior_mode():
    X, resp, means, prior_scale, prior_dof = map_problem(5)
    resp = np.column_stack([resp.sum(axis=1), np.zeros(len(X))])  # N_2 = 0
    covariances = em.update_covariances_map(X, resp, means, prior_scale, prior_dof)
    mode = invwishart(df=prior_dof, scale=prior_scale).mode()
    assert np.allclose(covariances[1], mode, rtol=1e-12)


def test_map_covariance_is_positive_definite_for_collinear_points():
    t = np.linspace(0.0, 1.0, 10)
    X = np.column_stack([t, 2 * t])  # on a line: the ML update is singular
    resp = np.ones((10, 1))
    means = X.mean(axis=0, keepdims=True)
    with pytest.raises(ValueError, match="not positive definite|singular"):
        em.update_covariances(X, resp, means)
    prior_scale = 1e-3 * np.eye(2)
    covariances = em.update_covariances_map(X, resp, means, prior_scale, 3.0)
    smallest = np.linalg.eigvalsh(covariances[0])[0]
    assert np.isclose(smallest, 1e-3 / (10 + 3 + 2 + 1), rtol=1e-9)


def test_map_covariance_accepts_one_prior_scale_per_component():
    X, resp, means, prior_scale, prior_dof = map_problem(4)
    scales = np.stack([prior_scale, 2 * prior_scale])
    per_component = em.update_covariances_map(X, resp, means, scales, prior_dof)
    shared = em.update_covariances_map(X, resp, means, prior_scale, prior_dof)
    assert np.allclose(per_component[0], shared[0])
    assert not np.allclose(per_component[1], shared[1])


@pytest.mark.parametrize(
    ("prior_scale", "prior_dof", "message"),
    [
        (np.eye(2), 3.0, "prior_scale must have shape"),
        (-np.eye(3), 5.0, "not positive definite"),
        (np.array([[1.0, 0.5, 0], [0, 1.0, 0], [0, 0, 1.0]]), 5.0, "not symmetric"),
        (np.full((3, 3), np.nan), 5.0, "NaN or infinity"),
        (np.eye(3), 2.0, "greater than n_features − 1 = 2"),
        (np.eye(3), np.inf, "must be finite"),
        (np.eye(3), "five", "prior_dof must be a number"),
        ("identity", 5.0, "prior_scale must be a numeric"),
    ],
)
def test_map_covariance_rejects_an_improper_prior(prior_scale, prior_dof, message):
    X, resp, means, _, _ = map_problem(2)
    with pytest.raises(ValueError, match=message):
        em.update_covariances_map(X, resp, means, prior_scale, prior_dof)
