"""Tests of tim_research.stats.measurement.

Statistics are checked against psych::alpha / psych::omega through the committed values of
tests/reference/values/psych_alpha_bfi.json (tests/reference/psych_lme4_reference.R): the bfi
scales are declared here as an instrument file, so the test exercises the path from instrument
keys to the computation. Keys of the shipped instruments come from their published scoring
rules (BRS items 2, 4, 6 reversed: Smith et al. 2008; ProQOL burnout items 1, 4, 15, 17, 29:
the ProQOL 5 score sheet).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tim_research import load_instrument, plots, synth
from tim_research.errors import DataError
from tim_research.stats.measurement import (
    PUBLISHED_COLUMNS,
    band_distribution,
    instrument_item_correlations,
    instrument_item_statistics,
    instrument_reliability,
    published_reliability,
    reliability_table,
)
from tim_research.stats.prevalence import distribution
from tim_research.stats.psychometrics import reliability
from tim_research.views.tables import item_responses

BFI_REVERSED = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]


@pytest.fixture(scope="module")
def bfi_instrument(tmp_path_factory):
    """The bfi scales of psych as an instrument file (keys as psych's bfi.keys)."""
    lines = [
        'id = "bfi"',
        'name = "bfi (psych)"',
        'version = "psych 2.2.9"',
        'citation = "Revelle W. psych: bfi data (SAPA project)."',
        'licence = "GPL (>= 2)"',
        "item_text_shipped = false",
        'response_set = "six"',
        f"reverse_keyed = {BFI_REVERSED!r}".replace("'", '"'),
        "[response_sets.six]",
        "codes = [1, 2, 3, 4, 5, 6]",
        'labels = ["1", "2", "3", "4", "5", "6"]',
    ]
    for s in "ACENO":
        for i in range(1, 6):
            lines += ["[[items]]", f'id = "{s}{i}"', f'label = "item {s}{i}"']
    for s in "ACENO":
        items = ", ".join(f'"{s}{i}"' for i in range(1, 6))
        lines += [
            "[[scales]]",
            f'id = "{s}"',
            'method = "mean"',
            f"items = [{items}]",
            "min_answered = 1",
        ]
    path = tmp_path_factory.mktemp("inst") / "bfi.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_instrument(path)


@pytest.fixture(scope="module")
def bfi(read_external):
    data = read_external("psych_bfi.csv").set_index("row_id")
    order = np.random.default_rng(11).permutation(len(data))
    return data.iloc[order]  # shuffled, non-default index


@pytest.fixture(scope="module")
def program():
    return synth.program(n_youth=120, seed=5)


# ------------------------------------------------------------------------------------------------
# against psych
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", list("ACENO"))
def test_instrument_reliability_against_psych(scale, bfi, bfi_instrument, reference_values):
    ref = reference_values("psych_alpha_bfi")["scales"][scale]
    rel = instrument_reliability(bfi, bfi_instrument, scale=scale)
    assert list(rel.reversed_items) == ref["reversed"]
    assert (rel.k, rel.n) == (5, ref["n_any"])
    assert rel.alpha == pytest.approx(ref["raw_alpha"], rel=1e-9)
    assert rel.std_alpha == pytest.approx(ref["std_alpha"], rel=1e-9)
    assert rel.average_r == pytest.approx(ref["average_r"], rel=1e-9)
    assert rel.alpha_ci == pytest.approx((ref["feldt_lower"], ref["feldt_upper"]), rel=1e-9)
    assert rel.omega_total == pytest.approx(ref["omega_tot"], abs=2e-6)


@pytest.mark.parametrize("scale", list("ACENO"))
def test_instrument_item_statistics_against_psych(scale, bfi, bfi_instrument, reference_values):
    ref = reference_values("psych_alpha_bfi")["scales"][scale]
    table = instrument_item_statistics(bfi, bfi_instrument, scales=scale).xs(f"bfi_{scale}")
    assert list(table.index) == ref["items"]
    assert [i for i in table.index if table.loc[i, "reversed"]] == ref["reversed"]
    np.testing.assert_array_equal(table["n"], ref["item_n"])
    for col, key in [
        ("mean", "item_mean"),
        ("sd", "item_sd"),
        ("r_drop", "item_r_drop"),
        ("alpha_if_deleted", "alpha_if_deleted"),
    ]:
        np.testing.assert_allclose(table[col], ref[key], rtol=1e-9)
    np.testing.assert_allclose(table["scale_alpha"], ref["raw_alpha"], rtol=1e-9)
    np.testing.assert_array_equal(table["low_r_drop"], np.array(ref["item_r_drop"]) < 0.3)
    np.testing.assert_array_equal(
        table["raises_alpha"], np.array(ref["alpha_if_deleted"]) > ref["raw_alpha"]
    )


# ------------------------------------------------------------------------------------------------
# keys and ranges come from the instrument file
# ------------------------------------------------------------------------------------------------
def _brs_answers(n: int = 60, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=n)
    cols = {}
    for j in range(1, 7):
        x = np.clip(np.round(3 + trait + rng.normal(scale=0.8, size=n)), 1, 5)
        cols[f"brs_{j}"] = 6 - x if j in (2, 4, 6) else x  # negatively worded items stored raw
    d = pd.DataFrame(cols, index=[f"y{i:03d}" for i in rng.permutation(n)]).astype("Int64")
    d.iloc[3, 1] = pd.NA
    return d


def test_brs_keys_are_items_2_4_6_and_reversal_matches_manual_keying():
    d = _brs_answers()
    keyed = instrument_reliability(d, "brs")
    assert keyed.reversed_items == ("brs_2", "brs_4", "brs_6")
    manual = d.astype("float64")
    for c in ("brs_2", "brs_4", "brs_6"):
        manual[c] = 6 - manual[c]
    expected = reliability(manual)
    assert keyed.alpha == pytest.approx(expected.alpha, rel=1e-12)
    flipped = instrument_reliability(manual, "brs", reverse_keyed=False)
    assert flipped.alpha == pytest.approx(keyed.alpha, rel=1e-12)
    assert flipped.reversed_items == ()


def test_unreversed_brs_items_correlate_negatively():
    d = _brs_answers()
    raw = instrument_item_correlations(d, "brs", reverse_keyed=False)
    keyed = instrument_item_correlations(d, "brs")
    assert list(raw.index) == list(load_instrument("brs").item_ids)
    assert (raw.loc[["brs_2", "brs_4", "brs_6"], ["brs_1", "brs_3", "brs_5"]] < 0).all().all()
    assert (keyed.to_numpy() > 0).all()
    np.testing.assert_allclose(raw.loc["brs_1", "brs_2"], -keyed.loc["brs_1", "brs_2"], rtol=1e-12)
    assert instrument_reliability(d, "brs", reverse_keyed=False).alpha < 0


def test_proqol_burnout_reverses_its_five_items(program):
    mentors = item_responses(program, "proqol5")
    rel = instrument_reliability(mentors, "proqol5", scale="proqol5_burnout")
    assert rel.reversed_items == (
        "proqol5_1",
        "proqol5_4",
        "proqol5_15",
        "proqol5_17",
        "proqol5_29",
    )
    assert rel.k == 10


@settings(max_examples=20, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_does_not_change_reliability(rnd):
    d = _brs_answers(n=40, seed=9)
    order = list(d.index)
    rnd.shuffle(order)
    a = instrument_reliability(d, "brs")
    b = instrument_reliability(d.loc[order], "brs")
    assert b.alpha == pytest.approx(a.alpha, rel=1e-12)
    assert b.n == a.n


# ------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------
def test_invalid_codes_are_reported_with_item_values_and_rows():
    d = _brs_answers()
    d.loc["y010", "brs_3"] = 9
    d.loc["y020", "brs_3"] = 0
    d.loc["y030", "brs_3"] = 9
    with pytest.raises(
        DataError,
        match=r"brs item brs_3 has values outside its codes "
        r"\[1, 2, 3, 4, 5\]: 0 \(row 'y020'\), 9 \(rows 'y0[13]0', 'y0[13]0'\);",
    ):
        instrument_reliability(d, "brs")


def test_other_input_errors(program):
    d = _brs_answers()
    with pytest.raises(DataError, match="lacks the brs item column"):
        instrument_reliability(d.drop(columns="brs_5"), "brs")
    with pytest.raises(DataError, match="numeric response codes"):
        instrument_reliability(d.astype(str), "brs")
    mentors = item_responses(program, "proqol5")
    with pytest.raises(DataError, match="several scales"):
        instrument_reliability(mentors, "proqol5")
    with pytest.raises(DataError, match="no scale 'total'"):
        instrument_reliability(mentors, "proqol5", scale="total")
    with pytest.raises(DataError, match="DataFrame"):
        instrument_reliability(d.to_numpy(), "brs")


# ------------------------------------------------------------------------------------------------
# item responses from a program
# ------------------------------------------------------------------------------------------------
def test_item_responses_takes_completed_surveys_of_one_wave(program):
    youth = item_responses(program, ["brs", "cyrm_r"])
    s = program.surveys
    done = s[(s["wave"].astype(str) == "baseline") & (s["status"] == "completed")]
    assert youth.index.name == "youth_id"
    assert list(youth.index) == list(done["youth_id"])
    assert list(youth.columns) == [
        *load_instrument("brs").item_ids,
        *load_instrument("cyrm_r").item_ids,
    ]
    later = item_responses(program, "brs", wave="12m")
    assert len(later) == int(
        ((s["wave"].astype(str) == "12m") & (s["status"] == "completed")).sum()
    )
    mentors = item_responses(program, ["proqol5", "stss"])
    assert mentors.index.name == "mentor_id" and mentors.shape[1] == 47


def test_item_responses_errors(program):
    with pytest.raises(DataError, match="not all in one survey table"):
        item_responses(program, ["brs", "stss"])
    with pytest.raises(DataError, match="wave 'week 3'"):
        item_responses(program, "brs", wave="week 3")
    with pytest.raises(DataError, match="empty"):
        item_responses(program, [])


# ------------------------------------------------------------------------------------------------
# reliability table and published values
# ------------------------------------------------------------------------------------------------
def test_reliability_table_has_every_item_scale_and_its_published_value(program):
    youth = item_responses(program, ["brs", "cyrm_r"])
    table = reliability_table(youth, ["brs", "cyrm_r"])
    assert list(table.index) == ["brs_score", "cyrm_r_score", "cyrm_r_personal", "cyrm_r_caregiver"]
    rel = instrument_reliability(youth, "cyrm_r", scale="personal")
    assert table.loc["cyrm_r_personal", "alpha"] == rel.alpha
    assert table.loc["cyrm_r_personal", "alpha_ci_upper"] == rel.alpha_ci[1]
    pub = published_reliability("cyrm_r").set_index("scale")
    assert table.loc["cyrm_r_personal", "published_alpha"] == pub.loc["personal", "value"]
    assert (
        table.loc["brs_score", "published_low"] == published_reliability("brs").loc[0, "value_low"]
    )
    assert np.isnan(table.loc["cyrm_r_caregiver", "published_alpha"])
    assert table.loc["cyrm_r_caregiver", "published_ref"] == ""
    assert table.loc["brs_score", "reversed_items"] == "brs_2, brs_4, brs_6"


def test_published_values_are_complete_and_name_their_source():
    pub = published_reliability()
    assert tuple(pub.columns) == PUBLISHED_COLUMNS
    assert not pub.duplicated(["instrument", "scale", "statistic"]).any()
    assert set(pub["statistic"]) == {"alpha"}
    assert set(pub["source_type"]) <= {"primary", "secondary"}
    for row in pub.itertuples():
        inst = load_instrument(row.instrument)
        assert row.scale in {s.id for s in inst.scales if s.items}, row
        has_value = not pd.isna(row.value)
        has_range = not pd.isna(row.value_low) and not pd.isna(row.value_high)
        assert has_value != has_range, row
        for v in (row.value, row.value_low, row.value_high):
            assert pd.isna(v) or 0 < v < 1
        if has_range:
            assert row.value_low < row.value_high
        assert row.citation and row.location and row.seen_in and row.short_ref and row.sample
    with pytest.raises(DataError, match="no published reliability for instrument 'ace10'"):
        published_reliability("ace10")


def test_plot_reliability_draws_published_values_where_they_exist():
    t = pd.DataFrame(
        {
            "alpha": [0.8, 0.7, 0.6],
            "alpha_ci_lower": [0.75, 0.6, 0.5],
            "alpha_ci_upper": [0.85, 0.8, 0.7],
            "published_alpha": [0.82, np.nan, np.nan],
            "published_low": [np.nan, 0.65, np.nan],
            "published_high": [np.nan, 0.9, np.nan],
        },
        index=pd.Index(["a", "b", "c"], name="scale"),
    )
    fig = plots.reliability(t, threshold=None)
    ax = fig.axes[0]
    assert [tick.get_text() for tick in ax.get_yticklabels()] == ["a", "b", "c"]
    diamonds = [ln for ln in ax.get_lines() if ln.get_marker() == "D"]
    assert len(diamonds) == 1
    np.testing.assert_allclose(diamonds[0].get_xdata(), [0.82])
    np.testing.assert_allclose(diamonds[0].get_ydata(), [2])  # first row is drawn at the top
    ranges = [c for c in ax.collections if c.get_label() == "published range"]
    assert len(ranges) == 1
    np.testing.assert_allclose(ranges[0].get_segments()[0], [[0.65, 1], [0.9, 1]])
    with pytest.raises(DataError, match="published_alpha"):
        plots.reliability(t.drop(columns="published_alpha"))


# ------------------------------------------------------------------------------------------------
# bands
# ------------------------------------------------------------------------------------------------
def test_band_distribution_stacks_distributions_and_keeps_suppression():
    cats = ["low", "moderate", "high"]
    d = pd.DataFrame(
        {
            "a": pd.Categorical(["low"] * 20 + ["moderate"] * 8 + ["high"] * 2, categories=cats),
            "b": pd.Categorical(["moderate"] * 25 + ["low"] * 5, categories=cats),
        },
        index=[f"m{i}" for i in np.random.default_rng(1).permutation(30)],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = band_distribution(d, {"b": "Bee", "a": "Ay"}, min_cell=5)
        expected = distribution(d, "a", min_cell=5)
    assert list(table["scale"]) == ["Bee"] * 3 + ["Ay"] * 3
    part = table[table["scale"] == "Ay"].drop(columns="scale").reset_index(drop=True)
    pd.testing.assert_frame_equal(part, expected)
    assert part["suppressed"].tolist() == [False, True, True]
    assert band_distribution(d, ["a"], min_cell=0)["scale"].tolist() == ["a"] * 3
    with pytest.raises(DataError, match="empty"):
        band_distribution(d, [])
