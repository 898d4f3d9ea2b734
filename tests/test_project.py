"""The project's own files stay consistent: README catalogue, environment.yml, CI command."""

from __future__ import annotations

import importlib
import inspect
import re
import tomllib

import pytest
from conftest import REPO

from tim_research import list_instruments


def test_readme_catalogue_matches_the_instrument_files():
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- instruments:start")[1].split("<!-- instruments:end")[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| (\d+) \|$", block, flags=re.M)
    cat = list_instruments()
    assert [(i, n, int(k)) for i, n, k in rows] == list(
        zip(cat["id"], cat["name"], cat["items"], strict=True)
    )


def _names(reqs):
    return {re.split(r"[<>=!\s]", r, maxsplit=1)[0].lower() for r in reqs}


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = set(project["dependencies"]) | set(extras["test"]) | set(extras["dask"])
    wanted = {w for w in wanted if not w.startswith("tim-research")}
    env = (REPO / "environment.yml").read_text()
    listed = {line.strip()[2:] for line in env.splitlines() if re.match(r"\s+- [a-z]", line)}
    # conda-forge names dask's dataframe extra as plain "dask"
    assert {re.sub(r"\[.*\]", "", w.replace(" ", "")) for w in wanted} <= listed
    assert "python=3.11" in listed


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert re.search(r"^make test\s+#", readme, flags=re.M)
    ci = [
        ln
        for ln in (REPO / ".ci" / "run").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    assert ci[-1] == "make test"


def test_readme_notebook_list_matches_the_notebook_titles():
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- notebooks:start")[1].split("<!-- notebooks:end")[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \|$", block, flags=re.M)
    sources = sorted((REPO / "notebooks" / "src").glob("*.py"))
    titles = [(p.stem, p.read_text().splitlines()[1].removeprefix("# # ")) for p in sources]
    assert rows == titles


@pytest.mark.parametrize(
    "module",
    ["prevalence", "psychometrics", "measurement", "survival", "outcomes", "associations"],
)
def test_stats_modules_export_every_public_function_and_class(module):
    mod = importlib.import_module(f"tim_research.stats.{module}")
    public = {
        name
        for name, obj in vars(mod).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == mod.__name__
    }
    assert public, module  # a module with nothing public would pass vacuously
    assert public <= set(mod.__all__)
