"""Optional program tables: only youth and surveys are required.

The contract: an optional table the package does not have (no resource, no CSV) is ``None`` on
the Program; ``available`` lists the others; a table whose foreign key points at an absent
table is a problem (``needs_table``), as is a resource without its file or a file without its
resource; the Parquet cache, site selection and notebook sections follow the same contract.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tim_research import synth
from tim_research.errors import DataError, ProgramValidationError
from tim_research.program import (
    OPTIONAL_TABLES,
    REQUIRED_TABLES,
    TABLE_NEEDS,
    TABLES,
    Program,
    read_program,
    validate_program,
    write_program,
)
from tim_research.program.cache import read_cache, write_cache
from tim_research.views.notebook import NotebookContext, needs, select_site

FULL = synth.program(n_youth=40, seed=3)


def _closed(names) -> set[str]:
    """``names`` plus every table they refer to, transitively (a valid set of tables)."""
    out = set(names) | set(REQUIRED_TABLES)
    while True:
        more = {t for name in out for t in TABLE_NEEDS[name]} - out
        if not more:
            return out
        out |= more


def _subset(names) -> Program:
    keep = _closed(names)
    frames = {t: df for t, df in FULL.tables().items() if t in keep}
    return Program(**frames, cutoff=FULL.cutoff, effects=FULL.effects)


def test_table_lists_partition_the_tables():
    assert set(REQUIRED_TABLES) | set(OPTIONAL_TABLES) == set(TABLES)
    assert not set(REQUIRED_TABLES) & set(OPTIONAL_TABLES)
    # the links TABLE_NEEDS states are the foreign keys of the schemas
    from tim_research.program import table_schemas

    schemas = table_schemas(sites=["North"])
    for name in TABLES:
        refs = {fk["reference"]["resource"] for fk in schemas[name].get("foreignKeys", [])}
        assert refs == set(TABLE_NEEDS[name]), name


def test_a_program_of_the_two_required_tables():
    p = Program(youth=FULL.youth, surveys=FULL.surveys, cutoff=FULL.cutoff)
    assert p.available == ("youth", "surveys")
    assert p.matches is None and p.meetings is None
    assert list(p.tables()) == ["youth", "surveys"]
    assert list(p.to_frame().index) == ["youth", "surveys"]
    assert "meetings" not in repr(p)
    assert not p.has("matches") and p.has("youth", "surveys")
    with pytest.raises(DataError, match="not program tables"):
        p.has("meeting")


def test_a_required_table_cannot_be_none():
    with pytest.raises(DataError, match="Program.surveys must be a pandas DataFrame, got"):
        Program(youth=FULL.youth, surveys=None, cutoff=FULL.cutoff)


@pytest.mark.parametrize(
    ("given_tables", "absent"),
    [({"matches": FULL.matches}, "mentors"), ({"meetings": FULL.meetings}, "matches")],
)
def test_a_table_without_the_table_it_refers_to_is_refused(given_tables, absent):
    extra = {"mentors": FULL.mentors} if "meetings" in given_tables else {}
    with pytest.raises(DataError, match=f"refers to the {absent} table"):
        Program(youth=FULL.youth, surveys=FULL.surveys, cutoff=FULL.cutoff, **given_tables, **extra)


# every set of optional tables that is closed under TABLE_NEEDS (seven of the sixteen subsets)
CLOSED_SETS = sorted(
    {
        frozenset(_closed({t for j, t in enumerate(OPTIONAL_TABLES) if bits >> j & 1}))
        for bits in range(2 ** len(OPTIONAL_TABLES))
    },
    key=lambda s: (len(s), sorted(s)),
)


@pytest.mark.parametrize("names", CLOSED_SETS, ids=lambda s: "+".join(sorted(s)))
def test_any_closed_set_of_tables_round_trips_through_a_package(tmp_path, names):
    p = _subset(names)
    folder = tmp_path
    write_program(p, folder)
    files = {f.stem for f in folder.glob("*.csv")}
    assert files == set(p.available)
    package = json.loads((folder / "datapackage.json").read_text())
    assert [r["name"] for r in package["resources"]] == list(p.available)
    back = read_program(folder)
    assert back.available == p.available
    for name, df in p.tables().items():
        pd.testing.assert_frame_equal(back.tables()[name], df, check_categorical=False)
    # the checked copy a report batch gives its kernels keeps the absent tables absent
    cached = read_cache(write_cache(back, folder / "cache", data_dir=folder), folder)
    assert cached is not None and cached.available == p.available
    for name, df in back.tables().items():
        pd.testing.assert_frame_equal(cached.tables()[name], df)


def _package(tmp_path, tables) -> str:
    synth.write_sample(tmp_path, n_youth=30, seed=1, tables=tables)
    return tmp_path


def test_a_resource_without_its_file_is_a_problem_that_says_how_to_leave_the_table_out(tmp_path):
    folder = _package(tmp_path, None)
    (folder / "meetings.csv").unlink()
    problems = validate_program(folder).problems
    row = problems[problems["table"] == "meetings"].iloc[0]
    assert row["check"] == "file"
    assert "remove the 'meetings' resource from datapackage.json" in row["message"]


def test_a_file_without_its_resource_is_a_problem(tmp_path):
    folder = _package(tmp_path, ("mentors", "matches"))
    (folder / "meetings.csv").write_text("meeting_id,match_id,date,minutes,mode\n")
    problems = validate_program(folder).problems
    assert problems[["table", "check"]].values.tolist() == [["meetings", "package"]]
    assert "has no resource named 'meetings'" in problems["message"].iloc[0]


@pytest.mark.parametrize(
    ("drop", "table", "absent"),
    [("mentors", "matches", "mentors"), ("mentors", "mentor_surveys", "mentors")],
)
def test_a_table_referring_to_an_absent_table_is_one_clear_problem(tmp_path, drop, table, absent):
    folder = _package(tmp_path, None)
    (folder / f"{drop}.csv").unlink()
    dp = folder / "datapackage.json"
    package = json.loads(dp.read_text())
    package["resources"] = [r for r in package["resources"] if r["name"] != drop]
    dp.write_text(json.dumps(package))
    problems = validate_program(folder).problems
    mine = problems[problems["table"] == table]
    assert mine["check"].tolist() == ["needs_table"], problems
    assert f"refers to the {absent} table" in mine["message"].iloc[0]
    # no second report of the same gap as a foreign-key failure on every row
    assert "foreign_key" not in problems["check"].tolist()
    with pytest.raises(ProgramValidationError, match="needs_table"):
        read_program(folder)


def test_a_package_without_required_tables_is_refused(tmp_path):
    folder = _package(tmp_path, None)
    dp = folder / "datapackage.json"
    package = json.loads(dp.read_text())
    package["resources"] = [r for r in package["resources"] if r["name"] != "surveys"]
    dp.write_text(json.dumps(package))
    (folder / "surveys.csv").unlink()
    problems = validate_program(folder).problems
    assert ["surveys", "package"] in problems[["table", "check"]].values.tolist()


def test_program_rules_between_present_tables_still_run(tmp_path):
    folder = _package(tmp_path, ("mentors", "matches"))
    matches = folder / "matches.csv"
    lines = matches.read_text().splitlines()
    head = lines[0].split(",")
    row = lines[1].split(",")
    # an end date before the start date is still found without the meetings table
    row[head.index("end_date")] = "2000-01-01"
    row[head.index("closure_reason")] = "moved away"
    lines[1] = ",".join(row)
    matches.write_text("\n".join(lines) + "\n")
    problems = validate_program(folder).problems
    assert "date_order" in problems["check"].tolist()


def test_select_site_keeps_absent_tables_absent():
    p = _subset({"mentors", "matches"})
    north = select_site(p, "North")
    assert north.available == p.available
    assert set(north.youth["site"].astype(str)) == {"North"}
    assert north.matches["youth_id"].isin(north.youth["youth_id"]).all()


def test_needs_prints_one_line_per_missing_section(capsys):
    p = _subset(set())
    nb = NotebookContext(p, None, 5, 0, np.random.default_rng(0))
    assert needs(nb, "youth", "surveys") is True
    assert capsys.readouterr().out == ""
    assert needs(nb, "matches") is False
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "needs matches.csv" in out


def test_write_sample_writes_only_the_tables_asked_for(tmp_path):
    synth.write_sample(tmp_path, n_youth=30, tables=("mentors", "matches"), comparison_sites=())
    p = read_program(tmp_path)
    assert p.available == ("youth", "surveys", "mentors", "matches")
    assert not p.youth["comparison"].any()
    with pytest.raises(DataError, match="refers to the mentors table"):
        synth.write_sample(tmp_path / "x", n_youth=30, tables=("matches",))
