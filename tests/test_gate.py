"""The report safety gate matches identifying values the way a reader would find them."""

from __future__ import annotations

import base64
import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tim_research.report.gate import (
    ValueIndex,
    _words,
    find_values,
    identifier_tokens,
    identifiers_in_data,
    scan,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Referred by Jane Smith", "Jane Smith"),  # multi-word value inside a sentence
        ("JANE SMITH", "Jane Smith"),  # other case
        ("<td>Jane&nbsp;Smith</td>", "Jane Smith"),  # HTML-escaped space
        ("<td>O&#x27;Neil</td>", "O'Neil"),  # escaped apostrophe
        ("<td>Smith &amp; Sons</td>", "Smith & Sons"),
        ("ids: y0001, y0002", "Y0002"),  # lower-cased id in a list
        ("<li>Y1</li>", "Y1"),  # ids shorter than four characters
        ("call 555-123-4567 now", "555-123-4567"),
        ("mail jane.smith@example.org", "jane.smith@example.org"),
        ("Dr Jane Smith GP\n", "Dr Jane Smith GP"),
    ],
)
def test_values_are_found_as_a_reader_would_see_them(text, value):
    assert find_values([text], [value]) == {value}
    assert scan([text], identifiers={value}, min_cell=0)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Y10 and Y100", "Y1"),  # inside a longer token
        ("Smithers", "Smith"),
        ("Jane met Smith", "Jane Smith"),  # words apart
        ("counts 12 and 7", "12"),  # short numeric ids cannot be told from counts
    ],
)
def test_values_are_not_found_inside_other_words(text, value):
    assert find_values([text], [value]) == set()


def test_short_numeric_values_are_not_identifiers_but_short_codes_are():
    assert identifier_tokens("12") is None
    assert identifier_tokens("  ") is None
    assert identifier_tokens("1234") == ("1234",)
    assert identifier_tokens("Y1") == ("y1",)


def test_notebook_json_is_read_as_text_and_images_are_skipped():
    # the id hidden in an image's bytes must not count; the id in a text output must
    png = base64.b64encode(b"\x00" * 40 + b"Y7" + b"\x00" * 40).decode()
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": ["show(table)"],
                "outputs": [
                    {"output_type": "display_data", "data": {"image/png": png + " Y7 "}},
                    {"output_type": "stream", "text": ["row\nY0003\n"]},
                ],
            }
        ]
    }
    text = json.dumps(nb)
    assert find_values([text], ["Y7"]) == set()
    assert find_values([text], ["Y0003"]) == {"Y0003"}
    html = f'<img src="data:image/png;base64,{png} Y7"><p>ok</p>'
    assert find_values([html], ["Y7"]) == set()


def test_messages_never_carry_the_values():
    problems = scan(["Dr Jane Smith GP"], identifiers={"Dr Jane Smith GP"}, min_cell=0)
    assert len(problems) == 1
    assert "jane" not in problems[0].casefold()


def _package(folder, fields):
    folder.mkdir()
    resource = {"name": "youth", "path": "youth.csv", "schema": {"fields": fields}}
    resource["schema"]["primaryKey"] = ["youth_id"]
    (folder / "datapackage.json").write_text(json.dumps({"resources": [resource]}))


def test_free_text_values_held_by_few_people_must_not_be_published(tmp_path):
    folder = tmp_path / "program"
    _package(
        folder,
        [
            {"name": "youth_id", "type": "string"},
            {"name": "referral_source", "type": "string"},
            {"name": "site", "type": "string", "constraints": {"enum": ["North", "Tiny"]}},
        ],
    )
    pd.DataFrame(
        {
            "youth_id": [f"Y{i}" for i in range(1, 8)],
            "referral_source": ["school"] * 5 + ["Dr Jane Smith GP", "family"],
            "site": ["North"] * 6 + ["Tiny"],
        }
    ).to_csv(folder / "youth.csv", index=False)
    values = identifiers_in_data(folder, min_cell=5)
    # every id, of any length; free text held by fewer than min_cell people; never a declared
    # category or a label that min_cell people share
    assert {f"Y{i}" for i in range(1, 8)} <= values
    assert {"Dr Jane Smith GP", "family"} <= values
    assert "school" not in values
    assert "Tiny" not in values
    assert identifiers_in_data(folder, min_cell=6) >= {"school"}


def _notebook_with_figure(html: str) -> str:
    from tim_research.report.gate import FIGURE_DATA_MIME

    output = {
        "output_type": "execute_result",
        "data": {"text/plain": ["<Figure size 700x420 with 1 Axes>"], FIGURE_DATA_MIME: [html]},
        "metadata": {},
    }
    cell = {"cell_type": "code", "source": ["plots.bar_with_ci(...)"], "outputs": [output]}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _figure_html(title: str, n: int) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from tim_research import plots

    est = [0.5, 0.5]
    table = pd.DataFrame(
        {"category": ["0", "4+"], "n": n, "count": [n // 2, n - n // 2], "estimate": est}
    ).assign(ci_lower=0.3, ci_upper=0.7)
    # min_cell=0: a figure drawn without suppression, as a careless notebook could
    return plots.figure_data_html(plots.bar_with_ci(table, x="category", title=title, min_cell=0))


def test_a_figure_that_drew_a_count_of_two_is_blocked():
    # the page holds only the image: the numbers drawn are in the notebook's figure data
    notebook = _notebook_with_figure(_figure_html("ACE bands", 4))
    problems = scan(["<p>no tables here</p>", notebook], identifiers=set(), min_cell=5)
    assert len(problems) == 2  # the n column and the count column
    assert all(p.startswith("figure 1, table 1") for p in problems)
    safe = _notebook_with_figure(_figure_html("ACE bands", 40))
    assert scan([safe], identifiers=set(), min_cell=5) == []


def test_an_identifier_in_a_figure_title_or_label_is_blocked():
    notebook = _notebook_with_figure(_figure_html("Scores of Y0042", 40))
    problems = scan([notebook], identifiers={"Y0042"}, min_cell=5)
    assert len(problems) == 1 and "Y0042" not in problems[0]
    assert scan([notebook], identifiers={"Y0043"}, min_cell=5) == []


_WORDS = st.sampled_from(["jane", "smith", "y0001", "ann", "lee", "north", "dr", "45"])


@given(
    st.lists(_WORDS, max_size=30),
    st.lists(st.lists(_WORDS, min_size=1, max_size=4), max_size=6),
)
def test_the_index_finds_exactly_the_values_a_full_search_finds(text_words, values_words):
    text = " ".join(text_words)
    values = {" ".join(v) for v in values_words}
    words = _words(text)
    # every run of consecutive words, compared with each value's tokens
    expected = {
        v
        for v in values
        if (t := identifier_tokens(v)) is not None
        and any(tuple(words[i : i + len(t)]) == t for i in range(len(words)))
    }
    assert find_values([text], ValueIndex(values)) == expected
