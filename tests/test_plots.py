"""Figure functions: test the data drawn, not the pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from tim_research import plots
from tim_research.errors import DataError, SmallCellWarning


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_theme_does_not_leak_into_global_state():
    before = dict(matplotlib.rcParams)
    plots.bar_with_ci(
        pd.DataFrame({"x": ["a"], "estimate": [0.5], "ci_lower": [0.4], "ci_upper": [0.6]}), x="x"
    )
    assert dict(matplotlib.rcParams) == before


def test_bar_with_ci_heights_errorbars_and_suppressed_rows():
    t = pd.DataFrame(
        {
            "x": ["0", "1", "2"],
            "estimate": [0.5, np.nan, 0.2],
            "ci_lower": [0.4, np.nan, 0.1],
            "ci_upper": [0.65, np.nan, 0.3],
        }
    )
    fig = plots.bar_with_ci(t, x="x", title="Half report no ACEs")
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == pytest.approx([50.0, 0.0, 20.0])
    segs = ax.collections[0].get_segments()
    assert [tuple(np.round(s[:, 1], 6)) for s in segs] == [(40.0, 65.0), (10.0, 30.0)]
    assert "suppressed" in [t.get_text() for t in ax.texts]
    assert ax.get_title(loc="left") == "Half report no ACEs"


def test_survival_curves_start_at_one_and_follow_the_table():
    km = pd.DataFrame(
        {
            "group": ["a", "a", "b"],
            "time": [30.0, 60.0, 45.0],
            "survival": [0.9, 0.7, 0.8],
            "ci_lower": [0.8, 0.6, 0.7],
            "ci_upper": [0.95, 0.8, 0.9],
        }
    )
    fig = plots.survival_curves(km, time_scale=30.0)
    lines = fig.axes[0].get_lines()
    assert [tuple(line.get_xdata()) for line in lines] == [(0, 1, 2), (0, 1.5)]
    assert [tuple(line.get_ydata()) for line in lines] == [(1, 0.9, 0.7), (1, 0.8)]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b"]


def test_point_range_and_forest_positions():
    fixed = pd.DataFrame(
        {"estimate": [0.1, -0.2], "ci_lower": [0.0, -0.3], "ci_upper": [0.2, -0.1]},
        index=pd.Index(["time", "group"], name="term"),
    )
    fig = plots.forest(fixed)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["time", "group"]
    assert tuple(ax.get_lines()[0].get_xdata()) == (0.1, -0.2)
    hr = plots.forest(
        fixed.assign(hr=[1.2, 0.8], ci_lower=[1.0, 0.6], ci_upper=[1.4, 0.9]),
        estimate="hr",
        log_scale=True,
    )
    assert hr.axes[0].get_xscale() == "log"


def test_trajectories_and_scatter_fit():
    t = pd.DataFrame(
        {
            "months": [0, 6, 0, 6],
            "mean": [3.0, 3.4, 3.0, 3.1],
            "ci_lower": [2.9, 3.3, 2.9, 3.0],
            "ci_upper": [3.1, 3.5, 3.1, 3.2],
            "arm": ["mentored", "mentored", "comparison", "comparison"],
        }
    )
    fig = plots.trajectories(t, x="months", group="arm")
    ys = [tuple(c.lines[0].get_ydata()) for c in fig.axes[0].containers]
    assert ys == [(3.0, 3.4), (3.0, 3.1)]
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"a": rng.normal(size=50)}).assign(b=lambda f: 2 * f["a"] + 1)
    fig = plots.scatter_with_fit(d, x="a", y="b")
    line = fig.axes[0].get_lines()[0]
    slope = np.polyfit(line.get_xdata(), line.get_ydata(), 1)[0]
    assert slope == pytest.approx(2.0)


def test_missing_columns_are_named():
    with pytest.raises(DataError, match=r"needs columns \['ci_lower', 'ci_upper'\]"):
        plots.point_range(pd.DataFrame({"item": ["a"], "estimate": [1.0]}), label="item")


def test_bounds_past_the_estimate_by_rounding_do_not_break_error_bars():
    t = pd.DataFrame({"x": ["a"], "estimate": [0.0], "ci_lower": [1.7e-18], "ci_upper": [0.1]})
    seg = plots.bar_with_ci(t, x="x").axes[0].collections[0].get_segments()[0]
    assert tuple(seg[:, 1]) == (0.0, 10.0)


def test_point_range_labels_suppressed_rows_and_log_forest_has_plain_ticks():
    t = pd.DataFrame(
        {
            "item": ["a", "b"],
            "estimate": [0.2, np.nan],
            "ci_lower": [0.1, np.nan],
            "ci_upper": [0.3, np.nan],
        }
    )
    fig = plots.point_range(t, label="item")
    assert [x.get_text() for x in fig.axes[0].texts] == ["suppressed"]
    hr = pd.DataFrame(
        {"hr": [0.8, 1.3], "ci_lower": [0.6, 1.1], "ci_upper": [0.95, 1.6]},
        index=pd.Index(["training", "age"], name="term"),
    )
    ax = plots.forest(hr, estimate="hr", log_scale=True).axes[0]
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_xticklabels(minor=True)]
    assert any(lab in ("1", "1.0") for lab in labels)


def test_cumulative_incidence_stacked_stacks_causes_and_notes_suppressed_groups():
    from tim_research.stats.competing import cumulative_incidence

    rng = np.random.default_rng(4)
    n = 80
    durations = pd.Series(rng.exponential(12, n))
    causes = pd.Series(rng.choice(["moved", "planned completion", None], n, p=[0.4, 0.4, 0.2]))
    by = pd.Series(["big"] * 77 + ["tiny"] * 3)
    with pytest.warns(SmallCellWarning):
        table = cumulative_incidence(durations, causes, by=by)
    fig = plots.cumulative_incidence_stacked(table, title="How matches end")
    big, tiny = fig.axes[:2]
    assert len(big.collections) == 2  # one band per ending type
    top = big.collections[1].get_paths()[0].vertices[:, 1].max()
    wide = table[table["group"] == "big"].pivot(index="time", columns="cause", values="cif")
    assert top == pytest.approx(wide.dropna().sum(axis=1).max())
    assert not tiny.collections
    assert any("suppressed" in t.get_text() for t in tiny.texts)


def test_cumulative_incidence_stacked_needs_its_columns():
    with pytest.raises(DataError, match="cif"):
        plots.cumulative_incidence_stacked(pd.DataFrame({"time": [1.0], "cause": ["a"]}))


def test_cumulative_incidence_stacked_leaves_out_masked_causes_and_times():
    table = pd.DataFrame(
        {
            "time": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0],
            "cause": ["moved", "rare"] * 3,
            "cif": [np.nan, 0.0, 0.2, np.nan, 0.3, np.nan],
        }
    )
    fig = plots.cumulative_incidence_stacked(table)
    ax = fig.axes[0]
    assert len(ax.collections) == 1
    xs = ax.collections[0].get_paths()[0].vertices[:, 0]
    assert xs.min() == pytest.approx(2.0)  # time 1 (masked) is not drawn
    notes = " ".join(t.get_text() for t in ax.texts)
    assert "rare" in notes and "masked" in notes
