"""gmmlib.suffstats: block statistics, their merge, and the M-step from them."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from gmmlib import em
from gmmlib.suffstats import (
    BlockEStep,
    SufficientStatistics,
    accumulate_statistics,
    covariances_from_cholesky,
    parameters_from_statistics,
    precisions_cholesky_from_covariances,
    precisions_cholesky_from_precisions,
    precisions_from_cholesky,
)

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def _data(offset=0.0, n_samples=700, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [4.0, -2.0, 1.0], [-3.0, 3.0, 4.0]])
    parts = [
        c + rng.standard_normal((n_samples // 3, 3)) * [1.0, 0.5, 2.0] for c in centres
    ]
    return np.vstack(parts) + offset


def _parameters(covariance_type, offset=0.0, dtype=np.float64):
    rng = np.random.default_rng(1)
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[0.5, 0.0, 0.0], [3.5, -2.0, 1.5], [-3.0, 2.5, 4.0]]) + offset
    full = []
    for _ in range(3):
        a = rng.standard_normal((3, 3))
        full.append(a @ a.T + np.eye(3))
    covariances = _shaped(np.array(full), covariance_type)
    prec_chol = precisions_cholesky_from_covariances(covariances, covariance_type)
    cast = [np.asarray(p, dtype) for p in (weights, means, covariances, prec_chol)]
    return tuple(cast)


def _shaped(full, covariance_type):
    """The covariances of ``covariance_type`` taken from a stack of full ones."""
    return {
        "full": full,
        "tied": full[0],
        "diag": np.diagonal(full, axis1=1, axis2=2).copy(),
        "spherical": np.diagonal(full, axis1=1, axis2=2).mean(axis=1),
    }[covariance_type]


def _full_covariances(covariances, covariance_type, n_components=3, n_features=3):
    """Back to a (K, d, d) stack, for SciPy's densities."""
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return np.repeat(covariances[None], n_components, axis=0)
    if covariance_type == "diag":
        return np.array([np.diag(c) for c in covariances])
    return np.array([v * np.eye(n_features) for v in covariances])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_weighted_log_prob_matches_scipy_densities(covariance_type):
    X = _data()
    weights, means, covariances, prec_chol = _parameters(covariance_type)
    estep = BlockEStep(weights, means, prec_chol, covariance_type, X.mean(axis=0))
    full = _full_covariances(covariances, covariance_type)
    expected = np.column_stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(weights, means, full, strict=True)
        ]
    )
    np.testing.assert_allclose(estep.weighted_log_prob(X), expected, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_block_statistics_equal_the_direct_weighted_sums(covariance_type):
    X = _data()
    weights, means, covariances, prec_chol = _parameters(covariance_type)
    estep = BlockEStep(weights, means, prec_chol, covariance_type, X.mean(axis=0))
    stats = estep.statistics(X)
    resp = em.e_step(X, weights, means, covariances, covariance_type)
    nk = resp.sum(axis=0)
    block_means = resp.T @ X / nk[:, None]
    scatter = np.array(
        [(resp[:, k] * (X - block_means[k]).T) @ (X - block_means[k]) for k in range(3)]
    )
    if covariance_type in ("diag", "spherical"):
        scatter = np.diagonal(scatter, axis1=1, axis2=2)
    assert stats.n_samples == len(X)
    np.testing.assert_allclose(stats.nk, nk, rtol=1e-12)
    np.testing.assert_allclose(stats.means, block_means, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(stats.scatter, scatter, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        stats.log_likelihood,
        em.log_likelihood(X, weights, means, covariances, covariance_type),
        rtol=1e-12,
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_block_statistics_at_every_tile_boundary(covariance_type, dtype):
    """The kernels' tiles: a block of 1 row, one short of a tile, one tile, one
    more, and several tiles with a remainder, weighted and not, in both
    precisions, against the functional core in float64."""
    from gmmlib._kernels import tile_rows

    tile = tile_rows(3, 3)
    X_all = _data(n_samples=3 * tile + 60, seed=4)
    weights, means, covariances, prec_chol = _parameters(covariance_type)
    estep = BlockEStep(
        *(np.asarray(p, dtype) for p in (weights, means, prec_chol)),
        covariance_type,
        X_all.mean(axis=0),
    )
    rtol = 1e-10 if dtype == np.float64 else 2e-4
    sample_weight = np.random.default_rng(5).uniform(0, 2, len(X_all))
    full = _full_covariances(covariances, covariance_type)
    log_densities = np.column_stack(
        [
            np.log(p) + multivariate_normal(m, c).logpdf(X_all)
            for p, m, c in zip(weights, means, full, strict=True)
        ]
    )
    for n in (1, tile - 1, tile, tile + 1, 3 * tile + 5):
        X, w = X_all[:n], sample_weight[:n]
        resp = em.e_step(X, weights, means, covariances, covariance_type)
        for row_weights in (None, w):
            g = resp if row_weights is None else resp * row_weights[:, None]
            stats = estep.statistics(X.astype(dtype), row_weights)
            nk = g.sum(axis=0)
            assert stats.nk.dtype == dtype
            np.testing.assert_allclose(stats.nk, nk, rtol=rtol, atol=rtol)
            keep = nk > 1e-3  # the means of components with some weight
            block_means = g.T @ X / np.where(keep, nk, 1)[:, None]
            np.testing.assert_allclose(
                stats.means[keep], block_means[keep], rtol=rtol, atol=10 * rtol
            )
            for k in np.flatnonzero(keep):
                r = X - block_means[k]
                scatter = (g[:, k] * r.T) @ r
                if covariance_type in ("diag", "spherical"):
                    scatter = np.diag(scatter)
                np.testing.assert_allclose(
                    stats.scatter[k], scatter, rtol=rtol, atol=100 * rtol
                )
            per_row = logsumexp(log_densities[:n], axis=1)
            expected = per_row.sum() if row_weights is None else row_weights @ per_row
            np.testing.assert_allclose(stats.log_likelihood, expected, rtol=rtol)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_merge_is_associative_and_equals_the_statistics_of_the_union(covariance_type):
    # checks: eq-merge
    X = _data(seed=2)
    weights, means, _, prec_chol = _parameters(covariance_type)
    estep = BlockEStep(weights, means, prec_chol, covariance_type, X.mean(axis=0))
    a, b, c = (estep.statistics(part) for part in np.array_split(X, [100, 450]))
    whole = estep.statistics(X)
    left = (a.merge(b)).merge(c)
    right = a + (b + c)
    for merged in (left, right, c.merge(a).merge(b)):
        assert merged.n_samples == whole.n_samples
        np.testing.assert_allclose(merged.nk, whole.nk, rtol=1e-12)
        np.testing.assert_allclose(merged.means, whole.means, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(
            merged.scatter, whole.scatter, rtol=1e-11, atol=1e-11
        )
        np.testing.assert_allclose(
            merged.log_likelihood, whole.log_likelihood, rtol=1e-13
        )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_empty_statistics_are_the_identity_of_merge(covariance_type):
    X = _data()
    weights, means, _, prec_chol = _parameters(covariance_type)
    stats = BlockEStep(weights, means, prec_chol, covariance_type).statistics(X)
    empty = SufficientStatistics.empty(3, 3, covariance_type)
    for merged in (empty.merge(stats), stats.merge(empty)):
        np.testing.assert_array_equal(merged.nk, stats.nk)
        np.testing.assert_allclose(merged.means, stats.means, rtol=1e-15)
        np.testing.assert_allclose(merged.scatter, stats.scatter, rtol=1e-15)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_threads", [1, 3])
def test_block_size_and_threads_do_not_change_the_statistics(
    covariance_type, n_threads
):
    X = _data(n_samples=1500)
    weights, means, _, prec_chol = _parameters(covariance_type)
    estep = BlockEStep(weights, means, prec_chol, covariance_type, X.mean(axis=0))
    whole = estep.statistics(X)
    blocked = accumulate_statistics(X, estep, block_size=97, n_threads=n_threads)
    np.testing.assert_allclose(blocked.nk, whole.nk, rtol=1e-12)
    np.testing.assert_allclose(blocked.means, whole.means, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(blocked.scatter, whole.scatter, rtol=1e-10)
    np.testing.assert_allclose(blocked.log_likelihood, whole.log_likelihood, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_m_step_from_statistics_equals_the_books_m_step(covariance_type):
    X = _data()
    weights, means, covariances, prec_chol = _parameters(covariance_type)
    stats = accumulate_statistics(
        X, BlockEStep(weights, means, prec_chol, covariance_type), block_size=64
    )
    new = parameters_from_statistics(stats, reg_covar=1e-4)
    resp = em.e_step(X, weights, means, covariances, covariance_type)
    expected = em.m_step(X, resp, covariance_type=covariance_type, reg_covar=1e-4)
    for got, want in zip(new[:3], expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(
        new[3], precisions_cholesky_from_covariances(new[2], covariance_type)
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_statistics_at_offset_1e8_lose_no_digits(covariance_type):
    # checks: eq-shifted-stats
    X = _data(offset=1e8)
    weights, means, _, prec_chol = _parameters(covariance_type, offset=1e8)
    centred = X - 1e8  # exact
    estep = BlockEStep(weights, means, prec_chol, covariance_type, X.mean(axis=0))
    stats = accumulate_statistics(X, estep, block_size=128)
    reference = accumulate_statistics(
        centred,
        BlockEStep(weights, means - 1e8, prec_chol, covariance_type, centred.mean(0)),
        block_size=128,
    )
    np.testing.assert_allclose(stats.nk, reference.nk, rtol=1e-12)
    scale = np.abs(reference.scatter).max()
    np.testing.assert_allclose(stats.scatter, reference.scatter, atol=1e-12 * scale)
    np.testing.assert_allclose(stats.means - 1e8, reference.means, atol=1e-7)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_statistics_stay_float32_with_nonnegative_variances(covariance_type):
    X = _data(offset=1e4).astype(np.float32)
    weights, means, _, prec_chol = _parameters(covariance_type, 1e4, np.float32)
    estep = BlockEStep(weights, means, prec_chol, covariance_type, X.mean(axis=0))
    stats = accumulate_statistics(X, estep, block_size=100)
    assert stats.nk.dtype == stats.means.dtype == stats.scatter.dtype == np.float32
    new = parameters_from_statistics(stats, reg_covar=0.0)
    assert all(p.dtype == np.float32 for p in new)
    variances = new[2]
    if covariance_type in ("full", "tied"):
        variances = np.diagonal(variances, axis1=-2, axis2=-1)
    assert np.all(variances > 0)


def test_responsibilities_are_finite_far_from_every_component():
    weights, means, _, prec_chol = _parameters("full")
    far = np.full((4, 3), 1e5)
    weighted = BlockEStep(weights, means, prec_chol, "full").weighted_log_prob(far)
    resp = np.exp(weighted - logsumexp(weighted, axis=1, keepdims=True))
    stats = BlockEStep(weights, means, prec_chol, "full").statistics(far)
    assert np.all(np.isfinite(stats.means)) and np.all(np.isfinite(stats.scatter))
    floor = np.finfo(float).tiny / np.finfo(float).eps  # responsibilities floor
    np.testing.assert_allclose(stats.nk, resp.sum(axis=0), rtol=1e-12, atol=5 * floor)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_cholesky_conversions_round_trip(covariance_type):
    _, _, covariances, prec_chol = _parameters(covariance_type)
    np.testing.assert_allclose(
        covariances_from_cholesky(prec_chol, covariance_type), covariances, rtol=1e-12
    )
    precisions = precisions_from_cholesky(prec_chol, covariance_type)
    np.testing.assert_allclose(
        precisions_cholesky_from_precisions(precisions, covariance_type),
        prec_chol,
        rtol=1e-12,
        atol=1e-14,
    )


def test_m_step_refuses_a_covariance_that_is_not_positive_definite():
    stats = SufficientStatistics(
        "full", 2, np.array([1.0, 1.0]), np.zeros((2, 2)), np.zeros((2, 2, 2))
    )
    with pytest.raises(
        ValueError, match=r"component\(s\) \[0, 1\].*increase reg_covar"
    ):
        parameters_from_statistics(stats, reg_covar=0.0)


def test_merge_refuses_statistics_of_another_shape():
    a = SufficientStatistics.empty(2, 3, "full")
    with pytest.raises(ValueError, match="Cannot merge statistics of covariance_type"):
        a.merge(SufficientStatistics.empty(2, 3, "diag"))
    with pytest.raises(ValueError, match="Cannot merge statistics of shapes"):
        a.merge(SufficientStatistics.empty(3, 3, "full"))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_statistics_from_labels_equal_those_of_one_hot_responsibilities(
    covariance_type,
):
    X = _data(n_samples=9000, seed=3)
    rng = np.random.default_rng(3)
    labels = rng.integers(-1, 3, size=len(X))  # -1: the row belongs to none
    resp = np.zeros((len(X), 3))
    assigned = labels >= 0
    resp[assigned, labels[assigned]] = 1
    shift = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 0.0], [3.0, 3.0, 3.0]])
    from_labels = SufficientStatistics.from_labels(X, labels, 3, covariance_type, shift)
    expected = SufficientStatistics.from_responsibilities(X, resp, covariance_type)
    np.testing.assert_array_equal(from_labels.nk, expected.nk)
    np.testing.assert_allclose(from_labels.means, expected.means, rtol=1e-12)
    np.testing.assert_allclose(from_labels.scatter, expected.scatter, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_factor_with_a_non_positive_diagonal_is_refused(covariance_type):
    """-U has the same U U^T as U, but its log-determinant would be a NaN."""
    weights, means, _, prec_chol = _parameters(covariance_type)
    with pytest.raises(ValueError, match="positive diagonal"):
        BlockEStep(weights, means, -prec_chol, covariance_type)
    bad = prec_chol.copy()
    bad.flat[0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        BlockEStep(weights, means, bad, covariance_type)


def test_a_covariance_singular_to_working_precision_is_refused():
    """A rank-one covariance whose Cholesky succeeds only through rounding (a
    pivot at rounding level) is refused, as by gmmlib.em: its inverse would be
    noise, and EM would go on with a collapsed component."""
    rng = np.random.default_rng(0)
    for _ in range(100):
        v = rng.standard_normal(3)
        rank_one = np.outer(v, v)
        try:
            np.linalg.cholesky(rank_one)
        except np.linalg.LinAlgError:
            continue
        break
    else:
        pytest.fail("no rank-one matrix passed Cholesky by rounding")
    with pytest.raises(ValueError, match=r"component\(s\) \[0\]"):
        precisions_cholesky_from_covariances(rank_one[None], "full")
    # a well-conditioned covariance next to it is accepted
    accepted = precisions_cholesky_from_covariances(rank_one + np.eye(3), "tied")
    assert np.all(np.isfinite(accepted))


def test_a_lower_triangular_factor_is_refused():
    """The kernels read only the entries on and above the diagonal: a lower
    factor L with L L^T = precision would give wrong densities silently."""
    weights, means, covariances, upper = _parameters("full")
    lower = np.linalg.cholesky(np.linalg.inv(covariances))
    with pytest.raises(ValueError, match="upper triangular"):
        BlockEStep(weights, means, lower, "full")
    with pytest.raises(ValueError, match="upper triangular"):
        BlockEStep(weights, means, lower[0], "tied")


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_every_branch_of_the_kernels_at_seven_features(covariance_type):
    """d = 7 runs the kernels' branches that d = 3 does not: residual
    coordinates j >= 4 summed four terms at a time, scatter entries four per
    pass, and a diagonal remainder (7 = 4 + 3); with weights, against SciPy
    and NumPy's weighted moments."""
    rng = np.random.default_rng(11)
    d, K, n = 7, 3, 2000
    X = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + 50.0
    weights = np.array([0.2, 0.5, 0.3])
    means = X[rng.choice(n, K, replace=False)]
    halves = rng.standard_normal((K, d, d))
    full = halves @ halves.transpose(0, 2, 1) + np.eye(d)
    covariances = _shaped(full, covariance_type)
    dense = _full_covariances(covariances, covariance_type, K, d)
    prec_chol = precisions_cholesky_from_covariances(covariances, covariance_type)
    estep = BlockEStep(weights, means, prec_chol, covariance_type, X.mean(axis=0))
    log_prob = np.column_stack(
        [
            np.log(p) + multivariate_normal(m, c).logpdf(X)
            for p, m, c in zip(weights, means, dense, strict=True)
        ]
    )
    np.testing.assert_allclose(estep.weighted_log_prob(X), log_prob, rtol=1e-11)
    w = rng.uniform(0.0, 2.0, n)
    g = w[:, None] * np.exp(log_prob - logsumexp(log_prob, axis=1, keepdims=True))
    stats = estep.statistics(X, sample_weight=w)
    np.testing.assert_allclose(stats.nk, g.sum(axis=0), rtol=1e-11)
    for k in range(K):
        mean_k = np.average(X, axis=0, weights=g[:, k])
        cov_k = np.cov(X, rowvar=False, aweights=g[:, k], bias=True)
        if covariance_type in ("diag", "spherical"):
            cov_k = np.diag(cov_k)
        np.testing.assert_allclose(stats.means[k], mean_k, rtol=1e-11)
        np.testing.assert_allclose(
            stats.scatter[k] / stats.nk[k], cov_k, rtol=1e-9, atol=1e-9
        )
    np.testing.assert_allclose(
        stats.log_likelihood, w @ logsumexp(log_prob, axis=1), rtol=1e-12
    )
