"""Figure functions: test the data drawn, not the pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

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
    # a hidden row is a labelled gap, never a bar of 0
    assert [p.get_height() for p in ax.patches] == pytest.approx([50.0, 20.0])
    assert [p.get_x() + p.get_width() / 2 for p in ax.patches] == pytest.approx([0.0, 2.0])
    segs = ax.collections[0].get_segments()
    assert [tuple(np.round(s[:, 1], 6)) for s in segs] == [(40.0, 65.0), (10.0, 30.0)]
    assert "suppressed" in [t.get_text() for t in ax.texts]
    assert ax.get_title(loc="left") == "Half report no ACEs"


def test_survival_curves_start_at_one_and_follow_the_table():
    km = pd.DataFrame(
        {
            "group": ["a", "a", "b"],
            "time": [30.0, 60.0, 45.0],
            "at_risk": [20, 12, 9],
            "events": [5, 3, 6],
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


# --- a site of 2 young people: figures reveal nothing that the tables hide ------------------


def _texts(ax):
    return " ".join(t.get_text() for t in ax.texts)


def _distribution(n_per_band):
    """A distribution table as prevalence.distribution makes it, without its suppression."""
    n = sum(n_per_band)
    est = np.array(n_per_band) / n
    return pd.DataFrame(
        {
            "category": ["0", "1", "2", "3", "4+"],
            "n": n,
            "count": n_per_band,
            "estimate": est,
            "ci_lower": np.maximum(est - 0.1, 0),
            "ci_upper": np.minimum(est + 0.1, 1),
        }
    )


def test_bar_with_ci_draws_no_bar_for_a_group_of_two_even_when_the_table_is_not_masked():
    fig = plots.bar_with_ci(_distribution([0, 0, 0, 0, 2]), x="category", min_cell=5)
    ax = fig.axes[0]
    assert not ax.patches  # no bar, not even a 0 % beside the hidden one
    assert not [c for c in ax.collections if len(c.get_segments())]  # no error bars
    assert "hidden: fewer than 5 young people" in _texts(ax)
    assert fig.tim_data["hidden"].all()
    assert fig.tim_data[["estimate", "count", "n"]].isna().all().all()


def test_bar_with_ci_hides_zeros_and_a_complement_beside_a_small_cell():
    fig = plots.bar_with_ci(_distribution([20, 0, 10, 2, 30]), x="category")
    ax = fig.axes[0]
    # "1" is 0 and "3" is 2: both hidden; then "2" (smallest shown) protects them from the total
    xs = sorted(round(p.get_x() + p.get_width() / 2) for p in ax.patches)
    heights = sorted(round(p.get_height()) for p in ax.patches)
    assert xs == [0, 4]
    assert 0 not in heights
    assert fig.tim_data["hidden"].tolist() == [False, True, True, True, False]


def test_bar_with_ci_large_groups_draw_as_before():
    table = _distribution([20, 15, 10, 8, 30])
    fig = plots.bar_with_ci(table, x="category")
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx(list(table["estimate"] * 100))
    assert not fig.axes[0].texts


def test_bar_with_ci_names_a_hidden_hue_group_and_draws_the_others():
    big = _distribution([20, 15, 10, 8, 30]).assign(site="North")
    tiny = _distribution([0, 1, 0, 0, 1]).assign(site="Tiny")
    fig = plots.bar_with_ci(pd.concat([big, tiny]), x="category", hue="site")
    ax = fig.axes[0]
    assert len(ax.patches) == 5
    assert "hidden: fewer than 5 young people: Tiny" in _texts(ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["North"]


def test_bar_with_ci_marks_rows_flagged_suppressed_even_with_a_value():
    t = _distribution([20, 15, 10, 8, 30]).assign(suppressed=[False, False, True, False, False])
    fig = plots.bar_with_ci(t, x="category")
    # a lone hidden share is the total minus the others: the smallest shown share goes too
    assert sorted(round(p.get_height()) for p in fig.axes[0].patches) == [18, 24, 36]
    assert _texts(fig.axes[0]).count("suppressed") == 2


def test_point_range_hides_rows_of_few_people_and_notes_an_empty_chart():
    items = pd.DataFrame(
        {
            "label": ["hit", "neglect"],
            "n": [2, 2],
            "events": [2, 0],
            "estimate": [1.0, 0.0],
            "ci_lower": [0.3, 0.0],
            "ci_upper": [1.0, 0.7],
        }
    )
    ax = plots.point_range(items, label="label", percent=True).axes[0]
    assert not ax.get_lines()[0].get_xdata().size  # no point
    assert not any(len(c.get_segments()) for c in ax.collections)  # no CI line
    assert "hidden: fewer than 5 young people" in _texts(ax)
    large = items.assign(n=[40, 40], events=[10, 30], estimate=[0.25, 0.75])
    ax = plots.point_range(large, label="label", percent=True).axes[0]
    assert tuple(ax.get_lines()[0].get_xdata()) == pytest.approx((25.0, 75.0))
    assert not ax.texts


def test_point_range_hides_a_share_whose_non_events_are_few():
    t = pd.DataFrame({"label": ["a"], "n": [30], "events": [28], "estimate": [28 / 30]}).assign(
        ci_lower=0.8, ci_upper=0.99
    )
    ax = plots.point_range(t, label="label").axes[0]
    assert not ax.get_lines()[0].get_xdata().size
    assert plots.point_range(t, label="label", min_cell=0).axes[0].get_lines()[0].get_xdata().size


def test_survival_curves_draw_no_curve_for_two_matches():
    from tim_research.stats.survival import kaplan_meier

    rng = np.random.default_rng(3)
    durations = pd.Series(np.concatenate([rng.exponential(12, 40), [3.0, 7.5]]))
    closed = pd.Series([True] * 42)
    by = pd.Series(["North"] * 40 + ["Tiny"] * 2)
    fig = plots.survival_curves(kaplan_meier(durations, closed, by=by))
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 1 and lines[0].get_label() == "North"
    # neither small match's length is drawn anywhere
    xs = np.concatenate([line.get_xdata() for line in lines])
    assert not np.isin([3.0, 7.5], xs).any()
    assert len(ax.collections) == 1  # one CI band
    assert "hidden: fewer than 5 matches: Tiny" in _texts(ax)
    assert set(fig.tim_data["group"]) == {"North"}
    alone = plots.survival_curves(kaplan_meier([3.0, 7.5], [1, 1])).axes[0]
    assert not alone.get_lines() and not alone.collections
    assert "hidden: fewer than 5 matches" in _texts(alone)


def test_survival_curves_hide_a_group_with_few_endings():
    from tim_research.stats.survival import kaplan_meier

    km = kaplan_meier([2.0, 5.0, 12.0, 12.0, 12.0, 12.0, 12.0], [1, 1, 0, 0, 0, 0, 0])
    assert not plots.survival_curves(km).axes[0].get_lines()
    assert plots.survival_curves(km, min_cell=0).axes[0].get_lines()
    with pytest.raises(DataError, match="at_risk"):
        plots.survival_curves(km.drop(columns=["at_risk"]))


def test_trajectories_hide_points_and_groups_of_few_people():
    t = pd.DataFrame(
        {
            "months": [0, 12, 0, 12],
            "arm": ["mentored", "mentored", "comparison", "comparison"],
            "n": [40, 3, 2, 2],
            "mean": [3.0, 3.4, 2.8, 3.9],
            "ci_lower": [2.9, 3.0, 2.0, 3.0],
            "ci_upper": [3.1, 3.8, 3.6, 4.8],
        }
    )
    fig = plots.trajectories(t, x="months", group="arm")
    ax = fig.axes[0]
    ys = [tuple(c.lines[0].get_ydata()) for c in ax.containers]
    assert ys == [(3.0,)]  # the mentored 12-month point of 3 people is gone, as is comparison
    assert "hidden: fewer than 5 young people: comparison" in _texts(ax)
    assert fig.tim_data.loc[fig.tim_data["hidden"], ["mean", "n"]].isna().all().all()


def test_scatter_and_zph_draw_no_point_for_fewer_than_min_cell():
    d = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 5.0]})
    ax = plots.scatter_with_fit(d, x="a", y="b").axes[0]
    assert not ax.collections and not ax.get_lines()
    assert "hidden: fewer than 5 people" in _texts(ax)
    res = pd.DataFrame(
        {"training": [0.1, -0.2]},
        index=pd.MultiIndex.from_arrays([[1.0, 2.0], [0.5, 0.9]], names=["time", "x"]),
    )
    ax = plots.zph_residuals(res, "training").axes[0]
    assert not ax.get_lines()
    assert "hidden: fewer than 5 events" in _texts(ax)


def test_figures_record_their_texts_and_drawn_numbers_as_html():
    from tim_research.report import gate

    assert plots.FIGURE_DATA_MIME == gate.FIGURE_DATA_MIME
    fig = plots.bar_with_ci(
        _distribution([20, 15, 10, 8, 30]), x="category", title="ACE bands at Y0042"
    )
    html = plots.figure_data_html(fig)
    assert "ACE bands at Y0042" in html
    table = gate.tables_in_html(html)[0]
    assert list(pd.to_numeric(table["count"])) == [20, 15, 10, 8, 30]
    assert plots.figure_data_html(plt.figure()) is None  # not drawn here: nothing recorded


def test_a_displayed_figure_carries_its_drawn_numbers_in_the_notebook_output():
    from IPython.core.interactiveshell import InteractiveShell

    from tim_research.views.notebook import _show_figure_data

    shell = InteractiveShell.instance()
    try:
        _show_figure_data(shell)
        fig = plots.bar_with_ci(_distribution([0, 0, 0, 0, 2]), x="category")
        data, _ = shell.display_formatter.format(fig)
        assert "hidden: fewer than 5 young people" in data[plots.FIGURE_DATA_MIME]
        other, _ = shell.display_formatter.format(plt.figure())
        assert plots.FIGURE_DATA_MIME not in other
    finally:
        # a shell left behind makes every later setup() in this process act as in a kernel
        InteractiveShell.clear_instance()


def test_zeros_beside_a_hidden_count_are_hidden_too():
    # "<5, 0, 0": with the zeros shown, the hidden row would be every ending there was
    t = pd.DataFrame(
        {
            "reason": ["completed", "moved", "other"],
            "n": [30, 30, 30],
            "events": [3, 0, 0],
            "estimate": [0.1, 0.0, 0.0],
            "ci_lower": [0.03, 0.0, 0.0],
            "ci_upper": [0.26, 0.12, 0.12],
        }
    )
    fig = plots.bar_with_ci(t, x="reason")
    assert not fig.axes[0].patches
    assert fig.tim_data["hidden"].all()
    shown = plots.bar_with_ci(t.assign(events=[9, 0, 0], estimate=[0.3, 0.0, 0.0]), x="reason")
    assert [p.get_height() for p in shown.axes[0].patches] == pytest.approx([30.0, 0.0, 0.0])


# --- alt text, plain legends, honest axes --------------------------------------------------------


def _means() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": ["mentored", "mentored", "comparison", "comparison"],
            "months": [0, 12, 0, 12],
            "n": [480, 341, 119, 103],
            "mean": [3.42, 3.52, 3.45, 3.40],
            "ci_lower": [3.37, 3.46, 3.34, 3.29],
            "ci_upper": [3.46, 3.58, 3.57, 3.52],
        }
    )


def test_legend_uses_plain_words_not_column_names():
    fig = plots.trajectories(_means(), x="months", group="arm")
    legend = fig.axes[0].get_legend()
    assert legend.get_title().get_text() == "Group"
    assert [t.get_text() for t in legend.get_texts()] == ["mentored", "waitlist comparison"]
    bars = plots.bar_with_ci(
        _means().assign(estimate=0.5, ci_lower=0.4, ci_upper=0.6), x="months", hue="arm"
    )
    assert bars.axes[0].get_legend().get_title().get_text() != "arm"


def test_scale_axis_spans_the_whole_scale_or_says_it_does_not():
    whole = plots.trajectories(_means(), x="months", group="arm", scale=(1, 5))
    assert whole.axes[0].get_ylim() == pytest.approx((1.0, 5.0))
    assert "whole scale, 1 to 5" in plots.alt_text(whole)
    zoomed = plots.trajectories(_means(), x="months", group="arm")
    low = zoomed.axes[0].get_ylim()[0]
    assert low > 3  # zoomed to the data: a change of 0.1 looks steep ...
    notes = [t.get_text() for t in zoomed.axes[0].texts if t.get_gid() == "tim-axis-note"]
    assert notes == [f"The vertical axis starts at {low:.2f}, not at the lowest possible score."]
    assert notes[0] in plots.figure_texts(zoomed)  # ... and the chart says so
    with pytest.raises(DataError, match="scale"):
        plots.trajectories(_means(), x="months", scale=(5, 1))


def test_every_figure_gets_a_title_and_one_sentence_alt_text():
    t = pd.DataFrame(
        {"item": ["a", "b"], "estimate": [0.2, 0.5], "ci_lower": [0.1, 0.4], "ci_upper": [0.3, 0.6]}
    )
    fixed = pd.DataFrame(
        {"estimate": [0.1, -0.2], "ci_lower": [0.0, -0.4], "ci_upper": [0.2, 0.0]},
        index=pd.Index(["years", "mentored"], name="term"),
    )
    figures = {
        "bar": plots.bar_with_ci(t, x="item", title="Items"),
        "points": plots.point_range(t, label="item", title="Items"),
        "forest": plots.forest(fixed, title="Model"),
        "lines": plots.trajectories(_means(), x="months", group="arm", title="Means"),
    }
    for kind, fig in figures.items():
        alt = plots.alt_text(fig)
        title, _, description = alt.partition(". ")
        assert title in ("Items", "Model", "Means"), kind
        assert description.endswith(".") and description.count(". ") <= 1, (kind, alt)
        assert "95 %" in description, kind
    # the alt text travels with the figure's recorded data, for the staff page
    assert plots.alt_text(figures["bar"]) in plots.figure_data_html(figures["bar"])
    assert plots.alt_text(plots.describe(Figure(), "A sentence")) == "A sentence."
