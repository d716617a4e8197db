"""Synthetic mixtures: deterministic, faithful to their truth, checked arguments."""

import dataclasses

import numpy as np
import pytest

from gmmlib import datasets


def test_same_seed_gives_the_same_data_and_another_seed_does_not():
    X1, labels1, truth1 = datasets.make_mixture(200, 3, random_state=7)
    X2, labels2, truth2 = datasets.make_mixture(200, 3, random_state=7)
    X3, _, _ = datasets.make_mixture(200, 3, random_state=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(labels1, labels2)
    np.testing.assert_array_equal(truth1.means, truth2.means)
    assert not np.array_equal(X1, X3)


def test_a_generator_can_be_given_as_random_state():
    X1, _, _ = datasets.make_mixture(50, random_state=np.random.default_rng(3))
    X2, _, _ = datasets.make_mixture(50, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(X1, X2)


def test_shapes_of_data_labels_and_truth():
    X, labels, truth = datasets.make_mixture(120, 4, 3, random_state=1)
    assert X.shape == (120, 3)
    assert labels.shape == (120,)
    assert set(np.unique(labels)) <= set(range(4))
    assert truth.n_components == 4
    assert truth.weights.shape == (4,)
    assert truth.means.shape == (4, 3)
    assert truth.covariances.shape == (4, 3, 3)
    assert truth.weights.sum() == pytest.approx(1.0)
    for cov in truth.covariances:
        np.testing.assert_array_equal(cov, cov.T)
        assert np.all(np.linalg.eigvalsh(cov) > 0)


def test_truth_is_read_only():
    _, _, truth = datasets.make_mixture(10, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        truth.weights = np.array([1.0, 0.0])
    with pytest.raises(ValueError, match="read-only"):
        truth.means[0, 0] = 1.0


def test_samples_have_the_statistics_of_their_component():
    X, labels, truth = datasets.make_mixture(30_000, 3, 2, random_state=2)
    for k in range(3):
        points = X[labels == k]
        n = len(points)
        assert n / len(X) == pytest.approx(truth.weights[k], abs=0.02)
        # Within ~5 standard errors of the truth.
        std_error = np.sqrt(np.diag(truth.covariances[k]) / n)
        assert np.all(np.abs(points.mean(axis=0) - truth.means[k]) < 5 * std_error)
        np.testing.assert_allclose(
            np.cov(points, rowvar=False), truth.covariances[k], atol=0.05
        )


@pytest.mark.parametrize("separation", [1.0, 3.0, 6.0])
def test_default_means_are_separated_by_the_requested_distance(separation):
    _, _, truth = datasets.make_mixture(10, 5, 2, separation=separation, random_state=0)
    largest_std = np.sqrt(np.linalg.eigvalsh(truth.covariances).max())
    gaps = np.linalg.norm(truth.means[:, None] - truth.means[None], axis=-1)
    assert gaps[np.triu_indices(5, 1)].min() >= separation * largest_std


def test_given_parameters_are_the_truth():
    weights = [0.7, 0.3]
    means = [[0.0, 0.0], [10.0, -10.0]]
    covariances = [np.eye(2), [[2.0, 0.5], [0.5, 1.0]]]
    X, labels, truth = datasets.make_mixture(
        5000, weights=weights, means=means, covariances=covariances, random_state=3
    )
    np.testing.assert_array_equal(truth.weights, weights)
    np.testing.assert_array_equal(truth.means, means)
    np.testing.assert_array_equal(truth.covariances, covariances)
    assert np.mean(labels == 0) == pytest.approx(0.7, abs=0.03)
    assert X[labels == 1].mean(axis=0) == pytest.approx([10.0, -10.0], abs=0.1)


def test_sizes_follow_the_given_arrays():
    X, _, truth = datasets.make_mixture(20, means=np.zeros((4, 3)))
    assert X.shape == (20, 3)
    assert truth.n_components == 4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, "n_samples must be an integer >= 1"),
        ({"n_samples": 10.5}, "n_samples must be an integer"),
        ({"n_components": 0}, "n_components must be an integer >= 1"),
        ({"n_features": True}, "n_features must be an integer"),
        ({"separation": -1.0}, "separation must be a positive"),
        ({"separation": "far"}, "separation must be a positive"),
        ({"random_state": 1.5}, "random_state must be an integer seed"),
        ({"weights": [0.5, 0.6, 0.1]}, "weights must sum to 1"),
        (
            {"weights": [0.5, 0.5], "means": np.zeros((3, 2))},
            "weights has 2 entries but there are 3",
        ),
        ({"means": [[0.0, 0.0], [1.0, np.nan]]}, "means contains NaN"),
        (
            {"means": np.zeros((2, 2)), "covariances": np.stack([np.eye(3)] * 2)},
            r"must have shape \(2, 2, 2\)",
        ),
        (
            {"covariances": np.stack([np.eye(2), -np.eye(2), np.eye(2)])},
            r"covariances\[1\] is not positive definite",
        ),
    ],
)
def test_bad_arguments_raise_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.make_mixture(**kwargs)
