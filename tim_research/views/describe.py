"""Overview tables a program evaluator needs before any analysis, and a site's key numbers.

- :func:`enrolment`: youth enrolled per month, quarter or year, by site.
- :func:`demographics`: counts and shares of gender, race/ethnicity, age band and referral
  source, by site.
- :func:`youth_status` and :func:`match_status`: where each young person stands at the data
  cut-off (comparison group, never matched, match active, closed as planned, closed
  unplanned), and the counts by site.
- :func:`survey_completion`: surveys completed, lost to follow-up and not yet due, by wave.
- :func:`early_closure`: share of matches that ended for an unplanned reason within N
  calendar months, planned completion competing
  (:func:`tim_research.stats.competing.early_closure` on the program's matches).
- :func:`data_quality`: the loader's validation of a data package, table by table.
- :func:`key_numbers`: the first table of a site report (measure, value, note).
- :func:`most_common`: a headline naming the most common category of a table, from the cells
  it shows.

Count tables hide small counts with :func:`tim_research.privacy.suppress` (and the cells that
would reveal them); ``min_cell=0`` shows every count. Suppression is for display: analyses
use the full counts.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from tim_research._checks import check_min_cell
from tim_research.errors import DataError, SmallCellWarning
from tim_research.instruments import load_instrument
from tim_research.privacy import suppress, suppression_mask
from tim_research.program import read_program, validate_program
from tim_research.program.schema import (
    SURVEY_STATUS,
    TABLE_DESCRIPTIONS,
    WAVE_MONTHS,
    Program,
    item_instrument,
)
from tim_research.stats import competing
from tim_research.stats.outcomes import change_table, group_means
from tim_research.stats.prevalence import distribution, prevalence
from tim_research.stats.survival import match_durations, median_survival
from tim_research.views.tables import (
    band,
    goal_scores,
    relationship_scores,
    wide_scores,
    youth_scores,
)
from tim_research.vocabulary import PLANNED_REASONS

__all__ = [
    "STATUSES",
    "DataQuality",
    "data_quality",
    "demographics",
    "early_closure",
    "enrolment",
    "key_numbers",
    "match_outcomes",
    "match_status",
    "most_common",
    "survey_completion",
    "youth_status",
]

TOTAL = "All"
"""Label of the totals row and column of the count tables."""

NOT_STATED = "not stated"

OTHER = "other"
"""Label under which undeclared categories shared by fewer than ``min_cell`` youth are counted."""

STATUSES: tuple[str, ...] = (
    "comparison group",
    "never matched",
    "match active",
    "closed as planned",
    "closed unplanned",
)
"""Where a young person stands at the data cut-off (see :func:`youth_status`)."""

_PERIODS = {"month": "M", "quarter": "Q", "year": "Y"}
_DEMOGRAPHICS = ("gender", "race_ethnicity", "age", "referral_source")


# --------------------------------------------------------------------------- checks


def _check_program(program: Any) -> Program:
    if not isinstance(program, Program):
        raise DataError(
            f"program must be a tim_research Program (from program.read_program or synth.program), "
            f"got {type(program).__name__}"
        )
    return program


def _rows_text(mask: pd.Series) -> str:
    """Rows of a mask by position, for messages: ids and values are never repeated in them."""
    pos = np.flatnonzero(mask.to_numpy(dtype=bool))
    more = f" and {len(pos) - 8} more" if len(pos) > 8 else ""
    return f"rows {', '.join(str(int(i) + 1) for i in pos[:8])}{more} by position, from 1"


def _pool_rare(values: pd.Series, min_cell: int) -> pd.Series:
    """Values with undeclared labels shared by fewer than ``min_cell`` rows replaced by "other".

    A label reaches a published table only when the schema declares it (a categorical: its
    categories come from the ``enum``, not from the data) or when at least ``min_cell``
    people share it: a free-text label held by one youth ("referred by Dr Smith's clinic")
    can point to that youth even with its count hidden.
    """
    if isinstance(values.dtype, pd.CategoricalDtype) or min_cell == 0:
        return values
    text = values.astype(object).where(values.isna(), values.map(str))
    counts = text.value_counts()
    rare = counts.index[counts < min_cell]
    return text.where(~text.isin(rare), OTHER)


def _group_labels(
    frame: pd.DataFrame, by: str | None, what: str, *, min_cell: int
) -> tuple[pd.Series, list[str]]:
    """Group label of each row as text ("not stated" when missing) and the groups in order.

    Undeclared labels shared by fewer than ``min_cell`` rows are grouped as "other"
    (:func:`_pool_rare`), listed after the others.
    """
    if by is None:
        return pd.Series(TOTAL, index=frame.index), []
    if not isinstance(by, str) or by not in frame.columns:
        raise DataError(
            f"by={by!r} is not a column of the {what} table; use one of {list(frame.columns)} "
            "or None"
        )
    values = _pool_rare(frame[by], min_cell)
    if isinstance(values.dtype, pd.CategoricalDtype):
        order = [str(c) for c in values.cat.categories if (values == c).any()]
    else:
        order = _label_order(values)
    labels = values.astype(object).where(values.notna(), NOT_STATED).map(str)
    if values.isna().any():
        order.append(NOT_STATED)
    if TOTAL in order:
        raise DataError(
            f"column {by!r} has a value {TOTAL!r}, which is the label of the totals; "
            "rename that value"
        )
    return labels, order


def _label_order(values: pd.Series) -> list[str]:
    """Labels of a pooled, non-categorical column: sorted, with "other" last."""
    present = pd.unique(values.dropna())
    order = [str(v) for v in sorted(v for v in present if v != OTHER)]
    return order + ([OTHER] if OTHER in set(present) else [])


def _hide(
    counts: pd.DataFrame,
    *,
    min_cell: int,
    count_columns: Sequence[str],
    total_row: Any = None,
    total_column: Any = None,
    derived: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Suppressed display copy of one count block and the number of cells hidden."""
    if min_cell == 0:
        return counts, 0
    hidden = int(
        suppression_mask(
            counts[list(count_columns)],
            min_cell=min_cell,
            total_row=total_row,
            total_column=total_column,
        )
        .to_numpy()
        .sum()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCellWarning)
        out = suppress(
            counts,
            min_cell=min_cell,
            count_columns=list(count_columns),
            total_row=total_row,
            total_column=total_column,
            derived=dict(derived or {}),
        )
    return out, hidden


