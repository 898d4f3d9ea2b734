"""The ``tim`` command: instruments, scoring, prevalence, data checks, reports, pseudonyms, samples.

Each subcommand imports the library inside its function: the import time of pandas, SciPy and
papermill would otherwise be paid by ``tim --help`` and by every quick command.
"""

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
    from tim_research.instruments import list_instruments, load_instrument

    if args.id:
        print(_describe_instrument(load_instrument(args.id, paths=args.instruments_dir)))
        return 0
    table = list_instruments(paths=args.instruments_dir)
    width = max(len(i) for i in table["id"])
    print(f"{'id':<{width}}  items  instrument")
    for row in table.itertuples():
        name = (
            row.name if len(row.name) <= 100 - width - 9 else row.name[: 100 - width - 12] + "..."
        )
        print(f"{row.id:<{width}}  {row.items:>5}  {name}")
    print("\n`tim instruments ID` shows one instrument's items, answers, scales and options.")
    return 0


def _wrap(text: str, indent: str = "  ") -> str:
    import textwrap

    return textwrap.fill(
        " ".join(str(text).split()), width=100, initial_indent=indent, subsequent_indent=indent
    )


def _describe_instrument(inst: Instrument) -> str:
    """One instrument's rules as plain text of at most 100 columns."""
    lines = [f"{inst.id}: {inst.name}", _wrap(f"version: {inst.version}", ""), ""]
    if inst.caveat:
        lines += [_wrap(inst.caveat, ""), ""]
    lines += ["Citation:", _wrap(inst.citation), "Licence:", _wrap(inst.licence), ""]
    lines.append("Items (short labels; item wording is not shipped):")
    for item in inst.items:
        rev = " (reverse-keyed)" if item.reverse else ""
        label = f"{item.id}: {item.label}{rev} [{item.response_set}]"
        lines.append(_wrap(label))
    lines += ["", "Answers:"]
    for rs in inst.response_sets.values():
        missing = set(rs.missing_codes)
        codes = ", ".join(
            f"{c}={lab}" + (" (missing)" if c in missing else "")
            for c, lab in zip(rs.codes, rs.labels, strict=False)
        )
        lines.append(_wrap(f"{rs.id}: {codes}"))
    lines += ["", "Scales (output column: method of parts; minimum answered):"]
    for scale in inst.scales:
        parts = ", ".join([*scale.items, *scale.scales])
        lines.append(
            _wrap(
                f"{inst.scale_column(scale.id)}: {scale.method} of {parts}; "
                f"min {scale.min_answered}" + ("; prorated" if scale.prorate else "")
            )
        )
        for cut in scale.cutoffs:
            mark = " (default)" if cut.default else ""
            bins = "; ".join(b.label for b in cut.bins)
            lines.append(_wrap(f"cut-offs {cut.id}{mark}: {bins}", "      "))
    if inst.options:
        lines += ["", "Options (--option NAME=CHOICE):"]
        for opt in inst.options.values():
            choices = ", ".join(c + (" (default)" if c == opt.default else "") for c in opt.choices)
            lines.append(_wrap(f"{opt.id}: {choices}. {opt.description}"))
    return "\n".join(lines)


def _check_input(path: Path) -> None:
    if not path.exists():
        raise TimResearchError(f"input file {path} does not exist")
    if not path.is_file():
        raise TimResearchError(f"input file {path} is a folder, not a file")


def _read_input(text: str, id_columns: Sequence[str], *, codes: bool = False) -> pd.DataFrame:
    """Read the input file, ids as text; say on stderr how an unusual CSV was read.

    ``codes``: SPSS/Stata value codes instead of their labels (``tim score --codes``).
    """
    from tim_research.io import READERS, read_table

    path = Path(text)
    if path.suffix.lower() not in READERS:
        raise TimResearchError(
            f"cannot read {text}: the input file must end in one of {', '.join(READERS)}"
        )
    _check_input(path)
    data = read_table(path, text=id_columns, value_labels="codes" if codes else "categorical")
    encoding, delimiter = data.attrs.get("encoding"), data.attrs.get("delimiter")
    if encoding not in (None, "utf-8", "utf-8-sig") or delimiter not in (None, ","):
        names = {",": "comma", ";": "semicolon", "\t": "tab"}
        print(
            f"tim score: note: read {path.name} as {encoding} text with "
            f"{names[delimiter]}-separated fields",
            file=sys.stderr,
        )
    return data


