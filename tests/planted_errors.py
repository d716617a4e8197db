"""Errors planted on purpose in gmmlib, and the chapter cell that catches each.

The book claims that every equation is checked by a cell that would fail if the
equation were wrong. This module shows it: it holds a catalogue of the classic
errors of the derivation, each a small edit of gmmlib's source. For each one it

1. copies ``gmmlib/`` to a temporary folder and applies the edit there (an
   exact text replacement that fails loudly when the original text is no
   longer in the source, so the catalogue cannot silently rot);
2. checks that a Python started like the chapters' kernels, with
   ``PYTHONPATH`` pointing at the copy, imports the copy and not the editable
   install of the working tree, and afterwards that every kernel that ran did
   (an IPython startup file, in a temporary profile, records
   ``gmmlib.__file__``);
3. runs the chapters that check the broken equation under nbval, with that
   ``PYTHONPATH``, stopping at the first failing cell (``-x``);
4. records the chapter and cell that failed, or that the error survived.

gmmlib itself has no hook for this: the edit is made on a copy.

``tests/test_planted_errors.py`` (marker ``planted``, ``make planted``) runs the
whole catalogue, fails if an error survives, and compares what it observed with
``chapters/planted_errors.json``, the table that the "Equations and their
checks" page renders. To refresh that table by hand::

    .venv/bin/python tests/planted_errors.py --write

(``--jobs N`` runs N chapters' kernels at once; ``ID ...`` runs only those
errors, without writing.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
TABLE = CHAPTERS / "planted_errors.json"
REFRESH = ".venv/bin/python tests/planted_errors.py --write"


@dataclass(frozen=True)
class PlantedError:
    """One error: replace ``old`` by ``new`` in ``gmmlib/<file>``."""

    id: str
    file: str
    old: str
    new: str
    description: str
    chapters: tuple[str, ...]  # chapter stems, run in this order


CATALOGUE = (
    # --- the density (chapter 1) -----------------------------------------
    PlantedError(
        "log-det-halved",
        "gaussian.py",
        "log_det = 2.0 * np.sum(np.log(np.diag(cov_cholesky)))",
        "log_det = np.sum(np.log(np.diag(cov_cholesky)))",
        "ln det Σ taken as Σ ln L_ii: the log-determinant halved",
        ("01_model",),
    ),
    PlantedError(
        "density-lost-half",
        "gaussian.py",
        "return -0.5 * (d * math.log(2.0 * math.pi) + log_det + mahalanobis)",
        "return -(d * math.log(2.0 * math.pi) + log_det + mahalanobis)",
        "the ½ of the log-density lost",
        ("01_model",),
    ),
    PlantedError(
        "density-2pi-once",
        "gaussian.py",
        "return -0.5 * (d * math.log(2.0 * math.pi) + log_det + mahalanobis)",
        "return -0.5 * (math.log(2.0 * math.pi) + log_det + mahalanobis)",
        "(2π)^{-1/2} instead of (2π)^{-d/2} in the normalising constant",
        ("01_model",),
    ),
    PlantedError(
        "mahalanobis-with-sigma",
        "gaussian.py",
        """    z = scipy.linalg.solve_triangular(
        cov_cholesky, (X - mean).T, lower=True, check_finite=False
    )""",
        "    z = cov_cholesky.T @ (X - mean).T",
        "the quadratic form with Σ in place of Σ⁻¹",
        ("01_model",),
    ),
    # --- the responsibilities and L (chapter 1) ---------------------------
    PlantedError(
        "gamma-without-pi",
        "em.py",
        """    weighted = _log_weighted_densities(X, weights, means, cholesky)
    log_resp = weighted""",
        """    weighted = _log_weighted_densities(X, 1 + 0 * weights, means, cholesky)
    log_resp = weighted""",
        "the source proof's γ: N_k / Σ_j N_j, without the mixing weights π_k (Flaw 1)",
        ("01_model", "04_covariance_update"),
    ),
    PlantedError(
        "loglik-without-pi",
        "em.py",
        """    weighted = _log_weighted_densities(X, weights, means, cholesky)
    return float(np.sum(_log_mixture_density(weighted)))""",
        """    weighted = _log_weighted_densities(X, 1 + 0 * weights, means, cholesky)
    return float(np.sum(_log_mixture_density(weighted)))""",
        "L = Σ_n ln Σ_k N(x_n | μ_k, Σ_k): the mixture without its weights",
        ("01_model", "05_em_in_action"),
    ),
    PlantedError(
        "nk-is-n-over-k",
        "em.py",
        """    nk = resp.sum(axis=0)
    return nk / nk.sum()""",
        """    nk = resp.sum(axis=0)
    return np.full_like(nk, 1 / nk.size)""",
        "π_k^new = 1/K: N_k replaced by the equal share N/K",
        ("01_model", "04_covariance_update"),
    ),
    # --- the two lemmas and ∂N/∂Σ (chapter 2) ----------------------------
    PlantedError(
        "det-grad-inverse-not-transposed",
        "gaussian.py",
        "return determinant * np.linalg.inv(cov).T",
        "return determinant * np.linalg.inv(cov)",
        "∂det Σ/∂Σ = det Σ · Σ⁻¹ instead of Σ^{-T} (right only for symmetric Σ)",
        ("02_gaussian_derivative",),
    ),
    PlantedError(
        "quad-grad-inverse-not-transposed",
        "gaussian.py",
        "left = np.linalg.solve(cov.T, a)  # Σ^{-T} a",
        "left = np.linalg.solve(cov, a)  # Σ^{-T} a",
        "∂(aᵀΣ⁻¹a)/∂Σ = −Σ⁻¹aaᵀΣ⁻¹ instead of −Σ^{-T}aaᵀΣ^{-T} "
        "(right only for symmetric Σ)",
        ("02_gaussian_derivative",),
    ),
    PlantedError(
        "quad-grad-sign",
        "gaussian.py",
        "return -np.outer(left, right)",
        "return np.outer(left, right)",
        "the sign of ∂(aᵀΣ⁻¹a)/∂Σ (d(Σ⁻¹) = +Σ⁻¹ dΣ Σ⁻¹)",
        ("02_gaussian_derivative",),
    ),
    PlantedError(
        "gauss-grad-lost-half",
        "gaussian.py",
        "grad = -0.5 * density[:, None, None] * (precision - outer)",
        "grad = -density[:, None, None] * (precision - outer)",
        "∂N/∂Σ without its ½",
        ("02_gaussian_derivative",),
    ),
    PlantedError(
        "gauss-grad-bracket-sign",
        "gaussian.py",
        "grad = -0.5 * density[:, None, None] * (precision - outer)",
        "grad = -0.5 * density[:, None, None] * (precision + outer)",
        "∂N/∂Σ with Σ⁻¹ + Σ⁻¹ddᵀΣ⁻¹: a sign in the bracket",
        ("02_gaussian_derivative",),
    ),
    PlantedError(
        "gauss-grad-without-density",
        "gaussian.py",
        "grad = -0.5 * density[:, None, None] * (precision - outer)",
        "grad = -0.5 * (precision - outer)",
        "∂N/∂Σ without the factor N: the gradient of ln N reported as that of N",
        ("02_gaussian_derivative",),
    ),
    # --- ∂L/∂Σ_k (chapter 3) ---------------------------------------------
    PlantedError(
        "loglik-grad-lost-half",
        "em.py",
        "grad[k] = -0.5 * (resp[:, k].sum() * precision - weighted_outer)",
        "grad[k] = -(resp[:, k].sum() * precision - weighted_outer)",
        "∂L/∂Σ_k without its ½",
        ("03_stationarity",),
    ),
    PlantedError(
        "loglik-grad-sign",
        "em.py",
        "grad[k] = -0.5 * (resp[:, k].sum() * precision - weighted_outer)",
        "grad[k] = 0.5 * (resp[:, k].sum() * precision - weighted_outer)",
        "∂L/∂Σ_k with the wrong sign",
        ("03_stationarity",),
    ),
    PlantedError(
        "loglik-grad-n-for-nk",
        "em.py",
        "grad[k] = -0.5 * (resp[:, k].sum() * precision - weighted_outer)",
        "grad[k] = -0.5 * (len(X) * precision - weighted_outer)",
        "N for N_k in ∂L/∂Σ_k: Σ_n γ_nk Σ⁻¹ taken as N Σ⁻¹",
        ("03_stationarity",),
    ),
    PlantedError(
        "sym-grad-without-diag",
        "em.py",
        "return 2.0 * grad - identity * grad",
        "return 2.0 * grad",
        "the symmetric gradient 2G without − diag G (Flaw 3)",
        ("03_stationarity",),
    ),
    # --- the M-step (chapter 4) ------------------------------------------
    PlantedError(
        "mean-n-for-nk",
        "em.py",
        "means = (resp.T @ X) / nk[:, None]",
        "means = (resp.T @ X) / len(X)",
        "μ_k^new = Σ_n γ_nk x_n / N: N for N_k",
        ("04_covariance_update",),
    ),
    PlantedError(
        "sigma-n-for-nk",
        "em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = scatter / len(X) + reg_covar * identity",
        "Σ_k^new = S_k / N: N for N_k",
        ("04_covariance_update",),
    ),
    PlantedError(
        "sigma-7-percent-large",
        "em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = 1.07 * scatter / nk[:, None, None] + reg_covar * identity",
        "Σ_k^new 7 % too large: a small error, not a wrong formula",
        ("04_covariance_update",),
    ),
    PlantedError(
        "diag-5-percent-small",
        "em.py",
        "variances = scatter / nk[:, None] + reg_covar",
        "variances = 0.95 * scatter / nk[:, None] + reg_covar",
        "the diagonal and spherical variances 5 % too small",
        ("06_covariance_shapes",),
    ),
    PlantedError(
        "sigma-about-data-mean",
        "em.py",
        "covariances = update_covariances(X, resp, means, covariance_type, reg_covar)",
        "covariances = update_covariances(\n"
        "        X, resp, np.broadcast_to(X.mean(0), means.shape), covariance_type, "
        "reg_covar\n    )",
        "Σ_k^new about the mean of all the data instead of μ_k^new",
        ("04_covariance_update",),
    ),
    PlantedError(
        "sigma-reg-covar-off-diagonal",
        "em.py",
        "covariances = scatter / nk[:, None, None] + reg_covar * identity",
        "covariances = scatter / nk[:, None, None] + reg_covar",
        "reg_covar added to every entry of Σ_k, not only to the diagonal",
        ("05_em_in_action",),
    ),
    PlantedError(
        "q-without-log-pi",
        "em.py",
        "return float(np.sum(xlogy(resp, weights)) + np.sum(resp * log_densities))",
        "return float(np.sum(resp * log_densities))",
        "Q(θ, θ_old) without the terms γ_nk ln π_k",
        ("04_covariance_update", "06_covariance_shapes"),
    ),
    # --- the other shapes (chapter 6) ------------------------------------
    PlantedError(
        "spherical-trace-not-mean",
        "em.py",
        'covariances = variances if covariance_type == "diag" else variances.mean(1)',
        'covariances = variances if covariance_type == "diag" else variances.sum(1)',
        "spherical σ_k² = tr(S_k)/N_k, without the 1/d",
        ("06_covariance_shapes",),
    ),
    PlantedError(
        "tied-unweighted-average",
        "em.py",
        "covariances = scatter.sum(axis=0) / nk.sum() + reg_covar * identity",
        "covariances = (scatter / nk[:, None, None]).mean(axis=0) "
        "+ reg_covar * identity",
        "tied Σ = the plain average of the K full updates, not weighted by N_k/N",
        ("06_covariance_shapes",),
    ),
    PlantedError(
        "diag-is-spherical",
        "em.py",
        "variances = scatter / nk[:, None] + reg_covar",
        "variances = np.repeat(scatter.mean(1, keepdims=True), scatter.shape[1], 1)"
        " / nk[:, None] + reg_covar",
        "diagonal and spherical confused: every variance of a diagonal Σ_k set "
        "to their mean",
        ("06_covariance_shapes",),
    ),
    # --- GaussianMixture's block statistics (chapters 5 and 7) -------------
    PlantedError(
        "sigma-about-old-means",
        "suffstats.py",
        """        scatter = scatter - offset[:, :, None] * moved[:, None, :]
        scatter = 0.5 * (scatter + scatter.transpose(0, 2, 1))""",
        """        scatter = 0.5 * (scatter + scatter.transpose(0, 2, 1))""",
        "Σ_k^new about μ_k^old, the previous means (Flaw 5): the shifted "
        "scatter without − s_k s_kᵀ/N_k",
        ("05_em_in_action", "07_at_scale"),
    ),
    PlantedError(
        "raw-moments-about-origin",
        "suffstats.py",
        """        if shift is None:
            shift = np.broadcast_to(X.mean(axis=0), (n_components, X.shape[1]))
        n_features = X.shape[1]""",
        """        if shift is None:
            shift = np.zeros((n_components, X.shape[1]), X.dtype)
        n_features = X.shape[1]""",
        "raw moments about the origin, E[xxᵀ] − μμᵀ, which cancel far from it",
        ("07_at_scale",),
    ),
    PlantedError(
        "merge-without-correction",
        "suffstats.py",
        "self.scatter + other.scatter + correction,",
        "self.scatter + other.scatter,",
        "the merge of two parts without its correction N_A N_B/N δδᵀ",
        ("07_at_scale",),
    ),
    PlantedError(
        "merge-unweighted-mean",
        "suffstats.py",
        "share = np.where(positive, other.nk / safe_nk, 0)",
        "share = np.where(positive, 0.5, 0)",
        "the merged mean as the plain average of the parts' means",
        ("07_at_scale",),
    ),
    PlantedError(
        "estep-without-pi",
        "suffstats.py",
        "self._const = (-0.5 * d * math.log(2 * math.pi) + log_det + log_weights)",
        "self._const = (-0.5 * d * math.log(2 * math.pi) + log_det + 0 * log_weights)",
        "GaussianMixture's E-step without ln π_k (Flaw 1 in the fast path)",
        ("05_em_in_action",),
    ),
    PlantedError(
        "estep-log-det-halved",
        "suffstats.py",
        "log_det = np.log(np.diagonal(stacked, axis1=1, axis2=2)).sum(axis=1)",
        "log_det = 0.5 * np.log(np.diagonal(stacked, axis1=1, axis2=2)).sum(axis=1)",
        "GaussianMixture's E-step with ln det Σ_k halved",
        ("05_em_in_action",),
    ),
    PlantedError(
        "mstep-reg-covar-everywhere",
        "suffstats.py",
        "covariances[:, np.arange(n_features), np.arange(n_features)] += reg_covar",
        "covariances += reg_covar",
        "GaussianMixture adds reg_covar to every entry of Σ_k, not to its diagonal",
        ("05_em_in_action",),
    ),
    PlantedError(
        "mstep-spherical-trace",
        "suffstats.py",
        "covariances = stats.scatter.mean(axis=1) / nk + reg_covar",
        "covariances = stats.scatter.sum(axis=1) / nk + reg_covar",
        "GaussianMixture's spherical variance tr(S_k)/N_k, without the 1/d",
        ("06_covariance_shapes",),
    ),
    # --- the engine's compiled loops (chapter 7, "One pass over a block") ----
    PlantedError(
        "engine-residual-about-centre",
        "_kernels.py",
        """    b = factors[k, d, j]
    u = factors[k, j, j]""",
        """    b = 0 * factors[k, d, j]
    u = factors[k, j, j]""",
        "the engine's whitened residual without F_k's row −b_kᵀU_k (about "
        "the centre, not about μ_k)",
        ("07_at_scale",),
    ),
    PlantedError(
        "engine-last-tile-skipped",
        "_kernels.py",
        """    for start in range(0, n, tile):
        m = min(tile, n - start)
        _residuals(X, start, m, centre, a)
        # the sum of the exponentials""",
        """    for start in range(0, n - tile + 1, tile):
        m = tile
        _residuals(X, start, m, centre, a)
        # the sum of the exponentials""",
        "the engine's sums skip a block's last, partial tile of rows",
        ("07_at_scale",),
    ),
    PlantedError(
        "engine-sample-weight-dropped",
        "_kernels.py",
        "scale[t] = w[t] / tot[t]",
        "scale[t] = 1 / tot[t]",
        "the engine's responsibilities without the sample weights (γ_nk, not w_n γ_nk)",
        ("07_at_scale", "11_weights_and_streaming"),
    ),
    PlantedError(
        "engine-scatter-half",
        "suffstats.py",
        "scatter = np.tril(scatter) + np.tril(scatter, -1).transpose(0, 2, 1)",
        "scatter = np.tril(scatter)",
        "the engine's scatter left as the lower triangle its loop sums, never "
        "copied to the upper one",
        ("07_at_scale",),
    ),
    # --- the MAP update (chapter 9) and stepwise EM (chapter 11) -------------
    PlantedError(
        "map-dof-minus",
        "em.py",
        "denominators = nk + dof + n_features + 1",
        "denominators = nk + dof + n_features - 1",
        "Σ_k^MAP divided by N_k + ν + d − 1: the mode of the inverse-Wishart misread",
        ("09_prior_and_model_choice",),
    ),
    PlantedError(
        "map-prior-scale-dropped",
        "em.py",
        "covariances = (scatter + scales) / denominators[:, None, None]",
        "covariances = scatter / denominators[:, None, None]",
        "Σ_k^MAP without the prior's scale Ψ in the numerator",
        ("09_prior_and_model_choice",),
    ),
    PlantedError(
        "stepwise-rho-swapped",
        "suffstats.py",
        "return running.scaled((1 - rho) * scale).merge(batch.scaled(rho))",
        "return running.scaled(rho * scale).merge(batch.scaled(1 - rho))",
        "stepwise EM weights the old statistics by ρ_t and the batch by 1 − ρ_t",
        ("11_weights_and_streaming",),
    ),
)


