"""Outcome analyses against R (t.test, wilcox.test, lm, lme4, Rubin's rules), bad input, invariants.

Reference values: tests/reference/psych_lme4_reference.R -> tests/reference/values/outcomes_*.json
and tests/reference/outcomes_extra_reference.R -> tests/reference/values/extra_*.json.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tim_research import synth
from tim_research.errors import DataError
from tim_research.scoring import score
from tim_research.stats.outcomes import (
    ChangeCriterion,
    ClinicalNorms,
    change_criterion,
    change_table,
    clinical_cutoffs,
    compare_groups,
    compare_table,
    group_means,
    growth_model,
    impute_and_pool,
    missing_data_sensitivity,
    paired_change,
    pool_rubin,
    reliable_change,
)
from tim_research.stats.psychometrics import reliability
from tim_research.views.tables import baseline_items

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
    # both minimise the same profiled (RE)ML deviance but stop at slightly different points of
    # a flat surface: fixed effects agree to ~1e-6, their SEs and variance components to ~1e-4
    np.testing.assert_allclose(res.fixed["estimate"], ref["estimate"], rtol=1e-5)
    np.testing.assert_allclose(res.fixed["se"], ref["se"], rtol=1e-4)
    names = VARIANCES if random_slope else ["intercept_var", "residual_var"]
    got = res.variance[names].to_numpy()
    np.testing.assert_allclose(got, [ref[k] for k in names], rtol=2e-4)
    # the criterion is the same function, and our optimum is never worse than lme4's
    assert res.log_likelihood == pytest.approx(ref["log_likelihood"], rel=1e-8)
    assert res.log_likelihood >= ref["log_likelihood"] - 1e-9 * abs(ref["log_likelihood"])


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


def test_growth_model_recovers_a_covariate_effect():
    """A random-slope model with a covariate, 500 subjects: the true effect is inside the CI."""
    rng = np.random.default_rng(3)
    ids = np.repeat(np.arange(500), 4)
    t = np.tile(np.arange(4.0), 500)
    x = rng.normal(size=2000)
    y = 1 + 0.3 * t + 0.5 * x + rng.normal(size=500)[ids] + rng.normal(0, 0.2, 500)[ids] * t
    y = y + rng.normal(scale=0.5, size=2000)
    data = pd.DataFrame({"id": ids, "t": t, "x": x, "y": y})
    fit = growth_model(data, outcome="y", time="t", subject="id", predictors=["x"])
    assert fit.converged
    assert fit.fixed.loc["x", "ci_lower"] < 0.5 < fit.fixed.loc["x", "ci_upper"]


def test_impute_and_pool_corrects_bias_of_complete_cases():
    """y is missing more often when x (correlated with y) is high: missing at random given x.

    The complete-case mean of y is biased downwards; the imputed mean recovers the truth (0).
    """
    rng = np.random.default_rng(11)
    n = 2000
    x = rng.normal(size=n)
    y = 0.8 * x + rng.normal(scale=0.6, size=n)
    y[rng.random(n) < 1 / (1 + np.exp(-2 * x))] = np.nan
    data = pd.DataFrame({"x": x, "y": y}, index=rng.permutation(n) + 10)
    complete_mean = np.nanmean(y)
    assert complete_mean < -0.3
    fit = impute_and_pool(data, formula="y ~ 1", m=10, n_burnin=5, seed=2)
    row = fit.table.loc["Intercept"]
    assert row["ci_lower"] < 0 < row["ci_upper"]
    assert abs(row["estimate"]) < 0.1
    assert 0 < row["fmi"] < 1


def test_impute_and_pool_formula_errors(univ_wide):
    wide = univ_wide[["JOBSAT1", "JOBSAT3"]]
    with pytest.raises(DataError, match="cannot be evaluated"):
        impute_and_pool(wide, formula="JOBSAT3 ~ NOPE", m=2, seed=1)
    with pytest.raises(DataError, match="n_burnin"):
        impute_and_pool(wide, formula="JOBSAT3 ~ JOBSAT1", n_burnin=0, seed=1)


# --------------------------------------------------------------------------------------------
# report tables: group means, change, ANCOVA and missing-data sensitivity
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["JOBSAT1", "JOBSAT3"])
def test_group_means_against_t_test(univ_wide, reference_values, value):
    ref = reference_values("extra_group_means")[value]
    table = group_means(univ_wide, value=value, by="COMPANY", min_cell=0)
    assert table["COMPANY"].tolist() == ref["group"]
    for col in ["n", "n_missing", "mean", "sd", "ci_lower", "ci_upper"]:
        np.testing.assert_allclose(table[col], ref[col], rtol=1e-10, err_msg=col)
    np.testing.assert_allclose(table["se"], table["sd"] / np.sqrt(table["n"]), rtol=1e-12)
    assert not table["suppressed"].any()


def test_group_means_suppression_order_and_errors():
    d = pd.DataFrame(
        {
            "arm": pd.Categorical(["b", "b", "b", "a", "a", None], categories=["b", "a", "c"]),
            "y": [1.0, 2.0, 4.0, 5.0, np.nan, 7.0],
        },
        index=[50, 40, 30, 20, 10, 0],
    )
    t = group_means(d, value="y", by="arm", min_cell=0)
    # category order, empty categories left out, a missing label is its own group
    assert t["arm"].astype(object).tolist()[:2] == ["b", "a"] and pd.isna(t["arm"].iloc[2])
    assert t["n_missing"].tolist() == [0, 1, 0]
    assert t.iloc[0]["mean"] == pytest.approx(7 / 3)
    # a and the missing label hold one value each: shown with b's 3 and the total 5 they
    # would add up to 2, so each is known to be 1; b is masked with them, n_missing too
    masked = group_means(d, value="y", by="arm", min_cell=2)
    assert masked["suppressed"].all()
    assert np.isnan(masked[["n", "n_missing", "mean", "ci_lower"]].astype(float)).all().all()
    one = group_means(d, value="y", min_cell=0)
    assert one["n"].iloc[0] == 5 and one["mean"].iloc[0] == pytest.approx(19 / 5)
    with pytest.raises(DataError, match="numeric"):
        group_means(d, value="arm")
    with pytest.raises(DataError, match="min_cell"):
        group_means(d, value="y", min_cell=-1)


def test_group_means_and_change_table_protect_a_lone_small_group():
    d = pd.DataFrame(
        {"g": ["a"] * 6 + ["b"] * 5 + ["c"] * 2, "pre": np.arange(13.0), "post": np.arange(13.0)},
        index=[f"p{i}" for i in range(13)][::-1],
    )
    d["post"] = d["post"] + np.linspace(0, 1, 13) ** 2
    means = group_means(d, value="pre", by="g", min_cell=3)
    # c (2) is small; b (5), the next smallest, is masked too so c is not n_total - a - b
    assert means["suppressed"].tolist() == [False, True, True]
    assert means["n"].iloc[0] == 6 and means["n"].iloc[1:].isna().all()
    changes = change_table(d, pairs={"x": ("pre", "post")}, by="g", min_cell=3)
    assert changes["suppressed"].tolist() == [False, True, True]
    assert changes["mean_change"].iloc[1:].isna().all() and changes["n"].iloc[1:].isna().all()
    assert "(2)" not in " ".join(changes["note"])  # the note never reveals the masked count


def test_change_table_equals_paired_change_per_group(univ_wide):
    pairs = {"JOBSAT 1-2": ("JOBSAT1", "JOBSAT2"), "JOBSAT 1-3": ("JOBSAT1", "JOBSAT3")}
    table = change_table(univ_wide, pairs=pairs, by="COMPANY", min_cell=0)
    companies = sorted(univ_wide["COMPANY"].unique())
    assert table["measure"].tolist() == [m for m in pairs for _ in companies]
    assert table["COMPANY"].tolist() == companies * 2
    for _, row in table.iterrows():
        part = univ_wide[univ_wide["COMPANY"] == row["COMPANY"]]
        pre, post = pairs[row["measure"]]
        res = paired_change(part[pre], part[post])
        assert row["n"] == res.n
        assert row["mean_change"] == res.mean_change
        assert row["hedges_gz_ci_lower"] == res.hedges_gz_ci[0]
        assert row["note"] == "" and not row["suppressed"]


def test_change_table_small_and_degenerate_groups():
    d = pd.DataFrame(
        {
            "g": ["a"] * 4 + ["b"] * 3 + ["c"] * 3,
            "pre": [1.0, 2, 3, 4, 1, 2, 3, 1, 2, np.nan],
            "post": [2.0, 2, 5, 4, 2, 3, 4, 1, 3, 2],
        },
        index=np.arange(10)[::-1],
    )
    t = change_table(d, pairs={"x": ("pre", "post")}, by="g", min_cell=3).set_index("g")
    assert t.loc["a", "n"] == 4 and t.loc["a", "note"] == ""
    # two complete pairs in c (fewer than min_cell); b (3) is masked with it, the smallest
    # group whose count hides enough with c's
    assert t.loc["c", "suppressed"] and np.isnan(t.loc["c", "n"])
    assert t.loc["b", "suppressed"] and np.isnan(t.loc["b", "n"])
    assert np.isnan(t.loc["b", "mean_change"])
    t0 = change_table(d, pairs={"x": ("pre", "post")}, by="g", min_cell=0).set_index("g")
    assert t0.loc["b", "note"] == "every pair changed by the same amount"
    assert t0.loc["b", "n"] == 3
    assert t0.loc["c", "n"] == 2 and np.isnan(t0.loc["c", "hedges_gz"])  # J needs 3 pairs
    lonely = change_table(d.iloc[:1], pairs={"x": ("pre", "post")}, min_cell=0)
    assert lonely.loc[0, "note"].startswith("fewer than two complete pairs")
    with pytest.raises(DataError, match="pair"):
        change_table(d, pairs={"x": ("pre",)})
    with pytest.raises(DataError, match="no column"):
        change_table(d, pairs={"x": ("pre", "later")})


@pytest.mark.parametrize("case", ["jobs", "univbct_gender"])
def test_hedges_g_of_ancova_against_R(jobs, univ_wide, reference_values, case):
    ref = reference_values("extra_ancova_wwc")[case]
    if case == "jobs":
        res = compare_groups(jobs, outcome="depress2", group="treat", baseline="depress1")
    else:
        res = compare_groups(univ_wide, outcome="JOBSAT3", group="GENDER", baseline="JOBSAT1")
    assert [res.reference, res.comparison] == [float(v) for v in ref["levels"]]
    assert res.n == ref["n"]
    assert res.estimate == pytest.approx(ref["estimate"], rel=1e-9)
    assert res.hedges_g == pytest.approx(ref["hedges_g"], rel=1e-9)


def test_compare_table_rows_equal_compare_groups(univ_wide):
    outcomes = {"JOBSAT": ("JOBSAT1", "JOBSAT3"), "COMMIT": ("COMMIT1", "COMMIT3")}
    table = compare_table(univ_wide, outcomes=outcomes, group="GENDER", reference=2)
    assert table["measure"].tolist() == ["JOBSAT", "COMMIT"]
    for _, row in table.iterrows():
        pre, post = outcomes[row["measure"]]
        res = compare_groups(univ_wide, outcome=post, group="GENDER", baseline=pre, reference=2)
        assert (row["group"], row["versus"]) == (1, 2)
        assert row["estimate"] == res.estimate and row["hedges_g"] == res.hedges_g
        assert row["adjusted_mean_group"] == res.adjusted_means[1]
        assert row["n"] == res.n and row["note"] == ""


def test_compare_table_notes_a_single_group(univ_wide):
    one = univ_wide[univ_wide["GENDER"] == 1]
    table = compare_table(one, outcomes={"JOBSAT": ("JOBSAT1", "JOBSAT3")}, group="GENDER")
    assert table.loc[0, "note"].startswith("no comparison: the complete rows hold only 1")
    assert np.isnan(table.loc[0, "estimate"])
    with pytest.raises(DataError, match="exactly two groups"):
        compare_table(univ_wide, outcomes={"x": ("JOBSAT1", "JOBSAT3")}, group="COMPANY")


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    """Simulated two-arm study with a true adjusted difference of 0.5 and MAR dropout."""
    rng = np.random.default_rng(21)
    n = 400
    arm = np.where(rng.random(n) < 0.5, "treated", "control")
    pre = rng.normal(size=n)
    mid = 0.7 * pre + 0.25 * (arm == "treated") + rng.normal(scale=0.5, size=n)
    post = 0.5 * pre + 0.5 * (arm == "treated") + 0.4 * mid + rng.normal(scale=0.5, size=n)
    post = post - 0.4 * 0.25 * (arm == "treated")  # keep the total difference at 0.5
    post[rng.random(n) < 1 / (1 + np.exp(-1.5 * mid))] = np.nan
    return pd.DataFrame(
        {"arm": arm, "pre": pre, "mid": mid, "post": post}, index=rng.permutation(n) + 1000
    )


def test_missing_data_sensitivity_rows(trial):
    table = missing_data_sensitivity(
        trial, outcomes={"y": ("pre", "post")}, group="arm", auxiliary=["mid"], m=10, seed=4
    )
    assert table["method"].tolist() == ["complete cases", "multiple imputation"]
    cc = compare_groups(trial, outcome="post", group="arm", baseline="pre")
    row = table.iloc[0]
    assert (row["estimate"], row["se"], row["n"], row["p"]) == (cc.estimate, cc.se, cc.n, cc.p)
    mi = table.iloc[1]
    assert mi["n"] == len(trial) and mi["n_imputed"] == trial["post"].isna().sum()
    assert mi["ci_lower"] < 0.5 < mi["ci_upper"]
    assert 0 < mi["fmi"] < 1
    again = missing_data_sensitivity(
        trial, outcomes={"y": ("pre", "post")}, group="arm", auxiliary=["mid"], m=10, seed=4
    )
    pd.testing.assert_frame_equal(table, again)


def test_missing_data_sensitivity_without_missing_values_matches_ancova(jobs):
    table = missing_data_sensitivity(
        jobs, outcomes={"d": ("depress1", "depress2")}, group="treat", m=2, seed=1
    )
    cc, mi = table.iloc[0], table.iloc[1]
    assert mi["n_imputed"] == 0
    assert mi["estimate"] == pytest.approx(cc["estimate"], rel=1e-10)
    assert mi["se"] == pytest.approx(cc["se"], rel=1e-10)


def test_missing_data_sensitivity_single_group_and_errors(trial):
    one = trial[trial["arm"] == "treated"]
    table = missing_data_sensitivity(one, outcomes={"y": ("pre", "post")}, group="arm", seed=1)
    assert len(table) == 2 and table["estimate"].isna().all()
    assert table["note"].str.startswith("no comparison").all()
    with pytest.raises(DataError, match="missing in rows"):
        missing_data_sensitivity(
            trial.assign(arm=trial["arm"].where(trial["pre"] > -2)),
            outcomes={"y": ("pre", "post")},
            group="arm",
            seed=1,
        )
    with pytest.raises(DataError, match="reference"):
        missing_data_sensitivity(
            trial, outcomes={"y": ("pre", "post")}, group="arm", reference="x", seed=1
        )


# --------------------------------------------------------------------------------------------
# change_criterion: the SD and reliability behind reliable change
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def brs_items() -> pd.DataFrame:
    items = baseline_items(synth.program(n_youth=150, seed=8), "brs")
    return items.sample(frac=1.0, random_state=2)


def test_change_criterion_follows_its_definition(brs_items):
    crit = change_criterion(brs_items, instrument="brs")
    assert isinstance(crit, ChangeCriterion)
    scores = score(brs_items, "brs")["brs_score"]
    assert crit.sd == pytest.approx(scores.std(ddof=1), rel=1e-12)
    assert crit.n_sd == scores.notna().sum()
    items = brs_items[[f"brs_{i}" for i in range(1, 7)]].astype(float)
    rel = reliability(items, reverse=["brs_2", "brs_4", "brs_6"], min_value=1, max_value=5)
    assert crit.reliability == pytest.approx(rel.alpha, rel=1e-12)
    assert crit.se_difference == pytest.approx(crit.sd * np.sqrt(2 * (1 - rel.alpha)))
    assert crit.critical_change == pytest.approx(1.959963984540054 * crit.se_difference)
    # a change of exactly the critical size is on the edge of reliable change
    pre = pd.Series([3.0, 3.0], index=["a", "b"])
    post = pre + np.array([0.999, 1.001]) * crit.critical_change
    rc = reliable_change(pre, post, sd=crit.sd, reliability=crit.reliability)
    assert rc["category"].tolist() == ["no reliable change", "reliably improved"]
    assert "<table" in crit._repr_html_()


def test_change_criterion_errors(brs_items):
    with pytest.raises(DataError, match="no scale"):
        change_criterion(brs_items, instrument="brs", scale="total")
    with pytest.raises(DataError, match="brs_6"):
        change_criterion(brs_items.drop(columns="brs_6"), instrument="brs")


def test_change_criterion_retest_reliability():
    from tim_research import synth
    from tim_research.views.tables import baseline_items, wide_scores, youth_scores

    prog = synth.program(n_youth=120, seed=4)
    items = baseline_items(prog, "brs")
    wide = wide_scores(youth_scores(prog), values=["brs_score"])
    first, second = wide["brs_score_baseline"], wide["brs_score_6m"]
    res = change_criterion(items, instrument="brs", retest=(first, second))
    keep = first.notna() & second.notna()
    r = np.corrcoef(first[keep], second[keep])[0, 1]
    assert res.reliability == pytest.approx(r, rel=1e-12)
    assert res.n_reliability == int(keep.sum()) and res.reliability_kind == "retest correlation"
    assert res.critical_change == pytest.approx(
        stats.norm.ppf(0.975) * res.sd * math.sqrt(2 * (1 - r)), rel=1e-12
    )
    published = change_criterion(items, instrument="brs", retest=0.7)
    assert (published.reliability, published.reliability_kind) == (0.7, "published retest")
    with pytest.raises(DataError, match="published reliability"):
        change_criterion(items, instrument="brs", retest="0.7")
    with pytest.raises(DataError, match=r"\[0, 1\)"):
        change_criterion(items, instrument="brs", retest=1.0)
