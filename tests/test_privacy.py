"""Tests of tim_research.privacy: pseudonyms, identifier detection, suppression, k-anonymity."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tim_research import synth
from tim_research.errors import (
    DataError,
    IdentifierError,
    IdentifierWarning,
    ReidentificationRiskWarning,
    SmallCellWarning,
)
from tim_research.privacy import (
    KAnonymity,
    check_no_identifiers,
    find_identifiers,
    k_anonymity,
    make_key_file,
    pseudonymise,
    pseudonymise_file,
    safe_person_table,
    suppress,
    suppression_mask,
)

DATA = Path(__file__).parent / "data" / "identifiers"
KEY = "test key: 0123456789abcdef"
OTHER_KEY = "another test key: fedcba9876543210"


@pytest.fixture
def no_key_env(monkeypatch):
    monkeypatch.delenv("TIM_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("TIM_PSEUDONYM_KEY_FILE", raising=False)


@pytest.fixture
def ids():
    return pd.Series(
        ["Y0003", "Y0001", None, "Y0002", "Y0001", np.nan],
        index=[41, 7, 19, 3, 88, 12],
        name="youth_id",
    )


# --------------------------------------------------------------------------- pseudonyms


def test_pseudonyms_stable_aligned_and_missing_kept(ids, no_key_env):
    a = pseudonymise(ids, key=KEY)
    b = pseudonymise(ids, key=KEY)
    pd.testing.assert_series_equal(a, b)
    assert a.index.equals(ids.index)
    assert a.name == "youth_id"
    assert a.isna().tolist() == ids.isna().tolist()
    assert a.loc[7] == a.loc[88]
    assert a.dropna().nunique() == 3
    assert all(p.startswith("P") and len(p) == 13 for p in a.dropna())
    assert not set(a.dropna()) & set(ids.dropna())


def test_pseudonyms_follow_the_hmac_sha256_definition(ids, no_key_env):
    out = pseudonymise(ids, key=KEY, prefix="S-", length=20)
    for raw, pseudo in zip(ids, out):
        if pd.isna(raw):
            continue
        digest = hmac.new(KEY.encode(), raw.encode(), hashlib.sha256).digest()
        expected = "S-" + base64.b32encode(digest).decode().rstrip("=").lower()[:20]
        assert pseudo == expected
    hexed = pseudonymise(ids, key=KEY, alphabet="hex", length=64, prefix="")
    assert hexed.loc[41] == hmac.new(KEY.encode(), b"Y0003", hashlib.sha256).hexdigest()


def test_pseudonyms_differ_by_key(ids, no_key_env):
    a = pseudonymise(ids, key=KEY).dropna()
    b = pseudonymise(ids, key=OTHER_KEY).dropna()
    assert (a != b).all()
    assert not set(a) & set(b)


def test_raises_without_key(ids, no_key_env):
    with pytest.raises(DataError, match="TIM_PSEUDONYM_KEY") as err:
        pseudonymise(ids)
    assert "make_key_file" in str(err.value)
    with pytest.raises(DataError, match="no pseudonym key"):
        pseudonymise(ids, key_env=None)


def test_short_key_raises_without_showing_it(ids, no_key_env):
    with pytest.raises(DataError, match="at least 16 bytes") as err:
        pseudonymise(ids, key="tooshort-secret")
    assert "tooshort-secret" not in str(err.value)


def test_key_sources_agree_and_explicit_file_wins(ids, tmp_path, monkeypatch, no_key_env):
    path = make_key_file(tmp_path / "keys" / "pseudonym.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert len(bytes.fromhex(secret)) == 32
    from_file = pseudonymise(ids, key_file=path)
    assert from_file.equals(pseudonymise(ids, key=secret))
    assert from_file.equals(pseudonymise(ids, key=secret.encode()))
    monkeypatch.setenv("TIM_PSEUDONYM_KEY", secret + "\n")
    assert from_file.equals(pseudonymise(ids))
    monkeypatch.setenv("TIM_PSEUDONYM_KEY", OTHER_KEY)
    assert from_file.equals(pseudonymise(ids, key_file=path))
    monkeypatch.delenv("TIM_PSEUDONYM_KEY")
    monkeypatch.setenv("TIM_PSEUDONYM_KEY_FILE", str(path))
    assert from_file.equals(pseudonymise(ids))
    with pytest.raises(DataError, match="either key or key_file"):
        pseudonymise(ids, key=KEY, key_file=path)


def test_make_key_file_refuses_to_overwrite(tmp_path):
    path = make_key_file(tmp_path / "k")
    before = path.read_text()
    with pytest.raises(DataError, match="already exists"):
        make_key_file(path)
    assert path.read_text() == before
    make_key_file(path, overwrite=True)
    assert path.read_text() != before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_others_can_read_is_refused_with_the_fix(ids, tmp_path, no_key_env, mode):
    path = make_key_file(tmp_path / "k")
    path.chmod(mode)
    with pytest.raises(DataError, match=r"chmod 600 .*k` and run again"):
        pseudonymise(ids, key_file=path)
    path.chmod(0o600)
    assert len(pseudonymise(ids, key_file=path)) == len(ids)


def test_missing_key_file_raises(ids, tmp_path, no_key_env):
    with pytest.raises(DataError, match="does not exist"):
        pseudonymise(ids, key_file=tmp_path / "absent.key")


def test_integral_numbers_and_their_text_share_pseudonyms(no_key_env):
    out = pseudonymise(pd.Series([17, 17.0, "17", 17.5, np.int64(17)]), key=KEY)
    assert out[0] == out[1] == out[2] == out[4]
    assert out[3] != out[0]


def test_pseudonymise_options_are_checked(ids, no_key_env):
    for bad in (7, 53, 2.5, True):
        with pytest.raises(DataError, match="length"):
            pseudonymise(ids, key=KEY, length=bad)
    assert pseudonymise(ids, key=KEY, alphabet="hex", length=64).str.len().max() == 65
    with pytest.raises(DataError, match="alphabet"):
        pseudonymise(ids, key=KEY, alphabet="base64")
    with pytest.raises(DataError, match="Series"):
        pseudonymise(ids.to_frame(), key=KEY)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=40, unique=True))
def test_distinct_ids_give_distinct_pseudonyms(values):
    index = pd.Index(np.arange(len(values))[::-1] * 3 + 5)
    out = pseudonymise(pd.Series(values, index=index, dtype=object), key=KEY, key_env=None)
    assert out.index.equals(index)
    assert out.nunique() == len(values)


# --------------------------------------------------------------------------- files


def test_pseudonymise_file_csv_keeps_everything_else(tmp_path, no_key_env):
    src = tmp_path / "raw.csv"
    src.write_text(
        "case_number,brs_1,brs_score,site\n007,4,3.10,North\n008,,2.50,South\n,1,1.00,North\n"
        "007,2,4.25,East\n"
    )
    dst = tmp_path / "out" / "pseudo.csv"
    out = pseudonymise_file(src, dst, columns=["case_number"], key=KEY)
    written = pd.read_csv(dst, dtype=str, keep_default_na=False)
    original = pd.read_csv(src, dtype=str, keep_default_na=False)
    assert list(written.columns) == list(original.columns)
    pd.testing.assert_frame_equal(
        written.drop(columns="case_number"), original.drop(columns="case_number")
    )
    assert written["case_number"].tolist()[2] == ""
    assert written.loc[0, "case_number"] == written.loc[3, "case_number"]
    expected = pseudonymise(pd.Series(["007", "008"]), key=KEY)
    assert written["case_number"].tolist()[:2] == expected.tolist()
    assert out["case_number"].tolist() == written["case_number"].tolist()
    assert "007" not in dst.read_text()


def test_pseudonymise_file_warns_about_remaining_identifiers(tmp_path, no_key_env):
    dst = tmp_path / "people_pseudo.csv"
    with pytest.warns(IdentifierWarning) as rec:
        pseudonymise_file(
            DATA / "people.csv", dst, columns=["youth_id", "nhs_number"], key_file=None, key=KEY
        )
    message = str(rec[0].message)
    assert "first_name" in message and "email" in message
    assert "nhs_number" not in message
    people = pd.read_csv(DATA / "people.csv", dtype=str)
    for value in people["email"].tolist() + people["first_name"].tolist():
        assert value not in message


def test_pseudonymise_file_refuses_bad_calls(tmp_path, no_key_env):
    src = tmp_path / "raw.csv"
    src.write_text("case_number,brs_1\n1,2\n")
    with pytest.raises(DataError, match="input file"):
        pseudonymise_file(src, src, columns="case_number", key=KEY)
    with pytest.raises(DataError, match="no column"):
        pseudonymise_file(src, tmp_path / "o.csv", columns="mrn", key=KEY)
    with pytest.raises(DataError, match="must end in"):
        pseudonymise_file(src, tmp_path / "o.txt", columns="case_number", key=KEY)
    with pytest.raises(DataError, match="no pseudonym key"):
        pseudonymise_file(src, tmp_path / "o.csv", columns="case_number")
    assert not (tmp_path / "o.csv").exists()


def test_pseudonymise_file_parquet(tmp_path, no_key_env):
    src = tmp_path / "raw.parquet"
    pd.DataFrame({"mrn": [1001, 1002, 1001], "brs_1": [1, 2, 3]}).to_parquet(src)
    dst = tmp_path / "out.parquet"
    pseudonymise_file(src, dst, columns="mrn", key=KEY)
    back = pd.read_parquet(dst)
    assert back["brs_1"].tolist() == [1, 2, 3]
    assert (
        back["mrn"].tolist() == pseudonymise(pd.Series(["1001", "1002", "1001"]), key=KEY).tolist()
    )


# --------------------------------------------------------------------------- identifiers

# column -> (kind, evidence) for every identifier column of tests/data/identifiers/people.csv
PEOPLE_IDENTIFIERS = {
    "first_name": ("name", "name"),
    "last_name": ("name", "name"),
    "guardian_name": ("name", "name"),
    "participant": ("name", "content"),
    "email": ("email", "name"),
    "contact": ("email", "content"),
    "phone": ("phone", "name"),
    "emergency": ("phone", "content"),
    "home_address": ("address", "name"),
    "residence_line": ("address", "content"),
    "postcode": ("postcode", "name"),
    "area_code": ("postcode", "content"),
    "dob": ("birth_date", "name"),
    "born_on": ("birth_date", "content"),
    "var17": ("birth_date", "content"),
    "nhs_number": ("record_number", "name"),
    "ref": ("record_number", "content"),
    "tax_ref": ("record_number", "content"),
    "medicaid_id": ("record_number", "name"),
    "case_number": ("record_number", "name"),
    "case_notes": ("notes", "name"),
    "worker_summary": ("notes", "content"),
}


@pytest.fixture(scope="module")
def people():
    df = pd.read_csv(DATA / "people.csv")
    return df.set_index(pd.Index(np.arange(len(df))[::-1] * 7 + 100))


def test_identifier_fixture_is_realistic(people):
    research = [c for c in people.columns if c not in PEOPLE_IDENTIFIERS]
    assert len(people.columns) >= 20
    assert len(research) >= 15 and len(PEOPLE_IDENTIFIERS) >= 15


def test_find_identifiers_on_realistic_columns(people):
    found = find_identifiers(people)
    assert list(found.columns) == ["column", "kind", "reason", "evidence"]
    got = {c: (k, e) for c, k, e in zip(found["column"], found["kind"], found["evidence"])}
    assert got == PEOPLE_IDENTIFIERS
    order = [c for c in people.columns if c in PEOPLE_IDENTIFIERS]
    assert found["column"].tolist() == order


def test_reasons_never_contain_values(people):
    found = find_identifiers(people)
    for col, reason in zip(found["column"], found["reason"]):
        for value in people[col].dropna().astype(str):
            assert value not in reason


def test_allow_removes_columns(people):
    found = find_identifiers(people, allow=["dob", "participant"])
    assert "dob" not in found["column"].tolist()
    assert "participant" not in found["column"].tolist()
    assert len(found) == len(PEOPLE_IDENTIFIERS) - 2


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("firstName", "name"),
        ("LastName", "name"),
        ("Full Name", "name"),
        ("surname", "name"),
        ("guardian_name", "name"),
        ("ParentName", "name"),
        ("name", "name"),
        ("e_mail", "email"),
        ("EmailAddress", "email"),
        ("mobile_number", "phone"),
        ("tel", "phone"),
        ("home_phone", "phone"),
        ("street", "address"),
        ("address_line_1", "address"),
        ("zip", "postcode"),
        ("ZipCode", "postcode"),
        ("postal_code", "postcode"),
        ("dob", "birth_date"),
        ("DateOfBirth", "birth_date"),
        ("birth_date", "birth_date"),
        ("youth_dob", "birth_date"),
        ("ssn", "record_number"),
        ("nhs_no", "record_number"),
        ("mrn", "record_number"),
        ("medicaid_id", "record_number"),
        ("case_number", "record_number"),
        ("CaseNo", "record_number"),
        ("ip_address", "ip_address"),
        ("latitude", "location"),
        ("notes", "notes"),
        ("mentor_comments", "notes"),
    ],
)
def test_identifier_names_are_flagged(name, kind):
    df = pd.DataFrame({name: [np.nan, np.nan, np.nan]}, index=[5, 2, 9])
    found = find_identifiers(df)
    assert found["column"].tolist() == [name]
    assert found["kind"].tolist() == [kind]
    assert found["evidence"].tolist() == ["name"]


RESEARCH_COLUMNS = {
    "ace10_3": [0, 1, 1, 0, 1, 0],
    "ace10_10": [1, 0, 0, 0, 1, 1],
    "brs_1": [1, 5, 3, 4, 2, 3],
    "proqol5_12": [3, 4, 5, 2, 1, 3],
    "cyrm_r_17": [2, 3, 4, 5, 1, 2],
    "stss_4": [1, 2, 2, 3, 4, 5],
    "brs_score": [3.5, 2.1, 4.0, 3.3, 1.8, 2.6],
    "proqol5_burnout": [22.0, 25.0, 19.0, 30.0, 27.0, 21.0],
    "site": ["North", "South", "East", "North", "West", "South"],
    "wave": ["baseline", "6m", "12m", "baseline", "6m", "12m"],
    "gender": ["girl", "boy", "nonbinary", "girl", "boy", "girl"],
    "age": [12, 14, 16, 11, 15, 13],
    "youth_id": ["Y0001", "Y0002", "Y0003", "Y0004", "Y0005", "Y0006"],
    "mentor_id": ["M001", "M002", "M003", "M004", "M005", "M006"],
    "match_id": ["X0001", "X0002", "X0003", "X0004", "X0005", "X0006"],
    "meeting_id": ["X0001-001", "X0001-002", "X0002-001", "X0003-001", "X0003-002", "X0004-001"],
    "site_name": ["North Leeds", "South Leeds", "East Hull", "North Leeds", "West York", "Hull"],
    "program_name": ["Step Up"] * 6,
    "email_consent": [True, False, True, True, False, True],
    "phone_type": ["mobile", "landline", "mobile", "none", "mobile", "mobile"],
    "birth_order": [1, 2, 1, 3, 1, 2],
    "birth_year": [2010, 2008, 2011, 2012, 2009, 2010],
    "country_of_birth": ["UK", "Poland", "UK", "Nigeria", "UK", "India"],
    "months": [0, 6, 12, 0, 6, 12],
    "closure_reason": ["planned completion", "moved away", None, "youth withdrew", None, None],
    "referral_source": ["school", "family", "self", "court", "school", "family"],
    "race_ethnicity": ["Black", "White", "Hispanic or Latino", "Asian", "White", "Black"],
    "training_hours": [24.0, 5.0, 12.0, 8.0, 16.0, 20.0],
    "n_answered": [6, 6, 5, 6, 4, 6],
    "enrolment_date": [
        "2013-01-10",
        "2014-03-02",
        "2012-09-30",
        "2015-05-05",
        "2016-11-11",
        "2013-07-07",
    ],
    "start_date": [
        "2013-02-10",
        "2014-04-02",
        "2012-10-30",
        "2015-06-05",
        "2016-12-11",
        "2013-08-07",
    ],
    "survey_date": [
        "2023-01-10",
        "2023-03-02",
        "2022-09-30",
        "2023-05-05",
        "2023-11-11",
        "2023-07-07",
    ],
}


def test_research_columns_are_not_flagged():
    df = pd.DataFrame(RESEARCH_COLUMNS, index=[9, 3, 7, 1, 5, 11])
    assert find_identifiers(df).empty
    dated = df.assign(
        enrolment_date=pd.to_datetime(df["enrolment_date"]),
        start_date=pd.to_datetime(df["start_date"]),
        survey_date=pd.to_datetime(df["survey_date"]),
    )
    assert find_identifiers(dated).empty


def test_birth_dates_found_by_content_with_datetimes():
    survey = pd.to_datetime(["2023-01-10", "2023-03-02", "2022-09-30", "2023-05-05", "2023-11-11"])
    born = pd.to_datetime(["2010-04-01", "2008-12-12", "2012-02-29", "2011-07-15", "2009-10-01"])
    df = pd.DataFrame({"survey_date": survey, "d1": born, "youth_birth": born})
    found = find_identifiers(df)
    assert found["column"].tolist() == ["d1", "youth_birth"]
    assert set(found["evidence"]) == {"content"}
    alone = find_identifiers(df[["d1"]])
    assert alone.empty


def test_sample_program_has_no_identifiers(tmp_path):
    from tim_research.program import read_program

    synth.write_sample(tmp_path, n_youth=40)
    program = read_program(tmp_path)
    for name in ("youth", "surveys", "mentors", "mentor_surveys", "matches", "meetings"):
        assert find_identifiers(getattr(program, name)).empty, name
    merged = program.meetings.merge(program.matches, on="match_id").merge(
        program.youth, on="youth_id"
    )
    assert find_identifiers(merged).empty


def test_planted_identifiers_in_sample_program_are_found(tmp_path):
    synth.write_sample(tmp_path, n_youth=30)
    youth = pd.read_csv(tmp_path / "youth.csv")
    youth["guardian"] = [f"parent{i}@example.org" if i == 17 else "" for i in range(len(youth))]
    found = find_identifiers(youth)
    assert found["column"].tolist() == ["guardian"]
    assert found["kind"].tolist() == ["email"]


def test_check_no_identifiers_message_names_columns_not_values(people):
    planted = people[["youth_id", "brs_1", "contact", "dob"]].copy()
    with pytest.raises(IdentifierError) as err:
        check_no_identifiers(planted, table="youth")
    message = str(err.value)
    assert isinstance(err.value, DataError)
    assert "contact" in message and "dob" in message
    assert "email address" in message and "date of birth" in message
    assert "allow=['youth.contact', 'youth.dob']" in message
    assert "brs_1" not in message and "youth_id" not in message
    for value in planted["contact"].dropna().tolist() + planted["dob"].tolist():
        assert value not in message
    assert err.value.findings["column"].tolist() == ["contact", "dob"]
    check_no_identifiers(planted, allow=["youth.contact", "dob"], table="youth")
    check_no_identifiers(planted, allow=["contact", "dob"])


def test_find_identifiers_checks_its_input():
    with pytest.raises(DataError, match="DataFrame"):
        find_identifiers(pd.Series([1, 2]))
    with pytest.raises(DataError, match="duplicated columns"):
        find_identifiers(pd.DataFrame([[1, 2]], columns=["a", "a"]))


# --------------------------------------------------------------------------- suppression


def _with_margins(interior: np.ndarray, total_row: bool, total_column: bool) -> pd.DataFrame:
    r, c = interior.shape
    table = pd.DataFrame(
        interior,
        index=[f"row{i}" for i in range(r)][::-1],
        columns=[f"col{j}" for j in range(c)],
    )
    if total_column:
        table["Total"] = table.sum(axis=1)
    if total_row:
        table.loc["Total"] = table.sum(axis=0)
    return table


def _grid(
    table: pd.DataFrame, total_row: bool, total_column: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(values, shown) of the table with margins in the last row and column."""
    inner_rows = [i for i in table.index if not (total_row and i == "Total")]
    inner_cols = [c for c in table.columns if not (total_column and c == "Total")]
    x = table.loc[inner_rows, inner_cols].to_numpy(dtype=float)
    r, c = x.shape
    values = np.zeros((r + 1, c + 1))
    values[:r, :c] = x
    values[:r, c] = x.sum(axis=1)
    values[r, :c] = x.sum(axis=0)
    values[r, c] = x.sum()
    shown = np.zeros((r + 1, c + 1), dtype=bool)
    shown[:r, :c] = True
    shown[:r, c] = total_column
    shown[r, :c] = total_row
    shown[r, c] = total_row and total_column
    return values, shown


