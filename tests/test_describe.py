"""Tests of tim_research.views.describe: overview tables and key numbers.

The tables here are counts, so expected values come from the rules the functions document
(checked on small hand-made matches, with the rule quoted beside each case) or from an
independent count of the same rows with plain pandas; statistics in ``key_numbers`` are
compared with the library functions they are documented to use (each tested against R in its
own test file). Small-cell suppression is compared with ``privacy.suppression_mask``.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from tim_research import synth
from tim_research.errors import DataError, SmallCellWarning
from tim_research.privacy import suppression_mask
from tim_research.program import read_program
from tim_research.stats import competing
from tim_research.stats.prevalence import distribution
from tim_research.views.describe import (
    STATUSES,
    DataQuality,
    data_quality,
    demographics,
    early_closure,
    enrolment,
    key_numbers,
    match_outcomes,
    match_status,
    most_common,
    survey_completion,
    youth_status,
)
from tim_research.views.notebook import select_site
from tim_research.views.tables import match_table

MASKS = {"x"}


def _shuffle(program, seed: int):
    """The same program with every table's rows shuffled and given non-default labels."""
    rng = np.random.default_rng(seed)

    def shuffle(df: pd.DataFrame, prefix: str) -> pd.DataFrame:
        out = df.iloc[rng.permutation(len(df))].copy()
        out.index = pd.Index([f"{prefix}{i}" for i in rng.permutation(len(df))])
        return out

    return dataclasses.replace(
        program,
        **{name: shuffle(df, name[:2]) for name, df in program.tables().items()},
    )


@pytest.fixture(scope="module")
def program():
    return _shuffle(synth.program(n_youth=120, seed=11), seed=3)


def _hidden(cell) -> bool:
    return isinstance(cell, str) and (cell.startswith("<") or cell in MASKS)


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCellWarning)
        return func(*args, **kwargs)


# --------------------------------------------------------------------------- enrolment


def test_enrolment_counts_match_an_independent_count(program):
    t = enrolment(program, period="quarter", min_cell=0)
    youth = program.youth
    quarters = youth["enrolment_date"].dt.to_period("Q").astype(str)
    for site in program.sites:
        expected = quarters[youth["site"] == site].value_counts()
        got = t.loc[t.index != "All", site]
        assert got[got > 0].sort_index().to_dict() == expected.sort_index().to_dict()
    assert t.loc["All", "All"] == len(youth)
    assert (t.drop(index="All").sum(axis=1) == t.drop(index="All")["All"] * 2).all()
    # every quarter from the first to the last enrolment is listed, empty ones as 0
    first, last = youth["enrolment_date"].min(), youth["enrolment_date"].max()
    span = pd.period_range(first.to_period("Q"), last.to_period("Q"), freq="Q").astype(str)
    assert list(t.index[:-1]) == list(span)


@pytest.mark.parametrize(("period", "fmt"), [("month", "%Y-%m"), ("year", "%Y")])
def test_enrolment_period_labels_and_no_groups(program, period, fmt):
    t = enrolment(program, period=period, by=None, min_cell=0)
    assert t.index[0] == program.youth["enrolment_date"].min().strftime(fmt)
    assert list(t.columns) == ["All"]
    assert t.loc["All", "All"] == len(program.youth)
    assert t["All"].drop("All").sum() == len(program.youth)


def test_enrolment_hides_what_suppression_mask_hides(program):
    raw = enrolment(program, period="month", min_cell=0)
    with pytest.warns(SmallCellWarning, match="enrolment: .* cell"):
        shown = enrolment(program, period="month", min_cell=5)
    mask = suppression_mask(raw, min_cell=5, total_row="All", total_column="All")
    assert mask.to_numpy().any()
    for r in raw.index:
        for c in raw.columns:
            cell = shown.loc[r, c]
            if mask.loc[r, c]:
                assert _hidden(cell), (r, c, cell)
                if 0 < raw.loc[r, c] < 5:
                    assert cell == "<5"
            else:
                assert cell == raw.loc[r, c]


