"""Read REDCap exports: records CSV plus data dictionary CSV, mapped to instrument items.

REDCap's "CSV (raw data)" export writes one column per field (choice *codes* for radio,
dropdown, yes/no and true/false fields), one ``field___code`` column per option of a checkbox
field (1 checked, 0 unchecked; the code lower-cased with other characters than letters and
digits replaced by ``_``, so option ``-9`` becomes ``field____9``), a ``<form>_complete``
column per form (0 Incomplete, 1 Unverified, 2 Complete) and, in longitudinal projects,
``redcap_event_name``. The "CSV (labels)" export writes the choice labels and
Checked/Unchecked instead; both are read to the same codes. Which of the two a file is, is
decided once for the whole file, never cell by cell (a labels export whose labels are numbers,
``1, 0 | 2, 1``, would otherwise be read off by one): by default from its checkbox and
``<form>_complete`` columns (1/0 and 0/1/2 in a raw export, Checked/Unchecked and
Incomplete/Unverified/Complete in a labels export), or as told with ``export="raw"`` or
``export="labels"`` when the file has neither. The data dictionary is the CSV
downloaded from the Data Dictionary page (headers ``Variable / Field Name``, ``Form Name``,
``Field Type``, ``Choices, Calculations, OR Slider Labels``, ...) or the API's metadata export
(``field_name``, ``form_name``, ``field_type``, ``select_choices_or_calculations``, ...).

A small TOML mapping file names which REDCap column holds which instrument item::

    id_column = "youth_id"          # optional: name of the record id in the output

    [events]                        # optional: redcap_event_name -> wave
    baseline_arm_1 = "baseline"
    6_month_arm_1 = "6m"

    [items]                         # instrument item id = REDCap column
    brs_1 = "brs_q1"
    ace10_1 = "aces___1"            # a checkbox option: field___code

    [checkboxes.aces]               # optional, per checkbox field: its opt-out options
    opt_out = ["99"]                # e.g. 99, "Prefer not to say"

:func:`read_redcap` returns a frame whose item columns are named ``<id>_<n>``, ready for
:func:`tim_research.score`. Two rules turn REDCap's zeros into missing answers, since REDCap
writes 0 for every option of a checkbox field that nobody ticked, answered or not:

- Opt-out options. When a record ticks an opt-out option of a checkbox field (declared with
  ``opt_out`` under ``[checkboxes.<field>]``), the field's unticked options are missing, not
  "no"; options it did tick stay 1. A record that ticks only "Prefer not to say" thus has
  every item of that field missing, not a count of 0.
- Incomplete forms. Where a record's ``<form>_complete`` is 0 (Incomplete), every mapped
  item of that form is missing (REDCap exports the checkbox options of a form never filled in
  as 0). Unverified (1) and Complete (2) forms are kept as they are; so are forms whose
  status is blank (not in that event) or not exported. ``incomplete="keep"`` in
  :func:`to_items` and :func:`read_redcap` keeps incomplete forms too.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from tim_research.errors import DataError

__all__ = [
    "RedcapMapping",
    "checkbox_column",
    "parse_choices",
    "read_dictionary",
    "read_mapping",
    "read_records",
    "read_redcap",
    "to_items",
]

DICTIONARY_HEADERS: Mapping[str, str] = {
    "Variable / Field Name": "field_name",
    "Form Name": "form_name",
    "Section Header": "section_header",
    "Field Type": "field_type",
    "Field Label": "field_label",
    "Choices, Calculations, OR Slider Labels": "choices",
    "Field Note": "field_note",
    "Text Validation Type OR Show Slider Number": "validation",
    "Text Validation Min": "validation_min",
    "Text Validation Max": "validation_max",
    "Identifier?": "identifier",
    "Branching Logic (Show field only if...)": "branching_logic",
    "Required Field?": "required",
    "Custom Alignment": "custom_alignment",
    "Question Number (surveys only)": "question_number",
    "Matrix Group Name": "matrix_group",
    "Matrix Ranking?": "matrix_ranking",
    "Field Annotation": "field_annotation",
}
"""Data dictionary headers (Data Dictionary page download) and the short names used here."""

API_HEADERS: Mapping[str, str] = {
    "field_name": "field_name",
    "form_name": "form_name",
    "section_header": "section_header",
    "field_type": "field_type",
    "field_label": "field_label",
    "select_choices_or_calculations": "choices",
    "field_note": "field_note",
    "text_validation_type_or_show_slider_number": "validation",
    "text_validation_min": "validation_min",
    "text_validation_max": "validation_max",
    "identifier": "identifier",
    "branching_logic": "branching_logic",
    "required_field": "required",
    "custom_alignment": "custom_alignment",
    "question_number": "question_number",
    "matrix_group_name": "matrix_group",
    "matrix_ranking": "matrix_ranking",
    "field_annotation": "field_annotation",
}
"""Metadata headers of the REDCap API export and the short names used here."""

_CHOICE_TYPES = ("radio", "dropdown", "yesno", "truefalse")
_FIXED_CHOICES = {
    "yesno": {"1": "Yes", "0": "No"},
    "truefalse": {"1": "True", "0": "False"},
}
_COMPLETE = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
_SPECIAL = (
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
    "redcap_survey_identifier",
)
_MAX_SHOWN = 5


def parse_choices(text: Any) -> dict[str, str]:
    """Parse a REDCap choices cell ``"1, Yes | 0, No"`` into ``{code: label}`` (in order).

    Examples
    --------
    >>> parse_choices("1, Strongly disagree | 2, Disagree | -9, Prefer not to say")
    {'1': 'Strongly disagree', '2': 'Disagree', '-9': 'Prefer not to say'}
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return {}
    out: dict[str, str] = {}
    for part in str(text).split("|"):
        part = part.strip()
        if not part:
            continue
        code, sep, label = part.partition(",")
        if not sep or not code.strip():
            raise DataError(
                f"REDCap choice {part!r} (in {text!r}) is not 'code, label'; check the data "
                "dictionary's 'Choices, Calculations, OR Slider Labels' column"
            )
        code = code.strip()
        if code in out:
            raise DataError(f"REDCap choices {text!r} use the code {code!r} twice")
        out[code] = label.strip()
    return out


