"""Input checks shared by the functional core.

Each check returns the validated array (as a float array) or raises a
``ValueError`` that names the parameter, says what is wrong and what to do, so a
user's mistake never surfaces as a numpy traceback or as NaN further down.
"""

import warnings

import numpy as np

from gmmlib import covariance as _covariance


def float_dtype(*arrays):
    """Common float dtype of ``arrays``: float32 if all are float32, else float64."""
    dtype = np.result_type(*arrays)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _as_float_array(value, name, dtype=None):
    """``value`` as a float ndarray; a clear error for non-numeric input."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a numeric array; it could not be converted ({exc})."
        ) from exc
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must be a real numeric array; got dtype {array.dtype}. "
            f"Convert it with np.asarray({name}, dtype=float)."
        )
    if dtype is None:
        dtype = float_dtype(array)
    return array.astype(dtype, copy=False)


def _check_finite(array, name):
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))
        raise ValueError(
            f"{name} contains NaN or infinity ({len(bad)} entries, the first at "
            f"index {tuple(int(i) for i in bad[0])}); remove or impute them first."
        )


def _sum_tolerance(dtype):
    return max(1e-6, float(np.sqrt(np.finfo(dtype).eps)))


def check_X(X, name="X", *, allow_1d=False):
    """Validate a data matrix.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data; with ``allow_1d=True`` a 1-D array is one sample of shape
        (n_features,).
    name : str
        The parameter name used in error messages.
    allow_1d : bool
        Accept a single sample given as a 1-D array.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        float32 stays float32; any other numeric dtype becomes float64.
    single : bool
        True if a 1-D sample was given (and reshaped to one row).
    """
    X = _as_float_array(X, name)
    single = False
    if X.ndim == 1 and allow_1d:
        X, single = X[np.newaxis, :], True
    if X.ndim != 2:
        one_d = " or a 1-D single sample" if allow_1d else ""
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features){one_d}; "
            f"got shape {X.shape}. Use {name}.reshape(-1, 1) for one feature or "
            f"{name}.reshape(1, -1) for one sample."
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"{name} must have at least one sample and one feature; got shape "
            f"{X.shape}."
        )
    _check_finite(X, name)
    return X, single


def check_weights(weights, n_components=None, dtype=None):
    """Validate mixing weights: shape (n_components,), nonnegative, sum 1.

    Returns
    -------
    weights : ndarray of shape (n_components,)
    """
    weights = _as_float_array(weights, "weights", dtype)
    if weights.ndim != 1 or weights.shape[0] == 0:
        raise ValueError(
            f"weights must be a 1-D array of shape (n_components,); got shape "
            f"{weights.shape}."
        )
    if n_components is not None and weights.shape[0] != n_components:
        raise ValueError(
            f"weights has {weights.shape[0]} entries but there are {n_components} "
            "components (the length of means); give one weight per component."
        )
    _check_finite(weights, "weights")
    if np.any(weights < 0):
        k = int(np.argmax(weights < 0))
        raise ValueError(
            f"weights must be nonnegative; weights[{k}] = {weights[k]:g}. Mixing "
            "weights are probabilities."
        )
    total = float(np.sum(weights, dtype=np.float64))
    if abs(total - 1.0) > _sum_tolerance(weights.dtype):
        raise ValueError(
            f"weights must sum to 1; they sum to {total:.10g}. Normalise them with "
            "weights / weights.sum()."
        )
    return weights


def check_means(means, n_components=None, n_features=None, dtype=None):
    """Validate component means of shape (n_components, n_features).

    Returns
    -------
    means : ndarray of shape (n_components, n_features)
    """
    means = _as_float_array(means, "means", dtype)
    if means.ndim != 2:
        raise ValueError(
            "means must be a 2-D array of shape (n_components, n_features); got "
            f"shape {means.shape}. For one component use means.reshape(1, -1)."
        )
    if n_components is not None and means.shape[0] != n_components:
        raise ValueError(
            f"means has {means.shape[0]} rows but there are {n_components} "
            "components; give one mean per component."
        )
    if n_features is not None and means.shape[1] != n_features:
        raise ValueError(
            f"means has {means.shape[1]} columns but X has {n_features} features; "
            "each mean must live in the same space as the data."
        )
    _check_finite(means, "means")
    return means


def check_covariance_type(covariance_type):
    """Validate ``covariance_type`` against the registered models' names."""
    return _covariance.get(covariance_type).name


def cholesky_or_raise(matrix, name):
    """Lower Cholesky factor of a symmetric matrix, or a ValueError naming it.

    :func:`gmmlib.covariance.lower_factor`, the one check of given matrices.

    Parameters
    ----------
    matrix : ndarray of shape (d, d)
    name : str
        How to call the matrix in the error message, e.g. ``"covariances[2]"``.

    Returns
    -------
    L : ndarray of shape (d, d)
        Lower triangular with ``L @ L.T == matrix``.
    """
    return _covariance.lower_factor(matrix, name)


