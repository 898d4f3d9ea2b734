"""Tests of tim_research.synth: determinism, schema, ACE reference, recovery of planted effects."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tim_research import synth
from tim_research.errors import DataError
from tim_research.privacy import find_identifiers
from tim_research.program import read_program, validate_program, write_program
from tim_research.program.schema import TABLES, item_columns, table_schemas
from tim_research.vocabulary import PLANNED_COMPLETION

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"

# Recovery cohort: large enough for tight CIs, small enough for a fast suite. Each planted effect
# must lie inside its confidence interval. There are about a dozen such checks, so the intervals
# are Bonferroni-adjusted to keep the chance of any false alarm near 5% for an unbiased generator
# and estimator (with plain 95% intervals about 4 seeds in 10 would miss one by chance); a biased
# one still fails, since the intervals stay narrow at this size.
COHORT_N = 20_000
COHORT_SEED = 0
N_RECOVERY_CHECKS = 12
FAMILY_ALPHA = 0.05 / N_RECOVERY_CHECKS


@pytest.fixture(scope="module")
def cohort() -> synth.Program:
    return synth.program(n_youth=COHORT_N, seed=COHORT_SEED)


# ----------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_tables():
    a = synth.program(n_youth=150, seed=7)
    b = synth.program(n_youth=150, seed=7)
    for name in TABLES:
        pd.testing.assert_frame_equal(a.tables()[name], b.tables()[name], check_exact=True)
    c = synth.program(n_youth=150, seed=8)
    assert not a.surveys.equals(c.surveys)


def test_same_seed_gives_identical_bytes(tmp_path):
    one = synth.write_sample(tmp_path / "one", seed=3, n_youth=120)
    two = synth.write_sample(tmp_path / "two", seed=3, n_youth=120)
    assert [p.name for p in one] == [p.name for p in two]
    for a, b in zip(one, two, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = synth.write_sample(tmp_path / "three", seed=4, n_youth=120)
    assert other[0].read_bytes() != one[0].read_bytes()


def test_committed_sample_equals_fresh_generation(tmp_path):
    files = synth.write_sample(tmp_path)
    committed = sorted(p.name for p in SAMPLE.iterdir() if p.is_file())
    assert committed == sorted(p.name for p in files)
    for p in files:
        assert (SAMPLE / p.name).read_bytes() == p.read_bytes(), (
            f"data/sample/{p.name} is stale: regenerate with synth.write_sample('data/sample')"
        )


def test_committed_package_schemas_equal_table_schemas():
    package = json.loads((SAMPLE / "datapackage.json").read_text(encoding="utf-8"))
    committed = {r["name"]: r["schema"] for r in package["resources"]}
    sites = next(f for f in committed["youth"]["fields"] if f["name"] == "site")
    assert committed == table_schemas(sites=sites["constraints"]["enum"])


# ----------------------------------------------------------------------------- schema and links


def test_program_satisfies_its_schema_and_round_trips(tmp_path):
    prog = synth.program(n_youth=250, seed=5, sites=("Harbour", "Hill", "Valley"))
    write_program(prog, tmp_path)
    report = validate_program(tmp_path)
    assert report.ok, report.format()
    back = read_program(tmp_path)
    for name in TABLES:
        pd.testing.assert_frame_equal(back.tables()[name], prog.tables()[name], check_exact=True)
    assert back.cutoff == prog.cutoff


def test_dtypes_follow_the_schema():
    prog = synth.program(n_youth=80, seed=1)
    schemas = table_schemas(sites=prog.sites)
    for name, df in prog.tables().items():
        assert list(df.columns) == [f["name"] for f in schemas[name]["fields"]]
        assert isinstance(df.index, pd.RangeIndex)
    assert isinstance(prog.youth["site"].dtype, pd.CategoricalDtype)
    assert prog.youth["site"].cat.categories.tolist() == ["North", "South", "East", "West"]
    assert prog.youth["enrolment_date"].dtype == "datetime64[us]"
    assert prog.surveys["brs_1"].dtype == "Int64"
    assert prog.surveys["wave"].cat.ordered


def test_tables_are_linked_and_consistent():
    prog = synth.program(n_youth=400, seed=2)
    y, m, x, g = prog.youth, prog.mentors, prog.matches, prog.meetings
    assert y["youth_id"].str.fullmatch(r"Y\d{4}").all()
    assert m["mentor_id"].str.fullmatch(r"M\d{3}").all()
    assert x["match_id"].str.fullmatch(r"X\d{4}").all()
    assert x["youth_id"].isin(y["youth_id"]).all() and x["mentor_id"].isin(m["mentor_id"]).all()
    comparison = set(y.loc[y["comparison"], "youth_id"])
    assert not comparison & set(x["youth_id"])
    assert set(y.loc[~y["comparison"], "youth_id"]) == set(x["youth_id"])
    assert set(y.loc[y["comparison"], "site"]) <= {"North", "South"}
    counts = x["mentor_id"].value_counts().reindex(m["mentor_id"]).to_numpy()
    assert (m["caseload"].to_numpy() == counts).all()
    closed = x["end_date"].notna()
    assert (x.loc[closed, "end_date"] >= x.loc[closed, "start_date"]).all()
    assert (x["closure_reason"].notna() == closed).all()
    assert (x[["start_date", "end_date"]].max(axis=1) <= prog.cutoff).all()
    span = g.merge(x, on="match_id")
    last = span["end_date"].fillna(prog.cutoff)
    assert ((span["date"] >= span["start_date"]) & (span["date"] <= last)).all()
    # surveys: one row per youth per wave; only completed surveys have answers and a date
    s = prog.surveys
    assert len(s) == 3 * len(y) and not s.duplicated(["youth_id", "wave"]).any()
    done = s["status"] == "completed"
    assert (s["survey_date"].notna() == done).all()
    items = item_columns("brs") + item_columns("cyrm_r") + item_columns("ace10")
    assert s.loc[~done, items].isna().all().all()
    assert s.loc[s["wave"] != "baseline", item_columns("ace10")].isna().all().all()
    assert (s.loc[s["wave"] == "baseline", "status"] == "completed").all()


def test_no_identifier_or_free_text_columns():
    prog = synth.program(n_youth=50, seed=0)
    for name, df in prog.tables().items():
        assert find_identifiers(df).empty, name
        text = [c for c in df.columns if df[c].dtype == "str"]
        assert all(c.endswith("_id") for c in text), (name, text)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=1, max_value=60),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    n_sites=st.integers(min_value=1, max_value=5),
)
def test_small_programs_keep_the_invariants(n, seed, n_sites):
    sites = [f"S{i}" for i in range(n_sites)]
    prog = synth.program(n_youth=n, seed=seed, sites=sites)
    assert len(prog.youth) == n and len(prog.surveys) == 3 * n
    x = prog.matches
    assert len(x) + int(prog.youth["comparison"].sum()) == n
    assert (x["end_date"].isna() | (x["end_date"] >= x["start_date"])).all()
    g = prog.meetings.merge(x, on="match_id")
    assert (g["date"] >= g["start_date"]).all()
    assert (g["date"] <= g["end_date"].fillna(prog.cutoff)).all()
    assert prog.mentors["caseload"].sum() == len(x)


def test_argument_errors_are_clear():
    with pytest.raises(DataError, match="n_youth"):
        synth.program(n_youth=0)
    with pytest.raises(DataError, match="unique"):
        synth.program(sites=("A", "A"))
    with pytest.raises(DataError, match="not in sites"):
        synth.program(sites=("A", "B"), comparison_sites=("C",))
    with pytest.raises(DataError, match="seed"):
        synth.program(seed=-1)
    with pytest.raises(DataError, match="cutoff"):
        synth.program(cutoff="not a date")
    with pytest.raises(DataError, match="effects"):
        synth.program(effects={"brs_d": 0.2})
    with pytest.raises(DataError, match="ace_prevalence"):
        synth.program(ace_prevalence={"ace10_1": 0.2})
    with pytest.raises(DataError, match="hazard ratio"):
        synth.Effects(training_hr_per_10h=0)
    with pytest.raises(DataError, match="correlation"):
        synth.Effects(sts_burnout_r=1.0)
    with pytest.raises(DataError, match="number"):
        synth.Effects(brs_d="0.2")


# ----------------------------------------------------------------------------- ACE reference


def _ace_distribution(items: pd.DataFrame) -> dict[str, float]:
    score = items.sum(axis=1).to_numpy()
    share = {str(k): float(np.mean(score == k)) for k in range(4)}
    share["4+"] = float(np.mean(score >= 4))
    return share


def test_ace_score_distribution_matches_cdc_reference():
    """Large cohort within 2 percentage points of the CDC-Kaiser table (synth.CDC_ACE_SOURCE)."""
    items = synth.ace_items(50_000, seed=0)
    got = _ace_distribution(items)
    for category, expected in synth.CDC_ACE_SCORE_DISTRIBUTION.items():
        assert abs(got[category] - expected) < 0.02, (category, got[category], expected)
    prevalence = items.mean()
    for item, expected in synth.CDC_ACE_PREVALENCE.items():
        assert abs(prevalence[item] - expected) < 0.01, (item, prevalence[item], expected)


def test_ace_items_correlate_positively():
    corr = synth.ace_items(20_000, seed=1).astype(float).corr().to_numpy()
    off = corr[~np.eye(10, dtype=bool)]
    assert off.min() > 0.05


def test_ace_odds_ratio_raises_every_prevalence():
    items = synth.ace_items(50_000, seed=2, odds_ratio=2.0)
    for item, p in synth.CDC_ACE_PREVALENCE.items():
        expected = 2 * p / (1 - p + 2 * p)
        assert abs(items[item].mean() - expected) < 0.01, item
    assert _ace_distribution(items)["0"] < synth.CDC_ACE_SCORE_DISTRIBUTION["0"] - 0.05


def test_program_ace_items_follow_the_reference(cohort):
    base = cohort.surveys[cohort.surveys["wave"] == "baseline"]
    prevalence = base[item_columns("ace10")].astype(float).mean()
    for item, expected in synth.CDC_ACE_PREVALENCE.items():
        assert abs(prevalence[item] - expected) < 0.015, item


# ----------------------------------------------------------------------------- measurement


def _alpha(items: pd.DataFrame) -> float:
    x = items.dropna().astype(float).to_numpy()
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def _reversed(df: pd.DataFrame, columns: list[str], reverse: list[str]) -> pd.DataFrame:
    out = df[columns].astype(float)
    out[reverse] = 6 - out[reverse]
    return out


PROQOL_BO = [1, 4, 8, 10, 15, 17, 19, 21, 26, 29]
PROQOL_BO_REVERSED = [1, 4, 15, 17, 29]


def _burnout(df: pd.DataFrame) -> pd.DataFrame:
    cols = [f"proqol5_{i}" for i in PROQOL_BO]
    return _reversed(df, cols, [f"proqol5_{i}" for i in PROQOL_BO_REVERSED])


def test_scales_have_realistic_reliability_and_keying(cohort):
    s = cohort.surveys[cohort.surveys["wave"] == "baseline"]
    brs = _reversed(s, item_columns("brs"), ["brs_2", "brs_4", "brs_6"])
    ms = cohort.mentor_surveys[cohort.mentor_surveys["wave"] == "baseline"]
    alphas = {
        "brs": _alpha(brs),
        "cyrm_r": _alpha(s[item_columns("cyrm_r")]),
        "stss": _alpha(ms[item_columns("stss")]),
        "proqol5_burnout": _alpha(_burnout(ms)),
        "proqol5_cs": _alpha(ms[[f"proqol5_{i}" for i in (3, 6, 12, 16, 18, 20, 22, 24, 27, 30)]]),
    }
    for name, a in alphas.items():
        assert 0.75 <= a <= 0.95, (name, a)
    raw = s[item_columns("brs")].astype(float).corr()
    assert raw.loc["brs_1", "brs_2"] < -0.2 and raw.loc["brs_1", "brs_3"] > 0.2
    raw = ms[["proqol5_1", "proqol5_8"]].astype(float).corr()
    assert raw.loc["proqol5_1", "proqol5_8"] < -0.1


def test_reference_sd_is_close_to_baseline_sd(cohort):
    s = cohort.surveys[cohort.surveys["wave"] == "baseline"]
    brs = _reversed(s, item_columns("brs"), ["brs_2", "brs_4", "brs_6"]).mean(axis=1)
    cyrm = s[item_columns("cyrm_r")].astype(float).mean(axis=1)
    stss = cohort.mentor_surveys.loc[
        cohort.mentor_surveys["wave"] == "baseline", item_columns("stss")
    ]
    got = {"brs": brs.std(), "cyrm_r": cyrm.std(), "stss": stss.astype(float).mean(axis=1).std()}
    for name, sd in got.items():
        assert abs(sd - synth.REFERENCE_SD[name]) < 0.05, (name, sd)


# ----------------------------------------------------------------------------- planted effects


def _youth_change(prog: synth.Program) -> pd.DataFrame:
    """Change from baseline to 12 months with months matched ("dose") and early closure."""
    s = prog.surveys
    brs = _reversed(s, item_columns("brs"), ["brs_2", "brs_4", "brs_6"]).mean(axis=1)
    cyrm = s[item_columns("cyrm_r")].astype(float).mean(axis=1) * 17
    frame = pd.DataFrame(
        {
            "youth_id": s["youth_id"],
            "wave": s["wave"],
            "brs": brs,
            "cyrm": cyrm,
            "date": s["survey_date"],
        }
    )
    base = frame[frame["wave"] == "baseline"].set_index("youth_id")
    late = frame[frame["wave"] == "12m"].set_index("youth_id")
    ace = s.loc[s["wave"] == "baseline"].set_index("youth_id")[item_columns("ace10")]
    d = pd.DataFrame(
        {
            "brs": late["brs"] - base["brs"],
            "cyrm": late["cyrm"] - base["cyrm"],
            "date": late["date"],
            "ace": ace.astype(float).sum(axis=1, skipna=False),
        }
    )
    x = prog.matches.set_index("youth_id")
    d = d.join(x[["start_date", "end_date", "closure_reason"]])
    end = d["end_date"].fillna(prog.cutoff)
    days = (np.minimum(end, d["date"]) - d["start_date"]).dt.days.clip(lower=0)
    d["dose"] = (days / synth.DAYS_PER_MONTH / 12).fillna(0.0)
    unplanned = d["closure_reason"].notna() & (d["closure_reason"] != PLANNED_COMPLETION)
    short = (d["end_date"] - d["start_date"]).dt.days < 3 * synth.DAYS_PER_MONTH
    d["early"] = (unplanned & short & (d["end_date"] < d["date"])).astype(float)
    d["dose_ace"] = d["dose"] * (d["ace"] - synth.ACE_CENTRE)
    return d


def _ols(y: pd.Series, x: pd.DataFrame):
    import statsmodels.api as sm

    keep = y.notna() & x.notna().all(axis=1)
    return sm.OLS(y[keep].astype(float), sm.add_constant(x[keep].astype(float))).fit()


def _inside(value: float, ci: pd.Series | np.ndarray) -> bool:
    lo, hi = float(ci[0]), float(ci[1])
    return lo <= value <= hi


@pytest.mark.parametrize(
    ("outcome", "effect", "units"), [("brs", "brs_d", 1), ("cyrm", "cyrm_r_d", 17)]
)
def test_resilience_effects_are_recovered(cohort, outcome, effect, units):
    eff = cohort.effects
    sd = synth.REFERENCE_SD["brs" if outcome == "brs" else "cyrm_r"] * units
    d = _youth_change(cohort)
    fit = _ols(d[outcome], d[["dose", "dose_ace", "early"]])
    ci = fit.conf_int(FAMILY_ALPHA)
    truth = {
        "dose": getattr(eff, effect) * sd,
        "dose_ace": eff.ace_moderation_d * sd,
        "early": eff.early_closure_d * sd,
    }
    for term, value in truth.items():
        assert _inside(value, ci.loc[term]), (term, value, ci.loc[term].tolist())
    # the design has power: the main effect's CI excludes zero
    assert ci.loc["dose", 0] > 0


def test_no_planted_effect_gives_a_ci_around_zero():
    prog = synth.program(
        n_youth=8_000, seed=1, effects=synth.Effects(brs_d=0, ace_moderation_d=0, early_closure_d=0)
    )
    d = _youth_change(prog)
    ci = _ols(d["brs"], d[["dose", "dose_ace", "early"]]).conf_int(FAMILY_ALPHA)
    assert _inside(0.0, ci.loc["dose"]) and _inside(0.0, ci.loc["dose_ace"])


def test_closure_hazard_ratios_are_recovered(cohort):
    from statsmodels.duration.hazard_regression import PHReg

    eff = cohort.effects
    x = cohort.matches.merge(cohort.mentors[["mentor_id", "training_hours"]], on="mentor_id")
    x = x.merge(cohort.youth[["youth_id", "age"]], on="youth_id")
    ace = _youth_change(cohort)["ace"].rename("ace")
    x = x.merge(ace, left_on="youth_id", right_index=True).dropna(subset=["ace"])
    end = x["end_date"].fillna(cohort.cutoff)
    time = (end - x["start_date"]).dt.days.to_numpy(float)
    event = x["closure_reason"].notna() & (x["closure_reason"] != PLANNED_COMPLETION)
    covariates = pd.DataFrame(
        {"training_10h": x["training_hours"] / 10, "ace": x["ace"], "age": x["age"].astype(float)}
    )
    fit = PHReg(time, covariates.to_numpy(float), status=event.to_numpy(int), ties="efron").fit()
    ci = np.exp(fit.conf_int(FAMILY_ALPHA))
    for i, truth in enumerate([eff.training_hr_per_10h, eff.ace_closure_hr, eff.age_closure_hr]):
        assert _inside(truth, ci[i]), (covariates.columns[i], truth, ci[i])
    assert ci[0][1] < 1  # training lowers the hazard, detectably


def test_dropout_after_early_closure_is_recovered(cohort):
    import statsmodels.api as sm

    s = cohort.surveys
    six = s[s["wave"] == "6m"].set_index("youth_id")
    y = cohort.youth.set_index("youth_id").join(cohort.matches.set_index("youth_id"))
    nominal = y["enrolment_date"] + pd.to_timedelta(round(6 * synth.DAYS_PER_MONTH), unit="D")
    unplanned = y["closure_reason"].notna() & (y["closure_reason"] != PLANNED_COMPLETION)
    closed = (unplanned & (y["end_date"] < nominal)).astype(float)
    lost = (six["status"] == "lost to follow-up").astype(float).reindex(y.index)
    fit = sm.Logit(lost, sm.add_constant(closed.rename("closed"))).fit(disp=0)
    ci = np.exp(fit.conf_int(FAMILY_ALPHA).loc["closed"])
    assert _inside(cohort.effects.dropout_or_after_closure, ci), ci.tolist()


def test_sts_burnout_correlation_is_recovered(cohort):
    """Correlation of observed totals, corrected for attenuation with alpha (tau-equivalent
    items make alpha the reliability); Fisher-z 95% CI of the observed r, corrected alike."""
    ms = cohort.mentor_surveys[cohort.mentor_surveys["wave"] == "baseline"]
    sts = ms[item_columns("stss")].astype(float)
    bo = _burnout(ms)
    ok = sts.notna().all(axis=1) & bo.notna().all(axis=1)
    r = np.corrcoef(sts[ok].sum(axis=1), bo[ok].sum(axis=1))[0, 1]
    attenuation = math.sqrt(_alpha(sts[ok]) * _alpha(bo[ok]))
    half = 1.959964 / math.sqrt(int(ok.sum()) - 3)
    ci = [
        math.tanh(math.atanh(r) - half) / attenuation,
        math.tanh(math.atanh(r) + half) / attenuation,
    ]
    assert _inside(cohort.effects.sts_burnout_r, ci), (r / attenuation, ci)


def test_caseload_and_supervision_effects_on_sts_are_recovered(cohort):
    ms = cohort.mentor_surveys
    total = ms[item_columns("stss")].astype(float).sum(axis=1, skipna=False)
    wide = pd.DataFrame({"mentor_id": ms["mentor_id"], "wave": ms["wave"], "total": total})
    wide = wide.pivot(index="mentor_id", columns="wave", values="total")
    m = cohort.mentors.set_index("mentor_id")
    x = pd.DataFrame(
        {"caseload": m["caseload"].astype(float) - 1, "supervision": m["supervision"].cat.codes}
    )
    fit = _ols(wide["12m"] - wide["baseline"], x)
    ci = fit.conf_int(FAMILY_ALPHA)
    unit = synth.REFERENCE_SD["stss"] * 17
    assert _inside(cohort.effects.caseload_sts_d * unit, ci.loc["caseload"]), ci.loc["caseload"]
    assert _inside(cohort.effects.supervision_sts_d * unit, ci.loc["supervision"]), ci.loc[
        "supervision"
    ]


def test_effects_frame_lists_every_effect():
    frame = synth.Effects().to_frame()
    assert frame.index.tolist() == list(synth.Effects.__dataclass_fields__)
    assert "<table" in synth.Effects()._repr_html_()
