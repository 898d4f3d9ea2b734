"""A read-only copy of a validated program, written once per report batch for its kernels.

``tim report`` reads and validates the data package once and writes the typed tables as
Parquet plus ``program.json`` (cut-off, the package's ``tim_research`` metadata, the data
fingerprint, the columns allowed as identifiers and the validation summary) into an owner-only
folder of the analyst staging area. It points the report kernels at it with the environment
variable :data:`CACHE_ENV`; :func:`load_program` uses the copy only when it was made from the
same data (same fingerprint and folder) with no more identifier allowances than asked for, and
otherwise reads the package with :func:`~tim_research.program.read_program` as a notebook run
alone does.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tim_research.errors import TimResearchError
from tim_research.io.mapping import load_mapping
from tim_research.program.package import _allowed, package_effects, read_program
from tim_research.program.schema import REQUIRED_TABLES, TABLES, Program

__all__ = ["CACHE_ENV", "data_fingerprint", "load_program", "read_cache", "write_cache"]

#: environment variable naming the cache folder of the running batch
CACHE_ENV = "TIM_PROGRAM_CACHE"
_META = "program.json"
_FORMAT = 2  # 2: lists the tables present (optional tables)


_DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".toml", ".xlsx", ".xls")


def data_fingerprint(folder: str | Path, *, mapping: str | Path | None = None) -> str:
    """SHA-256 over the names and bytes of a program's data files.

    Data files are the tables and exports in the folder itself (``.csv``, ``.tsv``, ``.txt``,
    ``.xlsx``, ``.xls``), the package description (``.json``), the mapping (``.toml``) and
    every export file the mapping names (``mapping``, or else the folder's ``mapping.toml``),
    wherever it lies: a change to any of them, the mapping alone included, gives a new
    fingerprint. Subfolders are not read otherwise, so a cache or report kept inside the
    folder does not change it.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "youth.csv").write_text("youth_id,site")
    ...     before = data_fingerprint(d)
    ...     _ = (Path(d) / "mapping.toml").write_text("# no tables")
    ...     before == data_fingerprint(d)
    False
    """
    root = Path(folder)
    files = {
        p.resolve() for p in root.glob("*") if p.is_file() and p.suffix.lower() in _DATA_SUFFIXES
    }
    mapping = root / "mapping.toml" if mapping is None else Path(mapping)
    if mapping.is_file():
        files.add(mapping.resolve())
        try:
            sources = load_mapping(mapping).sources
        except TimResearchError:
            sources = ()  # a broken mapping is reported by the check; its own bytes still count
        for source in sources:
            for path in (source.file, source.dictionary):
                if path is not None and Path(path).is_file():
                    files.add(Path(path).resolve())
    digest = hashlib.sha256()
    for path in sorted(files):
        name = path.relative_to(root.resolve()) if path.is_relative_to(root.resolve()) else path
        digest.update(str(name).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _private_file(path: Path) -> int:
    # tables of real youth: owner-only from creation, whatever the umask
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def write_cache(
    program: Program,
    folder: str | Path,
    *,
    data_dir: str | Path,
    allow_identifiers: Sequence[str] = (),
    fingerprint: str | None = None,
    mapping: str | Path | None = None,
) -> Path:
    """Write ``program`` (read from ``data_dir``) to ``folder`` for :func:`read_cache`.

    Parameters
    ----------
    program
        The program as :func:`~tim_research.program.read_program` returned it.
    folder
        Cache folder, created owner-only (0700, files 0600).
    data_dir
        The data package it was read from.
    allow_identifiers
        The allowances it was read with; a reader asking for fewer gets no copy.
    fingerprint
        :func:`data_fingerprint` of ``data_dir`` when already known.
    mapping
        The mapping file the program was read with, when it is not the folder's own
        ``mapping.toml``; the copy is valid only while it, too, is unchanged.

    Returns
    -------
    Path
        ``folder``.
    """
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    data_dir = Path(data_dir).resolve()
    for name, frame in program.tables().items():
        with os.fdopen(_private_file(folder / f"{name}.parquet"), "wb") as fh:
            frame.to_parquet(fh)
    package = json.loads((data_dir / "datapackage.json").read_text(encoding="utf-8"))
    meta = {
        "format": _FORMAT,
        "data_dir": str(data_dir),
        "mapping": None if mapping is None else str(Path(mapping).resolve()),
        "fingerprint": fingerprint or data_fingerprint(data_dir, mapping=mapping),
        "cutoff": program.cutoff.isoformat(),
        "tim_research": package.get("tim_research"),
        "allow_identifiers": sorted(_allowed(allow_identifiers)),
        "validation": {
            "ok": True,
            "rows": {name: len(frame) for name, frame in program.tables().items()},
        },
        # the tables present; an optional table the program does not have is absent here too
        "tables": list(program.available),
    }
    # written last, and whole (renamed into place): a reader waiting for the copy sees no
    # half-written file, and a folder without it (an interrupted write) is never used
    partial = folder / f".{_META}.partial"
    with os.fdopen(_private_file(partial), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)
    os.replace(partial, folder / _META)
    return folder


def _wait_for_meta(folder: Path, timeout: float) -> None:
    """Wait while ``folder`` exists without its ``program.json``: the copy is being written.

    A batch creates the folder before its kernels start and writes the copy while their
    first cells import the stack; a folder that disappears (the batch stopped) or stays
    incomplete past ``timeout`` seconds ends the wait, and the caller reads the package.
    """
    deadline = time.monotonic() + timeout
    while folder.is_dir() and not (folder / _META).exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def read_cache(
    folder: str | Path,
    data_dir: str | Path,
    *,
    allow_identifiers: Sequence[str] = (),
    wait: float = 120.0,
) -> Program | None:
    """The cached program of ``data_dir``, or ``None`` when the cache does not apply.

    A cache folder that exists without its ``program.json`` is still being written by the
    batch: the reader waits for it, at most ``wait`` seconds. The copy applies when it holds
    every table the program has (an optional table the program lacks stays ``None``), was
    written from the same folder with the same data files (fingerprint), and with no
    identifier allowance beyond ``allow_identifiers`` (so a package refused without an
    allowance is still refused).
    """
    folder = Path(folder)
    data_dir = Path(data_dir).resolve()
    _wait_for_meta(folder, wait)
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(meta, dict)
        or meta.get("format") != _FORMAT
        or meta.get("data_dir") != str(data_dir)
        or not set(meta.get("allow_identifiers", ["?"])) <= _allowed(allow_identifiers)
        or not (meta.get("validation") or {}).get("ok")
    ):
        return None
    mapping = meta.get("mapping")
    if mapping is not None and not isinstance(mapping, str):
        return None
    if meta.get("fingerprint") != data_fingerprint(data_dir, mapping=mapping):
        return None  # the data changed since the batch read them
    present = meta.get("tables")
    if not isinstance(present, list) or not set(REQUIRED_TABLES) <= set(present) <= set(TABLES):
        return None
    try:
        frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in present}
    except OSError:
        return None
    return Program(
        **frames,
        cutoff=pd.Timestamp(meta["cutoff"]),
        effects=package_effects({"tim_research": meta.get("tim_research")}),
    )


def load_program(data_dir: str | Path, *, allow_identifiers: Sequence[str] = ()) -> Program:
    """:func:`read_program`, served from the batch's cache (:data:`CACHE_ENV`) when it applies."""
    cache = os.environ.get(CACHE_ENV)
    if cache:
        program = read_cache(cache, data_dir, allow_identifiers=allow_identifiers)
        if program is not None:
            return program
    return read_program(data_dir, allow_identifiers=allow_identifiers)
