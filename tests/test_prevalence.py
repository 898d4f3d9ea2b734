"""Tests of tim_research.stats.prevalence.

Reference values come from tests/reference/survival_survey_reference.R (R ``survey``:
svymean, svyby, confint; ``prop.test(correct = FALSE)`` for Wilson intervals) via
tests/reference/values/survey_api.json, which also holds the exported survey::api rows; the
two-stage survey::apiclus2 rows and first-stage values come from
tests/reference/survey_multistage_reference.R via tests/reference/values/survey_apiclus2.json.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tim_research.errors import DataError, SmallCellWarning
from tim_research.stats.outcomes import group_means
from tim_research.stats.prevalence import prevalence

RTOL = 1e-6


def as_array(values) -> np.ndarray:
    values = values if isinstance(values, list) else [values]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_close(actual, expected) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), as_array(expected), rtol=RTOL, atol=1e-12
    )


@pytest.fixture(scope="module")
def ref(reference_values) -> dict:
    return reference_values("survey_api")


def api_frame(ref: dict, name: str, seed: int = 11) -> pd.DataFrame:
    """The exported survey::api rows, shuffled, with a non-default index (school code)."""
    data = pd.DataFrame(ref[name])
    data["sw_na"] = data["sw_na"].astype(float)
    data = data.set_index("cds").sample(frac=1, random_state=seed)
    return data


DESIGNS = {
    "strat": ("apistrat", {"weights": "pw", "strata": "stype", "fpc": "fpc"}),
    "strat_nofpc": ("apistrat", {"weights": "pw", "strata": "stype"}),
    "clus1": ("apiclus1", {"weights": "pw", "psu": "dnum", "fpc": "fpc"}),
    "clus1_nofpc": ("apiclus1", {"weights": "pw", "psu": "dnum"}),
    "strat_clus": ("apistrat", {"weights": "pw", "strata": "stype", "psu": "dnum"}),
}
CASES = [(design, key) for design in DESIGNS for key in ("sw", "aw", "sw_na")] + [
    (design, key) for design in DESIGNS for key in ("sw_by_stype", "aw_by_stype", "sw_na_by_stype")
]


@pytest.mark.parametrize(("design", "key"), CASES)
def test_prevalence_against_svymean_svyby(design, key, ref):
    frame_name, kwargs = DESIGNS[design]
    data = api_frame(ref, frame_name)
    indicator, _, by = key.partition("_by_")
    out = prevalence(data, indicator, by=by or None, min_cell=0, **kwargs)
    expected = ref[design][key]
    for col in ("estimate", "se", "ci_lower", "ci_upper"):
        assert_close(out[col], expected[col])
    if by:
        assert out["stype"].tolist() == expected["group"]


def test_reference_covers_every_case(ref):
    for design, key in CASES:
        assert key in ref[design], (design, key)


def test_missing_indicator_counted(ref):
    data = api_frame(ref, "apiclus1")
    out = prevalence(data, "sw_na", by="stype", weights="pw", psu="dnum", min_cell=0)
    missing = data.groupby("stype")["sw_na"].apply(lambda s: int(s.isna().sum()))
    assert out["n_missing"].tolist() == missing.tolist()
    assert (out["n"] + out["n_missing"]).tolist() == data.groupby("stype").size().tolist()


def test_wilson_against_prop_test(ref):
    data = api_frame(ref, "apistrat")
    overall = prevalence(data, "sw")
    expected = ref["unweighted"]["apistrat_sw"]
    for col in ("estimate", "ci_lower", "ci_upper"):
        assert_close(overall[col], expected[col])
    assert int(overall.loc[0, "events"]) == expected["events"]
    assert int(overall.loc[0, "n"]) == expected["n"]
    assert overall.loc[0, "se"] == pytest.approx(
        np.sqrt(expected["estimate"] * (1 - expected["estimate"]) / expected["n"])
    )
    by = prevalence(data, "sw", by="stype")
    groups = ref["unweighted"]["apistrat_sw_by_stype"]
    assert by["stype"].tolist() == [g["group"] for g in groups]
    for col in ("estimate", "ci_lower", "ci_upper", "events", "n"):
        assert_close(by[col], [g[col] for g in groups])


# ---------------------------------------------------------------------------------------------
# multi-stage samples: first stage only (tests/reference/survey_multistage_reference.R)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clus2_ref(reference_values) -> dict:
    return reference_values("survey_apiclus2")


def clus2_frame(ref: dict, seed: int = 5) -> pd.DataFrame:
    """The exported two-stage survey::apiclus2 rows (districts, then schools), shuffled."""
    return pd.DataFrame(ref["apiclus2"]).set_index("cds").sample(frac=1, random_state=seed)


FIRST_STAGE = {
    "first": {"weights": "pw", "psu": "dnum", "fpc": "fpc1"},
    "first_nofpc": {"weights": "pw", "psu": "dnum"},
}


@pytest.mark.parametrize("design", FIRST_STAGE)
@pytest.mark.parametrize("key", ["sw", "aw", "sw_by_stype", "aw_by_stype"])
def test_two_stage_sample_by_first_stage_against_svymean(design, key, clus2_ref):
    data = clus2_frame(clus2_ref)
    indicator, _, by = key.partition("_by_")
    out = prevalence(data, indicator, by=by or None, min_cell=0, **FIRST_STAGE[design])
    expected = clus2_ref[design][key]
    for col in ("estimate", "se", "ci_lower", "ci_upper"):
        assert_close(out[col], expected[col])
    if by:
        assert out["stype"].tolist() == expected["group"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"psu": "dnum", "fpc": "fpc2"},  # districts as PSUs, schools' fpc
        {"strata": "stype", "psu": "dnum", "fpc": "fpc2"},
        {"psu": "snum", "fpc": "fpc2"},  # schools as PSUs
        {"fpc": "fpc2"},
        {"psu": "dnum", "fpc": ["fpc1", "fpc2"]},  # R's fpc = ~fpc1 + fpc2
        {"psu": ("dnum", "snum"), "fpc": "fpc1"},  # R's ids = ~dnum + snum
    ],
)
def test_second_stage_refused_naming_multi_stage_and_fix(kwargs, clus2_ref):
    data = clus2_frame(clus2_ref)
    with pytest.raises(DataError, match=r"multi-stage.*first-stage units as psu=.*first-stage fpc"):
        prevalence(data, "sw", weights="pw", min_cell=0, **kwargs)


def test_fpc_counting_second_stage_units_mentions_multi_stage(clus2_ref):
    # every district holding 4 schools: constant, but fewer than the 40 sampled districts
    data = clus2_frame(clus2_ref).assign(n_schools=4.0)
    with pytest.raises(DataError, match="smaller than the number of sampled PSUs.*multi-stage"):
        prevalence(data, "sw", weights="pw", psu="dnum", fpc="n_schools")


# ---------------------------------------------------------------------------------------------
# small cells
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def small() -> pd.DataFrame:
    # site a: 3 events of 40 (small); b: 20 of 50; c: 15 of 30; d: 12 of 25
    rows = []
    for site, n, events in (("a", 40, 3), ("b", 50, 20), ("c", 30, 15), ("d", 25, 12)):
        rows += [(site, 1.0)] * events + [(site, 0.0)] * (n - events)
    frame = pd.DataFrame(rows, columns=["site", "flag"])
    frame.index = [f"y{i:03d}" for i in range(len(frame))][::-1]
    return frame.sample(frac=1, random_state=3)


def test_small_cell_masked_with_complement(small):
    with pytest.warns(SmallCellWarning, match="min_cell=5"):
        out = prevalence(small, "flag", by="site")
    out = out.set_index("site")
    assert out["suppressed"].to_dict() == {"a": True, "b": False, "c": False, "d": True}
    masked = ["events", "estimate", "se", "ci_lower", "ci_upper"]
    assert out.loc[["a", "d"], masked].isna().all().all()
    assert out.loc[["b", "c"], masked].notna().all().all()
    assert out.loc["a", "note"].startswith("masked: fewer than min_cell")
    assert "complementary" in out.loc["d", "note"]
    assert out["n"].tolist() == [40, 50, 30, 25]  # denominators stay visible


def test_small_non_events_masked(small):
    flipped = small.assign(flag=1 - small["flag"])  # site a: 37 events, 3 non-events
    with pytest.warns(SmallCellWarning):
        out = prevalence(flipped, "flag", by="site").set_index("site")
    assert out.loc["a", "suppressed"]


def test_min_cell_zero_disables(small):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = prevalence(small, "flag", by="site", min_cell=0)
    assert not out["suppressed"].any()
    assert out["events"].tolist() == [3, 20, 15, 12]


def test_single_row_masked_without_complement(small):
    with pytest.warns(SmallCellWarning):
        out = prevalence(small[small["site"] == "a"], "flag")
    assert out.loc[0, "suppressed"]
    assert np.isnan(out.loc[0, "estimate"])


def test_zero_events_not_masked(small):
    data = small.assign(flag=np.where(small["site"] == "a", 0.0, small["flag"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = prevalence(data, "flag", by="site").set_index("site")
    assert out.loc["a", "estimate"] == 0
    assert not out["suppressed"].any()


def test_by_two_columns(small):
    data = small.assign(wave=np.arange(len(small)) % 2)
    out = prevalence(data, "flag", by=["site", "wave"], min_cell=0)
    assert list(out.columns[:2]) == ["site", "wave"]
    assert len(out) == 8
    assert out["n"].sum() == len(small)


def test_all_missing_group(small):
    data = small.assign(flag=np.where(small["site"] == "b", np.nan, small["flag"]))
    out = prevalence(data, "flag", by="site", min_cell=0).set_index("site")
    assert out.loc["b", "n"] == 0
    assert out.loc["b", "n_missing"] == 50
    assert np.isnan(out.loc["b", "estimate"])
    assert out.loc["b", "note"] == "no non-missing values"


def test_boolean_indicator(small):
    a = prevalence(small, "flag", min_cell=0)
    b = prevalence(small.assign(flag=small["flag"] == 1), "flag", min_cell=0)
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
def test_lonely_psu_raises(ref):
    data = api_frame(ref, "apistrat")
    data["st"] = data["stype"]
    data.iloc[0, data.columns.get_loc("st")] = "alone"
    with pytest.raises(DataError, match=r"\['alone'\] have only one PSU.*survey.lonely.psu"):
        prevalence(data, "sw", weights="pw", strata="st")


def test_certainty_stratum_allowed(ref):
    data = api_frame(ref, "apistrat")
    data["st"] = data["stype"]
    data.iloc[0, data.columns.get_loc("st")] = "alone"
    data["f"] = data["fpc"].where(data["st"] != "alone", 1.0)
    out = prevalence(data, "sw", weights="pw", strata="st", fpc="f", min_cell=0)
    assert np.isfinite(out.loc[0, "se"])


def test_invalid_indicator_values_named():
    data = pd.DataFrame({"x": [0, 1, 2, 1, 3]}, index=list("vwxyz"))
    with pytest.raises(DataError, match=r"2\.0, 3\.0 at rows 'x', 'z'"):
        prevalence(data, "x")
    with pytest.raises(DataError, match="0/1"):
        prevalence(pd.DataFrame({"x": ["yes", "no"]}), "x")


def test_design_input_errors(ref):
    data = api_frame(ref, "apistrat")
    with pytest.raises(DataError, match="fpc was given without weights"):
        prevalence(data, "sw", strata="stype", fpc="fpc")
    bad = data.assign(pw=data["pw"].where(data["snum"] != data["snum"].iloc[4]))
    with pytest.raises(DataError, match=f"weights column pw has missing.*{data.index[4]!r}"):
        prevalence(bad, "sw", weights="pw")
    with pytest.raises(DataError, match="negative"):
        prevalence(data.assign(pw=-data["pw"]), "sw", weights="pw")
    with pytest.raises(DataError, match="varies within strata"):
        prevalence(
            data.assign(fpc=np.arange(len(data)) + 1000.0),
            "sw",
            weights="pw",
            strata="stype",
            fpc="fpc",
        )
    with pytest.raises(DataError, match="no column"):
        prevalence(data, "sw", weights="nope")
    by_missing = data.assign(stype=data["stype"].where(data.index != data.index[2]))
    with pytest.raises(DataError, match=f"by column stype has missing.*{data.index[2]!r}"):
        prevalence(by_missing, "sw", by="stype")


# ---------------------------------------------------------------------------------------------
# invariants
# ---------------------------------------------------------------------------------------------
flags = st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=3, max_size=60)


@settings(max_examples=60, deadline=None)
@given(flags, st.randoms(use_true_random=False))
def test_permutation_and_weight_scale_invariance(values, rnd):
    data = pd.DataFrame({"y": values, "w": 2.5})
    if data["y"].notna().sum() < 2:
        return
    order = list(range(len(values)))
    rnd.shuffle(order)
    shuffled = data.iloc[order]
    a = prevalence(data, "y", min_cell=0)
    b = prevalence(shuffled, "y", min_cell=0)
    pd.testing.assert_frame_equal(a, b)
    weighted = prevalence(data, "y", weights="w", min_cell=0)
    assert weighted.loc[0, "estimate"] == pytest.approx(a.loc[0, "estimate"])
    n = a.loc[0, "n"]
    rows = len(data)  # rows with a missing value stay in the design (as na.rm = TRUE)
    p = a.loc[0, "estimate"]
    # equal weights, one stratum, no fpc: variance rows / (rows - 1) * p (1 - p) / n
    expected = np.sqrt(rows / (rows - 1) * p * (1 - p) / n)
    assert weighted.loc[0, "se"] == pytest.approx(expected, abs=1e-12)
    again = prevalence(data.assign(w=7.0), "y", weights="w", min_cell=0)
    pd.testing.assert_frame_equal(weighted, again)


COUNTS = ["n", "n_missing", "events", "suppressed", "note"]
ESTIMATES = ["estimate", "se", "ci_lower", "ci_upper"]


def assert_same_results(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal counts and keys; estimates equal up to the order of floating-point sums."""
    pd.testing.assert_frame_equal(a.drop(columns=ESTIMATES), b.drop(columns=ESTIMATES))
    np.testing.assert_allclose(
        a[ESTIMATES].to_numpy(), b[ESTIMATES].to_numpy(), rtol=1e-12, atol=1e-15
    )


