"""One vectorised scoring engine for every instrument declared in ``tim_research/instruments``."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from tim_research.errors import (
    DataError,
    InvalidResponseError,
    InvalidResponseWarning,
    ProratedScoreWarning,
)
from tim_research.instruments import CutoffSet, Instrument, Item, Scale, load_instrument

__all__ = ["score", "resolve_instruments"]

InstrumentLike = str | Path | Instrument
_MAX_ROWS_SHOWN = 5
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def resolve_instruments(
    instrument: InstrumentLike | Sequence[InstrumentLike], *, paths: Iterable[str | Path] = ()
) -> list[Instrument]:
    """Turn an id, a file path, an :class:`Instrument` or a list of them into Instruments."""
    many = (
        list(instrument)
        if isinstance(instrument, Sequence) and not isinstance(instrument, str)
        else [instrument]
    )
    out = [i if isinstance(i, Instrument) else load_instrument(i, paths=paths) for i in many]
    ids = [i.id for i in out]
    if len(set(ids)) != len(ids):
        raise DataError(f"instrument list names the same instrument twice: {ids}")
    return out


def score(
    data: pd.DataFrame,
    instrument: InstrumentLike | Sequence[InstrumentLike],
    *,
    columns: Mapping[str, str] | None = None,
    options: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None = None,
    cutoffs: Mapping[str, str] | None = None,
    on_invalid: Literal["raise", "missing"] = "raise",
    paths: Iterable[str | Path] = (),
    first_row: int = 1,
) -> pd.DataFrame:
    """Score one or more instruments from item-level responses.

    Parameters
    ----------
    data
        One row per respondent (and wave); item columns named ``<id>_<n>`` unless mapped
        with ``columns``. Numbers, numeric strings, response labels ("Yes", "Strongly agree",
        case-insensitive), pandas nullable dtypes and categoricals are accepted; see Notes
        for how text is read.
    instrument
        An instrument id (``"brs"``), a ``.toml`` file, an :class:`Instrument`, or a list.
    columns
        Map of item id to the column holding it, e.g. ``{"brfss_ace_1": "ACEDEPRS"}``.
    options
        Scoring options left open by an instrument's sources, e.g.
        ``{"emotional_abuse": "more_than_once"}`` or the complete-case rule
        ``{"missing": "complete_cases"}``; with several instruments key it by
        instrument id: ``{"brfss_ace": {...}}``. Defaults are documented in each file.
    cutoffs
        Map of output column to a non-default cut-off set, e.g. ``{"ace10_score": "cdc_2019"}``.
    on_invalid
        ``"raise"`` (default): out-of-range values or unknown labels raise one
        :class:`InvalidResponseError` naming the instrument, every column, its number of
        invalid rows and the first of them by position (never the values or the index
        labels, which are often ids). ``"missing"``: treat them as unanswered and report
        them alike in an :class:`InvalidResponseWarning`. Categories of a categorical
        column that no row uses (an SPSS "Refused" label nobody chose) are never invalid.
    paths
        Extra folders holding user instrument files.
    first_row
        Number given to the first data row in messages: 1 (default) counts rows by position
        from 1; 2 names spreadsheet rows of a file whose header is row 1.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data`` (same rows, same order): one float column per scale
        (``<id>_score`` for the main score, ``<id>_<subscale>``), an ordered categorical
        ``<column>_category`` where the scale has cut-offs, and ``<id>_n_answered``.
        A scale with too few answered items is NaN, never a low score.

    Notes
    -----
    Numbers are codes. A numeric value, or text that spells a number (``"2"``, ``" 2.0"``),
    is always a response code, never matched against labels; text that is not a number is
    matched against the response labels (case and surrounding spaces ignored). So a response
    set whose labels are themselves numbers (codes 1-3 labelled "0", "1", "2") scores the
    answer 2 and the text "2" alike, as code 2. Categorical columns are read by their
    categories with the same rule; to score the codes of an SPSS/Stata file whose labels
    are worded differently ("4 - AGREE"), read it with
    ``read_table(path, value_labels="codes")``.

    ACE scores are population research measures, not screening tools for individuals.

    Banding of prorated sums: score sheets give whole-number bands (e.g. ProQOL 5 "42 or
    more" high), but a prorated sum can fall between them (41.11). For every ``sum`` scale
    whose cut-off set has only whole-number bounds, the category is taken from the sum
    rounded half up to a whole number (41.4 -> 41, 41.5 -> 42), as a hand-scorer would;
    the score column itself keeps the unrounded prorated value. Other scales (means, such
    as the BRS) are banded on the unrounded score.

    A ``dask.dataframe.DataFrame`` is scored lazily partition by partition
    (``map_partitions``), for data larger than memory; the index is then checked for
    duplicates within each partition only.

    Examples
    --------
    >>> import pandas as pd
    >>> from tim_research import score
    >>> df = pd.DataFrame(
    ...     {"brs_1": [5, 2], "brs_2": [1, 4], "brs_3": [4, 2],
    ...      "brs_4": [2, 4], "brs_5": [4, 3], "brs_6": [1, 5]},
    ...     index=["y07", "y03"],
    ... )
    >>> score(df, "brs")
          brs_score brs_score_category  brs_n_answered
    y07    4.500000               high               6
    y03    2.000000                low               6
    """
    if _is_dask_frame(data):
        # larger than memory: score each partition with the same rules; the result is lazy
        options_kw = {
            "columns": columns,
            "options": options,
            "cutoffs": cutoffs,
            "on_invalid": on_invalid,
            "paths": paths,
            "first_row": first_row,
        }
        meta = score(data._meta, instrument, **options_kw)
        return data.map_partitions(score, instrument, meta=meta, **options_kw)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"score() needs a pandas DataFrame, got {type(data).__name__}")
    if isinstance(first_row, bool) or not isinstance(first_row, int | np.integer):
        raise DataError(f"first_row must be a whole number, got {type(first_row).__name__}")
    if on_invalid not in ("raise", "missing"):
        raise DataError(f"on_invalid must be 'raise' or 'missing', got {on_invalid!r}")
    _check_index(data)
    instruments = resolve_instruments(instrument, paths=paths)
    per_instrument = _split_options(options, instruments)
    columns = dict(columns or {})
    cutoffs = dict(cutoffs or {})
    known_items = {i for inst in instruments for i in inst.item_ids}
    stray = sorted(set(columns) - known_items)
    if stray:
        raise DataError(
            f"columns= maps unknown item ids {stray}; item ids of "
            f"{', '.join(i.id for i in instruments)} look like {instruments[0].item_ids[0]!r}"
        )

    parts: list[pd.DataFrame] = []
    for inst in instruments:
        applied = inst.with_options(per_instrument.get(inst.id))
        parts.append(_score_one(data, applied, columns, cutoffs, on_invalid, first_row))
    stray_cut = sorted(set(cutoffs) - {c for p in parts for c in p.columns})
    if stray_cut:
        raise DataError(f"cutoffs= names columns that are not scored here: {stray_cut}")
    return pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]


# --------------------------------------------------------------------------- checks


def _is_dask_frame(data: object) -> bool:
    """A dask DataFrame, recognised without importing dask."""
    return type(data).__module__.startswith("dask") and hasattr(data, "map_partitions")


def _check_index(data: pd.DataFrame) -> None:
    if data.index.has_duplicates:
        # rows by position: the labels are often ids, which messages never repeat
        repeated = np.flatnonzero(data.index.duplicated(keep=False))
        rows = ", ".join(str(int(p) + 1) for p in repeated[:_MAX_ROWS_SHOWN])
        more = (
            f" and {len(repeated) - _MAX_ROWS_SHOWN} more"
            if len(repeated) > _MAX_ROWS_SHOWN
            else ""
        )
        raise DataError(
            f"the data's index has duplicated labels (rows {rows}{more} by position, counted "
            "from 1); scores are "
            "aligned to the index, so give each row a unique label (e.g. set_index on an id + "
            "wave, or reset_index())"
        )


def _split_options(
    options: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None,
    instruments: list[Instrument],
) -> dict[str, Mapping[str, str]]:
    if not options:
        return {}
    if all(isinstance(v, Mapping) for v in options.values()):
        unknown = sorted(set(options) - {i.id for i in instruments})
        if unknown:
            raise DataError(f"options= is keyed by instruments not scored here: {unknown}")
        return dict(options)  # type: ignore[arg-type]
    if len(instruments) > 1:
        raise DataError(
            "with several instruments, key options= by instrument id, e.g. "
            "{'brfss_ace': {'emotional_abuse': 'once'}}"
        )
    return {instruments[0].id: options}  # type: ignore[dict-item]


def _resolve_columns(
    data: pd.DataFrame, inst: Instrument, columns: Mapping[str, str]
) -> dict[str, str]:
    wanted = {item: columns.get(item, item) for item in inst.item_ids}
    missing = [
        f"{col!r}" + (f" (item {item})" if col != item else "")
        for item, col in wanted.items()
        if col not in data.columns
    ]
    if missing:
        raise DataError(
            f"{inst.id}: the data have no column {', '.join(missing)}. Rename the columns to the "
            f"item ids ({inst.item_ids[0]} ... {inst.item_ids[-1]}) or map them with "
            f"columns={{'{inst.item_ids[0]}': 'your_column', ...}}"
        )
    dup = sorted({c for c in wanted.values() if (data.columns == c).sum() > 1})
    if dup:
        raise DataError(f"{inst.id}: the data have more than one column named {dup}; rename them")
    used = pd.Series(list(wanted.values()))
    twice = used[used.duplicated()].tolist()
    if twice:
        raise DataError(f"{inst.id}: columns= maps several items to the same column(s) {twice}")
    return wanted


# --------------------------------------------------------------------------- item values


class _ItemTable:
    """Lookup of every valid code of an item to its scoring value (after reverse keying)."""

    def __init__(self, inst: Instrument, item: Item) -> None:
        values = inst.item_values(item)
        if item.reverse:
            lo, hi = inst.value_range(item)
            values = {c: (lo + hi - v) for c, v in values.items()}
        rs = inst.response_sets[item.response_set]
        self.codes = np.array(sorted(values), dtype=float)
        self.lo, self.hi = int(self.codes[0]), int(self.codes[-1])
        size = self.hi - self.lo + 1
        self.ok = np.zeros(size, dtype=bool)
        self.value = np.full(size, np.nan)
        for c, v in values.items():
            self.ok[c - self.lo] = True
            self.value[c - self.lo] = v
        # identity: a valid code is its own value, so the lookup can be skipped
        self.identity = bool(self.ok.all()) and all(v == c for c, v in values.items())
        self.labels = {lab.strip().casefold(): code for code, lab in zip(rs.codes, rs.labels)}
        self.describe = _describe_codes(rs.codes, rs.labels)

    def lookup(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Scoring values of float codes (NaN = unanswered) and the mask of invalid codes."""
        if codes.size == 0 or math.isnan(lo_seen := np.fmin.reduce(codes)):
            return np.full(codes.shape, np.nan), None  # nothing answered
        hi_seen = np.fmax.reduce(codes)
        whole = codes == np.rint(codes)  # False for NaN
        integral = np.count_nonzero(whole) == np.count_nonzero(codes == codes)
        if self.identity and integral and self.lo <= lo_seen and hi_seen <= self.hi:
            return codes, None  # the common case: valid codes are their own values
        inrange = whole & (codes >= self.lo) & (codes <= self.hi)
        idx = np.where(inrange, codes - self.lo, 0).astype(np.intp)
        ok = inrange & self.ok[idx]
        invalid = ~ok & ~np.isnan(codes)
        return np.where(ok, self.value[idx], np.nan), (invalid if invalid.any() else None)


def _describe_codes(codes: Sequence[int], labels: Sequence[str]) -> str:
    contiguous = list(codes) == list(range(min(codes), max(codes) + 1))
    nums = f"{min(codes)}-{max(codes)}" if contiguous else ", ".join(map(str, codes))
    labs = ", ".join(f"'{lab}'" for lab in labels)
    return f"codes {nums} or labels {labs}"


def _as_codes(series: pd.Series, table: _ItemTable) -> tuple[np.ndarray, np.ndarray | None]:
    """Float codes of a column (NaN = unanswered) and the mask of unreadable cells."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = pd.Series(dtype.categories)
        cat_codes, bad_cats = _as_codes(cats, table)
        pos = series.cat.codes.to_numpy()
        out = np.where(pos >= 0, cat_codes[np.maximum(pos, 0)], np.nan)
        # only categories somebody chose can be invalid: an SPSS "Refused" label that no
        # row uses is part of the file's label set, not an answer
        bad = None if bad_cats is None else (pos >= 0) & bad_cats[np.maximum(pos, 0)]
        return out, (bad if bad is not None and bad.any() else None)
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return series.to_numpy(dtype=float, na_value=np.nan), None
    # text: map each distinct value once, then broadcast
    pos, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.full(len(uniques) + 1, np.nan)
    unreadable = np.zeros(len(uniques) + 1, dtype=bool)
    for j, u in enumerate(uniques):
        code = _read_cell(u, table)
        if code is None:
            unreadable[j] = True
        else:
            mapped[j] = code
    bad = unreadable[pos] if unreadable.any() else None
    return mapped[pos], bad


def _read_cell(value: object, table: _ItemTable) -> float | None:
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if text == "":
        return np.nan
    # Numbers are codes: numeric text reads as the number it spells, as a numeric column
    # does, so "2" and 2 score alike even where a response set's labels are numbers.
    if _NUMBER.fullmatch(text):
        return float(text)
    hit = table.labels.get(text.casefold())
    return None if hit is None else float(hit)


def _item_array(
    data: pd.DataFrame, column: str, table: _ItemTable
) -> tuple[np.ndarray, np.ndarray | None]:
    series = data[column]
    codes, unreadable = _as_codes(series, table)
    values, invalid = table.lookup(
        np.where(unreadable, np.nan, codes) if unreadable is not None else codes
    )
    if unreadable is not None:
        invalid = unreadable if invalid is None else (invalid | unreadable)
    return values, invalid


def _invalid_message(
    column: str, item: str, mask: np.ndarray, table: _ItemTable, first_row: int
) -> str:
    """Where the invalid responses of one column are: never their values or index labels.

    Values and index labels (often ids) must not reach logs and shared outputs, so the rows
    are named by position, numbered from ``first_row``.
    """
    where = f"{column}" + (f" (item {item})" if column != item else "")
    positions = np.flatnonzero(mask)
    shown = ", ".join(str(int(p) + first_row) for p in positions[:_MAX_ROWS_SHOWN])
    n = len(positions)
    more = f" and {n - _MAX_ROWS_SHOWN} more" if n > _MAX_ROWS_SHOWN else ""
    noun = "row" if n == 1 else "rows"
    return f"{where} has values outside {table.describe} in {n} {noun} ({noun} {shown}{more})"


# --------------------------------------------------------------------------- scales


_Bounds = tuple[np.ndarray, np.ndarray]


def _scale_bounds(scale: Scale, bounds: list[_Bounds]) -> _Bounds:
    """Smallest and largest value a scale could take once its unanswered parts are filled in.

    A part's bounds are its value where known and its possible range where not, so the
    bounds say whether the answered items already settle a rule (see method ``"all"``).
    """
    los = [b[0] for b in bounds]
    his = [b[1] for b in bounds]
    if scale.thresholds:
        los = [(lo >= t).astype(float) for lo, t in zip(los, scale.thresholds)]
        his = [(hi >= t).astype(float) for hi, t in zip(his, scale.thresholds)]
    if scale.method == "sum":
        return np.sum(los, axis=0), np.sum(his, axis=0)
    if scale.method == "mean":
        return np.mean(los, axis=0), np.mean(his, axis=0)
    if scale.method == "any":
        return np.max(los, axis=0), np.max(his, axis=0)
    return np.min(los, axis=0), np.min(his, axis=0)  # "all": every part met


def _combine(
    scale: Scale,
    arrays: list[np.ndarray],
    answered: list[np.ndarray],
    n_rows: int,
    bounds: _Bounds,
) -> tuple[np.ndarray, np.ndarray]:
    """Score of one scale and the number of its parts answered per row."""
    count = np.zeros(n_rows, dtype=np.int16 if len(answered) > 255 else np.uint8)
    for a in answered:
        np.add(count, a, out=count)
    k = len(arrays)
    enough = count >= scale.min_answered
    if scale.method == "all":
        # Decided as soon as the answered items settle it: met when every part is sure to
        # reach its threshold, not met when one part cannot reach it even if every
        # unanswered item were at its highest; missing only when still open.
        lo, hi = bounds
        return np.where(hi == 0, 0.0, np.where(lo == 1, 1.0, np.nan)), count
    if scale.thresholds:
        # a part counts as 1 when it reaches its threshold (e.g. a symptom rated 2 or more)
        arrays = [
            np.where(m, (a >= t).astype(float), np.nan)
            for a, m, t in zip(arrays, answered, scale.thresholds)
        ]
    if scale.method == "any":
        hit = np.zeros(n_rows, dtype=bool)
        for a in arrays:
            hit |= a > 0
        return np.where(hit, 1.0, np.where(enough, 0.0, np.nan)), count
    total = np.zeros(n_rows)
    for a, m in zip(arrays, answered):
        np.add(total, a, out=total, where=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        if scale.method == "mean":
            result = total / count
        elif scale.prorate:
            result = np.where(count < k, total * k / count, total)
        else:
            result = total
    result[~enough] = np.nan
    return result, count


def _whole_number_cutoffs(scale: Scale, cut: CutoffSet) -> bool:
    """A sum scale whose cut-off set has only whole-number bounds (a score sheet's bands)."""
    bounds = [x for b in cut.bins for x in (b.lower, b.upper) if math.isfinite(x)]
    return scale.method == "sum" and all(float(x).is_integer() for x in bounds)


def _categorise(values: np.ndarray, scale: Scale, cutoff_id: str | None) -> pd.Categorical | None:
    cut = scale.cutoff_set(cutoff_id)
    if cut is None:
        return None
    if _whole_number_cutoffs(scale, cut):
        # Score sheets band whole sums; a prorated sum is rounded half up, as a hand-scorer
        # would, so 41.5 bands as 42 and 41.4 as 41 whatever the file's bin edges. Sums of
        # whole answers are unchanged. np.floor(x + 0.5) is exact here: x = total * k / n.
        values = np.floor(values + 0.5)
    codes = np.zeros(values.shape, dtype=np.int8)
    for b in cut.bins[:-1]:
        codes += (values > b.upper) if b.upper_inclusive else (values >= b.upper)
    codes[np.isnan(values)] = -1
    return pd.Categorical.from_codes(codes, categories=list(cut.labels), ordered=True)


def _score_one(
    data: pd.DataFrame,
    inst: Instrument,
    columns: Mapping[str, str],
    cutoffs: Mapping[str, str],
    on_invalid: str,
    first_row: int,
) -> pd.DataFrame:
    wanted = _resolve_columns(data, inst, columns)
    n = len(data)
    values: dict[str, np.ndarray] = {}
    answered: dict[str, np.ndarray] = {}
    bounds: dict[str, _Bounds] = {}
    every_item: dict[str, np.ndarray] = {}  # every item beneath answered (complete-case rule)
    problems: list[str] = []
    for item in inst.items:
        table = _ItemTable(inst, item)
        arr, invalid = _item_array(data, wanted[item.id], table)
        if invalid is not None:
            problems.append(_invalid_message(wanted[item.id], item.id, invalid, table, first_row))
            arr = np.where(invalid, np.nan, arr)
        values[item.id] = arr
        answered[item.id] = ~np.isnan(arr)
        every_item[item.id] = answered[item.id]
        lo, hi = inst.value_range(item)  # reverse keying keeps the range
        bounds[item.id] = (
            np.where(answered[item.id], arr, lo),
            np.where(answered[item.id], arr, hi),
        )
    if problems:
        text = (
            f"{inst.id}: "
            + "; ".join(problems)
            + f" (rows by position, the first data row being {first_row})"
        )
        if on_invalid == "raise":
            raise InvalidResponseError(
                text + '. Recode them, or pass on_invalid="missing" to treat them as unanswered.'
            )
        warnings.warn(text + " (treated as unanswered).", InvalidResponseWarning, stacklevel=3)

    out: dict[str, object] = {}
    prorated = 0
    for scale in inst.scales:
        col = inst.scale_column(scale)
        arrays = [values[p] for p in scale.parts]
        masks = [answered[p] for p in scale.parts]
        lo, hi = _scale_bounds(scale, [bounds[p] for p in scale.parts])
        result, count = _combine(scale, arrays, masks, n, (lo, hi))
        every_item[scale.id] = np.logical_and.reduce([every_item[p] for p in scale.parts])
        if scale.complete:
            result[~every_item[scale.id]] = np.nan
        known = ~np.isnan(result)
        bounds[scale.id] = (np.where(known, result, lo), np.where(known, result, hi))
        if scale.prorate:
            prorated += int(((count < len(arrays)) & ~np.isnan(result)).sum())
        values[scale.id] = result
        answered[scale.id] = ~np.isnan(result)
        out[col] = result
        cats = _categorise(result, scale, cutoffs.get(col))
        if cats is not None:
            out[f"{col}_category"] = cats
    n_answered = np.zeros(n, dtype=np.int64)
    for item in inst.items:
        np.add(n_answered, answered[item.id], out=n_answered)
    out[f"{inst.id}_n_answered"] = n_answered
    if prorated:
        warnings.warn(
            f"{inst.id}: {prorated} score(s) prorated from the answered items "
            f"(see {inst.id}_n_answered).",
            ProratedScoreWarning,
            stacklevel=3,
        )
    return pd.DataFrame(out, index=data.index)
