"""Time design-based ``prevalence`` by 50 states on 100k to 10M seeded rows (issue 19).

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_prevalence.py [--rows N ...]
[--repeat K] [--old-up-to N] [--check-rows N]``.

The data: ``N`` rows, 50 states (the domains, ``by=``), 40 strata per state, one PSU per row
(a shuffled respondent id), random weights, a 0/1 indicator with 5% missing. For each size it
prints the best wall seconds of ``--repeat`` runs of

    prevalence(d, "y", by="state", weights="w", strata="stratum", psu="psu")

the time per million rows (flat when the cost is linear in rows), and, up to ``--old-up-to``
rows, the same for a copy of the implementation before issue 19 (kept below, only here, for
the comparison). Then 1M rows are timed by 1 to 5,000 random domains (``--domain-counts``),
to show the cost barely depends on their number. The largest size is run once more under
``tracemalloc`` for the peak memory of the call, printed beside the memory of the input frame.

Before timing, the results are compared with the old implementation on ``--check-rows`` rows
(200k by default) for the benchmark design and for designs that take the general paths (PSU
labels repeated across strata, with fpc; PSUs spanning several domains; no strata or PSUs;
no design, the Wilson interval): counts must be equal and estimates, SEs and CIs agree to
1e-12.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
import warnings
from statistics import NormalDist

import numpy as np
import pandas as pd

from tim_research._checks import check_min_cell
from tim_research.errors import DataError, SmallCellWarning
from tim_research.privacy import suppression_mask
from tim_research.stats.prevalence import (
    NOTE_COMPLEMENT,
    NOTE_EMPTY,
    NOTE_SMALL,
    _column,
    _indicator,
    _numeric,
    prevalence,
)

SIZES = [100_000, 200_000, 400_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000]
TOL = 1e-12


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows: 50 states, 40 strata per state, one PSU per row, random weights."""
    rng = np.random.default_rng(seed)
    state = rng.integers(0, 50, n)
    stratum = state * 100 + rng.integers(0, 40, n)
    y = (rng.random(n) < 0.1 + 0.005 * state).astype(float)
    y[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "y": y,
            "state": state,
            "stratum": stratum,
            "psu": rng.permutation(n) + 1_000_000,
            "w": rng.lognormal(5.0, 0.8, n),
        }
    )


def run(data: pd.DataFrame) -> pd.DataFrame:
    return prevalence(data, "y", by="state", weights="w", strata="stratum", psu="psu")


def run_old(data: pd.DataFrame) -> pd.DataFrame:
    return old_prevalence(data, "y", by="state", weights="w", strata="stratum", psu="psu")


# ---------------------------------------------------------------------------------------------
# the implementation before issue 19 (one pass over all rows per domain), for comparison only;
# error messages shortened, computations as they were
# ---------------------------------------------------------------------------------------------
class _OldDesign:
    def __init__(self, data, weights, strata, psu, fpc) -> None:
        n = len(data)
        self.w = np.ones(n) if weights is None else _numeric(data, weights, "weights")
        if strata is None:
            s_codes = np.zeros(n, dtype=np.int64)
            s_labels: list = ["(all)"]
        else:
            s_codes, uniq = pd.factorize(_column(data, strata, "strata"), sort=True)
            s_labels = list(uniq)
        if psu is None:
            p_codes = np.arange(n)
        else:
            key = pd.MultiIndex.from_arrays([s_codes, _column(data, psu, "psu").to_numpy()])
            p_codes, _ = pd.factorize(key)
        n_psu_total = int(p_codes.max()) + 1 if n else 0
        psu_stratum = np.zeros(n_psu_total, dtype=np.int64)
        psu_stratum[p_codes] = s_codes
        n_h = np.bincount(psu_stratum, minlength=len(s_labels)).astype(float)
        f_h = np.zeros(len(s_labels))
        if fpc is not None:
            values = _numeric(data, fpc, "fpc")
            lo = pd.Series(values).groupby(s_codes).min().to_numpy()
            if (values <= 1).all():
                f_h = lo
            else:
                f_h = n_h / lo
        if ((n_h == 1) & (f_h < 1)).any():
            raise DataError("lonely PSU")
        self.p_codes = p_codes
        self.psu_stratum = psu_stratum
        self.n_h = n_h
        self.n_psu_total = n_psu_total
        with np.errstate(divide="ignore", invalid="ignore"):
            self.scale = np.where(n_h > 1, (1 - f_h) * n_h / (n_h - 1), 0.0)

    def ratio(self, y, in_domain):
        w = np.where(in_domain, self.w, 0.0)
        total = w.sum()
        if total <= 0:
            return np.nan, np.nan
        yy = np.where(in_domain, y, 0.0)
        est = float((w * yy).sum() / total)
        z = w * (yy - est) / total
        zt = np.bincount(self.p_codes, weights=z, minlength=self.n_psu_total)
        mean_h = np.bincount(self.psu_stratum, weights=zt, minlength=self.n_h.size) / self.n_h
        ss = np.bincount(
            self.psu_stratum, weights=(zt - mean_h[self.psu_stratum]) ** 2, minlength=self.n_h.size
        )
        return est, float(np.sqrt((self.scale * ss).sum()))


