"""What every covariance structure shares: the two layouts and their checks.

A covariance model owns everything that depends on the structure of Σ_k
(chapter 6): its name, the shape of its attribute, its parameter count
(:eq:`eq-n-parameters`), its M-step from the sufficient statistics, the
conversions between covariances, precisions and the Cholesky factors the
E-step engine reads, the checks of user-given values, the test that a fitted
covariance is singular to working precision, and what to say when it is.

The engine needs only the upper-triangular Cholesky factors :math:`U_k` of
the precisions (:eq:`eq-stacked-product`), in one of two layouts:
``diagonal`` (the statistics are the diagonal of each scatter, the factors
(n_components, n_features)) or general ((n_components, n_features,
n_features)). ``DiagonalLayout`` and ``GeneralLayout`` implement
the conversions once per layout; a model adds its shape, count and M-step.
"""

import numpy as np
import scipy.linalg
from scipy.linalg import solve_triangular

COLLAPSE_HINT = (
    "a component may have collapsed onto too few points: increase reg_covar "
    "(e.g. 1e-6), use fewer components, or scale the data"
)


def symmetric_tolerance(matrix):
    """The one tolerance of a symmetry check: sqrt(eps) times the largest entry."""
    scale = float(np.max(np.abs(matrix))) if matrix.size else 0.0
    return float(np.sqrt(np.finfo(matrix.dtype).eps)) * max(scale, 1e-300)


def lower_factor(matrix, name, kind="covariance"):
    """Lower Cholesky factor of a user-given symmetric positive definite matrix.

    The one positive-definiteness check of given matrices: symmetric up to
    ``symmetric_tolerance``, and Cholesky succeeds.

    Parameters
    ----------
    matrix : ndarray of shape (d, d)
    name : str
        How to call it in an error message, e.g. ``"covariances[2]"``.
    kind : {"covariance", "precision"}

    Returns
    -------
    L : ndarray of shape (d, d)
        Lower triangular with ``L @ L.T == matrix``.

    Raises
    ------
    ValueError
        Naming the matrix, what is wrong and what to do.
    """
    if np.max(np.abs(matrix - matrix.T), initial=0.0) > symmetric_tolerance(matrix):
        raise ValueError(
            f"{name} is not symmetric; a {kind} matrix must be symmetric positive "
            f"definite (equal to its transpose). Symmetrise it with ({name} + "
            f"{name}.T) / 2, or, to differentiate numerically with respect to a "
            "covariance, use gmmlib.numdiff.matrix_gradient(..., symmetric=True)."
        )
    try:
        return scipy.linalg.cholesky(matrix, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{name} is not positive definite (Cholesky failed): a {kind} matrix "
            f"must be symmetric positive definite; {_advice(kind)}."
        ) from None


def _advice(kind):
    if kind == "precision":
        return "pass the inverse of a covariance matrix"
    return COLLAPSE_HINT


def pivots_singular(factor, covariance):
    """Whether a covariance that passed Cholesky is singular to working precision.

    A rank-deficient covariance can pass Cholesky with a pivot at rounding
    level; its inverse is then noise. The squared pivot :math:`L_{ii}^2` is
    the variance of feature i left after regressing it on the features before
    it, so :math:`L_{ii}^2 / Σ_{ii}` is the share of feature i's own variance
    that the others do not explain: below d·eps, singular. The ratio does not
    change when the features are rescaled (Σ → DΣD, L → DL for a positive
    diagonal D), so features on different scales (standard deviations 3e4 and
    1) are judged alike.

    Parameters
    ----------
    factor : ndarray of shape (..., d, d)
        Lower Cholesky factor(s) of ``covariance``.
    covariance : ndarray of shape (..., d, d)

    Returns
    -------
    ndarray of bool, shape (...)
    """
    d = covariance.shape[-1]
    eps = np.finfo(covariance.dtype).eps
    pivots = np.diagonal(factor, axis1=-2, axis2=-1) ** 2
    variances = np.diagonal(covariance, axis1=-2, axis2=-1)
    return np.any(pivots <= d * eps * variances, axis=-1)


