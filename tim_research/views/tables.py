"""Analysis-ready tables built from a program's linked tables (one call per notebook step)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tim_research._checks import show_labels as _show
from tim_research.errors import DataError
from tim_research.instruments import load_instrument
from tim_research.program.schema import SUPERVISION, SURVEY_STATUS, Program
from tim_research.scoring import score
from tim_research.stats.goals import gas_tscores
from tim_research.stats.survival import match_durations

__all__ = [
    "GrowthData",
    "band",
    "baseline_items",
    "goal_scores",
    "pce_scores",
    "relationship_scores",
    "item_responses",
    "growth_frame",
    "match_table",
    "mentor_change",
    "mentor_scores",
    "wide_scores",
    "youth_scores",
    "youth_contact",
]

_YOUTH_COLUMNS = ["site", "age", "gender", "race_ethnicity", "referral_source", "comparison"]
_MENTOR_COLUMNS = ["site", "age", "gender", "training_hours", "supervision", "caseload"]


def _completed(surveys: pd.DataFrame, key: str) -> pd.DataFrame:
    done = surveys[surveys["status"] == "completed"].set_index([key, "wave"])
    if done.index.has_duplicates:
        dup = done.index[done.index.duplicated()].unique()
        raise DataError(
            f"completed surveys repeat ({key}, wave) pairs {list(dup)[:5]}; keep one survey "
            "per person and wave"
        )
    return done


def _not_stated(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Empty demographic answers as an explicit "not stated" category (the codebook's meaning)."""
    out = frame.copy()
    for col in columns:
        if col in out and out[col].isna().any():
            values = out[col]
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = values.cat.add_categories(["not stated"])
            out[col] = values.fillna("not stated")
    return out


def _arm(comparison: pd.Series) -> pd.Categorical:
    return pd.Categorical(
        comparison.map({True: "comparison", False: "mentored"}),
        categories=["mentored", "comparison"],
    )


def youth_scores(
    program: Program,
    *,
    instruments: Sequence[str] = ("brs", "cyrm_r"),
    ace_cutoffs: str | None = None,
) -> pd.DataFrame:
    """One row per completed youth survey: scores, baseline ACE score, youth and match facts.

    Parameters
    ----------
    program
        A program (``program.read_program`` or ``synth.program``).
    instruments
        Instruments scored at every wave.
    ace_cutoffs
        Cut-off set of the baseline ACE score bands (default: the instrument's default,
        0/1/2/3/4+; ``"cdc_2019"`` for 0/1/2-3/4+).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(youth_id, wave)`` in survey order: ``months``, the youth's
        ``site, age, gender, race_ethnicity, referral_source, comparison``, ``arm``
        ("mentored"/"comparison"; empty gender and race/ethnicity as "not stated"), the scores
        of ``instruments``, the baseline ``ace10_score``, ``ace10_score_category`` (carried to
        every wave), and ``matched_months`` (months of mentoring by the survey date, summed
        over the youth's matches; 0 for comparison youth).

    Examples
    --------
    >>> from tim_research import synth
    >>> t = youth_scores(synth.program(n_youth=40, seed=1))
    >>> t.index.names, "brs_score" in t, "ace10_score" in t
    (FrozenList(['youth_id', 'wave']), True, True)
    """
    surveys = _completed(program.surveys, "youth_id")
    scores = score(surveys, list(instruments)) if instruments else None
    baseline = surveys.xs("baseline", level="wave", drop_level=True)
    cut = {"ace10_score": ace_cutoffs} if ace_cutoffs else None
    ace = score(baseline, "ace10", cutoffs=cut)[["ace10_score", "ace10_score_category"]]
    youth = _not_stated(program.youth.set_index("youth_id"), ["gender", "race_ethnicity"])
    out = surveys[["months"]].join(youth[_YOUTH_COLUMNS], on="youth_id")
    out["arm"] = _arm(out["comparison"])
    out = (out if scores is None else out.join(scores)).join(ace, on="youth_id")
    out["matched_months"] = _matched_months(program, surveys)
    return out


def _matched_months(program: Program, surveys: pd.DataFrame) -> pd.Series:
    """Months matched between match start and the survey date, over all of a youth's matches."""
    if program.matches is None:  # a program without a matches table: unknown, not zero
        return pd.Series(np.nan, index=surveys.index, dtype="float64")
    m = program.matches[["youth_id", "start_date", "end_date"]]
    when = surveys["survey_date"].rename("survey_date").reset_index()
    pairs = when.merge(m, on="youth_id", how="left")
    stop = pairs[["end_date", "survey_date"]].min(axis=1)
    days = (stop - pairs["start_date"]).dt.days.clip(lower=0).fillna(0)
    pairs["months"] = days / (365.25 / 12)
    total = pairs.groupby(["youth_id", "wave"], sort=False)["months"].sum()
    return total.reindex(surveys.index).fillna(0.0)