def old_prevalence(
    data, indicator, *, by=None, weights=None, strata=None, psu=None, fpc=None, min_cell=5
):
    conf_level = 0.95
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    min_cell = check_min_cell(min_cell)
    z = NormalDist().inv_cdf(1 - (1 - conf_level) / 2)
    y = _indicator(data, indicator)
    present = ~np.isnan(y)
    design = (
        _OldDesign(data, weights, strata, psu, fpc)
        if any(a is not None for a in (weights, strata, psu, fpc))
        else None
    )
    if by_cols:
        for c in by_cols:
            _column(data, c, "by")
        grouped = data.groupby(by_cols, sort=True, observed=True, dropna=False)
        codes = grouped.ngroup().to_numpy()
        keys = grouped.size().index.to_frame(index=False)
    else:
        codes = np.zeros(len(data), dtype=np.int64)
        keys = pd.DataFrame(index=range(1))
    rows = []
    for g in range(len(keys)):
        in_group = codes == g
        sel = in_group & present
        n = int(sel.sum())
        events = float(y[sel].sum())
        row = {"n": n, "n_missing": int((in_group & ~present).sum()), "events": events}
        if n == 0:
            row.update(estimate=np.nan, se=np.nan, ci_lower=np.nan, ci_upper=np.nan)
        elif design is None:
            p = events / n
            denom = 1 + z * z / n
            centre = (p + z * z / (2 * n)) / denom
            half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
            row.update(
                estimate=p,
                se=float(np.sqrt(p * (1 - p) / n)),
                ci_lower=0.0 if events == 0 else max(centre - half, 0.0),
                ci_upper=1.0 if events == n else min(centre + half, 1.0),
            )
        else:
            est, se = design.ratio(np.nan_to_num(y), sel)
            row.update(estimate=est, se=se, ci_lower=est - z * se, ci_upper=est + z * se)
        rows.append(row)
    out = pd.concat([keys, pd.DataFrame(rows)], axis=1)
    n_arr = out["n"].to_numpy(dtype=float)
    ev_arr = out["events"].to_numpy(dtype=float)
    small = ((ev_arr > 0) & (ev_arr < min_cell)) | (
        (n_arr - ev_arr > 0) & (n_arr - ev_arr < min_cell)
    )
    mask = np.zeros(len(out), dtype=bool)
    if min_cell > 0:
        counts = pd.DataFrame({"events": ev_arr, "non_events": n_arr - ev_arr})
        mask = suppression_mask(counts, min_cell=min_cell).to_numpy().any(axis=1)
    out["suppressed"] = mask
    note = np.where(n_arr == 0, NOTE_EMPTY, "").astype(object)
    note[small] = NOTE_SMALL
    note[mask & ~small] = NOTE_COMPLEMENT
    out["note"] = note
    out.loc[mask, ["events", "estimate", "se", "ci_lower", "ci_upper"]] = np.nan
    return out


