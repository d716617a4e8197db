"""The compiled loops of :class:`gmmlib.suffstats.BlockEStep`.

Two kernels, compiled by numba on first use and cached on disk next to this
file, process a block of rows in tiles of :func:`tile_rows` rows. Inside a tile
the rows run in the innermost loop, over contiguous arrays, so each loop is a
vector loop, and every intermediate (the residuals, the whitened residuals,
the log-densities of a tile) stays in the core's cache: X is read twice per
pass. The kernels allocate only a tile's residuals, (d + 1)·tile numbers
(:func:`log_prob_tiles`) and (2d + 3)·tile (:func:`accumulate_tiles`); they
write into the caller's buffers for the block, (K + 2) numbers per row, and
add into its float64 sums, at most K(1 + d + d²) numbers. Nothing of size n·K or
n·d is formed (the :mod:`gmmlib.suffstats` module states the whole pass's
memory).

1. :func:`log_prob_tiles`: the whitened residuals of
   :eq:`eq-stacked-product` (:eq:`eq-diag-product` for diagonal factors) and
   the log-densities of :eq:`eq-stacked-log-density`, then, per row, their
   maximum over the components and the differences to it, floored
   (:eq:`eq-floored-responsibility`).
2. The caller takes ``np.exp`` of that array: NumPy's exponential is a vector
   loop, numba's a scalar call per number (six times slower here).
3. :func:`accumulate_tiles`: per row the sum of the exponentials and the
   responsibilities (times the row's weight, :eq:`eq-weighted-nk`), and the
   sums :math:`N_k`, :math:`\\mathbf{s}_k(\\boldsymbol{\\mu}_k)` and the lower
   triangle of :math:`\\mathbf{S}_k(\\boldsymbol{\\mu}_k)` about the means
   the E-step runs at (:eq:`eq-tile-sums`).

Rows with missing entries (NaN) have a third kernel, :func:`incomplete_rows`,
which does all of the above row by row for rows filled with their conditional
means (``gmmlib.suffstats.BlockEStep``'s Notes derive it).

Chapter 7 ("One pass over a block: the engine") derives each step; the
symbols are the book's: :math:`\\mathbf{a}_n = \\mathbf{x}_n - \\mathbf{c}`,
:math:`\\mathbf{b}_k = \\boldsymbol{\\mu}_k - \\mathbf{c}` (``shift``),
:math:`\\mathbf{r}_{nk} = \\mathbf{a}_n - \\mathbf{b}_k`.
The functional core (:mod:`gmmlib.em`, :mod:`gmmlib.gaussian`) computes the
same quantities the obvious way; the tests compare the two.
"""

from __future__ import annotations

import os

import numba
import numpy as np