def _grid_mask(mask: pd.DataFrame, total_row: bool, total_column: bool) -> np.ndarray:
    inner_rows = [i for i in mask.index if not (total_row and i == "Total")]
    inner_cols = [c for c in mask.columns if not (total_column and c == "Total")]
    r, c = len(inner_rows), len(inner_cols)
    out = np.zeros((r + 1, c + 1), dtype=bool)
    out[:r, :c] = mask.loc[inner_rows, inner_cols].to_numpy()
    if total_column:
        out[:r, c] = mask.loc[inner_rows, "Total"].to_numpy()
    if total_row:
        out[r, :c] = mask.loc["Total", inner_cols].to_numpy()
    if total_row and total_column:
        out[r, c] = mask.loc["Total", "Total"]
    return out


def _published(r: int, c: int, total_row: bool, total_column: bool) -> np.ndarray:
    """Totals a reader knows with ``totals_published=True``: shown, masked or left out.

    A row's total is a sum of several cells when there are two columns or more (a column's
    likewise); the grand total of one row (column) is that row's (column's) total.
    """
    known = np.zeros((r + 1, c + 1), dtype=bool)
    known[:r, c] = c >= 2
    known[r, :c] = r >= 2
    known[r, c] = r * c >= 2
    return known


def _exactly_derivable(hidden: np.ndarray, unknown_totals: np.ndarray) -> list[tuple[int, int]]:
    """Hidden cells that follow exactly from the row and column equations of the grid.

    Every row of the grid (interior cells + row total) and every column (interior cells +
    column total), including the totals row and column, gives one linear equation. Unknowns
    are the hidden cells and the totals nobody knows; a hidden cell is derivable when its unit
    vector lies in the row space of the equations restricted to the unknowns.
    """
    rows, cols = hidden.shape
    unknown = hidden | unknown_totals
    cells = [(i, j) for i in range(rows) for j in range(cols) if unknown[i, j]]
    if not cells:
        return []
    col_of = {cell: k for k, cell in enumerate(cells)}
    equations = []
    for i in range(rows):
        eq = np.zeros(len(cells))
        for j in range(cols):
            if unknown[i, j]:
                eq[col_of[(i, j)]] = -1.0 if j == cols - 1 else 1.0
        equations.append(eq)
    for j in range(cols):
        eq = np.zeros(len(cells))
        for i in range(rows):
            if unknown[i, j]:
                eq[col_of[(i, j)]] = -1.0 if i == rows - 1 else 1.0
        equations.append(eq)
    a = np.array(equations)
    rank = np.linalg.matrix_rank(a)
    out = []
    for cell in cells:
        if not hidden[cell]:
            continue
        unit = np.zeros(len(cells))
        unit[col_of[cell]] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.append(cell)
    return out


