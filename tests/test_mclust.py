"""gmmlib against R's mclust 6 (issue 20): the same EM from the same start.

gmmlib's four covariance types are mclust models: 'spherical' = VII, 'diag' =
VVI, 'tied' = EEE, 'full' = VVV (tests/_mclust.py runs mclust). From the same
weights, means and covariances, mclust's `em()` and `GaussianMixture(...,
reg_covar=0)` must run the same iterations to the same log-likelihood and
parameters; their parameter counts must agree, and mclust's BIC must be minus
gmmlib's (mclust: 2 ln L - p ln n, larger is better; scikit-learn and gmmlib:
-2 ln L + p ln n, smaller is better).

How the iterations line up (measured, and asserted below): `em()` runs mclust's
E-step on the given parameters, then M-step, E-step, ... ; with
`emControl(itmax=N)` it makes N M-steps and returns their parameters θ_N and
the log-likelihood L(θ_N) of its last E-step. gmmlib's `max_iter=N` makes N
E-and-M steps, so its fitted parameters are θ_N too, and `score(X) * n` is
L(θ_N) (`lower_bound_` is L(θ_{N-1}), the E-step before the last M-step).

mclust's ten other models are gmmlib's covariance types of the same names:
from a start that satisfies each constraint, the same iterations give
mclust's fit, to rounding for the closed-form M-steps and to the inner loops'
tolerances for VEI, VEE, VEV and EVE; mclust 6.0.0's VVE M-step stops below
the maximiser of Q that gmmlib reaches (asserted as such).

These tests need `Rscript` and mclust (Debian/Ubuntu: r-base-core,
r-cran-mclust; `.ci/run` installs them). They carry the marker `mclust`: `make
mclust` runs them, `make pytest` leaves them out, and without R they fail with
the install command (never skip).
"""

import os
import warnings

import _mclust
import numpy as np
import pytest
from _mclust import TWINS, MclustUnavailable
from sklearn.exceptions import ConvergenceWarning
from test_covariance_models import _constrained_start, _numerical_maximiser, _q

from gmmlib import GaussianMixture, covariance, em
from gmmlib.datasets import make_mixture
from gmmlib.suffstats import SufficientStatistics

mclust = pytest.mark.mclust

# mclust's ten other models, gmmlib's covariance types of the same names
OTHERS = tuple(name for name in covariance.MCLUST_ORDER if name not in TWINS.values())
# their M-steps in closed form, and those with an inner loop; mclust 6.0.0's
# VVE M-step stops short of the maximiser (test below), so VVE is apart
CLOSED = ("EII", "EEI", "EVI", "EEV", "EVV")
INNER = ("VEI", "VEE", "VEV", "EVE")
# the iterative models: mclust's and gmmlib's inner loops stop at their own
# tolerances (mclust's set to 1e-14 on its own measure of change, gmmlib's
# sqrt(eps) on Σ), and each EM iteration passes on the difference. Measured
# (2026-12-06, every case below) at most 9.4e-9 relative in L and 8.8e-7 of
# the largest entry in the parameters: the bar of 1e-6 in L holds
# with two orders to spare.
INNER_LOGLIK_RTOL = 1e-6
INNER_PARAMETER_RTOL = 1e-5

# The total log-likelihood: the issue asks for 1e-6 relative; measured, the
# twins agree to ~1e-15, so the tests hold them to 1e-10. Near the optimum L
# is flat (its change is quadratic in the parameters' error), so L cannot
# tell one iteration more or less apart: the parameters do (below).
LOGLIK_RTOL = 1e-10
# The parameters: both programs apply the same EM map N times to the same
# float64 start. They differ only by rounding (~1e-16 per operation, in
# another order), which each iteration passes on multiplied by at most the
# map's local Lipschitz constant, below 1 near a separated optimum. Measured
# (2026-12-05, every case below): at most 4.3e-14 of the largest entry. 1e-8
# leaves five orders of magnitude for other machines and BLAS, and is far
# below what one iteration more or less changes (asserted in each case to
# exceed 1e-5; measured at least 5.5e-4).
PARAMETER_RTOL = 1e-8
# The data are O(1) to O(10): an absolute floor for entries near zero.
PARAMETER_ATOL = 1e-10
# Fixed iteration count: early enough that each iteration still moves the fit.
N_ITER = 8

# Data sets: (n, K, d, weights or None, separation, seed); the second has
# unequal component sizes.
DATASETS = {
    "K3-d2": (400, 3, 2, None, 3.0, 1),
    "K2-d5-unequal": (500, 2, 5, [0.8, 0.2], 1.5, 2),
    "K4-d3": (600, 4, 3, [0.4, 0.3, 0.2, 0.1], 2.0, 3),
}


