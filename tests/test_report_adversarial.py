"""tim report against planted identifiers, small sites, failing runs and overlapping batches.

Each test plants trouble in a copy of ``data/sample`` and runs batches of a probe notebook
written in tmp_path (pandas only, so kernels start fast), then reads every file that staff can
reach and everything the command printed. The checks here are written independently of the
safety gate's own matching (case-folded, HTML-unescaped text, whitespace collapsed), so a gate
that misses a form of a value fails them.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import REPO

from tim_research.cli import main
from tim_research.report import data_fingerprint
from tim_research.report.gate import small_cells

SAMPLE = REPO / "data" / "sample"
MIN_CELL = 5
NAME, EMAIL, PHONE = "Dr Jane Smith GP", "jane.smith@example.org", "+44 7700 900123"
# free text that no identifier check can recognise, held by one young person: only the gate,
# which knows every rare free-text value, keeps it off staff pages
RARE = "Okafor family outreach"
SMALL_SITE = "Harbour"  # a site of two youth

# every ok run prints the fingerprint of the data it read (data_fingerprint's recipe), so a
# report can be matched to the manifest that publishes it
PROBE = textwrap.dedent(
    """
    import os, time
    import pandas as pd
    from tim_research.program.cache import data_fingerprint
    print("data fingerprint:", data_fingerprint(data_dir))
    youth = pd.read_csv(os.path.join(data_dir, "youth.csv"), dtype=str, keep_default_na=False)
    if site is not None:
        youth = youth[youth["site"] == site]
    if mode == "wait":
        time.sleep(6)
    if mode in ("rows", "rows_fail"):
        display(youth.head(10))
    if mode == "rows_fail":
        raise RuntimeError("failed after showing rows")
    if mode == "ids_fail":
        raise RuntimeError("bad rows: " + ", ".join(youth["youth_id"].head(3).str.lower()))
    pd.DataFrame({"youth": [len(youth)]})
    """
)


def _probe(folder: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'data_dir: str = "../data/sample"  # data\n'
        "site: Optional[str] = None  # site name, or None for all\n"
        "min_cell: int = 5  # suppression\n"
        'mode: str = "ok"  # what the probe does\n'
    )
    params.metadata["tags"] = ["parameters"]
    # papermill reads `Optional[str]` as a parameter, but not `str | None`
    typing = nbformat.v4.new_code_cell("from typing import Optional")
    nb.cells += [nbformat.v4.new_markdown_cell("# Probe"), typing, params]
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(folder / "probe.ipynb"))


def _config(folder: Path, runs, *, name="reports.toml", keep_batches=3) -> Path:
    """A config of ``(run name, scope, mode)`` entries on the probe notebook in ``folder``."""
    if not (folder / "probe.ipynb").exists():
        _probe(folder)
    body = [
        f'notebooks_dir = "."\ncell_timeout = 60\nrun_timeout = 120\n'
        f"keep_batches = {keep_batches}\n[parameters]\nmin_cell = {MIN_CELL}\n"
    ]
    for run, scope, mode in runs:
        body.append(
            f'[[run]]\nname = "{run}"\nnotebook = "probe.ipynb"\nscope = "{scope}"\n'
            f'[run.parameters]\nmode = "{mode}"\n'
        )
    path = folder / name
    path.write_text("".join(body))
    return path


def _data(
    folder: Path, planted: tuple[str, ...] = (), small_site: bool = False, free_text: bool = True
) -> Path:
    """A copy of the sample with ``planted`` values in ``youth.referral_source`` (rows 1, 2, ...).

    With ``free_text`` the copy's schema drops that field's list of values, and with
    ``small_site`` it adds a site holding the last two youth.
    """
    shutil.copytree(SAMPLE, folder)
    package = json.loads((folder / "datapackage.json").read_text())
    for resource in package["resources"]:
        for field in resource["schema"]["fields"]:
            constraints = field.get("constraints") or {}
            if (resource["name"], field["name"]) == ("youth", "referral_source") and free_text:
                constraints.pop("enum")
            if field["name"] == "site" and small_site:
                constraints["enum"].append(SMALL_SITE)
    (folder / "datapackage.json").write_text(json.dumps(package, indent=2))
    youth = pd.read_csv(folder / "youth.csv", dtype=str, keep_default_na=False)
    for row, value in enumerate(planted):
        youth.loc[row, "referral_source"] = value
    if small_site:
        youth.loc[len(youth) - 2 :, "site"] = SMALL_SITE
    youth.to_csv(folder / "youth.csv", index=False)
    return folder


def _youth_ids(data: Path) -> set[str]:
    return set(pd.read_csv(data / "youth.csv", dtype=str)["youth_id"].str.casefold())


def _normal(text: str) -> str:
    """What a reader sees: HTML escapes undone, any case, any run of spaces as one."""
    return re.sub(r"\s+", " ", html.unescape(text).casefold())


def _leaks(text: str, planted: tuple[str, ...], youth_ids: set[str]) -> list[str]:
    """Kinds of identifying content in ``text`` (never the values, so failures stay clean)."""
    seen = _normal(text)
    found = [f"planted value {k}" for k, v in enumerate(planted) if _normal(v) in seen]
    found += [
        "a fragment of a planted value" for part in ("jane", "900123", "okafor") if part in seen
    ]
    ids = set(re.findall(r"(?<![0-9a-z])y\d{4}(?![0-9a-z])", seen)) & youth_ids
    if ids:
        found.append(f"{len(ids)} youth id(s)")
    return found


def _staff_files(out: Path) -> dict[str, str]:
    """Every file staff can reach: all of --out except the analyst tree (and the lock)."""
    files = {}
    for root, _, names in os.walk(out, followlinks=True):
        rel = Path(root).relative_to(out)
        if rel.parts[:1] == ("analyst",):
            continue
        for name in names:
            if rel == Path(".") and name == ".lock":
                continue
            files[str(rel / name)] = (Path(root) / name).read_text(encoding="utf-8")
    return files


def _assert_owner_only(root: Path) -> None:
    assert root.is_dir()
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path.relative_to(root), oct(mode))


def _printed_fingerprints(text: str) -> set[str]:
    return set(re.findall(r"data fingerprint: ([0-9a-f]{64})", text))


def _assert_batch_whole(out: Path, batch_id: str, data: Path) -> dict:
    """A published batch in both trees, every report made from the data its manifest names."""
    staff = out / "batches" / batch_id
    manifest = json.loads((staff / "manifest.json").read_text())
    assert manifest["batch_id"] == batch_id
    assert manifest["data_fingerprint"] == data_fingerprint(data)
    index = (staff / "index.html").read_text()
    for run in manifest["runs"]:
        assert run["name"] in index
        page = staff / run["name"] / "report.html"
        assert page.is_file() == (run["status"] == "ok"), run["name"]
        if page.is_file():
            assert _printed_fingerprints(page.read_text()) == {manifest["data_fingerprint"]}
        assert (out / "analyst" / batch_id / run["name"] / "notebook.ipynb").is_file()
    return manifest


def _report(config: Path, data: Path, out: Path, *more: str) -> list[str]:
    return ["report", "--config", str(config), "--data", str(data), "--out", str(out), *more]


@pytest.mark.slow
def test_planted_identifiers_small_site_and_failing_runs_never_reach_staff(tmp_path, capfd):
    # a name, email or phone number in free text makes the data package unreadable (next
    # test); free text that looks like none of them is what a batch runs on, and what the gate
    # must keep away from staff
    planted = (RARE,)
    data = _data(tmp_path / "data", planted, small_site=True)
    config = _config(
        tmp_path,
        [
            ("overview", "program", "ok"),
            ("site", "each_site", "ok"),  # the two-youth site shows a count of 2
            ("rows", "program", "rows"),  # ten youth rows, planted values among them
            ("rows-fail", "program", "rows_fail"),  # the same rows, then an error
            ("ids-fail", "program", "ids_fail"),  # an error message quoting youth ids
        ],
    )
    out = tmp_path / "out"
    status = main(_report(config, data, out, "--jobs", "2", "--no-progress"))
    printed = capfd.readouterr()
    assert status == 1

    latest = (out / "latest").resolve()
    batch_id = latest.name
    manifest = _assert_batch_whole(out, batch_id, data)
    runs = {r["name"]: r for r in manifest["runs"]}
    small = f"site-{SMALL_SITE.lower()}"
    assert {n: r["status"] for n, r in runs.items() if r["status"] != "ok"} == {
        small: "blocked",
        "rows": "blocked",
        "rows-fail": "failed",
        "ids-fail": "failed",
    }
    assert "below min_cell" in runs[small]["error"]
    assert "withheld" in runs["ids-fail"]["error"]
    assert [n for n, r in runs.items() if r["status"] == "ok"] == [
        "overview",
        "site-north",
        "site-south",
        "site-east",
        "site-west",
    ]

    # the staff tree: gated pages, the index and the manifest, and nothing else
    staff = _staff_files(out)
    pages = {f"{n}/report.html" for n, r in runs.items() if r["status"] == "ok"}
    assert set(staff) == {
        f"{tree}/{name}"
        for tree in (f"batches/{batch_id}", "latest")
        for name in {"index.html", "manifest.json"} | pages
    }
    # ... holding nothing identifying and no count below min_cell
    youth_ids = _youth_ids(data)
    texts = {**staff, "stdout": printed.out, "stderr": printed.err}
    leaks = {name: _leaks(text, planted, youth_ids) for name, text in texts.items()}
    assert {name: found for name, found in leaks.items() if found} == {}
    for name, text in staff.items():
        if name.endswith(".html"):
            assert small_cells(text, min_cell=MIN_CELL) == [], name
    # ... and never linking the analyst tree
    for name, text in staff.items():
        if name.endswith(".html"):
            links = re.findall(r'(?:href|src)\s*=\s*["\']([^"\']*)', text)
            # a report's header and footer lead back to its own batch's index and manifest
            back = {"../index.html", "../manifest.json"}
            assert not [
                u for u in links if "analyst" in u or ".ipynb" in u or (".." in u and u not in back)
            ], name
    index = staff["latest/index.html"]
    assert "analyst/" not in index and ".ipynb" not in index and ".log" not in index
    assert manifest["analyst_folder"] == f"analyst/{batch_id}"

    # the analyst tree has what staff must not see, owner-only
    analyst = out / "analyst" / batch_id
    _assert_owner_only(out / "analyst")
    shown = (analyst / "rows-fail" / "notebook.ipynb").read_text()
    assert _leaks(shown, planted, youth_ids)  # the plant was live: the rows reached a notebook
    assert (analyst / "rows" / "report.html").is_file()  # the blocked page, for inspection
    assert list((analyst / "logs").glob("worker-*.log"))
    assert not list(out.glob(".staging-*")) and not list(out.glob("analyst/.staging-*"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("planted", "free_text", "problem"),
    [
        # a name, an email or a phone number anywhere makes the free-text field an
        # identifier column
        ((NAME, EMAIL, PHONE), True, "youth.referral_source [identifier]"),
        ((NAME,), True, "youth.referral_source [identifier]"),
        ((PHONE,), True, "youth.referral_source [identifier]"),
        # values outside the field's list: the full problem list quotes them and their ids
        ((NAME, PHONE), False, "youth.referral_source [enum]"),
    ],
)
def test_planted_values_that_stop_the_batch_are_reported_in_one_line_without_them(
    tmp_path, capfd, planted, free_text, problem
):
    data = _data(tmp_path / "data", planted, small_site=True, free_text=free_text)
    config = _config(tmp_path, [("overview", "program", "ok")])
    out = tmp_path / "out"
    status = main(_report(config, data, out, "--jobs", "1", "--no-progress"))
    printed = capfd.readouterr()
    assert status == 2
    err = printed.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tim report: error: ")
    assert problem in err[0] and "Traceback" not in err[0]
    assert _leaks(printed.out + printed.err, planted, _youth_ids(data)) == []
    assert not (out / "latest").exists() and not (out / "batches").exists()
    assert not list(out.glob(".staging-*")) and not list(out.glob("analyst/*"))


@pytest.mark.slow
def test_overlapping_batches_on_one_folder_neither_lose_nor_mix(tmp_path, capfd):
    data_a = _data(tmp_path / "data-a")
    data_b = _data(tmp_path / "data-b")
    # other data for the second batch: a report of one batch in the other shows up
    (data_b / "datapackage.json").write_text(
        (data_b / "datapackage.json").read_text().replace("seed 0", "seed 0 (b)")
    )
    assert data_fingerprint(data_a) != data_fingerprint(data_b)
    config_a = _config(tmp_path, [("probe", "program", "wait")], name="a.toml")
    config_b = _config(tmp_path, [("probe", "program", "ok")], name="b.toml")
    out = tmp_path / "out"
    logs = tmp_path / "a-stdout.txt", tmp_path / "a-stderr.txt"
    with open(logs[0], "w") as stdout, open(logs[1], "w") as stderr:
        first = subprocess.Popen(
            [sys.executable, "-m", "tim_research.cli"]
            + _report(config_a, data_a, out, "--jobs", "1", "--no-progress"),
            stdout=stdout,
            stderr=stderr,
        )
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not list(out.glob("analyst/.staging-*/probe/spec.json")):
            time.sleep(0.2)
        assert first.poll() is None, "the first batch ended before the second one started"
        # the second batch, while the first holds the lock: one line, exit 2, nothing written
        status = main(_report(config_b, data_b, out, "--jobs", "1", "--no-progress"))
        err = capfd.readouterr().err.strip().splitlines()
        assert status == 2
        assert len(err) == 1 and err[0].startswith("tim report: error: another report batch")
        assert first.poll() is None  # the lock was held the whole time
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0, logs[1].read_text()
    batch_a = (out / "latest").resolve().name
    _assert_batch_whole(out, batch_a, data_a)
    before = {
        p: p.read_bytes()
        for tree in ("batches", "analyst")
        for p in (out / tree).rglob("*")
        if p.is_file() and batch_a in p.parts
    }

    # the second batch once the first is done: both published, each on its own data
    assert main(_report(config_b, data_b, out, "--jobs", "1", "--no-progress")) == 0
    batch_b = (out / "latest").resolve().name
    assert batch_b != batch_a
    _assert_batch_whole(out, batch_b, data_b)
    _assert_batch_whole(out, batch_a, data_a)
    after = {
        p: p.read_bytes()
        for tree in ("batches", "analyst")
        for p in (out / tree).rglob("*")
        if p.is_file() and batch_a in p.parts
    }
    assert after == before
    assert sorted(p.name for p in (out / "batches").iterdir()) == sorted([batch_a, batch_b])
    assert sorted(p.name for p in (out / "analyst").iterdir()) == sorted([batch_a, batch_b])
    _assert_owner_only(out / "analyst")
    printed = logs[0].read_text() + logs[1].read_text() + "".join(capfd.readouterr())
    assert _leaks(printed, (), _youth_ids(data_a)) == []


@pytest.mark.slow
def test_keep_batches_zero_is_refused_and_the_published_batch_kept(tmp_path, capfd):
    config = _config(tmp_path, [("overview", "program", "ok")], keep_batches=0)
    out = tmp_path / "out"
    (out / "batches" / "old" / "overview").mkdir(parents=True)
    (out / "batches" / "old" / "index.html").write_text("<p>old</p>")
    (out / "latest").symlink_to("batches/old")
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    status = main(_report(config, SAMPLE, out, "--jobs", "1", "--no-progress"))
    err = capfd.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and "keep_batches must be a whole number of at least 1" in err[0]
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert (out / "latest").resolve() == (out / "batches" / "old").resolve()
