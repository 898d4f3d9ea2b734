"""Goal Attainment Scaling (GAS): one T-score per youth and review from goals rated -2..+2.

Each goal is rated on five levels, -2 (much less than expected), -1, 0 (the expected outcome),
+1 and +2 (much more than expected). Kiresuk & Sherman (1968) combine the ratings ``x_i`` of a
person's goals, with weights ``w_i``, into a T-score

    T = 50 + 10 * sum(w_i x_i) / sqrt((1 - rho) * sum(w_i^2) + rho * (sum w_i)^2),

where ``rho`` is the assumed average correlation between the goal scales, 0.3 by convention
(Turner-Stokes 2009, Clin Rehabil 23:362-370, with its erratum correcting the printed formula).
T is 50 when every goal is attained at the expected level and has a standard deviation of
about 10 when goals are over- or under-achieved.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tim_research._checks import check_frame
from tim_research.errors import DataError

__all__ = ["GAS_LEVELS", "gas_tscores"]

GAS_LEVELS = (-2, -1, 0, 1, 2)
_MAX_SHOWN = 5


def _rows(mask: np.ndarray) -> str:
    """Rows by position from 1 (never their values or index labels, which may be ids)."""
    positions = np.flatnonzero(mask)
    shown = ", ".join(str(int(p) + 1) for p in positions[:_MAX_SHOWN])
    more = f" and {len(positions) - _MAX_SHOWN} more" if len(positions) > _MAX_SHOWN else ""
    return f"{len(positions)} row(s) ({shown}{more}, by position from 1)"


def _levels(goals: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """A -2..+2 level column as floats (NaN = not rated), refusing anything else."""
    series = goals[column]
    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        raise DataError(
            f"{role} column {column!r} must hold numbers -2, -1, 0, 1 or 2, got dtype "
            f"{series.dtype}; recode the GAS levels to numbers"
        )
    values = series.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(values) & ~np.isin(values, GAS_LEVELS)
    if bad.any():
        raise DataError(
            f"{role} column {column!r} has values other than -2, -1, 0, 1, 2 in {_rows(bad)}; "
            "GAS levels are whole numbers from -2 (much less than expected) to +2"
        )
    return values


def gas_tscores(
    goals: pd.DataFrame,
    *,
    youth: str = "youth_id",
    review: str | None = "review",
    attained: str = "attained",
    expected: str | None = None,
    weight: str | None = None,
    rho: float = 0.3,
) -> pd.DataFrame:
    """Goal Attainment Scaling T-score, number of goals and share met, per youth and review.

    Parameters
    ----------
    goals
        One row per goal and review.
    youth
        Column identifying the young person.
    review
        Column identifying the review (a date or a wave); ``None`` gives one row per youth.
    attained
        Column of the attained level, a whole number from -2 to +2; NaN is a goal not rated
        at that review: it is left out of the T-score and counted in ``n_unrated``.
    expected
        Optional column of the level expected at that review (-2..+2). A goal is met or
        exceeded when ``attained >= expected``; without this column, when ``attained >= 0``
        (0 is, by construction of a GAS scale, the expected outcome). It changes only
        ``share_met``: the T-score always uses the attained levels, as Kiresuk & Sherman.
    weight
        Optional column of goal weights (finite, > 0), e.g. importance x difficulty
        (Turner-Stokes 2009); without it every goal weighs 1.
    rho
        Assumed average correlation between the goal scales, in [0, 1); 0.3 by convention.

    Returns
    -------
    pandas.DataFrame
        One row per youth (and review), sorted: ``youth``, ``review``, ``n_goals`` (rated
        goals), ``n_unrated``, ``t_score`` (NaN when no goal is rated), ``share_met`` (share
        of rated goals met or exceeded).

    Raises
    ------
    DataError
        A missing column, levels outside -2..+2 or an expected level missing where the goal
        is rated, a weight that is missing, zero, negative or infinite, an id or review that
        is missing, or ``rho`` outside [0, 1). Messages name rows by position, never values.

    Examples
    --------
    >>> g = pd.DataFrame({"youth_id": ["a", "a", "a", "b"], "review": [1, 1, 1, 1],
    ...                   "attained": [0, 1, -1, 2]})
    >>> gas_tscores(g)
      youth_id  review  n_goals  n_unrated  t_score  share_met
    0        a       1        3          0     50.0   0.666667
    1        b       1        1          0     70.0   1.000000
    """
    check_frame(goals, "goals")
    if isinstance(rho, bool) or not isinstance(rho, int | float | np.integer | np.floating):
        raise DataError(f"rho must be a number in [0, 1), got {type(rho).__name__}")
    if not (0 <= rho < 1) or math.isnan(rho):
        raise DataError(f"rho must be in [0, 1) (0.3 by convention), got {rho!r}")
    keys = [youth] if review is None else [youth, review]
    named = [*keys, attained] + [c for c in (expected, weight) if c is not None]
    absent = [c for c in named if c not in goals.columns]
    if absent:
        raise DataError(f"goals has no column(s) {absent}; found {list(goals.columns)}")
    for key in keys:
        missing_key = goals[key].isna().to_numpy()
        if missing_key.any():
            raise DataError(
                f"column {key!r} is missing in {_rows(missing_key)}; every goal needs a youth "
                "and a review"
            )

    x = _levels(goals, attained, "attained")
    rated = ~np.isnan(x)
    if expected is None:
        met = rated & (np.nan_to_num(x, nan=-np.inf) >= 0)
    else:
        e = _levels(goals, expected, "expected")
        no_target = rated & np.isnan(e)
        if no_target.any():
            raise DataError(
                f"expected column {expected!r} is missing for a rated goal in "
                f"{_rows(no_target)}; give the expected level or leave expected=None"
            )
        met = rated & (np.nan_to_num(x, nan=-np.inf) >= np.nan_to_num(e, nan=np.inf))
    if weight is None:
        w = np.ones(len(goals))
    else:
        ws = goals[weight]
        if not pd.api.types.is_numeric_dtype(ws) or pd.api.types.is_bool_dtype(ws):
            raise DataError(f"weight column {weight!r} must be numeric, got dtype {ws.dtype}")
        w = ws.to_numpy(dtype=float, na_value=np.nan)
        bad_w = ~np.isfinite(w) | (w <= 0)
        if bad_w.any():
            raise DataError(
                f"weight column {weight!r} is missing, not finite or not above 0 in "
                f"{_rows(bad_w)}; GAS weights are positive (e.g. importance x difficulty)"
            )

    wr = np.where(rated, w, 0.0)  # unrated goals carry no weight
    parts = pd.DataFrame(
        {
            "n_goals": rated.astype(np.int64),
            "n_unrated": (~rated).astype(np.int64),
            "wx": wr * np.nan_to_num(x),
            "w": wr,
            "w2": wr * wr,
            "met": met.astype(float),
        }
    )
    for key in keys:
        parts[key] = goals[key].to_numpy()
    sums = parts.groupby(keys, sort=True, observed=True).sum(numeric_only=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = np.sqrt((1 - rho) * sums["w2"] + rho * sums["w"] ** 2)
        t = 50 + 10 * sums["wx"] / denom
        share = sums["met"] / sums["n_goals"]
    none = sums["n_goals"] == 0
    out = pd.DataFrame(
        {
            "n_goals": sums["n_goals"],
            "n_unrated": sums["n_unrated"],
            "t_score": t.where(~none),
            "share_met": share.where(~none),
        }
    )
    return out.reset_index()
