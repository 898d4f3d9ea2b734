"""Every exception and warning of tim_research, in one module that imports nothing else of it.

Errors derive from :class:`TimResearchError`, warnings from :class:`TimResearchWarning`, so
``except TimResearchError`` or ``warnings.simplefilter("ignore", TimResearchWarning)`` covers
them all.

Examples
--------
>>> from tim_research.errors import DataError, TimResearchError
>>> issubclass(DataError, TimResearchError) and issubclass(DataError, ValueError)
True
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "TimResearchError",
    "DataError",
    "InstrumentError",
    "InvalidResponseError",
    "IdentifierError",
    "ProgramValidationError",
    "ConfigError",
    "TimResearchWarning",
    "InvalidResponseWarning",
    "ProratedScoreWarning",
    "SmallCellWarning",
    "IdentifierWarning",
    "ReidentificationRiskWarning",
    "ReliabilityWarning",
    "ConvergenceWarning",
]


# --------------------------------------------------------------------------- errors


class TimResearchError(Exception):
    """Base class of every error raised by tim_research."""


class DataError(TimResearchError, ValueError):
    """Input data do not fit what a function needs (columns, values, index)."""


class InstrumentError(TimResearchError, ValueError):
    """An instrument definition file is malformed or unknown."""


class InvalidResponseError(DataError):
    """Item responses outside an instrument's declared range or labels."""


class IdentifierError(DataError):
    """Columns that look like direct identifiers were found; ``err.findings`` lists them."""

    def __init__(self, message: str, findings: Any) -> None:
        super().__init__(message)
        self.findings = findings


class ProgramValidationError(DataError):
    """A data package failed validation; ``err.report`` holds every problem.

    ``report`` is the :class:`tim_research.program.package.ValidationReport` of the package;
    it is typed loosely here so this module needs nothing else of the package.
    """

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report


class ConfigError(TimResearchError, ValueError):
    """The report configuration or a notebook it names is not usable."""


# --------------------------------------------------------------------------- warnings


class TimResearchWarning(UserWarning):
    """Base class of every warning issued by tim_research."""


class InvalidResponseWarning(TimResearchWarning):
    """Invalid responses were treated as unanswered (``on_invalid="missing"``)."""


class ProratedScoreWarning(TimResearchWarning):
    """Some scores were prorated from fewer than all items."""


class SmallCellWarning(TimResearchWarning):
    """Counts below the minimum cell size were suppressed."""


class IdentifierWarning(TimResearchWarning):
    """Columns that look like direct identifiers remain in data about to be shared."""


class ReidentificationRiskWarning(TimResearchWarning):
    """Some rows of a person-level table are unique or rare on their quasi-identifiers."""


class ReliabilityWarning(TimResearchWarning):
    """A reliability coefficient is undefined for these data and was set to NaN."""


class ConvergenceWarning(TimResearchWarning):
    """The Cox partial likelihood did not converge (often: a coefficient tends to infinity)."""
