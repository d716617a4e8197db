"""Planted errors checked by chapter 10, ``10_identifiability_and_kmeans.md``."""

from . import PlantedError

CHAPTER = "chapters/10_identifiability_and_kmeans.md"

ERRORS = (
    PlantedError(
        "weights-reversed",
        "gmmlib/em.py",
        "    log_weights = np.log(weights, out=np.full_like(weights, -np.inf), "
        "where=weights > 0)",
        "    weights = weights[::-1]\n"
        "    log_weights = np.log(weights, out=np.full_like(weights, -np.inf), "
        "where=weights > 0)",
        "each π_k paired with the wrong component (the weights reversed): L and γ "
        "no longer follow a relabelling",
        "10_identifiability_and_kmeans",
        cells=(
            "# checks: eq-permutation-invariance",
            "L_same = em.log_likelihood(X, *same)",
        ),
    ),
    PlantedError(
        "tie-limit-without-pi",
        "gmmlib/em.py",
        """    weighted = _log_weighted_densities(X, weights, means, cholesky)
    log_resp = weighted""",
        """    weighted = _log_weighted_densities(X, 1 + 0 * weights, means, cholesky)
    log_resp = weighted""",
        "γ without the mixing weights (Flaw 1): a tie is split evenly, not by "
        "π_1 : π_2",
        "10_identifiability_and_kmeans",
        cells=("mus = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 5.0]])",),
    ),
    PlantedError(
        "matching-maximises-cost",
        CHAPTER,
        "rows, tau = linear_sum_assignment(cost)",
        "rows, tau = linear_sum_assignment(cost, maximize=True)",
        "the matching of eq-matching as the relabelling of largest cost",
        "10_identifiability_and_kmeans",
    ),
    PlantedError(
        "spherical-variance-as-std",
        "gmmlib/covariance/_base.py",
        "return np.sqrt(values)",
        "return values",
        "a spherical or diagonal variance σ² taken as the standard deviation σ",
        "10_identifiability_and_kmeans",
        cells=("# checks: eq-hard-limit",),
    ),
    PlantedError(
        "hard-limit-rate-without-half",
        CHAPTER,
        "exponent = gap / (2 * sigmas**2)  # ξ",
        "exponent = gap / sigmas**2  # ξ",
        "the hard limit's rate as exp(−Δ/σ²), without the ½",
        "10_identifiability_and_kmeans",
    ),
    PlantedError(
        "kmeans-q-without-log-pi",
        "gmmlib/em.py",
        "return float(np.sum(xlogy(resp, weights)) + np.sum(resp * log_densities))",
        "return float(np.sum(resp * log_densities))",
        "Q(θ, θ^old) without the terms γ_nk ln π_k: σ²Q still tends to −D/2, "
        "but not at the derived rate",
        "10_identifiability_and_kmeans",
        cells=("# checks: eq-kmeans-centroid, eq-kmeans-objective",),
    ),
    PlantedError(
        "kmeans-rate-factor-d",
        CHAPTER,
        "             - N * d / 2 * sigma**2 * np.log(2 * np.pi * sigma**2))",
        "             - N * d * sigma**2 * np.log(2 * np.pi * sigma**2))",
        "the rate of eq-kmeans-objective with Nd in place of Nd/2",
        "10_identifiability_and_kmeans",
    ),
    PlantedError(
        "kmeans-mean-n-for-nk",
        "gmmlib/em.py",
        "means = (resp.T @ X) / nk[:, None]",
        "means = (resp.T @ X) / len(X)",
        "the centroid Σ_n ẑ_nk x_n / N: N for the cluster's size",
        "10_identifiability_and_kmeans",
        cells=(
            "# checks: eq-kmeans-centroid, eq-kmeans-objective",
            "def lloyd_path(points, start, max_iter=100):",
        ),
    ),
    PlantedError(
        "empty-cluster-not-named",
        "gmmlib/em.py",
        '    if covariance_type != "tied" and np.any(empty):',
        "    if False:",
        "no check for N_k = 0: the centroid of an empty cluster is 0/0 and the "
        "error, if any, does not name the empty component",
        "10_identifiability_and_kmeans",
        cells=("far_start = np.vstack([X[[0, 1]], [[100.0, 100.0]]])",),
    ),
)
