"""Analysis-ready tables built from a program's linked tables (one call per notebook step)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tim_research.errors import DataError
from tim_research.schema import Program
from tim_research.scoring import score

__all__ = ["baseline_items", "match_table", "mentor_scores", "youth_scores"]

_YOUTH_COLUMNS = ["site", "age", "gender", "race_ethnicity", "referral_source", "comparison"]
_MENTOR_COLUMNS = ["site", "age", "gender", "training_hours", "supervision", "caseload"]


def _completed(surveys: pd.DataFrame, key: str) -> pd.DataFrame:
    done = surveys[surveys["status"] == "completed"]
    return done.set_index([key, "wave"], verify_integrity=True)


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
        A program (``io.read_program`` or ``synth.program``).
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
        ("mentored"/"comparison"; empty gender and race/ethnicity as "not stated"), the scores of ``instruments``, the baseline ``ace10_score``,
        ``ace10_score_category`` (carried to every wave), and ``matched_months`` (months of
        mentoring by the survey date, summed over the youth's matches; 0 for comparison youth).

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
    go straight into :func:`tim_research.prevalence.indicators`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``youth_id``: ``site, age, gender, race_ethnicity, referral_source,
        comparison`` and the item columns.
    """
    from tim_research.instruments import load_instrument

    inst = load_instrument(instrument)
    baseline = _completed(program.surveys, "youth_id").xs("baseline", level="wave")
    items = baseline[list(inst.item_ids)]
    youth = _not_stated(
        program.youth.set_index("youth_id")[_YOUTH_COLUMNS], ["gender", "race_ethnicity"]
    )
    return youth.reindex(items.index).join(items)


def mentor_scores(
    program: Program, *, instruments: Sequence[str] = ("proqol5", "stss")
) -> pd.DataFrame:
    """One row per completed mentor survey: well-being scores and mentor facts.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(mentor_id, wave)``: ``months``, the mentor's ``site, age, gender,
        training_hours, supervision, caseload`` and the scores of ``instruments``.
    """
    surveys = _completed(program.mentor_surveys, "mentor_id")
    mentors = _not_stated(program.mentors.set_index("mentor_id"), ["gender"])
    out = surveys[["months"]].join(mentors[_MENTOR_COLUMNS], on="mentor_id")
    return out.join(score(surveys, list(instruments)))


def match_table(program: Program, *, early_months: Sequence[int] = (3, 6, 12)) -> pd.DataFrame:
    """One row per match: duration and closure (censored at the data cut-off), youth and mentor.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``match_id``: ``youth_id``, ``mentor_id``, ``start_date``, ``end_date``,
        ``closure_reason``, ``planned_months``, the columns of
        :func:`tim_research.matches.match_durations`, the youth's ``site``, ``age`` and baseline
        ``ace10_score``, and the mentor's ``training_hours``, ``supervision`` and ``caseload``.
    """
    from tim_research.matches import match_durations

    matches = program.matches.set_index("match_id", verify_integrity=True)
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
