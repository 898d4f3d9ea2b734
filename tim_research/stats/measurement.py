"""Measurement quality of an instrument's scales in a sample, beside the published values.

The instrument file says which items make up each scale, which are reverse-keyed and their
response range; this module passes those to :func:`tim_research.stats.psychometrics.reliability` and
:func:`~tim_research.stats.psychometrics.item_statistics` (checked against ``psych::alpha`` and
``psych::omega``), so a notebook never types an item list or a key by hand. Published
reliabilities ship as data (``reference_data/published_reliability.csv``) with their citation,
the place in the source, and whether they were read in the source itself or in a secondary one.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from tim_research._checks import show_labels as _show
from tim_research.errors import DataError, ReliabilityWarning
from tim_research.instruments import Instrument, Scale, load_instrument
from tim_research.stats.prevalence import distribution
from tim_research.stats.psychometrics import (
    Reliability,
    item_statistics,
    reliability,
)

__all__ = [
    "PUBLISHED_COLUMNS",
    "band_distribution",
    "instrument_item_correlations",
    "instrument_item_statistics",
    "instrument_reliability",
    "published_reliability",
    "reliability_table",
]

_MAX_SHOWN = 5
PUBLISHED_FILE = (
    Path(__file__).resolve().parents[1] / "reference_data" / "published_reliability.csv"
)
PUBLISHED_COLUMNS = (
    "instrument",
    "scale",
    "statistic",
    "value",
    "value_low",
    "value_high",
    "n",
    "sample",
    "short_ref",
    "citation",
    "location",
    "source_type",
    "seen_in",
)


# ------------------------------------------------------------------------------------------------
# published values
# ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _published() -> pd.DataFrame:
    table = pd.read_csv(PUBLISHED_FILE, dtype={"n": "Int64"})
    return table


def published_reliability(instrument: str | None = None) -> pd.DataFrame:
    """Published reliability coefficients of the built-in instruments, with their sources.

    Parameters
    ----------
    instrument
        An instrument id to keep only its rows, or ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        One row per instrument, scale and statistic: ``value`` (or a range ``value_low`` to
        ``value_high`` when the source gives only a range), ``n`` and ``sample`` of the
        published study, ``short_ref``, the full ``citation``, the ``location`` in the source
        (page, table or section), ``source_type`` ("primary" when read in the source itself,
        "secondary" when read in a work quoting it) and ``seen_in`` (where it was read).

    Examples
    --------
    >>> pub = published_reliability("stss")
    >>> pub[["scale", "value"]].to_dict("records")[0]
    {'scale': 'score', 'value': 0.93}
    """
    table = _published().copy()
    if instrument is None:
        return table
    if instrument not in set(table["instrument"]):
        known = sorted(set(table["instrument"]))
        raise DataError(
            f"no published reliability for instrument {instrument!r}; instruments with values: "
            f"{_show(known)}"
        )
    return table[table["instrument"] == instrument].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# the items of a scale
# ------------------------------------------------------------------------------------------------
def _instrument(instrument: str | Instrument) -> Instrument:
    if isinstance(instrument, Instrument):
        return instrument
    return load_instrument(instrument)


def _item_scales(inst: Instrument) -> list[Scale]:
    return [s for s in inst.scales if s.items]


def _pick_scale(inst: Instrument, scale: str | None) -> Scale:
    scales = _item_scales(inst)
    if scale is None:
        main = [s for s in scales if s.id == "score"]
        if main:
            return main[0]
        if len(scales) == 1:
            return scales[0]
        raise DataError(
            f"{inst.id} has several scales ({_show([s.id for s in scales])}) and no total "
            "'score'; pass scale= with one of them"
        )
    for s in inst.scales:
        if s.id == scale or inst.scale_column(s) == scale:
            if not s.items:
                raise DataError(
                    f"{inst.id} scale {scale!r} is built from other scales, not items; choose "
                    f"one of {_show([x.id for x in scales])}"
                )
            return s
    raise DataError(
        f"{inst.id} has no scale {scale!r}; its item scales are {_show([s.id for s in scales])}"
    )


def _values(data: pd.DataFrame, inst: Instrument, item_ids: Sequence[str]) -> pd.DataFrame:
    """Item columns mapped from response codes to the instrument's scoring values."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [i for i in item_ids if i not in data.columns]
    if missing:
        raise DataError(
            f"data lacks the {inst.id} item column(s) {_show(missing)}; pass the item answers "
            "(e.g. from tim_research.views.tables.item_responses) with columns named by item id"
        )
    items = {i.id: i for i in inst.items}
    out = {}
    for item_id in item_ids:
        col = data[item_id]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise DataError(
                f"{inst.id} item {item_id!r} must hold numeric response codes, got {col.dtype}"
            )
        codes = col.to_numpy(dtype=float, na_value=np.nan)
        mapping = inst.item_values(items[item_id])
        valid = np.isnan(codes) | np.isin(codes, list(mapping))
        if not valid.all():
            parts = []
            for v in np.unique(codes[~valid])[:_MAX_SHOWN]:
                rows = data.index[codes == v]
                shown = f"{v:g}"
                parts.append(f"{shown} (row{'s' if len(rows) > 1 else ''} {_show(rows)})")
            raise DataError(
                f"{inst.id} item {item_id} has values outside its codes {sorted(mapping)}: "
                f"{', '.join(parts)}; recode them or set them to NaN"
            )
        values = np.full(len(codes), np.nan)
        for code, value in mapping.items():
            values[codes == code] = value
        out[item_id] = values
    return pd.DataFrame(out, index=data.index)


