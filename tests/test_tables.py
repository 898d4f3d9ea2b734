"""Tests of tim_research.views.tables: analysis-ready tables built from a program's linked tables.

These are data reshaping and joining functions, so expected values come from rules stated in
each test (recomputed from the source tables), not from R.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tim_research import synth
from tim_research.errors import DataError
from tim_research.program.schema import Program
from tim_research.scoring import score
from tim_research.stats.outcomes import growth_model
from tim_research.stats.survival import DAYS_PER_MONTH, match_durations
from tim_research.views.tables import (
    GrowthData,
    band,
    baseline_items,
    growth_frame,
    match_table,
    mentor_change,
    mentor_scores,
    wide_scores,
    youth_scores,
)
from tim_research.vocabulary import PLANNED_COMPLETION


@pytest.fixture(scope="module")
def program() -> Program:
    return synth.program(n_youth=120, seed=5)


@pytest.fixture(scope="module")
def scores(program) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prorated CYRM-R scores
        return youth_scores(program, ace_cutoffs="cdc_2019")


def shuffled(frame: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    return frame.sample(frac=1.0, random_state=seed)


# --------------------------------------------------------------------------------------------
# youth_scores, baseline_items, mentor_scores, match_table
# --------------------------------------------------------------------------------------------
def test_youth_scores_has_one_row_per_completed_survey(program, scores):
    done = program.surveys[program.surveys["status"] == "completed"]
    assert len(scores) == len(done)
    assert scores.index.names == ["youth_id", "wave"]
    assert list(scores.index) == list(zip(done["youth_id"], done["wave"], strict=True))
    assert {"brs_score", "cyrm_r_score", "ace10_score", "matched_months", "arm"} <= set(scores)


def test_youth_scores_carries_youth_facts_and_baseline_ace(program, scores):
    youth = program.youth.set_index("youth_id")
    ids = scores.index.get_level_values("youth_id")
    assert (scores["age"].to_numpy() == youth.loc[ids, "age"].to_numpy()).all()
    expected_arm = np.where(youth.loc[ids, "comparison"], "comparison", "mentored")
    assert (scores["arm"].astype(str).to_numpy() == expected_arm).all()
    assert list(scores["arm"].cat.categories) == ["mentored", "comparison"]
    # the baseline ACE score is the same at every wave of a youth
    assert (scores.groupby(level=0)["ace10_score"].nunique(dropna=False) == 1).all()
    base = scores.xs("baseline", level="wave")["ace10_score"]
    surveys = program.surveys.set_index(["youth_id", "wave"]).xs("baseline", level="wave")
    expected = score(surveys.loc[base.index], "ace10")["ace10_score"]
    pd.testing.assert_series_equal(base, expected, check_names=False)
    assert list(scores["ace10_score_category"].cat.categories) == ["0", "1", "2-3", "4+"]
    # empty gender is an explicit category, never a missing value
    assert scores["gender"].notna().all()


def test_matched_months_follow_match_dates(program, scores):
    """Months from match start to min(end, survey date), 0 before the start and without a match."""
    matches = program.matches.set_index("youth_id")
    dates = program.surveys.set_index(["youth_id", "wave"])["survey_date"]
    for (youth, wave), months in scores["matched_months"].items():
        if youth not in matches.index:
            assert months == 0
            continue
        start, end = matches.loc[youth, ["start_date", "end_date"]]
        stop = dates[(youth, wave)] if pd.isna(end) else min(end, dates[(youth, wave)])
        expected = max((stop - start).days, 0) / DAYS_PER_MONTH
        assert months == pytest.approx(expected)
    comparison = scores["arm"] == "comparison"
    assert (scores.loc[comparison, "matched_months"] == 0).all()
    assert (scores.xs("baseline", level="wave")["matched_months"] == 0).all()


def test_baseline_items_one_row_per_youth_with_baseline(program):
    items = baseline_items(program, "brs")
    base = program.surveys[
        (program.surveys["wave"] == "baseline") & (program.surveys["status"] == "completed")
    ].set_index("youth_id")
    assert list(items.index) == list(base.index)
    item_cols = [f"brs_{i}" for i in range(1, 7)]
    pd.testing.assert_frame_equal(items[item_cols], base[item_cols])
    assert {"site", "age", "comparison"} <= set(items)


def test_mentor_scores(program):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = mentor_scores(program)
    done = program.mentor_surveys[program.mentor_surveys["status"] == "completed"]
    assert len(m) == len(done)
    assert m.index.names == ["mentor_id", "wave"]
    assert {"training_hours", "caseload", "stss_score"} <= set(m)


def test_match_table_joins_durations_and_facts(program):
    table = match_table(program)
    matches = program.matches.set_index("match_id")
    assert list(table.index) == list(matches.index)
    durations = match_durations(matches, cutoff=program.cutoff)
    pd.testing.assert_series_equal(table["duration_months"], durations["duration_months"])
    pd.testing.assert_series_equal(table["unplanned_closure"], durations["unplanned_closure"])
    youth = program.youth.set_index("youth_id")
    mentors = program.mentors.set_index("mentor_id")
    assert (table["site"].to_numpy() == youth.loc[table["youth_id"], "site"].to_numpy()).all()
    assert np.array_equal(
        table["training_hours"].to_numpy(), mentors.loc[table["mentor_id"], "training_hours"]
    )
    planned = table["closure_reason"] == PLANNED_COMPLETION
    assert not (table["unplanned_closure"] & planned).any()
    assert (table["unplanned_closure"] | table["planned_completion"]).eq(table["closed"]).all()


def test_mentor_change_has_every_mentor_once_with_both_waves(program):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prorated scores
        change = mentor_change(program)
        long = mentor_scores(program)
    mentors = program.mentors.set_index("mentor_id")
    assert list(change.index) == list(mentors.index)
    # scores recomputed from the long table, wave by wave
    for wave in ("baseline", "12m"):
        expected = long.xs(wave, level="wave")["stss_score"].reindex(change.index)
        np.testing.assert_array_equal(change[f"stss_score_{wave}"], expected.to_numpy(float))
    steps = {"monthly": 0.0, "fortnightly": 1.0, "weekly": 2.0}
    assert change["supervision_step"].tolist() == mentors["supervision"].map(steps).tolist()
    post = program.mentor_surveys.query("wave == '12m'").set_index("mentor_id")["status"]
    assert change["status_12m"].astype(str).tolist() == post.reindex(change.index).tolist()
    both = (
        change[
            [
                "stss_score_baseline",
                "stss_score_12m",
                "proqol5_burnout_baseline",
                "proqol5_burnout_12m",
            ]
        ]
        .notna()
        .all(axis=1)
    )
    assert change["complete"].tolist() == both.tolist()
    assert not change.loc[change["status_12m"] != "completed", "complete"].any()


def test_mentor_change_counts_unplanned_closures_before_the_later_survey(program):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        change = mentor_change(program)
    matches = match_table(program)
    dates = program.mentor_surveys.query("wave == '12m' and status == 'completed'")
    survey_date = pd.to_datetime(dates.set_index("mentor_id")["survey_date"])
    for mentor, row in change.iterrows():
        own = matches[matches["mentor_id"] == mentor]
        assert row["unplanned_closures"] == int(own["unplanned_closure"].sum())
        if mentor not in survey_date.index:
            assert np.isnan(row["closures_before_12m"])
            continue
        ended = pd.to_datetime(own["end_date"]) < survey_date[mentor]
        assert row["closures_before_12m"] == int((own["unplanned_closure"] & ended).sum())
    assert change["unplanned_closures"].sum() == matches["unplanned_closure"].sum() > 0


def test_mentor_change_refuses_unknown_scores_and_waves(program):
    with pytest.raises(DataError, match="not mentor scores"):
        mentor_change(program, values=["brs_score"])
    with pytest.raises(DataError, match="not in the mentor surveys"):
        mentor_change(program, post_wave="6m")
    with pytest.raises(DataError, match="both"):
        mentor_change(program, post_wave="baseline")


def test_match_table_without_matches_raises(program):
    empty = Program(**{**program.__dict__, "matches": program.matches.iloc[:0]})
    with pytest.raises(DataError, match="no matches"):
        match_table(empty)


def test_repeated_surveys_raise(program):
    doubled = pd.concat([program.surveys, program.surveys.iloc[:1]])
    with pytest.raises(DataError, match="repeat"):
        youth_scores(Program(**{**program.__dict__, "surveys": doubled}))


# --------------------------------------------------------------------------------------------
# wide_scores
# --------------------------------------------------------------------------------------------
def test_wide_scores_round_trips_every_value(scores):
    long = shuffled(scores)
    wide = wide_scores(long, values=["brs_score", "matched_months"])
    # people in order of first appearance in the (shuffled) input
    assert list(wide.index) == list(pd.unique(long.index.get_level_values(0)))
    assert wide.index.name == "youth_id"
    for (youth, wave), value in long["brs_score"].items():
        got = wide.loc[youth, f"brs_score_{wave}"]
        assert (np.isnan(value) and np.isnan(got)) or got == value
    # a wave a person did not answer is missing, not dropped or zero
    answered = long.groupby(level=0).size()
    missing = wide[["brs_score_baseline", "brs_score_6m", "brs_score_12m"]].isna().sum(axis=1)
    assert (missing.loc[answered[answered < 3].index] > 0).all()
    assert wide["arm"].equals(long.groupby(level=0, sort=False)["arm"].first().loc[wide.index])


def test_wide_scores_wave_order_and_errors(scores):
    wide = wide_scores(scores, values="brs_score", keep=[], waves=["12m", "6m", "baseline"])
    assert list(wide.columns) == ["brs_score_12m", "brs_score_6m", "brs_score_baseline"]
    with pytest.raises(DataError, match="not in waves"):
        wide_scores(scores, values="brs_score", waves=["baseline"])
    with pytest.raises(DataError, match="differ between waves"):
        wide_scores(scores, values="brs_score", keep=["matched_months"])
    with pytest.raises(DataError, match="no column"):
        wide_scores(scores, values="pcl5_score")
    with pytest.raises(DataError, match="indexed by"):
        wide_scores(scores.reset_index(), values="brs_score")


# --------------------------------------------------------------------------------------------
# growth_frame
# --------------------------------------------------------------------------------------------
def test_growth_frame_columns_follow_the_rules(scores):
    long = shuffled(scores)
    g = growth_frame(long, outcome="brs_score")
    assert isinstance(g, GrowthData)
    f = g.frame
    assert f.index.equals(long.index)
    assert (f["youth_id"] == long.index.get_level_values(0)).all()
    assert np.allclose(f["years"], long["months"].astype(float) / 12)
    assert np.allclose(f["matched_years"], long["matched_months"] / 12)
    assert (f["mentored"] == (long["arm"] == "mentored")).all()
    band_ = long["ace10_score_category"]
    for level in ["1", "2-3", "4+"]:
        name = f"ACE {level}"
        known = band_.notna()
        assert (f.loc[known, name] == (band_[known] == level)).all()
        assert f.loc[~known, name].isna().all()  # missing band -> missing dummy, never 0
        assert np.allclose(
            f[f"matched_years x {name}"], f["matched_years"] * f[name], equal_nan=True
        )
    assert g.predictors == (
        "mentored", "matched_years", "ACE 1", "ACE 2-3", "ACE 4+",
        "matched_years x ACE 1", "matched_years x ACE 2-3", "matched_years x ACE 4+",
    )  # fmt: skip
    assert g.spec == {
        "outcome": "brs_score",
        "time": "years",
        "subject": "youth_id",
        "predictors": list(g.predictors),
    }
    fit = growth_model(g.frame, **g.spec)
    assert list(fit.fixed.index) == ["Intercept", "years", *g.predictors]
    assert fit.n_dropped == int(f[["brs_score", *g.predictors]].isna().any(axis=1).sum())


def test_growth_frame_drops_terms_the_data_cannot_support(scores):
    mentored = scores[scores["arm"] == "mentored"]
    g = growth_frame(mentored, outcome="brs_score")
    assert "mentored" not in g.predictors  # one arm: the term would be constant
    no_four = scores[scores["ace10_score_category"] != "4+"]
    g = growth_frame(no_four, outcome="brs_score")
    assert "ACE 4+" not in g.predictors and "matched_years x ACE 4+" not in g.predictors
    comparison = scores[scores["arm"] == "comparison"]
    g = growth_frame(comparison, outcome="brs_score")  # no months matched at all
    assert not [p for p in g.predictors if p.startswith("matched_years x")]
    assert growth_frame(scores, outcome="brs_score", moderator=None).predictors == (
        "mentored",
        "matched_years",
    )


def test_growth_frame_errors(scores):
    with pytest.raises(DataError, match="categorical"):
        growth_frame(scores, outcome="brs_score", moderator="ace10_score")
    with pytest.raises(DataError, match="no column"):
        growth_frame(scores, outcome="pcl5_score")
    with pytest.raises(DataError, match="indexed by"):
        growth_frame(scores.reset_index(), outcome="brs_score")


# --------------------------------------------------------------------------------------------
# band
# --------------------------------------------------------------------------------------------
def test_band_edges_labels_and_index():
    x = pd.Series([0.0, 9.99, 10.0, 19.5, 20.0, 57.5, np.nan], index=list("gfedcba"), name="h")
    b = band(x, breaks=[0, 10, 20], unit=" h")
    assert b.index.equals(x.index)
    assert b.name == "h_band"
    assert b.cat.ordered
    assert list(b.cat.categories) == ["0 to <10 h", "10 to <20 h", "20+ h"]
    assert b.astype(object).tolist()[:6] == [
        "0 to <10 h", "0 to <10 h", "10 to <20 h", "10 to <20 h", "20+ h", "20+ h",
    ]  # fmt: skip
    assert pd.isna(b.iloc[6])
    named = band(x, breaks=[0, 10, 20], labels=["low", "mid", "high"])
    assert named.astype(object).tolist()[:3] == ["low", "low", "mid"]


def test_band_with_a_zero_band():
    x = pd.Series([0.0, 0.5, 3.0, 12.0], index=[4, 2, 3, 1])
    b = band(x, breaks=[0, 3, 9], unit=" months", zero="not matched")
    assert list(b.cat.categories) == [
        "not matched", ">0 to <3 months", "3 to <9 months", "9+ months",
    ]  # fmt: skip
    assert b.astype(object).tolist() == [
        "not matched", ">0 to <3 months", "3 to <9 months", "9+ months",
    ]  # fmt: skip


def test_band_errors():
    x = pd.Series([1.0, -2.0, 5.0], index=["a", "b", "c"], name="hours")
    with pytest.raises(DataError, match=r"below the first break 0 \(-2\) at rows 'b'"):
        band(x, breaks=[0, 10])
    with pytest.raises(DataError, match="strictly increasing"):
        band(x, breaks=[10, 0])
    with pytest.raises(DataError, match="one name per break"):
        band(x.abs(), breaks=[0, 10], labels=["a"])
    with pytest.raises(DataError, match="numeric"):
        band(pd.Series(["a"]), breaks=[0])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=30),
    st.lists(st.floats(0.5, 99, allow_nan=False), min_size=0, max_size=4, unique=True),
)
def test_band_puts_every_value_between_its_edges(values, inner):
    edges = [0.0, *sorted(inner)]
    x = pd.Series(values, index=[f"r{i}" for i in range(len(values))][::-1])
    codes = band(x, breaks=edges).cat.codes.to_numpy()
    upper = [*edges[1:], np.inf]
    for v, c in zip(values, codes, strict=True):
        assert edges[c] <= v < upper[c]


def test_youth_contact_counts_meetings_in_the_window(program):
    from tim_research.views.tables import youth_contact

    c = youth_contact(program, months=12)
    assert c.index.equals(pd.Index(program.youth["youth_id"], name="youth_id"))
    comp = c["arm"] == "comparison"
    assert (c.loc[comp, "matched_months"] == 0).all() and c.loc[comp, "mentor_id"].isna().all()
    # one youth's meetings counted directly from the tables
    m = program.matches.iloc[0]
    enrol = program.youth.set_index("youth_id").loc[m["youth_id"], "enrolment_date"]
    stop = min(enrol + pd.DateOffset(months=12), program.cutoff)
    meets = program.meetings[program.meetings["match_id"] == m["match_id"]]
    inside = meets[(meets["date"] >= enrol) & (meets["date"] < stop)]
    assert c.loc[m["youth_id"], "meetings"] == len(inside)
    if len(inside):
        share = (inside["mode"] == "in person").mean()
        assert c.loc[m["youth_id"], "share_in_person"] == pytest.approx(share)
    assert set(c["early_closure"].unique()) <= {0.0, 1.0}
    assert (c["matched_months"] <= 12.0 + 1e-9).all()