def _warn_hidden(hidden: int, min_cell: int, what: str) -> None:
    if hidden:
        warnings.warn(
            f"{what}: {hidden} cell(s) hidden: counts below min_cell={min_cell} are shown as "
            f"'<{min_cell}', and cells that would let them be worked out from the totals as 'x'",
            SmallCellWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------- enrolment


def enrolment(
    program: Program,
    *,
    period: Literal["month", "quarter", "year"] = "quarter",
    by: str | None = "site",
    min_cell: int = 5,
) -> pd.DataFrame:
    """Youth enrolled per period and group, with totals and small counts hidden.

    Parameters
    ----------
    program
        A program (``program.read_program`` or ``synth.program``).
    period
        ``"month"``, ``"quarter"`` or ``"year"`` of the enrolment date. Every period from the
        first to the last enrolment is listed, so a period with nobody enrolled shows 0.
    by
        Column of the youth table giving the columns of the table (default ``"site"``; only
        groups present in the data), or ``None`` for the total only.
    min_cell
        Counts from 1 to ``min_cell - 1`` are shown as ``"<min_cell"`` and the cells that would
        reveal them as ``"x"`` (:func:`tim_research.privacy.suppress`); a
        :class:`~tim_research.errors.SmallCellWarning` says how many. ``0`` shows all counts.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` (``"2021Q3"``, ``"2021-09"`` or ``"2021"``) with a last row
        ``"All"``; one column per group and a last column ``"All"``. Whole numbers when
        nothing is hidden, else text cells where hidden (object dtype).

    Examples
    --------
    >>> from tim_research import synth
    >>> t = enrolment(synth.program(n_youth=80, seed=1), period="year", min_cell=0)
    >>> list(t.columns), int(t.loc["All", "All"])
    (['North', 'South', 'East', 'West', 'All'], 80)
    """
    _check_program(program)
    min_cell = check_min_cell(min_cell)
    if period not in _PERIODS:
        raise DataError(f"period must be one of {list(_PERIODS)}, got {period!r}")
    youth = program.youth
    if youth.empty:
        raise DataError("the program has no youth; there is no enrolment to count")
    dates = pd.to_datetime(youth["enrolment_date"])
    if dates.isna().any():
        raise DataError(
            f"enrolment_date is missing in the youth table ({_rows_text(dates.isna())}); every "
            "enrolled youth needs a date"
        )
    periods = dates.dt.to_period(_PERIODS[period])
    labels, groups = _group_labels(youth, by, "youth", min_cell=min_cell)
    full = pd.period_range(periods.min(), periods.max(), freq=_PERIODS[period])
    counts = pd.crosstab(periods, labels).reindex(index=full, columns=groups, fill_value=0)
    counts = counts.astype("int64")
    counts[TOTAL] = periods.value_counts().reindex(full, fill_value=0).astype("int64")
    counts.index = pd.Index([str(p) for p in counts.index], name="period")
    counts.columns = pd.Index([str(c) for c in counts.columns])
    counts.loc[TOTAL] = counts.sum(axis=0)
    out, hidden = _hide(
        counts,
        min_cell=min_cell,
        count_columns=list(counts.columns),
        total_row=TOTAL,
        total_column=TOTAL,
    )
    _warn_hidden(hidden, min_cell, "enrolment")
    return out


# --------------------------------------------------------------------------- demographics


def _age_bands(age: pd.Series, breaks: Sequence[int]) -> pd.Series:
    edges = [int(b) for b in breaks]
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:])] + [f"{edges[-1]}+"]
    return band(age.astype("float64"), breaks=edges, labels=labels)


def demographics(
    program: Program,
    *,
    columns: Sequence[str] = _DEMOGRAPHICS,
    by: str | None = "site",
    age_breaks: Sequence[int] = (8, 11, 14),
    min_cell: int = 5,
) -> pd.DataFrame:
    """Counts and column percentages of youth characteristics, by group, small counts hidden.

    Parameters
    ----------
    program
        A program.
    columns
        Youth-table columns described, in order. ``age`` is shown in bands (``age_breaks``).
        An empty answer is counted as ``"not stated"``, listed last.
    by
        Youth-table column whose groups become columns (default ``"site"``), or ``None``.
    age_breaks
        Left edges of the age bands; the last band is open-ended (``8-10, 11-13, 14+``).
    min_cell
        As in :func:`enrolment`; suppression is done for each characteristic separately,
        taking the group sizes (published in :func:`enrolment`) as known.

    Returns
    -------
    pandas.DataFrame
        ``variable``, ``category``, then for each group and for ``"All"`` the count
        ``<group>`` and ``<group> %`` (percent of that group's youth). Categories of a
        categorical column (an ``enum`` of the schema) keep their order and are all listed,
        zeros included. A column without declared categories (free text) lists only the
        labels that at least ``min_cell`` youth share; the rest are counted together as
        ``"other"`` (listed before ``"not stated"``), so no label held by a few youth is
        published even with its count hidden. The same holds for the groups of ``by`` here
        and in the other tables of this module.

    Examples
    --------
    >>> from tim_research import synth
    >>> t = demographics(synth.program(n_youth=80, seed=1), columns=["gender"], min_cell=0)
    >>> t.columns[:4].tolist(), int(t["All"].sum())
    (['variable', 'category', 'North', 'North %'], 80)
    """
    _check_program(program)
    min_cell = check_min_cell(min_cell)
    youth = program.youth
    if youth.empty:
        raise DataError("the program has no youth to describe")
    columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in columns if c not in youth.columns]
    if missing or not columns:
        raise DataError(
            f"columns {missing or columns} are not youth columns; describe some of "
            f"{list(youth.columns)}"
        )
    labels, groups = _group_labels(youth, by, "youth", min_cell=min_cell)
    blocks, hidden = [], 0
    for col in columns:
        values = _age_bands(youth[col], age_breaks) if col == "age" else youth[col]
        values = _pool_rare(values, min_cell)
        if isinstance(values.dtype, pd.CategoricalDtype):
            order = [str(c) for c in values.cat.categories]
        else:
            order = _label_order(values)
        if values.isna().any():
            order.append(NOT_STATED)
        cats = values.astype(object).where(values.notna(), NOT_STATED).map(str)
        counts = pd.crosstab(cats, labels).reindex(index=order, columns=groups, fill_value=0)
        counts = counts.astype("int64")
        counts.columns = [str(c) for c in counts.columns]
        counts[TOTAL] = cats.value_counts().reindex(order, fill_value=0).astype("int64")
        block = pd.DataFrame(index=counts.index)
        derived = {}
        for g in counts.columns:
            block[g] = counts[g]
            total = counts[g].sum()
            block[f"{g} %"] = 100.0 * counts[g] / total if total else np.nan
            derived[f"{g} %"] = g
        block, n = _hide(
            block,
            min_cell=min_cell,
            count_columns=list(counts.columns),
            total_column=TOTAL,
            derived=derived,
        )
        hidden += n
        block.insert(0, "category", block.index)
        block.insert(0, "variable", col)
        blocks.append(block.reset_index(drop=True))
    _warn_hidden(hidden, min_cell, "demographics")
    return pd.concat(blocks, ignore_index=True)


