"""Synthetic Gaussian mixtures with known parameters.

The book's data: samples from a mixture whose true weights, means and
covariances are returned alongside, so a chapter can compare what EM finds
with the truth. Everything is seeded: the same arguments give the same data.
"""

from dataclasses import dataclass

import numpy as np

from gmmlib._validation import check_covariances, check_means, check_weights

__all__ = ["MixtureParameters", "make_mixture"]


@dataclass(frozen=True, eq=False)
class MixtureParameters:
    """The parameters of a Gaussian mixture (read-only arrays).

    Attributes
    ----------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray of shape (n_components, n_features, n_features)
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self):
        for name in ("weights", "means", "covariances"):
            array = np.array(getattr(self, name), dtype=np.float64)
            array.flags.writeable = False
            object.__setattr__(self, name, array)

    @property
    def n_components(self):
        """The number of components K."""
        return self.weights.shape[0]


def _check_count(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}.")
    return int(value)


def _random_covariances(rng, n_components, n_features):
    """Random rotations of axis variances in [0.25, 1]: standard deviations ≤ 1."""
    covariances = np.empty((n_components, n_features, n_features))
    for k in range(n_components):
        rotation, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
        variances = rng.uniform(0.25, 1.0, size=n_features)
        covariances[k] = (rotation * variances) @ rotation.T
        covariances[k] = 0.5 * (covariances[k] + covariances[k].T)
    return covariances


def _separated_means(rng, n_components, n_features, min_distance):
    """Means drawn in a box, redrawn until all pairs are ``min_distance`` apart."""
    # A box whose volume leaves room for K balls of diameter min_distance.
    side = min_distance * max(2.0, 2.0 * n_components ** (1.0 / n_features))
    while True:
        for _ in range(1000):
            means = rng.uniform(-side / 2, side / 2, size=(n_components, n_features))
            gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)
            gaps[np.diag_indices(n_components)] = np.inf
            if gaps.min() >= min_distance:
                return means
        side *= 1.5


def make_mixture(
    n_samples=500,
    n_components=3,
    n_features=2,
    *,
    weights=None,
    means=None,
    covariances=None,
    separation=3.0,
    random_state=0,
):
    """Draw samples from a Gaussian mixture with known parameters.

    Unspecified parameters are drawn at random: uniform weights 1/K; full
    covariances with axis standard deviations between 0.5 and 1 in random
    orientations; means at least ``separation`` standard deviations apart
    (in units of the largest standard deviation of any component, so
    ``separation=3`` gives well separated clusters and ``1`` overlapping ones).

    Parameters
    ----------
    n_samples : int, default=500
    n_components : int, default=3
        Ignored where ``weights``, ``means`` or ``covariances`` fix K.
    n_features : int, default=2
        Ignored where ``means`` or ``covariances`` fix d.
    weights : array-like of shape (n_components,), optional
        Nonnegative, summing to 1.
    means : array-like of shape (n_components, n_features), optional
    covariances : array-like of shape (n_components, n_features, n_features), optional
        Symmetric positive definite.
    separation : float, default=3.0
        Minimum distance between random means, in standard deviations. Only
        used when ``means`` is not given.
    random_state : int or numpy.random.Generator, default=0
        Seed; the same seed gives the same data.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,)
        The component that generated each sample (the latent z).
    truth : MixtureParameters
        The weights, means and covariances the samples were drawn from.
    """
    n_samples = _check_count(n_samples, "n_samples")
    n_components, n_features = _infer_sizes(
        n_components, n_features, weights, means, covariances
    )
    if isinstance(random_state, bool) or not isinstance(
        random_state, int | np.integer | np.random.Generator
    ):
        raise ValueError(
            "random_state must be an integer seed or a numpy.random.Generator; got "
            f"{random_state!r}."
        )
    rng = np.random.default_rng(random_state)
    try:
        separation = float(separation)
    except (TypeError, ValueError):
        separation = np.nan
    if not np.isfinite(separation) or separation <= 0:
        raise ValueError(
            f"separation must be a positive finite number (e.g. 3.0); got {separation}."
        )

    if weights is None:
        weights = np.full(n_components, 1.0 / n_components)
    else:
        weights = check_weights(weights, n_components, dtype=np.float64)
        weights = weights / weights.sum()  # exact, so rng.choice accepts them
    if covariances is None:
        covariances = _random_covariances(rng, n_components, n_features)
    else:
        covariances, _ = check_covariances(
            covariances, n_components, n_features, dtype=np.float64
        )
    if means is None:
        largest_std = np.sqrt(np.max(np.linalg.eigvalsh(covariances)))
        means = _separated_means(
            rng, n_components, n_features, separation * largest_std
        )
    else:
        means = check_means(means, n_components, n_features, dtype=np.float64)

    labels = rng.choice(n_components, size=n_samples, p=weights)
    cholesky = np.linalg.cholesky(covariances)
    noise = rng.standard_normal((n_samples, n_features))
    X = means[labels] + np.einsum("nij,nj->ni", cholesky[labels], noise)
    return X, labels, MixtureParameters(weights, means, covariances)


def _infer_sizes(n_components, n_features, weights, means, covariances):
    """K and d from the given arrays when present, else from the counts."""
    n_components = _check_count(n_components, "n_components")
    n_features = _check_count(n_features, "n_features")
    if means is not None:
        shape = np.shape(means)
        if len(shape) == 2:
            n_components, n_features = shape
    elif covariances is not None:
        shape = np.shape(covariances)
        if len(shape) == 3:
            n_components, n_features = shape[0], shape[1]
    elif weights is not None and len(np.shape(weights)) == 1:
        n_components = np.shape(weights)[0]
    return n_components, n_features