def tile_rows(n_features, n_components):
    """Rows per tile: the tile's working set, about 32 KiB.

    A tile's arrays hold about ``2 d + K + 4`` numbers per row (the residuals
    twice, the exponents, the responsibilities and their products, the row
    sums): with 8-byte numbers, 4096 / (2 d + K + 4) rows keep them in a
    32 KiB first-level cache. At least 256 rows amortise each loop's set-up
    (about 30 loops per tile when d = 2), at most 1024.
    ``GMMLIB_TILE`` in the environment overrides it (for measurements).
    """
    override = os.environ.get("GMMLIB_TILE")
    if override:
        return int(override)
    return max(256, min(1024, 4096 // (2 * n_features + n_components + 4)))


# Reassociation lets the compiler vectorise the reductions over a tile's rows;
# no flag that assumes finite numbers (the floor below relies on them)
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@numba.njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _residuals(X, start, m, centre, out):
    """``out[i, t] = X[start + t, i] - centre[i]``: a tile, transposed."""
    for i in range(X.shape[1]):
        c = centre[i]
        row = out[i]
        column = X[start : start + m, i]
        for t in range(m):
            row[t] = column[t] - c


@numba.njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _add_squared_coordinate(a, factors, k, j, d, m, z, q):
    """``q += y_j**2`` over a tile, y_j the j-th coordinate of the residual.

    :math:`y_{nkj} = -(\\mathbf{b}_k^{\\mathsf{T}} U_k)_j + \\sum_{i \\le j}
    a_{ni} (U_k)_{ij}` (:eq:`eq-stacked-product`): for j < 4 in one loop, in
    registers; beyond, summed into ``z`` four terms per pass, and the last
    term added in the loop that squares.
    """
    b = factors[k, d, j]
    u = factors[k, j, j]
    aj = a[j]
    if j == 0:
        for t in range(m):
            v = b + aj[t] * u
            q[t] += v * v
    elif j == 1:
        a0, u0 = a[0], factors[k, 0, j]
        for t in range(m):
            v = b + a0[t] * u0 + aj[t] * u
            q[t] += v * v
    elif j == 2:
        a0, a1 = a[0], a[1]
        u0, u1 = factors[k, 0, j], factors[k, 1, j]
        for t in range(m):
            v = b + a0[t] * u0 + a1[t] * u1 + aj[t] * u
            q[t] += v * v
    elif j == 3:
        a0, a1, a2 = a[0], a[1], a[2]
        u0, u1, u2 = factors[k, 0, j], factors[k, 1, j], factors[k, 2, j]
        for t in range(m):
            v = b + a0[t] * u0 + a1[t] * u1 + a2[t] * u2 + aj[t] * u
            q[t] += v * v
    else:
        for t in range(m):
            z[t] = b
        i = 0
        while i + 4 <= j:
            u0, u1 = factors[k, i, j], factors[k, i + 1, j]
            u2, u3 = factors[k, i + 2, j], factors[k, i + 3, j]
            a0, a1, a2, a3 = a[i], a[i + 1], a[i + 2], a[i + 3]
            for t in range(m):
                z[t] += a0[t] * u0 + a1[t] * u1 + a2[t] * u2 + a3[t] * u3
            i += 4
        for rest in range(i, j):
            ui = factors[k, rest, j]
            ai = a[rest]
            for t in range(m):
                z[t] += ai[t] * ui
        for t in range(m):
            v = z[t] + aj[t] * u
            q[t] += v * v


@numba.njit(cache=True, nogil=True, fastmath=_FASTMATH)
def log_prob_tiles(
    X, centre, factors, diagonal, const, floor, normalise, out, top, tile
):
    """Log-densities of every row under every component, tile by tile.

    Parameters
    ----------
    X : ndarray of shape (n, d), C-contiguous
    centre : ndarray of shape (d,)
        The rows are taken about it: :math:`\\mathbf{a}_n = \\mathbf{x}_n -
        \\mathbf{c}`.
    factors : ndarray of shape (K, d + 1, d)
        :math:`\\sqrt{1/2}\\,F_k`, the factor :math:`U_k` over the row
        :math:`-\\mathbf{b}_k^{\\mathsf{T}} U_k` (:eq:`eq-stacked-product`).
    diagonal : bool
        Whether the :math:`U_k` are diagonal ('diag', 'spherical'); then only
        their diagonals are read.
    const : ndarray of shape (K,)
        :math:`\\ln π_k - \\frac{d}{2}\\ln 2π + \\sum_i \\ln (U_k)_{ii}`.
    floor : float
        Lower bound of the differences to the row maximum (``normalise``).
    normalise : bool
        If false, ``out`` receives the log-densities
        :math:`\\ln π_k + \\ln \\mathcal{N}(\\mathbf{x}_n | \\boldsymbol{μ}_k,
        \\boldsymbol{Σ}_k)` (:eq:`eq-stacked-log-density`). If true, ``top``
        receives their maximum over k per row, :math:`\\ell_n^{\\max}`, and
        ``out`` the differences to it, floored at ``floor``, :math:`\\ln
        \\vartheta` (:eq:`eq-floored-responsibility`).
    out : ndarray of shape (K, n)
    top : ndarray of shape (n,)
    """
    n, d = X.shape
    K = factors.shape[0]
    a = np.empty((d, tile), X.dtype)
    z = np.empty(tile, X.dtype)
    for start in range(0, n, tile):
        m = min(tile, n - start)
        _residuals(X, start, m, centre, a)
        for k in range(K):
            q = out[k, start : start + m]
            for t in range(m):
                q[t] = 0
            if diagonal:
                # 'diag', 'spherical': y_j = -(b_k U_k)_j + a_j (U_k)_jj, four
                # coordinates per pass over q (eq-diag-product)
                j = 0
                while j + 4 <= d:
                    b0, b1 = factors[k, d, j], factors[k, d, j + 1]
                    b2, b3 = factors[k, d, j + 2], factors[k, d, j + 3]
                    u0, u1 = factors[k, j, j], factors[k, j + 1, j + 1]
                    u2, u3 = factors[k, j + 2, j + 2], factors[k, j + 3, j + 3]
                    a0, a1, a2, a3 = a[j], a[j + 1], a[j + 2], a[j + 3]
                    for t in range(m):
                        v0 = b0 + a0[t] * u0
                        v1 = b1 + a1[t] * u1
                        v2 = b2 + a2[t] * u2
                        v3 = b3 + a3[t] * u3
                        q[t] += v0 * v0 + v1 * v1 + v2 * v2 + v3 * v3
                    j += 4
                for rest in range(j, d):
                    b, u, aj = factors[k, d, rest], factors[k, rest, rest], a[rest]
                    for t in range(m):
                        v = b + aj[t] * u
                        q[t] += v * v
            else:
                for j in range(d):
                    # y_j = -(b_k U_k)_j + sum_{i <= j} a_i (U_k)_ij, q += y_j^2
                    _add_squared_coordinate(a, factors, k, j, d, m, z, q)
            c = const[k]
            for t in range(m):
                q[t] = c - q[t]
        if normalise:
            best = top[start : start + m]
            row = out[0, start : start + m]
            for t in range(m):
                best[t] = row[t]
            for k in range(1, K):
                row = out[k, start : start + m]
                for t in range(m):
                    best[t] = max(best[t], row[t])
            for k in range(K):
                row = out[k, start : start + m]
                for t in range(m):
                    row[t] = max(row[t] - best[t], floor)


@numba.njit(cache=True, nogil=True, fastmath=_FASTMATH)
def accumulate_tiles(
    X, centre, shift, diagonal, expd, sample_weight, total, nk, moved, scatter, tile
):
    """Responsibilities and the sums about the shifts, tile by tile.

    Adds, for every component k, :math:`\\sum_n γ_{nk}`,
    :math:`\\sum_n γ_{nk} \\mathbf{r}_{nk}` and
    :math:`\\sum_n γ_{nk} \\mathbf{r}_{nk}\\mathbf{r}_{nk}^{\\mathsf{T}}`
    with :math:`\\mathbf{r}_{nk} = \\mathbf{a}_n - \\mathbf{b}_k`
    (:eq:`eq-tile-sums`, the sums of :eq:`eq-shifted-stats` about
    :math:`\\boldsymbol{μ}_k`), where :math:`γ_{nk} = w_n e_{nk} / t_n`,
    :math:`t_n = \\sum_j e_{nj}` (:eq:`eq-floored-responsibility`,
    :eq:`eq-weighted-nk`).

    Parameters
    ----------
    X : ndarray of shape (n, d), C-contiguous
    centre : ndarray of shape (d,)
    shift : ndarray of shape (K, d)
        :math:`\\mathbf{b}_k = \\boldsymbol{μ}_k - \\mathbf{c}`.
    diagonal : bool
        Whether only the diagonal of the scatter is wanted ('diag',
        'spherical').
    expd : ndarray of shape (K, n)
        :math:`e_{nk}`, the exponentials of :func:`log_prob_tiles`'s output.
    sample_weight : ndarray of shape (n,) or (0,)
        :math:`w_n`; empty for weight 1 on every row.
    total : ndarray of shape (n,)
        Receives :math:`t_n = \\sum_k e_{nk}`, so that the row's
        log-likelihood is ``top + log(total)``.
    nk : ndarray of shape (K,), float64
    moved : ndarray of shape (K, d), float64
    scatter : ndarray of shape (K, d, d) or (K, d, 1), float64
        The lower triangle of the scatter ('full', 'tied'), or its diagonal
        in ``scatter[:, :, 0]`` ('diag', 'spherical'). All three are added to.
    """
    n, d = X.shape
    K = shift.shape[0]
    weighted = sample_weight.shape[0] > 0
    a = np.empty((d, tile), X.dtype)
    r = np.empty((d, tile), X.dtype)
    g = np.empty(tile, X.dtype)
    gr = np.empty(tile, X.dtype)
    scale = np.empty(tile, X.dtype)
    zero = np.zeros(1, X.dtype)[0]
    for start in range(0, n, tile):
        m = min(tile, n - start)
        _residuals(X, start, m, centre, a)
        # the sum of the exponentials of each row, and w_n over it
        tot = total[start : start + m]
        row = expd[0, start : start + m]
        for t in range(m):
            tot[t] = row[t]
        for k in range(1, K):
            row = expd[k, start : start + m]
            for t in range(m):
                tot[t] += row[t]
        if weighted:
            w = sample_weight[start : start + m]
            for t in range(m):
                scale[t] = w[t] / tot[t]
        else:
            for t in range(m):
                scale[t] = 1 / tot[t]
        for k in range(K):
            row = expd[k, start : start + m]
            acc = zero
            for t in range(m):
                g[t] = row[t] * scale[t]
                acc += g[t]
            nk[k] += acc
            if diagonal:
                # r_i, its weighted sum and weighted square sum, four
                # coordinates per pass over g
                i = 0
                while i + 4 <= d:
                    s0, s1 = shift[k, i], shift[k, i + 1]
                    s2, s3 = shift[k, i + 2], shift[k, i + 3]
                    a0, a1, a2, a3 = a[i], a[i + 1], a[i + 2], a[i + 3]
                    m0 = zero
                    m1 = zero
                    m2 = zero
                    m3 = zero
                    q0 = zero
                    q1 = zero
                    q2 = zero
                    q3 = zero
                    for t in range(m):
                        gt = g[t]
                        v0 = a0[t] - s0
                        v1 = a1[t] - s1
                        v2 = a2[t] - s2
                        v3 = a3[t] - s3
                        w0 = gt * v0
                        w1 = gt * v1
                        w2 = gt * v2
                        w3 = gt * v3
                        m0 += w0
                        m1 += w1
                        m2 += w2
                        m3 += w3
                        q0 += w0 * v0
                        q1 += w1 * v1
                        q2 += w2 * v2
                        q3 += w3 * v3
                    moved[k, i] += m0
                    moved[k, i + 1] += m1
                    moved[k, i + 2] += m2
                    moved[k, i + 3] += m3
                    scatter[k, i, 0] += q0
                    scatter[k, i + 1, 0] += q1
                    scatter[k, i + 2, 0] += q2
                    scatter[k, i + 3, 0] += q3
                    i += 4
                for rest in range(i, d):
                    s = shift[k, rest]
                    ai = a[rest]
                    acc = zero
                    acc2 = zero
                    for t in range(m):
                        v = ai[t] - s
                        w = g[t] * v
                        acc += w
                        acc2 += w * v
                    moved[k, rest] += acc
                    scatter[k, rest, 0] += acc2
                continue
            # 'full', 'tied': r_i, its weighted sum, and the scatter's row i up
            # to the diagonal (the lower triangle): the entries (i, i) and
            # (i, i - 1) in the same loop, the others from the r_j, j < i - 1,
            # already formed, four per pass over gr
            for i in range(d):
                s = shift[k, i]
                ai = a[i]
                ri = r[i]
                acc = zero
                acc2 = zero
                acc3 = zero
                if i == 0:
                    for t in range(m):
                        v = ai[t] - s
                        ri[t] = v
                        w = g[t] * v
                        acc += w
                        acc2 += w * v
                else:
                    previous = r[i - 1]
                    for t in range(m):
                        v = ai[t] - s
                        ri[t] = v
                        w = g[t] * v
                        gr[t] = w
                        acc += w
                        acc2 += w * v
                        acc3 += w * previous[t]
                    scatter[k, i, i - 1] += acc3
                moved[k, i] += acc
                scatter[k, i, i] += acc2
                j = 0
                while j + 4 <= i - 1:
                    r0, r1, r2, r3 = r[j], r[j + 1], r[j + 2], r[j + 3]
                    acc0 = zero
                    acc1 = zero
                    acc2 = zero
                    acc3 = zero
                    for t in range(m):
                        w = gr[t]
                        acc0 += w * r0[t]
                        acc1 += w * r1[t]
                        acc2 += w * r2[t]
                        acc3 += w * r3[t]
                    scatter[k, i, j] += acc0
                    scatter[k, i, j + 1] += acc1
                    scatter[k, i, j + 2] += acc2
                    scatter[k, i, j + 3] += acc3
                    j += 4
                for rest in range(j, i - 1):
                    rj = r[rest]
                    acc = zero
                    for t in range(m):
                        acc += gr[t] * rj[t]
                    scatter[k, i, rest] += acc


@numba.njit(cache=True, nogil=True, fastmath=_FASTMATH)
def incomplete_rows(
    rows,
    pattern,
    means,
    maps,
    upper,
    const,
    corrections,
    floor,
    diagonal,
    sample_weight,
    log_norm,
    nk,
    moved,
    scatter,
    pattern_nk,
):
    """The E-step and the sums of rows with missing entries (NaN), row by row.

    For row n of missing pattern p and each component k: the residual
    :math:`\\mathbf{a}` with :math:`a_i = x_{ni} - μ_{ki}` where observed and
    0 where missing, its image :math:`\\mathbf{r}_{nk} = M_{pk} \\mathbf{a} =
    \\hat{\\mathbf{x}}_{nk} - \\boldsymbol{μ}_k` (the row filled with its
    conditional mean), the log-density of the observed entries
    ``const[k] - corrections[p, k] - |r U_k|² / 2``
    (:eq:`eq-observed-density-filled`), the responsibilities with the floor of
    :eq:`eq-floored-responsibility` (times the row's weight,
    :eq:`eq-weighted-nk`), and their sums: :math:`N_k`,
    :math:`\\sum_n γ_{nk} \\mathbf{r}_{nk}`, the lower triangle (the
    diagonal if ``diagonal``) of :math:`\\sum_n γ_{nk} \\mathbf{r}_{nk}
    \\mathbf{r}_{nk}^{\\mathsf{T}}`, and per pattern :math:`\\sum_{n \\in p}
    γ_{nk}`, which the caller multiplies by the pattern's conditional
    covariances. ``log_norm[n]`` gets :math:`\\ln p(\\mathbf{x}_{n,o})`.

    Parameters
    ----------
    rows : ndarray of shape (n, d), float64, NaN where missing
    pattern : ndarray of shape (n,), int
    means : ndarray of shape (K, d)
    maps : ndarray of shape (n_patterns, K, d, d)
    upper : ndarray of shape (K, d, d)
        The precisions' upper Cholesky factors :math:`U_k`.
    const : ndarray of shape (K,)
        :math:`\\ln π_k - \\tfrac{d}{2} \\ln 2π + \\ln|U_k|`.
    corrections : ndarray of shape (n_patterns, K)
    floor : float
    diagonal : bool
    sample_weight : ndarray of shape (n,) or (0,) for unit weights
    log_norm : ndarray of shape (n,), written
    nk, moved, scatter, pattern_nk : float64 sums, added to
        Shapes (K,), (K, d), (K, d, d) or (K, d, 1), (n_patterns, K).
    """
    n, d = rows.shape
    K = means.shape[0]
    a = np.empty(d)
    r = np.empty((K, d))
    lp = np.empty(K)
    weighted = sample_weight.shape[0] > 0
    for t in range(n):
        p = pattern[t]
        for k in range(K):
            for i in range(d):
                x = rows[t, i]
                a[i] = 0.0 if np.isnan(x) else x - means[k, i]
            q = 0.0
            if diagonal:
                # Λ_k diagonal: Λ_mo = 0, so x̂_m = μ_m and M_pk a = a
                for i in range(d):
                    r[k, i] = a[i]
                    s = a[i] * upper[k, i, i]
                    q += s * s
            else:
                for i in range(d):
                    s = 0.0
                    for j in range(d):
                        s += maps[p, k, i, j] * a[j]
                    r[k, i] = s
                for j in range(d):
                    s = 0.0
                    for i in range(j + 1):
                        s += r[k, i] * upper[k, i, j]
                    q += s * s
            lp[k] = const[k] - corrections[p, k] - 0.5 * q
        top = lp[0]
        for k in range(1, K):
            top = max(top, lp[k])
        total = 0.0
        for k in range(K):
            lp[k] = np.exp(max(lp[k] - top, floor))
            total += lp[k]
        log_norm[t] = top + np.log(total)
        w = sample_weight[t] if weighted else 1.0
        for k in range(K):
            g = w * lp[k] / total
            nk[k] += g
            pattern_nk[p, k] += g
            for i in range(d):
                gi = g * r[k, i]
                moved[k, i] += gi
                if diagonal:
                    scatter[k, i, 0] += gi * r[k, i]
                else:
                    for j in range(i + 1):
                        scatter[k, i, j] += gi * r[k, j]


def warm_up():
    """Compile the kernels, or load them from numba's cache, for every input type.

    ``BlockEStep`` calls them with float64 or float32 blocks, writeable or
    read-only (a read-only memory map, say), with and without sample weights,
    for full and for diagonal factors: each type is compiled once, on first
    use, and cached next to this module. ``make setup`` (and Binder's
    ``postBuild``) run this once, so that no chapter and no first fit pays
    for the compilation.

    Returns
    -------
    float
        Seconds taken.
    """
    import time

    from gmmlib.suffstats import BlockEStep

    started = time.perf_counter()
    for dtype in (np.float64, np.float32):
        X = np.arange(6, dtype=dtype).reshape(3, 2)
        read_only = X.copy()
        read_only.flags.writeable = False
        for covariance_type, factor in (("full", np.eye(2)), ("diag", np.ones(2))):
            estep = BlockEStep(
                np.full(2, 0.5),
                np.zeros((2, 2)),
                np.stack([factor, factor]),
                covariance_type,
                dtype=dtype,
            )
            for rows in (X, read_only):
                estep.weighted_log_prob(rows)
                estep.statistics(rows)
                estep.statistics(rows, sample_weight=np.ones(3))
            # rows with missing entries (their kernel takes float64 only)
            missing = BlockEStep(
                np.full(2, 0.5),
                np.zeros((2, 2)),
                np.stack([factor, factor]),
                covariance_type,
                dtype=dtype,
                missing=True,
            )
            gappy = np.array([[np.nan, 1.0], [2.0, 3.0]], dtype)
            missing.statistics(gappy)
            missing.statistics(gappy, sample_weight=np.ones(2))
    return time.perf_counter() - started
