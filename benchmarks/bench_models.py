"""Cost of an EM iteration for each of mclust's fourteen models, and the M-step's share.

Not a test: a script that prints numbers. For each model it draws the same
``--rows`` x ``--features`` rows from a ``--components`` mixture, fits once
for a few iterations to get a start that satisfies the model's constraint,
then times, from that start, fits of 1 and 1 + ``--iterations`` EM iterations
(``tol=0``): their difference over ``--iterations`` is the cost of one
iteration without what a fit does once. The M-step alone is timed on the
statistics of the start (``parameters_from_statistics``: the model's
``update`` and the factors), ``--repeat`` times, best of. The share is
M-step / iteration; issue 20 asks that iterative M-steps (VEI, VEE, VEV, EVE,
VVE) never dominate an iteration.

Usage::

    python benchmarks/bench_models.py                    # 1e5 x 16, K = 8
    python benchmarks/bench_models.py --rows 20000 --models EVE,VVE
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from gmmlib import GaussianMixture, covariance
from gmmlib.datasets import make_mixture
from gmmlib.suffstats import SufficientStatistics, parameters_from_statistics

SEED = 2026


def _fit(X, name, K, start, max_iter):
    model = GaussianMixture(
        K, covariance_type=name, tol=0.0, max_iter=max_iter, random_state=SEED
    )
    if start is not None:
        model.set_params(
            weights_init=start.weights_,
            means_init=start.means_,
            precisions_init=start.precisions_,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        began = time.perf_counter()
        model.fit(X)
    return model, time.perf_counter() - began


def measure(X, name, K, iterations, repeat):
    """(ms per EM iteration, ms per M-step) of model ``name``."""
    start, _ = _fit(X, name, K, None, 3)
    _, once = _fit(X, name, K, start, 1)
    _, more = _fit(X, name, K, start, 1 + iterations)
    per_iteration = (more - once) / iterations
    stats = SufficientStatistics.from_responsibilities(
        X, start.predict_proba(X), name, shift=start.means_
    )
    best = np.inf
    for _ in range(repeat):
        began = time.perf_counter()
        parameters_from_statistics(stats, start.reg_covar)
        best = min(best, time.perf_counter() - began)
    return 1e3 * per_iteration, 1e3 * best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--components", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--models", default=",".join(covariance.MCLUST_ORDER), help="comma-separated"
    )
    args = parser.parse_args(argv)
    X, _, _ = make_mixture(
        args.rows, args.components, args.features, separation=2.0, random_state=SEED
    )
    print(
        f"N = {args.rows}, d = {args.features}, K = {args.components}; "
        f"{args.iterations} iterations, M-step best of {args.repeat}"
    )
    print(f"{'model':6} {'ms/iteration':>13} {'ms/M-step':>10} {'M share':>8}")
    for name in args.models.split(","):
        iteration, m_step = measure(
            X, name, args.components, args.iterations, args.repeat
        )
        print(f"{name:6} {iteration:13.1f} {m_step:10.1f} {m_step / iteration:8.0%}")


if __name__ == "__main__":
    main()