def many_domains(n: int = 3000, seed: int = 8) -> pd.DataFrame:
    """60 domains; strata and PSUs of several layouts, missing values, unequal weights."""
    rng = np.random.default_rng(seed)
    domain = rng.integers(0, 60, n)
    y = (rng.random(n) < 0.15 + 0.01 * (domain % 30)).astype(float)
    y[rng.random(n) < 0.08] = np.nan
    nested_stratum = domain * 10 + rng.integers(0, 4, n)  # strata within domains
    region = rng.integers(0, 6, n)  # strata across domains
    cluster = region * 1000 + rng.integers(0, 25, n)  # PSUs across domains, labels unique
    data = pd.DataFrame(
        {
            "y": y,
            "domain": [f"d{g:02d}" for g in domain],
            "w": rng.lognormal(3.0, 0.7, n),
            "nested_stratum": nested_stratum,
            "nested_psu": nested_stratum * 1000 + rng.integers(0, 3, n),
            "region": region,
            "cluster": cluster,
            # the same labels in every region (nest = TRUE), sparse 63-bit ids: hashed
            "cluster_in_region": (cluster % 1000) * 369_000_000_000_000_017,
            "fpc": 60.0 + 10.0 * region,
        },
        index=rng.permutation(n) + 10_000,
    )
    return data


