"""Test settings shared by the gmmlib tests: deterministic hypothesis runs."""

from hypothesis import HealthCheck, settings

# Derandomized: every run draws the same examples, so a CI failure reproduces.
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
