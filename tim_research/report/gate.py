"""Safety gate run on every rendered report before it is published.

Two checks, on the executed notebook and its HTML:

* **direct identifiers**: any value of the input data's id columns (``youth_id``,
  ``mentor_id``, ``match_id``, ``meeting_id``) or of columns that look like direct identifiers
  (names, emails, phone numbers, dates of birth, ...) appearing in the output;
* **small cells**: a table column holding counts of people (``n``, ``count``, ``events``,
  ``*_count``, ``youth``, ``mentors``, ``matches``) with a value from 1 to ``min_cell - 1``.
  Counts of missing answers (``n_missing``, ``*_n_answered``) are data-quality figures and are
  not checked.

A hit fails the run: the report is kept in the batch for inspection but marked
``blocked`` and left out of the staff index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from tim_research.privacy import find_identifiers

__all__ = ["identifiers_in_data", "scan", "small_cells", "tables_in_html"]

ID_COLUMNS = ("youth_id", "mentor_id", "match_id", "meeting_id")
COUNT_COLUMN = re.compile(r"^(n|count|events|youth|mentors|matches|people|.+_count|count_.+)$")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*[A-Za-z0-9]")


def identifiers_in_data(data_dir: str | Path) -> set[str]:
    """Values that must never appear in a report: ids and direct-identifier columns' values."""
    values: set[str] = set()
    for path in sorted(Path(data_dir).glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        cols = [c for c in frame.columns if c in ID_COLUMNS]
        flagged = find_identifiers(frame)
        cols += [c for c in flagged["column"] if c not in cols]
        for col in cols:
            values.update(v.strip() for v in frame[col] if len(v.strip()) >= 4)
    return values


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[tuple[str, str]]]] = []
        self._row: list[tuple[str, str]] | None = None
        self._cell: list[str] | None = None
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell, self._tag = [], tag

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append((self._tag, "".join(self._cell).strip()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_in_html(html: str) -> list[pd.DataFrame]:
    """The simple tables of an HTML page (pandas ``to_html`` output) as string DataFrames."""
    parser = _Tables()
    parser.feed(html)
    out = []
    for rows in parser.tables:
        header = [r for r in rows if all(tag == "th" for tag, _ in r)]
        body = [r for r in rows if any(tag == "td" for tag, _ in r)]
        if not header or not body:
            continue
        names = [text for _, text in header[0]]
        width = max(len(r) for r in body)
        names = ([""] * (width - len(names)) + names)[-width:]
        out.append(
            pd.DataFrame([[t for _, t in r] + [""] * (width - len(r)) for r in body], columns=names)
        )
    return out


def small_cells(html: str, *, min_cell: int) -> list[str]:
    """Unsuppressed counts from 1 to ``min_cell - 1`` in count columns of the HTML's tables."""
    hits = []
    for k, table in enumerate(tables_in_html(html)):
        for col in table.columns:
            if not COUNT_COLUMN.match(str(col).strip().lower()):
                continue
            values = pd.to_numeric(table[col], errors="coerce")
            bad = values[(values >= 1) & (values < min_cell)]
            if len(bad):
                hits.append(
                    f"table {k + 1}, column {col!r}: count(s) below min_cell={min_cell} "
                    f"({len(bad)} cell(s)); suppress them before showing the table"
                )
    return hits


def scan(texts: Iterable[str], *, identifiers: set[str], min_cell: int) -> list[str]:
    """Problems found in report texts (executed notebook JSON, HTML); empty when safe.

    Identifier hits are reported by count and kind only: the gate never prints the values.
    """
    problems = []
    texts = list(texts)
    found = set()
    for text in texts:
        found |= identifiers & set(_TOKEN.findall(text))
    if found:
        problems.append(
            f"{len(found)} direct identifier value(s) from the input data appear in the output "
            "(values not shown); show aggregates or pseudonyms only"
        )
    if min_cell > 0:
        for text in texts:
            if text.lstrip().startswith("<"):  # HTML; the notebook JSON holds the same tables
                problems += small_cells(text, min_cell=min_cell)
    return problems