count = st.one_of(st.integers(0, 4), st.integers(0, 40), st.just(0), st.integers(1, 4))


@st.composite
def count_tables(draw, min_side=1):
    r = draw(st.integers(min_side, 5))
    c = draw(st.integers(min_side, 5))
    values = draw(st.lists(count, min_size=r * c, max_size=r * c))
    return np.array(values, dtype=np.int64).reshape(r, c)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count_tables(), st.sampled_from([3, 5, 10]))
def test_masked_cells_cannot_be_recovered_from_shown_totals(interior, min_cell):
    table = _with_margins(interior, total_row=True, total_column=True)
    mask = suppression_mask(table, min_cell=min_cell, total_row="Total", total_column="Total")
    assert mask.index.equals(table.index) and mask.columns.equals(table.columns)
    values, _ = _grid(table, True, True)
    hidden = _grid_mask(mask, True, True)
    small = (values > 0) & (values < min_cell)
    assert (hidden | ~small).all(), "a count below min_cell is shown"
    # the totals are published (group sizes appear elsewhere): a masked total stays known, so
    # only the other hidden cells protect one another
    r, c = interior.shape
    unknown = hidden & ~_published(r, c, True, True)
    for line in [*unknown, *unknown.T]:
        assert line.sum() in (0,) or line.sum() >= 2
    assert _exactly_derivable(unknown, np.zeros_like(hidden)) == []
    inner_lines = [
        *zip(values[:r], hidden[:r], small[:r]),
        *zip(values.T[:c], hidden.T[:c], small.T[:c]),
    ]
    for line_v, line_h, line_s in inner_lines:
        k = int((line_h & line_s).sum())
        # a line whose cells are all hidden has nothing left to add: its published total is
        # all a reader learns
        if k and not line_h[:-1].all() and not line_h[-1]:
            assert (line_h & ~line_s).any()
            assert line_v[line_h].sum() >= 2 * min_cell + k - 2


