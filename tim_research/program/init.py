"""An empty data package for a program to fill with its own data (``tim init``).

:func:`init_program` writes, into a new or empty folder, one CSV per program table with its
header only, a ``datapackage.json`` with the table schemas (and no synthetic marker: the data
will be real), a ``CODEBOOK.md`` generated from the same schemas, so it cannot drift from what
:func:`~tim_research.program.validate_program` checks, and a commented ``mapping.toml`` for
programs whose data come from REDCap, Qualtrics, SurveyMonkey or a form
(:mod:`tim_research.io.mapping`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tim_research.errors import DataError
from tim_research.io.mapping import MAPPING_FILE
from tim_research.program.package import _codebook, write_program
from tim_research.program.schema import TABLES, Program, field_dtype, table_schemas

__all__ = ["CUTOFF_PLACEHOLDER", "MAPPING_TEMPLATE", "init_program"]

CUTOFF_PLACEHOLDER = "YYYY-MM-DD"
"""What ``datapackage.json`` holds as the cut-off until the program writes its own date."""

RULES = """\
## Rules checked by `tim check`

Beyond each column's type and allowed values (above):

- Ids are unique where the table says so; every `youth_id`, `mentor_id` and `match_id` that
  another table names exists in its own table.
- A match does not end before it starts, nor start before the youth enrolled. A closed match
  (with `end_date`) has a `closure_reason`; an open one has none.
- Meetings fall inside their match (an open match runs to the cut-off).
- No date is after the data cut-off (`tim_research.cutoff_date` in `datapackage.json`: the
  date the data were drawn; write it as YYYY-MM-DD).
- `months` fits `wave` (baseline 0, 6m 6, 12m 12); only completed surveys have a
  `survey_date` and answers.
- No column holds names, e-mail addresses, phone numbers, street addresses or dates of birth.

## Filling the package

