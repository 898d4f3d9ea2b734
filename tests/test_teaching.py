"""The exercise checker, the private self-check, the offline site renderer and the BRFSS example."""

from __future__ import annotations

import importlib.util
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, external_path
from hypothesis import given
from hypothesis import strategies as st

from tim_research.errors import DataError, InvalidResponseError
from tim_research.report.site import build_site, render_page, teaching_notebook
from tim_research.views.teaching import check, exercise, self_check

# --------------------------------------------------------------------------- check()


def test_unanswered_placeholder_and_none_ask_for_an_answer():
    ex = exercise("1.1", expected=0.37, tolerance=0.01)
    for answer in (..., None):
        fb = check(answer, ex)
        assert fb.status == "unanswered" and not fb.correct
        assert "Replace ..." in fb.message


def test_answer_within_tolerance_is_correct_and_outside_is_not():
    ex = exercise("1.1", expected=0.37, tolerance=0.01, explanation="Well done.")
    assert check(0.37, ex).correct
    assert check(0.38, ex).correct
    assert check(np.float64(0.365), ex).correct
    assert check(0.3, ex).status == "not yet"
    assert check(0.37, ex).message == "Exercise 1.1: correct. Well done."


def test_percentage_for_a_share_and_share_for_a_percentage_are_named():
    share = exercise("1.1", expected=0.37, tolerance=0.006)
    assert check(37, share).status == "close"
    assert "percentage" in check(37, share).message
    percent = exercise("1.2", expected=37.0, tolerance=0.5)
    assert check(0.37, percent).status == "close"
    assert "asks for a percentage" in check(0.37, percent).message


def test_not_yet_says_higher_or_lower_and_gives_the_hint():
    ex = exercise("3.1", expected=0.09, tolerance=0.006, hint="Read the mentored row.")
    high, low = check(0.5, ex), check(-0.5, ex)
    assert "higher" in high.message and "lower" in low.message
    assert high.message.endswith("Hint: Read the mentored row.")


def test_near_miss_is_close():
    ex = exercise("1.3", expected=2.2, tolerance=0.05)
    assert check(2.3, ex).status == "close"


@pytest.mark.parametrize("answer", ["0.37", True, "37%", [0.37], float("nan")])
def test_answers_of_the_wrong_kind_get_a_format_hint(answer):
    fb = check(answer, exercise("1.1", expected=0.37, tolerance=0.01))
    assert fb.status == "wrong kind"
    assert "number" in fb.message


def test_choices_are_case_and_space_insensitive_and_others_are_refused():
    ex = exercise("1.4", expected="B", choices=["a", "b", "c"], hint="Think of groups.")
    assert check(" b ", ex).correct and check("B", ex).correct
    assert check("a", ex).status == "not yet"
    assert "Hint: Think of groups." in check("a", ex).message
    assert check("d", ex).status == "wrong kind"
    assert check(2, ex).status == "wrong kind"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"expected": float("inf")},
        {"expected": "b"},
        {"expected": "d", "choices": ["a", "b"]},
        {"expected": 1.0, "tolerance": -0.1},
        {"expected": True},
    ],
)
def test_bad_exercise_definitions_are_refused(kwargs):
    with pytest.raises(DataError):
        exercise("9.9", **kwargs)


def test_an_exercise_whose_answer_is_hidden_says_it_cannot_be_checked():
    # e.g. a share suppressed for a small site: the notebook still runs and says so kindly
    ex = exercise("3.4", expected=float("nan"), tolerance=0.01)
    for answer in (..., 0.1, "x"):
        fb = check(answer, ex)
        assert fb.status == "unavailable" and "cannot be checked" in fb.message


def test_check_needs_an_exercise():
    with pytest.raises(DataError, match="exercise"):
        check(1, 0.5)


def test_exercise_repr_hides_the_expected_answer():
    assert "0.4321" not in repr(exercise("1.1", expected=0.4321, tolerance=0.01))


@given(
    a=st.floats(-100, 100, allow_nan=False),
    b=st.floats(-100, 100, allow_nan=False),
    answer=st.floats(-1000, 1000, allow_nan=False),
)
def test_feedback_never_depends_on_the_expected_value_beyond_its_status(a, b, answer):
    # the message is one of a few fixed sentences: it cannot give the expected value away
    ex_a = exercise("x", expected=a, tolerance=0.01, hint="h")
    ex_b = exercise("x", expected=b, tolerance=0.01, hint="h")
    fa, fb = check(answer, ex_a), check(answer, ex_b)
    if fa.status == fb.status and ("higher" in fa.message) == ("higher" in fb.message):
        assert fa.message == fb.message


