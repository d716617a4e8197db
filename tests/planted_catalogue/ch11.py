"""Planted errors checked by chapter 11, ``chapters/11_weights_and_streaming.md``."""

from . import PlantedError

CHAPTER = "11_weights_and_streaming"

ERRORS = (
    PlantedError(
        "weighted-sum-ignores-weights",
        "gmmlib/_backend.py",
        "return float(np.dot(sample_weight, np.asarray(values, np.float64)))",
        "return float(np.sum(values, dtype=np.float64))",
        "the weighted log-likelihood of bic and aic summed without the weights",
        CHAPTER,
        cells=("chosen[scale] = int(Ks[np.argmin(bics)])",),
    ),
    PlantedError(
        "weighted-score-ignores-weights",
        "gmmlib/mixture.py",
        "return float((log_prob * weights).sum() / weights.sum())",
        "return float(log_prob.mean())",
        "score(X, sample_weight=w) returns the unweighted mean log-likelihood",
        CHAPTER,
        cells=("model.score(X, sample_weight=w) * w.sum()",),
    ),
    PlantedError(
        "weighted-gradient-without-weights",
        "chapters/11_weights_and_streaming.md",
        "    wg = w * resp[:, k]\n",
        "    wg = resp[:, k]\n",
        "the claim of eq-weighted-loglik-grad with γ_nk, not w_n γ_nk",
        CHAPTER,
    ),
    PlantedError(
        "weighted-estep-ignores-weights",
        "gmmlib/_kernels.py",
        "scale[t] = w[t] / tot[t]",
        "scale[t] = 1 / tot[t]",
        "the engine's statistics without the sample weights (γ_nk, not w_n γ_nk)",
        CHAPTER,
        cells=(
            "assert np.abs(grad).max() < 1e-6 * nk[k]",
            "on_repeated = GaussianMixture(",
        ),
    ),
    PlantedError(
        "reg-covar-halved",
        "gmmlib/covariance/_base.py",
        "out[:, np.arange(d), np.arange(d)] += (reg_covar * nk)[:, None]",
        "out[:, np.arange(d), np.arange(d)] += (reg_covar / 2 * nk)[:, None]",
        "the M-step adds reg_covar / 2, not reg_covar: S/N + εI is no longer the "
        "maximiser of the penalised objective",
        CHAPTER,
        cells=("w_two[[2, 7]] = [1.0, 2.0]",),
    ),
    PlantedError(
        "weighted-pi-over-rows",
        "gmmlib/suffstats.py",
        "weights = nk / nk.sum()",
        "weights = nk / stats.n_samples",
        "π_k^new = N_k / N (rows), not N_k / Σ_n w_n",
        CHAPTER,
        cells=("def negative_q_pi(logits):",),
    ),
    PlantedError(
        "stepwise-rescaling-dropped",
        "gmmlib/suffstats.py",
        "scale = batch.total_weight / running.total_weight",
        "scale = 1.0",
        "stepwise EM merges the stored sums without bringing them to the batch's "
        "units: the step per unit of weight is ρW_t / ((1 − ρ)W_{t−1} + ρW_t)",
        CHAPTER,
        cells=("rho_raw = rho * w2.sum()", "# checks: eq-step-size"),
    ),
    PlantedError(
        "stepwise-rho-swapped",
        "gmmlib/suffstats.py",
        "return running.scaled((1 - rho) * scale).merge(batch.scaled(rho))",
        "return running.scaled(rho * scale).merge(batch.scaled(1 - rho))",
        "stepwise EM weights the old statistics by ρ_t and the batch by 1 − ρ_t",
        CHAPTER,
        cells=(
            "rho_raw = rho * w2.sum()",
            "# checks: eq-step-size",
            "assert gap[-1] < 0.05 < gap[0]",
        ),
    ),
    PlantedError(
        "step-size-offset-by-one",
        "gmmlib/_streaming.py",
        "rho = (t + model.learning_offset) ** -model.learning_decay",
        "rho = (t - 1 + model.learning_offset) ** -model.learning_decay",
        "ρ_t = (t − 1 + τ₀)^−κ: the schedule counted from the first batch "
        "(eq-step-size's ρ_1 = 1 taken as t = 0)",
        CHAPTER,
        cells=("# checks: eq-step-size", "def stream_iris(sizes, **params):"),
    ),
    PlantedError(
        "starved-component-silent",
        "gmmlib/_streaming.py",
        "if just_starved.size:",
        "if False:",
        "partial_fit loses a starved component silently (no StarvedComponentWarning)",
        CHAPTER,
        cells=("def stream_iris(sizes, **params):",),
    ),
    PlantedError(
        "bic-log-rows",
        "gmmlib/mixture.py",
        "return -2 * log_likelihood + self._n_parameters() * math.log(n)",
        "return -2 * log_likelihood + self._n_parameters() * math.log(len(X))",
        "the weighted BIC's penalty with ln N (rows), not ln Σ_n w_n",
        CHAPTER,
        cells=("chosen[scale] = int(Ks[np.argmin(bics)])",),
    ),
)
