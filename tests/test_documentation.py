"""What the README and gmmlib's docstrings say about the estimator, checked.

- ``score`` is scikit-learn's ``score``: ``score_samples(X).mean()`` in the
  dtype of X (scikit-learn's own ``test_score``, float32 and float64), and
  with weights NumPy's weighted average in the same dtype;
- ``history_`` holds what the class docstring and the README say;
- the memory of one pass and of a fit beyond X, as the docstrings of
  ``GaussianMixture`` and ``gmmlib.suffstats`` and the README state it
  (tracemalloc sees NumPy's allocations, not numba's: the kernels' tile
  buffers, (2d + 3)·tile numbers, are not measured here);
- the README's code blocks run, and each line marked ``# True`` is true.
"""

import re
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_almost_equal
from sklearn.datasets import make_spd_matrix
from sklearn.exceptions import ConvergenceWarning

import gmmlib._threads
import gmmlib.suffstats
from gmmlib import GaussianMixture, em
from gmmlib.datasets import make_mixture
from gmmlib.suffstats import (
    BlockEStep,
    accumulate_statistics,
    default_block_size,
    precisions_cholesky_from_covariances,
)

pytestmark = pytest.mark.repository


README = Path(__file__).resolve().parents[1] / "README.md"


def _quiet_fit(model, X, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, **kwargs)


# -- score: scikit-learn's, in the dtype of X ----------------------------------