# --------------------------------------------------------------------------- match status


def youth_status(
    program: Program, *, planned_reasons: Sequence[str] = PLANNED_REASONS
) -> pd.DataFrame:
    """Where each young person stands at the data cut-off, one row per youth.

    A youth with a match takes the status of their latest match (by start date): ``"match
    active"`` (no end date, or an end after the cut-off), ``"closed as planned"`` (closure
    reason in ``planned_reasons``) or ``"closed unplanned"`` (any other reason, or none
    recorded). A youth without a match is ``"comparison group"`` (waitlist comparison) or
    ``"never matched"``.

    Parameters
    ----------
    program
        A program.
    planned_reasons
        Closure reasons that mean the match ran its planned course.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``youth_id`` in the order of the youth table: ``site``, ``n_matches`` and
        ``status`` (categorical with the categories :data:`STATUSES`). Person-level: use it
        as input to group tables, never show it.

    Examples
    --------
    >>> from tim_research import synth
    >>> s = youth_status(synth.program(n_youth=60, seed=2))
    >>> list(s.columns), s["status"].isna().any()
    (['site', 'n_matches', 'status'], np.False_)
    """
    _check_program(program)
    youth = program.youth
    if youth["youth_id"].duplicated().any():
        raise DataError(
            "youth_id repeats in the youth table "
            f"({_rows_text(youth['youth_id'].duplicated(keep=False))}); keep one row each"
        )
    out = youth.set_index("youth_id")[["site"]].copy()
    matches = program.matches
    known = matches["youth_id"].isin(out.index)
    if not known.all():
        raise DataError(f"matches ({_rows_text(~known)}) name youth who are not in the youth table")
    out["n_matches"] = (
        matches["youth_id"].value_counts().reindex(out.index, fill_value=0).astype("int64")
    )
    comparison = youth.set_index("youth_id")["comparison"].fillna(False).astype(bool)
    status = pd.Series(np.where(comparison, STATUSES[0], STATUSES[1]), index=out.index)
    if not matches.empty:
        d = match_durations(matches, cutoff=program.cutoff, planned_reasons=tuple(planned_reasons))
        state = np.where(
            ~d["closed"], STATUSES[2], np.where(d["unplanned_closure"], STATUSES[4], STATUSES[3])
        )
        latest = (
            pd.DataFrame(
                {
                    "youth_id": matches["youth_id"].to_numpy(),
                    "start": pd.to_datetime(matches["start_date"]).to_numpy(),
                    "state": state,
                }
            )
            .sort_values(["youth_id", "start"], kind="stable")
            .groupby("youth_id", sort=False)["state"]
            .last()
        )
        status.loc[latest.index] = latest
    out["status"] = pd.Categorical(status, categories=list(STATUSES))
    return out