def baseline_items(program: Program, instrument: str = "ace10") -> pd.DataFrame:
    """Baseline item responses of one instrument with the youth's facts, one row per youth.

    Values are the instrument's scoring values (e.g. ACE items 0/1), so each item column can
    go straight into :func:`tim_research.stats.prevalence.indicators`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``youth_id``: ``site, age, gender, race_ethnicity, referral_source,
        comparison`` and the item columns.

    Examples
    --------
    >>> from tim_research import synth
    >>> items = baseline_items(synth.program(n_youth=40, seed=1), "brs")
    >>> items.index.name, list(items.columns[-2:])
    ('youth_id', ['brs_5', 'brs_6'])
    """
    inst = load_instrument(instrument)
    baseline = _completed(program.surveys, "youth_id").xs("baseline", level="wave")
    items = baseline[list(inst.item_ids)]
    youth = _not_stated(
        program.youth.set_index("youth_id")[_YOUTH_COLUMNS], ["gender", "race_ethnicity"]
    )
    return youth.reindex(items.index).join(items)


def item_responses(
    program: Program, instruments: str | Sequence[str], *, wave: str = "baseline"
) -> pd.DataFrame:
    """Item answers of completed surveys at one wave, one row per young person or mentor.

    Parameters
    ----------
    program
        A program (``program.read_program`` or ``synth.program``).
    instruments
        Instrument id(s) whose items to take. They must all be in the youth surveys or all in
        the mentor surveys (one table of respondents).
    wave
        The wave (e.g. ``"baseline"``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``youth_id`` or ``mentor_id`` in survey order; the item columns as stored
        (response codes, empty = not answered) in questionnaire order.

    Examples
    --------
    >>> from tim_research import synth
    >>> items = item_responses(synth.program(n_youth=40, seed=1), "brs")
    >>> items.index.name, list(items.columns)[:2]
    ('youth_id', ['brs_1', 'brs_2'])
    """
    names = [instruments] if isinstance(instruments, str) else list(instruments)
    if not names:
        raise DataError("instruments is empty; name at least one instrument id")
    insts = [load_instrument(i) for i in names]
    columns = [c for inst in insts for c in inst.item_ids]
    sources = {
        "youth": (program.surveys, "youth_id"),
        "mentor": (program.mentor_surveys, "mentor_id"),
    }
    # an optional table the program does not have (None) holds no items
    found = {
        k: [c for c in columns if t is not None and c in t.columns] for k, (t, _) in sources.items()
    }
    where = [k for k, cols in found.items() if len(cols) == len(columns)]
    if not where:
        raise DataError(
            f"the items of {_show(names)} are not all in one survey table (youth surveys have "
            f"{len(found['youth'])} of {len(columns)}, mentor surveys {len(found['mentor'])}); "
            "take youth and mentor instruments in separate calls"
        )
    table, key = sources[where[0]]
    waves = set(table["wave"].astype(str))
    if wave not in waves:
        raise DataError(f"wave {wave!r} is not in the surveys; waves are {_show(sorted(waves))}")
    done = table[(table["wave"].astype(str) == wave) & (table["status"] == "completed")]
    out = done.set_index(key)[columns]
    if not out.index.is_unique:
        dup = out.index[out.index.duplicated()].unique().tolist()
        raise DataError(f"{key} {_show(dup)} have more than one completed {wave!r} survey")
    return out


def mentor_scores(
    program: Program, *, instruments: Sequence[str] = ("proqol5", "stss")
) -> pd.DataFrame:
    """One row per completed mentor survey: well-being scores and mentor facts.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(mentor_id, wave)``: ``months``, the mentor's ``site, age, gender,
        training_hours, supervision, caseload`` and the scores of ``instruments``.

    Examples
    --------
    >>> from tim_research import synth
    >>> m = mentor_scores(synth.program(n_youth=40, seed=1), instruments=["stss"])
    >>> m.index.names, "stss_score" in m
    (FrozenList(['mentor_id', 'wave']), True)
    """
    program.require("mentors", "mentor_surveys", what="mentor_scores")
    surveys = _completed(program.mentor_surveys, "mentor_id")
    mentors = _not_stated(program.mentors.set_index("mentor_id"), ["gender"])
    out = surveys[["months"]].join(mentors[_MENTOR_COLUMNS], on="mentor_id")
    return out.join(score(surveys, list(instruments)))