def checkbox_column(field_name: str, code: str) -> str:
    """Export column of one checkbox option: ``field___code``.

    The code is lower-cased and characters other than letters and digits become ``_``.

    Examples
    --------
    >>> checkbox_column("race", "-9"), checkbox_column("race", "A1")
    ('race____9', 'race___a1')
    """
    return f"{field_name}___{re.sub(r'[^a-z0-9]', '_', str(code).lower())}"


def read_dictionary(path: str | Path | pd.DataFrame) -> pd.DataFrame:
    r"""Read a REDCap data dictionary CSV (Data Dictionary page download or API metadata).

    Returns
    -------
    pandas.DataFrame
        One row per field in dictionary order, columns renamed to short names
        (``field_name``, ``form_name``, ``field_type``, ``choices``, ``validation``, ...; see
        :data:`DICTIONARY_HEADERS`). Empty cells are missing.

    Examples
    --------
    >>> import io
    >>> text = ("Variable / Field Name,Form Name,Field Type,Field Label,"
    ...         "\"Choices, Calculations, OR Slider Labels\"\n"
    ...         "record_id,intake,text,Record ID,\n"
    ...         "agree,intake,radio,Agree?,\"1, Yes | 0, No\"\n")
    >>> read_dictionary(pd.read_csv(io.StringIO(text), dtype=str))[["field_name", "field_type"]]
      field_name field_type
    0  record_id       text
    1      agree      radio
    """
    if isinstance(path, pd.DataFrame):
        raw = path.copy()
    else:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw.columns = [str(c).strip() for c in raw.columns]
    rename = {c: DICTIONARY_HEADERS.get(c, API_HEADERS.get(c)) for c in raw.columns}
    unknown = [c for c, short in rename.items() if short is None]
    if unknown:
        raise DataError(
            f"data dictionary has unknown column(s) {unknown}; expected REDCap's headers "
            f"({', '.join(DICTIONARY_HEADERS)}) or the API's ({', '.join(API_HEADERS)})"
        )
    out = raw.rename(columns=rename)
    needed = ["field_name", "form_name", "field_type"]
    missing = [c for c in needed if c not in out.columns]
    if missing:
        raise DataError(
            f"data dictionary lacks {missing}; export it from REDCap's Data Dictionary page"
        )
    for c in out.columns:
        out[c] = out[c].astype("str").str.strip().replace("", np.nan)
    if "choices" not in out.columns:
        out["choices"] = np.nan
    blank = out["field_name"].isna()
    if blank.any():
        raise DataError(
            f"data dictionary rows {(np.flatnonzero(blank) + 2).tolist()} (lines) have no "
            "field name"
        )
    dup = out["field_name"][out["field_name"].duplicated()].tolist()
    if dup:
        raise DataError(f"data dictionary lists field(s) {dup} more than once")
    return out.reset_index(drop=True)