def check_square(matrix, name):
    """Validate a finite square 2-D matrix (not necessarily symmetric)."""
    matrix = _as_float_array(matrix, name)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.size == 0:
        raise ValueError(
            f"{name} must be a square 2-D matrix of shape (d, d); got shape "
            f"{matrix.shape}."
        )
    _check_finite(matrix, name)
    return matrix


def check_covariance(cov, n_features=None, name="cov", dtype=None):
    """Validate one covariance matrix (d, d): symmetric positive definite.

    Returns
    -------
    cov : ndarray of shape (d, d)
    L : ndarray of shape (d, d)
        Its lower Cholesky factor.
    """
    cov = _as_float_array(cov, name, dtype)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(
            f"{name} must be a square matrix of shape (n_features, n_features); "
            f"got shape {cov.shape}."
        )
    if n_features is not None and cov.shape[0] != n_features:
        raise ValueError(
            f"{name} has shape {cov.shape} but X has {n_features} features; it "
            f"must be ({n_features}, {n_features})."
        )
    _check_finite(cov, name)
    return cov, cholesky_or_raise(cov, name)


def check_covariances(
    covariances, n_components, n_features, covariance_type="full", dtype=None
):
    """Validate covariances of any of the four shapes and expand them to full.

    Parameters
    ----------
    covariances : array-like
        ``full`` (n_components, n_features, n_features); ``tied``
        (n_features, n_features); ``diag`` (n_components, n_features);
        ``spherical`` (n_components,).
    n_components, n_features : int
    covariance_type : {"full", "tied", "diag", "spherical"}
    dtype : numpy dtype, optional

    Returns
    -------
    full : ndarray of shape (n_components, n_features, n_features)
        One covariance matrix per component.
    cholesky : ndarray of shape (n_components, n_features, n_features)
        Their lower Cholesky factors.
    """
    model = _covariance.get(covariance_type)
    covariances = _as_float_array(covariances, "covariances", dtype)
    factors = model.check(covariances, n_components, n_features, "covariances")
    return (
        model.to_full(covariances, n_components, n_features),
        model.to_full(factors, n_components, n_features),
    )


def check_resp(resp, n_samples=None, dtype=None):
    """Validate responsibilities: (n_samples, n_components), rows sum to 1.

    Returns
    -------
    resp : ndarray of shape (n_samples, n_components)
    """
    resp = _as_float_array(resp, "resp", dtype)
    if resp.ndim != 2 or resp.shape[1] == 0:
        raise ValueError(
            "resp must be a 2-D array of shape (n_samples, n_components); got "
            f"shape {resp.shape}."
        )
    if n_samples is not None and resp.shape[0] != n_samples:
        raise ValueError(
            f"resp has {resp.shape[0]} rows but X has {n_samples} samples; give "
            "one row of responsibilities per sample."
        )
    _check_finite(resp, "resp")
    if np.any(resp < 0):
        n, k = np.argwhere(resp < 0)[0]
        raise ValueError(
            f"resp must be nonnegative; resp[{n}, {k}] = {resp[n, k]:g}. "
            "Responsibilities are posterior probabilities."
        )
    sums = np.sum(resp, axis=1, dtype=np.float64)
    bad = np.abs(sums - 1.0) > _sum_tolerance(resp.dtype)
    if np.any(bad):
        n = int(np.argmax(bad))
        raise ValueError(
            f"resp rows must sum to 1; row {n} sums to {sums[n]:.10g}. Compute "
            "resp with gmmlib.em.responsibilities or normalise it with "
            "resp / resp.sum(axis=1, keepdims=True)."
        )
    return resp


def check_reg_covar(reg_covar):
    """Validate ``reg_covar``: a finite nonnegative float."""
    try:
        value = float(reg_covar)
    except (TypeError, ValueError):
        raise ValueError(
            f"reg_covar must be a nonnegative float; got {reg_covar!r}."
        ) from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(
            f"reg_covar must be a finite nonnegative float (e.g. 1e-6); got {value}."
        )
    return value


def check_mean(mean, n_features, dtype=None):
    """Validate one mean vector of shape (n_features,).

    Returns
    -------
    mean : ndarray of shape (n_features,)
    """
    mean = _as_float_array(mean, "mean", dtype)
    if mean.ndim != 1 or mean.shape[0] != n_features:
        raise ValueError(
            f"mean must be a 1-D array of shape ({n_features},) to match the "
            f"{n_features} features of X; got shape {mean.shape}. (A 1-D X is "
            "read as one point; pass n one-feature points as X.reshape(-1, 1).)"
        )
    _check_finite(mean, "mean")
    return mean


