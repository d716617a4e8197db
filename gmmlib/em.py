"""EM for Gaussian mixtures, one function per formula of the book.

Chapters 1, 3, 4 and 6: responsibilities, the log-likelihood and its gradient
with respect to each Σ_k, the expected complete-data log-likelihood Q, and
the M-step updates of π_k, μ_k and Σ_k (all four covariance shapes).
Chapter 9: the MAP update of Σ_k under an inverse-Wishart prior.
Missing values (NaN in X): the observed-data log-likelihood, the
responsibilities given the observed entries, the conditional moments of the
missing entries and the M-step they give (:func:`observed_log_likelihood`,
:func:`observed_responsibilities`, :func:`conditional_moments`,
:func:`m_step_observed`, :func:`em_step_observed`); no chapter derives them
yet, and :class:`gmmlib.GaussianMixture` still refuses NaN.

This is the book's reference implementation: clear rather than fast, each
function vectorised over the samples. :class:`gmmlib.GaussianMixture` has the
fused fast path.

Shapes: ``X`` (n_samples, n_features), ``weights`` (n_components,), ``means``
(n_components, n_features), ``resp`` (n_samples, n_components). Covariances
have scikit-learn's shapes for their ``covariance_type``: ``"full"``
(n_components, n_features, n_features), ``"tied"`` (n_features, n_features),
``"diag"`` (n_components, n_features), ``"spherical"`` (n_components,).
"""

import numpy as np
import scipy.linalg
from scipy.special import logsumexp, xlogy

from gmmlib._validation import (
    _as_float_array,
    check_covariance_type,
    check_covariances,
    check_means,
    check_reg_covar,
    check_resp,
    check_weights,
    check_X,
    float_dtype,
    lost_responsibility,
    report_lost_components,
)
from gmmlib.covariance import get as _model
from gmmlib.covariance import pivots_singular
from gmmlib.gaussian import _log_pdf_cholesky

__all__ = [
    "conditional_moments",
    "e_step",
    "em_step_observed",
    "expected_complete_log_likelihood",
    "log_likelihood",
    "log_likelihood_grad_cov",
    "m_step",
    "m_step_observed",
    "observed_log_likelihood",
    "observed_responsibilities",
    "responsibilities",
    "update_covariances",
    "update_covariances_map",
    "update_means",
    "update_weights",
]


# The shapes whose M-steps chapters 4 and 6 derive and this module writes out;
# gmmlib.covariance may register more, whose M-step is their model's update.
_DERIVED_SHAPES = ("full", "tied", "diag", "spherical")


def _check_derived_shape(covariance_type):
    """The name, if this module writes out its M-step; else a ValueError."""
    name = check_covariance_type(covariance_type)
    if name not in _DERIVED_SHAPES:
        raise ValueError(
            f"gmmlib.em writes out the M-steps of {_DERIVED_SHAPES} (chapters 4 "
            f"and 6); for covariance_type={name!r} use "
            f"gmmlib.covariance.get({name!r}).update."
        )
    return name


def _collapse_fix(covariance_type):
    """What to try when an updated covariance is singular (the model says)."""
    return _model(covariance_type).collapse_hint()


def _check_parameters(X, weights, means, covariances, covariance_type):
    """Validate a mixture and X; covariances expanded to full with Cholesky factors."""
    X, _ = check_X(X)
    means = check_means(means, n_features=X.shape[1])
    weights = check_weights(weights, n_components=means.shape[0])
    full, cholesky = check_covariances(
        covariances, means.shape[0], X.shape[1], covariance_type
    )
    dtype = float_dtype(X, weights, means, full)
    return tuple(
        array.astype(dtype, copy=False) for array in (X, weights, means, full, cholesky)
    )


def _log_weighted_densities(X, weights, means, cholesky):
    """ln π_k + ln N(x_n | μ_k, Σ_k), shape (n_samples, n_components)."""
    log_densities = np.stack(
        [_log_pdf_cholesky(X, means[k], cholesky[k]) for k in range(len(weights))],
        axis=1,
    )
    return _add_log_weights(weights, log_densities)


def _add_log_weights(weights, log_densities):
    """ln π_k + ln N_nk for the (n_samples, n_components) log-densities ln N_nk."""
    # ln 0 = -inf is right for a component of weight 0: it explains no point.
    log_weights = np.log(weights, out=np.full_like(weights, -np.inf), where=weights > 0)
    return log_weights + log_densities


def _log_mixture_density(weighted):
    """ln Σ_k π_k N(x_n | μ_k, Σ_k) per sample, by logsumexp; a ValueError if -inf."""
    log_density = logsumexp(weighted, axis=1)
    if np.any(np.isneginf(log_density)):
        n = int(np.argmax(np.isneginf(log_density)))
        raise ValueError(
            f"X[{n}] is so far from every component that its log-density "
            "overflows to -inf; scale or standardise the data."
        )
    return log_density


def responsibilities(X, weights, means, covariances, covariance_type="full"):
    """Posterior probability γ(z_nk) that component k generated x_n.

    γ(z_nk) = π_k N(x_n | μ_k, Σ_k) / Σ_j π_j N(x_n | μ_j, Σ_j), with the mixing
    weights (the source proof drops them). Computed in log space with
    ``scipy.special.logsumexp``, so a point far from every component gets
    finite responsibilities rather than 0/0. See :eq:`eq-responsibility`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    weights : array-like of shape (n_components,)
        Nonnegative, summing to 1.
    means : array-like of shape (n_components, n_features)
    covariances : array-like
        Shape (n_components, n_features, n_features) for ``"full"``; see the
        module docstring for the other types.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"

    Returns
    -------
    resp : ndarray of shape (n_samples, n_components)
        Each row sums to 1.
    """
    X, weights, means, _, cholesky = _check_parameters(
        X, weights, means, covariances, covariance_type
    )
    weighted = _log_weighted_densities(X, weights, means, cholesky)
    log_resp = weighted - _log_mixture_density(weighted)[:, None]
    return np.exp(log_resp)


