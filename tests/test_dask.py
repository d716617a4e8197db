"""GaussianMixture on Dask arrays: the same fit as in memory, lazily and in blocks.

The Dask path maps each row block to its sufficient statistics and merges them
in a tree (eq-merge, on statistics about a shift, eq-shifted-stats); these tests
hold it to the in-memory fit from the same initial parameters, on the default
scheduler and on a distributed client.
"""

import re
import subprocess
import sys
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from _mixture_helpers import initial_parameters
from dask.callbacks import Callback
from distributed import Client, LocalCluster, get_task_stream

from gmmlib import GaussianMixture, _dask
from gmmlib.suffstats import SufficientStatistics

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
N_COMPONENTS = 3
N_FEATURES = 4  # unlike N_COMPONENTS, so an (n, K) block is recognisable
FITTED = ["weights_", "means_", "covariances_", "precisions_cholesky_"]


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(6)
    centres = rng.normal(scale=5.0, size=(N_COMPONENTS, N_FEATURES)) + 50.0
    labels = rng.integers(N_COMPONENTS, size=2003)
    return centres[labels] + rng.normal(size=(labels.size, N_FEATURES))


def _model(X, covariance_type="full", **params):
    return GaussianMixture(
        N_COMPONENTS,
        covariance_type=covariance_type,
        tol=1e-8,
        max_iter=200,
        **initial_parameters(X, covariance_type, N_COMPONENTS, shift=0.5),
        **params,
    )


def _assert_same_fit(ours, expected, rtol=1e-10):
    assert ours.n_iter_ == expected.n_iter_
    assert ours.converged_ == expected.converged_
    for name in FITTED:
        np.testing.assert_allclose(
            getattr(ours, name), getattr(expected, name), rtol=rtol, err_msg=name
        )
    np.testing.assert_allclose(ours.lower_bounds_, expected.lower_bounds_, rtol=rtol)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_dask_fit_equals_in_memory_fit_from_the_same_initial_parameters(
    X, covariance_type
):
    in_memory = _model(X, covariance_type).fit(X)
    on_dask = _model(X, covariance_type).fit(da.from_array(X, chunks=(300, -1)))
    assert in_memory.n_iter_ > 3  # a real run of EM, not one step
    _assert_same_fit(on_dask, in_memory)


def test_dask_kmeans_initialisation_equals_in_memory_when_all_rows_fit_the_sample(X):
    # fewer rows than INIT_SAMPLE_SIZE: the "sample" is X itself, in order
    assert X.shape[0] <= _dask.INIT_SAMPLE_SIZE
    params = {"tol": 1e-8, "max_iter": 200, "random_state": 0}
    in_memory = GaussianMixture(N_COMPONENTS, **params).fit(X)
    on_dask = GaussianMixture(N_COMPONENTS, **params).fit(da.from_array(X, 500))
    _assert_same_fit(on_dask, in_memory)


def test_dask_initialisation_uses_a_seeded_sample_of_rows(X, monkeypatch):
    monkeypatch.setattr(_dask, "INIT_SAMPLE_SIZE", 400)
    Xd = da.from_array(X, chunks=(300, -1))
    first = GaussianMixture(N_COMPONENTS, random_state=1, max_iter=0).fit(Xd)
    again = GaussianMixture(N_COMPONENTS, random_state=1, max_iter=0).fit(Xd)
    full_data = GaussianMixture(N_COMPONENTS, random_state=1, max_iter=0).fit(X)
    np.testing.assert_array_equal(first.means_, again.means_)
    # k-means on 400 of the 2003 rows: near, but not equal to, k-means on all
    order = np.argsort(first.means_[:, 0])
    expected = full_data.means_[np.argsort(full_data.means_[:, 0])]
    np.testing.assert_allclose(first.means_[order], expected, atol=0.5)
    assert not np.allclose(first.means_[order], expected, rtol=1e-10)


def test_dask_fit_on_a_distributed_client_equals_in_memory_fit(X):
    in_memory = _model(X).fit(X)
    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=False,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
        get_task_stream(client) as stream,
    ):
        on_dask = _model(X).fit(da.from_array(X, chunks=(300, -1)))
    ran_on_cluster = {task["key"][0] for task in stream.data}
    assert any(name.startswith("gmm-statistics") for name in ran_on_cluster)
    _assert_same_fit(on_dask, in_memory)


