"""Side-by-side benchmark of one EM iteration: gmmlib against scikit-learn.

Both estimators start from the same initial weights, means and precisions,
run exactly ``--n-iter`` iterations (``tol=0``) on ``--threads`` threads
(gmmlib's ``n_threads``, scikit-learn's BLAS threads), and must end at the
same parameters. Printed per covariance type:

- time per iteration of each, and their ratio;
- memory, two ways:

  - "peak RSS": what a user's process costs. Each library's fit runs in a
    fresh Python process that imports only that library (gmmlib brings
    numba's runtime, scikit-learn does not), loads X from a ``.npy`` file
    and fits ``n_iter`` iterations; the process's peak resident set size
    (``VmHWM`` of ``/proc/self/status``, or ``ru_maxrss`` where there is no
    ``/proc``) is read after the imports ("imports": the bare interpreter
    with NumPy, threadpoolctl and the library) and after the fit ("peak":
    everything, X included);
  - "NumPy beyond X" (tracemalloc, in this process): the peak of NumPy's
    allocations during a fit beyond what existed before it; numba's and the
    BLAS's own memory is not traced.
- two floors, and gmmlib's time over the larger of them ("/limit"):

  - "blocked": the two big matrix products of an E-step and M-step written
    with the BLAS (eq-stacked-product as one product of the block with the
    stacked factors, then the products for the scatter): for 'full' and
    'tied' ``[A, 1] F``, (n, d + 1) x (d + 1, K d), and the product of its
    (K d, n) transpose with ``A`` (n, d); for 'diag' and 'spherical'
    ``W^T [A, A**2, 1]^T``, (K, 2 d + 1) x (2 d + 1, n), and its (K, n)
    result times ``[A, A**2, 1]``; run in row blocks of 4 MiB of products
    (the size the BLAS formulation runs best at, and gmmlib's before its fused
    kernels), in gmmlib's threads, one BLAS thread each ("floor" runs them
    once on whole arrays, with the BLAS threads);
  - "memory": the time to read X once, at the read bandwidth measured on the
    spot (a 256 MiB array summed by every thread, best of five).

Time per iteration is the difference between a fit of ``n_iter + 1``
iterations and a fit of 1 iteration, divided by ``n_iter``, so validation,
initialisation and the final E-step cancel.

Run ``python benchmarks/bench_em.py --help`` for the sizes.
"""

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from threadpoolctl import threadpool_limits

from gmmlib import GaussianMixture

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def make_data(n_samples, n_features, n_components, dtype, seed=0):
    """Rows from K Gaussians with random means and random full covariances."""
    rng = np.random.default_rng(seed)
    means = rng.uniform(-5, 5, size=(n_components, n_features))
    labels = rng.integers(n_components, size=n_samples)
    X = np.empty((n_samples, n_features))
    for k in range(n_components):
        rows = labels == k
        factor = rng.standard_normal((n_features, n_features)) / np.sqrt(n_features)
        X[rows] = means[k] + rng.standard_normal((rows.sum(), n_features)) @ factor
    return X.astype(dtype)


def initial_parameters(X, n_components, covariance_type, seed=1):
    """Means at random rows, equal weights, K times the data's precision."""
    rng = np.random.default_rng(seed)
    means = X[rng.choice(len(X), n_components, replace=False)].astype(np.float64)
    weights = np.full(n_components, 1 / n_components)
    precision = np.linalg.inv(np.cov(X.T.astype(np.float64)) / n_components)
    precisions = {
        "full": np.repeat(precision[None], n_components, axis=0),
        "tied": precision,
        "diag": np.repeat(np.diag(precision)[None], n_components, axis=0),
        "spherical": np.full(n_components, np.diag(precision).mean()),
    }[covariance_type]
    return {"weights_init": weights, "means_init": means, "precisions_init": precisions}


def fit(cls, X, covariance_type, init, max_iter):
    model = cls(
        n_components=len(init["weights_init"]),
        covariance_type=covariance_type,
        tol=0.0,
        max_iter=max_iter,
        **init,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X)
        return model, time.perf_counter() - start


def time_per_iteration(cls, X, covariance_type, init, n_iter, repeat):
    """(t(n_iter + 1) - t(1)) / n_iter, each t the best of ``repeat`` fits."""
    fit(cls, X, covariance_type, init, 1)  # warm up: thread pools, caches
    short = min(fit(cls, X, covariance_type, init, 1)[1] for _ in range(repeat))
    long = np.inf
    for _ in range(repeat):
        model, elapsed = fit(cls, X, covariance_type, init, n_iter + 1)
        long = min(long, elapsed)
    return (long - short) / n_iter, model


def peak_memory(cls, X, covariance_type, init, n_iter):
    """Peak of NumPy allocations during a fit, beyond what existed before."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fit(cls, X, covariance_type, init, n_iter)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


#: Run in a fresh interpreter by ``peak_rss``: import one library, read the
#: peak RSS, load X and the initial parameters, fit, read the peak RSS again.
_RSS_CHILD = """
import json, sys

def peak_rss_kib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