def _first_row(path: str) -> int:
    """Row number of the first data row, as the user's program shows it."""
    # CSV and Excel have a header in row 1; SPSS, Stata and Parquet number cases from 1
    return 2 if Path(path).suffix.lower() in (".csv", ".xlsx", ".xlsm") else 1


def _index_rows(data: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    """Index by --id-column, else by spreadsheet row number, so messages name rows alike."""
    import pandas as pd

    first = _first_row(args.input)
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


def _column_map(text: str) -> dict[str, str]:
    """--columns: pairs, a .toml/.json file, or the name of a map shipped with the package."""
    from tim_research.instruments import column_maps, load_column_map

    if "=" not in text and Path(text).suffix.lower() not in (".json", ".toml"):
        if text.casefold() in column_maps():
            return load_column_map(text)
        raise TimResearchError(
            "--columns: expected KEY=VALUE pairs separated by commas, a .toml/.json file, or "
            f"the name of a shipped map ({', '.join(column_maps())}); got {text!r}"
        )
    return _pairs(text, "--columns")


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
    columns = _column_map(args.columns) if args.columns else None
    cutoffs = _pairs(args.cutoffs, "--cutoffs") if args.cutoffs else None
    keep = list(dict.fromkeys(args.keep or ()))
    data = _index_rows(
        _read_input(args.input, [*(args.id_column or ()), *keep], codes=args.codes), args
    )
    absent = [c for c in keep if c not in data.columns]
    if absent:
        raise TimResearchError(
            f"--keep: {args.input} has no column {', '.join(map(repr, absent))}"
            + (
                " (an --id-column is written anyway)"
                if set(absent) & set(args.id_column or ())
                else ""
            )
        )
    result = score(
        data,
        instruments,
        columns=columns,
        options=options,
        cutoffs=cutoffs,
        on_invalid=args.on_invalid,
        # messages name rows as the user's spreadsheet or SPSS/Stata shows them, never ids
        first_row=_first_row(args.input),
    )
    if keep:
        result = data[keep].join(result)
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
    sidecar = _write_sidecar(out, args, instruments, options, cutoffs, len(result))
    for inst in instruments:
        if inst.caveat:
            print(f"note ({inst.id}): {inst.caveat}", file=sys.stderr)
    print(f"scored {len(result)} rows ({', '.join(i.id for i in instruments)}) -> {out}")
    print(f"scoring choices recorded in {sidecar}")
    return 0


def _write_sidecar(
    out: Path,
    args: argparse.Namespace,
    instruments: Sequence[Instrument],
    options: dict[str, dict[str, str]] | None,
    cutoffs: dict[str, str] | None,
    rows: int,
) -> Path:
    """OUT.json beside the scores: what was scored, how, and by which version of tim."""
    from importlib.metadata import version

    chosen = options or {}
    record = {
        "input": Path(args.input).name,
        "output": out.name,
        "rows": rows,
        "tim_research": version("tim-research"),
        "instruments": [
            {
                "id": inst.id,
                "name": inst.name,
                "version": inst.version,
                "options": {
                    name: chosen.get(inst.id, {}).get(name, opt.default)
                    for name, opt in inst.options.items()
                },
                "cutoff_sets": {
                    inst.scale_column(sc.id): (cutoffs or {}).get(
                        inst.scale_column(sc.id),
                        next((c.id for c in sc.cutoffs if c.default), None),
                    )
                    for sc in inst.scales
                    if sc.cutoffs
                },
            }
            for inst in instruments
        ],
        "on_invalid": args.on_invalid,
        "id_columns": list(args.id_column or []),
        "kept_columns": list(args.keep or []),
    }
    path = out.with_name(out.name + ".json")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)  # as the scores: whole or not at all
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _cmd_prevalence(args: argparse.Namespace) -> int:
    import numpy as np

    from tim_research.io import write_table
    from tim_research.stats.prevalence import prevalence

    out = Path(args.out)
    if out.suffix.lower() not in _WRITERS:
        raise TimResearchError(f"--out must end in one of {', '.join(_WRITERS)}, got {out.name!r}")
    _check_out_folder(out)
    by = list(args.by or [])
    design = {"weights": args.weights, "strata": args.strata, "psu": args.psu, "fpc": args.fpc}
    # labels (states, strata, PSUs) are read as text so that codes such as 04 keep their form
    text_columns = [*by, *(c for c in (args.strata, args.psu) if c)]
    data = _read_input(args.input, text_columns)
    needed = [args.indicator, *by, *(c for c in design.values() if c)]
    absent = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if absent:
        raise TimResearchError(
            f"{args.input} has no column {', '.join(map(repr, absent))}; check --indicator, "
            "--by, --weights, --strata, --psu and --fpc"
        )
    import pandas as pd

    for option, column in (("--weights", args.weights), ("--fpc", args.fpc)):
        # columns carried as text by tim score --keep come back as text: numbers are numbers
        if column and not pd.api.types.is_numeric_dtype(data[column]):
            numbers = pd.to_numeric(data[column], errors="coerce")
            bad = int((numbers.isna() & data[column].notna()).sum())
            if bad:
                raise TimResearchError(
                    f"{option} {column}: {bad} value(s) are not numbers; give a numeric column"
                )
            data[column] = numbers
    indicator = args.indicator
    if args.at_least is not None:
        values = pd.to_numeric(data[indicator], errors="coerce")
        unreadable = values.isna() & data[indicator].notna()
        if unreadable.any():
            raise TimResearchError(
                f"--indicator {indicator}: {int(unreadable.sum())} value(s) are not numbers, so "
                "--at-least cannot compare them; score the file with tim score first"
            )
        indicator = f"{args.indicator}_at_least_{args.at_least:g}"
        data[indicator] = np.where(values.isna(), np.nan, (values >= args.at_least) * 1.0)
    table = prevalence(
        data,
        indicator,
        by=by or None,
        conf_level=args.conf_level,
        min_cell=args.min_cell,
        **design,
    )
    table.insert(0, "indicator", indicator)
    try:
        write_table(table, out)
    except OSError as exc:
        raise TimResearchError(
            f"--out: cannot write {out} ({exc.strerror or type(exc).__name__}); any existing "
            "file is unchanged"
        ) from exc
    shown = table.drop(columns=["indicator", "note"]).to_string(index=False, max_rows=60)
    print(shown)
    kind = "design-based (Taylor linearisation)" if any(design.values()) else "Wilson"
    print(f"{len(table)} row(s), {kind} {args.conf_level:.0%} intervals -> {out}")
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
        mapping=args.mapping,
        pdf=args.pdf,
    )
    index = Path(args.out) / "latest" / "index.html"
    print(f"published batch {result.batch_id}: {index}")
    # executed notebooks and worker logs: owner-only, never linked from the staff index
    print(f"analyst files (owner-only): {Path(args.out) / 'analyst' / result.batch_id}")
    for run in result.skipped:
        print(f"not run: {run.name}: {run.error}")
    if result.failed:
        print(f"{len(result.failed)} run(s) not published:", file=sys.stderr)
        for run in result.failed:
            print(f"  {run.name}: {run.status}: {run.error}", file=sys.stderr)
        return 1
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from tim_research.program.init import init_program

    files = init_program(args.folder, sites=args.sites, cutoff=args.cutoff)
    print(f"wrote an empty data package to {args.folder}: {', '.join(f.name for f in files)}")
    print(
        "next: fill the CSV files or describe your exports in mapping.toml (see CODEBOOK.md), "
        f"set the data cut-off in datapackage.json, then run: tim check {args.folder}"
    )
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from tim_research.program import validate_program

    report = validate_program(args.folder, mapping=args.mapping)
    # every problem, one line each; messages name file, line, column and rule, never a value
    if not report.ok:
        print(report.format(limit=len(report.problems)))
    tables = report.tables
    if report.ok:
        sizes = ", ".join(
            f"{t} {int(n)} rows" for t, n in tables["rows"].items() if not tables["rows"].isna()[t]
        )
        print(f"tim check: {args.folder} is clean ({sizes})")
        return 0
    per_table = report.problems["table"].value_counts(sort=False)
    where = ", ".join(f"{t} {n}" for t, n in per_table.items())
    print(f"tim check: {len(report.problems)} problem(s) in {args.folder} ({where})")
    return 1


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


