"""Every exception and warning class lives in tim_research.errors, and only there."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import warnings

import pytest

import tim_research
from tim_research import errors

ERRORS_MODULE = "tim_research.errors"


def _all_modules() -> list[str]:
    names = [tim_research.__name__]
    for info in pkgutil.walk_packages(tim_research.__path__, prefix="tim_research."):
        names.append(info.name)
    return names


def _classes_defined_in(module_name: str) -> list[type]:
    module = importlib.import_module(module_name)
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if obj.__module__ == module_name
    ]


def test_the_walk_reaches_every_layer():
    # Guard against a walk that silently finds nothing (the check below would then pass).
    found = set(_all_modules())
    expected = {
        "tim_research.privacy",
        "tim_research.program.package",
        "tim_research.report.config",
        "tim_research.stats.psychometrics",
        "tim_research.stats.survival",
    }
    assert expected <= found


def test_no_module_but_errors_defines_an_exception_or_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # importing plotting back ends may warn
        offenders = [
            f"{cls.__module__}.{cls.__qualname__}"
            for name in _all_modules()
            if name != ERRORS_MODULE
            for cls in _classes_defined_in(name)
            if issubclass(cls, BaseException)
        ]
    assert offenders == []


def test_every_class_of_errors_is_exported_and_in_the_family():
    defined = {cls.__name__ for cls in _classes_defined_in(ERRORS_MODULE)}
    assert defined == set(errors.__all__)
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.TimResearchError | errors.TimResearchWarning), name


@pytest.mark.parametrize("name", errors.__all__)
def test_every_class_is_importable_from_errors(name):
    namespace: dict[str, object] = {}
    exec(f"from tim_research.errors import {name}", namespace)
    assert namespace[name] is getattr(errors, name)


def test_errors_imports_nothing_of_the_package():
    tree = ast.parse(inspect.getsource(errors))
    imported = [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert not [m for m in imported if m.split(".")[0] == "tim_research"]


def test_errors_carrying_data_keep_it():
    report, findings = object(), object()
    assert errors.ProgramValidationError("failed", report).report is report
    assert errors.IdentifierError("found", findings).findings is findings
    assert issubclass(errors.ProgramValidationError, errors.DataError)
    assert issubclass(errors.ConfigError, ValueError)
