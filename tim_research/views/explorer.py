"""The interactive explorer: pick site, outcome, wave and subgroup; see a table and a figure.

The logic is a pure function, :func:`explore`, from the prepared data (:func:`explorer_data`)
and a :class:`Choice` to an :class:`ExplorerView` (a table already formatted for readers and
a figure). :func:`explorer_app` only wires ipywidgets dropdowns to it, so every answer the
dashboard gives can be tested without a browser or a kernel.

Privacy. Readers of the dashboard can flip between all sites and each site, so the numbers of
people behind one outcome, wave and subgroup form one linked table: sites by subgroup, with
the all-sites row and the all-groups column as totals. That whole table goes once through
:func:`tim_research.privacy.suppression_mask`, and every view hides the cells it hides, so
no hidden count can be worked out by subtracting one view from another. In a table by
subgroup, a subgroup a site does not have is hidden too, and every view lists every subgroup:
a rare subgroup found at one site only could otherwise be read off the published totals. A
mean is hidden with its count. Identifiers are never part of a view (tables are by group only).

Outcomes: youth survey scores and ACE bands, mentor survey scores, the young person's report
of the relationship (per match, 3 and 12 months in) and GAS goal attainment (per young person
and review), each where the data have its tables.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tim_research import plots
from tim_research._checks import check_min_cell
from tim_research.errors import DataError, ProratedScoreWarning
from tim_research.privacy import suppression_mask
from tim_research.program.schema import GOAL_REVIEWS, RELATIONSHIP_WAVES, Program
from tim_research.stats.outcomes import group_means
from tim_research.stats.prevalence import distribution
from tim_research.views.display import Table, format_table
from tim_research.views.tables import (
    band,
    goal_scores,
    mentor_scores,
    relationship_scores,
    youth_scores,
)

__all__ = [
    "ALL_SITES",
    "OUTCOMES",
    "Choice",
    "ExplorerData",
    "ExplorerView",
    "Outcome",
    "choices",
    "explore",
    "explorer_app",
    "explorer_data",
    "subgroups",
    "waves",
]

#: The site choice that keeps every site.
ALL_SITES = "All sites"
_ALL_GROUPS = "All"
_NO_SUBGROUP = "none"
_UNKNOWN = "not known"


@dataclass(frozen=True)
class Outcome:
    """One outcome the explorer offers: a score column of one population's frame.

    ``who`` names the frame: ``"youth"`` (youth surveys), ``"mentors"`` (mentor surveys),
    ``"matches"`` (the young person's relationship reports, per match) or ``"goals"`` (GAS
    T-scores per young person and review).
    """

    column: str
    who: str
    label: str
    kind: str = "mean"  # "mean" (of a score) or "bands" (share of people in each band)
    scale: tuple[float, float] | None = None


#: The outcomes on offer, by the label shown in the dropdown.
OUTCOMES: dict[str, Outcome] = {
    o.label: o
    for o in (
        Outcome("brs_score", "youth", "BRS resilience (1-5)", scale=(1, 5)),
        Outcome("cyrm_r_score", "youth", "CYRM-R resilience (17-85)", scale=(17, 85)),
        Outcome("cyrm_r_personal", "youth", "CYRM-R personal (10-50)", scale=(10, 50)),
        Outcome("cyrm_r_caregiver", "youth", "CYRM-R caregiver (7-35)", scale=(7, 35)),
        Outcome("ace10_score_category", "youth", "ACE score bands (baseline)", kind="bands"),
        Outcome(
            "proqol5_compassion_satisfaction",
            "mentors",
            "ProQOL compassion satisfaction (10-50)",
            scale=(10, 50),
        ),
        Outcome("proqol5_burnout", "mentors", "ProQOL burnout (10-50)", scale=(10, 50)),
        Outcome(
            "proqol5_secondary_traumatic_stress",
            "mentors",
            "ProQOL secondary traumatic stress (10-50)",
            scale=(10, 50),
        ),
        Outcome("stss_score", "mentors", "STSS secondary traumatic stress (17-85)", scale=(17, 85)),
        Outcome(
            "ysor_score", "matches", "YSoR relationship strength, youth report (1-5)", scale=(1, 5)
        ),
        Outcome(
            "youth_centered_score",
            "matches",
            "Youth-centred relationship, youth report (1-4)",
            scale=(1, 4),
        ),
        Outcome("t_score", "goals", "GAS goal attainment (T-score, 50 = as expected)"),
    )
}

# subgroup label -> column of the prepared frame; which population has it
_SUBGROUPS = {
    "youth": {"gender": "gender", "age band": "age_band", "arm": "arm", "ACE band": "ace_band"},
    "mentors": {"gender": "gender", "age band": "age_band"},
    # of the young person; every match and goal belongs to a mentored young person
    "matches": {"gender": "gender", "age band": "age_band", "ACE band": "ace_band"},
    "goals": {"gender": "gender", "age band": "age_band", "ACE band": "ace_band"},
}
_YOUTH_AGE_BREAKS = (8, 11, 14)  # as views.describe.demographics
_MENTOR_AGE_BREAKS = (18, 30, 45, 60)
_UNIT = {
    "youth": "young people",
    "mentors": "mentors",
    "matches": "matches",
    "goals": "young people",
}
# the tables a population needs, and what to tell a reader whose data lack them
_NEEDS = {
    "mentors": "mentors.csv and mentor_surveys.csv: mentor outcomes",
    "matches": "matches.csv and relationship_surveys.csv: relationship outcomes",
    "goals": "matches.csv and goals.csv: goal attainment",
}


@dataclass(frozen=True)
class ExplorerData:
    """Scores prepared once per program: one row per completed survey, no identifiers kept."""

    youth: pd.DataFrame
    mentors: pd.DataFrame | None
    sites: tuple[str, ...]
    matches: pd.DataFrame | None = None
    goals: pd.DataFrame | None = None

    def has(self, who: str) -> bool:
        """True when the data have the frame of population ``who``."""
        return who == "youth" or getattr(self, who) is not None

    def frame(self, who: str) -> pd.DataFrame:
        """The frame of one population; a clear error when the data lack its tables."""
        if not self.has(who):
            raise DataError(
                f"these data have no {_NEEDS[who]} cannot be explored; choose a youth outcome"
            )
        return self.youth if who == "youth" else getattr(self, who)


@dataclass(frozen=True)
class Choice:
    """What the reader picked: a site (or :data:`ALL_SITES`), outcome, wave and subgroup."""

    site: str = ALL_SITES
    outcome: str = "BRS resilience (1-5)"
    wave: str = "baseline"
    subgroup: str = "arm"


@dataclass(frozen=True)
class ExplorerView:
    """The answer to one choice: the table as numbers, the same table for readers, a figure."""

    choice: Choice
    table: pd.DataFrame
    shown: Table
    figure: Figure

    @property
    def caption(self) -> str:
        """The table's caption, naming outcome, wave, site and subgroup."""
        return self.shown.caption


