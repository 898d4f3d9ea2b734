"""Tests of tim_research.stats.survival.

Reference values come from tests/reference/survival_survey_reference.R (R ``survival``:
survfit, survdiff, coxph) via tests/reference/values/survival_*.json, and from
tests/reference/outcomes_extra_reference.R (prop.test, coxph with a rescaled covariate and
missing values) via tests/reference/values/extra_*.json.
"""

from __future__ import annotations

import calendar
import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from tim_research.errors import ConvergenceWarning, DataError, SmallCellWarning
from tim_research.stats.competing import early_closure
from tim_research.stats.survival import (
    LogRankResult,
    _calendar_months,
    closure_reasons,
    cox,
    kaplan_meier,
    logrank,
    match_durations,
    median_survival,
)

RTOL = 1e-6
COV7 = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
COV3 = ["fin", "age", "prio"]


def as_array(values) -> np.ndarray:
    """R vectors of length one arrive unboxed, NA as null."""
    values = values if isinstance(values, list) else [values]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_close(actual, expected, *, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), as_array(expected), rtol=rtol, atol=1e-10
    )


def shuffled(frame: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """Rows in a random order with a non-default string index."""
    out = frame.sample(frac=1, random_state=seed)
    out.index = [f"r{i:04d}" for i in range(len(out))][::-1]
    return out


@pytest.fixture(scope="module")
def rossi(read_external) -> pd.DataFrame:
    data = read_external("lifelines_rossi.csv")
    return shuffled(data)


@pytest.fixture(scope="module")
def km_ref(reference_values) -> dict:
    return reference_values("survival_km")


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier against survival::survfit
# ---------------------------------------------------------------------------------------------
def _km_inputs(name: str, rossi: pd.DataFrame, ref: dict):
    if name.startswith("rossi"):
        data, t, e, g = rossi, "week", "arrest", "fin"
    elif name.startswith("lung"):
        data, t, e, g = shuffled(pd.DataFrame(ref["lung_data"])), "time", "event", "sex"
    else:
        data, t, e, g = shuffled(pd.DataFrame(ref["aml_data"])), "time", "status", "group"
    by = data[g] if "_by_" in name else None
    return data[t], data[e], by


KM_SETS = ["rossi_overall", "rossi_by_fin", "lung_overall", "lung_by_sex", "aml_by_group"]
CONF = {"log": ("log", 0.95), "log-log": ("log-log", 0.95), "plain": ("plain", 0.95)}
CONF["log_90"] = ("log", 0.90)


@pytest.mark.parametrize("conf", list(CONF))
@pytest.mark.parametrize("name", KM_SETS)
def test_kaplan_meier_against_survfit(name, conf, rossi, km_ref):
    t, e, by = _km_inputs(name, rossi, km_ref)
    conf_type, level = CONF[conf]
    km = kaplan_meier(t, e, by=by, conf_type=conf_type, conf_level=level)
    ref = km_ref[name][conf]["table"]
    pairs = {
        "time": "time",
        "at_risk": "n_risk",
        "events": "n_event",
        "censored": "n_censor",
        "survival": "surv",
        "se": "std_err",
        "ci_lower": "lower",
        "ci_upper": "upper",
    }
    assert len(km) == len(as_array(ref["time"]))
    for ours, theirs in pairs.items():
        assert_close(km[ours], ref[theirs])
    if by is not None:
        labels = [s.split("=", 1)[1] for s in ref["strata"]]
        assert [str(g) for g in km["group"]] == labels


@pytest.mark.parametrize("conf", list(CONF))
@pytest.mark.parametrize("name", KM_SETS)
def test_median_survival_against_print_survfit(name, conf, rossi, km_ref):
    t, e, by = _km_inputs(name, rossi, km_ref)
    conf_type, level = CONF[conf]
    med = median_survival(t, e, by=by, conf_type=conf_type, conf_level=level, min_cell=0)
    ref = km_ref[name][conf]["median"]
    for ours, theirs in {
        "n": "n",
        "events": "events",
        "median": "median",
        "ci_lower": "lower",
        "ci_upper": "upper",
    }.items():
        assert_close(med[ours], ref[theirs])


def test_median_survival_reached_for_lung(km_ref):
    # guards against a reference file in which every median is NA (not reached)
    ref = km_ref["lung_by_sex"]["log"]["median"]
    assert np.isfinite(as_array(ref["median"])).all()


def test_kaplan_meier_all_censored_stays_at_one():
    km = kaplan_meier(pd.Series([3.0, 5.0, 5.0], index=["c", "a", "b"]), [0, 0, False])
    assert (km["survival"] == 1).all()
    assert (km["se"] == 0).all()
    assert km["censored"].tolist() == [1, 2]
    assert np.isnan(median_survival([3, 5], [0, 0], min_cell=0)["median"].iloc[0])


def test_kaplan_meier_bool_events_and_arrays_agree():
    t = [4, 2, 2, 9, 7]
    a = kaplan_meier(t, [True, False, True, True, False])
    b = kaplan_meier(np.array(t), np.array([1, 0, 1, 1, 0]))
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------------------------------------
# log-rank against survival::survdiff
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def logrank_ref(reference_values) -> dict:
    return reference_values("survival_logrank")


@pytest.mark.parametrize("name", ["by_fin", "by_prio3", "lung_by_sex"])
def test_logrank_against_survdiff(name, read_external, logrank_ref, km_ref):
    if name == "lung_by_sex":
        data = shuffled(pd.DataFrame(km_ref["lung_data"]))
        res = logrank(data["time"], data["event"], data["sex"])
    else:
        data = read_external("lifelines_rossi.csv")
        data["prio3"] = logrank_ref["prio3"]  # same row order as the CSV
        data = shuffled(data)
        group = "fin" if name == "by_fin" else "prio3"
        res = logrank(data["week"], data["arrest"], data[group])
    ref = logrank_ref[name]
    assert isinstance(res, LogRankResult)
    assert res.df == ref["df"]
    assert_close(res.chisq, ref["chisq"])
    assert_close(res.p, ref["p"])
    frame = res.to_frame()
    assert [str(g) for g in frame.index] == [s.split("=", 1)[1] for s in ref["groups"]]
    assert_close(frame["n"], ref["n"])
    assert_close(frame["observed"], ref["observed"])
    assert_close(frame["expected"], ref["expected"])
    assert "chisq" in res._repr_html_()


def test_logrank_single_group_raises():
    with pytest.raises(DataError, match="at least two groups"):
        logrank([1, 2, 3], [1, 0, 1], ["a", "a", "a"])


def test_logrank_all_censored_raises():
    with pytest.raises(DataError, match="no events"):
        logrank([1, 2, 3, 4], [0, 0, 0, 0], ["a", "b", "a", "b"])


def test_empty_category_raises():
    groups = pd.Series(pd.Categorical(["a", "a", "b"], categories=["a", "b", "c"]))
    with pytest.raises(DataError, match=r"categories with no rows: \['c'\]"):
        logrank([1, 2, 3], [1, 1, 1], groups)
    with pytest.raises(DataError, match="remove_unused_categories"):
        kaplan_meier([1, 2, 3], [1, 1, 1], by=groups)


def test_missing_group_label_names_rows():
    groups = pd.Series(["a", None, "b"], index=["x", "y", "z"])
    t = pd.Series([1, 2, 3], index=["x", "y", "z"])
    with pytest.raises(DataError, match="'y'"):
        logrank(t, [1, 1, 1], groups)


# ---------------------------------------------------------------------------------------------
# Cox against survival::coxph
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cox_ref(reference_values) -> dict:
    return reference_values("survival_cox")


COX_FITS = {
    "efron_7": ("week", COV7, "efron"),
    "breslow_7": ("week", COV7, "breslow"),
    "efron_3": ("week", COV3, "efron"),
    "breslow_3": ("week", COV3, "breslow"),
    "efron_tied_3": ("period", COV3, "efron"),
    "breslow_tied_3": ("period", COV3, "breslow"),
}


@pytest.mark.parametrize("name", list(COX_FITS))
def test_cox_against_coxph(name, rossi, cox_ref):
    duration, covariates, ties = COX_FITS[name]
    data = rossi.assign(period=rossi["week"] // 8 + 1)  # as tied_definition in the JSON
    fit = cox(data, duration=duration, event="arrest", covariates=covariates, ties=ties)
    ref = cox_ref[name]
    assert list(fit.index) == ref["covariates"]
    for col in ["coef", "se", "hr", "z", "p", "ci_lower", "ci_upper"]:
        assert_close(fit[col], ref[col])
    assert_close(fit.attrs["loglik"], ref["loglik"])
    assert fit.attrs["n"] == ref["n"]
    assert fit.attrs["n_events"] == ref["nevent"]
    assert fit.attrs["converged"]


def test_cox_efron_and_breslow_differ_with_ties(rossi):
    a = cox(rossi, duration="week", event="arrest", covariates=COV3, ties="efron")
    b = cox(rossi, duration="week", event="arrest", covariates=COV3, ties="breslow")
    assert not np.allclose(a["coef"], b["coef"], rtol=1e-4)


def test_cox_efron_equals_breslow_without_ties():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"t": rng.permutation(200) + 1.0, "e": rng.integers(0, 2, 200)})
    d["x"] = rng.normal(size=200)
    a = cox(d, duration="t", event="e", covariates=["x"], ties="efron")
    b = cox(d, duration="t", event="e", covariates=["x"], ties="breslow")
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_cox_cross_check_statsmodels_phreg(rossi):
    from statsmodels.duration.hazard_regression import PHReg

    for ties in ("efron", "breslow"):
        ours = cox(rossi, duration="week", event="arrest", covariates=COV7, ties=ties)
        model = PHReg(rossi["week"], rossi[COV7], status=rossi["arrest"], ties=ties)
        theirs = model.fit()
        np.testing.assert_allclose(ours["coef"], theirs.params, rtol=1e-5)
        np.testing.assert_allclose(ours["se"], theirs.bse, rtol=1e-5)


