"""Report workers: a kernel started ahead per worker, fresh for every run; run order."""

from __future__ import annotations

import os
import textwrap

import nbformat
import pytest
from conftest import REPO

from tim_research.errors import ConfigError
from tim_research.report import _longest_first, _previous_seconds, run_report
from tim_research.report.config import RunSpec, load_config, plan_runs
from tim_research.report.execute import NextKernel, stop_kernel

# the probe leaves a mark in its kernel ("set") or fails if it finds one ("check"), so a batch
# whose runs alternate can only succeed when no run reuses a kernel another run touched
PROBE = textwrap.dedent(
    """
    import builtins, os
    if mode == "set":
        builtins.tim_probe_mark = True
    elif getattr(builtins, "tim_probe_mark", False):
        raise RuntimeError("this kernel ran another notebook before")
    print(os.getpid())
    """
)


def _config(folder, modes):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'data_dir: str = "."  # data\nmin_cell: int = 5  # suppression\nmode: str = "set"  # probe\n'
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells += [nbformat.v4.new_markdown_cell("# Probe"), params, nbformat.v4.new_code_cell(PROBE)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(folder / "probe.ipynb"))
    body = ['notebooks_dir = "."\n[parameters]\nmin_cell = 5\n']
    for i, mode in enumerate(modes):
        body.append(
            f'[[run]]\nname = "r{i}"\nnotebook = "probe.ipynb"\nscope = "program"\n'
            f'[run.parameters]\nmode = "{mode}"\n'
        )
    (folder / "reports.toml").write_text("".join(body))
    return folder / "reports.toml"


@pytest.mark.slow
def test_every_run_gets_a_fresh_kernel_and_no_kernel_folder_is_left(tmp_path):
    config = _config(tmp_path, ["set", "check", "set", "check"])
    out = tmp_path / "out"
    result = run_report(
        config=config, data=REPO / "data" / "sample", out=out, jobs=1, progress=False
    )
    assert [r.status for r in result.runs] == ["ok"] * 4, [r.error for r in result.runs]
    pids = set()
    for run in result.runs:
        nb = nbformat.read(str(result.analyst / run.name / "notebook.ipynb"), as_version=4)
        pids.add(nb.cells[-1].outputs[0]["text"].strip())
    assert len(pids) == 4  # four kernels, one per run
    leftovers = [p for p in out.rglob("tim-kernel-*")]
    assert leftovers == []


@pytest.mark.slow
def test_next_kernel_is_handed_over_only_in_the_folder_it_started_in(tmp_path):
    kernels = NextKernel()
    taken = None
    try:
        kernels.start(str(tmp_path), str(tmp_path))
        taken = kernels.take(str(tmp_path / "elsewhere"))
        assert taken is None  # started in another folder: stopped, not handed over
        assert not [p for p in tmp_path.iterdir() if p.name.startswith("tim-kernel-")]
        kernels.start(str(tmp_path), str(tmp_path))
        taken = kernels.take(str(tmp_path))
        assert taken is not None
        folder = taken[1]
        assert os.path.isdir(folder)
        assert kernels.take(str(tmp_path)) is None  # handed over once
    finally:
        kernels.stop()
        if taken is not None:
            stop_kernel(*taken)
    assert not os.path.exists(folder)


def _spec(name):
    return RunSpec(name=name, template=name, notebook=None, site=None, parameters={})


def test_runs_start_longest_first_after_runs_without_a_timing():
    todo = [_spec(n) for n in ["a", "b", "c", "d"]]
    order = _longest_first(todo, {"a": 1.0, "b": 5.0, "d": 3.0})
    assert [s.name for s in order] == ["c", "b", "d", "a"]


@pytest.mark.parametrize(
    "text", ["", "{", "[]", '{"runs": 3}', '{"runs": [{"name": "a", "seconds": "x"}]}']
)
def test_a_damaged_manifest_gives_no_timings(tmp_path, text):
    (tmp_path / "latest").mkdir()
    (tmp_path / "latest" / "manifest.json").write_text(text)
    assert _previous_seconds(tmp_path) == {}


def test_timings_come_from_the_latest_manifest(tmp_path):
    (tmp_path / "latest").mkdir()
    (tmp_path / "latest" / "manifest.json").write_text(
        '{"runs": [{"name": "a", "seconds": 2.5}, {"name": "b", "seconds": 1}]}'
    )
    assert _previous_seconds(tmp_path) == {"a": 2.5, "b": 1.0}


def test_only_picks_a_whole_site_run_or_one_site_of_it():
    cfg = load_config(REPO / "notebooks" / "reports.toml")
    sites = ["North", "South"]

    def names(only):
        return [s.name for s in plan_runs(cfg, data_dir=REPO, sites=sites, only=only)]

    assert names(("site-report",)) == ["site-report-north", "site-report-south"]
    assert names(("site-report-south", "ace-profile")) == ["ace-profile", "site-report-south"]
    with pytest.raises(ConfigError, match="site-report-north"):
        names(("site-report-nowhere",))