def match_status(
    program: Program,
    *,
    by: str | None = "site",
    planned_reasons: Sequence[str] = PLANNED_REASONS,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Youth by match status at the data cut-off, by group, with totals and small counts hidden.

    Parameters
    ----------
    program
        A program.
    by
        Youth-table column of the rows (default ``"site"``), or ``None``.
    planned_reasons
        As in :func:`youth_status`.
    min_cell
        As in :func:`enrolment`.

    Returns
    -------
    pandas.DataFrame
        One row per group and a last row ``"All"``; columns :data:`STATUSES` and ``"All"``.

    Examples
    --------
    >>> from tim_research import synth
    >>> t = match_status(synth.program(n_youth=60, seed=2), min_cell=0)
    >>> t.columns.tolist()[-2:], int(t.loc["All", "All"])
    (['closed unplanned', 'All'], 60)
    """
    min_cell = check_min_cell(min_cell)
    status = youth_status(program, planned_reasons=planned_reasons)
    labels, groups = _group_labels(
        program.youth.set_index("youth_id"), by, "youth", min_cell=min_cell
    )
    counts = pd.crosstab(labels, status["status"]).reindex(
        index=groups or [TOTAL], columns=list(STATUSES), fill_value=0
    )
    counts = counts.astype("int64")
    counts.columns = pd.Index(list(STATUSES))
    counts.index = pd.Index(counts.index, name=by or None)
    counts[TOTAL] = counts.sum(axis=1)
    if by is not None:
        counts.loc[TOTAL] = counts.sum(axis=0)
    out, hidden = _hide(
        counts,
        min_cell=min_cell,
        count_columns=list(counts.columns),
        total_row=TOTAL if by is not None else None,
        total_column=TOTAL,
    )
    _warn_hidden(hidden, min_cell, "match status")
    return out


def match_outcomes(
    program: Program,
    *,
    by: str | None = "site",
    planned_reasons: Sequence[str] = PLANNED_REASONS,
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Shares of matched youth whose latest match is active, closed as planned or unplanned.

    Youth without a match are left out. Shares and Wilson intervals come from
    :func:`tim_research.stats.prevalence.distribution` (with its small-cell masking), ready for
    :func:`tim_research.plots.bar_with_ci`. A share of exactly 0 gets a lower limit of exactly 0
    (the Wilson limit, which floating-point rounding can put a hair above it).

    Parameters
    ----------
    program
        A program.
    by
        Youth-table column of the groups (default ``"site"``), or ``None``.
    planned_reasons
        As in :func:`youth_status`.
    conf_level
        Coverage of the intervals.
    min_cell
        As in :func:`~tim_research.stats.prevalence.distribution`; ``0`` shows everything.

    Returns
    -------
    pandas.DataFrame
        The ``by`` column (if any), ``category`` (``"match active"``, ``"closed as planned"``,
        ``"closed unplanned"``), ``n`` (matched youth in the group), ``n_missing``, ``count``,
        ``estimate``, ``ci_lower``, ``ci_upper``, ``suppressed``.

    Examples
    --------
    >>> from tim_research import synth
    >>> t = match_outcomes(synth.program(n_youth=80, seed=1), by=None, min_cell=0)
    >>> t["category"].tolist(), round(float(t["estimate"].sum()), 6)
    (['match active', 'closed as planned', 'closed unplanned'], 1.0)
    """
    min_cell = check_min_cell(min_cell)
    status = youth_status(program, planned_reasons=planned_reasons)
    matched = status[status["n_matches"] > 0].copy()
    if matched.empty:
        raise DataError("no young person has a match yet; there are no match outcomes to show")
    matched["status"] = pd.Categorical(
        matched["status"].astype(object), categories=list(STATUSES[2:])
    )
    if by is not None:
        labels, groups = _group_labels(
            program.youth.set_index("youth_id"), by, "youth", min_cell=min_cell
        )
        matched[by] = pd.Categorical(labels.reindex(matched.index), categories=groups)
    out = distribution(matched, "status", by=by, conf_level=conf_level, min_cell=min_cell)
    out["ci_lower"] = out["ci_lower"].where(out["estimate"] != 0, 0.0)
    return out


# --------------------------------------------------------------------------- surveys


def survey_completion(
    program: Program,
    *,
    who: Literal["youth", "mentors"] = "youth",
    by: str | None = "site",
    min_cell: int = 5,
) -> pd.DataFrame:
    """Surveys completed, lost to follow-up and not yet due, per wave and group.

    Parameters
    ----------
    program
        A program.
    who
        ``"youth"`` (table ``surveys``) or ``"mentors"`` (table ``mentor_surveys``).
    by
        Column of the youth (mentors) table splitting each wave (default ``"site"``), or
        ``None``.
    min_cell
        As in :func:`enrolment`; each wave is suppressed as a block whose ``"All"`` row
        totals it.

    Returns
    -------
    pandas.DataFrame
        ``wave``, the ``by`` column (groups, then ``"All"``), one count column per survey
        status (``completed``, ``lost to follow-up``, ``not yet due``), ``scheduled`` (their
        sum) and ``completed %``: percent completed among the surveys that were due
        (completed or lost to follow-up); NaN when none was due.

    Examples
    --------
    >>> from tim_research import synth
    >>> t = survey_completion(synth.program(n_youth=60, seed=2), by=None, min_cell=0)
    >>> t["wave"].tolist(), int(t.loc[0, "scheduled"])
    (['baseline', '6m', '12m'], 60)
    """
    _check_program(program)
    min_cell = check_min_cell(min_cell)
    if who not in ("youth", "mentors"):
        raise DataError(f"who must be 'youth' or 'mentors', got {who!r}")
    key = "youth_id" if who == "youth" else "mentor_id"
    people = (program.youth if who == "youth" else program.mentors).set_index(key)
    surveys = program.surveys if who == "youth" else program.mentor_surveys
    unknown = ~surveys[key].isin(people.index)
    if unknown.any():
        raise DataError(
            f"surveys ({_rows_text(unknown)}) name a {key} that is not in the {who} table"
        )
    labels, groups = _group_labels(people, by, who, min_cell=min_cell)
    group = surveys[key].map(labels)
    wave = surveys["wave"]
    waves = (
        [str(w) for w in wave.cat.categories if (wave == w).any()]
        if isinstance(wave.dtype, pd.CategoricalDtype)
        else [str(w) for w in pd.unique(wave.dropna())]
    )
    status = surveys["status"].astype(object).map(str)
    statuses = [s for s in SURVEY_STATUS] + sorted(set(status) - set(SURVEY_STATUS))
    due = ["completed", "lost to follow-up"]
    name = by or "group"
    blocks, hidden = [], 0
    for w in waves:
        here = (wave.astype(object).map(str) == w).to_numpy()
        counts = pd.crosstab(group[here], status[here])
        rows = groups + [TOTAL] if by is not None else [TOTAL]
        counts = counts.reindex(index=groups or [TOTAL], columns=statuses, fill_value=0)
        counts = counts.astype("int64")
        counts.columns = pd.Index(statuses)
        if by is not None:
            counts.loc[TOTAL] = counts.sum(axis=0)
        counts = counts.reindex(rows)
        counts["scheduled"] = counts[statuses].sum(axis=1)
        n_due = counts[due].sum(axis=1)
        counts["completed %"] = (100.0 * counts["completed"] / n_due).where(n_due > 0)
        block, n = _hide(
            counts,
            min_cell=min_cell,
            count_columns=[*statuses, "scheduled"],
            total_row=TOTAL if by is not None else None,
            total_column="scheduled",
            derived={"completed %": due},
        )
        hidden += n
        block.index = pd.Index(block.index, name=name)
        block = block.reset_index()
        block.insert(0, "wave", w)
        blocks.append(block)
    _warn_hidden(hidden, min_cell, "survey completion")
    out = pd.concat(blocks, ignore_index=True)
    return out if by is not None else out.drop(columns=[name])


# --------------------------------------------------------------------------- early closure


def early_closure(
    program: Program,
    *,
    months: int | Sequence[int] = (3, 6, 12),
    by: str | None = None,
    planned_reasons: Sequence[str] = PLANNED_REASONS,
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Share of a program's matches that ended unplanned within N calendar months of their start.

    A view of :func:`tim_research.stats.competing.early_closure`, which holds the rule: the
    cumulative incidence (Aalen-Johansen) of an ending for a reason not in
    ``planned_reasons`` before the date ``N`` calendar months after the start, planned
    completion competing and open matches followed to the data cut-off. This function only
    takes the matches and the cut-off from ``program`` and the groups from the youth table.

    Parameters
    ----------
    program
        A program.
    months
        The ``N`` values, whole months.
    by
        Youth-table column of the groups (e.g. ``"site"``; a youth without a value is in
        group ``"not stated"``), or ``None``.
    planned_reasons
        Closure reasons that are not early closures.
    conf_level
        Coverage of the log-transformed interval (as ``survfit``).
    min_cell
        Small groups and counts, and the estimates built on them, are masked as
        :func:`tim_research.stats.competing.early_closure` does; ``0`` shows everything.

    Returns
    -------
    pandas.DataFrame
        ``months``, the ``by`` column, ``n`` (matches), ``at_risk`` (still open on the
        ``N``-month date), ``events`` (unplanned endings before ``N`` months), ``estimate``,
        ``se``, ``ci_lower``, ``ci_upper``, ``suppressed``, ``note``.

    Examples
    --------
    >>> from tim_research import synth
    >>> t = early_closure(synth.program(n_youth=80, seed=1), months=[12], min_cell=0)
    >>> int(t.loc[0, "n"]) == len(synth.program(n_youth=80, seed=1).matches)
    True
    """
    _check_program(program)
    min_cell = check_min_cell(min_cell)
    matches = program.matches
    if matches.empty:
        raise DataError("the program has no matches; there is no closure rate to compute")
    groups = None
    if by is not None:
        labels, _ = _group_labels(
            program.youth.set_index("youth_id"), by, "youth", min_cell=min_cell
        )
        groups = matches["youth_id"].map(labels).rename(by)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SmallCellWarning)
        out = competing.early_closure(
            matches,
            cutoff=program.cutoff,
            months=months,
            by=groups,
            planned_reasons=planned_reasons,
            conf_level=conf_level,
            min_cell=min_cell,
        )
    for w in caught:  # re-issued so that they point at the caller
        warnings.warn(w.message, w.category, stacklevel=2)
    return out


# --------------------------------------------------------------------------- data quality


@dataclass(frozen=True)
class DataQuality:
    """What the loader's validation found in a data package (see :func:`data_quality`)."""

    tables: pd.DataFrame
    problems: pd.DataFrame

    @property
    def ok(self) -> bool:
        """True when validation found no problem."""
        return self.problems.empty

    @property
    def n_problems(self) -> int:
        """Number of problems found (cells or rows)."""
        return int(self.problems["problems"].sum()) if not self.problems.empty else 0

    def to_frame(self) -> pd.DataFrame:
        """One row per table: ``description``, ``rows``, ``columns``, ``problems``, ..."""
        return self.tables.copy()

    def __repr__(self) -> str:
        return f"DataQuality({self.n_problems} problems in {len(self.tables)} tables)"

    def _repr_html_(self) -> str:
        head = "no problems found" if self.ok else f"{self.n_problems} problem(s) found"
        out = f"<p><b>Data validation: {html.escape(head)}</b></p>" + self.tables.to_html()
        if not self.ok:
            out += self.problems.to_html(index=False)
        return out


def _unanswered_share(surveys: pd.DataFrame) -> float:
    """Share of empty item cells in completed surveys, for instruments asked at each wave."""
    done = surveys[surveys["status"].astype(object) == "completed"]
    items = [c for c in done.columns if item_instrument(str(c))]
    if done.empty or not items:
        return float("nan")
    empty = cells = 0
    for _, part in done.groupby(done["wave"].astype(object), sort=False):
        for inst in sorted({item_instrument(str(c)) for c in items}):
            cols = [c for c in items if item_instrument(str(c)) == inst]
            block = part[cols].isna().to_numpy()
            if block.all():  # nobody answered: the instrument was not asked at this wave
                continue
            empty += int(block.sum())
            cells += block.size
    return empty / cells if cells else float("nan")


def data_quality(data_dir: str | Path, *, allow_identifiers: Sequence[str] = ()) -> DataQuality:
    """Validate a data package with the loader and summarise it table by table.

    Runs :func:`tim_research.program.validate_program` (every check
    :func:`~tim_research.program.read_program` makes: schema, keys, links between tables, dates,
    survey rules, columns that look like direct identifiers) on the whole package, and, when it
    passes, reads it to count empty cells (``Program.to_frame``).

    Parameters
    ----------
    data_dir
        The data package folder.
    allow_identifiers
        As in :func:`~tim_research.program.read_program`.

    Returns
    -------
    DataQuality
        ``tables``: indexed by table name, ``description``, ``rows``, ``columns``,
        ``problems``, ``empty_cells`` (share of all cells left empty; surveys not completed
        are empty by design) and ``unanswered_items`` (share of item answers left empty in
        completed surveys, counting an instrument at a wave only when someone answered it
        there; NaN for tables without items). Both shares are NaN when validation failed.
        ``problems``: number of problems per ``table``, ``column`` and ``check`` (no values:
        see ``program.validate_program(...).format()`` for the rows).

    Examples
    --------
    >>> import tempfile
    >>> from tim_research import synth
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = synth.write_sample(d, n_youth=30)
    ...     q = data_quality(d)
    >>> q.ok, int(q.tables.loc["youth", "rows"])
    (True, 30)
    """
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise DataError(f"data_dir={str(data_dir)!r} is not a folder; point it at a data package")
    report = validate_program(folder, allow_identifiers=allow_identifiers)
    tables = report.tables.copy()
    tables.insert(0, "description", [TABLE_DESCRIPTIONS.get(t, "") for t in tables.index])
    tables["empty_cells"] = np.nan
    tables["unanswered_items"] = np.nan
    if report.ok:
        program = read_program(folder, allow_identifiers=allow_identifiers)
        tables["empty_cells"] = program.to_frame()["missing_share"].reindex(tables.index)
        for name in ("surveys", "mentor_surveys"):
            if name in tables.index:
                tables.loc[name, "unanswered_items"] = _unanswered_share(getattr(program, name))
    return DataQuality(tables=tables, problems=report.summary())


# --------------------------------------------------------------------------- headlines


def most_common(
    table: pd.DataFrame,
    *,
    title: str,
    none: str,
    label: str = "category",
    value: str = "count",
) -> str:
    """A headline naming the most common category of a table, from its shown cells only.

    A hidden cell (``suppressed``, or a missing ``value``) is never named, and the table's
    largest shown cell is named only when no hidden cell can be larger: for counts, when the
    largest shown count is at least the total (``n``) less the shown counts, that is, at least
    everything the hidden cells hold together; for any other ``value``, only when no cell is
    hidden. Otherwise, or when no shown cell is above zero, the headline says ``none``.

    Parameters
    ----------
    table
        One row per category with columns ``label``, ``value`` and ``suppressed``, and ``n``
        (the total, the same on every row) when ``value`` is ``"count"``: a
        :func:`tim_research.stats.prevalence.distribution` table without ``by``.
    title
        Start of the headline, e.g. ``"Most common reason for closing"``.
    none
        What to say when no category can be named, e.g. ``"too few closures to report
        reasons"``.
    label, value
        Columns holding the category and the number compared.

    Returns
    -------
    str
        ``"<title>: <category>"`` (ties joined by ``" and "``) or ``"<title>: <none>"``.

    Examples
    --------
    >>> t = pd.DataFrame({"category": ["moved", "planned"], "n": 12, "count": [np.nan, 9.0],
    ...                   "suppressed": [True, False]})
    >>> most_common(t, title="Most common reason", none="too few to say")
    'Most common reason: planned'
    >>> most_common(t.assign(count=[np.nan, np.nan], suppressed=True),
    ...             title="Most common reason", none="too few to say")
    'Most common reason: too few to say'
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    need = [label, value, "suppressed"] + (["n"] if value == "count" else [])
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise DataError(f"table has no column(s) {missing}; pass a distribution() table")
    numbers = pd.to_numeric(table[value], errors="coerce")
    hidden = table["suppressed"].fillna(True).astype(bool) | numbers.isna()
    shown = numbers[~hidden]
    if shown.empty or not (shown > 0).any():
        return f"{title}: {none}"
    top = float(shown.max())
    if hidden.any():
        if value != "count":
            return f"{title}: {none}"
        totals = pd.to_numeric(table["n"], errors="coerce").dropna().unique()
        if len(totals) != 1:
            raise DataError("table has more than one total n; pass the table of one group")
        # everything the hidden cells hold together, from published numbers only
        if float(totals[0]) - float(shown.sum()) > top:
            return f"{title}: {none}"
    names = [str(c) for c in table.loc[shown.index[shown == top], label]]
    return f"{title}: {' and '.join(names)}"


# --------------------------------------------------------------------------- key numbers


_KEY_COLUMNS = [
    "key",
    "measure",
    "value",
    "ci_lower",
    "ci_upper",
    "unit",
    "result",
    "interval",
    "note",
    "headline",
]
_HIDDEN_NOTE = "hidden to protect small groups"


def _row(
    key: str,
    measure: str,
    value: float,
    unit: str,
    shown: str,
    note: str,
    ci: tuple[float, float] = (np.nan, np.nan),
    interval: str = "",
) -> dict[str, Any]:
    suffix = " points" if unit.startswith("points") and np.isfinite(value) else ""
    headline = f"{measure}: {shown}{suffix}"
    values = [key, measure, float(value), *map(float, ci), unit, shown, interval, note, headline]
    return dict(zip(_KEY_COLUMNS, values))


def _count_rows(
    spec: Sequence[tuple[str, str, int, str, str]], *, total: str | None, min_cell: int
) -> list[dict[str, Any]]:
    """Rows for counts that split a total; hidden together by ``privacy.suppression_mask``.

    ``spec`` holds ``(key, measure, count, unit, note)``; the row whose key is ``total`` is the
    sum of the others (when ``total`` is None the total is not a row but is taken as known).
    """
    counts = {key: int(n) for key, _, n, _, _ in spec if key != total}
    counts[total or "_total"] = sum(counts.values())
    hidden = dict.fromkeys(counts, False)
    if min_cell > 0:
        frame = pd.DataFrame({k: [v] for k, v in counts.items()})
        mask = suppression_mask(frame, min_cell=min_cell, total_column=total or "_total")
        hidden = {k: bool(mask.loc[0, k]) for k in counts}
    rows = []
    for key, measure, n, unit, note in spec:
        if hidden[key]:
            shown = f"<{min_cell}" if 0 < n < min_cell else "hidden"
            rows.append(_row(key, measure, np.nan, unit, shown, _HIDDEN_NOTE))
        else:
            rows.append(_row(key, measure, n, unit, str(int(n)), note))
    return rows


def _share_row(key: str, measure: str, row: pd.Series, *, note: str) -> dict[str, Any]:
    """Row for a share from a prevalence-style table row (estimate, CI, suppressed)."""
    if bool(row["suppressed"]):
        return _row(key, measure, np.nan, "share", "hidden", _HIDDEN_NOTE)
    if not np.isfinite(row["estimate"]):
        return _row(key, measure, np.nan, "share", "none", "nobody to count yet")
    est, lo, hi = float(row["estimate"]), float(row["ci_lower"]), float(row["ci_upper"])
    return _row(key, measure, est, "share", f"{est:.0%}", note, (lo, hi), f"{lo:.0%} to {hi:.0%}")


def _median_row(d: pd.DataFrame | None, *, conf_level: float, min_cell: int) -> dict[str, Any]:
    key, measure = "median_match_months", "Median match length"
    if d is None or d.empty:
        return _row(key, measure, np.nan, "months", "none", "no matches yet")
    if len(d) < min_cell:
        return _row(key, measure, np.nan, "months", "hidden", f"fewer than {min_cell} matches")
    # the row shows no counts, and it is hidden above when there are too few matches
    med = median_survival(
        d["duration_months"], d["closed"], conf_level=conf_level, min_cell=0
    ).iloc[0]
    value, lo, hi = float(med["median"]), float(med["ci_lower"]), float(med["ci_upper"])
    if not np.isfinite(value):
        return _row(key, measure, np.nan, "months", "not reached", "over half still open")
    note = "Kaplan-Meier; open matches count to the cut-off"
    if np.isfinite(lo) and np.isfinite(hi) and lo == hi == value:
        # many matches ended at exactly this length (the planned one): the interval is a point
        ci = ""
        note = "Kaplan-Meier; many matches end at this length"
    else:
        ci = f"{_months(lo)} to {_months(hi)}" if np.isfinite(lo) and np.isfinite(hi) else ""
    return _row(key, measure, value, "months", f"{_months(value)} months", note, (lo, hi), ci)


def _months(value: float) -> str:
    """Months with one decimal, none when whole ("12", "11.5")."""
    return f"{value:.1f}".removesuffix(".0")


def _change_rows(
    program: Program, *, outcome: str, followup: str, conf_level: float, min_cell: int
) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    """Rows of the outcome change per arm, and the baseline scores (for the ACE row)."""
    inst = load_instrument(outcome)
    main = next(s for s in inst.scales if s.id == "score")
    lo, hi = inst.scale_range(main)
    unit = f"points ({lo:g}-{hi:g} scale)"
    when = f"{WAVE_MONTHS[followup]} months" if followup in WAVE_MONTHS else followup
    scores = youth_scores(program, instruments=(outcome,))
    waves = scores.index.get_level_values("wave")
    if followup not in set(map(str, waves)) and followup not in WAVE_MONTHS:
        raise DataError(
            f"followup={followup!r} is not a survey wave; use one of {list(WAVE_MONTHS)}"
        )
    baseline = scores.xs("baseline", level="wave") if (waves == "baseline").any() else None
    col = inst.scale_column("score")
    pre, post = f"{col}_baseline", f"{col}_{followup}"
    wide = wide_scores(scores, values=[col]) if not scores.empty else None
    need = max(min_cell, 2)
    rows = []
    for arm, group in (("mentored", "mentored youth"), ("comparison", "comparison group")):
        key = f"change_{arm}"
        measure = f"{inst.id.upper().replace('_', '-')} change to {when}, {group}"
        part = None if wide is None else wide[wide["arm"] == arm]
        if part is None or part.empty:
            why = "no comparison group here" if arm == "comparison" else "no mentored youth"
            rows.append(_row(key, measure, np.nan, unit, "none", why))
            continue
        if pre not in part or post not in part:
            rows.append(_row(key, measure, np.nan, unit, "none", f"no {when} surveys yet"))
            continue
        pairs = int((part[pre].notna() & part[post].notna()).sum())
        if pairs < need:
            why = f"fewer than {need} youth with both surveys" if pairs else "no youth with both"
            rows.append(_row(key, measure, np.nan, unit, "hidden" if pairs else "none", why))
            continue
        ct = change_table(
            part, pairs={measure: (pre, post)}, conf_level=conf_level, min_cell=min_cell
        ).iloc[0]
        value, c_lo, c_hi = float(ct["mean_change"]), float(ct["ci_lower"]), float(ct["ci_upper"])
        ci = f"{c_lo:+.2f} to {c_hi:+.2f}"
        note = f"{int(ct['n'])} youth with both surveys; not a causal effect"
        rows.append(_row(key, measure, value, unit, f"{value:+.2f}", note, (c_lo, c_hi), ci))
    return rows, baseline


def key_numbers(
    program: Program,
    *,
    early_months: int = 12,
    outcome: str = "brs",
    followup: str = "12m",
    planned_reasons: Sequence[str] = PLANNED_REASONS,
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """The key numbers of a program or site report, one row per measure.

    Rows (``key``): ``youth_enrolled``, ``mentoring_group``, ``comparison_group``,
    ``youth_matched``, ``matches_active``, ``matches_closed``, ``median_match_months``
    (Kaplan-Meier median time to closure for any reason, open matches censored at the
    cut-off: :func:`tim_research.stats.survival.median_survival`), ``early_closure``
    (:func:`early_closure` at ``early_months``: the cumulative incidence of unplanned endings,
    planned completion competing), ``ace_4_or_more`` (share of youth with a
    baseline ACE score of 4 or more: a population measure), ``change_mentored`` and
    ``change_comparison`` (mean change of the ``outcome`` score from baseline to ``followup``
    among youth of each arm with both surveys: :func:`tim_research.stats.outcomes.change_table`);
    with a ``goals`` table, ``goal_attainment`` (mean GAS T-score at each young person's latest
    review: :func:`tim_research.views.tables.goal_scores`); with ``relationship_surveys``,
    ``relationship_3m`` (mean youth-reported YSoR at 3 months).

    Small numbers are hidden: counts from 1 to ``min_cell - 1``, with the other counts of the
    same split (mentoring/comparison group, matched/not matched, active/closed matches) that
    would reveal them (:func:`tim_research.privacy.suppression_mask`); the ACE share as in
    :func:`tim_research.stats.prevalence.prevalence` and early closure as in
    :func:`tim_research.stats.competing.early_closure`; the median when there are fewer than
    ``min_cell`` matches; a change when fewer than ``min_cell`` (at least 2) youth have both
    surveys.

    Parameters
    ----------
    program
        A program, or one site of it (:func:`tim_research.views.notebook.select_site`).
    early_months
        A match closed unplanned before this many calendar months is an early closure
        (:func:`tim_research.stats.competing.early_closure`).
    outcome
        Instrument whose main score change is reported (``"brs"`` or ``"cyrm_r"``).
    followup
        Survey wave compared with baseline.
    planned_reasons
        Closure reasons that are not early closures.
    conf_level
        Coverage of the intervals.
    min_cell
        Smallest count shown; ``0`` shows everything.

    Returns
    -------
    pandas.DataFrame
        Columns ``key``, ``measure`` (plain words), ``value`` with ``ci_lower`` and
        ``ci_upper`` (full precision; NaN when hidden or not available), ``unit``, ``result``
        (the value as short text for a report or a figure title: ``"152"``, ``"38%"``,
        ``"11.9 months"``, ``"+0.09"``, ``"<5"``, ``"hidden"``, ``"not reached"``,
        ``"none"``), ``interval`` (the confidence interval as text, ``""`` when there is none)
        and ``note`` (denominator or caveat), kept within 50 characters (pandas' default
        column width); ``headline`` is ``"<measure>: <result>"`` for a figure title.

    Examples
    --------
    >>> from tim_research import synth
    >>> k = key_numbers(synth.program(n_youth=120, seed=4), min_cell=0).set_index("key")
    >>> int(k.loc["youth_enrolled", "value"]), k.loc["youth_enrolled", "result"]
    (120, '120')
    """
    _check_program(program)
    min_cell = check_min_cell(min_cell)
    if (
        isinstance(early_months, bool)
        or not isinstance(early_months, (int, np.integer))
        or early_months < 1
    ):
        raise DataError(f"early_months must be a whole number of months, got {early_months!r}")
    youth, matches = program.youth, program.matches
    n_youth = len(youth)
    n_comp = int(youth["comparison"].fillna(False).astype(bool).sum())
    dates = pd.to_datetime(youth["enrolment_date"]).dropna()
    span = f"enrolled {dates.min():%b %Y} to {dates.max():%b %Y}" if len(dates) else ""
    rows = _count_rows(
        [
            ("youth_enrolled", "Youth enrolled", n_youth, "youth", span),
            (
                "mentoring_group",
                "In the mentoring group",
                n_youth - n_comp,
                "youth",
                "offered a mentor",
            ),
            (
                "comparison_group",
                "In the waitlist comparison group",
                n_comp,
                "youth",
                "not offered a mentor in the study" if n_comp else "no comparison group here",
            ),
        ],
        total="youth_enrolled",
        min_cell=min_cell,
    )
    n_matched = int(youth["youth_id"].isin(matches["youth_id"]).sum())
    mentoring = n_youth - n_comp
    rows += _count_rows(
        [
            (
                "youth_matched",
                "Matched with a mentor",
                n_matched,
                "youth",
                f"{n_matched / mentoring:.0%} of the mentoring group" if mentoring else "",
            ),
            ("_not_matched", "", n_youth - n_matched, "youth", ""),
        ],
        total=None,
        min_cell=min_cell,
    )[:1]
    if not np.isfinite(rows[1]["value"]) and np.isfinite(rows[-1]["value"]):
        rows[-1]["note"] = ""  # the share would reveal the hidden size of the mentoring group
    d = None
    if not matches.empty:
        d = match_durations(matches, cutoff=program.cutoff, planned_reasons=tuple(planned_reasons))
    n_closed = 0 if d is None else int(d["closed"].sum())
    rows += _count_rows(
        [
            (
                "matches_active",
                "Matches active at the data cut-off",
                len(matches) - n_closed,
                "matches",
                f"cut-off {program.cutoff:%d %b %Y}",
            ),
            (
                "matches_closed",
                "Matches closed",
                n_closed,
                "matches",
                f"of {len(matches)} matches made",
            ),
        ],
        total=None,
        min_cell=min_cell,
    )
    rows.append(_median_row(d, conf_level=conf_level, min_cell=min_cell))
    measure = f"Closed early (unplanned, by {int(early_months)} months)"
    if d is None:
        rows.append(_row("early_closure", measure, np.nan, "share", "none", "no matches yet"))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallCellWarning)
            ec = early_closure(
                program,
                months=[int(early_months)],
                planned_reasons=planned_reasons,
                conf_level=conf_level,
                min_cell=min_cell,
            ).iloc[0]
        # n is hidden with a group of fewer than min_cell matches, and so is the row
        note = f"of {int(ec['n'])} matches; open ones to the cut-off" if ec["n"] > 0 else ""
        if ec["note"] == "not followed this long":
            rows.append(
                _row(
                    "early_closure", measure, np.nan, "share", "none", "no match open that long yet"
                )
            )
        else:
            rows.append(_share_row("early_closure", measure, ec, note=note))
    change, baseline = _change_rows(
        program, outcome=outcome, followup=followup, conf_level=conf_level, min_cell=min_cell
    )
    measure = "Reported 4 or more ACE categories"
    ace = None if baseline is None else baseline["ace10_score"]
    if ace is None or ace.notna().sum() == 0:
        rows.append(_row("ace_4_or_more", measure, np.nan, "share", "none", "no ACE scores yet"))
    else:
        frame = pd.DataFrame({"four": (ace >= 4).astype("float64").where(ace.notna())})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallCellWarning)
            p4 = prevalence(frame, "four", conf_level=conf_level, min_cell=min_cell).iloc[0]
        note = f"of {int(p4['n'])} youth; population measure, not screening"
        rows.append(_share_row("ace_4_or_more", measure, p4, note=note))
    if program.has("goals"):
        latest = goal_scores(program, latest=True)
        rows.append(
            _mean_row(
                "goal_attainment",
                "Goal attainment (GAS T-score, latest review)",
                latest["t_score"],
                unit="T-score",
                of="youth; 50 = goals met as expected",
                conf_level=conf_level,
                min_cell=min_cell,
            )
        )
    if program.has("relationship_surveys", "matches"):
        rel = relationship_scores(program)
        youth_3m = rel.xs(("youth", "3m"), level=("reporter", "wave"), drop_level=False)
        rows.append(
            _mean_row(
                "relationship_3m",
                "Relationship strength at 3 months (YSoR, youth)",
                youth_3m["ysor_score"],
                unit="YSoR score",
                of="matches; scale 1-5",
                conf_level=conf_level,
                min_cell=min_cell,
            )
        )
    return pd.DataFrame(rows + change, columns=_KEY_COLUMNS)


def _mean_row(
    key: str,
    measure: str,
    values: pd.Series,
    *,
    unit: str,
    of: str,
    conf_level: float,
    min_cell: int,
) -> dict[str, Any]:
    """Row for a mean with its t interval; hidden when fewer than ``min_cell`` values."""
    frame = pd.DataFrame({"y": pd.to_numeric(values, errors="raise").astype("float64")})
    m = group_means(frame, value="y", min_cell=min_cell, conf_level=conf_level).iloc[0]
    if bool(m["suppressed"]):
        return _row(key, measure, np.nan, unit, "hidden", _HIDDEN_NOTE)
    if not m["n"] or not np.isfinite(m["mean"]):
        return _row(key, measure, np.nan, unit, "none", "no answers yet")
    est, lo, hi = float(m["mean"]), float(m["ci_lower"]), float(m["ci_upper"])
    interval = f"{lo:.1f} to {hi:.1f}" if np.isfinite(lo) and np.isfinite(hi) else ""
    return _row(key, measure, est, unit, f"{est:.1f}", f"of {int(m['n'])} {of}", (lo, hi), interval)
