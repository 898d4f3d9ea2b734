"""Read and write data files: CSV, Excel, SPSS, Stata and Parquet.

- :func:`read_table` reads one file into a DataFrame.
- :func:`write_table` writes one DataFrame to a file, all or nothing.

Program data packages (a folder of tables with a ``datapackage.json``) are read and written by
:mod:`tim_research.program`; REDCap exports by :mod:`tim_research.io.redcap`.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from tim_research.errors import DataError

__all__ = ["READERS", "WRITERS", "read_table", "write_table"]

READERS: tuple[str, ...] = (".csv", ".xlsx", ".xlsm", ".sav", ".zsav", ".dta", ".parquet")
"""File suffixes :func:`read_table` understands."""

WRITERS: tuple[str, ...] = (".csv", ".xlsx", ".parquet", ".sav", ".dta")
"""File suffixes :func:`write_table` writes."""


# --------------------------------------------------------------------------- read_table


def read_table(
    path: str | Path,
    *,
    sheet: int | str = 0,
    value_labels: str = "categorical",
    text: Sequence[str] | bool = (),
    user_missing: bool = False,
) -> pd.DataFrame:
    r"""Read one table from a CSV, Excel, SPSS, Stata or Parquet file.

    Parameters
    ----------
    path
        File ending in ``.csv``, ``.xlsx``/``.xlsm``, ``.sav``/``.zsav`` (SPSS), ``.dta``
        (Stata) or ``.parquet``.
    sheet
        Excel sheet name or position.
    value_labels
        SPSS/Stata only. ``"categorical"`` (default): a column whose every value carries a
        value label becomes a categorical of the labels, in code order; other labelled columns
        keep their codes. ``"codes"``: keep all codes. In both cases the label sets are in
        ``df.attrs["value_labels"]`` and variable labels in ``df.attrs["column_labels"]``.
        User-defined missing values (SPSS) and extended missing values ``.a``-``.z`` (Stata)
        are read as missing (see ``user_missing``); numeric columns stored with no decimals
        become ``Int64``. The display formats are in ``df.attrs["variable_formats"]`` and,
        for SPSS, the measures and display widths in ``df.attrs["variable_measure"]`` and
        ``df.attrs["variable_display_width"]``: :func:`write_table` given
        ``metadata=df.attrs`` writes them back.
    text
        CSV and Excel only: columns read as text, as written in the file, so that ids such as
        ``007`` or ``1e3`` keep their spelling. Names absent from the file are ignored.
        ``True``: every CSV cell as text, an empty cell as ``""`` (nothing is reinterpreted,
        so a table can be copied unchanged); for Excel, every column as text.
    user_missing
        SPSS/Stata only. True: user-defined missing values are read as what they are (SPSS
        ``99`` stays 99; Stata ``.a``-``.z`` become the letters ``"a"``-``"z"``), with their
        definitions in ``df.attrs["missing_ranges"]`` (SPSS) and
        ``df.attrs["missing_user_values"]`` (Stata), so that a file can be copied unchanged.

    Returns
    -------
    pandas.DataFrame
        For CSV files, ``df.attrs["encoding"]`` (``"utf-8"``, ``"utf-8-sig"`` for UTF-8 with
        a byte order mark, ``"cp1252"`` or ``"latin-1"``) and ``df.attrs["delimiter"]``
        (``","``, ``";"`` or ``"\t"``) record how the file was read.

    Raises
    ------
    DataError
        The file is empty, a CSV or Excel header names a column twice, a CSV row has more or
        fewer fields than the header, or the file cannot be parsed as its suffix says.
    FileNotFoundError
        There is no such file.

    Notes
    -----
    The encoding is found by trying UTF-8 (with or without a byte order mark), then Windows
    cp1252 (what Excel on Windows writes as "CSV"), then latin-1, which decodes any bytes.
    Real exports come in these few encodings, and trying them in order is exact for UTF-8
    and needs no statistical guess or extra dependency. The delimiter is the one of comma,
    semicolon and tab that :class:`csv.Sniffer` finds consistent over the first lines (comma
    when the file has one column).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = pathlib.Path(d) / "x.csv"
    ...     _ = f.write_text("youth_id,brs_1\nY0001,4\n")
    ...     read_table(f)
      youth_id  brs_1
    0    Y0001      4

    A semicolon-delimited Windows export, with ids read as text:

    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = pathlib.Path(d) / "x.csv"
    ...     _ = f.write_bytes("rid;site;brs_1\n007;Bogot\xe1;4\n".encode("cp1252"))
    ...     df = read_table(f, text=["rid"])
    ...     df["rid"].tolist(), df.attrs["encoding"], df.attrs["delimiter"]
    (['007'], 'cp1252', ';')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if value_labels not in ("categorical", "codes"):
        raise DataError(f"value_labels must be 'categorical' or 'codes', got {value_labels!r}")
    if suffix not in READERS:
        raise DataError(
            f"cannot read {path.name!r}: unknown file type {suffix or '(no suffix)'!r}; "
            f"read_table understands {', '.join(READERS)}. Save the data in one of those "
            "formats (e.g. CSV)."
        )
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if path.stat().st_size == 0:
        raise DataError(f"{path.name} is empty (0 bytes); export the data again")
    if suffix == ".csv":
        return _read_csv(path, text)
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _read_excel(path, sheet, text)
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
            # a pandas index stored in the file comes back as columns: files carry no index
            named = any(name is not None for name in frame.index.names)
            return frame.reset_index() if named else frame
        return _read_stat(path, suffix, value_labels, user_missing)
    except DataError:
        raise
    except (ValueError, OSError, pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        # the parsers' own words say what is wrong (damaged file, wrong format) but not
        # which file: add it, and keep only the first line of a long parser message
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"cannot read {path.name} as a {suffix} file ({reason}); is it damaged, or saved "
            "in another format?"
        ) from exc