def test_cox_all_censored_raises(rossi):
    with pytest.raises(DataError, match="no events"):
        cox(rossi.assign(arrest=0), duration="week", event="arrest", covariates=COV3)


def test_cox_missing_covariate_names_rows(rossi):
    data = rossi.copy()
    data.loc[data.index[[3, 10]], "age"] = np.nan
    with pytest.raises(DataError, match=f"age.*{data.index[3]!r}.*{data.index[10]!r}"):
        cox(data, duration="week", event="arrest", covariates=COV3)


def test_cox_bad_covariates(rossi):
    with pytest.raises(DataError, match="not numeric"):
        cox(rossi.assign(g="a"), duration="week", event="arrest", covariates=["g"])
    with pytest.raises(DataError, match="do not vary"):
        cox(rossi.assign(k=1.0), duration="week", event="arrest", covariates=["fin", "k"])
    with pytest.raises(DataError, match="collinear"):
        cox(
            rossi.assign(f2=rossi["fin"] * 2),
            duration="week",
            event="arrest",
            covariates=["fin", "f2"],
        )
    with pytest.raises(DataError, match="no column"):
        cox(rossi, duration="week", event="arrest", covariates=["nope"])
    with pytest.raises(DataError, match="ties"):
        cox(rossi, duration="week", event="arrest", covariates=COV3, ties="exact")


