"""One home per covariance structure (chapter 6).

Each structure of Σ_k is a ``CovarianceModel`` that owns its M-step from
the sufficient statistics, its parameter count, the conversions to the
Cholesky factors the E-step engine reads, the checks of user-given values and
the singularity test of fitted ones. The rest of gmmlib asks ``get`` for
the model of a ``covariance_type`` and never compares the name itself.
Four models are scikit-learn's: ``Full``, ``Tied``, ``Diag`` and
``Spherical``; the other ten are mclust's (Celeux & Govaert 1995), named by
the three letters of Σ_k = λ_k D_k A_k D_kᵀ (volume, shape, orientation: E
equal, V varies, I identity). mclust's VII, VVI, EEE and VVV are aliases of
'spherical', 'diag', 'tied' and 'full': the same model objects
(``ALIASES``).

Adding a structure is one class and one ``register`` call (CONTRIBUTING,
"Adding a covariance model").
"""

from collections.abc import Set

import numpy as np

from gmmlib.covariance._base import (
    CovarianceModel,
    DiagonalLayout,
    GeneralLayout,
    lower_factor,
    pivots_singular,
)
from gmmlib.covariance._diagonal import EEI, EII, EVI, VEI, Diag, Spherical
from gmmlib.covariance._general import EEV, EVE, EVV, VEE, VEV, VVE, Full, Tied
from gmmlib.covariance._parsimonious import (
    MAX_INNER_ITER,
    Parsimonious,
    n_variance_parameters,
)

__all__ = [
    "ACCEPTED",
    "ALIASES",
    "EEI",
    "EEV",
    "EII",
    "EVE",
    "EVI",
    "EVV",
    "MAX_INNER_ITER",
    "MCLUST_ORDER",
    "MODELS",
    "VEE",
    "VEI",
    "VEV",
    "VVE",
    "CovarianceModel",
    "Diag",
    "DiagonalLayout",
    "Full",
    "GeneralLayout",
    "Parsimonious",
    "Spherical",
    "Tied",
    "decompose",
    "get",
    "lower_factor",
    "n_variance_parameters",
    "names",
    "pivots_singular",
    "register",
    "unregister",
]

#: The registered models by name, in the order they are listed to users.
MODELS = {}

#: mclust's names of scikit-learn's four models.
ALIASES = {"VII": "spherical", "VVI": "diag", "EEE": "tied", "VVV": "full"}

#: mclust's fourteen models, in mclust's order.
MCLUST_ORDER = (
    "EII",
    "VII",
    "EEI",
    "VEI",
    "EVI",
    "VVI",
    "EEE",
    "VEE",
    "EVE",
    "VVE",
    "EEV",
    "VEV",
    "EVV",
    "VVV",
)


def register(model):
    """Add a model instance under ``model.name``; returns the model.

    Raises
    ------
    ValueError
        If the name is already taken.
    """
    if model.name in MODELS:
        raise ValueError(f"a covariance model named {model.name!r} is registered.")
    MODELS[model.name] = model
    return model


def unregister(name):
    """Remove the model ``name`` (a test's temporary model)."""
    del MODELS[name]


def names(which="sklearn"):
    """``covariance_type`` names, as a tuple.

    Parameters
    ----------
    which : {"sklearn", "mclust", "all"}, default="sklearn"
        "sklearn": the registered names that are not mclust's (scikit-learn's
        four, and any model registered under another name); "mclust":
        mclust's fourteen, in mclust's order ("VII" for 'spherical', ...);
        "all": every name ``get`` accepts.
    """
    if which == "sklearn":
        return tuple(name for name in MODELS if name not in MCLUST_ORDER)
    if which == "mclust":
        return tuple(n for n in MCLUST_ORDER if n in MODELS or n in ALIASES)
    if which == "all":
        return tuple(MODELS) + tuple(n for n in ALIASES if ALIASES[n] in MODELS)
    raise ValueError(f'which must be "sklearn", "mclust" or "all"; got {which!r}.')


