"""One set-up call for the research notebooks: check parameters, load data, fix display.

A notebook's first code cell after its ``parameters`` cell is::

    nb = setup(data_dir=data_dir, site=site, min_cell=min_cell, seed=seed)

It validates the parameters (papermill passes whatever it is given), reads and validates the
program data package (inside ``tim report``, it takes the batch's checked copy instead: see
:mod:`tim_research.program.cache`), keeps one site when asked, seeds numpy, and makes
displayed output deterministic (rounded tables, PNG figures at a fixed resolution, no
progress bars).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tim_research._checks import check_min_cell
from tim_research.errors import DataError
from tim_research.program.cache import load_program
from tim_research.program.schema import Program
from tim_research.views.display import Table, format_table

__all__ = ["NotebookContext", "needs", "resolve_data_dir", "select_site", "setup", "show"]


@dataclass(frozen=True)
class NotebookContext:
    """What a notebook works with after :func:`setup`."""

    program: Program
    site: str | None
    min_cell: int
    seed: int
    rng: np.random.Generator
    data_dir: Path | None = None
    """The data package folder read (resolved: see :func:`resolve_data_dir`)."""

    @property
    def site_label(self) -> str:
        """``"all sites"`` or the site's name, for titles and prose."""
        return "all sites" if self.site is None else f"site {self.site}"

    @property
    def sites(self) -> list[str]:
        """Sites in the data shown (one when a site was chosen)."""
        return [self.site] if self.site is not None else self.program.sites