def test_cox_separation_warns():
    d = pd.DataFrame(
        {
            "t": [5, 8, 3, 9, 12, 4, 7, 10],
            "e": [1, 1, 1, 0, 1, 1, 0, 1],
            "x": [1, 0, 1, 0, 0, 1, 1, 0],
        }
    )
    with pytest.warns(ConvergenceWarning, match="infinite"):
        cox(d, duration="t", event="e", covariates=["x"])


# ---------------------------------------------------------------------------------------------
# input checks shared by the survival functions
# ---------------------------------------------------------------------------------------------
def test_nan_durations_named():
    t = pd.Series([1.0, np.nan, 3.0, np.nan], index=["m1", "m2", "m3", "m4"])
    with pytest.raises(DataError, match="'m2', 'm4'"):
        kaplan_meier(t, [1, 1, 0, 1])


def test_negative_durations_named():
    t = pd.Series([1.0, -2.0, 3.0], index=["m1", "m2", "m3"])
    with pytest.raises(DataError, match="negative.*'m2'"):
        kaplan_meier(t, [1, 1, 0])


def test_events_must_be_binary():
    with pytest.raises(DataError, match="0/1"):
        kaplan_meier([1, 2, 3], [1, 2, 0])
    with pytest.raises(DataError, match="0/1"):
        kaplan_meier([1, 2, 3], [1, None, 0])


def test_misaligned_series_raise():
    t = pd.Series([1, 2, 3], index=["a", "b", "c"])
    e = pd.Series([1, 0, 1], index=["c", "b", "a"])
    with pytest.raises(DataError, match="index"):
        kaplan_meier(t, e)
    with pytest.raises(DataError, match="values"):
        kaplan_meier([1, 2, 3], [1, 0])


def test_empty_input_raises():
    with pytest.raises(DataError, match="empty"):
        kaplan_meier([], [])


def test_bad_conf_type():
    with pytest.raises(DataError, match="conf_type"):
        kaplan_meier([1, 2], [1, 1], conf_type="arcsin")


# ---------------------------------------------------------------------------------------------
# match_durations and closure_reasons
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def matches() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start_date": pd.to_datetime(
                ["2023-01-01", "2023-06-15", "2022-03-01", "2023-11-01", "2023-02-01"]
            ),
            "end_date": pd.to_datetime(["2023-02-15", None, "2024-06-01", "2023-12-01", None]),
            "closure_reason": ["moved", None, "mentor left", "moved", None],
        },
        index=["m5", "m3", "m1", "m4", "m2"],
    )


