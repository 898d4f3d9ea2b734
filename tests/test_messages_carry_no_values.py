"""Validation of a data package never repeats a cell value or an id in what it reports.

Identifying values are planted in a copy of ``data/sample`` so that every rule of
``read_program``/``validate_program`` fires; none of them may appear in a message, in
``format()``, in the problems table or in the exception text, and every problem must still
say where it is (table, column and, for a row, the line of the CSV file).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tim_research.errors import ProgramValidationError
from tim_research.program import read_program, validate_program

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

NAME = "Jane Smith"
EMAIL = "jane.smith@example.org"
PHONE = "+44 7700 900123"
KEY = "Y0005"  # an id that exists in the sample, planted again as a duplicate
MENTOR = "M31337"  # a mentor id that does not exist
# dates planted into date columns: none is the cut-off or a date the rules print
DATES = {
    "after_cutoff": "2031-07-08",
    "date_order": "2001-02-03",
    "before_enrolment": "2001-04-05",
    "within_match": "2002-03-04",
    "status": "2003-05-06",
}
BIG, SMALL = "987654", "-31337"

PLANTED = [NAME, "Jane", "Smith", EMAIL, "example.org", PHONE, "7700", KEY, MENTOR, BIG, SMALL]
PLANTED += list(DATES.values())

ROW_RULES = {
    "type",
    "required",
    "enum",
    "minimum",
    "maximum",
    "pattern",
    "unique",
    "primary_key",
    "foreign_key",
    "date_order",
    "closure_reason",
    "before_enrolment",
    "within_match",
    "after_cutoff",
    "wave_months",
    "status",
}
COLUMN_RULES = {"identifier", "header"}


def _load(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def _save(folder: Path, table: str, df: pd.DataFrame) -> None:
    df.to_csv(folder / f"{table}.csv", index=False, lineterminator="\n")


def _first(mask: pd.Series, skip: set[int]) -> int:
    """First row of a mask not used yet (so that each plant has a row of its own)."""
    for i in np.flatnonzero(mask.to_numpy(dtype=bool)):
        if int(i) not in skip:
            skip.add(int(i))
            return int(i)
    raise AssertionError("the sample has no row to plant this value in")


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("planted") / "pkg"
    shutil.copytree(SAMPLE, folder)

    youth = _load(folder, "youth")
    assert KEY in set(youth["youth_id"])  # the duplicate below repeats a real id
    youth.loc[0, "gender"] = NAME  # enum
    youth.loc[1, "age"] = PHONE  # type
    youth.loc[2, "age"] = BIG  # maximum
    youth.loc[3, "age"] = SMALL  # minimum
    youth.loc[5, "referral_source"] = ""  # required
    youth.loc[6, "youth_id"] = KEY  # unique and primary key
    youth.loc[7, "enrolment_date"] = DATES["after_cutoff"]
    # a column outside the schema holding contact details: header and identifier
    youth["guardian_contact"] = ""
    youth.loc[0, "guardian_contact"] = EMAIL
    youth.loc[1, "guardian_contact"] = PHONE
    _save(folder, "youth", youth)

    mentors = _load(folder, "mentors")
    mentors.loc[0, "mentor_id"] = NAME  # pattern; a name in a free-text column: identifier
    mentors.loc[1, "training_hours"] = EMAIL  # type
    _save(folder, "mentors", mentors)

    matches = _load(folder, "matches")
    used: set[int] = set()
    closed, open_ = matches["end_date"] != "", matches["end_date"] == ""
    matches.loc[_first(closed, used), "end_date"] = DATES["date_order"]
    matches.loc[_first(closed, used), "closure_reason"] = ""
    matches.loc[_first(open_, used), "closure_reason"] = "safety concern"
    matches.loc[_first(closed, used), "start_date"] = DATES["before_enrolment"]
    matches.loc[_first(closed, used), "mentor_id"] = MENTOR  # foreign key
    matches.loc[_first(closed, used), "match_id"] = ""  # primary key incomplete
    _save(folder, "matches", matches)

    meetings = _load(folder, "meetings")
    meetings.loc[5, "date"] = DATES["within_match"]
    _save(folder, "meetings", meetings)

    surveys = _load(folder, "surveys")
    used = set()
    done, not_done = surveys["status"] == "completed", surveys["status"] != "completed"
    surveys.loc[_first(done, used), "survey_date"] = ""
    surveys.loc[_first(not_done, used), "survey_date"] = DATES["status"]
    surveys.loc[_first(not_done, used), "brs_1"] = "3"
    surveys.loc[_first(done & (surveys["wave"] == "baseline"), used), "months"] = "12"
    _save(folder, "surveys", surveys)
    return folder


@pytest.fixture(scope="module")
def outcome(planted):
    report = validate_program(planted)
    with pytest.raises(ProgramValidationError) as info:
        read_program(planted)
    # allowed, the identifier columns no longer stop reading: the full list of problems
    allowed = ["youth.guardian_contact", "mentors.mentor_id", "mentors.training_hours"]
    assert {
        f"{t}.{c}"
        for t, c in report.problems.query("check == 'identifier'")[["table", "column"]].itertuples(
            index=False
        )
    } == set(allowed)
    with pytest.raises(ProgramValidationError) as full:
        read_program(planted, allow_identifiers=allowed)
    return report, [str(info.value), str(full.value)]


def test_every_rule_fires(outcome):
    report, _ = outcome
    assert ROW_RULES | COLUMN_RULES <= set(report.problems["check"])


def test_no_planted_value_appears_anywhere(outcome):
    report, errors = outcome
    texts = {
        "messages": "\n".join(report.problems["message"]),
        "format": report.format(limit=100_000),
        "problems": report.problems.to_string(),
        "problems (csv)": report.problems.to_csv(),
        "summary": report.summary().to_string(),
        "html": report._repr_html_(),
        "read_program": errors[0],
        "read_program, identifiers allowed": errors[1],
    }
    for where, text in texts.items():
        for value in PLANTED:
            assert value not in text, f"{value!r} appears in the {where}"


def test_problems_hold_no_value_or_key_column(outcome):
    report, _ = outcome
    assert list(report.problems.columns) == ["table", "column", "line", "check", "message"]


def test_every_problem_names_table_column_and_line(outcome):
    report, errors = outcome
    problems = report.problems
    lines = report.format(limit=100_000).splitlines()
    assert len(lines) == len(problems)
    for (_, row), text in zip(problems.iterrows(), lines, strict=True):
        assert row["table"] and row["column"], row.to_dict()
        assert text.lstrip().startswith(f"{row['table']}.{row['column']} [{row['check']}]")
        if row["check"] in ROW_RULES:
            assert not pd.isna(row["line"]) and row["line"] >= 2, row.to_dict()
            assert f" line {row['line']}:" in text
        else:
            assert pd.isna(row["line"])
    # the exception text carries the same located lines
    assert lines[0].strip() in errors[1]


def test_lines_point_at_the_planted_rows(outcome):
    report, _ = outcome
    p = report.problems
    # the header is line 1, so data row i is line i + 2
    where = set(zip(p["table"], p["column"], p["check"], p["line"].astype("float")))
    for expected in [
        ("youth", "gender", "enum", 2),
        ("youth", "age", "type", 3),
        ("youth", "age", "maximum", 4),
        ("youth", "age", "minimum", 5),
        ("youth", "referral_source", "required", 7),
        ("youth", "youth_id", "unique", 8),
        ("youth", "youth_id", "unique", 6),
        ("youth", "enrolment_date", "after_cutoff", 9),
        ("meetings", "date", "within_match", 7),
    ]:
        assert expected in where, expected
    # a repeated key names the other line holding it, never the key
    dup = p[(p["table"] == "youth") & (p["check"] == "primary_key")]
    assert set(dup["line"]) == {6, 8}
    assert "line 6" in dup.loc[dup["line"] == 8, "message"].iloc[0]


def test_package_and_file_problems_carry_no_values(tmp_path):
    folder = tmp_path / "pkg"
    shutil.copytree(SAMPLE, folder)
    dp = json.loads((folder / "datapackage.json").read_text())
    dp["tim_research"]["cutoff_date"] = f"{DATES['status']} ({NAME})"
    (folder / "datapackage.json").write_text(json.dumps(dp))
    (folder / "meetings.csv").unlink()
    report = validate_program(folder)
    assert {"package", "file"} <= set(report.problems["check"])
    with pytest.raises(ProgramValidationError) as info:
        read_program(folder)
    for text in (report.format(), report.problems.to_string(), str(info.value)):
        for value in (NAME, DATES["status"]):
            assert value not in text
    cut = report.problems[report.problems["check"] == "package"].iloc[0]
    assert (cut["table"], cut["column"]) == ("datapackage", "tim_research.cutoff_date")