@given(
    expected=st.floats(-50, 50, allow_nan=False),
    tolerance=st.floats(0, 1),
    offset=st.floats(-1, 1),
)
def test_every_answer_within_tolerance_is_correct(expected, tolerance, offset):
    ex = exercise("x", expected=expected, tolerance=tolerance)
    assert check(expected + offset * tolerance, ex).correct


# --------------------------------------------------------------------------- self_check()

# ProQOL 5 form (Stamm 2009-2012): the items of each subscale, and the burnout items that are
# reverse scored (1<->5, 2<->4), as listed on the form's scoring page
CS = [3, 6, 12, 16, 18, 20, 22, 24, 27, 30]
BO = [1, 4, 8, 10, 15, 17, 19, 21, 26, 29]
STS = [2, 5, 7, 9, 11, 13, 14, 23, 25, 28]
BO_REVERSED = {1, 4, 15, 17, 29}


@given(st.lists(st.integers(1, 5), min_size=30, max_size=30))
def test_self_check_sums_each_subscale_as_the_score_sheet(codes):
    answers = {i + 1: c for i, c in enumerate(codes)}
    got = self_check(answers)["score"].tolist()
    expected = [
        sum(answers[i] for i in CS),
        sum(6 - answers[i] if i in BO_REVERSED else answers[i] for i in BO),
        sum(answers[i] for i in STS),
    ]
    assert got == expected


def test_self_check_without_answers_scores_nothing():
    for empty in (None, {}):
        out = self_check(empty)
        assert out["score"].isna().all()
        assert set(out["band"]) == {"not scored"}


def test_self_check_takes_item_ids_and_reports_bands():
    answers = {f"proqol5_{i}": 5 for i in range(1, 31)}
    out = self_check(answers)
    assert out.loc[0, "band"] == "high"  # compassion satisfaction 50: 42 or more is high


@pytest.mark.parametrize(
    "answers, error",
    [
        ({31: 3}, DataError),
        ({"happy": 3}, DataError),
        ({1: 3.5}, DataError),
        ({1: "sometimes"}, DataError),
        ([3, 4], DataError),
        ({1: 7}, InvalidResponseError),
    ],
)
def test_self_check_refuses_bad_answers_without_echoing_them(answers, error):
    with pytest.raises(error) as info:
        self_check(answers)
    assert "sometimes" not in str(info.value) and "3.5" not in str(info.value)


def test_self_check_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    self_check({i: 2 for i in range(1, 31)})
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the site


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in {"href", "src"} and value is not None:
                self.refs.append((tag, name, value))


def check_site(folder: Path) -> int:
    """Every reference of every page is local and resolves; nothing is fetched from the web."""
    pages = sorted(folder.glob("*.html"))
    assert (folder / "index.html") in pages
    parsed = {}
    for page in pages:
        parser = _Refs()
        parser.feed(page.read_text(encoding="utf-8"))
        parsed[page.name] = parser
    n = 0
    for name, parser in parsed.items():
        text = (folder / name).read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=", text), f"{name} loads a script"
        assert not re.search(r"@import|url\(\s*['\"]?https?:", text), f"{name} imports CSS"
        for tag, attr, value in parser.refs:
            n += 1
            if value.startswith("data:"):
                continue
            assert not re.match(r"^[a-z]+:", value), f"{name}: {tag} {attr}={value[:60]}"
            assert not value.startswith("/"), f"{name}: absolute link {value}"
            target, _, fragment = value.partition("#")
            target_page = target or name
            assert target_page in parsed, f"{name}: {value} does not resolve"
            if fragment:
                assert fragment in parsed[target_page].ids, f"{name}: no anchor {value}"
    return n


def _tiny_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    folded = nbformat.v4.new_code_cell("secret_setup = 1", metadata={"tags": ["hide-input"]})
    shown = nbformat.v4.new_code_cell("lesson_code = 2")
    shown.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="SomeWarning: noise\n"),
        nbformat.v4.new_output("stream", name="stdout", text="the result\n"),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# A title\n\n## A section"), folded, shown]
    return nb


def test_teaching_page_folds_marked_code_and_drops_warnings():
    page = render_page(_tiny_notebook(), code=True)
    assert "lesson_code" in page and "secret_setup" not in page
    assert "the result" in page and "SomeWarning" not in page
    report = render_page(_tiny_notebook(), code=False)
    assert "lesson_code" not in report and "the result" in report


