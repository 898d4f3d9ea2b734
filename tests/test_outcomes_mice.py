"""outcomes.pool_rubin against mice::pool.scalar (a second implementation of Rubin's rules)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tim_research.stats.outcomes import pool_rubin


def test_pool_rubin_against_mice_pool_scalar(reference_values):
    # Source: tests/reference/mice_reference.R, mice 3.15 pool.scalar with Barnard-Rubin df.
    ref = reference_values("outcomes_mice_pool")
    est = pd.DataFrame(ref["estimates"], columns=ref["terms"])
    var = pd.DataFrame(ref["variances"], columns=ref["terms"])
    res = pool_rubin(est, var, df_complete=ref["df_complete"])
    for ours, theirs in [
        ("estimate", "qbar"),
        ("within", "ubar"),
        ("between", "b"),
        ("total", "t"),
        ("df", "df"),
        ("riv", "r"),
        ("fmi", "fmi"),
    ]:
        np.testing.assert_allclose(res[ours], ref[theirs], rtol=1e-10, err_msg=ours)


def test_a_constant_or_duplicated_predictor_is_left_out_as_mice_does():
    # mice's remove.lindep: a predictor that does not vary among the observed rows, or that
    # repeats another, cannot enter the regression; imputing with it gives what imputing
    # without it gives, instead of a singular matrix
    from tim_research.stats.outcomes import _impute

    rng = np.random.default_rng(3)
    x = rng.normal(size=200)
    y = 0.5 * x + rng.normal(size=200)
    y[rng.random(200) < 0.3] = np.nan
    base = np.column_stack([y, x])
    constant = np.column_stack([y, x, np.zeros(200)])
    duplicated = np.column_stack([y, x, x])
    want = _impute(base, m=2, n_burnin=3, seed=1)
    for values in (constant, duplicated):
        got = _impute(values, m=2, n_burnin=3, seed=1)
        for a, b in zip(want, got, strict=True):
            np.testing.assert_array_equal(a[:, 0], b[:, 0])
