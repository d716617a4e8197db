"""gmmlib: Gaussian mixtures by EM, implemented one equation at a time.

The functional core mirrors the book's derivation:

- :mod:`gmmlib.gaussian`: the density and its gradient with respect to Σ;
- :mod:`gmmlib.em`: responsibilities, the log-likelihood, its gradient, and the
  E- and M-steps;
- :mod:`gmmlib.numdiff`: finite differences with respect to a matrix, the
  independent route by which every gradient is checked.

:class:`gmmlib.GaussianMixture` is the estimator: scikit-learn's API, a fused
block-wise EM iteration, optional per-iteration history.
"""

from gmmlib import datasets, em, gaussian, numdiff
from gmmlib._validation import (
    DegenerateComponentWarning,
    InnerLoopWarning,
    StarvedComponentWarning,
)
from gmmlib.mixture import GaussianMixture

# The one place of gmmlib's version: pyproject.toml reads it (dynamic), and
# CITATION.cff and CHANGELOG.md name it (tests/test_citation.py checks both).
__version__ = "0.2.0"

__all__ = [
    "DegenerateComponentWarning",
    "GaussianMixture",
    "InnerLoopWarning",
    "StarvedComponentWarning",
    "datasets",
    "em",
    "gaussian",
    "numdiff",
]
