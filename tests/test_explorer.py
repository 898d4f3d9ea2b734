"""The explorer's answers (tim_research.views.explorer), its widgets without a browser, its notebook.

Means and shares are checked against a recomputation from the scored surveys with pandas and
scipy; suppression is checked by the linear-programming reader of tests/conftest.py on the whole
linked table (every site's view and the all-sites view together).
"""

from __future__ import annotations

import ast

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tim_research.errors import DataError
from tim_research.report.build import KERNELSPEC, build_notebook
from tim_research.report.config import load_config
from tim_research.views.explorer import (
    ALL_SITES,
    OUTCOMES,
    Choice,
    choices,
    explore,
    explorer_app,
    explorer_data,
    subgroups,
    waves,
)
from tim_research.views.notebook import setup

NOTEBOOK = REPO / "notebooks" / "explorer.ipynb"
SOURCE = REPO / "notebooks" / "dashboard" / "explorer.py"


@pytest.fixture(scope="module")
def program():
    return setup(data_dir=str(REPO / "data" / "sample")).program


@pytest.fixture(scope="module")
def data(program):
    return explorer_data(program)


def _all_choices(data):
    for site in [ALL_SITES, *data.sites]:
        for outcome in OUTCOMES:
            for wave in waves(data, outcome):
                for subgroup in subgroups(outcome):
                    yield Choice(site=site, outcome=outcome, wave=wave, subgroup=subgroup)


def _assert_gender_means(table, frame):
    """Each shown row of a by-gender view equals the mean and t interval of ``frame["y"]``."""
    shown = table[~table["suppressed"]]
    assert len(shown) >= 2
    for _, row in shown.iterrows():
        part = (
            frame["y"]
            if row["gender"] == "All"
            else frame.loc[frame["gender"] == row["gender"], "y"]
        )
        assert row["n"] == len(part)
        assert row["mean"] == pytest.approx(part.mean())
        half = stats.t.ppf(0.975, len(part) - 1) * part.std(ddof=1) / np.sqrt(len(part))
        assert row["ci_upper"] - row["mean"] == pytest.approx(half)


def test_means_match_a_recomputation_from_the_surveys(data, program):
    view = explore(
        data,
        Choice(site="South", outcome="CYRM-R resilience (17-85)", wave="6m", subgroup="gender"),
        min_cell=5,
    )
    surveys = program.surveys
    assert len(view.table) >= 3
    # independent: the youth table's gender, the scored 6-month CYRM-R of South
    from tim_research.scoring import score

    six = surveys[(surveys["wave"] == "6m") & (surveys["status"] == "completed")]
    scored = score(six.set_index("youth_id"), "cyrm_r")["cyrm_r_score"].dropna()
    youth = program.youth.set_index("youth_id")
    frame = pd.DataFrame({"y": scored}).join(youth[["site", "gender"]])
    frame = frame[frame["site"] == "South"]
    frame["gender"] = frame["gender"].astype(object).fillna("not stated")
    _assert_gender_means(view.table, frame)
    assert view.caption == "CYRM-R resilience (17-85) at 6m, site South, by gender"


def test_ace_band_shares_match_a_recomputation(data, program):
    view = explore(
        data,
        Choice(site="East", outcome="ACE score bands (baseline)", wave="baseline", subgroup="none"),
        min_cell=5,
    )
    from tim_research.scoring import score

    surveys = program.surveys
    base = surveys[(surveys["wave"] == "baseline") & (surveys["status"] == "completed")]
    bands = score(base.set_index("youth_id"), "ace10", cutoffs={"ace10_score": "cdc_2019"})
    bands = bands.join(program.youth.set_index("youth_id")["site"])
    east = bands.loc[bands["site"] == "East", "ace10_score_category"].dropna().astype(str)
    for _, row in view.table[~view.table["suppressed"]].iterrows():
        assert row["count"] == (east == row["category"]).sum()
        assert row["estimate"] == pytest.approx(row["count"] / len(east))


def _linked(data, outcome, wave, subgroup, min_cell):
    """Counts (sites x levels) and what the views hide, gathered from every site's view."""
    counts, hidden, totals_hidden = [], [], []
    for site in [*data.sites, ALL_SITES]:
        t = explore(
            data, Choice(site=site, outcome=outcome, wave=wave, subgroup=subgroup), min_cell=0
        ).table
        v = explore(
            data,
            Choice(site=site, outcome=outcome, wave=wave, subgroup=subgroup),
            min_cell=min_cell,
        ).table
        label = t.columns[0]
        count = "count" if "count" in t else "n"
        keep = t[label] != "All"
        counts.append(t.loc[keep].set_index(label)[count])
        hidden.append(v.loc[keep].set_index(label)["suppressed"])
        totals_hidden.append(bool(v.loc[~keep, "suppressed"].any()) if (~keep).any() else False)
    c = pd.concat(counts, axis=1).fillna(0).T
    h = pd.concat(hidden, axis=1).fillna(False).T
    return c, h, totals_hidden