def test_site_pages_load_nothing_from_the_web_and_links_resolve(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    nbformat.write(_tiny_notebook(), str(source / "01_tiny.ipynb"))
    nbformat.write(_tiny_notebook(), str(source / "02_report.ipynb"))
    pages = build_site(
        tmp_path / "site", teaching=[source / "01_tiny.ipynb"], reports=[source / "02_report.ipynb"]
    )
    assert [p.title for p in pages] == ["A title", "A title"]
    assert check_site(tmp_path / "site") >= 2


def test_teaching_notebook_folds_hide_input_cells(tmp_path):
    src = tmp_path / "x.py"
    src.write_text(
        '# %% [markdown]\n# # T\n\n# %% tags=["parameters", "hide-input"]\na: int = 1  # a\n\n# %%\na\n'
    )
    nb = teaching_notebook(src)
    assert [c.metadata.get("jupyter", {}) for c in nb.cells] == [{}, {"source_hidden": True}, {}]


# --------------------------------------------------------------------------- the BRFSS example


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location(
        "brfss_example", REPO / "examples" / "brfss_ace_prevalence.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _independent_scores(raw: pd.DataFrame) -> pd.Series:
    """ACE score 0-8 recomputed from the BRFSS codes (codebook; 8 CDC categories, Merrick 2018).

    A category is exposed when any of its questions says so (yes = 1; frequency once or more =
    2 or 3), unexposed when all are answered no (2, or 8 "parents not married" for ACEDIVRC;
    never = 1), otherwise undecided (7, 9, blank); the score needs all 8 decided.
    """
    yes_no = {1: 1.0, 2: 0.0}
    freq = {1: 0.0, 2: 1.0, 3: 1.0}
    groups = [
        (["ACEDEPRS"], yes_no),
        (["ACEDRINK", "ACEDRUGS"], yes_no),
        (["ACEPRISN"], yes_no),
        (["ACEDIVRC"], {1: 1.0, 2: 0.0, 8: 0.0}),
        (["ACEPUNCH"], freq),
        (["ACEHURT1"], freq),
        (["ACESWEAR"], freq),
        (["ACETOUCH", "ACETTHEM", "ACEHVSEX"], freq),
    ]
    categories = []
    for columns, codes in groups:
        values = np.column_stack([raw[c].map(codes).to_numpy(dtype=float) for c in columns])
        exposed = np.nanmax(np.where(np.isnan(values), -1, values), axis=1) == 1
        all_no = (values == 0).all(axis=1)
        categories.append(np.where(exposed, 1.0, np.where(all_no, 0.0, np.nan)))
    return pd.Series(np.column_stack(categories).sum(axis=1), index=raw.index)


def test_example_scores_every_respondent_as_an_independent_recomputation(example):
    raw = pd.read_csv(external_path("brfss2022_ace_12states.csv"))
    scored = example.score_extract(external_path("brfss2022_ace_12states.csv"))
    assert scored.index.equals(raw.index)
    np.testing.assert_array_equal(
        scored["brfss_ace_score"].fillna(-1).to_numpy(),
        _independent_scores(raw).fillna(-1).to_numpy(),
    )
    assert scored["state"].notna().all()


def test_example_tables_match_independent_counts_and_hide_small_cells(example):
    raw = pd.read_csv(external_path("brfss2022_ace_12states.csv"))
    scores = _independent_scores(raw)
    scored = example.score_extract(external_path("brfss2022_ace_12states.csv"))
    # min_cell far above the default, so that suppression really happens in this test
    tables = example.prevalence_tables(scored, min_cell=300)
    four = tables["four_plus_by_state"].set_index("state")
    state = raw["state"].map(example.STATES)
    for name, row in four.iterrows():
        mine = scores[(state == name) & scores.notna()]
        assert row["n"] == len(mine)
        if not row["suppressed"]:
            assert row["events"] == (mine >= 4).sum()
            assert row["estimate"] == pytest.approx((mine >= 4).mean())
    by_state = tables["by_state"]
    shown = by_state.loc[~by_state["suppressed"], "count"]
    assert ((shown == 0) | (shown >= 300)).all()
    assert by_state["suppressed"].any(), "min_cell=300 should hide some state cells"
    bands = pd.cut(scores.dropna(), [-1, 0, 1, 3, 8], labels=["0", "1", "2-3", "4+"])
    counts = tables["by_count"].set_index("category")["count"]
    assert counts.to_dict() == bands.value_counts().astype(float).to_dict()


def test_example_sets_each_published_figure_beside_the_extract(example, tmp_path):
    scored = example.score_extract(external_path("brfss2022_ace_12states.csv"))
    table = example.beside_published(scored)
    published = pd.read_csv(example.PUBLISHED)
    assert len(table) == len(published) and table["source"].str.len().gt(20).all()
    values = scored["brfss_ace_score"].dropna()
    four = table[table["measure"] == "4 or more ACEs"]["this_extract_percent"]
    assert np.allclose(four, 100 * (values >= 4).mean())
    assert example.main(["--out", str(tmp_path), "--min-cell", "10"]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {
        "by_count.csv",
        "by_state.csv",
        "four_plus_by_state.csv",
        "beside_published.csv",
    }


def test_example_runs_as_a_script(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "brfss_ace_prevalence.py"), "--min-cell", "5"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "with an ACE score" in done.stdout and "beside_published" in done.stdout