MANY_DOMAIN_DESIGNS = {
    "psu across domains": {"weights": "w", "strata": "region", "psu": "cluster"},
    "labels repeated, fpc": {
        "weights": "w",
        "strata": "region",
        "psu": "cluster_in_region",
        "fpc": "fpc",
    },
    "nested in domains": {"weights": "w", "strata": "nested_stratum", "psu": "nested_psu"},
    "one psu per row": {"weights": "w", "strata": "region"},
    "psu, no strata": {"psu": "cluster"},
}


@pytest.mark.parametrize("design", MANY_DOMAIN_DESIGNS)
def test_many_domains_equal_each_domain_alone(design):
    # each domain on its own: the indicator set missing outside it, no by=, so the library
    # estimates it on the full design through its na.rm handling, as svymean(subset(...))
    data = many_domains()
    kwargs = MANY_DOMAIN_DESIGNS[design]
    together = prevalence(data, "y", by="domain", min_cell=0, **kwargs)
    assert len(together) == 60
    alone = pd.concat(
        [
            prevalence(
                data.assign(y=data["y"].where(data["domain"] == g)), "y", min_cell=0, **kwargs
            ).assign(domain=g)
            for g in together["domain"]
        ],
        ignore_index=True,
    )
    assert together["n"].tolist() == alone["n"].tolist()
    assert together["events"].tolist() == alone["events"].tolist()
    np.testing.assert_allclose(
        together[ESTIMATES].to_numpy(), alone[ESTIMATES].to_numpy(), rtol=1e-12, atol=1e-15
    )
    assert np.isfinite(together["se"]).all() and (together["se"] > 0).all()


