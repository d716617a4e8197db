"""Time per EM iteration with missing values (NaN), beside complete data.

The same rows are fitted complete and with a share of their entries missing
completely at random (MCAR; every row keeps one observed entry), from the
same initial parameters, for ``--n-iter`` iterations (``tol=0``). Printed per
covariance type: milliseconds per iteration for each share, and each share's
time over the complete data's. Time per iteration is, as in ``bench_em.py``,
the difference of a fit of ``n_iter + 1`` iterations and a fit of 1,
divided by ``n_iter``, each fit the best of ``--repeat``, so validation, the
start and the final pass cancel.

The rows with a NaN take another path than the complete ones
(``gmmlib.suffstats.BlockEStep``): grouped by missing pattern in each block,
E-stepped on the precision factors by one compiled loop
(``gmmlib._kernels.incomplete_rows``), with one Cholesky factor of
Λ_mm per pattern and component. Its cost grows with
the share of rows that have a NaN (1 - (1 - rate)^d of them) and with the
number of distinct patterns.

Timings on a shared machine vary by tens of percent between runs; on a busy
one, ``--threads 1 --clock cpu`` times the process's CPU time instead of the
wall clock (with one thread, the work done).

    python benchmarks/bench_missing.py                        # N=100 000, d=4, K=3
    python benchmarks/bench_missing.py --rates 0.01,0.1 --types full --threads 1
    python benchmarks/bench_missing.py --threads 1 --clock cpu
"""

import argparse
import os

import numpy as np
from bench_em import COVARIANCE_TYPES, initial_parameters, make_data
from bench_partial_fit import CLOCKS, em_time_per_iteration


def with_mcar(X, rate, seed=0):
    """X with each entry NaN with probability ``rate``; each row keeps one."""
    if rate == 0:
        return X
    rng = np.random.default_rng(seed)
    missing = rng.random(X.shape) < rate
    missing[np.arange(len(X)), rng.integers(X.shape[1], size=len(X))] = False
    X = X.copy()
    X[missing] = np.nan
    return X


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--n-features", type=int, default=4)
    parser.add_argument("--n-components", type=int, default=3)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--types", default=",".join(COVARIANCE_TYPES), help="comma-separated"
    )
    parser.add_argument(
        "--rates", default="0.01,0.1", help="comma-separated MCAR shares of entries"
    )
    parser.add_argument("--n-iter", type=int, default=5, help="timed iterations")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="cpu: process time"
    )
    args = parser.parse_args(argv)
    clock = CLOCKS[args.clock]

    X = make_data(args.n_samples, args.n_features, args.n_components, args.dtype)
    rates = [float(r) for r in args.rates.split(",")]
    datasets = [X] + [with_mcar(X, rate) for rate in rates]
    print(
        f"N={args.n_samples} d={args.n_features} K={args.n_components} "
        f"dtype={args.dtype} threads={args.threads} clock={args.clock} "
        f"load={os.getloadavg()[0]:.2f}"
    )
    for rate, data in zip(rates, datasets[1:], strict=True):
        incomplete = np.isnan(data).any(axis=1)
        patterns = len(np.unique(np.isnan(data[incomplete]), axis=0))
        print(
            f"MCAR {rate:.0%}: {incomplete.mean():.1%} of the rows have a NaN, "
            f"{patterns} missing patterns"
        )
    header = f"{'type':<10}{'complete':>10}" + "".join(
        f"{f'{rate:.0%} MCAR':>12}{'ratio':>8}" for rate in rates
    )
    print(header)
    print("-" * len(header))
    for covariance_type in args.types.split(","):
        init = initial_parameters(X, args.n_components, covariance_type)
        init["n_threads"] = args.threads
        times = [
            em_time_per_iteration(
                data, covariance_type, init, args.n_iter, args.repeat, clock
            )
            for data in datasets
        ]
        row = f"{covariance_type:<10}{1e3 * times[0]:>10.2f}"
        for t in times[1:]:
            row += f"{1e3 * t:>12.2f}{t / times[0]:>7.2f}x"
        print(row)
    print("ms per EM iteration; ratio = with NaN / complete")


if __name__ == "__main__":
    main()
