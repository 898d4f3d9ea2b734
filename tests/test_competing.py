"""Competing risks: cumulative incidence, Gray's test, Fine-Gray, checked against R.

Reference values: ``tests/reference/competing_reference.R`` (survival::survfit, cmprsk::cuminc,
cmprsk::crr, coxph) on survival::mgus2 and on a synthetic program's matches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tim_research.errors import DataError, SmallCellWarning
from tim_research.stats import competing

TOL = 1e-6
VALUES = "tests/reference/values/competing_synthetic_matches.csv"


@pytest.fixture(scope="module")
def mgus2(reference_values):
    ref = reference_values("competing_mgus2")
    return ref, pd.DataFrame(ref["data"])


@pytest.fixture(scope="module")
def synthetic(reference_values):
    from tests.conftest import REPO

    matches = pd.read_csv(REPO / VALUES, keep_default_na=False, na_values=[""])
    return reference_values("competing_synthetic"), matches


def _check_aj(table: pd.DataFrame, ref: dict, *, by: bool, codes: dict | None = None) -> None:
    """Compare a cumulative_incidence table with one aj_summary block of the R script.

    ``codes`` maps R's state names to the cause labels of the table (default: the same).
    """
    for block in ref["causes"]:
        label = (codes or {}).get(block["cause"], block["cause"])
        sub = table[table["cause"] == label]
        # times as R printed them (15 significant digits)
        assert sub["time"].tolist() == pytest.approx(ref["time"], rel=1e-13, abs=0)
        if by:
            assert sub["group"].astype(str).tolist() == ref["strata"]
        assert sub["at_risk"].tolist() == ref["n_risk"]
        assert sub["events"].tolist() == block["n_event"]
        for ours, theirs in (
            ("cif", "pstate"),
            ("se", "std_err"),
            ("ci_lower", "lower"),
            ("ci_upper", "upper"),
        ):
            expected = np.array([np.nan if v is None else v for v in block[theirs]], float)
            np.testing.assert_allclose(sub[ours].to_numpy(float), expected, atol=TOL, rtol=0)


@pytest.mark.parametrize("key", ["aj_overall", "aj_by_sex"])
def test_cumulative_incidence_matches_survfit_on_mgus2(mgus2, key):
    ref, d = mgus2
    by = d["sex"] if key == "aj_by_sex" else None
    table = competing.cumulative_incidence(
        d["etime"], d["event"], by=by, times=ref["times"], censored=0, min_cell=0
    )
    # codes 1 and 2 are the states "pcm" and "death" of the R script
    _check_aj(table, ref[key], by=by is not None, codes={"pcm": 1, "death": 2})


@pytest.mark.parametrize(
    "key", ["aj_reasons_overall", "aj_reasons_by_site", "aj_reasons_by_site_all"]
)
def test_cumulative_incidence_matches_survfit_on_six_closure_reasons(synthetic, key):
    ref, m = synthetic
    by = m["site"] if "by_site" in key else None
    times = None if key.endswith("_all") else ref["times"]
    table = competing.cumulative_incidence(
        m["duration_months"], m["ending"], by=by, times=times, min_cell=0
    )
    _check_aj(table, ref[key], by=by is not None)


def test_cumulative_incidences_and_share_still_open_add_to_one(mgus2):
    _, d = mgus2
    t = competing.cumulative_incidence(d["etime"], d["event"], censored=0, min_cell=0)
    total = t.groupby("time")["cif"].sum()
    assert (total <= 1 + 1e-12).all()
    assert total.is_monotonic_increasing


def test_cumulative_incidence_suppresses_small_counts():
    rng = np.random.default_rng(1)
    n = 60
    durations = pd.Series(rng.exponential(10, n))
    causes = pd.Series(rng.choice(["moved", "planned completion", None], n, p=[0.2, 0.5, 0.3]))
    by = pd.Series(["a"] * 57 + ["b"] * 3)
    with pytest.warns(SmallCellWarning):
        t = competing.cumulative_incidence(durations, causes, by=by, times=[1, 5, 10, 40])
    small_group = t[t["group"] == "b"]
    assert small_group[["at_risk", "events", "cif", "se"]].isna().all().all()
    assert small_group["suppressed"].all()
    shown = t[~t["suppressed"]]
    assert ((shown["at_risk"] >= 5) | (shown["at_risk"] == 0)).all()
    few = t["events"].between(1, 4)
    assert not few.any()


def test_cumulative_incidence_refuses_bad_input():
    with pytest.raises(DataError, match="every row is censored"):
        competing.cumulative_incidence([1, 2], [None, None], min_cell=0)
    with pytest.raises(DataError, match="negative"):
        competing.cumulative_incidence([1, -2], ["a", None], min_cell=0)
    with pytest.raises(DataError, match="same length|values but"):
        competing.cumulative_incidence([1, 2, 3], ["a", None], min_cell=0)


@pytest.mark.parametrize("key", ["gray", "gray_strata", "gray_rho1"])
def test_gray_test_matches_cuminc_on_mgus2(mgus2, key):
    ref, d = mgus2
    options = {"strata": d["age"] >= 70} if key == "gray_strata" else {}
    if key == "gray_rho1":
        options["rho"] = 1.0
    r = competing.gray_test(d["etime"], d["event"], d["sex"], censored=0, **options)
    assert [str(c) for c in r["cause"]] == ref[key]["cause"]
    np.testing.assert_allclose(r["stat"], ref[key]["stat"], atol=TOL, rtol=0)
    np.testing.assert_allclose(r["p"], ref[key]["pv"], atol=TOL, rtol=0)
    assert r["df"].tolist() == ref[key]["df"]


@pytest.mark.parametrize("key", ["gray_reasons", "gray_unplanned"])
def test_gray_test_matches_cuminc_on_synthetic_sites(synthetic, key):
    ref, m = synthetic
    causes = m["ending"]
    if key == "gray_unplanned":
        planned = causes == "planned completion"
        causes = causes.where(causes.isna(), np.where(planned, "planned", "unplanned"))
    r = competing.gray_test(m["duration_months"], causes, m["site"])
    assert r["cause"].tolist() == ref[key]["cause"]
    np.testing.assert_allclose(r["stat"], ref[key]["stat"], atol=TOL, rtol=0)
    np.testing.assert_allclose(r["p"], ref[key]["pv"], atol=TOL, rtol=0)
    assert r["df"].tolist() == ref[key]["df"]


def test_gray_test_needs_two_groups():
    with pytest.raises(DataError, match="two groups"):
        competing.gray_test([1, 2, 3], ["a", None, "a"], ["x", "x", "x"])


@pytest.mark.parametrize("failcode", [1, 2])
def test_fine_gray_matches_crr_on_mgus2(mgus2, failcode):
    ref, d = mgus2
    d = d.assign(male=(d["sex"] == "M").astype(float))
    fit = competing.fine_gray(
        d,
        duration="etime",
        cause="event",
        covariates=["age", "male"],
        failcode=failcode,
        censored=0,
    )
    r = ref["crr"][failcode - 1]
    assert fit.index.tolist() == r["covariate"]
    for col in ("coef", "se", "p"):
        np.testing.assert_allclose(fit[col], r[col], atol=1e-5, rtol=0)
    np.testing.assert_allclose(fit.attrs["loglik"], [r["loglik_null"], r["loglik"]], rtol=1e-9)
    assert fit.attrs["converged"] is r["converged"]


def _two_endings(m: pd.DataFrame) -> pd.DataFrame:
    planned = m["ending"] == "planned completion"
    ending = m["ending"].where(m["ending"].isna(), np.where(planned, "planned", "unplanned"))
    out = m.assign(two=ending)
    for site in ("North", "South", "West"):
        out[f"site{site}"] = (m["site"] == site).astype(float)
    return out


def test_fine_gray_and_cause_specific_cox_match_r_on_synthetic_sites(synthetic):
    ref, m = synthetic
    data = _two_endings(m)
    table = competing.competing_regression(
        data,
        duration="duration_months",
        cause="two",
        covariates=["siteNorth", "siteSouth", "siteWest"],
        failcode="unplanned",
    )
    for model, key in (
        ("subdistribution (Fine-Gray)", "crr_unplanned"),
        ("cause-specific (Cox)", "cox_unplanned"),
    ):
        part = table[table["model"] == model]
        assert part["covariate"].tolist() == ref[key]["covariate"]
        tol = 1e-5 if key.startswith("crr") else TOL
        for col in ("coef", "se", "p"):
            np.testing.assert_allclose(part[col], ref[key][col], atol=tol, rtol=0)
        np.testing.assert_allclose(part["hr"], np.exp(part["coef"]), rtol=1e-12)


@pytest.mark.parametrize("failcode", [1, 2])
def test_cause_specific_cox_matches_coxph_on_mgus2(mgus2, failcode):
    ref, d = mgus2
    d = d.assign(male=(d["sex"] == "M").astype(float))
    table = competing.competing_regression(
        d,
        duration="etime",
        cause="event",
        covariates=["age", "male"],
        failcode=failcode,
        censored=0,
    )
    part = table[table["model"] == "cause-specific (Cox)"]
    r = ref["cox_cause_specific"][failcode - 1]
    for col in ("coef", "se", "p"):
        np.testing.assert_allclose(part[col], r[col], atol=TOL, rtol=0)


def test_fine_gray_refuses_unknown_failcode_and_missing_covariates():
    d = pd.DataFrame({"t": [1.0, 2, 3, 4], "c": ["a", "b", None, "a"], "x": [1.0, None, 0, 1]})
    with pytest.raises(DataError, match="failcode"):
        competing.fine_gray(d, duration="t", cause="c", covariates=["x"], failcode="z")
    with pytest.raises(DataError, match="missing"):
        competing.fine_gray(d, duration="t", cause="c", covariates=["x"], failcode="a")


@pytest.fixture(scope="module")
def program_matches(synthetic):
    """The synthetic program's matches (dates), checked against the CSV that R read."""
    from tim_research import synth
    from tim_research.stats.survival import match_durations

    _, csv = synthetic
    program = synth.program(n_youth=300, seed=3)
    matches = program.matches.set_index("match_id")
    site = matches["youth_id"].map(program.youth.set_index("youth_id")["site"])
    matches = matches.assign(site=site.astype(str))
    d = match_durations(matches, cutoff=program.cutoff)
    assert matches.index.tolist() == csv["match_id"].tolist()
    np.testing.assert_array_equal(d["duration_months"].to_numpy(), csv["duration_months"])
    assert (matches["site"].to_numpy() == csv["site"].to_numpy()).all()
    return matches, program.cutoff


