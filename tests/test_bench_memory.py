"""The benchmark's memory columns measure what they say (benchmarks/bench_em.py).

"Peak RSS" runs each library's fit in a fresh process and reads that process's
peak resident set size; "imports" is the same process's peak before it loads
X. So the peak holds X (loaded from a file) on top of the imports, and a fit
that allocates more shows a larger peak. Small sizes, one iteration.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.repository


BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_em.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_em", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("library", ["gmmlib", "sklearn"])
def test_peak_rss_holds_the_imports_then_x_and_the_fit(bench, library):
    X = bench.make_data(200_000, 8, 3, "float64")  # 12.2 MiB
    init = bench.initial_parameters(X, 3, "diag")
    imports, peak = bench.peak_rss(library, X, "diag", init, 1, 1)
    x_mib = X.nbytes / 2**20
    assert 20 < imports < peak  # an interpreter with NumPy and the library
    assert peak - imports >= x_mib  # X is in the process as well


def test_peak_rss_sees_what_the_fit_allocates(bench):
    # scikit-learn's 'full' fit keeps (N, K) arrays and an (N, d) copy per
    # component: at K = 8 its fit adds several times X to the process
    X = bench.make_data(100_000, 16, 8, "float64")
    init = bench.initial_parameters(X, 8, "full")
    small = bench.initial_parameters(X, 2, "full")
    imports, peak = bench.peak_rss("sklearn", X, "full", init, 1, 1)
    _, peak_two = bench.peak_rss("sklearn", X, "full", small, 1, 1)
    assert peak - imports > 2 * X.nbytes / 2**20
    assert peak > peak_two  # eight components cost more than two
