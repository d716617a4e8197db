"""How many Python threads a pass over NumPy rows runs on, and their pools.

One policy, used by every method of ``gmmlib.GaussianMixture`` that passes
over NumPy rows (``fit``, ``partial_fit``, the prediction methods):

- ``n_threads`` given (an int >= 1): that many threads, and never more than
  the pass has row blocks;
- ``n_threads=None`` (the default): one thread per :data:`MIN_ROWS_PER_THREAD`
  rows, at most :func:`available_cpus`; so 1 thread below 4 096 rows.

A pass's threads run the compiled loops and NumPy's exponential, which
release the GIL. They make no BLAS call, but a threaded BLAS's idle workers
spin for a while after each call (the M-step's small factorisations) and take
the cores from the pass's threads: a fit on 2 threads with the BLAS at 2
threads ran 1.7x slower than with the BLAS at 1 (N = 1e5, d = 16, K = 8, 2 CPUs,
2026-12-05). So while an estimator runs on more than one thread,
:func:`one_blas_thread` holds the BLAS at one thread, and gives it back when
the last such estimator of the process is done: estimators fitting in
concurrent Python threads share one hold, and the process's BLAS setting is
the same after them as before (a BLAS call made by other code meanwhile runs
on one thread). ``fit`` holds it from the start on: the start's own BLAS calls
(k-means, the first statistics) would otherwise leave spinning workers behind
for the first EM passes (N = 1e6, d = 2, K = 3, 'full': 10.5 ms per iteration
with the hold around the EM loop only, 6.9 ms with it around the whole fit).
The pools are made once per size and reused by every pass of
every estimator (their tasks never wait on each other, so sharing them cannot
deadlock).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache

from threadpoolctl import ThreadpoolController

MIN_ROWS_PER_THREAD = 2048

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()

# the one hold on the BLAS's thread count: how many estimators hold it, and
# the threadpoolctl limiter that restores the original count
_blas_lock = threading.Lock()
_blas_holders = 0
_blas_limiter = None


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


@cache
def _controller():
    """One ``ThreadpoolController`` for the process (building one scans the
    loaded libraries; its ``limit`` then reads the current counts)."""
    return ThreadpoolController()


@contextmanager
def one_blas_thread(n_threads):
    """Hold the BLAS at one thread while a run on ``n_threads`` > 1 threads lasts.

    The first holder of the process limits every BLAS (threadpoolctl) to one
    thread; the last one to leave restores the counts the first one found.
    Holders in concurrent Python threads therefore never leave the process
    with a count that none of them found. With ``n_threads`` <= 1 nothing is
    changed.
    """
    global _blas_holders, _blas_limiter
    if n_threads <= 1:
        yield
        return
    with _blas_lock:
        if _blas_holders == 0:
            _blas_limiter = _controller().limit(limits=1, user_api="blas")
        _blas_holders += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_holders -= 1
            if _blas_holders == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None
