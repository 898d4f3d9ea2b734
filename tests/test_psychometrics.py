"""Reliability, item statistics and ICCs against psych (R), bad input, and invariants.

Reference values: tests/reference/psych_lme4_reference.R -> tests/reference/values/psych_*.json.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tim_research.errors import DataError, ReliabilityWarning
from tim_research.stats.psychometrics import (
    Reliability,
    _pairwise_moments,
    group_icc,
    icc,
    item_statistics,
    reliability,
)

SCALES = ["A", "C", "E", "N", "O"]


@pytest.fixture(scope="module")
def bfi(read_external):
    data = read_external("psych_bfi.csv", index_col="row_id")
    # a shuffled, non-default index so that nothing can depend on row order
    return data.sample(frac=1.0, random_state=7)


@pytest.fixture(scope="module")
def alpha_ref(reference_values):
    return reference_values("psych_alpha_bfi")


@pytest.fixture(scope="module")
def jobsat_long(read_external):
    univ = read_external("multilevel_univbct.csv")
    wide = univ.loc[univ["TIME"] == 0, ["SUBNUM", "JOBSAT1", "JOBSAT2", "JOBSAT3"]]
    long = wide.melt(id_vars="SUBNUM", var_name="wave", value_name="jobsat")
    long.index = pd.Index([f"r{i}" for i in range(len(long))])
    return long.sample(frac=1.0, random_state=3)


# --------------------------------------------------------------------------------------------
# against psych::alpha / psych::omega
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", SCALES)
def test_alpha_against_psych(bfi, alpha_ref, scale):
    ref = alpha_ref["scales"][scale]
    rel = reliability(bfi[ref["items"]], reverse=ref["reversed"], min_value=1, max_value=6)
    assert rel.alpha == pytest.approx(ref["raw_alpha"], abs=1e-6)
    assert rel.std_alpha == pytest.approx(ref["std_alpha"], abs=1e-6)
    assert rel.average_r == pytest.approx(ref["average_r"], abs=1e-6)
    assert rel.alpha_ci[0] == pytest.approx(ref["feldt_lower"], abs=1e-6)
    assert rel.alpha_ci[1] == pytest.approx(ref["feldt_upper"], abs=1e-6)
    assert rel.n == ref["n_any"]
    assert rel.k == len(ref["items"])
    assert rel.reversed_items == tuple(ref["reversed"])


@pytest.mark.parametrize("scale", SCALES)
def test_omega_total_against_psych(bfi, alpha_ref, scale):
    # psych's minres optimiser (L-BFGS-B) stops near, not at, the exact minimum found here:
    # the two agree to about 1e-7, so 1e-6 is the stated tolerance
    ref = alpha_ref["scales"][scale]
    rel = reliability(bfi[ref["items"]], reverse=ref["reversed"], min_value=1, max_value=6)
    assert rel.omega_total == pytest.approx(ref["omega_tot"], abs=1e-6)


@pytest.mark.parametrize("scale", SCALES)
def test_item_statistics_against_psych(bfi, alpha_ref, scale):
    ref = alpha_ref["scales"][scale]
    stats = item_statistics(bfi[ref["items"]], reverse=ref["reversed"], min_value=1, max_value=6)
    assert list(stats.index) == ref["items"]
    assert list(stats.columns) == ["mean", "sd", "n", "r_drop", "alpha_if_deleted"]
    np.testing.assert_allclose(stats["mean"], ref["item_mean"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(stats["sd"], ref["item_sd"], atol=1e-6, rtol=0)
    np.testing.assert_array_equal(stats["n"], ref["item_n"])
    np.testing.assert_allclose(stats["r_drop"], ref["item_r_drop"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(stats["alpha_if_deleted"], ref["alpha_if_deleted"], atol=1e-6)


def test_reliability_result_object(bfi):
    rel = reliability(bfi[["A1", "A2", "A3"]], reverse=["A1"], min_value=1, max_value=6)
    assert isinstance(rel, Reliability)
    frame = rel.to_frame()
    assert frame.shape[0] == 1
    assert {"alpha", "alpha_ci_lower", "alpha_ci_upper", "omega_total", "n", "k"} <= set(frame)
    assert "<table" in rel._repr_html_()
    with pytest.raises(AttributeError):
        rel.alpha = 0.5  # type: ignore[misc]


def test_wider_conf_level_gives_wider_feldt_interval(bfi):
    items = bfi[["C1", "C2", "C3"]]
    narrow = reliability(items, conf_level=0.8).alpha_ci
    wide = reliability(items, conf_level=0.99).alpha_ci
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


# --------------------------------------------------------------------------------------------
# against psych::ICC
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["two_waves", "three_waves"])
def test_icc_against_psych(jobsat_long, reference_values, case):
    ref = reference_values("psych_icc_univbct")[case]
    long = jobsat_long[jobsat_long["wave"].isin(ref["waves"])]
    res = icc(long, targets="SUBNUM", raters="wave", ratings="jobsat")
    assert list(res.index) == ref["type"]
    for col in ["icc", "f", "ci_lower", "ci_upper"]:
        np.testing.assert_allclose(res[col], ref[col], rtol=1e-9, atol=0)
    np.testing.assert_allclose(res["p"], ref["p"], rtol=1e-6)
    np.testing.assert_array_equal(res["df1"], ref["df1"])
    np.testing.assert_array_equal(res["df2"], ref["df2"])
    assert (res["n_targets"] == ref["n_targets"]).all()
    assert (res["n_excluded"] == ref["n_incomplete"]).all()
    assert (res["n_raters"] == len(ref["waves"])).all()


def test_icc_model_selects_rows(jobsat_long):
    full = icc(jobsat_long, targets="SUBNUM", raters="wave", ratings="jobsat")
    mixed = icc(
        jobsat_long, targets="SUBNUM", raters="wave", ratings="jobsat", model="twoway_mixed"
    )
    assert list(mixed.index) == ["ICC3", "ICC3k"]
    pd.testing.assert_frame_equal(mixed, full.loc[["ICC3", "ICC3k"]])


def test_icc_bad_input(jobsat_long):
    with pytest.raises(DataError, match="more than once"):
        icc(
            pd.concat([jobsat_long, jobsat_long.iloc[:1]]),
            targets="SUBNUM",
            raters="wave",
            ratings="jobsat",
        )
    one = jobsat_long[jobsat_long["wave"] == "JOBSAT1"]
    with pytest.raises(DataError, match="at least two raters"):
        icc(one, targets="SUBNUM", raters="wave", ratings="jobsat")
    with pytest.raises(DataError, match="no column"):
        icc(jobsat_long, targets="id", raters="wave", ratings="jobsat")
    with pytest.raises(DataError, match="model must be"):
        icc(jobsat_long, targets="SUBNUM", raters="wave", ratings="jobsat", model="ICC9")
    text = jobsat_long.assign(jobsat=jobsat_long["jobsat"].astype(str))
    with pytest.raises(DataError, match="numeric"):
        icc(text, targets="SUBNUM", raters="wave", ratings="jobsat")


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------
def _small() -> pd.DataFrame:
    return pd.DataFrame(
        {"x1": [1.0, 2, 3, 4, 5, 2], "x2": [2.0, 2, 3, 5, 4, 1], "x3": [1.0, 3, 2, 4, 4, 2]},
        index=["k", "c", "a", "f", "b", "e"],
    )


def test_constant_item_raises_naming_it():
    data = _small().assign(x2=3.0)
    for func in (reliability, item_statistics):
        with pytest.raises(DataError, match="'x2'.*no variance"):
            func(data)


def test_one_item_raises():
    with pytest.raises(DataError, match="at least two items"):
        reliability(_small()[["x1"]])


def test_nan_only_column_raises_naming_it():
    with pytest.raises(DataError, match="'x3'.*no answers"):
        reliability(_small().assign(x3=np.nan))


def test_non_numeric_column_raises_naming_it():
    with pytest.raises(DataError, match="non-numeric.*'x1'"):
        reliability(_small().assign(x1=list("abcdef")))


def test_reverse_needs_range_and_known_columns():
    with pytest.raises(DataError, match="min_value= and max_value="):
        reliability(_small(), reverse=["x1"])
    with pytest.raises(DataError, match="'x9'"):
        reliability(_small(), reverse=["x9"], min_value=1, max_value=5)


def test_values_outside_range_name_column_and_rows():
    data = _small()
    data.loc["f", "x2"] = 9
    with pytest.raises(DataError, match=r"'x2' has 9\.0 \(rows 'f'\)"):
        reliability(data, min_value=1, max_value=5)


def test_pairs_never_answered_together_raise():
    data = pd.DataFrame(
        {"a": [1.0, 2, 3, np.nan, np.nan, np.nan], "b": [np.nan, np.nan, np.nan, 1, 2, 3]},
    ).assign(c=[1.0, 2, 3, 1, 2, 2])
    with pytest.raises(DataError, match="'a' & 'b'"):
        reliability(data)


def test_two_items_have_no_alpha_if_deleted():
    stats = item_statistics(_small()[["x1", "x2"]])
    assert stats["alpha_if_deleted"].isna().all()
    assert np.isfinite(stats["r_drop"]).all()


# --------------------------------------------------------------------------------------------
# invariants
# --------------------------------------------------------------------------------------------
@st.composite
def item_frames(draw):
    n = draw(st.integers(min_value=6, max_value=40))
    k = draw(st.integers(min_value=2, max_value=6))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    x = np.clip(np.round(3 + rng.normal(size=(n, 1)) + rng.normal(size=(n, k))), 1, 5)
    x[rng.random(size=x.shape) < draw(st.sampled_from([0.0, 0.1]))] = np.nan
    index = pd.Index(rng.permutation(n) * 3 + 100)
    return pd.DataFrame(x, columns=[f"i{j}" for j in range(k)], index=index)


@settings(max_examples=60, deadline=None)
@given(item_frames())
def test_pairwise_moments_match_pandas(frame):
    x = frame.to_numpy()
    mom = _pairwise_moments(x, block_rows=7)  # several blocks
    counts = (~frame.isna()).astype(float).T @ (~frame.isna()).astype(float)
    ok = counts.to_numpy() >= 2
    np.testing.assert_allclose(mom["cov"][ok], frame.cov().to_numpy()[ok], rtol=1e-9, atol=1e-12)
    cor = frame.corr().to_numpy()
    finite = ok & np.isfinite(cor)
    np.testing.assert_allclose(mom["cor"][finite], cor[finite], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mom["mean"], frame.mean().to_numpy(), rtol=1e-12)


def test_undefined_pairwise_correlation_gives_nan_omega_with_warning():
    data = pd.DataFrame(
        {"a": [1.0, 2, 3, 4, 5, 3], "b": [3.0, 3, 3, np.nan, np.nan, 1], "c": [2.0, 2, 4, 4, 5, 1]}
    )
    data.loc[5, "a"] = np.nan  # on the rows a and b share, b is constant
    with pytest.warns(ReliabilityWarning, match="'a' & 'b'"):
        rel = reliability(data)
    assert np.isnan(rel.omega_total)
    assert np.isfinite(rel.alpha)


def _defined(frame: pd.DataFrame) -> bool:
    counts = (~frame.isna()).astype(int).T @ (~frame.isna()).astype(int)
    return bool((counts.to_numpy() >= 3).all() and (frame.std() > 0).all())


@pytest.mark.filterwarnings("ignore::tim_research.errors.ReliabilityWarning")
@settings(max_examples=40, deadline=None)
@given(item_frames(), st.integers(min_value=0, max_value=1000))
def test_alpha_invariant_to_row_order(frame, seed):
    if not _defined(frame):
        return
    shuffled = frame.sample(frac=1.0, random_state=seed)
    a, b = reliability(frame), reliability(shuffled)
    assert a.alpha == pytest.approx(b.alpha, rel=1e-9, abs=1e-12)
    assert a.omega_total == pytest.approx(b.omega_total, rel=1e-6, abs=1e-9, nan_ok=True)
    pd.testing.assert_frame_equal(item_statistics(frame), item_statistics(shuffled), rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(item_frames())
def test_reverse_keying_twice_is_identity(frame):
    if not _defined(frame):
        return
    col = frame.columns[0]
    once = frame.assign(**{col: 6 - frame[col]})
    twice = item_statistics(once, reverse=[col], min_value=1, max_value=5)
    pd.testing.assert_frame_equal(twice, item_statistics(frame), rtol=1e-9)


@pytest.mark.filterwarnings("ignore::tim_research.errors.ReliabilityWarning")
@settings(max_examples=40, deadline=None)
@given(item_frames())
def test_std_alpha_ignores_item_scaling(frame):
    if not _defined(frame):
        return
    scaled = frame * np.arange(1, frame.shape[1] + 1)
    assert reliability(scaled).std_alpha == pytest.approx(reliability(frame).std_alpha, rel=1e-9)


def test_omega_is_nan_with_a_warning_in_a_heywood_case():
    # Found by hypothesis: pairwise correlations of these rows force a loading above 1.
    frame = pd.DataFrame(
        {"i0": [3, 2, 3, 5, 1, 5], "i1": [2, 3, 4, 3, None, 2], "i2": [1, None, 4, None, 1, 1]},
        index=[109, 103, 112, 115, 106, 100],
        dtype=float,
    )
    with pytest.warns(ReliabilityWarning, match="Heywood"):
        result = reliability(frame)
    assert np.isnan(result.omega_total)
    assert np.isfinite(result.alpha)


# --------------------------------------------------------------------------------------------
# pairwise-complete covariances that are not positive semidefinite
# --------------------------------------------------------------------------------------------
def _inconsistent_pairs() -> pd.DataFrame:
    # 7 respondents, 4 items, 5 scattered missing answers: each pair of items is estimated from
    # different rows, and together the pairwise covariances are not positive semidefinite.
    # psych::alpha(x, check.keys=FALSE) (psych 2.2.9) gives raw_alpha 1.003391, average_r
    # 1.086576 and Feldt "lower 1.01, upper 1" for these rows.
    return pd.DataFrame(
        {
            "a": [1, 3, 3, 3, 3, None, 3],
            "b": [1, None, 5, 3, 3, 4, None],
            "c": [2, 3, 4, 3, 4, 4, 4],
            "d": [1, 2, 3, None, 3, None, 3],
        },
        index=[31, 35, 33, 30, 36, 34, 32],
        dtype=float,
    )


def test_inconsistent_pairwise_covariances_warn_and_give_no_inverted_interval():
    data = _inconsistent_pairs()
    # independent check that the case is what it claims: pandas' pairwise covariance matrix
    # has a clearly negative eigenvalue
    assert np.linalg.eigvalsh(data.cov().to_numpy())[0] < -0.1
    with pytest.warns(ReliabilityWarning, match="not positive semidefinite") as caught:
        rel = reliability(data)
    text = " ".join(str(w.message) for w in caught)
    assert "dropna()" in text
    assert "alpha_ci is (nan, nan)" in text
    # the point values still follow psych::alpha (see _inconsistent_pairs)
    assert rel.alpha == pytest.approx(1.003391, abs=1e-6)
    assert rel.average_r == pytest.approx(1.086576, abs=1e-6)
    assert np.isnan(rel.alpha_ci[0]) and np.isnan(rel.alpha_ci[1])
    frame = rel.to_frame()
    assert frame[["alpha_ci_lower", "alpha_ci_upper"]].isna().all().all()


def test_inconsistent_pairwise_covariances_warn_in_item_statistics():
    with pytest.warns(ReliabilityWarning, match="not positive semidefinite.*dropna"):
        item_statistics(_inconsistent_pairs())


def test_complete_cases_of_the_inconsistent_rows_do_not_warn():
    complete = _inconsistent_pairs().dropna()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReliabilityWarning)
        rel = reliability(complete)
    assert rel.alpha <= 1
    assert rel.alpha_ci[0] <= rel.alpha <= rel.alpha_ci[1]


@pytest.mark.parametrize("scale", SCALES)
def test_bfi_scales_do_not_warn(bfi, alpha_ref, scale):
    ref = alpha_ref["scales"][scale]
    items = bfi[ref["items"]]
    assert items.isna().any().any()  # pairwise deletion is exercised
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReliabilityWarning)
        rel = reliability(items, reverse=ref["reversed"], min_value=1, max_value=6)
        item_statistics(items, reverse=ref["reversed"], min_value=1, max_value=6)
    assert rel.alpha_ci[0] < rel.alpha < rel.alpha_ci[1]


@settings(max_examples=60, deadline=None)
@given(item_frames())
def test_feldt_interval_is_never_inverted(frame):
    if not _defined(frame):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        lower, upper = reliability(frame).alpha_ci
    assert (np.isnan(lower) and np.isnan(upper)) or lower <= upper


# ---------------------------------------------------------------------------------------------
# group_icc against multilevel::ICC1 / ICC2 (tests/reference/site_icc_reference.R)
# ---------------------------------------------------------------------------------------------
def _site_icc_data(case, read_external):
    if case.startswith("bh1996"):
        data = read_external("multilevel_bh1996.csv")
        if case == "bh1996_unbalanced_lead":
            # the same subset as the R script: company g keeps its first (g % 7) * 3 + 2 rows
            position = data.groupby("GRP").cumcount() + 1
            data = data[position <= (data["GRP"] % 7) * 3 + 2]
        return data
    univ = read_external("multilevel_univbct.csv")
    return univ[univ["TIME"] == 0]


@pytest.mark.parametrize(
    "case", ["bh1996_wbeing", "bh1996_cohes", "bh1996_unbalanced_lead", "univbct_jobsat1"]
)
def test_group_icc_against_multilevel(case, read_external, reference_values):
    ref = reference_values("site_icc")["cases"][case]
    data = _site_icc_data(case, read_external)
    got = group_icc(data, value=ref["value"], group=ref["group"])
    assert (got.n, got.n_groups) == (ref["n"], ref["n_groups"])
    assert (got.df_between, got.df_within) == (ref["df_between"], ref["df_within"])
    assert got.n_dropped == len(data) - ref["n"]
    for ours, theirs in [
        ("icc1", "icc1"),
        ("icc2", "icc2"),
        ("ms_between", "ms_between"),
        ("ms_within", "ms_within"),
        ("f", "f"),
    ]:
        assert getattr(got, ours) == pytest.approx(ref[theirs], rel=1e-9), ours
    assert got.p == pytest.approx(ref["p"], rel=1e-6)


def test_group_icc_does_not_depend_on_row_order_or_labels(read_external):
    data = read_external("multilevel_bh1996.csv")
    a = group_icc(data, value="WBEING", group="GRP")
    shuffled = data.sample(frac=1.0, random_state=3).assign(
        GRP=lambda d: "site " + d["GRP"].astype(str)
    )
    b = group_icc(shuffled, value="WBEING", group="GRP")
    assert a.icc1 == pytest.approx(b.icc1, rel=1e-12)
    assert a.icc2 == pytest.approx(b.icc2, rel=1e-12)


def test_group_icc_refuses_what_it_cannot_estimate():
    with pytest.raises(DataError, match="at least 2 groups"):
        group_icc(pd.DataFrame({"v": [1.0, 2.0], "g": ["a", "a"]}), value="v", group="g")
    with pytest.raises(DataError, match="must be numeric"):
        group_icc(pd.DataFrame({"v": ["x", "y"], "g": ["a", "b"]}), value="v", group="g")
    with pytest.raises(DataError, match="no column"):
        group_icc(pd.DataFrame({"v": [1.0]}), value="v", group="site")