def mentor_change(
    program: Program,
    *,
    values: Sequence[str] = ("stss_score", "proqol5_burnout"),
    pre_wave: str = "baseline",
    post_wave: str = "12m",
) -> pd.DataFrame:
    """One row per mentor: scores at two waves, program factors and closures in between.

    The frame of an analysis of change (ANCOVA: the later score regressed on the earlier one
    and the mentor's caseload, supervision and training), with what is needed to say who is
    missing from it and to link mentor stress to match closure.

    Parameters
    ----------
    program
        A program (``program.read_program`` or ``synth.program``).
    values
        Mentor scores (of the ProQOL 5 and STSS) compared between the waves.
    pre_wave, post_wave
        The earlier and the later mentor survey wave.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``mentor_id`` in the order of the mentors table, every mentor once:
        ``site``, ``age``, ``training_hours``, ``supervision``, ``supervision_step`` (the
        position of ``supervision`` in its ordered categories: 0 monthly, 1 fortnightly,
        2 weekly), ``caseload``, ``<value>_<wave>`` for each value and wave (NaN without a
        completed survey), ``status_<post_wave>`` (the survey status: completed, lost to
        follow-up, not yet due; missing when no survey was scheduled), ``complete`` (every
        value present at both waves), ``unplanned_closures`` (the mentor's matches that had
        closed for an unplanned reason by the data cut-off) and
        ``closures_before_<post_wave>`` (those that closed before the ``post_wave`` survey
        date; NaN without that survey).

    Examples
    --------
    >>> from tim_research import synth
    >>> c = mentor_change(synth.program(n_youth=60, seed=1))
    >>> c.index.name, c["supervision_step"].isin([0.0, 1.0, 2.0]).all()
    ('mentor_id', np.True_)
    >>> int(c["complete"].sum()) == int(c[["stss_score_12m", "proqol5_burnout_12m"]]
    ...                                  .notna().all(axis=1).sum())
    True
    """
    program.require("mentors", "mentor_surveys", what="mentor_change")
    values = [values] if isinstance(values, str) else list(values)
    if not values:
        raise DataError("values is empty: name at least one mentor score, e.g. 'stss_score'")
    if pre_wave == post_wave:
        raise DataError(f"pre_wave and post_wave are both {pre_wave!r}; name two waves")
    mentors = program.mentors.set_index("mentor_id")
    if mentors.index.has_duplicates:
        dup = list(mentors.index[mentors.index.duplicated()].unique())[:5]
        raise DataError(f"mentor_id repeats {dup} in the mentors table; keep one row per mentor")
    scores = mentor_scores(program)
    absent = [v for v in values if v not in scores.columns]
    if absent:
        raise DataError(
            f"values {absent} are not mentor scores; scores are {_show(list(scores.columns))}"
        )
    waves = set(map(str, program.mentor_surveys["wave"].astype(object)))
    unknown = [w for w in (pre_wave, post_wave) if w not in waves]
    if unknown:
        raise DataError(f"waves {unknown} are not in the mentor surveys; waves are {sorted(waves)}")
    out = mentors[["site", "age", "training_hours", "supervision", "caseload"]].copy()
    sup = out["supervision"]
    if not isinstance(sup.dtype, pd.CategoricalDtype):
        sup = pd.Categorical(sup, categories=list(SUPERVISION))
    out.insert(4, "supervision_step", pd.Series(sup, index=out.index).cat.codes.astype(float))
    out.loc[out["supervision"].isna(), "supervision_step"] = np.nan
    wave_of = scores.index.get_level_values("wave").astype(str)
    for v in values:
        for w in (pre_wave, post_wave):
            col = scores.loc[wave_of == w, v].droplevel("wave")
            out[f"{v}_{w}"] = col.reindex(out.index).astype(float)
    surveys = program.mentor_surveys
    post = surveys[surveys["wave"].astype(object).map(str) == post_wave].set_index("mentor_id")
    if post.index.has_duplicates:
        raise DataError(f"a mentor has more than one {post_wave!r} survey; keep one per mentor")
    status = post["status"].reindex(out.index)
    extra = sorted(set(status.dropna().astype(str)) - set(SURVEY_STATUS))
    out[f"status_{post_wave}"] = pd.Categorical(
        status.astype(object), categories=[*SURVEY_STATUS, *extra]
    )
    value_cols = [f"{v}_{w}" for v in values for w in (pre_wave, post_wave)]
    out["complete"] = out[value_cols].notna().all(axis=1)
    matches = program.matches
    durations = match_durations(matches, cutoff=program.cutoff, early_months=())
    unplanned = durations["unplanned_closure"].to_numpy(dtype=bool)
    per_mentor = (
        pd.Series(unplanned, index=matches.index).groupby(matches["mentor_id"].to_numpy()).sum()
    )
    out["unplanned_closures"] = per_mentor.reindex(out.index, fill_value=0).astype("int64")
    survey_date = pd.to_datetime(post["survey_date"]).reindex(out.index)
    ends = pd.to_datetime(matches["end_date"])
    before = unplanned & (ends.to_numpy() < survey_date.reindex(matches["mentor_id"]).to_numpy())
    counted = pd.Series(before, index=matches.index).groupby(matches["mentor_id"].to_numpy()).sum()
    out[f"closures_before_{post_wave}"] = (
        counted.reindex(out.index, fill_value=0).astype(float).where(survey_date.notna())
    )
    return out