def test_enrolment_rejects_bad_options(program):
    with pytest.raises(DataError, match="period must be one of"):
        enrolment(program, period="week")
    with pytest.raises(DataError, match="by='nope' is not a column"):
        enrolment(program, by="nope")
    with pytest.raises(DataError, match="min_cell"):
        enrolment(program, min_cell=-1)
    with pytest.raises(DataError, match="Program"):
        enrolment(program.youth)


# --------------------------------------------------------------------------- demographics


def test_demographics_counts_and_percentages(program):
    t = demographics(program, min_cell=0)
    youth = program.youth
    assert list(t["variable"].unique()) == ["gender", "race_ethnicity", "age", "referral_source"]
    for variable, block in t.groupby("variable", sort=False):
        for site in program.sites:
            n_site = int((youth["site"] == site).sum())
            assert block[site].sum() == n_site, (variable, site)
            assert block[f"{site} %"].sum() == pytest.approx(100.0)
        assert block["All"].sum() == len(youth)
    gender = t[t["variable"] == "gender"].set_index("category")
    expected = youth["gender"].astype(object).fillna("not stated").value_counts()
    assert gender["All"][gender["All"] > 0].to_dict() == expected.to_dict()
    if youth["gender"].isna().any():
        assert gender.index[-1] == "not stated"


def test_demographics_without_groups(program):
    t = demographics(program, columns="referral_source", by=None, min_cell=0)
    assert t.columns.tolist() == ["variable", "category", "All", "All %"]
    expected = program.youth["referral_source"].value_counts()
    assert t.set_index("category")["All"].to_dict() == expected.reindex(t["category"]).to_dict()


def test_demographics_age_bands_follow_the_breaks(program):
    t = demographics(program, columns=["age"], age_breaks=(8, 12), min_cell=0)
    assert t["category"].tolist() == ["8-11", "12+"]
    assert t.loc[0, "All"] == int((program.youth["age"] < 12).sum())


def test_demographics_suppression_per_variable(program):
    raw = demographics(program, min_cell=0)
    shown = _quiet(demographics, program, min_cell=10)
    groups = [*program.sites, "All"]
    for variable in raw["variable"].unique():
        rows = raw["variable"] == variable
        mask = suppression_mask(raw.loc[rows, groups], min_cell=10, total_column="All")
        for i in raw.index[rows]:
            for g in groups:
                if mask.loc[i, g]:
                    assert _hidden(shown.loc[i, g])
                    assert shown.loc[i, f"{g} %"] == "x"  # a share of a hidden count
                else:
                    assert shown.loc[i, g] == raw.loc[i, g]
    assert not (shown[groups] == 0).to_numpy()[raw[groups].to_numpy() > 0].any()


RARE = "Dr Jane Smith's clinic"


@pytest.fixture(scope="module")
def free_text_referral():
    """A program whose referral_source is free text (no enum) with one label held by one youth."""
    base = synth.program(n_youth=120, seed=11)
    youth = base.youth.copy()
    source = youth["referral_source"].astype(object).astype("str")
    source.iloc[7] = RARE
    youth["referral_source"] = source
    return dataclasses.replace(base, youth=youth)


@pytest.mark.parametrize("min_cell", [2, 5, 10])
def test_demographics_pools_rare_undeclared_labels_as_other(free_text_referral, min_cell):
    t = _quiet(demographics, free_text_referral, columns="referral_source", min_cell=min_cell)
    counts = free_text_referral.youth["referral_source"].value_counts()
    shared = sorted(counts.index[counts >= min_cell])
    rare = counts[counts < min_cell]
    assert RARE in rare.index
    assert t["category"].tolist() == [*shared, "other"]
    assert RARE not in t.to_string()
    other = t.set_index("category").loc["other", "All"]
    # the count of "other" is the number of youth with a rare label, unless it is hidden
    assert _hidden(other) or other == rare.sum()
    # the same labels as groups of a table: no column is named after the rare label
    by = _quiet(enrolment, free_text_referral, by="referral_source", min_cell=min_cell)
    assert RARE not in by.columns and "other" in by.columns
    assert not any(RARE in str(c) for c in by.reset_index().columns)


