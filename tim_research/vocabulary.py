"""Words of a program's data that several layers test for: the closure reasons of a match.

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

__all__ = ["CLOSURE_REASONS", "PLANNED_COMPLETION", "PLANNED_REASONS"]

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