def test_match_durations(matches):
    out = match_durations(matches, cutoff="2024-01-01")
    assert out.index.equals(matches.index)
    cut = pd.Timestamp("2024-01-01")
    expected_days = [
        (pd.Timestamp("2023-02-15") - pd.Timestamp("2023-01-01")).days,
        (cut - pd.Timestamp("2023-06-15")).days,
        (cut - pd.Timestamp("2022-03-01")).days,  # ended after cutoff: censored at cutoff
        (pd.Timestamp("2023-12-01") - pd.Timestamp("2023-11-01")).days,
        (cut - pd.Timestamp("2023-02-01")).days,
    ]
    np.testing.assert_array_equal(out["duration_days"], expected_days)
    np.testing.assert_allclose(out["duration_months"], out["duration_days"] / (365.25 / 12))
    assert out["closed"].tolist() == [True, False, False, True, False]
    assert out["early_closure_3m"].tolist() == [True, False, False, True, False]
    assert out["early_closure_12m"].dtype == bool
    assert out["closure_reason"].tolist()[0] == "moved"
    assert out["closure_reason"].isna().tolist() == [False, True, True, False, True]


def test_match_durations_iso_strings_and_custom_months():
    m = pd.DataFrame(
        {"s": ["2024-01-01", "2024-01-01"], "e": ["2024-02-15", None]}, index=["b", "a"]
    )
    out = match_durations(m, cutoff="2024-12-31", start="s", end="e", early_months=(1, 2))
    assert out["early_closure_1m"].tolist() == [False, False]
    assert out["early_closure_2m"].tolist() == [True, False]
    assert "closure_reason" not in out


def test_match_durations_errors(matches):
    bad = matches.copy()
    bad.loc["m4", "end_date"] = pd.Timestamp("2023-01-01")
    with pytest.raises(DataError, match="before start_date.*'m4'"):
        match_durations(bad, cutoff="2024-01-01")
    with pytest.raises(DataError, match="after the cutoff.*'m3'"):
        match_durations(matches, cutoff="2023-06-01")
    bad = matches.copy()
    bad.loc["m1", "start_date"] = pd.NaT
    with pytest.raises(DataError, match="missing.*'m1'"):
        match_durations(bad, cutoff="2024-01-01")
    with pytest.raises(DataError, match="duplicated index"):
        match_durations(pd.concat([matches, matches.iloc[:1]]), cutoff="2024-01-01")
    with pytest.raises(DataError, match="no column"):
        match_durations(matches, cutoff="2024-01-01", end="finish")
    with pytest.raises(DataError, match="not dates.*'m3'"):
        match_durations(
            matches.assign(
                start_date=["2023-01-01", "soon", "2022-03-01", "2023-11-01", "2023-02-01"]
            ),
            cutoff="2024-01-01",
        )


def test_closure_reasons_masks_small_cells():
    m = pd.DataFrame(
        {
            "end_date": ["2023-05-01"] * 21 + [None] * 3,
            "closure_reason": ["moved"] * 10
            + ["mentor left"] * 6
            + ["conflict"] * 2
            + [None] * 3
            + [None] * 3,
        }
    )
    with pytest.warns(SmallCellWarning):
        table = closure_reasons(m)
    by = table.set_index("reason")
    assert list(table["reason"]) == ["moved", "mentor left", "(not recorded)", "conflict"]
    assert by.loc["moved", "n"] == 10
    assert by.loc["moved", "percent"] == pytest.approx(100 * 10 / 21)
    # 3 and 2 are both small; shown, the others would give their sum (21 - 16 = 5), so
    # "mentor left" (6), the smallest count that hides enough with them, is masked too
    assert by["suppressed"].tolist() == [False, True, True, True]
    assert (
        by.loc[["mentor left", "(not recorded)", "conflict"], ["n", "percent"]].isna().all().all()
    )


def test_closure_reasons_complementary_and_off():
    m = pd.DataFrame(
        {"end_date": ["2023-05-01"] * 20, "closure_reason": ["a"] * 12 + ["b"] * 6 + ["c"] * 2}
    )
    with pytest.warns(SmallCellWarning):
        table = closure_reasons(m).set_index("reason")
    # with b (6) as complement a reader would know b + c = 8, so b is 4 to 7; a (12) is the
    # smallest count at least 2 * min_cell - 2 + 1 - 2 = 7 that hides c well enough
    assert table["suppressed"].to_dict() == {"a": True, "b": False, "c": True}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = closure_reasons(m, min_cell=0).set_index("reason")
    assert table["n"].to_dict() == {"a": 12, "b": 6, "c": 2}
    assert not table["suppressed"].any()
    only_after = closure_reasons(m, cutoff="2023-01-01", min_cell=0)
    assert only_after.empty


# ---------------------------------------------------------------------------------------------
# invariants
# ---------------------------------------------------------------------------------------------
survival_data = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 15), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.randoms(use_true_random=False),
    )
)


