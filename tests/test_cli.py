"""The tim command: catalogue listing, scoring files in every supported format, errors."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_VALUES

from tim_research.cli import main


def _brs_input(tmp_path):
    items = pd.read_csv(REFERENCE_VALUES / "scoring_brs_input.csv")
    path = tmp_path / "brs.csv"
    items.to_csv(path, index=False)
    return items, path


def test_help_lists_the_commands():
    done = subprocess.run(
        [sys.executable, "-m", "tim_research.cli", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "instruments" in done.stdout and "score" in done.stdout


def test_instruments_lists_the_catalogue(capsys):
    assert main(["instruments"]) == 0
    out = capsys.readouterr().out
    for iid in ("ace10", "brfss_ace", "brs", "cyrm_r", "pcl5", "proqol5", "stss"):
        assert iid in out


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".dta", ".sav"])
def test_score_reads_and_writes_each_format(tmp_path, suffix):
    items, csv = _brs_input(tmp_path)
    src = tmp_path / f"in{suffix}"
    writers = {
        ".csv": lambda p: items.to_csv(p, index=False),
        ".xlsx": lambda p: items.to_excel(p, index=False),
        ".parquet": lambda p: items.to_parquet(p, index=False),
        ".dta": lambda p: items.to_stata(p, write_index=False),
        ".sav": lambda p: __import__("pyreadstat").write_sav(items, str(p)),
    }
    writers[suffix](src)
    out = tmp_path / f"out{suffix}"
    assert main(["score", str(src), "-i", "brs", "--id-column", "row_id", "--out", str(out)]) == 0
    expected = pd.read_csv(REFERENCE_VALUES / "scoring_brs_expected.csv", index_col="row_id")
    readers = {
        ".csv": lambda p: pd.read_csv(p, index_col="row_id"),
        ".xlsx": lambda p: pd.read_excel(p, index_col="row_id"),
        ".parquet": pd.read_parquet,
        ".dta": lambda p: pd.read_stata(p).set_index("row_id"),
        ".sav": lambda p: __import__("pyreadstat").read_sav(str(p))[0].set_index("row_id"),
    }
    got = readers[suffix](out)
    pd.testing.assert_series_equal(
        got["brs_score"].astype(float),
        expected["brs_score"],
        check_names=False,
        check_index_type=False,
    )


def test_score_with_column_map_and_options(tmp_path, read_external):
    brfss = read_external("brfss2022_ace_12states.csv").head(500)
    src = tmp_path / "brfss.csv"
    brfss.to_csv(src, index_label="row")
    mapping = tmp_path / "map.toml"
    names = "ACEDEPRS ACEDRINK ACEDRUGS ACEPRISN ACEDIVRC ACEPUNCH ACEHURT1 ACESWEAR ACETOUCH ACETTHEM ACEHVSEX"
    mapping.write_text("\n".join(f'brfss_ace_{i} = "{v}"' for i, v in enumerate(names.split(), 1)))
    out = tmp_path / "scores.csv"
    args = [
        "score",
        str(src),
        "-i",
        "brfss_ace",
        "--columns",
        str(mapping),
        "--id-column",
        "row",
        "--option",
        "emotional_abuse=more_than_once",
        "--cutoffs",
        "brfss_ace_score=cdc_ace_study",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    got = pd.read_csv(out, index_col="row")
    expected = pd.read_csv(REFERENCE_VALUES / "scoring_brfss_ace_expected.csv", index_col="row")
    # the once/more-than-once choice only touches emotional abuse; the rest equals the R default
    same = got["brfss_ace_sexual_abuse"].fillna(-1) == expected["brfss_ace_sexual_abuse"].iloc[
        :500
    ].fillna(-1)
    assert same.all()
    assert set(got["brfss_ace_score_category"].dropna()) <= {"0", "1", "2", "3", "4+"}


def test_score_reports_bad_input_without_a_traceback(tmp_path, capsys):
    items, csv = _brs_input(tmp_path)
    items.loc[3, "brs_2"] = 8
    items.to_csv(csv, index=False)
    code = main(
        ["score", str(csv), "-i", "brs", "--id-column", "row_id", "--out", str(tmp_path / "o.csv")]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "tim score: error: brs: brs_2 has values outside codes 1-5" in err
    assert main(["score", str(csv), "-i", "brs", "--out", str(tmp_path / "o.txt")]) == 2


def test_warnings_are_printed_as_one_line(tmp_path, capsys):
    items, csv = _brs_input(tmp_path)
    items.loc[3, "brs_2"] = 8
    items.to_csv(csv, index=False)
    args = [
        "score",
        str(csv),
        "-i",
        "brs",
        "--on-invalid",
        "missing",
        "--out",
        str(tmp_path / "o.csv"),
    ]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "tim score: warning: brs: brs_2 has values outside codes 1-5" in err
    # rows are numbered as in a spreadsheet: the header is row 1, so index 3 is row 5
    assert "in 1 row (row 5)" in err and "(treated as unanswered)" in err
    assert "8 (" not in err


def test_invalid_responses_name_rows_not_ids(tmp_path, capsys):
    items, csv = _brs_input(tmp_path)
    items.loc[3, "brs_2"] = 8
    items.to_csv(csv, index=False)
    out = tmp_path / "o.csv"
    code = main(["score", str(csv), "-i", "brs", "--id-column", "row_id", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    # the header is row 1, so the fourth data row (index 3) is spreadsheet row 5
    assert "in 1 row (row 5)" in err
    assert f"'{items.loc[3, 'row_id']}'" not in err and "8 (" not in err


def test_score_codes_ignores_label_wording(tmp_path, capsys):
    pyreadstat = pytest.importorskip("pyreadstat")
    items, _ = _brs_input(tmp_path)
    items = items.head(20)
    item_cols = [f"brs_{i}" for i in range(1, 7)]
    src = tmp_path / "in.sav"
    wording = {1: "1 - STRONGLY DISAGREE", 2: "2 - DISAGREE", 3: "3 - NEUTRAL", 4: "4 - AGREE"}
    wording[5] = "5 - STRONGLY AGREE"
    pyreadstat.write_sav(items, str(src), variable_value_labels={c: wording for c in item_cols})
    out = tmp_path / "o.csv"
    # without --codes the labels are read as answers and their wording is not the instrument's
    assert main(["score", str(src), "-i", "brs", "--out", str(out)]) == 2
    assert "has values outside" in capsys.readouterr().err
    assert main(["score", str(src), "-i", "brs", "--codes", "--out", str(out)]) == 0
    got = pd.read_csv(out)
    # the BRS: mean of the six items, items 2, 4 and 6 reverse keyed (6 - code)
    answered = items[item_cols].copy()
    for c in ("brs_2", "brs_4", "brs_6"):
        answered[c] = 6 - answered[c]
    enough = answered.notna().sum(axis=1) >= 5
    expected = answered.mean(axis=1).where(enough)
    np.testing.assert_allclose(got["brs_score"], expected, equal_nan=True)


def test_keygen_and_pseudonymise_a_file(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TIM_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("TIM_PSEUDONYM_KEY_FILE", raising=False)
    key = tmp_path / "key"
    assert main(["keygen", str(key)]) == 0
    src = tmp_path / "in.csv"
    pd.DataFrame({"youth_id": ["Y0001", "Y0002", "Y0001"], "brs_1": [1, 2, 3]}).to_csv(
        src, index=False
    )
    out = tmp_path / "out.csv"
    args = ["pseudonymise", str(src), str(out), "-c", "youth_id", "--key-file", str(key)]
    assert main(args) == 0
    got = pd.read_csv(out)
    assert got["youth_id"].iloc[0] == got["youth_id"].iloc[2] != got["youth_id"].iloc[1]
    assert not got["youth_id"].str.startswith("Y0").any()
    assert got["brs_1"].tolist() == [1, 2, 3]
    # without any key the command stops with an explanation
    assert main(["pseudonymise", str(src), str(out), "-c", "youth_id"]) == 2
    assert "TIM_PSEUDONYM_KEY" in capsys.readouterr().err


def test_pseudonymise_sav_keeps_codes_and_labels(tmp_path, monkeypatch):
    pyreadstat = pytest.importorskip("pyreadstat")
    monkeypatch.delenv("TIM_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("TIM_PSEUDONYM_KEY_FILE", raising=False)
    key = tmp_path / "key"
    assert main(["keygen", str(key)]) == 0
    src, out = tmp_path / "in.sav", tmp_path / "out.sav"
    labels = {"q1": {1.0: "No", 2.0: "Yes", 9.0: "Refused"}}
    frame = pd.DataFrame({"rid": [11.0, 12.0, 13.0], "q1": [1.0, 9.0, 2.0]})
    pyreadstat.write_sav(
        frame, str(src), variable_value_labels=labels, missing_ranges={"q1": [9.0]}
    )
    args = ["pseudonymise", str(src), str(out), "-c", "rid", "--key-file", str(key)]
    assert main(args) == 0
    got, meta = pyreadstat.read_sav(str(out), user_missing=True)
    assert got["q1"].tolist() == frame["q1"].tolist()
    assert meta.variable_value_labels == labels
    assert meta.missing_ranges == {"q1": [{"lo": 9.0, "hi": 9.0}]}


# ------------------------------------------------------------------ real exports, real errors

BRS_HEADER = "rid,brs_1,brs_2,brs_3,brs_4,brs_5,brs_6"


def test_id_columns_are_read_as_text_so_scores_join_back(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f"{BRS_HEADER}\n007,1,2,3,4,5,1\n0123,2,2,2,2,2,2\n1e3,3,3,3,3,3,3\n")
    out = tmp_path / "out.csv"
    assert main(["score", str(src), "-i", "brs", "--id-column", "rid", "--out", str(out)]) == 0
    assert pd.read_csv(out, dtype={"rid": str})["rid"].tolist() == ["007", "0123", "1e3"]


def test_without_id_column_the_output_has_spreadsheet_rows(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(f"{BRS_HEADER}\n007,1,2,3,4,5,1\n0123,2,2,2,2,2,2\n")
    out = tmp_path / "out.csv"
    assert main(["score", str(src), "-i", "brs", "--out", str(out)]) == 0
    assert pd.read_csv(out)["row"].tolist() == [2, 3]


def test_semicolon_cp1252_file_is_scored_with_a_note(tmp_path, capsys):
    src = tmp_path / "in.csv"
    text = f"{BRS_HEADER};site\nA;1;2;3;4;5;1;Bogotá\n".replace(",", ";")
    src.write_bytes(text.encode("cp1252"))
    out = tmp_path / "out.csv"
    assert main(["score", str(src), "-i", "brs", "--id-column", "rid", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "tim score: note: read in.csv as cp1252 text with semicolon-separated fields" in err
    assert pd.read_csv(out)["brs_score"].round(3).tolist() == [3.333]


def _write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    return path


GOOD = f"{BRS_HEADER}\nA,1,2,3,4,5,1\nB,2,2,2,2,2,2\n"
LONG_ID = "participant_identifier_from_the_registry"

# (case, input file content, extra args, stderr pattern); every case exits 2 with one line
ERROR_CASES = [
    ("empty file", "", [], r"in\.csv is empty"),
    ("header only blank lines", "\n\n", [], r"in\.csv is empty"),
    (
        "duplicated header",
        "rid,brs_1,brs_2,brs_1,brs_4,brs_5,brs_6\nA,1,2,3,4,5,1\n",
        [],
        r"in\.csv: the header names column 'brs_1' twice \(again in column 4\)",
    ),
    (
        "too many fields",
        GOOD + "C,1,2,3,4,5,1,9\n",
        [],
        r"in\.csv: row 4 \(the header is row 1\) has a different number of fields than the "
        r"header's 7; check for a stray or missing comma",
    ),
    ("missing input", None, [], r"input file .*in\.csv does not exist"),
    (
        "unknown option with two instruments",
        GOOD,
        ["-i", "brfss_ace", "brs", "--option", "emotional_abus=more_than_once"],
        r"--option: no listed instrument has an option 'emotional_abus'; valid options are "
        r"brfss_ace: emotional_abuse, .*; brs: none",
    ),
    (
        "missing --columns file",
        GOOD,
        ["--columns", "missing.toml"],
        r"--columns: no such file missing\.toml",
    ),
    ("bad --columns pair", GOOD, ["--columns", "brs_1"], r"--columns: expected KEY=VALUE"),
    (
        "unknown --columns item",
        GOOD,
        ["--columns", "brs_9=x"],
        r"--columns maps unknown item ids",
    ),
    (
        "invalid response advice in CLI terms",
        f"{BRS_HEADER}\nA,1,2,3,4,5,9\n",
        [],
        r"brs: brs_6 has values outside .* in 1 row \(row 2\) .*\. Recode them, or run again with "
        r"--on-invalid missing",
    ),
    (
        "repeated ids",
        f"{BRS_HEADER}\nA,1,2,3,4,5,1\nB,1,2,3,4,5,1\nA,1,2,3,4,5,1\n",
        ["--id-column", "rid"],
        r"--id-column rid: rows 2, 4 repeat an id.*--id-column youth_id wave",
    ),
    ("unknown id column", GOOD, ["--id-column", "youth"], r"--id-column: .* has no column 'youth'"),
    (
        "unknown instrument",
        GOOD,
        ["-i", "nope"],
        r"unknown instrument 'nope'.*pass --instruments-dir FOLDER",
    ),
    (
        "stata name over 32 characters",
        GOOD.replace("rid", LONG_ID),
        ["--id-column", LONG_ID, "--out", "{tmp}/o.dta"],
        rf"--out: cannot write o\.dta: Stata allows column names of up to 32 characters, and "
        rf"'{LONG_ID}' has 40; write --out o\.csv or \.parquet instead",
    ),
    (
        "unwritable --out",
        GOOD,
        ["--out", "{tmp}/in.csv/o.csv"],
        r"--out: .*in\.csv is a file, not a folder; choose another --out",
    ),
    ("wrong --out type", GOOD, ["--out", "{tmp}/o.txt"], r"--out must end in one of \.csv"),
]


@pytest.mark.parametrize(
    ("content", "extra", "pattern"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_score_errors_are_one_line_in_command_line_terms(tmp_path, capsys, content, extra, pattern):
    src = _write(tmp_path / "in.csv", content)
    extra = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    args = ["score", str(src)]
    if "-i" not in extra:
        args += ["-i", "brs"]
    if "--out" not in extra:
        args += ["--out", str(tmp_path / "o.csv")]
    assert main(args + extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.match(r"tim score: error: " + pattern, err), err
    for python_advice in ("on_invalid=", "paths=[", "reset_index", "columns={", "pass paths"):
        assert python_advice not in err


def test_latin1_file_and_errors_leave_no_traceback_in_a_real_process(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(f"{BRS_HEADER},name\nA,1,2,3,4,5,1,José\n".encode("latin-1"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tim_research.cli",
            "score",
            str(src),
            "-i",
            "brs",
            "--out",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "read in.csv as cp1252 text with comma-separated fields" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "tim_research.cli", "report", "--jobs", "-1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "tim report: error: --jobs must be 1 or more (leave it out to use every CPU), got -1\n"
    )


def test_failed_write_keeps_the_existing_output(tmp_path, monkeypatch, capsys):
    src = _write(tmp_path / "in.csv", GOOD)
    out = tmp_path / "o.csv"
    out.write_text("last week's scores\n")

    def half_write(self, target, *args, **kwargs):
        with open(target, "w") as f:
            f.write("row,brs_sc")
        raise OSError(27, "File too large")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_write)
    assert main(["score", str(src), "-i", "brs", "--out", str(out)]) == 2
    assert "--out: cannot write" in capsys.readouterr().err
    assert out.read_text() == "last week's scores\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "o.csv"]


def test_option_valid_for_one_of_two_instruments_is_applied(tmp_path):
    src = _write(tmp_path / "in.csv", GOOD)
    args = ["score", str(src), "-i", "brfss_ace", "brs", "--option", "emotional_abuse=once"]
    # brfss_ace items are absent, so scoring stops there: the option itself was accepted
    assert main(args + ["--out", str(tmp_path / "o.csv")]) == 2


PSEUDO_CASES = [
    ("missing input", None, [], r"input file .*in\.csv does not exist"),
    ("empty input", "", [], r"in\.csv is empty"),
    (
        "duplicated header",
        "youth_id,brs_1,brs_1\nY1,1,2\n",
        [],
        r"in\.csv: the header names column 'brs_1' twice",
    ),
    (
        "ragged rows",
        "youth_id,brs_1\nY1,1\nY2,1,2\n",
        [],
        r"in\.csv: row 3 \(the header is row 1\)",
    ),
    (
        "stata name over 32 characters",
        f"youth_id,{LONG_ID}\nY1,1\n",
        ["{tmp}/o.dta"],
        rf"cannot write o\.dta: Stata allows column names of up to 32 characters, and '{LONG_ID}'",
    ),
    (
        "output under a file",
        "youth_id,brs_1\nY1,1\n",
        ["{tmp}/in.csv/o.csv"],
        r"cannot write o\.csv: .*in\.csv is a file, not a folder",
    ),
]


@pytest.mark.parametrize(
    ("content", "output", "pattern"),
    [case[1:] for case in PSEUDO_CASES],
    ids=[case[0] for case in PSEUDO_CASES],
)
def test_pseudonymise_errors_are_one_line(tmp_path, capsys, monkeypatch, content, output, pattern):
    monkeypatch.setenv("TIM_PSEUDONYM_KEY", "a test key that is long enough 0123")
    src = _write(tmp_path / "in.csv", content)
    out = [a.replace("{tmp}", str(tmp_path)) for a in output] or [str(tmp_path / "o.csv")]
    assert main(["pseudonymise", str(src), *out, "-c", "youth_id"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.match(r"tim pseudonymise: error: " + pattern, err), err


def test_file_size_limit_keeps_the_existing_output(tmp_path):
    """A real `ulimit -f`: the write fails with EFBIG and the old file stays as it was."""
    import resource

    items, src = _brs_input(tmp_path)
    out = tmp_path / "scores.csv"
    out.write_text("last week's scores\n")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tim_research.cli",
            "score",
            str(src),
            "-i",
            "brs",
            "--id-column",
            "row_id",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        preexec_fn=limit,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("tim score: error: --out: cannot write ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert out.read_text() == "last week's scores\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brs.csv", "scores.csv"]
