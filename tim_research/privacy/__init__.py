"""Privacy safeguards for data about children and trauma.

- :func:`pseudonymise` replaces ids with keyed pseudonyms (HMAC-SHA256). The key comes from the
  caller, a key file or an environment variable, never from the code or the data;
  :func:`make_key_file` writes a new random key readable only by its owner.
  :func:`pseudonymise_file` does the same for the id columns of a data file.
- :func:`find_identifiers` flags columns that look like *direct* identifiers (names, emails,
  phone numbers, postal addresses, postcodes, dates of birth, free-text notes, external record
  numbers) by their name and by their content; :func:`check_no_identifiers` raises on them
  unless they are allowed explicitly.
- :func:`suppress` masks small counts in a table (primary suppression) and enough other cells
  that the masked ones cannot be worked out from the totals (complementary suppression);
  :func:`suppression_mask` returns the boolean mask.
- :func:`k_anonymity` measures how many people share each combination of quasi-identifiers,
  and :func:`safe_person_table` guards person-level tables in notebooks.

Direct identifiers versus study ids: a *direct identifier* points to a person outside the study
(a name, an email address, an NHS, social security, Medicaid or case number issued by an
agency). A *pseudonymous study id* such as ``youth_id = "Y0001"`` or ``mentor_id = "M003"`` is
assigned by the program and means nothing without the program's own lookup table, so it is not
flagged. Messages from this module name columns and say why they were flagged, but never print
the values of those columns.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import os
import re
import secrets
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from tim_research._checks import check_min_cell
from tim_research.errors import (
    DataError,
    IdentifierError,
    IdentifierWarning,
    ReidentificationRiskWarning,
    SmallCellWarning,
)
from tim_research.io import read_table, write_table

__all__ = [
    "DEFAULT_KEY_ENV",
    "KAnonymity",
    "check_no_identifiers",
    "find_identifiers",
    "k_anonymity",
    "make_key_file",
    "pseudonymise",
    "pseudonymise_file",
    "safe_person_table",
    "suppress",
    "suppression_mask",
]

DEFAULT_KEY_ENV = "TIM_PSEUDONYM_KEY"
"""Environment variable read for the pseudonym key when no key is passed."""

MIN_KEY_BYTES = 16
_MAX_SHOWN = 8


def _show(items: Iterable[object]) -> str:
    items = list(items)
    text = ", ".join(repr(x) for x in items[:_MAX_SHOWN])
    if len(items) > _MAX_SHOWN:
        text += f" and {len(items) - _MAX_SHOWN} more"
    return text


def _positions(rows: Iterable[int]) -> str:
    """Rows by position for a message (labels can be ids or free text, never shown)."""
    rows = [int(r) for r in rows]
    text = ", ".join(str(r + 1) for r in rows[:_MAX_SHOWN])
    if len(rows) > _MAX_SHOWN:
        text += f" and {len(rows) - _MAX_SHOWN} more"
    return f"rows {text} by position, counted from 1"


def _names(columns: Any, what: str) -> list[str]:
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    try:
        return [str(c) for c in columns]
    except TypeError as exc:
        raise DataError(f"{what} must be a column name or a list of them, got {columns!r}") from exc


# --------------------------------------------------------------------------- pseudonyms


_KEY_HELP = (
    "Create a key once with tim_research.privacy.make_key_file('~/.tim/pseudonym.key') and pass "
    "key_file=... (or set {env}_FILE to its path), or set the environment variable {env} to a "
    'secret of at least 16 characters, e.g. `export {env}=$(python -c "import secrets; '
    'print(secrets.token_hex(32))")`. Keep the key outside the project folder and never commit '
    "it: the same key gives the same pseudonyms, and without it they cannot be linked back."
)


def _check_key_file_mode(path: Path) -> None:
    # a key others can read lets them undo every pseudonym made with it: refuse, don't warn
    if os.name != "posix":
        return
    mode = path.stat().st_mode
    if mode & 0o077:
        raise DataError(
            f"pseudonym key file {path} can be read or changed by other users (mode "
            f"{mode & 0o777:o}); restrict it with `chmod 600 {path}` and run again"
        )


def _key_from_file(path: str | os.PathLike[str], source: str) -> tuple[bytes, str]:
    p = Path(path).expanduser()
    if not p.is_file():
        raise DataError(
            f"pseudonym key file {p} ({source}) does not exist. Create it with "
            "tim_research.privacy.make_key_file(path), or point to the existing key file."
        )
    _check_key_file_mode(p)
    return p.read_bytes().strip(), f"key file {p}"


def _resolve_key(
    key: bytes | str | None, key_env: str | None, key_file: str | os.PathLike[str] | None
) -> bytes:
    """Key bytes from ``key``, else ``key_file``, else ``$key_env``, else ``$key_env_FILE``."""
    if key is not None and key_file is not None:
        raise DataError("pass either key or key_file, not both")
    if key is not None:
        if isinstance(key, str):
            material, source = key.strip().encode("utf-8"), "the key argument"
        elif isinstance(key, (bytes, bytearray)):
            material, source = bytes(key), "the key argument"
        else:
            raise DataError(f"key must be bytes or str, got {type(key).__name__}")
    elif key_file is not None:
        material, source = _key_from_file(key_file, "key_file")
    elif key_env and os.environ.get(key_env, "").strip():
        material, source = os.environ[key_env].strip().encode("utf-8"), f"${key_env}"
    elif key_env and os.environ.get(f"{key_env}_FILE", "").strip():
        material, source = _key_from_file(
            os.environ[f"{key_env}_FILE"].strip(), f"from ${key_env}_FILE"
        )
    else:
        env = key_env or DEFAULT_KEY_ENV
        raise DataError(
            "no pseudonym key is set (no key or key_file argument"
            + (f", ${key_env} and ${key_env}_FILE are unset" if key_env else "")
            + "). Pseudonyms are never made with a generated or built-in key. "
            + _KEY_HELP.format(env=env)
        )
    if len(material) < MIN_KEY_BYTES:
        raise DataError(
            f"the pseudonym key from {source} is {len(material)} bytes long; use at least "
            f"{MIN_KEY_BYTES} bytes (make_key_file writes 32 random bytes as 64 hex characters)"
        )
    return material


def _id_text(value: Any) -> str:
    """Canonical text of one id: integral numbers lose a trailing ``.0``, dates become ISO."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return str(int(f)) if f.is_integer() else repr(f)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def pseudonymise(
    ids: pd.Series | Sequence[Any],
    *,
    key: bytes | str | None = None,
    key_env: str | None = DEFAULT_KEY_ENV,
    key_file: str | os.PathLike[str] | None = None,
    prefix: str = "P",
    length: int = 12,
    alphabet: Literal["base32", "hex"] = "base32",
) -> pd.Series:
    """Replace ids by keyed pseudonyms (HMAC-SHA256), stable for one key.

    Each id is turned into text (integral numbers without ``.0``, so ``17`` and ``17.0`` give
    the same pseudonym; strings are used exactly as they are), hashed with HMAC-SHA256 under
    the key, encoded (lower-case base32 or hex), cut to ``length`` characters and prefixed.
    The same key always gives the same pseudonym, so files pseudonymised separately still
    link; without the key a pseudonym cannot be traced back or recomputed.

    Parameters
    ----------
    ids
        The ids (a Series, or a list). Missing values stay missing.
    key
        The secret, as bytes or text (at least 16 bytes). When not given, ``key_file`` is read;
        then the environment variable ``key_env`` (default ``TIM_PSEUDONYM_KEY``); then the file
        named by ``<key_env>_FILE``. Leading and trailing whitespace of text keys and key files
        is ignored. There is no default key: without one a :class:`DataError` says how to set it.
    key_env
        Name of the environment variable holding the key; ``None`` to not look there.
    key_file
        Path of a key file, e.g. written by :func:`make_key_file`.
    prefix
        Text put before each pseudonym.
    length
        Characters of the hash kept: 8 to 52 for base32 (5 bits each), 8 to 64 for hex.
    alphabet
        ``"base32"`` (default, a-z and 2-7) or ``"hex"``.

    Returns
    -------
    pandas.Series
        Pseudonyms with the index and name of ``ids``.

    Raises
    ------
    DataError
        No key, a key shorter than 16 bytes, or two different ids that would share a pseudonym
        (use a larger ``length``).

    Examples
    --------
    >>> ids = pd.Series(["Y0001", "Y0002", None, "Y0001"], index=[4, 2, 9, 7])
    >>> p = pseudonymise(ids, key="an example key, not a real one")
    >>> p.iloc[0] == p.iloc[3], p.iloc[0] != p.iloc[1], p.isna().tolist()
    (True, True, [False, False, True, False])
    >>> p.iloc[0][:1], len(p.iloc[0])
    ('P', 13)
    """
    if isinstance(ids, pd.DataFrame):
        raise DataError("ids must be one column (a Series), not a DataFrame")
    series = ids if isinstance(ids, pd.Series) else pd.Series(list(ids), dtype=object)
    if alphabet not in ("base32", "hex"):
        raise DataError(f"alphabet must be 'base32' or 'hex', got {alphabet!r}")
    limit = 52 if alphabet == "base32" else 64
    if (
        isinstance(length, bool)
        or not isinstance(length, (int, np.integer))
        or not (8 <= length <= limit)
    ):
        raise DataError(
            f"length must be a whole number from 8 to {limit} for {alphabet}, got {length!r}"
        )
    if not isinstance(prefix, str):
        raise DataError(f"prefix must be a string, got {type(prefix).__name__}")
    material = _resolve_key(key, key_env, key_file)

    missing = series.isna().to_numpy()
    cache: dict[str, str] = {}
    out = np.empty(len(series), dtype=object)
    for pos, (value, is_missing) in enumerate(zip(series.to_numpy(dtype=object), missing)):
        if is_missing:
            out[pos] = np.nan
            continue
        text = _id_text(value)
        code = cache.get(text)
        if code is None:
            digest = hmac.new(material, text.encode("utf-8"), hashlib.sha256).digest()
            if alphabet == "hex":
                body = digest.hex()
            else:
                body = base64.b32encode(digest).decode("ascii").rstrip("=").lower()
            code = prefix + body[:length]
            cache[text] = code
        out[pos] = code
    if len(set(cache.values())) < len(cache):
        raise DataError(
            f"two different ids got the same pseudonym at length={length}; pass a larger "
            "length (ids are not shown here)"
        )
    return pd.Series(out, index=series.index, name=series.name, dtype="str")