@settings(max_examples=60, deadline=None)
@given(survival_data)
def test_km_invariants(case):
    times, events, rnd = case
    km = kaplan_meier(times, events)
    s = km["survival"].to_numpy()
    assert ((s >= 0) & (s <= 1)).all()
    assert (np.diff(s) <= 1e-15).all()
    assert km["at_risk"].iloc[0] == len(times)
    assert km["events"].sum() == sum(events)
    assert km["events"].sum() + km["censored"].sum() == len(times)
    order = list(range(len(times)))
    rnd.shuffle(order)
    again = kaplan_meier([times[i] for i in order], [events[i] for i in order])
    pd.testing.assert_frame_equal(km, again)


@settings(max_examples=40, deadline=None)
@given(survival_data, st.floats(0.5, 3), st.floats(-5, 5), st.integers(0, 2**32 - 1))
def test_cox_affine_covariate(case, scale, offset, seed):
    times, events, _ = case
    if not any(events):
        return
    x = np.random.default_rng(seed).normal(size=len(times))
    d = pd.DataFrame({"t": times, "e": events, "x": x})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            a = cox(d, duration="t", event="e", covariates=["x"])
        except DataError:  # e.g. no variation within the risk sets
            return
        b = cox(d.assign(x=x * scale + offset), duration="t", event="e", covariates=["x"])
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        return  # a diverging coefficient: nothing finite to compare
    assert b["coef"].iloc[0] * scale == pytest.approx(a["coef"].iloc[0], rel=1e-6, abs=1e-9)
    assert b["z"].iloc[0] == pytest.approx(a["z"].iloc[0], rel=1e-6, abs=1e-9)
    assert b.attrs["loglik"][1] == pytest.approx(a.attrs["loglik"][1], rel=1e-9)


def test_early_closure_counts_calendar_months():
    m = pd.DataFrame(
        {
            "start_date": ["2021-10-01", "2021-10-01", "2022-01-31"],
            "end_date": ["2022-10-01", "2022-09-30", "2022-04-29"],
        },
        index=["one_year", "a_day_short", "feb_end"],
    )
    d = match_durations(m, cutoff="2023-01-01")
    assert d["duration_days"].tolist() == [365.0, 364.0, 88.0]
    assert d["early_closure_12m"].tolist() == [False, True, True]
    # 31 Jan + 3 months = 30 Apr (pandas DateOffset rolls to the month end): 29 Apr is early
    assert d["early_closure_3m"].tolist() == [False, False, True]


# ---------------------------------------------------------------------------------------------
# unplanned closure, early-closure rates, Cox per unit and with missing values, masked medians
# ---------------------------------------------------------------------------------------------
def test_match_durations_flags_unplanned_closure():
    m = pd.DataFrame(
        {
            "start_date": pd.to_datetime(["2023-01-01"] * 5),
            "end_date": pd.to_datetime(
                ["2023-03-01", "2024-01-01", "2023-05-01", None, "2025-01-01"]
            ),
            "closure_reason": ["moved", "planned completion", None, None, "moved"],
        },
        index=["e", "d", "c", "b", "a"],
    )
    out = match_durations(m, cutoff="2024-06-30")
    # a closure without a recorded reason counts as unplanned; an end after the cutoff is open
    assert out["unplanned_closure"].tolist() == [True, False, True, False, False]
    assert out["planned_completion"].tolist() == [False, True, False, False, False]
    done = match_durations(m, cutoff="2024-06-30", planned_reasons=("planned completion", "moved"))
    assert done["unplanned_closure"].tolist() == [False, False, True, False, False]


def _add_months(day: dt.date, n: int) -> dt.date:
    """``day`` plus ``n`` calendar months, on the month's last day when it is shorter.

    Written out with the calendar module (not pandas) so that the tests state the rule
    independently of the code under test.
    """
    month0 = day.month - 1 + n
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _rule(matches: pd.DataFrame, cutoff: str, n: int, planned=("planned completion",)):
    """Per match at ``n`` months: (known, early), from the documented definition."""
    cut = dt.date.fromisoformat(cutoff)
    out = {}
    for label, row in matches.iterrows():
        start = dt.date.fromisoformat(row["start_date"])
        end = None if pd.isna(row["end_date"]) else dt.date.fromisoformat(row["end_date"])
        closed = end is not None and end <= cut
        point = _add_months(start, n)
        known = closed or point <= cut
        early = closed and row["closure_reason"] not in planned and end < point
        out[label] = (known, early)
    return out


