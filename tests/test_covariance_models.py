"""mclust's parsimonious models (issue 20): each M-step against a numerical
maximiser of Q under its constraint, the counts against the rank of a
Jacobian, the constraints after reg_covar, and the estimator's paths (sample,
sample_weight, Dask, partial_fit) for every new model.

Σ_k = λ_k D_k A_k D_kᵀ (volume, shape, orientation; E equal, V varies, I
identity). The independent route: an unconstrained parametrisation of each
model (log λ; log-shape in a basis of the vectors summing to 0; orientation
by the matrix exponential of a skew matrix times a fixed start) maximised by
scipy.optimize's BFGS.
"""

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

import gmmlib
from gmmlib import GaussianMixture, covariance
from gmmlib.covariance import _parsimonious
from gmmlib.datasets import make_mixture
from gmmlib.suffstats import SufficientStatistics, parameters_from_statistics

NEW = ("EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV")
MCLUST = covariance.MCLUST_ORDER

# mclust's nVarParams, typed in from its manual (Scrucca et al. 2016, Table 1)
MCLUST_COUNTS = {
    "EII": lambda K, d: 1,
    "VII": lambda K, d: K,
    "EEI": lambda K, d: d,
    "VEI": lambda K, d: K + d - 1,
    "EVI": lambda K, d: 1 + K * (d - 1),
    "VVI": lambda K, d: K * d,
    "EEE": lambda K, d: d * (d + 1) // 2,
    "VEE": lambda K, d: K + d * (d + 1) // 2 - 1,
    "EVE": lambda K, d: 1 + K * (d - 1) + d * (d - 1) // 2,
    "VVE": lambda K, d: K * d + d * (d - 1) // 2,
    "EEV": lambda K, d: d + K * d * (d - 1) // 2,
    "VEV": lambda K, d: K + d - 1 + K * d * (d - 1) // 2,
    "EVV": lambda K, d: 1 + K * (d - 1) + K * d * (d - 1) // 2,
    "VVV": lambda K, d: K * d * (d + 1) // 2,
}


def _scatter(seed=0, n=400, d=3, K=3):
    """Statistics of a random soft assignment of mixture data."""
    X, _, _ = make_mixture(n, K, d, separation=2.0, random_state=seed)
    rng = np.random.default_rng(seed)
    resp = rng.dirichlet(np.full(K, 0.5), size=n)
    return X, resp


def _full(model, covariances):
    K, d = covariances.shape[0], covariances.shape[-1]
    return np.array(model.to_full(covariances, K, d))


def _q(sigmas, nk, W):
    """The covariance part of Q: -1/2 Σ_k [N_k log|Σ_k| + tr(W_k Σ_k⁻¹)]."""
    total = 0.0
    for s, n, w in zip(sigmas, nk, W, strict=True):
        total += n * np.linalg.slogdet(s)[1] + np.trace(np.linalg.solve(s, w))
    return -0.5 * total


