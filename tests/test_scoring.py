"""The scoring engine: reference scores from R, every error path, and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_VALUES
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from tim_research import list_instruments, load_instrument, score
from tim_research.errors import (
    DataError,
    InstrumentError,
    InvalidResponseError,
    InvalidResponseWarning,
    ProratedScoreWarning,
)

BRFSS_COLUMNS = dict(
    zip(
        [f"brfss_ace_{i}" for i in range(1, 12)],
        "ACEDEPRS ACEDRINK ACEDRUGS ACEPRISN ACEDIVRC ACEPUNCH ACEHURT1 ACESWEAR ACETOUCH "
        "ACETTHEM ACEHVSEX".split(),
    )
)
R_SCORED = ["brs", "ace10", "stss", "pcl5", "cyrm_r_5pt", "cyrm_r_3pt", "proqol5"]


def _reference_pair(instrument_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Input items and expected scores written by tests/reference/scoring_reference.R."""
    items = pd.read_csv(REFERENCE_VALUES / f"scoring_{instrument_id}_input.csv", index_col="row_id")
    expected = pd.read_csv(
        REFERENCE_VALUES / f"scoring_{instrument_id}_expected.csv", index_col="row_id"
    )
    return items, expected


def _assert_matches(result: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(result.index) == list(expected.index)
    for col in expected.columns:
        got = result[col]
        if col.endswith("_category"):
            pd.testing.assert_series_equal(
                got.astype(object).where(got.notna(), None),
                expected[col].astype(object).where(expected[col].notna(), None),
                check_names=False,
            )
        else:
            np.testing.assert_allclose(
                got.to_numpy(float), expected[col].to_numpy(float), rtol=1e-12, err_msg=col
            )


# --------------------------------------------------------------------------- against R


@pytest.mark.parametrize("instrument_id", R_SCORED)
def test_scores_against_independent_R_implementation(instrument_id):
    # Source: tests/reference/scoring_reference.R implements each published rule in base R.
    items, expected = _reference_pair(instrument_id)
    options = {"response_format": "3-point"} if instrument_id == "cyrm_r_3pt" else None
    instrument = instrument_id.removesuffix("_5pt").removesuffix("_3pt")
    prorates = any(s.prorate for s in load_instrument(instrument).scales)
    with pytest.warns(ProratedScoreWarning) if prorates else _no_warning():
        result = score(items, instrument, options=options)
    _assert_matches(result, expected)


class _no_warning:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


@pytest.fixture(scope="module")
def brfss(read_external):
    return read_external("brfss2022_ace_12states.csv")


def test_brfss_ace_rowwise_against_R_on_real_extract(brfss):
    # Source: scoring_reference.R, CDC 8-category rules on the BRFSS 2022 extract (79,571 rows).
    expected = pd.read_csv(REFERENCE_VALUES / "scoring_brfss_ace_expected.csv", index_col="row")
    result = score(brfss, "brfss_ace", columns=BRFSS_COLUMNS)
    assert len(result) == len(brfss) == len(expected)
    for col in expected.columns:
        np.testing.assert_array_equal(result[col].to_numpy(float), expected[col].to_numpy(float))


@pytest.mark.parametrize("variant", ["default", "more_than_once", "not_married_missing"])
def test_brfss_ace_distribution_against_R_per_option(brfss, reference_values, variant):
    ref = reference_values("scoring_meta")["brfss_distribution"][variant]
    result = score(brfss, "brfss_ace", columns=BRFSS_COLUMNS, options=ref["options"])
    s = result["brfss_ace_score"].dropna()
    assert len(s) == ref["n_complete"]
    pct = s.clip(upper=4).value_counts(normalize=True).reindex(range(5), fill_value=0) * 100
    np.testing.assert_allclose(pct.to_numpy(), ref["percent_0_1_2_3_4plus"], rtol=1e-12)
    assert s.mean() == pytest.approx(ref["mean_score"], rel=1e-12)


def test_brfss_dont_know_and_refused_are_unanswered_never_no():
    row = {f"brfss_ace_{i}": 2 for i in range(1, 6)} | {f"brfss_ace_{i}": 1 for i in range(6, 12)}
    data = pd.DataFrame(
        [row, row | {"brfss_ace_1": 7}, row | {"brfss_ace_9": 9}], index=["a", "b", "c"]
    )
    out = score(data, "brfss_ace")
    assert out.loc["a", "brfss_ace_score"] == 0
    assert np.isnan(out.loc["b", "brfss_ace_score"])
    assert np.isnan(out.loc["b", "brfss_ace_household_mental_illness"])
    assert np.isnan(out.loc["c", "brfss_ace_sexual_abuse"])  # never on 10, 11; 9 refused
    assert out["brfss_ace_n_answered"].tolist() == [11, 10, 10]


def test_brfss_any_rule_positive_answer_counts_even_if_other_item_missing():
    row = {f"brfss_ace_{i}": 2 for i in range(1, 6)} | {f"brfss_ace_{i}": 1 for i in range(6, 12)}
    data = pd.DataFrame([row | {"brfss_ace_9": 9, "brfss_ace_11": 3}], index=["x"])
    assert score(data, "brfss_ace").loc["x", "brfss_ace_sexual_abuse"] == 1


@pytest.mark.parametrize(
    ("choice", "once", "more"), [("once_or_more", 1, 1), ("more_than_once", 0, 1)]
)
def test_brfss_emotional_abuse_option(choice, once, more):
    base = {f"brfss_ace_{i}": 2 for i in range(1, 6)} | {f"brfss_ace_{i}": 1 for i in range(6, 12)}
    data = pd.DataFrame([base | {"brfss_ace_8": 2}, base | {"brfss_ace_8": 3}], index=[5, 9])
    out = score(data, "brfss_ace", options={"emotional_abuse": choice})
    assert out["brfss_ace_emotional_abuse"].tolist() == [once, more]


def test_brfss_parents_not_married_option():
    base = {f"brfss_ace_{i}": 2 for i in range(1, 6)} | {f"brfss_ace_{i}": 1 for i in range(6, 12)}
    data = pd.DataFrame([base | {"brfss_ace_5": 8}], index=["p"])
    assert score(data, "brfss_ace").loc["p", "brfss_ace_parental_separation"] == 0
    out = score(data, "brfss_ace", options={"parents_not_married": "missing"})
    assert np.isnan(out.loc["p", "brfss_ace_score"])


# --------------------------------------------------------------------------- rules and cut-offs


def _brs_rows(values_by_row: dict[str, list[int]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(
        values_by_row, orient="index", columns=[f"brs_{i}" for i in range(1, 7)]
    )


def test_brs_cutoff_boundaries_on_unrounded_mean():
    # Smith et al. 2013 p. 177: low 1.00-2.99, normal 3.00-4.30, high 4.31-5.00.
    # Raw items (2, 4, 6 reversed) chosen so the means are 17/6, 3.0, 25/6, 26/6.
    data = _brs_rows(
        {
            "m2.83": [3, 3, 3, 3, 2, 3],  # 3+3+3+3+2+3 = 17
            "m3.00": [3, 3, 3, 3, 3, 3],  # 18
            "m4.17": [5, 2, 4, 2, 4, 2],  # 5+4+4+4+4+4 = 25
            "m4.33": [5, 2, 4, 2, 4, 1],  # 5+4+4+4+4+5 = 26
        }
    )
    out = score(data, "brs")
    assert out["brs_score"].tolist() == pytest.approx([17 / 6, 3.0, 25 / 6, 26 / 6])
    assert out["brs_score_category"].astype(str).tolist() == ["low", "normal", "normal", "high"]


def test_brs_reverse_keying_of_items_2_4_6():
    # All "strongly agree" (5): items 1, 3, 5 score 5, reversed items 2, 4, 6 score 1: mean 3.
    out = score(_brs_rows({"a": [5] * 6, "b": [5, 1, 5, 1, 5, 1]}), "brs")
    assert out["brs_score"].tolist() == [3.0, 5.0]


def test_brs_missing_rule_needs_five_of_six():
    out = score(_brs_rows({"five": [5, 1, 5, 1, 5, None], "four": [5, 1, 5, 1, None, None]}), "brs")
    assert out.loc["five", "brs_score"] == 5.0
    assert np.isnan(out.loc["four", "brs_score"])
    assert out["brs_n_answered"].tolist() == [5, 4]


def test_ace10_category_sets():
    data = pd.DataFrame(
        [[1] * k + [0] * (10 - k) for k in range(11)],
        columns=[f"ace10_{i}" for i in range(1, 11)],
        index=[f"k{k}" for k in range(11)],
    )
    default = score(data, "ace10")["ace10_score_category"].astype(str).tolist()
    assert default == ["0", "1", "2", "3"] + ["4+"] * 7
    alt = score(data, "ace10", cutoffs={"ace10_score": "cdc_2019"})["ace10_score_category"]
    assert alt.astype(str).tolist() == ["0", "1", "2-3", "2-3"] + ["4+"] * 7
    assert list(alt.cat.categories) == ["0", "1", "2-3", "4+"]


def test_ace10_accepts_yes_no_labels_and_booleans():
    labels = pd.DataFrame({f"ace10_{i}": ["Yes", " no "] for i in range(1, 11)}, index=[3, 1])
    bools = pd.DataFrame({f"ace10_{i}": [True, False] for i in range(1, 11)}, index=[3, 1])
    assert score(labels, "ace10")["ace10_score"].tolist() == [10, 0]
    assert score(bools, "ace10")["ace10_score"].tolist() == [10, 0]


def test_prorating_warns_and_scales_the_sum():
    items = {f"stss_{i}": 2 for i in range(1, 18)}
    data = pd.DataFrame([items | {"stss_1": None, "stss_2": None}], index=["m1"])
    with pytest.warns(ProratedScoreWarning, match="1 score"):
        out = score(data, "stss")
    assert out.loc["m1", "stss_score"] == pytest.approx(34.0)  # 15 answered, mean 2, x 17
    assert np.isnan(out.loc["m1", "stss_avoidance"])  # item 1 missing
    assert out.loc["m1", "stss_arousal"] == 10


def test_pcl5_provisional_cutoff_is_an_option():
    data = pd.DataFrame(
        [[1] * 13 + [3] * 7, [1] * 14 + [3] * 6],
        index=["p1", "p2"],
        columns=[f"pcl5_{i}" for i in range(1, 21)],
    )
    out = score(data, "pcl5")
    assert out["pcl5_score"].tolist() == [34, 32]
    # default: 33 (NCPTSD guidance, Bovin et al. 2016)
    assert out["pcl5_score_category"].astype(str).tolist() == ["probable PTSD", "below cut-point"]
    low = score(data, "pcl5", cutoffs={"pcl5_score": "provisional_31"})["pcl5_score_category"]
    assert low.astype(str).tolist() == ["probable PTSD", "probable PTSD"]
    old = score(data, "pcl5", cutoffs={"pcl5_score": "provisional_38"})["pcl5_score_category"]
    assert old.astype(str).tolist() == ["below cut-point", "below cut-point"]


def test_pcl5_older_38_cut_point_at_its_boundary():
    # Earlier NCPTSD guidance: 38 or more; a prorated 37.5 rounds half up to 38.
    cols = [f"pcl5_{i}" for i in range(1, 21)]
    data = pd.DataFrame(
        [[2] * 19 + [0], [2] * 17 + [1, 1, 1], [2] * 15 + [0] + [None] * 4],
        index=["38", "37", "37.5"],  # the last: 30 x 20 / 16 = 37.5
        columns=cols,
        dtype="Int64",
    )
    with pytest.warns(ProratedScoreWarning):
        out = score(data, "pcl5", cutoffs={"pcl5_score": "provisional_38"})
    assert out["pcl5_score"].tolist() == [38, 37, 37.5]
    cats = out["pcl5_score_category"].astype(str).tolist()
    assert cats == ["probable PTSD", "below cut-point", "probable PTSD"]


# --------------------------------------------------------------------------- dtypes and alignment


@pytest.mark.parametrize(
    "convert",
    [
        lambda s: s.astype("Int64"),
        lambda s: s.astype("float64"),
        lambda s: s.astype("string"),
        lambda s: s.astype("category"),
        lambda s: s.astype(object),
    ],
    ids=["Int64", "float", "string", "category", "object"],
)
def test_dtypes_give_identical_scores(convert):
    items, expected = _reference_pair("brs")
    converted = items.apply(convert)
    _assert_matches(score(converted, "brs"), expected)


def test_input_is_not_mutated():
    items, _ = _reference_pair("ace10")
    before = items.copy()
    score(items, "ace10")
    pd.testing.assert_frame_equal(items, before)


def test_columns_mapping_to_user_names():
    items, expected = _reference_pair("brs")
    renamed = items.rename(columns=lambda c: c.upper().replace("_", "Q"))
    out = score(renamed, "brs", columns={f"brs_{i}": f"BRSQ{i}" for i in range(1, 7)})
    _assert_matches(out, expected)


def test_several_instruments_side_by_side():
    brs_items, brs_expected = _reference_pair("brs")
    ace_items, _ = _reference_pair("ace10")
    both = brs_items.join(ace_items.reindex(brs_items.index))
    out = score(both, ["brs", "ace10"])
    assert list(out.index) == list(both.index)
    assert {"brs_score", "ace10_score", "brs_n_answered", "ace10_n_answered"} <= set(out.columns)
    _assert_matches(out[brs_expected.columns], brs_expected)


# --------------------------------------------------------------------------- errors


def test_out_of_range_values_raise_one_error_naming_everything():
    data = _brs_rows(
        {
            "y014": [0, 1, 1, 1, 1, 1],
            "y027": [0, 1, 1, 1, 1, 1],
            "y101": [9, 1, 1, 1, 1, 1],
            "y102": [1, 1, "maybe", 1, 1, 1],
        }
    )
    with pytest.raises(InvalidResponseError) as err:
        score(data, "brs")
    msg = str(err.value)
    assert msg.startswith("brs: ")
    # rows by position counted from 1: y014, y027, y101 are the first three rows
    bad_1 = [n for n, v in enumerate(data["brs_1"], start=1) if v not in range(1, 6)]
    assert bad_1 == [1, 2, 3]
    assert "brs_1 has values outside codes 1-5" in msg
    assert f"in 3 rows (rows {', '.join(map(str, bad_1))})" in msg
    assert "brs_3 has values outside" in msg and "in 1 row (row 4)" in msg
    assert 'on_invalid="missing"' in msg
    # neither the values nor the index labels (ids) are repeated
    for secret in ["y014", "y027", "y101", "y102", "maybe", "9", "0 ("]:
        assert secret not in msg


def test_invalid_rows_are_counted_and_capped_by_position():
    values = [1, 7, 1, 7, 7, 7, 7, 7, 7]  # seven invalid answers
    data = pd.DataFrame(
        {f"brs_{i}": 1 for i in range(1, 7)}, index=[f"youth{k:03d}" for k in range(9)]
    )
    data["brs_4"] = values
    with pytest.raises(InvalidResponseError) as err:
        score(data, "brs", first_row=2)
    msg = str(err.value)
    rows = [k + 2 for k, v in enumerate(values) if v == 7]
    assert f"in {len(rows)} rows (rows {', '.join(map(str, rows[:5]))} and 2 more)" in msg
    assert "first data row being 2" in msg and "youth" not in msg
    with pytest.raises(DataError, match="first_row"):
        score(data, "brs", first_row="2")


def test_non_integer_and_gap_codes_are_invalid():
    row = {f"brfss_ace_{i}": 2 for i in range(1, 6)} | {f"brfss_ace_{i}": 1 for i in range(6, 12)}
    data = pd.DataFrame([row | {"brfss_ace_6": 5}, row | {"brfss_ace_7": 1.5}], index=["g", "h"])
    with pytest.raises(
        InvalidResponseError,
        match=r"brfss_ace_6 .* in 1 row \(row 1\).*brfss_ace_7 .* in 1 row \(row 2\)",
    ):
        score(data, "brfss_ace")


def test_on_invalid_missing_warns_and_scores_the_rest():
    data = _brs_rows({"a": [9, 1, 5, 1, 5, 1], "b": [5, 1, 5, 1, 5, 1]})
    with pytest.warns(InvalidResponseWarning, match=r"brs_1 .* in 1 row \(row 1\)"):
        out = score(data, "brs", on_invalid="missing")
    assert out["brs_score"].tolist() == [5.0, 5.0]
    assert out["brs_n_answered"].tolist() == [5, 6]


def test_unused_categories_are_not_invalid():
    # an SPSS label set with "Refused" (code 9) that no respondent chose
    cats = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree", "Refused"]
    answers = ["Agree", "Neutral", "Strongly agree"]
    data = pd.DataFrame(
        {f"brs_{i}": pd.Categorical(answers, categories=cats) for i in range(1, 7)},
        index=["a", "b", "c"],
    )
    out = score(data, "brs")
    # items 2, 4, 6 are reverse keyed (6 - code); codes Agree 4, Neutral 3, Strongly agree 5
    codes = [4, 3, 5]
    expected = [(3 * c + 3 * (6 - c)) / 6 for c in codes]
    assert out["brs_score"].tolist() == expected
    assert out["brs_n_answered"].tolist() == [6, 6, 6]
    # a row that did choose "Refused" is invalid: column and number of rows, not the value
    data.loc["b", "brs_5"] = "Refused"
    with pytest.raises(InvalidResponseError) as err:
        score(data, "brs")
    msg = str(err.value)
    assert "brs_5 has values outside" in msg and "in 1 row (row 2)" in msg
    assert "brs_1" not in msg and "Refused" not in msg


def test_numbers_are_codes_even_where_labels_are_numbers(tmp_path):
    # a custom scale whose response labels are numbers: codes 1-3 labelled "0", "1", "2"
    text = (
        'id = "numlab"\nname = "Numeric labels"\nversion = "1"\ncitation = "A (2026)"\n'
        'licence = "CC BY 4.0"\nitem_text_shipped = false\nresponse_set = "r"\n'
        '[response_sets.r]\ncodes = [1, 2, 3]\nlabels = ["0", "1", "2"]\n'
        '[[items]]\nid = "numlab_1"\n[[items]]\nid = "numlab_2"\n'
        '[[scales]]\nid = "score"\nmethod = "sum"\nitems = ["numlab_1", "numlab_2"]\n'
    )
    path = tmp_path / "numlab.toml"
    path.write_text(text)
    answers = {"numlab_1": [1, 2], "numlab_2": [2, 3]}
    expected = [1 + 2, 2 + 3]  # sums of the codes as written
    as_int = score(pd.DataFrame(answers), path)
    as_text = score(pd.DataFrame({k: [str(v) for v in vs] for k, vs in answers.items()}), path)
    as_cat = score(
        pd.DataFrame({k: pd.Categorical([str(v) for v in vs]) for k, vs in answers.items()}),
        path,
    )
    for out in (as_int, as_text, as_cat):
        assert out["numlab_score"].tolist() == expected
    # text that is not a number is still matched against the labels (none here match)
    with pytest.raises(InvalidResponseError, match="numlab_1"):
        score(pd.DataFrame({"numlab_1": ["two"], "numlab_2": ["1"]}), path)


def test_missing_columns_are_named_with_the_fix():
    data = _brs_rows({"a": [1] * 6}).drop(columns=["brs_2", "brs_5"])
    with pytest.raises(DataError, match=r"brs: .*'brs_2', 'brs_5'.*columns="):
        score(data, "brs")


def test_duplicated_columns_and_index_raise():
    data = _brs_rows({"a": [1] * 6, "b": [2] * 6})
    dup_cols = pd.concat([data, data[["brs_1"]]], axis=1)
    with pytest.raises(DataError, match="more than one column named"):
        score(dup_cols, "brs")
    renamed = data.rename(index={"b": "a"})
    repeated = [n for n, label in enumerate(renamed.index, start=1) if label == "a"]
    with pytest.raises(DataError, match="duplicated labels") as err:
        score(renamed, "brs")
    assert f"rows {', '.join(map(str, repeated))} by position" in str(err.value)
    assert "'a'" not in str(err.value)


def test_unknown_instrument_option_cutoff_and_mapping_raise():
    data = _brs_rows({"a": [1] * 6})
    with pytest.raises(InstrumentError, match="unknown instrument 'nope'"):
        score(data, "nope")
    with pytest.raises(InstrumentError, match="unknown option"):
        score(data, "brs", options={"colour": "red"})
    with pytest.raises(InstrumentError, match="no cut-off set 'x'"):
        score(data, "brs", cutoffs={"brs_score": "x"})
    with pytest.raises(DataError, match="unknown item ids"):
        score(data, "brs", columns={"brs_99": "a"})
    with pytest.raises(DataError, match="on_invalid"):
        score(data, "brs", on_invalid="ignore")
    with pytest.raises(DataError, match="DataFrame"):
        score(data["brs_1"], "brs")


# --------------------------------------------------------------------------- invariants

_brs_frame = data_frames(
    columns=[
        column(f"brs_{i}", elements=st.one_of(st.none(), st.integers(1, 5)), dtype=object)
        for i in range(1, 7)
    ],
    index=range_indexes(min_size=1, max_size=30),
)


@settings(max_examples=60, deadline=None)
@given(frame=_brs_frame, seed=st.integers(0, 2**16))
def test_index_kept_range_respected_and_permutation_commutes(frame, seed):
    frame = frame.set_axis([f"r{(i * 7919) % 1009}" for i in range(len(frame))])
    out = score(frame, "brs")
    assert out.index.equals(frame.index)
    s = out["brs_score"].dropna()
    assert ((s >= 1) & (s <= 5)).all()
    perm = np.random.default_rng(seed).permutation(len(frame))
    shuffled = score(frame.iloc[perm], "brs")
    pd.testing.assert_frame_equal(shuffled, out.iloc[perm])


@settings(max_examples=60, deadline=None)
@given(frame=_brs_frame)
def test_reversing_items_twice_is_identity(frame):
    # Reverse-keyed items scored from 6 - x of the flipped answers give the same score when the
    # keying is flipped too: flip all items and the score reflects around 3 (6 - score).
    flipped = frame.apply(lambda c: c.map(lambda v: None if v is None else 6 - v))
    out, out_flipped = score(frame, "brs"), score(flipped, "brs")
    np.testing.assert_allclose(out_flipped["brs_score"], 6 - out["brs_score"])
    twice = flipped.apply(lambda c: c.map(lambda v: None if v is None else 6 - v))
    pd.testing.assert_frame_equal(score(twice, "brs"), out)


def test_every_builtin_instrument_scores_its_own_extremes():
    for iid in list_instruments()["id"]:
        inst = load_instrument(iid)
        lo_row, hi_row = {}, {}
        for item in inst.items:
            vals = inst.item_values(item)
            valid = {c: v for c, v in vals.items() if not np.isnan(v)}
            low_code = min(valid, key=lambda c, v=valid: v[c])
            high_code = max(valid, key=lambda c, v=valid: v[c])
            if item.reverse:
                low_code, high_code = high_code, low_code
            lo_row[item.id], hi_row[item.id] = low_code, high_code
        out = score(pd.DataFrame([lo_row, hi_row], index=["lo", "hi"]), inst)
        for scale in inst.scales:
            lo, hi = inst.scale_range(scale)
            col = inst.scale_column(scale)
            assert out.loc["lo", col] == lo, (iid, col)
            assert out.loc["hi", col] == hi, (iid, col)


@st.composite
def _answers(draw):
    """An instrument from the catalogue and a frame of its valid codes, some unanswered."""
    inst = load_instrument(draw(st.sampled_from(sorted(list_instruments()["id"]))))
    n = draw(st.integers(1, 12))
    cols = {}
    for item in inst.items:
        codes = list(inst.response_sets[item.response_set].codes)
        cols[item.id] = draw(
            st.lists(st.one_of(st.none(), st.sampled_from(codes)), min_size=n, max_size=n)
        )
    index = draw(st.lists(st.text(min_size=1, max_size=4), min_size=n, max_size=n, unique=True))
    return inst, pd.DataFrame(cols, index=index, dtype="Int64")


@settings(max_examples=80, deadline=None)
@given(case=_answers())
def test_every_instrument_scores_within_its_declared_range(case):
    import warnings

    inst, frame = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProratedScoreWarning)
        out = score(frame, inst)
    assert out.index.equals(frame.index)
    for scale in inst.scales:
        lo, hi = inst.scale_range(scale)
        values = out[inst.scale_column(scale)].dropna()
        assert ((values >= lo - 1e-9) & (values <= hi + 1e-9)).all(), scale.id
    answered = out[f"{inst.id}_n_answered"]
    assert ((answered >= 0) & (answered <= len(inst.items))).all()


def test_dask_dataframe_is_scored_partition_by_partition():
    import dask.dataframe as dd

    items, expected = _reference_pair("brs")
    lazy = score(dd.from_pandas(items, npartitions=3, sort=False), "brs")
    assert lazy.npartitions == 3
    computed = lazy.compute()
    # dask stores the string index as pyarrow strings; the labels and their order are the same
    _assert_matches(computed.set_axis(expected.index), expected)
    assert list(computed.index) == list(expected.index)


def test_pcl5_dsm5_symptom_rule():
    # NCPTSD: items rated >= 2 are symptoms; the rule needs 1 B, 1 C, 2 D and 2 E symptoms.
    cols = [f"pcl5_{i}" for i in range(1, 21)]
    meets = [2, 0, 0, 0, 0] + [0, 3] + [2, 2, 0, 0, 0, 0, 0] + [4, 2, 0, 0, 0, 0]
    one_d = meets[:7] + [2, 1, 0, 0, 0, 0, 0] + meets[14:]
    unknown_c = meets[:5] + [None, None] + meets[7:]
    fails_anyway = one_d[:5] + [None, None] + one_d[7:]
    data = pd.DataFrame(
        [meets, one_d, unknown_c, fails_anyway],
        columns=cols,
        index=["meets", "one_d", "unknown_c", "fails_anyway"],
        dtype="Int64",
    )
    with pytest.warns(ProratedScoreWarning):
        out = score(data, "pcl5")
    rule = out["pcl5_dsm5_rule"]
    assert rule["meets"] == 1 and rule["one_d"] == 0 and rule["fails_anyway"] == 0
    assert np.isnan(rule["unknown_c"])
    assert out.loc[
        "meets", ["pcl5_intrusion_symptoms", "pcl5_cognition_mood_symptoms"]
    ].tolist() == [1, 2]


# --------------------------------------------------------------------------- banding prorated sums

PROQOL_CS = [3, 6, 12, 16, 18, 20, 22, 24, 27, 30]


def _proqol_cs_rows(rows: dict[str, list[int]]) -> pd.DataFrame:
    """ProQOL 5 frames with only compassion-satisfaction items answered (first len(v) of them)."""
    cols = [f"proqol5_{i}" for i in range(1, 31)]
    data = pd.DataFrame(np.nan, index=list(rows), columns=cols)
    for name, answers in rows.items():
        data.loc[name, [f"proqol5_{i}" for i in PROQOL_CS[: len(answers)]]] = answers
    return data


def test_proqol_prorated_sum_banded_after_rounding_half_up():
    # Score sheet (Stamm 2010): 22 or less low, 23-41 moderate, 42 or more high.
    data = _proqol_cs_rows(
        {
            "41.11": [5] + [4] * 8,  # 9 answered, 37 x 10 / 9 -> 41 -> moderate
            "42.5": [5, 5] + [4] * 6,  # 8 answered, 34 x 10 / 8 -> 43 -> high
            "22.22": [3, 3] + [2] * 7,  # 9 answered, 20 x 10 / 9 -> 22 -> low
        }
    )
    with pytest.warns(ProratedScoreWarning):
        out = score(data, "proqol5")
    col = "proqol5_compassion_satisfaction"
    assert out[col].tolist() == pytest.approx([370 / 9, 42.5, 200 / 9])  # score stays unrounded
    assert out[f"{col}_category"].astype(str).tolist() == ["moderate", "high", "low"]


def test_half_way_sums_round_up_at_every_score_sheet_boundary():
    # 41.5 and 22.5 cannot come from 10 items with 8 or 9 answered, so the rule is checked on
    # the engine's banding of the ProQOL scale itself: 41.4 -> 41 moderate, 41.5 -> 42 high,
    # 22.4 -> 22 low, 22.5 -> 23 moderate (score sheet bands).
    from tim_research.scoring import _categorise

    scale = next(s for s in load_instrument("proqol5").scales if s.id == "burnout")
    cats = _categorise(np.array([41.4, 41.5, 22.4, 22.5, np.nan]), scale, None)
    assert list(cats.astype(object)[:4]) == ["moderate", "high", "low", "moderate"]
    assert pd.isna(cats[4])


def test_mean_scales_are_banded_unrounded():
    # BRS bands are on the mean (Smith et al. 2013): 4.30 normal, 4.31 high; no rounding.
    from tim_research.scoring import _categorise

    scale = load_instrument("brs").scales[0]
    cats = _categorise(np.array([4.30, 4.31, 2.995]), scale, None)
    assert list(cats.astype(object)) == ["normal", "high", "low"]


def test_stss_prorated_total_banded_after_rounding_half_up():
    # Bride (2007) bands: below 28 little or none, 28-37 mild.
    def row(twos: int, ones: int) -> list[float]:
        return [2] * twos + [1] * ones + [np.nan] * (17 - twos - ones)

    data = pd.DataFrame(
        [row(10, 6), row(9, 6), row(9, 5)],  # 26 x 17/16, 24 x 17/15, 23 x 17/14
        index=["27.625", "27.2", "27.93"],
        columns=[f"stss_{i}" for i in range(1, 18)],
    )
    with pytest.warns(ProratedScoreWarning):
        out = score(data, "stss")
    assert out["stss_score"].tolist() == pytest.approx([27.625, 27.2, 23 * 17 / 14])
    assert out["stss_score_category"].astype(str).tolist() == ["mild", "little or none", "mild"]


def test_pcl5_dsm5_rule_decided_when_answered_items_settle_it():
    # NCPTSD: needs 1 B (items 1-5), 1 C (6-7), 2 D (8-14), 2 E (15-20) items rated >= 2.
    cols = [f"pcl5_{i}" for i in range(1, 21)]
    meets = [2, 0, 0, 0, 0] + [0, 3] + [2, 2, 0, 0, 0, 0, 0] + [4, 2, 0, 0, 0, 0]

    def with_(changes: dict[int, int | None]) -> list[int | None]:
        row = list(meets)
        for item, value in changes.items():
            row[item - 1] = value
        return row

    rows = {
        # settled met: the missing items sit beside clusters that are already met
        "met_b_d_missing": with_({2: None, 10: None, 17: None}),
        # settled not met: D has no symptom and one missing item, so at most 1 of the 2 needed
        "d_cannot_reach": with_({8: 0, 9: 0, 10: None}),
        # settled not met: C answered 0 and 1, nothing missing there; a B item missing
        "c_fails_b_open": with_({7: 1, 1: None}),
        # open: D has 1 symptom and 1 missing item
        "d_open": with_({9: 0, 10: None}),
        # open: both C items missing
        "c_open": with_({6: None, 7: None}),
    }
    data = pd.DataFrame.from_dict(rows, orient="index", columns=cols).astype("Int64")
    with pytest.warns(ProratedScoreWarning):
        out = score(data, "pcl5")
    rule = out["pcl5_dsm5_rule"]
    assert rule["met_b_d_missing"] == 1
    assert rule["d_cannot_reach"] == 0 and rule["c_fails_b_open"] == 0
    assert np.isnan(rule["d_open"]) and np.isnan(rule["c_open"])
    # the counts themselves are reported for complete clusters only
    assert np.isnan(out.loc["met_b_d_missing", "pcl5_intrusion_symptoms"])
    assert out.loc["met_b_d_missing", "pcl5_avoidance_symptoms"] == 1


# --------------------------------------------------------------------------- BRFSS missing answers


def test_brfss_complete_cases_reproduce_R_distribution(brfss, reference_values):
    # Source: scoring_reference.R counts complete cases (all 11 answered, as in the analytic
    # sample of Merrick et al. 2019) directly from the answer codes.
    ref = reference_values("scoring_brfss_ace_complete_cases")
    out = score(brfss, "brfss_ace", columns=BRFSS_COLUMNS, options={"missing": "complete_cases"})
    s = out["brfss_ace_score"].dropna()
    assert len(s) == ref["n"]
    bands = s.clip(upper=4).astype(int).astype(str).replace({"4": "4+"})
    assert bands.value_counts().to_dict() == ref["counts"]
    # the project's default keeps respondents whose missing answers cannot change the score
    default = score(brfss, "brfss_ace", columns=BRFSS_COLUMNS)["brfss_ace_score"]
    assert default.notna().sum() > ref["n"]
    both = s.index
    assert (default[both] == s).all()


def test_brfss_missing_option_complete_cases_rows():
    base = {f"brfss_ace_{i}": 2 for i in range(1, 6)} | {f"brfss_ace_{i}": 1 for i in range(6, 12)}
    data = pd.DataFrame(
        [
            base | {"brfss_ace_2": 1, "brfss_ace_3": 9},  # substance use decided by Q2 = yes
            base | {"brfss_ace_5": 8},  # parents not married: an answer
            base | {"brfss_ace_9": 3, "brfss_ace_11": None},  # Q11 blank, Q9 decides
        ],
        index=["refused_q3", "not_married", "blank_q11"],
    )
    decidable = score(data, "brfss_ace")
    assert decidable["brfss_ace_score"].tolist() == [1, 0, 1]
    cc = score(data, "brfss_ace", options={"missing": "complete_cases"})
    assert np.isnan(cc.loc["refused_q3", "brfss_ace_score"])
    assert np.isnan(cc.loc["refused_q3", "brfss_ace_household_substance_use"])
    assert cc.loc["not_married", "brfss_ace_score"] == 0
    assert np.isnan(cc.loc["blank_q11", "brfss_ace_score"])
    assert cc["brfss_ace_n_answered"].tolist() == [10, 11, 10]
    strict = score(
        data, "brfss_ace", options={"missing": "complete_cases", "parents_not_married": "missing"}
    )
    assert np.isnan(strict.loc["not_married", "brfss_ace_score"])


# ----------------------------------------------------------------------------- issue 16 scales
# Expected scores are computed in each test from the published rule, never by score().


def _random_items(instrument_id: str, codes: list[int], k: int, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({f"{instrument_id}_{i}": rng.choice(codes, n) for i in range(1, k + 1)})


def test_ysor_reverses_the_four_negative_items_and_averages():
    # 5-point answers 1-5; negative items (project ids 7-10) reversed as 6 - x; mean of 10
    items = _random_items("ysor", [1, 2, 3, 4, 5], 10, 40, seed=1)
    keyed = items.copy()
    for i in (7, 8, 9, 10):
        keyed[f"ysor_{i}"] = 6 - keyed[f"ysor_{i}"]
    out = score(items, "ysor")
    np.testing.assert_allclose(out["ysor_score"], keyed.mean(axis=1))
    # the strongest answers (always true to positives, never true to negatives) give 5
    best = pd.DataFrame([[5] * 6 + [1] * 4], columns=items.columns)
    assert score(best, "ysor")["ysor_score"].item() == 5.0
    labelled = pd.DataFrame([["Always true"] * 6 + ["Never true"] * 4], columns=items.columns)
    assert score(labelled, "ysor")["ysor_score"].item() == 5.0


def test_ysor_needs_eight_of_ten_items():
    items = _random_items("ysor", [1, 2, 3, 4, 5], 10, 3, seed=2).astype(float)
    items.iloc[0, :2] = np.nan  # 8 answered: scored from those 8
    items.iloc[1, :3] = np.nan  # 7 answered: missing
    out = score(items, "ysor")["ysor_score"]
    keyed = items.copy()
    keyed[[f"ysor_{i}" for i in (7, 8, 9, 10)]] = 6 - keyed[[f"ysor_{i}" for i in (7, 8, 9, 10)]]
    assert out.iloc[0] == pytest.approx(keyed.iloc[0].mean())  # pandas mean skips NaN
    assert np.isnan(out.iloc[1])


def test_msor_total_and_subscales_are_means_of_keyed_items():
    items = _random_items("msor", [1, 2, 3, 4, 5], 14, 30, seed=3)
    out = score(items, "msor")
    np.testing.assert_allclose(out["msor_score"], items.mean(axis=1))
    np.testing.assert_allclose(
        out["msor_affective"], items[[f"msor_{i}" for i in range(1, 11)]].mean(axis=1)
    )
    np.testing.assert_allclose(out["msor_logistical"], items[["msor_11", "msor_12"]].mean(axis=1))
    assert not any(i.reverse for i in load_instrument("msor").items)  # keying unverified
    assert "could not be confirmed" in load_instrument("msor").caveat


def test_youth_centered_is_the_mean_of_five_items_scored_one_to_four():
    # NMRC toolkit: items scored 1 (Not true at all) to 4 (Very true), averaged over all five
    items = _random_items("youth_centered", [1, 2, 3, 4], 5, 30, seed=4)
    np.testing.assert_allclose(
        score(items, "youth_centered")["youth_centered_score"], items.mean(axis=1)
    )
    words = pd.DataFrame(
        [["Very true", "Sort of true", "Not very true", "Not true at all", "Very true"]],
        columns=items.columns,
    )
    assert score(words, "youth_centered")["youth_centered_score"].item() == pytest.approx(2.8)


def test_pce_counts_items_answered_often_or_more_and_bands_them():
    # Bethell et al. 2019: an item counts when answered "often" (4) or "very often/always" (5);
    # groups 0-2, 3-5, 6-7
    items = _random_items("pce", [1, 2, 3, 4, 5], 7, 200, seed=5)
    count = (items >= 4).sum(axis=1)
    out = score(items, "pce")
    assert out["pce_score"].tolist() == count.astype(float).tolist()
    band = np.where(count <= 2, "0-2", np.where(count <= 5, "3-5", "6-7"))
    assert out["pce_score_category"].astype(str).tolist() == band.tolist()
    assert list(out["pce_score_category"].cat.categories) == ["0-2", "3-5", "6-7"]
    words = pd.DataFrame(
        [["Often", "Very often/always", "Sometimes", "Rarely", "Never", "Often", "Often"]],
        columns=items.columns,
    )
    assert score(words, "pce")["pce_score"].item() == 4.0
    one_missing = items.iloc[:1].astype(float)
    one_missing.iloc[0, 0] = np.nan
    assert np.isnan(score(one_missing, "pce")["pce_score"].item())


def test_pce_item_counts_only_in_the_top_two_of_five_categories():
    # Bethell et al. 2019, Figures 1-2 notes: each single PCE is compared with the reference
    # category "Never, rarely, or sometimes" (or "Never, a little, or some of the time"), so an
    # item counts when answered in category 4 or 5 of 5, on either answer scale
    cols = [f"pce_{i}" for i in range(1, 8)]
    rows = [[3] * 7, [5] * 7, [4] * 7]
    for i in range(7):  # one item at 4, the rest at the highest category that does not count
        row = [3] * 7
        row[i] = 4
        rows.append(row)
    out = score(pd.DataFrame(rows, columns=cols), "pce")
    expected = [0.0, 7.0, 7.0] + [1.0] * 7
    assert out["pce_score"].tolist() == expected
    assert out["pce_score_category"].astype(str).tolist()[:3] == ["0-2", "6-7", "6-7"]


def test_bce_counts_yes_answers():
    # Narayan et al. 2018: positively reported items are summed (0-10)
    items = _random_items("bce", [0, 1], 10, 50, seed=6)
    assert score(items, "bce")["bce_score"].tolist() == items.sum(axis=1).astype(float).tolist()
    words = pd.DataFrame([["Yes"] * 7 + ["No"] * 3], columns=items.columns)
    assert score(words, "bce")["bce_score"].item() == 7.0


def test_cats_sums_twenty_symptom_items_with_cutoff_21():
    # CATS 7-17: sum of symptom items 1-20 (0-3 each, 0-60); 21 or more clinically relevant
    items = _random_items("cats", [0, 1, 2, 3], 20, 200, seed=7)
    total = items.sum(axis=1)
    out = score(items, "cats")
    assert out["cats_score"].tolist() == total.astype(float).tolist()
    expected = np.where(total >= 21, "21 or more", "below 21")
    assert out["cats_score_category"].astype(str).tolist() == expected.tolist()
    edge = pd.DataFrame([[1] * 20, [1] * 19 + [2]], columns=items.columns)  # 20 and 21
    assert score(edge, "cats")["cats_score_category"].astype(str).tolist() == [
        "below 21",
        "21 or more",
    ]


def test_cats_prorates_from_sixteen_answered_items():
    items = pd.DataFrame([[1] * 20, [1] * 20], columns=[f"cats_{i}" for i in range(1, 21)])
    items = items.astype(float)
    items.iloc[0, :4] = np.nan  # 16 answered, all 1: prorated to 20
    items.iloc[1, :5] = np.nan  # 15 answered: missing
    with pytest.warns(ProratedScoreWarning):
        out = score(items, "cats")["cats_score"]
    assert out.iloc[0] == pytest.approx(16 * 20 / 16)
    assert np.isnan(out.iloc[1])
