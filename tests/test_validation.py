"""Bad input to every public core function gets a ValueError naming what to fix."""

import numpy as np
import pytest

from gmmlib import em, gaussian

X = np.array([[0.0, 0.1], [1.0, -0.4], [0.3, 2.0], [-1.2, 0.7], [2.2, 1.1]])
WEIGHTS = np.array([0.4, 0.6])
MEANS = np.array([[0.0, 0.0], [1.0, 1.0]])
COVS = np.stack([np.eye(2), [[2.0, 0.3], [0.3, 1.0]]])
RESP = np.tile([0.25, 0.75], (5, 1))

X_NAN = X.copy()
X_NAN[2, 1] = np.nan
X_INF = X.copy()
X_INF[0, 0] = np.inf
NOT_SPD = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3 and −1
NOT_SYMMETRIC = np.array([[1.0, 0.5], [0.0, 1.0]])
SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])


def covs_with(k, matrix):
    covariances = COVS.copy()
    covariances[k] = matrix
    return covariances


GAUSSIAN_CASES = {
    "X has NaN": ((X_NAN, MEANS[0], COVS[0]), r"X contains NaN or infinity.*\(2, 1\)"),
    "X has inf": ((X_INF, MEANS[0], COVS[0]), "X contains NaN or infinity"),
    "X is 3-D": ((X[None], MEANS[0], COVS[0]), r"X must be a 2-D array.*reshape"),
    "X is text": ((np.array([["a", "b"]]), MEANS[0], COVS[0]), "X must be a real"),
    "X has no samples": ((np.empty((0, 2)), MEANS[0], COVS[0]), "at least one"),
    "mean too long": ((X, np.zeros(3), COVS[0]), r"mean must be .* shape \(2,\)"),
    "mean has NaN": ((X, [np.nan, 0.0], COVS[0]), "mean contains NaN"),
    "cov wrong size": ((X, MEANS[0], np.eye(3)), r"cov has shape \(3, 3\)"),
    "cov not square": ((X, MEANS[0], np.ones((2, 3))), "cov must be a square"),
    "cov not symmetric": ((X, MEANS[0], NOT_SYMMETRIC), "cov is not symmetric"),
    "cov not pd": ((X, MEANS[0], NOT_SPD), "cov is not positive definite.*reg_covar"),
}


@pytest.mark.parametrize(
    "function", [gaussian.log_pdf, gaussian.pdf, gaussian.pdf_grad_cov]
)
@pytest.mark.parametrize("case", GAUSSIAN_CASES)
def test_gaussian_functions_reject_bad_input(function, case):
    args, match = GAUSSIAN_CASES[case]
    with pytest.raises(ValueError, match=match):
        function(*args)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((SINGULAR,), "cov is singular"),
        ((np.ones((2, 3)),), "cov must be a square"),
        ((np.array([[np.inf, 0.0], [0.0, 1.0]]),), "cov contains NaN"),
    ],
)
def test_det_grad_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        gaussian.det_grad(*args)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.ones(2), SINGULAR), "cov is singular"),
        ((np.ones(3), np.eye(2)), r"a must be a vector of shape \(2,\)"),
        ((np.ones((2, 2)), np.eye(2)), r"a must be a vector"),
        ((np.array([np.nan, 1.0]), np.eye(2)), "a contains NaN"),
    ],
)
def test_quad_form_grad_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        gaussian.quad_form_grad(*args)


