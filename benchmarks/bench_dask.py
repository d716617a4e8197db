"""EM on a .npy file larger than memory, through Dask, against the in-memory fit.

Not a test: a script that prints numbers. It

1. writes ``--rows`` x ``--features`` float64 rows drawn from a known mixture to
   a .npy file, in chunks through ``np.lib.format.open_memmap`` (writing needs
   one chunk of memory, not the file's size); default 30 million x 16, 3.84 GB;
2. fits :class:`gmmlib.GaussianMixture` on the file as a Dask array chunked by
   rows, each chunk read from a memory map of the file when the chunk is
   computed (see :class:`MappedRows` for why not ``da.from_array`` of the map
   itself);
3. fits the same model in memory on the first ``--in-memory-rows`` rows;

each in its own process, from the same initial parameters, with the same
number of threads, twice: for 1 and for ``1 + --iterations`` EM iterations
(``tol=0``). The difference of the two times is what ``--iterations`` EM
iterations cost, without what a fit does once. The parent polls the resident
memory (RSS) of each child's process tree (the child and all its descendants)
in a thread and prints, for both: the whole longer fit's time; EM throughput
in rows x iterations per second of wall time, per core used and per CPU
second; and the peak RSS.

Usage::

    python benchmarks/bench_dask.py                      # 30e6 x 16, ~3.8 GB
    python benchmarks/bench_dask.py --rows 2_000_000     # a quick run
    python benchmarks/bench_dask.py --keep               # keep the .npy file

Target (issue 6): the default file fits with peak RSS under 1.5 GB, at no less
than half the in-memory throughput per core.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import psutil

SEED = 2026


# -- the data ---------------------------------------------------------------


def true_mixture(n_components, n_features):
    """Weights, means and covariances of the mixture the rows are drawn from."""
    rng = np.random.default_rng(SEED)
    weights = rng.dirichlet(np.full(n_components, 5.0))
    means = rng.normal(scale=4.0, size=(n_components, n_features)) + 100.0
    factors = rng.normal(size=(n_components, n_features, n_features))
    covariances = factors @ factors.transpose(0, 2, 1) / n_features
    covariances += 0.5 * np.eye(n_features)
    return weights, means, covariances


def write_npy(path, n_rows, n_features, n_components, chunk_rows=1_000_000):
    """Write the rows chunk by chunk into a .npy memory map."""
    weights, means, covariances = true_mixture(n_components, n_features)
    cholesky = np.linalg.cholesky(covariances)
    out = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float64, shape=(n_rows, n_features)
    )
    for index, start in enumerate(range(0, n_rows, chunk_rows)):
        stop = min(start + chunk_rows, n_rows)
        rng = np.random.default_rng([SEED, index])
        labels = rng.choice(n_components, size=stop - start, p=weights)
        rows = rng.standard_normal((stop - start, n_features))
        for k in range(n_components):
            members = labels == k
            rows[members] = rows[members] @ cholesky[k].T + means[k]
        out[start:stop] = rows
        out.flush()
    del out


def initial_parameters(n_components, n_features):
    """The truth, perturbed: the same starting point for both fits."""
    weights, means, covariances = true_mixture(n_components, n_features)
    rng = np.random.default_rng(SEED + 1)
    means = means + rng.normal(scale=0.5, size=means.shape)
    precisions = np.linalg.inv(covariances * 1.5)
    return weights, means, precisions


# -- reading the file block by block -----------------------------------------


class MappedRows:
    """Rows of a .npy file, each read through a memory map opened for the read.

    ``dask.array.from_array`` copies its argument when the argument has a
    ``copy`` method (dask 2026.8), so ``from_array(np.load(path, mmap_mode="r"))``
    reads the whole file into memory up front. And a memory map kept open
    would keep every page it has touched in the process's resident set. This
    array-like has a shape and a dtype but no ``copy``: each slice maps the
    file, copies the requested rows into ordinary memory and unmaps it, so
    only the blocks being processed are resident.
    """

    def __init__(self, path):
        self.path = path
        mapped = np.load(path, mmap_mode="r")
        self.shape, self.dtype, self.ndim = mapped.shape, mapped.dtype, mapped.ndim
        del mapped

    def __getitem__(self, index):
        mapped = np.load(self.path, mmap_mode="r")
        try:
            return np.array(mapped[index])
        finally:
            del mapped

    def __dask_tokenize__(self):
        return (type(self).__name__, self.path, os.stat(self.path).st_mtime_ns)


# -- the two fits, each in a child process -------------------------------------


def fit(args):
    """Child process: two fits, printing a JSON line with their timings.

    The fits start from the same parameters and run 1 and ``1 + iterations``
    EM iterations; the difference of their times is the cost of
    ``iterations`` EM iterations alone, without what a fit does once
    (validation, the centre of the rows, the final E-step of ``fit_predict``).
    """
    from gmmlib import GaussianMixture

    weights, means, precisions = initial_parameters(args.components, args.features)
    if args.phase == "memory":
        X = np.array(np.load(args.path, mmap_mode="r")[: args.in_memory_rows])
        context = contextlib.nullcontext()
        n_threads = args.threads
    else:
        import dask
        import dask.array as da

        X = da.from_array(MappedRows(args.path), chunks=(args.chunk_rows, -1))
        context = dask.config.set(scheduler="threads", num_workers=args.threads)
        n_threads = None  # Dask's threads
    timings = {}
    for max_iter in (1, 1 + args.iterations):
        model = GaussianMixture(
            n_components=args.components,
            covariance_type="full",
            tol=0.0,
            max_iter=max_iter,
            weights_init=weights,
            means_init=means,
            precisions_init=precisions,
            n_threads=n_threads,
        )
        cpu = psutil.Process().cpu_times()
        start = time.perf_counter()
        with context, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tol=0 never converges, by design
            model.fit(X)
        elapsed = time.perf_counter() - start
        after = psutil.Process().cpu_times()
        cpu_seconds = (after.user - cpu.user) + (after.system - cpu.system)
        timings[model.n_iter_] = (elapsed, cpu_seconds)
    (short, short_cpu), (long, long_cpu) = timings[1], timings[1 + args.iterations]
    print(
        json.dumps(
            {
                "rows": int(X.shape[0]),
                "fit_seconds": long,
                "em_seconds": long - short,
                "em_cpu_seconds": long_cpu - short_cpu,
            }
        )
    )


class PeakRSS:
    """Poll the resident memory of a process and all its descendants."""

    def __init__(self, pid, interval=0.02):
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            total = 0
            try:
                for process in [self.process, *self.process.children(recursive=True)]:
                    total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_child(args, phase):
    command = [sys.executable, __file__, "--phase", phase]
    for name in (
        "path",
        "rows",
        "features",
        "components",
        "iterations",
        "threads",
        "chunk_rows",
        "in_memory_rows",
    ):
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    with PeakRSS(child.pid) as peak:
        out, _ = child.communicate()
    if child.returncode:
        raise SystemExit(f"the {phase} fit failed (exit code {child.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss"] = peak.peak
    return result


def report(name, result, args):
    rows_iterations = result["rows"] * args.iterations
    per_second = rows_iterations / result["em_seconds"]
    return {
        "fit": name,
        "rows": f"{result['rows']:,}",
        f"fit of {1 + args.iterations} it. (s)": result["fit_seconds"],
        "rows/s": per_second,
        "rows/s/core": per_second / args.threads,
        "rows/cpu-s": rows_iterations / result["em_cpu_seconds"],
        "peak RSS (GB)": result["peak_rss"] / 1e9,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=30_000_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--components", type=int, default=4)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--in-memory-rows", type=int, default=2_000_000)
    parser.add_argument("--path", default=os.path.join("/tmp", "gmm_bench_dask.npy"))
    parser.add_argument("--keep", action="store_true", help="keep the .npy file")
    parser.add_argument("--phase", choices=["memory", "dask"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        return fit(args)

    args.in_memory_rows = min(args.in_memory_rows, args.rows)
    size = args.rows * args.features * 8
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(args.path))).free
    if not os.path.exists(args.path) and size > 0.9 * free:
        raise SystemExit(f"{size / 1e9:.2f} GB do not fit in {free / 1e9:.2f} GB free")
    print(
        f"{args.rows:,} rows x {args.features} float64 = {size / 1e9:.2f} GB at "
        f"{args.path}; K={args.components} full covariances, "
        f"{args.iterations} EM iterations, {args.threads} threads, "
        f"dask chunks of {args.chunk_rows:,} rows"
    )
    start = time.perf_counter()
    try:
        if os.path.exists(args.path):
            print("using the existing file")
        else:
            write_npy(args.path, args.rows, args.features, args.components)
            print(f"wrote it in {time.perf_counter() - start:.1f} s")
        rows = [
            report("in memory", run_child(args, "memory"), args),
            report("dask, memory-mapped", run_child(args, "dask"), args),
        ]
    finally:
        if not args.keep and os.path.exists(args.path):
            os.remove(args.path)
    columns = list(rows[0])
    print(" | ".join(columns))
    for row in rows:
        print(
            " | ".join(
                f"{v:,.3g}" if isinstance(v, float) else str(v) for v in row.values()
            )
        )
    ratio = rows[1]["rows/s/core"] / rows[0]["rows/s/core"]
    print(
        f"dask / in-memory throughput per core: {ratio:.2f} (target >= 0.5); "
        f"dask peak RSS {rows[1]['peak RSS (GB)']:.2f} GB (target < 1.5 GB); "
        f"load average {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