def test_declared_categories_are_listed_however_rare(program):
    # referral_source is categorical (its enum) in a synthetic program: every category shows
    t = _quiet(demographics, program, columns="referral_source", min_cell=50)
    declared = program.youth["referral_source"].cat.categories.tolist()
    assert t["category"].tolist()[: len(declared)] == declared
    assert "other" not in t["category"].tolist()


def test_every_label_is_listed_without_suppression(free_text_referral):
    t = demographics(free_text_referral, columns="referral_source", min_cell=0)
    assert RARE in t["category"].tolist() and "other" not in t["category"].tolist()


# --------------------------------------------------------------------------- match status

CUTOFF = pd.Timestamp("2024-06-30")


@pytest.fixture(scope="module")
def handmade():
    """Nine youth with matches chosen to exercise each documented rule."""
    base = synth.program(n_youth=40, seed=5)
    youth = base.youth.head(9).copy()
    youth["youth_id"] = [f"Y90{i}" for i in range(1, 10)]
    youth["site"] = pd.Categorical(["North"] * 5 + ["South"] * 4, categories=base.sites)
    youth["comparison"] = pd.array([False] * 7 + [True, False], dtype="boolean")
    rows = [
        # youth, start, end, reason
        ("Y901", "2023-01-01", None, None),  # open: active
        ("Y902", "2023-01-01", "2023-12-31", "planned completion"),  # closed as planned
        ("Y903", "2023-01-01", "2023-03-01", "youth or family moved"),  # unplanned, 2 months
        ("Y904", "2024-05-01", None, None),  # open, started 2 months before the cut-off
        ("Y905", "2022-01-01", "2022-02-01", "other"),  # earlier match of Y905, unplanned
        ("Y905", "2022-03-01", None, None),  # latest match of Y905: active
        ("Y906", "2023-01-01", "2024-08-01", "mentor time constraints"),  # ends after cut-off
        ("Y907", "2023-01-01", "2023-02-15", None),  # closed, no reason recorded: unplanned
        # Y908: comparison youth, no match; Y909: mentoring group, no match
    ]
    matches = pd.DataFrame(
        {
            "match_id": [f"X9{i:02d}" for i in range(len(rows))],
            "youth_id": [r[0] for r in rows],
            "mentor_id": "M001",
            "start_date": pd.to_datetime([r[1] for r in rows]),
            "end_date": pd.to_datetime([r[2] for r in rows]),
            "closure_reason": pd.Categorical([r[3] for r in rows]),
            "planned_months": pd.array([12] * len(rows), dtype="Int64"),
        },
        index=[f"m{i}" for i in reversed(range(len(rows)))],
    )
    return dataclasses.replace(base, youth=youth, matches=matches, cutoff=CUTOFF)


def test_youth_status_follows_the_documented_rules(handmade):
    s = youth_status(handmade)
    assert s.index.tolist() == handmade.youth["youth_id"].tolist()
    assert s["status"].astype(str).tolist() == [
        "match active",
        "closed as planned",
        "closed unplanned",
        "match active",
        "match active",  # the latest match decides
        "match active",  # an end after the cut-off is not yet an end
        "closed unplanned",  # a closure without a reason is not a planned one
        "comparison group",
        "never matched",
    ]
    assert s["n_matches"].tolist() == [1, 1, 1, 1, 2, 1, 1, 0, 0]
    assert list(s["status"].cat.categories) == list(STATUSES)