def _check_layout(interior, total_row, total_column, published):
    table = _with_margins(interior, total_row, total_column)
    mask = suppression_mask(
        table,
        min_cell=5,
        total_row="Total" if total_row else None,
        total_column="Total" if total_column else None,
        totals_published=published,
    )
    values, shown = _grid(table, total_row, total_column)
    hidden = _grid_mask(mask, total_row, total_column)
    r, c = interior.shape
    # published totals are known to the reader whether shown, masked or left out
    pub = _published(r, c, total_row, total_column) if published else np.zeros_like(shown)
    assert not (hidden & ~shown).any()
    assert ((values[shown] == 0) | (values[shown] >= 5) | hidden[shown]).all()
    assert _exactly_derivable(hidden & ~pub, ~shown & ~pub) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count_tables(), st.booleans(), st.booleans(), st.booleans())
def test_masked_cells_cannot_be_recovered_in_any_layout(
    interior, total_row, total_column, published
):
    _check_layout(interior, total_row, total_column, published)


# tables where pairing hidden cells line by line still leaves one that the totals give away
# (a hidden cell on no cycle of hidden cells), so a further complement is needed
@pytest.mark.parametrize(
    ("interior", "total_row", "total_column"),
    [
        (
            [[46, 50, 58, 4], [1, 29, 6, 25], [40, 20, 1, 4], [38, 5, 39, 50], [10, 8, 59, 17]],
            True,
            True,
        ),
        (
            [
                [45, 10, 42, 46, 2],
                [19, 1, 7, 10, 3],
                [46, 5, 23, 30, 18],
                [4, 42, 42, 14, 23],
                [14, 57, 22, 3, 20],
            ],
            False,
            False,
        ),
        ([[58, 4, 0, 0], [5, 3, 40, 2], [40, 21, 1, 11], [4, 14, 54, 41]], False, True),
    ],
)
def test_masked_cells_on_no_cycle_get_another_complement(interior, total_row, total_column):
    _check_layout(np.array(interior), total_row, total_column, True)


