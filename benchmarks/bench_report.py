"""Benchmark the report runner: batch wall time at --jobs 2 against the cells' own time.

A batch reads and checks the data once and hands the kernels a checked copy
(``tim_research.program.cache``). The batch runs without that copy (every kernel reads and
checks the package itself, as before), then twice with it on one output folder (the second
starts its runs longest first, by the first one's timings). For each: wall time at --jobs 2, the sum
of cell times (papermill's per-cell durations in the executed notebooks), that sum / 2 (the
floor on 2 cores), the ratio wall / floor (target: within 1.3x), the setup cells' time, and the
overhead per run (run wall time - its cells).
Run: ``.venv/bin/python benchmarks/bench_report.py [--config notebooks/reports.toml]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

import tim_research.report as report_mod
from tim_research.report import run_report

REPO = Path(__file__).resolve().parents[1]


def cell_seconds(notebook: Path) -> tuple[float, float]:
    """Seconds of all cells and of the ``setup(...)`` cell of an executed notebook."""
    nb = nbformat.read(str(notebook), as_version=4)
    total = setup = 0.0
    for cell in nb.cells:
        seconds = cell.metadata.get("papermill", {}).get("duration") or 0.0
        total += seconds
        if cell.cell_type == "code" and "setup(" in cell.source:
            setup += seconds
    return total, setup


def batch(config: str, jobs: int, out: Path, *, cache: bool) -> tuple[float, list[tuple]]:
    """Wall time and ``(name, run s, cells s, setup cell s)`` per run of one batch."""
    write = report_mod.write_cache
    if not cache:
        # no copy is written: the batch's empty cache folder (which tells kernels a copy is
        # coming) is removed instead, so each kernel reads and checks the package itself
        report_mod.write_cache = lambda program, folder, **kwargs: shutil.rmtree(folder)
    try:
        start = time.perf_counter()
        result = run_report(
            config=config, data=REPO / "data" / "sample", out=out, jobs=jobs, progress=False
        )
        wall = time.perf_counter() - start
    finally:
        report_mod.write_cache = write
    if result.failed:
        raise SystemExit(f"runs failed: {[(r.name, r.error) for r in result.failed]}")
    runs = [
        (r.name, r.seconds, *cell_seconds(result.analyst / r.name / "notebook.ipynb"))
        for r in result.runs
    ]
    return wall, runs


def import_seconds(code: str, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(REPO / "notebooks" / "reports.toml"))
    args = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        batches = (
            ("before (each kernel reads the data)", False, "before"),
            ("after, first batch (configuration order)", True, "after"),
            # the same output folder again: runs start longest first by the timings above
            ("after, next batch (longest first)", True, "after"),
        )
        for label, cache, folder in batches:
            wall, runs = batch(args.config, 2, Path(tmp) / folder, cache=cache)
            cells = sum(r[2] for r in runs)
            setup = sum(r[3] for r in runs)
            overheads = [r[1] - r[2] for r in runs]
            print(
                f"{label}: batch of {len(runs)} runs at --jobs 2 {wall:.1f} s; cells {cells:.1f} s "
                f"in all, / 2 = {cells / 2:.1f} s; ratio {wall / (cells / 2):.2f}x; setup cells "
                f"{setup:.1f} s; overhead per run median {statistics.median(overheads):.2f} s"
            )
            for name, seconds, cell, set_up in runs:
                print(
                    f"  {name:<28} run {seconds:5.1f} s  cells {cell:5.1f} s  setup {set_up:4.2f} s"
                )
            figures[label] = {"wall_s": wall, "cells_s": cells, "setup_s": setup}
    before, first, after = (figures[label] for label, _, _ in batches)
    print(
        f"cells' own time: before {before['cells_s']:.1f} s, after {after['cells_s']:.1f} s "
        f"(setup cells {before['setup_s']:.1f} s -> {after['setup_s']:.1f} s); batch wall "
        f"{before['wall_s']:.1f} s -> {after['wall_s']:.1f} s"
    )
    pandas_only = import_seconds("import pandas")
    with_tim = import_seconds("import pandas, tim_research")
    print(
        f"import pandas {pandas_only:.2f} s; import pandas + tim_research {with_tim:.2f} s "
        f"(tim_research adds {with_tim - pandas_only:.2f} s)"
    )
    print(
        json.dumps(
            {
                "jobs2_before_s": before["wall_s"],
                "jobs2_first_s": first["wall_s"],
                "jobs2_s": after["wall_s"],
                "cells_before_s": before["cells_s"],
                "cells_s": after["cells_s"],
                "ratio": after["wall_s"] / (after["cells_s"] / 2),
                "setup_before_s": before["setup_s"],
                "setup_s": after["setup_s"],
                "import_added_s": with_tim - pandas_only,
            }
        )
    )


if __name__ == "__main__":
    main()