def test_match_status_table(handmade, program):
    t = match_status(handmade, min_cell=0)
    assert t.index.tolist() == ["North", "South", "All"]
    assert t.loc["North", "match active"] == 3 and t.loc["South", "match active"] == 1
    assert t.loc["All", "All"] == 9 and t.loc["All", "never matched"] == 1
    big = match_status(program, min_cell=0)
    status = youth_status(program)
    assert big.loc["All", list(STATUSES)].tolist() == [
        int((status["status"] == s).sum()) for s in STATUSES
    ]
    assert (big[list(STATUSES)].drop(index="All").sum(axis=1) == big["All"].drop("All")).all()


def test_match_status_suppresses_small_cells(program):
    raw = match_status(program, min_cell=0)
    shown = _quiet(match_status, program, min_cell=8)
    mask = suppression_mask(raw, min_cell=8, total_row="All", total_column="All")
    assert mask.to_numpy().any()
    assert (shown.where(mask).isin(["<8", "x"]) | ~mask).all().all()
    assert (shown.where(~mask) == raw.where(~mask)).where(~mask, True).all().all()


def test_match_outcomes_shares(handmade):
    t = match_outcomes(handmade, by=None, min_cell=0)
    assert t["category"].tolist() == ["match active", "closed as planned", "closed unplanned"]
    # 7 matched youth: 4 active, 1 closed as planned, 2 closed unplanned
    assert t["count"].tolist() == [4, 1, 2] and set(t["n"]) == {7}
    by_site = match_outcomes(handmade, min_cell=0)
    assert by_site["site"].astype(str).unique().tolist() == ["North", "South"]
    assert (by_site["ci_lower"] <= by_site["estimate"]).all()


# --------------------------------------------------------------------------- surveys


@pytest.mark.parametrize(
    ("who", "table", "key", "people"),
    [
        ("youth", "surveys", "youth_id", "youth"),
        ("mentors", "mentor_surveys", "mentor_id", "mentors"),
    ],
)
def test_survey_completion_counts(program, who, table, key, people):
    t = survey_completion(program, who=who, min_cell=0)
    surveys = getattr(program, table)
    site = surveys[key].map(getattr(program, people).set_index(key)["site"].astype(str))
    for _, row in t[t["site"] != "All"].iterrows():
        here = (surveys["wave"].astype(str) == row["wave"]) & (site == row["site"])
        counts = surveys.loc[here, "status"].astype(str).value_counts()
        for status in ("completed", "lost to follow-up", "not yet due"):
            assert row[status] == counts.get(status, 0)
        assert row["scheduled"] == here.sum()
        due = row["completed"] + row["lost to follow-up"]
        assert row["completed %"] == pytest.approx(100 * row["completed"] / due)
    total = t[t["site"] == "All"].set_index("wave")["scheduled"]
    assert total.to_dict() == surveys["wave"].astype(str).value_counts().to_dict()


def test_survey_completion_without_groups(program):
    t = survey_completion(program, by=None, min_cell=0)
    assert "site" not in t and t["wave"].tolist() == ["baseline", "6m", "12m"]
    with pytest.raises(DataError, match="who must be"):
        survey_completion(program, who="staff")


# --------------------------------------------------------------------------- early closure


def test_early_closure_follows_the_documented_rules(handmade):
    # unplanned endings: Y905's first match at 1 month, Y907 at 1.5 (no reason), Y903 at 2;
    # Y904 (open, 2 months) is followed for its 2 months; Y902 completes as planned a day
    # short of 12 months and stops being at risk; Y906 ends after the cut-off: open.
    # Aalen-Johansen over the 8 matches: 1/8 + (7/8)(1/7) + (6/8)(1/5) = 2/5 by 3 months
    t = early_closure(handmade, months=[1, 3, 12], min_cell=0).set_index("months")
    assert t["n"].tolist() == [8, 8, 8]
    assert t["at_risk"].tolist() == [8, 4, 3]
    assert t["events"].tolist() == [0, 3, 3]
    # 1 month: Y905's first match ended exactly one calendar month after its start, which is
    # not before the month was over
    assert t["estimate"].tolist() == pytest.approx([0, 2 / 5, 2 / 5], abs=1e-15)


