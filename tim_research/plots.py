"""Figures with one project theme: readable fonts, a colour-blind-safe palette, CIs shown.

Every function takes a tidy table made by the library (columns documented per function),
draws on ``ax`` when given (else a new figure), and returns the matplotlib Figure. Nothing
here changes global matplotlib state: the theme applies only inside :func:`themed`.
"""

from __future__ import annotations

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

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
__all__ = [
    "PALETTE",
    "THEME",
    "bar_with_ci",
    "cumulative_incidence_stacked",
    "forest",
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


def bar_with_ci(
    table: pd.DataFrame,
    *,
    x: str,
    y: str = "estimate",
    hue: str | None = None,
    percent: bool = True,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Bars of an estimate with ``ci_lower``/``ci_upper`` error bars (e.g. prevalence tables).

    Suppressed rows (NaN estimate) are drawn as an empty slot labelled "suppressed".

    Examples
    --------
    >>> t = pd.DataFrame({"score": ["0", "1"], "estimate": [0.6, 0.4],
    ...                   "ci_lower": [0.5, 0.3], "ci_upper": [0.7, 0.5]})
    >>> fig = bar_with_ci(t, x="score")
    >>> [float(p.get_height()) for p in fig.axes[0].patches]
    [60.0, 40.0]
    """
    _need(table, [x, y, "ci_lower", "ci_upper"] + ([hue] if hue else []), "bar_with_ci")
    scale = 100.0 if percent else 1.0
    with themed():
        fig, ax = _axes(ax)
        groups = [(None, table)] if hue is None else list(table.groupby(hue, sort=False))
        cats = list(dict.fromkeys(table[x].astype(str)))
        width = 0.8 / len(groups)
        for g, (name, part) in enumerate(groups):
            pos = {c: i for i, c in enumerate(cats)}
            xs = (
                np.array([pos[c] for c in part[x].astype(str)])
                + (g - (len(groups) - 1) / 2) * width
            )
            est = part[y].to_numpy(float) * scale
            lo = part["ci_lower"].to_numpy(float) * scale
            hi = part["ci_upper"].to_numpy(float) * scale
            ax.bar(
                xs,
                np.nan_to_num(est),
                width=width * 0.95,
                label=None if name is None else str(name),
                color=PALETTE[g % len(PALETTE)],
            )
            ok = ~np.isnan(est)
            ax.errorbar(
                xs[ok],
                est[ok],
                yerr=_error_bars(est[ok], lo[ok], hi[ok]),
                fmt="none",
                ecolor="#333333",
                capsize=3,
                lw=1,
            )
            for xi in xs[~ok]:
                ax.text(xi, 0, "suppressed", rotation=90, ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(cats)), cats)
        if hue is not None:
            ax.legend(title=hue)
        return _finish(
            fig,
            ax,
            title,
            xlabel if xlabel is not None else x,
            ylabel if ylabel is not None else ("Percent" if percent else y),
        )


def point_range(
    table: pd.DataFrame,
    *,
    label: str,
    y: str = "estimate",
    percent: bool = False,
    reference: float | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Horizontal points with CI lines, one row per ``label`` (item prevalence, site means).

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
        est = table[y].to_numpy(float) * scale
        ax.hlines(
            pos,
            table["ci_lower"].to_numpy(float) * scale,
            table["ci_upper"].to_numpy(float) * scale,
            color=PALETTE[0],
            lw=2,
        )
        ax.plot(est, pos, "o", color=PALETTE[0])
        for p_ in pos[np.isnan(est)]:
            ax.text(
                0.01,
                p_,
                "suppressed",
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=8,
                color="#555555",
            )
        if reference is not None:
            ax.axvline(reference * scale, color="#777777", ls="--", lw=1)
        ax.set_yticks(pos, table[label].astype(str))
        ax.grid(axis="y", visible=False)
        return _finish(
            fig,
            ax,
            title,
            xlabel if xlabel is not None else ("Percent (95% CI)" if percent else f"{y} (95% CI)"),
            "",
        )


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
    return fig


def survival_curves(
    km: pd.DataFrame,
    *,
    title: str | None = None,
    xlabel: str = "Months since match start",
    ylabel: str = "Matches still open",
    time_scale: float = 1.0,
    ax: Axes | None = None,
) -> Figure:
    """Kaplan-Meier step curves with shaded CIs from ``matches.kaplan_meier`` (``group`` optional).

    ``time_scale`` divides the ``time`` column (e.g. 365.25 / 12 to show days as months).
    """
    _need(km, ["time", "survival", "ci_lower", "ci_upper"], "survival_curves")
    with themed():
        fig, ax = _axes(ax)
        groups = [(None, km)] if "group" not in km else list(km.groupby("group", sort=False))
        for g, (name, part) in enumerate(groups):
            colour = PALETTE[g % len(PALETTE)]
            # curves start at S(0) = 1
            t = np.concatenate([[0.0], part["time"].to_numpy(float) / time_scale])
            s = np.concatenate([[1.0], part["survival"].to_numpy(float)])
            lo = np.concatenate([[1.0], part["ci_lower"].to_numpy(float)])
            hi = np.concatenate([[1.0], part["ci_upper"].to_numpy(float)])
            ax.step(t, s, where="post", color=colour, label=None if name is None else str(name))
            ax.fill_between(t, lo, hi, step="post", color=colour, alpha=0.15, lw=0)
        ax.set_ylim(0, 1.02)
        if len(groups) > 1:
            ax.legend()
        return _finish(fig, ax, title, xlabel, ylabel)


def trajectories(
    table: pd.DataFrame,
    *,
    x: str,
    y: str = "mean",
    group: str | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Group means over time with CI error bars (``ci_lower``/``ci_upper``)."""
    _need(table, [x, y, "ci_lower", "ci_upper"] + ([group] if group else []), "trajectories")
    with themed():
        fig, ax = _axes(ax)
        groups = [(None, table)] if group is None else list(table.groupby(group, sort=False))
        for g, (name, part) in enumerate(groups):
            part = part.sort_values(x)
            xs = part[x].to_numpy(float) + (g - (len(groups) - 1) / 2) * 0.15
            est = part[y].to_numpy(float)
            ax.errorbar(
                xs,
                est,
                yerr=_error_bars(
                    est, part["ci_lower"].to_numpy(float), part["ci_upper"].to_numpy(float)
                ),
                marker="o",
                capsize=3,
                color=PALETTE[g % len(PALETTE)],
                label=None if name is None else str(name),
            )
        if group is not None:
            ax.legend(title=group)
        return _finish(
            fig, ax, title, xlabel if xlabel is not None else x, ylabel if ylabel is not None else y
        )


def scatter_with_fit(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Scatter of two scores with an OLS line and its 95% CI band (seaborn ``regplot``)."""
    _need(data, [x, y], "scatter_with_fit")
    with themed():
        fig, ax = _axes(ax)
        sns.regplot(
            data=data,
            x=x,
            y=y,
            ax=ax,
            color=PALETTE[0],
            seed=0,
            scatter_kws={"alpha": 0.5, "s": 18},
        )
        return _finish(
            fig, ax, title, xlabel if xlabel is not None else x, ylabel if ylabel is not None else y
        )


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
    return fig


def zph_residuals(
    residuals: pd.DataFrame,
    covariate: str,
    *,
    coef: float | None = None,
    frac: float = 2 / 3,
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
        ax.plot(x, y, "o", color=PALETTE[0], alpha=0.5, ms=4, label="events")
        if x.size >= 3:
            smooth = lowess(y, x, frac=frac, return_sorted=True)
            ax.plot(smooth[:, 0], smooth[:, 1], color=PALETTE[5], lw=2, label="lowess")
        if coef is not None:
            ax.axhline(coef, color=PALETTE[7], ls="--", lw=1, label="Cox coefficient")
        ax.legend()
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
    return fig