def _sklearn_test_score_data(dtype):
    """The rows of scikit-learn's ``test_score``: two full Gaussians, scale 7."""
    rng = np.random.RandomState(0)
    weights = rng.rand(2).astype(dtype)
    weights = weights / weights.sum()
    means = rng.rand(2, 2).astype(dtype) * 7
    covariances = [make_spd_matrix(2, random_state=rng).astype(dtype) * 0.5]
    covariances.append(make_spd_matrix(2, random_state=rng).astype(dtype) * 0.5)
    draw = np.random.RandomState(0)
    X = np.vstack(
        [
            draw.multivariate_normal(m, c, int(np.round(w * 200)))
            for w, m, c in zip(weights, means, covariances, strict=True)
        ]
    ).astype(dtype)
    return X, rng


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_score_equals_the_mean_of_score_samples_to_seven_decimals(dtype):
    # scikit-learn's test_score: one EM iteration, reg_covar=0, then
    # score(X) against score_samples(X).mean() with assert_almost_equal
    X, rng = _sklearn_test_score_data(dtype)
    model = GaussianMixture(2, max_iter=1, reg_covar=0, random_state=rng)
    _quiet_fit(model, X)
    assert model.means_.dtype == dtype
    mean_of_samples = model.score_samples(X).mean()
    assert mean_of_samples.dtype == dtype
    assert_almost_equal(model.score(X), mean_of_samples, decimal=7)
    # not only to 7 decimals: the same number, as scikit-learn computes it
    assert model.score(X) == float(mean_of_samples)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sklearns_own_test_score_passes_on_gmmlib(dtype, monkeypatch):
    module = pytest.importorskip("sklearn.mixture.tests.test_gaussian_mixture")
    monkeypatch.setattr(module, "GaussianMixture", GaussianMixture)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        module.test_score(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weighted_score_is_numpys_weighted_average_in_the_dtype_of_X(dtype):
    X, _, _ = make_mixture(n_samples=1000, n_components=3, random_state=0)
    X = X.astype(dtype)
    model = GaussianMixture(3, random_state=0).fit(X)
    log_p = model.score_samples(X)
    counts = np.random.default_rng(1).integers(0, 5, size=len(X)).astype(float)
    # the docstring's recipe, bit for bit
    scaled = (counts / counts.max()).astype(dtype)
    assert model.score(X, sample_weight=counts) == float(
        np.average(log_p, weights=scaled)
    )
    # the weighted mean log-likelihood per unit weight
    np.testing.assert_allclose(
        model.score(X, sample_weight=counts),
        np.average(log_p.astype(np.float64), weights=counts),
        rtol=4 * np.finfo(dtype).eps,
    )
    # equal weights, whatever their value, give exactly score(X)
    for weight in (1.0, 7.0, 1e-30):
        assert model.score(X, sample_weight=np.full(len(X), weight)) == model.score(X)


def test_score_samples_are_in_the_dtype_of_the_fitted_parameters():
    X, _, _ = make_mixture(n_samples=500, n_components=2, random_state=2)
    model = GaussianMixture(2, random_state=0).fit(X.astype(np.float32))
    assert model.score_samples(X).dtype == np.float32
    assert model.score(X) == float(model.score_samples(X).mean())


# -- history_ -------------------------------------------------------------------


def test_history_after_partial_fit_is_as_the_docstring_says():
    X, _, _ = make_mixture(n_samples=600, n_components=3, random_state=0)
    batches = [X[i : i + 150] for i in range(0, 600, 150)]
    model = GaussianMixture(3, random_state=0, keep_history=True)
    for batch in batches:
        model.partial_fit(batch)
    history = model.history_
    assert len(history) == model.n_batches_ + 1 == len(batches) + 1
    # entry t: the parameters after batch t, with batch t + 1's L at them
    for entry, batch in zip(history[:-1], batches, strict=True):
        expected = em.log_likelihood(
            batch, entry["weights"], entry["means"], entry["covariances"]
        )
        np.testing.assert_allclose(entry["log_likelihood"], expected, rtol=1e-10)
    assert history[-1]["log_likelihood"] is None
    np.testing.assert_array_equal(history[-1]["means"], model.means_)


# -- memory beyond X --------------------------------------------------------------


def _documented_pass_bytes(K, d, block, itemsize, n_threads, copies_block=False):
    """The docstrings' memory of one pass beyond X, with 'a few' made explicit.

    Per thread: (K + 2)·block numbers of buffers, at most as many again for
    the copies that sample weights make (they add at most 3 numbers per row,
    and K + 2 >= 3); float64 sums of K(1 + d + d²) numbers and at most 7
    temporaries of that size; d·block numbers for a copy of a block of X
    that is not C-ordered.
    """
    buffers = 2 * (K + 2) * block * itemsize
    sums = 8 * K * (1 + d + d * d) * 8
    copy = d * block * itemsize if copies_block else 0
    return n_threads * (buffers + sums + copy)


def _estep(X, K, covariance_type):
    rng = np.random.default_rng(3)
    d = X.shape[1]
    covariances = {
        "full": np.repeat(np.eye(d)[None], K, axis=0),
        "diag": np.ones((K, d)),
    }[covariance_type].astype(X.dtype)
    return BlockEStep(
        np.full(K, 1 / K, X.dtype),
        X[rng.choice(len(X), K, replace=False)],
        precisions_cholesky_from_covariances(covariances, covariance_type),
        covariance_type,
        X.mean(axis=0),
    )


def _peak_bytes(func):
    """Peak of traced allocations while ``func()`` runs, beyond those before."""
    func()  # once before: numba's compilation, caches, thread pools
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


@pytest.mark.parametrize(
    ("n_samples", "n_features", "n_components", "covariance_type"),
    [(400_000, 4, 5, "full"), (400_000, 4, 5, "diag"), (200_000, 16, 8, "full")],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("n_threads", "layout"), [(1, "C"), (2, "C"), (2, "weighted"), (1, "F")]
)
def test_one_pass_needs_the_documented_memory_beyond_X(
    n_samples, n_features, n_components, covariance_type, dtype, n_threads, layout
):
    K, d = n_components, n_features
    X = np.random.default_rng(0).standard_normal((n_samples, d)).astype(dtype)
    estep = _estep(X, K, covariance_type)
    sample_weight = None
    if layout == "weighted":
        sample_weight = np.random.default_rng(1).uniform(size=n_samples)
    if layout == "F":
        X = np.asfortranarray(X)
    block = default_block_size(K, d, X.itemsize, covariance_type, n_samples, n_threads)

    peak = _peak_bytes(
        lambda: accumulate_statistics(
            X, estep, n_threads=n_threads, sample_weight=sample_weight
        )
    )
    bound = _documented_pass_bytes(
        K, d, block, X.itemsize, n_threads, copies_block=layout == "F"
    )
    assert peak <= bound
    # nothing of size n·K: that alone would exceed the bound
    assert n_samples * K * X.itemsize > bound
    # and the measurement sees NumPy's arrays: one thread's buffers at least
    assert peak >= (K + 2) * block * X.itemsize


def test_default_block_holds_about_one_mebibyte_of_rows_and_buffers():
    for K in (1, 3, 8, 16, 64):
        for d in (1, 2, 16, 64):
            for itemsize in (4, 8):
                rows = default_block_size(K, d, itemsize)
                size = rows * (K + d + 2) * itemsize
                assert 256 <= rows <= 32768
                if 256 < rows < 32768:
                    assert 2**19 < size <= 2**20, (K, d, itemsize)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_peak_beyond_X_is_32_bytes_per_row_plus_one_pass(dtype):
    n_samples, d, K = 200_000, 4, 5
    X = np.random.default_rng(5).standard_normal((n_samples, d)).astype(dtype)
    init = {
        "weights_init": np.full(K, 1 / K),
        "means_init": X[:K].astype(np.float64),
        "precisions_init": np.repeat(np.eye(d)[None], K, axis=0),
    }
    model = GaussianMixture(K, max_iter=2, tol=0, **init)
    n_threads = gmmlib._threads.n_threads_for(model.n_threads, n_samples)
    block = default_block_size(K, d, X.itemsize, "full", n_samples, n_threads)

    peak = _peak_bytes(lambda: _quiet_fit(model, X))
    # the final pass: a label and a log-likelihood per row, as two float64,
    # in the blocks' results and joined once more
    assert peak >= 32 * n_samples
    assert peak <= 32 * n_samples + _documented_pass_bytes(
        K, d, block, X.itemsize, n_threads
    )


# -- the README's code blocks ---------------------------------------------------------


def _readme_python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_code_blocks_run_as_written_and_their_true_lines_hold():
    # in order, in one namespace, as a reader pastes them into one session
    blocks = _readme_python_blocks()
    assert len(blocks) >= 4
    assert any("dask" in b for b in blocks) and any("distributed" in b for b in blocks)
    claims = 0
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
        for line in block.splitlines():
            code, _, comment = line.partition("#")
            if comment.strip().startswith("True"):
                assert bool(eval(code, namespace)) is True, line  # noqa: S307
                claims += 1
        if "history_" in block:
            gm = namespace["gm"]
            assert set(gm.history_[-1]) == {
                "weights",
                "means",
                "covariances",
                "log_likelihood",
            }
            assert "weights, means, covariances, log_likelihood" in block
        if "sample_weight=counts" in block:
            gm, X, counts = namespace["gm"], namespace["X"], namespace["counts"]
            assert "weighted mean log-likelihood per unit weight" in block
            np.testing.assert_allclose(
                gm.score(X, sample_weight=counts),
                np.sum(counts * gm.score_samples(X)) / np.sum(counts),
                rtol=1e-13,
            )
    assert claims >= 1