def apply(error: PlantedError, package: Path) -> None:
    """Apply ``error`` to the copy of gmmlib at ``package``, in place."""
    path = package / error.file
    text = path.read_text(encoding="utf-8")
    count = text.count(error.old)
    if count != 1:
        raise ValueError(
            f"planted error {error.id!r}: the text to replace occurs {count} times "
            f"in gmmlib/{error.file} (it must occur once); the source changed, so "
            f"update the catalogue in tests/planted_errors.py:\n{error.old}"
        )
    path.write_text(text.replace(error.old, error.new), encoding="utf-8")


def _environment(copy_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(copy_root), *filter(None, [env.get("PYTHONPATH")])]
    )
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _cell_labels(stem: str, cell: int) -> list[str]:
    """The labels named by ``# checks:`` in code cell ``cell`` (1-based)."""
    sys.path.insert(0, str(CHAPTERS))
    try:
        import _equations
    finally:
        sys.path.remove(str(CHAPTERS))
    cells = _equations.code_cells(CHAPTERS / f"{stem}.md")
    source = cells[cell - 1] if 0 < cell <= len(cells) else ""
    return list(dict.fromkeys(_equations._named_labels(source)))


_FAILED = re.compile(r"^FAILED (?:\S*/)?(\w+)\.md::Cell (\d+)", re.M)