def _choices(row: pd.Series) -> dict[str, str]:
    kind = str(row["field_type"]).lower()
    if kind in _FIXED_CHOICES:
        return dict(_FIXED_CHOICES[kind])
    return parse_choices(row.get("choices"))


def _codes_dtype(codes: list[str]) -> bool:
    return all(re.fullmatch(r"-?\d+", c) for c in codes)


def read_records(
    path: str | Path | pd.DataFrame,
    dictionary: str | Path | pd.DataFrame,
    *,
    labels: bool = False,
    export: Literal["auto", "raw", "labels"] = "auto",
) -> pd.DataFrame:
    """Read a REDCap records export (raw or labels CSV) and type it with the data dictionary.

    Parameters
    ----------
    path
        The records CSV (or a DataFrame of strings read from it).
    dictionary
        The data dictionary CSV, or the frame from :func:`read_dictionary`.
    labels
        False (default): radio, dropdown, yes/no and true/false fields hold their codes
        (``Int64`` when all codes are integers) and ``<form>_complete`` 0/1/2.
        True: they become categoricals of the choice labels, in choice order.
    export
        Which REDCap export the file is: ``"raw"`` ("CSV (raw data)": choice codes, 1/0,
        0/1/2) or ``"labels"`` ("CSV (labels)": choice labels, Checked/Unchecked,
        Incomplete/Unverified/Complete). ``"auto"`` (default) tells them apart by the file's
        checkbox and ``<form>_complete`` columns; a file with neither must say which it is.
        Every cell is then read as a code, or every cell as a label, never one or the other
        by what happens to match.

    Returns
    -------
    pandas.DataFrame
        Same rows in the same order (default index). Checkbox options are ``Int64`` 0/1
        columns ``field___code``; integer/number text fields, sliders and calculated fields
        are numeric, date fields ``datetime64``, other text ``str``. The choices of each field
        are in ``df.attrs["choices"]``, the form of each data column in ``df.attrs["forms"]``
        and the export type read in ``df.attrs["export"]``.

    Raises
    ------
    DataError
        One error naming every column with values that are not a valid code or label (or not
        a number/date where the dictionary says so), with how many rows and the first of
        them (as a spreadsheet numbers the file's rows; never the values), and every column
        that the dictionary does not describe. A file whose checkbox and form status columns
        mix codes and labels, or, with ``export="auto"``, hold neither while choice fields
        have answers.

    Examples
    --------
    >>> meta = pd.DataFrame({
    ...     "Variable / Field Name": ["record_id", "agree", "race"],
    ...     "Form Name": ["intake"] * 3,
    ...     "Field Type": ["text", "yesno", "checkbox"],
    ...     "Choices, Calculations, OR Slider Labels": ["", "", "1, Black | -9, Not stated"]})
    >>> rec = pd.DataFrame({"record_id": ["1", "2"], "agree": ["1", "0"],
    ...                     "race___1": ["1", "0"], "race____9": ["0", "1"],
    ...                     "intake_complete": ["2", "0"]})
    >>> read_records(rec, read_dictionary(meta))
      record_id  agree  race___1  race____9  intake_complete
    0         1      1         1          0                2
    1         2      0         0          1                0

    The same records as a labels export:

    >>> lab = pd.DataFrame({"record_id": ["1", "2"], "agree": ["Yes", "No"],
    ...                     "race___1": ["Checked", "Unchecked"],
    ...                     "race____9": ["Unchecked", "Checked"],
    ...                     "intake_complete": ["Complete", "Incomplete"]})
    >>> read_records(lab, read_dictionary(meta)).equals(read_records(rec, read_dictionary(meta)))
    True
    """
    meta = dictionary if _is_dictionary(dictionary) else read_dictionary(dictionary)
    if isinstance(path, pd.DataFrame):
        raw = path.astype("str").where(path.notna(), "")
    else:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw.columns = [str(c).strip() for c in raw.columns]
    record_id = str(meta["field_name"].iloc[0])
    if record_id not in raw.columns:
        raise DataError(
            f"records have no column {record_id!r}, the first field (record id) of the data "
            "dictionary; is this the dictionary of the same project?"
        )

    if export not in ("auto", "raw", "labels"):
        raise DataError(f"export must be 'auto', 'raw' or 'labels', got {export!r}")
    expected: dict[str, tuple[str, Mapping[str, Any]]] = {}
    choices_all: dict[str, dict[str, str]] = {}
    form_of: dict[str, str] = {}
    forms = []
    for _, row in meta.iterrows():
        name, kind = str(row["field_name"]), str(row["field_type"]).lower()
        form = str(row["form_name"])
        if form not in forms:
            forms.append(form)
        if kind == "descriptive":
            continue
        if kind == "checkbox":
            opts = parse_choices(row.get("choices"))
            choices_all[name] = opts
            for code in opts:
                expected[checkbox_column(name, code)] = ("checkbox", {"field": name, "code": code})
                form_of[checkbox_column(name, code)] = form
            continue
        form_of[name] = form
        if kind in _CHOICE_TYPES:
            opts = _choices(row)
            choices_all[name] = opts
            expected[name] = ("choice", {"choices": opts})
            continue
        validation = str(row.get("validation", "") or "").lower()
        expected[name] = (kind, {"validation": validation})
    for form in forms:
        expected[f"{form}_complete"] = ("choice", {"choices": dict(_COMPLETE), "status": True})
        expected.setdefault(f"{form}_timestamp", ("text", {"validation": "datetime"}))
    for special in _SPECIAL:
        expected[special] = (
            "text",
            {"validation": "integer" if special.endswith("instance") else ""},
        )

    unknown = [c for c in raw.columns if c not in expected]
    if unknown:
        raise DataError(
            f"records have column(s) {unknown} that the data dictionary does not describe; "
            "export the dictionary of the same project (and version) as the records"
        )
    kind_of = {col: expected[col] for col in raw.columns}
    export = _export_kind(raw, kind_of, export)
    problems: list[str] = []
    out: dict[str, pd.Series] = {}
    for col in raw.columns:
        kind, info = expected[col]
        text = raw[col].astype("str").str.strip()
        blank = text == ""
        if kind == "checkbox":
            values = text.map(_CHECKBOX[export])
            bad = ~blank & values.isna()
            out[col] = values.astype("Float64").astype("Int64")
        elif kind == "choice":
            opts: dict[str, str] = info["choices"]
            if export == "raw":
                code = text.where(text.isin(list(opts)))
            else:
                # a label given to two codes cannot say which code was chosen: invalid
                seen = pd.Series(list(opts.values()))
                unique = {v: k for k, v in opts.items() if (seen == v).sum() == 1}
                code = text.map(unique)
            bad = ~blank & code.isna()
            code = code.where(~blank)
            if labels:
                out[col] = pd.Series(
                    pd.Categorical(code.map(opts), categories=list(dict.fromkeys(opts.values()))),
                    index=raw.index,
                )
            elif _codes_dtype(list(opts)):
                out[col] = pd.to_numeric(code, errors="coerce").astype("Int64")
            else:
                out[col] = code.astype("str")
        else:
            values, bad = _typed(text, blank, kind, info.get("validation", ""))
            out[col] = values
        if bad.any():
            # rows as a spreadsheet shows the export (header row 1); never the values or
            # record ids, which belong in REDCap, not in logs
            n_bad = int(bad.sum())
            rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad)[:_MAX_SHOWN])
            more = f" and {n_bad - _MAX_SHOWN} more" if n_bad > _MAX_SHOWN else ""
            shown = f"{n_bad} {'row' if n_bad == 1 else 'rows'} ({rows}{more})"
            allowed = ""
            if kind == "choice":
                allowed = f"; allowed {_ALLOWED[export]}: {_describe(info['choices'])}"
            elif kind == "checkbox":
                allowed = f"; allowed: {'/'.join(_CHECKBOX[export])}"
            problems.append(f"{col}: {shown}{allowed}")
    if problems:
        raise DataError(
            f"REDCap records ({export} export) have values that do not fit the data dictionary "
            "(rows of the file, the header being row 1):\n  "
            + "\n  ".join(problems)
            + "\nCorrect them in REDCap (or the file) and export again; nothing was changed."
        )
    df = pd.DataFrame(out, index=raw.index)
    df.attrs["choices"] = choices_all
    df.attrs["forms"] = {c: f for c, f in form_of.items() if c in df.columns}
    df.attrs["export"] = export
    return df