def _check(name: str, value: Any, kind: type | tuple[type, ...], allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        raise DataError(
            f"notebook parameter {name!r} must be {expected}{' or None' if allow_none else ''}, "
            f"got {value!r} ({type(value).__name__}); pass it as a literal, e.g. with "
            f"papermill -p {name} ... or a parameters YAML file"
        )


def select_site(program: Program, site: str) -> Program:
    """The part of a program that belongs to one site (youth, mentors and what links to them).

    Examples
    --------
    >>> from tim_research import synth
    >>> north = select_site(synth.program(n_youth=40, seed=1), "North")
    >>> set(north.youth["site"].astype(str))
    {'North'}
    """
    if site not in program.sites:
        raise DataError(
            f"site {site!r} is not in the data; sites are {program.sites}. Use None for all sites."
        )
    youth = program.youth[program.youth["site"] == site]
    mentors = program.mentors
    if mentors is not None:
        mentors = mentors[mentors["site"] == site]
    matches = program.matches
    if matches is not None:
        matches = matches[matches["youth_id"].isin(youth["youth_id"])]
    mentor_surveys, meetings = program.mentor_surveys, program.meetings
    if mentor_surveys is not None and mentors is not None:
        mentor_surveys = mentor_surveys[mentor_surveys["mentor_id"].isin(mentors["mentor_id"])]
    if meetings is not None and matches is not None:
        meetings = meetings[meetings["match_id"].isin(matches["match_id"])]
    relationship = program.relationship_surveys
    if relationship is not None and matches is not None:
        relationship = relationship[relationship["match_id"].isin(matches["match_id"])]
    goals, pce = program.goals, program.pce_surveys
    if goals is not None:
        goals = goals[goals["youth_id"].isin(youth["youth_id"])]
    if pce is not None:
        pce = pce[pce["youth_id"].isin(youth["youth_id"])]
    return Program(
        youth=youth,
        surveys=program.surveys[program.surveys["youth_id"].isin(youth["youth_id"])],
        mentors=mentors,
        mentor_surveys=mentor_surveys,
        matches=matches,
        meetings=meetings,
        goals=goals,
        relationship_surveys=relationship,
        pce_surveys=pce,
        cutoff=program.cutoff,
        effects=program.effects,
    )


def needs(nb: NotebookContext, *tables: str) -> bool:
    """Whether the program has the tables a notebook section needs; if not, say so in one line.

    A section whose input tables the program does not have (they are optional: see
    :data:`~tim_research.program.schema.OPTIONAL_TABLES`) is skipped with one printed line
    instead of failing, so the rest of the notebook still runs::

        if needs(nb, "matches"):
            show(match_status(nb.program, min_cell=nb.min_cell))

    Examples
    --------
    >>> from tim_research import synth
    >>> from tim_research.program import Program
    >>> p = synth.program(n_youth=20)
    >>> nb = NotebookContext(Program(youth=p.youth, surveys=p.surveys, cutoff=p.cutoff),
    ...                      None, 5, 0, np.random.default_rng(0))
    >>> needs(nb, "youth")
    True
    >>> needs(nb, "mentors", "mentor_surveys")
    Not shown: this section needs mentors.csv and mentor_surveys.csv, which these data do not have.
    False
    """
    missing = [t for t in tables if not nb.program.has(t)]
    if missing:
        files = " and ".join(f"{t}.csv" for t in missing)
        print(f"Not shown: this section needs {files}, which these data do not have.")
    return not missing


def _notebooks_folder() -> Path | None:
    """The repository's ``notebooks`` folder next to this package (a source checkout only)."""
    folder = Path(__file__).resolve().parents[2] / "notebooks"
    return folder if folder.is_dir() else None


def resolve_data_dir(data_dir: str) -> Path:
    """The data folder a notebook parameter names.

    A relative path is taken from the working directory first. The notebooks' default,
    ``../data/sample``, is relative to the ``notebooks`` folder; when papermill or jupyter run a
    notebook from elsewhere (the repository root), the path is also tried from the notebooks
    folder of this source checkout.

    Examples
    --------
    >>> resolve_data_dir("../data/sample").name
    'sample'
    """
    folder = Path(data_dir).expanduser()
    if folder.is_dir() or folder.is_absolute():
        return folder
    notebooks = _notebooks_folder()
    if notebooks is not None and (notebooks / folder).is_dir():
        return notebooks / folder
    return folder


def setup(
    *,
    data_dir: str,
    site: str | None = None,
    min_cell: int = 5,
    seed: int = 0,
    allow_identifiers: list[str] | tuple[str, ...] = (),
) -> NotebookContext:
    """Validate notebook parameters, read the program, and make output deterministic.

    Parameters
    ----------
    data_dir
        Folder of a program data package (like ``data/sample``); a relative path is taken
        from the working directory, else from the notebooks folder (:func:`resolve_data_dir`).
    site
        One site's name, or ``None`` for all sites.
    min_cell
        Smallest count shown in tables; smaller counts are suppressed (0 shows everything).
    seed
        Seed of every random step (imputation, bootstrap).
    allow_identifiers
        Columns that look like direct identifiers but may be read (see ``program.read_program``);
        data with other such columns are refused.
    """
    _check("data_dir", data_dir, str)
    _check("site", site, str, allow_none=True)
    _check("min_cell", min_cell, int)
    _check("seed", seed, int)
    if not isinstance(allow_identifiers, list | tuple) or not all(
        isinstance(a, str) for a in allow_identifiers
    ):
        raise DataError(
            "notebook parameter 'allow_identifiers' must be a list of column names such as "
            f"['youth.notes'], got {allow_identifiers!r}"
        )
    check_min_cell(min_cell)
    folder = resolve_data_dir(data_dir)
    if not folder.is_dir():
        raise DataError(
            f"notebook parameter 'data_dir' = {data_dir!r} is not a folder (working directory: "
            f"{Path.cwd().name}, nor the notebooks folder); point it at a data package like "
            "data/sample"
        )
    # a report batch has read and checked these data once already (program.cache); alone, or
    # when the batch's copy does not match the data, the package is read and checked here
    program = load_program(folder, allow_identifiers=allow_identifiers)
    if site is not None:
        program = select_site(program, site)
    np.random.seed(seed)  # noqa: NPY002 - for libraries that draw from the global state
    _configure_display()
    return NotebookContext(program, site, min_cell, seed, np.random.default_rng(seed), folder)


def _configure_display() -> None:
    """Deterministic, readable output inside a notebook kernel (no effect elsewhere).

    Only inside an IPython kernel are pandas display options, the warning format and the
    figure format changed: a script or test calling :func:`setup` keeps its global state.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the notebook stack
        return
    shell = get_ipython()
    if shell is None:
        return
    os.environ.setdefault("TQDM_DISABLE", "1")
    pd.set_option("display.precision", 3)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 120)
    pd.set_option("display.max_colwidth", 200)  # labels and notes are read in full
    # Warnings are shown as "Category: message", without the file path of the code that raised
    # them: paths differ between machines and would make stored outputs irreproducible.
    warnings.formatwarning = _short_warning
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
    _show_figure_data(shell)
    import matplotlib

    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["savefig.dpi"] = 100


def _show_figure_data(shell: Any) -> None:
    """Put the texts and numbers each figure drew into its output, for the safety gate.

    A figure made by :mod:`tim_research.plots` is displayed with one more MIME type,
    :data:`~tim_research.plots.FIGURE_DATA_MIME`, beside its PNG: an HTML list of its texts and
    a table of what it drew. No viewer renders that type (staff pages show the PNG only), but
    the report's gate reads it, so a number or label drawn in a figure is checked like one in
    a table.
    """
    from IPython.core.formatters import BaseFormatter
    from matplotlib.figure import Figure
    from traitlets import ObjectName, Unicode

    from tim_research import plots

    class FigureDataFormatter(BaseFormatter):
        format_type = Unicode(plots.FIGURE_DATA_MIME)
        print_method = ObjectName("_repr_tim_figure_data_")
        _return_type = str

    formatter = FigureDataFormatter(parent=shell.display_formatter)
    formatter.for_type(Figure, plots.figure_data_html)
    shell.display_formatter.formatters[plots.FIGURE_DATA_MIME] = formatter


def _short_warning(message, category, filename, lineno, line=None) -> str:
    return f"{category.__name__}: {message}\n"


def show(
    table: pd.DataFrame | pd.Series,
    *,
    digits: int = 2,
    unit: str | None = None,
    caption: str = "",
    source: str = "",
    notes: Sequence[str] = (),
) -> Table:
    """A table as readers see it: formatted cells, plain headers, technical columns folded.

    Shares read "40 %", intervals "35-44 %", p-values "< 0.001", missing cells "–"; whole
    numbers have no decimals, other numbers ``digits``; the headers are plain words; row
    numbers are dropped (another index becomes the first column); in rows whose
    ``suppressed`` column is True the masked (missing) cells read "suppressed". Standard
    errors, test statistics and the like go under a folded "Technical details". See
    :func:`tim_research.views.display.format_table`, which this calls.

    Examples
    --------
    >>> t = pd.DataFrame({"n": [120.0, 8.0], "count": [40.0, float("nan")],
    ...                   "estimate": [0.33333, float("nan")], "suppressed": [False, True]})
    >>> show(t)
    Number       Count     Percent
       120          40        33 %
         8  suppressed  suppressed
    “suppressed”: hidden because too few people are behind the number to show it safely.
    """
    return format_table(
        table, digits=digits, unit=unit, caption=caption, source=source, notes=tuple(notes)
    )
