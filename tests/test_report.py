"""tim report: batches, faults, resume, atomic publishing, the safety gate, Dask.

End-to-end tests are marked ``slow`` (kernels, worker processes). They use a small probe
notebook and configs written in tmp_path; the tests that only read a batch's outputs share one
session batch (``shared_batch``; ``--dist loadfile`` keeps this file on one xdist worker). Only
``test_default_batch_on_the_sample_publishes_every_report`` runs the real notebooks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time

import nbformat
import pytest
from conftest import REPO

from tim_research.cli import main
from tim_research.errors import ConfigError
from tim_research.report import data_fingerprint, run_report
from tim_research.report.config import load_config
from tim_research.report.gate import scan, small_cells, tables_in_html

SAMPLE = REPO / "data" / "sample"

# failing and hanging runs stop before any import; the others read the sample with pandas only
# (the real notebooks and their imports are exercised by the default batch test)
PROBE = textwrap.dedent(
    """
    import time
    if mode == "fail":
        raise RuntimeError("planted failure")
    if mode == "slow":
        time.sleep(60)
    import os
    import pandas as pd
    youth = pd.read_csv(os.path.join(data_dir, "youth.csv"), dtype=str, keep_default_na=False)
    if site is not None:
        youth = youth[youth["site"] == site]
    if mode == "identifier":
        print("first youth:", youth["youth_id"].iloc[0])
    if mode == "warn":
        import warnings
        warnings.warn("a note for the analyst")
    if mode == "small":
        display(pd.DataFrame({"group": ["a", "b"], "count": [3, 40]}))
    pd.DataFrame({"youth": [len(youth)]})
    """
)


def _probe_notebook(folder, name="probe.ipynb", with_parameters=True):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Probe\nA test notebook."))
    nb.cells.append(nbformat.v4.new_code_cell("from typing import Optional"))
    params = nbformat.v4.new_code_cell(
        'data_dir: str = "../data/sample"  # data\n'
        "site: Optional[str] = None  # site name, or None for all\n"
        "min_cell: int = 5  # suppression\n"
        "seed: int = 0  # seed\n"
        'mode: str = "ok"  # what the probe does\n'
    )
    if with_parameters:
        params.metadata["tags"] = ["parameters"]
    nb.cells.append(params)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(folder / name))


def _config(folder, runs, run_timeout=120):
    body = [
        f'notebooks_dir = "."\ncell_timeout = 60\nrun_timeout = {run_timeout}\n'
        "keep_batches = 3\n[parameters]\nmin_cell = 5\n"
    ]
    for name, scope, params in runs:
        body.append(f'[[run]]\nname = "{name}"\nnotebook = "probe.ipynb"\nscope = "{scope}"\n')
        if params:
            body.append("[run.parameters]\n" + "".join(f'{k} = "{v}"\n' for k, v in params.items()))
    path = folder / "reports.toml"
    path.write_text("".join(body))
    return path


@pytest.fixture
def probe_dir(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    _probe_notebook(folder)
    return folder


# runs of the shared batch: a program run and a run per site that pass, and the probes for the
# staff HTML (warn) and the safety gate (identifier, small), which tests look up by name
PER_SITE = ("overview", "site")
SHARED_RUNS = [
    ("overview", "program", {}),
    ("site", "each_site", {}),
    ("warn", "program", {"mode": "warn"}),
    ("identifier", "program", {"mode": "identifier"}),
    ("small", "program", {"mode": "small"}),
]


@pytest.fixture(scope="session")
def shared_batch(tmp_path_factory):
    """``(result, out)`` of one batch on the sample, published as ``b1``: read it, never write."""
    folder = tmp_path_factory.mktemp("shared-batch")
    notebooks = folder / "nb"
    notebooks.mkdir()
    _probe_notebook(notebooks)
    cfg = _config(notebooks, SHARED_RUNS)
    out = folder / "out"
    result = run_report(config=cfg, data=SAMPLE, out=out, jobs=2, progress=False, batch_id="b1")
    return result, out


def _run(result, name):
    (run,) = [r for r in result.runs if r.name == name]
    return run


@pytest.mark.slow
def test_batch_per_site_index_manifest_and_html_without_code(shared_batch):
    result, out = shared_batch
    runs = [r for r in result.runs if r.template in PER_SITE]
    assert [r.name for r in runs] == [
        "overview",
        "site-north",
        "site-south",
        "site-east",
        "site-west",
    ]
    assert not [r for r in runs if r in result.failed]
    latest = out / "latest"
    assert latest.is_symlink() and latest.resolve() == (out / "batches" / "b1").resolve()
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["data_fingerprint"] == data_fingerprint(SAMPLE)
    assert {"pandas", "papermill", "tim-research"} <= set(manifest["versions"])
    assert len(manifest["git_commit"]) in (40, 7) or manifest["git_commit"] == "unknown"
    assert [r["name"] for r in manifest["runs"]] == [r.name for r in result.runs]
    for run in manifest["runs"]:
        if run["template"] not in PER_SITE:
            continue
        assert run["status"] == "ok" and run["seconds"] > 0
        html = (latest / run["name"] / "report.html").read_text()
        assert "read_csv" not in html  # no code cells in the staff HTML
        assert "A test notebook." in html
    index = (latest / "index.html").read_text()
    assert all(f"{r}/report.html" in index for r in ("overview", "site-west"))
    assert "population research measures" in index
    # the staff tree holds gated pages, the index and the manifest; the rest is the analyst's
    staff = {str(p.relative_to(latest)) for p in latest.rglob("*") if p.is_file()}
    published = {f"{r.name}/report.html" for r in result.runs if r.status == "ok"}
    assert staff == {"index.html", "manifest.json"} | published
    assert manifest["analyst_folder"] == "analyst/b1"
    assert result.analyst == out / "analyst" / "b1"
    assert (result.analyst / "overview" / "notebook.ipynb").is_file()
    assert list((result.analyst / "logs").glob("worker-*.log"))


@pytest.mark.slow
def test_failing_run_is_kept_alone_and_resume_reruns_only_it(probe_dir, tmp_path, capsys):
    cfg = _config(probe_dir, [("good", "program", {}), ("bad", "program", {"mode": "fail"})])
    out = tmp_path / "out"
    code = main(
        [
            "report",
            "--config",
            str(cfg),
            "--data",
            str(SAMPLE),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "bad: failed: cell" in err and "planted failure" in err
    first = json.loads((out / "latest" / "manifest.json").read_text())
    status = {r["name"]: r["status"] for r in first["runs"]}
    assert status == {"good": "ok", "bad": "failed"}
    assert not (out / "latest" / "bad").exists()  # nothing of a failed run in the staff tree
    analyst = out / "analyst" / first["batch_id"]
    failed_nb = nbformat.read(str(analyst / "bad" / "notebook.ipynb"), as_version=4)
    assert any(
        o.get("ename") == "RuntimeError" for c in failed_nb.cells for o in c.get("outputs", [])
    )
    # fix the failing run and resume: only it is executed again
    cfg.write_text(cfg.read_text().replace('mode = "fail"', 'mode = "ok"'))
    result = run_report(config=cfg, data=SAMPLE, out=out, resume=True, jobs=1, progress=False)
    reused = {r.name: r.reused for r in result.runs}
    assert reused == {"good": True, "bad": False}
    assert not result.failed
    # the re-used run's notebook is carried over in the analyst tree, not the staff tree
    assert (result.analyst / "good" / "notebook.ipynb").is_file()
    assert not (result.folder / "good" / "notebook.ipynb").exists()


@pytest.mark.slow
def test_interrupted_batch_leaves_the_published_batch_untouched(shared_batch, probe_dir, tmp_path):
    # a copy of the shared batch's output folder is the published batch b1 (`latest` is relative)
    out = tmp_path / "out"
    shutil.copytree(shared_batch[1], out, symlinks=True)
    assert (out / "latest").resolve() == (out / "batches" / "b1").resolve()
    before = {
        p.relative_to(out): p.read_bytes()
        for tree in ("batches", "analyst")
        for p in (out / tree).rglob("*")
        if p.is_file()
    }
    slow = _config(probe_dir, [("slow", "program", {"mode": "slow"})])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tim_research.cli",
            "report",
            "--config",
            str(slow),
            "--data",
            str(SAMPLE),
            "--out",
            str(out),
            "--jobs",
            "1",
            "--no-progress",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.glob("analyst/.staging-*/slow/spec.json")):
        time.sleep(0.2)
    assert list(out.glob(".staging-*")), "the batch never started"
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    assert (out / "latest").resolve() == (out / "batches" / "b1").resolve()
    after = {
        p.relative_to(out): p.read_bytes()
        for tree in ("batches", "analyst")
        for p in (out / tree).rglob("*")
        if p.is_file()
    }
    assert set(after) == set(before), set(after) ^ set(before)
    assert [k for k in before if after[k] != before[k]] == []
    # neither tree keeps work in progress
    assert not list(out.glob(".staging-*")) and not list(out.glob("analyst/.staging-*"))


@pytest.mark.slow
def test_run_limit_kills_a_hanging_run(probe_dir, tmp_path):
    # the probe sleeps in its first code cell: the limit only needs to cover starting the run
    cfg = _config(probe_dir, [("slow", "program", {"mode": "slow"})], run_timeout=4)
    result = run_report(config=cfg, data=SAMPLE, out=tmp_path / "out", jobs=1, progress=False)
    (run,) = result.runs
    assert run.status == "timeout" and run.seconds < 30
    # the cells it got through stay for the analyst, owner-only; staff get nothing of it
    notebook = result.analyst / "slow" / "notebook.ipynb"
    assert "time.sleep(60)" in notebook.read_text()
    assert stat.S_IMODE(notebook.stat().st_mode) == 0o600
    assert not (result.folder / "slow").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "message"), [("identifier", "direct identifier"), ("small", "below min_cell=5")]
)
def test_safety_gate_blocks_planted_identifier_and_small_cell(shared_batch, mode, message):
    result, out = shared_batch
    run = _run(result, mode)  # the run with this probe mode is named after it
    assert run.status == "blocked" and message in run.error
    assert "Y0" not in run.error  # the gate never prints identifier values
    assert not (out / "latest" / mode).exists()
    # kept for the analyst, outside the staff tree
    assert (result.analyst / mode / "notebook.ipynb").exists()
    assert (result.analyst / mode / "report.html").exists()


def test_config_errors_unknown_parameter_and_missing_parameters_cell(probe_dir, tmp_path):
    cfg = _config(probe_dir, [("probe", "program", {"colour": "red"})])
    with pytest.raises(ConfigError, match=r"declares no parameter\(s\) \['colour'\]"):
        load_config(cfg)
    _probe_notebook(probe_dir, with_parameters=False)
    cfg = _config(probe_dir, [("probe", "program", {})])
    with pytest.raises(ConfigError, match="no cell tagged 'parameters'"):
        load_config(cfg)


def test_committed_config_names_real_notebooks():
    cfg = load_config(REPO / "notebooks" / "reports.toml")
    assert all(t.notebook.exists() for t in cfg.runs)


def test_gate_parses_pandas_tables_and_flags_only_count_columns():
    import pandas as pd

    html = pd.DataFrame(
        {"count": [3, 12, None], "estimate": [0.01, 2.0, 3.0], "n_missing": [1, 2, 3]}
    ).to_html()
    (table,) = tables_in_html(html)
    assert list(table.columns) == ["", "count", "estimate", "n_missing"]
    assert len(small_cells(html, min_cell=5)) == 1
    assert scan([html], identifiers=set(), min_cell=0) == []
    assert scan(["<p>Y0001</p>"], identifiers={"Y0001"}, min_cell=5)


@pytest.mark.slow
def test_dask_executor_on_a_local_cluster(probe_dir, tmp_path):
    import distributed

    # one run on one worker process: what is tested is the Dask path, not the plan
    cfg = _config(probe_dir, [("overview", "program", {})])
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = run_report(
            config=cfg,
            data=SAMPLE,
            out=tmp_path / "out",
            executor="dask",
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    assert len(result.runs) == 1 and not result.failed
    assert (tmp_path / "out" / "latest" / "overview" / "report.html").exists()
    # the client writes what the task sent back into the owner-only analyst tree
    assert [p.name for p in (result.folder / "overview").iterdir()] == ["report.html"]
    notebook = result.analyst / "overview" / "notebook.ipynb"
    assert stat.S_IMODE(notebook.stat().st_mode) == 0o600
    assert stat.S_IMODE(result.analyst.stat().st_mode) == 0o700


@pytest.mark.slow
def test_staff_html_leaves_out_warnings_but_the_notebook_keeps_them(shared_batch):
    result, out = shared_batch
    assert _run(result, "warn").status == "ok"
    assert "a note for the analyst" not in (out / "latest" / "warn" / "report.html").read_text()
    assert "a note for the analyst" in (result.analyst / "warn" / "notebook.ipynb").read_text()


@pytest.mark.slow
def test_default_batch_on_the_sample_publishes_every_report(tmp_path):
    # the main job (make run): every committed notebook passes the safety gate on the sample
    result = run_report(
        config=REPO / "notebooks" / "reports.toml",
        data=SAMPLE,
        out=tmp_path / "out",
        jobs=2,
        progress=False,
    )
    assert not result.failed, [(r.name, r.error) for r in result.failed]
    names = [r.name for r in result.runs]
    assert "program-overview" in names and "site-report-west" in names
    for run in result.runs:
        html = (result.folder / run.name / "report.html").read_text()
        assert "jp-InputArea-editor" not in html.split("</style>")[-1]  # no code cells