def check_sample_weight_values(sample_weight, where="", rows=None):
    """Raise a ValueError naming ``sample_weight`` unless all are finite and >= 0.

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,)
        All the weights, or a part of them (see ``rows``).
    where : str
        Appended to the position in the message (e.g. " (rows 300 to 599 of
        X, one Dask block)").
    rows : sequence of int of length n_samples, optional
        The index in the whole ``sample_weight`` of each entry, when only a
        part is given (a block of a Dask array); the message names a bad weight
        by it. Default: the entries are the whole array.
    """
    finite = np.isfinite(sample_weight)
    if not finite.all():
        index = int(np.flatnonzero(~finite)[0])
        position = index if rows is None else int(rows[index])
        raise ValueError(
            f"sample_weight contains {sample_weight[index]} at index {position}"
            f"{where}; every weight must be a finite number >= 0."
        )
    if (sample_weight < 0).any():
        index = int(np.flatnonzero(sample_weight < 0)[0])
        position = index if rows is None else int(rows[index])
        raise ValueError(
            f"sample_weight must be non-negative, but sample_weight[{position}] = "
            f"{sample_weight[index]:.6g}{where}; a weight counts how often a row "
            "occurs (0 drops the row)."
        )


def check_sample_weight_total(total):
    """Raise a ValueError naming ``sample_weight`` unless its sum is in (0, inf)."""
    if not total > 0:
        raise ValueError(
            "sample_weight is zero for every row (the weights sum to zero): at "
            "least one row needs a positive weight."
        )
    if not np.isfinite(total):
        raise ValueError(
            "sample_weight sums to infinity: divide the weights by a constant "
            "(scaling all weights changes nothing in the fit as long as "
            "their sum stays well above 10 * eps; a mean weight of 1 is safe)."
        )


def check_sample_weight(sample_weight, n_samples):
    """Validate sample weights for ``n_samples`` rows.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), scalar or None
        Non-negative, finite, not all zero. A scalar stands for that weight
        on every row.
    n_samples : int

    Returns
    -------
    ndarray of shape (n_samples,), float64, or None
        A new array (the caller's is never written to); None for None.

    Raises
    ------
    ValueError
        Naming ``sample_weight``: wrong shape, not numeric, NaN or infinite,
        negative, or all zero.
    """
    if sample_weight is None:
        return None
    array = np.asarray(sample_weight)
    if array.ndim == 0:
        array = np.full(n_samples, array)
    if array.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape (n_samples,) = ({n_samples},), got "
            f"{array.shape}: pass one non-negative weight per row of X."
        )
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"sample_weight must hold numbers, got dtype {array.dtype}; convert "
            "it with np.asarray(sample_weight, dtype=float)."
        )
    array = np.array(array, dtype=np.float64)
    check_sample_weight_values(array)
    check_sample_weight_total(float(array.sum()))
    return array


class DegenerateComponentWarning(UserWarning):
    """An M-step found a component that has lost all its responsibility.

    Issued by `gmmlib.em.m_step`,
    `gmmlib.suffstats.parameters_from_statistics` and so by
    `gmmlib.GaussianMixture.fit` and `partial_fit`, when a
    component's soft count is at most ten machine epsilons of the working
    type (chapter 7, "A component that loses all its responsibility", says
    why). The message names the components, what the M-step did with them and
    what to try instead.
    """


class InnerLoopWarning(UserWarning):
    """An iterative M-step reached its cap of inner iterations.

    Issued by the M-steps of mclust's iterative models (VEI, VEE, VEV, EVE,
    VVE; `gmmlib.covariance`), whose maximiser of Q within the constraint is
    found by a block ascent that stops when the covariances change by less
    than sqrt(eps) of their largest entry. The message names the model and
    what to try.
    """


class StarvedComponentWarning(UserWarning):
    """A component gets almost no responsibility from batch after batch.

    Issued by `gmmlib.GaussianMixture.partial_fit`. A batch that gives the
    component less than 1% of the soft count its weight predicts
    (π_k times the batch's total weight) multiplies the weight by
    less than 1 - 0.99 ρ_t (chapter 11, eq-stepwise), so if the
    batches go on starving it, the weight goes to 0, since
    Σ_t ρ_t = ∞ (eq-step-size).
    """


def lost_responsibility(nk, dtype):
    """The components whose soft count :math:`N_k` is at most ``10 * eps``.

    ``10 * eps`` (of ``dtype``) is what the engine's M-step
    (:func:`gmmlib.suffstats.parameters_from_statistics`) adds to every :math:`N_k`, as
    scikit-learn does; at or below it the addition outweighs the component's
    own count, so its update no longer describes any data (chapter 7, "A
    component that loses all its responsibility"). The threshold is absolute,
    in units of the sample weight: it assumes weights on the scale of counts
    (sum well above ``10 * eps``); scaled far down, every component is lost.

    Parameters
    ----------
    nk : ndarray of shape (n_components,)
    dtype : numpy dtype
        The working type, whose machine epsilon sets the threshold.

    Returns
    -------
    ndarray of int
        Indices k, increasing.
    """
    return np.flatnonzero(np.asarray(nk) <= 10 * np.finfo(dtype).eps)


