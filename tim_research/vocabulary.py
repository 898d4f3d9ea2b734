"""Words of a program's data that several layers test for: closure reasons, plain labels.

Statistics may not import :mod:`tim_research.program`, yet survival analysis has to know which
closure counts as planned. The words therefore live here, below every layer that uses them;
:data:`tim_research.program.schema.CLOSURE_REASONS` is this tuple.

Examples
--------
>>> from tim_research.vocabulary import CLOSURE_REASONS, PLANNED_REASONS
>>> set(PLANNED_REASONS) <= set(CLOSURE_REASONS)
True
"""

from __future__ import annotations

import functools
import tomllib
from importlib.resources import files
from typing import Any

__all__ = [
    "CLOSURE_REASONS",
    "PLANNED_COMPLETION",
    "PLANNED_REASONS",
    "column_label",
    "count_labels",
    "technical_columns",
    "value_label",
]

PLANNED_COMPLETION = "planned completion"
"""The closure reason of a match that ran the time it was planned for."""

CLOSURE_REASONS: tuple[str, ...] = (
    PLANNED_COMPLETION,
    "youth or family moved",
    "mentor time constraints",
    "relationship difficulty",
    "safety concern",
    "other",
)
"""Reasons a match closed; every reason but the first is an unplanned (early) closure."""

PLANNED_REASONS: tuple[str, ...] = (PLANNED_COMPLETION,)
"""Closure reasons that are not an early closure (the default ``planned_reasons``)."""


# --- plain words for readers --------------------------------------------------------------------
#
# Tables (tim_research.views.display) and figures (tim_research.plots) name columns and coded
# values in the same plain words, from one file: tim_research/labels.toml.


@functools.cache
def _labels() -> dict[str, Any]:
    text = files("tim_research").joinpath("labels.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def column_label(name: object) -> str:
    """The plain name of a column for readers; a column not in the dictionary keeps its name.

    Examples
    --------
    >>> column_label("ci_lower"), column_label("n"), column_label("brs_score")
    ('ci_lower', 'Number', 'brs_score')
    """
    return _labels()["columns"].get(str(name), str(name))


def value_label(column: object, value: object) -> str:
    """The plain word of a coded value of ``column`` (e.g. the comparison arm).

    Examples
    --------
    >>> value_label("arm", "comparison"), value_label("arm", "mentored"), value_label("site", "N")
    ('waitlist comparison', 'mentored', 'N')
    """
    return _labels().get("values", {}).get(str(column), {}).get(str(value), str(value))


def technical_columns() -> frozenset[str]:
    """Columns for analysts (standard errors, test statistics, degrees of freedom, ...).

    Examples
    --------
    >>> {"se", "df"} <= technical_columns(), "estimate" in technical_columns()
    (True, False)
    """
    return frozenset(_labels()["technical"]["columns"])


def count_labels() -> frozenset[str]:
    """Plain names of the columns that count people, in lower case (for the safety gate).

    Examples
    --------
    >>> "number" in count_labels() and "young people" in count_labels()
    True
    """
    counts = ("n", "count", "events", "at_risk", "completed", "youth", "mentors", "matches")
    return frozenset(column_label(c).lower() for c in counts)
