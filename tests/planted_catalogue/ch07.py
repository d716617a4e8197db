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
    PlantedError(
        "shifted-mean-without-shift",
        "chapters/07_at_scale.md",
        "assert np.allclose(shift + s / nk, mean_k, rtol=1e-12, atol=0)",
        "assert np.allclose(s / nk, mean_k, rtol=1e-12, atol=0)",
        "eq-shifted-stats' mean claimed as s_k / N_k, without the shift c_k",
        "07_at_scale",
    ),
    PlantedError(
        "merge-addition-without-shared-shift",
        "chapters/07_at_scale.md",
        "per_part = [shifted_statistics(X[r], resp[r, 0], shift) for r in parts]",
        "per_part = [shifted_statistics(X[r], resp[r, 0], X[r][0]) for r in parts]",
        "merging by addition claimed for parts each shifted by a point of its own",
        "07_at_scale",
    ),
    PlantedError(
        "merge-order-bound-too-tight",
        "chapters/07_at_scale.md",
        "assert abs(n_1 - n_2) <= 4 * u * n_1",
        "assert abs(n_1 - n_2) <= u * n_1",
        "the two merge orders' counts claimed within u N (one rounding), not "
        "the derived 4 u N",
        "07_at_scale",
    ),
    PlantedError(
        "precision-factor-transposed",
        "gmmlib/covariance/_base.py",
        "out[k] = solve_triangular(chol, eye, lower=True, check_finite=False).T",
        "out[k] = solve_triangular(chol, eye, lower=True, check_finite=False)",
        "the precision's factor L^-1 (lower) instead of U = L^-T (upper)",
        "07_at_scale",
        cells=("# checks: eq-stacked-product",),
    ),
    PlantedError(
        "diag-factor-without-shift-row",
        "chapters/07_at_scale.md",
        "y = rows @ diag_factor(1 / var[k], b[k])  # (n, d): the y_nk",
        "y = rows @ diag_factor(1 / var[k], 0 * b[k])  # (n, d): the y_nk",
        "F_k^diag claimed without its last row, -sqrt(Lambda_kj) b_kj",
        "07_at_scale",
    ),
    PlantedError(
        "engine-without-floor",
        "gmmlib/_kernels.py",
        "row[t] = max(row[t] - best[t], floor)",
        "row[t] = row[t] - best[t]",
        "the engine's exponents unfloored: a far component's count underflows to 0",
        "07_at_scale",
        cells=(
            "theta = np.finfo(np.float32).tiny / np.finfo(np.float32).eps",
            "reset_mean = np.average(A, axis=0, weights=1 / t)",
        ),
    ),
    PlantedError(
        "tile-sums-without-correction",
        "chapters/07_at_scale.md",
        "    cov_new = S_k / nk_k - np.outer(s_k, s_k) / nk_k**2",
        "    cov_new = S_k / nk_k",
        "eq-tile-sums' covariance claimed as S_k(mu_k) / N_k, without the "
        "correction for the move of the mean",
        "07_at_scale",
    ),
    PlantedError(
        "engine-recentred-by-raw-moments",
        "gmmlib/suffstats.py",
        """        stats = _centred(
            self.covariance_type,
            n_samples,
            nk,
            self.means.astype(np.float64),
            moved,
            scatter,""",
        """        b = self.shift.astype(np.float64)  # sums about the centre, raw
        if self._diagonal:
            scatter = scatter + 2 * b * moved + nk[:, None] * b * b
        else:
            outer = b[:, :, None] * moved[:, None, :]
            scatter = scatter + outer + outer.transpose(0, 2, 1)
            scatter = scatter + nk[:, None, None] * b[:, :, None] * b[:, None, :]
        moved = moved + nk[:, None] * b
        stats = _centred(
            self.covariance_type,
            n_samples,
            nk,
            np.broadcast_to(self.centre, self.means.shape).astype(np.float64),
            moved,
            scatter,""",
        "the engine's sums re-centred through raw moments about the centre "
        "(exact in exact arithmetic, quadratic in |mu_k - c| / sd in rounding)",
        "07_at_scale",
        cells=("u = np.finfo(float).eps / 2  # unit roundoff of float64",),
    ),
    PlantedError(
        "lost-component-silent",
        "gmmlib/suffstats.py",
        """        if new or reg_covar == 0:
            report_lost_components(new or lost, dtype, reg_covar, model.name)""",
        """        if reg_covar == 0:
            report_lost_components(new or lost, dtype, reg_covar, model.name)""",
        "the engine's M-step resets a component that lost its responsibility "
        "without a warning",
        "07_at_scale",
        cells=("reset_mean = np.average(A, axis=0, weights=1 / t)",),
    ),
    PlantedError(
        "dask-merge-drops-a-part",
        "gmmlib/_dask.py",
        "    for part in parts[1:]:",
        "    for part in parts[1:-1]:",
        "the Dask tree's merge leaves out the last of its inputs",
        "07_at_scale",
        cells=("    worst = np.max(np.abs(fitted - expected)",),
    ),
    PlantedError(
        "dask-predict-eager",
        "gmmlib/_dask.py",
        "return X.map_blocks(apply, drop_axis=1, **kwargs)",
        "return X.map_blocks(apply, drop_axis=1, **kwargs).compute()",
        "predictions on a Dask array computed at once, not lazily",
        "07_at_scale",
        cells=("labels = on_dask.predict(X_dask)",),
    ),
)
