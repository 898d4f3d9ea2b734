"""Fast check of benchmarks/calibration.py: a few simulated programs, intervals near the truth.

The full run (200 seeds) is the benchmark script itself; here a handful of seeds must give
intervals that mostly contain the planted values, and the script's functions must return the
columns they document. Planted values are recomputed from the codebook's rule (an effect
``d`` moves the STSS sum by ``d * REFERENCE_SD["stss"] * 17``), not copied from output.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from tim_research.program.effects import Effects

_spec = importlib.util.spec_from_file_location(
    "calibration", REPO / "benchmarks" / "calibration.py"
)
calibration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(calibration)

SEEDS = range(1, 6)


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return calibration.run(SEEDS, processes=1)


def test_planted_values_follow_the_codebook_rule():
    eff = Effects()
    planted = calibration.planted_values(eff)
    assert set(planted) == set(calibration.ESTIMANDS)
    assert planted["caseload_stss"] == pytest.approx(0.20 * 0.38 * 17)
    assert planted["supervision_stss"] == pytest.approx(-0.15 * 0.38 * 17)
    assert planted["training_hr"] == eff.training_hr_per_10h == 0.8
    assert planted["early_closure_12m"] == eff.early_closure_12m == 0.38
    assert math.isnan(planted["itt_brs"])  # no single planted number: a reference value instead
    assert planted["goal_t_per_12m"] == eff.goal_t_per_12m
    assert planted["relationship_hr"] == eff.relationship_closure_hr
    # an effect d on the ACE x PCE slope in SD units of the BRS is d * SD BRS points
    assert planted["pce_ace_moderation"] == pytest.approx(
        eff.pce_ace_moderation_d * calibration.synth.REFERENCE_SD["brs"]
    )


def test_estimates_return_the_documented_columns_and_estimands(runs):
    assert list(runs.columns) == [*calibration.ESTIMATE_COLUMNS, "seed", "synth_seconds"]
    table = runs[runs["seed"] == SEEDS[0]]
    expected = list(calibration.ESTIMANDS)
    if not calibration.itt_available():
        expected.remove("itt_brs")
    assert table["estimand"].tolist() == expected
    assert (table["ci_lower"] < table["estimate"]).all()
    assert (table["estimate"] < table["ci_upper"]).all()
    assert (table["n"] > 0).all() and (table["seconds"] >= 0).all()


def test_intervals_of_a_few_programs_mostly_cover_the_planted_values(runs):
    table = calibration.coverage_table(runs, calibration.planted_values(Effects()))
    assert list(table.columns) == calibration.COVERAGE_COLUMNS
    planted = table[table["target"] == "planted"].set_index("estimand")
    assert set(planted.index) == {
        "caseload_stss",
        "supervision_stss",
        "training_hr",
        "early_closure_12m",
        "goal_t_per_12m",
        "relationship_hr",
        "pce_ace_moderation",
    }
    assert (planted["seeds"] == len(SEEDS)).all()
    # at most one miss in 5: two or more misses have probability 0.023 per estimand at the
    # nominal 95 %, and far more for intervals that are too narrow (the seeds are fixed)
    assert (planted["coverage"] >= 0.8).all(), planted[["coverage"]]
    # the estimates scatter around the truth: the mean is within a mean interval width
    assert (planted["bias"].abs() < planted["mean_ci_width"]).all()
    assert (planted["mean_ci_width"] > 0).all()


def test_coverage_table_arithmetic_on_a_small_frame():
    runs = pd.DataFrame(
        {
            "estimand": ["caseload_stss"] * 4 + ["itt_brs"] * 2,
            "estimate": [1.0, 2.0, 1.5, 0.5, 0.1, 0.3],
            "ci_lower": [0.5, 1.5, 0.0, 0.0, 0.0, 0.25],
            "ci_upper": [1.5, 2.5, 3.0, 1.0, 0.2, 0.35],
            "n": 10,
            "seconds": [0.1, 0.3, 0.1, 0.3, 1.0, 1.0],
            "seed": [1, 2, 3, 4, 1, 2],
        }
    )
    table = calibration.coverage_table(
        runs, {"caseload_stss": 1.2, "itt_brs": math.nan}, {"itt_brs": 0.15}
    ).set_index("estimand")
    row = table.loc["caseload_stss"]
    # 1.2 lies in [0.5, 1.5] and [0, 3], not in [1.5, 2.5] or [0, 1]
    assert row["coverage"] == 0.5 and row["target"] == "planted"
    assert row["coverage_mcse"] == pytest.approx(math.sqrt(0.25 / 4))
    assert row["bias"] == pytest.approx(1.25 - 1.2)
    assert row["mean_ci_width"] == pytest.approx(np.mean([1.0, 1.0, 3.0, 1.0]))
    assert row["seconds"] == pytest.approx(0.2)
    itt = table.loc["itt_brs"]
    assert itt["target"] == "reference" and itt["coverage"] == 0.5  # 0.15 in [0, 0.2] only
    assert list(table.index) == ["caseload_stss", "itt_brs"]  # the order of ESTIMANDS


def test_main_prints_the_table_and_says_when_itt_is_missing(capsys):
    table = calibration.main(["--seeds", "1", "--processes", "1", "--no-reference"])
    out = capsys.readouterr().out
    assert list(table.columns) == calibration.COVERAGE_COLUMNS
    assert "caseload_stss" in out and "programs: 1 of 600 youth" in out
    if calibration.itt_available():
        assert "itt_brs" in out
    else:
        assert "itt: not available" in out