def _keys(inst: Instrument, scale: Scale, reverse_keyed: bool) -> tuple[list[str], float, float]:
    ranges = {inst.value_range(inst._item(i)) for i in scale.items}
    if len(ranges) > 1:
        raise DataError(
            f"{inst.id} scale {scale.id!r} mixes items with different response ranges "
            f"({sorted(ranges)}); reliability needs one range to reverse-key items"
        )
    lo, hi = ranges.pop()
    reverse = [i for i in scale.items if inst._item(i).reverse] if reverse_keyed else []
    return reverse, lo, hi


def instrument_reliability(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    scale: str | None = None,
    reverse_keyed: bool = True,
    conf_level: float = 0.95,
) -> Reliability:
    """Alpha (with Feldt CI) and omega total of one scale, with items and keys from its file.

    Parameters
    ----------
    data
        One row per respondent with the scale's item columns as response codes (as stored in
        the surveys); codes are mapped to the instrument's scoring values first.
    instrument
        Instrument id (or a loaded :class:`~tim_research.instruments.Instrument`).
    scale
        Scale id (``"burnout"``) or output column (``"proqol5_burnout"``); by default the
        instrument's total ``score``, or its only scale.
    reverse_keyed
        Reverse the items the instrument marks as reversed (``min + max - x``) before computing.
        ``False`` shows what happens when the keys are forgotten.
    conf_level
        Coverage of the Feldt interval.

    Returns
    -------
    tim_research.stats.psychometrics.Reliability

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"brs_1": [4, 2, 5, 3, 4], "brs_2": [2, 4, 1, 3, 2],
    ...                   "brs_3": [4, 2, 4, 3, 5], "brs_4": [2, 5, 1, 3, 1],
    ...                   "brs_5": [5, 1, 4, 3, 4], "brs_6": [1, 4, 2, 3, 2]},
    ...                  index=["y3", "y1", "y5", "y2", "y4"])
    >>> rel = instrument_reliability(d, "brs")
    >>> rel.reversed_items, round(rel.alpha, 3)
    (('brs_2', 'brs_4', 'brs_6'), 0.97)
    """
    inst = _instrument(instrument)
    s = _pick_scale(inst, scale)
    reverse, lo, hi = _keys(inst, s, reverse_keyed)
    values = _values(data, inst, s.items)
    return reliability(values, reverse=reverse, min_value=lo, max_value=hi, conf_level=conf_level)