_CHECKBOX: Mapping[str, Mapping[str, int]] = {
    "raw": {"1": 1, "0": 0},
    "labels": {"Checked": 1, "Unchecked": 0},
}
_STATUS: Mapping[str, frozenset[str]] = {
    "raw": frozenset(_COMPLETE),
    "labels": frozenset(_COMPLETE.values()),
}
_ALLOWED = {"raw": "codes", "labels": "labels (code = label)"}


def _export_kind(
    raw: pd.DataFrame, kinds: Mapping[str, tuple[str, Mapping[str, Any]]], export: str
) -> str:
    """``"raw"`` or ``"labels"`` for the whole file: as told, or from its marker columns.

    Checkbox columns (1/0 vs Checked/Unchecked) and form status columns (0/1/2 vs
    Incomplete/Unverified/Complete) hold disjoint values in the two exports, so they say
    which export a file is; choice fields cannot, since their labels may be numbers.
    """
    if export != "auto":
        return export
    found: dict[str, list[str]] = {"raw": [], "labels": []}
    for col, (kind, info) in kinds.items():
        if kind == "checkbox":
            sets = {k: frozenset(v) for k, v in _CHECKBOX.items()}
        elif info.get("status"):
            sets = dict(_STATUS)
        else:
            continue
        cells = set(raw[col].astype("str").str.strip()) - {""}
        for name, values in sets.items():
            if cells & values:
                found[name].append(col)
    if found["raw"] and found["labels"]:
        raise DataError(
            "the records mix a raw export's codes (in "
            f"{found['raw'][:_MAX_SHOWN]}) and a labels export's words (in "
            f"{found['labels'][:_MAX_SHOWN]}); export the records again as one file"
        )
    if found["raw"] or found["labels"]:
        return "raw" if found["raw"] else "labels"
    answered = [
        c
        for c, (k, _) in kinds.items()
        if k == "choice" and (raw[c].astype("str").str.strip() != "").any()
    ]
    if not answered:
        return "raw"  # no codes or labels to read: both readings agree
    raise DataError(
        "cannot tell a raw export from a labels export: the records have no checkbox or "
        "<form>_complete values; pass export='raw' (\"CSV (raw data)\") or export='labels' "
        '("CSV (labels)")'
    )