def _age_band(age: pd.Series, breaks: Sequence[int]) -> pd.Series:
    edges = [int(b) for b in breaks]
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:])] + [f"{edges[-1]}+"]
    return band(age.astype("float64"), breaks=edges, labels=labels)


def _with_unknown(values: pd.Series) -> pd.Series:
    """Missing subgroup labels as a group of their own, counted and suppressed like the rest."""
    values = values.astype("category")
    if not values.isna().any():
        return values
    return values.cat.add_categories([_UNKNOWN]).fillna(_UNKNOWN)


def explorer_data(program: Program, *, ace_cutoffs: str = "cdc_2019") -> ExplorerData:
    """Score the program once for the explorer (each widget change then only groups rows).

    Parameters
    ----------
    program
        A program (``program.read_program``, ``views.notebook.setup(...).program`` or
        ``synth.program``).
    ace_cutoffs
        Cut-off set of the ACE score bands (``"cdc_2019"``: 0, 1, 2-3, 4+).

    Examples
    --------
    >>> from tim_research import synth
    >>> d = explorer_data(synth.program(n_youth=60, seed=1))
    >>> d.sites, "youth_id" in d.youth.columns or "youth_id" in d.youth.index.names
    (('North', 'South', 'East', 'West'), False)
    """
    with warnings.catch_warnings():
        # prorated scores are documented in the scoring notebooks; the explorer shows means
        warnings.simplefilter("ignore", ProratedScoreWarning)
        y = youth_scores(program, ace_cutoffs=ace_cutoffs)
        m = mentor_scores(program) if program.has("mentors", "mentor_surveys") else None
    youth = y.reset_index(level="wave").reset_index(drop=True)
    youth = youth.assign(
        age_band=_with_unknown(_age_band(youth["age"], _YOUTH_AGE_BREAKS)),
        ace_band=_with_unknown(youth["ace10_score_category"]),
        gender=_with_unknown(youth["gender"]),
        arm=_with_unknown(youth["arm"]),
    )
    keep = ["site", "wave", "gender", "age_band", "arm", "ace_band"]
    keep += [o.column for o in OUTCOMES.values() if o.who == "youth" and o.column not in keep]
    mentors = None
    if m is not None:
        m = m.reset_index(level="wave").reset_index(drop=True)
        m = m.assign(
            age_band=_with_unknown(_age_band(m["age"], _MENTOR_AGE_BREAKS)),
            gender=_with_unknown(m["gender"]),
        )
        cols = ["site", "wave", "gender", "age_band"]
        cols += [o.column for o in OUTCOMES.values() if o.who == "mentors"]
        mentors = m[cols]
    # each young person's subgroups, from the enrolment survey (ACE band) and the youth table
    person = youth.assign(
        youth_id=y.index.get_level_values("youth_id"),
        later=youth["wave"].astype(str) != "baseline",  # the ACE band is asked at enrolment
    )
    person = person.sort_values("later", kind="stable").drop_duplicates("youth_id")
    person = person.set_index("youth_id")[["gender", "age_band", "ace_band"]]
    matches = goals = None
    if program.has("relationship_surveys", "matches"):
        rel = relationship_scores(program).xs("youth", level="reporter").reset_index()
        rel["wave"] = pd.Categorical(rel["wave"].astype(str), categories=list(RELATIONSHIP_WAVES))
        matches = _with_person(rel, person, [o for o in OUTCOMES.values() if o.who == "matches"])
    if program.has("goals", "matches"):
        g = goal_scores(program).rename(columns={"review": "wave"})
        g["wave"] = pd.Categorical(g["wave"].astype(str), categories=list(GOAL_REVIEWS))
        goals = _with_person(g, person, [o for o in OUTCOMES.values() if o.who == "goals"])
    return ExplorerData(
        youth=youth[keep],
        mentors=mentors,
        sites=tuple(program.sites),
        matches=matches,
        goals=goals,
    )


