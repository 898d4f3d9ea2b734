"""Mapping files: a program's own exports read as the program tables (tim_research.io.mapping).

The example exports under data/examples/ are written by data/examples/make_examples.py from a
seeded simulation; the tests compare what the mapping reads back with that simulation's
tables, an independent account of what each export holds.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tim_research import synth
from tim_research.errors import DataError
from tim_research.io.mapping import load_mapping, map_folder, read_export
from tim_research.program import read_program, table_schemas, validate_program

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "data" / "examples"
KINDS = ["redcap", "qualtrics", "surveymonkey", "google-forms"]
SITES = {"North": "Northside", "South": "Southbank", "East": "Eastgate", "West": "Westfield"}
OPTIONAL = {"matches", "meetings", "mentors", "mentor_surveys"}


def _fields(tables):
    schemas = table_schemas(sites=list(SITES.values()))
    return {t: [f["name"] for f in schemas[t]["fields"]] for t in tables}


def _make_examples():
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _only_absent_optional(report):
    """Problems other than 'no resource' for an optional table (before optional tables land)."""
    p = report.problems
    absent = (p["check"] == "package") & p["table"].isin(OPTIONAL) & (p["column"] == "")
    return p[~absent]


def test_examples_are_what_the_script_writes(tmp_path):
    _make_examples().main(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for rel in written:
        assert (EXAMPLES / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_export_maps_without_problems(kind):
    mapped = map_folder(EXAMPLES / kind, fields=_fields(["youth", "surveys"]))
    assert mapped.problems.empty, mapped.problems.to_string()
    assert set(mapped.tables) == {"youth", "surveys"}
    # only the absent optional tables are reported until optional tables are merged
    assert _only_absent_optional(validate_program(EXAMPLES / kind)).empty


@pytest.mark.parametrize("kind", [*KINDS, "own-program"])
def test_examples_validate_clean(kind):
    # the examples have no meetings (nor, for single exports, matches or mentors): optional
    report = validate_program(EXAMPLES / kind)
    assert report.ok, report.format()


@pytest.mark.parametrize("kind", KINDS)
def test_mapped_values_match_the_people_simulated(kind):
    truth = synth.program(n_youth=12, seed=5)
    mapped = map_folder(EXAMPLES / kind, fields=_fields(["youth", "surveys"])).tables
    done = truth.surveys[
        (truth.surveys["wave"] == "baseline") & (truth.surveys["status"] == "completed")
    ]
    surveys = mapped["surveys"].set_index("youth_id")
    assert sorted(surveys.index) == sorted(done["youth_id"])
    for _, row in done.iterrows():
        got = surveys.loc[row["youth_id"]]
        for k in range(1, 7):
            want = "" if pd.isna(row[f"brs_{k}"]) else str(row[f"brs_{k}"])
            assert got[f"brs_{k}"] == want
        aces = [row[f"ace10_{k}"] for k in range(1, 11)]
        if all(pd.notna(a) for a in aces):  # multi-select layouts cannot hold a partial answer
            assert [got[f"ace10_{k}"] for k in range(1, 11)] == [str(a) for a in aces]
        assert got["survey_date"] == str(row["survey_date"].date())
        cyrm = "" if pd.isna(row["cyrm_r_1"]) else str(row["cyrm_r_1"])
        assert got["cyrm_r_1"] == (cyrm if kind == "surveymonkey" else "")  # only SM asks CYRM-R
    youth = mapped["youth"].set_index("youth_id")
    for _, row in truth.youth[truth.youth["youth_id"].isin(done["youth_id"])].iterrows():
        got = youth.loc[row["youth_id"]]
        assert got["site"] == SITES[row["site"]]
        assert got["age"] == str(row["age"])
        assert got["referral_source"] == row["referral_source"]
        assert got["comparison"] == str(bool(row["comparison"])).lower()


def test_own_program_reads_as_the_simulated_program():
    truth = synth.program(n_youth=60, seed=3)
    # the resources the program lacks are added as in a package that has them empty, so the
    # program can be read before optional tables land
    report = validate_program(EXAMPLES / "own-program")
    assert _only_absent_optional(report).empty, report.format()
    mapped = map_folder(
        EXAMPLES / "own-program", fields=_fields(["youth", "surveys", "mentors", "matches"])
    ).tables
    done = truth.surveys[truth.surveys["status"] == "completed"]
    assert len(mapped["surveys"]) == len(done)
    got = mapped["surveys"].set_index(["youth_id", "wave"]).sort_index()
    want = done.astype({"wave": str}).set_index(["youth_id", "wave"]).sort_index()
    for col in ["months", "survey_date", "brs_3", "cyrm_r_17"]:
        expected = want[col].astype("string").fillna("")
        if col == "survey_date":
            expected = want[col].dt.strftime("%Y-%m-%d")
        if col == "cyrm_r_17":  # the 12-month Google Form asks the BRS only
            expected = expected.where(want.index.get_level_values("wave") != "12m", "")
        assert got[col].tolist() == expected.tolist(), col
    matches = mapped["matches"].set_index("match_id")
    assert (
        matches["end_date"].tolist()
        == truth.matches["end_date"].dt.strftime("%Y-%m-%d").fillna("").tolist()
    )
    assert (
        matches["closure_reason"].tolist()
        == truth.matches["closure_reason"].astype("string").fillna("").tolist()
    )
    assert (
        mapped["mentors"]["supervision"].tolist()
        == truth.mentors["supervision"].astype(str).tolist()
    )


def _copy(tmp_path, kind):
    folder = tmp_path / kind
    shutil.copytree(EXAMPLES / kind, folder)
    return folder


def test_unknown_label_bad_date_and_missing_column_are_problems_without_values(tmp_path):
    folder = _copy(tmp_path, "qualtrics")
    path = folder / "intake_survey.csv"
    lines = path.read_text().splitlines()
    at = next(i for i in range(3, len(lines)) if "Strongly agree" in lines[i])
    # one line of the export: an answer label the mapping does not know, and a broken date
    lines[at] = lines[at].replace("Strongly agree", "Totally agree", 1).replace(",2021-", ",20X1-")
    path.write_text("\n".join(lines) + "\n")
    toml = folder / "mapping.toml"
    toml.write_text(toml.read_text().replace('brs_6 = "Q9_6"', 'brs_6 = "Q9_66"'))
    report = validate_program(folder)
    problems = report.problems[report.problems["check"] == "mapping"]
    by_column = problems.groupby("column")["line"].apply(list).to_dict()
    assert by_column["survey_date"] == [at + 1] and by_column["enrolment_date"] == [at + 1]
    assert "brs_6" in by_column and "Q9_66" in " ".join(problems["message"])
    label_rows = problems[problems["message"].str.contains("has no code")]
    assert at + 1 in label_rows["line"].tolist()
    text = report.format(limit=1000)
    assert "Totally" not in text and "20X1" not in text


def test_validation_problems_point_at_the_export_line(tmp_path):
    folder = _copy(tmp_path, "google-forms")
    path = folder / "Intake form (Responses).csv"
    lines = path.read_text().splitlines()
    first_id = lines[3].split(",")[1]
    lines[3] = lines[3].replace(f",{first_id},", ",Z-77,", 1)  # line 4 of the export
    path.write_text("\n".join(lines) + "\n")
    report = validate_program(folder)
    bad = report.problems[
        (report.problems["table"] == "youth") & (report.problems["check"] == "pattern")
    ]
    assert bad["line"].tolist() == [4]
    assert "Intake form (Responses).csv" in bad["message"].iloc[0]
    assert "'Youth code'" in bad["message"].iloc[0]
    assert "Z-77" not in report.format(limit=1000)


def test_multiselect_none_with_an_option_is_a_problem_and_nothing_ticked_is_missing(tmp_path):
    folder = _copy(tmp_path, "surveymonkey")
    path = folder / "baseline_survey.csv"
    rows = list(csv.reader(path.open(newline="")))
    none_at = rows[1].index("None of these")
    rows[2][none_at] = "None of these"
    rows[2][none_at - 10] = rows[1][none_at - 10]  # the first ACE option ticked too
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    mapped = map_folder(folder, fields=_fields(["youth", "surveys"]))
    p = mapped.problems
    assert p["line"].tolist() == [3] and "both an option" in p["message"].iloc[0]
    export = read_export(path, "surveymonkey")
    assert export.lines[0] == 3


def test_qualtrics_layout_is_checked(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("ResponseId,Q1\nR_1,4\nR_2,5\n")
    with pytest.raises(DataError, match="ImportId"):
        read_export(f, "qualtrics")


def test_mapping_file_errors_are_one_line(tmp_path):
    f = tmp_path / "mapping.toml"
    f.write_text('[youth]\nfile = "a.csv"\nformat = "spss"\n')
    with pytest.raises(DataError, match="format must be one of"):
        load_mapping(f)
    f.write_text('[youth]\nfile = "a.csv"\nformat = "csv"\ncolour = "red"\n')
    with pytest.raises(DataError, match="unknown key"):
        load_mapping(f)


def test_a_mapped_program_reads_into_typed_tables(tmp_path):
    # own-program with empty optional tables declared, so read_program works today
    truth = synth.program(n_youth=60, seed=3)
    folder = _copy(tmp_path, "own-program")
    import json

    from tim_research.program.init import init_program

    init_program(tmp_path / "init", sites=list(SITES.values()), cutoff="2024-06-30")
    full = json.loads((tmp_path / "init" / "datapackage.json").read_text())
    dp = json.loads((folder / "datapackage.json").read_text())
    dp["resources"] += [r for r in full["resources"] if r["name"] in ("meetings", "mentor_surveys")]
    (folder / "datapackage.json").write_text(json.dumps(dp))
    for t in ("meetings", "mentor_surveys"):
        shutil.copy(tmp_path / "init" / f"{t}.csv", folder / f"{t}.csv")
    program = read_program(folder)
    assert program.effects is None
    assert len(program.youth) == len(truth.youth)
    assert program.surveys["brs_1"].dtype == "Int64"
    assert (program.matches["start_date"] == truth.matches["start_date"]).all()
