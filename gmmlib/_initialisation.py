"""Where ``GaussianMixture``'s EM starts: scikit-learn's initialisation flow.

From the user's initial parameters (validated by the estimator), the rows
and ``init_params``: the initial responsibilities are drawn as scikit-learn
draws them, their statistics M-stepped, and what the user gave replaces what
was drawn. Also whether a fit may continue from fitted parameters
(``warm_start``, ``partial_fit``): only when the model it would continue is
the same.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from gmmlib.suffstats import (
    SufficientStatistics,
    covariances_from_cholesky,
    parameters_from_statistics,
    precisions_cholesky_from_precisions,
)


def is_fitted(model):
    """Whether ``model`` holds parameters to continue from (fit or partial_fit)."""
    return hasattr(model, "converged_") or hasattr(model, "n_batches_")


def check_same_model(model, n_features, how):
    """Raise unless the fitted parameters are those of the model as now set.

    ``warm_start`` and ``partial_fit`` continue from the fitted parameters,
    whose shapes and meaning are fixed by ``covariance_type``,
    ``n_components`` and the number of features they were fitted with.

    Parameters
    ----------
    model : GaussianMixture
        Fitted (:func:`is_fitted`).
    n_features : int
        Features of the rows it is to continue on.
    how : str
        What would continue, for the message ("fit with warm_start=True").
    """
    fitted_type = getattr(model, "_fitted_covariance_type", model.covariance_type)
    changes = []
    if fitted_type != model.covariance_type:
        changes.append(
            f"covariance_type was {fitted_type!r} and is now {model.covariance_type!r}"
        )
    if len(model.weights_) != model.n_components:
        changes.append(
            f"n_components was {len(model.weights_)} and is now {model.n_components}"
        )
    if model.means_.shape[1] != n_features:
        changes.append(
            f"the parameters have {model.means_.shape[1]} features and X has "
            f"{n_features}"
        )
    if changes:
        raise ValueError(
            f"{how} continues from the fitted parameters, but "
            + "; ".join(changes)
            + ". Set warm_start=False and call fit to start afresh, or fit a new "
            "GaussianMixture."
        )


def initial_rows(backend, X, sample_weight, initial, random_state):
    """The rows (and weights) the initialisation runs on.

    All of ``X``, unless some initial parameter is to be drawn from the rows
    of a Dask array: then a seeded sample (``backend.init_rows``).
    """
    if any(p is None for p in initial):
        return backend.init_rows(X, sample_weight, random_state)
    return X, sample_weight


def initial_parameters(
    model, X, initial, random_state, sample_weight=None, warned=None
):
    """Initial (weights, means, covariances, precisions_cholesky), as scikit-learn.

    Parameters
    ----------
    model : GaussianMixture
        Its ``n_components``, ``covariance_type``, ``init_params`` and
        ``reg_covar`` are read.
    X : ndarray of shape (n_samples, n_features)
    initial : tuple
        The validated ``weights_init``, ``means_init``, ``precisions_init``
        (each None when not given).
    random_state : numpy.random.RandomState
    sample_weight : ndarray of shape (n_samples,), optional
    warned : set, optional
        The run's components already named by a
        ``DegenerateComponentWarning``: a component that the start loses
        is named here and added to it, so that the run's first M-step,
        which loses it again, does not name it a second time.

    Returns
    -------
    tuple
        ``(weights, means, covariances, precisions_cholesky)``.
    """
    weights, means, precisions = initial
    covariances = prec_chol = None
    if weights is None or means is None or precisions is None:
        stats = initial_statistics(model, X, random_state, sample_weight)
        _, fit_means, covariances, prec_chol = parameters_from_statistics(
            stats, model.reg_covar, warned
        )
        if weights is None:
            nk = stats.nk + 10 * np.finfo(X.dtype).eps
            weights = (nk / stats.total_weight).astype(X.dtype)
        if means is None:
            means = fit_means
    if precisions is not None:
        prec_chol = precisions_cholesky_from_precisions(
            precisions, model.covariance_type
        )
        covariances = covariances_from_cholesky(prec_chol, model.covariance_type)
    return weights, means, covariances, prec_chol


def initial_statistics(model, X, random_state, sample_weight=None):
    """Statistics of the initial responsibilities, drawn as scikit-learn does.

    Two passes: the second forms the scatter about the first pass's
    means, so the initial covariances lose no digits either. The sample
    weights enter as ``GaussianMixture.fit`` describes: 'kmeans' passes them
    to ``KMeans``, 'k-means++' to ``kmeans_plusplus``, 'random_from_data'
    draws rows in proportion to them, and 'random' weights the drawn
    responsibilities.

    Returns
    -------
    SufficientStatistics
    """
    n_samples, K = X.shape[0], model.n_components
    ctype = model.covariance_type
    w = sample_weight
    if model.init_params == "random":
        resp = random_state.uniform(size=(n_samples, K)).astype(X.dtype)
        resp /= resp.sum(axis=1, keepdims=True)
        first = SufficientStatistics.from_responsibilities(
            X, resp, ctype, sample_weight=w
        )
        return SufficientStatistics.from_responsibilities(
            X, resp, ctype, shift=first.means, sample_weight=w
        )
    if model.init_params == "kmeans":
        kmeans = KMeans(n_clusters=K, n_init=1, random_state=random_state)
        labels = kmeans.fit(X, sample_weight=w).labels_
    else:
        if model.init_params == "random_from_data":
            p = None if w is None else w / w.sum()
            indices = random_state.choice(n_samples, size=K, replace=False, p=p)
        else:
            _, indices = kmeans_plusplus(
                X, K, random_state=random_state, sample_weight=w
            )
        labels = np.full(n_samples, -1)
        labels[indices] = np.arange(K)
    first = SufficientStatistics.from_labels(X, labels, K, ctype, sample_weight=w)
    return SufficientStatistics.from_labels(
        X, labels, K, ctype, shift=first.means, sample_weight=w
    )


def complete_rows(X, sample_weight, n_components, centre):
    """The rows (and weights) a start runs on when X has missing entries (NaN).

    The rows without a NaN when at least ``n_components * (n_features + 1)``
    of them (of positive weight) are left, enough for every component's
    start to see ``n_features + 1`` rows on average; else every row, its NaN
    replaced by ``centre`` (the column means of the observed values). Either
    way every ``init_params`` then runs on complete rows as it does without
    missing values; EM itself uses each row's observed entries.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    n_components : int
    centre : ndarray of shape (n_features,)

    Returns
    -------
    X_init : ndarray, sample_weight_init : ndarray or None
    """
    nan = np.isnan(X)
    if not nan.any():
        return X, sample_weight
    complete = ~nan.any(axis=1)
    usable = complete if sample_weight is None else complete & (sample_weight > 0)
    if np.count_nonzero(usable) >= n_components * (X.shape[1] + 1):
        weights = None if sample_weight is None else sample_weight[complete]
        return X[complete], weights
    filled = np.where(nan, np.asarray(centre, X.dtype), X)
    return filled, sample_weight