def test_early_closure_by_group_and_masking(program):
    t = early_closure(program, months=[6], by="site", min_cell=0)
    assert t["site"].tolist() == sorted(program.sites)
    assert t["n"].sum() == len(program.matches)
    with pytest.warns(SmallCellWarning, match="early closure"):
        masked = early_closure(program, months=[6], by="site", min_cell=40)
    assert masked["suppressed"].any()
    assert masked.loc[masked["suppressed"], "estimate"].isna().all()
    with pytest.raises(DataError, match="months must be whole numbers"):
        early_closure(program, months=[0])


def test_early_closure_view_is_the_stats_function_on_the_programs_matches(program):
    site = program.matches["youth_id"].map(program.youth.set_index("youth_id")["site"])
    direct = competing.early_closure(
        program.matches, cutoff=program.cutoff, by=site.astype(str).rename("site"), min_cell=0
    )
    pd.testing.assert_frame_equal(early_closure(program, by="site", min_cell=0), direct)


def test_early_closure_by_site_adds_up_to_the_total(program):
    by_site = early_closure(program, months=[3, 6, 12], by="site", min_cell=0)
    total = early_closure(program, months=[3, 6, 12], min_cell=0).set_index("months")
    assert not by_site["suppressed"].any()
    sums = by_site.groupby("months")[["n", "at_risk", "events"]].sum()
    pd.testing.assert_frame_equal(sums, total[["n", "at_risk", "events"]], check_dtype=False)


@pytest.fixture(scope="module")
def sample():
    return read_program(REPO / "data" / "sample")


def test_sample_early_closure_is_the_same_in_notebooks_05_and_07_and_key_numbers(sample):
    shown = ["n", "at_risk", "events", "estimate", "se", "ci_lower", "ci_upper"]
    # notebook 05: the stats function on the match table, at the notebook's default min_cell
    matches = match_table(sample)
    nb05 = competing.early_closure(
        matches, cutoff=sample.cutoff, planned_reasons=("planned completion",), min_cell=5
    ).set_index("months")
    # notebook 07: the view
    nb07 = early_closure(sample, months=[3, 6, 12], min_cell=5).set_index("months")
    assert not nb05["suppressed"].any() and not nb07["suppressed"].any()
    pd.testing.assert_frame_equal(nb05[shown], nb07[shown])
    for n in (3, 6, 12):
        # key numbers report the estimate, its interval and, in the note, the matches
        row = _quiet(key_numbers, sample, early_months=n).set_index("key").loc["early_closure"]
        counted = int(re.fullmatch(r"of (\d+) matches; open ones to the cut-off", row["note"])[1])
        assert counted == nb05.loc[n, "n"] == len(matches)
        assert row["value"] == nb07.loc[n, "estimate"]
        assert (row["ci_lower"], row["ci_upper"]) == tuple(nb05.loc[n, ["ci_lower", "ci_upper"]])


# --------------------------------------------------------------------------- data quality


def test_data_quality_of_a_valid_and_a_broken_package(tmp_path):
    synth.write_sample(tmp_path, n_youth=30, seed=2)
    good = data_quality(tmp_path)
    assert isinstance(good, DataQuality) and good.ok and good.n_problems == 0
    assert good.tables.loc["youth", "rows"] == 30
    assert good.tables["empty_cells"].between(0, 1).all()
    assert 0 <= good.tables.loc["surveys", "unanswered_items"] < 1
    assert np.isnan(good.tables.loc["youth", "unanswered_items"])
    assert "no problems" in good._repr_html_()

    youth = tmp_path / "youth.csv"
    youth.write_text(youth.read_text().replace(",North,", ",Nowhere,", 1))
    bad = data_quality(tmp_path)
    assert not bad.ok and bad.n_problems == 1
    assert bad.problems.iloc[0][["table", "column", "check"]].tolist() == ["youth", "site", "enum"]
    assert bad.tables["empty_cells"].isna().all()
    assert "Nowhere" not in bad.problems.to_string()  # counts only, no values

    with pytest.raises(DataError, match="is not a folder"):
        data_quality(tmp_path / "missing")


