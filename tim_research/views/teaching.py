"""Exercises that learners check inside a teaching notebook, and a private self-check.

A teaching notebook computes each exercise's answer from its data in a folded cell::

    ex_1_1 = exercise("1.1", expected=share_zero, tolerance=0.01, hint="Look at the 0 row.")

and the learner writes an answer and checks it::

    answer_1_1 = ...  # replace ... with your answer
    check(answer_1_1, ex_1_1)

:func:`check` never prints the expected value: it says whether the answer is right, close, or
not yet, and adds the exercise's hint. Because the expected value is computed from the data in
the notebook, it follows the data when they change; nothing is hard-coded in the checker.

:func:`self_check` scores one person's own questionnaire answers in memory (for example a
mentor's ProQOL 5) and returns their scale scores; nothing is written anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Literal

import numpy as np
import pandas as pd

from tim_research.errors import DataError
from tim_research.instruments import load_instrument
from tim_research.scoring import score
from tim_research.views.notebook import _configure_display

__all__ = ["Exercise", "Feedback", "check", "exercise", "self_check", "setup_display"]

Status = Literal["correct", "close", "not yet", "unanswered", "wrong kind", "unavailable"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id, the expected answer (hidden from reprs) and how to judge it."""

    id: str
    expected: float | str = field(repr=False)
    tolerance: float = 0.0
    hint: str = ""
    explanation: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feedback:
    """What :func:`check` says about an answer; shown in a notebook as its message."""

    exercise: str
    status: Status
    message: str

    @property
    def correct(self) -> bool:
        """True when the answer was right."""
        return self.status == "correct"

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


def setup_display() -> None:
    """Deterministic tables and PNG figures in a teaching notebook that reads no program data.

    The same display set-up as :func:`tim_research.views.notebook.setup` (which also reads a
    program data package); outside a notebook kernel it changes nothing.

    Examples
    --------
    >>> setup_display()
    """
    _configure_display()


def exercise(
    id: str,
    *,
    expected: float | str,
    tolerance: float = 0.0,
    hint: str = "",
    explanation: str = "",
    choices: Sequence[str] = (),
) -> Exercise:
    """Define an exercise whose answer was computed from the notebook's data.

    Parameters
    ----------
    id
        Short label shown in feedback, e.g. ``"1.2"``.
    expected
        The right answer: a number computed in the notebook, or (with ``choices``) the letter
        or word of the right choice. NaN (a suppressed or empty cell, e.g. for a small site)
        makes the exercise one that :func:`check` says cannot be checked with these data.
    tolerance
        Largest distance from ``expected`` still counted as correct (numbers only), e.g.
        0.01 for a share asked to two decimals.
    hint
        A nudge shown when the answer is not right yet.
    explanation
        Why the answer matters, shown when it is right.
    choices
        For a multiple-choice exercise, the accepted choices (e.g. ``("a", "b", "c")``).

    Examples
    --------
    >>> ex = exercise("1.1", expected=0.37, tolerance=0.01, hint="Look at the 0 row.")
    >>> ex
    Exercise(id='1.1', tolerance=0.01, hint='Look at the 0 row.', explanation='', choices=())
    """
    if not isinstance(id, str) or not id:
        raise DataError("exercise 'id' must be a non-empty string such as '1.2'")
    choices = tuple(str(c).strip().lower() for c in choices)
    if choices:
        if not isinstance(expected, str) or expected.strip().lower() not in choices:
            raise DataError(
                f"exercise {id}: 'expected' must be one of its choices; add it to 'choices'"
            )
        expected = expected.strip().lower()
    else:
        if isinstance(expected, bool) or not isinstance(expected, Real | np.number):
            raise DataError(
                f"exercise {id}: 'expected' must be a number, or give 'choices' for a "
                "multiple-choice exercise"
            )
        expected = float(expected)
        if math.isinf(expected):
            raise DataError(f"exercise {id}: 'expected' is infinite; pick a finite quantity")
    if isinstance(tolerance, bool) or not isinstance(tolerance, Real) or not tolerance >= 0:
        raise DataError(f"exercise {id}: 'tolerance' must be a number >= 0")
    return Exercise(id, expected, float(tolerance), hint, explanation, choices)


def _with_hint(text: str, ex: Exercise) -> str:
    return f"{text} Hint: {ex.hint}" if ex.hint else text


def check(answer: object, ex: Exercise) -> Feedback:
    """Say kindly whether ``answer`` is right, without giving the expected value away.

    Parameters
    ----------
    answer
        The learner's answer; ``...`` (the placeholder in the notebook) or ``None`` means not
        answered yet.
    ex
        The exercise, made with :func:`exercise`.

    Returns
    -------
    Feedback
        ``status`` is one of "correct", "close", "not yet", "unanswered", "wrong kind", or
        "unavailable" (the expected value is hidden or missing in these data); ``message`` is
        the sentence shown to the learner.

    Examples
    --------
    >>> ex = exercise("1.1", expected=0.37, tolerance=0.01, hint="Look at the 0 row.")
    >>> check(..., ex)
    Exercise 1.1: not answered yet. Replace ... with your answer and run the cell again.
    >>> check(0.372, ex).correct
    True
    >>> check(37, ex).message
    'Exercise 1.1: nearly there. That looks like a percentage; give it as a share ...'
    >>> check(0.6, ex).status
    'not yet'
    >>> check("b", exercise("5.3", expected="b", choices=["a", "b", "c"])).message
    'Exercise 5.3: correct.'
    """
    if not isinstance(ex, Exercise):
        raise DataError("check(answer, ex): 'ex' must be an exercise made with exercise(...)")
    label = f"Exercise {ex.id}:"
    if not ex.choices and math.isnan(float(ex.expected)):
        return Feedback(
            ex.id,
            "unavailable",
            f"{label} this one cannot be checked with these data: the number it asks for is "
            "hidden (too few people) or missing. Skip it, or ask your trainer.",
        )
    if answer is ... or answer is None:
        return Feedback(
            ex.id,
            "unanswered",
            f"{label} not answered yet. Replace ... with your answer and run the cell again.",
        )
    if ex.choices:
        return _check_choice(answer, ex, label)
    return _check_number(answer, ex, label)


