"""tim report batches on one output folder: locking, leftovers, --only, error texts."""

from __future__ import annotations

import json
import re
import shutil
import textwrap

import nbformat
import pytest
from conftest import REPO

from tim_research.cli import main
from tim_research.errors import ConfigError, TimResearchError
from tim_research.report import _output_lock, run_report
from tim_research.report.config import load_config

SAMPLE = REPO / "data" / "sample"

PROBE = textwrap.dedent(
    """
    import pandas as pd
    youth = pd.read_csv(f"{data_dir}/youth.csv", dtype=str)
    if mode == "fail_with_id":
        raise RuntimeError("bad row " + youth["youth_id"].iloc[0])
    if mode == "cached":
        import os
        from tim_research.program.cache import CACHE_ENV, read_cache
        if read_cache(os.environ[CACHE_ENV], data_dir) is None:
            raise RuntimeError("the kernel got no usable program cache")
    pd.DataFrame({"youth": [len(youth)]})
    """
)


def _probe(folder, runs, keep_batches=3):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'data_dir: str = "../data/sample"  # data\nmin_cell: int = 5  # suppression\n'
        'mode: str = "ok"  # what the probe does\n'
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells += [nbformat.v4.new_markdown_cell("# Probe"), params, nbformat.v4.new_code_cell(PROBE)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(folder / "probe.ipynb"))
    body = [f'notebooks_dir = "."\nkeep_batches = {keep_batches}\n[parameters]\nmin_cell = 5\n']
    for name, mode in runs:
        body.append(
            f'[[run]]\nname = "{name}"\nnotebook = "probe.ipynb"\nscope = "program"\n'
            f'[run.parameters]\nmode = "{mode}"\n'
        )
    (folder / "reports.toml").write_text("".join(body))
    return folder / "reports.toml"


@pytest.mark.parametrize("keep", ["0", "-1", "true", "1.5"])
def test_keep_batches_must_keep_the_new_batch(tmp_path, keep):
    config = _probe(tmp_path, [("a", "ok")])
    config.write_text(config.read_text().replace("keep_batches = 3", f"keep_batches = {keep}"))
    with pytest.raises(ConfigError, match="keep_batches must be a whole number of at least 1"):
        load_config(config)