def instrument_item_correlations(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    scale: str | None = None,
    reverse_keyed: bool = True,
) -> pd.DataFrame:
    """Correlations between the items of one scale (pairwise-complete Pearson r).

    With ``reverse_keyed=False`` the items are taken as answered, which shows why keys matter:
    on a scale with negatively worded items, those items correlate negatively with the others
    until they are reversed.

    Parameters
    ----------
    data, instrument, scale, reverse_keyed
        As in :func:`instrument_reliability`.

    Returns
    -------
    pandas.DataFrame
        Square, indexed and labelled by item id in questionnaire order.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"brs_1": [4, 2, 5, 3, 4], "brs_2": [2, 4, 1, 3, 2],
    ...                   "brs_3": [4, 2, 4, 3, 5], "brs_4": [2, 5, 1, 3, 1],
    ...                   "brs_5": [5, 1, 4, 3, 4], "brs_6": [1, 4, 2, 3, 2]})
    >>> raw = instrument_item_correlations(d, "brs", reverse_keyed=False)
    >>> bool(raw.loc["brs_1", "brs_2"] < 0), bool(raw.loc["brs_1", "brs_3"] > 0)
    (True, True)
    """
    inst = _instrument(instrument)
    s = _pick_scale(inst, scale)
    reverse, lo, hi = _keys(inst, s, reverse_keyed)
    values = _values(data, inst, s.items)
    for item in reverse:
        values[item] = lo + hi - values[item]
    out = values.corr(method="pearson")
    out.index.name = "item"
    return out


def instrument_item_statistics(
    data: pd.DataFrame,
    instrument: str | Instrument,
    *,
    scales: str | Sequence[str] | None = None,
    reverse_keyed: bool = True,
    low_r_drop: float = 0.3,
) -> pd.DataFrame:
    """Item statistics of each scale of an instrument, with weak items flagged.

    Parameters
    ----------
    data
        As in :func:`instrument_reliability`.
    instrument
        Instrument id (or a loaded instrument).
    scales
        Scale id(s) or output column(s); by default every scale made of items (an item in a
        total and in a subscale appears once for each).
    reverse_keyed
        Reverse the instrument's reversed items first (``False`` shows the raw items).
    low_r_drop
        Items whose corrected item-total correlation is below this are flagged.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``scale``, ``item``), ``scale`` being the scale's output column (e.g.
        ``cyrm_r_personal``): ``label``, ``reversed`` (reverse-keyed in this computation),
        ``mean``, ``sd``, ``n``, ``r_drop`` (corrected item-total r), ``alpha_if_deleted``,
        ``scale_alpha``, ``low_r_drop`` (r_drop below the threshold) and ``raises_alpha``
        (alpha would be higher without the item).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"brs_1": [4, 2, 5, 3, 4], "brs_2": [2, 4, 1, 3, 2],
    ...                   "brs_3": [4, 2, 4, 3, 5], "brs_4": [2, 5, 1, 3, 1],
    ...                   "brs_5": [5, 1, 4, 3, 4], "brs_6": [1, 4, 2, 3, 2]})
    >>> keyed = instrument_item_statistics(d, "brs")
    >>> keyed.xs("brs_score")[["reversed", "low_r_drop"]].sum().tolist()
    [3, 0]
    """
    inst = _instrument(instrument)
    if scales is None:
        picked = _item_scales(inst)
    else:
        picked = [_pick_scale(inst, s) for s in ([scales] if isinstance(scales, str) else scales)]
    labels = {i.id: i.label for i in inst.items}
    parts = []
    for s in picked:
        reverse, lo, hi = _keys(inst, s, reverse_keyed)
        values = _values(data, inst, s.items)
        stats = item_statistics(values, reverse=reverse, min_value=lo, max_value=hi)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReliabilityWarning)
            alpha = reliability(values, reverse=reverse, min_value=lo, max_value=hi).alpha
        stats.insert(0, "label", [labels[i] for i in stats.index])
        stats.insert(1, "reversed", [i in reverse for i in stats.index])
        stats["scale_alpha"] = alpha
        stats["low_r_drop"] = stats["r_drop"] < low_r_drop
        stats["raises_alpha"] = stats["alpha_if_deleted"] > alpha
        stats.index = pd.MultiIndex.from_product(
            [[inst.scale_column(s)], list(stats.index)], names=["scale", "item"]
        )
        parts.append(stats)
    return pd.concat(parts)