def _describe(opts: Mapping[str, str]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in opts.items())


def _is_dictionary(obj: Any) -> bool:
    return isinstance(obj, pd.DataFrame) and {"field_name", "form_name", "field_type"} <= set(
        obj.columns
    )


def _typed(
    text: pd.Series, blank: pd.Series, kind: str, validation: str
) -> tuple[pd.Series, pd.Series]:
    if kind == "calc" or validation.startswith("number"):
        values = pd.to_numeric(text.where(~blank), errors="coerce")
        return values.astype("float64"), ~blank & values.isna()
    if kind == "slider" or validation == "integer":
        ok = text.str.fullmatch(r"[+-]?\d+")
        values = pd.to_numeric(text.where(~blank & ok), errors="coerce").astype("Int64")
        return values, ~blank & ~ok
    if validation.startswith("date"):
        fmt = "%Y-%m-%d" if not validation.startswith("datetime") else "ISO8601"
        values = pd.to_datetime(text.where(~blank), format=fmt, errors="coerce")
        return values.astype("datetime64[us]"), ~blank & values.isna()
    if validation.startswith("datetime"):
        values = pd.to_datetime(text.where(~blank), format="ISO8601", errors="coerce")
        return values.astype("datetime64[us]"), ~blank & values.isna()
    return text.where(~blank).astype("str"), pd.Series(False, index=text.index)


