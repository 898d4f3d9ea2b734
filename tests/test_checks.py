"""Tests of tim_research._checks.check_min_cell and the min_cell defaults that rely on it."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from tim_research._checks import check_min_cell
from tim_research.errors import DataError
from tim_research.stats import competing, measurement, outcomes, prevalence, survival
from tim_research.views import describe


@pytest.mark.parametrize("value", [True, False, -1, 2.5, "5", None, 5.0])
def test_check_min_cell_refuses_anything_but_a_whole_number_from_0(value):
    with pytest.raises(DataError, match=r"min_cell must be a whole number, 0 or more"):
        check_min_cell(value)


@pytest.mark.parametrize("value", [0, 5, np.int64(5)])
def test_check_min_cell_accepts_whole_numbers_from_0(value):
    out = check_min_cell(value)
    assert out == value and type(out) is int


COUNT_TABLES = [
    prevalence.prevalence,
    prevalence.distribution,
    prevalence.indicators,
    measurement.band_distribution,
    survival.closure_reasons,
    competing.early_closure,
    survival.median_survival,
    outcomes.group_means,
    outcomes.change_table,
    outcomes.compare_table,
    describe.enrolment,
    describe.demographics,
    describe.match_status,
    describe.match_outcomes,
    describe.survey_completion,
    describe.early_closure,
    describe.key_numbers,
]


@pytest.mark.parametrize("func", COUNT_TABLES, ids=lambda f: f.__name__)
def test_min_cell_defaults_to_5_and_is_keyword_only(func):
    param = inspect.signature(func).parameters["min_cell"]
    assert param.default == 5
    assert param.kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize(
    "call",
    [
        lambda: prevalence.prevalence(_frame(), "y", min_cell=True),
        lambda: prevalence.distribution(_frame(), "y", min_cell=True),
        lambda: survival.median_survival([1, 2], [1, 0], min_cell=True),
        lambda: survival.closure_reasons(_matches(), min_cell=True),
        lambda: outcomes.group_means(_frame(), value="y", min_cell=True),
        lambda: outcomes.change_table(_frame(), pairs={"y": ("y", "y")}, min_cell=True),
    ],
)
def test_functions_refuse_true_as_min_cell(call):
    with pytest.raises(DataError, match=r"min_cell must be a whole number, 0 or more"):
        call()


def _frame():
    return pd.DataFrame({"y": [0.0, 1.0, 1.0, 0.0]})


def _matches():
    return pd.DataFrame({"end_date": ["2023-05-01"], "closure_reason": ["moved"]})