@st.composite
def _designs(draw):
    n = draw(st.integers(4, 40))
    rows = st.tuples(
        st.sampled_from([0.0, 1.0, np.nan]),
        st.integers(0, 3),  # group
        st.integers(0, 2),  # stratum
        st.integers(0, 3),  # PSU label, nested in stratum
        st.floats(0.5, 5.0),
    )
    values = draw(st.lists(rows, min_size=n, max_size=n))
    data = pd.DataFrame(values, columns=["y", "g", "h", "psu", "w"])
    # two PSUs in every stratum, so no stratum is lonely
    extra = pd.DataFrame(
        [(draw(st.sampled_from([0.0, 1.0])), 0, h, k, 1.0) for h in range(3) for k in (0, 1)],
        columns=data.columns,
    )
    data = pd.concat([data, extra], ignore_index=True)
    data["g"] = data["g"].map({0: "a", 1: "b", 2: "c", 3: "d"})
    data["fpc"] = data.groupby("h")["psu"].transform("nunique") * 3.0
    kwargs = draw(
        st.sampled_from(
            [
                {"weights": "w", "strata": "h", "psu": "psu"},
                {"weights": "w", "strata": "h", "psu": "psu", "fpc": "fpc"},
                {"weights": "w", "psu": "psu"},
                {"weights": "w", "strata": "h"},
                {"weights": "w"},
                {},
            ]
        )
    )
    by = draw(st.sampled_from([None, "g", ["g", "h"]]))
    return data, kwargs, by


