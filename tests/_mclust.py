"""R's mclust as a reference for the tests: `Rscript` run in a subprocess.

No R bindings (nothing compiles): the data and the parameters go to R in
plain-text files of a temporary folder, an R script (below) reads them, calls
mclust and writes its results, 17 significant digits each, to another file,
which is read back. Nothing touches the network.

mclust's Gaussian models Σ_k = λ_k D_k A_k D_kᵀ are named by three letters
(volume, shape, orientation: E equal, V variable, I identity). gmmlib's four
covariance types are four of them (`TWINS`); the other ten are gmmlib's
covariance types of the same names. mclust's `em()` wants each
model's variance in its own fields (`VARIANCE_FIELDS`); `em` here takes
full covariances, shape (K, d, d), and the R script builds those fields.
Adding a model to the harness: its name in `TWINS` (or a test's own list),
its fields in the R function `variance()` and in `VARIANCE_FIELDS`.

When `Rscript` or mclust is missing, `MclustUnavailable` says what to install
(a test that needs mclust then fails: it is never skipped).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

# gmmlib's covariance_type -> mclust's modelName of the same model
TWINS = {"spherical": "VII", "diag": "VVI", "tied": "EEE", "full": "VVV"}

# the fields of parameters$variance that mclust's E-step reads, per model
# (mclust 6.0.0's estepVII, estepVVI, estepEEE and estepVVV)
VARIANCE_FIELDS = {
    "VII": ("sigmasq",),
    "VVI": ("scale", "shape"),
    "EEE": ("Sigma", "cholSigma"),
    "VVV": ("cholsigma",),
    # mclust's other ten (estepEII, ...): volume `scale` (one, or one per
    # component), `shape` (d, or d x G) and `orientation` (d x d, or d x d x
    # G), each present where its letter is not I
    "EII": ("sigmasq",),
    "EEI": ("scale", "shape"),
    "VEI": ("scale", "shape"),
    "EVI": ("scale", "shape"),
    "VEE": ("scale", "shape", "orientation"),
    "EVE": ("scale", "shape", "orientation"),
    "VVE": ("scale", "shape", "orientation"),
    "EEV": ("scale", "shape", "orientation"),
    "VEV": ("scale", "shape", "orientation"),
    "EVV": ("scale", "shape", "orientation"),
}

INSTALL = (
    "R's mclust is needed for the mclust reference tests (`make mclust`): on "
    "Debian/Ubuntu install it with `sudo apt-get install --no-install-recommends "
    "r-base-core r-cran-mclust` (.ci/run installs it when missing)."
)

# Exit status of the script when library(mclust) fails.
NO_MCLUST = 3

_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
folder <- args[1]
task <- args[2]
if (!requireNamespace("mclust", quietly = TRUE)) quit(status = 3)
suppressPackageStartupMessages(library(mclust))
path <- function(name) file.path(folder, name)
numbers <- function(name) scan(path(name), quiet = TRUE)
out <- character()
put <- function(key, value) {
  out <<- c(out, paste(key, paste(sprintf("%.17g", as.double(value)), collapse = " ")))
}
variance <- function(model, sigma, d, G) {
  # mclust's variance list of `model` from full covariances sigma, d x d x G
  v <- list(modelName = model, d = d, G = G, sigma = sigma)
  if (model == "VII") {
    v$sigmasq <- sigma[1, 1, ]
  } else if (model == "VVI") {
    diagonals <- matrix(apply(sigma, 3, diag), d, G)
    v$scale <- apply(diagonals, 2, function(s) prod(s)^(1 / d))
    v$shape <- sweep(diagonals, 2, v$scale, "/")
  } else if (model == "EEE") {
    v$Sigma <- sigma[, , 1]
    v$cholSigma <- chol(v$Sigma)
  } else if (model == "VVV") {
    v$cholsigma <- array(apply(sigma, 3, chol), c(d, d, G))
  } else if (model %in% c("EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE",
                          "EEV", "VEV", "EVV")) {
    # sigma_k = scale_k O_k diag(shape_k) O_k': O_k the identity (I), the
    # eigenvectors of sigma_1 (E) or of sigma_k (V); the fields of an E
    # letter are taken from component 1 (the start satisfies the constraint)
    letters <- strsplit(model, "")[[1]]
    O <- array(0, c(d, d, G))
    diagonals <- matrix(0, d, G)
    for (k in seq_len(G)) {
      if (letters[3] == "I") {
        O[, , k] <- diag(d)
      } else if (letters[3] == "E") {
        O[, , k] <- eigen(sigma[, , 1], symmetric = TRUE)$vectors
      } else {
        O[, , k] <- eigen(sigma[, , k], symmetric = TRUE)$vectors
      }
      diagonals[, k] <- diag(t(O[, , k]) %*% sigma[, , k] %*% O[, , k])
    }
    scale <- apply(diagonals, 2, function(s) prod(s)^(1 / d))
    shape <- sweep(diagonals, 2, scale, "/")
    v$scale <- if (letters[1] == "E") scale[1] else scale
    if (model == "EII") v$sigmasq <- scale[1]
    if (letters[2] == "E") v$shape <- shape[, 1]
    if (letters[2] == "V") v$shape <- shape
    if (letters[3] == "E") v$orientation <- O[, , 1]
    if (letters[3] == "V") v$orientation <- O
  } else {
    stop(paste("tests/_mclust.py builds no variance for model", model))
  }
  v
}
if (task == "em") {
  settings <- strsplit(readLines(path("settings.txt")), " ")[[1]]
  model <- settings[1]
  itmax <- as.integer(settings[2])
  tol <- as.double(settings[3])
  inner_tol <- as.double(settings[4])
  inner_itmax <- as.integer(settings[5])
  X <- as.matrix(read.csv(path("X.csv"), header = FALSE))
  dimnames(X) <- NULL
  n <- nrow(X)
  d <- ncol(X)
  pro <- numbers("pro.txt")
  G <- length(pro)
  mean <- matrix(numbers("mean.txt"), d, G)
  sigma <- array(numbers("sigma.txt"), c(d, d, G))
  parameters <- list(pro = pro, mean = mean, variance = variance(model, sigma, d, G))
  warned <- character()
  fit <- withCallingHandlers(
    em(data = X, modelName = model, parameters = parameters,
       control = emControl(itmax = c(itmax, inner_itmax),
                           tol = c(tol, inner_tol)), warn = TRUE),
    warning = function(w) {
      warned <<- c(warned, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  put("loglik", fit$loglik)
  # info: iterations and error by position (VEE names them niterout and
  # errout; EVE and VVE leave info out); its attribute "inner" those of the
  # last M-step's inner loop
  info <- attr(fit, "info")
  inner <- attr(info, "inner")
  put("iterations", if (is.null(info)) NA else info[[1]])
  put("error", if (is.null(info)) NA else info[[2]])
  put("inner_iterations", if (is.null(inner)) NA else inner[[1]])
  put("inner_error", if (is.null(inner)) NA else inner[[2]])
  put("returnCode", attr(fit, "returnCode"))
  put("pro", fit$parameters$pro)
  put("mean", fit$parameters$mean)
  put("sigma", fit$parameters$variance$sigma)
  put("n_parameters", nMclustParams(model, d, G))
  put("bic", bic(model, fit$loglik, n, d, G))
  out <- c(out, paste("warnings", paste(gsub("\n", " ", warned), collapse = " | ")))
} else if (task == "counts") {
  # each line of queries.txt: model d G; answers: nMclustParams, and bic with
  # the loglik and n of the line
  for (line in readLines(path("queries.txt"))) {
    q <- strsplit(line, " ")[[1]]
    d <- as.integer(q[2])
    G <- as.integer(q[3])
    put("n_parameters", nMclustParams(q[1], d, G))
    put("bic", bic(q[1], as.double(q[4]), as.integer(q[5]), d, G))
  }
} else if (task == "version") {
  out <- as.character(packageVersion("mclust"))
}
writeLines(out, path("out.txt"))
"""


