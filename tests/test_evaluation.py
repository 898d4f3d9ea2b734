"""Tests of tim_research.stats.evaluation.

Reference values: tests/reference/evaluation_reference.R -> tests/reference/values/evaluation_*.json
(lm + sandwich::vcovCL, the WWC formulas, p.adjust). E-values are checked against the worked
example of VanderWeele & Ding (2017) and against the bounding factor they invert; attrition
against the shipped WWC boundary table; the tipping point against a direct least-squares
computation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tim_research.errors import DataError
from tim_research.stats.evaluation import (
    _boundary_table,
    analysis_plan,
    attrition,
    baseline_equivalence,
    benjamini_hochberg,
    e_value,
    itt_effect,
    tipping_point,
)
from tim_research.stats.outcomes import _impute


@pytest.fixture(scope="module")
def jobs(read_external):
    d = read_external("mediation_jobs2.csv", index_col="row_id")
    block = (d.index.to_numpy() - 1) // 3
    d["site"] = d["occp"]
    d["mentor"] = pd.Series([f"m{b}" for b in block], index=d.index).where(block % 5 != 0)
    d["arm"] = np.where(d["treat"] == 1, "treatment", "control")
    return d.sample(frac=1.0, random_state=3)


# ------------------------------------------------------------------------------------------------
# ITT
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["ols", "cluster"])
def test_itt_effect_against_R(jobs, reference_values, case):
    ref = reference_values("evaluation_itt_jobs2")[case]
    res = itt_effect(
        jobs,
        "depress2",
        baseline="depress1",
        treated="treatment",
        cluster="mentor" if case == "cluster" else None,
    )
    assert (res.n, res.n_treated, res.n_control, res.df) == (
        ref["n"], ref["n_treated"], ref["n_control"], ref["df"],
    )  # fmt: skip
    for name in ("estimate", "se", "p", "ci_lower", "ci_upper", "hedges_g", "improvement_index"):
        assert getattr(res, name) == pytest.approx(ref[name], rel=1e-9), name
    assert res.hedges_g_ci == pytest.approx(tuple(ref["hedges_g_ci"]), rel=1e-9)
    if case == "cluster":
        assert res.n_clusters == ref["n_clusters"]
        assert res.se_type.startswith("cluster-robust")


def test_itt_effect_leaves_out_one_arm_sites_and_counts_them():
    rng = np.random.default_rng(4)
    d = pd.DataFrame({"site": np.repeat(["a", "b", "c"], 40), "arm": np.tile(["t", "c"], 60)})
    d.loc[d["site"] == "b", "arm"] = "t"
    d["pre"] = rng.normal(size=120)
    d["post"] = d["pre"] + rng.normal(size=120)
    d.loc[d.index[:3], "post"] = np.nan
    res = itt_effect(d, "post", baseline="pre", treated="t")
    assert res.excluded_sites == ("b",) and res.n_excluded == 40
    assert res.n_dropped == 3 and res.n == 77
    # the same fit by hand: rows of sites a and c, indicator, baseline, site c dummy
    keep = d[d["site"] != "b"].dropna()
    x = np.column_stack(
        [np.ones(len(keep)), keep["arm"] == "t", keep["pre"], keep["site"] == "c"]
    ).astype(float)
    beta = np.linalg.lstsq(x, keep["post"].to_numpy(), rcond=None)[0]
    assert res.estimate == pytest.approx(beta[1], rel=1e-10)


def test_itt_effect_bad_input():
    d = pd.DataFrame({"site": ["a"] * 4, "arm": ["t", "t", "c", None], "pre": [1.0, 2, 3, 4],
                      "post": [1.0, 2, 3, 4]})  # fmt: skip
    with pytest.raises(DataError, match="missing in 1 rows"):
        itt_effect(d, "post", baseline="pre", treated="t")
    d["arm"] = "t"
    d.loc[0, "arm"] = "c"
    d["site"] = ["a", "b", "b", "b"]
    with pytest.raises(DataError, match="both arms"):
        itt_effect(d, "post", baseline="pre", treated="t")
    with pytest.raises(DataError, match="not a level"):
        itt_effect(d, "post", baseline="pre", treated="x")
    with pytest.raises(DataError, match="no column"):
        itt_effect(d, "nope", baseline="pre", treated="t")


# ------------------------------------------------------------------------------------------------
# baseline equivalence
# ------------------------------------------------------------------------------------------------
def test_baseline_equivalence_against_R(jobs, reference_values):
    ref = reference_values("evaluation_equivalence_jobs2")
    t = baseline_equivalence(
        jobs, ["age", "econ_hard", "depress1", "sex"], arm="treat", treated=1, min_cell=0
    ).set_index("covariate")
    for name in ("age", "econ_hard", "depress1", "sex"):
        assert t.loc[name, "hedges_g"] == pytest.approx(ref[name], rel=1e-10), name
    assert t.loc["sex", "kind"] == "binary" and t.loc["age", "kind"] == "continuous"


@pytest.mark.parametrize(
    ("g", "band"),
    [(0.05, "satisfies"), (-0.04, "satisfies"), (0.051, "requires statistical adjustment"),
     (-0.25, "requires statistical adjustment"), (0.2501, "does not satisfy")],
)  # fmt: skip
def test_wwc_bands_at_their_edges(g, band):
    from tim_research.stats.evaluation import _wwc_band

    assert _wwc_band(g) == band


def test_baseline_equivalence_masks_small_binary_counts():
    d = pd.DataFrame(
        {"arm": ["t"] * 20 + ["c"] * 20, "x": [1] * 2 + [0] * 18 + [1] * 10 + [0] * 10}
    )
    t = baseline_equivalence(d, ["x"], treated="t", min_cell=5)
    assert bool(t.loc[0, "suppressed"]) and math.isnan(t.loc[0, "mean_treated"])
    assert math.isnan(t.loc[0, "hedges_g"])
    shown = baseline_equivalence(d, ["x"], treated="t", min_cell=0)
    assert shown.loc[0, "mean_treated"] == pytest.approx(0.1)


# ------------------------------------------------------------------------------------------------
# attrition
# ------------------------------------------------------------------------------------------------
def _arms(n_t, lost_t, n_c, lost_c):
    y = [1.0] * (n_t - lost_t) + [None] * lost_t + [1.0] * (n_c - lost_c) + [None] * lost_c
    return pd.DataFrame({"arm": ["t"] * n_t + ["c"] * n_c, "y": y})


def test_attrition_rates_and_boundary_from_the_table():
    table = _boundary_table()
    a = attrition(_arms(200, 40, 200, 20), "y", treated="t")
    assert (a.overall, a.differential) == pytest.approx((0.15, 0.10))
    assert a.max_differential == pytest.approx(table.loc[15, "cautious_pct"] / 100)
    assert a.rating == "high"
    b = attrition(_arms(200, 22, 200, 16), "y", treated="t", boundary="optimistic")
    assert b.max_differential == pytest.approx(table.loc[10, "optimistic_pct"] / 100)
    assert b.rating == "low"
    assert list(a.table["arm"]) == ["t", "c", "overall"]
    assert a.table["n_lost"].tolist() == [40, 20, 60]


def test_attrition_beyond_the_cautious_range_is_high():
    a = attrition(_arms(100, 60, 100, 60), "y", treated="t")
    assert a.differential == 0 and a.rating == "high" and math.isnan(a.max_differential)


def test_attrition_masks_small_counts():
    a = attrition(_arms(100, 3, 100, 10), "y", treated="t", min_cell=5)
    assert a.suppressed and a.rating == "suppressed" and a.table["n_lost"].isna().all()


def test_boundary_table_matches_handbook_shape():
    t = _boundary_table()
    assert list(t.index) == list(range(66))
    assert t.loc[0, "cautious_pct"] == 5.7 and t.loc[0, "optimistic_pct"] == 10.0
    assert t["cautious_pct"].isna().sum() == 8  # 58-65 %: high attrition at any differential
    # the boundaries fall once past their peak
    assert (t["optimistic_pct"].loc[12:].diff().dropna() <= 0).all()


# ------------------------------------------------------------------------------------------------
# Benjamini-Hochberg
# ------------------------------------------------------------------------------------------------
def test_benjamini_hochberg_against_R(reference_values):
    ref = reference_values("evaluation_bh")
    p = pd.Series([np.nan if v is None else v for v in ref["p"]], index=list("abcdefgh"))
    out = benjamini_hochberg(p)
    expected = np.array([np.nan if v is None else v for v in ref["bh"]], dtype=float)
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-12)
    assert out.index.equals(p.index)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_benjamini_hochberg_invariants(values):
    p = pd.Series(values)
    q = benjamini_hochberg(p)
    assert (q >= p - 1e-12).all() and (q <= 1).all()
    order = np.argsort(p.to_numpy(), kind="stable")
    assert (np.diff(q.to_numpy()[order]) >= -1e-12).all()


def test_benjamini_hochberg_bad_input():
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        benjamini_hochberg(pd.Series([0.2, 1.5]))


# ------------------------------------------------------------------------------------------------
# E-values
# ------------------------------------------------------------------------------------------------
def test_e_value_worked_example():
    # VanderWeele & Ding (2017), Ann Intern Med 167:268-274: RR 3.9 gives an E-value of 7.26
    assert e_value(3.9, scale="rr").e_value == pytest.approx(7.26, abs=0.005)


@pytest.mark.parametrize("rr", [1.05, 1.3, 2.0, 3.9, 0.4, 0.8])
def test_e_value_inverts_the_bounding_factor(rr):
    # Ding & VanderWeele's bounding factor B = a b / (a + b - 1) with a = b = E equals RR
    e = e_value(rr, scale="rr").e_value
    target = rr if rr > 1 else 1 / rr
    assert e * e / (2 * e - 1) == pytest.approx(target, rel=1e-12)


def test_e_value_interval_and_conversions():
    res = e_value(2.0, (1.5, 2.7), scale="rr")
    assert res.e_value_ci == pytest.approx(1.5 + math.sqrt(1.5 * 0.5))
    assert e_value(0.8, (0.6, 1.1), scale="rr").e_value_ci == 1.0
    assert e_value(0.5, (0.3, 0.8), scale="rr").e_value_ci == pytest.approx(
        1.25 + math.sqrt(1.25 * 0.25)
    )
    assert e_value(4.0, scale="or", rare=False).rr == pytest.approx(2.0)
    assert e_value(4.0, scale="or", rare=True).rr == pytest.approx(4.0)
    hr = 1.5
    common = (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))
    assert e_value(hr, scale="hr", rare=False).rr == pytest.approx(common)
    d = e_value(0.3, (0.1, 0.5), scale="smd")
    assert d.rr == pytest.approx(math.exp(0.91 * 0.3))
    assert d.rr_ci[0] == pytest.approx(math.exp(0.091))
    with pytest.raises(DataError, match="rare"):
        e_value(1.5, scale="hr")
    with pytest.raises(DataError, match="lower <= estimate"):
        e_value(1.5, (1.6, 2.0), scale="rr")


# ------------------------------------------------------------------------------------------------
# tipping point
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trial():
    rng = np.random.default_rng(11)
    d = pd.DataFrame({"site": np.repeat(["a", "b"], 150), "arm": np.tile(["mentored", "c"], 150)})
    d["pre"] = rng.normal(size=300)
    d["aux"] = rng.normal(size=300)
    d["post"] = d["pre"] + 0.4 * (d["arm"] == "mentored") + 0.5 * d["aux"] + rng.normal(size=300)
    d.loc[rng.random(300) < 0.3, "post"] = np.nan
    return d


def test_tipping_point_shift_is_least_squares_of_the_shift(trial):
    tp = tipping_point(trial, "post", baseline="pre", auxiliary=["aux"], deltas=[0, -0.5],
                       m=5, seed=2)  # fmt: skip
    # baseline is complete, so every imputation has the same design: shifting the imputed
    # treated outcomes by delta moves the estimate by delta times the OLS coefficient of the
    # shift indicator itself
    t = (trial["arm"] == "mentored").to_numpy(dtype=float)
    shift = trial["post"].isna().to_numpy() & (t == 1)
    x = np.column_stack([np.ones(300), t, trial["pre"], trial["site"] == "b"]).astype(float)
    slope = np.linalg.lstsq(x, shift.astype(float), rcond=None)[0][1]
    est = tp.table.set_index("delta")["estimate"]
    assert est[-0.5] - est[0.0] == pytest.approx(-0.5 * slope, rel=1e-9)
    assert tp.n_imputed_treated == int(shift.sum())


def test_tipping_point_delta_zero_is_the_mar_analysis(trial):
    tp = tipping_point(trial, "post", baseline="pre", auxiliary=["aux"], deltas=[0], m=4,
                       seed=5)  # fmt: skip
    t = (trial["arm"] == "mentored").to_numpy(dtype=float)
    sites = (trial["site"] == "b").to_numpy(dtype=float)
    values = np.column_stack([t, sites, trial[["post", "pre", "aux"]].to_numpy(dtype=float)])
    ests = []
    for filled in _impute(values, m=4, n_burnin=10, seed=5):
        x = np.column_stack([np.ones(300), t, filled[:, 3], sites])
        ests.append(np.linalg.lstsq(x, filled[:, 2], rcond=None)[0][1])
    assert tp.table["estimate"].iloc[0] == pytest.approx(np.mean(ests), rel=1e-10)


def test_tipping_point_finds_the_flip(trial):
    tp = tipping_point(trial, "post", baseline="pre", auxiliary=["aux"],
                       deltas=np.arange(0, -3.01, -0.25).tolist(), m=5, seed=1)  # fmt: skip
    table = tp.table.set_index("delta")
    assert table.loc[0.0, "conclusion"] == "effect"
    assert table.loc[tp.tipping_delta, "conclusion"] == "no effect"
    closer = table[(table.index > tp.tipping_delta)]
    assert (closer["conclusion"] == "effect").all()


# ------------------------------------------------------------------------------------------------
# analysis plan
# ------------------------------------------------------------------------------------------------
def test_analysis_plan_checks_labels():
    spec = {"primary": "A", "estimand": "ITT", "secondary": ["B", "C"], "multiplicity": "BH"}
    plan = analysis_plan(spec, outcomes=["A", "B", "C"])
    frame = plan.to_frame()
    assert frame["role"].tolist() == ["primary", "secondary", "secondary"]
    assert "Benjamini-Hochberg" in frame.loc[1, "multiplicity"]
    with pytest.raises(DataError, match="not among"):
        analysis_plan({**spec, "secondary": ["Z"]}, outcomes=["A", "B"])
    with pytest.raises(DataError, match="missing"):
        analysis_plan({"primary": "A"}, outcomes=["A"])
    with pytest.raises(DataError, match="multiplicity"):
        analysis_plan({**spec, "multiplicity": "holm"}, outcomes=["A", "B", "C"])
