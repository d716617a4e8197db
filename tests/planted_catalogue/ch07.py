"""Planted errors checked by chapter 7, ``chapters/07_at_scale.md``."""

from . import PlantedError

ERRORS = (
    PlantedError(
        "raw-moments-about-origin",
        "gmmlib/suffstats.py",
        """        if shift is None:
            shift = np.broadcast_to(X.mean(axis=0), (n_components, X.shape[1]))
        n_features = X.shape[1]""",
        """        if shift is None:
            shift = np.zeros((n_components, X.shape[1]), X.dtype)
        n_features = X.shape[1]""",
        "raw moments about the origin, E[xxᵀ] − μμᵀ, which cancel far from it",
        "07_at_scale",
        cells=("naive_error, shifted_error = np.array(naive_error)",),
    ),
    PlantedError(
        "merge-without-correction",
        "gmmlib/suffstats.py",
        "self.scatter + other.scatter + correction,",
        "self.scatter + other.scatter,",
        "the merge of two parts without its correction N_A N_B/N δδᵀ",
        "07_at_scale",
        cells=("summaries = [",),
    ),
    PlantedError(
        "merge-unweighted-mean",
        "gmmlib/suffstats.py",
        "share = np.where(positive, other.nk / safe_nk, 0)",
        "share = np.where(positive, 0.5, 0)",
        "the merged mean as the plain average of the parts' means",
        "07_at_scale",
        cells=("summaries = [",),
    ),
    PlantedError(
        "engine-residual-about-centre",
        "gmmlib/_kernels.py",
        """    b = factors[k, d, j]
    u = factors[k, j, j]""",
        """    b = 0 * factors[k, d, j]
    u = factors[k, j, j]""",
        "the engine's whitened residual without F_k's row −b_kᵀU_k (about "
        "the centre, not about μ_k)",
        "07_at_scale",
        cells=("# checks: eq-stacked-log-density",),
    ),
    PlantedError(
        "engine-last-tile-skipped",
        "gmmlib/_kernels.py",
        """    for start in range(0, n, tile):
        m = min(tile, n - start)
        _residuals(X, start, m, centre, a)
        # the sum of the exponentials""",
        """    for start in range(0, n - tile + 1, tile):
        m = tile
        _residuals(X, start, m, centre, a)
        # the sum of the exponentials""",
        "the engine's sums skip a block's last, partial tile of rows",
        "07_at_scale",
        cells=('for shape, var in [("diag", variances), ("spherical", spherical)]:',),
    ),
    PlantedError(
        "engine-sample-weight-dropped",
        "gmmlib/_kernels.py",
        "scale[t] = w[t] / tot[t]",
        "scale[t] = 1 / tot[t]",
        "the engine's responsibilities without the sample weights (γ_nk, not w_n γ_nk)",
        "07_at_scale",
        cells=("for row_weights, gamma in ((None, resp), (w, g)):",),
    ),
    PlantedError(
        "engine-scatter-half",
        "gmmlib/suffstats.py",
        "scatter = np.tril(scatter) + np.tril(scatter, -1).transpose(0, 2, 1)",
        "scatter = np.tril(scatter)",
        "the engine's scatter left as the lower triangle its loop sums, never "
        "copied to the upper one",
        "07_at_scale",
        cells=("for row_weights, gamma in ((None, resp), (w, g)):",),
    ),
)