Fill the CSV files (UTF-8, comma-separated, dates YYYY-MM-DD, empty cell = missing), or
leave them empty and describe your exports in `mapping.toml`: which file feeds which table,
its format (redcap, qualtrics, surveymonkey, sheet, csv), its column names and answer labels.
A table you do not have (meetings, say): delete its CSV and its entry under `resources` in
`datapackage.json`. Then run `tim check FOLDER` until it reports no problem, and
`tim report --data FOLDER`.
"""

MAPPING_TEMPLATE = """\
# mapping.toml: which of your exports feeds which program table, and how.
# Every line here is a comment until you remove its "#". A table fed here is read from your
# export; its CSV in this folder stays empty. Paths are relative to this file. The tables and
# their columns, codes and rules are in CODEBOOK.md. Check with:  tim check THIS_FOLDER
# Plain keys (file, format, missing, empty) go first in each block, before its [sub-tables].
#
# format = "redcap"        records CSV ("CSV (raw data)" or "CSV (labels)") + data dictionary
#          "qualtrics"     CSV download with its three header rows; columns named Q1, Q3_2, ...
#          "surveymonkey"  CSV download with its two header rows; a column is named by its
#                          question, or "question | option" where a question has a column per
#                          option (tick-all-that-apply, matrix rows)
#          "sheet"         Google Forms / Excel download: headers are the question text
#          "csv"           any CSV or Excel file with one header row
#
# --- youth, from a REDCap intake form -------------------------------------------------------
# [youth]
# file = "intake_records.csv"
# format = "redcap"
# dictionary = "intake_dictionary.csv"
#
# [youth.columns]              # table column = export column
# youth_id = "record_id"
# site = "site"
# age = "age"
# gender = "gender"
# race_ethnicity = "race"
# referral_source = "referral"
# enrolment_date = "intake_date"
# comparison = "waitlist"
#
# [youth.codes.site]           # answer in the export = value in the table
# "1" = "North"
# "2" = "South"
#
# [youth.codes.comparison]
# "1" = true
# "0" = false
#
# --- baseline surveys, from a Qualtrics survey ------------------------------------------------
# [[surveys]]                  # [[...]]: one block per export feeding the table
# file = "baseline_survey.csv"
# format = "qualtrics"
# missing = ["Prefer not to say"]   # answers that mean "no answer"
# empty = ["cyrm_r"]                # columns or item groups this export does not hold
#
# [surveys.columns]
# youth_id = "youth_code"
# survey_date = "RecordedDate"
# brs_1 = "Q4_1"
#
# [surveys.set]                # one value for every row of this export
# wave = "baseline"
# months = 0
# status = "completed"
#
# [surveys.codes.brs]          # a code table for a column, or for an item group (brs_1..brs_6)
# "Strongly disagree" = 1
# "Disagree" = 2
# "Neutral" = 3
# "Agree" = 4
# "Strongly agree" = 5
#
# [surveys.dates]              # how the export writes dates (strftime codes)
# survey_date = "%Y-%m-%d %H:%M:%S"
#
# [[surveys.multiselect]]      # a tick-all-that-apply question -> one 0/1 item per option
# question = "Before you turned 18, did any of these happen?"
# separator = ", "             # in one cell (Google Forms); leave out for a column per option
# none = "None of these"       # every item 0
# decline = "Prefer not to say"     # every item missing
# [surveys.multiselect.options]
# "A parent or adult often swore at me or put me down" = "ace10_1"
"""


def _empty_program(sites: Sequence[str]) -> Program:
    schemas = table_schemas(sites=sites)
    frames = {
        table: pd.DataFrame(
            {f["name"]: pd.Series([], dtype=field_dtype(f)) for f in schemas[table]["fields"]}
        )
        for table in TABLES
    }
    # a stand-in: the package gets the placeholder, which the program replaces with its date
    return Program(**frames, cutoff=pd.Timestamp("2000-01-01"))


def init_program(
    folder: str | Path,
    *,
    sites: Sequence[str],
    cutoff: str | None = None,
    name: str = "mentoring-program",
    title: str = "Mentoring program data",
) -> list[Path]:
    """Write an empty data package for a program to fill.

    Parameters
    ----------
    folder
        A folder that does not exist yet, or an empty one.
    sites
        The program's site names (the allowed values of every ``site`` column), in display
        order.
    cutoff
        The data cut-off (YYYY-MM-DD); default: the placeholder ``"YYYY-MM-DD"``, which
        ``tim check`` reports until the program writes the date its data were drawn.
    name, title
        Package metadata.

    Returns
    -------
    list of pathlib.Path
        The CSV files, ``datapackage.json``, ``CODEBOOK.md`` and ``mapping.toml``.

    Raises
    ------
    DataError
        ``folder`` holds files, or a site name is empty or repeated, or ``cutoff`` is not a
        date. Nothing is written then; the files appear all together or not at all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from tim_research.program import validate_program
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = init_program(pathlib.Path(d) / "ours", sites=["Eastside", "Westside"])
    ...     report = validate_program(pathlib.Path(d) / "ours")
    >>> [f.name for f in files][-3:]
    ['datapackage.json', 'CODEBOOK.md', 'mapping.toml']
    >>> report.problems["check"].tolist()
    ['package']
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DataError(
            f"{folder} is not an empty folder; give a new folder name (nothing was written)"
        )
    sites = [str(s).strip() for s in sites]
    if not sites or any(not s for s in sites) or len(set(sites)) != len(sites):
        raise DataError("sites must be one or more different, non-empty site names")
    if cutoff is not None:
        try:
            stamp = pd.Timestamp(cutoff)
        except ValueError:
            stamp = pd.NaT
        if pd.isna(stamp) or str(stamp.date()) != cutoff:
            raise DataError(f"cutoff must be a date written as YYYY-MM-DD, got {cutoff!r}")
    parent = folder.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}."))
    try:
        program = _empty_program(sites)
        written = write_program(program, staging, name=name, title=title)
        dp = staging / "datapackage.json"
        package = json.loads(dp.read_text(encoding="utf-8"))
        package["tim_research"]["cutoff_date"] = cutoff or CUTOFF_PLACEHOLDER
        dp.write_text(
            json.dumps(package, indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
            newline="\n",
        )
        book = _codebook(package, program).replace(", 0 rows)", ")")
        (staging / "CODEBOOK.md").write_text(book + "\n" + RULES, encoding="utf-8", newline="\n")
        (staging / MAPPING_FILE).write_text(MAPPING_TEMPLATE, encoding="utf-8", newline="\n")
        written.append(staging / MAPPING_FILE)
        if folder.exists():
            for f in written:
                f.rename(folder / f.name)
            staging.rmdir()
        else:
            staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [folder / f.name for f in written]
