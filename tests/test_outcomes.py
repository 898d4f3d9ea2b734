"""Outcome analyses against R (t.test, wilcox.test, lm, lme4, Rubin's rules), bad input, invariants.

Reference values: tests/reference/psych_lme4_reference.R -> tests/reference/values/outcomes_*.json.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tim_research.errors import DataError
from tim_research.outcomes import (
    ClinicalNorms,
    clinical_cutoffs,
    compare_groups,
    growth_model,
    impute_and_pool,
    paired_change,
    pool_rubin,
    reliable_change,
)

NORM_KEYS = ["dysfunctional_mean", "dysfunctional_sd", "functional_mean", "functional_sd"]


@pytest.fixture(scope="module")
def univbct(read_external):
    return read_external("multilevel_univbct.csv")


@pytest.fixture(scope="module")
def univ_wide(univbct):
    # one row per soldier (the wide copies of the waves), shuffled, indexed by SUBNUM
    wide = univbct.loc[univbct["TIME"] == 0].set_index("SUBNUM")
    return wide.sample(frac=1.0, random_state=11)


@pytest.fixture(scope="module")
def jobs(read_external):
    data = read_external("mediation_jobs2.csv", index_col="row_id")
    return data.sample(frac=1.0, random_state=5)


def _nan(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# --------------------------------------------------------------------------------------------
# paired change
# --------------------------------------------------------------------------------------------
def _check_paired(res, ref):
    assert res.n == ref["n"]
    assert res.n_dropped == ref["n_dropped"]
    assert res.df == ref["df"]
    for name in ["mean_change", "sd_change", "ci_lower", "ci_upper", "t", "cohens_dz", "hedges_gz"]:
        assert getattr(res, name) == pytest.approx(ref[name], rel=1e-9, abs=1e-12), name
    assert res.p == pytest.approx(ref["p"], rel=1e-8)
    assert res.wilcoxon_v == ref["wilcoxon_v"]
    assert res.wilcoxon_p == pytest.approx(ref["wilcoxon_p"], rel=1e-8)
    # R's pt(ncp=) warns about its own precision for some arguments: 1e-8 is ample
    np.testing.assert_allclose(res.cohens_dz_ci, ref["cohens_dz_ci"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.hedges_gz_ci, ref["hedges_gz_ci"], rtol=1e-8, atol=1e-10)


def test_paired_change_against_R_univbct(univ_wide, reference_values):
    ref = reference_values("outcomes_paired")["univbct_jobsat"]
    # post in a different row order than pre: aligned by index
    post = univ_wide["JOBSAT2"].sample(frac=1.0, random_state=1)
    res = paired_change(univ_wide["JOBSAT1"], post)
    _check_paired(res, ref)
    assert "continuity correction" in res.wilcoxon_method
    assert "continuity correction" in ref["wilcoxon_method"]


def test_paired_change_against_R_jobs(jobs, reference_values):
    ref = reference_values("outcomes_paired")["jobs"]
    _check_paired(paired_change(jobs["depress1"], jobs["depress2"]), ref)


def test_paired_change_exact_wilcoxon_against_R(reference_values):
    ref = reference_values("outcomes_paired")["sleepstudy_day0_day9"]
    pre = pd.Series(ref["pre"], index=ref["subject"])
    post = pd.Series(ref["post"], index=ref["subject"])
    res = paired_change(pre, post)
    assert res.wilcoxon_method == "exact"
    assert ref["wilcoxon_method"] == "Wilcoxon signed rank exact test"
    _check_paired(res, ref)
    frame = res.to_frame()
    assert {"cohens_dz_ci_lower", "cohens_dz_ci_upper", "p", "n_dropped"} <= set(frame)
    assert "<table" in res._repr_html_()


def test_paired_change_index_must_match():
    pre = pd.Series([1.0, 2, 3], index=["a", "b", "c"])
    post = pd.Series([1.0, 2, 4], index=["a", "b", "d"])
    with pytest.raises(DataError, match=r"only in pre: 'c'; only in post: 'd'"):
        paired_change(pre, post)
    with pytest.raises(DataError, match="duplicated"):
        paired_change(pre.set_axis(["a", "a", "c"]), post.set_axis(["a", "a", "c"]))
    with pytest.raises(DataError, match="at least two complete pairs"):
        paired_change(pre, pd.Series([np.nan, np.nan, 4.0], index=pre.index))


def test_paired_change_counts_dropped_pairs():
    pre = pd.Series([1.0, 2, 3, np.nan, 5, 4], index=list("uvwxyz"))
    post = pd.Series([2.0, np.nan, 5, 4, 7, 4.5], index=list("uvwxyz"))
    res = paired_change(pre, post)
    assert (res.n, res.n_dropped) == (4, 2)
    full = paired_change(pre.dropna().drop("v"), post.drop(["v", "x"]))
    assert res.t == pytest.approx(full.t)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=3, max_value=60), st.integers(min_value=0, max_value=10**6))
def test_swapping_pre_and_post_flips_signs(n, seed):
    rng = np.random.default_rng(seed)
    idx = pd.Index(rng.permutation(n) + 1000)
    pre = pd.Series(rng.normal(size=n), index=idx)
    post = pd.Series(pre.to_numpy() + rng.normal(0.3, 1, size=n), index=idx)
    a, b = paired_change(pre, post), paired_change(post, pre)
    assert a.t == pytest.approx(-b.t)
    assert a.p == pytest.approx(b.p)
    assert a.wilcoxon_p == pytest.approx(b.wilcoxon_p)
    assert a.cohens_dz_ci[0] == pytest.approx(-b.cohens_dz_ci[1], rel=1e-7, abs=1e-9)
    assert a.cohens_dz_ci[0] < a.cohens_dz < a.cohens_dz_ci[1]


# --------------------------------------------------------------------------------------------
# reliable change
# --------------------------------------------------------------------------------------------
def test_reliable_change_against_R_formulas(univ_wide, reference_values):
    ref = reference_values("outcomes_reliable_change")
    inputs = ref["inputs"]
    res = reliable_change(
        univ_wide["JOBSAT1"],
        univ_wide["JOBSAT2"],
        sd=inputs["sd"],
        reliability=inputs["reliability"],
        norms={k: inputs[k] for k in NORM_KEYS},
    )
    assert res.index.equals(univ_wide.index)
    expected = pd.DataFrame(
        {
            "change": _nan(ref["change"]),
            "rci": _nan(ref["rci"]),
            "category": ref["category"],
            "clinical": ref["clinical"],
        },
        index=pd.Index(ref["subnum"], name="SUBNUM"),
    ).reindex(univ_wide.index)
    np.testing.assert_allclose(res["rci"], expected["rci"], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(res["change"], expected["change"], rtol=1e-12, equal_nan=True)
    for col in ["category", "clinical"]:
        got = ["<NA>" if pd.isna(v) else v for v in res[col].astype(object)]
        assert got == ["<NA>" if pd.isna(v) else v for v in expected[col]]
    cut = res.attrs["cutoffs"]
    assert (cut["a"], cut["b"], cut["c"]) == pytest.approx(
        (ref["cutoff_a"], ref["cutoff_b"], ref["cutoff_c"]), rel=1e-12
    )


def test_reliable_change_direction_and_errors():
    pre = pd.Series([30.0, 30, 30], index=["c", "a", "b"])
    post = pd.Series([20.0, 30, 40], index=["c", "a", "b"])
    res = reliable_change(pre, post, sd=5, reliability=0.8, higher_is_better=False)
    assert res["category"].tolist() == ["reliably improved", "no reliable change", "reliably worse"]
    with pytest.raises(DataError, match="reliability"):
        reliable_change(pre, post, sd=5, reliability=1.0)
    with pytest.raises(DataError, match="sd must be above 0"):
        reliable_change(pre, post, sd=0, reliability=0.8)
    with pytest.raises(DataError, match="norms"):
        reliable_change(pre, post, sd=5, reliability=0.8, norms={"functional_mean": 1})


def test_clinical_cutoffs_mirror_with_direction():
    norms = ClinicalNorms(
        dysfunctional_mean=60, dysfunctional_sd=10, functional_mean=40, functional_sd=8
    )
    cut = clinical_cutoffs(norms, higher_is_better=False)
    assert (cut.a, cut.b) == (40, 56)
    assert cut.b > cut.c > cut.a
    assert "<table" in cut._repr_html_()


# --------------------------------------------------------------------------------------------
# ANCOVA
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "covariates"),
    [("baseline_only", ()), ("with_covariates", ("econ_hard", "age"))],
)
def test_compare_groups_against_lm(jobs, reference_values, case, covariates):
    ref = reference_values("outcomes_ancova_jobs2")[case]
    res = compare_groups(
        jobs, outcome="depress2", group="treat", baseline="depress1", covariates=covariates
    )
    assert (res.reference, res.comparison) == (0, 1)
    assert res.n == ref["n"]
    assert res.df == ref["df_resid"]
    for name in ["estimate", "se", "t", "ci_lower", "ci_upper", "partial_eta_sq"]:
        assert getattr(res, name) == pytest.approx(ref[name], rel=1e-6), name
    assert res.p == pytest.approx(ref["p"], rel=1e-6)
    assert res.adjusted_means[0] == pytest.approx(ref["adjusted_mean_control"], rel=1e-6)
    assert res.adjusted_means[1] == pytest.approx(ref["adjusted_mean_treat"], rel=1e-6)
    assert res.coefficients.loc["depress1", "estimate"] == pytest.approx(
        ref["baseline_coef"], rel=1e-6
    )
    assert res.to_frame().shape[0] == 1
    assert "<table" in res._repr_html_()


def test_compare_groups_drops_and_counts_missing(jobs):
    data = jobs.copy()
    data.iloc[:7, data.columns.get_loc("depress2")] = np.nan
    res = compare_groups(data, outcome="depress2", group="treat", baseline="depress1")
    full = compare_groups(data.iloc[7:], outcome="depress2", group="treat", baseline="depress1")
    assert (res.n, res.n_dropped) == (len(jobs) - 7, 7)
    assert res.estimate == pytest.approx(full.estimate, rel=1e-12)


def test_compare_groups_bad_input(jobs):
    with pytest.raises(DataError, match="exactly two groups"):
        compare_groups(jobs, outcome="depress2", group="educ", baseline="depress1")
    emptied = jobs.assign(depress2=np.where(jobs["treat"] == 1, np.nan, jobs["depress2"]))
    with pytest.raises(DataError, match=r"groups 1 have no complete row"):
        compare_groups(emptied, outcome="depress2", group="treat", baseline="depress1")
    with pytest.raises(DataError, match="'depress2'.*entirely missing"):
        compare_groups(
            jobs.assign(depress2=np.nan), outcome="depress2", group="treat", baseline="depress1"
        )
    with pytest.raises(DataError, match="numeric"):
        compare_groups(jobs, outcome="occp", group="treat", baseline="depress1")
    with pytest.raises(DataError, match="no column"):
        compare_groups(jobs, outcome="depress3", group="treat", baseline="depress1")


# --------------------------------------------------------------------------------------------
# growth models against lme4
# --------------------------------------------------------------------------------------------
VARIANCES = ["intercept_var", "slope_var", "intercept_slope_cov", "residual_var"]


def _check_growth(res, ref, *, random_slope=True):
    assert res.converged
    assert res.n_obs == ref["n_obs"]
    assert res.n_subjects == ref["n_subjects"]
    # MixedLM and lme4 stop at slightly different points of the same flat (RE)ML surface:
    # fixed effects agree to ~1e-7, their SEs and the variance components to ~1e-4 relative
    np.testing.assert_allclose(res.fixed["estimate"], ref["estimate"], rtol=1e-5)
    np.testing.assert_allclose(res.fixed["se"], ref["se"], rtol=1e-4)
    names = VARIANCES if random_slope else ["intercept_var", "residual_var"]
    got = res.variance[names].to_numpy()
    np.testing.assert_allclose(got, [ref[k] for k in names], rtol=2e-4)
    # the criterion is the same function: statsmodels' optimum is never worse than lme4's
    assert res.log_likelihood == pytest.approx(ref["log_likelihood"], rel=1e-8)


def test_growth_model_against_lme4_univbct(univbct, reference_values):
    ref = reference_values("outcomes_lmer")
    data = univbct.sample(frac=1.0, random_state=2)
    res = growth_model(data, outcome="JSAT", time="TIME", subject="SUBNUM")
    _check_growth(res, ref["univbct_slope"])
    assert res.n_dropped == len(univbct) - ref["univbct_slope"]["n_obs"]
    assert list(res.fixed.index) == ["Intercept", "TIME"]
    ri = growth_model(data, outcome="JSAT", time="TIME", subject="SUBNUM", random_slope=False)
    _check_growth(ri, ref["univbct_intercept"], random_slope=False)
    assert np.isnan(ri.variance["slope_var"])


@pytest.mark.parametrize(("case", "reml"), [("sleepstudy_slope", True), ("sleepstudy_ml", False)])
def test_growth_model_against_lme4_sleepstudy(reference_values, case, reml):
    ref = reference_values("outcomes_lmer")
    sleep = pd.DataFrame(ref["sleepstudy_data"])
    sleep.index = pd.Index([f"obs{i}" for i in range(len(sleep))])
    res = growth_model(
        sleep.sample(frac=1.0, random_state=4),
        outcome="Reaction",
        time="Days",
        subject="Subject",
        reml=reml,
    )
    _check_growth(res, ref[case])
    assert {"estimate", "se", "p", "ci_lower", "ci_upper"} <= set(res.fixed.columns)
    assert "<table" in res._repr_html_()


def test_growth_model_bad_input(reference_values):
    sleep = pd.DataFrame(reference_values("outcomes_lmer")["sleepstudy_data"])
    one = sleep[sleep["Subject"] == sleep["Subject"].iloc[0]]
    with pytest.raises(DataError, match="at least two subjects"):
        growth_model(one, outcome="Reaction", time="Days", subject="Subject")
    with pytest.raises(DataError, match="entirely missing"):
        growth_model(
            sleep.assign(Reaction=np.nan), outcome="Reaction", time="Days", subject="Subject"
        )
    with pytest.raises(DataError, match="single value"):
        growth_model(sleep.assign(Days=1), outcome="Reaction", time="Days", subject="Subject")
    with pytest.raises(DataError, match="no column"):
        growth_model(sleep, outcome="RT", time="Days", subject="Subject")


# --------------------------------------------------------------------------------------------
# Rubin's rules and imputation
# --------------------------------------------------------------------------------------------
def test_pool_rubin_against_R_formulas(reference_values):
    ref = reference_values("outcomes_rubin")
    est = pd.DataFrame(ref["estimates"], columns=ref["terms"])
    var = pd.DataFrame(ref["variances"], columns=ref["terms"])
    res = pool_rubin(est, var, df_complete=ref["df_complete"])
    assert list(res.index) == ref["terms"]
    for col in ["estimate", "se", "within", "between", "total", "riv", "lambda", "df", "fmi", "t"]:
        np.testing.assert_allclose(res[col], ref[col], rtol=1e-10, err_msg=col)
    np.testing.assert_allclose(res["p"], ref["p"], rtol=1e-8)
    np.testing.assert_allclose(res["ci_lower"], ref["ci_lower"], rtol=1e-10)
    np.testing.assert_allclose(res["ci_upper"], ref["ci_upper"], rtol=1e-10)


def test_pool_rubin_without_between_variance():
    est = pd.DataFrame({"b": [2.0, 2.0, 2.0]})
    var = pd.DataFrame({"b": [0.25, 0.25, 0.25]})
    res = pool_rubin(est, var, df_complete=30).loc["b"]
    assert (res["estimate"], res["total"], res["lambda"]) == (2.0, 0.25, 0.0)
    assert res["df"] == pytest.approx(31 / 33 * 30)  # df_obs alone when B = 0
    assert np.isinf(pool_rubin(est, var).loc["b", "df"])
    with pytest.raises(DataError, match="at least two imputations"):
        pool_rubin(est.iloc[:1], var.iloc[:1])


def test_impute_and_pool_is_seeded(univ_wide):
    wide = univ_wide[["JOBSAT1", "JOBSAT2", "JOBSAT3", "AGE"]]
    a = impute_and_pool(wide, formula="JOBSAT3 ~ JOBSAT1 + AGE", m=3, n_burnin=3, seed=3)
    b = impute_and_pool(wide, formula="JOBSAT3 ~ JOBSAT1 + AGE", m=3, n_burnin=3, seed=3)
    c = impute_and_pool(wide, formula="JOBSAT3 ~ JOBSAT1 + AGE", m=3, n_burnin=3, seed=4)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not a.table.equals(c.table)
    assert a.n == len(wide)
    assert a.n_incomplete == int(wide.isna().any(axis=1).sum())
    assert (a.table["between"] > 0).all()
    assert "<table" in a._repr_html_()


def test_impute_and_pool_without_missing_is_ols(jobs):
    import statsmodels.formula.api as smf

    data = jobs[["depress2", "treat", "depress1"]]
    res = impute_and_pool(data, formula="depress2 ~ treat + depress1", m=2, n_burnin=1, seed=1)
    ols = smf.ols("depress2 ~ treat + depress1", data=data).fit()
    np.testing.assert_allclose(res.table["estimate"], ols.params, rtol=1e-10)
    np.testing.assert_allclose(res.table["se"], ols.bse, rtol=1e-10)
    np.testing.assert_allclose(
        res.table["df"], ols.df_resid * (ols.df_resid + 1) / (ols.df_resid + 3)
    )


def test_impute_and_pool_bad_input(univ_wide):
    wide = univ_wide[["JOBSAT1", "JOBSAT3"]]
    with pytest.raises(DataError, match="'JOBSAT3'.*entirely missing"):
        impute_and_pool(wide.assign(JOBSAT3=np.nan), formula="JOBSAT3 ~ JOBSAT1", seed=1)
    with pytest.raises(DataError, match="numeric"):
        impute_and_pool(wide.assign(site="x"), formula="JOBSAT3 ~ JOBSAT1", seed=1)
    with pytest.raises(DataError, match="m must be"):
        impute_and_pool(wide, formula="JOBSAT3 ~ JOBSAT1", m=1, seed=1)
