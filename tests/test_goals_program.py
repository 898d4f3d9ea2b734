"""Goals, relationship surveys and PCE surveys in the synthetic program and the data contract.

The planted effects (Effects.relationship_closure_hr, pce_ace_moderation_d, goal_t_per_12m)
are recovered by the analyses of notebook 08 on large programs; the added tables leave the
existing tables unchanged; a package without them stays valid; the reporter rule and the
site selection cover them.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from tim_research import synth
from tim_research.program import (
    GOAL_REVIEWS,
    RELATIONSHIP_WAVES,
    Effects,
    Program,
    read_program,
    validate_program,
    write_program,
)
from tim_research.stats.associations import linear_regression
from tim_research.stats.goals import gas_tscores
from tim_research.stats.survival import cox
from tim_research.views.notebook import select_site
from tim_research.views.tables import (
    goal_scores,
    match_table,
    pce_scores,
    relationship_scores,
    youth_scores,
)

NEW = ("goals", "relationship_surveys", "pce_surveys")


@pytest.fixture(scope="module")
def big():
    return synth.program(n_youth=6000, seed=21)


def test_added_tables_leave_the_existing_tables_unchanged():
    # the committed sample was generated before the tables were added: same bytes
    fresh = synth.program(n_youth=600, seed=0)
    committed = read_program(REPO / "data" / "sample")
    for name in ("youth", "surveys", "mentors", "mentor_surveys", "matches", "meetings"):
        pd.testing.assert_frame_equal(fresh.tables()[name], committed.tables()[name])
    assert set(NEW) <= set(committed.available)


def test_goal_attainment_rises_as_planted(big):
    goals = goal_scores(big)
    latest = goals.sort_values("review_date").groupby("youth_id").tail(1)
    fit = linear_regression(latest, "t_score ~ I(matched_months / 12)")
    row = fit.coefficients.loc["matched_months / 12"]
    assert row["ci_lower"] <= big.effects.goal_t_per_12m <= row["ci_upper"]
    # T is 50 at 12 months matched by construction (Effects docs): the intercept is 50 - slope
    assert fit.coefficients.loc["Intercept", "estimate"] == pytest.approx(
        50 - big.effects.goal_t_per_12m, abs=1.0
    )


def test_no_goal_effect_gives_a_flat_line():
    p = synth.program(n_youth=4000, seed=22, effects=Effects(goal_t_per_12m=0.0))
    latest = goal_scores(p).sort_values("review_date").groupby("youth_id").tail(1)
    row = linear_regression(latest, "t_score ~ I(matched_months / 12)").coefficients.loc[
        "matched_months / 12"
    ]
    assert row["ci_lower"] <= 0 <= row["ci_upper"]


def _landmark_hr(p):
    rel = relationship_scores(p)
    y3 = rel.xs(("youth", "3m"), level=("reporter", "wave"))["ysor_score"]
    m = match_table(p).join(y3.rename("ysor3"))
    lm = m[(m["duration_months"] > 3) & m["ysor3"].notna()].copy()
    lm["t"] = lm["duration_months"] - 3
    h = cox(
        lm,
        duration="t",
        event="unplanned_closure",
        covariates=["ysor3", "training_hours", "age", "ace10_score"],
        missing="drop",
    )
    return h.loc["ysor3"]


def test_early_relationship_quality_lowers_the_hazard_of_early_closure(big):
    row = _landmark_hr(big)
    planted = big.effects.relationship_closure_hr
    # the effect is planted through each match's latent closure draw (synth docs), which
    # holds the hazard ratio only approximately; measurement error adds a little attenuation
    assert row["ci_upper"] < 1
    assert math.log(row["hr"]) == pytest.approx(math.log(planted), rel=0.3)


def test_no_relationship_effect_gives_no_association():
    p = synth.program(n_youth=4000, seed=23, effects=Effects(relationship_closure_hr=1.0))
    row = _landmark_hr(p)
    assert row["ci_lower"] <= 1 <= row["ci_upper"]


def test_pces_soften_the_ace_resilience_association(big):
    pce = pce_scores(big)
    base = youth_scores(big).xs("baseline", level="wave")[["brs_score"]].join(pce)
    fit = linear_regression(base, "brs_score ~ ace10_score * pce_score")
    row = fit.coefficients.loc["ace10_score:pce_score"]
    planted = big.effects.pce_ace_moderation_d * synth.REFERENCE_SD["brs"]
    assert row["ci_lower"] > 0
    assert row["estimate"] == pytest.approx(planted, rel=0.3)


def test_relationship_surveys_follow_the_contract():
    p = synth.program(n_youth=300, seed=4)
    rel = p.relationship_surveys
    assert set(rel["wave"].astype(str)) <= set(RELATIONSHIP_WAVES)
    youth = rel["reporter"] == "youth"
    msor = [c for c in rel.columns if c.startswith("msor_")]
    ysor = [c for c in rel.columns if c.startswith("ysor_")]
    assert rel.loc[youth, msor].isna().all().all()
    assert rel.loc[~youth, ysor].isna().all().all()
    done = rel["status"] == "completed"
    assert rel.loc[~done, [*msor, *ysor]].isna().all().all()
    # a survey exists only while the match is open
    m = p.matches.set_index("match_id")
    when = rel.loc[done, ["match_id", "survey_date"]].join(m["end_date"], on="match_id")
    assert (when["end_date"].isna() | (when["survey_date"] < when["end_date"])).all()


def test_goals_follow_the_contract():
    p = synth.program(n_youth=300, seed=4)
    g = p.goals
    assert set(g["review"].astype(str)) <= set(GOAL_REVIEWS)
    assert (g["review_date"] >= g["set_date"]).all()
    assert (g["review_date"] <= p.cutoff).all()
    assert g.groupby("goal_id")["youth_id"].nunique().eq(1).all()
    # gas_tscores by hand for one youth and review: three equal-weight goals, rho 0.3
    one = g[g["youth_id"] == g["youth_id"].iloc[0]]
    one = one[one["review_date"] == one["review_date"].iloc[0]]
    x = one["attained"].astype(float).to_numpy()
    expected = 50 + 10 * x.sum() / math.sqrt(0.7 * len(x) + 0.3 * len(x) ** 2)
    got = gas_tscores(one, review="review_date")["t_score"].iloc[0]
    assert got == pytest.approx(expected)


def test_a_package_without_the_added_tables_is_valid(tmp_path):
    full = synth.program(n_youth=60, seed=5)
    old = Program(**{t: df for t, df in full.tables().items() if t not in NEW}, cutoff=full.cutoff)
    write_program(old, tmp_path)
    assert validate_program(tmp_path).ok
    back = read_program(tmp_path)
    assert all(getattr(back, t) is None for t in NEW)


def test_a_youth_report_with_mentor_answers_is_a_problem(tmp_path):
    synth.write_sample(tmp_path, n_youth=60, seed=6)
    path = tmp_path / "relationship_surveys.csv"
    rel = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = np.flatnonzero(
        (rel["reporter"] == "youth").to_numpy() & (rel["status"] == "completed").to_numpy()
    )[0]
    rel.loc[row, "msor_1"] = "3"
    rel.to_csv(path, index=False)
    problems = validate_program(tmp_path).problems
    hit = problems[problems["check"] == "reporter_items"]
    assert len(hit) == 1 and hit["line"].iloc[0] == row + 2
    assert "msor_1" in hit["message"].iloc[0]


def test_goals_after_the_cutoff_are_a_problem(tmp_path):
    synth.write_sample(tmp_path, n_youth=60, seed=6)
    meta = json.loads((tmp_path / "datapackage.json").read_text())
    cutoff = meta["tim_research"]["cutoff_date"]
    path = tmp_path / "goals.csv"
    g = pd.read_csv(path, dtype=str, keep_default_na=False)
    g.loc[0, "review_date"] = str(pd.Timestamp(cutoff) + pd.Timedelta(days=3))[:10]
    g.to_csv(path, index=False)
    problems = validate_program(tmp_path).problems
    assert ((problems["table"] == "goals") & (problems["check"] == "after_cutoff")).any()


def test_select_site_keeps_the_added_tables_of_that_site():
    p = synth.program(n_youth=200, seed=7)
    north = select_site(p, "North")
    ids = set(north.youth["youth_id"])
    assert set(north.goals["youth_id"]) <= ids
    assert set(north.pce_surveys["youth_id"]) == ids
    assert set(north.relationship_surveys["match_id"]) <= set(north.matches["match_id"])
    assert len(north.goals) < len(p.goals)


def test_msor_is_scored_as_a_total_only():
    r = relationship_scores(synth.program(n_youth=100, seed=8))
    assert "msor_score" in r and not any(c.startswith("msor_affective") for c in r.columns)


def test_latest_keeps_each_young_persons_last_review_even_when_unrated():
    p = synth.program(n_youth=80, seed=5)
    every = goal_scores(p)
    now = goal_scores(p, latest=True)
    # independent: the row with the largest review date of each young person
    last = every.loc[every.groupby("youth_id")["review_date"].idxmax()]
    pd.testing.assert_frame_equal(
        now.set_index("youth_id").sort_index(),
        last.set_index("youth_id").sort_index(),
    )
    # no goal rated at one young person's latest review: that review stays, without a score
    import dataclasses

    who, when = last.iloc[0]["youth_id"], last.iloc[0]["review_date"]
    goals = p.goals.copy()
    at = (goals["youth_id"] == who) & (goals["review_date"] == when)
    goals.loc[at, "attained"] = pd.NA
    unrated = goal_scores(dataclasses.replace(p, goals=goals), latest=True).set_index("youth_id")
    assert unrated.loc[who, "review_date"] == when
    assert np.isnan(unrated.loc[who, "t_score"])
