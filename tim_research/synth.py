"""Synthetic mentoring programs with known (planted) effects.

:func:`program` simulates the six linked tables of a trauma-informed youth mentoring program (see
:mod:`tim_research.program.schema`): youth, their surveys at baseline, 6 and 12 months, mentors and
their surveys, matches and meetings. Nobody in the data is real: ids are pseudonymous, there are no
names and no free text. The effects in :class:`Effects` are planted with published-scale defaults
and can be recovered by the analyses a program evaluator would run.

How the data are generated
--------------------------
- **ACE items** follow the category prevalences of the CDC-Kaiser ACE Study
  (:data:`CDC_ACE_PREVALENCE`). Items are tied together by a discrete latent severity factor
  (three located latent classes; within a class the items are independent, the log-odds of
  every item shifted by the class's location). The class weights and locations were fitted so
  that the ACE score distribution matches :data:`CDC_ACE_SCORE_DISTRIBUTION`; each item's
  intercept is solved so that its marginal prevalence is exactly the reference one, for any
  prevalences a caller passes.
- **Rating-scale items** (BRS, CYRM-R, ProQOL 5, STSS) come from a true score per person and
  occasion on the item metric (1-5). Each item's expected response equals the true score plus
  a small item offset (items are essentially tau-equivalent), drawn from a discrete
  distribution on 1-5 with exactly that mean (stochastic rounding mixed with a binomial). So
  effects planted on true scores are recovered without bias by linear models of the observed
  scale scores, and Cronbach's alpha is the reliability. Reverse-keyed items are stored raw
  (6 - x), so they correlate negatively with the other items.
- **Match closure** is a Weibull proportional-hazards model of unplanned closure (mentor
  training, ACE score and age as covariates) competing with planned completion; open matches
  are censored at the data cut-off.
- **Relationship quality** (youth: YSoR and the Youth-Centered Relationship scale; mentor:
  MSoR) is surveyed 3 and 12 months into each match while it is open. The effect of the
  3-month youth report on unplanned closure (:attr:`Effects.relationship_closure_hr`) is
  planted without changing the matches: each match's unplanned closure time comes from a
  unit-exponential draw ``e`` (its latent closure risk, ``H0(T) exp(lin) = e``), and the true
  3-month YSoR score ``r`` is drawn from its distribution given ``e`` under the model
  ``h(t | r) = h0(t) exp(lin + log(HR) r)`` with ``r`` normal a priori (a grid posterior). As
  ``e`` keeps its unit-exponential law (the model's is a narrow mixture of exponentials), the
  hazard ratio holds approximately; tests check its recovery on large programs, and
  ``benchmarks/calibration.py`` gives the value the notebook's estimator converges to and the
  coverage of its intervals.
- **Positive childhood experiences** (PCE count 0-7, at enrolment) are drawn given the
  youth's ACE score and latent baseline resilience (the same posterior device, from a
  binomial prior), so that the baseline BRS has a PCE x ACE interaction of
  :attr:`Effects.pce_ace_moderation_d` while the surveys table stays as it was.
- **Goals**: three goals per match, set in its first month and reviewed 6 and 12 months
  later (or at closure, when the match closes first). Attained levels (-2..+2) are
  stochastically rounded from a mean that rises linearly with months matched, so the expected
  GAS T-score (equal weights, rho 0.3) rises by :attr:`Effects.goal_t_per_12m` per 12 months.

Examples
--------
>>> from tim_research import synth
>>> p = synth.program(n_youth=60, seed=1)
>>> sorted(p.tables())  # doctest: +NORMALIZE_WHITESPACE
['goals', 'matches', 'meetings', 'mentor_surveys', 'mentors', 'pce_surveys',
 'relationship_surveys', 'surveys', 'youth']
>>> p.youth["youth_id"].iloc[0], len(p.surveys) == 3 * len(p.youth)
('Y0001', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tim_research.errors import DataError
from tim_research.program import write_program
from tim_research.program.effects import Effects
from tim_research.program.schema import (
    CLOSURE_REASONS,
    GENDERS_ADULT,
    GENDERS_YOUTH,
    GOAL_DOMAINS,
    GOAL_REVIEWS,
    MEETING_MODES,
    MENTOR_WAVES,
    RACE_ETHNICITY,
    REFERRAL_SOURCES,
    RELATIONSHIP_WAVE_MONTHS,
    RELATIONSHIP_WAVES,
    REPORTERS,
    REQUIRED_TABLES,
    SUPERVISION,
    TABLES,
    WAVE_MONTHS,
    WAVES,
    Program,
    field_dtype,
    item_columns,
    table_schemas,
)

__all__ = [
    "ACE_CENTRE",
    "CDC_ACE_PREVALENCE",
    "CDC_ACE_SCORE_DISTRIBUTION",
    "CDC_ACE_SOURCE",
    "DAYS_PER_MONTH",
    "REFERENCE_SD",
    "Effects",
    "Program",
    "ace_items",
    "program",
    "write_sample",
]

CDC_ACE_SOURCE = (
    "CDC, About the CDC-Kaiser ACE Study, 'Data and Statistics': prevalence of each ACE "
    "category and of the ACE score in the full study sample (n = 17,337; Kaiser Permanente "
    "San Diego, waves 1995-1997; neglect asked in wave 2 only, n = 8,667). Study: Felitti VJ, "
    "Anda RF, Nordenberg D, et al. Am J Prev Med 1998;14(4):245-258. "
    "doi:10.1016/S0749-3797(98)00017-8."
)
"""Citation of the ACE reference figures below."""

CDC_ACE_PREVALENCE: Mapping[str, float] = {
    "ace10_1": 0.106,  # emotional abuse
    "ace10_2": 0.283,  # physical abuse
    "ace10_3": 0.207,  # sexual abuse
    "ace10_4": 0.148,  # emotional neglect (wave 2)
    "ace10_5": 0.099,  # physical neglect (wave 2)
    "ace10_6": 0.233,  # parental separation or divorce
    "ace10_7": 0.127,  # mother treated violently
    "ace10_8": 0.269,  # household substance abuse
    "ace10_9": 0.194,  # household mental illness
    "ace10_10": 0.047,  # incarcerated household member
}
"""Share of the CDC-Kaiser ACE Study sample reporting each category (:data:`CDC_ACE_SOURCE`)."""

CDC_ACE_SCORE_DISTRIBUTION: Mapping[str, float] = {
    "0": 0.361,
    "1": 0.260,
    "2": 0.159,
    "3": 0.095,
    "4+": 0.125,
}
"""Share of the CDC-Kaiser ACE Study sample by ACE score (:data:`CDC_ACE_SOURCE`)."""

# Three located latent classes (weights, log-odds locations) fitted by least squares so that,
# with every item's intercept solved to give the CDC prevalence, the score distribution equals
# CDC_ACE_SCORE_DISTRIBUTION (largest difference < 0.01 percentage points).
_ACE_CLASS_WEIGHTS = np.array([0.5384, 0.3917, 0.0699])
_ACE_CLASS_LOCATIONS = np.array([0.0, 1.823, 5.718])

ACE_CENTRE = 2
"""ACE score at which :attr:`Effects.brs_d` and :attr:`Effects.cyrm_r_d` apply."""

DAYS_PER_MONTH = 365.25 / 12
"""Days per month used to turn match durations into months."""

REFERENCE_SD: Mapping[str, float] = {
    "brs": 0.57,
    "cyrm_r": 0.48,
    "stss": 0.38,
}
"""Standard deviations (on the item-mean metric, 1-5) that turn the ``_d`` effects of
:class:`Effects` into score units: an effect ``d`` moves the BRS mean score by ``d * 0.57``,
the CYRM-R sum (17 items) by ``d * 0.48 * 17`` and the STSS sum by ``d * 0.38 * 17``. They are
close to the standard deviations of the synthetic baseline scores (defaults)."""

# true-score standard deviations of mentors' STSS and ProQOL burnout (item-mean metric)
_STS_SD = 0.35
_BO_SD = 0.40

_STREAMS = {
    "youth": 1,
    "ace": 2,
    "mentors": 3,
    "matches": 4,
    "meetings": 5,
    "youth_scores": 6,
    "youth_items": 7,
    "mentor_scores": 8,
    "mentor_items": 9,
    "attrition": 10,
    # streams of the tables added later: drawing from them leaves the others unchanged
    "relationships": 11,
    "relationship_items": 12,
    "pce": 13,
    "goals": 14,
}


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAMS[stream]]))


# --------------------------------------------------------------------------- ACE items


def _ace_prevalence(prevalence: Mapping[str, float] | None, odds_ratio: float) -> np.ndarray:
    prev = dict(CDC_ACE_PREVALENCE if prevalence is None else prevalence)
    names = item_columns("ace10")
    missing = [c for c in names if c not in prev]
    extra = [c for c in prev if c not in names]
    if missing or extra:
        raise DataError(
            f"ace_prevalence needs exactly the keys {names}; missing {missing}, unknown {extra}"
        )
    p = np.array([float(prev[c]) for c in names])
    bad = [c for c, v in zip(names, p, strict=True) if not 0 < v < 1]
    if bad:
        raise DataError(f"ace_prevalence must be strictly between 0 and 1; check {bad}")
    if not (isinstance(odds_ratio, int | float) and math.isfinite(odds_ratio) and odds_ratio > 0):
        raise DataError(f"ace_odds_ratio must be a positive number, got {odds_ratio!r}")
    return odds_ratio * p / (1 - p + odds_ratio * p)


def _ace_intercepts(p: np.ndarray) -> np.ndarray:
    """Item log-odds intercepts giving marginal prevalence ``p`` under the latent classes."""
    lo = np.full(p.shape, -60.0)
    hi = np.full(p.shape, 60.0)
    for _ in range(200):
        mid = (lo + hi) / 2
        q = (
            _ACE_CLASS_WEIGHTS[None, :] / (1 + np.exp(-(mid[:, None] + _ACE_CLASS_LOCATIONS)))
        ).sum(1)
        too_high = q > p
        hi = np.where(too_high, mid, hi)
        lo = np.where(too_high, lo, mid)
    return (lo + hi) / 2


def _ace_matrix(rng: np.random.Generator, n: int, p: np.ndarray) -> np.ndarray:
    alpha = _ace_intercepts(p)
    cls = rng.choice(
        len(_ACE_CLASS_WEIGHTS), size=n, p=_ACE_CLASS_WEIGHTS / _ACE_CLASS_WEIGHTS.sum()
    )
    prob = 1 / (1 + np.exp(-(alpha[None, :] + _ACE_CLASS_LOCATIONS[cls][:, None])))
    return (rng.random((n, len(p))) < prob).astype(np.int64)


def ace_items(
    n: int,
    *,
    seed: int = 0,
    prevalence: Mapping[str, float] | None = None,
    odds_ratio: float = 1.0,
) -> pd.DataFrame:
    """Simulate complete ACE questionnaires (``ace10_1``..``ace10_10``, 0 No / 1 Yes).

    Parameters
    ----------
    n
        Number of people.
    seed
        Random seed; the same seed gives the same answers.
    prevalence
        Share answering "Yes" per item; default :data:`CDC_ACE_PREVALENCE`.
    odds_ratio
        Multiplies the odds of every category (e.g. 2.0 for a population with more adversity
        than the CDC-Kaiser sample); 1.0 keeps the reference prevalences.

    Returns
    -------
    pandas.DataFrame
        ``n`` rows, one ``Int64`` column per item, index ``0..n-1``.

    Examples
    --------
    >>> a = ace_items(20_000, seed=3)
    >>> round(float(a["ace10_2"].mean()), 2)
    0.28
    >>> round(float((a.sum(axis=1) == 0).mean()), 2)
    0.36
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise DataError(f"n must be a non-negative integer, got {n!r}")
    p = _ace_prevalence(prevalence, odds_ratio)
    m = _ace_matrix(_rng(_check_seed(seed), "ace"), int(n), p)
    return pd.DataFrame(m, columns=item_columns("ace10")).astype("Int64")