@settings(max_examples=60, deadline=None)
@given(_designs(), st.randoms(use_true_random=False), st.sampled_from([0, 3]))
def test_permuting_rows_leaves_results_unchanged(design, rnd, min_cell):
    data, kwargs, by = design
    order = list(range(len(data)))
    rnd.shuffle(order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCellWarning)
        a = prevalence(data, "y", by=by, min_cell=min_cell, **kwargs)
        b = prevalence(data.iloc[order], "y", by=by, min_cell=min_cell, **kwargs)
    assert_same_results(a, b)


# --------------------------------------------------------------------------- distribution


def _bands(seed=3, n=120):
    rng = np.random.default_rng(seed)
    cats = ["0", "1", "2-3", "4+"]
    values = rng.choice(cats, size=n, p=[0.5, 0.3, 0.17, 0.03])
    frame = pd.DataFrame(
        {"band": pd.Categorical(values, categories=cats), "site": rng.choice(["A", "B"], size=n)},
        index=[f"y{i:03d}" for i in rng.permutation(n)],
    )
    frame.loc[frame.index[:4], "band"] = np.nan
    return frame


def test_distribution_rows_equal_prevalence_of_each_category():
    from tim_research.stats.prevalence import distribution

    frame = _bands()
    table = distribution(frame, "band", min_cell=0)
    assert list(table["category"]) == ["0", "1", "2-3", "4+"]
    assert table["estimate"].sum() == pytest.approx(1.0)
    for _, row in table.iterrows():
        ind = (frame["band"] == row["category"]).astype(float).where(frame["band"].notna())
        ref = prevalence(pd.DataFrame({"x": ind}), "x", min_cell=0).iloc[0]
        assert row["n"] == ref["n"] and row["n_missing"] == 4
        assert row["count"] == ref["events"]
        assert (row["estimate"], row["ci_lower"], row["ci_upper"]) == pytest.approx(
            (ref["estimate"], ref["ci_lower"], ref["ci_upper"])
        )