def _decode(raw: bytes) -> tuple[str, str]:
    """The text of a file and the encoding it was decoded with (see read_table's Notes)."""
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return "utf-8-sig", raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "cp1252"):
        try:
            return encoding, raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return "latin-1", raw.decode("latin-1")


def _delimiter(content: str) -> str:
    """Comma, semicolon or tab: the one consistent over the first lines of ``content``."""
    lines = content[:65536].splitlines()[:20]
    header = lines[0] if lines else ""
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t").delimiter
    except csv.Error:
        found = ""
    if found and found in header:
        return found
    # one column, or lines too ragged for the sniffer: the candidate most used in the header
    counts = {d: header.count(d) for d in ",;\t"}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _duplicated(header: Sequence[object], name: str) -> None:
    seen: set[str] = set()
    for position, col in enumerate(header, start=1):
        label = str(col)
        if label in seen:
            raise DataError(
                f"{name}: the header names column {label!r} twice (again in column {position}); "
                "rename one of them so each column has its own name"
            )
        seen.add(label)


def _read_csv(path: Path, text: Sequence[str] | bool) -> pd.DataFrame:
    encoding, content = _decode(path.read_bytes())
    if not content.strip():
        raise DataError(f"{path.name} is empty: it has no header row; export the data again")
    delimiter = _delimiter(content)
    rows = csv.reader(io.StringIO(content), delimiter=delimiter)
    header = next(rows)
    _duplicated(header, path.name)
    # pandas pads short rows with missing values and shifts long ones into the index; both
    # mean a stray or missing delimiter, so refuse and name the rows as a spreadsheet does
    ragged = [n for n, row in enumerate(rows, start=2) if row and len(row) != len(header)]
    if ragged:
        rows_text = ", ".join(map(str, ragged[:5]))
        if len(ragged) > 5:
            rows_text += f" and {len(ragged) - 5} more"
        noun, verb = ("rows", "have") if len(ragged) > 1 else ("row", "has")
        raise DataError(
            f"{path.name}: {noun} {rows_text} (the header is row 1) {verb} a different number "
            f"of fields than the header's {len(header)}; check for a stray or missing "
            f"{_DELIMITER_NAMES[delimiter]} or an unclosed quote"
        )
    if text is True:
        frame = pd.read_csv(io.StringIO(content), sep=delimiter, dtype=str, keep_default_na=False)
    else:
        wanted = {col: str for col in text or () if col in header}
        frame = pd.read_csv(io.StringIO(content), sep=delimiter, dtype=wanted or None)
    frame.attrs["encoding"] = encoding
    frame.attrs["delimiter"] = delimiter
    return frame


_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def _read_excel(path: Path, sheet: int | str, text: Sequence[str] | bool) -> pd.DataFrame:
    header = pd.read_excel(path, sheet_name=sheet, header=None, nrows=1)
    names = header.iloc[0].tolist() if len(header) else []
    _duplicated(names, path.name)
    if text is True:
        return pd.read_excel(path, sheet_name=sheet, dtype=str)
    wanted = {col: str for col in text or () if col in names}
    return pd.read_excel(path, sheet_name=sheet, dtype=wanted or None)


