"""Planted errors checked by chapter 10, ``10_identifiability_and_kmeans.md``."""

ERRORS = ()
