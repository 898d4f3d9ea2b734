"""Benchmark the report runner: per-run overhead, batch wall time at --jobs 1 and 2, import time.

overhead per run = run wall time (process start to result) - sum of the notebook's cell times
(papermill's per-cell durations in the executed notebook).
Run: ``.venv/bin/python benchmarks/bench_report.py [--config notebooks/reports.toml]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from tim_research.report import run_report

REPO = Path(__file__).resolve().parents[1]


def cell_seconds(notebook: Path) -> float:
    nb = nbformat.read(str(notebook), as_version=4)
    return sum(c.metadata.get("papermill", {}).get("duration") or 0.0 for c in nb.cells)


def batch(config: str, jobs: int, out: Path) -> tuple[float, list[tuple[str, float, float]]]:
    start = time.perf_counter()
    result = run_report(
        config=config, data=REPO / "data" / "sample", out=out, jobs=jobs, progress=False
    )
    wall = time.perf_counter() - start
    if result.failed:
        raise SystemExit(f"runs failed: {[(r.name, r.error) for r in result.failed]}")
    runs = [
        (r.name, r.seconds, cell_seconds(result.analyst / r.name / "notebook.ipynb"))
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
    with tempfile.TemporaryDirectory() as tmp:
        wall1, runs1 = batch(args.config, 1, Path(tmp) / "j1")
        wall2, _ = batch(args.config, 2, Path(tmp) / "j2")
    print(
        f"batch of {len(runs1)} runs: --jobs 1 {wall1:.1f} s, --jobs 2 {wall2:.1f} s, "
        f"speed-up {wall1 / wall2:.2f}x"
    )
    overheads = []
    for name, seconds, cells in runs1:
        overheads.append(seconds - cells)
        print(
            f"  {name:<28} run {seconds:5.1f} s  cells {cells:5.1f} s  overhead "
            f"{seconds - cells:4.1f} s"
        )
    print(
        f"overhead per run (jobs 1): median {statistics.median(overheads):.2f} s, "
        f"max {max(overheads):.2f} s"
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
                "jobs1_s": wall1,
                "jobs2_s": wall2,
                "overhead_median_s": statistics.median(overheads),
                "import_added_s": with_tim - pandas_only,
            }
        )
    )


if __name__ == "__main__":
    main()
