"""Safety gate run on every rendered report before it is published.

Two checks, on the executed notebook and its HTML:

* **identifying values**: any value of the input data's id columns (``youth_id``,
  ``mentor_id``, ``match_id``, ``meeting_id``), of columns that look like direct identifiers
  (names, emails, phone numbers, dates of birth, ...), or of a free-text column held by fewer
  than ``min_cell`` people, appearing anywhere in the output's text: matched as whole words in
  any case, across HTML escapes, multi-word values included (:func:`find_values`);
* **small cells**: a table column holding counts of people (``n``, ``count``, ``events``,
  ``*_count``, ``youth``, ``mentors``, ``matches``, or their plain headers on staff pages,
  "Number", "Count", "Young people", ...: :func:`tim_research.vocabulary.count_labels`) with
  a value from 1 to ``min_cell - 1``.
  Counts of missing answers (``n_missing``, ``*_n_answered``) are data-quality figures and are
  not checked.

Figures count too: a figure drawn by :mod:`tim_research.plots` carries, in the executed
notebook, an output of MIME type ``FIGURE_DATA_MIME`` with its texts (titles, labels, ticks,
notes, legends) and a table of the numbers it drew. Its texts are searched for identifying
values with the rest of the notebook, and its table is checked for small cells like a table
of the page (:func:`figure_data`).

A hit fails the run: it is marked ``blocked``, its page is left out of the staff tree and
index, and the page and executed notebook are kept in the owner-only analyst tree for
inspection (see :mod:`tim_research.report`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from tim_research.privacy import find_identifiers
from tim_research.vocabulary import count_labels

__all__ = [
    "ValueIndex",
    "figure_data",
    "find_values",
    "identifier_tokens",
    "identifiers_in_data",
    "scan",
    "small_cells",
    "tables_in_html",
]

ID_COLUMNS = ("youth_id", "mentor_id", "match_id", "meeting_id")
COUNT_COLUMN = re.compile(r"^(n|count|events|youth|mentors|matches|people|.+_count|count_.+)$")
# Word characters without the underscore: "Jane.Smith@x.org" -> jane, smith, x, org
_WORD = re.compile(r"[^\W_]+")
# Embedded images (data URIs in HTML, image/* outputs in notebooks) are encoded bytes, not text;
# their random letters would match short identifiers by chance
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]*")
# The output type of a figure's texts and drawn numbers (tim_research.plots.FIGURE_DATA_MIME;
# kept here as text so the gate does not load the plotting stack, and checked by a test)
FIGURE_DATA_MIME = "text/vnd.tim-research.figure-data+html"
# A purely numeric value this short cannot be told from a count or a year in a report
_MIN_NUMERIC_DIGITS = 4


def _words(text: str) -> list[str]:
    """Case-folded word tokens of ``text`` after undoing HTML escapes."""
    return _WORD.findall(html.unescape(text).casefold())


def identifier_tokens(value: object) -> tuple[str, ...] | None:
    """The word tokens the gate looks for when ``value`` must never be published.

    ``None`` when the value cannot be told apart from ordinary report text: empty, or purely
    numeric and shorter than four digits (pseudonymise such ids with ``tim pseudonymise``).

    Examples
    --------
    >>> identifier_tokens("Dr Jane SMITH")
    ('dr', 'jane', 'smith')
    >>> identifier_tokens("Y1"), identifier_tokens("12")
    (('y1',), None)
    """
    words = tuple(_words(str(value)))
    if not words:
        return None
    if all(w.isdigit() for w in words) and sum(len(w) for w in words) < _MIN_NUMERIC_DIGITS:
        return None
    return words


def _free_text_columns(data_dir: Path) -> dict[str, list[str]]:
    """String fields without a declared list of values, per table, from ``datapackage.json``."""
    package = data_dir / "datapackage.json"
    if not package.is_file():
        return {}
    out: dict[str, list[str]] = {}
    for resource in json.loads(package.read_text(encoding="utf-8")).get("resources", []):
        schema = resource.get("schema") or {}
        keys = set(schema.get("primaryKey") or [])
        for fk in schema.get("foreignKeys") or []:
            fields = fk.get("fields")
            keys.update([fields] if isinstance(fields, str) else fields or [])
        out[str(resource.get("name"))] = [
            f["name"]
            for f in schema.get("fields", [])
            if f.get("type", "string") == "string"
            and "enum" not in (f.get("constraints") or {})
            and f["name"] not in keys
        ]
    return out


def identifiers_in_data(data_dir: str | Path, *, min_cell: int = 5) -> set[str]:
    """Values that must never appear in a report.

    Every value of the id columns and of columns that look like direct identifiers (names,
    emails, phone numbers, ...), and every value of a free-text column (a string field whose
    schema declares no list of values) that fewer than ``min_cell`` people share: such a label
    may only be shown counted under "other".
    """
    folder = Path(data_dir)
    free_text = _free_text_columns(folder)
    values: set[str] = set()
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        cols = [c for c in frame.columns if c in ID_COLUMNS]
        flagged = find_identifiers(frame)
        cols += [c for c in flagged["column"] if c not in cols]
        for col in cols:
            values.update(v.strip() for v in frame[col] if v.strip())
        for col in free_text.get(path.stem, []):
            if col in cols or col not in frame.columns:
                continue
            counts = frame[col].str.strip().value_counts()
            values.update(v for v, n in counts.items() if v and n < min_cell)
    return values


def _texts_of(text: str) -> list[str]:
    """The readable strings of a report, without embedded images.

    An executed notebook's cell sources and outputs, or an HTML page without its data URIs.
    """
    if text.lstrip().startswith("{"):
        try:
            nb = json.loads(text)
        except ValueError:
            nb = None
        if isinstance(nb, dict):
            found: list[str] = []

            def walk(node: object, key: str = "") -> None:
                if key.startswith("image/"):
                    return
                if isinstance(node, str):
                    found.append(node)
                elif isinstance(node, list):
                    for item in node:
                        walk(item, key)
                elif isinstance(node, dict):
                    for k, v in node.items():
                        walk(v, str(k))

            walk(nb)
            return [_DATA_URI.sub(" ", t) for t in found]
    return [_DATA_URI.sub(" ", text)]


class ValueIndex(dict):
    """Values that must not be published, keyed by their word tokens, for :func:`find_values`.

    Built once per batch: a program's ids alone (youth, mentors, matches, meetings) are tens of
    thousands of values, and tokenising them again for every page cost more than the pages.

    Examples
    --------
    >>> index = ValueIndex(["Jane Smith", "Y0001", "12"])
    >>> sorted(index), index.lengths
    ([('jane', 'smith'), ('y0001',)], [1, 2])
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        super().__init__()
        for value in values:
            tokens = identifier_tokens(value)
            if tokens is not None:
                self.setdefault(tokens, set()).add(value)
        self.lengths = sorted({len(t) for t in self})
        # a page has tens of thousands of words and few start a value: only those are looked up
        self.first_words = frozenset(t[0] for t in self)


