"""Calibration: do the 95 % intervals the notebooks report cover the planted effects?

Simulates many programs with :func:`tim_research.synth.program` (one per seed, default
effects), estimates each main estimand exactly as the notebooks do, and prints a coverage
table: planted value, mean estimate, bias, the share of intervals that cover the target with
its Monte-Carlo standard error, mean interval width and run time.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/calibration.py [--seeds 200] [--processes 2]
[--n-youth 600] [--reference-youth 30000] [--no-reference]``.

Estimands (``ESTIMANDS``):

- ``caseload_stss``, ``supervision_stss``: 12-month STSS points per extra young person and
  per supervision step, from the ANCOVA of notebook 06 (12-month STSS on baseline STSS,
  caseload, supervision step and training per 10 hours, mentors with both surveys). Planted:
  ``Effects.caseload_sts_d`` and ``supervision_sts_d`` times ``REFERENCE_SD["stss"]`` times
  the 17 STSS items.
- ``training_hr``: hazard ratio of early (unplanned) closure per 10 training hours from the
  Cox model of notebook 05 (training, youth age, ACE score, caseload; strata site; robust
  standard errors by mentor). Planted: ``Effects.training_hr_per_10h``.
- ``early_closure_12m``: share of matches closed early within 12 months,
  :func:`tim_research.stats.competing.early_closure` at the planted horizon. Planted:
  ``Effects.early_closure_12m``, which holds at the centre of the covariates (12.5 training
  hours, ACE score 2, age 12); the share over the simulated mix of mentors and youth differs a
  little, and the ``reference`` column gives it (the same estimator on one very large program;
  it is itself an estimate, with a standard error of about 0.003 for this share and about
  0.06 STSS points for the ANCOVA terms at 30,000 youth).
- ``itt_brs``: intention-to-treat effect on 12-month BRS at the sites with a waitlist, with
  site fixed effects (``tim_research.stats.evaluation.itt_effect``, used only when that
  module exists; otherwise ``itt: not available`` is printed). Its planted value is not one
  number of :class:`~tim_research.program.effects.Effects` (the effect grows with months
  matched and depends on ACE and early closure), so its target is the ``reference`` value.

- ``goal_t_per_12m``: rise of the GAS T-score (equal weights, rho 0.3) at each young person's
  latest review per 12 months matched, the regression of notebook 08. Planted:
  ``Effects.goal_t_per_12m``.
- ``relationship_hr``: hazard ratio of unplanned closure per point of the youth's 3-month YSoR
  score among matches open at 3 months (landmark Cox model of notebook 08: training per 10
  hours, age, ACE score; strata site; robust standard errors by mentor). Planted:
  ``Effects.relationship_closure_hr``; the simulation holds it only approximately (it keeps
  the matches of the other effects, see :mod:`tim_research.synth`), and the ``reference``
  column shows what the estimator converges to.
- ``pce_ace_moderation``: the ACE x PCE term of the baseline BRS regression of notebook 08
  (BRS points per ACE per PCE). Planted: ``Effects.pce_ace_moderation_d`` times
  ``REFERENCE_SD["brs"]``.

Coverage is measured against ``planted`` where it is defined, else against ``reference``
(column ``target`` says which).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import multiprocessing
import time
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tim_research import load_instrument, synth
from tim_research.program.effects import Effects
from tim_research.program.schema import Program
from tim_research.stats.associations import linear_regression
from tim_research.stats.competing import early_closure
from tim_research.stats.survival import cox
from tim_research.views.tables import (
    goal_scores,
    match_table,
    mentor_change,
    pce_scores,
    relationship_scores,
    wide_scores,
    youth_scores,
)

ESTIMANDS = (
    "caseload_stss",
    "supervision_stss",
    "training_hr",
    "early_closure_12m",
    "itt_brs",
    "goal_t_per_12m",
    "relationship_hr",
    "pce_ace_moderation",
)
ESTIMATE_COLUMNS = ["estimand", "estimate", "ci_lower", "ci_upper", "n", "seconds"]
COVERAGE_COLUMNS = [
    "estimand",
    "planted",
    "reference",
    "target",
    "seeds",
    "mean_estimate",
    "bias",
    "coverage",
    "coverage_mcse",
    "mean_ci_width",
    "seconds",
]
ANCOVA = (
    "stss_score_12m ~ stss_score_baseline + caseload + supervision_step + I(training_hours / 10)"
)
CLOSURE_COVARIATES = ["training_hours", "age", "ace10_score", "caseload"]


def itt_available() -> bool:
    """True when ``tim_research.stats.evaluation`` (with ``itt_effect``) can be imported."""
    if importlib.util.find_spec("tim_research.stats.evaluation") is None:
        return False
    return hasattr(importlib.import_module("tim_research.stats.evaluation"), "itt_effect")


def planted_values(effects: Effects) -> dict[str, float]:
    """Planted value of each estimand in the units the notebooks report (NaN: not one number)."""
    points = synth.REFERENCE_SD["stss"] * len(load_instrument("stss").items)
    return {
        "caseload_stss": effects.caseload_sts_d * points,
        "supervision_stss": effects.supervision_sts_d * points,
        "training_hr": effects.training_hr_per_10h,
        "early_closure_12m": effects.early_closure_12m,
        "itt_brs": math.nan,
        "goal_t_per_12m": effects.goal_t_per_12m,
        "relationship_hr": effects.relationship_closure_hr,
        "pce_ace_moderation": effects.pce_ace_moderation_d * synth.REFERENCE_SD["brs"],
    }


def _row(estimand: str, estimate: float, lower: float, upper: float, n: int, t0: float) -> dict:
    values = (estimand, float(estimate), float(lower), float(upper), int(n))
    return dict(zip(ESTIMATE_COLUMNS, (*values, time.perf_counter() - t0), strict=True))


def estimates(
    program: Program, *, conf_level: float = 0.95, itt: bool | None = None
) -> pd.DataFrame:
    """Estimate every estimand on one program, as the notebooks do.

    Returns one row per estimand (``ESTIMATE_COLUMNS``): ``estimate``, ``ci_lower``,
    ``ci_upper``, ``n`` (mentors, matches or youth analysed) and ``seconds`` (compute time;
    the two ANCOVA estimands share one fit and both carry its time, and the match table is
    counted with the hazard ratio). ``itt_brs`` is present
    only when ``itt`` (default: :func:`itt_available`) is true.
    """
    itt = itt_available() if itt is None else itt
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prorated scores, small cells: full counts are used
        t0 = time.perf_counter()
        fit = linear_regression(mentor_change(program), ANCOVA, conf_level=conf_level)
        c = fit.coefficients
        for estimand, term in (
            ("caseload_stss", "caseload"),
            ("supervision_stss", "supervision_step"),
        ):
            # one fit gives both estimands: each row carries its whole time
            rows.append(
                _row(estimand, *c.loc[term, ["estimate", "ci_lower", "ci_upper"]], fit.n, t0)
            )
        t0 = time.perf_counter()
        matches = match_table(program)
        hazards = cox(
            matches.assign(closed_early=matches["unplanned_closure"]),
            duration="duration_months",
            event="closed_early",
            covariates=CLOSURE_COVARIATES,
            per={"training_hours": 10},
            strata="site",
            cluster="mentor_id",
            missing="drop",
            conf_level=conf_level,
        )
        hr = hazards.loc["training_hours (per 10)"]
        rows.append(
            _row("training_hr", hr["hr"], hr["ci_lower"], hr["ci_upper"], hazards.attrs["n"], t0)
        )
        t0 = time.perf_counter()
        share = early_closure(
            matches, cutoff=program.cutoff, months=12, min_cell=0, conf_level=conf_level
        ).iloc[0]
        rows.append(
            _row(
                "early_closure_12m",
                share["estimate"],
                share["ci_lower"],
                share["ci_upper"],
                share["n"],
                t0,
            )
        )
        if itt:
            t0 = time.perf_counter()
            evaluation = importlib.import_module("tim_research.stats.evaluation")
            wide = wide_scores(youth_scores(program), values=["brs_score"])
            res = evaluation.itt_effect(
                wide, "brs_score_12m", baseline="brs_score_baseline", conf_level=conf_level
            )
            rows.append(_row("itt_brs", res.estimate, res.ci_lower, res.ci_upper, res.n, t0))
        rows += _issue16_rows(program, matches, conf_level)
    return pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)


def _issue16_rows(program: Program, matches: pd.DataFrame, conf_level: float) -> list[dict]:
    """Goal attainment, early relationship quality and PCE moderation, as notebook 08 has them."""
    rows = []
    t0 = time.perf_counter()
    latest = goal_scores(program, rho=0.3, latest=True).dropna(subset=["t_score"])
    fit = linear_regression(latest, "t_score ~ I(matched_months / 12)", conf_level=conf_level)
    c = fit.coefficients.loc["matched_months / 12"]
    rows.append(_row("goal_t_per_12m", c["estimate"], c["ci_lower"], c["ci_upper"], fit.n, t0))

    t0 = time.perf_counter()
    rel = relationship_scores(program).reset_index()
    early = rel[(rel["reporter"] == "youth") & (rel["wave"] == "3m")]
    m = matches.join(early.set_index("match_id")["ysor_score"].rename("ysor_early"))
    landmark = m[(m["duration_months"] > 3) & m["ysor_early"].notna()]
    hazards = cox(
        landmark.assign(
            closed_early=landmark["unplanned_closure"],
            months_after_landmark=landmark["duration_months"] - 3,
        ),
        duration="months_after_landmark",
        event="closed_early",
        covariates=["ysor_early", "training_hours", "age", "ace10_score"],
        per={"training_hours": 10},
        strata="site",
        cluster="mentor_id",
        missing="drop",
        conf_level=conf_level,
    )
    q = hazards.loc["ysor_early"]
    rows.append(
        _row("relationship_hr", q["hr"], q["ci_lower"], q["ci_upper"], hazards.attrs["n"], t0)
    )

    t0 = time.perf_counter()
    base = youth_scores(program, instruments=("brs",)).xs("baseline", level="wave")
    young = pce_scores(program).join(base[["brs_score"]])
    young = young.dropna(subset=["pce_score", "ace10_score", "brs_score"])
    fit = linear_regression(young, "brs_score ~ ace10_score * pce_score", conf_level=conf_level)
    c = fit.coefficients.loc["ace10_score:pce_score"]
    rows.append(_row("pce_ace_moderation", c["estimate"], c["ci_lower"], c["ci_upper"], fit.n, t0))
    return rows


def one_seed(seed: int, *, n_youth: int = 600, itt: bool | None = None) -> pd.DataFrame:
    """Simulate one program (default effects) and estimate; adds ``seed`` and ``synth_seconds``."""
    t0 = time.perf_counter()
    program = synth.program(seed=seed, n_youth=n_youth)
    made = time.perf_counter() - t0
    return estimates(program, itt=itt).assign(seed=seed, synth_seconds=made)


def _one_seed_star(args: tuple[int, int, bool]) -> pd.DataFrame:
    seed, n_youth, itt = args
    return one_seed(seed, n_youth=n_youth, itt=itt)


def run(
    seeds: Sequence[int], *, n_youth: int = 600, processes: int = 1, itt: bool | None = None
) -> pd.DataFrame:
    """Estimates for every seed (rows of :func:`estimates` plus ``seed``), over ``processes``."""
    itt = itt_available() if itt is None else itt
    jobs = [(int(s), n_youth, itt) for s in seeds]
    if processes <= 1:
        parts = [_one_seed_star(j) for j in jobs]
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.map(_one_seed_star, jobs, chunksize=max(1, len(jobs) // (4 * processes)))
    return pd.concat(parts, ignore_index=True)


def reference_values(*, n_youth: int = 30000, seed: int = 999_999, itt: bool | None = None) -> dict:
    """The value each estimator converges to: its estimate on one very large program."""
    table = estimates(synth.program(seed=seed, n_youth=n_youth), itt=itt)
    return dict(zip(table["estimand"], table["estimate"], strict=True))


def coverage_table(
    runs: pd.DataFrame,
    planted: Mapping[str, float],
    reference: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per estimand (``COVERAGE_COLUMNS``) from the rows of :func:`run`.

    ``bias`` is the mean estimate minus the target, ``coverage`` the share of intervals that
    contain the target, ``coverage_mcse`` its Monte-Carlo standard error
    ``sqrt(c (1 - c) / seeds)``, ``mean_ci_width`` the mean of ``ci_upper - ci_lower`` and
    ``seconds`` the mean compute time per program.
    """
    reference = dict(reference or {})
    rows = []
    for estimand, r in runs.groupby("estimand", sort=False):
        p = float(planted.get(estimand, math.nan))
        ref = float(reference.get(estimand, math.nan))
        use_planted = math.isfinite(p)
        target = p if use_planted else ref
        covered = (r["ci_lower"] <= target) & (target <= r["ci_upper"])
        cov = float(covered.mean()) if math.isfinite(target) else math.nan
        rows.append(
            {
                "estimand": estimand,
                "planted": p,
                "reference": ref,
                "target": "planted" if use_planted else ("reference" if math.isfinite(ref) else ""),
                "seeds": int(r["seed"].nunique()),
                "mean_estimate": float(r["estimate"].mean()),
                "bias": float(r["estimate"].mean() - target),
                "coverage": cov,
                "coverage_mcse": math.sqrt(cov * (1 - cov) / len(r)) if math.isfinite(cov) else cov,
                "mean_ci_width": float((r["ci_upper"] - r["ci_lower"]).mean()),
                "seconds": float(r["seconds"].mean()),
            }
        )
    order = {e: i for i, e in enumerate(ESTIMANDS)}
    out = pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
    return out.sort_values("estimand", key=lambda s: s.map(order)).reset_index(drop=True)


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="number of simulated programs")
    parser.add_argument("--first-seed", type=int, default=1, help="seed of the first program")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--n-youth", type=int, default=600, help="youth per program")
    parser.add_argument("--reference-youth", type=int, default=30000)
    parser.add_argument("--no-reference", action="store_true", help="skip the large program")
    args = parser.parse_args(argv)
    itt = itt_available()
    if not itt:
        print("itt: not available (tim_research.stats.evaluation.itt_effect not found)")
    start = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    runs = run(seeds, n_youth=args.n_youth, processes=args.processes, itt=itt)
    elapsed = time.perf_counter() - start
    reference = {}
    if not args.no_reference:
        t0 = time.perf_counter()
        reference = reference_values(n_youth=args.reference_youth, itt=itt)
        print(
            f"reference: one program of {args.reference_youth} youth, "
            f"{time.perf_counter() - t0:.1f} s"
        )
    table = coverage_table(runs, planted_values(Effects()), reference)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.round(4).to_string(index=False))
    synth_s = runs.groupby("seed")["synth_seconds"].first().mean()
    print(
        f"programs: {args.seeds} of {args.n_youth} youth (seeds {seeds.start}-{seeds.stop - 1}), "
        f"{args.processes} processes: {elapsed:.1f} s wall; synth.program {synth_s:.3f} s "
        "per program"
    )
    return table


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