class _Help(argparse.RawDescriptionHelpFormatter):
    """Help pages that show each option's real default and keep the examples' line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, [], argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _describe(text: str) -> str:
    """A subcommand's description, wrapped (the formatter keeps line breaks as given)."""
    import textwrap

    return textwrap.fill(" ".join(text.split()), width=90)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tim",
        description=_describe("Scoring and analysis for trauma-informed mentoring programs."),
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "instruments",
        help="list the instrument catalogue, or show one instrument",
        description=_describe(
            "List the instruments tim can score, or show one instrument's items, "
            "answer codes, scales, cut-offs and options. Ids are case-insensitive."
        ),
        epilog="examples:\n  tim instruments\n  tim instruments brfss_ace",
        formatter_class=_Help,
    )
    p.add_argument("id", nargs="?", help="an instrument id to show in full")
    p.add_argument(
        "--instruments-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="extra folder of instrument .toml files (repeatable)",
    )
    p.set_defaults(func=_cmd_instruments)

    p = sub.add_parser(
        "score",
        help="score item responses in a CSV/Excel/SPSS/Stata/Parquet file",
        description=_describe(
            "Score each row's item answers with one or more catalogued instruments and "
            "write the scores, one row per input row, with a sidecar OUT.json recording the "
            "instrument versions, options and cut-off sets used."
        ),
        epilog="examples:\n"
        "  tim score answers.csv -i brs cyrm_r --id-column youth_id --out scores.csv\n"
        "  tim score LLCP2022.csv -i brfss_ace --columns brfss --id-column SEQNO \\\n"
        "      --keep _STATE _LLCPWT _STSTR _PSU --out aces.parquet",
        formatter_class=_Help,
    )
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
        help="item=column pairs 'brfss_ace_1=ACEDEPRS,...', a .toml/.json file, or the name "
        "of a shipped map: brfss (BRFSS ACE module variable names, 2019-2023)",
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
        "--keep",
        nargs="+",
        metavar="COL",
        help="input columns to carry into the output unchanged, read as text (e.g. a state, "
        "survey weights, strata)",
    )
    p.add_argument(
        "--on-invalid",
        choices=("raise", "missing"),
        default="raise",
        help="invalid responses: stop with an error (default) or treat as unanswered",
    )
    p.add_argument(
        "--codes",
        action="store_true",
        help="SPSS/Stata input: score the value codes and ignore the value labels' wording "
        "(for labels such as '4 - AGREE'); CSV, Excel and Parquet are read as they are",
    )
    p.add_argument(
        "--instruments-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="extra folder of instrument .toml files (repeatable)",
    )
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser(
        "prevalence",
        help="share of people with an indicator, overall or by group, with survey weights",
        description=_describe(
            "Prevalence of a 0/1 indicator (or of a score at or above a threshold), "
            "overall or by group, with Wilson intervals or, given a survey design, "
            "Taylor-linearised standard errors as R's survey::svymean; groups are domains of the "
            "whole design. Counts below --min-cell are suppressed, with complementary cells."
        ),
        epilog="examples:\n"
        "  tim prevalence aces.parquet --indicator brfss_ace_score --at-least 4 --by _STATE \\\n"
        "      --weights _LLCPWT --strata _STSTR --psu _PSU --out aces_4plus_by_state.csv\n"
        "  tim prevalence youth_scores.csv --indicator brfss_ace_emotional_abuse --out ea.csv",
        formatter_class=_Help,
    )
    p.add_argument("input", help="input file (.csv, .xlsx, .sav, .dta, .parquet)")
    p.add_argument("--indicator", required=True, metavar="COL", help="0/1 column (or a score)")
    p.add_argument(
        "--at-least",
        type=float,
        metavar="X",
        help="count people whose --indicator value is X or more (e.g. an ACE score of 4+)",
    )
    p.add_argument("--by", nargs="+", metavar="COL", help="group column(s): one row per group")
    p.add_argument("--weights", metavar="COL", help="survey weight column")
    p.add_argument("--strata", metavar="COL", help="stratum column")
    p.add_argument("--psu", metavar="COL", help="primary sampling unit column (first stage)")
    p.add_argument("--fpc", metavar="COL", help="finite population correction (first stage)")
    p.add_argument("--min-cell", type=int, default=5, metavar="N", help="smallest count shown")
    p.add_argument("--conf-level", type=float, default=0.95, help="confidence level")
    p.add_argument(
        "--out", "-o", required=True, help="output file (.csv, .xlsx, .parquet, .sav, .dta)"
    )
    p.set_defaults(func=_cmd_prevalence)

    p = sub.add_parser(
        "init",
        help="write an empty data package for your program's own data",
        description=_describe(
            "Write a new folder with every program table's CSV (header only), a "
            "datapackage.json without a synthetic marker, a CODEBOOK.md of the columns, codes "
            "and rules, and a commented mapping.toml for REDCap, Qualtrics, SurveyMonkey or "
            "form exports. The folder must not exist or be empty."
        ),
        epilog="example:\n  tim init our-program --sites Northside Southbank --cutoff 2024-06-30",
        formatter_class=_Help,
    )
    p.add_argument("folder", help="folder to create (or an empty one)")
    p.add_argument(
        "--sites",
        nargs="+",
        required=True,
        metavar="NAME",
        help="the program's site names, in display order",
    )
    p.add_argument(
        "--cutoff",
        metavar="YYYY-MM-DD",
        help="date the data were drawn (default: a placeholder to fill in datapackage.json)",
    )
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser(
        "check",
        help="validate a program data folder and list every problem",
        description=_describe(
            "Check a program data package (its CSVs, or the exports its mapping.toml names) "
            "against the table schemas and the program rules, and list every problem, one per "
            "line: table.column, rule, line of the file, and the fix; cell values are never "
            "shown. Exit status 0 when clean, 1 when there are problems, 2 when the folder or "
            "mapping cannot be read."
        ),
        epilog="examples:\n  tim check data/sample\n"
        "  tim check our-program --mapping exports/mapping.toml",
        formatter_class=_Help,
    )
    p.add_argument("folder", help="data package folder (holding datapackage.json)")
    p.add_argument(
        "--mapping",
        metavar="FILE",
        help="mapping file feeding tables from your exports (default: FOLDER/mapping.toml)",
    )
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser(
        "report",
        help="execute the report notebooks per site and publish HTML",
        description=_describe(
            "Run the report notebooks for the whole program and for each site, check "
            "every page with the safety gate, and publish the batch at OUT/latest/index.html."
        ),
        epilog="examples:\n  tim report --data data/sample --out reports --jobs 2\n"
        "  tim report --data /srv/program --out /srv/reports --resume --wait",
        formatter_class=_Help,
    )
    p.add_argument("--config", default="notebooks/reports.toml", help="report configuration")
    p.add_argument("--data", default="data/sample", help="program data package folder")
    p.add_argument(
        "--mapping",
        default=None,
        metavar="FILE",
        help="mapping of export files to tables (default: mapping.toml in the data folder)",
    )
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
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also print each published report to report.pdf (needs Debian's chromium)",
    )
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "pseudonymise",
        help="replace id columns of a file by keyed pseudonyms",
        description=_describe(
            "Replace the values of id columns by keyed HMAC-SHA256 pseudonyms, stable "
            "for one key; every other column is written unchanged."
        ),
        epilog="example:\n  tim keygen key.bin\n"
        "  tim pseudonymise export.csv clean.csv --columns record_no --key-file key.bin",
        formatter_class=_Help,
    )
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

    p = sub.add_parser(
        "keygen",
        help="write a new random pseudonym key file (mode 0600)",
        description=_describe("Write a new random key for tim pseudonymise, readable by you only."),
        epilog="example:\n  tim keygen ~/.config/tim/key.bin",
        formatter_class=_Help,
    )
    p.add_argument("path", help="key file to create")
    p.set_defaults(func=_cmd_keygen)

    p = sub.add_parser(
        "sample",
        help="write the synthetic sample program (data/sample)",
        description=_describe(
            "Simulate a mentoring program with planted effects and write it as a data "
            "package; nobody in it is real."
        ),
        epilog="example:\n  tim sample --out other --seed 7 --n-youth 300",
        formatter_class=_Help,
    )
    p.add_argument("--out", required=True, help="folder to write")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--n-youth", type=int, default=600, help="number of young people")
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
        except BrokenPipeError:
            # the reader went away (`tim instruments | head`): nothing more to say to it
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            status = 0
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