def _read_stat(path: Path, suffix: str, value_labels: str, user_missing: bool) -> pd.DataFrame:
    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    df, meta = reader(
        str(path),
        user_missing=user_missing,
        apply_value_formats=False,
        dates_as_pandas_datetime=True,
    )
    labels: dict[str, dict[Any, str]] = dict(meta.variable_value_labels)
    formats = dict(meta.original_variable_types)
    kinds = dict(getattr(meta, "readstat_variable_types", {}) or {})
    for col in df.columns:
        s = df[col]
        if not pd.api.types.is_float_dtype(s):
            continue
        whole = bool(np.all(np.isnan(s) | (s == np.round(s))))
        integer_storage = kinds.get(col) in ("int8", "int16", "int32")
        no_decimals = bool(re.fullmatch(r"[A-Z]+\d+(\.0)?", str(formats.get(col, ""))))
        if whole and (integer_storage or (suffix != ".dta" and no_decimals)):
            df[col] = s.astype("Int64")
    if value_labels == "categorical":
        for col, mapping in labels.items():
            if col not in df.columns or not mapping:
                continue
            codes = sorted(mapping)
            names = [str(mapping[c]) for c in codes]
            present = df[col].dropna().unique()
            if len(set(names)) != len(names) or not all(v in mapping for v in present):
                continue
            lookup = {c: str(mapping[c]) for c in codes}
            values = [lookup[v] if not pd.isna(v) else None for v in df[col].tolist()]
            df[col] = pd.Categorical(values, categories=names)
    df.attrs["value_labels"] = labels
    df.attrs["column_labels"] = dict(zip(meta.column_names, meta.column_labels, strict=True))
    df.attrs["variable_formats"] = formats
    if suffix != ".dta":
        df.attrs["variable_measure"] = dict(getattr(meta, "variable_measure", {}) or {})
        df.attrs["variable_display_width"] = dict(getattr(meta, "variable_display_width", {}) or {})
    if user_missing:
        if suffix == ".dta":
            df.attrs["missing_user_values"] = dict(meta.missing_user_values or {})
        else:
            df.attrs["missing_ranges"] = dict(meta.missing_ranges or {})
    return df


# --------------------------------------------------------------------------- write_table

