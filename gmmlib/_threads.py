"""How many Python threads a pass over NumPy rows runs on, and their pools.

One policy, used by every method of ``gmmlib.GaussianMixture`` that passes
over NumPy rows (``fit``, ``partial_fit``, the prediction methods):

- ``n_threads`` given (an int >= 1): that many threads, and never more than
  the pass has row blocks;
- ``n_threads=None`` (the default): one thread per :data:`MIN_ROWS_PER_THREAD`
  rows, at most :func:`available_cpus`; so 1 thread below 4 096 rows.

A pass's threads run the compiled loops and NumPy's exponential, which
release the GIL. Nothing process-global is changed: the BLAS keeps its own
thread count (a block's work makes no large BLAS call), so estimators may fit
in concurrent Python threads. The pools are made once per size and reused by
every pass of every estimator (their tasks never wait on each other, so
sharing them cannot deadlock).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

MIN_ROWS_PER_THREAD = 2048

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def available_cpus():
    """The CPUs this process may use, at most ``OMP_NUM_THREADS`` if that is set.

    ``os.sched_getaffinity(0)`` where the platform has it (it honours
    ``taskset`` and container CPU sets), else ``os.cpu_count()``.

    Returns
    -------
    int
        At least 1.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        cpus = os.cpu_count() or 1
    limit = os.environ.get("OMP_NUM_THREADS", "").strip()
    if limit.isdigit() and int(limit) > 0:
        cpus = min(cpus, int(limit))
    return max(1, cpus)


def n_threads_for(n_threads, n_samples):
    """The threads a pass over ``n_samples`` rows runs on.

    Parameters
    ----------
    n_threads : int or None
        The estimator's ``n_threads``: an int is used as given; None asks for
        the default, ``n_samples // MIN_ROWS_PER_THREAD`` threads, at least 1
        and at most :func:`available_cpus`.
    n_samples : int

    Returns
    -------
    int
    """
    if n_threads is not None:
        return int(n_threads)
    return max(1, min(available_cpus(), n_samples // MIN_ROWS_PER_THREAD))


def executor(n_threads):
    """The process's shared pool of ``n_threads`` worker threads (made once)."""
    with _pools_lock:
        pool = _pools.get(n_threads)
        if pool is None:
            pool = _pools[n_threads] = ThreadPoolExecutor(
                n_threads, thread_name_prefix=f"gmmlib-{n_threads}"
            )
        return pool
