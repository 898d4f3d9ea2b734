"""One exception family and the named warnings of tim_research."""

from __future__ import annotations

__all__ = [
    "TimResearchError",
    "DataError",
    "InstrumentError",
    "InvalidResponseError",
    "TimResearchWarning",
    "InvalidResponseWarning",
    "ProratedScoreWarning",
    "SmallCellWarning",
    "ScreeningUseWarning",
]


class TimResearchError(Exception):
    """Base class of every error raised by tim_research."""


class DataError(TimResearchError, ValueError):
    """Input data do not fit what a function needs (columns, values, index)."""


class InstrumentError(TimResearchError, ValueError):
    """An instrument definition file is malformed or unknown."""


class InvalidResponseError(DataError):
    """Item responses outside an instrument's declared range or labels."""


class TimResearchWarning(UserWarning):
    """Base class of every warning issued by tim_research."""


class InvalidResponseWarning(TimResearchWarning):
    """Invalid responses were treated as unanswered (``on_invalid="missing"``)."""


class ProratedScoreWarning(TimResearchWarning):
    """Some scores were prorated from fewer than all items."""


class SmallCellWarning(TimResearchWarning):
    """Counts below the minimum cell size were suppressed."""


class ScreeningUseWarning(TimResearchWarning):
    """A population research measure is being used to classify individuals."""