def test_distribution_suppresses_small_categories_and_a_complement():
    from tim_research.stats.prevalence import distribution

    frame = _bands()
    with pytest.warns(SmallCellWarning, match="distribution of band"):
        table = distribution(frame, "band", by="site", min_cell=5)
    for _, group in table.groupby("site"):
        counts = group["count"]
        hidden = group["suppressed"]
        assert hidden.sum() != 1, "a lone masked category could be recovered from n"
        shown = counts[~hidden]
        assert ((shown == 0) | (shown >= 5)).all()
        assert group.loc[hidden, ["estimate", "ci_lower", "ci_upper"]].isna().all().all()


def test_wilson_bounds_are_exact_at_zero_and_all_events():
    d = pd.DataFrame({"none": [0.0] * 37, "all": [1.0] * 37})
    none = prevalence(d, "none", min_cell=0).iloc[0]
    every = prevalence(d, "all", min_cell=0).iloc[0]
    assert none["ci_lower"] == 0.0 and none["estimate"] == 0.0
    assert every["ci_upper"] == 1.0 and every["estimate"] == 1.0


# --------------------------------------------------------------------------------------------
# complementary suppression: nothing hidden can be worked out from the shown rows and totals
# --------------------------------------------------------------------------------------------
def _groups_frame(events, sizes) -> pd.DataFrame:
    rows = [
        (f"g{k}", 1.0 if i < e else 0.0)
        for k, (e, n) in enumerate(zip(events, sizes, strict=True))
        for i in range(n)
    ]
    return pd.DataFrame(rows, columns=["group", "y"])


def test_two_small_groups_are_not_given_away_by_the_total(hidden_ranges):
    events, sizes = [1, 1, 30, 40], [21, 21, 50, 60]
    counts = np.column_stack([events, np.subtract(sizes, events)])
    # the old rule hid only the two small groups: total - 30 - 40 = 2 gave both away,
    # which the range check detects
    old = np.zeros_like(counts, dtype=bool)
    old[:2] = True
    old_ranges = hidden_ranges(counts, old, nonzero_known=True)
    assert all(lo == hi for lo, hi in old_ranges.values())

    with pytest.warns(SmallCellWarning):
        out = prevalence(_groups_frame(events, sizes), "y", by="group")
    hidden = out["suppressed"].to_numpy()
    assert hidden[:2].all() and hidden.sum() >= 3
    assert out["n"].tolist() == sizes  # group sizes stay shown
    assert out.loc[hidden, ["events", "estimate"]].isna().all().all()
    ranges = hidden_ranges(counts, np.repeat(hidden[:, None], 2, axis=1), nonzero_known=True)
    for lo, hi in ranges.values():
        assert lo < hi
    # a small group's events could be anything from 1 to at least min_cell
    for g in (0, 1):
        lo, hi = ranges[(g, 0)]
        assert lo == 1 and hi >= 5


