"""Covariance models with full matrices: 'full' (one Σ_k each), 'tied' (one Σ)
and mclust's EEV, VEV, EVV, VEE, EVE and VVE.

Chapter 6 derives both M-steps: :eq:`eq-sigma-new` and :eq:`eq-sigma-tied`.
"""

import numpy as np
import scipy.linalg

from gmmlib.covariance._base import GeneralLayout
from gmmlib.covariance._parsimonious import (
    Parsimonious,
    iterate,
    rotation_sweep,
    sorted_eigh,
    volumes_and_common_shape,
)


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


# --------------------------------------------------------------------------
# mclust's models with an orientation, Σ_k = λ_k D_k A_k D_kᵀ (Celeux &
# Govaert 1995); the attribute holds every Σ_k, (n_components, n_features,
# n_features). ``scatter`` is the regularised W_k, (K, d, d).


class EEV(Parsimonious, GeneralLayout):
    """Σ_k = λ D_k A D_kᵀ: equal volume and shape, an orientation per component."""

    name = "EEV"
    simpler = "'EEE' or 'EEI'"
    shape_text = "(n_components, n_features, n_features), equal eigenvalues"

    def maximise(self, nk, scatter):
        """With :math:`W_k = L_k Ω_k L_k^{\\mathsf{T}}` (eigenvalues descending):
        :math:`D_k = L_k`, :math:`λA = \\sum_k Ω_k / N` (Celeux & Govaert 1995,
        closed form)."""
        values, vectors = sorted_eigh(scatter)
        pooled = values.sum(axis=0) / nk.sum()
        return (vectors * pooled) @ np.swapaxes(vectors, 1, 2)


class VEV(Parsimonious, GeneralLayout):
    """Σ_k = λ_k D_k A D_kᵀ: a volume and orientation per component, one shape."""

    name = "VEV"
    iterative = True
    simpler = "'EEV' or 'VEE'"
    shape_text = "(n_components, n_features, n_features), proportional eigenvalues"

    def maximise(self, nk, scatter):
        """:math:`D_k = L_k` from :math:`W_k = L_k Ω_k L_k^{\\mathsf{T}}`
        (descending, whatever A), then block ascent on :math:`λ_k =
        \\operatorname{tr}(Ω_k A^{-1}) / (d N_k)` and :math:`A ∝ \\sum_k Ω_k /
        λ_k`, :math:`|A| = 1` (Celeux & Govaert 1995)."""
        values, vectors = sorted_eigh(scatter)
        eigenvalues = volumes_and_common_shape(nk, values, self.name)
        return (vectors * eigenvalues[:, None, :]) @ np.swapaxes(vectors, 1, 2)


class EVV(Parsimonious, GeneralLayout):
    """Σ_k = λ C_k, det C_k = 1: equal volume, shape and orientation per component."""

    name = "EVV"
    simpler = "'EEV' or 'EVI'"
    shape_text = "(n_components, n_features, n_features), equal determinants"

    def maximise(self, nk, scatter):
        """:math:`C_k = W_k / |W_k|^{1/d}`, :math:`λ = \\sum_k |W_k|^{1/d} / N`
        (Celeux & Govaert 1995, closed form)."""
        d = scatter.shape[-1]
        volumes = np.exp(np.linalg.slogdet(scatter)[1] / d)
        return scatter / volumes[:, None, None] * (volumes.sum() / nk.sum())


class VEE(Parsimonious, GeneralLayout):
    """Σ_k = λ_k C, det C = 1: proportional covariances."""

    name = "VEE"
    iterative = True
    simpler = "'tied' or 'VEI'"
    shape_text = "(n_components, n_features, n_features), proportional"

    def maximise(self, nk, scatter):
        """Block ascent: :math:`λ_k = \\operatorname{tr}(W_k C^{-1}) / (d N_k)`,
        then :math:`C ∝ \\sum_k W_k / λ_k` with :math:`|C| = 1`, from C of
        'tied' (Celeux & Govaert 1995)."""
        d = scatter.shape[-1]

        def unit(matrix):
            return matrix / np.exp(np.linalg.slogdet(matrix)[1] / d)

        def volumes(common):
            inverse = scipy.linalg.inv(common, check_finite=False)
            return np.einsum("kij,ji->k", scatter, inverse) / (d * nk)

        def step(common):
            return unit(np.einsum("kij,k->ij", scatter, 1 / volumes(common)))

        def covariances(common):
            return volumes(common)[:, None, None] * common

        return covariances(
            iterate(step, unit(scatter.sum(axis=0)), covariances, self.name)
        )


class _CommonOrientation(Parsimonious, GeneralLayout):
    """Σ_k = λ_k D A_k Dᵀ with one D: EVE and VVE.

    Given D, :math:`ω_{ki} = d_i^{\\mathsf{T}} W_k d_i`, and the rest is
    closed form (``_given``); D is found by sweeps of plane rotations, each
    minimising the objective that is left in its plane
    (``_parsimonious.rotation_sweep``), from the eigenvectors of
    :math:`\\sum_k W_k`.
    """

    iterative = True
    equal_volume = False

    def _given(self, nk, diagonals):
        raise NotImplementedError

    def maximise(self, nk, scatter):
        def covariances(state):
            D = state[0]
            diagonals = np.einsum("ai,kab,bi->ki", D, scatter, D)
            eigenvalues = self._given(nk, diagonals)
            return (D * eigenvalues[:, None, :]) @ D.T

        def step(state):
            D, first = state
            return rotation_sweep(D, scatter, nk, self.equal_volume, first), False

        start = sorted_eigh(scatter.sum(axis=0))[1]
        return covariances(iterate(step, (start, True), covariances, self.name))


class EVE(_CommonOrientation):
    """Σ_k = λ D A_k Dᵀ: equal volume and orientation, a shape per component."""

    name = "EVE"
    equal_volume = True
    simpler = "'EEE' or 'EVI'"
    shape_text = "(n_components, n_features, n_features), equal determinants"

    def _given(self, nk, diagonals):
        """Given D: :math:`A_k = ω_k / |ω_k|^{1/d}`, :math:`λ = \\sum_k
        |ω_k|^{1/d} / N`; D minimises :math:`\\sum_k |ω_k|^{1/d}` (Browne &
        McNicholas 2014)."""
        volumes = np.exp(np.mean(np.log(diagonals), axis=1))
        return diagonals / volumes[:, None] * (volumes.sum() / nk.sum())


class VVE(_CommonOrientation):
    """Σ_k = λ_k D A_k Dᵀ: one orientation, volume and shape per component."""

    name = "VVE"
    simpler = "'EVE' or 'diag'"
    shape_text = "(n_components, n_features, n_features), one eigenbasis"

    def _given(self, nk, diagonals):
        """Given D: :math:`λ_k A_k = ω_k / N_k`; D minimises :math:`\\sum_k N_k
        \\sum_i \\log ω_{ki}` (Browne & McNicholas 2014; Flury's common
        principal components)."""
        return diagonals / nk[:, None]