def _with_person(
    frame: pd.DataFrame, person: pd.DataFrame, outcomes: list[Outcome]
) -> pd.DataFrame:
    """Rows of ``frame`` with the young person's subgroups; ids are dropped."""
    subgroups = person.reindex(frame["youth_id"].astype(str).to_numpy())
    out = pd.DataFrame(
        {
            "site": frame["site"].reset_index(drop=True),
            "wave": frame["wave"].reset_index(drop=True),
            **{c: _with_unknown(subgroups[c].reset_index(drop=True)) for c in person.columns},
        }
    )
    for o in outcomes:
        out[o.column] = frame[o.column].to_numpy()
    return out


def waves(data: ExplorerData, outcome: str) -> list[str]:
    """The waves an outcome has in these data (ACE bands: baseline only).

    Examples
    --------
    >>> from tim_research import synth
    >>> d = explorer_data(synth.program(n_youth=60, seed=1))
    >>> waves(d, "BRS resilience (1-5)"), waves(d, "ACE score bands (baseline)")
    (['baseline', '6m', '12m'], ['baseline'])
    """
    o = _outcome(outcome)
    if o.kind == "bands":
        return ["baseline"]
    wave = data.frame(o.who)["wave"]
    present = set(wave.dropna().astype(str))
    order = list(wave.cat.categories) if isinstance(wave.dtype, pd.CategoricalDtype) else []
    return [w for w in order if w in present] or sorted(present)


