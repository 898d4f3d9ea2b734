"""Tables for people: the one display layer every notebook table goes through.

:func:`format_table` turns a library table into a :class:`Table` that program staff and
boards can read: shares as "40 %", intervals as "35-44 %", p-values as "< 0.001", missing
cells as "–", whole numbers without decimals, headers in plain words from one dictionary
(:mod:`tim_research.vocabulary`, ``tim_research/labels.toml``), no row-number column, and
cells hidden by the privacy rules reading "suppressed". Technical columns (standard errors,
test statistics, degrees of freedom, ...) go into a folded "Technical details" part under the
table; the executed notebook in the analyst tree keeps the full table.

The HTML is made by pandas' ``Styler`` (part of pandas: no extra dependency, escapes cells,
hides the index) on cells already formatted here, so it is the same run to run and the
report's safety gate reads it like any simple HTML table.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tim_research.errors import DataError
from tim_research.vocabulary import column_label, technical_columns, value_label

__all__ = [
    "MISSING",
    "SUPPRESSED",
    "Table",
    "format_interval",
    "format_number",
    "format_p",
    "format_percent",
    "format_table",
]

#: What an empty cell reads.
MISSING = "–"
#: What a cell hidden by the privacy rules reads (as in :func:`tim_research.views.notebook.show`).
SUPPRESSED = "suppressed"
_SUPPRESSED_NOTE = (
    "“suppressed”: hidden because too few people are behind the number to show it safely."
)
# Columns holding shares from 0 to 1 (shown as percentages) and already in percent (0-100)
_SHARE_COLUMNS = ("share", "proportion", "prevalence")
_PERCENT_COLUMNS = ("percent",)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def format_number(value: object, *, digits: int = 2) -> str:
    """A number for readers: whole numbers without decimals, others rounded to ``digits``.

    Examples
    --------
    >>> format_number(12.0), format_number(0.33333), format_number(12345), format_number(None)
    ('12', '0.33', '12,345', '–')
    """
    if _missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if not isinstance(value, numbers.Number):
        return str(value)
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return MISSING
    if v == round(v) and (isinstance(value, numbers.Integral) or digits >= 0):
        # thousands are grouped from five digits on, so years and codes keep their look
        return f"{int(round(v)):,}" if abs(v) >= 10_000 else str(int(round(v)))
    text = f"{v:.{digits}f}"
    return "0" if float(text) == 0 and digits == 0 else text


def format_percent(value: object, *, share: bool = True, digits: int = 0) -> str:
    """A share (0-1, or 0-100 with ``share=False``) as a percentage: ``"40 %"``.

    Examples
    --------
    >>> format_percent(0.4), format_percent(55.2, share=False), format_percent(float("nan"))
    ('40 %', '55 %', '–')
    """
    if _missing(value) or not isinstance(value, numbers.Number):
        return MISSING if _missing(value) else str(value)
    v = float(value) * (100.0 if share else 1.0)  # type: ignore[arg-type]
    return f"{v:.{digits}f} %"


def format_interval(lower: object, upper: object, *, percent: bool = False, digits: int = 2) -> str:
    """An interval: ``"35-44 %"`` for shares, ``"3.37 to 3.60"`` for other numbers.

    Numbers are joined by "to", as a hyphen between negative numbers would read as a minus.

    Examples
    --------
    >>> format_interval(0.352, 0.444, percent=True), format_interval(-0.1, 0.25)
    ('35-44 %', '-0.10 to 0.25')
    >>> format_interval(13.3, float("nan"), digits=1)
    '13.3 to –'
    """
    if _missing(lower) and _missing(upper):
        return MISSING
    if percent:
        lo, hi = (
            MISSING if _missing(b) else f"{float(b) * 100:.0f}"  # type: ignore[arg-type]
            for b in (lower, upper)
        )
        return f"{lo}-{hi} %"
    lo, hi = (
        MISSING if _missing(b) else f"{float(b):.{digits}f}"  # type: ignore[arg-type]
        for b in (lower, upper)
    )
    return f"{lo} to {hi}"


def format_p(value: object) -> str:
    """A p-value: ``"< 0.001"`` below 0.001, else three decimals.

    Examples
    --------
    >>> format_p(0.00002), format_p(0.0456), format_p(None)
    ('< 0.001', '0.046', '–')
    """
    if _missing(value) or not isinstance(value, numbers.Number):
        return MISSING if _missing(value) else str(value)
    v = float(value)  # type: ignore[arg-type]
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


@dataclass(frozen=True, eq=False)
class Table:
    """A table formatted for readers (cells are text): the main part and technical details.

    ``main`` and ``details`` hold the displayed text under plain headers; ``details`` (the
    row labels and the technical columns) is ``None`` when the table has no technical
    column. In a notebook the table shows as HTML; ``str()`` gives plain text.
    """

    main: pd.DataFrame
    details: pd.DataFrame | None = None
    caption: str = ""
    source: str = ""
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The main part as a DataFrame of text."""
        return self.main

    def to_html(self) -> str:
        """The table as an HTML fragment (``div.tim-table``)."""
        parts = ['<div class="tim-table">', _html_table(self.main, self.caption)]
        if self.source:
            parts.append(f'<p class="tim-source">Source: {html.escape(self.source)}</p>')
        if self.notes:
            items = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
            parts.append(f'<ul class="tim-notes">{items}</ul>')
        if self.details is not None:
            parts.append(
                '<details class="tim-details"><summary>Technical details</summary>'
                + _html_table(self.details, "")
                + "</details>"
            )
        parts.append("</div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        lines = [self.caption] if self.caption else []
        lines.append(self.main.to_string(index=False) if len(self.main.columns) else "")
        if self.source:
            lines.append(f"Source: {self.source}")
        lines += list(self.notes)
        if self.details is not None:
            lines += ["Technical details:", self.details.to_string(index=False)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _html_table(frame: pd.DataFrame, caption: str) -> str:
    styler = frame.style.hide(axis="index").format(escape="html")
    styler = styler.format_index(escape="html", axis=1)
    if caption:
        styler = styler.set_caption(html.escape(caption))
    return styler.to_html(exclude_styles=True).strip()


def _columns(table: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """The table with a meaningful index as leading columns and row numbers dropped."""
    frame = table.to_frame() if isinstance(table, pd.Series) else table
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"table must be a DataFrame or Series, got {type(table).__name__}")
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.set_axis([" ".join(map(str, c)).strip() for c in frame.columns], axis=1)
    index = frame.index
    row_numbers = (
        index.nlevels == 1 and index.name is None and pd.api.types.is_integer_dtype(index.dtype)
    )
    if row_numbers:
        return frame.reset_index(drop=True)
    names = [n if n is not None else " " * k for k, n in enumerate(index.names)]
    taken = {str(c) for c in frame.columns}
    names = [n if str(n) not in taken else f"{n} " for n in names]
    return frame.set_axis(index.set_names(names), axis=0).reset_index()


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    )


def _in_unit_range(values: pd.Series) -> bool:
    nums = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(nums)) and bool(((nums >= 0) & (nums <= 1)).all())