def test_unpublished_hidden_totals_need_no_complements():
    t = pd.DataFrame({"a": [3, 20], "b": [15, 18]})
    mask = suppression_mask(t, totals_published=False)
    assert mask.to_numpy().tolist() == [[True, False], [False, False]]
    assert suppression_mask(t).to_numpy().sum() >= 4


def test_zeros_are_shown_unless_asked():
    t = pd.DataFrame({"a": [0, 20, 30], "b": [15, 18, 0]}, index=["x", "y", "z"])
    assert not suppression_mask(t).to_numpy().any()
    masked = suppression_mask(t, mask_zeros=True)
    assert masked.loc["x", "a"] and masked.loc["z", "b"]


def test_suppress_display_and_derived_columns():
    t = pd.DataFrame(
        {
            "site": ["North", "South", "East", "West"],
            "n": [3, 40, 25, 31],
            "pct": [3 / 99, 40 / 99, 25 / 99, 31 / 99],
        },
        index=[12, 4, 8, 1],
    )
    with pytest.warns(SmallCellWarning, match="1 count") as rec:
        out = suppress(t, derived={"pct": "n"})
    assert "3" not in str(rec[0].message).replace("min_cell=5", "")
    assert out.index.equals(t.index) and list(out.columns) == list(t.columns)
    assert out.loc[12, "n"] == "<5"
    assert out.loc[12, "pct"] == "x"
    hidden = out["n"] == "x"
    assert hidden.sum() == 1
    assert (out.loc[hidden, "pct"] == "x").all()
    assert out["site"].tolist() == t["site"].tolist()
    shown = out["n"].map(lambda v: not isinstance(v, str))
    assert (out.loc[shown, "n"] == t.loc[shown, "n"]).all()


