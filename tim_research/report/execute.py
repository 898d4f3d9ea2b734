"""Execute one notebook run and render it for staff: used in a child process or a Dask task.

``python -m tim_research.report.execute SPEC.json OUT_DIR`` runs one notebook (``--serve``
keeps a worker running for one job after another) with papermill on a kernel
that talks over local IPC sockets (not TCP ports, so data never sits on a network port and
parallel kernels cannot collide on ports), writes the executed ``notebook.ipynb``, a
``report.html`` without code cells and ``result.json`` into the run's folder in the analyst
tree (the batch copies the HTML to the staff tree once the safety gate has passed it), and
exits 0 on success, 1 when the notebook failed.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from nbconvert import HTMLExporter
from papermill.exceptions import PapermillExecutionError

from tim_research.report.gate import FIGURE_DATA_MIME

__all__ = ["execute_run", "render_html"]


def _ipc_kernel_manager(socket_dir: str) -> type:
    """A kernel manager class whose kernels use IPC sockets in ``socket_dir``."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(transport="ipc", ip=os.path.join(socket_dir, "kernel"), **kwargs)

    return IPCKernelManager


def render_html(nb: Any) -> str:
    """Staff HTML of an executed notebook: prose and outputs; no code, prompts or warnings.

    Each figure drawn by :mod:`tim_research.plots` becomes an image with its alternative text
    (the figure's title and one-sentence description, recorded in its figure-data output);
    any other image gets a plain "Figure" label rather than nbconvert's "No description".
    """
    # warnings (stderr) are for the analyst who reads the executed notebook, not for staff
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                _with_alt_text(o)
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nb)
    return body


_ALT = re.compile(r'<p class="tim-alt">(.*?)</p>', re.S)


def _with_alt_text(output: Any) -> Any:
    """A figure output as an HTML image with alt text (other outputs unchanged)."""
    data = output.get("data") or {}
    png = data.get("image/png")
    if png is None or "text/html" in data:
        return output
    recorded = data.get(FIGURE_DATA_MIME, "")
    recorded = "".join(recorded) if isinstance(recorded, list) else str(recorded)
    found = _ALT.search(recorded)
    alt = html.unescape(found.group(1)) if found else "Figure"
    image = "".join(png).replace("\n", "") if isinstance(png, list) else str(png).strip()
    output = copy.deepcopy(output)
    output["data"] = {
        "text/html": (
            f'<img src="data:image/png;base64,{image}" alt="{html.escape(alt, quote=True)}">'
        ),
        "text/plain": data.get("text/plain", ""),
    }
    output["metadata"] = {}
    return output


def execute_run(spec: dict[str, Any], out_dir: str | None) -> dict[str, Any]:
    """Run one notebook; return ``{"status", "error", "seconds", "notebook", "html"}``.

    ``spec`` holds ``notebook`` (path), ``parameters``, ``cwd`` and ``cell_timeout``. With
    ``out_dir`` the executed notebook and HTML are written there as well (the local runner);
    a Dask task passes ``None`` and ships the texts back to the client.
    """
    start = time.perf_counter()
    status, error = "ok", ""
    with tempfile.TemporaryDirectory(prefix="tim-run-", dir=spec.get("scratch_root")) as scratch:
        # papermill writes the executed copy as it goes, so a failed run keeps the failing cell
        # and its error; in the run folder, a run killed at its time limit leaves the cells it
        # got through for the analyst (a Dask task has no run folder: a temporary file)
        if out_dir is not None:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            executed = os.path.join(out_dir, "notebook.ipynb")
        else:
            executed = os.path.join(scratch, "executed.ipynb")
        try:
            pm.execute_notebook(
                spec["notebook"],
                executed,
                parameters=spec["parameters"],
                kernel_name="python3",
                cwd=spec["cwd"],
                progress_bar=False,
                execution_timeout=spec["cell_timeout"],
                kernel_manager_class=_ipc_kernel_manager(scratch),
            )
        except PapermillExecutionError as exc:
            status, error = "failed", f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
        except Exception as exc:  # the kernel died, a cell timed out, ...
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        source = executed if os.path.exists(executed) else spec["notebook"]
        nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:  # timestamps would make stored reports differ run to run
        cell.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    notebook_text = nbformat.writes(nb)
    html = render_html(nb) if status == "ok" else ""
    result = {
        "status": status,
        "error": error,
        "seconds": time.perf_counter() - start,
        "notebook": notebook_text,
        "html": html,
    }
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "notebook.ipynb").write_text(notebook_text, encoding="utf-8")
        if html:
            (out / "report.html").write_text(html, encoding="utf-8")
        meta = {k: v for k, v in result.items() if k in ("status", "error", "seconds")}
        (out / "result.json").write_text(json.dumps(meta), encoding="utf-8")
    return result


DONE = "TIM-RUN-DONE"


def serve() -> int:
    """A long-lived worker: one JSON job per line on stdin, one ``DONE`` line per finished run.

    Each job is ``{"spec": {...}, "out_dir": "..."}``; the result goes to ``out_dir`` (see
    :func:`execute_run`). Keeping the worker alive saves the 1-2 s of imports a fresh process
    pays for every run; each run still gets a fresh kernel.
    """
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        result = execute_run(job["spec"], job["out_dir"])
        print(f"{DONE} {json.dumps({'status': result['status']})}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of a child process: ``--serve``, or ``SPEC.json OUT_DIR`` for one run."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--serve"]:
        return serve()
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    result = execute_run(spec, args[1])
    return 0 if result["status"] == "ok" else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