def _interval_pairs(columns: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(name, lower, upper)`` of bound columns: ``x_lower``/``x_upper``, ``x_low``/``x_high``."""
    pairs = []
    for col in columns:
        for low, high in (("_lower", "_upper"), ("_low", "_high")):
            if col.endswith(low) and col[: -len(low)] + high in columns:
                pairs.append((col[: -len(low)], col, col[: -len(low)] + high))
    return pairs


def _interval_label(name: str, level: str) -> str:
    if name == "ci":
        return f"{level} % interval"
    if name.endswith("_ci"):
        return f"{level} % interval ({column_label(name[:-3])})"
    return f"{column_label(name)} (range)"


def format_table(
    table: pd.DataFrame | pd.Series,
    *,
    digits: int = 2,
    unit: str | None = None,
    percent: Sequence[str] | None = None,
    technical: Sequence[str] | None = None,
    caption: str = "",
    source: str = "",
    notes: Sequence[str] = (),
) -> Table:
    """A library table formatted for readers (see the module docstring for the rules).

    Parameters
    ----------
    table
        A table of the library (e.g. from :mod:`tim_research.views.describe` or a statistics
        function). An integer index without a name (row numbers) is dropped; any other index
        becomes the first column(s).
    digits
        Decimals of numbers that are not whole (percentages have none).
    unit
        Who the ``n`` column counts (e.g. ``"young people"``): its header. Default "Number".
    percent
        Columns holding shares from 0 to 1, shown as percentages. Default: ``estimate`` and
        its interval when the table counts people in a category (it has a ``count`` or
        ``events`` column and the estimates lie between 0 and 1), and columns named
        ``share``, ``proportion`` or ``prevalence``; columns named ``percent`` or ending in
        ``" %"`` are read as 0-100.
    technical
        Columns folded under "Technical details" (default: the dictionary's technical
        columns, see :func:`tim_research.vocabulary.technical_columns`).
    caption, source, notes
        A caption above the table, a source line and footnotes below it.

    Returns
    -------
    Table
        The formatted text; rows in the table's order.

    Examples
    --------
    >>> t = pd.DataFrame({"category": ["0", "4+"], "n": [551.0, 551.0], "count": [223.0, None],
    ...                   "estimate": [0.4047, None], "ci_lower": [0.3637, None],
    ...                   "ci_upper": [0.4465, None], "se": [0.021, None],
    ...                   "suppressed": [False, True]})
    >>> shown = format_table(t)
    >>> shown.main
      Category Number       Count     Percent 95 % interval
    0        0    551         223        40 %       36-45 %
    1       4+    551  suppressed  suppressed    suppressed
    >>> list(shown.details.columns)
    ['Category', 'Standard error']
    """
    frame = _columns(table)
    keys = [str(c) for c in frame.columns]
    frame.columns = keys
    hidden = (
        frame["suppressed"].fillna(False).astype(bool).to_numpy()
        if "suppressed" in frame
        else np.zeros(len(frame), dtype=bool)
    )
    if percent is None:
        shares = [c for c in keys if c.lower() in _SHARE_COLUMNS]
        if "estimate" in keys and {"count", "events"} & set(keys):
            if _in_unit_range(frame["estimate"]):
                shares += [c for c in ("estimate", "ci_lower", "ci_upper") if c in keys]
    else:
        unknown = [c for c in percent if c not in keys]
        if unknown:
            raise DataError(f"percent names column(s) {unknown} that are not in the table")
        shares = list(percent)
    in_percent = [c for c in keys if c.lower() in _PERCENT_COLUMNS or c.endswith(" %")]
    tech = set(technical_columns() if technical is None else technical)
    level = "95"
    if "conf_level" in keys:
        levels = pd.to_numeric(frame["conf_level"], errors="coerce").dropna().unique()
        if len(levels) == 1:
            level = f"{float(levels[0]) * (100 if levels[0] <= 1 else 1):g}"

    def cell(col: str, value: object) -> str:
        if col in shares:
            return format_percent(value)
        if col in in_percent:
            return format_percent(value, share=False)
        if col == "p" or col.endswith("_p"):
            return format_p(value)
        if isinstance(value, str):
            return value_label(col, value)
        if _missing(value):
            return MISSING
        if isinstance(value, bool | np.bool_):
            return format_number(value)
        if isinstance(value, numbers.Number):
            # one number of decimals down a numeric column, so its figures line up
            v = float(value)  # type: ignore[arg-type]
            if col in numeric and math.isfinite(v):
                return f"{v:.{digits}f}"
            return format_number(value, digits=digits)
        return value_label(col, value)

    numeric = {c for c in keys if _is_numeric(frame[c])}
    whole = {
        c
        for c in keys
        if _is_numeric(frame[c])
        and len(frame[c].dropna())
        and bool((frame[c].dropna() == frame[c].dropna().round()).all())
    }
    out: dict[str, list[str]] = {}
    headers: dict[str, str] = {}
    is_technical: dict[str, bool] = {}
    merged = {b for _, lo, hi in _interval_pairs(keys) for b in (lo, hi)}
    pairs = {lo: (name, hi) for name, lo, hi in _interval_pairs(keys)}
    for col in keys:
        if col == "suppressed" or (col in merged and col not in pairs):
            continue
        values = frame[col].tolist()
        if col in pairs:
            name, hi = pairs[col]
            texts = [
                format_interval(a, b, percent=col in shares, digits=digits)
                for a, b in zip(values, frame[hi].tolist())
            ]
            missing = frame[col].isna().to_numpy() & frame[hi].isna().to_numpy()
            headers[col] = _interval_label(name, level)
            is_technical[col] = col in tech and hi in tech
        else:
            texts = [
                format_number(v, digits=0)
                if col in whole and not _missing(v) and col not in shares and col not in in_percent
                else cell(col, v)
                for v in values
            ]
            missing = frame[col].isna().to_numpy()
            headers[col] = unit[:1].upper() + unit[1:] if col == "n" and unit else column_label(col)
            if col in shares and col == "estimate":
                headers[col] = "Percent"
            is_technical[col] = col in tech
        # cells the privacy rules masked (empty in a suppressed row) say so
        out[col] = [
            SUPPRESSED if h and m else t for t, h, m in zip(texts, hidden, missing, strict=True)
        ]
    shown = [c for c in out if not is_technical[c]]
    techs = [c for c in out if is_technical[c]]
    lead = []
    for c in shown:
        if c in frame and not _is_numeric(frame[c]):
            lead.append(c)
        else:
            break
    lead = lead or shown[:1]

    def part(cols: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            {_unique(headers[c], k, cols, headers): out[c] for k, c in enumerate(cols)},
            index=pd.RangeIndex(len(frame)),
            dtype=object,
        )

    notes_out = list(notes)
    if hidden.any() and any(SUPPRESSED in v for v in out.values()):
        notes_out.append(_SUPPRESSED_NOTE)
    return Table(
        main=part(shown),
        details=part([*lead, *techs]) if techs else None,
        caption=caption,
        source=source,
        notes=tuple(notes_out),
    )


def _unique(header: str, k: int, cols: list[str], headers: dict[str, str]) -> str:
    """``header``, made unique among the part's headers by trailing spaces (they do not show)."""
    earlier = [headers[c] for c in cols[:k]]
    while header in earlier:
        header += " "
    return header