def test_group_means_do_not_give_two_small_groups_away(hidden_ranges):
    sizes = [1, 1, 30, 40]
    d = pd.DataFrame(
        {"g": np.repeat(["a", "b", "c", "d"], sizes), "y": np.arange(float(sum(sizes)))}
    )
    out = group_means(d, value="y", by="g")
    hidden = out["suppressed"].to_numpy()
    assert hidden[:2].all() and hidden.sum() >= 3
    assert out.loc[hidden, ["n", "n_missing", "mean"]].isna().all().all()
    # what a reader has: the shown n and the overall n (group_means without by=)
    overall = group_means(d, value="y")
    assert overall["n"].iloc[0] == sum(sizes)
    for lo, hi in hidden_ranges(sizes, hidden, nonzero_known=True).values():
        assert lo < hi
    assert sum(np.asarray(sizes)[hidden]) >= 2 * 5 - 2 + 2


@st.composite
def _small_groups(draw):
    k = draw(st.integers(2, 5))
    sizes = draw(st.lists(st.integers(0, 14), min_size=k, max_size=k))
    events = [draw(st.integers(0, n)) for n in sizes]
    return events, sizes


@settings(max_examples=150, deadline=None)
@given(_small_groups(), st.sampled_from([3, 5]))
def test_masked_groups_cannot_be_derived_from_shown_rows_and_overall(
    hidden_ranges, groups, min_cell
):
    events, sizes = groups
    data = _groups_frame(events, sizes)
    if data.empty:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCellWarning)
        out = prevalence(data, "y", by="group", min_cell=min_cell)
    present = [n > 0 for n in sizes]  # groups without rows do not appear
    ev = np.asarray(events)[present]
    n = np.asarray(sizes)[present]
    hidden = out["suppressed"].to_numpy()
    small = ((ev > 0) & (ev < min_cell)) | ((n - ev > 0) & (n - ev < min_cell))
    assert (hidden | ~small).all(), "a small count is shown"
    if len(n) > 1:
        assert hidden.sum() != 1, "a lone masked group is the overall minus the others"
    counts = np.column_stack([ev, n - ev])
    # when nobody (or everybody) had the event the overall row itself tells every group's
    # events; no cell suppression can hide that (zeros are shown by default)
    if hidden.any() and len(n) > 1 and 0 < ev.sum() < n.sum():
        # exactly derivable = fixed by the shown rows, each group's n and the overall row
        for (g, _), (lo, hi) in hidden_ranges(counts, np.repeat(hidden[:, None], 2, 1)).items():
            assert lo < hi, (g, lo, hi)


# ----------------------------------------------------------------------------- ACE x PCE grid