def reliability_table(
    data: pd.DataFrame,
    instruments: str | Sequence[str],
    *,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Reliability of every item scale of the instruments, beside the published values.

    Parameters
    ----------
    data
        One row per respondent with the instruments' item columns (see
        :func:`tim_research.views.tables.item_responses`).
    instruments
        Instrument id(s).
    conf_level
        Coverage of the Feldt interval.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``scale`` (output column, e.g. ``stss_intrusion``): ``instrument``,
        ``label``, ``k`` (items), ``n`` (respondents with any item answered), ``alpha``,
        ``alpha_ci_lower``, ``alpha_ci_upper``, ``omega_total``, ``average_r``,
        ``reversed_items``, and from :func:`published_reliability`: ``published_alpha``,
        ``published_low``, ``published_high`` (a published range), ``published_n``,
        ``published_ref``, ``published_source_type``. A scale without a published alpha has
        NaN there.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"brs_1": [4, 2, 5, 3, 4], "brs_2": [2, 4, 1, 3, 2],
    ...                   "brs_3": [4, 2, 4, 3, 5], "brs_4": [2, 5, 1, 3, 1],
    ...                   "brs_5": [5, 1, 4, 3, 4], "brs_6": [1, 4, 2, 3, 2]})
    >>> t = reliability_table(d, "brs")
    >>> t.loc["brs_score", ["published_low", "published_high"]].tolist()
    [0.8, 0.91]
    """
    names = [instruments] if isinstance(instruments, str) else list(instruments)
    pub = _published()
    pub = pub[pub["statistic"] == "alpha"].set_index(["instrument", "scale"])
    rows = []
    for name in names:
        inst = _instrument(name)
        for s in _item_scales(inst):
            rel = instrument_reliability(data, inst, scale=s.id, conf_level=conf_level)
            key = (inst.id, s.id)
            p = pub.loc[key] if key in pub.index else None
            rows.append(
                {
                    "scale": inst.scale_column(s),
                    "instrument": inst.id,
                    "label": s.label,
                    "k": rel.k,
                    "n": rel.n,
                    "alpha": rel.alpha,
                    "alpha_ci_lower": rel.alpha_ci[0],
                    "alpha_ci_upper": rel.alpha_ci[1],
                    "omega_total": rel.omega_total,
                    "average_r": rel.average_r,
                    "reversed_items": ", ".join(rel.reversed_items),
                    "published_alpha": np.nan if p is None else p["value"],
                    "published_low": np.nan if p is None else p["value_low"],
                    "published_high": np.nan if p is None else p["value_high"],
                    "published_n": pd.NA if p is None else p["n"],
                    "published_ref": "" if p is None else p["short_ref"],
                    "published_source_type": "" if p is None else p["source_type"],
                }
            )
    out = pd.DataFrame(rows).set_index("scale")
    out["published_n"] = out["published_n"].astype("Int64")
    return out


def band_distribution(
    data: pd.DataFrame,
    columns: Mapping[str, str] | Sequence[str],
    *,
    min_cell: int = 5,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Share of people in each band of several score-category columns, small cells suppressed.

    Parameters
    ----------
    data
        One row per person with categorical band columns (e.g. ``proqol5_burnout_category``).
    columns
        The band columns, or a mapping of column -> display name of the scale.
    min_cell, conf_level
        As in :func:`tim_research.stats.prevalence.distribution` (Wilson CIs; counts below
        ``min_cell`` masked as NaN with ``suppressed`` True, plus a complementary cell).

    Returns
    -------
    pandas.DataFrame
        ``scale`` (display name) then the columns of ``prevalence.distribution``, scales in
        the order given.

    Examples
    --------
    >>> import pandas as pd
    >>> cats = ["low", "moderate", "high"]
    >>> d = pd.DataFrame({"a": pd.Categorical(["low"] * 6 + ["high"] * 4, categories=cats),
    ...                   "b": pd.Categorical(["moderate"] * 10, categories=cats)})
    >>> t = band_distribution(d, {"a": "A", "b": "B"}, min_cell=0)
    >>> t[["scale", "category", "count"]].head(3).to_dict("list")
    {'scale': ['A', 'A', 'A'], 'category': ['low', 'moderate', 'high'], 'count': [6.0, 0.0, 4.0]}
    """
    names = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    if not names:
        raise DataError("columns is empty; name at least one band column")
    parts = []
    for col, label in names.items():
        table = distribution(data, col, min_cell=min_cell, conf_level=conf_level)
        table.insert(0, "scale", label)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)