@dataclass(frozen=True)
class RedcapMapping:
    """Which REDCap column holds which instrument item (see the module docs for the file).

    Attributes
    ----------
    items
        ``{instrument item id: REDCap column}``, e.g. ``{"brs_1": "brs_q1"}``; a checkbox
        option is named by its export column (``"aces___1"``).
    events
        ``{redcap_event_name: wave}``; empty when the project is not longitudinal.
    id_column
        Name given to the record id column in the output (``None`` keeps REDCap's).
    opt_out
        ``{checkbox field: codes of its opt-out options}``, e.g. ``{"aces": ("99",)}``: a
        record that ticks one of them has the field's unticked options missing.
    """

    items: Mapping[str, str]
    events: Mapping[str, str] = field(default_factory=dict)
    id_column: str | None = None
    opt_out: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("items", "events"):
            value = getattr(self, name)
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise DataError(f"RedcapMapping.{name} must map names to names (strings)")
            object.__setattr__(self, name, MappingProxyType(dict(value)))
        opt_out: dict[str, tuple[str, ...]] = {}
        for fld, codes in dict(self.opt_out).items():
            # TOML writes codes as numbers (99) or text ("99"); REDCap's are text
            ok = isinstance(codes, list | tuple) and all(
                isinstance(c, str) or (isinstance(c, int) and not isinstance(c, bool))
                for c in codes
            )
            if not isinstance(fld, str) or not ok or not codes:
                raise DataError(
                    f"opt_out of checkbox field {fld!r} must be a non-empty list of option "
                    'codes, e.g. opt_out = ["99"]'
                )
            opt_out[fld] = tuple(str(c).strip() for c in codes)
        object.__setattr__(self, "opt_out", MappingProxyType(opt_out))
        if not self.items:
            raise DataError("RedcapMapping.items is empty: map at least one item to a field")
        targets = list(self.items.values())
        dup = sorted({t for t in targets if targets.count(t) > 1})
        if dup:
            raise DataError(f"REDCap column(s) {dup} are mapped to more than one item")

    def to_frame(self) -> pd.DataFrame:
        """One row per item: ``item`` and the REDCap ``column``."""
        return pd.DataFrame({"item": list(self.items), "column": list(self.items.values())})

    def _repr_html_(self) -> str:
        return "<p><b>REDCap mapping</b></p>" + self.to_frame().to_html(index=False)


