"""Pictures of mixtures: covariance ellipses, responsibilities, EM traces.

matplotlib is imported inside the functions, so ``import gmmlib`` does not need
it (install it with the ``plot`` extra). Every function draws on axes it is
given, or returns a new figure, and returns what it drew; none calls
``plt.show()``. Import this module explicitly: ``from gmmlib import plotting``.

The data must be two-dimensional (n_features == 2).
"""

import numpy as np

from gmmlib import em
from gmmlib._validation import check_covariances, check_means, check_resp, check_X

__all__ = [
    "ellipse_patches",
    "plot_covariance_ellipses",
    "plot_em_iterations",
    "plot_log_likelihood",
    "plot_responsibilities",
]


def _component_colors(n_components):
    """RGB colours of the components, from matplotlib's default cycle."""
    from matplotlib.colors import to_rgb

    return np.array([to_rgb(f"C{k % 10}") for k in range(n_components)])


def _check_two_features(n_features, name):
    if n_features != 2:
        raise ValueError(
            f"{name} must have 2 features to be drawn in the plane; got "
            f"{n_features}. Project the data first (e.g. onto two coordinates)."
        )


def ellipse_patches(means, covariances, n_std=(1, 2), covariance_type="full", **kw):
    """Ellipses {x : (x − μ)ᵀ Σ⁻¹ (x − μ) = s²} for each component and each s.

    The axes come from the eigendecomposition Σ = V diag(λ) Vᵀ: semi-axes
    s √λ_i along the eigenvectors v_i.

    Parameters
    ----------
    means : array-like of shape (n_components, 2)
    covariances : array-like
        Shape for ``covariance_type`` (full: (n_components, 2, 2)).
    n_std : float or sequence of float, default=(1, 2)
        The Mahalanobis radii s, in standard deviations.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
    **kw
        Passed to :class:`matplotlib.patches.Ellipse` (default: no fill, the
        component's colour as edge colour).

    Returns
    -------
    patches : list of matplotlib.patches.Ellipse
        Component by component, radius by radius; not yet added to any axes.
    """
    from matplotlib.patches import Ellipse

    means = check_means(means)
    n_components, n_features = means.shape
    _check_two_features(n_features, "means")
    full, _ = check_covariances(covariances, n_components, n_features, covariance_type)
    radii = np.atleast_1d(np.asarray(n_std, dtype=np.float64))
    if radii.ndim != 1 or np.any(~np.isfinite(radii)) or np.any(radii <= 0):
        raise ValueError(f"n_std must be positive numbers; got {n_std!r}.")
    colors = _component_colors(n_components)
    patches = []
    for k in range(n_components):
        eigenvalues, eigenvectors = np.linalg.eigh(full[k])  # ascending
        major = eigenvectors[:, 1]
        angle = np.degrees(np.arctan2(major[1], major[0]))
        style = {"fill": False, "edgecolor": colors[k]} | kw
        for s in radii:
            patches.append(
                Ellipse(
                    xy=means[k],
                    width=2 * s * np.sqrt(eigenvalues[1]),
                    height=2 * s * np.sqrt(eigenvalues[0]),
                    angle=angle,
                    **style,
                )
            )
    return patches


def plot_covariance_ellipses(
    ax, means, covariances, n_std=(1, 2), covariance_type="full", **kw
):
    """Draw the covariance ellipses of each component on ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    means, covariances, n_std, covariance_type, **kw
        As in :func:`ellipse_patches`.

    Returns
    -------
    patches : list of matplotlib.patches.Ellipse
        The patches added to ``ax``.
    """
    patches = ellipse_patches(means, covariances, n_std, covariance_type, **kw)
    for patch in patches:
        ax.add_patch(patch)
    ax.autoscale_view()
    return patches


def plot_responsibilities(ax, X, resp, **kw):
    """Scatter X with each point's colour the γ-weighted mix of component colours.

    A point wholly explained by component k gets k's colour; a point shared
    between two components a blend (Bishop, Fig. 9.5c).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    X : array-like of shape (n_samples, 2)
    resp : array-like of shape (n_samples, n_components)
        Rows sum to 1.
    **kw
        Passed to ``ax.scatter``.

    Returns
    -------
    points : matplotlib.collections.PathCollection
    """
    X, _ = check_X(X)
    _check_two_features(X.shape[1], "X")
    resp = check_resp(resp, n_samples=X.shape[0])
    colors = np.clip(resp @ _component_colors(resp.shape[1]), 0.0, 1.0)
    style = {"s": 12, "linewidths": 0} | kw
    return ax.scatter(X[:, 0], X[:, 1], c=colors, **style)


