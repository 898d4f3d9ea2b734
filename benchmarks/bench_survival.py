"""Time kaplan_meier and cox (3 covariates, Efron ties) on 1,000,000 seeded rows.

Run: ``.venv/bin/python benchmarks/bench_survival.py [--rows N] [--repeat K] [--no-r]``.
Prints rows, best wall seconds over ``--repeat`` runs, and peak traced memory (tracemalloc,
measured in a separate run so that tracing does not inflate the timings). When ``Rscript``
with the survival package is on PATH, also times R's ``coxph`` on the same data (the CSV
written for R is not part of the timing).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from tim_research.stats.survival import cox, kaplan_meier

TARGETS = {"kaplan_meier": 1.0, "cox": 3.2}


def make_data(rows: int, seed: int = 20240501) -> pd.DataFrame:
    """Match-like data: durations in whole days (many ties), ~30% censored, 3 covariates."""
    rng = np.random.default_rng(seed)
    x1 = rng.integers(0, 2, rows).astype(float)  # programme arm
    x2 = rng.normal(14, 2, rows)  # age at match
    x3 = rng.poisson(2, rows).astype(float)  # prior adverse experiences
    eta = -0.3 * x1 + 0.05 * (x2 - 14) + 0.1 * x3
    closure = rng.exponential(365 / np.exp(eta))
    follow_up = rng.uniform(30, 1100, rows)
    days = np.ceil(np.minimum(closure, follow_up))
    return pd.DataFrame(
        {"days": days, "closed": (closure <= follow_up).astype(int), "x1": x1, "x2": x2, "x3": x3}
    )


def run_km(data: pd.DataFrame) -> pd.DataFrame:
    return kaplan_meier(data["days"], data["closed"])


def run_cox(data: pd.DataFrame) -> pd.DataFrame:
    return cox(data, duration="days", event="closed", covariates=["x1", "x2", "x3"])


def best_time(fn, data: pd.DataFrame, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_mib(fn, data: pd.DataFrame) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


R_SCRIPT = """
suppressPackageStartupMessages(library(survival))
d <- read.csv(commandArgs(TRUE)[1])
t0 <- proc.time()[["elapsed"]]
fit <- coxph(Surv(days, closed) ~ x1 + x2 + x3, data = d, ties = "efron")
cat(proc.time()[["elapsed"]] - t0, coef(fit), "\\n")
"""


def time_r(data: pd.DataFrame) -> str | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "bench.csv"
        script = Path(tmp) / "bench.R"
        data.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        done = subprocess.run(
            ["Rscript", str(script), str(csv)], capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        return f"R failed: {done.stderr.strip()[-300:]}"
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-r", action="store_true", help="skip timing R's coxph")
    args = parser.parse_args()

    data = make_data(args.rows)
    print(
        f"rows: {len(data):,}  events: {int(data['closed'].sum()):,}  "
        f"distinct times: {data['days'].nunique():,}"
    )
    for name, fn in (("kaplan_meier", run_km), ("cox", run_cox)):
        seconds = best_time(fn, data, args.repeat)
        mib = peak_mib(fn, data)
        verdict = "ok" if seconds < TARGETS[name] else "SLOWER THAN TARGET"
        print(
            f"{name:>13}: {seconds:7.3f} s (best of {args.repeat}), peak {mib:7.1f} MiB traced; "
            f"target < {TARGETS[name]} s: {verdict}"
        )
    fit = run_cox(data)
    print(
        "cox coefficients:",
        " ".join(f"{v:.6f}" for v in fit["coef"]),
        f"(iterations: {fit.attrs['iterations']})",
    )
    if not args.no_r:
        r = time_r(data)
        if r is None:
            print("R coxph: Rscript not found, skipped")
        else:
            print(f"R coxph (elapsed s, then coefficients): {r}")


if __name__ == "__main__":
    main()