def subgroups(outcome: str) -> list[str]:
    """The subgroups an outcome can be split by (``"none"`` first).

    The ACE band distribution is shown for whole sites only: split by a subgroup as well it
    would be a three-way table (site, subgroup, band), which one pass of
    :func:`tim_research.privacy.suppression_mask` cannot protect.

    Examples
    --------
    >>> subgroups("STSS secondary traumatic stress (17-85)")
    ['none', 'gender', 'age band']
    """
    o = _outcome(outcome)
    if o.kind == "bands":
        return [_NO_SUBGROUP]
    return [_NO_SUBGROUP, *_SUBGROUPS[o.who]]


def choices(data: ExplorerData) -> dict[str, list[str]]:
    """Every option of each control (waves and subgroups as the first outcome has them)."""
    first = next(iter(OUTCOMES))
    return {
        "site": [ALL_SITES, *data.sites],
        "outcome": [o.label for o in OUTCOMES.values() if data.has(o.who)],
        "wave": waves(data, first),
        "subgroup": subgroups(first),
    }


def _outcome(label: str) -> Outcome:
    if label not in OUTCOMES:
        raise DataError(f"outcome {label!r} is not offered; choose one of {list(OUTCOMES)}")
    return OUTCOMES[label]


def _check_choice(data: ExplorerData, choice: Choice) -> Outcome:
    o = _outcome(choice.outcome)
    if choice.site != ALL_SITES and choice.site not in data.sites:
        raise DataError(
            f"site {choice.site!r} is not in the data; choose {ALL_SITES!r} or one of "
            f"{list(data.sites)}"
        )
    if choice.wave not in waves(data, choice.outcome):
        raise DataError(
            f"wave {choice.wave!r} is not available for {choice.outcome}; choose one of "
            f"{waves(data, choice.outcome)}"
        )
    if choice.subgroup not in subgroups(choice.outcome):
        raise DataError(
            f"subgroup {choice.subgroup!r} is not available for {choice.outcome}; choose one of "
            f"{subgroups(choice.outcome)}"
        )
    return o


def _linked_mask(
    rows: pd.DataFrame, key: str | None, sites: Sequence[str], min_cell: int
) -> pd.DataFrame:
    """Hidden cells of the sites-by-``key`` table of counts with its totals.

    ``rows`` has one row per person counted. The mask's index is the sites and
    :data:`ALL_SITES`; its columns are the ``key`` levels and :data:`_ALL_GROUPS` (only
    :data:`_ALL_GROUPS` without a ``key``).
    """
    site = pd.Categorical(rows["site"].astype(str), categories=list(sites))
    if key is None:
        counts = pd.DataFrame({_ALL_GROUPS: pd.Series(site).value_counts(sort=False)})
    else:
        levels = rows[key]
        cats = (
            list(levels.cat.categories)
            if isinstance(levels.dtype, pd.CategoricalDtype)
            else sorted(levels.dropna().unique().tolist())
        )
        counts = pd.crosstab(site, pd.Categorical(levels, categories=cats), dropna=False)
        counts.columns = [str(c) for c in cats]
        counts[_ALL_GROUPS] = counts.sum(axis=1)
    counts.index = list(sites)
    counts.loc[ALL_SITES] = counts.sum(axis=0)
    if min_cell == 0:
        return counts.astype(bool) & False
    return suppression_mask(
        counts.astype(int),
        min_cell=min_cell,
        total_row=ALL_SITES,
        total_column=None if key is None else _ALL_GROUPS,
        # a subgroup that a site does not have would otherwise show as a known zero, and a
        # rare subgroup found at one site only could then be read off the published totals
        mask_zeros=key is not None,
    )


def _site_rows(frame: pd.DataFrame, site: str) -> pd.DataFrame:
    return frame if site == ALL_SITES else frame[frame["site"].astype(str) == site]