def match_table(program: Program, *, early_months: Sequence[int] = (3, 6, 12)) -> pd.DataFrame:
    """One row per match: duration and closure (censored at the data cut-off), youth and mentor.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``match_id``: ``youth_id``, ``mentor_id``, ``start_date``, ``end_date``,
        ``closure_reason``, ``planned_months``, the columns of
        :func:`tim_research.stats.survival.match_durations`, the youth's ``site``, ``age`` and
        baseline ``ace10_score``, and the mentor's ``training_hours``, ``supervision`` and
        ``caseload``.

    Examples
    --------
    >>> from tim_research import synth
    >>> m = match_table(synth.program(n_youth=40, seed=1))
    >>> m.index.name, {"duration_months", "unplanned_closure", "training_hours"} <= set(m)
    ('match_id', True)
    """
    program.require("matches", "mentors", what="match_table")
    matches = program.matches.set_index("match_id")
    if matches.index.has_duplicates:
        dup = list(matches.index[matches.index.duplicated()].unique())[:5]
        raise DataError(f"match_id repeats {dup}; give every match its own id")
    if matches.empty:
        raise DataError("the program has no matches")
    durations = match_durations(matches, cutoff=program.cutoff, early_months=early_months)
    youth = program.youth.set_index("youth_id")[["site", "age"]]
    baseline = _completed(program.surveys, "youth_id").xs("baseline", level="wave")
    ace = score(baseline, "ace10")["ace10_score"]
    mentors = program.mentors.set_index("mentor_id")[["training_hours", "supervision", "caseload"]]
    out = matches.join(durations.drop(columns=["closure_reason"], errors="ignore"))
    out = out.join(youth, on="youth_id").join(ace, on="youth_id").join(mentors, on="mentor_id")
    return out


_PERSON_COLUMNS = [*_YOUTH_COLUMNS, "arm", "ace10_score", "ace10_score_category"]