def test_predictions_on_dask_are_lazy_and_equal_the_in_memory_ones(X):
    model = _model(X).fit(X)
    Xd = da.from_array(X, chunks=(300, -1))
    for method in ("predict", "predict_proba", "score_samples"):
        lazy = getattr(model, method)(Xd)
        assert isinstance(lazy, da.Array), method
        assert lazy.chunks[0] == Xd.chunks[0], method
        np.testing.assert_allclose(
            lazy.compute(), getattr(model, method)(X), rtol=1e-12, err_msg=method
        )
    assert model.score(Xd) == pytest.approx(model.score(X), rel=1e-12)


def test_fit_predict_on_dask_returns_lazy_labels_equal_to_in_memory(X):
    labels = _model(X).fit_predict(da.from_array(X, chunks=(300, -1)))
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), _model(X).fit_predict(X))


def test_column_chunked_input_is_rechunked_to_whole_rows(X):
    by_rows = _model(X).fit(da.from_array(X, chunks=(300, -1)))
    by_rows_and_columns = _model(X).fit(da.from_array(X, chunks=(300, 1)))
    _assert_same_fit(by_rows_and_columns, by_rows, rtol=1e-13)


@pytest.mark.parametrize("value, match", [(np.nan, "NaN"), (np.inf, "inf")])
def test_nan_or_inf_in_a_late_block_is_named_by_its_row_and_column_of_X(
    X, value, match
):
    bad = X.copy()
    bad[1234, 2] = value
    Xd = da.from_array(bad, chunks=(300, -1))  # row 1234 is row 34 of block 4
    named = (
        rf"X contains {match} at X\[1234, 2\]; "
        r"1 non-finite value\(s\) in rows 1200 to 1499 of X"
    )
    fitted = _model(X).fit(X)
    with pytest.raises(ValueError, match=named):
        _model(X).fit(Xd)  # the column means, the first pass
    with pytest.raises(ValueError, match=named):
        _dask.accumulate_statistics(Xd, fitted._estep())  # an EM pass
    with pytest.raises(ValueError, match=named):
        fitted.predict(Xd).compute()
    with pytest.raises(ValueError, match=named):
        _model(X).partial_fit(Xd)  # given initial parameters: an EM pass first


def test_nan_in_the_sampled_rows_is_named_by_its_row_of_X(X):
    bad = X.copy()
    bad[1000:, 2] = np.nan
    Xd = da.from_array(bad, chunks=(300, -1))
    with pytest.raises(ValueError, match="in the 50 rows of X sampled") as error:
        _dask.sample_rows(Xd, np.random.RandomState(0), n_rows=50)
    row, column = map(
        int, re.search(r"at X\[(\d+), (\d+)\]", str(error.value)).groups()
    )
    # a row of X from the NaN rows, not its position in the sample of 50
    assert row >= 1000 and column == 2
    assert np.isnan(bad[row, column])


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (-1.0, r"sample_weight\[1500\] = -1"),
        (np.nan, r"sample_weight contains nan at index 1500"),
    ],
)
def test_bad_sample_weight_in_a_late_block_is_named_by_its_index(X, value, named):
    weights = np.ones(len(X))
    weights[1500] = value
    Xd = da.from_array(X, chunks=(300, -1))
    wd = da.from_array(weights, chunks=300)  # index 1500 is entry 0 of block 5
    in_block = named + r" \(rows 1500 to 1799 of X, one Dask block\)"
    fitted = _model(X).fit(X)
    with pytest.raises(ValueError, match=in_block):
        _model(X).fit(Xd, sample_weight=wd)
    with pytest.raises(ValueError, match=in_block):
        _dask.accumulate_statistics(Xd, fitted._estep(), sample_weight=wd)
    with pytest.raises(ValueError, match=in_block):
        fitted.score(Xd, sample_weight=wd)
    with pytest.raises(ValueError, match=named + r" \(the 2003 rows of X sampled"):
        _dask.sample_rows(Xd, np.random.RandomState(0), sample_weight=wd)


