"""Shared by the estimator tests: initial parameters as GaussianMixture takes them."""

import numpy as np


def initial_parameters(X, covariance_type, n_components=3, shift=0.0):
    """Equal weights, the first rows of X (plus ``shift``) as means, unit precisions.

    Fits started from the same explicit parameters must agree exactly, so the
    tests that compare two fits (weighted and repeated rows, Dask and in-memory,
    stepwise and batch) start both from these.
    """
    d = X.shape[1]
    precisions = {
        "full": np.stack([np.eye(d)] * n_components),
        "tied": np.eye(d),
        "diag": np.ones((n_components, d)),
        "spherical": np.ones(n_components),
    }[covariance_type]
    return {
        "weights_init": np.full(n_components, 1 / n_components),
        "means_init": X[list(range(n_components))] + shift,
        "precisions_init": precisions,
    }