def wide_scores(
    scores: pd.DataFrame,
    *,
    values: Sequence[str] = ("brs_score", "cyrm_r_score"),
    keep: Sequence[str] | None = None,
    waves: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Baseline and follow-up side by side: one row per person, one column per value and wave.

    Parameters
    ----------
    scores
        Indexed by (person, wave), like :func:`youth_scores`.
    values
        Columns that change between waves; each becomes ``<value>_<wave>`` (e.g.
        ``brs_score_12m``), NaN where the person has no survey of that wave.
    keep
        Person-level columns carried over once (default: the youth facts of
        :func:`youth_scores` that are present: ``site, age, ..., arm, ace10_score,
        ace10_score_category``). They must not vary between a person's waves.
    waves
        Waves in column order (default: in order of first appearance).

    Returns
    -------
    pandas.DataFrame
        Indexed by person in order of first appearance: the ``keep`` columns, then the value
        columns wave by wave.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples(
    ...     [("y2", "baseline"), ("y1", "baseline"), ("y2", "12m")], names=["youth_id", "wave"])
    >>> s = pd.DataFrame({"site": ["A", "B", "A"], "brs_score": [3.0, 4.0, 3.5]}, index=idx)
    >>> wide_scores(s, values=["brs_score"], keep=["site"])
             site  brs_score_baseline  brs_score_12m
    youth_id
    y2          A                 3.0            3.5
    y1          B                 4.0            NaN
    """
    if not isinstance(scores, pd.DataFrame) or scores.index.nlevels != 2:
        raise DataError(
            "scores must be a DataFrame indexed by (person, wave), e.g. from youth_scores()"
        )
    if scores.index.has_duplicates:
        dup = scores.index[scores.index.duplicated()].unique()
        raise DataError(f"scores has repeated (person, wave) rows {list(dup)[:5]}")
    values = [values] if isinstance(values, str) else list(values)
    keep = [c for c in _PERSON_COLUMNS if c in scores] if keep is None else list(keep)
    missing = [c for c in [*values, *keep] if c not in scores]
    if missing:
        raise DataError(f"scores has no column(s) {missing}; it has {list(scores.columns)}")
    person, wave = scores.index.names
    labels = scores.index.get_level_values(1)
    order = list(pd.unique(labels)) if waves is None else list(waves)
    unknown = sorted(set(map(str, pd.unique(labels))) - set(map(str, order)))
    if unknown:
        raise DataError(f"scores has waves {unknown} that are not in waves={order}")
    people = pd.Index(pd.unique(scores.index.get_level_values(0)), name=person)
    grouped = scores[keep].groupby(level=0, sort=False)
    varying = [c for c in keep if (grouped[c].nunique(dropna=False) > 1).any()]
    if varying:
        raise DataError(
            f"keep columns {varying} differ between waves of the same person; pass them in "
            "values instead"
        )
    out = grouped.first().reindex(people)
    for v in values:
        spread = scores[v].unstack(level=1)
        for w in order:
            col = spread[w] if w in spread else pd.Series(np.nan, index=spread.index)
            out[f"{v}_{w}"] = col.reindex(people)
    return out


@dataclass(frozen=True)
class GrowthData:
    """Long data and the model terms for :func:`tim_research.stats.outcomes.growth_model`.

    Fit with ``growth_model(g.frame, **g.spec)``.
    """

    frame: pd.DataFrame
    outcome: str
    time: str
    subject: str
    predictors: tuple[str, ...]

    @property
    def spec(self) -> dict[str, object]:
        """Keyword arguments of ``growth_model`` naming the columns of :attr:`frame`."""
        return {
            "outcome": self.outcome,
            "time": self.time,
            "subject": self.subject,
            "predictors": list(self.predictors),
        }

    def to_frame(self) -> pd.DataFrame:
        """The long analysis frame."""
        return self.frame

    def _repr_html_(self) -> str:
        head = html.escape(
            f"{self.outcome} ~ {self.time} + {' + '.join(self.predictors)} ({len(self.frame)} rows)"
        )
        return f"<div><strong>{head}</strong></div>"


def growth_frame(
    scores: pd.DataFrame,
    *,
    outcome: str,
    moderator: str | None = "ace10_score_category",
    moderator_label: str = "ACE",
    dose: str = "matched_months",
) -> GrowthData:
    """Long analysis frame for a growth model where mentoring works through months matched.

    The terms are: ``years`` (months since baseline / 12: change common to everybody),
    ``mentored`` (1 for the mentored arm: the baseline difference between arms; left out when
    the data hold one arm), ``matched_years`` (``dose`` / 12, months matched by the survey date:
    the change per 12 months of mentoring, so match length enters directly), and for each
    level of ``moderator`` but the first a dummy ``"<label> <level>"`` (its baseline
    difference) and an interaction ``"matched_years x <label> <level>"`` (how much more or less
    a year matched changes the outcome in that group: "for whom does mentoring work").

    Parameters
    ----------
    scores
        Indexed by (person, wave) with ``months``, ``arm``, ``dose`` and the moderator, like
        :func:`youth_scores`.
    outcome
        Outcome column, e.g. ``"brs_score"``.
    moderator
        Categorical column (its first level present is the reference), or ``None``. Levels
        with no rows are left out, and so is an interaction whose group has no months matched
        (the column would be all zero). Rows with a missing moderator get missing dummies, so
        ``growth_model`` drops and counts them.
    moderator_label
        Prefix of the moderator's term names.
    dose
        Months matched by each survey date.

    Returns
    -------
    GrowthData
        ``frame`` aligned to ``scores.index`` with the person id as a column, and the names of
        the terms.

    Examples
    --------
    >>> from tim_research import synth
    >>> g = growth_frame(youth_scores(synth.program(n_youth=80, seed=3)), outcome="brs_score")
    >>> g.predictors[:3], g.spec["subject"]
    (('mentored', 'matched_years', 'ACE 1'), 'youth_id')
    """
    if not isinstance(scores, pd.DataFrame) or scores.index.nlevels != 2:
        raise DataError(
            "scores must be a DataFrame indexed by (person, wave), e.g. from youth_scores()"
        )
    need = [outcome, "months", "arm", dose] + ([moderator] if moderator else [])
    missing = [c for c in need if c not in scores]
    if missing:
        raise DataError(f"scores has no column(s) {missing}; it has {list(scores.columns)}")
    subject = scores.index.names[0] or "person"
    frame = pd.DataFrame(index=scores.index)
    frame[subject] = scores.index.get_level_values(0)
    frame[outcome] = scores[outcome].astype(float)
    frame["years"] = scores["months"].astype(float) / 12.0
    seen = scores[outcome].notna()
    predictors: list[str] = []
    arms = scores.loc[seen, "arm"].dropna().unique()
    if len(arms) > 1:
        frame["mentored"] = (scores["arm"] == "mentored").astype(float).where(scores["arm"].notna())
        predictors.append("mentored")
    frame["matched_years"] = scores[dose].astype(float) / 12.0
    predictors.append("matched_years")
    if moderator:
        mod = scores[moderator]
        levels = list(mod.cat.categories) if isinstance(mod.dtype, pd.CategoricalDtype) else None
        if levels is None:
            raise DataError(
                f"moderator {moderator!r} must be categorical (bands); band a numeric column "
                "with tables.band()"
            )
        present = [lv for lv in levels if (mod[seen] == lv).any()]
        dummies, products = [], []
        for level in present[1:]:
            name = f"{moderator_label} {level}"
            frame[name] = (mod == level).astype(float).where(mod.notna())
            dummies.append(name)
            product = frame["matched_years"] * frame[name]
            if (product[seen].fillna(0) != 0).any():
                frame[f"matched_years x {name}"] = product
                products.append(f"matched_years x {name}")
        predictors += dummies + products
    return GrowthData(
        frame=frame, outcome=outcome, time="years", subject=subject, predictors=tuple(predictors)
    )


def band(
    values: pd.Series,
    *,
    breaks: Sequence[float],
    labels: Sequence[str] | None = None,
    unit: str = "",
    zero: str | None = None,
) -> pd.Series:
    """Cut a numeric column into ordered bands at documented breaks.

    Band ``k`` holds ``breaks[k] <= x < breaks[k + 1]``; the last band is open-ended
    (``x >= breaks[-1]``). With ``zero``, values exactly 0 form a band of their own, first.

    Parameters
    ----------
    values
        Numeric Series; missing values stay missing. Values below ``breaks[0]`` raise.
    breaks
        Increasing left edges, e.g. ``[0, 10, 20]`` for "0 to <10", "10 to <20", "20+".
    labels
        Band names (one per break); default built from the breaks and ``unit``.
    unit
        Appended to default labels, e.g. ``" h"``.
    zero
        Label of a separate band for exact zeros (e.g. ``"not matched"``).

    Returns
    -------
    pandas.Series
        Ordered categorical aligned to ``values``, named ``<name>_band``.

    Examples
    --------
    >>> hours = pd.Series([0.0, 9.5, 10.0, 35.0, None], index=list("edcba"), name="hours")
    >>> band(hours, breaks=[0, 10, 20], unit=" h").tolist()
    ['0 to <10 h', '0 to <10 h', '10 to <20 h', '20+ h', nan]
    """
    if not isinstance(values, pd.Series):
        raise DataError(f"values must be a pandas Series, got {type(values).__name__}")
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise DataError(f"values must be numeric, got dtype {values.dtype}")
    edges = [float(b) for b in breaks]
    if not edges or any(not math.isfinite(b) for b in edges) or np.any(np.diff(edges) <= 0):
        raise DataError(f"breaks must be finite and strictly increasing, got {list(breaks)}")
    x = values.to_numpy(dtype=float, na_value=np.nan)
    below = np.flatnonzero(x < edges[0])
    if below.size:
        rows = ", ".join(repr(values.index[i]) for i in below[:5])
        raise DataError(
            f"{values.name or 'values'} has values below the first break {edges[0]:g} "
            f"({', '.join(f'{v:g}' for v in x[below][:5])}) at rows {rows}; lower breaks[0]"
        )
    if labels is None:
        names = [
            f"{'>' if zero is not None and lo == 0 else ''}{lo:g} to <{hi:g}{unit}"
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        ] + [f"{edges[-1]:g}+{unit}"]
    else:
        names = [str(lb) for lb in labels]
        if len(names) != len(edges):
            raise DataError(f"labels needs one name per break ({len(edges)}), got {len(names)}")
    codes = np.searchsorted(edges, x, side="right") - 1
    categories = list(names)
    if zero is not None:
        if zero in categories:
            raise DataError(f"zero label {zero!r} repeats a band label")
        categories = [zero, *categories]
        codes = np.where(x == 0, 0, codes + 1)
    codes = np.where(np.isnan(x), -1, codes)
    cat = pd.Categorical.from_codes(codes, categories=categories, ordered=True)
    return pd.Series(cat, index=values.index, name=f"{values.name or 'values'}_band")


def youth_contact(program: Program, *, months: int = 12, early_months: int = 3) -> pd.DataFrame:
    """Mentoring each youth received in the first ``months`` after enrolment, from meetings.

    Dose as *received*: months matched depend on the match lasting, which depends on the
    youth and the mentor, so these columns describe associations, not doses that were
    assigned.

    Parameters
    ----------
    program
        A program with ``matches``; without ``meetings`` the four contact columns are
        missing (NaN) for everyone.
    months
        Window after each youth's enrolment date (12 = up to the 12-month survey).
    early_months
        A match that closed for an unplanned reason within this many months of its start
        counts as an early closure.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``youth_id`` in the order of ``program.youth``: ``site``, ``arm``,
        ``mentor_id`` (of the youth's first match; empty without a match),
        ``matched_months`` (months matched inside the window, summed over matches; 0 for
        comparison youth), ``early_closure`` (1.0 when a match closed unplanned within
        ``early_months``, else 0.0), ``meetings`` (count inside the window),
        ``meetings_per_month`` (per month matched), ``minutes_per_meeting`` and
        ``share_in_person`` (NaN without a meeting).

    Examples
    --------
    >>> from tim_research import synth
    >>> c = youth_contact(synth.program(n_youth=60, seed=1))
    >>> c.index.name, bool((c.loc[c["arm"] == "comparison", "matched_months"] == 0).all())
    ('youth_id', True)
    """
    program.require("matches", what="youth_contact")
    youth = program.youth.set_index("youth_id")
    start = youth["enrolment_date"]
    stop = start + pd.DateOffset(months=months)
    out = pd.DataFrame(index=youth.index)
    out["site"] = youth["site"]
    out["arm"] = _arm(youth["comparison"])
    matches = program.matches.copy()
    matches["end"] = matches["end_date"].fillna(program.cutoff)
    matches["w_start"] = matches["youth_id"].map(start)
    matches["w_stop"] = (
        matches["youth_id"]
        .map(stop)
        .where(matches["youth_id"].map(stop) < program.cutoff, program.cutoff)
    )
    lo = matches[["start_date", "w_start"]].max(axis=1)
    hi = matches[["end", "w_stop"]].min(axis=1)
    matches["months_in"] = ((hi - lo).dt.days.clip(lower=0)) / (365.25 / 12)
    durations = match_durations(
        matches.set_index("match_id"), cutoff=program.cutoff, early_months=[early_months]
    )
    early = durations[f"early_closure_{early_months}m"] & durations["unplanned_closure"]
    matches["early"] = matches["match_id"].map(early).astype(float)
    first = matches.sort_values("start_date").drop_duplicates("youth_id").set_index("youth_id")
    out["mentor_id"] = first["mentor_id"].reindex(out.index)
    out["matched_months"] = matches.groupby("youth_id")["months_in"].sum().reindex(out.index)
    out["matched_months"] = out["matched_months"].fillna(0.0)
    out["early_closure"] = matches.groupby("youth_id")["early"].max().reindex(out.index)
    out["early_closure"] = out["early_closure"].fillna(0.0)
    matched = out["matched_months"].where(out["matched_months"] > 0)
    if program.meetings is None:
        # no meetings table: contact is unknown (missing), not zero
        for column in ("meetings", "meetings_per_month", "minutes_per_meeting", "share_in_person"):
            out[column] = np.nan
        return out
    meets = program.meetings.merge(
        matches[["match_id", "youth_id", "w_start", "w_stop"]], on="match_id", how="inner"
    )
    meets = meets[(meets["date"] >= meets["w_start"]) & (meets["date"] < meets["w_stop"])]
    meets = meets.assign(in_person=(meets["mode"] == "in person").astype(float))
    per = meets.groupby("youth_id").agg(
        meetings=("match_id", "size"),
        minutes_per_meeting=("minutes", "mean"),
        share_in_person=("in_person", "mean"),
    )
    out["meetings"] = per["meetings"].reindex(out.index).fillna(0).astype(float)
    out["meetings_per_month"] = out["meetings"] / matched
    out["minutes_per_meeting"] = per["minutes_per_meeting"].reindex(out.index)
    out["share_in_person"] = per["share_in_person"].reindex(out.index)
    return out


def relationship_scores(program: Program) -> pd.DataFrame:
    """One row per completed relationship survey: youth and mentor scores, match facts.

    The youth report is scored on the YSoR (``ysor_score``, 1-5) and the Youth-Centered
    Relationship scale (``youth_centered_score``, 1-4), the mentor report on the MSoR total
    only (``msor_score``, 1-5): its subscale item map is unverified (see the instrument's
    ``caveat``), so no subscale is scored here.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(match_id, reporter, wave)`` in table order: ``months`` (since the match
        started), ``survey_date``, the three scores (empty for the other reporter), the
        match's ``youth_id``, ``mentor_id`` and the youth's ``site``.

    Examples
    --------
    >>> from tim_research import synth
    >>> r = relationship_scores(synth.program(n_youth=60, seed=1))
    >>> r.index.names, sorted(set(r.index.get_level_values("reporter")))
    (FrozenList(['match_id', 'reporter', 'wave']), ['mentor', 'youth'])
    """
    program.require("relationship_surveys", "matches", what="relationship_scores")
    rel = program.relationship_surveys
    done = rel[rel["status"] == "completed"].set_index(["match_id", "reporter", "wave"])
    if done.index.has_duplicates:
        raise DataError(
            "completed relationship surveys repeat (match_id, reporter, wave); keep one survey "
            "per match, reporter and wave"
        )
    out = done[["months", "survey_date"]].copy()
    youth = done.index.get_level_values("reporter") == "youth"
    parts = {
        "ysor": score(done[youth], "ysor")["ysor_score"],
        "youth_centered": score(done[youth], "youth_centered")["youth_centered_score"],
        "msor": score(done[~youth], "msor")["msor_score"],
    }
    for inst, values in parts.items():
        out[f"{inst}_score"] = values.reindex(out.index)
    matches = program.matches.set_index("match_id")[["youth_id", "mentor_id"]]
    out = out.join(matches, on="match_id")
    site = program.youth.set_index("youth_id")["site"]
    out["site"] = out["youth_id"].map(site)
    return out


def pce_scores(program: Program) -> pd.DataFrame:
    """PCE count (0-7) and band of each youth at enrolment, with the baseline ACE score.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``youth_id`` (youth with a PCE survey): ``pce_score``,
        ``pce_score_category`` (0-2, 3-5, 6-7), ``site``, ``ace10_score`` and
        ``ace10_score_category`` from the baseline survey.

    Examples
    --------
    >>> from tim_research import synth
    >>> t = pce_scores(synth.program(n_youth=60, seed=1))
    >>> list(t.columns[:2]), int(t["pce_score"].max()) <= 7
    (['pce_score', 'pce_score_category'], True)
    """
    program.require("pce_surveys", what="pce_scores")
    pce = program.pce_surveys.set_index("youth_id")
    if pce.index.has_duplicates:
        raise DataError("pce_surveys repeats youth_id; keep one PCE survey per youth")
    out = score(pce, "pce")[["pce_score", "pce_score_category"]]
    baseline = _completed(program.surveys, "youth_id").xs("baseline", level="wave")
    ace = score(baseline, "ace10")[["ace10_score", "ace10_score_category"]]
    out["site"] = out.index.map(program.youth.set_index("youth_id")["site"])
    return out.join(ace)


def goal_scores(program: Program, *, rho: float = 0.3, latest: bool = False) -> pd.DataFrame:
    """GAS T-score per youth and review, with months matched by the review and the site.

    :func:`tim_research.stats.goals.gas_tscores` on the ``goals`` table (attained levels,
    expected levels for the share met, the goals' weights), one row per youth and review date.

    Parameters
    ----------
    program
        A program with a ``goals`` table (and ``matches`` for the months matched).
    rho
        Assumed average correlation between the goal scales (Kiresuk & Sherman; 0.3).
    latest
        Keep only each young person's latest review: where their goals stand now (its
        ``t_score`` is NaN when no goal was rated at that review; an earlier review does not
        stand in for it).

    Returns
    -------
    pandas.DataFrame
        ``youth_id``, ``review_date``, ``review`` (the review's label), ``n_goals``,
        ``n_unrated``, ``t_score``, ``share_met``, ``site`` and ``matched_months`` (months
        from the youth's first match start to the review; NaN without a matches table).

    Examples
    --------
    >>> from tim_research import synth
    >>> p = synth.program(n_youth=60, seed=1)
    >>> g = goal_scores(p)
    >>> {"t_score", "share_met", "matched_months"} <= set(g.columns)
    True
    >>> now = goal_scores(p, latest=True)
    >>> now["youth_id"].is_unique, len(now) == g["youth_id"].nunique()
    (True, True)
    """
    program.require("goals", what="goal_scores")
    goals = program.goals
    out = gas_tscores(
        goals,
        youth="youth_id",
        review="review_date",
        expected="expected",
        weight="weight",
        rho=rho,
    )
    labels = goals.drop_duplicates(["youth_id", "review_date"]).set_index(
        ["youth_id", "review_date"]
    )["review"]
    keys = pd.MultiIndex.from_frame(out[["youth_id", "review_date"]])
    out.insert(2, "review", labels.reindex(keys).to_numpy())
    out["site"] = out["youth_id"].map(program.youth.set_index("youth_id")["site"])
    if program.matches is None:
        out["matched_months"] = np.nan
        return _latest(out) if latest else out
    first = program.matches.groupby("youth_id", observed=True)["start_date"].min()
    days = (out["review_date"] - out["youth_id"].map(first)).dt.days
    out["matched_months"] = (days / (365.25 / 12)).astype("float64")
    return _latest(out) if latest else out


def _latest(scores: pd.DataFrame) -> pd.DataFrame:
    # gas_tscores sorts by youth and review date: each youth's last row is the latest review
    return scores.groupby("youth_id", sort=False).tail(1).reset_index(drop=True)