def _check_choice(answer: object, ex: Exercise, label: str) -> Feedback:
    options = ", ".join(f'"{c}"' for c in ex.choices)
    if not isinstance(answer, str) or answer.strip().lower() not in ex.choices:
        return Feedback(
            ex.id,
            "wrong kind",
            f"{label} this one is answered with one of {options}, in quotes, e.g. "
            f'answer = "{ex.choices[0]}".',
        )
    if answer.strip().lower() == ex.expected:
        return Feedback(ex.id, "correct", f"{label} correct. {ex.explanation}".strip())
    return Feedback(
        ex.id, "not yet", _with_hint(f"{label} not quite; have another look and try again.", ex)
    )


def _check_number(answer: object, ex: Exercise, label: str) -> Feedback:
    if isinstance(answer, bool) or not isinstance(answer, Real | np.number):
        return Feedback(
            ex.id,
            "wrong kind",
            f"{label} this one needs a number (such as 0.25 or 3), without quotes or a % sign.",
        )
    value = float(answer)
    expected = float(ex.expected)
    if not math.isfinite(value):
        return Feedback(
            ex.id, "wrong kind", f"{label} the answer is not a number; type a number such as 0.25."
        )
    if abs(value - expected) <= ex.tolerance + 1e-12:
        return Feedback(ex.id, "correct", f"{label} correct. {ex.explanation}".strip())
    # the two commonest slips: a percentage given for a share, and the other way round
    if 0 < abs(expected) <= 1 and abs(value / 100 - expected) <= ex.tolerance + 1e-12:
        return Feedback(
            ex.id,
            "close",
            f"{label} nearly there. That looks like a percentage; give it as a share between "
            "0 and 1 (for example, 25% is 0.25).",
        )
    if abs(expected) > 1 and abs(value * 100 - expected) <= max(ex.tolerance, 0.5):
        return Feedback(
            ex.id,
            "close",
            f"{label} nearly there. That looks like a share; this one asks for a percentage "
            "(for example, 0.25 is 25).",
        )
    near = max(3 * ex.tolerance, 0.05 * abs(expected))
    if abs(value - expected) <= near:
        return Feedback(
            ex.id,
            "close",
            _with_hint(f"{label} close. Check which row or column you read and your rounding.", ex),
        )
    side = "higher" if value > expected else "lower"
    return Feedback(
        ex.id,
        "not yet",
        _with_hint(f"{label} not yet: your answer is {side} than the one in the data.", ex),
    )


def self_check(
    answers: Mapping[int | str, int] | None, *, instrument: str = "proqol5"
) -> pd.DataFrame:
    """Score one person's own answers in memory; nothing is saved or sent anywhere.

    Parameters
    ----------
    answers
        Item number (1, 2, ...) or item id (``"proqol5_1"``) -> answer code (for ProQOL 5,
        1 = never ... 5 = very often). Items left out are unanswered. ``None`` or ``{}``
        scores nothing.
    instrument
        The questionnaire, by id.

    Returns
    -------
    pandas.DataFrame
        One row per scale: ``scale`` (its label), ``score`` (NaN when too few items were
        answered) and ``band`` ("not scored" when there is no score, or when the scale has no
        bands). The input is not kept.

    Examples
    --------
    >>> self_check({i: 3 for i in range(1, 31)})[["score", "band"]]
       score      band
    0   30.0  moderate
    1   30.0  moderate
    2   30.0  moderate
    >>> self_check(None)["band"].tolist()
    ['not scored', 'not scored', 'not scored']
    """
    inst = load_instrument(instrument)
    items = list(inst.item_ids)
    row = dict.fromkeys(items, np.nan)
    if answers is not None and not isinstance(answers, Mapping):
        raise DataError(
            "self_check: 'answers' must be a dict of item number -> answer, e.g. {1: 4, 2: 2}"
        )
    for key, code in (answers or {}).items():
        item = f"{inst.id}_{key}" if isinstance(key, int) and not isinstance(key, bool) else key
        if item not in row:
            raise DataError(
                f"self_check: an answer is given for an item that {inst.id} does not have; "
                f"use item numbers 1 to {len(items)}"
            )
        if isinstance(code, bool) or not isinstance(code, int | np.integer):
            raise DataError(
                f"self_check: answers must be whole numbers (codes); item {key} is not one"
            )
        row[item] = float(code)
    scored = score(pd.DataFrame([row], dtype=float), inst)
    out = []
    for scale in inst.scales:
        column = f"{inst.id}_{scale.id}"
        if column not in scored.columns:
            continue
        band = scored[f"{column}_category"].iloc[0] if f"{column}_category" in scored else None
        value = float(scored[column].iloc[0])
        out.append(
            {
                "scale": scale.label,
                "score": value,
                "band": str(band) if isinstance(band, str) else "not scored",
            }
        )
    return pd.DataFrame(out)