class MclustUnavailable(RuntimeError):
    """Rscript or R's mclust package is not installed."""


def rscript():
    """The path of `Rscript`; `MclustUnavailable` if there is none."""
    found = shutil.which("Rscript")
    if found is None:
        raise MclustUnavailable(f"Rscript is not on PATH. {INSTALL}")
    return found


def _run(task, files):
    """Write `files` ({name: text}) to a temporary folder, run the script's
    `task` there, return the lines it wrote."""
    command = rscript()
    with tempfile.TemporaryDirectory(prefix="gmmlib-mclust-") as folder:
        folder = Path(folder)
        (folder / "script.R").write_text(_SCRIPT, encoding="utf-8")
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        result = subprocess.run(
            [command, "--vanilla", str(folder / "script.R"), str(folder), task],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if result.returncode == NO_MCLUST:
            raise MclustUnavailable(f"R cannot load the mclust package. {INSTALL}")
        if result.returncode != 0:
            raise RuntimeError(
                f"Rscript failed (exit status {result.returncode}) on task "
                f"{task!r}:\n{result.stderr}"
            )
        return (folder / "out.txt").read_text(encoding="utf-8").splitlines()


def version():
    """mclust's version, e.g. '6.0.0'."""
    return _run("version", {})[0]


def _numbers(array):
    return " ".join(f"{x:.17g}" for x in np.ravel(array, order="C")) + "\n"


def _parsed(lines):
    values = {}
    for line in lines:
        key, _, rest = line.partition(" ")
        if key == "warnings":
            values[key] = [w for w in rest.split(" | ") if w]
        else:
            # R's NA (a failed fit's loglik and parameters) becomes nan
            values.setdefault(key, []).append(
                np.array([np.nan if x == "NA" else float(x) for x in rest.split()])
            )
    return values


def _count(value):
    """An iteration count, None where mclust gives none (NA)."""
    return None if np.isnan(value) else int(value)


def em(
    X,
    model,
    weights,
    means,
    covariances,
    itmax,
    tol=0.0,
    inner_tol=1e-14,
    inner_itmax=100_000,
):
    """mclust's `em(X, model, parameters)` from the given parameters.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    model : str
        mclust's model name, e.g. 'VVV'.
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, d)
    covariances : ndarray of shape (K, d, d)
        Full covariance matrices, whatever the model; the R script takes
        from them the fields the model's variance needs (for 'EEE', the
        first matrix).
    itmax : int
        `emControl(itmax=)`: the number of M-steps at most.
    tol : float
        `emControl(tol=)`, first element: EM stops once the relative change
        |L_old - L| / (1 + |L|) of the log-likelihood is not above it; 0 runs
        `itmax` iterations unless L stops changing exactly.
    inner_tol, inner_itmax : float, int
        `emControl`'s second elements: the iterative M-steps (VEI, VEE, EVE,
        VVE, VEV) stop their inner loop when its relative change is not above
        `inner_tol`, or after `inner_itmax` iterations. Tight by default, so
        that a comparison measures gmmlib, not mclust's inner stopping rule
        (emControl()'s default is sqrt(eps)).

    Returns
    -------
    dict
        'loglik' (float, the total log-likelihood), 'iterations' (int, as
        mclust's info: negative when `itmax` was reached; None for EVE and
        VVE, whose `em()` returns no info), 'error' (the last relative
        change; nan where no info), 'inner_iterations' and 'inner_error'
        (the last inner loop's, for the iterative M-steps; None and nan
        otherwise), 'returnCode' (0 converged, 1 `itmax` reached; on
        failure -1 singular covariance, -3 a mixing proportion fell below
        threshold, and loglik and parameters are nan), 'weights' (K,),
        'means' (K, d), 'covariances' (K, d, d), 'n_parameters', 'bic'
        (mclust's, of this fit), 'warnings' (list of str: mclust's warnings,
        always asked for with `warn=TRUE`).
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    K = len(weights)
    covariances = np.asarray(covariances, dtype=np.float64)
    # R fills arrays column-major: means d x K and sigma d x d x K are the
    # C-ordered (K, d) and (K, d, d) (transposed: the same, sigma symmetric)
    files = {
        "settings.txt": (
            f"{model} {int(itmax)} {float(tol):.17g} {float(inner_tol):.17g} "
            f"{int(inner_itmax)}\n"
        ),
        "X.csv": "\n".join(",".join(f"{x:.17g}" for x in row) for row in X) + "\n",
        "pro.txt": _numbers(weights),
        "mean.txt": _numbers(means),
        "sigma.txt": _numbers(np.transpose(covariances, (0, 2, 1))),
    }
    values = _parsed(_run("em", files))
    return {
        "loglik": float(values["loglik"][0][0]),
        "iterations": _count(values["iterations"][0][0]),
        "error": float(values["error"][0][0]),
        "inner_iterations": _count(values["inner_iterations"][0][0]),
        "inner_error": float(values["inner_error"][0][0]),
        "returnCode": int(values["returnCode"][0][0]),
        "weights": values["pro"][0],
        "means": values["mean"][0].reshape(K, d),
        "covariances": values["sigma"][0].reshape(K, d, d).transpose(0, 2, 1),
        "n_parameters": int(values["n_parameters"][0][0]),
        "bic": float(values["bic"][0][0]),
        "warnings": values.get("warnings", []),
    }


def counts(queries):
    """mclust's `nMclustParams(model, d, G)` and `bic(model, loglik, n, d, G)`.

    Parameters
    ----------
    queries : list of (model, d, G, loglik, n)

    Returns
    -------
    list of (int, float)
        The number of free parameters and the BIC, one pair per query.
    """
    text = "".join(
        f"{model} {int(d)} {int(G)} {float(loglik):.17g} {int(n)}\n"
        for model, d, G, loglik, n in queries
    )
    values = _parsed(_run("counts", {"queries.txt": text}))
    return [
        (int(p[0]), float(b[0]))
        for p, b in zip(values["n_parameters"], values["bic"], strict=True)
    ]