library, data, params, covariance_type, n_iter, threads = sys.argv[1:]
import warnings
import numpy as np
from threadpoolctl import threadpool_limits
if library == "gmmlib":
    from gmmlib import GaussianMixture
    threads_param = {"n_threads": int(threads)}
else:
    from sklearn.mixture import GaussianMixture
    threads_param = {}
from sklearn.exceptions import ConvergenceWarning
imports = peak_rss_kib()
X = np.load(data)
init = dict(np.load(params))
model = GaussianMixture(
    n_components=len(init["weights_init"]), covariance_type=covariance_type,
    tol=0.0, max_iter=int(n_iter), **init, **threads_param,
)
with threadpool_limits(limits=int(threads)), warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X)
print(json.dumps({"imports": imports, "peak": peak_rss_kib()}))
"""


def peak_rss(library, X, covariance_type, init, n_iter, threads):
    """(imports, peak) RSS in MiB of a fresh process that fits X with one library.

    ``library`` is "gmmlib" or "sklearn". "imports" is the process's peak RSS
    after importing NumPy, threadpoolctl and the library; "peak" its peak RSS
    over the whole run, X (loaded from a ``.npy`` file) and the fit included.
    """
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, "X.npy")
        params = os.path.join(folder, "init.npz")
        np.save(data, X)
        np.savez(params, **init)
        command = [sys.executable, "-c", _RSS_CHILD, library, data, params]
        command += [covariance_type, str(n_iter), str(threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    kib = json.loads(done.stdout.strip().splitlines()[-1])
    return kib["imports"] / 1024, kib["peak"] / 1024


def _products(n_rows, n_features, n_components, covariance_type, dtype):
    """The two products' operands for ``n_rows`` rows (random numbers)."""
    rng = np.random.default_rng(2)
    if covariance_type in ("full", "tied"):
        width, outputs = n_features + 1, n_components * n_features
    else:
        width, outputs = 2 * n_features + 1, n_components
    rows = rng.standard_normal((n_rows, width)).astype(dtype)
    factors = rng.standard_normal((width, outputs)).astype(dtype)
    return rows, factors


def _two_products(rows, factors, covariance_type):
    """E-step product, then M-step product, as gmmlib forms them."""
    first = factors.T @ rows.T
    if covariance_type in ("full", "tied"):
        return first @ rows[:, : rows.shape[1] - 1]
    return first @ rows


def floor_time(X, n_components, covariance_type, repeat):
    """The iteration's two big matrix products on whole arrays, BLAS threads."""
    rows, factors = _products(*X.shape, n_components, covariance_type, X.dtype)
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        _two_products(rows, factors, covariance_type)
        best = min(best, time.perf_counter() - start)
    return best