def report_lost_components(lost, dtype, reg_covar, covariance_type, stacklevel=3):
    """Warn that the M-step resets the components ``lost``; raise if it cannot.

    Both M-steps (:func:`gmmlib.em.m_step` and
    :func:`gmmlib.suffstats.parameters_from_statistics`) give such a
    component the mean 0 and (unless ``covariance_type`` is 'tied') the
    covariance ``reg_covar * I``, scikit-learn's result for a component
    without responsibility. With ``reg_covar == 0`` that covariance
    is singular, and a ``ValueError`` says so instead.

    Parameters
    ----------
    lost : ndarray of int
        From :func:`lost_responsibility`, not empty.
    dtype : numpy dtype
    reg_covar : float
    covariance_type : str
        A registered model's name; a shared covariance (``'tied'``) is kept.
    stacklevel : int
        Passed to :func:`warnings.warn`.

    Raises
    ------
    ValueError
        If ``reg_covar == 0`` and the components have covariances of their own.
    """
    which = [int(k) for k in lost]
    threshold = 10 * np.finfo(dtype).eps
    happened = (
        f"component(s) {which} lost all their responsibility: their soft count "
        f"N_k is at most 10 * eps = {threshold:.2g} ({np.dtype(dtype).name}), so "
        "no row is explained by them."
    )
    todo = (
        "Use fewer components, reinitialise (other means_init or init_params, "
        "a larger n_init), increase reg_covar on standardised data (so that the "
        "reset component overlaps the data), or use a prior that keeps every "
        "component (e.g. sklearn.mixture.BayesianGaussianMixture)."
    )
    model = _covariance.get(covariance_type)
    shared = model.shared
    if not shared and reg_covar == 0:
        raise ValueError(
            f"Fitting the mixture failed: {happened} With reg_covar=0 the M-step "
            f"has no covariance to give them (0 * I is singular). {todo}"
        )
    reset = "their mean to 0"
    if not shared and model.resets_lost:
        reset += f" and their covariance to reg_covar * I = {reg_covar:g} * I"
    elif not shared:
        reset += (
            f" and their covariance to the maximiser of covariance_type="
            f"{model.name!r} (its constraint ties it to the other components)"
        )
    warnings.warn(
        f"{happened[0].upper()}{happened[1:]} The M-step sets {reset}, as "
        "scikit-learn does, and a weight of at most 20 * eps over the total "
        f"sample weight. {todo}",
        DegenerateComponentWarning,
        stacklevel=stacklevel,
    )


def check_missing_values(X, fitting):
    """Whether ``X`` has missing entries (NaN); raise for what EM cannot take.

    ``GaussianMixture`` takes NaN as a missing entry and fits the observed-data
    likelihood (`gmmlib.em.observed_log_likelihood`). Refused, each named
    by its place: ±inf, which is a value and not a missing one (``X[row,
    col]``); a row with no observed value (``X[row]``), which tells nothing
    about the mixture; and, when ``fitting``, a column with no observed value
    (``X[:, j]``), whose mean and variances no row informs.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    fitting : bool
        True when the rows start a fit (``fit``, the first ``partial_fit``).

    Returns
    -------
    bool
        True when X holds a NaN.
    """
    finite = np.isfinite(X)
    if finite.all():
        return False
    infinite = np.argwhere(np.isinf(X))
    if infinite.size:
        row, col = (int(i) for i in infinite[0])
        raise ValueError(
            f"Input X contains infinity at X[{row}, {col}] = {X[row, col]} "
            f"({len(infinite)} infinite entries in all). Only NaN marks a missing "
            "entry: replace the infinite values by finite ones, or by np.nan "
            "where they stand for missing values."
        )
    observed_rows = finite.any(axis=1)
    if not observed_rows.all():
        row = int(np.argmin(observed_rows))
        raise ValueError(
            f"X[{row}] has no observed value (every entry is NaN; "
            f"{int((~observed_rows).sum())} such rows in all). Such a row tells "
            "nothing about the mixture: drop them, e.g. "
            "X = X[~np.isnan(X).all(axis=1)] (and the same rows of sample_weight)."
        )
    if fitting:
        observed_columns = finite.any(axis=0)
        if not observed_columns.all():
            col = int(np.argmin(observed_columns))
            raise ValueError(
                f"X[:, {col}] has no observed value (every entry is NaN), so no "
                "row informs its mean or variance. Drop the column, e.g. "
                "X = X[:, ~np.isnan(X).all(axis=0)], or fit on rows that observe it."
            )
    return True
