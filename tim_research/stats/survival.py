"""Match survival: durations, closure reasons, early closure, Kaplan-Meier, log-rank, Cox.

The share of matches closed early is :func:`tim_research.stats.competing.early_closure` (a
cumulative incidence, planned completion competing), on the calendar-month time scale of the
``early_closure_<N>m`` flags of :func:`match_durations`.

Every estimator here is checked against R's ``survival`` package (``survfit``, ``survdiff``,
``coxph``); see ``tests/reference/survival_survey_reference.R``. The Cox options
``per``/``missing`` are checked against ``coxph`` in
``tests/reference/outcomes_extra_reference.R``. The Nelson-Aalen cumulative hazard
(:func:`nelson_aalen`), weighted log-rank tests (``logrank(rho=, gamma=)``),
:func:`survival_quantiles`, :func:`concordance`, stratified and cluster-robust Cox fits
(``cox(strata=, cluster=)``) and :func:`cox_zph` are checked against ``survfit``,
``survdiff``, ``quantile.survfit``, ``concordance``, ``coxph`` and ``cox.zph`` in
``tests/reference/survival_depth_reference.R``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from tim_research._checks import check_min_cell
from tim_research.errors import ConvergenceWarning, DataError, SmallCellWarning
from tim_research.privacy import suppression_mask
from tim_research.vocabulary import PLANNED_REASONS

__all__ = [
    "ConcordanceResult",
    "LogRankResult",
    "ZphResult",
    "closure_reasons",
    "concordance",
    "cox",
    "cox_zph",
    "kaplan_meier",
    "logrank",
    "match_durations",
    "median_survival",
    "nelson_aalen",
    "survival_quantiles",
]

DAYS_PER_MONTH = 365.25 / 12
_MAX_SHOWN = 8
ConfType = Literal["log", "log-log", "plain"]


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _labels(index: pd.Index, positions: np.ndarray) -> str:
    """Render the row labels at ``positions`` for an error message."""
    shown = [repr(index[i]) for i in positions[:_MAX_SHOWN]]
    more = len(positions) - len(shown)
    text = ", ".join(shown)
    return f"rows {text}" + (f" and {more} more" if more > 0 else "")


def _as_series(values: Any, name: str, index: pd.Index | None = None) -> pd.Series:
    """Return ``values`` as a Series; if ``index`` is given, check that it lines up with it."""
    if isinstance(values, pd.Series):
        series = values
        if index is not None and not series.index.equals(index):
            raise DataError(
                f"{name} has an index that differs from that of durations; pass Series with the "
                "same index (same labels, same order) or plain arrays of the same length"
            )
    else:
        array = np.asarray(values)
        if array.ndim != 1:
            raise DataError(f"{name} must be one-dimensional, got shape {array.shape}")
        if index is not None and len(array) != len(index):
            raise DataError(f"{name} has {len(array)} values but durations has {len(index)}")
        series = pd.Series(array, index=index)
    return series


def _durations_array(durations: pd.Series, name: str = "durations") -> np.ndarray:
    """Validate survival times: numeric, finite, non-negative; return float64."""
    if len(durations) == 0:
        raise DataError(f"{name} is empty: survival needs at least one observation")
    if not (pd.api.types.is_numeric_dtype(durations) and not pd.api.types.is_bool_dtype(durations)):
        raise DataError(
            f"{name} must be numeric (days or months), got dtype {durations.dtype}; convert "
            "dates with match_durations() first"
        )
    t = durations.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise DataError(
            f"{name} has missing or infinite values at {_labels(durations.index, bad)}; "
            "drop those rows or fill in the duration (open matches are censored at the cutoff)"
        )
    neg = np.flatnonzero(t < 0)
    if neg.size:
        raise DataError(
            f"{name} has negative values ({', '.join(map(str, t[neg][:_MAX_SHOWN]))}) at "
            f"{_labels(durations.index, neg)}; a duration cannot be negative: check the dates"
        )
    return t


def _events_array(events: pd.Series, name: str = "events") -> np.ndarray:
    """Validate an event flag: 0/1 or boolean, nothing missing; return bool."""
    if pd.api.types.is_bool_dtype(events) and not events.isna().any():
        return events.to_numpy(dtype=bool)
    values = pd.to_numeric(events, errors="coerce")
    raw_missing = events.isna().to_numpy()
    e = values.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.flatnonzero(raw_missing | ~np.isin(e, (0.0, 1.0)))
    if bad.size:
        shown = sorted({str(v) for v in events.iloc[bad[:_MAX_SHOWN]]})
        raise DataError(
            f"{name} must be 0/1 or True/False with nothing missing; found {', '.join(shown)} "
            f"at {_labels(events.index, bad)}; code closure (event) as 1 and censoring as 0"
        )
    return e == 1.0


def _groups_codes(by: pd.Series, name: str = "by") -> tuple[np.ndarray, list[Any]]:
    """Return integer codes and sorted group labels; refuse missing labels and empty groups."""
    missing = np.flatnonzero(by.isna().to_numpy())
    if missing.size:
        raise DataError(
            f"{name} has missing group labels at {_labels(by.index, missing)}; give those rows "
            "a group (for example 'unknown') or leave them out explicitly"
        )
    if isinstance(by.dtype, pd.CategoricalDtype):
        counts = by.value_counts(sort=False)
        empty = [c for c, k in counts.items() if k == 0]
        if empty:
            raise DataError(
                f"{name} has categories with no rows: {empty}; drop them with "
                f"{name}.cat.remove_unused_categories()"
            )
        codes, uniques = pd.factorize(by, sort=True)
        return codes, list(uniques)
    try:
        codes, uniques = pd.factorize(by, sort=True)
    except TypeError as exc:  # unorderable mixture of labels
        raise DataError(f"{name} mixes labels that cannot be sorted: {exc}") from exc
    return codes, list(uniques)


def _z(conf_level: float) -> float:
    if not 0 < conf_level < 1:
        raise DataError(f"conf_level must be between 0 and 1, got {conf_level!r}")
    return NormalDist().inv_cdf(1 - (1 - conf_level) / 2)


def _check_conf_type(conf_type: str) -> None:
    if conf_type not in ("log", "log-log", "plain"):
        raise DataError(
            f"conf_type must be 'log', 'log-log' or 'plain' (as in survival::survfit), "
            f"got {conf_type!r}"
        )


# ---------------------------------------------------------------------------------------------
# durations from dates
# ---------------------------------------------------------------------------------------------
def _dates(matches: pd.DataFrame, column: str) -> pd.Series:
    values = matches[column]
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    try:
        return pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError) as exc:
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy() & values.notna().to_numpy())
        where = _labels(matches.index, bad) if bad.size else "some rows"
        raise DataError(
            f"{column} holds values that are not dates at {where}; give dates as datetime64 "
            "or ISO strings such as '2024-03-01'"
        ) from exc


def _cutoff(cutoff: Any, starts: pd.Series) -> pd.Timestamp:
    """The data cut-off as a Timestamp, in the time zone of ``starts`` when they have one."""
    try:
        cut = pd.Timestamp(cutoff)
    except (ValueError, TypeError) as exc:
        raise DataError(f"cutoff must be a date, got {cutoff!r}") from exc
    if pd.isna(cut):
        raise DataError("cutoff must be a date, got a missing value")
    if getattr(starts.dt, "tz", None) is not None and cut.tzinfo is None:
        cut = cut.tz_localize(starts.dt.tz)
    return cut


def _add_months(starts: pd.Series, k: np.ndarray) -> pd.Series:
    """Each start moved ``k`` calendar months on (its own ``k``), as ``pd.DateOffset(months=k)``.

    The day of the month is kept, or becomes the last day of a shorter month (31 January plus
    one month is 28 or 29 February); the time of day is kept. ``starts`` has no time zone.
    """
    year = starts.dt.year.to_numpy(dtype=np.int64)
    month0 = starts.dt.month.to_numpy(dtype=np.int64) - 1 + k
    y, m = year + month0 // 12, month0 % 12 + 1
    first = pd.to_datetime(pd.DataFrame({"year": y, "month": m, "day": 1}))
    length = first.dt.days_in_month.to_numpy(dtype=np.int64)
    day = np.minimum(starts.dt.day.to_numpy(dtype=np.int64), length)
    date = first + pd.to_timedelta(day - 1, unit="D")
    clock = (starts - starts.dt.normalize()).to_numpy()
    return pd.Series(date.to_numpy() + clock, index=starts.index)


def _calendar_months(starts: pd.Series, stops: pd.Series) -> np.ndarray:
    """Time from start to stop in calendar months: whole months, then the share of the next.

    A match that stops ``m`` calendar months after its start (as :func:`_add_months` counts
    them) and ``f`` of the way from that date to the ``m + 1``-month date lasted ``m + f``
    months, so that ``time < N`` exactly when the stop falls before the ``N``-month date: the
    time scale of early closure.
    """
    # calendar months are counted on the local calendar of the dates
    s_naive = starts.dt.tz_localize(None) if getattr(starts.dt, "tz", None) else starts
    e_naive = stops.dt.tz_localize(None) if getattr(stops.dt, "tz", None) else stops
    whole = (
        (e_naive.dt.year - s_naive.dt.year) * 12 + (e_naive.dt.month - s_naive.dt.month)
    ).to_numpy(dtype=np.int64)
    # the month count by year and month alone can be one too many (stop before the same day)
    whole = np.where(_add_months(s_naive, whole).to_numpy() > e_naive.to_numpy(), whole - 1, whole)
    lower = _add_months(s_naive, whole).to_numpy()
    upper = _add_months(s_naive, whole + 1).to_numpy()
    share = (e_naive.to_numpy() - lower) / (upper - lower)
    return whole + share.astype("float64")


def match_durations(
    matches: pd.DataFrame,
    *,
    cutoff: Any,
    start: str = "start_date",
    end: str = "end_date",
    reason: str | None = "closure_reason",
    early_months: Sequence[int] = (3, 6, 12),
    planned_reasons: Sequence[str] = PLANNED_REASONS,
) -> pd.DataFrame:
    """Turn match start and end dates into censored durations and early-closure flags.

    A match is *closed* (the event) when its end date is present and on or before ``cutoff``.
    Open matches, and matches that ended after ``cutoff``, are censored at ``cutoff``.

    Parameters
    ----------
    matches
        One row per match, with start and end date columns (datetime64 or ISO strings).
    cutoff
        Date the data were drawn (anything ``pandas.Timestamp`` accepts).
    start, end
        Column names of the start and end dates; a missing end date means the match is open.
    reason
        Column holding the closure reason; when that column exists it is copied into
        ``closure_reason`` for closed matches (missing for censored ones).
    early_months
        Months ``N`` for the ``early_closure_<N>m`` flags (for the share of matches closed
        early, see :func:`tim_research.stats.competing.early_closure`).
    planned_reasons
        Closure reasons that mean the match ran its planned course; every other closure,
        including one without a recorded reason, counts as unplanned.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``matches.index``: ``duration_days`` (float), ``duration_months``
        (days / (365.25 / 12)), ``closed`` (bool), one boolean ``early_closure_<N>m`` per
        ``N`` (closed before ``N`` calendar months from the start date; a censored match is
        never flagged, even when followed for fewer than ``N`` months), and, when the reason
        column exists, ``closure_reason``, ``unplanned_closure`` (bool: closed for a reason
        not in ``planned_reasons``; the event of an analysis of early closure, where planned
        completions are censored) and ``planned_completion`` (closed for a planned reason).

    Examples
    --------
    >>> m = pd.DataFrame(
    ...     {"start_date": ["2023-01-01", "2023-02-01"], "end_date": ["2023-03-01", None]},
    ...     index=["m2", "m1"],
    ... )
    >>> d = match_durations(m, cutoff="2024-01-01")
    >>> d[["duration_days", "closed", "early_closure_3m"]]
        duration_days  closed  early_closure_3m
    m2           59.0    True              True
    m1          334.0   False             False
    """
    if not isinstance(matches, pd.DataFrame):
        raise DataError(f"matches must be a pandas DataFrame, got {type(matches).__name__}")
    missing_cols = [c for c in (start, end) if c not in matches.columns]
    if missing_cols:
        raise DataError(
            f"matches has no column(s) {missing_cols}; pass start= and end= to name the date "
            f"columns (found: {list(matches.columns)})"
        )
    dup = matches.index[matches.index.duplicated()]
    if len(dup):
        raise DataError(
            f"matches has a duplicated index: {list(dict.fromkeys(dup))[:_MAX_SHOWN]}; give "
            "each match a unique id"
        )
    months = list(early_months)
    if any((not isinstance(n, int | np.integer)) or n <= 0 for n in months):
        raise DataError(f"early_months must be positive whole numbers, got {months}")

    s = _dates(matches, start)
    e = _dates(matches, end)
    cut = _cutoff(cutoff, s)

    no_start = np.flatnonzero(s.isna().to_numpy())
    if no_start.size:
        raise DataError(
            f"{start} is missing at {_labels(matches.index, no_start)}; every match needs a "
            "start date: fill it in or remove those matches"
        )
    late = np.flatnonzero((s > cut).to_numpy())
    if late.size:
        raise DataError(
            f"{start} is after the cutoff {cut.date()} at {_labels(matches.index, late)}; "
            "those matches had not started when the data were drawn: remove them or move the "
            "cutoff"
        )
    backwards = np.flatnonzero((e < s).fillna(False).to_numpy(dtype=bool))
    if backwards.size:
        raise DataError(
            f"{end} is before {start} at {_labels(matches.index, backwards)}; correct the "
            "dates (swapped start and end?)"
        )

    closed = (e.notna() & (e <= cut)).to_numpy(dtype=bool)
    stop = e.where(closed, cut)
    days = ((stop - s) / pd.Timedelta(days=1)).to_numpy(dtype="float64")
    out = pd.DataFrame(
        {"duration_days": days, "duration_months": days / DAYS_PER_MONTH, "closed": closed},
        index=matches.index,
    )
    if months:
        # calendar months: a match from 1 Oct to 1 Oct next year lasted 12 months, although
        # 365 days is a little under 12 average-length (365.25 / 12 day) months; the same
        # time scale as the cumulative incidence of competing.early_closure
        calendar = _calendar_months(s, stop)
    for n in months:
        out[f"early_closure_{n}m"] = closed & (calendar < n)
    if reason is not None and reason in matches.columns:
        out["closure_reason"] = matches[reason].where(closed)
        planned = matches[reason].isin(list(planned_reasons)).to_numpy(dtype=bool)
        out["unplanned_closure"] = closed & ~planned
        out["planned_completion"] = closed & planned
    return out


def closure_reasons(
    matches: pd.DataFrame,
    *,
    reason: str = "closure_reason",
    end: str = "end_date",
    cutoff: Any = None,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Count closure reasons among closed matches, masking small cells.

    Parameters
    ----------
    matches
        One row per match.
    reason
        Column with the closure reason. A closed match without a reason is counted as
        ``"(not recorded)"``.
    end
        End-date column; a match counts as closed when it has an end date (on or before
        ``cutoff`` when given).
    cutoff
        Optional date: matches ending after it are treated as open, as in
        :func:`match_durations`.
    min_cell
        Counts from 1 to ``min_cell - 1`` are masked, and further counts as
        :func:`tim_research.privacy.suppression_mask` decides, so that no hidden count can be
        worked out from the number of closed matches. ``0`` turns masking off.

    Returns
    -------
    pandas.DataFrame
        Columns ``reason``, ``n`` and ``percent`` (float; NaN where masked: percent of closed
        matches) and ``suppressed`` (bool), most frequent first. A
        :class:`~tim_research.errors.SmallCellWarning` is issued when anything is masked.

    Examples
    --------
    >>> m = pd.DataFrame({
    ...     "end_date": ["2023-05-01"] * 12 + [None],
    ...     "closure_reason": ["moved"] * 7 + ["mentor left"] * 5 + [None],
    ... })
    >>> closure_reasons(m)
            reason    n    percent  suppressed
    0        moved  7.0  58.333333       False
    1  mentor left  5.0  41.666667       False
    """
    if not isinstance(matches, pd.DataFrame):
        raise DataError(f"matches must be a pandas DataFrame, got {type(matches).__name__}")
    missing_cols = [c for c in (reason, end) if c not in matches.columns]
    if missing_cols:
        raise DataError(
            f"matches has no column(s) {missing_cols}; pass reason= and end= to name them "
            f"(found: {list(matches.columns)})"
        )
    min_cell = check_min_cell(min_cell)
    e = _dates(matches, end)
    closed = e.notna()
    if cutoff is not None:
        try:
            cut = pd.Timestamp(cutoff)
        except (ValueError, TypeError) as exc:
            raise DataError(f"cutoff must be a date, got {cutoff!r}") from exc
        closed &= e <= cut
    reasons = matches.loc[closed.to_numpy(dtype=bool), reason]
    labels = reasons.astype(object).where(reasons.notna(), "(not recorded)")
    counts = labels.value_counts(sort=False)
    table = pd.DataFrame({"reason": counts.index.astype(object), "n": counts.to_numpy(float)})
    table = table.sort_values(["n", "reason"], ascending=[False, True], kind="stable")
    table = table.reset_index(drop=True)
    total = table["n"].sum()
    table["percent"] = 100 * table["n"] / total if total else np.nan

    mask = np.zeros(len(table), dtype=bool)
    if min_cell > 0 and len(table):
        # the number of closed matches, the column's total, is taken as known
        mask = suppression_mask(table[["n"]], min_cell=min_cell)["n"].to_numpy()
    table["suppressed"] = mask
    table.loc[mask, ["n", "percent"]] = np.nan
    if mask.any():
        warnings.warn(
            f"closure_reasons: {int(mask.sum())} reason count(s) below min_cell={min_cell} "
            "(or masked to protect one) were suppressed",
            SmallCellWarning,
            stacklevel=2,
        )
    return table