def _matches_from_months(time, event, competing, *, cutoff: str = "2030-01-01"):
    """Matches that lasted ``time`` whole calendar months up to ``cutoff``.

    Every match starts ``time`` months before ``cutoff`` (a first of the month, so the
    arithmetic is exact); events and competing endings close on ``cutoff``, as unplanned and
    planned closures; the others are still open there. A match then counts for ``N`` months
    exactly when it closed or ``time >= N``, and closed early exactly when it is an event with
    ``time < N``: the rule of the reference script with weeks read as months.
    """
    cut = pd.Timestamp(cutoff)
    time = pd.Series(time).astype(int)
    ended = np.asarray(event, dtype=bool) | np.asarray(competing, dtype=bool)
    reason = np.where(
        np.asarray(event, dtype=bool),
        "arrested",
        np.where(np.asarray(competing, dtype=bool), "planned completion", None),
    )
    return pd.DataFrame(
        {
            "start_date": [cut - pd.DateOffset(months=int(t)) for t in time],
            "end_date": pd.Series([cut] * len(time)).where(ended, pd.NaT).to_numpy(),
            "closure_reason": reason,
        },
        index=time.index,
    )


def test_early_closure_rules_and_suppression():
    t = pd.Series([1, 2, 4, 4, 7, 13, 2], index=list("gfedcba"))
    e = pd.Series([1, 0, 1, 0, 1, 0, 0], index=t.index)
    planned = pd.Series([0, 0, 0, 1, 0, 0, 0], index=t.index)
    m = _matches_from_months(t, e, planned)
    r = early_closure(m, cutoff="2030-01-01", months=[3, 6], min_cell=0)
    # 3 months: g closed early at 1 month; f and a, open for 2 months, are followed that long
    # (censored), and the others were open on their 3-month date: 1/7. 6 months: e closes
    # early at 4 months when e, d, c and b are at risk (d completes as planned then, and is
    # no longer at risk of closing early): 1/7 + (6/7)(1/4) = 5/14
    assert r["n"].tolist() == [7, 7] and r["at_risk"].tolist() == [4, 2]
    assert r["events"].tolist() == [1.0, 2.0]
    assert r["estimate"].tolist() == pytest.approx([1 / 7, 5 / 14], abs=1e-15)
    assert list(r.columns) == [
        "months", "n", "at_risk", "events", "estimate", "se", "ci_lower", "ci_upper",
        "suppressed", "note",
    ]  # fmt: skip
    with pytest.warns(SmallCellWarning, match="early closure: 1 row"):
        masked = early_closure(m, cutoff="2030-01-01", months=[3], min_cell=3)
    assert masked["suppressed"].all() and masked["estimate"].isna().all()
    assert masked["se"].isna().all() and masked["events"].isna().all()
    # no planned reasons: the planned completion (d, 4 months) is a closure like any other
    every = early_closure(m, cutoff="2030-01-01", months=[6], planned_reasons=(), min_cell=0)
    assert every["events"].tolist() == [3.0]
    assert every["estimate"].tolist() == pytest.approx([1 / 7 + (6 / 7) * (2 / 4)])
    with pytest.raises(DataError, match="months must be whole numbers"):
        early_closure(m, cutoff="2030-01-01", months=[0])
    with pytest.raises(DataError, match="months must be whole numbers"):
        early_closure(m, cutoff="2030-01-01", months=[2.5])
    with pytest.raises(DataError, match="no column 'reason'"):
        early_closure(m, cutoff="2030-01-01", reason="reason")
    with pytest.raises(DataError, match="not a column of matches"):
        early_closure(m, cutoff="2030-01-01", by="site")
    with pytest.raises(DataError, match="index does not match"):
        early_closure(m, cutoff="2030-01-01", by=pd.Series(range(7)))
    with pytest.raises(DataError, match="missing group labels"):
        early_closure(m, cutoff="2030-01-01", by=pd.Series(["x"] * 6 + [None], index=m.index))
    with pytest.raises(DataError, match="min_cell"):
        early_closure(m, cutoff="2030-01-01", min_cell=True)
    with pytest.raises(DataError, match="no rows"):
        early_closure(m.iloc[:0], cutoff="2030-01-01")


CUTOFF = "2024-06-30"
# label: start, end, reason -- each case sits on one side of a boundary of the rule
BOUNDARY = {
    # 31 Jan + 3 calendar months is 30 Apr (April has no 31st): a closure that day came when
    # the 3 months were complete, so it is not early; the day before it is
    "jan31_to_apr30": ("2023-01-31", "2023-04-30", "moved"),
    "jan31_to_apr29": ("2023-01-31", "2023-04-29", "moved"),
    # 1 Jan + 3 calendar months is 1 Apr: not early on 1 Apr, early on 31 Mar
    "jan01_to_apr01": ("2023-01-01", "2023-04-01", "moved"),
    "jan01_to_mar31": ("2023-01-01", "2023-03-31", "moved"),
    # leap year: 30 Nov 2023 + 3 months is 29 Feb 2024
    "nov30_to_feb29": ("2023-11-30", "2024-02-29", "mentor left"),
    "nov30_to_feb28": ("2023-11-30", "2024-02-28", "mentor left"),
    # planned completion before 3 months: known, not early
    "planned_2m": ("2023-01-01", "2023-03-01", "planned completion"),
    # no reason recorded: an unplanned closure
    "no_reason_6w": ("2023-05-01", "2023-06-15", None),
    # open, started 2 months before the cut-off: outcome at 3 months unknown
    "open_2m": ("2024-04-30", None, None),
    # open, started exactly 3 months before the cut-off: known, not early
    "open_3m": ("2024-03-30", None, None),
    # ends after the cut-off, so open at the cut-off; started 6 weeks before it: unknown
    "ends_after_cutoff": ("2024-05-15", "2024-07-10", "moved"),
}


