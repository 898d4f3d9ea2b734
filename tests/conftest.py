"""Shared fixtures: the external reference data in the repository, checked by hash before use."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
# Real data sets that nobody on the project wrote; origin and licence in each folder's SOURCES.md.
EXTERNAL_DIRS = (REPO / "tests" / "data" / "external", REPO / "data" / "external")
REFERENCE_VALUES = REPO / "tests" / "reference" / "values"

# Notebook kernels and report workers are child processes started outside the repository root:
# make them import this checkout's package, not the one an editable install happens to point at
# (another checkout or worktree), so that they test the code the tests come with.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))

# sha256 of each file, as listed in its SOURCES.md
EXTERNAL_SHA256 = {
    "brfss2022_ace_12states.csv": "7a5d8fa3b8c1c3ff0c2e942b80d98074e74f8027290e3b15b981dd637bb1efc2",
    "lifelines_rossi.csv": "0214400170e07f3015a285edca2014cac0dae8aac125fcbaad642490e05f892c",
    "mediation_jobs2.csv": "455004dcb9279a27206a1996e828d0b7c3dfdc2945e36c795a0d687ab63e75e2",
    "multilevel_bh1996.csv": "eb62143b34cb78f813103ecf91e53186cea081258ad462b6a6e777b38e3ee443",
    "multilevel_univbct.csv": "aeab5f58cfd3f474df0eeb9e1e2e528cc8a92bee2024fc1e17c6a7d67285ee11",
    "psych_bfi.csv": "e28a2e11578651dd6471997c5bd696feb4aa33e0526e57ae1c5b2a87945d8d3a",
}


def external_path(name: str) -> Path:
    """Path of an external data file after checking its sha256 against SOURCES.md."""
    found = [folder / name for folder in EXTERNAL_DIRS if (folder / name).exists()]
    if not found:
        raise FileNotFoundError(f"{name} is in neither tests/data/external nor data/external")
    path = found[0]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != EXTERNAL_SHA256[name]:
        raise AssertionError(f"{name} changed: sha256 {digest} != {EXTERNAL_SHA256[name]}")
    return path


@pytest.fixture(scope="session")
def read_external():
    """Return a reader: ``read_external("psych_bfi.csv", **read_csv_kwargs)``."""

    def _read(name: str, **kwargs) -> pd.DataFrame:
        return pd.read_csv(external_path(name), **kwargs)

    return _read


@pytest.fixture(scope="session")
def reference_values():
    """Return a loader of committed reference values: ``reference_values("psych_alpha")``."""

    def _load(stem: str) -> dict:
        return json.loads((REFERENCE_VALUES / f"{stem}.json").read_text())

    return _load


# Longest work first, so that under xdist (`--dist loadgroup --no-loadscope-reorder`, see
# pyproject.toml) no long test is left to start last while the other workers sit idle.
LONGEST_FIRST = ("test_default_batch_on_the_sample_publishes_every_report",)


def _start_rank(item: pytest.Item) -> int:
    if getattr(item, "originalname", item.name) in LONGEST_FIRST:
        return 0
    if any(m.args == ("report-shared-batch",) for m in item.iter_markers("xdist_group")):
        return 1
    if item.get_closest_marker("slow"):
        return 2
    return 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark nbval cells slow and keep each notebook on one worker; order longest first."""
    for item in items:
        if type(item).__module__.startswith("nbval"):  # a cell re-executed in the notebook's kernel
            item.add_marker(pytest.mark.slow)
            # the cells of a notebook share one kernel: they must run in order on one worker
            item.add_marker(pytest.mark.xdist_group(f"nbval-{item.path.name}"))
    items.sort(key=_start_rank)  # stable: the order within each rank is kept