def e_step(X, weights, means, covariances, covariance_type="full"):
    """The E-step: responsibilities under the current parameters.

    Same as :func:`responsibilities`. See :eq:`eq-responsibility`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    weights : array-like of shape (n_components,)
    means : array-like of shape (n_components, n_features)
    covariances : array-like
        Shape for ``covariance_type`` (full: (n_components, n_features,
        n_features)).
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"

    Returns
    -------
    resp : ndarray of shape (n_samples, n_components)
    """
    return responsibilities(X, weights, means, covariances, covariance_type)


def log_likelihood(X, weights, means, covariances, covariance_type="full"):
    """The total log-likelihood L = Σ_n ln Σ_k π_k N(x_n | μ_k, Σ_k).

    The total over samples, as in the source proof (scikit-learn's ``score``
    is this divided by n_samples). The inner sum is the mixture density
    :eq:`eq-mixture`, taken in log space. See :eq:`eq-log-likelihood`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    weights : array-like of shape (n_components,)
    means : array-like of shape (n_components, n_features)
    covariances : array-like
        Shape for ``covariance_type`` (full: (n_components, n_features,
        n_features)).
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"

    Returns
    -------
    L : float
    """
    X, weights, means, _, cholesky = _check_parameters(
        X, weights, means, covariances, covariance_type
    )
    weighted = _log_weighted_densities(X, weights, means, cholesky)
    return float(np.sum(_log_mixture_density(weighted)))


def log_likelihood_grad_cov(X, weights, means, covariances, symmetric=False):
    """Gradient of the log-likelihood with respect to each covariance Σ_k.

    ∂L/∂Σ_k = −½ Σ_n γ(z_nk) (Σ_k⁻¹ − Σ_k⁻¹ (x_n − μ_k)(x_n − μ_k)ᵀ Σ_k⁻¹),
    the derivative of the density extended to every d×d matrix with positive
    determinant (the entries of Σ_k treated as independent, as in the source
    proof); on symmetric matrices it is the gradient under the trace inner
    product. See
    :eq:`eq-loglik-grad`, derived by the chain rule through the log-sum in
    :eq:`eq-loglik-grad-steps`. Setting it to zero is the stationarity
    condition :eq:`eq-stationarity`, whose solution :eq:`eq-sigma-implicit` is
    implicit (γ depends on Σ_k). At θ = θ_old it equals the gradient of Q
    (:eq:`eq-grad-l-equals-grad-q`).

    With ``symmetric=True`` the result is the matrix of partial derivatives in
    the free entries of a symmetric Σ_k (Σ_rs and Σ_sr moved together),
    2G − diag(G) for the G above: the gradient under the Euclidean inner
    product of those entries. See :eq:`eq-sym-grad`. Which is "the gradient" is
    a choice of metric; both vanish at the same points.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    weights : array-like of shape (n_components,)
    means : array-like of shape (n_components, n_features)
    covariances : array-like of shape (n_components, n_features, n_features)
        Full covariances, symmetric positive definite.
    symmetric : bool, default=False
        Return 2G − diag(G) instead of G.

    Returns
    -------
    grad : ndarray of shape (n_components, n_features, n_features)
        ``grad[k]`` is ∂L/∂Σ_k.
    """
    X, weights, means, _, cholesky = _check_parameters(
        X, weights, means, covariances, "full"
    )
    weighted = _log_weighted_densities(X, weights, means, cholesky)
    resp = np.exp(weighted - _log_mixture_density(weighted)[:, None])
    n_components, n_features = means.shape
    identity = np.eye(n_features, dtype=X.dtype)
    grad = np.empty((n_components, n_features, n_features), dtype=X.dtype)
    for k in range(n_components):
        factor = (cholesky[k], True)
        precision = scipy.linalg.cho_solve(factor, identity, check_finite=False)
        # Row n of w is Σ_k⁻¹ (x_n − μ_k).
        w = scipy.linalg.cho_solve(factor, (X - means[k]).T, check_finite=False).T
        # Σ_n γ_nk (Σ⁻¹ − w_n w_nᵀ) = N_k Σ⁻¹ − Σ_n γ_nk w_n w_nᵀ, no (n, d, d) array.
        weighted_outer = np.einsum("n,ni,nj->ij", resp[:, k], w, w)
        grad[k] = -0.5 * (resp[:, k].sum() * precision - weighted_outer)
    if symmetric:
        return 2.0 * grad - identity * grad
    return grad


def expected_complete_log_likelihood(
    X, resp, weights, means, covariances, covariance_type="full"
):
    """Q(θ, θ_old) = Σ_n Σ_k γ(z_nk) [ln π_k + ln N(x_n | μ_k, Σ_k)].

    ``resp`` holds γ computed at θ_old; ``weights``, ``means``,
    ``covariances`` are θ. The M-step maximizes Q over θ with γ fixed.
    Terms with γ(z_nk) = 0 contribute 0 even when π_k = 0. See
    :eq:`eq-q-function`; the part that depends on Σ_k is Q_k of
    :eq:`eq-q-k`, and at θ = θ_old Q and L have the same gradient
    (:eq:`eq-grad-l-equals-grad-q`).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    resp : array-like of shape (n_samples, n_components)
        Rows sum to 1.
    weights : array-like of shape (n_components,)
    means : array-like of shape (n_components, n_features)
    covariances : array-like
        Shape for ``covariance_type`` (full: (n_components, n_features,
        n_features)).
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"

    Returns
    -------
    Q : float
    """
    X, weights, means, _, cholesky = _check_parameters(
        X, weights, means, covariances, covariance_type
    )
    resp = check_resp(resp, n_samples=X.shape[0])
    if resp.shape[1] != weights.shape[0]:
        raise ValueError(
            f"resp has {resp.shape[1]} columns but there are {weights.shape[0]} "
            "components; give one column per component."
        )
    log_densities = _log_weighted_densities(X, np.ones_like(weights), means, cholesky)
    return float(np.sum(xlogy(resp, weights)) + np.sum(resp * log_densities))


