"""Small argument checks and message helpers shared by the analysis modules."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
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


def check_min_cell(min_cell: object) -> int:
    """The smallest count that may be shown, checked: a whole number, 0 or more.

    ``0`` turns small-cell suppression off. ``True``/``False`` are refused although Python
    counts them as integers: a flag passed by mistake must not silently mean 1 or 0.

    Parameters
    ----------
    min_cell
        The value to check.

    Returns
    -------
    int
        ``min_cell`` as a plain ``int``.

    Raises
    ------
    DataError
        When ``min_cell`` is not a whole number of 0 or more.

    Examples
    --------
    >>> check_min_cell(5)
    5
    >>> check_min_cell(True)
    Traceback (most recent call last):
    ...
    tim_research.errors.DataError: min_cell must be a whole number, 0 or more ..., got True
    """
    if (
        isinstance(min_cell, (bool, np.bool_))
        or not isinstance(min_cell, (int, np.integer))
        or min_cell < 0
    ):
        raise DataError(
            "min_cell must be a whole number, 0 or more (e.g. min_cell=5; 0 shows every count), "
            f"got {min_cell!r}"
        )
    return int(min_cell)