MIXTURE_CASES = {
    "X has NaN": ((X_NAN, WEIGHTS, MEANS, COVS), "X contains NaN"),
    "X is 1-D": ((X[:, 0], WEIGHTS, MEANS, COVS), "X must be a 2-D array"),
    "weights do not sum to 1": (
        (X, [0.4, 0.5], MEANS, COVS),
        r"weights must sum to 1; they sum to 0\.9.*weights / weights.sum",
    ),
    "negative weight": ((X, [1.5, -0.5], MEANS, COVS), r"weights\[1\] = -0.5"),
    "weights of wrong length": (
        (X, [0.2, 0.3, 0.5], MEANS, COVS),
        "weights has 3 entries but there are 2 components",
    ),
    "weights 2-D": ((X, [WEIGHTS], MEANS, COVS), "weights must be a 1-D array"),
    "means of wrong width": (
        (X, WEIGHTS, np.zeros((2, 3)), COVS),
        "means has 3 columns but X has 2 features",
    ),
    "means 1-D": ((X, WEIGHTS, np.zeros(2), COVS), "means must be a 2-D array"),
    "covariances of wrong shape": (
        (X, WEIGHTS, MEANS, COVS[0]),
        r"covariances .* must have shape \(2, 2, 2\)",
    ),
    "covariance not pd": (
        (X, WEIGHTS, MEANS, covs_with(1, NOT_SPD)),
        r"covariances\[1\] is not positive definite.*increase reg_covar",
    ),
    "covariance not symmetric": (
        (X, WEIGHTS, MEANS, covs_with(0, NOT_SYMMETRIC)),
        r"covariances\[0\] is not symmetric.*symmetric=True",
    ),
    "covariance has inf": (
        (X, WEIGHTS, MEANS, covs_with(0, [[np.inf, 0.0], [0.0, 1.0]])),
        "covariances contains NaN or infinity",
    ),
}


@pytest.mark.parametrize(
    "function",
    [em.responsibilities, em.e_step, em.log_likelihood, em.log_likelihood_grad_cov],
)
@pytest.mark.parametrize("case", MIXTURE_CASES)
def test_mixture_functions_reject_bad_input(function, case):
    args, match = MIXTURE_CASES[case]
    with pytest.raises(ValueError, match=match):
        function(*args)


@pytest.mark.parametrize("case", MIXTURE_CASES)
def test_q_function_rejects_bad_parameters(case):
    (x, weights, means, covariances), match = MIXTURE_CASES[case]
    with pytest.raises(ValueError, match=match):
        em.expected_complete_log_likelihood(x, RESP, weights, means, covariances)


@pytest.mark.parametrize(
    ("covariance_type", "covariances", "match"),
    [
        ("diagonal", COVS, r"covariance_type must be one of .*'diag'"),
        ("diag", np.array([[1.0, 0.0], [1.0, 1.0]]), r"covariances\[0, 1\] = 0"),
        ("spherical", np.array([1.0, -2.0]), r"covariances\[1\] = -2"),
        ("tied", NOT_SPD, "covariances is not positive definite"),
        ("diag", COVS, r"covariance_type='diag'\) must have shape \(2, 2\)"),
    ],
)
def test_shaped_covariances_are_checked_for_their_type(
    covariance_type, covariances, match
):
    with pytest.raises(ValueError, match=match):
        em.log_likelihood(X, WEIGHTS, MEANS, covariances, covariance_type)


