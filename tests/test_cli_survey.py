"""The survey researcher's path through the command line: maps, kept columns, sidecar,
prevalence, one-instrument pages and help pages."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_VALUES

from tim_research.cli import _parser, main
from tim_research.stats.prevalence import prevalence

BRFSS_NAMES = (
    "ACEDEPRS ACEDRINK ACEDRUGS ACEPRISN ACEDIVRC ACEPUNCH ACEHURT1 ACESWEAR ACETOUCH ACETTHEM "
    "ACEHVSEX"
).split()


@pytest.fixture
def brfss_file(tmp_path, read_external):
    data = read_external("brfss2022_ace_12states.csv").head(800)
    # text ids with leading zeros, and a made-up design, as a BRFSS user's file has them
    data.insert(0, "SEQNO", [f"{i:07d}" for i in range(len(data))])
    rng = np.random.default_rng(3)
    data["_LLCPWT"] = rng.uniform(20.0, 900.0, len(data)).round(3)
    data["_STSTR"] = data["state"].astype(str) + "0" + (np.arange(len(data)) % 3).astype(str)
    data["_PSU"] = np.arange(len(data)) + 1000
    path = tmp_path / "brfss.csv"
    data.to_csv(path, index=False)
    return path


def test_shipped_brfss_map_scores_as_the_r_reference(tmp_path, brfss_file):
    out = tmp_path / "aces.csv"
    status = main(
        ["score", str(brfss_file), "-i", "brfss_ace", "--columns", "brfss"]
        + ["--id-column", "SEQNO", "--keep", "state", "_LLCPWT", "--out", str(out)]
    )
    assert status == 0
    got = pd.read_csv(out, dtype={"SEQNO": str, "state": str})
    expected = pd.read_csv(REFERENCE_VALUES / "scoring_brfss_ace_expected.csv").head(800)
    assert got["SEQNO"].iloc[:3].tolist() == ["0000000", "0000001", "0000002"]
    assert list(got.columns[:3]) == ["SEQNO", "state", "_LLCPWT"]
    np.testing.assert_array_equal(
        got["brfss_ace_score"].fillna(-1).to_numpy(),
        expected["brfss_ace_score"].fillna(-1).to_numpy(),
    )


def test_sidecar_records_every_scoring_choice(tmp_path, brfss_file):
    out = tmp_path / "aces.parquet"
    assert (
        main(
            ["score", str(brfss_file), "-i", "brfss_ace", "--columns", "brfss"]
            + ["--option", "emotional_abuse=more_than_once", "--on-invalid", "missing"]
            + ["--cutoffs", "brfss_ace_score=cdc_ace_study", "--out", str(out)]
        )
        == 0
    )
    record = json.loads((tmp_path / "aces.parquet.json").read_text())
    ace = next(i for i in record["instruments"] if i["id"] == "brfss_ace")
    assert ace["options"]["emotional_abuse"] == "more_than_once"
    assert ace["options"]["parents_not_married"] == "not_exposed"  # the default, written down
    assert ace["cutoff_sets"]["brfss_ace_score"] == "cdc_ace_study"
    assert ace["version"]
    assert record["rows"] == 800 and record["on_invalid"] == "missing"
    assert [i["id"] for i in record["instruments"]] == ["brfss_ace"]
    assert record["input"] == "brfss.csv" and record["tim_research"]


def test_keep_names_a_missing_column_in_one_line(tmp_path, brfss_file, capsys):
    status = main(
        ["score", str(brfss_file), "-i", "brfss_ace", "--columns", "brfss"]
        + ["--keep", "_STATE", "--out", str(tmp_path / "x.csv")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "--keep" in err[0] and "_STATE" in err[0]
    assert not (tmp_path / "x.csv").exists()


def test_prevalence_command_equals_the_library_with_the_design(tmp_path, brfss_file):
    scores = tmp_path / "aces.parquet"
    main(
        ["score", str(brfss_file), "-i", "brfss_ace", "--columns", "brfss", "--id-column"]
        + ["SEQNO", "--keep", "state", "_LLCPWT", "_STSTR", "_PSU", "--out", str(scores)]
    )
    out = tmp_path / "by_state.csv"
    status = main(
        ["prevalence", str(scores), "--indicator", "brfss_ace_score", "--at-least", "4"]
        + ["--by", "state", "--weights", "_LLCPWT", "--strata", "_STSTR", "--psu", "_PSU"]
        + ["--out", str(out)]
    )
    assert status == 0
    got = pd.read_csv(out, dtype={"state": str})
    frame = pd.read_parquet(scores)
    frame["four_plus"] = np.where(
        frame["brfss_ace_score"].isna(), np.nan, (frame["brfss_ace_score"] >= 4) * 1.0
    )
    frame["_LLCPWT"] = frame["_LLCPWT"].astype(float)
    want = prevalence(
        frame, "four_plus", by="state", weights="_LLCPWT", strata="_STSTR", psu="_PSU"
    )
    assert got["state"].tolist() == want["state"].astype(str).tolist()
    for col in ["n", "events", "estimate", "se", "ci_lower", "ci_upper"]:
        np.testing.assert_allclose(got[col], want[col].astype(float), rtol=1e-9)


def test_prevalence_errors_are_one_line(tmp_path, brfss_file, capsys):
    status = main(
        ["prevalence", str(brfss_file), "--indicator", "brfss_ace_score", "--out"]
        + [str(tmp_path / "p.csv")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "brfss_ace_score" in err[0]


def test_instruments_page_fits_a_terminal_and_ids_are_case_insensitive(capsys):
    assert main(["instruments"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in listing) <= 100
    for inst in ["ace10", "BRFSS_ACE", "Pcl5", "proqol5"]:
        assert main(["instruments", inst]) == 0
        page = capsys.readouterr().out
        assert inst.casefold() in page.splitlines()[0]
        assert max(len(line) for line in page.splitlines()) <= 100
        assert "Scales" in page and "Answers" in page
    assert main(["instruments", "brz"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean 'brs'?" in err and len(err.strip().splitlines()) == 1


def test_every_subcommand_help_has_a_description_defaults_and_an_example():
    sub = next(a for a in _parser()._actions if a.dest == "command")
    for name, parser in sub.choices.items():
        text = parser.format_help()
        assert parser.description, name
        assert "example" in (parser.epilog or ""), name
        assert "(default: None)" not in text, name
        assert max(len(line) for line in text.splitlines()) <= 100, name