def test_a_second_batch_on_the_same_folder_stops_with_one_clear_line(tmp_path, capsys):
    config = _probe(tmp_path, [("a", "ok")])
    out = tmp_path / "out"
    with _output_lock(out, wait=False):
        with pytest.raises(TimResearchError, match="another report batch is writing"):
            run_report(config=config, data=SAMPLE, out=out, progress=False)
        status = main(["report", "--config", str(config), "--data", str(SAMPLE), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith("tim report: error: another report batch")
    assert "--wait" in err[0] and "Traceback" not in err[0]
    assert not (out / "latest").exists()


@pytest.mark.slow
def test_leftovers_are_cleared_ids_are_unique_and_the_new_batch_is_kept(tmp_path):
    config = _probe(tmp_path, [("a", "ok")], keep_batches=1)
    out = tmp_path / "out"
    (out / ".staging-crashed" / "a").mkdir(parents=True)
    (out / "analyst" / ".staging-crashed" / "a").mkdir(parents=True)
    (out / "analyst" / "published-analyst-only" / "a").mkdir(parents=True)  # crash between renames
    (out / ".latest-crashed").symlink_to("batches/none")
    first = run_report(config=config, data=SAMPLE, out=out, progress=False, jobs=1)
    assert not (out / ".staging-crashed").exists()
    assert not (out / "analyst" / ".staging-crashed").exists()
    assert not (out / "analyst" / "published-analyst-only").exists()
    assert not (out / ".latest-crashed").is_symlink()
    second = run_report(config=config, data=SAMPLE, out=out, progress=False, jobs=1)
    assert first.batch_id != second.batch_id
    assert len(second.batch_id.split("-")[-1]) == 6  # the random part
    assert [p.name for p in (out / "batches").iterdir()] == [second.batch_id]
    # the analyst tree is pruned with the same keep_batches
    assert [p.name for p in (out / "analyst").iterdir()] == [second.batch_id]
    assert (out / "latest").resolve() == (out / "batches" / second.batch_id).resolve()
    assert not list(out.glob(".staging-*"))


@pytest.mark.slow
def test_kernels_get_the_checked_program_and_it_is_not_published(tmp_path):
    config = _probe(tmp_path, [("program-a", "cached")])
    out = tmp_path / "out"
    result = run_report(config=config, data=SAMPLE, out=out, progress=False, jobs=1)
    assert [r.status for r in result.runs] == ["ok"], result.runs
    # the copy of the data lived in the analyst staging area for the batch only
    assert not (result.analyst / "program").exists()
    assert not list((out / "analyst").glob(".staging-*"))


@pytest.mark.slow
def test_only_carries_the_other_runs_over_or_says_they_were_not_run(tmp_path):
    config = _probe(tmp_path, [("program-a", "ok"), ("program-b", "ok")])
    out = tmp_path / "out"
    run_report(config=config, data=SAMPLE, out=out, progress=False, jobs=1)
    again = run_report(config=config, data=SAMPLE, out=out, progress=False, only=["program-b"])
    runs = {r.name: r for r in again.runs}
    assert runs["program-a"].status == "ok" and runs["program-a"].reused
    assert not runs["program-b"].reused
    assert (out / "latest" / "program-a" / "report.html").exists()
    assert (again.analyst / "program-a" / "notebook.ipynb").exists()

    data = tmp_path / "data"  # other data: the old report of program-a must not be carried over
    data.mkdir()
    for f in SAMPLE.iterdir():
        (data / f.name).write_bytes(f.read_bytes())
    with open(data / "meetings.csv", "a", encoding="utf-8") as fh:
        fh.write("")
    (data / "datapackage.json").write_text(
        (SAMPLE / "datapackage.json").read_text().replace("seed 0", "seed 0 (copy)")
    )
    third = run_report(config=config, data=data, out=out, progress=False, only=["program-b"])
    runs = {r.name: r for r in third.runs}
    assert runs["program-a"].status == "not run"
    index = (out / "latest" / "index.html").read_text()
    assert "program-a" in index and "not run in this batch" in index


@pytest.mark.slow
def test_failed_run_error_text_is_gated_and_its_notebook_not_linked(tmp_path, capsys):
    config = _probe(tmp_path, [("program-a", "fail_with_id")])
    out = tmp_path / "out"
    status = main(
        ["report", "--config", str(config), "--data", str(SAMPLE), "--out", str(out)]
        + ["--no-progress", "--jobs", "1"]
    )
    assert status == 1
    captured = capsys.readouterr()
    published = [
        (out / "latest" / "index.html").read_text(),
        (out / "latest" / "manifest.json").read_text(),
        captured.out,
        captured.err,
    ]
    for text in published:
        assert "Y0001" not in text
    manifest = json.loads(published[1])
    assert "withheld" in manifest["runs"][0]["error"]
    assert "notebook.ipynb" not in published[0] and "analyst/" not in published[0]
    manifest_id = manifest["batch_id"]
    assert not (out / "latest" / "program-a").exists()
    assert (out / "analyst" / manifest_id / "program-a" / "notebook.ipynb").is_file()


def test_a_run_whose_tables_the_data_lack_is_listed_as_not_run(tmp_path):
    from tim_research import synth

    data = tmp_path / "data"
    synth.write_sample(data, n_youth=30, tables=("mentors", "matches"))
    config = _probe(tmp_path, [("plain", "ok"), ("meets", "ok")])
    text = config.read_text().replace(
        'name = "meets"\nnotebook = "probe.ipynb"\nscope = "program"\n',
        'name = "meets"\nnotebook = "probe.ipynb"\nscope = "program"\n'
        'needs = ["meetings", "matches"]\n',
    )
    config.write_text(text)
    out = tmp_path / "out"
    result = run_report(config=config, data=data, out=out, jobs=1, progress=False)
    runs = {r.name: r for r in result.runs}
    assert runs["plain"].status == "ok"
    assert runs["meets"].status == "not run" and runs["meets"].missing_tables == ("meetings",)
    # the data cannot support it: not a failure of the batch (tim report exits 0)
    assert not result.failed and result.skipped == [runs["meets"]]
    assert not (out / "latest" / "meets").exists()
    index = (out / "latest" / "index.html").read_text()
    assert "not run: needs meetings.csv" in index
    manifest = json.loads((out / "latest" / "manifest.json").read_text())
    assert {r["name"]: r["missing_tables"] for r in manifest["runs"]}["meets"] == ["meetings"]


def test_needs_must_name_program_tables(tmp_path):
    config = _probe(tmp_path, [("a", "ok")])
    config.write_text(
        config.read_text().replace(
            'scope = "program"\n', 'scope = "program"\nneeds = ["meeting"]\n'
        )
    )
    with pytest.raises(ConfigError, match="needs must be a list of table names"):
        load_config(config)


@pytest.mark.slow
def test_a_mapping_kept_outside_the_data_folder_reaches_the_kernels(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(REPO / "data" / "examples" / "own-program", data)
    (tmp_path / "maps").mkdir()
    text = (data / "mapping.toml").read_text(encoding="utf-8")
    (data / "mapping.toml").unlink()
    # paths in a mapping are relative to the mapping file
    text = re.sub(r'^(file|dictionary) = "', r'\1 = "../data/', text, flags=re.M)
    (tmp_path / "maps" / "mapping.toml").write_text(text, encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('data_dir: str = "."  # data\nmin_cell: int = 5  # cells\n')
    params.metadata["tags"] = ["parameters"]
    probe = (
        "import os\nfrom tim_research.program.cache import CACHE_ENV, read_cache\n"
        "program = read_cache(os.environ[CACHE_ENV], data_dir)\n"
        "assert program is not None, 'the kernel got no usable program cache'\n"
        "print(len(program.youth))\n"
    )
    nb.cells += [nbformat.v4.new_markdown_cell("# Probe"), params, nbformat.v4.new_code_cell(probe)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(tmp_path / "probe.ipynb"))
    config = tmp_path / "reports.toml"
    config.write_text(
        'notebooks_dir = "."\n[[run]]\nname = "probe"\nnotebook = "probe.ipynb"\n'
        'scope = "program"\n'
    )
    out = tmp_path / "out"
    with pytest.raises(TimResearchError):
        run_report(config=config, data=data, out=out, jobs=1, progress=False)  # no mapping
    result = run_report(
        config=config,
        data=data,
        out=out,
        jobs=1,
        progress=False,
        mapping=tmp_path / "maps" / "mapping.toml",
    )
    assert [r.status for r in result.runs] == ["ok"], [r.error for r in result.runs]