@pytest.fixture(scope="module")
def boundary() -> pd.DataFrame:
    frame = pd.DataFrame(
        [dict(zip(["start_date", "end_date", "closure_reason"], v, strict=True))
         for v in BOUNDARY.values()],
        index=list(BOUNDARY),
    )  # fmt: skip
    return frame.sample(frac=1, random_state=3)  # labelled rows in another order


def _per_match(table: pd.DataFrame, n: int) -> dict:
    """(known, early) per match from a table with one group (column ``match``) per match."""
    got = table[table["months"] == n].set_index("match")
    known = got["note"] != "not followed this long"
    return {k: (bool(known[k]), bool(got.loc[k, "events"] == 1)) for k in got.index}


def test_early_closure_counts_calendar_months_at_the_boundaries(boundary):
    # one group per match shows how each match was counted: a match is followed to N months
    # (or ended before) when its row has an estimate, and early when its one event is counted
    each = pd.Series(boundary.index, index=boundary.index, name="match")
    t = early_closure(boundary, cutoff=CUTOFF, months=[1, 3, 12], by=each, min_cell=0)
    for n in (1, 3, 12):
        assert _per_match(t, n) == _rule(boundary, CUTOFF, n), n
    at3 = t[t["months"] == 3].set_index("match")
    assert set(at3.index[at3["events"] == 1]) == {
        "jan31_to_apr29", "jan01_to_mar31", "nov30_to_feb28", "no_reason_6w",
    }  # fmt: skip
    assert set(at3.index[at3["note"] == "not followed this long"]) == {
        "open_2m", "ends_after_cutoff",
    }  # fmt: skip
    # the average-length-month rule (duration_months < 3) would call these early as well
    months = match_durations(boundary, cutoff=CUTOFF)["duration_months"]
    assert (months[["jan31_to_apr30", "jan01_to_apr01", "nov30_to_feb29"]] < 3).all()

    overall = early_closure(boundary, cutoff=CUTOFF, months=[1, 3, 12], min_cell=0)
    overall = overall.set_index("months")
    for n in (1, 3):
        assert overall.loc[n, "events"] == sum(e for _, e in _rule(boundary, CUTOFF, n).values())
    # the longest follow-up, open_3m's, is 3 months: nothing is known at 12
    assert overall.loc[12, "note"] == "not followed this long"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dates(dt.date(2021, 1, 1), dt.date(2024, 6, 30)),
            st.one_of(st.none(), st.integers(0, 500)),
            st.sampled_from(["planned completion", "moved", None]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from([1, 2, 3, 6, 12]),
)
def test_early_closure_follows_the_rule_on_random_matches(rows, n):
    frame = pd.DataFrame(
        {
            "start_date": [s.isoformat() for s, _, _ in rows],
            "end_date": [None if d is None else (s + dt.timedelta(d)).isoformat()
                         for s, d, _ in rows],
            "closure_reason": [r for _, _, r in rows],
        },
        index=[f"m{i}" for i in reversed(range(len(rows)))],
    )  # fmt: skip
    rule = _rule(frame, CUTOFF, n)
    each = pd.Series(frame.index, index=frame.index, name="match")
    per = early_closure(frame, cutoff=CUTOFF, months=[n], by=each, min_cell=0)
    assert _per_match(per, n) == rule
    t = early_closure(frame, cutoff=CUTOFF, months=[n], min_cell=0).iloc[0]
    if t["note"] == "":
        assert t["events"] == sum(e for _, e in rule.values())
    # the calendar-month time: below n exactly when the match stopped before its n-month date
    cut = pd.Timestamp(CUTOFF)
    starts = pd.to_datetime(frame["start_date"])
    stops = pd.to_datetime(frame["end_date"]).fillna(cut)
    stops = stops.where(stops <= cut, cut)
    time = _calendar_months(starts, stops)
    before = [e.date() < _add_months(s.date(), n) for s, e in zip(starts, stops, strict=True)]
    assert (time < n).tolist() == before
    assert (time >= 0).all()


