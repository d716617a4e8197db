"""Planted errors checked by chapter 12, ``chapters/12_missing_values.md``."""

from . import PlantedError

CHAPTER = "12_missing_values"

ERRORS = (
    PlantedError(
        "observed-density-drops-correlations",
        "gmmlib/em.py",
        "full[k][np.ix_(o, o)], lower=True, check_finite=False",
        "np.diag(np.diag(full[k][np.ix_(o, o)])), lower=True, check_finite=False",
        "the marginal density of the observed entries with the diagonal of "
        "Σ_{k,oo} only: the correlations between observed entries dropped",
        CHAPTER,
        cells=(
            "# checks: eq-observed-log-likelihood\nassert np.isclose(L_obs,",
            "# checks: eq-observed-responsibility",
        ),
    ),
    PlantedError(
        "observed-responsibility-without-weights",
        "gmmlib/em.py",
        "    weighted = _add_log_weights(weights, log_densities)\n"
        "    return np.exp(weighted - _log_mixture_density(weighted)[:, None])",
        "    weighted = log_densities\n"
        "    return np.exp(weighted - _log_mixture_density(weighted)[:, None])",
        "γ_nk from the observed entries without the mixing weights π_k "
        "(Flaw 1 of the source proof, with missing values)",
        CHAPTER,
        cells=("# checks: eq-observed-responsibility",),
    ),
    PlantedError(
        "conditional-mean-without-regression",
        "gmmlib/em.py",
        "means[k, m] + (X[np.ix_(rows, o)] - means[k, o]) @ B",
        "means[k, m] + 0 * (X[np.ix_(rows, o)] - means[k, o]) @ B",
        "the missing entries filled with the component's mean μ_{k,m}, not "
        "their conditional mean given the observed entries",
        CHAPTER,
        cells=(
            'for name in ["MCAR", "MAR"]:',
            "# checks: eq-conditional-moments, eq-conditional-precision",
            "by_hand = sum(posterior[:, [k]] * np.array(",
            "row = np.array([[1.7, np.nan]])",
        ),
    ),
    PlantedError(
        "conditional-covariance-marginal",
        "gmmlib/em.py",
        "conditional = sigma[np.ix_(m, m)] - sigma[np.ix_(m, o)] @ B",
        "conditional = sigma[np.ix_(m, m)] + 0 * B.sum()",
        "C = Σ_mm, the marginal covariance of the missing entries, not the "
        "Schur complement (their covariance given the observed ones)",
        CHAPTER,
        cells=(
            "# checks: eq-conditional-moments, eq-conditional-precision",
            "row = np.array([[1.7, np.nan]])",
        ),
    ),
    PlantedError(
        "m-step-forgets-conditional-covariance",
        "gmmlib/em.py",
        'scatter += np.einsum("pk,pkij->kij", pattern_nk, c_tilde)',
        'scatter += 0 * np.einsum("pk,pkij->kij", pattern_nk, c_tilde)',
        "Σ_k^new from the imputed rows' plain scatter, without the term "
        "Σ_n γ_nk C̃_nk / N_k",
        CHAPTER,
        cells=(
            'for name in ["MCAR", "MAR"]:',
            "# checks: eq-q-missing, eq-sigma-new-missing",
            "correction = np.einsum(",
            "assert np.allclose(np.diag(with_c[2][0])",
            "grad_sigma = numdiff.matrix_gradient(of_sigma",
        ),
    ),
    PlantedError(
        "ignorability-under-mnar",
        "chapters/12_missing_values.md",
        '         if name != "MNAR"}',
        '         if name != "MCAR"}',
        "the factorisation eq-ignorability claimed for a mechanism that "
        "depends on the missing entry (MNAR)",
        CHAPTER,
    ),
    PlantedError(
        "theta-free-ratio-under-mnar",
        "chapters/12_missing_values.md",
        'for name in ("MCAR", "MAR"):\n    assert np.isclose(*ratios[name]',
        'for name in ("MCAR", "MAR", "MNAR"):\n    assert np.isclose(*ratios[name]',
        "the observed-data likelihood's share of eq-ignorability claimed "
        "free of θ under MNAR too (the mechanism's factor left the integral)",
        CHAPTER,
    ),
    PlantedError(
        "rate-masks-not-growing",
        "chapters/12_missing_values.md",
        "    hidden = uniform < fraction\n",
        "    hidden = uniform < 0.25\n",
        "the rates compared on masks that do not grow with the fraction "
        "missing: the claim that EM slows as more is missing, on equal data",
        CHAPTER,
    ),
    PlantedError(
        "engine-missing-without-conditional-covariance",
        "gmmlib/suffstats.py",
        "            scatter += expected\n",
        "            scatter += 0 * expected\n",
        "the estimator's scatter of rows with NaN without the term "
        "Σ_n γ_nk C̃_nk of eq-sigma-new-missing",
        CHAPTER,
        cells=("theta_5 = em.em_step_observed(X_missing, *theta_5)",),
    ),
    PlantedError(
        "engine-missing-map-sign",
        "gmmlib/suffstats.py",
        "maps = np.eye(d) - conditionals @ self._precisions",
        "maps = np.eye(d) + conditionals @ self._precisions",
        "the estimator fills a row with μ_m + Λ_mm⁻¹ Λ_mo (x_o − μ_o): the "
        "sign of eq-conditional-precision's regression turned",
        CHAPTER,
        cells=("theta_5 = em.em_step_observed(X_missing, *theta_5)",),
    ),
    PlantedError(
        "engine-missing-2pi-sign",
        "gmmlib/suffstats.py",
        "corrections -= 0.5 * m.size * math.log(2 * math.pi)",
        "corrections += 0.5 * m.size * math.log(2 * math.pi)",
        "the estimator's observed-data density with |m| ln 2π the wrong way "
        "(eq-observed-density-filled's last term): the same for every "
        "component, so only score_samples shows it",
        CHAPTER,
        cells=("theta_5 = em.em_step_observed(X_missing, *theta_5)",),
    ),
    PlantedError(
        "observed-density-filled-log-det-sign",
        "chapters/12_missing_values.md",
        "- 0.5 * np.linalg.slogdet(lam_mm)[1]",
        "+ 0.5 * np.linalg.slogdet(lam_mm)[1]",
        "eq-observed-density-filled claimed with + ½ ln|Λ_mm|: |Σ_oo| read "
        "as |Σ| / |Λ_mm|",
        CHAPTER,
    ),
)