class CovarianceModel:
    """One covariance structure Σ_k: the base of every model.

    Attributes
    ----------
    name : str
        The ``covariance_type`` that selects it.
    diagonal : bool
        The layout of the statistics and of the engine's factors: only the
        diagonal of each scatter and of each :math:`U_k` (True), or the
        whole matrices (False).
    shared : bool
        One Σ for all components (a component that loses its responsibility
        keeps it).
    resets_lost : bool
        Whether a component that loses its responsibility gets
        ``reg_covar * I`` (``reset``); a constrained model keeps its
        maximiser's covariance instead, which the constraint defines.
    simpler : str
        Models with fewer parameters to suggest after a collapse ("" if none).
    shape_text : str
        The shape of the attribute ``covariances_``, in words.
    """

    name = ""
    diagonal = False
    shared = False
    resets_lost = True
    simpler = ""
    shape_text = ""

    # -- what each model defines ---------------------------------------------

    def shape(self, n_components, n_features):
        """The shape of the ``covariances_`` attribute (and of the precisions)."""
        raise NotImplementedError

    def n_parameters(self, n_components, n_features):
        """Free parameters of the covariances (:eq:`eq-n-parameters`)."""
        raise NotImplementedError

    def maximise(self, nk, scatter):
        """The covariances that maximise Q given the (regularised) scatter.

        Parameters
        ----------
        nk : ndarray of shape (n_components,)
            Soft counts, all positive.
        scatter : ndarray
            Per component, (n_components, n_features, n_features), or its
            diagonal, (n_components, n_features), as ``diagonal`` says.

        Returns
        -------
        covariances : ndarray of shape ``shape(n_components, n_features)``
        """
        raise NotImplementedError

    def expand(self, values, n_components, n_features):
        """Values of the attribute's shape, one per component in the layout.

        (n_components, n_features) for a diagonal layout, else
        (n_components, n_features, n_features); may be a broadcast view.
        """
        raise NotImplementedError

    # -- shared by all models ------------------------------------------------

    def __repr__(self):
        return f"<covariance model {self.name!r}>"

    def update(self, nk, scatter, reg_covar):
        """Σ^new from the statistics, with ``reg_covar`` in the scatter.

        :math:`\\varepsilon` enters the scatter of each component before
        the maximisation, :math:`S_k + \\varepsilon N_k I`
        (:eq:`eq-reg-covar-scatter`), so the maximiser keeps the model's
        constraint. For the four shapes of chapter 6 the result is

        - 'full': :math:`S_k / N_k + \\varepsilon I` (:eq:`eq-sigma-new`);
        - 'diag': :math:`\\operatorname{diag}(S_k) / N_k + \\varepsilon`
          (:eq:`eq-sigma-diag`);
        - 'spherical': :math:`\\operatorname{tr}(S_k) / (d N_k) + \\varepsilon`
          (:eq:`eq-sigma-spherical`);
        - 'tied': :math:`\\sum_k S_k / \\sum_k N_k + \\varepsilon I`
          (:eq:`eq-sigma-tied`).

        :math:`N_k` is the argument ``nk``: in the engine
        (:func:`gmmlib.suffstats.parameters_from_statistics`) it is
        :math:`N_k + 10 \\varepsilon_{\\text{mach}}` for every shape. The tied
        denominator is ``nk.sum()``, so in the engine
        :math:`\\sum_k N_k + 10 K \\varepsilon_{\\text{mach}}`, where
        :math:`\\sum_k N_k` is :math:`\\sum_n w_n` with sample weights, not
        the number of rows.

        Parameters
        ----------
        nk : ndarray of shape (n_components,)
            Positive soft counts.
        scatter : ndarray
            Scatter about the means, in the model's layout.
        reg_covar : float

        Returns
        -------
        covariances : ndarray of shape ``shape(n_components, n_features)``
        """
        return self.maximise(nk, self.regularised_scatter(nk, scatter, reg_covar))

    def regularised_scatter(self, nk, scatter, reg_covar):
        """:math:`S_k + \\varepsilon N_k I` (:eq:`eq-reg-covar-scatter`)."""
        if self.diagonal:
            return scatter + (reg_covar * nk)[:, None]
        out = scatter.copy()
        d = scatter.shape[-1]
        out[:, np.arange(d), np.arange(d)] += (reg_covar * nk)[:, None]
        return out

    def reset(self, covariances, lost, reg_covar):
        """Give the components ``lost`` (indices) the covariance ``reg_covar * I``.

        scikit-learn's result for a component without responsibility; a
        shared covariance, or one a constraint ties to the others
        (``resets_lost`` False), is left as it is.
        """
        if self.shared or not self.resets_lost:
            return covariances
        if self.diagonal:
            covariances[lost] = reg_covar
        else:
            d = covariances.shape[-1]
            covariances[lost] = reg_covar * np.eye(d, dtype=covariances.dtype)
        return covariances

    def to_full(self, values, n_components, n_features):
        """(n_components, n_features, n_features) matrices from the attribute."""
        per_component = self.expand(np.asarray(values), n_components, n_features)
        if not self.diagonal:
            return per_component
        eye = np.eye(n_features, dtype=per_component.dtype)
        return per_component[:, :, None] * eye

    def sampling_factors(self, covariances, n_components, n_features):
        """Lower :math:`L_k` with :math:`L_k L_k^T = Σ_k`, (K, d, d): draws are
        :math:`μ_k + L_k z`, :math:`z \\sim N(0, I)`."""
        full = self.to_full(covariances, n_components, n_features)
        if self.diagonal:
            return np.sqrt(full)
        return np.linalg.cholesky(full)

    def check(self, values, n_components, n_features, name, kind="covariance"):
        """Validate user-given covariances or precisions of this model.

        Shape, finiteness, and positive definiteness (symmetry and Cholesky,
        :func:`gmmlib.covariance.lower_factor`; for a diagonal layout, every entry > 0).

        Parameters
        ----------
        values : ndarray
            Float array.
        n_components, n_features : int
        name : str
            The parameter's name, for the messages.
        kind : {"covariance", "precision"}

        Returns
        -------
        ndarray, the shape of ``values``
            The lower Cholesky factors (square roots for a diagonal layout).
        """
        expected = self.shape(n_components, n_features)
        if values.shape != expected:
            raise ValueError(
                f"{name} (covariance_type={self.name!r}) must have shape "
                f"{expected} = {self.shape_text} for {n_components} components "
                f"and {n_features} features; got shape {values.shape}."
            )
        if not np.all(np.isfinite(values)):
            raise ValueError(
                f"{name} contains NaN or infinity; remove or replace those entries."
            )
        if self.diagonal:
            if np.any(values <= 0):
                index = tuple(int(i) for i in np.argwhere(values <= 0)[0])
                raise ValueError(
                    f"{name}{list(index)} = {values[index]:g} is not positive: "
                    f"{kind}s of covariance_type={self.name!r} must be positive; "
                    f"{_advice(kind)}."
                )
            return np.sqrt(values)
        d = values.shape[-1]
        stack = values.reshape(-1, d, d)
        factors = np.empty_like(stack)
        for k, matrix in enumerate(stack):
            where = f"{name}[{k}]" if values.ndim == 3 else name
            factors[k] = lower_factor(matrix, where, kind)
        return factors.reshape(values.shape)

    def singular(self, factors, covariances):
        """Which fitted covariances are singular to working precision (bool per
        matrix): non-finite, a pivot that is not positive, or
        :func:`gmmlib.covariance.pivots_singular`."""
        raise NotImplementedError

    def collapse_hint(self):
        """What to try when an updated covariance is singular."""
        fix = "increase reg_covar (e.g. 1e-6), use fewer components"
        if self.simpler:
            fix += f", or use covariance_type={self.simpler}"
        return fix

    def collapse_message(self, which, reg_covar):
        """The error of a fit whose covariance(s) ``which`` collapsed."""
        return (
            "Fitting the mixture failed: the covariance of component(s) "
            f"{which} is not positive definite even after adding "
            f"reg_covar={reg_covar:g} to its diagonal (a component collapsed "
            "onto a single point or onto a lower-dimensional subspace of the "
            f"data). Try to {self.collapse_hint()}, remove duplicated points, "
            "or scale the input data."
        )

    def precisions_cholesky(self, covariances, reg_covar=0.0):
        """Upper-triangular ``U`` with ``U @ U.T`` the inverse of each covariance.

        Parameters
        ----------
        covariances : ndarray of shape ``shape(n_components, n_features)``
        reg_covar : float
            Only quoted in the error message.

        Returns
        -------
        precisions_cholesky : ndarray, same shape

        Raises
        ------
        ValueError
            If a covariance is not positive definite, or singular to working
            precision (``singular``).
        """
        raise NotImplementedError