def _data(name):
    n, K, d, weights, separation, seed = DATASETS[name]
    X, _, _ = make_mixture(
        n, K, d, weights=weights, separation=separation, random_state=seed
    )
    return X, K


def _start(X, K, covariance_type, seed=0):
    """Uniform weights, K distinct rows as means, the data's covariance
    restricted to the type: (weights, means, precisions_init, full covariances)."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    weights = np.full(K, 1.0 / K)
    means = X[rng.choice(n, K, replace=False)]
    S = np.cov(X, rowvar=False)
    if covariance_type == "full":
        covariances = np.stack([S] * K)
        precisions = np.linalg.inv(covariances)
    elif covariance_type == "tied":
        covariances = np.stack([S] * K)
        precisions = np.linalg.inv(S)
    elif covariance_type == "diag":
        diagonal = np.diag(S) * np.linspace(0.8, 1.2, K)[:, None]
        covariances = np.stack([np.diag(v) for v in diagonal])
        precisions = 1.0 / diagonal
    else:
        variances = np.trace(S) / d * np.linspace(0.8, 1.2, K)
        covariances = np.stack([v * np.eye(d) for v in variances])
        precisions = 1.0 / variances
    return weights, means, precisions, covariances


def _gmmlib(X, K, covariance_type, start, n_iter):
    weights, means, precisions, _ = start
    model = GaussianMixture(
        K,
        covariance_type=covariance_type,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
        reg_covar=0.0,
        tol=0.0,  # |change| < 0 never holds: exactly max_iter iterations
        max_iter=n_iter,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    assert model.n_iter_ == n_iter
    return model


def _full(model):
    """gmmlib's fitted covariances as (K, d, d) matrices, as mclust's sigma."""
    K, d = model.means_.shape
    c = model.covariances_
    if model.covariance_type == "full":
        return c
    if model.covariance_type == "tied":
        return np.broadcast_to(c, (K, d, d))
    if model.covariance_type == "diag":
        return np.stack([np.diag(v) for v in c])
    return np.stack([v * np.eye(d) for v in c])


def _relative(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), PARAMETER_ATOL)))


def _assert_same_fit(ours, theirs, X):
    n = len(X)
    loglik = ours.score(X) * n
    assert loglik == pytest.approx(theirs["loglik"], rel=LOGLIK_RTOL, abs=0)
    # mclust may order nothing differently: components keep their index
    for name, value in [
        ("weights", ours.weights_),
        ("means", ours.means_),
        ("covariances", _full(ours)),
    ]:
        np.testing.assert_allclose(
            value,
            theirs[name],
            rtol=PARAMETER_RTOL,
            atol=PARAMETER_ATOL,
            err_msg=f"{name} differ from mclust's",
        )
    # mclust's BIC of its fit is minus gmmlib's of the same fit
    assert ours.bic(X) == pytest.approx(-theirs["bic"], rel=LOGLIK_RTOL, abs=0)
    assert ours._n_parameters() == theirs["n_parameters"]


@mclust
def test_mclust_is_version_6():
    assert _mclust.version().split(".")[0] == "6"


@mclust
@pytest.mark.parametrize("dataset", sorted(DATASETS))
@pytest.mark.parametrize("covariance_type", sorted(TWINS))
def test_the_same_iterations_give_mclusts_fit(covariance_type, dataset):
    X, K = _data(dataset)
    start = _start(X, K, covariance_type)
    theirs = _mclust.em(X, TWINS[covariance_type], *start[:2], start[3], N_ITER)
    # mclust ran exactly N_ITER iterations and says so (a negative count)
    assert theirs["iterations"] == -N_ITER
    assert theirs["returnCode"] == 1
    assert theirs["warnings"] == ["iteration limit reached"]

    ours = _gmmlib(X, K, covariance_type, start, N_ITER)
    _assert_same_fit(ours, theirs, X)

    # the comparison tells iterations apart: one fewer is far outside it
    fewer = _gmmlib(X, K, covariance_type, start, N_ITER - 1)
    assert _relative(fewer.means_, theirs["means"]) > 1e3 * PARAMETER_RTOL


@mclust
@pytest.mark.parametrize("dataset", sorted(DATASETS))
@pytest.mark.parametrize("covariance_type", sorted(TWINS))
def test_mclusts_converged_fit_is_gmmlibs_after_as_many_iterations(
    covariance_type, dataset
):
    # mclust's own stopping rule (emControl()'s tol = 1e-5 on the relative
    # change of L); gmmlib is then run for the iterations mclust reports
    X, K = _data(dataset)
    start = _start(X, K, covariance_type)
    theirs = _mclust.em(
        X, TWINS[covariance_type], *start[:2], start[3], itmax=10_000, tol=1e-5
    )
    assert theirs["returnCode"] == 0 and theirs["warnings"] == []
    assert 0 < theirs["iterations"] < 10_000
    assert theirs["error"] < 1e-5
    ours = _gmmlib(X, K, covariance_type, start, theirs["iterations"])
    _assert_same_fit(ours, theirs, X)


@mclust
def test_parameter_counts_and_bic_are_mclusts_with_the_sign_turned():
    rng = np.random.default_rng(0)
    queries, ours = [], []
    pairs = list(TWINS.items()) + [(name, name) for name in OTHERS]
    for covariance_type, model in pairs:
        for d in (1, 2, 3, 5, 8):
            for K in (1, 2, 4, 7):
                estimator = GaussianMixture(K, covariance_type=covariance_type)
                # _n_parameters reads the fitted means' shape, nothing else
                estimator.means_ = np.zeros((K, d))
                p = estimator._n_parameters()
                loglik = -float(rng.uniform(10, 1e4))
                n = int(rng.integers(K + 1, 10_000))
                queries.append((model, d, K, loglik, n))
                ours.append((p, -2 * loglik + p * np.log(n)))
    theirs = _mclust.counts(queries)
    for query, (p, bic), (p_mclust, bic_mclust) in zip(
        queries, ours, theirs, strict=True
    ):
        assert p == p_mclust, query
        assert bic == pytest.approx(-bic_mclust, rel=1e-12), query


@mclust
def test_a_failed_mclust_fit_comes_back_as_nan_with_its_warning():
    # five copies of one point and a component started on them with a tiny
    # variance: its covariance becomes singular in the first M-step
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(size=(20, 2)), rng.normal(4, 1, (20, 2))])
    X = np.vstack([X, np.tile([10.0, 10.0], (5, 1))])
    weights = np.array([0.45, 0.45, 0.1])
    means = np.array([[0.0, 0.0], [4.0, 4.0], [10.0, 10.0]])
    covariances = np.stack([np.eye(2), np.eye(2), 0.01 * np.eye(2)])
    theirs = _mclust.em(X, "VVV", weights, means, covariances, itmax=100)
    assert theirs["returnCode"] == -1
    assert theirs["warnings"] == ["singular covariance"]
    assert np.isnan(theirs["loglik"])
    assert np.isnan(theirs["means"]).all() and np.isnan(theirs["weights"]).all()


@mclust
def test_a_model_the_harness_does_not_build_is_refused_by_name():
    X, K = _data("K3-d2")
    start = _start(X, K, "full")
    with pytest.raises(RuntimeError, match="builds no variance for model XII"):
        _mclust.em(X, "XII", *start[:2], start[3], 2)


@mclust
def test_r_without_mclust_is_named_with_the_package_to_install(monkeypatch, tmp_path):
    # Debian's R reads its site libraries from R_LIBS_SITE: an empty folder
    # leaves it without mclust
    monkeypatch.setenv("R_LIBS_SITE", str(tmp_path))
    with pytest.raises(MclustUnavailable, match="cannot load the mclust package") as e:
        _mclust.version()
    assert "r-cran-mclust" in str(e.value) and ".ci/run" in str(e.value)


def test_no_rscript_is_named_with_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not os.path.exists(tmp_path / "Rscript")
    with pytest.raises(MclustUnavailable, match="Rscript is not on PATH") as e:
        _mclust.version()
    assert "apt-get install --no-install-recommends r-base-core r-cran-mclust" in str(
        e.value
    )
    assert ".ci/run" in str(e.value)


def _gmmlib_constrained(X, name, start, n_iter):
    weights, means, precisions = start
    model = GaussianMixture(
        len(weights),
        covariance_type=name,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
        reg_covar=0.0,
        tol=0.0,
        max_iter=n_iter,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    assert model.n_iter_ == n_iter
    return model


def _start_covariances(name, start, K, d):
    """The (K, d, d) covariances of a start's precisions."""
    model = covariance.get(name)
    precisions = start[2]
    if model.diagonal:
        return np.array(model.to_full(1 / precisions, K, d))
    return np.linalg.inv(precisions)


