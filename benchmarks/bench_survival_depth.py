"""Time nelson_aalen, weighted log-rank and concordance on 1,000,000 seeded rows, and R's.

Run: ``.venv/bin/python benchmarks/bench_survival_depth.py [--rows N] [--repeat K] [--no-r]``.
Prints rows and the best wall seconds over ``--repeat`` runs of each of ours. When
``Rscript`` with the survival package is on PATH, the same data are written to a temporary
CSV (not timed) and R times its equivalents inside R with ``system.time`` (elapsed, best of
``--repeat``): ``survfit(ctype = 1)`` for the cumulative hazard, ``survdiff(rho = 1)`` for
the Peto-Peto test and ``concordance(..., reverse = TRUE)`` for Harrell's C. The results are
printed beside ours so the two can be seen to agree.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_survival import make_data

from tim_research.stats.survival import concordance, logrank, nelson_aalen


def add_score(data: pd.DataFrame) -> pd.DataFrame:
    """A risk score like a Cox linear predictor of the three covariates."""
    return data.assign(score=-0.3 * data["x1"] + 0.05 * data["x2"] + 0.1 * data["x3"])


def run_nelson_aalen(data: pd.DataFrame):
    return nelson_aalen(data["days"], data["closed"])


def run_logrank(data: pd.DataFrame):
    return logrank(data["days"], data["closed"], data["x1"], rho=1)


def run_concordance(data: pd.DataFrame):
    return concordance(data["days"], data["closed"], data["score"])


def best_time(fn, data: pd.DataFrame, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(data)
        times.append(time.perf_counter() - t0)
    return min(times), result


R_SCRIPT = """
suppressPackageStartupMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
k <- as.integer(args[2])
best <- function(f) {
  seconds <- Inf
  for (i in seq_len(k)) {
    elapsed <- system.time(value <- f())[["elapsed"]]
    seconds <- min(seconds, elapsed)
  }
  list(seconds = seconds, value = value)
}
na <- best(function() survfit(Surv(days, closed) ~ 1, data = d, ctype = 1))
lr <- best(function() survdiff(Surv(days, closed) ~ x1, data = d, rho = 1))
cc <- best(function() concordance(Surv(days, closed) ~ score, data = d, reverse = TRUE))
h <- na$value$cumhaz
cat(sprintf("nelson_aalen %.3f %.10g\n", na$seconds, h[length(h)]))
cat(sprintf("logrank_rho1 %.3f %.10g\n", lr$seconds, lr$value$chisq))
cat(sprintf("concordance %.3f %.10g %.10g\n", cc$seconds, cc$value$concordance,
            sqrt(cc$value$var)))
"""


def time_r(data: pd.DataFrame, repeat: int) -> dict[str, list[str]] | str | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "bench.csv"
        script = Path(tmp) / "bench.R"
        data[["days", "closed", "x1", "score"]].to_csv(csv, index=False, float_format="%.17g")
        script.write_text(R_SCRIPT)
        done = subprocess.run(
            ["Rscript", str(script), str(csv), str(repeat)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        return f"R failed: {done.stderr.strip()[-300:]}"
    return {line.split()[0]: line.split()[1:] for line in done.stdout.strip().splitlines()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-r", action="store_true", help="skip timing R")
    args = parser.parse_args()

    data = add_score(make_data(args.rows))
    print(
        f"rows: {len(data):,}  events: {int(data['closed'].sum()):,}  "
        f"distinct times: {data['days'].nunique():,}"
    )
    r = None if args.no_r else time_r(data, args.repeat)
    if isinstance(r, str):
        print(r)
        r = None
    elif r is None and not args.no_r:
        print("R: Rscript not found, skipped")
    for name, fn in (
        ("nelson_aalen", run_nelson_aalen),
        ("logrank_rho1", run_logrank),
        ("concordance", run_concordance),
    ):
        seconds, result = best_time(fn, data, args.repeat)
        if name == "nelson_aalen":
            value = f"H(max) {result['cumhaz'].iloc[-1]:.10g}"
        elif name == "logrank_rho1":
            value = f"chisq {result.chisq:.10g}"
        else:
            value = f"C {result.concordance:.10g} se {result.se:.10g}"
        line = f"{name:>13}: ours {seconds:7.3f} s ({value})"
        if r is not None and name in r:
            line += f" | R {float(r[name][0]):7.3f} s ({' '.join(r[name][1:])})"
        print(line)


if __name__ == "__main__":
    main()