# ---------------------------------------------------------------------------------------------
def compare(n: int) -> None:
    """New against old on ``n`` rows, for the benchmark design and the general paths."""
    data = make_data(n, seed=1)
    rng = np.random.default_rng(2)
    # PSU labels 0..k-1 within each stratum (nest = TRUE does the work), population sizes
    data["psu_in_stratum"] = data.groupby("stratum").cumcount() % 7
    data["fpc"] = data.groupby("stratum")["psu_in_stratum"].transform("max") * 3.0 + 3.0
    # clusters that cut across states, in strata that also do
    data["cluster"] = rng.integers(0, 3_000, n)
    data["region"] = data["cluster"] % 9
    data["sex"] = rng.choice(["f", "m"], n)
    data["stratum_name"] = "s" + data["stratum"].astype(str)
    data["psu_name"] = "p" + data["psu_in_stratum"].astype(str)
    designs = {
        "benchmark": {"by": "state", "weights": "w", "strata": "stratum", "psu": "psu"},
        "psu within strata, fpc": {
            "by": "state",
            "weights": "w",
            "strata": "stratum",
            "psu": "psu_in_stratum",
            "fpc": "fpc",
        },
        "labels as text": {
            "by": "sex",
            "weights": "w",
            "strata": "stratum_name",
            "psu": "psu_name",
        },
        "psu across domains": {
            "by": ["state", "sex"],
            "weights": "w",
            "strata": "region",
            "psu": "cluster",
        },
        "weights only": {"by": "state", "weights": "w"},
        "no design (Wilson)": {"by": "state"},
        "overall": {"weights": "w", "strata": "stratum", "psu": "psu"},
    }
    exact = ["n", "n_missing", "events", "suppressed", "note"]
    close = ["estimate", "se", "ci_lower", "ci_upper"]
    print(f"comparison with the old implementation on {n:,} rows (tolerance {TOL:g}):")
    for name, kwargs in designs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallCellWarning)
            new = prevalence(data, "y", **kwargs)
            old = old_prevalence(data, "y", **kwargs)
        keys = [c for c in new.columns if c not in exact + close]
        pd.testing.assert_frame_equal(new[keys + exact], old[keys + exact])
        a, b = new[close].to_numpy(), old[close].to_numpy()
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL)
        both = np.isfinite(a) & np.isfinite(b)
        rel = np.abs(a - b)[both] / np.maximum(np.abs(b[both]), np.finfo(float).tiny)
        print(
            f"  {name:<24} {len(new):>4} rows  max abs diff {np.abs(a - b)[both].max():.1e}  "
            f"max rel diff {rel.max():.1e}"
        )


def best_time(fn, data: pd.DataFrame, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_memory(fn, data: pd.DataFrame) -> int:
    """Peak bytes allocated (numpy and pandas buffers, pandas hash tables) during one call."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    fn(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=SIZES)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old-up-to", type=int, default=2_000_000)
    parser.add_argument("--check-rows", type=int, default=200_000)
    parser.add_argument(
        "--domain-counts",
        type=int,
        nargs="*",
        default=[1, 50, 1_000, 5_000],
        help="numbers of domains timed on 1M rows (random groups instead of the states)",
    )
    args = parser.parse_args()

    if args.check_rows:
        compare(args.check_rows)
    print(f"\nbest of {args.repeat}, wall seconds")
    print(f"{'rows':>12} {'new s':>8} {'s/M rows':>9} {'old s':>8} {'s/M rows':>9}")
    for n in args.rows:
        data = make_data(n)
        new = best_time(run, data, args.repeat)
        line = f"{n:>12,} {new:>8.3f} {new / n * 1e6:>9.3f}"
        if n <= args.old_up_to:
            old = best_time(run_old, data, args.repeat)
            line += f" {old:>8.3f} {old / n * 1e6:>9.3f}"
        print(line, flush=True)
    if args.domain_counts:
        print(f"\n1,000,000 rows by k random domains, best of {args.repeat}, wall seconds")
        data = make_data(1_000_000)
        rng = np.random.default_rng(5)
        for k in args.domain_counts:
            data["state"] = rng.integers(0, k, len(data))
            print(f"{k:>12,} {best_time(run, data, args.repeat):>8.3f}", flush=True)
    n = max(args.rows)
    data = make_data(n)
    frame = int(data.memory_usage(deep=True).sum())
    peak = peak_memory(run, data)
    print(
        f"\n{n:,} rows: input frame {frame / 2**20:,.0f} MiB, peak memory of the call "
        f"{peak / 2**20:,.0f} MiB ({peak / frame:.2f} x the frame; tracemalloc)"
    )


if __name__ == "__main__":
    main()