def _mean_view(data: ExplorerData, o: Outcome, choice: Choice, min_cell: int) -> pd.DataFrame:
    frame = data.frame(o.who)
    frame = frame[(frame["wave"].astype(str) == choice.wave) & frame[o.column].notna()]
    split = choice.subgroup != _NO_SUBGROUP
    key = _SUBGROUPS[o.who][choice.subgroup] if split else None
    mask = _linked_mask(frame, key, data.sites, min_cell)
    rows = _site_rows(frame, choice.site)
    label = choice.subgroup if split else "group"
    parts = []
    if split:
        by = group_means(rows, value=o.column, by=key, min_cell=0).rename(columns={key: label})
        by[label] = by[label].astype(str)
        parts.append(by)
    total = group_means(rows, value=o.column, min_cell=0).assign(**{label: _ALL_GROUPS})
    parts.append(total)
    out = pd.concat(parts, ignore_index=True)
    if split:
        # every subgroup of the linked table gets a row, so a hidden one with nobody in it
        # looks like any other hidden one
        levels = [c for c in mask.columns if c != _ALL_GROUPS]
        known = out.set_index(label)
        out = known.reindex([*levels, *(g for g in known.index if g not in levels)])
        out["n"] = out["n"].fillna(0)
        out = out.rename_axis(label).reset_index()
    # fail closed: a group the linked table does not know is hidden
    hidden = mask.loc[choice.site].reindex(out[label]).fillna(True).to_numpy(bool)
    out = out[[label, "n", "mean", "ci_lower", "ci_upper"]].copy()
    out.loc[hidden, ["n", "mean", "ci_lower", "ci_upper"]] = np.nan
    out["suppressed"] = hidden
    return out


def _bands_view(data: ExplorerData, o: Outcome, choice: Choice, min_cell: int) -> pd.DataFrame:
    frame = data.youth
    frame = frame[(frame["wave"].astype(str) == "baseline") & frame[o.column].notna()]
    mask = _linked_mask(frame, o.column, data.sites, min_cell)
    rows = _site_rows(frame, choice.site)
    table = distribution(rows, o.column, min_cell=0)
    table["category"] = table["category"].astype(str)
    hidden = mask.loc[choice.site].reindex(table["category"]).fillna(True).to_numpy(bool)
    out = table[["category", "n", "count", "estimate", "ci_lower", "ci_upper"]].copy()
    out.loc[hidden, ["count", "estimate", "ci_lower", "ci_upper"]] = np.nan
    if mask.loc[choice.site, _ALL_GROUPS]:
        out["n"] = np.nan
    out["suppressed"] = hidden
    return out


def explore(data: ExplorerData, choice: Choice, *, min_cell: int = 5) -> ExplorerView:
    """Table and figure for one choice of site, outcome, wave and subgroup.

    Score outcomes give the mean with its 95% t interval per subgroup and for the whole
    group (``All``); ACE bands give the share of young people in each band (Wilson
    intervals). Cells are hidden as the module docstring explains: the same cells in every
    view of one outcome, wave and subgroup.

    Parameters
    ----------
    data
        From :func:`explorer_data`.
    choice
        The reader's choice; a choice the data cannot answer raises
        :class:`~tim_research.errors.DataError` naming the valid options.
    min_cell
        Smallest number of people behind a shown number (``0`` shows everything).

    Examples
    --------
    >>> from tim_research import synth
    >>> d = explorer_data(synth.program(n_youth=200, seed=1))
    >>> v = explore(d, Choice(site="North", subgroup="arm"))
    >>> v.caption
    'BRS resilience (1-5) at baseline, site North, by arm'
    >>> list(v.table.columns)
    ['arm', 'n', 'mean', 'ci_lower', 'ci_upper', 'suppressed']
    """
    min_cell = check_min_cell(min_cell)
    o = _check_choice(data, choice)
    where = "all sites" if choice.site == ALL_SITES else f"site {choice.site}"
    unit = _UNIT[o.who]
    if o.kind == "bands":
        table = _bands_view(data, o, choice, min_cell)
        caption = f"{o.label}: share of {unit}, {where}"
        shown = format_table(table, unit=unit, caption=caption)
        fig = plots.bar_with_ci(
            table,
            x="category",
            min_cell=min_cell,
            unit=unit,
            title=caption,
            xlabel="ACE score band",
            ylabel=f"Share of {unit} (%, 95% CI)",
        )
    else:
        table = _mean_view(data, o, choice, min_cell)
        by = f", by {choice.subgroup}" if choice.subgroup != _NO_SUBGROUP else ""
        caption = f"{o.label} at {choice.wave}, {where}{by}"
        shown = format_table(table, unit=unit, caption=caption)
        fig = plots.point_range(
            table,
            label=table.columns[0],
            y="mean",
            min_cell=min_cell,
            unit=unit,
            title=caption,
            xlabel=f"Mean {o.label} (95% CI)",
        )
        if o.scale is not None:
            fig.axes[0].set_xlim(*o.scale)  # the whole scale: small differences look small
    return ExplorerView(choice=choice, table=table, shown=shown, figure=fig)