def _match_groups(matches: pd.DataFrame, by: Any) -> pd.Series | None:
    """Group label of each match (aligned to ``matches.index``), named for the output column."""
    if by is None:
        return None
    if isinstance(by, pd.Series):
        same = len(by) == len(matches) and bool(by.index.isin(matches.index).all())
        if by.index.has_duplicates or not same:
            raise DataError(
                "by is a Series whose index does not match that of matches; give it the same "
                "labels as matches.index (one per match), or name a column of matches"
            )
        groups = by if by.index.equals(matches.index) else by.reindex(matches.index)
        name = "group" if by.name is None else by.name
    elif isinstance(by, Hashable) and by in matches.columns:
        groups, name = matches[by], by
    else:
        raise DataError(
            f"by={by!r} is not a column of matches; name one of {list(matches.columns)} or pass "
            "a Series aligned to matches.index"
        )
    missing = np.flatnonzero(groups.isna().to_numpy())
    if missing.size:
        raise DataError(
            f"by ({name}) has missing group labels at {_labels(matches.index, missing)}; give "
            "those matches a group (for example 'not stated') or leave them out explicitly"
        )
    return groups.rename(name)


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier
# ---------------------------------------------------------------------------------------------
def _risk_table(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct times with the number at risk, events and rows (events and censorings) at each."""
    times, inverse = np.unique(t, return_inverse=True)
    total = np.bincount(inverse, minlength=times.size)
    d = np.bincount(inverse, weights=e, minlength=times.size)
    at_risk = t.size - np.concatenate(([0], np.cumsum(total)[:-1]))
    return times, at_risk, d, total


def _km_one(t: np.ndarray, e: np.ndarray, z: float, conf_type: str) -> dict[str, np.ndarray]:
    """Kaplan-Meier table of one group at every distinct time (events and censorings)."""
    times, at_risk, d, total = _risk_table(t, e)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / at_risk)
        greenwood = np.cumsum(np.where(d > 0, d / (at_risk * (at_risk - d)), 0.0))
        se_log = np.sqrt(greenwood)  # standard error of -log S(t): inf once S(t) = 0
        se = surv * se_log
        se = np.where(np.isfinite(se_log), se, np.nan)
        lower, upper = _km_ci(surv, se_log, z, conf_type)
    return {
        "time": times,
        "at_risk": at_risk.astype("int64"),
        "events": d.astype("int64"),
        "censored": (total - d).astype("int64"),
        "survival": surv,
        "se": se,
        "ci_lower": lower,
        "ci_upper": upper,
    }


def _km_ci(
    surv: np.ndarray, se_log: np.ndarray, z: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of S(t) as survival::survfit computes it for each conf.type."""
    se_log = np.where(np.isfinite(se_log), se_log, np.nan)
    if conf_type == "plain":
        half = z * se_log * surv
        return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
    if conf_type == "log":
        s = np.where(surv == 0, np.nan, surv)
        return s * np.exp(-z * se_log), np.minimum(s * np.exp(z * se_log), 1.0)
    s = np.where((surv == 0) | (surv == 1), np.nan, surv)
    step = z * se_log / np.log(s)
    loglog = np.log(-np.log(s))
    return np.exp(-np.exp(loglog - step)), np.exp(-np.exp(loglog + step))


def _km_inputs(
    durations: Any, events: Any, by: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[Any]]:
    d = _as_series(durations, "durations")
    t = _durations_array(d)
    e = _events_array(_as_series(events, "events", d.index))
    if by is None:
        return t, e, None, []
    codes, labels = _groups_codes(_as_series(by, "by", d.index))
    return t, e, codes, labels


def kaplan_meier(
    durations: Any,
    events: Any,
    *,
    by: Any = None,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Kaplan-Meier survival curve(s) with Greenwood standard errors, as ``survival::survfit``.

    Parameters
    ----------
    durations
        Follow-up time per match (Series or array), e.g. ``duration_months`` from
        :func:`match_durations`. Must be finite and non-negative.
    events
        1/True when the match closed, 0/False when censored; same length (and index).
    by
        Optional group labels (e.g. program arm): one curve per group, in sorted order.
    conf_type
        ``"log"`` (R's default), ``"log-log"`` or ``"plain"`` pointwise intervals.
    conf_level
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per distinct time (event or censoring) per group: ``group`` (when ``by`` is
        given), ``time``, ``at_risk``, ``events``, ``censored``, ``survival``, ``se`` (standard
        error of S(t), as ``summary.survfit``'s ``std.err``), ``ci_lower``, ``ci_upper``.
        Intervals are NaN where R gives NA (S(t) = 0; S(t) = 1 for log-log).

    Examples
    --------
    >>> km = kaplan_meier([2, 3, 3, 5, 8], [1, 1, 0, 1, 0])
    >>> km[["time", "at_risk", "events", "survival"]]
       time  at_risk  events  survival
    0   2.0        5       1  0.800000
    1   3.0        4       1  0.600000
    2   5.0        2       1  0.300000
    3   8.0        1       0  0.300000

    R: ``summary(survfit(Surv(time, status) ~ 1), censored = TRUE)``.
    """
    _check_conf_type(conf_type)
    z = _z(conf_level)
    t, e, codes, labels = _km_inputs(durations, events, by)
    if codes is None:
        return pd.DataFrame(_km_one(t, e, z, conf_type))
    parts = []
    for k, label in enumerate(labels):
        sel = codes == k
        part = pd.DataFrame(_km_one(t[sel], e[sel], z, conf_type))
        part.insert(0, "group", pd.Series([label] * len(part), dtype=object))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _na_one(t: np.ndarray, e: np.ndarray, z: float) -> dict[str, np.ndarray]:
    """Nelson-Aalen table of one group at every distinct time (events and censorings)."""
    times, at_risk, d, total = _risk_table(t, e)
    cumhaz = np.cumsum(d / at_risk)
    se = np.sqrt(np.cumsum(d / at_risk**2))  # survfit's std.chaz (ctype = 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # log-transformed interval: log H +- z se(H) / H (delta method); none while H = 0
        spread = np.where(cumhaz > 0, np.exp(z * se / cumhaz), np.nan)
    return {
        "time": times,
        "at_risk": at_risk.astype("int64"),
        "events": d.astype("int64"),
        "censored": (total - d).astype("int64"),
        "cumhaz": cumhaz,
        "se": se,
        "ci_lower": cumhaz / spread,
        "ci_upper": cumhaz * spread,
    }


def nelson_aalen(
    durations: Any, events: Any, *, by: Any = None, conf_level: float = 0.95
) -> pd.DataFrame:
    """Nelson-Aalen cumulative hazard with its standard error and CI, as ``survival::survfit``.

    H(t) is the sum over event times up to t of (events / at risk); its standard error is
    the square root of the sum of (events / at risk squared), ``survfit``'s ``cumhaz`` and
    ``std.chaz`` with ``ctype = 1``. The interval is computed on the log scale,
    H(t) exp(+- z se / H(t)), so it stays positive.

    Parameters
    ----------
    durations, events, by, conf_level
        As for :func:`kaplan_meier`.

    Returns
    -------
    pandas.DataFrame
        One row per distinct time (event or censoring) per group: ``group`` (when ``by`` is
        given), ``time``, ``at_risk``, ``events``, ``censored``, ``cumhaz``, ``se``,
        ``ci_lower``, ``ci_upper`` (NaN while H(t) = 0, before the first event).

    Examples
    --------
    >>> na = nelson_aalen([2, 3, 3, 5, 8], [1, 1, 0, 1, 0])
    >>> na[["time", "at_risk", "events", "cumhaz"]]
       time  at_risk  events    cumhaz
    0   2.0        5       1  0.200000
    1   3.0        4       1  0.450000
    2   5.0        2       1  0.950000
    3   8.0        1       0  0.950000

    R: ``survfit(Surv(time, status) ~ 1, ctype = 1)[c("cumhaz", "std.chaz")]``.
    """
    z = _z(conf_level)
    t, e, codes, labels = _km_inputs(durations, events, by)
    if codes is None:
        return pd.DataFrame(_na_one(t, e, z))
    parts = []
    for k, label in enumerate(labels):
        sel = codes == k
        part = pd.DataFrame(_na_one(t[sel], e[sel], z))
        part.insert(0, "group", pd.Series([label] * len(part), dtype=object))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _quantile_time(
    y: np.ndarray, x: np.ndarray, level: float = 0.5, *, end: float | None = None
) -> float:
    """First time ``x`` where the curve ``y`` falls to ``level`` or below, as R reports it.

    Where the curve sits at exactly ``level`` (within sqrt(machine epsilon)) over a flat
    stretch, the answer is the midpoint of that stretch: from the time it reaches ``level``
    to the time of the next drop. With ``end=None`` this is ``print.survfit``'s median rule
    (``minmin``): a curve that never drops below ``level`` again gives the time it reached
    it. With ``end`` (the curve's last time) it is ``quantile.survfit``'s rule (``findq``):
    such a curve gives the midpoint of that time and ``end``. NaN means "not reached"; NaN
    values of ``y`` (CI limits that R reports as NA) never reach it.
    """
    tol = math.sqrt(np.finfo(float).eps)
    if end is None:
        keep = ~np.isnan(y) & (y < level + tol)
        if not keep.any():
            return math.nan
        xk, yk = x[keep], y[keep]
        if abs(yk[0] - level) < tol and (yk < yk[0]).any():
            return float((xk[0] + xk[np.flatnonzero(yk < yk[0])[0]]) / 2)
        return float(xk[0])
    # findq works on 1 - y with (0, 0) prepended, keeps the first of repeated values, and
    # looks values up with approx(method = "constant", f = 1): the smallest value at or
    # beyond the target, which is the first crossing while the curve only falls (a CI limit
    # may rise a little)
    xs = np.concatenate(([0.0], x))
    ys = np.concatenate(([0.0], 1.0 - y))
    _, first = np.unique(ys, return_index=True)  # NaN sorts last; repeated NaN kept once
    first.sort()
    xs, ys = xs[first], ys[first]
    target = 1.0 - level
    valid = ~np.isnan(ys)

    def lookup(shift: float) -> float:
        cand = np.flatnonzero(valid & (ys + shift >= target))
        if not cand.size:
            return math.nan
        return float(xs[cand[np.argmin(ys[cand])]])

    hi = lookup(tol)
    out = (hi + lookup(-tol)) / 2
    if valid[-1] and abs(target - ys[-1]) < tol:
        out = (hi + end) / 2
    return out


def median_survival(
    durations: Any,
    events: Any,
    *,
    by: Any = None,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Median survival time and its CI per group, as ``print(survfit(...))`` reports them.

    The median is the first time S(t) <= 0.5 (the midpoint to the next drop when S(t) sits at
    exactly 0.5). The CI limits are the first times the lower and upper pointwise limits
    reach 0.5, so they depend on ``conf_type``. NaN means "not reached".

    Parameters
    ----------
    durations, events, by, conf_type, conf_level
        As for :func:`kaplan_meier`.
    min_cell
        Groups whose ``n``, ``events`` or censored matches are 1 to ``min_cell - 1`` are
        masked (``n``, ``events``, the median and its CI set to NaN, ``suppressed`` True),
        and further groups as :func:`tim_research.privacy.suppression_mask` decides on the
        table of events and censored matches per group (overall totals taken as known), so
        that no hidden count can be worked out. A
        :class:`~tim_research.errors.SmallCellWarning` says how many. ``0`` shows everything.

    Returns
    -------
    pandas.DataFrame
        ``group`` (when ``by`` is given), ``n``, ``events``, ``median``, ``ci_lower``,
        ``ci_upper``, ``suppressed``.

    Examples
    --------
    >>> median_survival([2, 3, 3, 5, 8], [1, 1, 0, 1, 0], min_cell=0)
       n  events  median  ci_lower  ci_upper  suppressed
    0  5       3     5.0       3.0       NaN       False
    """
    min_cell = check_min_cell(min_cell)
    km = kaplan_meier(durations, events, by=by, conf_type=conf_type, conf_level=conf_level)
    groups = [(None, km)] if by is None else list(km.groupby("group", sort=False))
    rows = []
    for label, part in groups:
        x = part["time"].to_numpy()
        row = {} if by is None else {"group": label}
        row.update(
            n=int(part["at_risk"].iloc[0]),
            events=int(part["events"].sum()),
            median=_quantile_time(part["survival"].to_numpy(), x),
            ci_lower=_quantile_time(part["ci_lower"].to_numpy(), x),
            ci_upper=_quantile_time(part["ci_upper"].to_numpy(), x),
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    return _mask_groups(out, min_cell, ["median", "ci_lower", "ci_upper"], "median_survival")


def _mask_groups(out: pd.DataFrame, min_cell: int, values: list[str], caller: str) -> pd.DataFrame:
    """Mask the rows of groups with small counts: n, events and ``values`` set to NaN."""
    n, d = out["n"].to_numpy(), out["events"].to_numpy()
    mask = np.zeros(len(out), dtype=bool)
    if min_cell > 0:
        # n is shown beside the events, so it is the row total of events and censored
        counts = pd.DataFrame({"events": d, "censored": n - d, "n": n})
        hidden = suppression_mask(counts, min_cell=min_cell, total_column="n")
        mask = hidden.to_numpy().any(axis=1)
    out["suppressed"] = mask
    if mask.any():
        out[["n", "events"]] = out[["n", "events"]].astype(float)
        out.loc[mask, ["n", "events", *values]] = np.nan
        warnings.warn(
            f"{caller}: {int(mask.sum())} group(s) with fewer than min_cell={min_cell} "
            "matches or events (or masked to protect one) were suppressed",
            SmallCellWarning,
            stacklevel=3,
        )
    return out


def survival_quantiles(
    durations: Any,
    events: Any,
    *,
    probs: Sequence[float] = (0.25, 0.5, 0.75),
    by: Any = None,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Times by which given shares of matches have closed, with CIs, as ``quantile.survfit``.

    The ``p`` quantile is the first time S(t) <= 1 - p; where S(t) sits at exactly 1 - p
    over a flat stretch it is the midpoint of that stretch (to the next drop, or to the
    curve's last time when S(t) never drops again: ``quantile.survfit``'s rule, which
    differs there from the median that :func:`median_survival` reports as ``print``
    does). CI limits are the same quantiles of the pointwise lower and upper limits, so
    they depend on ``conf_type``. NaN means "not reached".

    Parameters
    ----------
    durations, events, by, conf_type, conf_level
        As for :func:`kaplan_meier`.
    probs
        Shares closed, each strictly between 0 and 1 (0.5 gives the median).
    min_cell
        As for :func:`median_survival`: groups with small counts are masked.

    Returns
    -------
    pandas.DataFrame
        One row per group (when ``by`` is given) and probability: ``group``, ``n``,
        ``events``, ``prob``, ``time``, ``ci_lower``, ``ci_upper``, ``suppressed``.

    Examples
    --------
    >>> q = survival_quantiles([2, 3, 3, 5, 8], [1, 1, 0, 1, 0], probs=[0.25, 0.5], min_cell=0)
    >>> q[["prob", "time", "ci_lower", "ci_upper"]]
       prob  time  ci_lower  ci_upper
    0  0.25   3.0       2.0       NaN
    1  0.50   5.0       3.0       NaN

    R: ``quantile(survfit(Surv(time, status) ~ 1), probs = c(0.25, 0.5))``.
    """
    min_cell = check_min_cell(min_cell)
    if isinstance(probs, int | float):
        probs = [probs]
    levels = [float(p) for p in probs]
    if not levels or any(not 0 < p < 1 for p in levels):
        raise DataError(f"probs must be numbers strictly between 0 and 1, got {list(probs)}")
    km = kaplan_meier(durations, events, by=by, conf_type=conf_type, conf_level=conf_level)
    groups = [(None, km)] if by is None else list(km.groupby("group", sort=False))
    rows = []
    for label, part in groups:
        x = part["time"].to_numpy()
        end = float(x[-1])
        curves = [part[c].to_numpy() for c in ("survival", "ci_lower", "ci_upper")]
        n = int(part["at_risk"].iloc[0])
        d = int(part["events"].sum())
        for p in levels:
            q, lo, hi = (_quantile_time(y, x, 1 - p, end=end) for y in curves)
            row = {} if by is None else {"group": label}
            row.update(n=n, events=d, prob=p, time=q, ci_lower=lo, ci_upper=hi)
            rows.append(row)
    out = pd.DataFrame(rows)
    # the mask is decided on one row per group (repeated rows would look like more groups)
    per_group = out[["n", "events"]].iloc[:: len(levels)].reset_index(drop=True)
    mask = _mask_groups(per_group, min_cell, [], "survival_quantiles")["suppressed"].to_numpy()
    out["suppressed"] = np.repeat(mask, len(levels))
    if mask.any():
        out[["n", "events"]] = out[["n", "events"]].astype(float)
        out.loc[out["suppressed"], ["n", "events", "time", "ci_lower", "ci_upper"]] = np.nan
    return out


# ---------------------------------------------------------------------------------------------
# log-rank
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test of equal survival across groups (``survival::survdiff``).

    With Fleming-Harrington weights (``rho``, ``gamma`` not both 0) ``observed``,
    ``expected`` and ``variance`` are the weighted sums, as ``survdiff`` reports them.
    """

    chisq: float
    df: int
    p: float
    groups: tuple[Any, ...] = field(repr=False)
    n: tuple[int, ...] = field(repr=False)
    observed: tuple[float, ...] = field(repr=False)
    expected: tuple[float, ...] = field(repr=False)
    variance: tuple[float, ...] = field(repr=False)  # diagonal of the variance of O - E
    rho: float = 0.0
    gamma: float = 0.0

    def to_frame(self) -> pd.DataFrame:
        """Per-group table: n, observed, expected, (O-E)^2/E, (O-E)^2/V."""
        o = np.asarray(self.observed)
        e = np.asarray(self.expected)
        v = np.asarray(self.variance)
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.DataFrame(
                {
                    "n": self.n,
                    "observed": o,
                    "expected": e,
                    "oe2_e": (o - e) ** 2 / e,
                    "oe2_v": (o - e) ** 2 / v,
                },
                index=pd.Index(self.groups, name="group"),
            )

    def __str__(self) -> str:
        weights = f" with G({self.rho:g}, {self.gamma:g}) weights" if self.rho or self.gamma else ""
        return (
            f"Log-rank test of {len(self.groups)} groups{weights}: chi-square "
            f"{self.chisq:.2f} on {self.df} df, p = {self.p:.3f}"
        )

    def _repr_html_(self) -> str:
        head = f"<p>Log-rank test: chisq = {self.chisq:.4g}, df = {self.df}, p = {self.p:.4g}</p>"
        return head + self.to_frame().to_html()


def logrank(
    durations: Any, events: Any, groups: Any, *, rho: float = 0.0, gamma: float = 0.0
) -> LogRankResult:
    """Log-rank test comparing survival between two or more groups, as ``survdiff``.

    With ``rho`` or ``gamma`` this is the weighted (Fleming-Harrington G(rho, gamma)) test:
    each event time t counts with weight S(t-)^rho (1 - S(t-))^gamma, S the Kaplan-Meier
    curve of all groups pooled. ``rho=1`` is the Peto-Peto test (``survdiff(rho = 1)``),
    which stresses early differences; ``gamma > 0`` stresses late ones (``survdiff`` has
    no ``gamma``).

    Parameters
    ----------
    durations, events
        As for :func:`kaplan_meier`.
    groups
        Group label per observation; at least two groups are needed.
    rho, gamma
        Non-negative exponents of the weights; both 0 (the default) is the log-rank test.

    Returns
    -------
    LogRankResult
        ``chisq``, ``df``, ``p``; ``.to_frame()`` gives observed and expected events per group.

    Examples
    --------
    >>> r = logrank([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 0, 1], ["a", "a", "b", "a", "b", "b"])
    >>> r.df, round(r.chisq, 4)
    (1, 2.5567)

    R: ``survdiff(Surv(time, status) ~ group)``.
    """
    if groups is None:
        raise DataError("logrank needs groups: one group label per observation")
    t, e, codes, labels = _km_inputs(durations, events, groups)
    if codes is None:  # pragma: no cover - groups was given
        raise DataError("logrank needs groups")
    k = len(labels)
    if k < 2:
        raise DataError(
            f"logrank needs at least two groups, got only {labels!r}; use kaplan_meier() to "
            "describe a single group"
        )
    if not e.any():
        raise DataError("logrank: no events (all observations censored); there is nothing to test")
    for name, value in (("rho", rho), ("gamma", gamma)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise DataError(f"{name} must be a number of 0 or more, got {value!r}")
    times, inverse = np.unique(t, return_inverse=True)
    m = times.size
    cell = codes * m + inverse
    total = np.bincount(cell, minlength=k * m).reshape(k, m).astype(float)
    died = np.bincount(cell, weights=e, minlength=k * m).reshape(k, m)
    # at risk per group at each time: those with time >= t
    n_g = np.cumsum(total[:, ::-1], axis=1)[:, ::-1]
    n_t = n_g.sum(axis=0)
    d_t = died.sum(axis=0)
    use = d_t > 0
    n_g, n_t, d_t, died = n_g[:, use], n_t[use], d_t[use], died[:, use]
    weight = np.ones(d_t.size)
    if rho or gamma:
        # pooled Kaplan-Meier just before each event time (censor-only times change nothing)
        s_after = np.cumprod(1.0 - d_t / n_t)
        s_before = np.concatenate(([1.0], s_after[:-1]))
        weight = s_before**rho * (1.0 - s_before) ** gamma
    frac = n_g / n_t
    expected = (frac * (weight * d_t)).sum(axis=1)
    observed = (died * weight).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n_t > 1, weight**2 * d_t * (n_t - d_t) / (n_t - 1), 0.0)
    var = np.diag((frac * w).sum(axis=1)) - (frac * w) @ frac.T
    keep = np.flatnonzero(expected > 0)
    if keep.size < 2:
        raise DataError(
            "logrank: only one group has observations at risk when events occur; "
            "there is no comparison to make"
        )
    diff = (observed - expected)[keep[1:]]
    sub = var[np.ix_(keep[1:], keep[1:])]
    try:
        chisq = float(diff @ np.linalg.solve(sub, diff))
    except np.linalg.LinAlgError as exc:
        raise DataError(f"logrank: variance matrix is singular ({exc})") from exc
    df = int(keep.size - 1)
    return LogRankResult(
        chisq=chisq,
        df=df,
        p=float(chdtrc(df, chisq)),
        groups=tuple(labels),
        n=tuple(int(x) for x in total.sum(axis=1)),
        observed=tuple(float(x) for x in observed),
        expected=tuple(float(x) for x in expected),
        variance=tuple(float(x) for x in np.diag(var)),
        rho=float(rho),
        gamma=float(gamma),
    )


# ---------------------------------------------------------------------------------------------
# concordance
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConcordanceResult:
    """Harrell's concordance of a risk score with survival (``survival::concordance``)."""

    concordance: float
    se: float
    n: int
    concordant: float = field(repr=False)
    discordant: float = field(repr=False)
    tied_risk: float = field(repr=False)  # comparable pairs with equal scores (count half)
    tied_time: float = field(repr=False)  # events at the same time, scores differ (left out)
    tied_both: float = field(repr=False)  # events at the same time with equal scores (left out)

    def __str__(self) -> str:
        return f"Concordance {self.concordance:.3f} (SE {self.se:.3f}) over {self.n} observations"


def _prefix_counts(
    values: np.ndarray, length: np.ndarray, query: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each query k: how many of ``values[:length[k]]`` are < and <= ``query[k]``.

    A merge-sort tree built level by level: at level L the values are sorted within
    consecutive blocks of 2**L, and a prefix of length s is the union of one block per set
    bit of s, so each query costs one binary search per level (O(n log^2 n) in all, with
    the O(n) memory of one level at a time). ``values`` and ``query`` are integer ranks.
    """
    n = values.size
    less = np.zeros(query.size, dtype=np.int64)
    less_eq = np.zeros(query.size, dtype=np.int64)
    if n == 0 or query.size == 0:
        return less, less_eq
    scale = np.int64(max(int(values.max()), int(query.max())) + 2)
    position = np.arange(n, dtype=np.int64)
    within = values.astype(np.int64)  # sorted within blocks of 2**level
    # the queries are kept sorted by (length >> level, query), so each level's searches
    # walk the keys in order (far fewer cache misses); from one level to the next that
    # order only merges neighbouring runs, which a stable sort does cheaply
    by = np.lexsort((query, length))
    level = 0
    while (1 << level) <= n:
        block = position >> level
        keys = block * scale + within
        keys.sort(kind="stable")  # blocks of the last level are sorted runs: a cheap merge
        within = keys - block * scale
        shifted = length[by] >> level
        step = np.argsort(shifted * scale + query[by], kind="stable")
        by, shifted = by[step], shifted[step]
        used = (shifted & 1).astype(bool)
        if used.any():
            rows = by[used]
            b = shifted[used] - 1  # block [b 2**level, (b + 1) 2**level) of the prefix
            target = b * scale + query[rows]
            before = b << level  # the full blocks before it, all counted by the search
            less[rows] += np.searchsorted(keys, target, side="left") - before
            less_eq[rows] += np.searchsorted(keys, target, side="right") - before
        level += 1
    return less, less_eq


def _concordance_counts(t: np.ndarray, e: np.ndarray, x: np.ndarray) -> dict[str, Any]:
    """Pair counts and per-observation pair counts (the influence) within one stratum."""
    n = t.size
    # longest time first; at a tied time censored rows come before events, so they are in the
    # risk set of those events (a match censored at t was still open at t)
    order = np.lexsort((e, -t))
    ts, es = t[order], e[order]
    rank = np.unique(x, return_inverse=True)[1].astype(np.int64)[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = (ts[1:] != ts[:-1]) | (es[1:] != es[:-1])
    start = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    ev = np.flatnonzero(es)
    # as the event: comparable rows are those before its (time, event) block
    length = start[ev].astype(np.int64)
    less, less_eq = _prefix_counts(rank, length, rank[ev])
    conc = np.zeros(n)
    disc = np.zeros(n)
    tied = np.zeros(n)
    conc[ev] = less  # the event had the higher score: concordant
    tied[ev] = less_eq - less
    disc[ev] = length - less_eq
    # as the comparator: the events whose block starts after this row's position
    by_start = ev[np.argsort(-start[ev], kind="stable")]
    starts_asc = np.sort(start[ev])
    length_c = (ev.size - np.searchsorted(starts_asc, np.arange(n), side="right")).astype(np.int64)
    less_c, less_eq_c = _prefix_counts(rank[by_start], length_c, rank)
    conc += length_c - less_eq_c
    tied += less_eq_c - less_c
    disc += less_c
    # events tied in time: left out of the pairs, counted as survival::concordance does
    _, per_time = np.unique(ts[ev], return_counts=True)
    _, per_both = np.unique(np.stack([ts[ev], rank[ev]]), axis=1, return_counts=True)
    pairs_time = float((per_time * (per_time - 1) / 2).sum())
    pairs_both = float((per_both * (per_both - 1) / 2).sum())
    back = np.empty(n, dtype=np.int64)
    back[order] = np.arange(n)
    return {
        "concordant": float(less.sum()),
        "discordant": float((length - less_eq).sum()),
        "tied_risk": float((less_eq - less).sum()),
        "tied_time": pairs_time - pairs_both,
        "tied_both": pairs_both,
        "influence": np.stack([conc[back], disc[back], tied[back]]),
    }


def concordance(durations: Any, events: Any, risk: Any, *, strata: Any = None) -> ConcordanceResult:
    """Harrell's C of a risk score (e.g. a Cox linear predictor) and its standard error.

    Over all comparable pairs (one member closed at t, the other still open after t, or
    censored at t), the share in which the member with the higher ``risk`` closed first,
    pairs with equal scores counting one half; pairs of closures at the same time are left
    out. A higher score means a shorter expected duration, as for the linear predictor of
    :func:`cox`. The standard error is the infinitesimal jackknife of
    ``survival::concordance`` (``sqrt(var)``). This is ``concordance(fit)`` for a ``coxph``
    fit (time weights ``"n"``); R first merges times that differ only by rounding error
    (``timefix``), this function uses the times as given.

    Parameters
    ----------
    durations, events
        As for :func:`kaplan_meier`.
    risk
        The score per observation (finite numbers), same length (and index).
    strata
        Optional stratum labels: pairs are formed within strata only (as for a stratified
        Cox model).

    Returns
    -------
    ConcordanceResult
        ``concordance``, ``se``, ``n`` and the pair counts ``concordant``, ``discordant``,
        ``tied_risk`` (within the comparable pairs), ``tied_time`` and ``tied_both``.

    Examples
    --------
    >>> c = concordance([5, 8, 3, 9, 12], [1, 1, 1, 0, 1], [0.2, 0.1, 0.9, 0.3, -1.0])
    >>> round(c.concordance, 4), round(c.se, 4), c.concordant, c.discordant
    (0.7778, 0.1936, 7.0, 2.0)

    R: ``concordance(Surv(t, e) ~ x, reverse = TRUE)``; for a model, with ``x`` its linear
    predictor (``data[covariates] @ fit["coef"]``), ``concordance(coxph_fit)``.
    """
    t, e, codes, labels = _km_inputs(durations, events, strata)
    x = _as_series(risk, "risk", _as_series(durations, "durations").index)
    if not (pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x)):
        raise DataError(f"risk must be numeric, got dtype {x.dtype}")
    xv = x.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(xv))
    if bad.size:
        raise DataError(f"risk has missing or infinite values at {_labels(x.index, bad)}")
    parts = (
        [np.arange(t.size)]
        if codes is None
        else [np.flatnonzero(codes == k) for k in range(len(labels))]
    )
    totals = dict.fromkeys(("concordant", "discordant", "tied_risk", "tied_time", "tied_both"), 0.0)
    influence = np.zeros((3, t.size))
    for rows in parts:
        part = _concordance_counts(t[rows], e[rows], xv[rows])
        for key in totals:
            totals[key] += part[key]
        influence[:, rows] = part["influence"]
    npair = totals["concordant"] + totals["discordant"] + totals["tied_risk"]
    if npair == 0:
        raise DataError(
            "concordance: no comparable pairs (no event with anyone still at risk after it)"
        )
    somers = (totals["concordant"] - totals["discordant"]) / npair
    conc, disc, tied = influence
    dfbeta = (conc - disc) / npair - somers / npair * (conc + disc + tied)
    return ConcordanceResult(
        concordance=(somers + 1) / 2,
        se=float(np.sqrt((dfbeta**2).sum() / 4)),
        n=int(t.size),
        **totals,
    )


# ---------------------------------------------------------------------------------------------
# Cox proportional hazards
# ---------------------------------------------------------------------------------------------
class _CoxData:
    """Sorted data and per-time-block index arrays reused by every Newton-Raphson iteration.

    Rows are sorted by time (longest first) once, so the risk set of each distinct time
    ("block") is a prefix and risk-set sums are cumulative sums over blocks. Sums of the
    form ``sum_b S_b g_b`` over risk-set moments ``S_b`` are computed by swapping the order
    of summation: each row gets the weight ``w_i * sum_{b: row i at risk at b} g_b`` and one
    matrix-vector product does the rest. Efron's correction for ``d`` tied events needs,
    per block, only scalar sums over ``l = 1..d-1``; it is vectorised over the tied events.
    """

    def __init__(self, t: np.ndarray, e: np.ndarray, x: np.ndarray, ties: str) -> None:
        n, p = x.shape
        self.p = p
        self.iu, self.ju = np.triu_indices(p)
        order = np.argsort(-t, kind="stable")
        ts = t[order]
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(ts[1:], ts[:-1], out=new[1:])
        self.starts = np.flatnonzero(new)
        self.n_blocks = self.starts.size
        self.no_ties = self.n_blocks == n
        self.block = np.cumsum(new) - 1
        xt = np.ascontiguousarray(x[order].T)
        self.basis1 = xt
        self.basis2 = xt[self.iu] * xt[self.ju]  # x_i * x_j, upper triangle
        ev = np.flatnonzero(e[order])
        self.order, self.ev = order, ev
        self.n_events = ev.size
        self.x_events_sum = xt[:, ev].sum(axis=1)
        d = np.bincount(self.block[ev], minlength=self.n_blocks)
        self.event_blocks = np.flatnonzero(d > 0)
        counts = d[self.event_blocks]
        self.d = counts.astype(float)
        self.efron = ties == "efron" and bool((counts > 1).any())
        if self.efron:
            tied = counts > 1
            self.tied_pos = np.flatnonzero(tied)  # positions among event blocks
            self.tied_ev = ev[np.repeat(tied, counts)]  # events of tied blocks, block by block
            k = counts[self.tied_pos]
            self.tied_starts = np.cumsum(k) - k
            self.tied_of_event = np.repeat(np.arange(k.size), k)
            self.tied_basis1 = xt[:, self.tied_ev]
            self.tied_basis2 = self.basis2[:, self.tied_ev]
            extra = k - 1  # the l = 1..d-1 terms of each tied block
            self.rep = np.repeat(np.arange(k.size), extra)
            offsets = np.repeat(np.cumsum(extra) - extra, extra)
            self.frac = (np.arange(extra.sum()) - offsets + 1) / k[self.rep]

    def block_moments(self, beta: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per event time at ``beta``: summed Schoenfeld residual, information, risk-set means.

        Returns ``resid`` (p x m: the events' x minus the risk-set means, summed over the
        d tied events), ``info`` (p x p x m: that time's term of the information),
        ``mean`` (p x m: the average over the d tied terms of the risk-set mean; Efron's
        l-th term removes l/d of the tied events' weight) for the m event times, latest
        first, and ``event_block`` (per event, in :attr:`ev` order, its event time).
        """
        p, iu, ju = self.p, self.iu, self.ju
        eta = beta @ self.basis1
        w = np.exp(eta - float(eta.max()))
        eb = self.event_blocks
        s0 = np.cumsum(self._per_block(w))[eb]
        s1 = np.cumsum(self._per_block(self.basis1 * w), axis=1)[:, eb]
        s2 = np.cumsum(self._per_block(self.basis2 * w), axis=1)[:, eb]
        mult = 1.0 if self.efron else self.d
        xbar0 = s1 / s0
        mean_sum = xbar0 * mult
        second = (s2 / s0 - xbar0[iu] * xbar0[ju]) * mult
        if self.efron:
            tp, f, rep = self.tied_pos, self.frac, self.rep
            w_t = w[self.tied_ev]
            a0 = np.add.reduceat(w_t, self.tied_starts)
            a1 = np.add.reduceat(self.tied_basis1 * w_t, self.tied_starts, axis=1)
            a2 = np.add.reduceat(self.tied_basis2 * w_t, self.tied_starts, axis=1)
            den = s0[tp][rep] - f * a0[rep]
            xbar = (s1[:, tp][:, rep] - f * a1[:, rep]) / den
            var = (s2[:, tp][:, rep] - f * a2[:, rep]) / den - xbar[iu] * xbar[ju]
            m = tp.size
            for j in range(p):
                mean_sum[j, tp] += np.bincount(rep, weights=xbar[j], minlength=m)
            for k in range(iu.size):
                second[k, tp] += np.bincount(rep, weights=var[k], minlength=m)
        event_block = np.searchsorted(eb, self.block[self.ev])
        x_sum = np.zeros((p, eb.size))
        for j in range(p):
            x_sum[j] = np.bincount(event_block, weights=self.basis1[j, self.ev], minlength=eb.size)
        info = np.empty((p, p, eb.size))
        info[iu, ju] = second
        info[ju, iu] = second
        return x_sum - mean_sum, info, mean_sum / self.d, event_block

    def score_residuals(self, beta: np.ndarray) -> np.ndarray:
        """Score residuals (rows in the input order, one column per covariate) at ``beta``.

        As ``residuals(coxph_fit, type = "score")``: row i gets its event term
        (x_i minus the risk-set mean) less the sum, over the event times at which it was
        at risk, of w_i (x_i - mean) times the hazard increment. With Efron's ties the l-th
        of d tied events has the risk set with l/d of the tied events' weight removed, and
        the tied events themselves count with weight 1 - l/d.
        """
        eta = beta @ self.basis1
        w = np.exp(eta - float(eta.max()))
        eb = self.event_blocks
        s0 = np.cumsum(self._per_block(w))[eb]
        s1 = np.cumsum(self._per_block(self.basis1 * w), axis=1)[:, eb]
        mult = 1.0 if self.efron else self.d
        xbar0 = s1 / s0
        hazard = mult / s0  # summed hazard increments of each event block
        mean_hazard = xbar0 * hazard  # summed increments times the risk-set mean
        xbar_sum = xbar0 * mult  # sum over the d tied terms of the risk-set mean
        frac_h = np.zeros(eb.size)  # sum over l of (l / d) h_l (Efron)
        frac_hx = np.zeros((self.p, eb.size))  # sum over l of (l / d) h_l mean_l
        if self.efron:
            tp, f, rep = self.tied_pos, self.frac, self.rep
            w_t = w[self.tied_ev]
            a0 = np.add.reduceat(w_t, self.tied_starts)
            a1 = np.add.reduceat(self.tied_basis1 * w_t, self.tied_starts, axis=1)
            den = s0[tp][rep] - f * a0[rep]
            h = 1.0 / den
            xbar = (s1[:, tp][:, rep] - f * a1[:, rep]) / den
            m = tp.size
            hazard[tp] += np.bincount(rep, weights=h, minlength=m)
            frac_h[tp] = np.bincount(rep, weights=f * h, minlength=m)
            for j in range(self.p):
                mean_hazard[j, tp] += np.bincount(rep, weights=h * xbar[j], minlength=m)
                xbar_sum[j, tp] += np.bincount(rep, weights=xbar[j], minlength=m)
                frac_hx[j, tp] = np.bincount(rep, weights=f * h * xbar[j], minlength=m)
        # rows are at risk at every event block from their own onwards (descending time)
        big_h = np.zeros(self.n_blocks)
        big_m = np.zeros((self.p, self.n_blocks))
        big_h[eb] = hazard
        big_m[:, eb] = mean_hazard
        big_h = np.cumsum(big_h[::-1])[::-1][self.block]
        big_m = np.cumsum(big_m[:, ::-1], axis=1)[:, ::-1][:, self.block]
        x = self.basis1
        res = w * (big_m - x * big_h)
        # the events: + x_i - mean over the tied terms, and (Efron) the weight they keep
        # only in part in the later tied terms
        of_event = np.searchsorted(eb, self.block[self.ev])
        counts = self.d[of_event]
        xe = x[:, self.ev]
        res[:, self.ev] += xe - xbar_sum[:, of_event] / counts
        res[:, self.ev] += w[self.ev] * (xe * frac_h[of_event] - frac_hx[:, of_event])
        out = np.empty_like(res)
        out[:, self.order] = res
        return out.T

    def _per_block(self, values: np.ndarray) -> np.ndarray:
        return values if self.no_ties else np.add.reduceat(values, self.starts, axis=-1)

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log partial likelihood, score and information at ``beta``."""
        p, iu, ju = self.p, self.iu, self.ju
        eta = beta @ self.basis1
        shift = float(eta.max())
        w = np.exp(eta - shift)
        eb = self.event_blocks
        s0 = np.cumsum(self._per_block(w))[eb]
        s1 = np.cumsum(self._per_block(self.basis1 * w), axis=1)[:, eb]
        # l = 0 term of each event block: d times for Breslow, once for Efron
        mult = 1.0 if self.efron else self.d
        q0 = mult / s0
        r0 = q0 / s0
        log_sum = float((mult * np.log(s0)).sum())
        g = np.zeros(self.n_blocks)
        g[eb] = q0
        quad = (s1 * r0) @ s1.T
        score = self.x_events_sum.copy()
        second = np.zeros(iu.size)
        if self.efron:
            tp = self.tied_pos
            w_t = w[self.tied_ev]
            a0 = np.add.reduceat(w_t, self.tied_starts)
            a1 = np.add.reduceat(self.tied_basis1 * w_t, self.tied_starts, axis=1)
            t0, t1 = s0[tp], s1[:, tp]
            f, rep = self.frac, self.rep
            den = t0[rep] - f * a0[rep]
            inv = 1.0 / den
            inv2 = inv * inv
            m = tp.size
            q0t = np.bincount(rep, weights=inv, minlength=m)
            q1t = np.bincount(rep, weights=f * inv, minlength=m)
            r0t = np.bincount(rep, weights=inv2, minlength=m)
            r1t = np.bincount(rep, weights=f * inv2, minlength=m)
            r2t = np.bincount(rep, weights=f * f * inv2, minlength=m)
            log_sum += float(np.log(den).sum())
            g[eb[tp]] += q0t
            score += a1 @ q1t
            second -= self.tied_basis2 @ (w_t * q1t[self.tied_of_event])
            cross = (t1 * r1t) @ a1.T
            quad += (t1 * r0t) @ t1.T - cross - cross.T + (a1 * r2t) @ a1.T
        # sum over blocks b of S_b g_b = sum over rows of moment_i * w_i * G(block_i)
        big_g = np.cumsum(g[::-1])[::-1]
        c = w * (big_g if self.no_ties else big_g[self.block])
        score -= self.basis1 @ c
        second += self.basis2 @ c
        info = np.empty((p, p))
        info[iu, ju] = second
        info[ju, iu] = second
        info -= quad
        loglik = float(beta @ self.x_events_sum) - log_sum - shift * self.n_events
        return loglik, score, info


class _StrataCoxData:
    """A stratified partial likelihood: one :class:`_CoxData` (own baseline hazard) per stratum."""

    def __init__(self, t: np.ndarray, e: np.ndarray, x: np.ndarray, ties: str, codes: np.ndarray):
        self.rows = [np.flatnonzero(codes == k) for k in range(int(codes.max()) + 1)]
        self.parts = [_CoxData(t[r], e[r], x[r], ties) for r in self.rows]
        self.n = t.size

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        loglik, score, info = 0.0, np.zeros(beta.size), np.zeros((beta.size, beta.size))
        for part in self.parts:
            if part.n_events == 0:  # a stratum without events adds nothing
                continue
            ll, sc, inf = part.evaluate(beta)
            loglik += ll
            score = score + sc
            info = info + inf
        return loglik, score, info

    def score_residuals(self, beta: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n, beta.size))
        for rows, part in zip(self.rows, self.parts, strict=True):
            if part.n_events:
                out[rows] = part.score_residuals(beta)
        return out


def _check_information(info: np.ndarray, covariates: list[str]) -> None:
    """Refuse covariates that are collinear (or constant) over the risk sets."""
    diag = np.diag(info)
    flat = [c for c, v in zip(covariates, diag, strict=True) if not v > 0]
    if flat:
        raise DataError(
            f"covariate(s) {flat} do not vary within the risk sets of the event times: "
            "remove them from covariates"
        )
    scale = np.sqrt(diag)
    values, vectors = np.linalg.eigh(info / np.outer(scale, scale))
    if values[0] < 1e-10:
        involved = [c for c, v in zip(covariates, vectors[:, 0], strict=True) if abs(v) > 1e-6]
        raise DataError(
            f"covariates {involved} are collinear (one is a linear combination of the "
            "others): drop one of them"
        )


def _newton_raphson(
    cd: _CoxData | _StrataCoxData, covariates: list[str], *, max_iter: int, eps: float
) -> tuple[np.ndarray, float, float, np.ndarray, int, bool]:
    """Maximise the partial likelihood from zero; return beta, logliks, covariance, ..."""
    beta = np.zeros(len(covariates))
    loglik, score, info = cd.evaluate(beta)
    _check_information(info, covariates)
    loglik0 = loglik
    converged = False
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            break
        if not np.isfinite(step).all():
            break
        new_beta = beta + step
        new_loglik, new_score, new_info = cd.evaluate(new_beta)
        halvings = 0
        while not new_loglik >= loglik and halvings < 30:  # step halving, as coxph
            new_beta = (beta + new_beta) / 2
            new_loglik, new_score, new_info = cd.evaluate(new_beta)
            halvings += 1
        if not new_loglik >= loglik:
            break
        done = new_loglik == 0 or abs(1 - loglik / new_loglik) <= eps
        beta, loglik, score, info = new_beta, new_loglik, new_score, new_info
        if done:
            converged = True
            break
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.full(info.shape, np.nan)
    if not converged or not np.isfinite(cov).all():
        warnings.warn(
            f"cox: no convergence in {iterations} iterations (coefficients {beta}); a "
            "coefficient may be infinite (a covariate that perfectly separates events)",
            ConvergenceWarning,
            stacklevel=3,
        )
        return beta, loglik0, loglik, cov, iterations, False
    # as coxph: a remaining Newton step that is not negligible flags a diverging coefficient
    remaining = np.abs(cov @ score)
    infinite = (remaining > eps) & (remaining > math.sqrt(eps) * np.abs(beta))
    if infinite.any():
        names = [c for c, flag in zip(covariates, infinite, strict=True) if flag]
        warnings.warn(
            f"cox: the log partial likelihood converged before {names}; those "
            "coefficients may be infinite (a covariate that perfectly separates events "
            "from non-events at the event times)",
            ConvergenceWarning,
            stacklevel=3,
        )
        return beta, loglik0, loglik, cov, iterations, True
    # one last Newton step: the log-likelihood is flat to rounding near the maximum, so
    # the stopping rule above can leave the last ~1e-9 of the step undone
    polished = beta + cov @ score
    new_loglik, _, new_info = cd.evaluate(polished)
    if new_loglik >= loglik - 1e-12 * abs(loglik):
        try:
            new_cov = np.linalg.inv(new_info)
        except np.linalg.LinAlgError:  # pragma: no cover - keep the previous step
            pass
        else:
            if np.isfinite(new_cov).all():
                beta, loglik, cov = polished, new_loglik, new_cov
    return beta, loglik0, loglik, cov, iterations, True


def cox(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    covariates: Sequence[str],
    ties: Literal["efron", "breslow"] = "efron",
    per: Mapping[str, float] | None = None,
    strata: str | Sequence[str] | None = None,
    cluster: str | None = None,
    missing: Literal["raise", "drop"] = "raise",
    conf_level: float = 0.95,
    max_iter: int = 30,
    eps: float = 1e-9,
) -> pd.DataFrame:
    """Cox proportional-hazards regression, as ``survival::coxph``.

    The partial likelihood is maximised by Newton-Raphson (with step halving) from zero,
    stopping when the relative change of the log partial likelihood falls below ``eps``
    (R's default convergence rule), followed by one more Newton step. Standard errors come
    from the inverse information. Covariates are centred internally, as in ``coxph``.

    Parameters
    ----------
    data
        One row per match.
    duration, event
        Columns with the follow-up time (finite, >= 0) and the event flag (0/1).
    covariates
        Numeric (or boolean) columns; code categorical variables as 0/1 dummies first.
    ties
        ``"efron"`` (R's default) or ``"breslow"`` handling of tied event times.
    per
        Units of the reported effect per covariate, e.g. ``{"training_hours": 10}`` for the
        hazard ratio per 10 hours: the covariate is divided by its unit before fitting (as
        ``coxph(... ~ I(training_hours / 10))``) and its row is labelled
        ``"training_hours (per 10)"``.
    strata
        Column(s) whose combinations are strata with separate baseline hazards (as
        ``coxph(... + strata(site))``): risk sets are formed within strata and the
        coefficients are shared. Use it for a variable whose effect is not proportional.
    cluster
        Column identifying groups of correlated rows (e.g. the mentor, who has several
        matches): ``se`` is then the grouped robust sandwich estimate of ``coxph(...,
        cluster = mentor)``, built from the score residuals summed per group, and the
        model-based one is kept in ``se_naive``. CIs, ``z`` and ``p`` use the robust one.
    missing
        ``"raise"`` (default) on a missing duration, event or covariate; ``"drop"`` leaves
        those rows out (as ``coxph``'s default ``na.omit``) and records how many in
        ``attrs["n_dropped"]``.
    conf_level
        Level of the hazard-ratio CI.
    max_iter, eps
        Newton-Raphson limits.

    Returns
    -------
    pandas.DataFrame
        Indexed by covariate: ``coef``, ``se``, ``hr`` (exp(coef)), ``ci_lower`` and
        ``ci_upper`` (of the hazard ratio), ``z``, ``p`` (Wald), and ``se_naive`` when
        ``cluster`` is given. ``attrs`` holds ``n``, ``n_events``, ``n_dropped``,
        ``loglik`` (at zero and at the estimate), ``iterations``, ``ties``, ``strata``
        (the column names, or None), ``n_strata``, ``cluster`` and ``n_clusters``.

    Examples
    --------
    >>> d = pd.DataFrame({"t": [5, 8, 3, 9, 12, 4, 7, 10, 6, 11],
    ...                   "e": [1, 1, 1, 0, 1, 1, 0, 1, 1, 1],
    ...                   "x": [1, 0, 1, 0, 0, 1, 0, 1, 0, 0]})
    >>> fit = cox(d, duration="t", event="e", covariates=["x"])
    >>> round(float(fit.loc["x", "coef"]), 4)
    1.7388

    R: ``coef(coxph(Surv(t, e) ~ x, data = d))``.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if ties not in ("efron", "breslow"):
        raise DataError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if not covariates:
        raise DataError("covariates is empty: name at least one column")
    strata_cols = [] if strata is None else [strata] if isinstance(strata, str) else list(strata)
    if strata is not None and not strata_cols:
        raise DataError("strata is empty: name at least one column, or pass None")
    overlap = [c for c in [*strata_cols, cluster] if c is not None and c in covariates]
    if overlap:
        raise DataError(f"{overlap} are named as covariates and as strata or cluster")
    wanted = [duration, event, *covariates, *strata_cols]
    if cluster is not None:
        wanted.append(cluster)
    absent = [c for c in wanted if c not in data.columns]
    if absent:
        raise DataError(f"data has no column(s) {absent}; found {list(data.columns)}")
    if len(set(covariates)) != len(covariates):
        raise DataError(f"covariates names a column twice: {covariates}")
    if missing not in ("raise", "drop"):
        raise DataError(f"missing must be 'raise' or 'drop', got {missing!r}")
    per = dict(per or {})
    unknown = [k for k in per if k not in covariates]
    if unknown:
        raise DataError(f"per names columns that are not covariates: {unknown}")
    bad_units = {k: v for k, v in per.items() if not (isinstance(v, int | float) and v > 0)}
    if bad_units:
        raise DataError(f"per units must be positive numbers, got {bad_units}")
    n_dropped = 0
    if missing == "drop":
        keep = data[wanted].notna().all(axis=1).to_numpy()
        n_dropped = int((~keep).sum())
        data = data.loc[keep]
    z_crit = _z(conf_level)
    t = _durations_array(data[duration], duration)
    e = _events_array(data[event], event)
    if not e.any():
        raise DataError(
            f"{event} has no events (every observation is censored): the Cox model cannot be "
            "estimated; report Kaplan-Meier survival (which stays at 1) instead"
        )
    x = np.empty((len(data), len(covariates)))
    for j, name in enumerate(covariates):
        col = data[name]
        if pd.api.types.is_bool_dtype(col) and not col.isna().any():
            x[:, j] = col.to_numpy(dtype=float) / per.get(name, 1.0)
            continue
        if not pd.api.types.is_numeric_dtype(col):
            raise DataError(
                f"covariate {name} is not numeric (dtype {col.dtype}); code it as 0/1 dummy "
                "columns, e.g. with pandas.get_dummies(..., drop_first=True)"
            )
        x[:, j] = col.to_numpy(dtype="float64", na_value=np.nan) / per.get(name, 1.0)
        bad = np.flatnonzero(~np.isfinite(x[:, j]))
        if bad.size:
            raise DataError(
                f"covariate {name} has missing or infinite values at "
                f"{_labels(data.index, bad)}; impute them or drop those rows explicitly"
            )
    x -= x.mean(axis=0)
    constant = [c for c, s in zip(covariates, np.ptp(x, axis=0), strict=True) if s == 0]
    if constant:
        raise DataError(f"covariate(s) {constant} do not vary: remove them from covariates")

    n_strata = 1
    cd: _CoxData | _StrataCoxData
    if strata_cols:
        labels = data[strata_cols]
        absent_rows = np.flatnonzero(labels.isna().any(axis=1).to_numpy())
        if absent_rows.size:
            raise DataError(
                f"strata column(s) {strata_cols} have missing labels at "
                f"{_labels(data.index, absent_rows)}; give those rows a stratum or drop them"
            )
        codes = labels.groupby(strata_cols, sort=True).ngroup().to_numpy()
        n_strata = int(codes.max()) + 1
        cd = _StrataCoxData(t, e, x, ties, codes)
    else:
        cd = _CoxData(t, e, x, ties)
    n_clusters = None
    if cluster is not None:
        groups = data[cluster]
        absent_rows = np.flatnonzero(groups.isna().to_numpy())
        if absent_rows.size:
            raise DataError(
                f"cluster column {cluster} is missing at {_labels(data.index, absent_rows)}; "
                "give every row its group"
            )
        cluster_codes = pd.factorize(groups)[0]
        n_clusters = int(cluster_codes.max()) + 1
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        beta, loglik0, loglik, cov, iterations, converged = _newton_raphson(
            cd, covariates, max_iter=max_iter, eps=eps
        )
        se = np.sqrt(np.diag(cov))
        se_naive = se
        if cluster is not None:
            # grouped sandwich: dfbeta = score residuals times the inverse information,
            # summed within clusters (coxph's robust variance)
            resid = cd.score_residuals(beta)
            summed = np.zeros((n_clusters, len(covariates)))
            np.add.at(summed, cluster_codes, resid)
            dfbeta = summed @ cov
            se = np.sqrt(np.diag(dfbeta.T @ dfbeta))
        zval = beta / se
        p = np.array([math.erfc(abs(v) / math.sqrt(2)) for v in zval])
        out = pd.DataFrame(
            {
                "coef": beta,
                "se": se,
                "hr": np.exp(beta),
                "ci_lower": np.exp(beta - z_crit * se),
                "ci_upper": np.exp(beta + z_crit * se),
                "z": zval,
                "p": p,
            },
            index=pd.Index(
                [f"{c} (per {per[c]:g})" if c in per else c for c in covariates],
                name="covariate",
            ),
        )
        if cluster is not None:
            out["se_naive"] = se_naive
    out.attrs.update(
        n=int(len(data)),
        n_events=int(e.sum()),
        n_dropped=n_dropped,
        loglik=(loglik0, loglik),
        iterations=iterations,
        ties=ties,
        converged=converged,
        strata=strata_cols or None,
        n_strata=n_strata,
        cluster=cluster,
        n_clusters=n_clusters,
    )
    return out


# ---------------------------------------------------------------------------------------------
# proportional-hazards check
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ZphResult:
    """Test of proportional hazards from scaled Schoenfeld residuals (``survival::cox.zph``)."""

    table: pd.DataFrame = field(repr=False)  # chisq, df, p per covariate and GLOBAL
    residuals: pd.DataFrame = field(repr=False)  # one row per event, (time, x) index
    transform: str = "km"

    def __str__(self) -> str:
        g = self.table.loc["GLOBAL"]
        return (
            f"Proportional-hazards test ({self.transform} time): global chi-square "
            f"{g['chisq']:.2f} on {int(g['df'])} df, p = {g['p']:.3f}"
        )

    def _repr_html_(self) -> str:
        return f"<p>{self}</p>" + self.table.to_html()


def _transformed_time(t: np.ndarray, e: np.ndarray, transform: str) -> np.ndarray:
    if transform == "km":
        # 1 - S(t-), S the Kaplan-Meier curve of all rows pooled (strata ignored, as cox.zph)
        times, at_risk, d, _ = _risk_table(t, e)
        before = np.concatenate(([1.0], np.cumprod(1.0 - d / at_risk)[:-1]))
        return 1.0 - before[np.searchsorted(times, t)]
    if transform == "rank":
        return pd.Series(t).rank(method="average").to_numpy()
    if transform == "log":
        if (t <= 0).any():
            raise DataError("transform='log' needs positive durations")
        return np.log(t)
    return t.astype(float)


def cox_zph(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    covariates: Sequence[str],
    ties: Literal["efron", "breslow"] = "efron",
    strata: str | Sequence[str] | None = None,
    transform: Literal["km", "rank", "identity", "log"] = "km",
) -> ZphResult:
    """Check the proportional-hazards assumption of a Cox model, as ``survival::cox.zph``.

    The model of :func:`cox` is fitted, then each covariate is given a coefficient that
    changes linearly in transformed time g(t): the score test of those extra coefficients
    being zero is the test for that covariate, and of all of them together the GLOBAL test.
    A small p says the hazard ratio changes over the life of a match; look at the residual
    plot (:func:`tim_research.plots.zph_residuals`) to see how.

    Parameters
    ----------
    data, duration, event, covariates, ties, strata
        As for :func:`cox` (complete rows only). With strata, risk sets are formed within
        strata and g(t) still comes from all rows pooled, as in ``cox.zph``.
    transform
        g(t): ``"km"`` (R's default: 1 - the pooled Kaplan-Meier curve just before t,
        which spreads the events evenly), ``"rank"``, ``"identity"`` or ``"log"``.

    Returns
    -------
    ZphResult
        ``table``: ``chisq``, ``df``, ``p`` per covariate and a ``GLOBAL`` row;
        ``residuals``: one row per event, in time order (within strata), indexed by
        ``time`` and ``x`` (the transformed time g(t), R's ``$x``), with one column per
        covariate: its scaled Schoenfeld residual plus its coefficient (R's ``$y``), whose
        trend against ``x`` estimates how the coefficient changes over time.

    Examples
    --------
    >>> d = pd.DataFrame({"t": [5, 8, 3, 9, 12, 4, 7, 10, 6, 11],
    ...                   "e": [1, 1, 1, 0, 1, 1, 0, 1, 1, 1],
    ...                   "x": [1, 0, 1, 0, 0, 1, 0, 1, 0, 0]})
    >>> z = cox_zph(d, duration="t", event="e", covariates=["x"])
    >>> z.table.round(4)
                chisq  df       p
    covariate
    x          0.6478   1  0.4209
    GLOBAL     0.6478   1  0.4209

    R: ``cox.zph(coxph(Surv(t, e) ~ x, data = d))``.
    """
    if transform not in ("km", "rank", "identity", "log"):
        raise DataError(f"transform must be 'km', 'rank', 'identity' or 'log', got {transform!r}")
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    fit = cox(data, duration=duration, event=event, covariates=covariates, ties=ties, strata=strata)
    beta = fit["coef"].to_numpy()
    t = data[duration].to_numpy(dtype="float64")
    e = _events_array(data[event], event)
    x = data[covariates].to_numpy(dtype="float64")
    x = x - x.mean(axis=0)
    codes = np.zeros(t.size, dtype=np.int64)
    if strata is not None:
        cols = [strata] if isinstance(strata, str) else list(strata)
        codes = data[cols].groupby(cols, sort=True).ngroup().to_numpy()
    p = len(covariates)
    tt = _transformed_time(t, e, transform)  # pooled over strata, as cox.zph
    g_mean = float(tt[e].mean())
    full = np.zeros((2 * p, 2 * p))
    u = np.zeros(2 * p)  # the score of beta is 0 at the fit
    event_rows, schoenfeld = [], []
    for k in range(int(codes.max()) + 1):
        part_rows = np.flatnonzero(codes == k)
        cd = _CoxData(t[part_rows], e[part_rows], x[part_rows], ties)
        if cd.n_events == 0:
            continue
        resid, info, mean, event_block = cd.block_moments(beta)
        rows = part_rows[cd.order[cd.ev]]  # the events, as input rows
        g_block = np.zeros(cd.event_blocks.size)
        g_block[event_block] = tt[rows] - g_mean  # tied events share their time
        full[:p, :p] += info.sum(axis=2)
        full[:p, p:] += (info * g_block).sum(axis=2)
        full[p:, p:] += (info * g_block**2).sum(axis=2)
        u[p:] += resid @ g_block
        event_rows.append(rows)
        schoenfeld.append(x[rows] - mean[:, event_block].T)
    full[p:, :p] = full[:p, p:].T
    rows = np.concatenate(event_rows)
    tests = []
    for j in range(p):
        kk = [*range(p), p + j]
        tests.append(float(u[kk] @ np.linalg.solve(full[np.ix_(kk, kk)], u[kk])))
    tests.append(float(u @ np.linalg.solve(full, u)))
    df = [1] * p + [p]
    table = pd.DataFrame(
        {"chisq": tests, "df": df, "p": [float(chdtrc(k, c)) for k, c in zip(df, tests)]},
        index=pd.Index([*covariates, "GLOBAL"], name="covariate"),
    )
    # scaled Schoenfeld residuals: each event's residual times the inverse of the average
    # information per event, plus the coefficient
    vmean = full[:p, :p] / rows.size
    scaled = np.linalg.solve(vmean, np.concatenate(schoenfeld).T).T + beta
    # stratum, then time order, ties in input order (as R)
    by_time = np.lexsort((rows, t[rows], codes[rows]))
    # the times go in the index, so that no covariate name can clash with them
    index = pd.MultiIndex.from_arrays([t[rows][by_time], tt[rows][by_time]], names=["time", "x"])
    residuals = pd.DataFrame(scaled[by_time], columns=covariates, index=index)
    return ZphResult(table=table, residuals=residuals, transform=transform)