@pytest.mark.parametrize(
    ("outcome", "wave", "subgroup"),
    [
        ("BRS resilience (1-5)", "baseline", "gender"),
        ("BRS resilience (1-5)", "12m", "ACE band"),
        ("STSS secondary traumatic stress (17-85)", "12m", "age band"),
        ("ACE score bands (baseline)", "baseline", "none"),
        ("YSoR relationship strength, youth report (1-5)", "3m", "ACE band"),
        # a rare gender at one site only: its count equalled a published total until zero
        # cells were hidden too (and shown as hidden rows)
        ("YSoR relationship strength, youth report (1-5)", "12m", "gender"),
        ("GAS goal attainment (T-score, 50 = as expected)", "12m", "gender"),
    ],
)
def test_no_hidden_count_can_be_worked_out_across_site_views(
    data, hidden_ranges, outcome, wave, subgroup
):
    min_cell = 5
    counts, hidden, totals_hidden = _linked(data, outcome, wave, subgroup, min_cell)
    inner_counts, inner_hidden = counts.iloc[:-1], hidden.iloc[:-1]  # sites; last row: all sites
    assert not any(totals_hidden), "a whole site this small would need its total hidden too"
    # the all-sites row is the column totals of the sites: a reader knows it where shown
    shown_all = ~hidden.iloc[-1].to_numpy(bool)
    np.testing.assert_array_equal(
        counts.iloc[-1].to_numpy()[shown_all], inner_counts.sum().to_numpy()[shown_all]
    )
    # the all-sites row holds the column totals, which a strict reader knows anyway (they are
    # published elsewhere as group sizes): it must only show no small count itself
    small_all = ((counts.iloc[-1] > 0) & (counts.iloc[-1] < min_cell)).to_numpy(bool)
    assert hidden.iloc[-1].to_numpy(bool)[small_all].all()
    small = (inner_counts > 0) & (inner_counts < min_cell)
    assert inner_hidden[small].fillna(True).all().all(), "a small count is shown"
    if inner_hidden.to_numpy().any():
        for cell, (low, high) in hidden_ranges(
            inner_counts.to_numpy(), inner_hidden.to_numpy()
        ).items():
            assert low < high, f"hidden cell {cell} can be worked out exactly"


@settings(max_examples=20)
@given(draw=st.data())
def test_every_shown_number_has_enough_people_behind_it(data, draw):
    choice = draw.draw(st.sampled_from(list(_all_choices(data))))
    table = explore(data, choice, min_cell=10).table
    n = table["count"] if "count" in table else table["n"]
    shown = n[~table["suppressed"]]
    assert ((shown == 0) | (shown >= 10)).all()
    assert (
        table.loc[table["suppressed"]]
        .drop(columns=[table.columns[0], "suppressed", "n"], errors="ignore")
        .isna()
        .all()
        .all()
    )


def test_choices_the_data_cannot_answer_name_the_valid_options(data):
    with pytest.raises(DataError, match="choose 'All sites' or one of"):
        explore(data, Choice(site="Atlantis"))
    with pytest.raises(DataError, match="wave '6m' is not available"):
        explore(data, Choice(outcome="ProQOL burnout (10-50)", wave="6m", subgroup="none"))
    with pytest.raises(DataError, match="subgroup 'arm' is not available"):
        explore(data, Choice(outcome="ProQOL burnout (10-50)", subgroup="arm"))
    with pytest.raises(DataError, match="is not offered"):
        explore(data, Choice(outcome="shoe size"))


def test_views_carry_no_identifiers(data, program):
    ids = set(program.youth["youth_id"].astype(str)) | set(program.mentors["mentor_id"].astype(str))
    assert not {"youth_id", "mentor_id"} & (set(data.youth.columns) | set(data.mentors.columns))
    for choice in list(_all_choices(data))[::7]:
        html = explore(data, choice).shown.to_html()
        assert not any(i in html for i in ids)


def test_the_widgets_redraw_on_each_change(data):
    pytest.importorskip("ipywidgets")
    app = explorer_app(data, min_cell=5)
    assert [c.value for c in app.controls.values()] == [
        ALL_SITES,
        "BRS resilience (1-5)",
        "baseline",
        "arm",
    ]
    assert list(app.controls["site"].options) == choices(data)["site"]

    def html():
        return app.output.outputs[0]["data"]["text/html"]

    assert "<caption>BRS resilience (1-5) at baseline, all sites, by arm</caption>" in html()
    assert (
        "image/png" in app.output.outputs[1]["data"]
        or "text/plain" in app.output.outputs[1]["data"]
    )
    app.controls["site"].value = "West"
    assert "at baseline, site West, by arm" in html()
    app.controls["wave"].value = "12m"
    app.controls["outcome"].value = "ProQOL burnout (10-50)"  # no 12m? it has; arm goes
    assert app.controls["wave"].value == "12m"
    assert app.controls["subgroup"].value == "none"
    assert list(app.controls["subgroup"].options) == ["none", "gender", "age band"]
    assert "<caption>ProQOL burnout (10-50) at 12m, site West</caption>" in html()
    app.controls["outcome"].value = "ACE score bands (baseline)"
    assert list(app.controls["wave"].options) == ["baseline"]
    assert "ACE score bands (baseline): share of young people, site West" in html()
    assert (
        repr(app).splitlines()[1] == "ACE score bands (baseline): share of young people, site West"
    )