_NAME_LIMITS = {".dta": 32, ".sav": 64}
_STATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def write_table(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    index: bool | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    r"""Write a table to a CSV, Excel, Parquet, SPSS or Stata file, all or nothing.

    The table is written to a temporary file in the target's folder, which then replaces the
    target in one step (:func:`os.replace`). A failed write (disk full, file size limit, a
    name the format refuses) leaves an existing target as it was and no temporary file.

    Parameters
    ----------
    frame
        The table. Categorical columns are written as their labels in SPSS and Stata files.
    path
        File ending in ``.csv``, ``.xlsx``, ``.parquet``, ``.sav`` or ``.dta``; missing folders
        are created. An existing file keeps its permissions.
    index
        Write the index as column(s). Default: when the index has a name (such as an id column
        set with ``set_index``); a default unnamed index is not written.
    metadata
        SPSS/Stata only (ignored for other formats): the labels and definitions to write,
        keyed as :func:`read_table` records them in ``df.attrs``: ``value_labels``,
        ``column_labels``, ``variable_formats``, ``missing_ranges`` and, for SPSS,
        ``variable_measure`` and ``variable_display_width``; for Stata
        ``missing_user_values``. Pass ``metadata=df.attrs`` to write a file read with
        ``value_labels="codes", user_missing=True`` back with its labels. Entries for
        columns not in the table are ignored, and so are value labels, missing values and
        formats of categorical columns, which are written as their label text.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    DataError
        Unknown suffix; a file where a folder of ``path`` should be; duplicated column
        names; for ``.dta`` a column name longer than
        Stata's 32 characters or with characters Stata refuses; for ``.sav`` a name longer
        than SPSS's 64 bytes. These are checked before anything is written.
    OSError
        The folder cannot be written, or the disk is full; the target is unchanged.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = write_table(pd.DataFrame({"brs_score": [3.5]}, index=pd.Index(["007"], name="rid")),
    ...                     pathlib.Path(d) / "scores.csv")
    ...     f.read_text(), sorted(p.name for p in f.parent.iterdir())
    ('rid,brs_score\n007,3.5\n', ['scores.csv'])
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITERS:
        raise DataError(
            f"cannot write {path.name!r}: unknown file type {suffix or '(no suffix)'!r}; "
            f"write_table writes {', '.join(WRITERS)}"
        )
    if index is None:
        index = any(name is not None for name in frame.index.names)
    flat = frame.reset_index() if index else frame.reset_index(drop=True)
    _check_names(flat, path.name, suffix)
    # Parquet keeps a named index as columns plus pandas metadata, so pandas restores it
    write = _writer(frame if index and suffix == ".parquet" else flat, suffix, metadata)
    existing = next(p for p in path.absolute().parents if p.exists())
    if not existing.is_dir():
        raise DataError(f"cannot write {path.name}: {existing} is a file, not a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path)
    # the temporary file keeps the suffix, since pandas picks the Excel engine by it
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{suffix}"
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(str(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _check_names(flat: pd.DataFrame, name: str, suffix: str) -> None:
    labels = [str(c) for c in flat.columns]
    _duplicated(labels, f"cannot write {name}")
    limit = _NAME_LIMITS.get(suffix)
    if limit is None:
        return
    fmt = "Stata" if suffix == ".dta" else "SPSS"
    for col in labels:
        size = len(col) if suffix == ".dta" else len(col.encode("utf-8"))
        if size > limit:
            raise DataError(
                f"cannot write {name}: {fmt} allows column names of up to {limit} "
                f"{'characters' if suffix == '.dta' else 'bytes'}, and {col!r} has {size}; "
                "rename the column, or write .csv or .parquet, which have no such limit"
            )
        if suffix == ".dta" and not _STATA_NAME.fullmatch(col):
            raise DataError(
                f"cannot write {name}: Stata column names hold only letters, digits and _ and "
                f"do not start with a digit, and {col!r} does not; rename the column, or write "
                ".csv or .parquet"
            )


_STAT_METADATA = {
    ".sav": {
        "value_labels": "variable_value_labels",
        "column_labels": "column_labels",
        "variable_formats": "variable_format",
        "missing_ranges": "missing_ranges",
        "variable_measure": "variable_measure",
        "variable_display_width": "variable_display_width",
    },
    ".dta": {
        "value_labels": "variable_value_labels",
        "column_labels": "column_labels",
        "variable_formats": "variable_format",
        "missing_user_values": "missing_user_values",
    },
}
_TEXT_SAFE = frozenset({"column_labels"})  # what a categorical (written as text) keeps


def _stat_keywords(
    flat: pd.DataFrame, suffix: str, metadata: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Keyword arguments of pyreadstat's writers: the metadata of the columns ``flat`` has."""
    if not metadata:
        return {}
    categorical = {c for c in flat.columns if isinstance(flat[c].dtype, pd.CategoricalDtype)}
    out: dict[str, Any] = {}
    for key, keyword in _STAT_METADATA[suffix].items():
        given = metadata.get(key) or {}
        kept = {
            str(c): v
            for c, v in dict(given).items()
            if c in flat.columns
            and v not in (None, {}, [])
            and (key in _TEXT_SAFE or c not in categorical)
        }
        if kept:
            out[keyword] = kept
    return out


def _writer(
    flat: pd.DataFrame, suffix: str, metadata: Mapping[str, Any] | None = None
) -> Callable[[str], None]:
    if suffix == ".csv":
        return lambda target: flat.to_csv(target, index=False)
    if suffix == ".xlsx":
        return lambda target: flat.to_excel(target, index=False)
    if suffix == ".parquet":
        return lambda target: flat.to_parquet(
            target, index=any(name is not None for name in flat.index.names)
        )
    labelled = flat.copy()
    for col in labelled.columns:
        if isinstance(labelled[col].dtype, pd.CategoricalDtype):
            # SPSS and Stata files hold codes or text; the labels are what readers want
            labelled[col] = labelled[col].astype(object)
    keywords = _stat_keywords(flat, suffix, metadata)
    if suffix == ".sav":
        return lambda target: pyreadstat.write_sav(labelled, target, **keywords)
    return lambda target: pyreadstat.write_dta(labelled, target, **keywords)


def _mode_for(path: Path) -> int:
    """Permissions for the new file: the existing file's, else what the umask gives."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
