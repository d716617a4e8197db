"""Stepwise EM for ``GaussianMixture.partial_fit``: one batch at a time.

The running sufficient statistics per unit of weight are pulled towards each
batch's with the step size ρ_t (chapter 11, eq-stepwise and eq-step-size),
then M-stepped; a watch on the components the stream stops feeding warns
before one is lost.
"""

from __future__ import annotations

import warnings

import numpy as np

from gmmlib._validation import StarvedComponentWarning
from gmmlib.suffstats import (
    BlockEStep,
    parameters_from_statistics,
    stepwise_statistics,
)

# partial_fit's watch on components that the stream stops feeding. Under the
# current parameters a row drawn from the mixture gives component k the
# responsibility pi_k on average, so a batch of total weight W gives it the
# soft count pi_k W on average. A batch that gives it less than 1% of that
# "starves" it: the stepwise update then multiplies its weight by nearly
# 1 - rho_t. Three starved batches in a row are taken for a collapse. False
# alarms: if the n rows of a batch (unit weights) are independent draws from
# the current mixture, the soft count is a sum of n independent terms in
# [0, 1] with mean n pi, and Chernoff's lower tail bounds the chance that it
# falls below delta n pi, delta = 0.01, by exp(-n pi (1 - delta + delta ln delta))
# = exp(-0.944 n pi); for well-separated components it is about (1 - pi)^n,
# the chance that none of the rows comes from the component. Three in a row
# (parameters nearly fixed): at most exp(-2.83 n pi), 7e-7 for n pi = 5
# (about 1.4e-7 for pi = 0.1, n = 50, separated). The rule is reliable only
# when n pi is not small: with n = 10 and pi = 0.1, (1 - pi)^(3n) is 4%, and
# a stream of many such batches will warn about a component that is fine.
_STARVED_SHARE = 0.01
_STARVED_BATCHES = 3


def step(model, backend, X, sample_weight, params, centre, warned=None, missing=False):
    """Batch ``model.n_batches_ + 1`` of stepwise EM from ``params``.

    See :eq:`eq-stepwise` and :eq:`eq-step-size`.

    Batch 1 (no stream yet) has ρ_1 = 1: its statistics are the running
    ones, and the step is one EM iteration on the batch. Batch t >= 2 moves
    the running statistics ``model._stream_statistics`` by
    ρ_t = (t + τ_0)^(-κ) (κ = ``learning_decay``, τ_0 = ``learning_offset``)
    towards the batch's. ``warned`` holds the stream's components already
    named by a ``DegenerateComponentWarning`` (one stream names each once,
    as one fit does); the M-step adds those it names. With ``missing``, X
    holds NaN and the batch's statistics are the expected ones given each
    row's observed entries (``gmmlib.suffstats.BlockEStep``).

    Returns
    -------
    t : int
        The batch's number.
    batch, running : SufficientStatistics
        The batch's statistics and the new running ones.
    starved : ndarray of shape (n_components,)
        Per component, the batches in a row that starved it.
    new_params : tuple
        The M-step of ``running``.
    """
    t = model.n_batches_ + 1 if hasattr(model, "n_batches_") else 1
    weights, means, _, prec_chol = params
    estep = BlockEStep(
        weights, means, prec_chol, model.covariance_type, centre, missing=missing
    )
    batch = backend.statistics(X, estep, sample_weight)
    if t == 1:
        running = batch
        starved = np.zeros(model.n_components, dtype=np.intp)
    else:
        rho = (t + model.learning_offset) ** -model.learning_decay
        running = stepwise_statistics(model._stream_statistics, batch, rho)
        starved = _starved_batches(model._starved_batches, weights, batch)
    new_params = parameters_from_statistics(running, model.reg_covar, warned)
    return t, batch, running, starved, new_params


def _starved_batches(previous, weights, batch):
    """Per component, how many batches in a row have starved it (see above)."""
    expected = np.asarray(weights, np.float64) * batch.total_weight
    starved = np.asarray(batch.nk, np.float64) < _STARVED_SHARE * expected
    return np.where(starved, previous + 1, 0)


def warn_if_starved(starved, model, X, lost=()):
    """Warn when a component has just been starved by the third batch in a row.

    Not for the components in ``lost``: a ``DegenerateComponentWarning`` has
    named them already, and a lost component is starved by every batch.
    """
    just_starved = np.flatnonzero(starved == _STARVED_BATCHES)
    just_starved = just_starved[~np.isin(just_starved, list(lost))]
    if just_starved.size:
        _warn_starved(just_starved, model, X)


def _warn_starved(components, model, X):
    n_features = X.shape[1]
    needed = model.n_components * (n_features + 1)
    which = ", ".join(str(k) for k in components)
    weights = ", ".join(f"{model.weights_[k]:.3g}" for k in components)
    warnings.warn(
        f"partial_fit: component(s) {which} received less than "
        f"{_STARVED_SHARE:.0%} of the responsibility their weights predict in "
        f"each of the last {_STARVED_BATCHES} batches (weights now {weights}). "
        "Stepwise EM shrinks such a weight by the factor 1 - rho_t per batch, "
        "towards 0, and the component is lost. The usual cause is a first batch "
        "too small to start from: a component initialised from fewer than "
        f"n_features + 1 = {n_features + 1} of its rows has a covariance that is "
        "singular but for reg_covar, and later rows do not fit it. Start from a "
        f"first batch several times n_components * (n_features + 1) = {needed} "
        "rows (also after fit(): the first partial_fit M-steps its batch "
        "alone), or pass larger batches. With batches that hold about one row "
        "of the component on average, it may be fine and this a false alarm.",
        StarvedComponentWarning,
        # _warn_starved, warn_if_starved, partial_fit, _fit_context's wrapper, caller
        stacklevel=5,
    )