def find_values(texts: Iterable[str], values: Iterable[str] | ValueIndex) -> set[str]:
    """The ``values`` that occur in ``texts`` as whole words, in any case, escaped or not.

    A value matches where its word tokens stand next to each other in the text ("Jane Smith"
    in "Referred by jane  SMITH,"), never inside a longer word ("Y1" is not found in "Y10").
    ``values`` may be a :class:`ValueIndex` built once for many calls.

    Examples
    --------
    >>> sorted(find_values(["<td>Referred by Jane&nbsp;Smith</td>", "y0001"],
    ...                    ["Jane Smith", "Y0001", "Y1", "Smithers"]))
    ['Jane Smith', 'Y0001']
    """
    wanted = values if isinstance(values, ValueIndex) else ValueIndex(values)
    if not wanted:
        return set()
    found: set[str] = set()
    for text in texts:
        for part in _texts_of(text):
            words = _words(part)
            for i, word in enumerate(words):
                if word not in wanted.first_words:
                    continue
                for n in wanted.lengths:
                    hit = wanted.get(tuple(words[i : i + n])) if i + n <= len(words) else None
                    if hit:
                        found |= hit
    return found


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
            name = str(col).strip().lower()
            if not (COUNT_COLUMN.match(name) or name in count_labels()):
                continue
            # staff pages group thousands ("12,345")
            values = pd.to_numeric(table[col].str.replace(",", ""), errors="coerce")
            bad = values[(values >= 1) & (values < min_cell)]
            if len(bad):
                hits.append(
                    f"table {k + 1}, column {col!r}: count(s) below min_cell={min_cell} "
                    f"({len(bad)} cell(s)); suppress them before showing the table"
                )
    return hits


def figure_data(text: str) -> list[str]:
    """The recorded texts and drawn numbers (HTML) of each figure in an executed notebook.

    Empty for a text that is not notebook JSON.

    Examples
    --------
    >>> out = {"output_type": "display_data", "data": {FIGURE_DATA_MIME: ["<table>", "</table>"]}}
    >>> figure_data(json.dumps({"cells": [{"cell_type": "code", "outputs": [out]}]}))
    ['<table></table>']
    """
    if not text.lstrip().startswith("{"):
        return []
    try:
        nb = json.loads(text)
    except ValueError:
        return []
    if not isinstance(nb, dict):
        return []
    found = []
    for cell in nb.get("cells") or []:
        for output in cell.get("outputs") or [] if isinstance(cell, dict) else []:
            data = output.get("data") if isinstance(output, dict) else None
            value = data.get(FIGURE_DATA_MIME) if isinstance(data, dict) else None
            if value is not None:
                # nbformat stores text outputs as a list of lines
                found.append("".join(value) if isinstance(value, list) else str(value))
    return found


def scan(texts: Iterable[str], *, identifiers: set[str] | ValueIndex, min_cell: int) -> list[str]:
    """Problems found in report texts (executed notebook JSON, HTML); empty when safe.

    The notebook's figures are checked through the data they recorded (:func:`figure_data`).

    Identifier hits are reported by count only: the gate never prints the values.

    Examples
    --------
    >>> scan(["<p>Seen by JANE smith</p>"], identifiers={"Jane Smith"}, min_cell=5)
    ['1 direct identifier or free-text value(s) of the input data appear in the output ...']
    """
    texts = list(texts)
    problems = []
    found = find_values(texts, identifiers)
    if found:
        problems.append(
            f"{len(found)} direct identifier or free-text value(s) of the input data appear in "
            "the output (values not shown); show aggregates or pseudonyms only"
        )
    if min_cell > 0:
        for text in texts:
            if text.lstrip().startswith("<"):  # HTML; the notebook JSON holds the same tables
                problems += small_cells(text, min_cell=min_cell)
            # figures are images in the HTML: their drawn numbers are in the notebook only
            for k, drawn in enumerate(figure_data(text)):
                problems += [
                    f"figure {k + 1}, {hit}" for hit in small_cells(drawn, min_cell=min_cell)
                ]
    return problems
