"""The ``tim`` command: list instruments, score files, write the sample data."""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path

from tim_research.errors import TimResearchError, TimResearchWarning

__all__ = ["main"]

_WRITERS = {".csv", ".xlsx", ".parquet", ".sav", ".dta"}


def _pairs(text: str, what: str) -> dict[str, str]:
    """Read ``a=b,c=d``, or a .json/.toml file holding a flat table, into a dict."""
    path = Path(text)
    if path.suffix in (".json", ".toml") and path.is_file():
        raw = (
            json.loads(path.read_text())
            if path.suffix == ".json"
            else tomllib.loads(path.read_text())
        )
        return {str(k): str(v) for k, v in raw.items()}
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise TimResearchError(f"{what}: expected KEY=VALUE, got {part!r}")
        out[key.strip()] = value.strip()
    return out


def _cmd_instruments(args: argparse.Namespace) -> int:
    from tim_research.instruments import list_instruments

    table = list_instruments(paths=args.instruments_dir)
    print(table[["id", "name", "items", "scales"]].to_string(index=False))
    return 0


def _write(frame, out: Path) -> None:
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(out)
    elif suffix == ".xlsx":
        frame.to_excel(out)
    elif suffix == ".parquet":
        frame.to_parquet(out)
    else:
        import pyreadstat

        flat = frame.reset_index()
        for col in flat.columns:
            if str(flat[col].dtype) == "category":
                flat[col] = flat[col].astype(str).replace("nan", "")
        writer = pyreadstat.write_sav if suffix == ".sav" else pyreadstat.write_dta
        writer(flat, str(out))


def _cmd_score(args: argparse.Namespace) -> int:
    from tim_research.instruments import load_instrument
    from tim_research.io import read_table
    from tim_research.scoring import score

    out = Path(args.out)
    if out.suffix.lower() not in _WRITERS:
        raise TimResearchError(
            f"--out must end in one of {', '.join(sorted(_WRITERS))}, got {out.name!r}"
        )
    data = read_table(args.input)
    if args.id_column:
        missing = [c for c in args.id_column if c not in data.columns]
        if missing:
            raise TimResearchError(f"--id-column: {args.input} has no column {missing}")
        data = data.set_index(args.id_column)
    instruments = [load_instrument(i, paths=args.instruments_dir) for i in args.instrument]
    options = _pairs(args.option, "--option") if args.option else None
    if options and len(instruments) > 1:
        options = {i.id: {k: v for k, v in options.items() if k in i.options} for i in instruments}
    result = score(
        data,
        instruments,
        columns=_pairs(args.columns, "--columns") if args.columns else None,
        options=options,
        cutoffs=_pairs(args.cutoffs, "--cutoffs") if args.cutoffs else None,
        on_invalid=args.on_invalid,
    )
    _write(result, out)
    for inst in instruments:
        if inst.caveat:
            print(f"note ({inst.id}): {inst.caveat}", file=sys.stderr)
    print(f"scored {len(result)} rows ({', '.join(i.id for i in instruments)}) -> {out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from tim_research.report import run_report

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
        help="column(s) that identify a row; kept as the output's index",
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tim`` command line; returns the exit status."""
    args = _parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TimResearchWarning)
        try:
            status = int(args.func(args))
        except TimResearchError as exc:
            print(f"tim {args.command}: error: {exc}", file=sys.stderr)
            status = 2
        except KeyboardInterrupt as exc:
            # Ctrl-C or a scheduler's SIGTERM: work in progress was cleaned up on the way out
            by_term = "signal 15" in str(exc)
            print(f"tim {args.command}: stopped; nothing was published", file=sys.stderr)
            status = 143 if by_term else 130
    for w in caught:
        if issubclass(w.category, TimResearchWarning):
            print(f"tim {args.command}: warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
