"""Program data packages: read, validate and write them.

- :func:`read_program` reads a folder holding a Frictionless ``datapackage.json`` and one CSV
  per table (like ``data/sample/``), checks it against the package's own table schemas and
  the program rules, and returns a :class:`~tim_research.program.schema.Program`. Every problem is
  collected into one :class:`ValidationReport` and raised at once; nothing is repaired and no
  row is dropped. :func:`validate_program` returns the report without raising.
- :func:`write_program` writes a program back as such a folder.

The cut-off date of the data is a custom property of the package:
``"tim_research": {"cutoff_date": "YYYY-MM-DD"}``.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tim_research.errors import DataError, ProgramValidationError
from tim_research.io.mapping import map_folder
from tim_research.privacy import find_identifiers
from tim_research.program.effects import Effects
from tim_research.program.schema import (
    OPTIONAL_TABLES,
    RELATIONSHIP_WAVE_MONTHS,
    REQUIRED_TABLES,
    TABLE_DESCRIPTIONS,
    TABLE_NEEDS,
    TABLES,
    WAVE_MONTHS,
    Program,
    field_dtype,
    instrument_note,
    item_instrument,
    table_schemas,
)

__all__ = [
    "ValidationReport",
    "read_program",
    "validate_program",
    "write_program",
]

PROBLEM_COLUMNS = ("table", "column", "line", "check", "message")


# --------------------------------------------------------------------------- report


@dataclass(frozen=True, eq=False)
class ValidationReport:
    """Every problem found in a data package, one row per offending cell or row.

    Attributes
    ----------
    problems
        DataFrame with columns ``table``, ``column``, ``line`` (line in the CSV file; the
        header is line 1), ``check`` (which rule) and ``message`` (what is wrong and how to
        fix it). Neither the problems nor the messages hold any cell value or id: a report
        on real data names a child's abuse history, so it must be safe to paste into an
        email, a log or an issue. The line number finds the row in the file.
    tables
        One row per table: ``rows``, ``columns`` and ``problems``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from tim_research import synth
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = synth.write_sample(d, n_youth=20)
    ...     youth = pathlib.Path(d) / "youth.csv"
    ...     _ = youth.write_text(youth.read_text().replace(",North,", ",Nowhere,", 1))
    ...     report = validate_program(d)
    >>> report.problems.loc[0, ["table", "column", "check"]].tolist()
    ['youth', 'site', 'enum']
    >>> "Nowhere" in report.format()
    False
    """

    problems: pd.DataFrame
    tables: pd.DataFrame

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.problems.empty

    def to_frame(self) -> pd.DataFrame:
        """The problems (a copy)."""
        return self.problems.copy()

    def summary(self) -> pd.DataFrame:
        """Number of problems per table, column and check."""
        if self.problems.empty:
            return pd.DataFrame(columns=["table", "column", "check", "problems"])
        return (
            self.problems.groupby(["table", "column", "check"], sort=False, dropna=False)
            .size()
            .rename("problems")
            .reset_index()
        )

    def format(self, *, limit: int = 50) -> str:
        """Problems as text, one line each, at most ``limit`` lines."""
        lines = []
        for row in self.problems.head(limit).itertuples(index=False):
            where = f"{row.table}.{row.column}" if row.column else row.table
            at = f" line {row.line}" if row.line is not None and not pd.isna(row.line) else ""
            lines.append(f"  {where} [{row.check}]{at}: {row.message}")
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ValidationReport({len(self.problems)} problems)"

    def _repr_html_(self) -> str:
        head = "no problems" if self.ok else f"{len(self.problems)} problems"
        out = f"<p><b>Validation: {html.escape(head)}</b></p>" + self.tables.to_html()
        if not self.ok:
            out += self.summary().to_html(index=False)
        return out


# --------------------------------------------------------------------------- identifiers


def _allowed(allow_identifiers: Any) -> set[str]:
    if isinstance(allow_identifiers, str):
        return {allow_identifiers}
    try:
        return {str(a) for a in allow_identifiers}
    except TypeError as exc:
        raise DataError(
            f"allow_identifiers must be a sequence of column names, got {allow_identifiers!r}"
        ) from exc


# --------------------------------------------------------------------------- package


def _load_package(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; pass the folder holding datapackage.json")
    path = folder / "datapackage.json"
    if not path.is_file():
        raise DataError(
            f"{folder} has no datapackage.json; a program folder needs one (copy the one in "
            "data/sample/ and edit it, or write it with tim_research.program.write_program)"
        )
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(package, dict) or not isinstance(package.get("resources"), list):
        raise DataError(f"{path} has no 'resources' list")
    return package


class _Collector:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        table: str,
        column: str,
        check: str,
        message: str,
        *,
        line: int | None = None,
    ) -> None:
        # no value or key is ever stored: the line number is how a user finds the row
        self.rows.append(
            {
                "table": table,
                "column": column,
                "line": line,
                "check": check,
                "message": message,
            }
        )

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=list(PROBLEM_COLUMNS))
        df["line"] = df["line"].astype("Int64")
        return df


@dataclass
class _Table:
    name: str
    schema: dict[str, Any]
    raw: pd.DataFrame | None  # strings as written
    data: pd.DataFrame | None  # typed; invalid cells missing
    keys: pd.Series | None  # primary-key label per row
    # columns outside the schema, as written: refused by the header check, but searched for
    # identifiers too, so that the message says what they hold
    extra: pd.DataFrame | None = None


def _read_raw(path: Path) -> tuple[list[str], pd.DataFrame]:
    with path.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), [])
    raw = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        encoding="utf-8",
        header=None,
        skiprows=1,
        names=list(range(len(header))),
    )
    return header, raw


_INT = re.compile(r"[+-]?\d+")
_NUM = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|NaN|[+-]?INF")


def _cast(
    field: Mapping[str, Any], text: pd.Series, missing: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Typed values of one column and a mask of cells that are not of the field's type."""
    kind = field.get("type", "string")
    present = ~missing
    if kind == "integer":
        ok = text.str.fullmatch(_INT.pattern)
        bad = present & ~ok
        num = pd.to_numeric(text.where(present & ok), errors="coerce")
        return num.astype("Int64"), bad
    if kind == "number":
        ok = text.str.fullmatch(_NUM.pattern)
        bad = present & ~ok
        values = text.where(present & ok).replace({"INF": "inf", "+INF": "inf", "-INF": "-inf"})
        return pd.to_numeric(values, errors="coerce").astype("float64"), bad
    if kind == "boolean":
        true = [str(v) for v in field.get("trueValues", ["true", "True", "TRUE", "1"])]
        false = [str(v) for v in field.get("falseValues", ["false", "False", "FALSE", "0"])]
        is_true, is_false = text.isin(true), text.isin(false)
        bad = present & ~(is_true | is_false)
        out = pd.Series(pd.NA, index=text.index, dtype="boolean")
        out[present & is_true] = True
        out[present & is_false] = False
        return out, bad
    if kind in ("date", "datetime"):
        fmt = field.get("format", "default")
        if kind == "date" and fmt in ("default", None):
            fmt = "%Y-%m-%d"
        elif fmt in ("default", None):
            fmt = "ISO8601"
        elif fmt == "any":
            fmt = None
        values = text.where(present)
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        if kind == "date" and fmt == "%Y-%m-%d":
            shape_ok = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
            parsed = parsed.where(shape_ok)
        bad = present & parsed.isna()
        return parsed.astype("datetime64[us]"), bad
    # string (with or without enum): categories are set after the enum check
    out = text.where(present).astype("str")
    return out, pd.Series(False, index=text.index)


