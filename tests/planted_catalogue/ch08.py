"""Planted errors checked by chapter 8, ``chapters/08_lower_bound_and_rate.md``."""

ERRORS = ()
