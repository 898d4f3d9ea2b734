"""Tests of tim_research.io: file readers and data package validation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tim_research import synth
from tim_research.errors import DataError, ProgramValidationError
from tim_research.io import read_table, write_table
from tim_research.program import (
    ValidationReport,
    read_program,
    validate_program,
    write_program,
)
from tim_research.program.schema import TABLES

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def small_package(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("package")
    synth.write_sample(folder, n_youth=40, seed=4)
    return folder


@pytest.fixture
def package(small_package, tmp_path) -> Path:
    """A fresh copy of a small valid package to break."""
    target = tmp_path / "pkg"
    shutil.copytree(small_package, target)
    return target


def _load(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def _save(folder: Path, table: str, df: pd.DataFrame) -> None:
    df.to_csv(folder / f"{table}.csv", index=False, lineterminator="\n")


def _set(folder: Path, table: str, row: int, column: str, value: str) -> None:
    df = _load(folder, table)
    df.loc[row, column] = value
    _save(folder, table, df)


def _problems(folder: Path, **kwargs) -> pd.DataFrame:
    report = validate_program(folder, **kwargs)
    with pytest.raises(ProgramValidationError) as info:
        read_program(folder, **kwargs)
    pd.testing.assert_frame_equal(info.value.report.problems, report.problems)
    return report.problems


def _one(problems: pd.DataFrame, check: str) -> pd.Series:
    hits = problems[problems["check"] == check]
    assert len(hits) >= 1, problems
    return hits.iloc[0]


# ----------------------------------------------------------------------------- read_program


def test_committed_sample_reads_as_the_default_program():
    prog = read_program(SAMPLE)
    fresh = synth.program()
    for name in TABLES:
        pd.testing.assert_frame_equal(prog.tables()[name], fresh.tables()[name], check_exact=True)
    assert prog.cutoff == fresh.cutoff
    assert prog.effects == synth.Effects()
    report = validate_program(SAMPLE)
    assert report.ok and report.tables["problems"].sum() == 0
    assert report.tables.loc["youth", "rows"] == 600


def test_valid_package_has_no_problems(package):
    report = validate_program(package)
    assert isinstance(report, ValidationReport) and report.ok
    assert report.summary().empty
    assert "no problems" in report._repr_html_()


def test_type_error_is_reported_with_line_but_neither_key_nor_value(package):
    _set(package, "youth", 3, "age", "twelve")
    problems = _problems(package)
    row = _one(problems, "type")
    assert (row["table"], row["column"], row["line"]) == ("youth", "age", 5)
    assert "key" not in problems.columns and "value" not in problems.columns
    youth_id = _load(package, "youth").loc[3, "youth_id"]
    for text in ("twelve", youth_id):
        assert text not in problems.to_string()


@pytest.mark.parametrize(
    ("table", "column", "value", "check"),
    [
        ("surveys", "brs_3", "7", "maximum"),
        ("youth", "age", "5", "minimum"),
        ("youth", "site", "Central", "enum"),
        ("mentors", "supervision", "daily", "enum"),
        ("youth", "referral_source", "", "required"),
        ("youth", "enrolment_date", "2023-13-45", "type"),
        ("mentors", "training_hours", "ten", "type"),
        ("youth", "comparison", "maybe", "type"),
        ("meetings", "minutes", "1.5", "type"),
    ],
)
def test_constraint_violations_are_reported(package, table, column, value, check):
    _set(package, table, 0, column, value)
    row = _one(_problems(package), check)
    assert (row["table"], row["column"], row["line"]) == (table, column, 2)
    assert value == "" or value not in row["message"]


def test_duplicate_primary_key_is_reported(package):
    youth = _load(package, "youth")
    _save(package, "youth", pd.concat([youth, youth.iloc[[1]]], ignore_index=True))
    problems = _problems(package)
    pk = problems[problems["check"] == "primary_key"]
    assert pk["line"].tolist() == [3, len(youth) + 2]
    assert set(problems[problems["check"] == "unique"]["column"]) == {"youth_id"}


def test_duplicate_composite_key_is_reported(package):
    surveys = _load(package, "surveys")
    surveys.loc[1, "wave"] = "baseline"  # row 1 is the same youth's 6m survey
    _save(package, "surveys", surveys)
    pk = _problems(package).query("check == 'primary_key'")
    assert pk["line"].tolist() == [2, 3]
    # each names the other line that holds the same key, and never the key
    assert "line 3" in pk["message"].iloc[0] and "line 2" in pk["message"].iloc[1]
    assert not pk["message"].str.contains(surveys.loc[0, "youth_id"]).any()


@pytest.mark.parametrize(("column", "value"), [("youth_id", "Y9999"), ("mentor_id", "M999")])
def test_foreign_keys_are_checked(package, column, value):
    _set(package, "matches", 2, column, value)
    row = _one(_problems(package), "foreign_key")
    assert (row["table"], row["column"], row["line"]) == ("matches", column, 4)
    assert value not in row["message"]


def test_pattern_is_checked(package):
    _set(package, "mentors", 0, "mentor_id", "Z001")
    checks = set(_problems(package)["check"])
    assert {"pattern", "foreign_key"} <= checks


def test_match_ending_before_it_starts(package):
    matches = _load(package, "matches")
    i = int(np.flatnonzero(matches["end_date"] != "")[0])
    matches.loc[i, "end_date"] = "2000-01-01"
    _save(package, "matches", matches)
    row = _one(_problems(package), "date_order")
    assert (row["table"], row["column"], row["line"]) == ("matches", "end_date", i + 2)
    assert "2000-01-01" not in row["message"]


def test_meeting_outside_its_match(package):
    meetings = _load(package, "meetings")
    meetings.loc[5, "date"] = "2019-06-01"
    _save(package, "meetings", meetings)
    row = _one(_problems(package), "within_match")
    assert (row["table"], row["column"], row["line"]) == ("meetings", "date", 7)
    assert "2019-06-01" not in row["message"]


def test_closure_reason_must_match_end_date(package):
    matches = _load(package, "matches")
    closed = int(np.flatnonzero(matches["end_date"] != "")[0])
    matches.loc[closed, "closure_reason"] = ""
    _save(package, "matches", matches)
    assert _one(_problems(package), "closure_reason")["line"] == closed + 2


def test_dates_after_the_cutoff(package):
    _set(package, "youth", 0, "enrolment_date", "2030-01-01")
    checks = _problems(package)
    row = _one(checks, "after_cutoff")
    assert (row["table"], row["column"]) == ("youth", "enrolment_date")


def test_answers_in_a_survey_that_was_not_completed(package):
    surveys = _load(package, "surveys")
    lost = surveys.index[surveys["status"] != "completed"]
    i = int(lost[0]) if len(lost) else 1
    surveys.loc[i, "status"] = "lost to follow-up"
    surveys.loc[i, "brs_1"] = "3"
    _save(package, "surveys", surveys)
    assert "status" in set(_problems(package)["check"])


def test_header_problems(package):
    youth = _load(package, "youth").drop(columns=["age"])
    youth["shoe_size"] = "40"
    _save(package, "youth", youth)
    header = _problems(package).query("check == 'header'")
    assert set(header["column"]) == {"age", "shoe_size"}


def test_missing_file_and_resource(package):
    (package / "meetings.csv").unlink()
    row = _one(_problems(package), "file")
    assert row["table"] == "meetings"
    dp = json.loads((package / "datapackage.json").read_text())
    dp["resources"] = [r for r in dp["resources"] if r["name"] != "mentors"]
    (package / "datapackage.json").write_text(json.dumps(dp))
    problems = _problems(package)
    assert "package" in set(problems["check"])


def test_missing_cutoff_is_a_problem(package):
    dp = json.loads((package / "datapackage.json").read_text())
    del dp["tim_research"]
    (package / "datapackage.json").write_text(json.dumps(dp))
    assert _one(_problems(package), "package")["column"] == "tim_research.cutoff_date"


def test_every_problem_is_reported_at_once_and_nothing_is_changed(package):
    _set(package, "youth", 0, "age", "99")
    _set(package, "matches", 1, "youth_id", "Y9999")
    _set(package, "surveys", 2, "cyrm_r_4", "0")
    before = {p.name: p.read_bytes() for p in package.iterdir()}
    with pytest.raises(ProgramValidationError) as info:
        read_program(package)
    problems = info.value.report.problems
    assert {"maximum", "foreign_key", "minimum"} <= set(problems["check"])
    message = str(info.value)
    for text in ("youth.age", "matches.youth_id", "surveys.cyrm_r_4", "line 2", "line 3"):
        assert text in message
    assert "Y9999" not in message
    assert isinstance(info.value, DataError)
    assert {p.name: p.read_bytes() for p in package.iterdir()} == before


def test_identifier_columns_are_refused_unless_allowed(package):
    youth = _load(package, "youth")
    youth["first_name"] = "x"
    _save(package, "youth", youth)
    dp = json.loads((package / "datapackage.json").read_text())
    res = next(r for r in dp["resources"] if r["name"] == "youth")
    res["schema"]["fields"].append({"name": "first_name", "type": "string"})
    (package / "datapackage.json").write_text(json.dumps(dp))
    with pytest.raises(ProgramValidationError, match=r"youth\.first_name"):
        read_program(package)
    prog = read_program(package, allow_identifiers=["youth.first_name"])
    assert "first_name" in prog.youth.columns
    read_program(package, allow_identifiers="first_name")


def test_identifier_contents_are_refused_too(package):
    youth = _load(package, "youth")
    youth["contact"] = [f"parent{i}@example.org" for i in range(len(youth))]
    _save(package, "youth", youth)
    dp = json.loads((package / "datapackage.json").read_text())
    res = next(r for r in dp["resources"] if r["name"] == "youth")
    res["schema"]["fields"].append({"name": "contact", "type": "string"})
    (package / "datapackage.json").write_text(json.dumps(dp))
    with pytest.raises(ProgramValidationError, match=r"youth\.contact") as info:
        read_program(package)
    assert "example.org" not in str(info.value)  # values are never printed


def _free_text_referral(package: Path, values: list[str]) -> None:
    """The youth table's referral_source as free text (no enum) holding ``values``."""
    youth = _load(package, "youth")
    youth["referral_source"] = [values[i % len(values)] for i in range(len(youth))]
    _save(package, "youth", youth)
    dp = json.loads((package / "datapackage.json").read_text())
    res = next(r for r in dp["resources"] if r["name"] == "youth")
    field = next(f for f in res["schema"]["fields"] if f["name"] == "referral_source")
    del field["constraints"]["enum"]
    (package / "datapackage.json").write_text(json.dumps(dp))