def read_mapping(path: str | Path) -> RedcapMapping:
    r"""Read a TOML mapping file (``[items]``, optional ``[events]`` and ``id_column``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = pathlib.Path(d) / "map.toml"
    ...     _ = f.write_text('[items]\nbrs_1 = "resil_1"\n')
    ...     read_mapping(f).items["brs_1"]
    'resil_1'
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(raw) - {"items", "events", "id_column", "checkboxes"})
    if unknown:
        raise DataError(
            f"{path}: unknown key(s) {unknown}; a mapping file has [items], [events], "
            "[checkboxes.<field>] and id_column"
        )
    opt_out = {}
    for fld, table in raw.get("checkboxes", {}).items():
        if not isinstance(table, dict) or set(table) - {"opt_out"}:
            raise DataError(
                f'{path}: [checkboxes.{fld}] may hold only opt_out = [codes], e.g. opt_out = ["99"]'
            )
        if "opt_out" in table:
            opt_out[fld] = table["opt_out"]
    if "items" not in raw:
        raise DataError(f"{path} has no [items] table (item id = REDCap column)")
    id_column = raw.get("id_column")
    if id_column is not None and not isinstance(id_column, str):
        raise DataError(f"{path}: id_column must be a string, got {id_column!r}")
    return RedcapMapping(
        items=raw["items"], events=raw.get("events", {}), id_column=id_column, opt_out=opt_out
    )


def to_items(
    records: pd.DataFrame,
    mapping: RedcapMapping,
    *,
    incomplete: Literal["missing", "keep"] = "missing",
) -> pd.DataFrame:
    """Rename mapped REDCap columns to instrument item ids (codes, ready for scoring).

    Parameters
    ----------
    records
        Output of :func:`read_records` (codes, not labels).
    mapping
        :class:`RedcapMapping` or the result of :func:`read_mapping`. Its ``opt_out``
        options make the unticked options of their checkbox field missing in the records
        that tick one (see the module docs).
    incomplete
        ``"missing"`` (default): items of a form whose ``<form>_complete`` is 0 (Incomplete)
        in a record are missing there, since REDCap exports the checkbox options of a form
        never filled in as 0. Unverified (1) and Complete (2) are kept. This needs the form
        of each column, which :func:`read_records` records in ``records.attrs["forms"]``.
        ``"keep"``: keep the exported values.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``records`` (same rows, same order): the record id (renamed to
        ``mapping.id_column``), ``redcap_event_name`` and ``wave`` when present/mapped, and
        one column per item, in mapping order.

    Examples
    --------
    >>> rec = pd.DataFrame({"record_id": ["1", "1"],
    ...                     "redcap_event_name": ["baseline_arm_1", "6_month_arm_1"],
    ...                     "resil_1": pd.array([4, 5], dtype="Int64")})
    >>> m = RedcapMapping(items={"brs_1": "resil_1"}, id_column="youth_id",
    ...                   events={"baseline_arm_1": "baseline", "6_month_arm_1": "6m"})
    >>> to_items(rec, m)
      youth_id redcap_event_name      wave  brs_1
    0        1    baseline_arm_1  baseline      4
    1        1     6_month_arm_1        6m      5

    A record that ticks only the opt-out option has its items missing, not 0:

    >>> rec = pd.DataFrame({"record_id": ["1", "2"],
    ...                     "aces___1": pd.array([1, 0], dtype="Int64"),
    ...                     "aces___99": pd.array([0, 1], dtype="Int64")})
    >>> to_items(rec, RedcapMapping(items={"ace10_1": "aces___1"}, opt_out={"aces": ["99"]}))
      record_id  ace10_1
    0         1        1
    1         2     <NA>
    """
    if not isinstance(mapping, RedcapMapping):
        raise DataError(f"mapping must be a RedcapMapping, got {type(mapping).__name__}")
    if incomplete not in ("missing", "keep"):
        raise DataError(f"incomplete must be 'missing' or 'keep', got {incomplete!r}")
    missing = [f"{item} <- {col}" for item, col in mapping.items.items() if col not in records]
    if missing:
        raise DataError(
            f"mapped REDCap column(s) not in the records: {missing}; check the spelling in the "
            "mapping file (checkbox options are named field___code)"
        )
    labelled = [
        c for c in mapping.items.values() if isinstance(records[c].dtype, pd.CategoricalDtype)
    ]
    if labelled:
        raise DataError(
            f"column(s) {labelled} hold labels; read the records with labels=False to map codes"
        )
    record_id = records.columns[0]
    out = pd.DataFrame(index=records.index)
    out[mapping.id_column or record_id] = records[record_id]
    if "redcap_event_name" in records.columns:
        out["redcap_event_name"] = records["redcap_event_name"]
        if mapping.events:
            ev = records["redcap_event_name"]
            unmapped = sorted(set(ev.dropna()) - set(mapping.events))
            if unmapped:
                raise DataError(
                    f"events {unmapped} are not in the mapping's [events]; add them (a wave "
                    "name for each) or filter the records before mapping"
                )
            out["wave"] = ev.map(dict(mapping.events)).astype("str")
    elif mapping.events:
        raise DataError("the mapping has [events] but the records have no redcap_event_name")
    dropped = _opted_out(records, mapping)
    if incomplete == "missing":
        dropped = _incomplete(records, mapping, dropped)
    for item, col in mapping.items.items():
        values = records[col]
        out[item] = values.mask(dropped[col]) if col in dropped else values
    return out


def _opted_out(records: pd.DataFrame, mapping: RedcapMapping) -> dict[str, pd.Series]:
    """Per mapped column, the rows where an opt-out option of its checkbox field is ticked."""
    choices = records.attrs.get("choices", {})
    masks: dict[str, pd.Series] = {}
    for fld, codes in mapping.opt_out.items():
        if fld in choices:
            absent = [c for c in codes if c not in choices[fld]]
            if absent:
                raise DataError(
                    f"opt_out of {fld}: the data dictionary gives the field no option "
                    f"{absent}; its options are {list(choices[fld])}"
                )
        columns = [checkbox_column(fld, c) for c in codes]
        missing = [c for c in columns if c not in records.columns]
        if missing:
            raise DataError(
                f"opt_out of {fld}: the records have no column {missing}; name a checkbox "
                "field and the codes of its opt-out options (the column is field___code)"
            )
        ticked = (records[columns] == 1).any(axis=1).fillna(False).astype(bool)
        options = (
            [checkbox_column(fld, c) for c in choices[fld]]
            if fld in choices
            else [c for c in records.columns if c.startswith(f"{fld}___")]
        )
        for col in set(options) - set(columns):
            # a ticked option is an answer; an unticked one is unknown once the person
            # declined to say
            masks[col] = ticked & (records[col] == 0).fillna(False).astype(bool)
    return masks


def _incomplete(
    records: pd.DataFrame, mapping: RedcapMapping, masks: dict[str, pd.Series]
) -> dict[str, pd.Series]:
    """Add the rows whose form status is 0 (Incomplete) to each mapped column's mask."""
    forms = records.attrs.get("forms", {})
    out = dict(masks)
    for col in mapping.items.values():
        status = f"{forms[col]}_complete" if col in forms else None
        if status is None or status not in records.columns:
            continue
        values = records[status]
        if isinstance(values.dtype, pd.CategoricalDtype):  # read with labels=True
            zero = (values.astype("object") == _COMPLETE["0"]).fillna(False).astype(bool)
        else:
            zero = (pd.to_numeric(values, errors="coerce") == 0).fillna(False).astype(bool)
        out[col] = out[col] | zero if col in out else zero
    return out