_TYPE_HELP = {
    "integer": "the value is not a whole number",
    "number": "the value is not a number",
    "boolean": "the value is not true or false",
    "date": "the value is not a date written as YYYY-MM-DD",
    "datetime": "the value is not a date and time (ISO 8601)",
}


def _repeat_help(values: pd.Series, i: int, what: str) -> str:
    """Where else a repeated value sits, as line numbers (the value itself is never shown)."""
    same = np.flatnonzero((values == values.iloc[i]).to_numpy(dtype=bool))
    others = [str(j + 2) for j in same if j != i]
    more = f" and {len(others) - 8} more" if len(others) > 8 else ""
    return (
        f"{what} must be unique but also appears on line {', '.join(others[:8])}{more}; "
        "keep one row each"
    )


def _check_fields(
    f: Mapping[str, Any],
    text: pd.Series,
    table_missing: list[str],
    n: int,
    cols: list[str],
    name: str,
    at: Any,
    log: _Collector,
) -> pd.Series:
    """Cast and check the stacked cells of fields sharing one definition ``f``."""
    kind = f.get("type", "string")
    miss_values = [str(v) for v in f.get("missingValues", table_missing)]
    missing = text.isin(miss_values)
    values, bad = _cast(f, text, missing)

    def add(check: str, mask: pd.Series, message: str) -> None:
        for i in np.flatnonzero(mask.to_numpy(dtype=bool)):
            log.add(name, cols[i // n], check, message, **at(i % n))

    add("type", bad, _TYPE_HELP.get(kind, f"the value is not a valid {kind}"))
    values = values.where(~bad)
    cons = f.get("constraints", {}) or {}
    present = values.notna()
    if cons.get("required"):
        add("required", missing, "the value is missing; this column must be filled in")
    if "enum" in cons:
        allowed = list(cons["enum"])
        ok = values.isin([str(a) for a in allowed] if kind == "string" else allowed)
        add("enum", present & ~ok, f"the value is not one of the allowed values {allowed}")
        if kind == "string":
            values = values.where(ok).astype(field_dtype(f))
        present = present & ok
    for bound, op in (("minimum", "lt"), ("maximum", "gt")):
        if bound not in cons:
            continue
        limit = cons[bound]
        shown = limit
        if kind in ("date", "datetime"):
            limit = pd.Timestamp(limit)
            shown = limit.date()
        word = "below the minimum" if bound == "minimum" else "above the maximum"
        cmp = getattr(values, op)(limit).fillna(False).astype(bool)
        add(bound, present & cmp, f"the value is {word} {shown}")
    if "pattern" in cons:
        ok = text.str.fullmatch(cons["pattern"]).fillna(False).astype(bool)
        add("pattern", present & ~ok, f"the value does not match the pattern {cons['pattern']!r}")
    return values


def _validate_table(
    name: str,
    resource: Mapping[str, Any],
    folder: Path,
    log: _Collector,
    mapped: pd.DataFrame | None = None,
) -> _Table:
    schema = resource.get("schema")
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        log.add(name, "", "package", f"resource {name!r} has no table schema with 'fields'")
        return _Table(name, {}, None, None, None)
    rel = resource.get("path")
    if not isinstance(rel, str):
        log.add(name, "", "package", f"resource {name!r} has no single 'path' to a CSV file")
        return _Table(name, schema, None, None, None)
    path = folder / rel
    if mapped is not None:  # fed by the program's own export (io.mapping), already text
        header, raw = list(mapped.columns), mapped.set_axis(range(mapped.shape[1]), axis=1)
        if path.is_file() and len(_read_raw(path)[1]):
            log.add(name, "", "file", f"{rel} has rows and the mapping feeds {name} too; keep one")
    elif not path.is_file():
        hint = (
            f"; add it, or remove the {name!r} resource from datapackage.json if the program "
            "has no such table"
            if name in OPTIONAL_TABLES
            else ""
        )
        log.add(name, "", "file", f"file {rel!r} is missing from {folder}{hint}")
        return _Table(name, schema, None, None, None)
    else:
        try:
            header, raw = _read_raw(path)
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            log.add(name, "", "file", f"{rel} cannot be read as UTF-8 CSV: {exc}")
            return _Table(name, schema, None, None, None)
    fields = schema["fields"]
    names = [f["name"] for f in fields]
    dupes = sorted({h for h in header if header.count(h) > 1})
    for h in dupes:
        log.add(name, h, "header", f"column {h!r} appears more than once in {rel}")
    for h in header:
        if h not in names:
            log.add(name, h, "header", f"column {h!r} in {rel} is not in the table schema")
    for f in names:
        if f not in header:
            log.add(name, f, "header", f"schema field {f!r} is missing from {rel}")
    position = {h: i for i, h in enumerate(header) if h not in dupes}
    table_missing = [str(v) for v in schema.get("missingValues", [""])]
    pk = schema.get("primaryKey") or []
    pk = [pk] if isinstance(pk, str) else list(pk)
    keys = None
    if pk and all(c in position for c in pk):
        keys = _joined(raw.rename(columns={position[c]: c for c in pk}), pk)

    def at(i: int) -> dict[str, Any]:
        return {"line": i + 2}

    text_cols = {
        f["name"]: raw[position[f["name"]]].astype("str") for f in fields if f["name"] in position
    }
    typed: dict[str, pd.Series] = {}
    # fields with the same definition (e.g. the items of one instrument) are checked together
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for f in fields:
        if f["name"] in text_cols:
            shape = {k: v for k, v in f.items() if k not in ("name", "description", "title")}
            groups.setdefault(json.dumps(shape, sort_keys=True, default=str), []).append(f)
    n = len(raw)
    for members in groups.values():
        cols = [f["name"] for f in members]
        text = pd.concat([text_cols[c] for c in cols], ignore_index=True)
        values = _check_fields(members[0], text, table_missing, n, cols, name, at, log)
        for j, col in enumerate(cols):
            typed[col] = values.iloc[j * n : (j + 1) * n].set_axis(raw.index)
        for f in members:
            if (f.get("constraints", {}) or {}).get("unique"):
                col = f["name"]
                dup = text_cols[col].duplicated(keep=False) & typed[col].notna()
                for i in np.flatnonzero(dup.to_numpy()):
                    log.add(
                        name, col, "unique", _repeat_help(text_cols[col], i, "the value"), **at(i)
                    )

    data = pd.DataFrame({f["name"]: typed[f["name"]] for f in fields if f["name"] in typed})
    if keys is not None:
        incomplete = pd.concat([text_cols[c].isin(table_missing) for c in pk], axis=1).any(axis=1)
        for i in np.flatnonzero(incomplete.to_numpy()):
            log.add(
                name,
                "/".join(pk),
                "primary_key",
                "the primary key is incomplete; fill in " + " and ".join(pk),
                **at(i),
            )
        dup = keys.duplicated(keep=False) & ~incomplete
        for i in np.flatnonzero(dup.to_numpy()):
            log.add(name, "/".join(pk), "primary_key", _repeat_help(keys, i, "the key"), **at(i))
    extra = pd.DataFrame(
        {h: raw[i].astype("str") for h, i in position.items() if h not in names}, index=raw.index
    )
    return _Table(name, schema, pd.DataFrame(text_cols), data, keys, extra)


def _line_key(table: _Table, i: int) -> dict[str, Any]:
    return {"line": i + 2}


def _joined(raw: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    parts = [raw[c].astype("str") for c in columns]
    return parts[0] if len(parts) == 1 else parts[0].str.cat(parts[1:], sep="/")


def _foreign_keys(tables: Mapping[str, _Table], log: _Collector) -> None:
    for t in tables.values():
        if t.raw is None:
            continue
        for fk in t.schema.get("foreignKeys", []) or []:
            local = fk.get("fields")
            ref = fk.get("reference", {}) or {}
            remote = ref.get("fields")
            local = [local] if isinstance(local, str) else list(local or [])
            remote = [remote] if isinstance(remote, str) else list(remote or [])
            target = tables.get(ref.get("resource") or t.name)
            if target is None and ref.get("resource") in TABLES:
                continue  # a program table left out: reported once, as needs_table or package
            if target is None or target.raw is None:
                log.add(
                    t.name,
                    "/".join(local),
                    "foreign_key",
                    f"referenced table {ref.get('resource')!r} is not available",
                )
                continue
            if not all(c in t.raw for c in local) or not all(c in target.raw for c in remote):
                continue
            miss = [str(v) for v in t.schema.get("missingValues", [""])]
            here = _joined(t.raw, local)
            there = set(_joined(target.raw, remote))
            blank = t.raw[local].isin(miss).any(axis=1)
            bad = ~here.isin(there) & ~blank
            for i in np.flatnonzero(bad.to_numpy()):
                log.add(
                    t.name,
                    "/".join(local),
                    "foreign_key",
                    f"the value is not a {'/'.join(remote)} of the {target.name} table; "
                    f"add that row to {target.name} or correct this one",
                    **_line_key(t, i),
                )


def _rules(tables: Mapping[str, _Table], cutoff: pd.Timestamp | None, log: _Collector) -> None:
    """Program rules beyond the table schemas (dates in order, meetings inside matches)."""

    def col(name: str, column: str) -> pd.Series | None:
        t = tables.get(name)
        if t is None or t.data is None or column not in t.data:
            return None
        return t.data[column]

    def report(name: str, column: str, check: str, mask: pd.Series, message: Any) -> None:
        t = tables[name]
        for i in np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool)):
            text = message(i) if callable(message) else message
            log.add(name, column, check, text, **_line_key(t, i))

    start, end = col("matches", "start_date"), col("matches", "end_date")
    if start is not None and end is not None:
        report(
            "matches",
            "end_date",
            "date_order",
            end < start,
            "end_date is before start_date of the same row; correct one of them",
        )
    reason = col("matches", "closure_reason")
    if end is not None and reason is not None:
        report(
            "matches",
            "closure_reason",
            "closure_reason",
            end.notna() & reason.isna(),
            "closed match (end_date given) has no closure_reason; add the reason",
        )
        report(
            "matches",
            "closure_reason",
            "closure_reason",
            end.isna() & reason.notna(),
            "open match (no end_date) has a closure_reason; add the end_date or remove the reason",
        )
    m_youth, enrol = col("matches", "youth_id"), col("youth", "enrolment_date")
    y_ids = col("youth", "youth_id")
    # an empty youth or matches table (as tim init writes it) has nothing to look up
    if (
        start is not None
        and m_youth is not None
        and enrol is not None
        and y_ids is not None
        and len(y_ids)
    ):
        lookup = pd.Series(enrol.to_numpy(), index=y_ids.to_numpy())
        lookup = lookup[~lookup.index.duplicated()]
        enrolled = pd.Series(m_youth.map(lookup).to_numpy(), index=start.index)
        report(
            "matches",
            "start_date",
            "before_enrolment",
            start < enrolled,
            "start_date is before the youth's enrolment_date in the youth table; correct "
            "one of them",
        )
    mdate, mmatch, x_ids = (
        col("meetings", "date"),
        col("meetings", "match_id"),
        col("matches", "match_id"),
    )
    if (
        mdate is not None
        and mmatch is not None
        and x_ids is not None
        and start is not None
        and len(x_ids)
    ):
        last = end if end is not None else pd.Series(pd.NaT, index=start.index)
        if cutoff is not None:
            last = last.fillna(cutoff)
        frame = pd.DataFrame({"s": start.to_numpy(), "e": last.to_numpy()}, index=x_ids.to_numpy())
        frame = frame[~frame.index.duplicated()]
        s = pd.Series(mmatch.map(frame["s"]).to_numpy(), index=mdate.index)
        e = pd.Series(mmatch.map(frame["e"]).to_numpy(), index=mdate.index)
        outside = (mdate < s) | (mdate > e)
        report(
            "meetings",
            "date",
            "within_match",
            outside,
            "the meeting date is outside its match (before start_date or after end_date "
            "in the matches table, or after the cut-off for an open match)",
        )
    if cutoff is not None:
        for name, column in (
            ("youth", "enrolment_date"),
            ("matches", "start_date"),
            ("matches", "end_date"),
            ("meetings", "date"),
            ("surveys", "survey_date"),
            ("mentor_surveys", "survey_date"),
            ("relationship_surveys", "survey_date"),
            ("pce_surveys", "survey_date"),
            ("goals", "set_date"),
            ("goals", "review_date"),
        ):
            values = col(name, column)
            if values is None:
                continue
            report(
                name,
                column,
                "after_cutoff",
                values > cutoff,
                f"the date is after the data cut-off {cutoff.date()}; correct it or move "
                "the cut-off in datapackage.json",
            )
    set_date, review_date = col("goals", "set_date"), col("goals", "review_date")
    if set_date is not None and review_date is not None:
        report(
            "goals",
            "review_date",
            "date_order",
            review_date < set_date,
            "review_date is before set_date of the same row; correct one of them",
        )
    reporter = col("relationship_surveys", "reporter")
    rel = tables.get("relationship_surveys")
    if reporter is not None and rel is not None and rel.data is not None:
        # each reporter answers their own questionnaires; the other's items stay empty
        own = {"youth": ("ysor", "youth_centered"), "mentor": ("msor",)}
        for who, instruments in own.items():
            other = [
                c
                for c in rel.data.columns
                if item_instrument(c) is not None and item_instrument(c) not in instruments
            ]
            if not other:
                continue
            answered = rel.data[other].notna()
            report(
                "relationship_surveys",
                "reporter",
                "reporter_items",
                (reporter == who) & answered.any(axis=1),
                lambda i, a=answered, w=who: (
                    f"a {w} report has answers in {', '.join(a.columns[a.iloc[i].to_numpy()])}, "
                    "items of the other reporter's questionnaire; correct the reporter or move "
                    "the answers to that reporter's row"
                ),
            )
    for name in ("surveys", "mentor_surveys", "relationship_surveys"):
        t = tables.get(name)
        if t is None or t.data is None:
            continue
        month_of = RELATIONSHIP_WAVE_MONTHS if name == "relationship_surveys" else WAVE_MONTHS
        wave, months = col(name, "wave"), col(name, "months")
        if wave is not None and months is not None:
            expected = wave.astype(object).map(month_of)
            wrong = (
                expected.notna()
                & months.notna()
                & (months.astype("Float64") != expected.astype("Float64"))
            )
            report(
                name,
                "months",
                "wave_months",
                wrong,
                "months does not fit the wave of the same row ("
                + ", ".join(f"{w}: {m}" for w, m in month_of.items())
                + ")",
            )
        status, date = col(name, "status"), col(name, "survey_date")
        if status is None or date is None:
            continue
        done = status == "completed"
        report(
            name,
            "survey_date",
            "status",
            done & date.isna(),
            "completed survey has no survey_date; add the date or correct the status",
        )
        report(
            name,
            "survey_date",
            "status",
            status.notna() & ~done & date.notna(),
            "survey that is not completed has a survey_date; correct the status or remove the date",
        )
        items = [c for c in t.data.columns if item_instrument(c) is not None]
        if items:
            answered = t.data[items].notna()
            stray = status.notna() & ~done & answered.any(axis=1)
            report(
                name,
                ",".join(sorted({item_instrument(c) or "" for c in items})),
                "status",
                stray,
                # column names only: which items hold answers, never the answers
                lambda i, a=answered: (
                    "survey that is not completed has answers in "
                    f"{', '.join(a.columns[a.iloc[i].to_numpy()])}; correct the status or "
                    "remove the answers"
                ),
            )


def _package_cutoff(package: Mapping[str, Any], log: _Collector) -> pd.Timestamp | None:
    meta = package.get("tim_research")
    raw = meta.get("cutoff_date") if isinstance(meta, dict) else None
    if raw is None:
        log.add(
            "datapackage",
            "tim_research.cutoff_date",
            "package",
            'datapackage.json has no data cut-off: add "tim_research": {"cutoff_date": '
            '"YYYY-MM-DD"} (the date the data were drawn)',
        )
        return None
    try:
        cut = pd.Timestamp(str(raw))
    except ValueError:
        cut = pd.NaT
    if pd.isna(cut):
        log.add(
            "datapackage",
            "tim_research.cutoff_date",
            "package",
            "cutoff_date is not a date; write it as YYYY-MM-DD",
        )
        return None
    return cut


def _check(
    folder: str | Path, allow_identifiers: Any, mapping: str | Path | None = None
) -> tuple[ValidationReport, dict[str, _Table], dict[str, Any], pd.Timestamp | None]:
    folder = Path(folder)
    package = _load_package(folder)
    log = _Collector()
    allowed = _allowed(allow_identifiers)
    resources: dict[str, Mapping[str, Any]] = {}
    for r in package["resources"]:
        if isinstance(r, dict) and isinstance(r.get("name"), str):
            if r["name"] in resources:
                log.add(r["name"], "", "package", f"resource {r['name']!r} is listed twice")
            resources[r["name"]] = r
    for name in REQUIRED_TABLES:
        if name not in resources:
            log.add(name, "", "package", f"datapackage.json has no resource named {name!r}")
    for name in OPTIONAL_TABLES:
        # an optional table is absent when neither its resource nor its file is there; a file
        # without a resource would otherwise be left unread without a word
        if name not in resources and (folder / f"{name}.csv").exists():
            log.add(
                name,
                "",
                "package",
                f"{name}.csv is in the folder but datapackage.json has no resource named "
                f"{name!r}; add the resource (with its schema) or remove the file",
            )
    cutoff = _package_cutoff(package, log)
    # a program's own exports, through its mapping file (io.mapping), stand in for the CSVs
    fields = {
        n: [f.get("name") for f in (r.get("schema") or {}).get("fields") or []]
        for n, r in resources.items()
    }
    mapped = map_folder(folder, mapping, fields=fields)
    log.rows += mapped.problems.to_dict("records")
    tables = {
        name: _validate_table(name, r, folder, log, mapped.tables.get(name))
        for name, r in resources.items()
    }
    for name in OPTIONAL_TABLES:
        if name not in tables:
            continue
        absent = [t for t in TABLE_NEEDS[name] if t not in resources]
        if absent:
            # a documented rule, not a skip: its ids could not be checked against anything
            log.add(
                name,
                "",
                "needs_table",
                f"the {name} table refers to the {' and '.join(absent)} table(s), which the "
                f"package does not have; add {', '.join(t + '.csv' for t in absent)} (and the "
                f"resource), or leave {name} out",
            )
    for t in tables.values():
        if t.raw is None:
            continue
        # names and contents, never printing the values (privacy.find_identifiers); a string
        # field without an enum is free text, refused when any one value holds an identifier
        free = [
            f["name"]
            for f in t.schema.get("fields", [])
            if f.get("type", "string") == "string" and "enum" not in (f.get("constraints") or {})
        ]
        # a column outside the schema has no list of answers either: free text
        seen = t.raw if t.extra is None else pd.concat([t.raw, t.extra], axis=1)
        free += [] if t.extra is None else list(t.extra.columns)
        flagged = find_identifiers(seen, free_text=free)
        for column, reason, evidence in flagged[["column", "reason", "evidence"]].itertuples(
            index=False
        ):
            if column in allowed or f"{t.name}.{column}" in allowed:
                continue
            log.add(
                t.name,
                column,
                "identifier",
                f"column {evidence} suggests {reason}; remove it, or pass "
                f"allow_identifiers=['{t.name}.{column}'] if it is safe",
            )
    _foreign_keys(tables, log)
    _rules(tables, cutoff, log)
    problems = mapped.relocate(log.frame())
    counts = problems["table"].value_counts()
    summary = pd.DataFrame(
        [
            {
                "table": name,
                "rows": None if t.raw is None else len(t.raw),
                "columns": None if t.raw is None else t.raw.shape[1],
                "problems": int(counts.get(name, 0)),
            }
            for name, t in tables.items()
        ],
        columns=["table", "rows", "columns", "problems"],
    ).set_index("table")
    summary["rows"] = summary["rows"].astype("Int64")
    summary["columns"] = summary["columns"].astype("Int64")
    return ValidationReport(problems, summary), tables, package, cutoff


def validate_program(
    folder: str | Path,
    *,
    allow_identifiers: Sequence[str] = (),
    mapping: str | Path | None = None,
) -> ValidationReport:
    """Check a program data package and return every problem found (never raises for data).

    See :func:`read_program` for what is checked.

    Examples
    --------
    >>> import tempfile
    >>> from tim_research import synth
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = synth.write_sample(d, n_youth=30)
    ...     report = validate_program(d)
    >>> report.ok
    True
    """
    return _check(folder, allow_identifiers, mapping)[0]


def read_program(
    folder: str | Path,
    *,
    allow_identifiers: Sequence[str] = (),
    mapping: str | Path | None = None,
) -> Program:
    """Read and validate a program data package (a folder like ``data/sample/``).

    The folder holds ``datapackage.json`` (Frictionless Data Package with a table schema per
    resource and ``"tim_research": {"cutoff_date": ...}``) and one CSV per table: ``youth`` and
    ``surveys`` always; ``mentors``, ``mentor_surveys``, ``matches`` and ``meetings`` when the
    program has them. An optional table is absent when the package has neither its resource nor
    its CSV file; it is then ``None`` on the returned :class:`Program`. A resource whose file is
    missing, a file without a resource, and a table whose foreign key points at an absent
    table (``matches`` or ``mentor_surveys`` without ``mentors``, ``meetings`` without
    ``matches``: :data:`~tim_research.program.schema.TABLE_NEEDS`) are problems; rules
    between tables run only where both tables are present.

    Checked, against the package's own schemas: header (missing, unknown, duplicated
    columns), field types, ``required``, ``enum``, ``minimum``/``maximum``, ``pattern`` and
    ``unique`` constraints, primary keys (complete and unique) and foreign keys (every match's
    youth and mentor exist, ...). Program rules: a match does not end before it starts nor start
    before the youth enrolled; a closed match has a closure reason and an open one has none;
    meetings fall inside their match (an open match runs to the cut-off); no date is after the
    cut-off; ``months`` fits ``wave``; only completed surveys have a date and answers.
    Columns that look like direct identifiers (name, email, phone, address, date of birth), by
    their name or their content (:func:`tim_research.privacy.find_identifiers`), are refused
    unless listed in ``allow_identifiers`` (``"column"`` or ``"table.column"``); a string
    field without an ``enum`` is free text and is refused when any single value holds a
    person's name, an email address, a phone number or a street address.
    No message, problem or exception text holds a cell value or an id: problems name the
    table, column, line of the CSV file (header = line 1), rule and fix.

    Parameters
    ----------
    folder
        The data package folder.
    allow_identifiers
        Columns that look like identifiers but may be read.
    mapping
        A mapping file that feeds tables from the program's own exports
        (:mod:`tim_research.io.mapping`); default ``folder/mapping.toml`` when it exists.

    Returns
    -------
    Program
        Typed tables (strings, categoricals for ``enum`` fields, ``Int64``, ``float64``,
        ``boolean``, ``datetime64``) in file order with a default index.

    Raises
    ------
    ProgramValidationError
        (a :class:`~tim_research.errors.DataError`) listing every problem; the full list is
        in ``err.report.problems``.

    Examples
    --------
    >>> import tempfile
    >>> from tim_research import synth
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = synth.write_sample(d, n_youth=30)
    ...     p = read_program(d)
    >>> p.matches["youth_id"].isin(p.youth["youth_id"]).all()
    np.True_
    """
    report, tables, package, cutoff = _check(folder, allow_identifiers, mapping)
    identifiers = report.problems[report.problems["check"] == "identifier"]
    if not identifiers.empty:
        cols = ", ".join(
            f"{t}.{c}" for t, c in zip(identifiers["table"], identifiers["column"], strict=True)
        )
        raise ProgramValidationError(
            f"{folder}: column(s) that look like direct identifiers: {cols}. Remove them "
            "before analysis, or pass allow_identifiers=[...] naming them if they are safe.\n"
            + ValidationReport(identifiers, report.tables).format(),
            report,
        )
    if not report.ok:
        raise ProgramValidationError(
            f"{folder}: {len(report.problems)} problem(s) in the data package; nothing was "
            "changed. Fix the files and read again (all problems: err.report.problems).\n"
            + report.format(),
            report,
        )
    frames = {name: tables[name].data for name in TABLES if name in tables}
    return Program(**frames, cutoff=cutoff, effects=package_effects(package))


def package_effects(package: Mapping[str, Any]) -> Effects | None:
    """The planted effects a synthetic package declares (``tim_research.synthetic.effects``)."""
    synthetic = (package.get("tim_research") or {}).get("synthetic")
    if isinstance(synthetic, dict) and isinstance(synthetic.get("effects"), dict):
        return Effects.from_mapping(synthetic["effects"])
    return None


# --------------------------------------------------------------------------- writing


def _infer_field(name: str, s: pd.Series) -> dict[str, Any]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        field: dict[str, Any] = {"name": name, "type": "string"}
        if s.cat.ordered:
            field["categoriesOrdered"] = True
        field["constraints"] = {"enum": [str(c) for c in s.cat.categories]}
        return field
    if pd.api.types.is_bool_dtype(s):
        return {"name": name, "type": "boolean"}
    if pd.api.types.is_integer_dtype(s):
        return {"name": name, "type": "integer"}
    if pd.api.types.is_float_dtype(s):
        return {"name": name, "type": "number"}
    if pd.api.types.is_datetime64_any_dtype(s):
        return {"name": name, "type": "date", "format": "default"}
    return {"name": name, "type": "string"}


def write_program(
    program: Program,
    folder: str | Path,
    *,
    name: str = "mentoring-program",
    title: str = "Mentoring program data",
    description: str = "",
    synthetic: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write a program as a data package folder: one CSV per table, datapackage.json, CODEBOOK.md.

    Columns beyond the standard schema are declared with a type inferred from their dtype.
    Output is deterministic (no timestamps), so the same program gives the same bytes.

    Parameters
    ----------
    program
        The tables to write.
    folder
        Output folder (created if needed).
    name, title, description
        Package metadata.
    synthetic
        For simulated data: the generator settings, stored under
        ``"tim_research": {"synthetic": ...}`` (the planted effects go in ``"effects"``).

    Returns
    -------
    list of pathlib.Path
        The CSV files, then ``datapackage.json`` and ``CODEBOOK.md``.

    Examples
    --------
    >>> import tempfile
    >>> from tim_research import synth
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = write_program(synth.program(n_youth=20), d, name="demo")
    ...     ok = validate_program(d).ok
    >>> [f.name for f in files][:2], ok
    (['youth.csv', 'surveys.csv'], True)
    """
    if not isinstance(program, Program):
        raise DataError(f"program must be a Program, got {type(program).__name__}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    schemas = table_schemas(sites=program.sites)
    written: list[Path] = []
    resources = []
    for table, df in program.tables().items():
        schema = schemas[table]
        known = {f["name"] for f in schema["fields"]}
        missing = [f["name"] for f in schema["fields"] if f["name"] not in df.columns]
        if missing:
            raise DataError(
                f"program.{table} lacks the column(s) {missing} of the program schema; add them "
                "(empty if unknown)"
            )
        extra = [_infer_field(str(c), df[c]) for c in df.columns if c not in known]
        fields = [*schema["fields"], *extra]
        schema = {**schema, "fields": fields}
        path = folder / f"{table}.csv"
        ordered = df[[f["name"] for f in fields]]
        ordered.to_csv(
            path, index=False, lineterminator="\n", date_format="%Y-%m-%d", encoding="utf-8"
        )
        written.append(path)
        resources.append(
            {
                "name": table,
                "path": f"{table}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": TABLE_DESCRIPTIONS[table],
                "schema": schema,
            }
        )
    meta: dict[str, Any] = {"cutoff_date": str(program.cutoff.date())}
    if synthetic is not None:
        meta["synthetic"] = dict(synthetic)
    package: dict[str, Any] = {"profile": "tabular-data-package", "name": name, "title": title}
    if description:
        package["description"] = description
    if synthetic is not None:
        package["licenses"] = [
            {
                "name": "CC0-1.0",
                "title": "CC0 1.0 Universal",
                "path": "https://creativecommons.org/publicdomain/zero/1.0/",
            }
        ]
    package["tim_research"] = meta
    package["resources"] = resources
    dp = folder / "datapackage.json"
    text = json.dumps(package, indent=2, ensure_ascii=False) + "\n"
    dp.write_text(text, encoding="utf-8", newline="\n")
    written.append(dp)
    book = folder / "CODEBOOK.md"
    book.write_text(_codebook(package, program), encoding="utf-8", newline="\n")
    written.append(book)
    return written


def _allowed_text(field: Mapping[str, Any]) -> str:
    cons = field.get("constraints", {}) or {}
    parts = []
    if "enum" in cons:
        parts.append(", ".join(str(v) for v in cons["enum"]))
    if "minimum" in cons or "maximum" in cons:
        parts.append(f"{cons.get('minimum', '')}-{cons.get('maximum', '')}")
    if "pattern" in cons:
        parts.append(f"pattern `{cons['pattern']}`")
    if cons.get("required"):
        parts.append("required")
    if cons.get("unique"):
        parts.append("unique")
    return "; ".join(parts)


def _codebook(package: Mapping[str, Any], program: Program) -> str:
    meta = package["tim_research"]
    out = [f"# Codebook: {package['title']}", ""]
    if package.get("description"):
        out += [package["description"], ""]
    out += [
        f"Data cut-off: {meta['cutoff_date']} (open matches are censored here; surveys "
        "scheduled later are 'not yet due').",
        "Machine-readable schema: `datapackage.json` (Frictionless Data Package). Missing "
        "values are empty cells. Dates are YYYY-MM-DD.",
        "",
    ]
    synthetic = meta.get("synthetic")
    if synthetic is not None:
        settings = ", ".join(
            f"{k}={v}"
            for k, v in synthetic.items()
            if k not in ("effects", "generator", "reference_sd", "ace_centre")
        )
        out += [
            "## Synthetic data",
            "",
            f"Generated by `{synthetic.get('generator', '')}` with {settings}. Nobody in these "
            "tables is real. Planted effects (the truth an analysis should recover):",
            "",
            "| effect | value | meaning |",
            "|---|---|---|",
        ]
        for eff, row in Effects.from_mapping(synthetic["effects"]).to_frame().iterrows():
            out.append(f"| `{eff}` | {row['value']:g} | {row['scale']} |")
        out += [
            "",
            "An effect `d` in SD units moves a score by `d` times the reference SD of the "
            "item mean (multiply by the number of items for a sum score): "
            + ", ".join(f"{k} {v:g}" for k, v in synthetic.get("reference_sd", {}).items())
            + ". The resilience effects per 12 months matched apply at ACE score "
            f"{synthetic.get('ace_centre', '')} and grow by `ace_moderation_d` per further ACE.",
            "",
        ]
    for resource in package["resources"]:
        schema = resource["schema"]
        df = program.tables()[resource["name"]]
        out += [
            f"## {resource['name']} (`{resource['path']}`, {len(df)} rows)",
            "",
            resource.get("description", ""),
            "",
            f"Primary key: {', '.join(schema['primaryKey'])}.",
        ]
        for fk in schema.get("foreignKeys", []):
            ref = fk["reference"]
            out.append(
                f"Foreign key: {', '.join(fk['fields'])} -> {ref['resource']}."
                f"{', '.join(ref['fields'])}."
            )
        out += ["", "| field | type | allowed values | description |", "|---|---|---|---|"]
        fields = schema["fields"]
        i = 0
        while i < len(fields):
            f = fields[i]
            inst = item_instrument(f["name"])
            if inst is None:
                out.append(
                    f"| `{f['name']}` | {f['type']} | {_allowed_text(f)} | "
                    f"{f.get('description', '')} |"
                )
                i += 1
                continue
            j = i
            while j + 1 < len(fields) and item_instrument(fields[j + 1]["name"]) == inst:
                j += 1
            when = (
                f.get("description", "").split("; ")[-2] if "; " in f.get("description", "") else ""
            )
            out.append(
                f"| `{f['name']}` .. `{fields[j]['name']}` | integer | {_allowed_text(f)} | "
                f"{instrument_note(inst)}; {when}; empty = not answered |"
            )
            i = j + 1
        out.append("")
    if synthetic is not None:
        out += [
            "## Use your own program's data",
            "",
            "These tables describe a synthetic program. For a real program: "
            "`tim init FOLDER --sites ...`",
            "writes an empty package with this codebook's columns and rules (no synthetic "
            "marker); fill its",
            "CSVs or map your REDCap, Qualtrics, SurveyMonkey or form exports in its "
            "`mapping.toml`",
            "(examples in `data/examples/`); run `tim check FOLDER` until it is clean; then",
            "`tim report --data FOLDER`.",
            "",
        ]
    return "\n".join(out)
