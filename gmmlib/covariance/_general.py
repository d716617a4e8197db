"""Covariance models with full matrices: 'full' (one Σ_k each) and 'tied' (one Σ).

Chapter 6 derives both M-steps: :eq:`eq-sigma-new` and :eq:`eq-sigma-tied`.
"""

import numpy as np

from gmmlib.covariance._base import GeneralLayout


class Full(GeneralLayout):
    """Σ_k any symmetric positive definite matrix, one per component."""

    name = "full"
    simpler = "'diag' or 'spherical'"
    shape_text = "(n_components, n_features, n_features)"

    def shape(self, n_components, n_features):
        return (n_components, n_features, n_features)

    def n_parameters(self, n_components, n_features):
        """K d (d + 1) / 2 (:eq:`eq-n-parameters`)."""
        return n_components * n_features * (n_features + 1) // 2

    def maximise(self, nk, scatter):
        """:math:`Σ_k = S_k / N_k` (:eq:`eq-sigma-new`)."""
        return scatter / nk[:, None, None]

    def expand(self, values, n_components, n_features):
        return values


class Tied(GeneralLayout):
    """One symmetric positive definite Σ shared by all components."""

    name = "tied"
    shared = True
    simpler = "'diag' or 'spherical'"
    shape_text = "(n_features, n_features)"

    def shape(self, n_components, n_features):
        return (n_features, n_features)

    def n_parameters(self, n_components, n_features):
        """d (d + 1) / 2 (:eq:`eq-n-parameters`)."""
        return n_features * (n_features + 1) // 2

    def maximise(self, nk, scatter):
        """:math:`Σ = \\sum_k S_k / N`, N = Σ_k N_k (:eq:`eq-sigma-tied`)."""
        return scatter.sum(axis=0) / nk.sum()

    def expand(self, values, n_components, n_features):
        return np.broadcast_to(values, (n_components, n_features, n_features))