def _check_X_resp(X, resp):
    X, _ = check_X(X)
    resp = check_resp(resp, n_samples=X.shape[0])
    dtype = float_dtype(X, resp)
    return X.astype(dtype, copy=False), resp.astype(dtype, copy=False)


def _component_totals(resp, covariance_type="full"):
    """N_k, with a ValueError for a component no point is responsible for."""
    nk = resp.sum(axis=0)
    empty = nk < np.finfo(resp.dtype).tiny
    if covariance_type != "tied" and np.any(empty):
        k = int(np.argmax(empty))
        raise ValueError(
            f"component {k} has N_k = {nk[k]:g}: no point is responsible for it, "
            "so its mean and covariance are undefined. Use fewer components or "
            "reinitialise this component (e.g. from a random data point)."
        )
    return nk


def update_weights(resp):
    """M-step for the mixing weights: π_k^new = N_k / N, N_k = Σ_n γ(z_nk).

    Maximizes Q over π on the simplex (Lagrange multiplier for Σ_k π_k = 1).
    See :eq:`eq-pi-new` and :eq:`eq-nk`.

    Parameters
    ----------
    resp : array-like of shape (n_samples, n_components)
        Rows sum to 1.

    Returns
    -------
    weights : ndarray of shape (n_components,)
        Nonnegative, summing to 1.
    """
    resp = check_resp(resp)
    nk = resp.sum(axis=0)
    return nk / nk.sum()


def update_means(X, resp):
    """M-step for the means: μ_k^new = (1/N_k) Σ_n γ(z_nk) x_n.

    See :eq:`eq-mu-new`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    resp : array-like of shape (n_samples, n_components)

    Returns
    -------
    means : ndarray of shape (n_components, n_features)

    Raises
    ------
    ValueError
        If some N_k is 0 (no point is responsible for component k).
    """
    X, resp = _check_X_resp(X, resp)
    nk = _component_totals(resp)
    with np.errstate(over="ignore", invalid="ignore"):  # reported just below
        means = (resp.T @ X) / nk[:, None]
    return _check_no_overflow(means, "means")


def update_covariances(X, resp, means, covariance_type="full", reg_covar=0.0):
    """M-step for the covariances, about the given means (the theorem).

    Σ_k^new = (1/N_k) Σ_n γ(z_nk) (x_n − μ_k)(x_n − μ_k)ᵀ, plus ``reg_covar``
    on the diagonal. Pass the new means (:func:`update_means`) to get the
    update of the book. See :eq:`eq-sigma-new`: the implicit solution
    :eq:`eq-sigma-implicit` with γ held at the old parameters.

    The other shapes (scikit-learn's): ``"diag"`` keeps the diagonal of the
    full update (:eq:`eq-sigma-diag`); ``"spherical"`` its trace / d
    (:eq:`eq-sigma-spherical`); ``"tied"`` one matrix Σ_k N_k Σ_k / N shared
    by all components (:eq:`eq-sigma-tied`). ``reg_covar`` is added to every
    variance in each case.

    The sums run over the centred points x_n − μ_k, never over raw moments
    E[x xᵀ] − μ μᵀ, so data far from the origin (offset by 1e8, say) lose no
    digits, and float32 variances stay nonnegative.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    resp : array-like of shape (n_samples, n_components)
        Rows sum to 1.
    means : array-like of shape (n_components, n_features)
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
    reg_covar : float, default=0.0
        Nonnegative, added to the diagonal of each covariance.

    Returns
    -------
    covariances : ndarray
        ``"full"`` (n_components, n_features, n_features); ``"tied"``
        (n_features, n_features); ``"diag"`` (n_components, n_features);
        ``"spherical"`` (n_components,).

    Raises
    ------
    ValueError
        If a component has N_k = 0, or an updated covariance is not positive
        definite (its weighted points do not span the space: a collapse).
    """
    _check_derived_shape(covariance_type)
    reg_covar = check_reg_covar(reg_covar)
    X, resp = _check_X_resp(X, resp)
    n_components = resp.shape[1]
    means = check_means(means, n_components, X.shape[1]).astype(X.dtype, copy=False)
    nk = _component_totals(resp, covariance_type)

    # Overflow (data too large for the dtype) is reported below, with what to do.
    with np.errstate(over="ignore", invalid="ignore"):
        diff = X[:, None, :] - means[None, :, :]  # (n, K, d): x_n − μ_k
        if covariance_type in ("diag", "spherical"):
            scatter = np.einsum("nk,nkd->kd", resp, diff**2)  # diagonal only
        else:
            scatter = np.einsum("nk,nki,nkj->kij", resp, diff, diff)
    _check_no_overflow(scatter, "covariances")
    return _covariances_from_scatter(scatter, nk, covariance_type, reg_covar)


