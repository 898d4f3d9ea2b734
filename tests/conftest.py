"""Shared fixtures: the external reference data in the repository, checked by hash before use.

Also suite-wide rules (this conftest is loaded whenever tests/ is collected, as by make test):

- Child processes (nbval and papermill kernels, report workers) import this checkout's package,
  not the one an editable install happens to point at (another checkout or worktree).
- nbval cells execute notebooks: they are marked ``slow`` like the other kernel tests.
- The longest work is ordered first: under xdist (``--dist loadfile --no-loadscope-reorder`` in
  pyproject.toml) each file goes to one worker as a unit, in the order of its first test, so the
  files with report batches and notebook runs start first and no long file starts last while
  the other worker sits idle. (``loadfile`` also keeps a notebook's nbval cells, which share one
  kernel, on one worker; ``loadgroup`` would not help: with pytest 9.2 it no longer groups,
  pytest-xdist issue #1386.)
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings
from scipy.optimize import linprog

REPO = Path(__file__).resolve().parents[1]

# Property tests draw the same examples on every run, so that a CI failure can be reproduced
# and a passing run is not luck; no deadline, since a loaded 2-core machine is slow at times.
settings.register_profile("tim", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("tim")
# Real data sets that nobody on the project wrote; origin and licence in each folder's SOURCES.md.
EXTERNAL_DIRS = (REPO / "tests" / "data" / "external", REPO / "data" / "external")
REFERENCE_VALUES = REPO / "tests" / "reference" / "values"
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


def _hidden_ranges(
    counts, hidden, *, nonzero_known: bool = False
) -> dict[tuple[int, int], tuple[float, float]]:
    """Smallest and largest value of each hidden cell that a reader can work out.

    ``counts`` is a table (groups by count columns) or one column of counts. The reader sees
    the cells not hidden and knows every row and column total (group sizes, overall counts;
    for one column only its total) and that counts are >= 0; with ``nonzero_known`` also
    which hidden cells are not 0 (those are taken as >= 1, a stricter reader). The constraint matrix of a table with fixed
    margins is totally unimodular, so these linear-programming bounds are attained by
    whole-number tables: a hidden cell is known exactly when its two bounds are equal.
    """
    x = np.asarray(counts, dtype=float)
    h = np.asarray(hidden, dtype=bool)
    axes = (0, 1)
    if x.ndim == 1:  # a row "total" of a single column is the cell itself
        x, h, axes = x[:, None], h[:, None], (1,)
    cells = [tuple(int(v) for v in c) for c in np.argwhere(h)]
    a_eq, b_eq = [], []
    for axis in axes:
        for line in range(x.shape[axis]):
            sel = [k for k, c in enumerate(cells) if c[axis] == line]
            if sel:
                a_eq.append(np.isin(np.arange(len(cells)), sel).astype(float))
                b_eq.append(sum(x[cells[k]] for k in sel))
    bounds = [(1 if nonzero_known and x[c] > 0 else 0, None) for c in cells]
    out = {}
    for k, cell in enumerate(cells):
        unit = np.zeros(len(cells))
        unit[k] = 1.0
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(sign * unit, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds)
            assert res.status == 0, res.message
            ends.append(sign * res.fun)
        out[cell] = (round(ends[0], 6), round(ends[1], 6))
    return out


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    """Folder for browser-test screenshots: ``$TIM_SCREENSHOTS`` (kept as artefacts) or a temp one."""
    folder = Path(os.environ.get("TIM_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {folder}")
    return folder


@pytest.fixture(scope="session")
def hidden_ranges():
    """Return ``hidden_ranges(counts, hidden, nonzero_known=False)``: {cell: (lowest, highest)}."""
    return _hidden_ranges


# the single longest test (~40 s alone on 2 cores): its file goes out to a worker first
LONGEST_FIRST = ("test_default_batch_on_the_sample_publishes_every_report",)


def _start_rank(item: pytest.Item) -> int:
    if getattr(item, "originalname", item.name) in LONGEST_FIRST:
        return 0
    return 1 if item.get_closest_marker("slow") else 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark nbval cells slow; order the longest work first."""
    for item in items:
        if type(item).__module__.startswith("nbval"):
            item.add_marker(pytest.mark.slow)
    items.sort(key=_start_rank)  # stable: the order within each rank is kept


_DISPLAY_OPTIONS = (
    "display.precision",
    "display.max_columns",
    "display.width",
    "display.max_colwidth",
)


@pytest.fixture(autouse=True)
def _no_leftover_ipython_shell():
    """A test that creates an IPython shell (widgets, figure display) leaves no trace.

    With a shell present, ``views.notebook.setup`` configures the display as in a kernel
    (pandas precision 3, short warnings): a shell left behind changed what later doctests in
    the same worker printed, so they failed or passed by test order.
    """
    import warnings

    from IPython.core.interactiveshell import InteractiveShell

    existed = InteractiveShell.initialized()
    options = {name: pd.get_option(name) for name in _DISPLAY_OPTIONS}
    formatwarning = warnings.formatwarning
    yield
    if not existed and InteractiveShell.initialized():
        InteractiveShell.clear_instance()
    for name, value in options.items():
        if pd.get_option(name) != value:
            pd.set_option(name, value)
    warnings.formatwarning = formatwarning
