"""Tests of tim_research.stats.associations against R (tests/reference/associations_reference.R)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tim_research.errors import DataError
from tim_research.stats.associations import (
    Correlation,
    LinearFit,
    correlation,
    linear_regression,
    stack_coefficients,
)
from tim_research.stats.outcomes import change_table

RTOL = 1e-9


@pytest.fixture(scope="module")
def jobs(read_external):
    return read_external("mediation_jobs2.csv")


@pytest.fixture(scope="module")
def univbct(read_external):
    return read_external("multilevel_univbct.csv")


def _data_for(case, jobs, univbct):
    if case["data"] == "mediation_jobs2.csv":
        return jobs
    return univbct[univbct["TIME"] == 0]


# ------------------------------------------------------------------------------------------------
# correlation
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["jobs_depress1_job_seek_95", "jobs_depress1_job_seek_90", "univbct_t0_jobsat1_commit1_95"],
)
def test_correlation_against_cor_test(name, jobs, univbct, reference_values):
    case = reference_values("assoc_cor_test")["cases"][name]
    data = _data_for(case, jobs, univbct)
    res = correlation(data, case["x"], case["y"], conf_level=case["conf_level"])
    assert res.n == case["n"]
    assert res.n_excluded == case["n_excluded"]
    assert res.df == case["df"]
    for field in ("r", "t", "p"):
        assert getattr(res, field) == pytest.approx(case[field], rel=RTOL)
    assert res.ci == pytest.approx((case["ci_lower"], case["ci_upper"]), rel=RTOL)


def test_correlation_frame_and_html(jobs):
    res = correlation(jobs, "depress1", "job_seek")
    frame = res.to_frame()
    assert list(frame.columns) == [
        "x",
        "y",
        "r",
        "ci_lower",
        "ci_upper",
        "t",
        "df",
        "p",
        "n",
        "n_excluded",
        "conf_level",
    ]
    assert frame.loc[0, "ci_lower"] < frame.loc[0, "r"] < frame.loc[0, "ci_upper"]
    assert "depress1" in res._repr_html_()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=6, max_size=40).filter(
        lambda rows: len({a for a, _ in rows}) > 1 and len({b for _, b in rows}) > 1
    ),
    st.randoms(use_true_random=False),
)
def test_correlation_is_symmetric_and_ignores_row_order(rows, rnd):
    d = pd.DataFrame(rows, columns=["a", "b"], index=[f"p{i}" for i in range(len(rows))])
    order = list(d.index)
    rnd.shuffle(order)
    one = correlation(d, "a", "b")
    assert correlation(d, "b", "a").r == pytest.approx(one.r, abs=1e-12)
    assert correlation(d.loc[order], "a", "b").r == pytest.approx(one.r, abs=1e-12)
    assert -1.0 <= one.ci[0] <= one.r <= one.ci[1] <= 1.0


def test_correlation_counts_rows_with_missing_values():
    d = pd.DataFrame(
        {"a": [1.0, 2, np.nan, 4, 5, 6, 7], "b": pd.array([2, 1, 3, None, 5, 4, 7], dtype="Int64")},
        index=[7, 3, 9, 1, 5, 2, 8],
    )
    res = correlation(d, "a", "b")
    assert (res.n, res.n_excluded) == (5, 2)
    complete = d.dropna().astype(float)
    assert res.r == pytest.approx(np.corrcoef(complete["a"], complete["b"])[0, 1])


@pytest.mark.parametrize(
    "data, x, y, match",
    [
        (pd.DataFrame({"a": [1.0, 2, 3, 4]}), "a", "zz", "'zz' is not in data"),
        (pd.DataFrame({"a": [1.0, 2, 3, 4], "b": list("wxyz")}), "a", "b", "must be numeric"),
        (pd.DataFrame({"a": [1.0, 2, 3], "b": [3.0, 1, 2]}), "a", "b", "at least 4"),
        (pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0] * 4}), "a", "b", "does not vary"),
    ],
)
def test_correlation_errors(data, x, y, match):
    with pytest.raises(DataError, match=match):
        correlation(data, x, y)


def test_correlation_rejects_bad_conf_level(jobs):
    with pytest.raises(DataError, match="conf_level"):
        correlation(jobs, "depress1", "job_seek", conf_level=95)


# ------------------------------------------------------------------------------------------------
# linear regression
# ------------------------------------------------------------------------------------------------
def _r_to_patsy(term: str, factors: dict[str, list[str]]) -> str:
    if term == "(Intercept)":
        return "Intercept"
    for f, levels in factors.items():
        for level in levels:
            if term == f"{f}{level}":
                return f"{f}[T.{level}]"
    return term


@pytest.mark.parametrize("name", ["jobs", "univbct_t0"])
def test_linear_regression_against_lm(name, jobs, univbct, reference_values):
    case = reference_values("assoc_lm")["cases"][name]
    data = _data_for(case, jobs, univbct).copy()
    factor_names = [t.strip() for t in case["formula"].split("~")[1].split("+")]
    factor_names = [f for f in factor_names if data[f].dtype == object or data[f].dtype == "str"]
    factors = dict(zip(factor_names, case["factor_levels"]))
    for f, levels in factors.items():
        data[f] = pd.Categorical(data[f], categories=levels)
    # a non-default, shuffled index: results must not depend on row labels or order
    data.index = [f"r{i}" for i in np.random.default_rng(3).permutation(len(data))]
    fit = linear_regression(data, case["formula"], conf_level=case["conf_level"])
    coefs = fit.coefficients.set_index("coefficient")
    expected = [_r_to_patsy(t, factors) for t in case["terms"]]
    assert sorted(coefs.index) == sorted(expected)
    coefs = coefs.loc[expected]
    for col in ("estimate", "se", "t", "p", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(coefs[col].to_numpy(), case[col], rtol=1e-7, atol=1e-12)
    assert fit.n == case["n"] and fit.n_excluded == case["n_excluded"]
    assert (coefs["n"] == case["n"]).all() and (coefs["df"] == case["df_resid"]).all()
    for field in ("r_squared", "adj_r_squared", "sigma", "f", "f_p"):
        assert getattr(fit, field) == pytest.approx(case[field], rel=1e-8)
    assert (fit.f_df1, fit.f_df2) == (case["f_df1"], case["f_df2"])


def test_linear_regression_labels_factor_terms_with_their_reference():
    d = pd.DataFrame(
        {
            "y": [3.0, 5, 4, 7, 6, 9, 8, 10, 2, 4],
            "x": [1.0, 2, 3, 4, 5, 6, 7, 8, 1, 2],
            "freq": pd.Categorical(
                ["monthly", "weekly", "fortnightly"] * 3 + ["weekly"],
                categories=["monthly", "fortnightly", "weekly"],
            ),
        },
        index=[14, 3, 11, 7, 0, 9, 2, 5, 12, 8],
    )
    fit = linear_regression(d, "y ~ x + freq")
    assert list(fit.coefficients.index) == [
        "Intercept",
        "freq: fortnightly (vs monthly)",
        "freq: weekly (vs monthly)",
        "x",
    ]
    assert list(fit.coefficients["coefficient"]) == [
        "Intercept",
        "freq[T.fortnightly]",
        "freq[T.weekly]",
        "x",
    ]
    summary = fit.summary()
    assert "coefficients" not in summary and summary.loc[0, "n"] == 10
    assert "R²" in fit._repr_html_()
    assert fit.to_frame() is fit.coefficients


def test_linear_regression_leaves_out_and_counts_missing_rows():
    d = pd.DataFrame(
        {
            "y": [1.0, 3, 2, 5, 4, 6, 8, np.nan],
            "x": pd.array([1, 2, 3, None, 5, 6, 7, 8], dtype="Int64"),
        },
        index=list("hgfedcba"),
    )
    fit = linear_regression(d, "y ~ x")
    assert (fit.n, fit.n_excluded) == (6, 2)
    complete = d.dropna().astype(float)
    slope = np.polyfit(complete["x"], complete["y"], 1)[0]
    assert fit.coefficients.loc["x", "estimate"] == pytest.approx(slope)


def test_linear_regression_errors():
    d = pd.DataFrame({"y": [1.0, 2, 3, 4, 5], "x": [1.0, 2, 3, 4, 6]})
    with pytest.raises(DataError, match="cannot be evaluated"):
        linear_regression(d, "y ~ nothere")
    with pytest.raises(DataError, match="like 'y ~ x1"):
        linear_regression(d, "y + x")
    with pytest.raises(DataError, match="rank"):
        linear_regression(d.assign(x2=d["x"] * 2), "y ~ x + x2")
    with pytest.raises(DataError, match="complete rows"):
        linear_regression(d.iloc[:2], "y ~ x")
    with pytest.raises(DataError, match="DataFrame"):
        linear_regression(d.to_dict(), "y ~ x")


def test_stack_coefficients_keeps_model_order_and_drops_intercepts():
    d = pd.DataFrame(
        {"y": [1.0, 3, 2, 5, 4, 7], "z": [2.0, 1, 4, 3, 5, 4], "x": [1.0, 2, 3, 4, 5, 6]}
    )
    fits = {"Zed": linear_regression(d, "z ~ x"), "Why": linear_regression(d, "y ~ x")}
    both = stack_coefficients(fits)
    assert list(both.index) == ["Zed: x", "Why: x"]
    assert list(both["model"]) == ["Zed", "Why"]
    assert len(stack_coefficients(fits, intercept=True)) == 4
    with pytest.raises(DataError, match="LinearFit"):
        stack_coefficients({"a": 1})
    assert isinstance(fits["Zed"], LinearFit)


# ------------------------------------------------------------------------------------------------
# change between waves
# ------------------------------------------------------------------------------------------------
def test_change_table_against_t_test(univbct, reference_values):
    ref = reference_values("assoc_paired_waves")
    long = univbct[univbct["TIME"].isin([0, 2])].copy()
    long["wave"] = long["TIME"].map({0: "t0", 2: "t2"})
    long = long.set_index(["SUBNUM", "wave"])[["JSAT"]].sample(frac=1.0, random_state=4)
    wide = long["JSAT"].unstack("wave")
    table = change_table(wide, pairs={"JSAT": ("t0", "t2")})
    row = table.set_index("measure").loc["JSAT"]
    assert row["n"] == ref["n"]
    for field in ("mean_change", "ci_lower", "ci_upper", "p", "cohens_dz"):
        assert row[field] == pytest.approx(ref[field], rel=1e-9)


def test_change_table_pairs_people_seen_at_both_waves_only():
    idx = pd.MultiIndex.from_tuples(
        [
            ("b", "12m"),
            ("a", "baseline"),
            ("c", "baseline"),
            ("a", "12m"),
            ("b", "baseline"),
            ("d", "12m"),
            ("e", "baseline"),
            ("e", "12m"),
        ],
        names=["mentor_id", "wave"],
    )
    d = pd.DataFrame(
        {"s": [12.0, 10, 20, 11, 9, 30, 5, 9], "t": [1.0, 2, 3, 4, 5, 6, 7, 9]}, index=idx
    )
    wide = d.unstack("wave")
    wide.columns = [f"{score}_{wave}" for score, wave in wide.columns]
    table = change_table(
        wide, pairs={c: (f"{c}_baseline", f"{c}_12m") for c in ["t", "s"]}, min_cell=0
    ).set_index("measure")
    assert list(table.index) == ["t", "s"]
    s = table.loc["s"]
    assert (s["n"], s["n_dropped"]) == (3, 2)
    assert s["mean_change"] == pytest.approx(np.mean([1.0, 3.0, 4.0]))


def test_change_table_names_a_missing_wave_column():
    wide = pd.DataFrame({"s_baseline": [1.0, 2], "s_6m": [3.0, 5]}, index=["a", "b"])
    with pytest.raises(DataError, match="s_12m"):
        change_table(wide, pairs={"s": ("s_baseline", "s_12m")})


def test_results_are_plain_floats(jobs):
    res = correlation(jobs, "depress1", "job_seek")
    assert isinstance(res, Correlation)
    assert all(isinstance(v, float) and math.isfinite(v) for v in (res.r, res.t, res.p, *res.ci))


def test_linear_regression_labels_an_inline_transformation_plainly():
    d = pd.DataFrame({"y": [1.0, 3, 2, 5, 4, 7], "hours": [10.0, 20, 30, 40, 50, 60]})
    fit = linear_regression(d, "y ~ I(hours / 10)")
    assert list(fit.coefficients.index) == ["Intercept", "hours / 10"]
    per_hour = linear_regression(d, "y ~ hours").coefficients.loc["hours", "estimate"]
    assert fit.coefficients.loc["hours / 10", "estimate"] == pytest.approx(10 * per_hour)