# --------------------------------------------------------------------------- key numbers


def test_key_numbers_agree_with_the_functions_they_use(program):
    from tim_research.stats.outcomes import paired_change
    from tim_research.stats.prevalence import prevalence
    from tim_research.stats.survival import match_durations, median_survival
    from tim_research.views.tables import wide_scores, youth_scores

    k = _quiet(key_numbers, program, min_cell=0).set_index("key")
    youth = program.youth
    assert k.loc["youth_enrolled", "value"] == len(youth)
    assert k.loc["comparison_group", "value"] == youth["comparison"].sum()
    assert (
        k.loc["youth_matched", "value"] == youth["youth_id"].isin(program.matches["youth_id"]).sum()
    )
    d = match_durations(program.matches, cutoff=program.cutoff)
    assert k.loc["matches_closed", "value"] == d["closed"].sum()
    med = median_survival(d["duration_months"], d["closed"]).iloc[0]
    assert k.loc["median_match_months", "value"] == pytest.approx(med["median"])
    assert k.loc["median_match_months", "ci_lower"] == pytest.approx(med["ci_lower"])
    ec = early_closure(program, months=[12], min_cell=0).iloc[0]
    assert k.loc["early_closure", "value"] == pytest.approx(ec["estimate"])

    scores = _quiet(youth_scores, program, instruments=("brs",))
    wide = wide_scores(scores, values=["brs_score"])
    for arm in ("mentored", "comparison"):
        part = wide[wide["arm"] == arm].dropna(subset=["brs_score_baseline", "brs_score_12m"])
        res = paired_change(part["brs_score_baseline"], part["brs_score_12m"])
        row = k.loc[f"change_{arm}"]
        assert row["value"] == pytest.approx(res.mean_change)
        assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((res.ci_lower, res.ci_upper))
        assert row["note"].startswith(f"{res.n} youth")
    base = scores.xs("baseline", level="wave")
    four = pd.DataFrame(
        {"x": (base["ace10_score"] >= 4).astype(float).where(base["ace10_score"].notna())}
    )
    assert k.loc["ace_4_or_more", "value"] == pytest.approx(
        prevalence(four, "x", min_cell=0).loc[0, "estimate"]
    )
    text = k.reset_index()[["measure", "result", "interval", "note"]]
    assert text.map(len).max().max() <= 50
    assert k.loc["early_closure", "headline"].startswith("Closed early (unplanned, by 12 months): ")


def test_key_numbers_hide_small_counts_and_what_reveals_them(program):
    east = select_site(program, "East")  # no comparison group at East
    k = _quiet(key_numbers, east, min_cell=0).set_index("key")
    assert k.loc["comparison_group", "result"] == "0"
    assert k.loc["change_comparison", "result"] == "none"
    n_active = int(k.loc["matches_active", "value"])
    n_closed = int(k.loc["matches_closed", "value"])
    # a min_cell just above the smaller of the two match counts hides it and its complement
    cut = min(n_active, n_closed) + 1
    hidden = _quiet(key_numbers, east, min_cell=cut).set_index("key")
    small = "matches_active" if n_active < n_closed else "matches_closed"
    other = "matches_closed" if small == "matches_active" else "matches_active"
    assert hidden.loc[small, "result"] == f"<{cut}"
    assert hidden.loc[other, "result"] == "hidden"
    assert hidden.loc[[small, other], "value"].isna().all()
    assert hidden.loc[small, "note"] == "hidden to protect small groups"
    huge = _quiet(key_numbers, east, min_cell=10_000).set_index("key")
    assert huge.drop(index="comparison_group")["value"].isna().all()
    # a zero describes nobody, but here it is the one cell left to complement the mentoring
    # group: shown as 0, it would give that group's count as the (published) number enrolled
    assert huge.loc["comparison_group", "result"] == "hidden"
    assert not huge.drop(index="comparison_group")["result"].str.fullmatch(r"[\d.%+-]+").any()