# --------------------------------------------------------------------------- the notebook


def _load():
    return nbformat.read(str(NOTEBOOK), as_version=4)


def test_notebook_equals_its_text_source_and_is_not_a_report():
    built = build_notebook(SOURCE)
    assert [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in _load().cells] == [
        (c.cell_type, c.source, c.metadata.get("tags", [])) for c in built.cells
    ], "run `python -m tim_research.report.build notebooks/dashboard/explorer.py`"
    config = load_config(REPO / "notebooks" / "reports.toml")
    assert NOTEBOOK.name not in {r.notebook.name for r in config.runs}


def test_notebook_is_stored_executed_clean_with_the_default_choice():
    nb = _load()
    assert nb.metadata["kernelspec"] == KERNELSPEC
    assert "widgets" not in nb.metadata and "papermill" not in nb.metadata
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    last = code[-1].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in last
    assert "BRS resilience (1-5) at baseline, all sites, by arm" in last["text/plain"]
    assert "<caption>" in last["text/html"]


def test_parameters_cell_holds_literals_with_help():
    import papermill as pm

    params = pm.inspect_notebook(str(NOTEBOOK))
    assert {"data_dir", "site", "min_cell"} <= set(params)
    assert all(spec["help"] for spec in params.values())
    cell = next(c for c in _load().cells if "parameters" in c.metadata.get("tags", []))
    for node in ast.parse(cell.source).body:
        ast.literal_eval(node.value)


YSOR = "YSoR relationship strength, youth report (1-5)"
GAS = "GAS goal attainment (T-score, 50 = as expected)"


def test_relationship_means_match_a_recomputation_from_the_reports(data, program):
    view = explore(data, Choice(site="West", outcome=YSOR, wave="3m", subgroup="gender"))
    from tim_research.scoring import score

    # independent: the 3-month youth reports scored directly, the youth table's gender and site
    rel = program.relationship_surveys
    done = rel[
        (rel["reporter"] == "youth") & (rel["wave"] == "3m") & (rel["status"] == "completed")
    ]
    ysor = score(done.set_index("match_id"), "ysor")["ysor_score"]
    youth_of = program.matches.set_index("match_id")["youth_id"]
    people = program.youth.set_index("youth_id")
    frame = pd.DataFrame({"y": ysor.to_numpy()}, index=youth_of.reindex(ysor.index).to_numpy())
    frame = frame.join(people[["site", "gender"]]).dropna(subset=["y"])
    frame = frame[frame["site"] == "West"]
    frame["gender"] = frame["gender"].astype(object).fillna("not known")
    _assert_gender_means(view.table, frame)
    assert view.caption == f"{YSOR} at 3m, site West, by gender"


def test_goal_attainment_means_match_gas_tscores_on_the_goals_table(data, program):
    from tim_research.stats.goals import gas_tscores

    view = explore(data, Choice(outcome=GAS, wave="12m", subgroup="none"))
    t = gas_tscores(program.goals, youth="youth_id", review="review")
    twelve = t.loc[t["review"] == "12m", "t_score"].dropna()
    row = view.table.set_index("group").loc["All"]
    assert row["n"] == len(twelve)
    assert row["mean"] == pytest.approx(twelve.mean())


def test_data_without_relationship_or_goal_tables_offer_neither(program):
    import dataclasses

    bare = explorer_data(dataclasses.replace(program, goals=None, relationship_surveys=None))
    offered = choices(bare)["outcome"]
    assert YSOR not in offered and GAS not in offered and "BRS resilience (1-5)" in offered
    with pytest.raises(DataError, match="no matches.csv and goals.csv: goal attainment"):
        explore(bare, Choice(outcome=GAS, wave="12m", subgroup="none"))


def test_relationship_and_goal_frames_keep_no_identifiers(data):
    for frame in (data.matches, data.goals):
        assert not {"youth_id", "mentor_id", "match_id", "goal_id"} & set(frame.columns)


def test_a_subgroup_a_site_does_not_have_is_hidden_like_a_small_one(data):
    # North has no young person of the rarest genders with a 12-month goal review: the rows are
    # there, hidden, so they cannot be told from hidden small counts
    view = explore(data, Choice(site="North", outcome=GAS, wave="12m", subgroup="gender"))
    everywhere = explore(data, Choice(outcome=GAS, wave="12m", subgroup="gender"), min_cell=0)
    north = explore(
        data, Choice(site="North", outcome=GAS, wave="12m", subgroup="gender"), min_cell=0
    )
    assert list(view.table["gender"]) == list(everywhere.table["gender"])
    empty = north.table.loc[north.table["n"] == 0, "gender"]
    assert len(empty) >= 1
    assert view.table.set_index("gender").loc[empty, "suppressed"].all()
