"""Tests of tim_research.io.redcap on a small export written to REDCap's CSV layouts.

``tests/data/redcap/`` holds a longitudinal project (events baseline, 6 and 12 months):
the data dictionary as downloaded from the Data Dictionary page, the records as exported with
"CSV (raw data)" and with "CSV (labels)", and a mapping file to instrument items.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tim_research.errors import DataError
from tim_research.io import redcap

DATA = Path(__file__).resolve().parent / "data" / "redcap"
DICTIONARY = DATA / "tim_mentoring_DataDictionary_2024-07-01.csv"
RAW = DATA / "tim_mentoring_DATA_2024-07-01_1200.csv"
LABELS = DATA / "tim_mentoring_DATA_LABELS_2024-07-01_1200.csv"
MAPPING = DATA / "mapping.toml"


def _plain(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_dictionary_headers_are_normalised():
    meta = redcap.read_dictionary(DICTIONARY)
    assert meta["field_name"].iloc[0] == "record_id"
    assert {"field_name", "form_name", "field_type", "choices", "validation"} <= set(meta.columns)
    assert meta.set_index("field_name").loc["race", "field_type"] == "checkbox"


def test_api_metadata_headers_are_accepted(tmp_path):
    raw = _plain(DICTIONARY)
    api = {v: k for k, v in redcap.API_HEADERS.items()}
    short = {k: api[v] for k, v in redcap.DICTIONARY_HEADERS.items()}
    path = tmp_path / "metadata.csv"
    raw.rename(columns=short).to_csv(path, index=False)
    pd.testing.assert_frame_equal(redcap.read_dictionary(path), redcap.read_dictionary(DICTIONARY))


def test_raw_export_is_typed_by_the_dictionary():
    records = redcap.read_records(RAW, DICTIONARY)
    plain = _plain(RAW)
    assert len(records) == len(plain) and records.columns.tolist() == plain.columns.tolist()
    assert records["site"].dtype == "Int64" and records["age"].dtype == "Int64"
    assert records["enrol_date"].dtype == "datetime64[us]"
    assert records["brs_mean"].dtype == "float64"
    # codes are the exported codes; blanks (forms not in an event) are missing
    for col in ["site", "gender", "ace_q3", "brs_q2", "race___1", "race____9", "assent"]:
        expected = pd.to_numeric(plain[col].replace("", None)).astype("Int64")
        pd.testing.assert_series_equal(records[col], expected, check_names=False)
    assert records.attrs["choices"]["race"]["-9"] == "Prefer not to say"
    assert records.attrs["choices"]["assent"] == {"1": "Yes", "0": "No"}


def test_labels_export_reads_to_the_same_codes():
    raw = redcap.read_records(RAW, DICTIONARY)
    labelled = redcap.read_records(LABELS, DICTIONARY)
    pd.testing.assert_frame_equal(
        labelled.drop(columns="redcap_event_name"), raw.drop(columns="redcap_event_name")
    )


def test_labels_option_gives_categoricals():
    records = redcap.read_records(RAW, DICTIONARY, labels=True)
    site = records["site"]
    assert isinstance(site.dtype, pd.CategoricalDtype)
    assert site.cat.categories.tolist() == ["North", "South", "East", "West"]
    assert site.iloc[0] == "North" and pd.isna(site.iloc[1])
    assert records["brief_resilience_complete"].iloc[0] == "Complete"


def test_invalid_codes_are_reported_with_records(tmp_path):
    plain = _plain(RAW)
    plain.loc[0, "brs_q1"] = "7"
    plain.loc[3, "race___2"] = "yes"
    plain.loc[5, "age"] = "fifteen"
    path = tmp_path / "records.csv"
    plain.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        redcap.read_records(path, DICTIONARY)
    message = str(info.value)
    # spreadsheet rows: the header is row 1, so index 0 is row 2
    assert "brs_q1: 1 row (2)" in message
    assert "1 = Strongly disagree" in message
    assert "race___2: 1 row (5)" in message and "age: 1 row (7)" in message
    for value in ["'7'", "yes", "fifteen", "baseline_arm_1"]:
        assert value not in message


def test_columns_outside_the_dictionary_are_refused(tmp_path):
    plain = _plain(RAW).assign(extra_field="1")
    path = tmp_path / "records.csv"
    plain.to_csv(path, index=False)
    with pytest.raises(DataError, match="extra_field"):
        redcap.read_records(path, DICTIONARY)
    with pytest.raises(DataError, match="record id"):
        redcap.read_records(_plain(RAW).drop(columns="record_id"), DICTIONARY)


def test_mapping_gives_items_ready_for_scoring():
    items = redcap.read_redcap(RAW, DICTIONARY, MAPPING)
    plain = _plain(RAW)
    assert items.columns[:3].tolist() == ["youth_id", "redcap_event_name", "wave"]
    assert items["wave"].tolist()[:3] == ["baseline", "6m", "12m"]
    mapping = redcap.read_mapping(MAPPING)
    for item, column in mapping.items.items():
        expected = pd.to_numeric(plain[column].replace("", None)).astype("Int64")
        pd.testing.assert_series_equal(items[item], expected, check_names=False)
    pd.testing.assert_index_equal(items.index, plain.index)


def test_mapped_items_score_with_the_engine():
    from tim_research import score

    items = redcap.read_redcap(RAW, DICTIONARY, MAPPING)
    scored = score(items, "brs")
    pd.testing.assert_index_equal(scored.index, items.index)
    answered = items[[f"brs_{i}" for i in range(1, 7)]].notna().sum(axis=1)
    assert scored["brs_n_answered"].tolist() == answered.tolist()


def test_checkbox_options_can_be_mapped(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text(
        'id_column = "youth_id"\n[items]\nrace_black = "race___1"\nrace_pnts = "race____9"\n'
    )
    records = redcap.read_records(RAW, DICTIONARY)
    items = redcap.to_items(records, redcap.read_mapping(path))
    assert items["race_pnts"].tolist() == records["race____9"].tolist()
    assert "wave" not in items.columns


def test_mapping_errors(tmp_path):
    records = redcap.read_records(RAW, DICTIONARY)
    with pytest.raises(DataError, match="not in the records"):
        redcap.to_items(records, redcap.RedcapMapping(items={"brs_1": "brs_question_1"}))
    with pytest.raises(DataError, match="not in the mapping's"):
        redcap.to_items(
            records,
            redcap.RedcapMapping(items={"brs_1": "brs_q1"}, events={"baseline_arm_1": "baseline"}),
        )
    with pytest.raises(DataError, match="more than one item"):
        redcap.RedcapMapping(items={"brs_1": "brs_q1", "brs_2": "brs_q1"})
    with pytest.raises(DataError, match="empty"):
        redcap.RedcapMapping(items={})
    with pytest.raises(DataError, match="labels"):
        redcap.read_redcap(RAW, DICTIONARY, MAPPING, labels=True)
    labelled = redcap.read_records(RAW, DICTIONARY, labels=True)
    with pytest.raises(DataError, match="hold labels"):
        redcap.to_items(labelled, redcap.RedcapMapping(items={"brs_1": "brs_q1"}))
    bad = tmp_path / "bad.toml"
    bad.write_text('[item]\nbrs_1 = "brs_q1"\n')
    with pytest.raises(DataError, match="unknown key"):
        redcap.read_mapping(bad)
    bad.write_text("[items\n")
    with pytest.raises(DataError, match="not valid TOML"):
        redcap.read_mapping(bad)


def test_choice_parsing():
    assert redcap.parse_choices("1, Yes | 0, No") == {"1": "Yes", "0": "No"}
    assert redcap.parse_choices("a, Apple, red | b, Banana") == {"a": "Apple, red", "b": "Banana"}
    assert redcap.parse_choices(None) == {}
    with pytest.raises(DataError, match="code, label"):
        redcap.parse_choices("1 Yes | 0, No")
    with pytest.raises(DataError, match="twice"):
        redcap.parse_choices("1, Yes | 1, No")
    assert redcap.checkbox_column("q", "-99") == "q____99"


def test_dictionary_errors(tmp_path):
    raw = _plain(DICTIONARY)
    path = tmp_path / "dict.csv"
    raw.rename(columns={"Form Name": "Form"}).to_csv(path, index=False)
    with pytest.raises(DataError, match="unknown column"):
        redcap.read_dictionary(path)
    pd.concat([raw, raw.iloc[[2]]]).to_csv(path, index=False)
    with pytest.raises(DataError, match="more than once"):
        redcap.read_dictionary(path)


# --------------------------------------------------------------------------- issue 13

# A project asking the ten ACE questions as one checkbox field, with "Prefer not to say" (99).
ACE_CODES = [str(k) for k in range(1, 11)]
ACE_CHOICES = " | ".join(f"{k}, ACE {k}" for k in ACE_CODES) + " | 99, Prefer not to say"
ACE_DICTIONARY = pd.DataFrame(
    {
        "Variable / Field Name": ["record_id", "aces"],
        "Form Name": ["ace_form", "ace_form"],
        "Field Type": ["text", "checkbox"],
        "Field Label": ["Record ID", "Which of these happened?"],
        "Choices, Calculations, OR Slider Labels": ["", ACE_CHOICES],
    }
)
ACE_MAPPING = (
    "[items]\n"
    + "".join(f'ace10_{k} = "aces___{k}"\n' for k in ACE_CODES)
    + '\n[checkboxes.aces]\nopt_out = ["99"]\n'
)


def _ace_records(rows: dict[str, tuple[set[str], str]]) -> pd.DataFrame:
    """Raw export: record id -> (ticked option codes, ace_form_complete)."""
    table = []
    for rid, (ticked, status) in rows.items():
        row = {"record_id": rid}
        row |= {f"aces___{c}": "1" if c in ticked else "0" for c in [*ACE_CODES, "99"]}
        row["ace_form_complete"] = status
        table.append(row)
    return pd.DataFrame(table)


def test_checkbox_opt_out_and_incomplete_forms_are_missing(tmp_path):
    from tim_research import score

    rows = {
        "1": ({"1", "2"}, "2"),  # two ACEs, complete
        "2": ({"99"}, "2"),  # only "Prefer not to say"
        "3": (set(), "0"),  # form never filled in: REDCap exports every option as 0
        "4": (set(), "1"),  # no ACE ticked, Unverified: a real 0
        "5": ({"3", "99"}, "2"),  # one ACE, then declined the rest
        "6": ({"4"}, "0"),  # Incomplete, even with an option ticked
    }
    mapping = tmp_path / "map.toml"
    mapping.write_text(ACE_MAPPING)
    records = redcap.read_records(_ace_records(rows), ACE_DICTIONARY)
    assert records.attrs["forms"]["aces___1"] == "ace_form"
    items = redcap.to_items(records, redcap.read_mapping(mapping))
    item_cols = [f"ace10_{k}" for k in ACE_CODES]
    # expected answers per record, from the rules: opt-out -> unticked unknown; status 0 ->
    # all unknown; otherwise ticked 1, unticked 0
    for pos, (ticked, status) in enumerate(rows.values()):
        for code, col in zip(ACE_CODES, item_cols, strict=True):
            got = items[col].iloc[pos]
            if status == "0" or ("99" in ticked and code not in ticked):
                assert pd.isna(got), (pos, col)
            else:
                assert got == (1 if code in ticked else 0), (pos, col)
    scored = score(items, "ace10")
    assert scored["ace10_n_answered"].tolist() == [10, 0, 0, 10, 1, 0]
    # ace10 needs all ten answered: only the complete answers give a score
    assert scored["ace10_score"].iloc[[0, 3]].tolist() == [2.0, 0.0]
    assert scored["ace10_score"].iloc[[1, 2, 4, 5]].isna().all()
    # incomplete="keep" keeps REDCap's zeros of incomplete forms (opt-out still applies)
    kept = redcap.to_items(records, redcap.read_mapping(mapping), incomplete="keep")
    assert kept[item_cols].iloc[2].tolist() == [0] * 10
    assert kept[item_cols].iloc[5].sum() == 1
    assert kept[item_cols].iloc[1].isna().all()
    # the same from records read with labels=True (form status as a categorical of labels)
    as_labels = redcap.read_records(_ace_records(rows), ACE_DICTIONARY, labels=True)
    assert isinstance(as_labels["ace_form_complete"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(redcap.to_items(as_labels, redcap.read_mapping(mapping)), items)
    # without opt-out options declared, a "Prefer not to say" record reads as no ACEs
    plain = redcap.to_items(
        records,
        redcap.RedcapMapping(items=dict(zip(item_cols, [f"aces___{k}" for k in ACE_CODES]))),
    )
    assert plain[item_cols].iloc[1].tolist() == [0] * 10


def test_opt_out_errors(tmp_path):
    records = redcap.read_records(_ace_records({"1": ({"1"}, "2")}), ACE_DICTIONARY)
    with pytest.raises(DataError, match="no option"):
        redcap.to_items(
            records, redcap.RedcapMapping(items={"ace10_1": "aces___1"}, opt_out={"aces": ["98"]})
        )
    with pytest.raises(DataError, match="non-empty list"):
        redcap.RedcapMapping(items={"ace10_1": "aces___1"}, opt_out={"aces": "99"})
    bad = tmp_path / "bad.toml"
    bad.write_text('[items]\nace10_1 = "aces___1"\n[checkboxes.aces]\noptout = ["99"]\n')
    with pytest.raises(DataError, match="only opt_out"):
        redcap.read_mapping(bad)
    good = tmp_path / "good.toml"
    good.write_text('[items]\nace10_1 = "aces___1"\n[checkboxes.aces]\nopt_out = [99]\n')
    assert redcap.read_mapping(good).opt_out == {"aces": ("99",)}


def test_labels_export_with_numeric_labels_is_read_by_label():
    # codes 1-3 labelled "0", "1", "2": a labels export holds the labels
    meta = pd.DataFrame(
        {
            "Variable / Field Name": ["record_id", "count", "ticks"],
            "Form Name": ["f", "f", "f"],
            "Field Type": ["text", "radio", "checkbox"],
            "Choices, Calculations, OR Slider Labels": ["", "1, 0 | 2, 1 | 3, 2", "1, A"],
        }
    )
    labels_to_codes = {"0": 1, "1": 2, "2": 3}
    answers = ["0", "1", "2", "1"]
    labelled = pd.DataFrame(
        {
            "record_id": ["1", "2", "3", "4"],
            "count": answers,
            "ticks___1": ["Checked", "Unchecked", "Unchecked", "Checked"],
            "f_complete": ["Complete"] * 4,
        }
    )
    got = redcap.read_records(labelled, meta)
    assert got.attrs["export"] == "labels"
    assert got["count"].tolist() == [labels_to_codes[a] for a in answers]
    # the same answers as a raw export are their codes
    raw = labelled.assign(
        count=[str(labels_to_codes[a]) for a in answers],
        ticks___1=["1", "0", "0", "1"],
        f_complete=["2"] * 4,
    )
    read_raw = redcap.read_records(raw, meta)
    assert read_raw.attrs["export"] == "raw"
    pd.testing.assert_frame_equal(read_raw, got)
    # no checkbox or status columns: the caller says which export it is
    bare = labelled[["record_id", "count"]]
    with pytest.raises(DataError, match="export='raw'.*export='labels'"):
        redcap.read_records(bare, meta)
    told = redcap.read_records(bare, meta, export="labels")
    assert told["count"].tolist() == [labels_to_codes[a] for a in answers]
    # read as codes, the label "0" is no code of the field: refused, not shifted
    with pytest.raises(DataError, match=r"count: 1 row \(2\); allowed codes"):
        redcap.read_records(bare, meta, export="raw")
    # a file mixing the two is refused
    mixed = labelled.assign(f_complete=["2"] * 4)
    with pytest.raises(DataError, match="mix"):
        redcap.read_records(mixed, meta)