def _covariances_from_scatter(scatter, nk, covariance_type, reg_covar):
    """Each shape's maximiser of Q_k for the scatter S_k, plus ``reg_covar`` I.

    ``scatter`` is (n_components, d) (the diagonals of S_k) for ``"diag"`` and
    ``"spherical"``, (n_components, d, d) otherwise; a ValueError for a
    singular result (a collapse).
    """
    n_components, n_features = scatter.shape[:2]
    if covariance_type in ("diag", "spherical"):
        variances = scatter / nk[:, None] + reg_covar
        covariances = variances if covariance_type == "diag" else variances.mean(1)
        bad = covariances <= 0
        if np.any(bad):
            k = int(np.argwhere(bad)[0][0])
            raise ValueError(
                f"the updated covariance of component {k} has a zero variance: "
                f"its N_k = {nk[k]:g} weighted points do not spread along every "
                f"feature; {_collapse_fix(covariance_type)}."
            )
        return covariances

    scatter = 0.5 * (scatter + np.swapaxes(scatter, 1, 2))  # exact symmetry
    identity = np.eye(n_features, dtype=scatter.dtype)
    if covariance_type == "tied":
        covariances = scatter.sum(axis=0) / nk.sum() + reg_covar * identity
        _check_positive_definite(
            covariances, "the updated tied covariance", nk.sum(), "tied"
        )
        return covariances
    covariances = scatter / nk[:, None, None] + reg_covar * identity
    for k in range(n_components):
        _check_positive_definite(
            covariances[k], f"the updated covariance of component {k}", nk[k], "full"
        )
    return covariances


def update_covariances_map(X, resp, means, prior_scale, prior_dof):
    """MAP M-step for full covariances under an inverse-Wishart prior.

    Σ_k^MAP = (S_k + Ψ) / (N_k + ν + d + 1), with S_k = Σ_n γ(z_nk)
    (x_n − μ_k)(x_n − μ_k)ᵀ the plain scatter about the given means and
    N_k = Σ_n γ(z_nk). See :eq:`eq-sigma-map`.

    The prior on each Σ_k is the inverse Wishart IW(Ψ, ν) with density
    p(Σ) ∝ det(Σ)^{−(ν + d + 1)/2} exp(−½ tr(Ψ Σ⁻¹)), scale Ψ symmetric positive
    definite and ν > d − 1 degrees of freedom: ``scipy.stats.invwishart(df=ν,
    scale=Ψ)``, whose mode is Ψ / (ν + d + 1). The update maximizes
    Q_k(Σ) + ln p(Σ) over symmetric positive definite Σ; it is positive
    definite for every N_k ≥ 0, even when the weighted points do not span the
    space, and a component with N_k = 0 gets the prior's mode. The rest of the
    M-step still needs N_k > 0: :func:`update_means` raises for an empty
    component, and its weight N_k / N = 0 would give it no responsibility at
    any later E-step.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    resp : array-like of shape (n_samples, n_components)
        Rows sum to 1.
    means : array-like of shape (n_components, n_features)
        The means the scatter is taken about (the new means, for the M-step).
    prior_scale : array-like of shape (n_features, n_features) or \
            (n_components, n_features, n_features)
        Ψ, symmetric positive definite; one matrix for every component, or one
        per component.
    prior_dof : float
        ν, greater than n_features − 1.

    Returns
    -------
    covariances : ndarray of shape (n_components, n_features, n_features)

    Raises
    ------
    ValueError
        If ``prior_scale`` is not symmetric positive definite or has the wrong
        shape, or ``prior_dof`` is not a finite number above n_features − 1.
    """
    X, resp = _check_X_resp(X, resp)
    n_components, n_features = resp.shape[1], X.shape[1]
    means = check_means(means, n_components, n_features).astype(X.dtype, copy=False)
    scales = _check_prior_scale(prior_scale, n_components, n_features)
    dof = _check_prior_dof(prior_dof, n_features)
    nk = resp.sum(axis=0)
    with np.errstate(over="ignore", invalid="ignore"):  # reported just below
        diff = X[:, None, :] - means[None, :, :]  # (n, K, d): x_n − μ_k
        scatter = np.einsum("nk,nki,nkj->kij", resp, diff, diff)
    _check_no_overflow(scatter, "covariances")
    scatter = 0.5 * (scatter + np.swapaxes(scatter, 1, 2))  # exact symmetry
    denominators = nk + dof + n_features + 1
    covariances = (scatter + scales) / denominators[:, None, None]
    return covariances.astype(X.dtype, copy=False)


def _check_prior_scale(prior_scale, n_components, n_features):
    """Ψ as (n_components, d, d), each symmetric positive definite."""
    try:
        scale = np.asarray(prior_scale, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"prior_scale must be a numeric (d, d) matrix Ψ; got {prior_scale!r}."
        ) from None
    d = n_features
    if scale.shape == (d, d):
        scale = np.broadcast_to(scale, (n_components, d, d))
    if scale.shape != (n_components, d, d):
        raise ValueError(
            f"prior_scale must have shape ({d}, {d}) (one Ψ for every component) "
            f"or ({n_components}, {d}, {d}) (one per component) for "
            f"{n_components} components and {d} features; got shape "
            f"{np.shape(prior_scale)}."
        )
    if not np.all(np.isfinite(scale)):
        raise ValueError("prior_scale contains NaN or infinity; give a finite Ψ.")
    for k in range(n_components):
        name = "prior_scale" if np.ndim(prior_scale) == 2 else f"prior_scale[{k}]"
        if np.max(np.abs(scale[k] - scale[k].T)) > 1e-12 * np.max(np.abs(scale[k])):
            raise ValueError(
                f"{name} is not symmetric; Ψ must equal its transpose (use "
                "(Ψ + Ψ.T) / 2)."
            )
        if np.linalg.eigvalsh(scale[k])[0] <= 0:
            raise ValueError(
                f"{name} is not positive definite; the inverse-Wishart scale Ψ "
                "must be, e.g. a multiple of the identity such as 1e-3 * np.eye(d)."
            )
    return scale


