"""tim init and tim check: a program's own data package, from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tim_research.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_init_writes_a_package_without_synthetic_marker_and_refuses_a_full_folder(tmp_path, capsys):
    out = tmp_path / "ours"
    assert main(["init", str(out), "--sites", "Eastside", "Westside"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "youth.csv",
            "surveys.csv",
            "mentors.csv",
            "mentor_surveys.csv",
            "matches.csv",
            "meetings.csv",
            "goals.csv",
            "relationship_surveys.csv",
            "pce_surveys.csv",
            "datapackage.json",
            "CODEBOOK.md",
            "mapping.toml",
        ]
    )
    package = json.loads((out / "datapackage.json").read_text())
    assert "synthetic" not in package["tim_research"] and "licenses" not in package
    assert (out / "youth.csv").read_text().strip().startswith("youth_id,site,")
    book = (out / "CODEBOOK.md").read_text()
    assert "Eastside, Westside" in book and "## Rules checked by `tim check`" in book
    capsys.readouterr()
    assert main(["init", str(out), "--sites", "A"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an empty folder" in err


def test_check_exit_codes_and_summary(tmp_path, capsys):
    assert main(["check", str(SAMPLE)]) == 0
    assert "is clean" in capsys.readouterr().out
    out = tmp_path / "ours"
    main(["init", str(out), "--sites", "A"])
    capsys.readouterr()
    # the cut-off is still the placeholder: one problem, exit 1, a summary line
    assert main(["check", str(out)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("tim check: 1 problem(s)") and "cutoff_date" in lines[0]
    assert main(["check", str(tmp_path / "nowhere")]) == 2


def test_check_lists_every_problem_of_a_mapped_program_without_values(tmp_path, capsys):
    folder = tmp_path / "own"
    shutil.copytree(EXAMPLES / "own-program", folder)
    mapping = folder / "mapping.toml"
    moved = tmp_path / "elsewhere.toml"
    # --mapping: a mapping kept outside the folder (exports still named relative to it)
    text = mapping.read_text().replace('file = "', f'file = "{folder}/')
    text = text.replace('dictionary = "', f'dictionary = "{folder}/')
    moved.write_text(text.replace('"Completed as planned" = ', '"Completed as planed" = '))
    mapping.unlink()
    status = main(["check", str(folder), "--mapping", str(moved)])
    out = capsys.readouterr().out
    assert status == 1
    unknown = [line for line in out.splitlines() if "has no code in [matches.codes" in line]
    assert len(unknown) >= 2 and all("staff_matches.csv" in line for line in unknown)
    assert "Completed as planned" not in out.replace("[matches.codes.closure_reason]", "")
    assert out.strip().splitlines()[-1].startswith("tim check: ")