ORDINARY = ["school", "self-referral", "Social Services", "Youth Offending Team", "family"]


def test_free_text_with_ordinary_words_reads(package):
    _free_text_referral(package, ORDINARY)
    assert read_program(package).youth["referral_source"].isin(ORDINARY).all()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Dr Jane Smith GP", "a person's name"),
        ("Jane Smith", "a person's name"),
        ("school (call 07700 900123)", "a phone number"),
        ("parent: jsmith@example.org", "an email address"),
        ("12 Acacia Avenue", "a street address"),
    ],
)
def test_one_identifying_value_in_free_text_is_refused(package, value, reason):
    # one value among hundreds of ordinary words: far below any share rule
    _free_text_referral(package, ORDINARY)
    youth = _load(package, "youth")
    youth.loc[len(youth) // 2, "referral_source"] = value
    _save(package, "youth", youth)
    with pytest.raises(ProgramValidationError) as info:
        read_program(package)
    message = str(info.value)
    assert "youth.referral_source" in message and reason in message
    for part in [value, *value.split()[1:3]]:
        assert part not in message
    problems = info.value.report.problems
    assert problems["check"].tolist() == ["identifier"]
    # allowed by name, the column is read as it is
    read_program(package, allow_identifiers=["youth.referral_source"])


def test_write_program_declares_extra_columns(tmp_path):
    prog = synth.program(n_youth=30, seed=9)
    youth = prog.youth.assign(school_grade=prog.youth["age"] - 5)
    extra = synth.Program(**{**prog.tables(), "youth": youth}, cutoff=prog.cutoff)
    write_program(extra, tmp_path)
    back = read_program(tmp_path)
    pd.testing.assert_series_equal(back.youth["school_grade"], youth["school_grade"])
    with pytest.raises(DataError, match="lacks the column"):
        write_program(
            synth.Program(
                **{**prog.tables(), "youth": youth.drop(columns="age")}, cutoff=prog.cutoff
            ),
            tmp_path / "bad",
        )


def test_not_a_package(tmp_path):
    with pytest.raises(DataError, match="datapackage.json"):
        read_program(tmp_path)
    (tmp_path / "datapackage.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        read_program(tmp_path)


# ----------------------------------------------------------------------------- read_table


@pytest.fixture
def frame() -> pd.DataFrame:
    """Files carry no index: read_table gives a default one, so the fixture has one too."""
    return pd.DataFrame(
        {
            "youth_id": ["Y0003", "Y0001", "Y0002", "Y0004"],
            "brs_1": pd.array([4, 2, None, 5], dtype="Int64"),
            "score": [3.5, 2.25, np.nan, 4.0],
            "site": ["North", "South", "North", None],
            "enrolment_date": pd.to_datetime(["2023-01-02", "2023-02-03", None, "2023-03-04"]),
        }
    )


def test_csv_round_trip(tmp_path, frame):
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    back = read_table(str(path))
    pd.testing.assert_frame_equal(
        back.assign(
            brs_1=back["brs_1"].astype("Int64"),
            enrolment_date=pd.to_datetime(back["enrolment_date"]).astype("datetime64[us]"),
        ),
        frame.assign(enrolment_date=frame["enrolment_date"].astype("datetime64[us]")),
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_excel_and_parquet_round_trip(tmp_path, frame, suffix):
    path = tmp_path / f"data{suffix}"
    if suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    back = read_table(path)
    expected = frame
    if suffix == ".xlsx":  # Excel has no integer-with-missing type
        expected = frame.assign(brs_1=frame["brs_1"].astype("float64"))
        back = back.assign(
            enrolment_date=back["enrolment_date"].astype(frame["enrolment_date"].dtype)
        )
    pd.testing.assert_frame_equal(back, expected)


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_spss_and_stata_keep_labels_and_missing_codes(tmp_path, suffix):
    import pyreadstat

    raw = pd.DataFrame(
        {
            "youth_id": ["Y0002", "Y0001", "Y0003", "Y0004"],
            "ace10_1": [1.0, 0.0, 1.0, 9.0],  # 9 = refused, a user-missing code
            "brs_1": [4.0, 2.0, 5.0, 3.0],  # partly labelled: stays numeric
            "weight": [1.5, 0.75, 1.0, 2.0],
            "enrolment_date": pd.to_datetime(["2023-01-02", "2023-02-03", "2023-03-04", None]),
        }
    )
    labels = {"ace10_1": {0: "No", 1: "Yes", 9: "Refused"}, "brs_1": {1: "Strongly disagree"}}
    path = tmp_path / f"data{suffix}"
    if suffix == ".sav":
        pyreadstat.write_sav(
            raw,
            str(path),
            variable_value_labels=labels,
            missing_ranges={"ace10_1": [9]},
            variable_format={"ace10_1": "F1.0", "brs_1": "F1.0", "weight": "F8.2"},
            column_labels={"ace10_1": "ACE emotional abuse"},
        )
    else:
        stata = raw.assign(ace10_1=raw["ace10_1"].astype(object))
        stata.loc[3, "ace10_1"] = "a"  # Stata extended missing .a
        pyreadstat.write_dta(
            stata.assign(ace10_1=stata["ace10_1"]),
            str(path),
            variable_value_labels={"ace10_1": {0: "No", 1: "Yes"}, "brs_1": labels["brs_1"]},
            missing_user_values={"ace10_1": ["a"]},
            variable_format={"ace10_1": "%8.0f", "brs_1": "%8.0f"},
        )
    back = read_table(path)
    assert back["youth_id"].tolist() == raw["youth_id"].tolist()
    assert isinstance(back["ace10_1"].dtype, pd.CategoricalDtype)
    assert back["ace10_1"].tolist()[:3] == ["Yes", "No", "Yes"] and pd.isna(back["ace10_1"].iloc[3])
    assert back["brs_1"].tolist() == [4, 2, 5, 3]
    assert back["weight"].tolist() == raw["weight"].tolist()
    assert back["enrolment_date"].iloc[:3].tolist() == raw["enrolment_date"].iloc[:3].tolist()
    assert pd.isna(back["enrolment_date"].iloc[3])
    assert back.attrs["value_labels"]["brs_1"] == {1: "Strongly disagree"}
    codes = read_table(path, value_labels="codes")
    assert codes["ace10_1"].iloc[:3].tolist() == [1, 0, 1] and pd.isna(codes["ace10_1"].iloc[3])
    if suffix == ".sav":
        assert back.attrs["column_labels"]["ace10_1"] == "ACE emotional abuse"
        assert str(codes["ace10_1"].dtype) == "Int64"


def test_unknown_suffix_is_a_data_error(tmp_path):
    path = tmp_path / "data.json"
    path.write_text("{}")
    with pytest.raises(DataError, match=r"unknown file type '\.json'.*\.csv.*\.sav"):
        read_table(path)
    with pytest.raises(DataError, match="value_labels"):
        read_table(path.with_suffix(".csv"), value_labels="labels")
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path / "nope.csv")


# ------------------------------------------------------------------- read_table: real exports


@pytest.mark.parametrize(
    ("raw", "encoding", "delimiter"),
    [
        ("rid,site,brs_1\n007,Bogotá,4\n".encode(), "utf-8", ","),
        ("rid,site,brs_1\n007,Bogotá,4\n".encode("utf-8-sig"), "utf-8-sig", ","),
        ("rid;site;brs_1\n007;Bogotá;4\n".encode("cp1252"), "cp1252", ";"),
        ("rid\tsite\tbrs_1\n007\tBogotá\t4\n".encode("latin-1") + b"", "cp1252", "\t"),
        # 0x81 is undefined in cp1252: only latin-1 decodes it
        (b"rid;site;brs_1\n007;Bogot\xe1\x81;4\n", "latin-1", ";"),
    ],
)
def test_csv_encoding_and_delimiter_are_detected_and_recorded(tmp_path, raw, encoding, delimiter):
    path = tmp_path / "export.csv"
    path.write_bytes(raw)
    back = read_table(path, text=["rid"])
    assert list(back.columns) == ["rid", "site", "brs_1"]
    assert back["rid"].tolist() == ["007"]
    assert back["site"].iloc[0].startswith("Bogotá")
    assert back["brs_1"].tolist() == [4]
    assert back.attrs["encoding"] == encoding and back.attrs["delimiter"] == delimiter


def test_semicolon_file_with_decimal_commas_is_still_semicolon(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("rid;weight\nA;1,5\nB;2,25\n")
    assert read_table(path).attrs["delimiter"] == ";"


def test_text_columns_keep_their_spelling(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("rid,brs_1\n007,4\n0123,5\n1e3,3\n")
    assert read_table(path, text=["rid", "not_there"])["rid"].tolist() == ["007", "0123", "1e3"]
    assert read_table(path)["rid"].tolist() != ["007", "0123", "1e3"]  # why text= exists
    xlsx = tmp_path / "x.xlsx"
    pd.DataFrame({"rid": ["007", "0123"], "brs_1": [4, 5]}).to_excel(xlsx, index=False)
    assert read_table(xlsx, text=["rid"])["rid"].tolist() == ["007", "0123"]


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("", r"x\.csv is empty"),
        ("\n\n", r"x\.csv is empty"),
        (
            "rid,brs_1,brs_1\nA,1,2\n",
            r"x\.csv: the header names column 'brs_1' twice \(again in column 3\)",
        ),
        (
            "rid,brs_1\nA,1\nB,2,3\nC\n",
            r"x\.csv: rows 3, 4 \(the header is row 1\) have a different number of fields than the header's 2; .*comma",
        ),
        ("rid;brs_1\nA;1\nB;2;3\n", r"x\.csv: row 3 \(the header is row 1\) has .*semicolon"),
    ],
)
def test_unreadable_csv_is_a_data_error_naming_file_and_place(tmp_path, content, pattern):
    path = tmp_path / "x.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=pattern):
        read_table(path)


def test_duplicated_excel_header_and_damaged_files(tmp_path):
    xlsx = tmp_path / "x.xlsx"
    pd.DataFrame([["A", 1, 2]], columns=["rid", "brs_1", "brs_1"]).to_excel(xlsx, index=False)
    with pytest.raises(DataError, match=r"x\.xlsx: the header names column 'brs_1' twice"):
        read_table(xlsx)
    for suffix in (".xlsx", ".parquet", ".sav", ".dta"):
        bad = tmp_path / f"bad{suffix}"
        bad.write_bytes(b"this is not a data file\n")
        with pytest.raises(DataError, match=rf"cannot read bad\{suffix} as a \{suffix} file"):
            read_table(bad)
        bad.write_bytes(b"")
        with pytest.raises(DataError, match=rf"bad\{suffix} is empty"):
            read_table(bad)


# ------------------------------------------------------------------------------ write_table


def _scores() -> pd.DataFrame:
    return pd.DataFrame(
        {"brs_score": [3.5, 2.0], "band": pd.Categorical(["high", None])},
        index=pd.Index(["007", "0123"], name="rid"),
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".sav", ".dta"])
def test_write_table_round_trips_and_leaves_no_temporary_file(tmp_path, suffix):
    path = tmp_path / "sub" / f"scores{suffix}"
    assert write_table(_scores(), path) == path
    back = read_table(path, text=["rid"])
    assert back["rid"].tolist() == ["007", "0123"]
    assert back["brs_score"].tolist() == [3.5, 2.0]
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    write_table(_scores().reset_index(drop=True), path)  # an unnamed index is not written
    assert "rid" not in read_table(path).columns


@pytest.mark.parametrize("suffix", [".csv", ".dta"])
def test_failed_write_leaves_the_existing_file_and_no_temporary_file(tmp_path, monkeypatch, suffix):
    import errno

    import pyreadstat

    path = tmp_path / f"scores{suffix}"
    path.write_bytes(b"previous results\n")
    before = path.read_bytes()

    def half_write(*args, **kwargs):
        target = next(a for a in args if isinstance(a, str))
        with open(target, "wb") as f:
            f.write(b"rid,brs_sc")
        raise OSError(errno.ENOSPC, "No space left on device")

    if suffix == ".csv":
        monkeypatch.setattr(pd.DataFrame, "to_csv", half_write)
    else:
        monkeypatch.setattr(pyreadstat, "write_dta", half_write)
    with pytest.raises(OSError, match="No space left"):
        write_table(_scores(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_write_table_refuses_names_stata_cannot_hold_before_touching_the_target(tmp_path):
    path = tmp_path / "scores.dta"
    long = "brfss_ace_household_dysfunction_score"
    with pytest.raises(
        DataError,
        match=rf"Stata allows column names of up to 32 characters, and '{long}' has 37; rename the column, or write \.csv",
    ):
        write_table(pd.DataFrame({long: [1.0]}), path)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(DataError, match="letters, digits and _"):
        write_table(pd.DataFrame({"brs 1": [1.0]}), path)
    with pytest.raises(DataError, match="unknown file type '.txt'"):
        write_table(_scores(), tmp_path / "x.txt")
    with pytest.raises(DataError, match="names column 'brs_score' twice"):
        write_table(pd.DataFrame([[1, 2]], columns=["brs_score", "brs_score"]), tmp_path / "d.csv")


def test_write_table_keeps_an_existing_files_permissions(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("old\n")
    path.chmod(0o640)
    write_table(_scores(), path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_text_true_keeps_every_csv_cell_as_written(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("rid;brs_1;site\n007;;Bogotá\n1e3;4;NA\n".encode("cp1252"))
    back = read_table(path, text=True)
    assert back.to_dict("list") == {
        "rid": ["007", "1e3"],
        "brs_1": ["", "4"],
        "site": ["Bogotá", "NA"],
    }


def test_write_table_under_a_file_is_a_data_error(tmp_path):
    (tmp_path / "data.csv").write_text("x\n")
    with pytest.raises(
        DataError, match=r"cannot write o\.csv: .*data\.csv is a file, not a folder"
    ):
        write_table(_scores(), tmp_path / "data.csv" / "sub" / "o.csv")
    assert (tmp_path / "data.csv").read_text() == "x\n"


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_write_table_metadata_round_trip(tmp_path, suffix):
    import pyreadstat

    src, dst = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    frame = pd.DataFrame({"q1": [1.0, 2.0, 1.0], "q2": [3.0, 1.0, 2.0], "x": [0.5, 1.5, 2.5]})
    labels = {"q1": {1: "No", 2: "Yes"}, "q2": {1: "Low", 2: "Mid", 3: "High"}}
    writer = pyreadstat.write_dta if suffix == ".dta" else pyreadstat.write_sav
    writer(
        frame, str(src), column_labels={"q1": "Question 1", "x": "X"}, variable_value_labels=labels
    )
    data = read_table(src, value_labels="codes", user_missing=True)
    write_table(data, dst, metadata=data.attrs)
    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    (got, meta), (want, meta_want) = reader(str(dst)), reader(str(src))
    pd.testing.assert_frame_equal(got, want)
    assert meta.variable_value_labels == meta_want.variable_value_labels
    assert meta.column_labels == meta_want.column_labels
    assert meta.original_variable_types == meta_want.original_variable_types
    # a categorical column is written as its label text: its value labels are not kept
    labelled = read_table(src)
    assert isinstance(labelled["q1"].dtype, pd.CategoricalDtype)
    write_table(labelled, dst, metadata=labelled.attrs)
    got, meta = reader(str(dst))
    assert got["q1"].tolist() == ["No", "Yes", "No"] and "q1" not in meta.variable_value_labels
    assert dict(zip(meta.column_names, meta.column_labels))["q1"] == "Question 1"
