"""Covariance models with diagonal matrices: 'diag', 'spherical' and mclust's
EII, EEI, EVI and VEI.

Chapter 6 derives both M-steps: :eq:`eq-sigma-diag` and
:eq:`eq-sigma-spherical`. Their statistics are the diagonals of the scatters.
"""

import numpy as np

from gmmlib.covariance._base import DiagonalLayout
from gmmlib.covariance._parsimonious import (
    Parsimonious,
    volumes_and_common_shape,
)


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


# --------------------------------------------------------------------------
# mclust's diagonal models Σ_k = λ_k A_k (orientation I), chapter 12; the
# attribute holds each component's diagonal, (n_components, n_features).
# ``scatter`` is the regularised W_k's diagonal, (K, d).


class EII(Parsimonious, DiagonalLayout):
    """Σ_k = λ I, one variance shared by all components and features."""

    name = "EII"
    shared = True
    shape_text = "(n_components, n_features), every entry equal"

    def maximise(self, nk, scatter):
        """:math:`λ = \\sum_k \\operatorname{tr} W_k / (d N)`
        (Celeux & Govaert 1995)."""
        K, d = scatter.shape
        return np.full((K, d), scatter.sum() / (d * nk.sum()))


class EEI(Parsimonious, DiagonalLayout):
    """Σ_k = λ A, one diagonal covariance shared by all components."""

    name = "EEI"
    shared = True
    simpler = "'EII'"
    shape_text = "(n_components, n_features), every row equal"

    def maximise(self, nk, scatter):
        """:math:`λA = \\operatorname{diag}(\\sum_k W_k) / N`
        (Celeux & Govaert 1995)."""
        pooled = scatter.sum(axis=0) / nk.sum()
        return np.repeat(pooled[None], len(nk), axis=0)


class EVI(Parsimonious, DiagonalLayout):
    """Σ_k = λ A_k: equal volume, a diagonal shape per component."""

    name = "EVI"
    simpler = "'EEI' or 'EII'"
    shape_text = "(n_components, n_features), rows of equal product"

    def maximise(self, nk, scatter):
        """:math:`A_k = \\operatorname{diag} W_k / |\\operatorname{diag} W_k|^{1/d}`,
        :math:`λ = \\sum_k |\\operatorname{diag} W_k|^{1/d} / N`
        (Celeux & Govaert 1995)."""
        volumes = np.exp(np.mean(np.log(scatter), axis=1))
        return scatter / volumes[:, None] * (volumes.sum() / nk.sum())


class VEI(Parsimonious, DiagonalLayout):
    """Σ_k = λ_k A: a volume per component, one diagonal shape."""

    name = "VEI"
    iterative = True
    simpler = "'EEI' or 'spherical'"
    shape_text = "(n_components, n_features), rows proportional"

    def maximise(self, nk, scatter):
        """Block ascent (Celeux & Govaert 1995): :math:`λ_k = \\operatorname{tr}(W_k
        A^{-1}) / (d N_k)`, then :math:`A ∝ \\sum_k \\operatorname{diag} W_k / λ_k`
        with :math:`|A| = 1`, from A of 'EEI', until Σ stops changing
        (``volumes_and_common_shape`` of the diagonals)."""
        return volumes_and_common_shape(nk, scatter, self.name)