def explorer_app(data: ExplorerData, *, min_cell: int = 5, choice: Choice | None = None) -> Any:
    """The dashboard: four dropdowns above an output that :func:`explore` refills on change.

    Returns an ``ipywidgets.VBox``; its ``output`` attribute is the output widget (its
    ``outputs`` hold the table's HTML and the figure), ``controls`` maps control names to
    dropdowns and ``views`` holds the :class:`ExplorerView` shown. Its plain-text form is the
    table shown. The outputs are set from the kernel, so the app works the same in
    JupyterLab, in Voila and in a test without a front end.
    """
    import ipywidgets as w
    from matplotlib import pyplot as plt

    start = choice or Choice()
    opts = choices(data)
    layout = {"description_width": "initial"}
    controls = {
        "site": w.Dropdown(
            options=opts["site"], value=start.site, description="Site", style=layout
        ),
        "outcome": w.Dropdown(
            options=opts["outcome"], value=start.outcome, description="Outcome", style=layout
        ),
        "wave": w.Dropdown(
            options=waves(data, start.outcome), value=start.wave, description="Wave", style=layout
        ),
        "subgroup": w.Dropdown(
            options=subgroups(start.outcome),
            value=start.subgroup,
            description="Subgroup",
            style=layout,
        ),
    }
    output = w.Output()
    shown: list[ExplorerView] = []

    def redraw(_change: object = None) -> None:
        now = Choice(**{k: c.value for k, c in controls.items()})
        try:
            view = explore(data, now, min_cell=min_cell)
        except DataError as exc:
            shown.clear()
            output.outputs = ()
            output.append_stdout(f"{exc}\n")
            return
        shown[:] = [view]
        output.outputs = ()
        output.append_display_data(view.shown)
        output.append_display_data(view.figure)
        plt.close(view.figure)

    def outcome_changed(change: dict[str, Any]) -> None:
        # keep the wave and subgroup when the new outcome has them, else take its first
        for name, options in (
            ("wave", waves(data, change["new"])),
            ("subgroup", subgroups(change["new"])),
        ):
            old = controls[name].value
            controls[name].unobserve(redraw, names="value")
            controls[name].options = options
            controls[name].value = old if old in options else options[0]
            controls[name].observe(redraw, names="value")
        redraw()

    for name, control in controls.items():
        if name == "outcome":
            control.observe(outcome_changed, names="value")
        else:
            control.observe(redraw, names="value")
    redraw()
    app = _app_class(w)([w.HBox(list(controls.values())), output])
    app.output, app.controls, app.views = output, controls, shown
    return app


def _app_class(w: Any) -> type:
    """A VBox that also offers the table shown as text and HTML (stable, unlike model ids).

    Viewers without widgets (a stored notebook on a static page, nbval comparing stored
    outputs) read the text or HTML; Voila and JupyterLab draw the widgets.
    """

    class ExplorerApp(w.VBox):
        def __repr__(self) -> str:
            head = "Explorer (open in JupyterLab or Voila to change the choice)"
            return f"{head}\n{self.views[-1].shown}" if self.views else head

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            # the whole table as text and HTML (ipywidgets cuts text at 110 characters)
            data = super()._repr_mimebundle_(**kwargs)
            data["text/plain"] = repr(self)
            if self.views:
                data["text/html"] = self.views[-1].shown.to_html()
            return data

    return ExplorerApp
