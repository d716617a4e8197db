"""Test settings shared by the gmmlib tests.

- hypothesis runs derandomized, so a CI failure reproduces;
- BLAS runs on one thread. The tests solve many tiny triangular systems, and
  on a shared machine (or under pytest-xdist) OpenBLAS's threaded trsm waits
  for busy cores: a 3x40 solve took ~10 ms instead of ~10 µs.
"""

import numpy  # noqa: F401  (load the BLAS libraries before limiting them)
import scipy.linalg  # noqa: F401
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

# No deadline: on a shared CI machine per-example timings are noise.
settings.register_profile(
    "gmmlib",
    derandomize=True,
    deadline=None,
    max_examples=25,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("gmmlib")

threadpool_limits(limits=1, user_api="blas")