# --------------------------------------------------------------------------- helpers


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _ids(prefix: str, n: int, width: int) -> list[str]:
    width = max(width, len(str(n)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


def _likert(
    rng: np.random.Generator,
    true: np.ndarray,
    offsets: Sequence[float],
    *,
    spread: float,
    reverse: Sequence[int] = (),
    top: int = 5,
) -> np.ndarray:
    """Responses 1-top whose expectation is ``clip(true + offset, 1, top)`` (scored direction)."""
    off = np.asarray(offsets, dtype=float)
    mu = np.clip(true[:, None] + off[None, :], 1.0, float(top))
    base = np.floor(mu)
    rounded = base + (rng.random(mu.shape) < (mu - base))
    binom = 1 + rng.binomial(top - 1, (mu - 1) / (top - 1))
    out = np.where(rng.random(mu.shape) < spread, binom, rounded).astype(np.int64)
    rev = [i - 1 for i in reverse]
    out[:, rev] = top + 1 - out[:, rev]
    return out


def _blank(
    rng: np.random.Generator, values: np.ndarray, rate: float, keep: np.ndarray
) -> np.ndarray:
    """Float copy of ``values`` with rows not in ``keep`` missing and cells missing at ``rate``."""
    out = values.astype(float)
    out[~keep, :] = np.nan
    out[rng.random(out.shape) < rate] = np.nan
    return out


def _dates(base: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    days = np.asarray(days, dtype=float)
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[us]")
    ok = ~np.isnan(days)
    out[ok] = np.datetime64(base.date(), "us") + days[ok].astype(np.int64) * np.timedelta64(1, "D")
    return out


def _frame(table: str, columns: Mapping[str, Any], schemas: Mapping[str, Any]) -> pd.DataFrame:
    """A table with the columns and dtypes of its schema."""
    out = {}
    for field in schemas[table]["fields"]:
        name = field["name"]
        values = columns[name]
        dtype = field_dtype(field)
        if field["type"] == "integer":
            s = pd.Series(values, dtype="float64").astype(dtype)
        else:
            s = pd.Series(values).astype(dtype)
        out[name] = s.reset_index(drop=True)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- program


def program(
    *,
    n_youth: int = 600,
    sites: Sequence[str] = ("North", "South", "East", "West"),
    seed: int = 0,
    effects: Effects | None = None,
    comparison_sites: Sequence[str] | None = None,
    comparison_share: float = 0.4,
    ace_prevalence: Mapping[str, float] | None = None,
    ace_odds_ratio: float = 1.0,
    cutoff: str | pd.Timestamp = "2024-06-30",
) -> Program:
    """Simulate the tables of one mentoring program with known effects.

    Parameters
    ----------
    n_youth
        Number of enrolled youth (mentored and comparison).
    sites
        Site names; youth are spread evenly over sites at random.
    seed
        Random seed: the same arguments give identical tables (and identical CSV bytes).
    effects
        Planted effects; default :class:`Effects()`.
    comparison_sites
        Sites running a waitlist comparison group; default the first half of ``sites``
        (rounded up).
    comparison_share
        Share of youth at a comparison site randomised to the waitlist.
    ace_prevalence, ace_odds_ratio
        ACE item prevalences (default :data:`CDC_ACE_PREVALENCE`) and an odds multiplier for
        every category (see :func:`ace_items`).
    cutoff
        Data cut-off date. Enrolment runs over the 21 months that end 13 months before it.

    Returns
    -------
    Program
        Frozen container with ``youth``, ``surveys``, ``mentors``, ``mentor_surveys``,
        ``matches``, ``meetings``, ``goals``, ``relationship_surveys``, ``pce_surveys``,
        ``cutoff`` and ``effects``.

    Examples
    --------
    >>> p = program(n_youth=200, seed=2)
    >>> p.matches.columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['match_id', 'youth_id', 'mentor_id', 'start_date', 'end_date', 'closure_reason',
     'planned_months']
    >>> closed = p.matches.dropna(subset=["end_date"])
    >>> bool((closed["end_date"] >= closed["start_date"]).all())
    True
    """
    seed = _check_seed(seed)
    if isinstance(n_youth, bool) or not isinstance(n_youth, int | np.integer) or n_youth < 1:
        raise DataError(f"n_youth must be a positive integer, got {n_youth!r}")
    n = int(n_youth)
    if isinstance(sites, str):
        raise DataError("sites must be a sequence of site names, not one string")
    sites = [str(s) for s in sites]
    if not sites or len(set(sites)) != len(sites):
        raise DataError(f"sites must be non-empty and unique, got {sites}")
    if comparison_sites is None:
        comparison_sites = sites[: (len(sites) + 1) // 2]
    if isinstance(comparison_sites, str):
        raise DataError("comparison_sites must be a sequence of site names, not one string")
    unknown = [s for s in comparison_sites if s not in sites]
    if unknown:
        raise DataError(f"comparison_sites {unknown} are not in sites {sites}")
    if not 0 <= comparison_share < 1:
        raise DataError(f"comparison_share must be in [0, 1), got {comparison_share!r}")
    eff = Effects() if effects is None else effects
    if not isinstance(eff, Effects):
        raise DataError(f"effects must be an Effects instance or None, got {type(eff).__name__}")
    p_ace = _ace_prevalence(ace_prevalence, ace_odds_ratio)
    try:
        cut = pd.Timestamp(cutoff).normalize()
    except (ValueError, TypeError) as exc:
        raise DataError(f"cutoff must be a date, got {cutoff!r}") from exc
    if pd.isna(cut):
        raise DataError("cutoff must be a date, got a missing value")
    schemas = table_schemas(sites=sites)

    enrol_end = cut - pd.DateOffset(months=13)
    enrol_start = enrol_end - pd.DateOffset(months=21)
    origin = enrol_start
    cut_day = (cut - origin).days
    span = (enrol_end - enrol_start).days

    # ----------------------------------------------------------------- youth
    rng = _rng(seed, "youth")
    site_i = rng.integers(0, len(sites), n)
    ages = np.arange(8, 18)
    age = rng.choice(ages, size=n, p=_normalise([3, 6, 10, 13, 14, 13, 11, 8, 5, 3]))
    gender = rng.choice(len(GENDERS_YOUTH), size=n, p=[0.52, 0.45, 0.03])
    gender_missing = rng.random(n) < 0.01
    race = rng.choice(len(RACE_ETHNICITY), size=n, p=[0.34, 0.26, 0.22, 0.04, 0.02, 0.10, 0.02])
    race_missing = rng.random(n) < 0.03
    referral = rng.choice(len(REFERRAL_SOURCES), size=n, p=[0.38, 0.22, 0.16, 0.06, 0.10, 0.08])
    enrol_day = rng.integers(0, span + 1, n)
    waitlist_u = rng.random(n)
    order = np.lexsort((np.arange(n), enrol_day))  # ids in enrolment order
    site_i, age, gender, gender_missing = (
        site_i[order],
        age[order],
        gender[order],
        gender_missing[order],
    )
    race, race_missing, referral = race[order], race_missing[order], referral[order]
    enrol_day, waitlist_u = enrol_day[order], waitlist_u[order]
    comp_mask = np.isin(np.array(sites)[site_i], list(comparison_sites))
    comparison = comp_mask & (waitlist_u < comparison_share)
    youth_ids = np.array(_ids("Y", n, 4))
    site_names = np.array(sites, dtype=object)

    ace_true = _ace_matrix(_rng(seed, "ace"), n, p_ace)
    ace_score = ace_true.sum(axis=1)

    youth = _frame(
        "youth",
        {
            "youth_id": youth_ids,
            "site": site_names[site_i],
            "age": age,
            "gender": np.where(gender_missing, None, np.array(GENDERS_YOUTH, dtype=object)[gender]),
            "race_ethnicity": np.where(
                race_missing, None, np.array(RACE_ETHNICITY, dtype=object)[race]
            ),
            "referral_source": np.array(REFERRAL_SOURCES, dtype=object)[referral],
            "enrolment_date": _dates(origin, enrol_day),
            "comparison": comparison,
        },
        schemas,
    )

    # ----------------------------------------------------------------- mentors
    rng = _rng(seed, "mentors")
    mentored = np.flatnonzero(~comparison)
    mentor_of = np.full(n, -1)
    mentor_site: list[int] = []
    caseloads: list[int] = []
    for s in range(len(sites)):
        pool = mentored[site_i[mentored] == s]
        pool = pool[rng.permutation(len(pool))]
        k = 0
        while k < len(pool):
            size = int(rng.choice([1, 2, 3], p=[0.70, 0.25, 0.05]))
            size = min(size, len(pool) - k)
            mentor_of[pool[k : k + size]] = len(caseloads)
            mentor_site.append(s)
            caseloads.append(size)
            k += size
    n_m = len(caseloads)
    m_site = np.array(mentor_site, dtype=np.int64)
    caseload = np.array(caseloads, dtype=np.int64)
    m_age = np.clip(np.round(rng.normal(38, 13, n_m)), 19, 75).astype(np.int64)
    m_gender = rng.choice(len(GENDERS_ADULT), size=n_m, p=[0.62, 0.36, 0.02])
    m_gender_missing = rng.random(n_m) < 0.01
    hours = np.clip(np.round(rng.gamma(2.5, 5.0, n_m) * 2) / 2, 0, 60)
    supervision = rng.choice(len(SUPERVISION), size=n_m, p=[0.35, 0.40, 0.25])
    mentor_ids = np.array(_ids("M", n_m, 3), dtype=object)

    mentors = _frame(
        "mentors",
        {
            "mentor_id": mentor_ids,
            "site": site_names[m_site] if n_m else np.array([], dtype=object),
            "age": m_age,
            "gender": np.where(
                m_gender_missing, None, np.array(GENDERS_ADULT, dtype=object)[m_gender]
            ),
            "training_hours": hours,
            "supervision": np.array(SUPERVISION, dtype=object)[supervision],
            "caseload": caseload,
        },
        schemas,
    )

    # ----------------------------------------------------------------- matches
    rng = _rng(seed, "matches")
    k_shape = 0.8
    scale = 12.0 / (-math.log(1 - eff.early_closure_12m)) ** (1 / k_shape)
    delay = rng.integers(14, 76, n)
    planned = rng.choice([12, 24], size=n, p=[0.6, 0.4])
    e1 = rng.exponential(1.0, n)
    reason_u = rng.choice(
        np.arange(1, len(CLOSURE_REASONS)), size=n, p=[0.25, 0.30, 0.20, 0.05, 0.20]
    )
    mi = np.maximum(mentor_of, 0)
    lin = (
        math.log(eff.training_hr_per_10h) * (hours[mi] - 12.5) / 10 if n_m else np.zeros(n)
    ) + math.log(eff.ace_closure_hr) * (ace_score - ACE_CENTRE)
    lin = lin + math.log(eff.age_closure_hr) * (age - 12)
    t_months = scale * (e1 / np.exp(lin)) ** (1 / k_shape)
    start_day = enrol_day + delay
    early_days = np.maximum(1, np.ceil(t_months * DAYS_PER_MONTH)).astype(np.int64)
    planned_days = np.round(planned * DAYS_PER_MONTH).astype(np.int64)
    to_cut = cut_day - start_day
    is_early = (early_days < planned_days) & (early_days <= to_cut)
    is_planned = ~is_early & (planned_days <= to_cut)
    end_rel = np.where(is_early, early_days, np.where(is_planned, planned_days, -1))
    reason = np.where(is_early, reason_u, np.where(is_planned, 0, -1))

    # ordered by start date, ties by youth
    mm = mentored[np.lexsort((mentored, start_day[mentored]))]
    n_x = len(mm)
    match_ids = np.array(_ids("X", n_x, 4), dtype=object)
    match_of = np.full(n, -1)
    match_of[mm] = np.arange(n_x)
    end_day = np.where(end_rel >= 0, start_day + end_rel, np.nan)
    reasons_arr = np.array(CLOSURE_REASONS, dtype=object)
    matches = _frame(
        "matches",
        {
            "match_id": match_ids,
            "youth_id": youth_ids[mm],
            "mentor_id": mentor_ids[mentor_of[mm]] if n_x else np.array([], dtype=object),
            "start_date": _dates(origin, start_day[mm]),
            "end_date": _dates(origin, end_day[mm]),
            "closure_reason": np.where(
                reason[mm] >= 0, reasons_arr[np.maximum(reason[mm], 0)], None
            ),
            "planned_months": planned[mm],
        },
        schemas,
    )

    # ----------------------------------------------------------------- meetings
    meetings = _meetings(_rng(seed, "meetings"), start_day[mm], end_day[mm], cut_day, match_ids)
    meetings = _frame(
        "meetings",
        {**meetings, "date": _dates(origin, meetings["date"])},
        schemas,
    )

    # ----------------------------------------------------------------- youth surveys
    rng = _rng(seed, "attrition")
    months = np.array([WAVE_MONTHS[w] for w in WAVES])
    jitter = rng.integers(-7, 22, (n, len(WAVES)))
    jitter[:, 0] = 0
    sched = (
        enrol_day[:, None] + np.round(months * DAYS_PER_MONTH).astype(np.int64)[None, :] + jitter
    )
    due = sched <= cut_day
    matched = match_of >= 0
    unplanned_end = np.where(is_early & matched, start_day + early_days, np.iinfo(np.int64).max)
    closed_before = unplanned_end[:, None] < sched
    # dropout depends on an unplanned closure before the nominal wave date (enrolment + months)
    nominal = enrol_day[:, None] + np.round(months * DAYS_PER_MONTH).astype(np.int64)[None, :]
    closed_nominal = unplanned_end[:, None] < nominal
    logit = math.log(0.10 / 0.90) + math.log(eff.dropout_or_after_closure) * closed_nominal
    drop = rng.random((n, len(WAVES))) < 1 / (1 + np.exp(-logit))
    drop[:, 0] = False
    lost = np.logical_or.accumulate(drop, axis=1)
    completed = due & ~lost
    status = np.where(~due, 2, np.where(lost, 1, 0))

    # months matched by each survey date, and early closure (< 3 months) before it
    end_eff = np.where(end_rel >= 0, start_day + end_rel, cut_day)
    in_match_days = np.clip(np.minimum(end_eff[:, None], sched) - start_day[:, None], 0, None)
    dose = np.where(matched[:, None], in_match_days / DAYS_PER_MONTH / 12, 0.0)
    early3 = matched & is_early & (early_days < 3 * DAYS_PER_MONTH)
    early_flag = early3[:, None] & closed_before
    effect = dose * (eff.ace_moderation_d * (ace_score - ACE_CENTRE))[:, None]
    effect = effect + eff.early_closure_d * early_flag

    rng = _rng(seed, "youth_scores")
    z = rng.standard_normal((n, 2))
    z_b = z[:, 0]
    z_c = 0.5 * z[:, 0] + math.sqrt(1 - 0.25) * z[:, 1]
    t = months / 12
    brs_true = (
        (3.40 - 0.06 * (ace_score - ACE_CENTRE) + 0.45 * z_b)[:, None]
        + rng.normal(0, 0.10, (n, 1)) * t[None, :]
        + rng.normal(0, 0.20, (n, len(WAVES)))
    )
    brs_true = brs_true + REFERENCE_SD["brs"] * (dose * eff.brs_d + effect)
    cyrm_true = (
        (3.75 - 0.05 * (ace_score - ACE_CENTRE) + 0.40 * z_c)[:, None]
        + rng.normal(0, 0.10, (n, 1)) * t[None, :]
        + rng.normal(0, 0.18, (n, len(WAVES)))
    )
    cyrm_true = cyrm_true + REFERENCE_SD["cyrm_r"] * (dose * eff.cyrm_r_d + effect)

    rng = _rng(seed, "youth_items")
    brs_off = [0.10, -0.20, 0.15, -0.10, 0.05, 0.00]
    cyrm_off = np.linspace(-0.3, 0.3, 17)[
        [3, 10, 0, 15, 7, 12, 5, 1, 14, 8, 16, 2, 11, 6, 13, 4, 9]
    ]
    blocks: dict[str, np.ndarray] = {}
    ace_obs = np.full((n, len(WAVES), 10), np.nan)
    ace_obs[:, 0, :] = _blank(rng, ace_true, 0.01, completed[:, 0])
    for w in range(len(WAVES)):
        b = _likert(rng, brs_true[:, w], brs_off, spread=0.25, reverse=(2, 4, 6))
        c = _likert(rng, cyrm_true[:, w], cyrm_off, spread=0.45)
        blocks[f"brs{w}"] = _blank(rng, b, 0.02, completed[:, w])
        blocks[f"cyrm{w}"] = _blank(rng, c, 0.02, completed[:, w])

    status_names = np.array(["completed", "lost to follow-up", "not yet due"], dtype=object)
    cols: dict[str, Any] = {
        "youth_id": np.repeat(youth_ids, len(WAVES)),
        "wave": np.tile(np.array(WAVES, dtype=object), n),
        "months": np.tile(months, n),
        "status": status_names[status].reshape(-1),
        "survey_date": _dates(origin, np.where(completed, sched, np.nan).reshape(-1)),
    }
    stacked_ace = ace_obs.reshape(n * len(WAVES), 10)
    for j, c in enumerate(item_columns("ace10")):
        cols[c] = stacked_ace[:, j]
    brs_stack = np.stack([blocks[f"brs{w}"] for w in range(len(WAVES))], axis=1).reshape(-1, 6)
    cyrm_stack = np.stack([blocks[f"cyrm{w}"] for w in range(len(WAVES))], axis=1).reshape(-1, 17)
    for j, c in enumerate(item_columns("brs")):
        cols[c] = brs_stack[:, j]
    for j, c in enumerate(item_columns("cyrm_r")):
        cols[c] = cyrm_stack[:, j]
    surveys = _frame("surveys", cols, schemas)

    # ----------------------------------------------------------------- mentor surveys
    mentor_surveys = _mentor_surveys(
        seed, eff, schemas, origin, cut_day, mentor_ids, caseload, supervision, start_day, mentor_of
    )

    # ----------------------------------------------------------------- added tables
    # new streams only; the closure draw e1 and the baseline resilience z_b are read, not redrawn
    end_mm = end_day[mm]
    relationship = _relationship_surveys(
        seed, eff, schemas, origin, cut_day, e1[mm], start_day[mm], end_mm, match_ids
    )
    pce = _pce_surveys(seed, eff, schemas, origin, youth_ids, enrol_day, ace_score, z_b)
    goals = _goals(seed, eff, schemas, origin, cut_day, youth_ids[mm], start_day[mm], end_mm)

    return Program(
        youth=youth,
        surveys=surveys,
        mentors=mentors,
        mentor_surveys=mentor_surveys,
        matches=matches,
        meetings=meetings,
        goals=goals,
        relationship_surveys=relationship,
        pce_surveys=pce,
        cutoff=cut,
        effects=eff,
    )


# true relationship strength (item-mean metric) of the youth and mentor reports
_YSOR_MEAN, _YSOR_SD = 3.60, 0.55
_MSOR_MEAN, _MSOR_SD = 3.85, 0.45
_YC_MEAN, _YC_SD = 3.05, 0.45  # Youth-Centered Relationship scale, 1-4
_PCE_P = 0.6  # share of items counted (often or more) in the binomial prior of the PCE count
_PCE_MAIN = 0.05  # BRS points per PCE at ACE_CENTRE (illustrative, not a recorded effect)
_GOALS_PER_MATCH = 3


def _posterior_draw(
    rng: np.random.Generator, grid: np.ndarray, log_weight: np.ndarray
) -> np.ndarray:
    """One value of ``grid`` per row of ``log_weight`` (rows x grid), by inverse CDF."""
    w = np.exp(log_weight - log_weight.max(axis=1, keepdims=True))
    cdf = np.cumsum(w, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(log_weight))
    pick = (cdf < u[:, None]).sum(axis=1)
    return grid[np.minimum(pick, len(grid) - 1)]


def _relationship_surveys(
    seed: int,
    eff: Effects,
    schemas: Mapping[str, Any],
    origin: pd.Timestamp,
    cut_day: int,
    e1: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    match_ids: np.ndarray,
) -> pd.DataFrame:
    """Youth and mentor relationship reports 3 and 12 months into each match (while open)."""
    n_x = len(start)
    rng = _rng(seed, "relationships")
    # true 3-month youth score r (points from its mean) given the latent closure risk e1:
    # p(r | e1) ~ N(r; 0, sd) * exp(b r - e1 exp(b r)), b = log HR per point
    b = math.log(eff.relationship_closure_hr)
    grid = np.linspace(-4.5 * _YSOR_SD, 4.5 * _YSOR_SD, 721)
    log_w = -0.5 * (grid[None, :] / _YSOR_SD) ** 2 + b * grid[None, :]
    log_w = log_w - e1[:, None] * np.exp(b * grid[None, :])
    r = _posterior_draw(rng, grid, log_w) if n_x else np.zeros(0)
    z = rng.standard_normal((n_x, 4))
    r_std = r / _YSOR_SD
    youth_true = np.stack(
        [
            _YSOR_MEAN + r,
            _YSOR_MEAN + 0.05 + _YSOR_SD * (0.75 * r_std + math.sqrt(1 - 0.75**2) * z[:, 0]),
        ],
        axis=1,
    )
    yc_std = 0.5 * r_std + math.sqrt(1 - 0.25) * z[:, 1]
    yc_true = np.stack([_YC_MEAN + _YC_SD * yc_std, _YC_MEAN + _YC_SD * yc_std], axis=1)
    m3 = 0.55 * r_std + math.sqrt(1 - 0.55**2) * z[:, 2]
    m12 = 0.75 * m3 + math.sqrt(1 - 0.75**2) * z[:, 3]
    mentor_true = np.stack([_MSOR_MEAN + _MSOR_SD * m3, _MSOR_MEAN + _MSOR_SD * m12], axis=1)

    months = np.array([RELATIONSHIP_WAVE_MONTHS[w] for w in RELATIONSHIP_WAVES])
    nw = len(RELATIONSHIP_WAVES)
    sched = (
        start[:, None]
        + np.round(months * DAYS_PER_MONTH).astype(np.int64)[None, :]
        + rng.integers(-7, 22, (n_x, nw))
    )
    reached = np.isnan(end)[:, None] | (sched < np.nan_to_num(end, nan=np.inf)[:, None])
    due = sched <= cut_day
    lost = {
        "youth": rng.random((n_x, nw)) < 0.12,
        "mentor": rng.random((n_x, nw)) < 0.18,
    }

    rng = _rng(seed, "relationship_items")
    ysor_off = np.linspace(-0.2, 0.2, 10)[[4, 9, 1, 6, 0, 8, 3, 7, 2, 5]]
    yc_off = np.array([0.05, -0.10, 0.10, 0.0, -0.05])
    msor_off = np.linspace(-0.25, 0.25, 14)[[6, 1, 11, 3, 9, 0, 13, 5, 8, 2, 12, 4, 10, 7]]
    status_names = np.array(["completed", "lost to follow-up", "not yet due"], dtype=object)
    parts = []
    for reporter in REPORTERS:
        for w in range(nw):
            keep = reached[:, w]
            done = keep & due[:, w] & ~lost[reporter][:, w]
            status = np.where(~due[:, w], 2, np.where(lost[reporter][:, w], 1, 0))
            items: dict[str, np.ndarray] = {}
            if reporter == "youth":
                y = _likert(rng, youth_true[:, w], ysor_off, spread=0.15, reverse=(7, 8, 9, 10))
                c = _likert(rng, yc_true[:, w], yc_off, spread=0.15, top=4)
                blocks = {"ysor": y, "youth_centered": c}
            else:
                blocks = {"msor": _likert(rng, mentor_true[:, w], msor_off, spread=0.15)}
            for inst in ("ysor", "youth_centered", "msor"):
                names = item_columns(inst)
                values = (
                    _blank(rng, blocks[inst], 0.015, done)
                    if inst in blocks
                    else np.full((n_x, len(names)), np.nan)
                )
                for j, name in enumerate(names):
                    items[name] = values[:, j]
            frame = pd.DataFrame(
                {
                    "order": np.arange(n_x),
                    "reporter_i": REPORTERS.index(reporter),
                    "wave_i": w,
                    "match_id": match_ids,
                    "reporter": reporter,
                    "wave": RELATIONSHIP_WAVES[w],
                    "months": months[w],
                    "status": status_names[status],
                    "survey_date": np.where(done, sched[:, w], np.nan),
                    **items,
                }
            )
            parts.append(frame[keep])
    table = (
        pd.concat(parts, ignore_index=True)
        .sort_values(["order", "reporter_i", "wave_i"], kind="stable")
        .reset_index(drop=True)
    )
    cols = {c: table[c].to_numpy() for c in table.columns}
    cols["survey_date"] = _dates(origin, table["survey_date"].to_numpy(dtype=float))
    return _frame("relationship_surveys", cols, schemas)


def _pce_surveys(
    seed: int,
    eff: Effects,
    schemas: Mapping[str, Any],
    origin: pd.Timestamp,
    youth_ids: np.ndarray,
    enrol_day: np.ndarray,
    ace_score: np.ndarray,
    z_b: np.ndarray,
) -> pd.DataFrame:
    """PCE items at enrolment, the count drawn given the ACE score and baseline resilience."""
    n = len(youth_ids)
    rng = _rng(seed, "pce")
    k_items = 7
    counts = np.arange(k_items + 1)
    prior = (
        np.array([math.comb(k_items, j) for j in counts])
        * _PCE_P**counts
        * (1 - _PCE_P) ** (k_items - counts)
    )
    centre, var = k_items * _PCE_P, k_items * _PCE_P * (1 - _PCE_P)
    # model: z_b | pce, ace ~ N(k (pce - centre), 1 - k^2 var), so the baseline BRS mean
    # (0.45 z_b + ...) gains 0.45 k (pce - centre) with 0.45 k = main + moderation * (ace - 2)
    gamma = eff.pce_ace_moderation_d * REFERENCE_SD["brs"]
    k = (_PCE_MAIN + gamma * (ace_score - ACE_CENTRE)) / 0.45
    k = np.clip(k, -0.95 / math.sqrt(var), 0.95 / math.sqrt(var))  # keep the variance positive
    s2 = 1 - k**2 * var
    log_w = (
        np.log(prior)[None, :]
        - 0.5 * (z_b[:, None] - k[:, None] * (counts - centre)) ** 2 / s2[:, None]
    )
    count = _posterior_draw(rng, counts.astype(float), log_w).astype(np.int64)
    # which items are counted (often or more): more common ones first, as in Bethell et al.
    weight = np.array([1.2, 1.4, 1.0, 0.9, 1.1, 0.8, 1.5])
    keys = np.log(rng.random((n, k_items))) / weight[None, :]  # weighted order without repeats
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    counted = rank < count[:, None]
    high = np.where(rng.random((n, k_items)) < 0.55, 4, 5)
    low = rng.choice([1, 2, 3], size=(n, k_items), p=[0.15, 0.35, 0.50])
    answers = np.where(counted, high, low)
    values = _blank(rng, answers, 0.005, np.ones(n, dtype=bool))
    cols: dict[str, Any] = {
        "youth_id": youth_ids,
        "survey_date": _dates(origin, enrol_day.astype(float)),
    }
    for j, name in enumerate(item_columns("pce")):
        cols[name] = values[:, j]
    return _frame("pce_surveys", cols, schemas)


def _goals(
    seed: int,
    eff: Effects,
    schemas: Mapping[str, Any],
    origin: pd.Timestamp,
    cut_day: int,
    youth_ids: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> pd.DataFrame:
    """Three goals per match, reviewed at 6 and 12 months or at an earlier closure."""
    n_x = len(start)
    rng = _rng(seed, "goals")
    g = _GOALS_PER_MATCH
    # equal weights and rho 0.3: T = 50 + 10 * f * mean level, f = g / sqrt(0.7 g + 0.3 g^2)
    f = g / math.sqrt(0.7 * g + 0.3 * g * g)
    slope = eff.goal_t_per_12m / 12 / (10 * f)  # GAS levels per month matched
    level0 = -eff.goal_t_per_12m / (10 * f)  # expected level at 0 months (T = 50 at 12)
    set_day = start + rng.integers(7, 31, n_x)
    youth_re = rng.normal(0, 0.45, n_x)
    goal_re = rng.normal(0, 0.35, (n_x, g))
    domain = (
        np.stack(
            [
                rng.choice(len(GOAL_DOMAINS), size=g, replace=False, p=_normalise([4, 3, 3, 2, 2]))
                for _ in range(n_x)
            ]
        )
        if n_x
        else np.zeros((0, g), dtype=np.int64)
    )
    last = np.where(np.isnan(end), np.inf, end)
    rows = []
    gid = 0
    for i in range(n_x):
        if set_day[i] >= last[i] or set_day[i] > cut_day:
            continue  # the match closed (or the data end) before goals were set
        reviews = []
        for label, months in (("6m", 6), ("12m", 12)):
            day = set_day[i] + round(months * DAYS_PER_MONTH)
            if day >= last[i]:
                reviews.append(("closure", int(last[i])))
                break
            reviews.append((label, int(day)))
        reviews = [(lab, day) for lab, day in reviews if day <= cut_day]
        for j in range(g):
            gid += 1
            for lab, day in reviews:
                m = (day - start[i]) / DAYS_PER_MONTH
                expected = 0 if lab == "12m" or (lab == "closure" and m >= 9) else -1
                rows.append((gid, i, j, lab, day, m, expected))
    n_r = len(rows)
    gid_a = np.array([r[0] for r in rows], dtype=np.int64)
    match_a = np.array([r[1] for r in rows], dtype=np.int64)
    goal_a = np.array([r[2] for r in rows], dtype=np.int64)
    m_a = np.array([r[5] for r in rows], dtype=float)
    mu = level0 + slope * m_a
    if n_r:
        mu = mu + youth_re[match_a] + goal_re[match_a, goal_a]
    mu = np.clip(mu + rng.normal(0, 0.30, n_r), -2.0, 2.0)
    base = np.floor(mu)
    attained = (base + (rng.random(n_r) < (mu - base))).astype(np.int64)
    width = max(5, len(str(gid)))
    cols: dict[str, Any] = {
        "goal_id": np.array([f"G{k:0{width}d}" for k in gid_a], dtype=object),
        "youth_id": youth_ids[match_a] if n_r else np.array([], dtype=object),
        "domain": np.array(GOAL_DOMAINS, dtype=object)[domain[match_a, goal_a]]
        if n_r
        else np.array([], dtype=object),
        "set_date": _dates(origin, set_day[match_a].astype(float) if n_r else np.zeros(0)),
        "review": np.array([r[3] for r in rows], dtype=object),
        "review_date": _dates(origin, np.array([r[4] for r in rows], dtype=float)),
        "expected": np.array([r[6] for r in rows], dtype=np.int64),
        "attained": attained,
        "weight": np.ones(n_r),
    }
    assert set(cols["review"]) <= set(GOAL_REVIEWS)
    return _frame("goals", cols, schemas)


def _normalise(w: Sequence[float]) -> np.ndarray:
    a = np.asarray(w, dtype=float)
    return a / a.sum()


def _meetings(
    rng: np.random.Generator,
    start: np.ndarray,
    end: np.ndarray,
    cut_day: int,
    match_ids: np.ndarray,
) -> dict[str, np.ndarray]:
    """Meeting days (relative to the origin), minutes and mode for every match."""
    n_x = len(start)
    last = np.where(np.isnan(end), cut_day, end).astype(np.int64)
    length = last - start
    rate = rng.gamma(4.0, 3.0 / 4.0, n_x)  # meetings per month, mean 3
    remote_p = rng.beta(1.0, 5.0, n_x)
    count = rng.poisson(rate * length / DAYS_PER_MONTH)
    which = np.repeat(np.arange(n_x), count)
    offset = np.floor(rng.random(which.size) * (length[which] + 1)).astype(np.int64)
    which = np.concatenate([np.arange(n_x), which])  # every match has a first meeting
    offset = np.concatenate([np.zeros(n_x, dtype=np.int64), offset])
    order = np.lexsort((offset, which))
    which, offset = which[order], offset[order]
    keep = np.ones(which.size, dtype=bool)
    keep[1:] = (which[1:] != which[:-1]) | (offset[1:] != offset[:-1])
    which, offset = which[keep], offset[keep]
    first = np.r_[True, which[1:] != which[:-1]] if which.size else np.array([], dtype=bool)
    seq = np.arange(which.size) - np.maximum.accumulate(np.where(first, np.arange(which.size), 0))
    width = max(3, len(str(int(seq.max()) + 1))) if which.size else 3
    ids = [f"{match_ids[w]}-{s + 1:0{width}d}" for w, s in zip(which, seq, strict=True)]
    minutes = np.clip(np.round(rng.lognormal(math.log(85), 0.35, which.size) / 5) * 5, 15, 300)
    remote = rng.random(which.size) < remote_p[which]
    return {
        "meeting_id": np.array(ids, dtype=object),
        "match_id": match_ids[which] if which.size else np.array([], dtype=object),
        "date": (start[which] + offset).astype(float),
        "minutes": minutes.astype(np.int64),
        "mode": np.array(MEETING_MODES, dtype=object)[remote.astype(np.int64)],
    }


def _mentor_surveys(
    seed: int,
    eff: Effects,
    schemas: Mapping[str, Any],
    origin: pd.Timestamp,
    cut_day: int,
    mentor_ids: np.ndarray,
    caseload: np.ndarray,
    supervision: np.ndarray,
    start_day: np.ndarray,
    mentor_of: np.ndarray,
) -> pd.DataFrame:
    n_m = len(mentor_ids)
    rng = _rng(seed, "mentor_scores")
    first_start = np.full(n_m, np.iinfo(np.int64).max)
    has = mentor_of >= 0
    np.minimum.at(first_start, mentor_of[has], start_day[has])
    base_day = first_start - rng.integers(0, 15, n_m)
    sched = np.stack(
        [
            base_day,
            base_day + np.round(12 * DAYS_PER_MONTH).astype(np.int64) + rng.integers(-7, 22, n_m),
        ],
        axis=1,
    )
    due = sched <= cut_day
    lost = np.zeros_like(due)
    lost[:, 1] = rng.random(n_m) < 0.12
    completed = due & ~lost
    status = np.where(~due, 2, np.where(lost, 1, 0))

    rho = eff.sts_burnout_r
    z = rng.standard_normal((n_m, 4))
    sd_s, sd_b = _STS_SD, _BO_SD
    sts0 = 2.10 + sd_s * z[:, 0]
    z_bo = rho * z[:, 0] + math.sqrt(1 - rho**2) * z[:, 1]
    bo0 = 2.30 + sd_b * z_bo
    cs0 = 3.90 + 0.45 * (-0.45 * z_bo + math.sqrt(1 - 0.45**2) * z[:, 2])
    pq_sts0 = 2.00 + 0.9 * (sts0 - 2.10) + 0.12 * z[:, 3]
    change = REFERENCE_SD["stss"] * (
        eff.caseload_sts_d * (caseload - 1) + eff.supervision_sts_d * supervision
    ) + rng.normal(0, 0.15, n_m)
    sts1 = sts0 + change
    bo1 = bo0 + rho * sd_b / sd_s * change + rng.normal(0, 0.10, n_m)
    cs1 = cs0 + rng.normal(0, 0.15, n_m)
    pq_sts1 = pq_sts0 + 0.9 * change + rng.normal(0, 0.05, n_m)

    rng = _rng(seed, "mentor_items")
    cs_items = [3, 6, 12, 16, 18, 20, 22, 24, 27, 30]
    bo_items = [1, 4, 8, 10, 15, 17, 19, 21, 26, 29]
    sts_items = [2, 5, 7, 9, 11, 13, 14, 23, 25, 28]
    bo_reverse = [1, 4, 15, 17, 29]
    off10 = [0.2, -0.1, 0.0, 0.15, -0.2, 0.1, -0.05, 0.05, -0.15, 0.0]
    stss_off = np.linspace(-0.25, 0.25, 17)[
        [8, 2, 15, 5, 11, 0, 13, 9, 4, 16, 1, 7, 12, 3, 14, 6, 10]
    ]
    waves = []
    for w, (cs, bo, pq, st) in enumerate(((cs0, bo0, pq_sts0, sts0), (cs1, bo1, pq_sts1, sts1))):
        pro = np.zeros((n_m, 30), dtype=np.int64)
        pro[:, [i - 1 for i in cs_items]] = _likert(rng, cs, off10, spread=0.35)
        bo_resp = _likert(rng, bo, off10[::-1], spread=0.35)
        rev_pos = [bo_items.index(i) + 1 for i in bo_reverse]
        bo_resp[:, [p - 1 for p in rev_pos]] = 6 - bo_resp[:, [p - 1 for p in rev_pos]]
        pro[:, [i - 1 for i in bo_items]] = bo_resp
        pro[:, [i - 1 for i in sts_items]] = _likert(rng, pq, off10, spread=0.35)
        stss = _likert(rng, st, stss_off, spread=0.35)
        waves.append(
            (
                _blank(rng, pro, 0.015, completed[:, w]),
                _blank(rng, stss, 0.015, completed[:, w]),
            )
        )

    nw = len(MENTOR_WAVES)
    status_names = np.array(["completed", "lost to follow-up", "not yet due"], dtype=object)
    cols: dict[str, Any] = {
        "mentor_id": np.repeat(mentor_ids, nw),
        "wave": np.tile(np.array(MENTOR_WAVES, dtype=object), n_m),
        "months": np.tile(np.array([WAVE_MONTHS[w] for w in MENTOR_WAVES]), n_m),
        "status": status_names[status].reshape(-1),
        "survey_date": _dates(origin, np.where(completed, sched, np.nan).reshape(-1)),
    }
    pro_stack = np.stack([waves[0][0], waves[1][0]], axis=1).reshape(-1, 30)
    stss_stack = np.stack([waves[0][1], waves[1][1]], axis=1).reshape(-1, 17)
    for j, c in enumerate(item_columns("proqol5")):
        cols[c] = pro_stack[:, j]
    for j, c in enumerate(item_columns("stss")):
        cols[c] = stss_stack[:, j]
    return _frame("mentor_surveys", cols, schemas)


# --------------------------------------------------------------------------- sample files


def write_sample(
    out_dir: str | Path,
    *,
    seed: int = 0,
    n_youth: int = 600,
    sites: Sequence[str] = ("North", "South", "East", "West"),
    effects: Effects | None = None,
    comparison_sites: Sequence[str] | None = None,
    tables: Sequence[str] | None = None,
) -> list[Path]:
    """Write a synthetic program as a data package: CSVs, ``datapackage.json``, ``CODEBOOK.md``.

    The output is deterministic: the same arguments give the same bytes. ``data/sample/`` in
    the repository is ``write_sample("data/sample")``.

    Parameters
    ----------
    out_dir
        Folder to write to (created if needed; files of the same names are replaced).
    seed, n_youth, sites, effects, comparison_sites
        Passed to :func:`program` (``comparison_sites=()``: a program without a comparison
        group).
    tables
        The tables to write (default all); ``youth`` and ``surveys`` are always written, and a
        table is written only with the tables it refers to (e.g. ``tables=("youth", "surveys",
        "mentors", "matches")`` is a program without meetings and mentor surveys).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import tempfile
    >>> from tim_research.program import read_program
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = write_sample(d, n_youth=40)
    ...     p = read_program(d)
    >>> [f.name for f in files][-2:], len(p.youth)
    (['datapackage.json', 'CODEBOOK.md'], 40)
    """
    eff = Effects() if effects is None else effects
    prog = program(
        n_youth=n_youth, sites=sites, seed=seed, effects=eff, comparison_sites=comparison_sites
    )
    if tables is not None:
        if isinstance(tables, str) or not set(tables) <= set(TABLES):
            raise DataError(f"tables must be a list of table names from {list(TABLES)}")
        keep = set(tables) | set(REQUIRED_TABLES)
        # Program itself refuses a table without the tables it refers to
        prog = Program(
            **{name: prog.tables()[name] for name in TABLES if name in keep},
            cutoff=prog.cutoff,
            effects=prog.effects,
        )
    chosen = (
        prog.sites[: (len(prog.sites) + 1) // 2] if comparison_sites is None else comparison_sites
    )
    settings = {
        "generator": "tim_research.synth.program",
        "seed": _check_seed(seed),
        "n_youth": int(n_youth),
        "sites": list(prog.sites),
        "comparison_sites": list(chosen),
        "ace_centre": ACE_CENTRE,
        "reference_sd": dict(REFERENCE_SD),
        "effects": asdict(eff),
    }
    return write_program(
        prog,
        out_dir,
        name="tim-research-sample",
        title=f"Synthetic trauma-informed youth mentoring program (seed {settings['seed']})",
        description=(
            "Simulated by tim_research.synth.program: no real person, pseudonymous ids only, "
            "no names or free text. Effects are planted (see 'synthetic.effects') so analyses "
            "can be checked against the truth."
        ),
        synthetic=settings,
    )
