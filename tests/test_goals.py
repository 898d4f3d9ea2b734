"""Goal Attainment Scaling T-scores (tim_research.stats.goals).

Reference: Kiresuk TJ, Sherman RE (1968) Community Ment Health J 4:443-453, formula as printed
correctly in the erratum to Turner-Stokes L (2009) Clin Rehabil 23:362-370:
T = 50 + 10 * sum(w x) / sqrt((1 - rho) * sum(w^2) + rho * (sum w)^2). Every expected value below
is computed in the test from that formula (plain Python, goal by goal) or follows from it by
hand, never taken from the library.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tim_research.errors import DataError
from tim_research.stats.goals import gas_tscores


def kiresuk_sherman(levels, weights=None, rho=0.3):
    """The published formula, written out independently of the library."""
    weights = [1.0] * len(levels) if weights is None else list(weights)
    num = sum(w * x for w, x in zip(weights, levels))
    den = math.sqrt((1 - rho) * sum(w * w for w in weights) + rho * sum(weights) ** 2)
    return 50 + 10 * num / den


def _one_youth(levels, weights=None, **kw):
    g = pd.DataFrame({"youth_id": "y", "review": 1, "attained": levels})
    if weights is not None:
        g["weight"] = weights
        kw["weight"] = "weight"
    return gas_tscores(g, **kw)


def test_goals_attained_as_expected_score_50():
    # Turner-Stokes (2009): T is 50 when the goals are achieved precisely (every goal at 0).
    for n in (1, 3, 6):
        assert _one_youth([0] * n)["t_score"].item() == pytest.approx(50.0)


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.5, 0.9])
@pytest.mark.parametrize("x", [-2, -1, 1, 2])
def test_one_goal_moves_t_by_ten_per_level_whatever_rho(x, rho):
    # With one goal the denominator is sqrt((1 - rho) w^2 + rho w^2) = w, so T = 50 + 10 x.
    assert _one_youth([x], [2.5], rho=rho)["t_score"].item() == pytest.approx(50 + 10 * x)


def test_equal_weights_match_the_unweighted_formula():
    # Turner-Stokes (2009), equal weights (w_i = 1) and rho = 0.3:
    # T = 50 + 10 sum(x) / sqrt(0.7 n + 0.3 n^2).
    for levels in ([-1, -1, -1], [1, 0, -2, 2], [-2, -2], [2, 1, 1, 0, 0]):
        n = len(levels)
        expected = 50 + 10 * sum(levels) / math.sqrt(0.7 * n + 0.3 * n * n)
        assert _one_youth(levels)["t_score"].item() == pytest.approx(expected, abs=1e-12)


def test_weighted_goals_match_the_formula():
    # weights as importance x difficulty, 0-3 each (Turner-Stokes 2009)
    levels, weights = [-1, 0, 2, 1], [6, 2, 9, 1]
    for rho in (0.3, 0.0, 0.6):
        got = _one_youth(levels, weights, rho=rho)["t_score"].item()
        assert got == pytest.approx(kiresuk_sherman(levels, weights, rho), abs=1e-12)


def test_one_row_per_youth_and_review_sorted_with_counts():
    g = pd.DataFrame(
        {
            "youth_id": ["b", "a", "a", "b", "a", "a"],
            "review": [2, 1, 1, 2, 2, 2],
            "attained": [1, -1, 0, np.nan, 2, -2],
            "expected": [1, 0, 0, 0, 1, -1],
        }
    )
    out = gas_tscores(g, expected="expected")
    assert list(out.columns) == [
        "youth_id",
        "review",
        "n_goals",
        "n_unrated",
        "t_score",
        "share_met",
    ]
    assert out[["youth_id", "review"]].values.tolist() == [["a", 1], ["a", 2], ["b", 2]]
    assert out["n_goals"].tolist() == [2, 2, 1]
    assert out["n_unrated"].tolist() == [0, 0, 1]
    expected_t = [kiresuk_sherman([-1, 0]), kiresuk_sherman([2, -2]), kiresuk_sherman([1])]
    assert out["t_score"].tolist() == pytest.approx(expected_t)
    # met or exceeded against the expected column: a1 0 of (-1<0, 0>=0) -> 1/2; a2: 2>=1,
    # -2<-1 -> 1/2; b2: 1>=1 -> 1/1 (the unrated goal is not in the denominator)
    assert out["share_met"].tolist() == [0.5, 0.5, 1.0]
    # without the expected column a goal is met at level 0 or above
    assert gas_tscores(g)["share_met"].tolist() == [0.5, 0.5, 1.0]
    per_youth = gas_tscores(g, review=None)
    assert per_youth["youth_id"].tolist() == ["a", "b"]
    assert per_youth["n_goals"].tolist() == [4, 1]


def test_no_rated_goal_gives_missing_scores_not_fifty():
    out = _one_youth([np.nan, np.nan])
    assert out["n_goals"].item() == 0 and out["n_unrated"].item() == 2
    assert pd.isna(out["t_score"].item()) and pd.isna(out["share_met"].item())


def test_nullable_integer_levels_are_read():
    g = pd.DataFrame(
        {"youth_id": ["a", "a"], "review": [1, 1], "attained": pd.array([1, None], "Int64")}
    )
    assert gas_tscores(g)["t_score"].item() == pytest.approx(60.0)


_levels = st.lists(st.integers(-2, 2), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(_levels, st.floats(0, 0.95), st.data())
def test_invariants(levels, rho, data):
    weights = data.draw(st.lists(st.floats(0.1, 10), min_size=len(levels), max_size=len(levels)))
    t = _one_youth(levels, weights, rho=rho)["t_score"].item()
    assert t == pytest.approx(kiresuk_sherman(levels, weights, rho), abs=1e-9)
    # symmetric: mirroring every goal around the expected level mirrors T around 50
    mirrored = _one_youth([-x for x in levels], weights, rho=rho)["t_score"].item()
    assert t - 50 == pytest.approx(50 - mirrored, abs=1e-9)
    # monotone: raising any one goal by a level raises T
    for i, x in enumerate(levels):
        if x < 2:
            up = [*levels[:i], x + 1, *levels[i + 1 :]]
            assert _one_youth(up, weights, rho=rho)["t_score"].item() > t


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (lambda g: g.assign(attained=[3, 0, 0]), {}, r"attained.*other than -2.*1 row\(s\) \(1,"),
        (lambda g: g.assign(attained=[0.5, 0, 0]), {}, "other than -2"),
        (lambda g: g.assign(attained=["0", "1", "2"]), {}, "must hold numbers"),
        (lambda g: g.assign(w=[1, 0, 2]), {"weight": "w"}, r"not above 0 in 1 row\(s\) \(2,"),
        (lambda g: g.assign(w=[1, -1, np.nan]), {"weight": "w"}, "2 row"),
        (lambda g: g.assign(w=[1, np.inf, 2]), {"weight": "w"}, "not finite"),
        (lambda g: g, {"rho": 1.0}, r"rho must be in \[0, 1\)"),
        (lambda g: g, {"rho": -0.1}, r"rho must be in \[0, 1\)"),
        (lambda g: g, {"rho": True}, "rho must be a number"),
        (lambda g: g, {"weight": "nope"}, r"no column\(s\) \['nope'\]"),
        (lambda g: g.assign(youth_id=["secret-id", None, "x"]), {}, "'youth_id' is missing"),
        (lambda g: g.assign(e=[0, np.nan, 0]), {"expected": "e"}, "missing for a rated goal"),
        (lambda g: g.assign(e=[0, 5, 0]), {"expected": "e"}, "expected column 'e' has values"),
    ],
)
def test_bad_input_is_refused_in_one_line_without_values(change, kwargs, message):
    g = change(
        pd.DataFrame({"youth_id": ["secret-id", "x", "x"], "review": 1, "attained": [0, 1, -1]})
    )
    with pytest.raises(DataError, match=message) as err:
        gas_tscores(g, **kwargs)
    text = str(err.value)
    assert "\n" not in text and "secret-id" not in text


def test_goals_must_be_a_frame():
    with pytest.raises(DataError, match="goals must be a pandas DataFrame"):
        gas_tscores([[0, 1]])