@pytest.fixture(scope="module")
def early_reference(reference_values):
    return reference_values("competing_early_closure")


def test_calendar_months_are_those_r_counted_from_the_dates(synthetic, early_reference):
    from tim_research.stats.survival import _calendar_months

    _, csv = synthetic
    t = _calendar_months(pd.to_datetime(csv["start_date"]), pd.to_datetime(csv["stop_date"]))
    np.testing.assert_allclose(t, early_reference["calendar_months"], rtol=1e-13, atol=0)


def _check_early(t: pd.DataFrame, ref: dict) -> None:
    assert t["n"].tolist() == [ref["n"]] * len(t)
    assert t["at_risk"].tolist() == ref["n_risk"]
    assert t["events"].tolist() == ref["events"]
    for ours, theirs in (
        ("estimate", "pstate"),
        ("se", "std_err"),
        ("ci_lower", "lower"),
        ("ci_upper", "upper"),
    ):
        np.testing.assert_allclose(t[ours], ref[theirs], atol=TOL, rtol=0)
    assert (t["note"] == "").all() and not t["suppressed"].any()


def test_early_closure_matches_survfit_on_calendar_months(program_matches, early_reference):
    matches, cutoff = program_matches
    t = competing.early_closure(matches, cutoff=cutoff, months=[12, 3, 6], min_cell=0)
    assert t["months"].tolist() == early_reference["months"]
    _check_early(t, early_reference["overall"])


