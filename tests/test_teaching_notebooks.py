"""The teaching notebooks: built from their sources, stored clean, exercises that can be solved.

nbval (collected from notebooks/ by the suite) re-executes each stored notebook and compares its
outputs; these tests check what nbval cannot: the stored copy matches its text source, code that
is not the lesson is folded, the exercises are answered by the trainers' solutions, and the
rendered site works offline.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
from conftest import REPO
from test_teaching import check_site

from tim_research.report.build import KERNELSPEC
from tim_research.report.site import build_site, teaching_notebook

FOLDER = REPO / "notebooks" / "teaching"
NOTEBOOKS = sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = FOLDER / "solutions" / "README.md"
CONTENT_NOTE = {"01_ace_scores", "04_caring_for_carers", "05_match_endings"}
ANSWER = re.compile(r"^(answer_\d+_\d+) = \.\.\.$", re.M)


def _load(path):
    return nbformat.read(str(path), as_version=4)


def _solutions() -> dict[str, str]:
    text = SOLUTIONS.read_text(encoding="utf-8")
    found = re.findall(r"### Exercise (\d+)\.(\d+)\n.*?```python\n(.*?)```", text, flags=re.S)
    return {f"answer_{a}_{b}": code.strip() for a, b, code in found}


def test_six_notebooks_each_with_a_text_source():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in sorted((FOLDER / "src").glob("*.py"))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_equals_its_source_with_code_folded(path):
    built = teaching_notebook(FOLDER / "src" / f"{path.stem}.py")
    stored = _load(path)
    assert [
        (c.cell_type, c.source, c.metadata.get("tags", []), c.metadata.get("jupyter"))
        for c in stored.cells
    ] == [
        (c.cell_type, c.source, c.metadata.get("tags", []), c.metadata.get("jupyter"))
        for c in built.cells
    ], "run `python -m tim_research.report.site notebooks` after editing notebooks/teaching/src"
    hidden = [c for c in stored.cells if "hide-input" in c.metadata.get("tags", [])]
    assert hidden and all(c.metadata["jupyter"]["source_hidden"] for c in hidden)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_executed_clean(path):
    nb = _load(path)
    assert nb.metadata["kernelspec"] == KERNELSPEC
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    text = path.read_text()
    assert not re.search(r"/(work|tmp|root|home)/[A-Za-z]", text), "absolute path stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_has_typed_literals_with_help(path):
    import papermill as pm

    tagged = [c for c in _load(path).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = pm.inspect_notebook(str(path))
    assert {"min_cell", "seed"} <= set(params)
    for name, spec in params.items():
        assert spec["inferred_type_name"] != "None", name
        assert spec["help"], name
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.AnnAssign)
        ast.literal_eval(node.value)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_are_two_to_four_unanswered_and_solved_in_the_solutions(path):
    nb = _load(path)
    cells = [c for c in nb.cells if c.cell_type == "code" and ANSWER.search(c.source)]
    assert 2 <= len(cells) <= 4
    for cell in cells:
        (out,) = cell.outputs
        assert "not answered yet" in out["data"]["text/plain"]
    names = [ANSWER.search(c.source)[1] for c in cells]
    assert set(names) <= set(_solutions()), "every exercise needs a solution"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_sensitive_notebooks_open_with_a_content_note_and_support(path):
    first = _load(path).cells[0].source
    if path.stem in CONTENT_NOTE:
        assert "**Content note.**" in first
        assert "supervisor" in first and "crisis line" in first
    assert "**Time:**" in first and "You will learn" in first


def test_self_check_is_stored_without_answers_and_says_nothing_is_saved():
    nb = _load(FOLDER / "04_caring_for_carers.ipynb")
    cell = next(c for c in nb.cells if "self_check(my_answers" in c.source)
    assert re.search(r"^my_answers = \{\}", cell.source, re.M)
    assert "not scored" in cell.outputs[0]["data"]["text/plain"]
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "nothing is written to a" in prose
    assert "open(" not in "\n".join(c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_make_every_exercise_correct(path, tmp_path):
    import papermill as pm

    solutions = _solutions()
    nb = _load(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = ANSWER.sub(lambda m: solutions[m[1]], cell.source)
            cell.outputs = []
    out = tmp_path / path.name
    nbformat.write(nb, str(out))
    pm.execute_notebook(
        str(out),
        str(out),
        kernel_name="python3",
        cwd=str(FOLDER),
        progress_bar=False,
        execution_timeout=120,
    )
    feedback = [
        o["data"]["text/plain"]
        for c in _load(out).cells
        if c.cell_type == "code" and "check(answer_" in c.source
        for o in c.outputs
        if "data" in o
    ]
    assert feedback and all(": correct." in f for f in feedback), feedback


@pytest.mark.slow
def test_make_site_builds_every_page_offline(tmp_path):
    from tim_research.report.site import main

    assert (
        main(["build", "--out", str(tmp_path / "site"), "--notebooks", str(REPO / "notebooks")])
        == 0
    )
    pages = sorted(p.name for p in (tmp_path / "site").glob("*.html"))
    assert sum(p.startswith("teaching-") for p in pages) == len(NOTEBOOKS)
    assert sum(p.startswith("report-") for p in pages) == len(
        list((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    )
    index = (tmp_path / "site" / "index.html").read_text()
    assert all(f'href="{p}"' in index for p in pages if p != "index.html")
    assert check_site(tmp_path / "site") > len(pages)


def test_build_site_returns_pages_in_order(tmp_path):
    pages = build_site(tmp_path, teaching=NOTEBOOKS[:1])
    assert [p.section for p in pages] == ["Teaching notebooks"]
    assert pages[0].title.startswith("1. What an ACE score")


@pytest.mark.slow
@pytest.mark.parametrize("path", [*NOTEBOOKS[2:4], NOTEBOOKS[5]], ids=lambda p: p.stem)
def test_notebook_runs_for_one_site_with_a_larger_min_cell(path, tmp_path):
    # a smaller group hides more cells: an exercise whose answer is hidden must say so, not fail
    # (notebooks 3, 4 and 6, whose exercises read shares or means of small groups; 2 and 5 also
    # ran for South with min_cell 10 when this was written, kept out to save suite time)
    import papermill as pm

    out = tmp_path / path.name
    pm.execute_notebook(
        str(path),
        str(out),
        parameters={"site": "South", "min_cell": 10, "seed": 7},
        kernel_name="python3",
        cwd=str(FOLDER),
        progress_bar=False,
        execution_timeout=120,
    )
    assert "site South" in out.read_text()
    feedback = [
        o["data"]["text/plain"]
        for c in _load(out).cells
        if c.cell_type == "code" and "check(answer_" in c.source
        for o in c.outputs
        if "data" in o
    ]
    assert feedback and all(
        "not answered yet" in f or "cannot be checked with these data" in f for f in feedback
    )
