"""Covariance models with diagonal matrices: 'diag' and 'spherical'.

Chapter 6 derives both M-steps: :eq:`eq-sigma-diag` and
:eq:`eq-sigma-spherical`. Their statistics are the diagonals of the scatters.
"""

import numpy as np

from gmmlib.covariance._base import DiagonalLayout


class Diag(DiagonalLayout):
    """Σ_k = diag(σ²_k1, …, σ²_kd), one per component."""

    name = "diag"
    simpler = "'spherical'"
    shape_text = "(n_components, n_features)"

    def shape(self, n_components, n_features):
        return (n_components, n_features)

    def n_parameters(self, n_components, n_features):
        """K d (:eq:`eq-n-parameters`)."""
        return n_components * n_features

    def maximise(self, nk, scatter):
        """:math:`σ^2_{ki} = (S_k)_{ii} / N_k` (:eq:`eq-sigma-diag`)."""
        return scatter / nk[:, None]

    def expand(self, values, n_components, n_features):
        return values


class Spherical(DiagonalLayout):
    """Σ_k = σ²_k I, one variance per component."""

    name = "spherical"
    shape_text = "(n_components,)"

    def shape(self, n_components, n_features):
        return (n_components,)

    def n_parameters(self, n_components, n_features):
        """K (:eq:`eq-n-parameters`)."""
        return n_components

    def maximise(self, nk, scatter):
        """:math:`σ^2_k = \\operatorname{tr}(S_k) / (d N_k)`
        (:eq:`eq-sigma-spherical`)."""
        return scatter.mean(axis=1) / nk

    def expand(self, values, n_components, n_features):
        return np.broadcast_to(values[:, None], (n_components, n_features))