def test_early_closure_by_site_matches_survfit(program_matches, early_reference):
    matches, cutoff = program_matches
    t = competing.early_closure(matches, cutoff=cutoff, by="site", min_cell=0)
    assert t.columns.tolist() == [
        "months", "site", "n", "at_risk", "events", "estimate", "se", "ci_lower", "ci_upper",
        "suppressed", "note",
    ]  # fmt: skip
    for site, ref in early_reference["by_site"].items():
        _check_early(t[t["site"] == site].reset_index(drop=True), ref)


def test_early_closure_counts_calendar_not_average_months(synthetic, program_matches):
    # on average-length months the planned completions on the 12-month date (365 days) fall
    # before 12: they leave the risk set early, and the matches at risk differ from R's count
    ref, _ = synthetic
    matches, cutoff = program_matches
    t = competing.early_closure(matches, cutoff=cutoff, months=[3, 6, 12], min_cell=0)
    assert ref["aj_unplanned_overall"]["n_risk"][2] < t["at_risk"].iloc[2]


def test_early_closure_ending_on_the_n_month_date_is_not_early():
    m = pd.DataFrame(
        {
            "start_date": ["2023-01-31", "2023-01-01", "2023-01-01", "2023-01-15"],
            "end_date": ["2023-04-30", "2023-03-31", "2023-04-01", "2023-04-14"],
            "closure_reason": ["moved", "moved", "moved", "moved"],
        }
    )
    t = competing.early_closure(m, cutoff="2024-01-01", months=[3, 4], min_cell=0)
    # 30 April is the 3-month date of 31 January and 1 April that of 1 January; 31 March and
    # 14 April (the day before 15 April) are before theirs
    assert t["events"].tolist() == [2.0, 4.0]
    assert t["estimate"].tolist() == pytest.approx([0.5, 1.0])
    # every match had ended by 4 months: the curve is known there although nobody is at risk
    assert t["at_risk"].tolist() == [2.0, 0.0]
    assert (t["note"] == "").all()


