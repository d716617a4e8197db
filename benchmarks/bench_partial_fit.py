"""Rows per second of partial_fit against one batch EM iteration, side by side.

One batch EM iteration visits every row once; so does one pass of
``partial_fit`` over the same rows cut into batches. Per row, streaming costs
what batch EM costs plus what each call adds: validating its batch, its
centre, and one M-step per batch instead of one per pass. Printed per
covariance type:

- batch EM: rows per second of one iteration, timed as in ``bench_em.py``
  (the difference of a fit of ``n_iter + 1`` iterations and one of 1,
  divided by ``n_iter``, so validation and initialisation cancel);
- partial_fit: rows per second of a pass over all rows in batches of
  ``--batch-size`` (after one untimed call that initialises), best of
  ``--repeat`` passes;
- their ratio (the target is at least 0.8).

Both start from the same initial parameters and run on ``--threads``
threads (``GaussianMixture(n_threads=...)``). Timings
on a shared machine vary by tens of percent between runs; the load average is
printed with the table. On a busy machine, ``--threads 1 --clock cpu`` times
the process's CPU time instead of the wall clock, which other processes
hardly disturb (with one thread it is the work done).

    python benchmarks/bench_partial_fit.py                    # N=100 000, d=16, K=8
    python benchmarks/bench_partial_fit.py --batch-size 2000 --types full
    python benchmarks/bench_partial_fit.py --threads 1 --clock cpu
"""

import argparse
import os
import time
import warnings

import numpy as np
from bench_em import COVARIANCE_TYPES, initial_parameters, make_data
from sklearn.exceptions import ConvergenceWarning

from gmmlib import GaussianMixture

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def em_time_per_iteration(X, covariance_type, init, n_iter, repeat, clock):
    """(t(n_iter + 1) - t(1)) / n_iter of batch EM, each t the best of ``repeat``."""

    def best_fit_time(max_iter):
        best = np.inf
        for _ in range(repeat):
            model = GaussianMixture(
                len(init["weights_init"]),
                covariance_type=covariance_type,
                tol=0.0,
                max_iter=max_iter,
                **init,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = clock()
                model.fit(X)
                best = min(best, clock() - start)
        return best

    best_fit_time(1)  # warm up: thread pools, caches
    return (best_fit_time(n_iter + 1) - best_fit_time(1)) / n_iter


def partial_fit_pass_time(X, covariance_type, init, batch_size, repeat, clock):
    """Best time of one pass of partial_fit over X in batches of ``batch_size``."""
    batches = [X[i : i + batch_size] for i in range(0, len(X), batch_size)]
    best = np.inf
    for _ in range(repeat):
        model = GaussianMixture(
            len(init["weights_init"]), covariance_type=covariance_type, **init
        )
        model.partial_fit(batches[0])  # initialises: not timed
        start = clock()
        for batch in batches:
            model.partial_fit(batch)
        best = min(best, clock() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--n-features", type=int, default=16)
    parser.add_argument("--n-components", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--types", default=",".join(COVARIANCE_TYPES), help="comma-separated"
    )
    parser.add_argument("--n-iter", type=int, default=5, help="timed EM iterations")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="cpu: process time"
    )
    args = parser.parse_args(argv)
    clock = CLOCKS[args.clock]

    X = make_data(args.n_samples, args.n_features, args.n_components, args.dtype)
    print(
        f"N={args.n_samples} d={args.n_features} K={args.n_components} "
        f"batch={args.batch_size} dtype={args.dtype} threads={args.threads} "
        f"clock={args.clock} "
        f"load={os.getloadavg()[0]:.2f}"
    )
    header = (
        f"{'type':<10}{'batch EM rows/s':>17}{'partial_fit rows/s':>20}{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    for covariance_type in args.types.split(","):
        init = initial_parameters(X, args.n_components, covariance_type)
        init["n_threads"] = args.threads
        em_t = em_time_per_iteration(
            X, covariance_type, init, args.n_iter, args.repeat, clock
        )
        stream_t = partial_fit_pass_time(
            X, covariance_type, init, args.batch_size, args.repeat, clock
        )
        em_rate, stream_rate = len(X) / em_t, len(X) / stream_t
        print(
            f"{covariance_type:<10}{em_rate:>17,.0f}{stream_rate:>20,.0f}"
            f"{stream_rate / em_rate:>7.2f}x"
        )
    print("rows per second; ratio = partial_fit / batch EM (target >= 0.8)")


if __name__ == "__main__":
    main()