def test_key_numbers_rejects_bad_options(program):
    with pytest.raises(DataError, match="early_months"):
        key_numbers(program, early_months=0)
    with pytest.raises(DataError, match="followup"):
        _quiet(key_numbers, program, followup="24m")


# --------------------------------------------------------------------------- invariants


_SMALL = synth.program(n_youth=50, seed=9)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_tables_do_not_depend_on_row_order(seed):
    base = _SMALL
    shuffled = _shuffle(base, seed)
    for func in (enrolment, match_status):
        pd.testing.assert_frame_equal(func(base, min_cell=0), func(shuffled, min_cell=0))
    pd.testing.assert_frame_equal(
        demographics(base, min_cell=0), demographics(shuffled, min_cell=0)
    )
    pd.testing.assert_frame_equal(
        survey_completion(base, min_cell=0), survey_completion(shuffled, min_cell=0)
    )


# --------------------------------------------------------------------------- headlines

TITLE, NONE = "Most common reason for closing", "too few closures to report reasons"


def _two_youth_site() -> synth.Program:
    """One site's first two youth with a match that closed, and their matches and surveys."""
    base = synth.program(n_youth=200, seed=7)
    closed = base.matches[base.matches["end_date"].notna()]
    site = base.youth.loc[base.youth["youth_id"].isin(closed["youth_id"]), "site"].iloc[0]
    youth = base.youth[
        (base.youth["site"] == site) & base.youth["youth_id"].isin(closed["youth_id"])
    ].head(2)
    ids = set(youth["youth_id"])
    matches = base.matches[base.matches["youth_id"].isin(ids)]
    return dataclasses.replace(
        base,
        youth=youth.reset_index(drop=True),
        surveys=base.surveys[base.surveys["youth_id"].isin(ids)].reset_index(drop=True),
        matches=matches.reset_index(drop=True),
        meetings=base.meetings[base.meetings["match_id"].isin(matches["match_id"])],
    )


def _reasons(program, min_cell):
    matches = match_table(program)
    return _quiet(
        distribution, matches[matches["closed"]], "closure_reason", min_cell=min_cell
    ).sort_values("estimate", ascending=False)


def test_headline_of_a_two_youth_site_names_no_hidden_reason():
    tiny = _two_youth_site()
    assert len(tiny.youth) == 2 and match_table(tiny)["closed"].any()
    reasons = _reasons(tiny, min_cell=5)
    headline = most_common(reasons, title=TITLE, none=NONE)
    hidden = reasons.loc[reasons["suppressed"], "category"].astype(str)
    assert len(hidden) > 0
    for category in hidden:
        assert category not in headline
    assert headline == f"{TITLE}: {NONE}"
    # the key numbers of such a site print no number worked out from hidden cells
    k = _quiet(key_numbers, tiny, min_cell=5)
    assert not k["headline"].str.contains("nan", case=False).any()


def test_headline_names_the_largest_reason_when_everything_is_shown(program):
    reasons = _reasons(program, min_cell=0)
    closed = match_table(program).query("closed")["closure_reason"].value_counts()
    top = closed[closed == closed.max()].index.astype(str)
    headline = most_common(reasons, title=TITLE, none=NONE)
    assert headline == f"{TITLE}: {' and '.join(c for c in reasons['category'] if c in top)}"


def test_headline_is_withheld_when_a_hidden_cell_could_be_larger():
    table = pd.DataFrame(
        {
            "category": ["a", "b", "c"],
            "n": 30,
            "count": [8.0, np.nan, np.nan],  # b and c hold 22 together: one may exceed 8
            "suppressed": [False, True, True],
        }
    )
    assert most_common(table, title=TITLE, none=NONE) == f"{TITLE}: {NONE}"
    # hidden cells holding 8 together cannot beat the 22 shown
    bigger = table.assign(count=[22.0, np.nan, np.nan])
    assert most_common(bigger, title=TITLE, none=NONE) == f"{TITLE}: a"
    # shares: any hidden share could be the largest
    shares = table.assign(estimate=[0.9, np.nan, np.nan])
    assert most_common(shares, title=TITLE, none=NONE, value="estimate") == f"{TITLE}: {NONE}"
    # a shown zero names nothing
    zeros = table.assign(count=[0.0, 0.0, 0.0], suppressed=False, n=0)
    assert most_common(zeros, title=TITLE, none=NONE) == f"{TITLE}: {NONE}"