def read_redcap(
    records: str | Path,
    dictionary: str | Path,
    mapping: str | Path | RedcapMapping | None = None,
    *,
    labels: bool = False,
    export: Literal["auto", "raw", "labels"] = "auto",
    incomplete: Literal["missing", "keep"] = "missing",
) -> pd.DataFrame:
    """Read a REDCap export with its data dictionary, optionally mapped to instrument items.

    Parameters
    ----------
    records, dictionary
        The records CSV (raw or labels export) and the data dictionary CSV.
    mapping
        A TOML mapping file or :class:`RedcapMapping`; when given, the result is
        :func:`to_items` of the records (codes).
    labels
        Without a mapping: return choice labels instead of codes (see :func:`read_records`).
    export
        ``"auto"`` (default), ``"raw"`` or ``"labels"``: which export the records file is
        (see :func:`read_records`).
    incomplete
        With a mapping: ``"missing"`` (default) or ``"keep"`` the items of forms marked
        Incomplete (see :func:`to_items`).

    Returns
    -------
    pandas.DataFrame
    """
    if mapping is not None and labels:
        raise DataError("labels=True cannot be combined with a mapping: items need codes")
    data = read_records(records, dictionary, labels=labels, export=export)
    if mapping is None:
        return data
    if not isinstance(mapping, RedcapMapping):
        mapping = read_mapping(mapping)
    return to_items(data, mapping, incomplete=incomplete)
