"""Read and write data files: CSV, Excel, SPSS, Stata and Parquet.

- :func:`read_table` reads one file into a DataFrame.

Program data packages (a folder of tables with a ``datapackage.json``) are read and written by
:mod:`tim_research.program`; REDCap exports by :mod:`tim_research.io.redcap`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from tim_research.errors import DataError

__all__ = ["READERS", "read_table"]

READERS: tuple[str, ...] = (".csv", ".xlsx", ".xlsm", ".sav", ".zsav", ".dta", ".parquet")
"""File suffixes :func:`read_table` understands."""


# --------------------------------------------------------------------------- read_table


def read_table(
    path: str | Path,
    *,
    sheet: int | str = 0,
    value_labels: str = "categorical",
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
        are read as missing; numeric columns stored with no decimals become ``Int64``.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = pathlib.Path(d) / "x.csv"
    ...     _ = f.write_text("youth_id,brs_1\nY0001,4\n")
    ...     read_table(f)
      youth_id  brs_1
    0    Y0001      4
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
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return pd.read_excel(path, sheet_name=sheet)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    return _read_stat(path, suffix, value_labels)


def _read_stat(path: Path, suffix: str, value_labels: str) -> pd.DataFrame:
    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    df, meta = reader(
        str(path), user_missing=False, apply_value_formats=False, dates_as_pandas_datetime=True
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
    return df