class _Parametrisation:
    """Free parameters -> Σ_k of the model ``letters``, unconstrained."""

    def __init__(self, letters, K, d, starts):
        self.letters, self.K, self.d = letters, K, d
        self.starts = starts  # (K, d, d) orthogonal: the orientations at 0
        # orthonormal basis of the vectors of R^d summing to 0
        self.basis = scipy.linalg.null_space(np.ones((1, d)))
        v, a, o = letters
        self.sizes = [
            1 if v == "E" else K,
            0 if a == "I" else (d - 1) * (1 if a == "E" else K),
            0 if o == "I" else d * (d - 1) // 2 * (1 if o == "E" else K),
        ]

    @property
    def size(self):
        return sum(self.sizes)

    def sigmas(self, theta):
        K, d = self.K, self.d
        v, a, o = np.split(theta, np.cumsum(self.sizes)[:2])
        log_volume = np.broadcast_to(v, (K,))
        log_shape = np.zeros((K, d))
        if a.size:
            log_shape = np.broadcast_to((a.reshape(-1, d - 1)) @ self.basis.T, (K, d))
        orientations = np.broadcast_to(np.eye(d), (K, d, d))
        if o.size:
            skews = []
            upper = np.triu_indices(d, 1)
            for entries in o.reshape(-1, d * (d - 1) // 2):
                S = np.zeros((d, d))
                S[upper] = entries
                skews.append(scipy.linalg.expm(S - S.T))
            orientations = self.starts @ np.broadcast_to(np.array(skews), (K, d, d))
        eigenvalues = np.exp(log_volume[:, None] + log_shape)
        return (orientations * eigenvalues[:, None, :]) @ np.swapaxes(
            orientations, 1, 2
        )


def _numerical_maximiser(letters, nk, W):
    """Σ_k maximising Q under the constraint, by BFGS from a generic start."""
    K, d = W.shape[0], W.shape[-1]
    orientation = letters[2]
    if orientation == "E":
        starts = np.broadcast_to(np.linalg.eigh(W.sum(axis=0))[1], (K, d, d))
    else:
        starts = np.linalg.eigh(W)[1]
    p = _Parametrisation(letters, K, d, starts)
    theta = np.zeros(p.size)
    theta[: p.sizes[0]] = np.log(np.trace(W.sum(axis=0)) / (d * nk.sum()))

    def objective(theta):
        return -_q(p.sigmas(theta), nk, W) / nk.sum()

    for _ in range(3):  # restarts polish what one BFGS leaves
        theta = scipy.optimize.minimize(
            objective, theta, method="BFGS", options={"gtol": 1e-11}
        ).x
    return p.sigmas(theta)


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("seed", [0, 1])
def test_each_m_step_is_the_numerical_maximiser_of_q(name, seed):
    X, resp = _scatter(seed)
    model = covariance.get(name)
    stats = SufficientStatistics.from_responsibilities(X, resp, "full")
    d = X.shape[1]
    W = stats.scatter + 1e-3 * stats.nk[:, None, None] * np.eye(d)
    scatter = np.diagonal(W, axis1=1, axis2=2).copy() if model.diagonal else W
    ours = _full(model, model.maximise(stats.nk, scatter))
    reference = _numerical_maximiser(name, stats.nk, W)
    q_ours, q_reference = _q(ours, stats.nk, W), _q(reference, stats.nk, W)
    # never below the numerical maximiser, and equal to it within its accuracy
    assert q_ours >= q_reference - 1e-12 * abs(q_reference)
    assert q_ours == pytest.approx(q_reference, rel=1e-9)
    np.testing.assert_allclose(
        ours, reference, rtol=1e-6, atol=1e-6 * np.abs(ours).max()
    )
    # and the model's own update (reg_covar in the scatter) is the same
    stats_layout = SufficientStatistics.from_responsibilities(X, resp, name)
    updated = _full(model, model.update(stats_layout.nk, stats_layout.scatter, 1e-3))
    np.testing.assert_allclose(updated, ours, rtol=1e-10)


@pytest.mark.parametrize("name", MCLUST)
@pytest.mark.parametrize(("K", "d"), [(1, 1), (2, 2), (3, 4), (4, 3)])
def test_each_count_is_mclusts_and_the_rank_of_the_jacobian(name, K, d):
    letters = covariance.letters(name)
    count = covariance.get(name).n_parameters(K, d)
    assert count == MCLUST_COUNTS[letters](K, d)
    assert count == _parsimonious.n_variance_parameters(letters, K, d)
    # the map from free parameters to the stacked Σ_k has that rank at a
    # generic point; its parameters may be more (d = 1: shape and orientation
    # are empty)
    rng = np.random.default_rng(K * 10 + d)
    starts = np.stack([scipy.linalg.qr(rng.standard_normal((d, d)))[0]] * K)
    if letters[2] == "V":
        starts = np.stack(
            [scipy.linalg.qr(rng.standard_normal((d, d)))[0] for _ in range(K)]
        )
    p = _Parametrisation(letters, K, d, starts)
    theta = rng.normal(scale=0.5, size=p.size)
    upper = np.triu_indices(d)

    def stacked(theta):
        return np.concatenate([s[upper] for s in p.sigmas(theta)])

    h = 1e-6
    jacobian = np.column_stack(
        [
            (stacked(theta + h * e) - stacked(theta - h * e)) / (2 * h)
            for e in np.eye(p.size)
        ]
    )
    assert np.linalg.matrix_rank(jacobian, tol=1e-6) == count


@pytest.mark.parametrize("name", MCLUST)
def test_the_constraint_holds_after_reg_covar(name):
    X, resp = _scatter(3, d=4)
    model = covariance.get(name)
    stats = SufficientStatistics.from_responsibilities(X, resp, name)
    covariances = model.update(stats.nk, stats.scatter, 0.5)
    volume, shape, orientation = covariance.decompose(covariances, name, n_features=4)
    K = len(stats.nk)
    full = _full(model, covariances) if covariances.ndim > 1 else None
    if full is not None and full.shape[0] == K:
        rebuilt = (orientation * (volume[:, None] * shape)[:, None, :]) @ np.swapaxes(
            orientation, 1, 2
        )
        np.testing.assert_allclose(rebuilt, full, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.prod(shape, axis=1), 1.0, rtol=1e-10)
    letters = covariance.letters(name)
    if letters[0] == "E":
        np.testing.assert_allclose(volume, volume[0], rtol=1e-10)
    else:
        assert np.ptp(volume) > 1e-3 * volume.max()
    if letters[1] in "EI":
        np.testing.assert_allclose(shape, shape[:1].repeat(len(shape), 0), rtol=1e-8)
        if letters[1] == "I":
            np.testing.assert_allclose(shape, 1.0, rtol=1e-10)
    else:
        assert np.ptp(shape, axis=0).max() > 1e-3
    if letters[2] in "EI" and full is not None and full.shape[0] == K:
        # one eigenbasis: D_1ᵀ Σ_k D_1 is diagonal for every k
        rotated = np.swapaxes(orientation, 1, 2) @ full @ orientation
        off = rotated - np.einsum("kii->ki", rotated)[:, :, None] * np.eye(4)
        assert np.abs(off).max() < 1e-10 * np.abs(full).max()
    elif letters[2] == "V":
        cosines = np.abs(np.einsum("ai,ai->i", orientation[0], orientation[1]))
        assert cosines.min() < 1 - 1e-6


def test_the_names_and_the_aliases():
    assert covariance.names() == ("full", "tied", "diag", "spherical")
    assert covariance.names("mclust") == (
        "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
        "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV",
    )  # fmt: skip
    assert set(covariance.names("all")) == set(MCLUST) | set(covariance.names())
    for alias, name in covariance.ALIASES.items():
        assert covariance.get(alias) is covariance.get(name)
        assert covariance.letters(name) == alias
    with pytest.raises(ValueError, match=r"mclust's \('EII', 'VII'"):
        covariance.get("XYZ")
    with pytest.raises(ValueError, match='which must be "sklearn", "mclust" or "all"'):
        covariance.names("R")
    with pytest.raises(ValueError, match="pass n_features"):
        covariance.decompose(np.ones(3), "spherical")
    X, _ = _scatter(0)
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixture(2, covariance_type="XYZ").fit(X)
    # an alias fits the very model of its twin
    ours = GaussianMixture(3, covariance_type="VVV", random_state=0).fit(X)
    twin = GaussianMixture(3, covariance_type="full", random_state=0).fit(X)
    np.testing.assert_array_equal(ours.covariances_, twin.covariances_)


@pytest.mark.parametrize("name", ["VEI", "VEE", "VEV", "EVE", "VVE"])
def test_an_inner_loop_at_its_cap_warns_with_the_model_and_what_to_do(
    name, monkeypatch
):
    monkeypatch.setattr(_parsimonious, "MAX_INNER_ITER", 1)
    X, resp = _scatter(0)
    model = covariance.get(name)
    stats = SufficientStatistics.from_responsibilities(X, resp, name)
    with pytest.warns(
        gmmlib.InnerLoopWarning, match=f"covariance_type='{name}'.*reg_covar"
    ):
        model.update(stats.nk, stats.scatter, 1e-6)


@pytest.mark.parametrize("name", NEW)
def test_a_lost_component_keeps_the_constrained_maximiser(name):
    X, resp = _scatter(1)
    resp[:, 2] = 0.0
    resp /= resp.sum(axis=1, keepdims=True)
    model = covariance.get(name)
    stats = SufficientStatistics.from_responsibilities(X, resp, name)
    with pytest.warns(
        gmmlib.DegenerateComponentWarning, match="\\(s\\) \\[2\\] lost"
    ) as w:
        _, _, covariances, _ = parameters_from_statistics(stats, 1e-3)
    text = str(w[0].message)
    if not model.shared:
        assert f"maximiser of covariance_type='{name}'" in text
    nk = stats.nk + 10 * np.finfo(float).eps
    np.testing.assert_allclose(covariances, model.update(nk, stats.scatter, 1e-3))
    assert np.all(np.isfinite(covariances))


def _constrained_start(X, K, name):
    """Weights, means and precisions of one equal Σ_k = the data's covariance
    restricted to the orientation (every model's constraint holds)."""
    model = covariance.get(name)
    S = np.cov(X, rowvar=False)
    d = S.shape[0]
    letters = covariance.letters(name)
    if letters[1] == "I":
        S = np.trace(S) / d * np.eye(d)
    elif letters[2] == "I":
        S = np.diag(np.diag(S))
    rng = np.random.default_rng(0)
    means = X[rng.choice(len(X), K, replace=False)]
    P = np.linalg.inv(S)
    if model.diagonal:
        precisions = np.broadcast_to(np.diag(P), (K, d)).copy()
        if model.shape(K, d) == (K,):
            precisions = precisions[:, 0].copy()
    elif model.shape(K, d) == (d, d):
        precisions = P
    else:
        precisions = np.broadcast_to(P, (K, d, d)).copy()
    return np.full(K, 1.0 / K), means, precisions


def _fit(X, name, start, **kw):
    weights, means, precisions = start
    model = GaussianMixture(
        len(weights),
        covariance_type=name,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
        tol=0.0,
        max_iter=kw.pop("max_iter", 10),
        **kw,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


@pytest.mark.parametrize("name", NEW)
def test_sample_weight_counts_rows(name):
    X, _, _ = make_mixture(120, 2, 3, separation=3.0, random_state=4)
    counts = np.random.default_rng(5).integers(1, 4, size=len(X))
    start = _constrained_start(X, 2, name)
    weights, means, precisions = start
    kwargs = dict(
        weights_init=weights, means_init=means, precisions_init=precisions,
        tol=0.0, max_iter=6,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = GaussianMixture(2, covariance_type=name, **kwargs)
        weighted.fit(X, sample_weight=counts.astype(float))
        repeated = GaussianMixture(2, covariance_type=name, **kwargs)
        repeated.fit(np.repeat(X, counts, axis=0))
    # the inner loops stop within sqrt(eps) of their fixed point: rtol 1e-6
    scale = np.abs(repeated.covariances_).max()
    np.testing.assert_allclose(
        weighted.covariances_, repeated.covariances_, rtol=0, atol=1e-6 * scale
    )
    np.testing.assert_allclose(
        weighted.means_, repeated.means_, rtol=1e-6, atol=1e-6 * np.abs(X).max()
    )


@pytest.mark.parametrize("name", NEW)
def test_dask_input_gives_the_numpy_fit(name):
    import dask.array as da

    X, _, _ = make_mixture(300, 3, 3, separation=2.5, random_state=6)
    start = _constrained_start(X, 3, name)
    ours = _fit(X, name, start, max_iter=5)
    chunked = _fit(da.from_array(X, chunks=(70, 3)), name, start, max_iter=5)
    # the inner loops stop within sqrt(eps) of their fixed point: 1e-6
    scale = np.abs(ours.covariances_).max()
    np.testing.assert_allclose(
        chunked.covariances_, ours.covariances_, rtol=0, atol=1e-6 * scale
    )
    np.testing.assert_allclose(
        chunked.means_, ours.means_, rtol=1e-6, atol=1e-6 * np.abs(X).max()
    )


@pytest.mark.parametrize("name", NEW)
def test_partial_fit_keeps_the_constraint(name):
    X, _, _ = make_mixture(900, 3, 3, separation=3.0, random_state=7)
    model = GaussianMixture(3, covariance_type=name, random_state=0)
    for batch in np.array_split(X, 6):
        model.partial_fit(batch)
    volume, shape, _ = covariance.decompose(model.covariances_, name)
    letters = covariance.letters(name)
    if letters[0] == "E":
        np.testing.assert_allclose(volume, volume[0], rtol=1e-9)
    if letters[1] == "E":
        np.testing.assert_allclose(shape, shape[:1].repeat(3, 0), rtol=1e-7)
    assert np.isfinite(model.score(X))


@pytest.mark.parametrize("name", NEW)
def test_sample_draws_each_components_covariance(name):
    X, _, _ = make_mixture(600, 2, 3, separation=4.0, random_state=8)
    model = GaussianMixture(2, covariance_type=name, random_state=0).fit(X)
    draws, labels = model.sample(200_000)
    full = _full(covariance.get(name), model.covariances_)
    for k in range(2):
        empirical = np.cov(draws[labels == k], rowvar=False)
        scale = np.abs(full[k]).max()
        assert np.abs(empirical - full[k]).max() < 0.03 * scale


@pytest.mark.parametrize("name", ["VEI", "VEE", "VEV", "EVE", "VVE"])
def test_each_inner_iteration_raises_q(name, monkeypatch):
    # the block ascents (and EVE's and VVE's rotation sweeps) never lower Q:
    # record the covariances after every inner iteration
    import gmmlib.covariance._diagonal as diagonal
    import gmmlib.covariance._general as general

    model = covariance.get(name)
    seen = []
    iterate = _parsimonious.iterate

    def recording(step, state, covariances, label):
        def recorded(state):
            state = step(state)
            seen.append(covariances(state))
            return state

        seen.append(covariances(state))
        return iterate(recorded, state, covariances, label)

    # the loop is called from the model's module or from the shared
    # block ascent of VEI and VEV (_parsimonious.volumes_and_common_shape)
    for module in (diagonal, general, _parsimonious):
        if hasattr(module, "iterate"):
            monkeypatch.setattr(module, "iterate", recording)
    X, resp = _scatter(2, d=5, K=4)
    stats = SufficientStatistics.from_responsibilities(X, resp, "full")
    W = stats.scatter + 1e-3 * stats.nk[:, None, None] * np.eye(5)
    scatter = np.diagonal(W, axis1=1, axis2=2).copy() if model.diagonal else W
    final = _full(model, model.maximise(stats.nk, scatter))
    # VEV's loop runs on the eigenvalues, D_k being W_k's eigenvectors
    vectors = np.linalg.eigh(W)[1][:, :, ::-1]
    values = []
    for sigmas in seen:
        if model.diagonal:
            full = np.array(model.to_full(sigmas, 4, 5))
        elif sigmas.ndim == 2:
            full = (vectors * sigmas[:, None, :]) @ np.swapaxes(vectors, 1, 2)
        else:
            full = sigmas
        values.append(_q(full, stats.nk, W))
    assert len(values) > 3
    steps = np.diff(values)
    assert np.all(steps >= -1e-12 * abs(values[-1])), steps
    assert values[-1] - values[0] > 0
    np.testing.assert_allclose(_q(final, stats.nk, W), values[-1], rtol=1e-14)
