"""A program's own exports as the canonical program tables: mapping files and export readers.

A program keeps its data where it collects them: a REDCap project, a Qualtrics or SurveyMonkey
survey, a Google Form or a spreadsheet, each with its own column names and answer labels. A
mapping file (``mapping.toml`` in the data package folder) says, for each program table, which
export feeds it and how its columns and answers become the table's columns and codes. Applying
it gives each table as a frame of strings, exactly as if the canonical CSV had been read, so the
package is then checked by :func:`tim_research.program.validate_program` like any other.

Export layouts read (``format``):

- ``redcap``: a records export ("CSV (raw data)" or "CSV (labels)") with its data dictionary,
  read by :mod:`tim_research.io.redcap` (choice codes, checkbox options ``field___code``,
  opt-out options and incomplete forms as missing).
- ``qualtrics``: a Qualtrics CSV with its three header rows (column names such as ``Q3_1``,
  question text, ``{"ImportId": ...}``); columns are named by the first row.
- ``surveymonkey``: a SurveyMonkey CSV with its two header rows (question text, then the
  answer option or ``Response``); a question answered in one column is named by its text, a
  question with one column per option (multi-select, matrix rows) as ``question | option``.
- ``sheet``: a Google Forms or spreadsheet download (CSV or Excel) whose header row holds the
  question text (``Timestamp`` first, for a form).
- ``csv``: any CSV or Excel file with one header row.

The mapping file, one block per export (a table fed by several exports, such as surveys
collected at each wave with a different tool, has one ``[[surveys]]`` block per export)::

    [[surveys]]
    file = "baseline_qualtrics.csv"     # path relative to the mapping file
    format = "qualtrics"
    missing = ["Prefer not to say"]     # answers that mean "no answer"
    empty = ["cyrm_r"]                  # columns or item groups the export does not hold

    [surveys.columns]                   # table column = export column
    youth_id = "youth_code"
    survey_date = "RecordedDate"
    brs_1 = "Q4_1"

    [surveys.set]                       # table column = one value for every row
    wave = "baseline"
    months = 0
    status = "completed"

    [surveys.codes.brs]                 # answer label = code, for a column or an item group
    "Strongly disagree" = 1
    "Strongly agree" = 5

    [surveys.dates]                     # how the export writes a date (strftime codes)
    survey_date = "%Y-%m-%d %H:%M:%S"

    [[surveys.multiselect]]             # one "tick all that apply" question -> 0/1 items
    question = "Before you turned 18, did any of these happen?"
    separator = ", "                    # Google Forms: the ticked options in one cell
    none = "None of these"              # ticking it means every item is 0
    decline = "I'd rather not say"      # ticking it means every item is missing
    [surveys.multiselect.options]
    "A parent often swore at me" = "ace10_1"

Every problem found while mapping (a file or export column that is not there, an answer with
no code, a date that does not fit its format, an unmapped table column) is reported with the
table, column, export file and the line of the export (as a spreadsheet numbers it: the first
header row is line 1), never with the value.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from tim_research.errors import DataError
from tim_research.io import _decode, _delimiter, read_table
from tim_research.io.redcap import RedcapMapping, read_records, to_items

__all__ = [
    "FORMATS",
    "MAPPING_FILE",
    "Export",
    "MappedTables",
    "MultiSelect",
    "ProgramMapping",
    "Source",
    "load_mapping",
    "map_folder",
    "map_tables",
    "read_export",
]

FORMATS: tuple[str, ...] = ("redcap", "qualtrics", "surveymonkey", "sheet", "csv")
"""Export layouts a mapping can read."""

MAPPING_FILE = "mapping.toml"
"""Name of the mapping file looked for in a data package folder."""

_SOURCE_KEYS = frozenset(
    {
        "file",
        "format",
        "dictionary",
        "sheet",
        "export",
        "incomplete",
        "missing",
        "empty",
        "columns",
        "set",
        "codes",
        "dates",
        "multiselect",
        "checkboxes",
    }
)
_MULTI_KEYS = frozenset(
    {"question", "options", "separator", "none", "decline", "ticked", "unticked"}
)
# SurveyMonkey's second header row for a question answered in one column
_SM_SINGLE = frozenset({"", "Response", "Open-Ended Response"})
_MAX_SHOWN = 8


# --------------------------------------------------------------------------- the mapping file


@dataclass(frozen=True)
class MultiSelect:
    """A "tick all that apply" question expanded into one 0/1 column per option.

    Attributes
    ----------
    question
        Export column holding the ticked options in one cell (``separator`` set: Google
        Forms, spreadsheets), or the question whose options have a column each
        (``separator`` ``None``: SurveyMonkey's ``question | option`` columns, Qualtrics'
        ``Q5_1``... columns are mapped one by one instead).
    options
        ``{option label: table column}``.
    separator
        How the ticked options are joined in one cell, or ``None`` for one column per option.
    none, decline
        Labels of the "none of these" option (every item 0) and of an opt-out option such as
        "Prefer not to say" (every item missing).
    ticked, unticked
        Values written for a ticked and an unticked option (``"1"``, ``"0"``).
    """

    question: str
    options: Mapping[str, str]
    separator: str | None = ", "
    none: str | None = None
    decline: str | None = None
    ticked: str = "1"
    unticked: str = "0"


@dataclass(frozen=True)
class Source:
    """One export feeding one program table (a block of the mapping file)."""

    table: str
    file: Path
    format: str
    dictionary: Path | None = None
    sheet: int | str = 0
    export: str = "auto"
    incomplete: str = "missing"
    missing: tuple[str, ...] = ()
    empty: tuple[str, ...] = ()
    columns: Mapping[str, str] = field(default_factory=dict)
    set: Mapping[str, str] = field(default_factory=dict)
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    dates: Mapping[str, str] = field(default_factory=dict)
    multiselect: tuple[MultiSelect, ...] = ()
    opt_out: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ProgramMapping:
    """A parsed mapping file: the exports that feed the program tables.

    Attributes
    ----------
    path
        The mapping file (export paths are relative to its folder).
    sources
        One :class:`Source` per export block, in file order.
    """

    path: Path
    sources: tuple[Source, ...]

    def tables(self) -> list[str]:
        """Names of the tables the mapping feeds, in file order."""
        return list(dict.fromkeys(s.table for s in self.sources))

    def to_frame(self) -> pd.DataFrame:
        """One row per export: ``table``, ``file``, ``format`` and mapped ``columns``."""
        return pd.DataFrame(
            {
                "table": [s.table for s in self.sources],
                "file": [s.file.name for s in self.sources],
                "format": [s.format for s in self.sources],
                "columns": [len(s.columns) for s in self.sources],
            }
        )

    def _repr_html_(self) -> str:
        return f"<p><b>Mapping {self.path.name}</b></p>" + self.to_frame().to_html(index=False)


def _text(value: Any) -> str:
    """A TOML value as the text a CSV cell holds (``true`` -> ``"true"``, ``5`` -> ``"5"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table_of_text(raw: Any, where: str, *, scalar_values: bool = True) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise DataError(f"{where} must be a table of NAME = VALUE lines")
    out = {}
    for k, v in raw.items():
        if isinstance(v, dict | list) or (not scalar_values and not isinstance(v, str)):
            raise DataError(f"{where}: {k!r} must be given a single value")
        out[str(k)] = _text(v)
    return out


def _list_of_text(raw: Any, where: str) -> tuple[str, ...]:
    if isinstance(raw, str | int | float):
        raw = [raw]
    if not isinstance(raw, list) or any(isinstance(v, dict | list) for v in raw):
        raise DataError(f'{where} must be a list, e.g. ["-99", "Prefer not to say"]')
    return tuple(_text(v) for v in raw)


def _source(table: str, raw: Any, base: Path, n: int) -> Source:
    where = f"[{table}]" if n == 0 else f"[[{table}]] block {n + 1}"
    if not isinstance(raw, dict):
        raise DataError(f"mapping {where} must be a table with file = and format =")
    unknown = sorted(set(raw) - _SOURCE_KEYS)
    if unknown:
        raise DataError(
            f"mapping {where}: unknown key(s) {unknown}; a block has {sorted(_SOURCE_KEYS)}"
        )
    if not isinstance(raw.get("file"), str) or not raw["file"]:
        raise DataError(f'mapping {where} has no file = "export.csv"')
    fmt = raw.get("format")
    if fmt not in FORMATS:
        raise DataError(f"mapping {where}: format must be one of {', '.join(FORMATS)}")
    dictionary = raw.get("dictionary")
    if fmt == "redcap" and not isinstance(dictionary, str):
        raise DataError(f'mapping {where}: a REDCap export needs dictionary = "dictionary.csv"')
    if fmt != "redcap" and dictionary is not None:
        raise DataError(f"mapping {where}: dictionary is for REDCap exports only")
    codes = raw.get("codes", {})
    if not isinstance(codes, dict) or not all(isinstance(v, dict) for v in codes.values()):
        raise DataError(
            f"mapping {where}: codes must hold one table per column or item group, e.g. "
            f'[{table}.codes.brs] "Strongly agree" = 5'
        )
    multis = raw.get("multiselect", [])
    if isinstance(multis, dict):
        multis = [multis]
    if not isinstance(multis, list):
        raise DataError(f"mapping {where}: multiselect must be [[{table}.multiselect]] blocks")
    multiselect = []
    for m in multis:
        bad = sorted(set(m) - _MULTI_KEYS) if isinstance(m, dict) else ["(not a table)"]
        if bad or not isinstance(m.get("question"), str) or not isinstance(m.get("options"), dict):
            raise DataError(
                f"mapping {where}: each multiselect has question = and an options table "
                f"(option label = column); unknown key(s) {bad}"
            )
        separator = m.get("separator")
        if separator is None and fmt in ("sheet", "csv"):
            separator = ", "  # Google Forms joins the ticked options with a comma and a space
        multiselect.append(
            MultiSelect(
                question=m["question"],
                options=MappingProxyType(_table_of_text(m["options"], f"{where} multiselect")),
                separator=separator,
                none=None if m.get("none") is None else str(m["none"]),
                decline=None if m.get("decline") is None else str(m["decline"]),
                ticked=_text(m.get("ticked", 1)),
                unticked=_text(m.get("unticked", 0)),
            )
        )
    opt_out = {}
    for name, box in (raw.get("checkboxes") or {}).items():
        if fmt != "redcap" or not isinstance(box, dict) or set(box) != {"opt_out"}:
            raise DataError(
                f"mapping {where}: [{table}.checkboxes.{name}] holds opt_out = [codes] and is "
                "for REDCap exports only"
            )
        opt_out[name] = _list_of_text(box["opt_out"], f"{where} checkboxes.{name}.opt_out")
    sheet = raw.get("sheet", 0)
    if not isinstance(sheet, int | str) or isinstance(sheet, bool):
        raise DataError(f"mapping {where}: sheet must be a sheet name or a position")
    if raw.get("incomplete", "missing") not in ("missing", "keep"):
        raise DataError(f"mapping {where}: incomplete must be 'missing' or 'keep'")
    if raw.get("export", "auto") not in ("auto", "raw", "labels"):
        raise DataError(f"mapping {where}: export must be 'auto', 'raw' or 'labels'")
    return Source(
        table=table,
        file=base / raw["file"],
        format=fmt,
        dictionary=None if dictionary is None else base / dictionary,
        sheet=sheet,
        export=raw.get("export", "auto"),
        incomplete=raw.get("incomplete", "missing"),
        missing=_list_of_text(raw.get("missing", []), f"mapping {where} missing"),
        empty=_list_of_text(raw.get("empty", []), f"mapping {where} empty"),
        columns=MappingProxyType(
            _table_of_text(raw.get("columns", {}), f"mapping {where} columns", scalar_values=False)
        ),
        set=MappingProxyType(_table_of_text(raw.get("set", {}), f"mapping {where} set")),
        codes=MappingProxyType(
            {
                str(k): MappingProxyType(_table_of_text(v, f"mapping {where} codes.{k}"))
                for k, v in codes.items()
            }
        ),
        dates=MappingProxyType(
            _table_of_text(raw.get("dates", {}), f"mapping {where} dates", scalar_values=False)
        ),
        multiselect=tuple(multiselect),
        opt_out=MappingProxyType(opt_out),
    )


def load_mapping(path: str | Path, *, tables: Sequence[str] | None = None) -> ProgramMapping:
    r"""Read a mapping file (see the module docs for its layout).

    Parameters
    ----------
    path
        The ``mapping.toml`` file.
    tables
        The table names a block may name (default: any).

    Returns
    -------
    ProgramMapping

    Raises
    ------
    DataError
        The file is not valid TOML, names an unknown table, format or key, or a block lacks
        ``file`` or ``format``. (Problems of the exports themselves are found by
        :func:`map_tables`.)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = pathlib.Path(d) / "mapping.toml"
    ...     _ = f.write_text('[youth]\nfile = "intake.csv"\nformat = "csv"\n'
    ...                      '[youth.columns]\nyouth_id = "Youth code"\n')
    ...     m = load_mapping(f)
    >>> m.tables(), dict(m.sources[0].columns)
    (['youth'], {'youth_id': 'Youth code'})
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"mapping file {path} does not exist")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"mapping file {path.name} is not valid TOML ({reason})") from exc
    if tables is not None:
        unknown = sorted(set(raw) - set(tables))
        if unknown:
            raise DataError(
                f"mapping file {path.name} names unknown table(s) {unknown}; the tables are "
                f"{', '.join(tables)}"
            )
    sources = []
    for table, blocks in raw.items():
        for n, block in enumerate(blocks if isinstance(blocks, list) else [blocks]):
            sources.append(_source(str(table), block, path.parent, n))
    return ProgramMapping(path=path, sources=tuple(sources))


# --------------------------------------------------------------------------- export readers


@dataclass(frozen=True, eq=False)
class Export:
    """One export read as text.

    Attributes
    ----------
    data
        Every cell as written (stripped of surrounding spaces; empty cells ``""``), columns
        named as the mapping names them (see the module docs), default index.
    lines
        For each row, its line in the export as a spreadsheet numbers it (header row 1).
    file
        The export's file name.
    """

    data: pd.DataFrame
    lines: np.ndarray
    file: str


def _rows(path: Path) -> list[list[str]]:
    """The records of a CSV file (encoding and delimiter as :func:`~tim_research.io.read_table`)."""
    _, content = _decode(path.read_bytes())
    rows = list(csv.reader(io.StringIO(content), delimiter=_delimiter(content)))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    return rows


def _frame(names: Sequence[str], body: Sequence[Sequence[str]], first: int, file: str) -> Export:
    seen: dict[str, int] = {}
    for j, name in enumerate(names, start=1):
        if name in seen:
            raise DataError(
                f"{file}: columns {seen[name]} and {j} have the same name; rename one of them "
                "so each column has its own name"
            )
        seen[name] = j
    ragged = [first + i for i, row in enumerate(body) if len(row) != len(names)]
    if ragged:
        shown = ", ".join(map(str, ragged[:_MAX_SHOWN]))
        raise DataError(
            f"{file}: line(s) {shown} have a different number of fields than the header's "
            f"{len(names)}; check for a stray delimiter or an unclosed quote"
        )
    data = pd.DataFrame(list(body), columns=list(names), dtype="str") if body else None
    if data is None:
        data = pd.DataFrame({n: pd.Series([], dtype="str") for n in names})
    data = data.apply(lambda s: s.str.strip())
    return Export(data, np.arange(first, first + len(data)), file)


def read_export(
    path: str | Path,
    format: str,
    *,
    dictionary: str | Path | None = None,
    sheet: int | str = 0,
    export: str = "auto",
    opt_out: Mapping[str, Sequence[str]] | None = None,
    incomplete: str = "missing",
) -> Export:
    r"""Read one export file in its own layout, every cell as text.

    Parameters
    ----------
    path
        The export (CSV; Excel for ``sheet`` and ``csv``).
    format
        One of :data:`FORMATS` (see the module docs).
    dictionary
        REDCap only: the data dictionary CSV.
    sheet
        Excel sheet name or position.
    export, opt_out, incomplete
        REDCap only: passed to :func:`~tim_research.io.redcap.read_records` and
        :func:`~tim_research.io.redcap.to_items` (which export the file is, opt-out options
        of checkbox fields, and whether items of incomplete forms are kept).

    Returns
    -------
    Export

    Raises
    ------
    DataError
        The file does not have the layout ``format`` says (never quoting a cell).

    Examples
    --------
    A Qualtrics export: three header rows, data from line 4.

    >>> import tempfile, pathlib
    >>> text = ('ResponseId,Q1\nResponse ID,How old are you?\n'
    ...         '"{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}"\nR_1,12\n')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = pathlib.Path(d) / "survey.csv"
    ...     _ = f.write_text(text)
    ...     e = read_export(f, "qualtrics")
    >>> e.data["Q1"].tolist(), e.lines.tolist()
    (['12'], [4])
    """
    path = Path(path)
    name = path.name
    if format not in FORMATS:
        raise DataError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if not path.is_file():
        raise DataError(f"export file {name} does not exist")
    if format == "redcap":
        return _read_redcap(path, dictionary, export, opt_out or {}, incomplete)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        if format not in ("sheet", "csv"):
            raise DataError(f"{name}: a {format} export is read from its CSV download")
        frame = read_table(path, sheet=sheet, text=True)
        frame = frame.astype("str").where(frame.notna(), "")
        frame.columns = [str(c).strip() for c in frame.columns]
        return _frame(list(frame.columns), frame.to_numpy().tolist(), 2, name)
    rows = _rows(path)
    if not rows:
        raise DataError(f"{name} is empty: export it again")
    if format in ("sheet", "csv"):
        return _frame([c.strip() for c in rows[0]], rows[1:], 2, name)
    if format == "qualtrics":
        if len(rows) < 3 or not any(c.strip().startswith('{"ImportId"') for c in rows[2]):
            raise DataError(
                f"{name} does not look like a Qualtrics CSV export: its third row holds no "
                '{"ImportId": ...} cells; download it again as CSV (the three header rows '
                'are kept) or use format = "csv"'
            )
        return _frame([c.strip() for c in rows[0]], rows[3:], 4, name)
    # surveymonkey: question text, then the option (or "Response") of each column
    if len(rows) < 2:
        raise DataError(f"{name} does not have SurveyMonkey's two header rows")
    questions, answers = rows[0], rows[1]
    if len(answers) != len(questions):
        raise DataError(f"{name}: the two header rows have different numbers of fields")
    names, current = [], ""
    for q, a in zip(questions, answers, strict=True):
        q, a = q.strip(), a.strip()
        if q:
            current = q
        elif not current:
            raise DataError(f"{name}: the first header row starts with a blank column")
        names.append(current if a in _SM_SINGLE and q else f"{current} | {a}")
    return _frame(names, rows[2:], 3, name)


def _as_text(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(s):
        out = s.map(lambda v: "" if pd.isna(v) else _text(float(v)))
    else:
        out = s.astype("object").map(lambda v: "" if pd.isna(v) else str(v))
    return out.fillna("").astype("str")


def _read_redcap(
    path: Path,
    dictionary: str | Path | None,
    export: str,
    opt_out: Mapping[str, Sequence[str]],
    incomplete: str,
) -> Export:
    if dictionary is None or not Path(dictionary).is_file():
        raise DataError(f"the data dictionary of {path.name} does not exist")
    _, content = _decode(path.read_bytes())
    raw = pd.read_csv(io.StringIO(content), dtype=str, keep_default_na=False)
    records = read_records(raw, dictionary, export=export)  # type: ignore[arg-type]
    # to_items applies the opt-out options and incomplete forms; every column keeps its name
    items = {c: c for c in records.columns}
    mapped = to_items(
        records,
        RedcapMapping(items=items, id_column="__record__", opt_out=dict(opt_out)),
        incomplete=incomplete,  # type: ignore[arg-type]
    )
    data = pd.DataFrame({c: _as_text(mapped[c]) for c in records.columns})
    return Export(data.reset_index(drop=True), np.arange(2, 2 + len(data)), path.name)


# --------------------------------------------------------------------------- applying


@dataclass(frozen=True, eq=False)
class MappedTables:
    """Program tables built from exports, with where each row came from.

    Attributes
    ----------
    tables
        ``{table: frame of strings}`` with the table's columns, as a canonical CSV reads.
    origins
        ``{table: frame}`` with ``file`` and ``line`` of the export each row came from and
        ``source`` (position of its block in the mapping file).
    problems
        Problems found while mapping: ``table``, ``column``, ``line``, ``check``
        (``"mapping"``) and ``message`` (naming the export file, never a value).
    mapping
        The mapping applied, or ``None`` when the folder has none.
    """

    tables: Mapping[str, pd.DataFrame]
    origins: Mapping[str, pd.DataFrame]
    problems: pd.DataFrame
    mapping: ProgramMapping | None = None

    def relocate(self, problems: pd.DataFrame) -> pd.DataFrame:
        """Validation problems of mapped tables pointed at the export lines they came from.

        A problem's ``line`` (a line of the canonical CSV the table stands for) becomes the
        line of the export, and its message names the export file and column; line numbers
        quoted in a message are translated too. Header problems of a column the mapping
        already reported are dropped, since they say the same thing.
        """
        if not self.tables or problems.empty:
            return problems
        out = problems.copy()
        reported = set(zip(self.problems["table"], self.problems["column"], strict=True))
        keep = []
        sources = self.mapping.sources if self.mapping is not None else ()
        for i, row in enumerate(out.itertuples(index=False)):
            origin = self.origins.get(row.table)
            if origin is None or row.check == "mapping":  # mapping problems name export lines
                keep.append(True)
                continue
            if row.check == "header" and (row.table, row.column) in reported:
                keep.append(False)
                continue
            keep.append(True)
            if row.line is None or pd.isna(row.line) or not 2 <= int(row.line) < len(origin) + 2:
                continue
            at = origin.iloc[int(row.line) - 2]
            source = sources[int(at["source"])] if sources else None
            col = source.columns.get(row.column) if source is not None else None
            where = f"{at['file']}" + (f", column {col!r}" if col else "")

            def line_of(match: re.Match[str], o: pd.DataFrame = origin, f: str = at["file"]) -> str:
                n = int(match.group(0)) - 2
                if not 0 <= n < len(o):
                    return match.group(0)
                there = o.iloc[n]
                line = str(int(there["line"]))
                return line if there["file"] == f else f"{there['file']} line {line}"

            message = re.sub(
                r"(?<=line )[\d, ]+\d",
                lambda m, lo=line_of: re.sub(r"\d+", lo, m.group(0)),
                str(row.message),
            )
            out.iat[i, out.columns.get_loc("line")] = int(at["line"])
            out.iat[i, out.columns.get_loc("message")] = f"{message} (in {where})"
        return out[keep].reset_index(drop=True)


def _problem(
    rows: list[dict[str, Any]],
    table: str,
    column: str,
    message: str,
    lines: Sequence[int] = (),
) -> None:
    """One problem per row (line) of the export, or one for the whole column."""
    for line in list(lines) or [None]:
        rows.append(
            {"table": table, "column": column, "line": line, "check": "mapping", "message": message}
        )


def _group(key: str, fields: Sequence[str]) -> list[str]:
    """Table columns a codes/empty key names: the column itself, else its item group."""
    if key in fields:
        return [key]
    return [f for f in fields if re.fullmatch(re.escape(key) + r"_\d+", f)]


def _multiselect(
    m: MultiSelect, data: pd.DataFrame, missing: set[str]
) -> tuple[dict[str, pd.Series], str | None, dict[str, np.ndarray]]:
    """0/1 columns of one multi-select question, what is absent, and rows with problems."""
    labels = [*m.options, *(x for x in (m.none, m.decline) if x is not None)]
    n = len(data)
    ticked: dict[str, np.ndarray] = {}
    bad: dict[str, np.ndarray] = {}
    if m.separator is None:
        prefix = f"{m.question} | "
        absent = [prefix + lab for lab in labels if prefix + lab not in data.columns]
        if absent:
            return {}, f"option column(s) {absent} are", {}
        for lab in labels:
            ticked[lab] = (~data[prefix + lab].isin(["", *missing])).to_numpy()
        stray = np.zeros(n, dtype=bool)
        for c in data.columns:
            if c.startswith(prefix) and c[len(prefix) :] not in labels:
                stray |= (~data[c].isin(["", *missing])).to_numpy()
        bad["a ticked option that the mapping's options do not list"] = np.flatnonzero(stray)
    else:
        if m.question not in data.columns:
            return {}, f"column {m.question!r} is", {}
        order = sorted(labels, key=len, reverse=True)
        for lab in labels:
            ticked[lab] = np.zeros(n, dtype=bool)
        leftover = np.zeros(n, dtype=bool)
        sep = m.separator
        for i, cell in enumerate(data[m.question].tolist()):
            # options are found whole, longest first, so an option holding the separator
            # or another option's text is still read as one
            rest = f"{sep}{cell}{sep}" if cell not in missing else ""
            for lab in order:
                token = f"{sep}{lab}{sep}"
                if token in rest:
                    ticked[lab][i] = True
                    rest = rest.replace(token, sep)
            leftover[i] = bool(rest.replace(sep, "").strip())
        bad["an option that the mapping's options do not list"] = np.flatnonzero(leftover)
    any_item = np.zeros(n, dtype=bool)
    for lab in m.options:
        any_item |= ticked[lab]
    none = ticked[m.none] if m.none is not None else np.zeros(n, dtype=bool)
    decline = ticked[m.decline] if m.decline is not None else np.zeros(n, dtype=bool)
    # nothing ticked is an unanswered question, not "none of these"
    answered = any_item | none
    bad["both an option and the 'none' or 'decline' option ticked"] = np.flatnonzero(
        (any_item & (none | decline)) | (none & decline)
    )
    out = {}
    for lab, col in m.options.items():
        values = np.where(ticked[lab], m.ticked, m.unticked).astype(object)
        values[~answered | decline] = ""
        out[col] = pd.Series(values, index=data.index, dtype="str")
    return out, None, bad


def _apply_source(
    source: Source,
    k: int,
    fields: Sequence[str],
    problems: list[dict[str, Any]],
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    table, rel = source.table, source.file.name
    try:
        export = read_export(
            source.file,
            source.format,
            dictionary=source.dictionary,
            sheet=source.sheet,
            export=source.export,
            opt_out=source.opt_out,
            incomplete=source.incomplete,
        )
    except (DataError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        reason = " ".join(str(exc).split()) if isinstance(exc, DataError) else type(exc).__name__
        _problem(problems, table, "", f"{rel} cannot be read as a {source.format} export: {reason}")
        return None
    data, lines = export.data, export.lines
    missing = set(source.missing)
    out: dict[str, pd.Series] = {}
    multi: dict[str, MultiSelect] = {}
    for m in source.multiselect:
        cols, absent, bad = _multiselect(m, data, missing)
        if absent:
            _problem(
                problems,
                table,
                "",
                f"multiselect {m.question!r}: {absent} not in {rel}; check the spelling in "
                "the mapping file",
            )
        for what, rows in bad.items():
            if len(rows):
                _problem(
                    problems,
                    table,
                    ",".join(m.options.values()),
                    f"{rel} has {what} in question {m.question!r}; add it to the mapping "
                    "or correct the answer",
                    lines[rows].tolist(),
                )
        for col, values in cols.items():
            out[col] = values
            multi[col] = m
    for col, export_col in source.columns.items():
        if col not in fields:
            _problem(
                problems,
                table,
                col,
                f"[{table}.columns] maps {col!r}, which is not a column of the {table} table",
            )
        elif export_col not in data.columns:
            _problem(
                problems,
                table,
                col,
                f"export column {export_col!r} is not in {rel}; check the spelling in "
                f"[{table}.columns] (the export's column names, see the module docs)",
            )
        else:
            text = data[export_col]
            out[col] = text.where(~text.isin(missing), "")
    for col, value in source.set.items():
        if col not in fields:
            _problem(problems, table, col, f"[{table}.set] names {col!r}, not a {table} column")
        else:
            out[col] = pd.Series(value, index=data.index, dtype="str")
    for key in source.empty:
        cols = _group(key, fields)
        if not cols:
            _problem(problems, table, key, f"empty = names {key!r}: no {table} column or group")
        for col in cols:
            out.setdefault(col, pd.Series("", index=data.index, dtype="str"))
    for key, codes in source.codes.items():
        cols = [c for c in _group(key, fields) if c in out and c not in multi]
        if not cols:
            _problem(
                problems,
                table,
                key,
                f"[{table}.codes.{key}] applies to no mapped column of the {table} table",
            )
        for col in cols:
            text = out[col]
            coded = text.map(dict(codes))
            unknown = (text != "") & coded.isna()
            if unknown.any():
                _problem(
                    problems,
                    table,
                    col,
                    f"{rel}: an answer in column {source.columns.get(col)!r} has no code in "
                    f"[{table}.codes.{key}]; add it there (or to missing = [...])",
                    lines[np.flatnonzero(unknown.to_numpy())].tolist(),
                )
            out[col] = coded.where(text != "", "").fillna("").astype("str")
    for col, fmt in source.dates.items():
        if col not in out:
            _problem(problems, table, col, f"[{table}.dates] names {col!r}, which is not mapped")
            continue
        text = out[col]
        parsed = pd.to_datetime(text.where(text != ""), format=fmt, errors="coerce")
        bad = (text != "") & parsed.isna()
        if bad.any():
            _problem(
                problems,
                table,
                col,
                f"{rel}: a date in column {source.columns.get(col)!r} is not written as "
                f"{fmt!r} ([{table}.dates]); correct the date or the format",
                lines[np.flatnonzero(bad.to_numpy())].tolist(),
            )
        out[col] = parsed.dt.strftime("%Y-%m-%d").where(text != "", "").fillna("").astype("str")
    unmapped = [f for f in fields if f not in out]
    for col in unmapped:
        _problem(
            problems,
            table,
            col,
            f"the {table} column {col!r} is not mapped from {rel}: name its export column in "
            f"[{table}.columns], give it one value in [{table}.set], or list it in empty = [...] "
            "if the export does not hold it",
        )
    frame = pd.DataFrame({f: out[f] for f in fields if f in out}, index=data.index)
    origin = pd.DataFrame({"file": rel, "line": lines, "source": k}, index=data.index)
    return frame.reset_index(drop=True), origin.reset_index(drop=True)


def map_tables(mapping: ProgramMapping, *, fields: Mapping[str, Sequence[str]]) -> MappedTables:
    r"""Apply a mapping: the program tables it feeds, as frames of strings.

    Parameters
    ----------
    mapping
        From :func:`load_mapping`.
    fields
        ``{table: its columns}`` (from the package's table schemas): every column must be
        mapped, set or declared empty; the output has these columns in this order.

    Returns
    -------
    MappedTables
        Rows of a table fed by several exports are in mapping-file order, then export order.
        A table with a problem that stops its export being read is left out (the problem says
        why).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     d = pathlib.Path(d)
    ...     _ = (d / "form.csv").write_text("Timestamp,Your code,I bounce back quickly\n"
    ...         "3/14/2024 10:02:11,Y1,Agree\n3/15/2024 9:40:00,Y2,Strongly agree\n")
    ...     _ = (d / "mapping.toml").write_text(
    ...         '[surveys]\nfile = "form.csv"\nformat = "sheet"\n'
    ...         '[surveys.columns]\nyouth_id = "Your code"\nsurvey_date = "Timestamp"\n'
    ...         'brs_1 = "I bounce back quickly"\n'
    ...         '[surveys.set]\nwave = "baseline"\n'
    ...         '[surveys.codes.brs]\n"Agree" = 4\n"Strongly agree" = 5\n'
    ...         '[surveys.dates]\nsurvey_date = "%m/%d/%Y %H:%M:%S"\n')
    ...     mapped = map_tables(load_mapping(d / "mapping.toml"),
    ...                         fields={"surveys": ["youth_id", "wave", "survey_date", "brs_1"]})
    >>> mapped.tables["surveys"]
      youth_id      wave survey_date brs_1
    0       Y1  baseline  2024-03-14     4
    1       Y2  baseline  2024-03-15     5
    >>> mapped.problems.empty
    True
    """
    problems: list[dict[str, Any]] = []
    frames: dict[str, list[pd.DataFrame]] = {}
    origins: dict[str, list[pd.DataFrame]] = {}
    failed: set[str] = set()
    for k, source in enumerate(mapping.sources):
        if source.table not in fields:
            _problem(
                problems,
                source.table,
                "",
                f"the mapping feeds table {source.table!r}, which the data package does not "
                f"declare; its tables are {', '.join(fields)}",
            )
            continue
        result = _apply_source(source, k, list(fields[source.table]), problems)
        if result is None:
            failed.add(source.table)
            continue
        frames.setdefault(source.table, []).append(result[0])
        origins.setdefault(source.table, []).append(result[1])
    tables = {
        t: pd.concat(f, ignore_index=True) if len(f) > 1 else f[0]
        for t, f in frames.items()
        if t not in failed
    }
    where = {t: pd.concat(origins[t], ignore_index=True) for t in tables}
    frame = pd.DataFrame(problems, columns=["table", "column", "line", "check", "message"])
    frame["line"] = frame["line"].astype("Int64")
    return MappedTables(MappingProxyType(tables), MappingProxyType(where), frame, mapping)


def map_folder(
    folder: str | Path,
    mapping: str | Path | None = None,
    *,
    fields: Mapping[str, Sequence[str]],
) -> MappedTables:
    """The tables a data package folder's mapping feeds (none when it has no mapping).

    Parameters
    ----------
    folder
        The data package folder.
    mapping
        A mapping file; default ``folder/mapping.toml`` when it exists.
    fields
        ``{table: its columns}``, as for :func:`map_tables`.
    """
    path = Path(folder) / MAPPING_FILE if mapping is None else Path(mapping)
    if mapping is None and not path.is_file():
        empty = pd.DataFrame(columns=["table", "column", "line", "check", "message"])
        empty["line"] = empty["line"].astype("Int64")
        return MappedTables(MappingProxyType({}), MappingProxyType({}), empty, None)
    return map_tables(load_mapping(path), fields=fields)
