"""One home per covariance structure (chapter 6).

Each structure of Σ_k is a ``CovarianceModel`` that owns its M-step from
the sufficient statistics, its parameter count, the conversions to the
Cholesky factors the E-step engine reads, the checks of user-given values and
the singularity test of fitted ones. The rest of gmmlib asks ``get`` for
the model of a ``covariance_type`` and never compares the name itself.
The four models are scikit-learn's: ``Full``, ``Tied``, ``Diag`` and
``Spherical``.

Adding a structure is one class and one ``register`` call (CONTRIBUTING,
"Adding a covariance model").
"""

from gmmlib.covariance._base import (
    CovarianceModel,
    DiagonalLayout,
    GeneralLayout,
    lower_factor,
    pivots_singular,
)
from gmmlib.covariance._diagonal import Diag, Spherical
from gmmlib.covariance._general import Full, Tied

__all__ = [
    "MODELS",
    "CovarianceModel",
    "Diag",
    "DiagonalLayout",
    "Full",
    "GeneralLayout",
    "Spherical",
    "Tied",
    "get",
    "lower_factor",
    "names",
    "pivots_singular",
    "register",
    "unregister",
]

#: The registered models by name, in the order they are listed to users.
MODELS = {}


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


def names():
    """The registered ``covariance_type`` names, as a tuple."""
    return tuple(MODELS)


def get(name):
    """The model of ``covariance_type`` ``name``.

    Raises
    ------
    ValueError
        If no model has that name; the message lists the names.
    """
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"covariance_type must be one of {names()}; got {name!r}."
        ) from None


for _model in (Full(), Tied(), Diag(), Spherical()):
    register(_model)