def run(error: PlantedError) -> dict:
    """Plant ``error`` in a copy of gmmlib, run its chapters, say what caught it."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"planted-{error.id}-") as tmp:
        copy_root = Path(tmp)
        package = copy_root / "gmmlib"
        # numba's cache (__pycache__/*.nbi, *.nbc) comes along, with the files'
        # times: kernels whose source is not edited load instead of compiling
        shutil.copytree(
            ROOT / "gmmlib", package, ignore=shutil.ignore_patterns("*.pyc")
        )
        apply(error, package)
        env = _environment(copy_root)
        # The kernels start from chapters/ with this interpreter and environment:
        # a Python started the same way must import the edited copy.
        imported = subprocess.run(
            [sys.executable, "-c", "import gmmlib; print(gmmlib.__file__)"],
            cwd=CHAPTERS,
            env=env,
            capture_output=True,
            text=True,
        )
        origin = imported.stdout.strip()
        if imported.returncode != 0 or not origin.startswith(str(package)):
            raise RuntimeError(
                f"planted error {error.id!r}: a kernel would import gmmlib from "
                f"{origin or imported.stderr!r}, not from the edited copy {package}"
            )
        # And the kernels themselves say what they imported: an IPython startup
        # file (in a profile of our own, not in gmmlib) records gmmlib.__file__.
        seen = copy_root / "imported-by-kernels.txt"
        startup = copy_root / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-planted.py").write_text(
            "import gmmlib\n"
            f"with open({str(seen)!r}, 'a') as f:\n"
            "    f.write(gmmlib.__file__ + '\\n')\n",
            encoding="utf-8",
        )
        env["IPYTHONDIR"] = str(copy_root / "ipython")
        paths = [f"chapters/{stem}.md" for stem in error.chapters]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "--nbval-lax",
                *paths,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        kernels = seen.read_text(encoding="utf-8").split() if seen.is_file() else []
        if not kernels or any(not f.startswith(str(package)) for f in kernels):
            raise RuntimeError(
                f"planted error {error.id!r}: the chapter kernels imported gmmlib "
                f"from {kernels or 'nowhere'}, not only from the edited copy "
                f"{package}\n{result.stdout[-2000:]}"
            )
    record = {
        "id": error.id,
        "description": error.description,
        "file": f"gmmlib/{error.file}",
        "chapters": list(error.chapters),
        "caught_by": None,
    }
    match = _FAILED.search(result.stdout)
    if match:
        stem, nbval_cell = match.group(1), int(match.group(2))
        cell = nbval_cell + 1  # nbval counts code cells from 0, the book from 1
        record["caught_by"] = {
            "chapter": stem,
            "cell": cell,
            "checks": _cell_labels(stem, cell),
        }
    elif result.returncode != 0:
        # not a failing cell (a collection error, a crash): not evidence
        record["problem"] = result.stdout[-2000:] + result.stderr[-2000:]
    record["seconds"] = round(time.perf_counter() - started, 1)
    return record


def run_all(errors=CATALOGUE, jobs: int = 2, echo=print) -> list[dict]:
    """Run every error, ``jobs`` at a time; records in catalogue order."""

    def one(error):
        record = run(error)
        caught = record["caught_by"]
        where = f"{caught['chapter']} cell {caught['cell']}" if caught else "SURVIVED"
        echo(f"{error.id:36s} {where:34s} {record['seconds']:6.1f} s")
        return record

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, errors))


def table(records: list[dict]) -> list[dict]:
    """What the committed table keeps of the records (no timings, no logs)."""
    keep = ("id", "description", "file", "chapters", "caught_by")
    return [{key: record[key] for key in keep} for record in records]


def dumps(rows: list[dict]) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="run only these errors")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--write", action="store_true", help=f"rewrite {TABLE.relative_to(ROOT)}"
    )
    args = parser.parse_args(argv)
    known = {error.id: error for error in CATALOGUE}
    unknown = [name for name in args.ids if name not in known]
    if unknown:
        parser.error(f"no planted error {unknown}; known: {sorted(known)}")
    errors = [known[name] for name in args.ids] if args.ids else list(CATALOGUE)
    started = time.perf_counter()
    records = run_all(errors, args.jobs)
    print(f"{len(records)} planted errors in {time.perf_counter() - started:.0f} s")
    for record in records:
        if record.get("problem"):
            print(f"--- {record['id']}: no failing cell\n{record['problem']}")
    if args.write and not args.ids:
        TABLE.write_text(dumps(table(records)), encoding="utf-8")
        print(f"wrote {TABLE.relative_to(ROOT)}")
    return 0 if all(record["caught_by"] for record in records) else 1


if __name__ == "__main__":
    sys.exit(main())
