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