def _history_values(history_or_values):
    values = [
        entry["log_likelihood"] if isinstance(entry, dict) else entry
        for entry in history_or_values
    ]
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            "history_or_values must be a non-empty list of history dicts (with a "
            "'log_likelihood' key) or of numbers."
        )
    return values


def plot_log_likelihood(ax, history_or_values, **kw):
    """Plot the log-likelihood against the EM iteration.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    history_or_values : list of dict or sequence of float
        The estimator's ``history_`` (dicts with a ``"log_likelihood"`` key) or
        the values themselves; entry i belongs to iteration i.
    **kw
        Passed to ``ax.plot``.

    Returns
    -------
    line : matplotlib.lines.Line2D
    """
    values = _history_values(history_or_values)
    style = {"marker": "o", "markersize": 3} | kw
    (line,) = ax.plot(np.arange(values.size), values, **style)
    ax.set_xlabel("iteration")
    ax.set_ylabel("log-likelihood")
    return line


def _select_iterations(iterations, n_entries):
    """Resolve "last" and negative indices; drop those past the end and repeats."""
    chosen = []
    for i in iterations:
        index = n_entries - 1 if i == "last" else i
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise ValueError(
                f"iterations must hold integers or 'last'; got {i!r} in {iterations}."
            )
        if index < 0:
            index += n_entries
        if 0 <= index < n_entries and index not in chosen:
            chosen.append(int(index))
    return chosen


def plot_em_iterations(
    X,
    history,
    iterations=(0, 1, 2, 5, 20, "last"),
    *,
    covariance_type="full",
    n_std=(1, 2),
    ncols=3,
    panel_size=3.0,
):
    """A grid of EM iterations, in the manner of Bishop's Fig. 9.8.

    Each panel shows the data coloured by the responsibilities under that
    iteration's parameters, and the components' covariance ellipses.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
    history : list of dict
        ``history[i]`` holds the parameters after i EM iterations
        (``history[0]`` the initial ones) under the keys ``"weights"``,
        ``"means"``, ``"covariances"`` and ``"log_likelihood"``: the
        estimator's ``history_``.
    iterations : sequence of int or "last", default=(0, 1, 2, 5, 20, "last")
        Which entries to draw; ``"last"`` and negative indices count from the
        end. Iterations beyond the history (EM converged earlier) and repeats
        are skipped.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        The shape of the covariances stored in ``history``.
    n_std : float or sequence of float, default=(1, 2)
        Radii of the ellipses, in standard deviations.
    ncols : int, default=3
        Panels per row.
    panel_size : float, default=3.0
        Width and height of each panel in inches.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes per drawn iteration, titled with its number and L. Made with
        pyplot, so a notebook shows it like any other figure; close it with
        ``plt.close(fig)`` when drawing many.
    """
    import matplotlib.pyplot as plt

    X, _ = check_X(X)
    _check_two_features(X.shape[1], "X")
    if not isinstance(history, list | tuple) or len(history) == 0:
        raise ValueError(
            "history must be a non-empty list of dicts with keys 'weights', "
            "'means', 'covariances', 'log_likelihood' (the estimator's history_ "
            "when fitted with history kept)."
        )
    chosen = _select_iterations(iterations, len(history))
    if not chosen:
        raise ValueError(
            f"none of iterations={iterations} is within the {len(history)} "
            "entries of history."
        )
    ncols = min(int(ncols), len(chosen))
    nrows = -(-len(chosen) // ncols)
    fig = plt.figure(
        figsize=(panel_size * ncols, panel_size * nrows), layout="constrained"
    )
    for panel, i in enumerate(chosen):
        entry = history[i]
        ax = fig.add_subplot(nrows, ncols, panel + 1)
        resp = em.responsibilities(
            X, entry["weights"], entry["means"], entry["covariances"], covariance_type
        )
        plot_responsibilities(ax, X, resp)
        plot_covariance_ellipses(
            ax, entry["means"], entry["covariances"], n_std, covariance_type
        )
        value = entry.get("log_likelihood")
        title = f"iteration {i}"
        if value is not None and np.isfinite(value):
            title += f"\nL = {value:.2f}"
        ax.set_title(title, fontsize="medium")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    return fig