def blas_block_size(n_samples, n_features, n_components, covariance_type, itemsize):
    """Rows per block for the BLAS products: their (block, width) result in 4 MiB."""
    if covariance_type in ("full", "tied"):
        per_row = n_components * n_features
    else:
        per_row = 2 * n_features + 1 + n_components
    rows = min(16384, max(256, 2**22 // (itemsize * per_row)))
    return min(rows, max(256, -(-n_samples // 16)))


def blocked_floor_time(X, n_components, covariance_type, threads, repeat):
    """The same products block by block, in 4 MiB blocks and gmmlib's threads."""
    n, d = X.shape
    block = blas_block_size(n, d, n_components, covariance_type, X.dtype.itemsize)
    rows, factors = _products(block, d, n_components, covariance_type, X.dtype)
    n_blocks = -(-n // block)
    shares = [len(part) for part in np.array_split(np.arange(n_blocks), threads)]

    def work(count):
        for _ in range(count):
            _two_products(rows, factors, covariance_type)

    best = np.inf
    with threadpool_limits(1, "blas"), ThreadPoolExecutor(threads) as pool:
        for _ in range(repeat):
            start = time.perf_counter()
            list(pool.map(work, shares))
            best = min(best, time.perf_counter() - start)
    return best


def read_bandwidth(threads, repeat=5, nbytes=2**28):
    """Bytes per second the threads read from memory (sums of a large array)."""
    array = np.ones(nbytes // 8)
    parts = np.array_split(array, threads)
    best = np.inf
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(repeat):
            start = time.perf_counter()
            list(pool.map(np.sum, parts))
            best = min(best, time.perf_counter() - start)
    return array.nbytes / best


def max_relative_difference(ours, theirs):
    worst = 0.0
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        a, b = getattr(ours, name).astype(np.float64), getattr(theirs, name)
        scale = np.abs(b).max()
        worst = max(worst, float(np.max(np.abs(a - b)) / scale))
    return worst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--n-features", type=int, default=16)
    parser.add_argument("--n-components", type=int, default=8)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--types", default=",".join(COVARIANCE_TYPES), help="comma-separated"
    )
    parser.add_argument("--n-iter", type=int, default=10, help="timed iterations")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument(
        "--memory-only",
        action="store_true",
        help="only the memory columns (peak RSS per library, NumPy's peak), no timing",
    )
    args = parser.parse_args(argv)

    X = make_data(args.n_samples, args.n_features, args.n_components, args.dtype)
    if args.memory_only:
        return memory_table(X, args)
    bandwidth = read_bandwidth(args.threads)
    memory = X.nbytes / bandwidth
    print(
        f"N={args.n_samples} d={args.n_features} K={args.n_components} "
        f"dtype={args.dtype} iterations={args.n_iter} threads={args.threads} "
        f"load={os.getloadavg()[0]:.2f} read bandwidth={bandwidth / 1e9:.1f} GB/s"
    )
    header = (
        f"{'type':<10}{'gmmlib':>8}{'sklearn':>9}{'speed-up':>10}"
        f"{'floor':>8}{'blocked':>9}{'memory':>8}{'/limit':>8}"
        f"{MEMORY_HEADER}{'max rel diff':>14}"
    )
    print(header)
    print("-" * len(header))
    gmmlib_cls = functools.partial(GaussianMixture, n_threads=args.threads)
    # the BLAS limit is scikit-learn's thread count; gmmlib's is n_threads
    with threadpool_limits(limits=args.threads):
        for covariance_type in args.types.split(","):
            init = initial_parameters(X, args.n_components, covariance_type)
            ours_t, ours = time_per_iteration(
                gmmlib_cls, X, covariance_type, init, args.n_iter, args.repeat
            )
            theirs_t, theirs = time_per_iteration(
                SklearnGaussianMixture,
                X,
                covariance_type,
                init,
                args.n_iter,
                args.repeat,
            )
            floor = floor_time(X, args.n_components, covariance_type, 5)
            blocked = blocked_floor_time(
                X, args.n_components, covariance_type, args.threads, 5
            )
            diff = max_relative_difference(ours, theirs)
            same_iterations = ours.n_iter_ == theirs.n_iter_ == args.n_iter + 1
            close = diff < 1e-6 or args.dtype == "float32"
            flag = "" if close and same_iterations else "  MISMATCH"
            limit = max(blocked, memory)
            print(
                f"{covariance_type:<10}{ours_t * 1e3:>8.1f}{theirs_t * 1e3:>9.1f}"
                f"{theirs_t / ours_t:>9.2f}x{floor * 1e3:>8.1f}{blocked * 1e3:>9.1f}"
                f"{memory * 1e3:>8.2f}{ours_t / limit:>7.2f}x"
                f"{memory_columns(X, covariance_type, init, args)}{diff:>14.1e}{flag}"
            )
    print(
        "times in ms per iteration; floor: the two big products on whole arrays "
        "(BLAS threads); blocked: the same products in gmmlib's blocks and "
        "threads; memory: reading X once; /limit: gmmlib over the larger of "
        "blocked and memory"
    )
    print(MEMORY_NOTE)


MEMORY_HEADER = (
    f"{'RSS gmmlib':>11}{'sklearn':>8}{'imports':>9}{'sklearn':>8}"
    f"{'NumPy gmmlib':>13}{'sklearn':>8}"
)
MEMORY_NOTE = (
    "memory in MiB; RSS: peak resident set of a fresh process that imports one "
    "library, loads X and fits it (n_iter + 1 iterations); imports: the same "
    "process's peak before loading X; NumPy: tracemalloc's peak of NumPy's "
    "allocations during a fit (2 iterations), beyond what existed before"
)


def memory_columns(X, covariance_type, init, args):
    """The memory columns of one row: peak RSS, imports, NumPy beyond X."""
    n_iter, threads = args.n_iter + 1, args.threads
    # the child processes load gmmlib's kernels from numba's cache
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 2000 rows may leave a component empty
        fit(GaussianMixture, X[:2000], covariance_type, init, 1)
    ours_imports, ours_rss = peak_rss(
        "gmmlib", X, covariance_type, init, n_iter, threads
    )
    theirs_imports, theirs_rss = peak_rss(
        "sklearn", X, covariance_type, init, n_iter, threads
    )
    gmmlib_cls = functools.partial(GaussianMixture, n_threads=threads)
    ours_mb = peak_memory(gmmlib_cls, X, covariance_type, init, 2) / 2**20
    theirs_mb = peak_memory(SklearnGaussianMixture, X, covariance_type, init, 2) / 2**20
    return (
        f"{ours_rss:>11.1f}{theirs_rss:>8.1f}{ours_imports:>9.1f}{theirs_imports:>8.1f}"
        f"{ours_mb:>13.1f}{theirs_mb:>8.1f}"
    )


def memory_table(X, args):
    """``--memory-only``: the memory columns alone, without the timings."""
    print(
        f"N={args.n_samples} d={args.n_features} K={args.n_components} "
        f"dtype={args.dtype} iterations={args.n_iter + 1} threads={args.threads} "
        f"X={X.nbytes / 2**20:.1f} MiB"
    )
    header = f"{'type':<10}{MEMORY_HEADER}"
    print(header)
    print("-" * len(header))
    with threadpool_limits(limits=args.threads):
        for covariance_type in args.types.split(","):
            init = initial_parameters(X, args.n_components, covariance_type)
            print(
                f"{covariance_type:<10}{memory_columns(X, covariance_type, init, args)}"
            )
    print(MEMORY_NOTE)


if __name__ == "__main__":
    main()