def _ace_pce_frame(seed: int = 7, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ace = pd.Categorical(
        rng.choice(["0", "1", "2", "3", "4+"], n), categories=["0", "1", "2", "3", "4+"]
    )
    pce = pd.Categorical(
        rng.choice(["0-2", "6-7"], n), categories=["0-2", "3-5", "6-7"], ordered=True
    )
    y = rng.binomial(1, 0.3, n).astype(float)
    y[:7] = np.nan
    return pd.DataFrame({"ace": ace, "pce": pce, "poor_mh": y})


def test_prevalence_grid_cells_against_crosstab_and_wilson():
    from statsmodels.stats.proportion import proportion_confint

    from tim_research.stats.prevalence import prevalence_grid

    d = _ace_pce_frame()
    out = prevalence_grid(d, "poor_mh", rows="ace", columns="pce", min_cell=0)
    # the full grid in band order, rows varying slowest; "3-5" is empty but listed
    assert out[["ace", "pce"]].astype(str).values.tolist() == [
        [a, p] for a in ["0", "1", "2", "3", "4+"] for p in ["0-2", "3-5", "6-7"]
    ]
    ok = d.dropna(subset=["poor_mh"])
    n = pd.crosstab(ok["ace"], ok["pce"], dropna=False)
    events = pd.crosstab(ok["ace"], ok["pce"], values=ok["poor_mh"], aggfunc="sum", dropna=False)
    for row in out.itertuples():
        cell_n = int(n.loc[row.ace, row.pce]) if row.pce in n.columns else 0
        assert row.n == cell_n
        if cell_n == 0:
            assert row.events == 0 and np.isnan(row.estimate) and not row.suppressed
            assert row.note == "no non-missing values"
            continue
        k = float(events.loc[row.ace, row.pce])
        lo, hi = proportion_confint(k, cell_n, alpha=0.05, method="wilson")
        assert (row.events, row.estimate) == (k, pytest.approx(k / cell_n))
        assert (row.ci_lower, row.ci_upper) == (pytest.approx(lo), pytest.approx(hi))
    assert out["n_missing"].sum() == 7


def test_prevalence_grid_masks_small_cells_and_a_complement():
    from tim_research.stats.prevalence import prevalence_grid

    d = _ace_pce_frame()
    # make one cell small: 2 events among the 4+ / 6-7 people
    cell = (d["ace"] == "4+") & (d["pce"] == "6-7") & d["poor_mh"].notna()
    d.loc[cell, "poor_mh"] = 0.0
    d.loc[d.index[cell][:2], "poor_mh"] = 1.0
    with pytest.warns(SmallCellWarning):
        out = prevalence_grid(d, "poor_mh", rows="ace", columns="pce")
    small = out[(out["ace"] == "4+") & (out["pce"] == "6-7")].iloc[0]
    assert small["suppressed"] and np.isnan(small["events"]) and np.isnan(small["estimate"])
    # with every cell's n and the overall number of events known, one masked cell would be
    # the overall count minus the shown ones: a second cell is masked as its complement
    masked = out[out["suppressed"]]
    assert len(masked) >= 2
    assert (
        masked["note"] == "masked to protect a small cell in another group "
        "(complementary suppression)"
    ).sum() >= 1


def test_prevalence_grid_takes_the_bands_that_score_returns():
    from tim_research import score
    from tim_research.stats.prevalence import prevalence_grid

    rng = np.random.default_rng(3)
    n = 60
    items = pd.DataFrame(
        {f"ace10_{k}": rng.integers(0, 2, n) for k in range(1, 11)}
        | {f"pce_{k}": rng.integers(1, 6, n) for k in range(1, 8)}
    )
    bands = score(items, ["ace10", "pce"])
    bands["outcome"] = rng.integers(0, 2, n)
    out = prevalence_grid(
        bands, "outcome", rows="ace10_score_category", columns="pce_score_category", min_cell=0
    )
    assert len(out) == 5 * 3 and out["n"].sum() == n


def test_prevalence_grid_refuses_missing_bands_and_one_column_twice():
    from tim_research.stats.prevalence import prevalence_grid

    d = _ace_pce_frame()
    with pytest.raises(DataError, match="two different columns"):
        prevalence_grid(d, "poor_mh", rows="ace", columns="ace")
    d.loc[3, "pce"] = np.nan
    with pytest.raises(DataError, match="by column pce has missing values"):
        prevalence_grid(d, "poor_mh", rows="ace", columns="pce")
    with pytest.raises(DataError, match=r"no column\(s\) \['nope'\]"):
        prevalence_grid(d, "poor_mh", rows="ace", columns="nope")
