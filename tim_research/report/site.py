"""Teaching notebooks and the static site a training cohort reads without Python.

``python -m tim_research.report.site notebooks [SOURCE ...]`` rebuilds the teaching notebooks
``notebooks/teaching/NN_topic.ipynb`` from their text sources ``notebooks/teaching/src/*.py``
(the percent format of :mod:`tim_research.report.build`) and executes them in place. Cells tagged
``hide-input`` are folded in JupyterLab (cell metadata ``jupyter.source_hidden``): the code that
is not the lesson stays out of the learner's way but can be opened.

``python -m tim_research.report.site build --out site`` (``make site``) renders the teaching
notebooks and the sample reports (the stored research notebooks ``notebooks/NN_*.ipynb``) to
HTML with their stored outputs, and writes an ``index.html`` linking them. The pages work
offline and open from the file system: figures are embedded, no script or style sheet is loaded
from the web (nbconvert's require.js, MathJax, Mermaid and widget loaders are left out), and
every link is relative. In a teaching page the folded code is left out; in a report page all
code is.
"""

from __future__ import annotations

import argparse
import copy
import html
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill as pm
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from tim_research.report.build import build_notebook, clean_notebook

__all__ = [
    "Page",
    "build_site",
    "execute_teaching",
    "main",
    "render_page",
    "teaching_notebook",
]

HIDE_TAG = "hide-input"

# nbconvert's "lab" page without anything fetched from the web; its CSS is inlined already
_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def teaching_notebook(source: Path) -> nbformat.NotebookNode:
    r"""A teaching notebook (no outputs) from its text source, ``hide-input`` cells folded.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     src = Path(d) / "x.py"
    ...     _ = src.write_text('# %% tags=["hide-input"]\nx = 1\n\n# %%\nx\n')
    ...     nb = teaching_notebook(src)
    >>> [c.metadata.get("jupyter", {}).get("source_hidden", False) for c in nb.cells]
    [True, False]
    """
    nb = build_notebook(source)
    for cell in nb.cells:
        if HIDE_TAG in cell.metadata.get("tags", []):
            cell.metadata["jupyter"] = {"source_hidden": True}
    return nb


def execute_teaching(source: Path, target: Path, *, timeout: int = 120) -> None:
    """Build ``target`` from ``source``, execute it in ``target``'s folder and clean it."""
    executed = pm.execute_notebook(
        teaching_notebook(source),
        None,
        kernel_name="python3",
        cwd=str(target.parent),
        progress_bar=False,
        execution_timeout=timeout,
    )
    clean_notebook(executed)
    nbformat.write(executed, str(target))


def _exporter(*, all_input: bool) -> HTMLExporter:
    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"tim_offline.html.j2": _OFFLINE_TEMPLATE})],
        template_file="tim_offline.html.j2",
        embed_images=True,
        exclude_input=all_input,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_input_tags={HIDE_TAG}, enabled=True), enabled=True
    )
    return exporter


def render_page(nb: nbformat.NotebookNode, *, code: bool) -> str:
    """Offline HTML of an executed notebook.

    With ``code`` the code cells not tagged ``hide-input`` are shown (a teaching page);
    without, no code is shown (a report page). Warnings printed to stderr are left out.
    """
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    body, _ = _exporter(all_input=not code).from_notebook_node(nb)
    return body


@dataclass(frozen=True)
class Page:
    """One page of the site: its file name, title and section."""

    file: str
    title: str
    section: str


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _index(pages: list[Page]) -> str:
    sections: dict[str, list[Page]] = {}
    for page in pages:
        sections.setdefault(page.section, []).append(page)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
        "<title>tim-research: teaching materials and sample reports</title>",
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.5;"
        "padding:0 1em}li{margin:.3em 0}</style></head><body>",
        "<h1>tim-research: teaching materials and sample reports</h1>",
        "<p>These pages open without Python or an internet connection. The sample reports "
        "use the synthetic sample program in <code>data/sample</code>; the first teaching "
        "notebook also uses public CDC BRFSS 2022 data.</p>",
    ]
    for section, items in sections.items():
        parts.append(f"<h2>{html.escape(section)}</h2><ul>")
        parts += [
            f'<li><a href="{html.escape(p.file)}">{html.escape(p.title)}</a></li>' for p in items
        ]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def build_site(
    out: str | Path,
    *,
    teaching: Sequence[str | Path] = (),
    reports: Sequence[str | Path] = (),
) -> list[Page]:
    """Render stored notebooks to ``out`` and write ``out/index.html``; return the pages.

    Parameters
    ----------
    out
        Output folder (created; pages in it are overwritten).
    teaching
        Executed teaching notebooks: shown with their code, folded cells left out.
    reports
        Executed report notebooks: shown without code.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    for section, paths, code, prefix in (
        ("Teaching notebooks", teaching, True, "teaching-"),
        ("Sample reports", reports, False, "report-"),
    ):
        for path in map(Path, paths):
            nb = nbformat.read(str(path), as_version=4)
            name = f"{prefix}{path.stem}.html"
            (folder / name).write_text(render_page(nb, code=code), encoding="utf-8")
            pages.append(Page(name, _title(nb, path.stem), section))
    (folder / "index.html").write_text(_index(pages), encoding="utf-8")
    return pages


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tim_research.report.site {notebooks,build}``."""
    parser = argparse.ArgumentParser(prog="python -m tim_research.report.site", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    nbs = sub.add_parser("notebooks", help="rebuild and execute the teaching notebooks")
    nbs.add_argument("sources", nargs="*", help="notebooks/teaching/src/*.py (default: all)")
    nbs.add_argument("--folder", default="notebooks/teaching", help="default: %(default)s")
    site = sub.add_parser("build", help="render the static site")
    site.add_argument("--out", default="site", help="output folder (default: %(default)s)")
    site.add_argument("--notebooks", default="notebooks", help="default: %(default)s")
    args = parser.parse_args(argv)
    if args.command == "notebooks":
        folder = Path(args.folder)
        sources = [Path(s) for s in args.sources] or sorted((folder / "src").glob("*.py"))
        for src in sources:
            target = folder / f"{src.stem}.ipynb"
            print(f"executing {target}", flush=True)
            execute_teaching(src, target)
        return 0
    root = Path(args.notebooks)
    pages = build_site(
        args.out,
        teaching=sorted((root / "teaching").glob("[0-9][0-9]_*.ipynb")),
        reports=sorted(root.glob("[0-9][0-9]_*.ipynb")),
    )
    print(f"{len(pages)} pages and index.html in {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