def test_points_whose_density_overflows_get_a_clear_error():
    far = np.array([[1e200, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"X\[0\] is so far from every component"):
        em.responsibilities(far, WEIGHTS, MEANS, COVS)


def test_q_function_rejects_bad_resp():
    with pytest.raises(ValueError, match="resp has 3 columns but there are 2"):
        em.expected_complete_log_likelihood(
            X, np.full((5, 3), 1 / 3), WEIGHTS, MEANS, COVS
        )
    with pytest.raises(ValueError, match="resp has 4 rows but X has 5 samples"):
        em.expected_complete_log_likelihood(X, RESP[:4], WEIGHTS, MEANS, COVS)


RESP_CASES = {
    "rows do not sum to 1": (
        np.tile([0.5, 0.4], (5, 1)),
        r"resp rows must sum to 1; row 0 sums to 0\.9",
    ),
    "negative": (
        np.tile([1.5, -0.5], (5, 1)),
        r"resp must be nonnegative; resp\[0, 1\]",
    ),
    "1-D": (np.ones(5), "resp must be a 2-D array"),
    "NaN": (np.tile([np.nan, 1.0], (5, 1)), "resp contains NaN"),
}


@pytest.mark.parametrize("case", RESP_CASES)
@pytest.mark.parametrize(
    "function",
    [
        lambda resp: em.update_weights(resp),
        lambda resp: em.update_means(X, resp),
        lambda resp: em.update_covariances(X, resp, MEANS),
        lambda resp: em.m_step(X, resp),
    ],
    ids=["update_weights", "update_means", "update_covariances", "m_step"],
)
def test_m_step_functions_reject_bad_resp(function, case):
    resp, match = RESP_CASES[case]
    with pytest.raises(ValueError, match=match):
        function(resp)


@pytest.mark.parametrize(
    "function",
    [em.update_means, lambda x, resp: em.update_covariances(x, resp, MEANS)],
    ids=["update_means", "update_covariances"],
)
def test_resp_with_another_number_of_rows_is_rejected(function):
    with pytest.raises(ValueError, match="resp has 3 rows but X has 5 samples"):
        function(X, RESP[:3])


EMPTY = np.tile([1.0, 0.0], (5, 1))


@pytest.mark.parametrize(
    "function",
    [
        lambda: em.update_means(X, EMPTY),
        lambda: em.update_covariances(X, EMPTY, MEANS, "full"),
        lambda: em.update_covariances(X, EMPTY, MEANS, "diag"),
        lambda: em.update_covariances(X, EMPTY, MEANS, "spherical"),
        lambda: em.m_step(X, EMPTY),
    ],
    ids=["update_means", "full", "diag", "spherical", "m_step"],
)
def test_component_with_no_responsibility_is_named(function):
    # the update functions say N_k = 0; m_step (reg_covar=0: nothing to reset
    # the component to) says the component lost all its responsibility
    named = r"(component 1 has N_k = 0|component\(s\) \[1\] lost all their)"
    with pytest.raises(ValueError, match=named + r".*fewer components"):
        function()


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_collapsed_component_error_says_what_to_try(covariance_type):
    # Component 1 owns a single point: its scatter is zero.
    resp = np.tile([1.0, 0.0], (5, 1))
    resp[3] = [0.0, 1.0]
    data = X.copy()
    if covariance_type == "tied":
        data[:] = data[3]  # every point equal: nothing spans any direction
    means = em.update_means(data, resp)
    with pytest.raises(ValueError, match=r"component 1|tied") as info:
        em.update_covariances(data, resp, means, covariance_type)
    assert "increase reg_covar" in str(info.value)
    assert "fewer components" in str(info.value)
    # The advice works: reg_covar makes it positive definite.
    fixed = em.update_covariances(data, resp, means, covariance_type, reg_covar=1e-6)
    assert np.all(np.isfinite(fixed))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"covariance_type": "ful"}, "covariance_type must be one of"),
        ({"reg_covar": -1e-6}, "reg_covar must be a finite nonnegative"),
        ({"reg_covar": np.nan}, "reg_covar must be a finite nonnegative"),
        ({"reg_covar": "small"}, "reg_covar must be a nonnegative float"),
    ],
)
def test_update_covariances_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        em.update_covariances(X, RESP, MEANS, **kwargs)
    with pytest.raises(ValueError, match=match):
        em.m_step(X, RESP, **kwargs)


def test_update_covariances_rejects_means_of_the_wrong_shape():
    with pytest.raises(ValueError, match="means has 3 rows but there are 2 components"):
        em.update_covariances(X, RESP, np.zeros((3, 2)))


def test_updates_that_overflow_the_dtype_say_to_scale_the_data():
    spread = np.array([[1e20, 0.0], [-1e20, 1.0], [3e19, 2.0]], dtype=np.float32)
    resp = np.ones((3, 1), dtype=np.float32)
    means = em.update_means(spread, resp)
    for covariance_type in ("full", "diag"):
        with pytest.raises(ValueError, match="overflow in float32.*scale or standard"):
            em.update_covariances(spread, resp, means, covariance_type)
    huge = np.array([[1.5e308, 0.0], [1.6e308, 1.0]])
    with pytest.raises(ValueError, match="updated means overflow in float64"):
        em.update_means(huge, np.ones((2, 1)))


@pytest.mark.parametrize("method", ["fit", "predict", "score_samples"])
def test_complex_input_is_refused_in_one_short_message(method):
    from gmmlib import GaussianMixture

    X = np.random.default_rng(0).normal(size=(500, 3))
    model = GaussianMixture(2, random_state=0)
    if method != "fit":
        model.fit(X)
    with pytest.raises(ValueError, match="Complex data not supported") as info:
        getattr(model, method)(X + 1j)
    message = str(info.value)
    assert "complex128" in message and "X.real" in message
    assert len(message) < 300 and "\n" not in message  # not the whole array