def test_early_closure_is_below_one_minus_km_and_every_ending_gives_it(program_matches):
    from tim_research.stats.survival import kaplan_meier, match_durations

    matches, cutoff = program_matches
    # planned completions (mostly at 12 months) compete with the unplanned endings after them
    t = competing.early_closure(matches, cutoff=cutoff, months=[18], min_cell=0)
    d = match_durations(matches, cutoff=cutoff)
    km = kaplan_meier(d["duration_months"], d["unplanned_closure"])
    one_minus_km = 1 - km.loc[km["time"] <= 18, "survival"].iloc[-1]
    assert t["estimate"].iloc[0] < one_minus_km - 0.01
    # with no planned reason every ending is an event: 1 - Kaplan-Meier of any ending
    every = competing.early_closure(
        matches, cutoff=cutoff, months=[6], planned_reasons=(), min_cell=0
    ).iloc[0]
    starts = pd.to_datetime(matches["start_date"])
    six = starts + pd.DateOffset(months=6)
    ended = d["closed"] & (pd.to_datetime(matches["end_date"]) < six)
    # nobody is censored before 6 months here, so it is a plain share
    assert (~d["closed"] & (d["duration_days"] < 183)).sum() == 0
    assert every["estimate"] == pytest.approx(ended.mean())
    assert every["events"] == ended.sum()


def test_early_closure_masks_small_sites_and_notes_short_follow_up(program_matches):
    matches, cutoff = program_matches
    small = matches.assign(site=np.where(np.arange(len(matches)) < 4, "Tiny", matches["site"]))
    with pytest.warns(SmallCellWarning, match="early closure"):
        t = competing.early_closure(small, cutoff=cutoff, months=[3, 12, 120], by="site")
    tiny = t[t["site"] == "Tiny"]
    assert tiny["estimate"].isna().all() and tiny["n"].isna().all()
    assert tiny["suppressed"].all()
    # every site's longest match ended (at 24 months), so the curves are final at 120 months
    long = t[(t["months"] == 120) & (t["site"] != "Tiny")]
    assert (long["note"] != "not followed this long").all()
    assert (long["at_risk"].fillna(0) == 0).all()
    shown = t[t["estimate"].notna()]
    assert (shown["at_risk"].isna() | (shown["at_risk"] >= 5) | (shown["at_risk"] == 0)).all()
    assert (shown["events"] >= 5).all()
    # a masked group count cannot be worked out from the total and the other groups, and
    # the same groups' counts are hidden at every N (n does not change with N)
    assert t[t["months"] == 3]["n"].isna().sum() >= 2
    hidden = t[t["n"].isna()].groupby("months")["site"].apply(frozenset)
    assert hidden.nunique() == 1 and len(hidden) == 3
    assert not competing.early_closure(small, cutoff=cutoff, min_cell=0)["suppressed"].any()


def test_early_closure_is_empty_past_the_last_follow_up_of_an_open_match():
    m = pd.DataFrame(
        {
            "start_date": ["2023-01-01"] * 6 + ["2023-06-01"],
            "end_date": ["2023-01-20"] * 3 + ["2023-02-10"] * 3 + [None],
            "closure_reason": ["moved"] * 6 + [None],
        }
    )
    t = competing.early_closure(m, cutoff="2023-08-01", months=[1, 2, 3], min_cell=0)
    # the open match was followed for 2 months: the third month is unknown
    assert t["note"].tolist() == ["", "", "not followed this long"]
    assert t["estimate"].iloc[:2].tolist() == pytest.approx([3 / 7, 6 / 7])
    assert np.isnan(t["estimate"].iloc[2]) and t["n"].iloc[2] == 7


def test_early_closure_refuses_bad_input(program_matches):
    matches, cutoff = program_matches
    for months in ([0], [2.5], [True]):
        with pytest.raises(DataError, match="months"):
            competing.early_closure(matches, cutoff=cutoff, months=months)
    with pytest.raises(DataError, match="no column 'reason'"):
        competing.early_closure(matches, cutoff=cutoff, reason="reason")
    with pytest.raises(DataError, match="not a column"):
        competing.early_closure(matches, cutoff=cutoff, by="region")
    with pytest.raises(DataError, match="min_cell"):
        competing.early_closure(matches, cutoff=cutoff, min_cell=True)
    with pytest.raises(DataError, match="no rows"):
        competing.early_closure(matches.iloc[:0], cutoff=cutoff)


def test_one_ending_type_gives_one_minus_kaplan_meier(mgus2):
    from tim_research.stats.survival import kaplan_meier

    _, d = mgus2
    died = d["event"] > 0
    t = competing.cumulative_incidence(
        d["etime"], died.map({True: "ended", False: None}), min_cell=0
    )
    km = kaplan_meier(d["etime"], died)
    km = km[km["events"] > 0]
    np.testing.assert_allclose(t["cif"], 1 - km["survival"], atol=1e-12)
