"""Guards that keep nbval meaningful, plus one run of every notebook with other parameters.

nbval (in the README's test command) re-executes each committed notebook and compares its
outputs; these tests make sure there is something to compare and that the notebooks stay thin.
Figures are PNGs, which nbval does not compare: their data are tested in tests/test_plots.py.
"""

from __future__ import annotations

import ast
import configparser
import re

import nbformat
import pytest
from conftest import REPO

from tim_research.report.build import KERNELSPEC, build_notebook, read_percent

NOTEBOOKS = REPO / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
REQUIRED_PARAMETERS = {"data_dir", "site", "min_cell", "seed", "allow_identifiers"}


def _load(path):
    return nbformat.read(str(path), as_version=4)


def test_there_are_notebooks_and_each_has_a_text_source():
    assert PAIRS, "no notebooks found"
    sources = sorted((NOTEBOOKS / "src").glob("*.py"))
    assert [p.stem for p in PAIRS] == [s.stem for s in sources]


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_notebook_equals_its_text_source(path):
    built = build_notebook(NOTEBOOKS / "src" / f"{path.stem}.py")
    stored = _load(path)
    assert [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in stored.cells] == [
        (c.cell_type, c.source, c.metadata.get("tags", [])) for c in built.cells
    ], "run `make notebooks` after editing notebooks/src"


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_notebook_is_executed_clean_and_deterministic(path):
    nb = _load(path)
    assert nb.metadata["kernelspec"] == KERNELSPEC
    assert "papermill" not in nb.metadata
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert None not in counts, "a code cell has no stored execution (nbval would skip it)"
    assert counts == list(range(1, len(code) + 1)), "not executed top to bottom in one kernel"
    assert sum(bool(c.outputs) for c in code) >= len(code) // 2, "too few stored outputs"
    text = path.read_text()
    assert "papermill-error-cell-tag" not in text
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error"
    assert not re.search(r"/(work|tmp|root|home)/[A-Za-z]", text), "absolute path stored"
    assert not re.search(r"20\d\d-\d\d-\d\dT\d\d:\d\d", text), "timestamp stored"


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_parameters_cell_is_described_by_papermill(path):
    import papermill as pm

    nb = _load(path)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = pm.inspect_notebook(str(path))
    assert REQUIRED_PARAMETERS <= set(params)
    for name, spec in params.items():
        assert spec["inferred_type_name"] != "None", f"{name} has no type annotation"
        assert spec["help"], f"{name} has no help comment"
    # literals only: derived values in a parameters cell do not update when papermill injects
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.AnnAssign), ast.dump(node)
        ast.literal_eval(node.value)


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_notebook_stays_thin(path):
    for cell in _load(path).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, ast.ClassDef), "classes belong in the library"
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno - node.lineno < 4, f"{node.name}: move it to the library"
        assert "!" not in [ln.strip()[:1] for ln in cell.source.splitlines()], "no shell escapes"


def test_every_sanitizer_rule_is_well_formed_and_matches_its_sample():
    samples = {
        "memory_address": "<matplotlib.figure.Figure at 0x7f3a2c1b2d30>",
        "figure_repr": "<Figure size 700x420 with 1 Axes>",
        "elapsed_seconds": "done in 1.25 s elapsed",
    }
    cfg = configparser.ConfigParser()
    cfg.read(NOTEBOOKS / "nbval-sanitize.cfg")
    assert set(cfg.sections()) == set(samples)
    for section in cfg.sections():
        rule = cfg[section]
        assert set(rule) == {"regex", "replace"}
        assert re.search(rule["regex"], samples[section]), section


def test_percent_reader_round_trips_cell_kinds_and_tags():
    text = '# %% [markdown]\n# # T\n# prose\n\n# %% tags=["parameters"]\na: int = 1  # help\n\n# %%\nprint(a)\n'
    cells = read_percent(text)
    assert [c["cell_type"] for c in cells] == ["markdown", "code", "code"]
    assert cells[0]["source"] == "# T\nprose"
    assert cells[1]["tags"] == ["parameters"]
    with pytest.raises(ValueError, match="before the first"):
        read_percent("x = 1\n# %%\n")


@pytest.mark.slow
def test_papermill_from_the_repository_root_finds_the_default_data(tmp_path, monkeypatch):
    # `papermill notebooks/02_ace_profile.ipynb out.ipynb` from the repository root, with the
    # notebook's own default data_dir ("../data/sample", relative to the notebooks folder)
    import papermill as pm

    monkeypatch.chdir(REPO)
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        "notebooks/02_ace_profile.ipynb",
        str(out),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=120,
    )
    executed = nbformat.read(str(out), as_version=4)
    printed = "".join(
        o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "young people with a baseline survey" in printed
