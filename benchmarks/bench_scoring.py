"""Benchmark: score 1,000,000 rows of ace10 + brs + proqol5 (46 items, 2% missing).

Prints rows/s, wall time and peak memory of ``tim_research.score`` next to a plain row-wise
``DataFrame.apply`` of the same rules (timed on a subsample, rate extrapolated).
Run: ``.venv/bin/python benchmarks/bench_scoring.py [--rows N] [--apply-rows N]``
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from tim_research import score

BRS_REV = {2, 4, 6}
PRO_REV = {1, 4, 15, 17, 29}
PRO = {
    "compassion_satisfaction": (3, 6, 12, 16, 18, 20, 22, 24, 27, 30),
    "burnout": (1, 4, 8, 10, 15, 17, 19, 21, 26, 29),
    "secondary_traumatic_stress": (2, 5, 7, 9, 11, 13, 14, 23, 25, 28),
}


def make_items(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(1, 11):
        cols[f"ace10_{i}"] = rng.integers(0, 2, n).astype(float)
    for i in range(1, 7):
        cols[f"brs_{i}"] = rng.integers(1, 6, n).astype(float)
    for i in range(1, 31):
        cols[f"proqol5_{i}"] = rng.integers(1, 6, n).astype(float)
    for c in cols.values():
        c[rng.random(n) < 0.02] = np.nan
    return pd.DataFrame(cols, index=pd.RangeIndex(n, name="row"))


def rowwise(row: pd.Series) -> pd.Series:
    """The same rules, one row at a time, as a plain reference for speed."""
    out = {}
    ace = [row[f"ace10_{i}"] for i in range(1, 11)]
    out["ace10_score"] = np.nan if any(pd.isna(ace)) else sum(ace)
    brs = [6 - row[f"brs_{i}"] if i in BRS_REV else row[f"brs_{i}"] for i in range(1, 7)]
    answered = [v for v in brs if not pd.isna(v)]
    out["brs_score"] = sum(answered) / len(answered) if len(answered) >= 5 else np.nan
    for name, items in PRO.items():
        vals = [6 - row[f"proqol5_{i}"] if i in PRO_REV else row[f"proqol5_{i}"] for i in items]
        answered = [v for v in vals if not pd.isna(v)]
        enough = len(answered) >= 8
        out[f"proqol5_{name}"] = sum(answered) * 10 / len(answered) if enough else np.nan
    return pd.Series(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--apply-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data = make_items(args.rows)
    input_bytes = data.memory_usage(deep=True).sum()
    instruments = ["ace10", "brs", "proqol5"]
    warnings.simplefilter("ignore")  # prorating warnings are expected here
    score(data.iloc[:1000], instruments)  # warm-up: instrument files parsed, code paths loaded

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = score(data, instruments)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    score(data, instruments)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    wall = min(times)

    sub = data.iloc[: args.apply_rows]
    t0 = time.perf_counter()
    slow = sub.apply(rowwise, axis=1)
    apply_wall = time.perf_counter() - t0
    apply_rate = len(sub) / apply_wall
    for col in slow.columns:  # the two implementations agree on the subsample
        np.testing.assert_allclose(result[col].iloc[: len(sub)], slow[col], rtol=1e-12)

    rate = args.rows / wall
    print(f"rows: {args.rows:,} x {data.shape[1]} items (ace10 + brs + proqol5, 2% missing)")
    print(f"score(): wall {wall:.3f} s (best of {args.repeat}), {rate:,.0f} rows/s")
    print(
        f"peak memory during score(): {peak / 2**20:.0f} MiB = {peak / input_bytes:.2f} x the "
        f"input frame ({input_bytes / 2**20:.0f} MiB)"
    )
    print(
        f"row-wise DataFrame.apply: {apply_rate:,.0f} rows/s on {len(sub):,} rows "
        f"(~{args.rows / apply_rate:.0f} s for {args.rows:,}); speed-up {rate / apply_rate:,.0f}x"
    )


if __name__ == "__main__":
    main()
