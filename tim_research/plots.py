"""Figures with one project theme: readable fonts, a colour-blind-safe palette, CIs shown.

Every function takes a tidy table made by the library (columns documented per function),
draws on ``ax`` when given (else a new figure), and returns the matplotlib Figure. Nothing
here changes global matplotlib state: the theme applies only inside :func:`themed`.

Figures show no more than suppressed tables do. Functions that draw counts, shares, means or
curves take ``min_cell`` (pass the notebook's): a row or group of fewer people, a masked row,
and a 0 beside a hidden share are not drawn, and a group with nothing left gets a note
("hidden: fewer than 5 young people"). Each returned figure keeps the numbers it drew in
``fig.tim_data``; in a notebook they are displayed with the figure (:data:`FIGURE_DATA_MIME`,
not rendered) so that the report's safety gate can check them.

Every figure also carries a one-sentence description of what it shows (``fig.tim_description``,
set by each function, replaced with :func:`describe`); with its title it makes the figure's
alternative text (:func:`alt_text`), which staff pages give the image. Legends and default axis
labels use the plain words of :mod:`tim_research.vocabulary` ("waitlist comparison", not
"comparison"; no legend titled "arm"), and an axis of scores that does not start at the scale's
minimum says so under the chart.
"""

from __future__ import annotations

import html as _html
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, ScalarFormatter
from statsmodels.nonparametric.smoothers_lowess import lowess

from tim_research._checks import show_labels as _show
from tim_research.errors import DataError
from tim_research.vocabulary import column_label, value_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
__all__ = [
    "FIGURE_DATA_MIME",
    "PALETTE",
    "THEME",
    "alt_text",
    "bar_with_ci",
    "cumulative_incidence_stacked",
    "describe",
    "figure_data_html",
    "figure_texts",
    "forest",
    "hidden_note",
    "point_range",
    "reliability",
    "scatter_with_fit",
    "survival_curves",
    "themed",
    "trajectories",
    "zph_residuals",
]

# Okabe & Ito (2008) colour-universal-design palette: distinguishable with the common colour-vision
# deficiencies and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

THEME: dict[str, Any] = {
    "figure.figsize": (7.0, 4.2),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "svg.hashsalt": "tim-research",  # deterministic SVG ids
}


@contextmanager
def themed() -> Iterator[None]:
    """Apply the project theme and palette inside a ``with`` block only."""
    with plt.rc_context({**THEME, "axes.prop_cycle": cycler(color=PALETTE)}):
        yield


def _axes(ax: Axes | None, figsize: tuple[float, float] | None = None) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    # A bare Figure, not pyplot's: Jupyter then shows the returned figure once (pyplot figures
    # are shown a second time by the inline backend) and nothing accumulates in pyplot's registry.
    fig = Figure(figsize=figsize)
    return fig, fig.add_subplot()


def _need(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"{what} needs a DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(
            f"{what} needs columns {missing}; got {list(table.columns)}. Pass the table made by "
            "the matching tim_research function."
        )


def _error_bars(est: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray]:
    """Error-bar lengths below and above; a bound that rounding put past the estimate is 0."""
    return [np.maximum(est - lo, 0.0), np.maximum(hi - est, 0.0)]


def _finish(fig: Figure, ax: Axes, title: str | None, xlabel: str | None, ylabel: str | None):
    if title:
        ax.set_title(title, loc="left")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    fig.tight_layout()
    return fig


# --- what a figure may draw --------------------------------------------------------------------
#
# A figure is published next to suppressed tables, so it must not show what the tables hide:
# a bar, point or curve of a group under ``min_cell``, or a 0 beside a hidden share (with the
# total known, a visible 0 tells the reader where the hidden people are). Each figure also
# records the numbers it drew (``fig.tim_data``), which the notebook display path puts into
# the output for the report's safety gate (:func:`figure_data_html`).

#: MIME type of the drawn numbers and texts of a figure in a notebook output. Staff HTML
#: ignores it (no renderer knows it); the safety gate reads it.
FIGURE_DATA_MIME = "text/vnd.tim-research.figure-data+html"
# Columns of the library's tables that count people (or matches) behind a row
_COUNTS = ("n", "count", "events")


def hidden_note(min_cell: int, unit: str) -> str:
    """The text drawn where a group is hidden.

    Examples
    --------
    >>> hidden_note(5, "young people")
    'hidden: fewer than 5 young people'
    """
    return f"hidden: fewer than {min_cell} {unit}"


def _hidden_rows(part: pd.DataFrame, y: str, min_cell: int) -> np.ndarray:
    """Rows of one group (one series of bars or points) that must not be drawn.

    Masked rows (NaN estimate, ``suppressed`` True); with ``min_cell`` > 0 also rows whose
    group ``n``, ``count`` or ``events`` (or non-events, ``n - events``) is from 1 to
    ``min_cell - 1``. When a table of counts has a hidden row, its zeros are hidden too, and
    a lone hidden share of a distribution (``count`` column) gets the smallest shown share
    as a complement: otherwise the total would give it away.
    """
    est = pd.to_numeric(part[y], errors="coerce").to_numpy(float)
    hide = np.isnan(est)
    if "suppressed" in part.columns:
        hide |= part["suppressed"].astype("boolean").fillna(True).to_numpy(bool)
    if min_cell <= 0:
        return hide
    counts = {
        c: pd.to_numeric(part[c], errors="coerce").to_numpy(float)
        for c in _COUNTS
        if c in part.columns
    }
    n = counts.get("n")
    if n is not None:
        hide |= n < min_cell  # NaN n (masked) compares False and is caught by the estimate
    for col in ("count", "events"):
        if col in counts:
            hide |= (counts[col] > 0) & (counts[col] < min_cell)
    if "events" in counts and n is not None:
        rest = n - counts["events"]
        hide |= (rest > 0) & (rest < min_cell)
    if (counts or "suppressed" in part.columns) and hide.any():
        zero = est == 0
        if "count" in counts:
            zero |= counts["count"] == 0
        hide |= zero
        if "count" in counts:
            _complete(hide, est, counts["count"], n, min_cell)
    return hide