class _Accepted(Set):
    """The live set of every accepted name (the estimator's parameter check)."""

    def __contains__(self, name):
        return isinstance(name, str) and name in names("all")

    def __iter__(self):
        return iter(names("all"))

    def __len__(self):
        return len(names("all"))

    @classmethod
    def _from_iterable(cls, iterable):
        # the result of set operations (scikit-learn's check subtracts it)
        return frozenset(iterable)


#: Every name ``get`` accepts, as a live set.
ACCEPTED = _Accepted()


def get(name):
    """The model of ``covariance_type`` ``name``.

    Raises
    ------
    ValueError
        If no model has that name; the message lists the names.
    """
    try:
        return MODELS[ALIASES.get(name, name)]
    except (KeyError, TypeError):
        raise ValueError(
            f"covariance_type must be one of {names()} or mclust's "
            f"{names('mclust')}; got {name!r}."
        ) from None


def letters(name):
    """mclust's three letters of the model ``name`` (e.g. 'full' -> 'VVV')."""
    model = get(name)
    for alias, target in ALIASES.items():
        if target == model.name:
            return alias
    if isinstance(model, Parsimonious):
        return model.name
    raise ValueError(f"covariance_type={name!r} is none of mclust's models.")


def decompose(covariances, covariance_type, n_features=None):
    r"""mclust's volume, shape and orientation of each Σ_k = λ_k D_k A_k D_kᵀ.

    :math:`λ_k = |Σ_k|^{1/d}`; :math:`A_k` diagonal with :math:`|A_k| = 1`;
    :math:`D_k` orthogonal. For an orientation I, :math:`D_k = I` and
    :math:`A_k` is the diagonal over :math:`λ_k`; for an equal orientation
    (EEE, VEE, EVE, VVE), every :math:`D_k` is the eigenbasis of
    :math:`Σ_1` (descending eigenvalues) and :math:`A_k` the diagonal of
    :math:`D^{\mathsf{T}} Σ_k D` over :math:`λ_k`; otherwise :math:`D_k` are
    the eigenvectors of :math:`Σ_k`, eigenvalues descending. Within its
    model, a letter E is then the same for every k (up to rounding).

    Parameters
    ----------
    covariances : array-like
        The ``covariances_`` of the model's shape.
    covariance_type : str
        A name of ``names("all")``.
    n_features : int, optional
        Needed only for 'spherical' (VII), whose attribute does not hold it.
        'tied' (EEE) gives one component.

    Returns
    -------
    volume : ndarray of shape (n_components,)
    shape : ndarray of shape (n_components, n_features)
    orientation : ndarray of shape (n_components, n_features, n_features)
    """
    model = get(covariance_type)
    orientation_letter = letters(covariance_type)[2]
    covariances = np.asarray(covariances, dtype=float)
    if covariances.ndim == 1:  # 'spherical': one variance per component
        if n_features is None:
            raise ValueError(
                "covariances of covariance_type='spherical' hold one variance per "
                "component and no number of features: pass n_features."
            )
        K, d = len(covariances), int(n_features)
    elif covariances.ndim == 2 and not model.diagonal:  # 'tied': one matrix
        K, d = 1, covariances.shape[-1]
    else:
        K, d = covariances.shape[0], covariances.shape[-1]
    full = np.array(model.to_full(covariances, K, d))
    if orientation_letter == "I":
        D = np.broadcast_to(np.eye(d), (K, d, d))
        diagonals = np.diagonal(full, axis1=1, axis2=2)
    elif orientation_letter == "E":
        D = np.broadcast_to(np.linalg.eigh(full[0])[1][:, ::-1], (K, d, d))
        diagonals = np.einsum("kai,kab,kbi->ki", D, full, D)
    else:
        values, vectors = np.linalg.eigh(full)
        diagonals, D = values[:, ::-1], vectors[:, :, ::-1]
    volume = np.exp(np.mean(np.log(diagonals), axis=1))
    return volume, diagonals / volume[:, None], np.array(D)


for _model in (
    Full(),
    Tied(),
    Diag(),
    Spherical(),
    EII(),
    EEI(),
    VEI(),
    EVI(),
    VEE(),
    EVE(),
    VVE(),
    EEV(),
    VEV(),
    EVV(),
):
    register(_model)