class DiagonalLayout(CovarianceModel):
    """Models whose Σ_k are diagonal: every conversion is entrywise."""

    diagonal = True

    def singular(self, factors, covariances):
        bad = np.atleast_1d(~(covariances > 0) | ~np.isfinite(covariances))
        return bad.reshape(len(bad), -1).any(axis=1)

    def precisions_cholesky(self, covariances, reg_covar=0.0):
        covariances = np.asarray(covariances)
        bad = np.flatnonzero(self.singular(None, covariances))
        if bad.size:
            raise ValueError(self.collapse_message(bad.tolist(), reg_covar))
        return (1 / np.sqrt(covariances)).astype(covariances.dtype)

    def precisions_cholesky_from_precisions(self, precisions):
        return np.sqrt(precisions)

    def precisions_from_cholesky(self, precisions_cholesky):
        return precisions_cholesky**2

    def covariances_from_cholesky(self, precisions_cholesky):
        return 1 / precisions_cholesky**2


class GeneralLayout(CovarianceModel):
    """Models whose Σ_k are full matrices: conversions by Cholesky factors."""

    diagonal = False

    def singular(self, factors, covariances):
        bad = ~np.all(np.isfinite(factors), axis=(-2, -1))
        with np.errstate(invalid="ignore"):
            bad |= np.any(np.diagonal(factors, axis1=-2, axis2=-1) <= 0, axis=-1)
            bad |= pivots_singular(factors, covariances)
        return bad

    def precisions_cholesky(self, covariances, reg_covar=0.0):
        covariances = np.asarray(covariances)
        d = covariances.shape[-1]
        stack = covariances.reshape(-1, d, d)
        out = np.empty_like(stack)
        eye = np.eye(d, dtype=stack.dtype)
        try:  # all at once; one by one only to name the failures
            factors = np.linalg.cholesky(stack)
        except np.linalg.LinAlgError:
            factors = np.full_like(stack, np.nan)
            for k, cov in enumerate(stack):
                try:
                    factors[k] = np.linalg.cholesky(cov)
                except np.linalg.LinAlgError:
                    pass
        bad = np.flatnonzero(self.singular(factors, stack))
        if bad.size:
            which = "tied" if self.shared else bad.tolist()
            raise ValueError(self.collapse_message(which, reg_covar))
        for k, chol in enumerate(factors):
            out[k] = solve_triangular(chol, eye, lower=True, check_finite=False).T
        return out.reshape(covariances.shape)

    def precisions_cholesky_from_precisions(self, precisions):
        """For a matrix P, the Cholesky factor L of the reversed matrix J P J
        gives U = J L J (J reverses rows and columns)."""
        reversed_ = np.asarray(precisions)[..., ::-1, ::-1]
        return np.ascontiguousarray(np.linalg.cholesky(reversed_)[..., ::-1, ::-1])

    def precisions_from_cholesky(self, precisions_cholesky):
        return precisions_cholesky @ np.swapaxes(precisions_cholesky, -1, -2)

    def covariances_from_cholesky(self, precisions_cholesky):
        stack = precisions_cholesky.reshape((-1,) + precisions_cholesky.shape[-2:])
        eye = np.eye(stack.shape[-1], dtype=stack.dtype)
        inverse = np.stack([solve_triangular(u, eye, lower=False) for u in stack])
        covariances = np.swapaxes(inverse, -1, -2) @ inverse
        return covariances.reshape(precisions_cholesky.shape)