def _complete(
    hide: np.ndarray, est: np.ndarray, count: np.ndarray, n: np.ndarray | None, min_cell: int
) -> None:
    """Hide the smallest shown shares of a distribution until its total protects the hidden.

    A lone hidden share is the total minus the shown ones; and with the group size known,
    hidden cells that add up to little would bound each small one closely. As
    :func:`tim_research.privacy.suppression_mask` does for a line of a table, shown cells are
    hidden until the hidden ones add up to ``2 * min_cell - 2`` plus the number of small ones.
    """
    small = int(((count > 0) & (count < min_cell)).sum())
    total = np.nanmax(n) if n is not None and np.isfinite(n).any() else np.nan
    while (~hide).any():
        shown = np.where(~hide)[0]
        hidden_people = total - np.nansum(count[shown]) if np.isfinite(total) else np.nan
        if hide.sum() > 1 and not hidden_people < 2 * min_cell - 2 + small:
            break  # NaN (size unknown) compares False: two hidden cells are then enough
        if not (est[shown] > 0).any():
            hide[shown] = True  # only zeros left: they would say where everyone is
            break
        nonzero = shown[est[shown] > 0]
        hide[nonzero[np.argmin(est[nonzero])]] = True


def _note(ax: Axes, text: str) -> None:
    """A grey note in the middle of the axes, in place of what is hidden."""
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=9,
        color="#555555",
        wrap=True,
        gid="tim-note",
    )


def _record(fig: Figure, drawn: pd.DataFrame) -> None:
    """Attach the numbers a figure drew to it (added to those of earlier plots on it)."""
    drawn = drawn.reset_index(drop=True)
    earlier = getattr(fig, "tim_data", None)
    fig.tim_data = drawn if earlier is None else pd.concat([earlier, drawn], ignore_index=True)  # type: ignore[attr-defined]


def figure_texts(fig: Figure) -> list[str]:
    """Every text a reader sees on ``fig``: titles, axis labels, ticks, notes and legends.

    Examples
    --------
    >>> fig = Figure()
    >>> ax = fig.add_subplot()
    >>> _ = ax.set_title("ACE bands"), ax.set_xticks([0], ["4+"])
    >>> [t for t in figure_texts(fig) if t in ("ACE bands", "4+")]
    ['ACE bands', '4+']
    """
    texts: list[str] = []
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None:
        texts.append(suptitle.get_text())
    legends = list(fig.legends)
    for ax in fig.axes:
        texts += [ax.get_title(loc=loc) for loc in ("left", "center", "right")]
        texts += [ax.get_xlabel(), ax.get_ylabel()]
        for axis in (ax.xaxis, ax.yaxis):
            texts += [t.get_text() for t in axis.get_ticklabels()]
            texts += [t.get_text() for t in axis.get_ticklabels(minor=True)]
        texts += [t.get_text() for t in ax.texts]
        if ax.get_legend() is not None:
            legends.append(ax.get_legend())
    for legend in legends:
        texts.append(legend.get_title().get_text())
        texts += [t.get_text() for t in legend.get_texts()]
    return [t for t in texts if t and t.strip()]


def figure_data_html(fig: Figure) -> str | None:
    """The texts and drawn numbers of a figure as HTML, for the notebook output and the gate.

    ``None`` for a figure not made here (it recorded no data). Floats are rounded to six
    digits so that the output is the same run to run.

    Examples
    --------
    >>> t = pd.DataFrame({"x": ["a"], "estimate": [0.5], "ci_lower": [0.4], "ci_upper": [0.6]})
    >>> html = figure_data_html(bar_with_ci(t, x="x", title="Shares"))
    >>> "<li>Shares</li>" in html and "<table" in html
    True
    """
    drawn = getattr(fig, "tim_data", None)
    if not isinstance(drawn, pd.DataFrame):
        return None
    items = "".join(f"<li>{_html.escape(t)}</li>" for t in figure_texts(fig))
    table = drawn.round(6).to_html(index=False, na_rep="", border=0)
    alt = f'<p class="tim-alt">{_html.escape(alt_text(fig))}</p>'
    return f'<div class="tim-figure-data">\n{alt}\n<ul>{items}</ul>\n{table}\n</div>'


def describe(fig: Figure, sentence: str) -> Figure:
    """Set the one-sentence description of what ``fig`` shows (for its alternative text).

    Examples
    --------
    >>> fig = describe(Figure(), "Bars show the share of young people in each ACE band.")
    >>> alt_text(fig)
    'Bars show the share of young people in each ACE band.'
    """
    fig.tim_description = " ".join(str(sentence).split())  # type: ignore[attr-defined]
    return fig