@mclust
@pytest.mark.parametrize("dataset", sorted(DATASETS))
@pytest.mark.parametrize("name", CLOSED + INNER)
def test_the_same_iterations_give_mclusts_fit_for_the_other_models(name, dataset):
    X, K = _data(dataset)
    d = X.shape[1]
    start = _constrained_start(X, K, name)
    sigmas = _start_covariances(name, start, K, d)
    theirs = _mclust.em(X, name, *start[:2], sigmas, N_ITER, inner_tol=1e-14)
    assert theirs["returnCode"] == 1
    assert theirs["warnings"] == ["iteration limit reached"]
    ours = _gmmlib_constrained(X, name, start, N_ITER)
    closed = name in CLOSED
    loglik_rtol = LOGLIK_RTOL if closed else INNER_LOGLIK_RTOL
    rtol = PARAMETER_RTOL if closed else INNER_PARAMETER_RTOL
    assert ours.score(X) * len(X) == pytest.approx(theirs["loglik"], rel=loglik_rtol)
    full = np.array(covariance.get(name).to_full(ours.covariances_, K, d))
    for label, value in [
        ("weights", ours.weights_),
        ("means", ours.means_),
        ("covariances", full),
    ]:
        scale = np.abs(theirs[label]).max()
        np.testing.assert_allclose(
            value, theirs[label], rtol=0, atol=rtol * scale, err_msg=label
        )
    assert ours.bic(X) == pytest.approx(-theirs["bic"], rel=loglik_rtol)
    assert ours._n_parameters() == theirs["n_parameters"]
    # one iteration fewer is far outside the comparison
    fewer = _gmmlib_constrained(X, name, start, N_ITER - 1)
    scale = np.abs(theirs["means"]).max()
    assert np.abs(fewer.means_ - theirs["means"]).max() > 100 * rtol * scale