def _check_prior_dof(prior_dof, n_features):
    """ν as a float, finite and greater than d − 1."""
    try:
        dof = float(prior_dof)
    except (TypeError, ValueError):
        raise ValueError(f"prior_dof must be a number; got {prior_dof!r}.") from None
    if not np.isfinite(dof) or dof <= n_features - 1:
        raise ValueError(
            f"prior_dof = {prior_dof!r}: the inverse-Wishart degrees of freedom ν "
            f"must be finite and greater than n_features − 1 = {n_features - 1} "
            f"for the prior to be proper; use e.g. prior_dof={n_features + 2}."
        )
    return dof


def _check_no_overflow(array, name):
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"the updated {name} overflow in {array.dtype} (the data are too large "
            "in magnitude); scale or standardise X, or pass it as float64."
        )
    return array


def _check_positive_definite(covariance, what, nk, covariance_type):
    problem = f"{what} is not positive definite"
    try:
        factor = scipy.linalg.cholesky(covariance, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        factor = None
    else:
        # each pivot against its own variance (scale invariant)
        if pivots_singular(factor, covariance):
            problem = f"{what} is singular to working precision"
            factor = None
    if factor is None:
        raise ValueError(
            f"{problem}: its N_k = {nk:g} weighted points do not span the feature "
            "space (a collapse onto a point or a lower-dimensional set); "
            f"{_collapse_fix(covariance_type)}."
        )


def m_step(X, resp, covariance_type="full", reg_covar=0.0):
    """The M-step: new weights, means, then covariances about the new means.

    The order the book uses: μ_k^new first, then Σ_k^new about μ_k^new
    (:eq:`eq-sigma-new`); π_k^new = N_k / N (:eq:`eq-pi-new`), μ_k^new
    (:eq:`eq-mu-new`).

    A component with N_k ≤ 10 eps (of the working type) has lost all its
    responsibility: its update is not defined, or describes no data. As the
    engine's M-step (:func:`gmmlib.suffstats.parameters_from_statistics`) and
    scikit-learn do, it
    gets the mean 0 and the covariance ``reg_covar * I`` (its weight stays
    N_k / N), with a ``gmmlib.DegenerateComponentWarning``; with
    ``reg_covar == 0`` a ``ValueError``. Chapter 7, "A component that loses
    all its responsibility", gives the threshold.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    resp : array-like of shape (n_samples, n_components)
        From :func:`e_step`.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
    reg_covar : float, default=0.0

    Returns
    -------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray
        Shape for ``covariance_type``, as in :func:`update_covariances`.

    Raises
    ------
    ValueError
        If an updated covariance is not positive definite, or a component
        lost its responsibility while ``reg_covar == 0``.
    """
    _check_derived_shape(covariance_type)
    reg_covar = check_reg_covar(reg_covar)
    resp = check_resp(resp)
    weights = update_weights(resp)
    dtype = float_dtype(*_check_X_resp(X, resp))
    lost = lost_responsibility(resp.sum(axis=0, dtype=dtype), dtype)
    if lost.size == 0:
        means = update_means(X, resp)
        covariances = update_covariances(X, resp, means, covariance_type, reg_covar)
        return weights, means, covariances
    report_lost_components(lost, dtype, reg_covar, covariance_type)
    # the formulas on the other components; the lost ones are reset
    n_components, n_features = resp.shape[1], np.shape(X)[1]
    kept = np.setdiff1d(np.arange(n_components), lost)
    means = np.zeros((n_components, n_features), dtype)
    means[kept] = update_means(X, resp[:, kept])
    kept_covariances = update_covariances(
        X, resp[:, kept], means[kept], covariance_type, reg_covar
    )
    if covariance_type == "tied":
        return weights, means, kept_covariances
    reset = reg_covar * np.ones(1, dtype)
    if covariance_type == "full":
        reset = reg_covar * np.eye(n_features, dtype=dtype)
    covariances = np.empty((n_components,) + kept_covariances.shape[1:], dtype)
    covariances[kept] = kept_covariances
    covariances[lost] = reset
    return weights, means, covariances


# -- Missing values: EM on the observed-data likelihood ------------------------------
#
# NaN marks a missing entry. Each function below groups the rows by their pattern of
# observed coordinates, so Σ_{k,oo} is factored once per (pattern, component).


def _check_X_missing(X):
    """X with NaN as missing entries, and its mask of observed entries.

    The shape checks of :func:`gmmlib._validation.check_X`; ±inf is refused (it
    is not a missing value), and so is a row with no observed value.
    """
    X = _as_float_array(X, "X")
    if X.ndim == 2:
        infinite = np.argwhere(np.isinf(X))
        if infinite.size:
            n, j = (int(i) for i in infinite[0])
            raise ValueError(
                f"X[{n}, {j}] = {X[n, j]}: infinity is not a missing value (only "
                "NaN marks a missing entry); replace it by a finite value, or by "
                f"np.nan if it stands for a missing one ({len(infinite)} infinite "
                "entries in all)."
            )
    observed = ~np.isnan(X)
    check_X(np.where(observed, X, 0.0))  # the shape checks
    empty = ~observed.any(axis=1)
    if np.any(empty):
        n = int(np.argmax(empty))
        raise ValueError(
            f"X[{n}] has no observed value; drop it (a row with every entry "
            "missing tells nothing about the mixture and has observed-data "
            f"likelihood 1), e.g. X[~np.isnan(X).all(axis=1)] ({int(empty.sum())} "
            "such rows in all)."
        )
    return X, observed


def _check_parameters_missing(X, weights, means, covariances, covariance_type):
    """As :func:`_check_parameters` for X with NaN; returns X, mask, π, μ, Σ (full)."""
    X, observed = _check_X_missing(X)
    means = check_means(means, n_features=X.shape[1])
    if weights is not None:
        weights = check_weights(weights, n_components=means.shape[0])
    full, _ = check_covariances(
        covariances, means.shape[0], X.shape[1], covariance_type
    )
    dtype = float_dtype(*(a for a in (X, weights, means, full) if a is not None))
    X, means, full = (a.astype(dtype, copy=False) for a in (X, means, full))
    if weights is not None:
        weights = weights.astype(dtype, copy=False)
    return X, observed, weights, means, full


def _missing_patterns(observed):
    """The distinct rows of the mask, and which of them each sample has.

    Returns
    -------
    patterns : ndarray of bool, shape (n_patterns, n_features)
    inverse : ndarray of int, shape (n_samples,)
        ``observed[n] == patterns[inverse[n]]``.
    """
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    return patterns, inverse.reshape(-1)


def _observed_log_densities(X, observed, means, full):
    """ln N(x_{n,o} | μ_{k,o}, Σ_{k,oo}), shape (n_samples, n_components)."""
    patterns, inverse = _missing_patterns(observed)
    log_densities = np.empty((X.shape[0], means.shape[0]), dtype=X.dtype)
    for p, pattern in enumerate(patterns):
        rows, o = np.flatnonzero(inverse == p), np.flatnonzero(pattern)
        X_o = X[np.ix_(rows, o)]
        for k in range(means.shape[0]):
            # a principal block of a positive definite Σ_k is positive definite
            factor = scipy.linalg.cholesky(
                full[k][np.ix_(o, o)], lower=True, check_finite=False
            )
            log_densities[rows, k] = _log_pdf_cholesky(X_o, means[k, o], factor)
    return log_densities


def observed_log_likelihood(X, weights, means, covariances, covariance_type="full"):
    """The observed-data log-likelihood, for X with missing entries (NaN).

    L_obs = Σ_n ln Σ_k π_k N(x_{n,o} | μ_{k,o}, Σ_{k,oo}), where o are the
    observed coordinates of row n (NaN marks a missing entry). The marginal
    of N(μ_k, Σ_k) on the coordinates o is N(μ_{k,o}, Σ_{k,oo}), so each
    term is the mixture density of what was observed, the missing
    coordinates integrated out. When the values are missing at random (MAR:
    whether an entry is missing may depend on the observed entries of its
    row, not on the missing ones) and the parameters of the missingness
    mechanism are distinct from θ, the log-likelihood of the observed values
    and of which entries are missing is L_obs plus a term free of θ (Little
    and Rubin, Statistical Analysis with Missing Data, on ignorable
    missingness), so maximum likelihood maximises L_obs. With no NaN it is
    :func:`log_likelihood`. See :eq:`eq-observed-log-likelihood`; the MAR
    argument is :eq:`eq-ignorability`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        NaN for a missing entry; every row has at least one observed value.
    weights : array-like of shape (n_components,)
    means : array-like of shape (n_components, n_features)
    covariances : array-like
        Shape for ``covariance_type`` (full: (n_components, n_features,
        n_features)).
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"

    Returns
    -------
    L_obs : float

    Raises
    ------
    ValueError
        If X holds ±inf (naming the entry), a row of X has no observed value
        (naming the row), or a parameter is invalid.
    """
    X, observed, weights, means, full = _check_parameters_missing(
        X, weights, means, covariances, covariance_type
    )
    log_densities = _observed_log_densities(X, observed, means, full)
    weighted = _add_log_weights(weights, log_densities)
    return float(np.sum(_log_mixture_density(weighted)))


def observed_responsibilities(X, weights, means, covariances, covariance_type="full"):
    """Responsibilities given each row's observed entries (NaN marks a missing one).

    γ_nk = π_k N(x_{n,o} | μ_{k,o}, Σ_{k,oo}) / Σ_j π_j N(x_{n,o} | μ_{j,o}, Σ_{j,oo}),
    the posterior probability that component k generated row n given its
    observed coordinates o: Bayes' rule with the
    marginal densities of :func:`observed_log_likelihood`. The E-step of the
    missing-data EM (Ghahramani and Jordan, 1994); with no NaN it is
    :func:`responsibilities`. See :eq:`eq-observed-responsibility`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        NaN for a missing entry; every row has at least one observed value.
    weights : array-like of shape (n_components,)
    means : array-like of shape (n_components, n_features)
    covariances : array-like
        Shape for ``covariance_type``.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"

    Returns
    -------
    resp : ndarray of shape (n_samples, n_components)
        Each row sums to 1.
    """
    X, observed, weights, means, full = _check_parameters_missing(
        X, weights, means, covariances, covariance_type
    )
    log_densities = _observed_log_densities(X, observed, means, full)
    weighted = _add_log_weights(weights, log_densities)
    return np.exp(weighted - _log_mixture_density(weighted)[:, None])


def _conditional_moments_by_pattern(X, observed, means, full):
    """x̂_nk (n_samples, K, d), C̃ per pattern (n_patterns, K, d, d), row -> pattern.

    C̃_nk depends on row n only through its pattern of missing entries, so the
    M-step sums γ_nk over each pattern's rows rather than holding one C̃ per row.
    """
    patterns, inverse = _missing_patterns(observed)
    n_components, n_features = means.shape
    x_hat = np.repeat(X[:, None, :], n_components, axis=1)
    c_tilde = np.zeros(
        (len(patterns), n_components, n_features, n_features), dtype=X.dtype
    )
    for p, pattern in enumerate(patterns):
        o, m = np.flatnonzero(pattern), np.flatnonzero(~pattern)
        if m.size == 0:
            continue  # nothing missing: x̂ = x, C̃ = 0
        rows = np.flatnonzero(inverse == p)
        for k in range(n_components):
            sigma = full[k]
            factor = scipy.linalg.cho_factor(
                sigma[np.ix_(o, o)], lower=True, check_finite=False
            )
            # B = Σ_oo⁻¹ Σ_om, so x̂_m = μ_m + (x_o − μ_o)ᵀ B and C = Σ_mm − Σ_mo B
            B = scipy.linalg.cho_solve(factor, sigma[np.ix_(o, m)], check_finite=False)
            x_hat[np.ix_(rows, [k], m)] = (
                means[k, m] + (X[np.ix_(rows, o)] - means[k, o]) @ B
            )[:, None, :]
            conditional = sigma[np.ix_(m, m)] - sigma[np.ix_(m, o)] @ B
            c_tilde[p, k][np.ix_(m, m)] = 0.5 * (conditional + conditional.T)
    return x_hat, c_tilde, inverse


def conditional_moments(X, means, covariances, covariance_type="full"):
    """Conditional mean and covariance of each row's missing entries, per component.

    For row n with observed coordinates o and missing coordinates m (NaN), if
    x_n ~ N(μ_k, Σ_k) then x_{n,m} given x_{n,o} is Gaussian with mean::

        x̂_{nk,m} = μ_{k,m} + Σ_{k,mo} Σ_{k,oo}⁻¹ (x_{n,o} − μ_{k,o})

    and covariance::

        C_nk = Σ_{k,mm} − Σ_{k,mo} Σ_{k,oo}⁻¹ Σ_{k,om},

    the Schur complement of Σ_{k,oo} in Σ_k. x̂_nk is x_n with its missing
    entries replaced by x̂_{nk,m} (x̂_{nk,o} = x_{n,o}), and C̃_nk is C_nk
    placed in the rows and columns m of a d×d zero matrix, so that
    E[x_n | x_{n,o}, z_nk = 1] = x̂_nk and
    E[(x_n − a)(x_n − a)ᵀ | x_{n,o}, z_nk = 1] = (x̂_nk − a)(x̂_nk − a)ᵀ + C̃_nk
    for any fixed a. These are the expected sufficient statistics of the
    missing-data E-step (Ghahramani and Jordan, 1994). Σ_{k,oo} is factored
    by Cholesky once per missing pattern and component, never inverted.
    See :eq:`eq-conditional-moments`; the same moments in the precision are
    :eq:`eq-conditional-precision`.

    This is the readable reference: it holds one d×d matrix per row and
    component, n_samples · n_components · d² numbers (8 MB at 1000 rows,
    4 components and 16 features in float64); :func:`m_step_observed` needs
    only one C̃ per missing pattern and never forms this array.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        NaN for a missing entry; every row has at least one observed value.
    means : array-like of shape (n_components, n_features)
    covariances : array-like
        Shape for ``covariance_type`` (full: (n_components, n_features,
        n_features)).
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"

    Returns
    -------
    x_hat : ndarray of shape (n_samples, n_components, n_features)
        x̂_nk; with no NaN in row n, x_n for every k.
    c_tilde : ndarray of shape (n_samples, n_components, n_features, n_features)
        C̃_nk, zero outside the missing rows and columns of row n.
    """
    X, observed, _, means, full = _check_parameters_missing(
        X, None, means, covariances, covariance_type
    )
    x_hat, c_tilde, inverse = _conditional_moments_by_pattern(X, observed, means, full)
    return x_hat, c_tilde[inverse]


def _observed_updates(x_hat, c_tilde, inverse, resp, covariance_type, reg_covar):
    """μ_k and Σ_k from the expected statistics; resp's columns all have N_k > 0."""
    nk = _component_totals(resp, covariance_type)
    with np.errstate(over="ignore", invalid="ignore"):  # reported just below
        means = np.einsum("nk,nkd->kd", resp, x_hat) / nk[:, None]
        diff = x_hat - means[None, :, :]  # (n, K, d): x̂_nk − μ_k
        scatter = np.einsum("nk,nki,nkj->kij", resp, diff, diff)
        # Σ_n γ_nk C̃_nk, one C̃ per pattern: Σ_p (Σ_{n in p} γ_nk) C̃_pk
        pattern_nk = np.zeros((len(c_tilde), resp.shape[1]), dtype=resp.dtype)
        np.add.at(pattern_nk, inverse, resp)
        scatter += np.einsum("pk,pkij->kij", pattern_nk, c_tilde)
    _check_no_overflow(means, "means")
    _check_no_overflow(scatter, "covariances")
    if covariance_type in ("diag", "spherical"):
        scatter = np.diagonal(scatter, axis1=1, axis2=2)
    return means, _covariances_from_scatter(scatter, nk, covariance_type, reg_covar)


def m_step_observed(
    X, resp, means_prev, covariances_prev, covariance_type="full", reg_covar=0.0
):
    """The M-step of EM with missing values: maximise Q with γ, x̂ and C̃ held fixed.

    The complete data of row n are its missing entries x_{n,m} and its
    indicator z_n as well as x_{n,o}. With γ_nk from
    :func:`observed_responsibilities` and x̂_nk, C̃_nk from
    :func:`conditional_moments`, all at the previous parameters θ_old, and
    using E[(x − a)ᵀ Σ⁻¹ (x − a)] = (x̂ − a)ᵀ Σ⁻¹ (x̂ − a) + tr(Σ⁻¹ C̃), the
    expected complete-data log-likelihood is::

        Q(θ, θ_old) = Σ_k N_k ln π_k
                      − ½ Σ_n Σ_k γ_nk [d ln 2π + ln det Σ_k
                      + (x̂_nk − μ_k)ᵀ Σ_k⁻¹ (x̂_nk − μ_k) + tr(Σ_k⁻¹ C̃_nk)],

    with N_k = Σ_n γ_nk (:eq:`eq-q-missing`). Its maximiser, term by term
    (:eq:`eq-sigma-new-missing`):

    - π_k = N_k / N (Lagrange multiplier for Σ_k π_k = 1, as without NaN);
    - μ_k = (1/N_k) Σ_n γ_nk x̂_nk: x̂ and C̃ are fixed, so setting the
      gradient Σ_n γ_nk Σ_k⁻¹ (x̂_nk − μ_k) to zero gives it, whatever
      the shape of Σ_k;
    - with μ_k in place, Q's covariance part is
      −½ Σ_k [N_k ln det Σ_k + tr(Σ_k⁻¹ S_k)], with the expected scatter
      S_k = Σ_n γ_nk [(x̂_nk − μ_k)(x̂_nk − μ_k)ᵀ + C̃_nk]. That is the
      complete-data covariance part with S_k in place of the plain scatter,
      so each shape's maximiser is the one chapters 4 and 6 derive: ``"full"``
      Σ_k = S_k / N_k (:eq:`eq-sigma-new`), ``"diag"`` the diagonal of
      S_k / N_k (:eq:`eq-sigma-diag`), ``"spherical"`` tr(S_k) / (d N_k)
      (:eq:`eq-sigma-spherical`), ``"tied"`` Σ_k S_k / N
      (:eq:`eq-sigma-tied`).

    ``reg_covar`` is then added to every variance, as in :func:`m_step`. Each
    such step does not decrease the observed-data log-likelihood
    :func:`observed_log_likelihood` when ``reg_covar == 0``, every N_k > 0 and
    every S_k is positive definite (EM's monotonicity, with x_{n,m} among the
    latent variables); Ghahramani and Jordan (1994) derive this EM, Little and
    Rubin (Statistical Analysis with Missing Data, ch. 11) treat it for one
    Gaussian and for mixtures. Dropping C̃ (imputing x̂ as if it were
    observed) would give a smaller variance along every direction that
    involves a coordinate missing in some row with γ_nk > 0.

    A component whose N_k is at most 10 eps is reset as :func:`m_step` does it
    (mean 0, covariance ``reg_covar * I``, a ``gmmlib.DegenerateComponentWarning``;
    a ``ValueError`` when ``reg_covar == 0``). With no NaN this is
    :func:`m_step`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        NaN for a missing entry; every row has at least one observed value.
    resp : array-like of shape (n_samples, n_components)
        γ from :func:`observed_responsibilities` at the previous parameters.
    means_prev : array-like of shape (n_components, n_features)
        The previous means, for x̂ and C̃.
    covariances_prev : array-like
        The previous covariances, shape for ``covariance_type``.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
    reg_covar : float, default=0.0

    Returns
    -------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray
        Shape for ``covariance_type``, as in :func:`update_covariances`.

    Raises
    ------
    ValueError
        If X holds ±inf or a row with no observed value, a parameter is
        invalid, an updated covariance is not positive definite, or a
        component lost its responsibility while ``reg_covar == 0``.
    """
    _check_derived_shape(covariance_type)
    reg_covar = check_reg_covar(reg_covar)
    X, observed, _, means_prev, full = _check_parameters_missing(
        X, None, means_prev, covariances_prev, covariance_type
    )
    resp = check_resp(resp, n_samples=X.shape[0])
    n_components, n_features = means_prev.shape
    if resp.shape[1] != n_components:
        raise ValueError(
            f"resp has {resp.shape[1]} columns but means_prev has {n_components} "
            "rows; give one column of responsibilities per component."
        )
    dtype = float_dtype(X, resp)
    resp = resp.astype(dtype, copy=False)
    x_hat, c_tilde, inverse = _conditional_moments_by_pattern(
        X,
        observed,
        means_prev.astype(dtype, copy=False),
        full.astype(dtype, copy=False),
    )
    weights = update_weights(resp)
    lost = lost_responsibility(resp.sum(axis=0), dtype)
    if lost.size == 0:
        means, covariances = _observed_updates(
            x_hat, c_tilde, inverse, resp, covariance_type, reg_covar
        )
        return weights, means, covariances
    report_lost_components(lost, dtype, reg_covar, covariance_type)
    # the formulas on the other components; the lost ones are reset
    kept = np.setdiff1d(np.arange(n_components), lost)
    means = np.zeros((n_components, n_features), dtype)
    means[kept], kept_covariances = _observed_updates(
        x_hat[:, kept],
        c_tilde[:, kept],
        inverse,
        resp[:, kept],
        covariance_type,
        reg_covar,
    )
    if covariance_type == "tied":
        return weights, means, kept_covariances
    reset = reg_covar * np.ones(1, dtype)
    if covariance_type == "full":
        reset = reg_covar * np.eye(n_features, dtype=dtype)
    covariances = np.empty((n_components,) + kept_covariances.shape[1:], dtype)
    covariances[kept] = kept_covariances
    covariances[lost] = reset
    return weights, means, covariances


def em_step_observed(
    X, weights, means, covariances, covariance_type="full", reg_covar=0.0
):
    """One iteration of EM with missing values: E-step, then M-step.

    γ from :func:`observed_responsibilities`, then :func:`m_step_observed`
    with the same (previous) means and covariances for x̂ and C̃. With
    ``reg_covar == 0`` the observed-data log-likelihood
    :func:`observed_log_likelihood` does not decrease. With no NaN this is
    :func:`e_step` followed by :func:`m_step`. See :eq:`eq-sigma-new-missing`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        NaN for a missing entry; every row has at least one observed value.
    weights : array-like of shape (n_components,)
    means : array-like of shape (n_components, n_features)
    covariances : array-like
        Shape for ``covariance_type``: the parameters θ_old the step starts from.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        The shape of both the given and the updated covariances.
    reg_covar : float, default=0.0

    Returns
    -------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray
        Shape for ``covariance_type``.
    """
    resp = observed_responsibilities(X, weights, means, covariances, covariance_type)
    return m_step_observed(X, resp, means, covariances, covariance_type, reg_covar)