def _title(fig: Figure) -> str:
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        return suptitle.get_text().strip()
    for ax in fig.axes:
        for loc in ("left", "center", "right"):
            if ax.get_title(loc=loc).strip():
                return ax.get_title(loc=loc).strip()
    return ""


def alt_text(fig: Figure) -> str:
    """The alternative text of a figure: its title, what it shows, and its notes.

    Examples
    --------
    >>> t = pd.DataFrame({"site": ["North", "South"], "estimate": [0.6, 0.4],
    ...                   "ci_lower": [0.5, 0.3], "ci_upper": [0.7, 0.5]})
    >>> print(textwrap.fill(alt_text(bar_with_ci(t, x="site", title="Shares by site")), 80))
    Shares by site. Bar chart of the percent by site (North, South), with 95 % confidence
    intervals as error bars.
    """
    parts = [_title(fig), getattr(fig, "tim_description", "")]
    for ax in fig.axes:
        parts += [" ".join(t.get_text().split()) for t in ax.texts if t.get_gid() == "tim-note"]
    sentences = [p.strip().rstrip(".") + "." for p in parts if p and p.strip()]
    return " ".join(dict.fromkeys(sentences)) or "Figure."


def _lower(label: str | None) -> str:
    """An axis label inside a sentence: lower-case first letter unless it is an acronym."""
    text = (label or "").strip()
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def _listing(names: Sequence[object], limit: int = 6) -> str:
    names = [str(n) for n in names]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names)


def _legend(ax: Axes, column: str) -> None:
    """A legend in plain words: the column's plain name as title ("Group", not "arm")."""
    ax.legend(title=column_label(column))