def test_early_closure_groups_add_up_and_by_may_be_a_column_or_a_series():
    from tim_research.program import read_program
    from tim_research.views.tables import match_table

    program = read_program(REPO / "data" / "sample")
    matches = shuffled(match_table(program))
    overall = early_closure(matches, cutoff=program.cutoff, min_cell=0)
    by_site = early_closure(matches, cutoff=program.cutoff, by="site", min_cell=0)
    assert not by_site["suppressed"].any()
    sums = by_site.groupby("months")[["n", "at_risk", "events"]].sum()
    pd.testing.assert_frame_equal(
        sums, overall.set_index("months")[["n", "at_risk", "events"]], check_dtype=False
    )
    # the same groups as a Series, in another order: aligned on the index
    series = matches["site"].astype(str).rename("where").sample(frac=1, random_state=1)
    other = early_closure(matches, cutoff=program.cutoff, by=series, min_cell=0)
    assert list(other.columns[:2]) == ["months", "where"]
    pd.testing.assert_frame_equal(
        other.set_index(["months", "where"]).sort_index(),
        by_site.assign(site=by_site["site"].astype(str))
        .set_index(["months", "site"])
        .rename_axis(["months", "where"])
        .sort_index(),
    )
    unnamed = early_closure(
        matches, cutoff=program.cutoff, months=[3], by=series.rename(None), min_cell=0
    )
    assert list(unnamed.columns[:2]) == ["months", "group"]


def test_cox_per_unit_and_dropped_rows_against_coxph(read_external, reference_values):
    ref = reference_values("extra_cox_per")
    r = shuffled(read_external("lifelines_rossi.csv"), seed=4)
    r.loc[r["prio"] > 12, "age"] = np.nan
    fit = cox(
        r, duration="week", event="arrest", covariates=["age", "prio", "fin"],
        per={"age": 10}, missing="drop",
    )  # fmt: skip
    assert list(fit.index) == ["age (per 10)", "prio", "fin"]
    assert (fit.attrs["n"], fit.attrs["n_events"]) == (ref["n"], ref["n_events"])
    assert fit.attrs["n_dropped"] == ref["n_dropped"]
    for col in ["coef", "se", "hr", "ci_lower", "ci_upper"]:
        assert_close(fit[col], ref[col], rtol=1e-6)
    with pytest.raises(DataError, match="missing or infinite"):
        cox(r, duration="week", event="arrest", covariates=["age"])


def test_cox_per_rescales_exactly(rossi):
    plain = cox(rossi, duration="week", event="arrest", covariates=["age", "prio"])
    per = cox(rossi, duration="week", event="arrest", covariates=["age", "prio"], per={"age": 5})
    assert per.loc["age (per 5)", "coef"] == pytest.approx(5 * plain.loc["age", "coef"])
    assert per.loc["prio", "coef"] == pytest.approx(plain.loc["prio", "coef"])
    assert per.attrs["n_dropped"] == 0
    with pytest.raises(DataError, match="not covariates"):
        cox(rossi, duration="week", event="arrest", covariates=["age"], per={"prio": 10})
    with pytest.raises(DataError, match="positive"):
        cox(rossi, duration="week", event="arrest", covariates=["age"], per={"age": 0})
    with pytest.raises(DataError, match="missing must be"):
        cox(rossi, duration="week", event="arrest", covariates=["age"], missing="ignore")


def test_median_survival_masks_small_groups():
    # events / censored: a 10 / 10, b 9 / 8, c 2 / 1 (small)
    t = list(range(1, 21)) + list(range(1, 18)) + [2, 4, 6]
    e = [1] * 10 + [0] * 10 + [1] * 9 + [0] * 8 + [1, 1, 0]
    g = ["a"] * 20 + ["b"] * 17 + ["c"] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = median_survival(t, e, by=g, min_cell=0)
    assert not full["suppressed"].any()
    with pytest.warns(SmallCellWarning, match="2 group"):
        med = median_survival(t, e, by=g)
    # c is small; b holds the smallest counts that hide enough with c's in both columns
    # (events 9 >= 2 * 5 - 1 - 2, censored 8 >= 2 * 5 - 1 - 1), so b is masked, a is not
    assert med["suppressed"].tolist() == [False, True, True]
    assert med.loc[0, "n"] == 20
    assert np.isnan(med.loc[1:, ["n", "events", "median"]].to_numpy(float)).all()
    with pytest.raises(DataError, match="min_cell"):
        median_survival(t, e, min_cell=-1)


def test_logrank_result_reads_as_a_sentence(rossi):
    text = str(logrank(rossi["week"], rossi["arrest"], rossi["fin"]))
    assert text.startswith("Log-rank test of 2 groups: chi-square ")
    assert " on 1 df, p = 0.0" in text
