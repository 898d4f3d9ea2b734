"""The ``tim`` command: list instruments, score files, write the sample data."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tim_research.errors import TimResearchError, TimResearchWarning

if TYPE_CHECKING:
    import pandas as pd

    from tim_research.instruments import Instrument

__all__ = ["main"]

_WRITERS = (".csv", ".xlsx", ".parquet", ".sav", ".dta")

# The library's errors give advice in Python terms (keyword arguments, pandas methods);
# a command-line user needs the matching option instead.
_CLI_TERMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r'pass on_invalid="missing"', "run again with --on-invalid missing"),
        (r"pass paths=\[folder\]", "pass --instruments-dir FOLDER"),
        (r"columns=\{'(\w+)': 'your_column', \.\.\.\}", r"--columns \1=your_column,..."),
        (r"\(e\.g\. set_index[^)]*\)\)", "(name the id columns with --id-column)"),
        (r"\bcolumns= ", "--columns "),
        (r"\bcutoffs= ", "--cutoffs "),
        (r"\boptions= ", "--option "),
    )
)


def _cli_terms(message: str) -> str:
    """A library message with its Python advice replaced by the command-line option."""
    for pattern, replacement in _CLI_TERMS:
        message = pattern.sub(replacement, message)
    return " ".join(message.split())  # one line on stderr


def _pairs(text: str, what: str) -> dict[str, str]:
    """Read ``a=b,c=d``, or a .json/.toml file holding a flat table, into a dict."""
    path = Path(text)
    if path.suffix.lower() in (".json", ".toml"):
        if not path.is_file():
            raise TimResearchError(f"{what}: no such file {text}; give KEY=VALUE pairs or a file")
        kind = path.suffix.lower()[1:].upper()
        try:
            content = path.read_text(encoding="utf-8")
            raw = json.loads(content) if kind == "JSON" else tomllib.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            # the parsers' messages give line and column, never more than a character
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise TimResearchError(f"{what}: {text} is not valid {kind} ({reason})") from exc
        if not isinstance(raw, dict) or any(isinstance(v, dict | list) for v in raw.values()):
            raise TimResearchError(
                f"{what}: {text} must hold a flat table of KEY = VALUE lines, with no sections"
            )
        return {str(k): str(v) for k, v in raw.items()}
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise TimResearchError(
                f"{what}: expected KEY=VALUE pairs separated by commas, or a .toml/.json file; "
                f"got {part!r}"
            )
        out[key.strip()] = value.strip()
    return out


def _cmd_instruments(args: argparse.Namespace) -> int:
    from tim_research.instruments import list_instruments

    table = list_instruments(paths=args.instruments_dir)
    print(table[["id", "name", "items", "scales"]].to_string(index=False))
    return 0


def _check_input(path: Path) -> None:
    if not path.exists():
        raise TimResearchError(f"input file {path} does not exist")
    if not path.is_file():
        raise TimResearchError(f"input file {path} is a folder, not a file")


def _read_input(text: str, id_columns: Sequence[str]) -> pd.DataFrame:
    """Read the input file, ids as text; say on stderr how an unusual CSV was read."""
    from tim_research.io import READERS, read_table

    path = Path(text)
    if path.suffix.lower() not in READERS:
        raise TimResearchError(
            f"cannot read {text}: the input file must end in one of {', '.join(READERS)}"
        )
    _check_input(path)
    data = read_table(path, text=id_columns)
    encoding, delimiter = data.attrs.get("encoding"), data.attrs.get("delimiter")
    if encoding not in (None, "utf-8", "utf-8-sig") or delimiter not in (None, ","):
        names = {",": "comma", ";": "semicolon", "\t": "tab"}
        print(
            f"tim score: note: read {path.name} as {encoding} text with "
            f"{names[delimiter]}-separated fields",
            file=sys.stderr,
        )
    return data


def _index_rows(data: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    """Index by --id-column, else by spreadsheet row number, so messages name rows alike."""
    import pandas as pd

    # CSV and Excel have a header in row 1; SPSS, Stata and Parquet number cases from 1
    first = 2 if Path(args.input).suffix.lower() in (".csv", ".xlsx", ".xlsm") else 1
    rows = pd.RangeIndex(first, first + len(data))
    if not args.id_column:
        data.index = rows.rename(None if "row" in data.columns else "row")
        return data
    missing = [c for c in args.id_column if c not in data.columns]
    if missing:
        raise TimResearchError(
            f"--id-column: {args.input} has no column {', '.join(map(repr, missing))}; its "
            f"columns are {', '.join(map(repr, map(str, data.columns)))}"
        )
    repeated = data.duplicated(subset=args.id_column, keep=False).to_numpy()
    if repeated.any():
        where = [str(r) for r in rows[repeated][:5]]
        more = f" and {int(repeated.sum()) - 5} more" if repeated.sum() > 5 else ""
        raise TimResearchError(
            f"--id-column {' '.join(args.id_column)}: rows {', '.join(where)}{more} repeat an "
            "id, so scores could not be joined back; name columns that identify each row "
            "together, e.g. --id-column youth_id wave"
        )
    return data.set_index(args.id_column)


def _options(
    args: argparse.Namespace, instruments: Sequence[Instrument]
) -> dict[str, dict[str, str]] | None:
    """--option checked against every listed instrument, keyed by instrument id."""
    if not args.option:
        return None
    options = _pairs(args.option, "--option")
    unknown = [k for k in options if not any(k in i.options for i in instruments)]
    if unknown:
        valid = "; ".join(f"{i.id}: {', '.join(i.options) or 'none'}" for i in instruments)
        raise TimResearchError(
            f"--option: no listed instrument has an option {', '.join(map(repr, unknown))}; "
            f"valid options are {valid}"
        )
    return {i.id: {k: v for k, v in options.items() if k in i.options} for i in instruments}


def _check_out_folder(out: Path) -> None:
    """Fail before scoring when --out cannot be written where it is."""
    for folder in out.absolute().parents:
        if not folder.exists():
            continue
        if not folder.is_dir():
            raise TimResearchError(f"--out: {folder} is a file, not a folder; choose another --out")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise TimResearchError(
                f"--out: cannot write in folder {folder} (permission denied); choose another --out"
            )
        return


def _cmd_score(args: argparse.Namespace) -> int:
    from tim_research.instruments import load_instrument
    from tim_research.io import write_table
    from tim_research.scoring import score

    out = Path(args.out)
    if out.suffix.lower() not in _WRITERS:
        raise TimResearchError(f"--out must end in one of {', '.join(_WRITERS)}, got {out.name!r}")
    _check_out_folder(out)
    instruments = [load_instrument(i, paths=args.instruments_dir) for i in args.instrument]
    options = _options(args, instruments)
    columns = _pairs(args.columns, "--columns") if args.columns else None
    cutoffs = _pairs(args.cutoffs, "--cutoffs") if args.cutoffs else None
    data = _index_rows(_read_input(args.input, args.id_column or ()), args)
    result = score(
        data,
        instruments,
        columns=columns,
        options=options,
        cutoffs=cutoffs,
        on_invalid=args.on_invalid,
    )
    try:
        write_table(result, out)
    except TimResearchError as exc:
        raise TimResearchError(
            "--out: "
            + str(exc).replace(
                "rename the column, or write .csv or .parquet",
                f"write --out {out.with_suffix('.csv').name} or .parquet instead",
            )
        ) from exc
    except OSError as exc:
        raise TimResearchError(
            f"--out: cannot write {out} ({exc.strerror or type(exc).__name__}); check the "
            "disk's free space, the file size limit (ulimit -f) and the folder's permissions; "
            "any existing file is unchanged"
        ) from exc
    for inst in instruments:
        if inst.caveat:
            print(f"note ({inst.id}): {inst.caveat}", file=sys.stderr)
    print(f"scored {len(result)} rows ({', '.join(i.id for i in instruments)}) -> {out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from tim_research.report import run_report

    if args.jobs is not None and args.jobs < 1:
        raise TimResearchError(
            f"--jobs must be 1 or more (leave it out to use every CPU), got {args.jobs}"
        )
    result = run_report(
        config=args.config,
        data=args.data,
        out=args.out,
        jobs=args.jobs,
        only=args.only or (),
        resume=args.resume,
        executor=args.executor,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        wait=args.wait,
    )
    index = Path(args.out) / "latest" / "index.html"
    print(f"published batch {result.batch_id}: {index}")
    if result.failed:
        print(f"{len(result.failed)} run(s) not published:", file=sys.stderr)
        for run in result.failed:
            print(f"  {run.name}: {run.status}: {run.error}", file=sys.stderr)
        return 1
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from tim_research import synth

    synth.write_sample(args.out, seed=args.seed, n_youth=args.n_youth)
    print(f"wrote the synthetic sample program (seed {args.seed}) to {args.out}")
    return 0


def _cmd_pseudonymise(args: argparse.Namespace) -> int:
    from tim_research.privacy import pseudonymise_file

    _check_input(Path(args.input))
    out = pseudonymise_file(
        args.input,
        args.output,
        columns=args.columns,
        key_env=args.key_env,
        key_file=args.key_file,
        prefix=args.prefix,
        length=args.length,
    )
    print(f"wrote {args.output}: {len(out)} rows; pseudonymised {', '.join(args.columns)}")
    return 0


def _cmd_keygen(args: argparse.Namespace) -> int:
    from tim_research.privacy import make_key_file

    path = make_key_file(args.path)
    print(f"wrote a new pseudonym key to {path} (readable by you only); keep it off shared drives")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tim",
        description="Scoring and analysis for trauma-informed mentoring programs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("instruments", help="list the instrument catalogue")
    p.add_argument(
        "--instruments-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="extra folder of instrument .toml files (repeatable)",
    )
    p.set_defaults(func=_cmd_instruments)

    p = sub.add_parser("score", help="score item responses in a CSV/Excel/SPSS/Stata/Parquet file")
    p.add_argument("input", help="input file (.csv, .xlsx, .sav, .dta, .parquet)")
    p.add_argument(
        "--instrument",
        "-i",
        nargs="+",
        required=True,
        metavar="ID",
        help="instrument id(s), e.g. brs ace10, or .toml file(s)",
    )
    p.add_argument(
        "--out", "-o", required=True, help="output file (.csv, .xlsx, .parquet, .sav, .dta)"
    )
    p.add_argument(
        "--columns",
        metavar="MAP",
        help="item=column pairs 'brfss_ace_1=ACEDEPRS,...' or a .toml/.json file",
    )
    p.add_argument(
        "--option", metavar="MAP", help="scoring options 'emotional_abuse=more_than_once,...'"
    )
    p.add_argument(
        "--cutoffs", metavar="MAP", help="non-default cut-off sets 'ace10_score=cdc_2019,...'"
    )
    p.add_argument(
        "--id-column",
        nargs="+",
        metavar="COL",
        help="column(s) that identify a row, read as text and written first in the output "
        "(default: a column 'row' with the spreadsheet row number)",
    )
    p.add_argument(
        "--on-invalid",
        choices=("raise", "missing"),
        default="raise",
        help="invalid responses: stop with an error (default) or treat as unanswered",
    )
    p.add_argument(
        "--instruments-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="extra folder of instrument .toml files (repeatable)",
    )
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("report", help="execute the report notebooks per site and publish HTML")
    p.add_argument("--config", default="notebooks/reports.toml", help="report configuration")
    p.add_argument("--data", default="data/sample", help="program data package folder")
    p.add_argument("--out", default="reports", help="output folder (batches and 'latest')")
    p.add_argument("--jobs", type=int, default=None, help="runs at once (default: CPU count)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these [[run]] names")
    p.add_argument(
        "--resume",
        action="store_true",
        help="re-use successful runs of the latest batch; run failed or missing ones",
    )
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--scheduler", help="Dask scheduler address for --executor dask")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--wait",
        action="store_true",
        help="if another batch is writing to --out, wait for it instead of stopping",
    )
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("pseudonymise", help="replace id columns of a file by keyed pseudonyms")
    p.add_argument("input", help="input file (.csv, .xlsx, .sav, .dta, .parquet)")
    p.add_argument("output", help="output file (.csv, .xlsx, .parquet, .sav, .dta)")
    p.add_argument(
        "--columns",
        "-c",
        nargs="+",
        required=True,
        metavar="COL",
        help="columns holding ids to replace",
    )
    p.add_argument(
        "--key-file",
        metavar="PATH",
        help="key file (default: $TIM_PSEUDONYM_KEY, then $TIM_PSEUDONYM_KEY_FILE)",
    )
    p.add_argument(
        "--key-env",
        default="TIM_PSEUDONYM_KEY",
        metavar="NAME",
        help="environment variable holding the key",
    )
    p.add_argument("--prefix", default="P", help="pseudonym prefix")
    p.add_argument("--length", type=int, default=12, help="pseudonym length")
    p.set_defaults(func=_cmd_pseudonymise)

    p = sub.add_parser("keygen", help="write a new random pseudonym key file (mode 0600)")
    p.add_argument("path")
    p.set_defaults(func=_cmd_keygen)

    p = sub.add_parser("sample", help="write the synthetic sample program (data/sample)")
    p.add_argument("--out", required=True, help="folder to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-youth", type=int, default=600)
    p.set_defaults(func=_cmd_sample)
    return parser


def _error(command: str, message: str) -> None:
    print(f"tim {command}: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tim`` command line; returns the exit status."""
    args = _parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TimResearchWarning)
        try:
            status = int(args.func(args))
        except TimResearchError as exc:
            _error(args.command, _cli_terms(str(exc)))
            status = 2
        except KeyboardInterrupt as exc:
            # Ctrl-C or a scheduler's SIGTERM: work in progress was cleaned up on the way out
            by_term = "signal 15" in str(exc)
            print(f"tim {args.command}: stopped; nothing was published", file=sys.stderr)
            status = 143 if by_term else 130
        except OSError as exc:
            if exc.filename and exc.strerror:
                message = f"cannot use {exc.filename} ({exc.strerror})"
            else:  # raised by tim_research itself with its own words, e.g. "no such file: x"
                message = str(exc) or type(exc).__name__
            _error(args.command, " ".join(message.split()))
            status = 2
        except Exception as exc:
            # a bug, not a user mistake: say so in one line (its message may quote data values);
            # TIM_DEBUG=1 shows the traceback for the report
            if os.environ.get("TIM_DEBUG"):
                raise
            _error(
                args.command,
                f"unexpected {type(exc).__name__}, a bug in tim; please report it with the "
                "command you ran (set TIM_DEBUG=1 to see the details)",
            )
            status = 3
    for w in caught:
        if issubclass(w.category, TimResearchWarning):
            print(f"tim {args.command}: warning: {_cli_terms(str(w.message))}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