def bar_with_ci(
    table: pd.DataFrame,
    *,
    x: str,
    y: str = "estimate",
    hue: str | None = None,
    percent: bool = True,
    min_cell: int = 5,
    unit: str = "young people",
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Bars of an estimate with ``ci_lower``/``ci_upper`` error bars (e.g. prevalence tables).

    Hidden rows are an empty slot labelled "suppressed", never a bar of 0: rows masked in the
    table (NaN estimate or ``suppressed`` True) and, with ``min_cell`` > 0, rows whose ``n``,
    ``count`` or ``events`` (or ``n - events``) is from 1 to ``min_cell - 1``. Beside a hidden
    row, zeros are hidden too, and a lone hidden share of a distribution takes the smallest
    shown one with it, so the total cannot give it away. A series (``hue`` group) with
    nothing left is named in a note ("hidden: fewer than 5 young people"). The drawn numbers
    are kept in ``fig.tim_data``.

    Examples
    --------
    >>> t = pd.DataFrame({"score": ["0", "1"], "estimate": [0.6, 0.4],
    ...                   "ci_lower": [0.5, 0.3], "ci_upper": [0.7, 0.5]})
    >>> fig = bar_with_ci(t, x="score")
    >>> [float(p.get_height()) for p in fig.axes[0].patches]
    [60.0, 40.0]
    >>> small = t.assign(n=2, count=[1, 1])
    >>> fig = bar_with_ci(small, x="score")
    >>> len(fig.axes[0].patches), [t.get_text() for t in fig.axes[0].texts][-1]
    (0, 'hidden: fewer than 5 young people')
    """
    _need(table, [x, y, "ci_lower", "ci_upper"] + ([hue] if hue else []), "bar_with_ci")
    scale = 100.0 if percent else 1.0
    with themed():
        fig, ax = _axes(ax)
        groups = [(None, table)] if hue is None else list(table.groupby(hue, sort=False))
        cats = list(dict.fromkeys(table[x].astype(str)))
        width = 0.8 / len(groups)
        pos = {c: i for i, c in enumerate(cats)}
        drawn, gone = [], []
        for g, (name, part) in enumerate(groups):
            xs = (
                np.array([pos[c] for c in part[x].astype(str)], dtype=float)
                + (g - (len(groups) - 1) / 2) * width
            )
            hide = _hidden_rows(part, y, min_cell)
            est = np.where(hide, np.nan, part[y].to_numpy(float) * scale)
            lo = np.where(hide, np.nan, part["ci_lower"].to_numpy(float) * scale)
            hi = np.where(hide, np.nan, part["ci_upper"].to_numpy(float) * scale)
            ok = ~hide
            if ok.any():
                ax.bar(
                    xs[ok],
                    est[ok],
                    width=width * 0.95,
                    label=None if name is None else value_label(hue, name),
                    color=PALETTE[g % len(PALETTE)],
                )
                ax.errorbar(
                    xs[ok],
                    est[ok],
                    yerr=_error_bars(est[ok], lo[ok], hi[ok]),
                    fmt="none",
                    ecolor="#333333",
                    capsize=3,
                    lw=1,
                )
                for xi in xs[hide]:
                    ax.text(xi, 0, "suppressed", rotation=90, ha="center", va="bottom", fontsize=8)
            else:
                gone.append(name)
            frame = pd.DataFrame({x: part[x].astype(str).to_numpy()})
            if hue is not None:
                frame[hue] = str(name)
            frame[y], frame["ci_lower"], frame["ci_upper"] = est, lo, hi
            for col in _COUNTS:
                if col in part.columns and col not in (x, y):
                    frame[col] = np.where(hide, np.nan, part[col].to_numpy(float))
            frame["hidden"] = hide
            drawn.append(frame)
        ax.set_xticks(range(len(cats)), cats)
        if gone and hue is None:
            _note(ax, hidden_note(min_cell, unit))
        elif gone:
            _note(ax, f"{hidden_note(min_cell, unit)}: " + ", ".join(map(str, gone)))
        if hue is not None and len(gone) < len(groups):
            _legend(ax, hue)
        if not ax.patches:  # an empty chart keeps the layout of a bar chart
            ax.set_xlim(-0.6, len(cats) - 0.4)
            if percent:
                ax.set_ylim(0, 100)
        _record(fig, pd.concat(drawn, ignore_index=True))
        xlabel = xlabel if xlabel is not None else column_label(x)
        ylabel = ylabel if ylabel is not None else ("Percent" if percent else column_label(y))
        by = (
            ""
            if hue is None
            else f", by {_lower(column_label(hue))} ("
            + _listing([value_label(hue, g) for g, _ in groups])
            + ")"
        )
        describe(
            fig,
            f"Bar chart of the {_lower(ylabel)} by {_lower(xlabel) or 'category'} "
            f"({_listing(cats)}){by}, with 95 % confidence intervals as error bars.",
        )
        return _finish(fig, ax, title, xlabel, ylabel)


def point_range(
    table: pd.DataFrame,
    *,
    label: str,
    y: str = "estimate",
    percent: bool = False,
    min_cell: int = 5,
    unit: str = "young people",
    reference: float | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Horizontal points with CI lines, one row per ``label`` (item prevalence, site means).

    Hidden rows keep their place, labelled "suppressed", with no point or line: the rules are
    those of :func:`bar_with_ci`. The drawn numbers are kept in ``fig.tim_data``.

    Examples
    --------
    >>> t = pd.DataFrame({"item": ["a", "b"], "estimate": [0.2, 0.5],
    ...                   "ci_lower": [0.1, 0.4], "ci_upper": [0.3, 0.6]})
    >>> fig = point_range(t, label="item")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    """
    _need(table, [label, y, "ci_lower", "ci_upper"], "point_range")
    scale = 100.0 if percent else 1.0
    with themed():
        fig, ax = _axes(ax, figsize=(7.0, 0.45 * len(table) + 1.4))
        pos = np.arange(len(table))[::-1]
        hide = _hidden_rows(table, y, min_cell)
        est = np.where(hide, np.nan, table[y].to_numpy(float) * scale)
        lo = np.where(hide, np.nan, table["ci_lower"].to_numpy(float) * scale)
        hi = np.where(hide, np.nan, table["ci_upper"].to_numpy(float) * scale)
        ok = ~hide
        ax.hlines(pos[ok], lo[ok], hi[ok], color=PALETTE[0], lw=2)
        ax.plot(est[ok], pos[ok], "o", color=PALETTE[0])
        for p_ in pos[hide]:
            ax.text(
                0.01,
                p_,
                "suppressed",
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=8,
                color="#555555",
            )
        if len(table) and not ok.any() and min_cell > 0:
            _note(ax, hidden_note(min_cell, unit))
        if reference is not None:
            ax.axvline(reference * scale, color="#777777", ls="--", lw=1)
        ax.set_yticks(pos, table[label].astype(str))
        ax.grid(axis="y", visible=False)
        frame = pd.DataFrame(
            {label: table[label].astype(str).to_numpy(), y: est, "ci_lower": lo, "ci_upper": hi}
        )
        for col in _COUNTS:
            if col in table.columns and col not in (label, y):
                frame[col] = np.where(hide, np.nan, pd.to_numeric(table[col], errors="coerce"))
        frame["hidden"] = hide
        _record(fig, frame)
        xlabel = (
            xlabel
            if xlabel is not None
            else ("Percent (95% CI)" if percent else f"{column_label(y)} (95% CI)")
        )
        describe(
            fig,
            f"Dot plot of the {_lower(xlabel)} for {len(table)} categories "
            f"({_listing(table[label].astype(str))}), with 95 % confidence intervals as lines.",
        )
        return _finish(fig, ax, title, xlabel, "")


def forest(
    fixed: pd.DataFrame,
    *,
    estimate: str = "estimate",
    log_scale: bool = False,
    reference: float | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Forest plot of model terms indexed by term with ``ci_lower``/``ci_upper`` columns.

    Works on ``growth_model(...).fixed``, and on ``cox(...)`` with ``estimate="hr"`` and
    ``log_scale=True``.
    """
    table = fixed.reset_index().rename(columns={fixed.index.name or "index": "term"})
    fig = point_range(
        table,
        label="term",
        y=estimate,
        min_cell=0,  # model terms, not counts: a masked term still shows as a gap
        title=title,
        xlabel=xlabel,
        reference=(1.0 if log_scale else 0.0) if reference is None else reference,
        ax=ax,
    )
    if log_scale:
        axis = fig.axes[0]
        axis.set_xscale("log")
        # plain numbers (0.5, 1, 2) at 1-2-5 steps rather than a lone 10^0 tick
        axis.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.xaxis.set_major_formatter(ScalarFormatter())
        axis.xaxis.set_minor_formatter(ScalarFormatter())
    no_effect = (1.0 if log_scale else 0.0) if reference is None else reference
    describe(
        fig,
        f"Forest plot of {len(table)} model terms ({_listing(table['term'].astype(str))}): each "
        f"dot is an estimate with its 95 % confidence interval; the dashed line at {no_effect:g} "
        "marks no difference.",
    )
    return fig


def survival_curves(
    km: pd.DataFrame,
    *,
    min_cell: int = 5,
    unit: str = "matches",
    title: str | None = None,
    xlabel: str = "Months since match start",
    ylabel: str = "Matches still open",
    time_scale: float = 1.0,
    ax: Axes | None = None,
) -> Figure:
    """Kaplan-Meier step curves with shaded CIs from ``matches.kaplan_meier`` (``group`` optional).

    ``time_scale`` divides the ``time`` column (e.g. 365.25 / 12 to show days as months).
    Each step of a curve is the exact length of a match, so a group with fewer than
    ``min_cell`` matches (``at_risk`` at its first time) or fewer than ``min_cell`` endings
    (``events``) is not drawn: a note names it instead. The drawn numbers are kept in
    ``fig.tim_data``.

    Examples
    --------
    >>> from tim_research.stats.survival import kaplan_meier
    >>> fig = survival_curves(kaplan_meier([2, 3], [1, 1]))
    >>> len(fig.axes[0].get_lines()), fig.axes[0].texts[0].get_text()
    (0, 'hidden: fewer than 5 matches')
    """
    _need(km, ["time", "survival", "ci_lower", "ci_upper"], "survival_curves")
    if min_cell > 0:
        _need(
            km,
            ["at_risk", "events"],
            "survival_curves (to hide small groups; min_cell=0 draws all)",
        )
    with themed():
        fig, ax = _axes(ax)
        groups = [(None, km)] if "group" not in km else list(km.groupby("group", sort=False))
        drawn, gone = [], []
        for g, (name, part) in enumerate(groups):
            colour = PALETTE[g % len(PALETTE)]
            size = events = None
            if "at_risk" in part.columns and "events" in part.columns:
                size = float(part["at_risk"].max()) if len(part) else 0.0
                events = float(part["events"].sum())
                if min_cell > 0 and (size < min_cell or events < min_cell):
                    gone.append(name)
                    continue
            # curves start at S(0) = 1
            t = np.concatenate([[0.0], part["time"].to_numpy(float) / time_scale])
            s = np.concatenate([[1.0], part["survival"].to_numpy(float)])
            lo = np.concatenate([[1.0], part["ci_lower"].to_numpy(float)])
            hi = np.concatenate([[1.0], part["ci_upper"].to_numpy(float)])
            ax.step(
                t,
                s,
                where="post",
                color=colour,
                label=None if name is None else value_label("group", name),
            )
            ax.fill_between(t, lo, hi, step="post", color=colour, alpha=0.15, lw=0)
            frame = pd.DataFrame({"time": t, "survival": s, "ci_lower": lo, "ci_upper": hi})
            if name is not None:
                frame.insert(0, "group", str(name))
            if size is not None:
                frame["n"], frame["events"] = size, events  # of the whole curve
            drawn.append(frame)
        ax.set_ylim(0, 1.02)
        if gone:
            names = [str(n) for n in gone if n is not None]
            _note(ax, hidden_note(min_cell, unit) + (": " + ", ".join(names) if names else ""))
        if len(groups) - len(gone) > 1:
            ax.legend()
        columns = ["time", "survival", "ci_lower", "ci_upper"]
        _record(
            fig, pd.concat(drawn, ignore_index=True) if drawn else pd.DataFrame(columns=columns)
        )
        shown = [value_label("group", n) for n, _ in groups if n is not None and n not in gone]
        describe(
            fig,
            f"Step curves of the {_lower(ylabel)} by {_lower(xlabel)}"
            + (f", one curve per group ({_listing(shown)})" if shown else "")
            + ", with shaded 95 % confidence bands; the axis runs from 0 to 1.",
        )
        return _finish(fig, ax, title, xlabel, ylabel)


def trajectories(
    table: pd.DataFrame,
    *,
    x: str,
    y: str = "mean",
    group: str | None = None,
    scale: tuple[float, float] | None = None,
    min_cell: int = 5,
    unit: str = "young people",
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Group means over time with CI error bars (``ci_lower``/``ci_upper``).

    Masked points (NaN, ``suppressed``) and points of fewer than ``min_cell`` people (``n``)
    are not drawn; a group with no point left is named in a note. The drawn numbers are kept
    in ``fig.tim_data``.

    ``scale`` is the score's range (e.g. ``(1, 5)`` for the BRS): the vertical axis then
    runs over the whole scale, so a change of 0.1 looks as large as it is. Without it the
    axis is zoomed to the data, and a note under the chart says where it starts and that
    this is not the scale's minimum.

    Examples
    --------
    >>> t = pd.DataFrame({"months": [0, 12], "mean": [3.4, 3.5], "ci_lower": [3.3, 3.4],
    ...                   "ci_upper": [3.5, 3.6]})
    >>> trajectories(t, x="months", scale=(1, 5)).axes[0].get_ylim()
    (np.float64(1.0), np.float64(5.0))
    >>> zoomed = trajectories(t, x="months")
    >>> [x.get_text() for x in zoomed.axes[0].texts if x.get_gid() == "tim-axis-note"]
    ['The vertical axis starts at 3.28, not at the lowest possible score.']
    """
    if scale is not None and (
        len(scale) != 2 or not all(np.isfinite(scale)) or not float(scale[0]) < float(scale[1])
    ):
        raise DataError(f"scale must be (lowest, highest) score, e.g. (1, 5); got {scale!r}")
    _need(table, [x, y, "ci_lower", "ci_upper"] + ([group] if group else []), "trajectories")
    with themed():
        fig, ax = _axes(ax)
        groups = [(None, table)] if group is None else list(table.groupby(group, sort=False))
        drawn, gone = [], []
        for g, (name, part) in enumerate(groups):
            part = part.sort_values(x)
            hide = _hidden_rows(part, y, min_cell)
            xs = part[x].to_numpy(float) + (g - (len(groups) - 1) / 2) * 0.15
            est = np.where(hide, np.nan, part[y].to_numpy(float))
            lo = np.where(hide, np.nan, part["ci_lower"].to_numpy(float))
            hi = np.where(hide, np.nan, part["ci_upper"].to_numpy(float))
            ok = ~hide
            if ok.any():
                ax.errorbar(
                    xs[ok],
                    est[ok],
                    yerr=_error_bars(est[ok], lo[ok], hi[ok]),
                    marker="o",
                    capsize=3,
                    color=PALETTE[g % len(PALETTE)],
                    label=None if name is None else value_label(group, name),
                )
            else:
                gone.append(name)
            frame = pd.DataFrame({x: part[x].to_numpy(), y: est, "ci_lower": lo, "ci_upper": hi})
            if group is not None:
                frame.insert(0, group, str(name))
            if "n" in part.columns:
                frame["n"] = np.where(hide, np.nan, pd.to_numeric(part["n"], errors="coerce"))
            frame["hidden"] = hide
            drawn.append(frame)
        if gone:
            names = [str(n) for n in gone if n is not None]
            _note(ax, hidden_note(min_cell, unit) + (": " + ", ".join(names) if names else ""))
        if group is not None and len(gone) < len(groups):
            _legend(ax, group)
        if scale is not None:
            ax.set_ylim(float(scale[0]), float(scale[1]))
            axis_words = f"the axis shows the whole scale, {scale[0]:g} to {scale[1]:g}"
        else:
            low = ax.get_ylim()[0]
            axis_words = f"the vertical axis starts at {low:.2f}, not at the lowest possible score"
            ax.text(
                0.0,
                -0.22,
                f"The vertical axis starts at {low:.2f}, not at the lowest possible score.",
                transform=ax.transAxes,
                fontsize=8,
                color="#555555",
                gid="tim-axis-note",
            )
        _record(fig, pd.concat(drawn, ignore_index=True))
        xlabel = xlabel if xlabel is not None else column_label(x)
        ylabel = ylabel if ylabel is not None else column_label(y)
        shown = [value_label(group, n) for n, _ in groups if n is not None and n not in gone]
        describe(
            fig,
            f"Line chart of the {_lower(ylabel)} over {_lower(xlabel)}"
            + (f", one line per group ({_listing(shown)})" if shown else "")
            + f", with 95 % confidence intervals as error bars; {axis_words}.",
        )
        return _finish(fig, ax, title, xlabel, ylabel)


def scatter_with_fit(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    min_cell: int = 5,
    unit: str = "people",
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Scatter of two scores with an OLS line and its 95% CI band (seaborn ``regplot``).

    Each point is a person: with fewer than ``min_cell`` complete pairs nothing is drawn but
    a note. ``fig.tim_data`` holds the number of pairs and the fitted line's ends.
    """
    _need(data, [x, y], "scatter_with_fit")
    pairs = data[[x, y]].apply(pd.to_numeric, errors="coerce").dropna()
    with themed():
        fig, ax = _axes(ax)
        if min_cell > 0 and len(pairs) < min_cell:
            _note(ax, hidden_note(min_cell, unit))
            _record(fig, pd.DataFrame({"n": [np.nan], "hidden": [True]}))
        else:
            sns.regplot(
                data=data,
                x=x,
                y=y,
                ax=ax,
                color=PALETTE[0],
                seed=0,
                scatter_kws={"alpha": 0.5, "s": 18},
            )
            line = ax.get_lines()[0] if ax.get_lines() else None
            ends = (
                {x: line.get_xdata()[[0, -1]], y: line.get_ydata()[[0, -1]]}
                if line is not None and len(line.get_xdata())
                else {x: [np.nan], y: [np.nan]}
            )
            _record(fig, pd.DataFrame(ends).assign(n=len(pairs), hidden=False))
        xlabel = xlabel if xlabel is not None else column_label(x)
        ylabel = ylabel if ylabel is not None else column_label(y)
        describe(
            fig,
            f"Scatter plot of {_lower(ylabel)} against {_lower(xlabel)}, one dot per person, "
            "with a straight fitted line and its shaded 95 % confidence band.",
        )
        return _finish(fig, ax, title, xlabel, ylabel)


def reliability(
    table: pd.DataFrame,
    *,
    threshold: float | None = 0.7,
    title: str | None = None,
    xlabel: str = "Cronbach's alpha (95% CI)",
) -> Figure:
    """Alpha with its CI per scale (dots and lines), published alphas as open diamonds.

    A published range (``published_low`` to ``published_high``) is drawn as a grey bar behind
    the scale's row. ``threshold`` adds a dashed reference line (``None`` for none).

    Parameters
    ----------
    table
        :func:`tim_research.stats.measurement.reliability_table` output (index = scale).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"alpha": [0.8, 0.7], "alpha_ci_lower": [0.75, 0.6],
    ...                   "alpha_ci_upper": [0.85, 0.8], "published_alpha": [0.82, float("nan")],
    ...                   "published_low": [float("nan")] * 2,
    ...                   "published_high": [float("nan")] * 2}, index=["a", "b"])
    >>> fig = reliability(t)
    >>> [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    """
    need = [
        "alpha",
        "alpha_ci_lower",
        "alpha_ci_upper",
        "published_alpha",
        "published_low",
        "published_high",
    ]
    absent = [c for c in need if c not in table.columns]
    if absent:
        raise DataError(f"plots.reliability needs columns {_show(absent)} (reliability_table)")
    frame = table.rename(columns={"alpha_ci_lower": "ci_lower", "alpha_ci_upper": "ci_upper"})
    frame = frame.reset_index().rename(columns={frame.index.name or "index": "scale"})
    fig = point_range(
        frame, label="scale", y="alpha", reference=threshold, title=title, xlabel=xlabel
    )
    ax = fig.axes[0]
    pos = np.arange(len(frame))[::-1]
    with themed():
        lo, hi = frame["published_low"].to_numpy(float), frame["published_high"].to_numpy(float)
        ranged = ~np.isnan(lo) & ~np.isnan(hi)
        ax.hlines(
            pos[ranged],
            lo[ranged],
            hi[ranged],
            color="#999999",
            lw=7,
            alpha=0.45,
            label="published range",
            zorder=1,
        )
        value = frame["published_alpha"].to_numpy(float)
        shown = ~np.isnan(value)
        ax.plot(
            value[shown],
            pos[shown],
            "D",
            mfc="none",
            mec=PALETTE[1],
            mew=1.6,
            label="published alpha",
            zorder=3,
        )
        ax.plot([], [], "o-", color=PALETTE[0], label="this sample (95% CI)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    describe(
        fig,
        f"Dot plot of Cronbach's alpha for each of {len(frame)} scales "
        f"({_listing(frame['scale'].astype(str))}) in this sample, with 95 % confidence "
        "intervals as lines, published alphas as open diamonds and published ranges as grey bars"
        + (f"; the dashed line marks {threshold:g}" if threshold is not None else "")
        + ".",
    )
    return fig


def zph_residuals(
    residuals: pd.DataFrame,
    covariate: str,
    *,
    coef: float | None = None,
    frac: float = 2 / 3,
    min_cell: int = 5,
    title: str | None = None,
    xlabel: str = "Transformed time g(t)",
    ylabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Scaled Schoenfeld residuals of one covariate against transformed time, with a smooth.

    ``residuals`` is ``cox_zph(...).residuals`` (index levels ``time`` and ``x``, one
    column per covariate), as R's ``plot(cox.zph(fit)[i])``. Each point is an event; the
    lowess line (span ``frac``) estimates the coefficient at each point in time, so a flat
    line at ``coef`` (drawn dashed when given: the model's coefficient) means proportional
    hazards and a trend means the effect grows or fades over the life of a match.

    With fewer than ``min_cell`` events nothing is drawn but a note (each point is a match's
    ending). ``fig.tim_data`` holds the number of events and the smooth.
    """
    if not isinstance(residuals, pd.DataFrame) or "x" not in residuals.index.names:
        raise DataError("zph_residuals needs the residuals table of cox_zph (index level 'x')")
    if covariate not in residuals.columns:
        raise DataError(
            f"zph_residuals: {covariate!r} is not a covariate of the table; choose one of "
            f"{list(residuals.columns)}"
        )
    x = residuals.index.get_level_values("x").to_numpy(float)
    y = residuals[covariate].to_numpy(float)
    with themed():
        fig, ax = _axes(ax)
        if min_cell > 0 and x.size < min_cell:
            _note(ax, hidden_note(min_cell, "events"))
            _record(fig, pd.DataFrame({"events": [np.nan], "hidden": [True]}))
            return _finish(fig, ax, title, xlabel, ylabel or f"Beta(t) for {covariate}")
        ax.plot(x, y, "o", color=PALETTE[0], alpha=0.5, ms=4, label="events")
        drawn = pd.DataFrame({"x": [np.nan], "lowess": [np.nan]})
        if x.size >= 3:
            smooth = lowess(y, x, frac=frac, return_sorted=True)
            ax.plot(smooth[:, 0], smooth[:, 1], color=PALETTE[5], lw=2, label="lowess")
            drawn = pd.DataFrame({"x": smooth[:, 0], "lowess": smooth[:, 1]})
        if coef is not None:
            ax.axhline(coef, color=PALETTE[7], ls="--", lw=1, label="Cox coefficient")
        ax.legend()
        _record(fig, drawn.assign(events=x.size, hidden=False))
        describe(
            fig,
            f"Scatter plot of the scaled Schoenfeld residuals of {covariate} against "
            "transformed time, one dot per ending, with a smoothed line: a flat line means the "
            "effect stays the same over time.",
        )
        return _finish(fig, ax, title, xlabel, ylabel or f"Beta(t) for {covariate}")


def cumulative_incidence_stacked(
    table: pd.DataFrame,
    *,
    title: str | None = None,
    xlabel: str = "Months since match start",
    ylabel: str = "Share of matches ended",
    ax: Axes | None = None,
) -> Figure:
    """Stacked cumulative incidence of each ending type, one panel per group.

    The bands add up to the share of matches that have ended by each time (the rest are
    still open); the height of a band is the cumulative incidence of that ending type.

    Parameters
    ----------
    table
        :func:`tim_research.stats.competing.cumulative_incidence` output (columns ``time``,
        ``cause``, ``cif``; ``group`` optional), best made without ``times`` so the steps
        fall at every ending. It should be the suppressed table: a group whose estimates are
        all masked (fewer than ``min_cell`` matches) gets no curve but a note, and times where
        any ending type's estimate is masked are left out of its stack (a note says so).
    title, xlabel, ylabel
        Labels.
    ax
        Axes to draw on; only for a table without groups (one panel).

    Examples
    --------
    >>> t = pd.DataFrame({"time": [1.0, 1.0, 3.0, 3.0],
    ...                   "cause": ["moved", "planned", "moved", "planned"],
    ...                   "cif": [0.1, 0.0, 0.1, 0.3]})
    >>> fig = cumulative_incidence_stacked(t)
    >>> len(fig.axes[0].collections)
    2
    """
    _need(table, ["time", "cause", "cif"], "cumulative_incidence_stacked")
    by_group = "group" in table.columns
    groups = list(table.groupby("group", sort=False)) if by_group else [(None, table)]
    if ax is not None and len(groups) > 1:
        raise DataError(
            "cumulative_incidence_stacked draws one panel per group; leave ax=None for a "
            "table with groups"
        )
    causes = list(dict.fromkeys(table["cause"]))
    with themed():
        if ax is not None:
            fig, axes = ax.figure, [ax]
        else:
            cols = min(len(groups), 3)
            rows = -(-len(groups) // cols)
            fig = Figure(figsize=(4.2 * cols + 2.3, 3.4 * rows + 0.6))
            grid = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
            axes = list(grid.ravel())
            for extra in axes[len(groups) :]:
                extra.set_visible(False)
        for axis, (name, part) in zip(axes, groups, strict=False):
            wide = part.pivot_table(
                index="time", columns="cause", values="cif", aggfunc="first", dropna=False
            ).reindex(columns=causes)
            if name is not None:
                axis.set_title(str(name), loc="left")
            # an ending type never shown above 0 (too few of them) is left out of the panel;
            # a time where a shown type is masked is left out of the stack
            hidden = [c for c in causes if not (wide[c] > 0).any()]
            kept = wide.drop(columns=hidden)
            complete = kept.notna().all(axis=1) if kept.shape[1] else kept.index == kept.index
            notes = []
            if kept.shape[1] == 0 or not complete.any():
                axis.text(
                    0.5,
                    0.5,
                    "suppressed:\nfewer than min_cell matches",
                    transform=axis.transAxes,
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="#555555",
                )
                axis.set_ylim(0, 1)
                continue
            shown = kept[complete]
            t = shown.index.to_numpy(float)
            if complete.iloc[0]:
                t = np.concatenate([[0.0], t])  # curves start at 0 when nothing is masked
                shown = pd.concat([pd.DataFrame(0.0, index=[0.0], columns=shown.columns), shown])
            base = np.zeros(t.size)
            for k, cause in enumerate(causes):
                if cause in hidden:
                    continue
                top = base + shown[cause].to_numpy(float)
                axis.fill_between(
                    t,
                    base,
                    top,
                    step="post",
                    color=PALETTE[k % len(PALETTE)],
                    alpha=0.85,
                    lw=0,
                    label=str(cause),
                )
                base = top
            if not complete.all():
                notes.append("times with a masked estimate left out")
            if hidden:
                text = "not shown (too few): " + ", ".join(map(str, hidden))
                notes.append(textwrap.fill(text, width=48))
            if notes:
                axis.text(
                    0.02,
                    0.97,
                    "\n".join(notes),
                    transform=axis.transAxes,
                    va="top",
                    fontsize=8,
                    color="#555555",
                )
            axis.set_ylim(0, 1)
        for axis in axes[: len(groups)]:
            axis.set_xlim(left=0)
            axis.set_xlabel(xlabel)
            axis.set_ylabel(ylabel)
        legend: dict[str, Any] = {}
        for axis in axes:
            for h, lab in zip(*axis.get_legend_handles_labels(), strict=True):
                legend.setdefault(lab, h)
        order = [str(c) for c in causes if str(c) in legend][::-1]  # top band first
        if title:
            fig.suptitle(title, x=0.02, ha="left", fontweight="bold")
        # room on the right for the legend: about 2.3 inches
        right = 1 - 2.3 / fig.get_figwidth() if order else 1.0
        if order:
            fig.legend([legend[c] for c in order], order, loc="center right", fontsize=9)
        fig.tight_layout(rect=(0, 0, right, 0.95 if title else 1.0))
    # per-step counts of endings are not drawn (and are small by nature): left out
    keep = [c for c in ("group", "time", "cause", "cif") if c in table.columns]
    _record(fig, table[keep])  # already suppressed: masked cells stay empty
    panels = f"one panel per group ({_listing([g for g, _ in groups])}), " if by_group else ""
    describe(
        fig,
        f"Stacked area chart of the {_lower(ylabel)} by {_lower(xlabel)}, {panels}one band per "
        f"ending type ({_listing(causes)}); the axis runs from 0 to 1.",
    )
    return fig
