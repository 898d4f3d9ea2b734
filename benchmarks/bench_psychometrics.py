"""Time reliability() and item_statistics() on 1,000,000 x 30 seeded items (1-5, 2% missing).

Run: ``.venv/bin/python benchmarks/bench_psychometrics.py [n_rows]``. Prints rows, wall seconds
and peak memory (traced Python allocations, which include numpy arrays, and the process's
maximum resident set size).
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from tim_research.stats.psychometrics import item_statistics, reliability


def make_items(n_rows: int, n_items: int = 30, seed: int = 20240611) -> pd.DataFrame:
    """One-factor 1-5 items with 2% of cells missing completely at random."""
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=(n_rows, 1))
    latent = 0.7 * trait + rng.normal(size=(n_rows, n_items))
    x = np.clip(np.round(3 + latent), 1, 5)
    x[rng.random(size=x.shape) < 0.02] = np.nan
    cols = [f"item_{j + 1:02d}" for j in range(n_items)]
    return pd.DataFrame(x, columns=cols, index=pd.RangeIndex(n_rows, name="id"))


def main(n_rows: int = 1_000_000) -> None:
    t0 = time.perf_counter()
    import scipy.optimize
    import scipy.stats  # noqa: F401

    print(f"first import of scipy.stats/optimize: {time.perf_counter() - t0:.2f} s")
    items = make_items(n_rows)
    reverse = ["item_03", "item_07"]
    for name, func in [("reliability", reliability), ("item_statistics", item_statistics)]:
        walls = []
        for _ in range(3):
            t0 = time.perf_counter()
            func(items, reverse=reverse, min_value=1, max_value=5)
            walls.append(time.perf_counter() - t0)
        tracemalloc.start()
        func(items, reverse=reverse, min_value=1, max_value=5)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"{name}: rows={n_rows:,} items={items.shape[1]} wall first={walls[0]:.2f} s "
            f"best of 3={min(walls):.2f} s; peak memory above the data={peak / 2**20:.0f} MiB "
            f"(input data {items.memory_usage().sum() / 2**20:.0f} MiB)"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS (data included) = {rss:.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
