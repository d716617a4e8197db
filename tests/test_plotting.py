"""Pictures: ellipse geometry, colours, the EM grid and the likelihood curve."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from gmmlib import datasets, em, plotting  # noqa: E402

MEANS = np.array([[0.0, 0.0], [4.0, 1.0]])
COVS = np.array([[[3.0, 1.2], [1.2, 1.0]], [[0.5, 0.0], [0.0, 2.0]]])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_importing_gmmlib_does_not_import_matplotlib():
    code = "import sys, gmmlib; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_ellipse_semi_axes_are_n_std_times_sqrt_eigenvalues():
    patches = plotting.ellipse_patches(MEANS, COVS, n_std=(1, 2))
    assert len(patches) == 4  # two components, two radii each
    for k in range(2):
        eigenvalues = np.linalg.eigvalsh(COVS[k])
        for patch, s in zip(patches[2 * k : 2 * k + 2], (1, 2), strict=True):
            np.testing.assert_allclose(patch.center, MEANS[k])
            np.testing.assert_allclose(patch.width / 2, s * np.sqrt(eigenvalues[1]))
            np.testing.assert_allclose(patch.height / 2, s * np.sqrt(eigenvalues[0]))


@pytest.mark.parametrize("s", [1.0, 2.5])
def test_ellipse_boundary_is_the_mahalanobis_contour(s):
    # Every boundary point x satisfies (x − μ)ᵀ Σ⁻¹ (x − μ) = s². The path is
    # cubic Béziers: every third vertex is on the curve, the others control it.
    for k, patch in enumerate(plotting.ellipse_patches(MEANS, COVS, n_std=s)):
        on_curve = patch.get_path().vertices[:-1:3]
        boundary = patch.get_patch_transform().transform(on_curve)
        diff = boundary - MEANS[k]
        mahalanobis = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(COVS[k]), diff)
        np.testing.assert_allclose(mahalanobis, s**2, rtol=1e-6)


def test_diagonal_covariances_give_axis_aligned_ellipses():
    patches = plotting.ellipse_patches(
        MEANS, [[1.0, 4.0], [9.0, 1.0]], n_std=1, covariance_type="diag"
    )
    assert [p.angle % 180 for p in patches] == pytest.approx([90.0, 0.0])
    assert [p.width for p in patches] == pytest.approx([4.0, 6.0])


def test_plot_covariance_ellipses_adds_the_patches_to_the_axes():
    fig, ax = plt.subplots()
    patches = plotting.plot_covariance_ellipses(ax, MEANS, COVS, n_std=(1, 2, 3))
    assert len(patches) == 6
    assert all(p in ax.patches for p in patches)
    assert patches[0].get_edgecolor()[:3] == pytest.approx(to_rgb("C0"))
    assert patches[3].get_edgecolor()[:3] == pytest.approx(to_rgb("C1"))


def test_point_colours_mix_component_colours_by_responsibility():
    fig, ax = plt.subplots()
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    resp = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    points = plotting.plot_responsibilities(ax, X, resp)
    c0, c1 = np.array(to_rgb("C0")), np.array(to_rgb("C1"))
    colours = points.get_facecolors()[:, :3]
    np.testing.assert_allclose(colours, [c0, c1, (c0 + c1) / 2], atol=1e-12)
    np.testing.assert_array_equal(points.get_offsets(), X)


def em_history(n_iterations):
    X, _, _ = datasets.make_mixture(150, 2, random_state=0)
    weights, means, covariances = np.full(2, 0.5), X[:2], np.stack([np.eye(2)] * 2)
    history = []
    for _ in range(n_iterations + 1):
        history.append(
            {
                "weights": weights,
                "means": means,
                "covariances": covariances,
                "log_likelihood": em.log_likelihood(X, weights, means, covariances),
            }
        )
        resp = em.e_step(X, weights, means, covariances)
        weights, means, covariances = em.m_step(X, resp)
    return X, history


def test_em_grid_has_one_panel_per_requested_iteration():
    X, history = em_history(7)  # entries 0..7: iteration 20 does not exist
    fig = plotting.plot_em_iterations(X, history)
    titles = [ax.get_title().splitlines()[0] for ax in fig.axes]
    assert titles == [f"iteration {i}" for i in (0, 1, 2, 5, 7)]
    last = fig.axes[-1]
    assert f"{history[7]['log_likelihood']:.2f}" in last.get_title()
    assert len(last.patches) == 4  # two components at radii 1 and 2
    assert len(last.collections) == 1 and len(last.collections[0].get_offsets()) == 150


def test_em_grid_honours_explicit_iterations_and_columns():
    X, history = em_history(4)
    fig = plotting.plot_em_iterations(X, history, iterations=(-1, 0, 0), ncols=1)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title().startswith("iteration 4")
    assert fig.axes[1].get_subplotspec().rowspan.start == 1


def test_log_likelihood_curve_takes_history_or_values():
    _, history = em_history(5)
    values = [entry["log_likelihood"] for entry in history]
    fig, (ax1, ax2) = plt.subplots(1, 2)
    line1 = plotting.plot_log_likelihood(ax1, history)
    line2 = plotting.plot_log_likelihood(ax2, values)
    np.testing.assert_array_equal(line1.get_ydata(), values)
    np.testing.assert_array_equal(line2.get_ydata(), values)
    np.testing.assert_array_equal(line1.get_xdata(), np.arange(6))
    assert ax1.get_xlabel() == "iteration"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: plotting.ellipse_patches(np.zeros((1, 3)), np.eye(3)[None]),
            "means must have 2 features",
        ),
        (lambda: plotting.ellipse_patches(MEANS, COVS, n_std=0), "n_std must be"),
        (
            lambda: plotting.ellipse_patches(MEANS, -COVS),
            r"covariances\[0\] is not positive definite",
        ),
        (
            lambda: plotting.plot_em_iterations(np.zeros((3, 2)), []),
            "history must be a non-empty list",
        ),
        (
            lambda: plotting.plot_em_iterations(
                np.zeros((3, 2)), em_history(1)[1], iterations=(5,)
            ),
            "none of iterations",
        ),
        (lambda: plotting.plot_log_likelihood(None, []), "non-empty list"),
    ],
)
def test_bad_arguments_raise_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