def make_key_file(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a new random pseudonym key to ``path``, readable and writable by its owner only.

    The key is 32 random bytes from :mod:`secrets`, written as 64 hex characters and a newline,
    in a file created with permissions ``0600`` (owner read/write; on Windows, where POSIX
    permissions do not apply, protect the folder instead). Keep it outside the project folder,
    back it up, and never commit it: the same key is needed to pseudonymise later data
    consistently, and a lost key cannot be recovered.

    Parameters
    ----------
    path
        File to create. Missing parent folders are created (mode ``0700``).
    overwrite
        Replace an existing file. Off by default, because replacing a key breaks the link
        between old and new pseudonyms.

    Returns
    -------
    pathlib.Path
        The key file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = make_key_file(pathlib.Path(d) / "pseudonym.key")
    ...     oct(f.stat().st_mode & 0o777), len(f.read_text().strip())
    ('0o600', 64)
    """
    p = Path(path).expanduser()
    if p.exists() and not overwrite:
        raise DataError(
            f"{p} already exists; it may hold the key of earlier pseudonyms. Pass overwrite=True "
            "only if you really mean to replace it."
        )
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = secrets.token_hex(32) + "\n"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if overwrite else os.O_EXCL)
    fd = os.open(p, flags, 0o600)
    try:
        os.write(fd, text.encode("ascii"))
    finally:
        os.close(fd)
    os.chmod(p, 0o600)
    return p


_WRITABLE = (".csv", ".xlsx", ".parquet", ".sav", ".dta")


def pseudonymise_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    columns: str | Sequence[str],
    key: bytes | str | None = None,
    key_env: str | None = DEFAULT_KEY_ENV,
    key_file: str | os.PathLike[str] | None = None,
    prefix: str = "P",
    length: int = 12,
) -> pd.DataFrame:
    r"""Copy a data file, replacing the values of id ``columns`` by pseudonyms.

    All files are read with :func:`tim_research.io.read_table`. CSV files are read as text
    (in the encoding and with the delimiter it finds) and written as UTF-8 with commas, so
    every other column is copied unchanged (ids such as ``007`` keep their leading zeros, an
    empty cell stays empty). SPSS and Stata files are read as codes with their user-defined
    missing values, and written back with the other columns' value labels, variable labels,
    display formats and missing-value definitions; written to the other of the two formats,
    they keep their value and variable labels, and user-defined missing values are missing.
    The output is written all or nothing by :func:`tim_research.io.write_table`. Column
    names and order are kept. After pseudonymising, the other columns are checked with
    :func:`find_identifiers` and an :class:`IdentifierWarning` names any that still look
    like direct identifiers.

    Parameters
    ----------
    src, dst
        Input file and output file (``.csv``, ``.xlsx``, ``.parquet``, ``.sav``, ``.dta``);
        ``dst`` must differ from ``src``.
    columns
        Column(s) to pseudonymise.
    key, key_env, key_file, prefix, length
        As in :func:`pseudonymise`.

    Returns
    -------
    pandas.DataFrame
        The table written to ``dst``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     src, dst = pathlib.Path(d) / "in.csv", pathlib.Path(d) / "out.csv"
    ...     _ = src.write_text("case_number,brs_1\n0071,4\n0072,\n")
    ...     out = pseudonymise_file(src, dst, columns="case_number", key="example key 0123456")
    ...     dst.read_text().count("007"), out["brs_1"].tolist()
    (0, ['4', ''])
    """
    src_p, dst_p = Path(src), Path(dst)
    names = _names(columns, "columns")
    if not names:
        raise DataError("columns: name at least one column to pseudonymise")
    if dst_p.suffix.lower() not in _WRITABLE:
        raise DataError(
            f"cannot write {dst_p.name!r}: the output must end in one of {', '.join(_WRITABLE)}"
        )
    if not src_p.is_file():
        raise FileNotFoundError(f"no such file: {src_p}")
    if dst_p.exists() and dst_p.resolve() == src_p.resolve():
        raise DataError(
            f"the output {dst_p} is the input file; write the pseudonymised copy elsewhere"
        )
    # resolve the key before reading any data, so a missing key fails fast
    _resolve_key(key, key_env, key_file)
    # read_table finds a CSV's encoding and delimiter and refuses duplicated headers and
    # ragged rows; text=True keeps every CSV cell as written
    family = {".sav": "spss", ".zsav": "spss", ".dta": "stata"}
    same = family.get(src_p.suffix.lower(), "") == family.get(dst_p.suffix.lower())
    # SPSS/Stata: codes rather than labels, and user-missing values as they are when the
    # output can define them again, so the other columns are copied as stored
    data = read_table(
        src_p,
        text=src_p.suffix.lower() == ".csv",
        value_labels="codes",
        user_missing=same,
    )
    missing = [c for c in names if c not in data.columns]
    if missing:
        raise DataError(
            f"{src_p.name} has no column {_show(missing)}; its columns are "
            f"{_show(map(str, data.columns))}"
        )
    out = data.copy()
    for col in names:
        ids = data[col]
        if src_p.suffix.lower() == ".csv":
            ids = ids.mask(ids == "")
        pseudo = pseudonymise(
            ids, key=key, key_env=key_env, key_file=key_file, prefix=prefix, length=length
        )
        if src_p.suffix.lower() == ".csv":
            pseudo = pseudo.fillna("")
        out[col] = pseudo
    found = find_identifiers(data.drop(columns=names))
    if not found.empty:
        warnings.warn(
            f"{dst_p.name}: other column(s) still look like direct identifiers: "
            + "; ".join(f"{c} ({r})" for c, r in zip(found["column"], found["reason"]))
            + ". Pseudonymise or drop them before sharing the file.",
            IdentifierWarning,
            stacklevel=2,
        )
    # one writer for the package: all or nothing, so a failed write keeps an older copy.
    # The pseudonymised columns are new text: their labels, formats and missing values
    # described the ids, so only their variable labels go with them.
    # Formats and missing-value definitions are the input format's own; another format
    # gets the labels only.
    keys = set(data.attrs) if same else {"value_labels", "column_labels"}
    metadata = {
        key: {c: v for c, v in dict(value).items() if key == "column_labels" or c not in names}
        for key, value in data.attrs.items()
        if isinstance(value, dict) and key in keys
    }
    write_table(out, dst_p, index=False, metadata=metadata)
    return out


# --------------------------------------------------------------------------- identifiers

_EXEMPT = frozenset(
    "count n has is flag missing len length nchar consent consented optin verified valid "
    "validated type status provided available known format domain changed source quality "
    "share pct percent prop".split()
)
_NUMBER = frozenset({"number", "no", "num", "nr", "nbr", "id", "ids"})
_NON_PERSON = frozenset(
    "site program programme school instrument scale item file variable var column field "
    "organisation organization org agency project study wave test measure event group team "
    "city county state country region district place street town sheet table dataset form "
    "survey activity course provider company employer service product brand device host "
    "server package model unit ward clinic hospital department dept role job position title "
    "category level tag code label sport club neighborhood neighbourhood community area zone "
    "location venue partner".split()
)
_PERSON_NAME_WORDS = frozenset(
    "name names surname surnames forename forenames firstname lastname fullname fname lname "
    "givenname familyname middlename nickname username maidenname initials".split()
)
_PERSON_PREFIX = frozenset(
    "first last full sur fore given family middle nick user maiden preferred child parent "
    "guardian mentor youth student client patient caregiver carer mother father legal display "
    "participant person contact".split()
)
_NOTE_WORDS = frozenset(
    "note notes comment comments narrative narratives memo memos remark remarks freetext "
    "verbatim transcript text specify casenote casenotes".split()
)
_BIRTH_HINT = frozenset({"birth", "born", "bday", "natal", "birthdate", "birthday"})
_EVENT_WORDS = frozenset(
    "start started end ended enrol enroll enrolled enrolment enrollment intake referral "
    "referred survey visit meeting session closure closed close exit discharge discharged "
    "admission admit admitted interview completed complete completion created updated modified "
    "timestamp time due baseline follow followup wave match matched assessment assessed "
    "consent entry termination terminated review report reported incident event service "
    "contact training hire hired application applied screening screened placement removal "
    "investigation case last first next recorded submitted signed month year week".split()
)

_RE_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_RE_SSN = r"\d{3}-\d{2}-\d{4}"
_RE_NHS = r"\d{3}[ -]?\d{3}[ -]?\d{4}"
_RE_NINO = r"(?i:[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D])"
_RE_PHONE = r"(?:\+|00)?[\d\s().-]+"
_RE_UK_POSTCODE = r"(?i:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})"
_RE_ZIP = r"\d{5}(?:-\d{4})?"
_RE_STREET = (
    r"(?i:^\s*\d+[A-Za-z]?(?:[-/]\d+)?,?\s+(?:[A-Za-z.'-]+\s+){0,4}"
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|court|ct|boulevard|blvd|way|place|pl|"
    r"close|crescent|cres|terrace|highway|hwy|parkway|pkwy|square|sq|circle|cir|trail|row|"
    r"gardens|grove)\b)"
)
_RE_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
_RE_FULL_DATE = r"\d{4}-\d{1,2}-\d{1,2}(?:[ T].*)?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"
_RE_PERSON = (
    r"[A-Z][a-z'’.-]+(?: [A-Z][a-z'’.-]+){1,3}|[A-Z][a-z'’-]+, [A-Z][a-z'’-]+(?: [A-Z][a-z'’.-]+)?"
)


# Free text (a column without a fixed list of answers) is refused when a single value holds
# one of these; a title before a capitalised word ("Dr Jane Smith GP"), or a whole value
# shaped like a full name whose words are none of the organisation words below
_RE_TITLED = r"\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Rev|Sr|Fr)\.?\s+[A-Z][a-z'’-]+"
_ORG_WORDS = frozenset(
    "services service social school schools court police team centre center department dept "
    "office agency hospital clinic church club program programme support family families "
    "health council trust foundation unit youth child children care community housing "
    "justice probation education board network project partnership home house group practice "
    "surgery mental self parent parents carer carers friend friends referral other unknown "
    "local county city state district primary secondary high middle academy college "
    "university charity association society".split()
)
_RE_PHONE_IN_TEXT = r"\+?\(?\d[\d\s().-]{7,}\d"
_RE_STREET_IN_TEXT = _RE_STREET.replace("^\\s*", "\\b", 1)


def _free_text_reason(s: pd.Series) -> tuple[str, str] | None:
    """(kind, description) when any single value of a free-text column holds an identifier."""
    values = _string_values(s)
    if values.empty:
        return None
    if values.str.contains(_RE_EMAIL, regex=True).any():
        return "email", "an email address in at least one value of a free-text column"
    found = values.str.findall(_RE_PHONE_IN_TEXT)
    digits = found.explode().dropna().astype(str).str.count(r"\d")
    # 9 to 15 digits: longer than a date written with digits, as long as a phone number
    dated = found.explode().dropna().astype(str).str.fullmatch(_RE_FULL_DATE)
    if bool((digits.between(9, 15) & ~dated).any()):
        return "phone", "a phone number in at least one value of a free-text column"
    if values.str.contains(_RE_STREET_IN_TEXT, regex=True).any():
        return "address", "a street address in at least one value of a free-text column"
    titled = values.str.contains(_RE_TITLED, regex=True)
    whole = values.str.fullmatch(_RE_PERSON) & ~values.map(
        lambda v: bool(set(_tokens(v)) & _ORG_WORDS)
    )
    if bool((titled | whole).any()):
        return "name", "a person's name in at least one value of a free-text column"
    return None


def _tokens(name: object) -> list[str]:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    return re.findall(r"[a-z]+|[0-9]+", text.lower())


def _name_reason(tokens: list[str]) -> tuple[str, str] | None:
    """(kind, description) when a column *name* points to a direct identifier."""
    words = set(tokens)
    joined = "".join(t for t in tokens if not t.isdigit())
    if words & _EXEMPT:
        return None
    has_number = bool(words & _NUMBER)
    if "email" in joined or {"e", "mail"} <= words or "emails" in words:
        return "email", "an email address"
    if ("ip" in words and words & {"address", "addr"}) or "ipaddress" in joined:
        return "ip_address", "an IP address"
    record = [
        (words & {"ssn", "ssns"} or "socialsecurity" in joined, "a social security number"),
        ("nhs" in words or "nhsnumber" in joined, "an NHS number"),
        (
            "nino" in words or "nationalinsurance" in joined or ("ni" in words and has_number),
            "a National Insurance number",
        ),
        (
            "mrn" in words
            or "medicalrecord" in joined
            or any(w in joined for w in ("hospitalnumber", "patientnumber", "chartnumber"))
            or ("record" in words and bool(words & (_NUMBER - {"id", "ids"}))),
            "a medical record number",
        ),
        (
            "medicaid" in joined or "medicare" in joined or ("insurance" in words and has_number),
            "a health insurance number",
        ),
        (
            ("case" in words and bool(words & (_NUMBER - {"id", "ids"})))
            or "casenumber" in joined
            or bool(words & {"caseno", "casenum", "casenr"}),
            "a case number",
        ),
        ("passport" in words, "a passport number"),
        (
            bool(words & {"license", "licence", "driver", "drivers"}) and has_number,
            "a licence number",
        ),
        (
            ("upn" in words or bool(words & {"student", "pupil"}))
            and bool(words & (_NUMBER - {"id", "ids"})),
            "a student number",
        ),
        ("nationalid" in joined or {"national", "id"} <= words, "a national id number"),
    ]
    for hit, what in record:
        if hit:
            return "record_number", what
    if (
        words
        & {"phone", "phones", "telephone", "tel", "cellphone", "mobilephone", "fax", "landline"}
        or "phone" in joined
        or (words & {"mobile", "cell"} and (has_number or len(words) == 1))
    ):
        return "phone", "a phone number"
    if (
        "address" in joined
        or words & {"addr", "street", "apartment", "apt"}
        or "housenumber" in joined
    ):
        return "address", "a postal address"
    if words & {"postcode", "postcodes", "zip", "zipcode", "postal"} or any(
        w in joined for w in ("postcode", "zipcode", "postalcode")
    ):
        return "postcode", "a postcode or ZIP code"
    if words & {"latitude", "longitude", "lat", "lng", "lon", "geocode", "coordinates", "gps"}:
        return "location", "geographic coordinates"
    if (
        words & {"dob", "dobs"}
        or any(
            w in joined for w in ("dateofbirth", "birthdate", "birthday", "birthdt", "datebirth")
        )
        or words in ({"birth"}, {"born"})
        or ("birth" in words and words & {"date", "day", "dt", "d"})
    ):
        return "birth_date", "a date of birth"
    person = bool(words & _PERSON_NAME_WORDS) or any(
        t.endswith("name") and t[:-4] in _PERSON_PREFIX for t in tokens
    )
    if (
        person
        and not words & _NON_PERSON
        and not any(t.endswith("name") and t[:-4] in _NON_PERSON for t in tokens)
    ):
        return "name", "a person's name"
    if words & _NOTE_WORDS or "freetext" in joined:
        return "notes", "free-text notes"
    return None


def _string_values(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    values = s.dropna()
    if values.empty:
        return pd.Series([], dtype=object)
    if not pd.api.types.is_string_dtype(values.dtype):
        values = values[values.map(lambda v: isinstance(v, str))]
    return values.astype(object).str.strip().loc[lambda v: v != ""]


def _share(values: pd.Series, pattern: str) -> float:
    return float(values.str.fullmatch(pattern).mean()) if len(values) else 0.0


def _sample(values: pd.Series, n: int = 2000) -> pd.Series:
    if len(values) <= n:
        return values
    return values.iloc[np.linspace(0, len(values) - 1, n).astype(int)]


def _nhs_valid(digits: str) -> bool:
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _as_dates(s: pd.Series) -> pd.Series | None:
    """Full (day-precision) dates of a column, or None when it does not hold such dates."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        d = s.dropna()
        if d.empty or ((d.dt.month == 1) & (d.dt.day == 1)).all():
            return None
        return d.dt.tz_localize(None) if getattr(d.dt, "tz", None) is not None else d
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return None
    values = _sample(_string_values(s))
    if values.empty or _share(values, _RE_FULL_DATE) < 0.8:
        return None
    best = None
    for fmt in ("ISO8601", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y"):
        parsed = pd.to_datetime(values, errors="coerce", format=fmt).dropna()
        if best is None or len(parsed) > len(best):
            best = parsed
    if best is None or len(best) < 0.8 * len(values):
        return None
    if getattr(best.dt, "tz", None) is not None:
        best = best.dt.tz_localize(None)
    return best


def _content_reason(
    s: pd.Series, tokens: list[str], reference: pd.Timestamp | None, ref_column: str | None
) -> tuple[str, str] | None:
    """(kind, description) when the *values* of a column look like a direct identifier."""
    words = set(tokens)
    if pd.api.types.is_bool_dtype(s.dtype):
        return None
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_datetime64_any_dtype(s.dtype):
        x = pd.to_numeric(s, errors="coerce").dropna()
        x = x[(x >= 1e9) & (x < 1e10) & (x == np.floor(x))]
        if len(x) and len(x) >= 0.8 * s.notna().sum():
            valid = np.mean([_nhs_valid(str(int(v))) for v in _sample(x)])
            if valid >= 0.9:
                return "record_number", "10-digit numbers with valid NHS check digits"
        return None
    lengths = s.dropna().astype(str).str.len()
    if len(lengths) and lengths.max() < 5:
        # every identifier pattern checked below needs at least five characters (codes such as
        # item answers "1"-"5" are the common case and are skipped quickly)
        return None
    dates = _as_dates(s)
    if dates is not None:
        if words & _BIRTH_HINT or any(w in "".join(tokens) for w in ("birth", "dob")):
            return "birth_date", "dates in a column named like a birth date"
        if reference is not None and not words & _EVENT_WORDS:
            ages = (reference - dates).dt.days / 365.25
            if len(ages) and ages.min() >= 0 and ages.max() <= 26 and ages.median() >= 5:
                return (
                    "birth_date",
                    f"dates implying ages 0-25 at the latest date in {ref_column!r}",
                )
        return None
    values = _string_values(s)
    n = len(values)
    if n == 0:
        return None
    n_email = int(values.str.contains(_RE_EMAIL, regex=True).sum())
    if n_email:
        return "email", f"email addresses in {n_email} of {n} non-missing values"
    sample = _sample(values)
    if _share(sample, _RE_SSN) >= 0.8:
        return "record_number", "values shaped like social security numbers (123-45-6789)"
    if _share(sample, _RE_NHS) >= 0.8:
        digits = sample.str.replace(r"\D", "", regex=True)
        if digits.map(_nhs_valid).mean() >= 0.9:
            return "record_number", "10-digit numbers with valid NHS check digits"
    if _share(sample, _RE_NINO) >= 0.8:
        return "record_number", "values shaped like National Insurance numbers"
    if _share(sample, _RE_IPV4) >= 0.8:
        return "ip_address", "values shaped like IP addresses"
    phone_like = sample.str.fullmatch(_RE_PHONE) & ~sample.str.fullmatch(_RE_FULL_DATE)
    n_digits = sample.str.count(r"\d")
    marked = sample.str.contains(r"^(?:\+|00|0|\()|[\s().-]", regex=True)
    if float((phone_like & n_digits.between(9, 15) & marked).mean()) >= 0.8:
        return "phone", "values shaped like phone numbers"
    if _share(sample, _RE_UK_POSTCODE) >= 0.8 or _share(sample, _RE_ZIP) >= 0.8:
        return "postcode", "values shaped like postcodes or ZIP codes"
    if float(sample.str.contains(_RE_STREET, regex=True).mean()) >= 0.5:
        return "address", "values shaped like street addresses"
    distinct = sample.nunique()
    ratio = distinct / len(sample)
    if (
        len(sample) >= 5
        and ratio >= 0.8
        and not words & _NON_PERSON
        and _share(sample, _RE_PERSON) >= 0.8
    ):
        return "name", "values shaped like people's names (capitalised words, nearly all distinct)"
    lengths = sample.str.len()
    n_words = sample.str.split().str.len()
    if (
        ratio >= 0.5
        and lengths.median() >= 25
        and n_words.median() >= 4
        and (distinct >= 3 or lengths.median() >= 60)
    ):
        return "notes", "long free text with many distinct values"
    return None


def find_identifiers(
    df: pd.DataFrame, *, allow: Sequence[str] = (), free_text: Sequence[str] = ()
) -> pd.DataFrame:
    """Flag columns that look like direct identifiers, by their name and by their content.

    Direct identifiers point to a person outside the study: names (first, last, full,
    guardian's), email addresses, phone numbers, street addresses, postcodes/ZIP codes,
    IP addresses, geographic coordinates, dates of birth, free-text notes and record numbers
    issued by agencies (social security, NHS, National Insurance, medical record, Medicaid,
    case, passport, licence, student numbers). Study ids assigned by the program (``youth_id``
    holding ``"Y0001"``, ``mentor_id``, ``match_id``) are pseudonymous and are not flagged;
    nor are item and score columns (``ace10_3``, ``brs_score``), ``site``, ``wave``,
    ``gender`` or ``age``.

    *By name*: the column name is split into words (``firstName`` -> first, name) and
    compared with lists of identifier words; names with words such as ``count``, ``type``,
    ``status`` or ``consent`` describe an identifier rather than hold one and are not flagged
    by name. *By content* (for columns not flagged by name): any email address; at least 80 %
    of values shaped like SSNs, NHS numbers (with valid check digits), National Insurance
    numbers, IP addresses, phone numbers, postcodes or ZIP codes; at least half shaped like
    street addresses; full names (capitalised words, nearly all distinct, unless the column
    name says whose names they are, as in ``site_name``); long free text with
    many distinct values; full dates in a column whose name mentions birth, or full dates
    that imply ages 0-25 at the latest date of another date column when the column name does
    not name an event (``enrolment_date``, ``start_date``, ``survey_date`` are never judged
    as birth dates). A year of birth alone is not flagged. Content is judged on at most 2,000
    evenly spaced values (all values for email addresses).

    *Free text* (the columns named in ``free_text``: those a schema gives no list of allowed
    answers): one value is enough. The column is flagged when ANY value holds an email
    address, a phone number (9 to 15 digits), a street address, or a person's name (a title
    such as ``Dr`` or ``Ms`` before a capitalised word, as in ``"Dr Jane Smith GP"``, or a
    whole value of two to four capitalised words none of which names an organisation, such as
    ``"Services"`` or ``"School"``), since one child's name in a referral note is already a
    disclosure. Other columns keep the share rules above: a column whose answers come from a
    fixed list cannot hold such text.

    Parameters
    ----------
    df
        The data.
    allow
        Column names not to flag (names that are not columns of ``df`` are ignored).
    free_text
        Columns judged by any single value (names that are not columns are ignored).

    Returns
    -------
    pandas.DataFrame
        One row per flagged column, in column order: ``column``, ``kind`` (``name``,
        ``email``, ``phone``, ``address``, ``postcode``, ``birth_date``, ``notes``,
        ``record_number``, ``ip_address``, ``location``), ``reason`` and ``evidence``
        (``"name"`` or ``"content"``). The values of the columns are never included.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "youth_id": ["Y0001", "Y0002"], "first_name": ["Ana", "Ben"],
    ...     "contact": ["ana@example.org", ""], "ace10_3": [0, 1],
    ... })
    >>> find_identifiers(df)[["column", "kind", "evidence"]]
           column   kind evidence
    0  first_name   name     name
    1     contact  email  content
    >>> notes = pd.DataFrame({"referred_by": ["school", "self", "Dr Jane Smith GP", "school"]})
    >>> find_identifiers(notes).empty
    True
    >>> find_identifiers(notes, free_text=["referred_by"])["kind"].tolist()
    ['name']
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    if df.columns.has_duplicates:
        dup = df.columns[df.columns.duplicated()].unique()
        raise DataError(f"df has duplicated columns {_show(dup)}; give each column its own name")
    allowed = set(_names(allow, "allow"))
    free = set(_names(free_text, "free_text"))
    columns = [c for c in df.columns if str(c) not in allowed]

    date_max: dict[str, pd.Timestamp] = {}
    for col in df.columns:
        dates = _as_dates(df[col])
        if dates is not None and len(dates):
            date_max[str(col)] = dates.max()

    rows = []
    for col in columns:
        tokens = _tokens(col)
        hit = _name_reason(tokens)
        if hit is not None:
            kind, what = hit
            rows.append((str(col), kind, f"the name suggests {what}", "name"))
            continue
        if str(col) in free:
            hit = _free_text_reason(df[col])
            if hit is not None:
                kind, what = hit
                rows.append((str(col), kind, what, "content"))
                continue
        others = {k: v for k, v in date_max.items() if k != str(col)}
        ref_col = max(others, key=lambda k: others[k]) if others else None
        ref = others[ref_col] if ref_col is not None else None
        hit = _content_reason(df[col], tokens, ref, ref_col)
        if hit is not None:
            kind, what = hit
            rows.append((str(col), kind, what, "content"))
    return pd.DataFrame(rows, columns=["column", "kind", "reason", "evidence"], dtype=object)


def check_no_identifiers(
    df: pd.DataFrame, *, allow: Sequence[str] = (), table: str | None = None
) -> None:
    """Raise when ``df`` has columns that look like direct identifiers.

    The columns are found by :func:`find_identifiers`.

    Parameters
    ----------
    df
        The data.
    allow
        Columns that may stay: ``"column"``, or ``"table.column"`` when ``table`` is given.
    table
        Name of the table, used in the message and to match ``"table.column"`` entries.

    Raises
    ------
    IdentifierError
        A :class:`DataError` listing each flagged column and why (never its values), with
        ``err.findings`` holding the :func:`find_identifiers` table.

    Examples
    --------
    >>> df = pd.DataFrame({"youth_id": ["Y0001"], "dob": ["2010-05-01"], "brs_1": [4]})
    >>> check_no_identifiers(df, allow=["dob"])
    >>> try:
    ...     check_no_identifiers(df, table="youth")
    ... except IdentifierError as err:
    ...     print(err.findings["column"].tolist())
    ['dob']
    """
    names = _names(allow, "allow")
    cols = set()
    for entry in names:
        if table is not None and entry.startswith(f"{table}."):
            cols.add(entry[len(table) + 1 :])
        else:
            cols.add(entry)
    found = find_identifiers(df, allow=sorted(cols))
    if found.empty:
        return
    where = f"{table}: " if table else ""
    lines = "\n".join(
        f"  - {c}: {r} (found by its {e})"
        for c, r, e in zip(found["column"], found["reason"], found["evidence"])
    )
    qualified = [f"{table}.{c}" if table else c for c in found["column"]]
    raise IdentifierError(
        f"{where}{len(found)} column(s) look like direct identifiers:\n{lines}\n"
        "Drop them, or replace ids with pseudonyms (tim_research.privacy.pseudonymise), before "
        "analysis. If a column is safe (for example a study code that only looks like one), "
        f"allow it explicitly: allow={qualified!r}.",
        found,
    )


# --------------------------------------------------------------------------- suppression


class _Grid:
    """A count table with its margins as an (r+1) x (c+1) grid whose lines all sum to 0.

    Interior cells are counts; the last column holds row totals and the last row column
    totals (with the grand total in the corner), entered with the signs that make every row
    and column of the grid sum to zero. A cell is *unknown* to a reader when it is masked or
    when it is a total that is neither shown nor published.
    """

    def __init__(
        self,
        interior: np.ndarray,
        row_totals: np.ndarray | None,
        col_totals: np.ndarray | None,
        grand: float | None,
        *,
        min_cell: int,
        mask_zeros: bool,
        totals_published: bool,
    ) -> None:
        r, c = interior.shape
        self.r, self.c, self.m = r, c, min_cell
        values = np.zeros((r + 1, c + 1))
        values[:r, :c] = interior
        values[:r, c] = interior.sum(axis=1) if row_totals is None else row_totals
        values[r, :c] = interior.sum(axis=0) if col_totals is None else col_totals
        values[r, c] = interior.sum() if grand is None else grand
        shown = np.zeros((r + 1, c + 1), dtype=bool)
        shown[:r, :c] = True
        shown[:r, c] = row_totals is not None
        shown[r, :c] = col_totals is not None
        shown[r, c] = grand is not None
        published = np.zeros_like(shown)
        if totals_published:
            published[:r, c] = c >= 2
            published[r, :c] = r >= 2
            # the grand total of one row (column) is that row's (column's) published total
            published[r, c] = r * c >= 2
        self.values = values
        self.shown = shown
        # a published total is known to readers whether this table shows it, masks it or
        # leaves it out: masking it protects nothing, so it never serves as a complement
        self.published = published
        self.hidden_unknown = ~shown & ~published
        small = (values > 0) & (values < min_cell)
        if mask_zeros:
            small |= values == 0
        self.primary = shown & small
        self.masked = self.primary.copy()

    def unknown(self) -> np.ndarray:
        return (self.masked & ~self.published) | self.hidden_unknown

    def lines(self) -> list[list[tuple[int, int]]]:
        rows = [[(i, j) for j in range(self.c + 1)] for i in range(self.r + 1)]
        cols = [[(i, j) for i in range(self.r + 1)] for j in range(self.c + 1)]
        return rows + cols

    def _interior(self, p: tuple[int, int]) -> bool:
        return p[0] < self.r and p[1] < self.c

    def _waiting(self, p: tuple[int, int], across: str) -> int:
        """Lines through ``p`` (``"row"``, ``"col"`` or ``"both"``) with one lone hidden cell."""
        unknown = self.unknown()
        lines = []
        if across in ("row", "both"):
            lines.append(unknown[p[0], :])
        if across in ("col", "both"):
            lines.append(unknown[:, p[1]])
        return sum(int(line.sum() == 1) for line in lines)

    def _pick(
        self, cands: list[tuple[int, int]], at_least: float | None, across: str
    ) -> tuple[int, int]:
        """Choose a complement: one that also pairs a lone hidden cell, then the smallest."""
        v = self.values

        def key(p: tuple[int, int]) -> tuple[int, float, bool, tuple[int, int]]:
            return (-self._waiting(p, across), v[p], not self._interior(p), p)

        if at_least is not None:
            big = [p for p in cands if v[p] > 0 and v[p] >= at_least]
            if big:
                return min(big, key=key)
            return max(cands, key=lambda p: (v[p], self._interior(p), (-p[0], -p[1])))
        nonzero = [p for p in cands if v[p] > 0]
        return min(nonzero or cands, key=key)

    def line_pass(self) -> bool:
        """Add a complementary cell to each line that leaks; True when anything changed."""
        changed = False
        m = self.m
        n_rows = self.r + 1
        for n, line in enumerate(self.lines()):
            across = "col" if n < n_rows else "row"
            unknown = self.unknown()
            u = [p for p in line if unknown[p]]
            masked = [p for p in u if self.masked[p]]
            if not masked:
                continue
            if len(u) >= 2 and any(self.hidden_unknown[p] for p in u):
                continue
            prim = [p for p in u if self.primary[p]]
            at_least = None
            if len(u) == 1:
                need = True
                if prim:
                    at_least = 2 * m + len(prim) - 2 - sum(self.values[p] for p in u)
            else:
                total = sum(self.values[p] for p in u)
                threshold = 2 * m + len(prim) - 2
                # when the line's own total is hidden it moves with the hidden cells and
                # the reader learns nothing about their sum
                need = not unknown[line[-1]] and (
                    (bool(prim) and (len(prim) == len(u) or total < threshold))
                    # hidden cells adding up to 0 are each 0, as counts are never negative
                    or total == 0
                )
                at_least = threshold - total if prim else None
            if not need:
                continue
            cands = [
                p for p in line if self.shown[p] and not self.masked[p] and not self.published[p]
            ]
            if not cands:
                continue
            self.masked[self._pick(cands, at_least, across)] = True
            changed = True
        return changed

    def bridge_pass(self) -> bool:
        """Protect one masked cell that the line totals would give away exactly."""
        r, c = self.r, self.c
        unknown = self.unknown()
        cells = [(i, j) for i in range(r + 1) for j in range(c + 1) if unknown[i, j]]
        edges = [(i, r + 1 + j) for i, j in cells]
        bridges = _bridges(r + c + 2, edges)
        targets = [cells[k] for k in sorted(bridges) if self.masked[cells[k]]]
        if not targets:
            return False
        cell = targets[0]
        k = cells.index(cell)
        adj: dict[int, list[int]] = {}
        for idx, (a, b) in enumerate(edges):
            if idx == k:
                continue
            adj.setdefault(a, []).append(b)
            adj.setdefault(b, []).append(a)
        side = {edges[k][0]}
        todo = [edges[k][0]]
        while todo:
            node = todo.pop()
            for nb in adj.get(node, []):
                if nb not in side:
                    side.add(nb)
                    todo.append(nb)
        cands = [
            (i, j)
            for i in range(r + 1)
            for j in range(c + 1)
            if self.shown[i, j]
            and not self.masked[i, j]
            and not self.published[i, j]
            and ((i in side) != (r + 1 + j in side))
        ]
        if not cands:
            raise DataError(
                "this table cannot be protected by complementary suppression (a masked cell "
                "would still follow from the totals); combine small categories and try again"
            )
        self.masked[self._pick(cands, None, "both")] = True
        return True

    def run(self) -> np.ndarray:
        while self.line_pass() or self.bridge_pass():
            pass
        return self.masked


def _bridges(n_nodes: int, edges: list[tuple[int, int]]) -> set[int]:
    """Indices of the edges that are bridges of an undirected graph (iterative Tarjan)."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]
    for k, (a, b) in enumerate(edges):
        adj[a].append((b, k))
        adj[b].append((a, k))
    disc = [-1] * n_nodes
    low = [0] * n_nodes
    clock = 0
    found: set[int] = set()
    for start in range(n_nodes):
        if disc[start] != -1:
            continue
        disc[start] = low[start] = clock
        clock += 1
        stack = [(start, -1, iter(adj[start]))]
        while stack:
            node, via, it = stack[-1]
            for nb, k in it:
                if k == via:
                    continue
                if disc[nb] == -1:
                    disc[nb] = low[nb] = clock
                    clock += 1
                    stack.append((nb, k, iter(adj[nb])))
                    break
                low[node] = min(low[node], disc[nb])
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > disc[parent]:
                        found.add(via)
    return found


def _counts_matrix(counts: pd.DataFrame, what: str) -> np.ndarray:
    bad_type = [
        str(c)
        for c in counts.columns
        if not pd.api.types.is_numeric_dtype(counts[c]) or pd.api.types.is_bool_dtype(counts[c])
    ]
    if bad_type:
        raise DataError(
            f"{what}: column(s) {_show(bad_type)} are not numeric; name the count columns with "
            "count_columns=[...]"
        )
    x = counts.to_numpy(dtype=float, na_value=np.nan)
    for test, text in (
        (np.isnan(x), "missing counts; fill true zeros with 0 before suppressing"),
        (
            ~np.isnan(x) & ((x < 0) | (x != np.floor(x)) | np.isinf(x)),
            "values that are not whole non-negative counts",
        ),
    ):
        if test.any():
            # rows by position: a table's labels can be free-text categories
            rows = _positions(sorted(set(np.nonzero(test)[0])))
            cols = [str(counts.columns[j]) for j in sorted(set(np.nonzero(test)[1]))]
            raise DataError(f"{what}: {text} in column(s) {_show(cols)} ({rows})")
    return x


def _check_labels(table: pd.DataFrame, total_row: Any, total_column: Any, cols: list[Any]) -> None:
    if table.index.has_duplicates:
        rows = _positions(np.flatnonzero(table.index.duplicated(keep=False)))
        raise DataError(f"the table's index has duplicated labels ({rows}); make them unique")
    if table.columns.has_duplicates:
        dup = table.columns[table.columns.duplicated()].unique()
        raise DataError(f"the table has duplicated columns {_show(dup)}; make them unique")
    if total_row is not None and total_row not in table.index:
        raise DataError(
            f"total_row={total_row!r} is not a row label of the table; its rows are "
            f"{_show(table.index)}"
        )
    if total_column is not None and total_column not in cols:
        raise DataError(
            f"total_column={total_column!r} is not one of the count columns {_show(cols)}"
        )


def suppression_mask(
    counts: pd.DataFrame,
    *,
    min_cell: int = 5,
    total_row: Any = None,
    total_column: Any = None,
    mask_zeros: bool = False,
    totals_published: bool = True,
) -> pd.DataFrame:
    """Which cells of a count table to hide: small counts and their complements.

    *Primary*: counts from 1 to ``min_cell - 1`` (zeros too with ``mask_zeros=True``), including
    small totals. *Complementary*, repeated until nothing changes: (1) every row or column of
    the table, the totals row and the totals column included, that has exactly one hidden cell
    gets another one, and one whose hidden cells add up to 0 (so each is known to be 0) gets a
    non-zero one when it has any; a line holding small counts whose total is not hidden is
    completed until its hidden cells add up to at least ``2 * min_cell - 2`` plus the number of
    small counts, so that a reader who knows the line total cannot narrow a hidden count below
    ``min_cell`` (the smallest cell that reaches this is taken, else the largest); other
    complements are the smallest non-zero cell, and cells inside the table are preferred to
    totals. (2) A hidden cell that the totals would still give away exactly (it lies on no cycle
    of hidden cells, found as a bridge of the graph of rows and columns) gets one more
    complement that closes such a cycle. The result guarantees that no hidden cell can be
    computed exactly from the totals; it is a heuristic, not an optimal (least-loss)
    suppression.

    Parameters
    ----------
    counts
        Whole non-negative counts, no missing values; rows and columns are categories.
    min_cell
        Smallest count that may be shown.
    total_row, total_column
        Label of the row (column) that holds the column (row) totals, if shown. The grand
        total is their crossing cell.
    mask_zeros
        Also hide zeros. Off by default: a zero describes no person, and hiding zeros costs much
        of a table; but a zero can reveal something about a whole group (e.g. every youth of a
        small site reported an experience), so turn it on when that matters.
    totals_published
        Treat the row, column and grand totals as known to readers whether the table shows
        them, hides them or leaves them out (they usually appear elsewhere, e.g. group sizes).
        Default True. Such a total is then never a complement: hiding it protects nothing, so
        the cells inside the table protect one another (a zero is hidden when it is the only
        cell left, and a small total is still hidden for display). A total that merely repeats
        one cell (the row total of a one-column table) is not assumed known.

    Returns
    -------
    pandas.DataFrame
        Booleans with the index and columns of ``counts``; True = hide.

    Examples
    --------
    >>> t = pd.DataFrame({"girl": [3, 20, 12], "boy": [15, 18, 30]}, index=["N", "S", "E"])
    >>> suppression_mask(t).astype(int)
       girl  boy
    N     1    1
    S     0    0
    E     1    1
    """
    if not isinstance(counts, pd.DataFrame):
        raise DataError(f"counts must be a pandas DataFrame, got {type(counts).__name__}")
    if check_min_cell(min_cell) == 0:
        raise DataError(
            "min_cell=0 means no suppression: skip suppression_mask, or pass min_cell >= 1"
        )
    cols = list(counts.columns)
    _check_labels(counts, total_row, total_column, cols)
    x = _counts_matrix(counts, "counts")
    rows = [i for i, lab in enumerate(counts.index) if total_row is None or lab != total_row]
    inner = [j for j, lab in enumerate(cols) if total_column is None or lab != total_column]
    if not rows or not inner:
        raise DataError("the table has no cells besides its totals")
    ri = counts.index.get_loc(total_row) if total_row is not None else None
    cj = cols.index(total_column) if total_column is not None else None
    grid = _Grid(
        x[np.ix_(rows, inner)],
        x[rows, cj] if cj is not None else None,
        x[ri, inner] if ri is not None else None,
        x[ri, cj] if ri is not None and cj is not None else None,
        min_cell=int(min_cell),
        mask_zeros=mask_zeros,
        totals_published=totals_published,
    )
    masked = grid.run()
    out = np.zeros(x.shape, dtype=bool)
    r, c = len(rows), len(inner)
    out[np.ix_(rows, inner)] = masked[:r, :c]
    if cj is not None:
        out[rows, cj] = masked[:r, c]
    if ri is not None:
        out[ri, inner] = masked[r, :c]
    if ri is not None and cj is not None:
        out[ri, cj] = masked[r, c]
    return pd.DataFrame(out, index=counts.index, columns=counts.columns)


def suppress(
    table: pd.DataFrame,
    *,
    min_cell: int = 5,
    count_columns: Sequence[Any] | None = None,
    total_row: Any = None,
    total_column: Any = None,
    derived: Mapping[Any, Any] | None = None,
    mask: str = "<{min_cell}",
    secondary_mask: str = "x",
    mask_zeros: bool = False,
    totals_published: bool = True,
) -> pd.DataFrame:
    """Hide small counts in a table for display, and the cells that would reveal them.

    Small counts (1 to ``min_cell - 1``) are shown as ``mask`` (``"<5"``); the cells hidden so
    that those cannot be worked out from the row, column or grand totals are shown as
    ``secondary_mask`` (``"x"``), as are percentages and rates built from any hidden count.
    A hidden cell is never shown as 0. The rules are those of :func:`suppression_mask`. Do
    this only at display time; analyses use the full counts.

    Parameters
    ----------
    table
        Counts, with categories as rows and columns; may hold a totals row and column, and
        other columns (labels, percentages).
    min_cell
        Smallest count that may be shown.
    count_columns
        Columns holding counts; default all numeric columns except those in ``derived``.
    total_row, total_column
        Labels of the totals row and column, if the table shows them (``"All"`` for
        ``pandas.crosstab(..., margins=True)``).
    derived
        ``{derived column: count column(s)}``, e.g. ``{"pct": "n"}`` or
        ``{"rate": ["events", "n"]}``: a derived cell is hidden when any of its counts in the
        same row is.
    mask
        Text shown for small counts; ``{min_cell}`` is filled in.
    secondary_mask
        Text shown for complementary and derived cells.
    mask_zeros, totals_published
        As in :func:`suppression_mask`.

    Returns
    -------
    pandas.DataFrame
        An object-dtype copy of ``table`` with hidden cells replaced by the mask texts; index,
        columns and the other values unchanged.

    Warns
    -----
    SmallCellWarning
        When any cell is hidden (the message gives how many, not which values).

    Examples
    --------
    >>> import warnings
    >>> t = pd.DataFrame({"girl": [3, 20, 12], "boy": [15, 18, 30]}, index=["N", "S", "E"])
    >>> t["All"] = t.sum(axis=1)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     suppress(t, total_column="All")
      girl boy All
    N   <5   x  18
    S   20  18  38
    E    x   x  42
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    derived = dict(derived or {})
    for dcol, sources in derived.items():
        if dcol not in table.columns:
            raise DataError(f"derived: the table has no column {dcol!r}")
        for s in _names(sources, f"derived[{dcol!r}]"):
            if s not in [str(c) for c in table.columns]:
                raise DataError(f"derived[{dcol!r}]: the table has no count column {s!r}")
    if count_columns is None:
        cols = [
            c
            for c in table.columns
            if c not in derived
            and pd.api.types.is_numeric_dtype(table[c])
            and not pd.api.types.is_bool_dtype(table[c])
        ]
    else:
        cols = list(count_columns) if not isinstance(count_columns, str) else [count_columns]
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise DataError(f"count_columns: the table has no column {_show(missing)}")
    if not cols:
        raise DataError("the table has no numeric count columns; name them with count_columns")
    try:
        shown_mask = mask.format(min_cell=min_cell)
    except (KeyError, IndexError, AttributeError) as exc:
        raise DataError(f"mask must be a string like '<{{min_cell}}', got {mask!r}") from exc
    for text, name in ((shown_mask, "mask"), (secondary_mask, "secondary_mask")):
        if (
            not isinstance(text, str)
            or not text.strip()
            or re.fullmatch(r"\s*[-+]?[\d.,]+\s*", text)
        ):
            raise DataError(f"{name} must be visible text that is not a number, got {text!r}")
    _check_labels(table, total_row, total_column, cols)

    hide = suppression_mask(
        table[cols],
        min_cell=min_cell,
        total_row=total_row,
        total_column=total_column,
        mask_zeros=mask_zeros,
        totals_published=totals_published,
    )
    x = table[cols].to_numpy(dtype=float)
    small = (x > 0) & (x < min_cell)
    if mask_zeros:
        small |= x == 0
    out = table.astype(object).copy()
    for j, col in enumerate(cols):
        pos = out.columns.get_loc(col)
        for i in np.nonzero(hide[col].to_numpy())[0]:
            out.iat[i, pos] = shown_mask if small[i, j] else secondary_mask
    by_name = {str(c): c for c in cols}
    for dcol, sources in derived.items():
        names = _names(sources, f"derived[{dcol!r}]")
        not_counts = [n for n in names if n not in by_name]
        if not_counts:
            raise DataError(
                f"derived[{dcol!r}]: {_show(not_counts)} is not among the count columns "
                f"{_show(map(str, cols))}; add it to count_columns"
            )
        src = [by_name[n] for n in names]
        rows = hide[src].any(axis=1).to_numpy()
        pos = out.columns.get_loc(dcol)
        for i in np.nonzero(rows)[0]:
            out.iat[i, pos] = secondary_mask
    n_primary = int((hide.to_numpy() & small).sum())
    n_other = int(hide.to_numpy().sum()) - n_primary
    if n_primary or n_other:
        warnings.warn(
            f"{n_primary} count(s) below min_cell={min_cell} shown as {shown_mask!r}"
            + (f" and {n_other} more cell(s) shown as {secondary_mask!r}" if n_other else "")
            + " so that they cannot be worked out from the totals",
            SmallCellWarning,
            stacklevel=2,
        )
    return out


# --------------------------------------------------------------------------- k-anonymity


@dataclass(frozen=True)
class KAnonymity:
    """How many rows share each combination of quasi-identifiers (see :func:`k_anonymity`)."""

    k: int
    k_min: int
    n_classes: int
    n_rows: int
    quasi_identifiers: tuple[str, ...]
    rows_at_risk: pd.Index = field(repr=False, compare=False)
    class_sizes: pd.DataFrame = field(repr=False, compare=False)

    @property
    def is_k_anonymous(self) -> bool:
        """True when every class has at least ``k`` rows."""
        return self.n_rows == 0 or self.k_min >= self.k

    def to_frame(self) -> pd.DataFrame:
        """Class sizes: one row per combination of quasi-identifiers, smallest first."""
        return self.class_sizes.copy()

    def _repr_html_(self) -> str:
        head = (
            f"<strong>k-anonymity on {html.escape(', '.join(self.quasi_identifiers))}</strong>"
            f"<p>smallest class: {self.k_min} row(s); {self.n_classes} classes; "
            f"{len(self.rows_at_risk)} of {self.n_rows} rows in classes smaller than "
            f"k={self.k}</p>"
        )
        return f"<div>{head}</div>"


def k_anonymity(
    df: pd.DataFrame, quasi_identifiers: str | Sequence[str], *, k: int = 5
) -> KAnonymity:
    """Smallest group of rows sharing the same quasi-identifiers, and the rows at risk.

    Quasi-identifiers (site, age, gender, race/ethnicity, ...) do not name anyone alone, but
    a rare combination can. A table is *k-anonymous* when every combination occurs in at
    least ``k`` rows. A missing value counts as a value of its own: rows with age missing
    form their own classes (a reader sees the blank too).

    Parameters
    ----------
    df
        Person-level data.
    quasi_identifiers
        Column name(s).
    k
        Smallest acceptable class size.

    Returns
    -------
    KAnonymity
        ``k_min`` (0 for an empty table), ``n_classes``, ``n_rows``, ``rows_at_risk`` (index
        labels of rows in classes smaller than ``k``) and ``.to_frame()`` of class sizes.

    Examples
    --------
    >>> df = pd.DataFrame({"site": ["N", "N", "N", "S"], "gender": ["girl", "girl", "girl", "boy"]},
    ...                   index=["a", "b", "c", "d"])
    >>> res = k_anonymity(df, ["site", "gender"], k=3)
    >>> res.k_min, res.n_classes, list(res.rows_at_risk)
    (1, 2, ['d'])
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    qis = _names(quasi_identifiers, "quasi_identifiers")
    if not qis:
        raise DataError("quasi_identifiers: name at least one column")
    missing = [q for q in qis if q not in [str(c) for c in df.columns]]
    if missing:
        raise DataError(f"quasi_identifiers: df has no column {_show(missing)}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise DataError(f"k must be a whole number of at least 1, got {k!r}")
    if df.index.has_duplicates:
        # rows by position: the labels of a person-level table are ids, never repeated here
        rows = _positions(np.flatnonzero(df.index.duplicated(keep=False)))
        raise DataError(f"df has duplicated index labels ({rows}); make them unique")
    by = {str(c): c for c in df.columns}
    cols = [by[q] for q in qis]
    if df.empty:
        sizes = pd.DataFrame(columns=[*qis, "size"])
        return KAnonymity(int(k), 0, 0, 0, tuple(qis), df.index[:0], sizes)
    groups = df.groupby(cols, dropna=False, observed=True, sort=False)
    codes = groups.ngroup()
    size_of = codes.map(codes.value_counts())
    sizes = groups.size().rename("size").reset_index()
    sizes.columns = [*qis, "size"]
    sizes = sizes.sort_values("size", kind="stable").reset_index(drop=True)
    at_risk = df.index[(size_of < k).to_numpy()]
    return KAnonymity(
        k=int(k),
        k_min=int(size_of.min()),
        n_classes=int(codes.nunique()),
        n_rows=len(df),
        quasi_identifiers=tuple(qis),
        rows_at_risk=at_risk,
        class_sizes=sizes,
    )


def safe_person_table(
    df: pd.DataFrame,
    *,
    id_column: str,
    allow_person_level: bool = False,
    key: bytes | str | None = None,
    key_env: str | None = DEFAULT_KEY_ENV,
    key_file: str | os.PathLike[str] | None = None,
    quasi_identifiers: str | Sequence[str] = (),
    k: int = 5,
    allow_identifiers: Sequence[str] = (),
    prefix: str = "P",
    length: int = 12,
) -> pd.DataFrame:
    """A person-level table fit to show: pseudonymous ids only, and only when allowed.

    Use it in notebooks before showing rows about individual youth (e.g. those with reliable
    deterioration). Unless ``allow_person_level=True`` (make it a notebook parameter, off by
    default) it raises. When allowed, the other columns must pass
    :func:`check_no_identifiers`, the id column (or the index, when ``id_column`` is its
    name) is replaced by :func:`pseudonymise` pseudonyms, and a
    :class:`ReidentificationRiskWarning` is issued when some rows are in quasi-identifier
    classes smaller than ``k``.

    Parameters
    ----------
    df
        One row per person.
    id_column
        Column (or index name) holding the study id.
    allow_person_level
        Allow the person-level table at all.
    key, key_env, key_file, prefix, length
        As in :func:`pseudonymise`.
    quasi_identifiers, k
        As in :func:`k_anonymity`; nothing is checked when empty.
    allow_identifiers
        Columns :func:`check_no_identifiers` may let through.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with pseudonyms in place of ids, same rows and order.

    Examples
    --------
    >>> df = pd.DataFrame({"youth_id": ["Y0001", "Y0002"], "change": [-4.0, 6.5]}, index=[3, 1])
    >>> out = safe_person_table(df, id_column="youth_id", allow_person_level=True,
    ...                         key="an example key, not a real one")
    >>> bool(out["youth_id"].str.startswith("P").all()), out.index.tolist()
    (True, [3, 1])
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    in_columns = id_column in df.columns
    if not in_columns and df.index.name != id_column:
        raise DataError(
            f"id_column={id_column!r} is neither a column nor the index name of df; its "
            f"columns are {_show(map(str, df.columns))}"
        )
    if not allow_person_level:
        raise DataError(
            f"this is a person-level table ({len(df)} rows, one per person); showing it can "
            "identify youth. Show an aggregate instead, or pass allow_person_level=True (a "
            "notebook parameter, off by default) to show it with pseudonymous ids."
        )
    rest = df.drop(columns=[id_column]) if in_columns else df
    check_no_identifiers(rest, allow=allow_identifiers)
    qis = _names(quasi_identifiers, "quasi_identifiers")
    if qis:
        res = k_anonymity(df, qis, k=k)
        if not res.is_k_anonymous:
            warnings.warn(
                f"{len(res.rows_at_risk)} of {res.n_rows} rows share their combination of "
                f"{', '.join(qis)} with fewer than {k - 1} other row(s) (smallest class: "
                f"{res.k_min}); they may be recognisable. Drop or coarsen quasi-identifiers "
                "before sharing the table.",
                ReidentificationRiskWarning,
                stacklevel=2,
            )
    out = df.copy()
    if in_columns:
        out[id_column] = pseudonymise(
            df[id_column],
            key=key,
            key_env=key_env,
            key_file=key_file,
            prefix=prefix,
            length=length,
        )
    else:
        ids = pd.Series(df.index, index=df.index)
        new = pseudonymise(
            ids, key=key, key_env=key_env, key_file=key_file, prefix=prefix, length=length
        )
        out.index = pd.Index(new.to_numpy(), name=df.index.name)
    return out