def test_the_fix_the_nan_error_suggests_runs_as_written_and_fits(X):
    bad, weights = X.copy(), np.random.default_rng(7).uniform(0.5, 2.0, len(X))
    bad[1234, 2] = np.nan
    bad[1800, 0] = np.inf
    Xd = da.from_array(bad, chunks=(300, -1))
    with pytest.raises(ValueError, match=r"X contains (NaN|inf) at X\[") as error:
        _model(X).fit(Xd, sample_weight=da.from_array(weights, chunks=300))
    suggested = re.findall(r"`([^`]+)`", str(error.value))
    assert len(suggested) == 2, str(error.value)
    names = {"da": da, "X": Xd, "sample_weight": da.from_array(weights, chunks=300)}
    for code in suggested:
        exec(code, names)  # literally as the message gives it
    finite = np.isfinite(bad).all(axis=1)
    assert names["X"].shape == (X.shape[0] - 2, X.shape[1])
    on_dask = _model(X).fit(names["X"], sample_weight=names["sample_weight"])
    in_memory = _model(X).fit(bad[finite], sample_weight=weights[finite])
    assert in_memory.n_iter_ > 3
    _assert_same_fit(on_dask, in_memory)


def test_unknown_chunk_sizes_are_refused_with_the_fix(X):
    Xd = da.from_array(X, chunks=(300, -1))
    unknown = Xd[Xd[:, 0] > -np.inf]  # boolean mask: row counts unknown
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        _model(X).fit(unknown)


def test_fit_never_computes_an_n_by_K_block(X):
    """No task of the fit returns responsibilities (rows, n_components)."""

    class Results(Callback):
        def __init__(self):
            super().__init__()
            self.results = []

        def _posttask(self, key, result, dsk, state, worker_id):
            self.results.append(result)

    Xd = da.from_array(X, chunks=(300, -1))  # 7 blocks
    with dask.config.set(scheduler="sync"), Results() as seen:
        _model(X).fit(Xd)
    rows = {r.n_samples for r in seen.results if isinstance(r, SufficientStatistics)}
    assert {300, 203, X.shape[0]} <= rows  # it saw the blocks' statistics, the root
    two_d = [np.shape(r) for r in seen.results if np.ndim(r) == 2]
    assert not [shape for shape in two_d if shape[1] == N_COMPONENTS], two_d


def test_statistics_graph_is_a_tree_of_block_statistics_and_merges(X):
    model = _model(X).fit(X)
    Xd = da.from_array(X, chunks=(100, -1))  # 21 blocks
    graph = _dask.statistics_graph(Xd, model._estep(), split_every=4)
    tasks = {}
    for name, layer in graph.dask.layers.items():
        kind = name.rsplit("-", 1)[0]
        tasks[kind] = tasks.get(kind, []) + [len(layer)]
    assert tasks["gmm-statistics"] == [21]  # one statistics task per block,
    assert tasks["gmm-statistics-partial"] == [6, 2]  # merged 4 at a time
    assert tasks["gmm-statistics-aggregate"] == [1]  # into one root
    assert graph.numblocks == (1, 1)


def test_gmmlib_imports_and_fits_without_dask():
    code = (
        "import sys; sys.modules['dask'] = None\n"
        "import numpy as np, gmmlib\n"
        "X = np.random.default_rng(0).normal(size=(50, 2))\n"
        "print(gmmlib.GaussianMixture(2, random_state=0).fit(X).n_iter_)\n"
        "assert 'dask.array' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_lazy_predictions_have_named_unique_keys_and_no_deprecation_warning(X):
    model = _model(X).fit(X)
    Xd = da.from_array(X, chunks=(300, -1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        labels, proba = model.predict(Xd), model.predict_proba(Xd)
        other = _model(X, covariance_type="diag").fit(X).predict(Xd)
    assert labels.name.startswith("gmm-") and proba.name.startswith("gmm-")
    # one name per computation: equal names would make dask share their results
    assert len({labels.name, proba.name, other.name}) == 3
    np.testing.assert_array_equal(other.compute(), _model(X, "diag").fit(X).predict(X))