def test_suppress_crosstab_with_margins_never_shows_zero_for_masked():
    youth = pd.DataFrame(
        {
            "site": ["N"] * 12 + ["S"] * 9 + ["E"] * 20,
            "gender": ["girl"] * 9
            + ["boy"] * 2
            + ["nonbinary"] * 1
            + ["girl"] * 5
            + ["boy"] * 4
            + ["girl"] * 11
            + ["boy"] * 9,
        }
    )
    table = pd.crosstab(youth["site"], youth["gender"], margins=True)
    with pytest.warns(SmallCellWarning):
        out = suppress(table, total_row="All", total_column="All", mask="<{min_cell}")
    hidden = suppression_mask(table, total_row="All", total_column="All").to_numpy()
    shown_text = out.to_numpy()
    assert set(shown_text[hidden]) <= {"<5", "x"}
    assert not (shown_text[hidden] == 0).any()
    assert out.loc["N", "nonbinary"] == "<5"
    assert out.loc["N", "boy"] == "<5"
    assert out.loc["S", "boy"] == "<5"


def test_suppress_no_warning_when_nothing_is_masked():
    t = pd.DataFrame({"a": [10, 0], "b": [7, 12]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = suppress(t)
    assert out.to_numpy().tolist() == [[10, 7], [0, 12]]


@pytest.mark.parametrize(
    ("table", "kwargs", "match"),
    [
        (pd.DataFrame({"a": [1.0, np.nan]}), {}, "missing counts"),
        (pd.DataFrame({"a": [1, -2]}), {}, "whole non-negative"),
        (pd.DataFrame({"a": [1.5, 2.0]}), {}, "whole non-negative"),
        (pd.DataFrame({"a": [1, 2]}), {"total_row": "Total"}, "total_row"),
        (pd.DataFrame({"a": [1, 2]}), {"mask": "0"}, "not a number"),
        (pd.DataFrame({"a": [1, 2]}), {"min_cell": 0}, "min_cell"),
        (pd.DataFrame({"a": ["x", "y"]}), {}, "no numeric count columns"),
        (pd.DataFrame({"a": [1, 2]}), {"derived": {"pct": "a"}}, "no column 'pct'"),
        (
            pd.DataFrame({"a": [1, 2], "b": [3, 4], "pct": [0.1, 0.2]}),
            {"derived": {"pct": "b"}, "count_columns": ["a"]},
            "not among the count columns",
        ),
    ],
)
def test_suppress_rejects_bad_input(table, kwargs, match):
    with pytest.raises(DataError, match=match):
        suppress(table, **kwargs)


# --------------------------------------------------------------------------- k-anonymity


@pytest.fixture
def persons():
    return pd.DataFrame(
        {
            "youth_id": ["Y0004", "Y0002", "Y0007", "Y0001", "Y0005", "Y0003", "Y0006"],
            "site": ["N", "N", "S", "N", "S", "N", "S"],
            "gender": ["girl", "girl", "boy", "girl", "boy", np.nan, np.nan],
            "change": [-4.0, 2.5, 6.0, -1.0, 0.5, 3.0, -2.0],
        },
        index=[70, 20, 50, 10, 40, 60, 30],
    )


def test_k_anonymity_classes_and_rows_at_risk(persons):
    res = k_anonymity(persons, ["site", "gender"], k=3)
    assert isinstance(res, KAnonymity)
    assert res.k_min == 1
    assert res.n_classes == 4
    assert res.n_rows == 7
    assert sorted(res.rows_at_risk) == [30, 40, 50, 60]
    assert not res.is_k_anonymous
    frame = res.to_frame()
    assert list(frame.columns) == ["site", "gender", "size"]
    assert frame["size"].sum() == 7
    assert frame["size"].is_monotonic_increasing
    assert frame["size"].tolist() == [1, 1, 2, 3]
    assert "k-anonymity" in res._repr_html_()
    assert k_anonymity(persons, "site", k=3).is_k_anonymous


def test_k_anonymity_counts_missing_as_a_value(persons):
    res = k_anonymity(persons, "gender", k=2)
    assert res.n_classes == 3
    assert res.k_min == 2
    assert list(res.rows_at_risk) == []


def test_k_anonymity_checks_input(persons):
    with pytest.raises(DataError, match="no column"):
        k_anonymity(persons, ["postcode"])
    with pytest.raises(DataError, match="at least one"):
        k_anonymity(persons, [])
    with pytest.raises(DataError, match="duplicated"):
        k_anonymity(persons.set_index(pd.Index([1, 1, 2, 3, 4, 5, 6])), "site")
    empty = k_anonymity(persons.iloc[:0], "site")
    assert empty.k_min == 0 and empty.n_classes == 0 and empty.is_k_anonymous


def test_safe_person_table_needs_permission(persons, no_key_env):
    with pytest.raises(DataError, match="allow_person_level=True"):
        safe_person_table(persons, id_column="youth_id", key=KEY)


def test_safe_person_table_pseudonymises_and_warns(persons, no_key_env):
    with pytest.warns(ReidentificationRiskWarning, match="4 of 7 rows") as rec:
        out = safe_person_table(
            persons,
            id_column="youth_id",
            allow_person_level=True,
            key=KEY,
            quasi_identifiers=["site", "gender"],
            k=3,
        )
    assert "Y000" not in str(rec[0].message)
    assert out.index.equals(persons.index)
    assert out["youth_id"].tolist() == pseudonymise(persons["youth_id"], key=KEY).tolist()
    pd.testing.assert_frame_equal(out.drop(columns="youth_id"), persons.drop(columns="youth_id"))
    by_index = safe_person_table(
        persons.set_index("youth_id"), id_column="youth_id", allow_person_level=True, key=KEY
    )
    assert by_index.index.tolist() == out["youth_id"].tolist()


def test_safe_person_table_refuses_identifier_columns(persons, no_key_env):
    planted = persons.assign(email=[f"kid{i}@example.org" for i in range(7)])
    with pytest.raises(IdentifierError) as err:
        safe_person_table(planted, id_column="youth_id", allow_person_level=True, key=KEY)
    assert "email" in str(err.value)
    assert "example.org" not in str(err.value)
    with pytest.raises(DataError, match="no pseudonym key"):
        safe_person_table(persons, id_column="youth_id", allow_person_level=True)


def test_pseudonymise_file_failed_write_keeps_the_previous_output(
    tmp_path, no_key_env, monkeypatch
):
    src = tmp_path / "raw.csv"
    src.write_text("case_number,brs_1\n007,2\n")
    dst = tmp_path / "pseudo.csv"
    dst.write_text("previous pseudonymised copy\n")

    def half_write(self, target, *args, **kwargs):
        with open(target, "w") as f:
            f.write("case_number,br")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_write)
    with pytest.raises(OSError, match="No space left"):
        pseudonymise_file(src, dst, columns="case_number", key=KEY)
    assert dst.read_text() == "previous pseudonymised copy\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pseudo.csv", "raw.csv"]


