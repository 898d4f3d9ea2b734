"""Small argument checks and message helpers shared by the analysis modules."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from tim_research.errors import DataError

MAX_SHOWN = 5


def show_labels(labels: Iterable[object], *, limit: int = MAX_SHOWN) -> str:
    """The first ``limit`` labels as reprs, then "and N more", for error messages."""
    labels = list(labels)
    text = ", ".join(repr(x) for x in labels[:limit])
    if len(labels) > limit:
        text += f" and {len(labels) - limit} more"
    return text


def check_conf_level(conf_level: float) -> None:
    """Raise a DataError unless ``0 < conf_level < 1``."""
    if not 0 < conf_level < 1:
        raise DataError(f"conf_level must be between 0 and 1, got {conf_level!r}")


def check_frame(data: object, what: str = "data") -> None:
    """Raise a DataError unless ``data`` is a pandas DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(data).__name__}")
