"""The tim command: catalogue listing, scoring files in every supported format, errors."""

from __future__ import annotations

import subprocess
import sys

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
    assert "8 (row 3) (treated as unanswered)" in err


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