def test_pseudonymise_file_reads_a_semicolon_windows_export(tmp_path, no_key_env):
    src = tmp_path / "raw.csv"
    src.write_bytes("case_number;site;brs_1\n007;Bogotá;\n008;Medellín;4\n".encode("cp1252"))
    dst = tmp_path / "pseudo.csv"
    pseudonymise_file(src, dst, columns="case_number", key=KEY)
    written = pd.read_csv(dst, dtype=str, keep_default_na=False)
    assert written["site"].tolist() == ["Bogotá", "Medellín"]
    assert written["brs_1"].tolist() == ["", "4"]
    assert (
        written["case_number"].tolist() == pseudonymise(pd.Series(["007", "008"]), key=KEY).tolist()
    )


def test_hidden_cells_of_a_line_never_add_up_to_zero():
    # events / non-events of four groups: each 1 needs a complement in its row, where only
    # the 0 events are left; hidden, the events column's 0s would add up to 5 - 5 = 0 and
    # so be known, and with them the 1s
    t = pd.DataFrame({"events": [0, 0, 0, 5], "non_events": [1, 1, 4, 0]})
    mask = suppression_mask(t, min_cell=3).to_numpy()
    values = t.to_numpy()
    assert mask[:2].all()
    for line_v, line_h in [*zip(values, mask), *zip(values.T, mask.T)]:
        if line_h.any():
            assert line_v[line_h].sum() > 0


def _stat_meta(path):
    """Data and metadata of an SPSS/Stata file as pyreadstat reads it, missing values kept."""
    import pyreadstat

    reader = pyreadstat.read_dta if path.suffix == ".dta" else pyreadstat.read_sav
    return reader(str(path), user_missing=True)


def _compare_untouched(src, dst, id_column):
    before, meta_before = _stat_meta(src)
    after, meta_after = _stat_meta(dst)
    others = [c for c in before.columns if c != id_column]
    assert after.columns.tolist() == before.columns.tolist()
    pd.testing.assert_frame_equal(after[others], before[others])
    for attr in [
        "variable_value_labels",
        "missing_ranges",
        "missing_user_values",
        "variable_measure",
        "original_variable_types",
    ]:
        want = {c: v for c, v in (getattr(meta_before, attr) or {}).items() if c != id_column}
        got = {c: v for c, v in (getattr(meta_after, attr) or {}).items() if c != id_column}
        assert got == want, attr
    labels_before = dict(zip(meta_before.column_names, meta_before.column_labels, strict=True))
    labels_after = dict(zip(meta_after.column_names, meta_after.column_labels, strict=True))
    assert labels_after == labels_before
    return before, after