@mclust
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_mclusts_vve_m_step_stops_below_the_maximiser_that_gmmlib_reaches(dataset):
    # one M-step from the same start: the same responsibilities and means;
    # mclust 6.0.0's VVE covariances have a lower Q than gmmlib's, which equal
    # the numerical maximiser of Q under the constraint (BFGS), although
    # mclust's inner loop reports convergence at 1e-14
    X, K = _data(dataset)
    d = X.shape[1]
    start = _constrained_start(X, K, "VVE")
    sigmas = _start_covariances("VVE", start, K, d)
    theirs = _mclust.em(X, "VVE", *start[:2], sigmas, 1, inner_tol=1e-14)
    assert theirs["inner_error"] < 1e-13
    resp = em.responsibilities(X, start[0], start[1], sigmas)
    stats = SufficientStatistics.from_responsibilities(X, resp, "full")
    np.testing.assert_allclose(theirs["means"], stats.means, rtol=1e-12)
    ours = covariance.get("VVE").maximise(stats.nk, stats.scatter)
    reference = _numerical_maximiser("VVE", stats.nk, stats.scatter)
    q_ours, q_theirs = (
        _q(ours, stats.nk, stats.scatter),
        _q(theirs["covariances"], stats.nk, stats.scatter),
    )
    q_reference = _q(reference, stats.nk, stats.scatter)
    assert q_ours == pytest.approx(q_reference, rel=1e-10)
    # measured 2026-12-06: gaps 0.11, 0.018 and 0.60 in Q (1e-5 to 5e-4 of |Q|)
    assert q_ours - q_theirs > 1e-6 * abs(q_ours)


@mclust
@pytest.mark.parametrize("dataset", sorted(DATASETS))
@pytest.mark.parametrize("name", CLOSED + ("VEI", "VEE", "VEV"))
def test_mclusts_converged_fit_of_the_other_models_is_gmmlibs(name, dataset):
    # mclust's own stopping rule (tol = 1e-5 on the relative change of L),
    # then gmmlib for as many iterations (EVE's em() reports no count)
    X, K = _data(dataset)
    d = X.shape[1]
    start = _constrained_start(X, K, name)
    sigmas = _start_covariances(name, start, K, d)
    theirs = _mclust.em(X, name, *start[:2], sigmas, itmax=10_000, tol=1e-5)
    assert theirs["returnCode"] == 0 and theirs["warnings"] == []
    assert 0 < theirs["iterations"] < 10_000
    ours = _gmmlib_constrained(X, name, start, theirs["iterations"])
    rtol = LOGLIK_RTOL if name in CLOSED else INNER_LOGLIK_RTOL
    assert ours.score(X) * len(X) == pytest.approx(theirs["loglik"], rel=rtol)
    assert ours._n_parameters() == theirs["n_parameters"]