def test_errors_name_rows_not_ids():
    base = synth.program(n_youth=30, seed=3)
    youth = base.youth.copy()
    youth.loc[4, "youth_id"] = youth.loc[1, "youth_id"]
    with pytest.raises(DataError, match=r"rows 2, 5 by position") as err:
        youth_status(dataclasses.replace(base, youth=youth))
    assert youth.loc[1, "youth_id"] not in str(err.value)
    surveys = base.surveys.copy()
    surveys.loc[0, "youth_id"] = "Y9999"
    with pytest.raises(DataError, match=r"rows 1 by position") as err:
        survey_completion(dataclasses.replace(base, surveys=surveys))
    assert "Y9999" not in str(err.value)
    matches = base.matches.copy()
    matches.loc[0, "youth_id"] = "Y9999"
    with pytest.raises(DataError, match=r"rows 1 by position") as err:
        youth_status(dataclasses.replace(base, matches=matches))
    assert "Y9999" not in str(err.value) and matches.loc[0, "match_id"] not in str(err.value)
    youth = base.youth.copy()
    youth["enrolment_date"] = youth["enrolment_date"].astype(object)
    youth.loc[2, "enrolment_date"] = None
    with pytest.raises(DataError, match=r"rows 3 by position") as err:
        enrolment(dataclasses.replace(base, youth=youth))
    assert youth.loc[2, "youth_id"] not in str(err.value)


def test_key_numbers_add_goals_and_relationship_strength_when_the_tables_exist():
    from scipy import stats as sps

    from tim_research.views.tables import goal_scores, relationship_scores

    program = synth.program(n_youth=120, seed=4)
    k = _quiet(key_numbers, program, min_cell=5).set_index("key")

    def t_interval(x):
        x = np.asarray(x, dtype=float)
        x = x[~np.isnan(x)]
        half = sps.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
        return x.mean(), x.mean() - half, x.mean() + half, len(x)

    goals = _quiet(goal_scores, program)
    last = {}
    for row in goals.itertuples():  # each young person's latest review, by date
        if row.youth_id not in last or row.review_date >= last[row.youth_id][0]:
            last[row.youth_id] = (row.review_date, row.t_score)
    mean, lo, hi, n = t_interval([t for _, t in last.values()])
    got = k.loc["goal_attainment"]
    assert got["value"] == pytest.approx(mean)
    assert (got["ci_lower"], got["ci_upper"]) == pytest.approx((lo, hi))
    assert got["note"].startswith(f"of {n} youth")

    rel = _quiet(relationship_scores, program).reset_index()
    youth_3m = rel[(rel["reporter"] == "youth") & (rel["wave"] == "3m")]["ysor_score"]
    mean, lo, hi, n = t_interval(youth_3m)
    got = k.loc["relationship_3m"]
    assert got["value"] == pytest.approx(mean)
    assert (got["ci_lower"], got["ci_upper"]) == pytest.approx((lo, hi))

    # hidden below min_cell, absent without the tables
    small = _quiet(key_numbers, program, min_cell=n + 1).set_index("key")
    assert small.loc["relationship_3m", "result"] == "hidden"
    assert np.isnan(small.loc["relationship_3m", "value"])
    bare = type(program)(
        youth=program.youth,
        surveys=program.surveys,
        matches=program.matches,
        mentors=program.mentors,
        cutoff=program.cutoff,
    )
    keys = set(_quiet(key_numbers, bare, min_cell=5)["key"])
    assert not {"goal_attainment", "relationship_3m"} & keys
