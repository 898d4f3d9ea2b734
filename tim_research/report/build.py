"""Build the research notebooks from their reviewed text sources and execute them in place.

Each notebook ``notebooks/NN_topic.ipynb`` has a text twin ``notebooks/src/NN_topic.py`` in
"percent" format: cells start with ``# %%`` (code) or ``# %% [markdown]`` (prose, each line prefixed
by ``# ``); ``# %% tags=["parameters"]`` tags a cell. The text file is the one to edit and review;
``python -m tim_research.report.build`` (``make notebooks``) rebuilds every notebook from it and
executes it top to bottom with papermill from a clean kernel, so stored outputs always come from the
current library. A test checks that notebook and text source never drift apart.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm

__all__ = ["build_notebook", "clean_notebook", "execute_notebook", "main", "read_percent"]

_HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def read_percent(text: str) -> list[dict[str, Any]]:
    r"""Cells of a percent-format text: ``[{"cell_type", "source", "tags"}, ...]``.

    Examples
    --------
    >>> cells = read_percent('# %% [markdown]\n# # Title\n\n# %% tags=["parameters"]\nx = 1\n')
    >>> [(c["cell_type"], c["source"], c["tags"]) for c in cells]
    [('markdown', '# Title', []), ('code', 'x = 1', ['parameters'])]
    """
    cells: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            current = {
                "cell_type": "markdown" if m["md"] else "code",
                "lines": [],
                "tags": json.loads(m["tags"]) if m["tags"] else [],
            }
            cells.append(current)
            continue
        if current is None:
            if line.strip():
                raise ValueError(f"text before the first '# %%' cell marker: {line!r}")
            continue
        if current["cell_type"] == "markdown":
            if line.strip() and not line.startswith("#"):
                raise ValueError(f"markdown line without '# ': {line!r}")
            line = line[2:] if line.startswith("# ") else line.lstrip("#")
        current["lines"].append(line)
    for cell in cells:
        cell["source"] = "\n".join(cell.pop("lines")).strip("\n")
    return cells


def build_notebook(source: Path):
    """A notebook (no outputs) from a percent-format text file."""
    nb = nbformat.v4.new_notebook()
    for cell in read_percent(source.read_text(encoding="utf-8")):
        make = (
            nbformat.v4.new_markdown_cell
            if cell["cell_type"] == "markdown"
            else (nbformat.v4.new_code_cell)
        )
        new = make(cell["source"])
        if cell["tags"]:
            new.metadata["tags"] = cell["tags"]
        nb.cells.append(new)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def clean_notebook(nb) -> None:
    """Drop run-specific metadata (paths, timings, ids) so the stored notebook is reproducible."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)  # widget state: random model ids; outputs are in the cells
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    lang = nb.metadata.get("language_info", {})
    nb.metadata["language_info"] = {
        "name": "python",
        **({"pygments_lexer": lang["pygments_lexer"]} if "pygments_lexer" in lang else {}),
    }
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        cell["id"] = f"cell-{i:02d}"  # stable ids instead of random ones


def execute_notebook(source: Path, target: Path, *, timeout: int = 300) -> None:
    """Build ``target`` from ``source`` and execute it in ``target``'s folder, then clean it."""
    nb = build_notebook(source)
    executed = pm.execute_notebook(
        nb,
        None,
        kernel_name="python3",
        cwd=str(target.parent),
        progress_bar=False,
        execution_timeout=timeout,
    )
    clean_notebook(executed)
    nbformat.write(executed, str(target))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tim_research.report.build [NOTEBOOK ...]``: rebuild and execute notebooks."""
    parser = argparse.ArgumentParser(
        prog="python -m tim_research.report.build", description=__doc__
    )
    parser.add_argument("sources", nargs="*", help="notebooks/src/*.py files (default: all)")
    parser.add_argument(
        "--folder", default="notebooks", help="notebook folder (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    sources = [Path(s) for s in args.sources] or sorted((folder / "src").glob("*.py"))
    for src in sources:
        target = folder / f"{src.stem}.ipynb"
        print(f"executing {target}", flush=True)
        execute_notebook(src, target)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