def test_pseudonymise_file_sav_keeps_codes_labels_and_missing_values(tmp_path, no_key_env):
    import pyreadstat

    src, dst = tmp_path / "in.sav", tmp_path / "out.sav"
    frame = pd.DataFrame(
        {
            "rid": [101.0, 102.0, 103.0, 101.0],
            "q1": [1.0, 2.0, 99.0, 1.0],  # 99 "Refused" is user-missing
            "q2": [5.0, 95.0, 3.0, np.nan],  # 90-99 user-missing
            "score": [1.5, np.nan, 2.25, 3.0],
            "site": ["North", "South", "", "North"],
        }
    )
    pyreadstat.write_sav(
        frame,
        str(src),
        column_labels={"rid": "Record", "q1": "Question 1", "score": "Score", "site": "Site"},
        variable_value_labels={
            "q1": {1.0: "No", 2.0: "Yes", 99.0: "Refused"},
            "q2": {1.0: "Low", 5.0: "High", 95.0: "Not asked"},
        },
        missing_ranges={"q1": [99.0], "q2": [{"lo": 90.0, "hi": 99.0}]},
        variable_format={"rid": "F8.0", "q1": "F2.0", "q2": "F3.0", "score": "F8.2"},
        variable_measure={"q1": "nominal", "q2": "ordinal", "score": "scale"},
    )
    pseudonymise_file(src, dst, columns="rid", key=KEY)
    before, after = _compare_untouched(src, dst, "rid")
    # the coded columns are still codes (not label text), user-missing values kept as values
    assert after["q1"].tolist() == frame["q1"].tolist()
    expected = pseudonymise(pd.Series(["101", "102", "103", "101"]), key=KEY)
    assert after["rid"].tolist() == expected.tolist()


def test_pseudonymise_file_dta_keeps_codes_labels_and_missing_values(tmp_path, no_key_env):
    import pyreadstat

    src, dst = tmp_path / "in.dta", tmp_path / "out.dta"
    frame = pd.DataFrame(
        {
            "mrn": ["A1", "B2", "A1", "C3"],
            "q1": pd.Series([1.0, "a", 2.0, np.nan], dtype=object),  # .a: extended missing
            "score": [1.5, 2.5, np.nan, 4.0],
        }
    )
    pyreadstat.write_dta(
        frame,
        str(src),
        column_labels={"mrn": "Record number", "q1": "Question 1"},
        variable_value_labels={"q1": {1: "No", 2: "Yes"}},
        missing_user_values={"q1": ["a"]},
    )
    pseudonymise_file(src, dst, columns="mrn", key=KEY)
    _, after = _compare_untouched(src, dst, "mrn")
    assert after["mrn"].tolist() == pseudonymise(frame["mrn"], key=KEY).tolist()


def test_pseudonymise_file_sav_to_csv_writes_codes(tmp_path, no_key_env):
    import pyreadstat

    src, dst = tmp_path / "in.sav", tmp_path / "out.csv"
    frame = pd.DataFrame({"rid": [1.0, 2.0], "q1": [1.0, 2.0]})
    pyreadstat.write_sav(frame, str(src), variable_value_labels={"q1": {1.0: "No", 2.0: "Yes"}})
    pseudonymise_file(src, dst, columns="rid", key=KEY)
    assert pd.read_csv(dst)["q1"].tolist() == [1, 2]


def test_free_text_columns_are_flagged_by_one_value():
    ordinary = ["school", "self", "Social Services", "Youth Court", "family"] * 40
    for value, kind in [
        ("Dr Jane Smith GP", "name"),
        ("Smith, Jane", "name"),
        ("ring (020) 7946 0018 after 5", "phone"),
        ("see jane@example.org", "email"),
        ("lives at 4 Mill Lane", "address"),
    ]:
        df = pd.DataFrame({"referred_by": [*ordinary, value]})
        # judged by shares, one value in 201 is not enough (email addresses always were)
        assert find_identifiers(df).empty or kind == "email", value
        found = find_identifiers(df, free_text=["referred_by"])
        assert found["kind"].tolist() == [kind], value
        assert value not in found.to_string()
    # dates, study ids and ordinary labels are not identifiers
    plain = pd.DataFrame(
        {"referred_by": ["seen 2021-09-01", "Y0005", "X0001-012", "Youth Offending Team", "Mentor"]}
    )
    assert find_identifiers(plain, free_text=["referred_by"]).empty


def test_k_anonymity_duplicated_index_names_rows_not_labels():
    df = pd.DataFrame({"site": ["a", "b", "c"]}, index=["Y0005", "Y0007", "Y0005"])
    with pytest.raises(DataError, match=r"rows 1, 3 by position") as err:
        k_anonymity(df, ["site"], k=2)
    assert "Y0005" not in str(err.value)


def test_suppression_errors_name_rows_by_position_not_label():
    counts = pd.DataFrame(
        {"n": [3, 4, 5]}, index=["Dr Smith's clinic", "school", "Dr Smith's clinic"]
    )
    with pytest.raises(DataError, match=r"rows 1, 3 by position") as err:
        suppression_mask(counts, min_cell=5)
    assert "Smith" not in str(err.value)
    bad = pd.DataFrame({"n": [3.0, np.nan]}, index=["Dr Smith's clinic", "school"])
    with pytest.raises(DataError, match=r"rows 2 by position") as err:
        suppression_mask(bad, min_cell=5)
    assert "school" not in str(err.value)


def test_a_masked_total_that_is_published_elsewhere_protects_nothing(hidden_ranges):
    # a rare group at one site only: its count equals the published column total, so the
    # zeros beside it must be hidden too (and the rows they sit in completed), not the total
    t = pd.DataFrame(
        {
            "girl": [18, 6, 27, 15],
            "boy": [6, 8, 14, 18],
            "another": [0, 2, 0, 0],
            "ns": [0, 1, 1, 2],
        },
        index=["N", "S", "E", "W"],
    )
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    mask = suppression_mask(t, min_cell=5, total_row="Total", total_column="Total")
    inner, hidden = t.iloc[:-1, :-1].to_numpy(), mask.iloc[:-1, :-1].to_numpy()
    assert hidden[1, 2], "the count of 2 is hidden"
    assert hidden[:, 2].sum() >= 2, "another cell of its column is hidden with it"
    ranges = hidden_ranges(inner, hidden)
    exact = {cell: r for cell, r in ranges.items() if r[0] == r[1] and inner[cell] > 0}
    assert exact == {}
