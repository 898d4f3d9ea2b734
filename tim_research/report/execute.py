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
import shutil
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import papermill as pm
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbconvert import HTMLExporter
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.exceptions import PapermillExecutionError

from tim_research.report.gate import FIGURE_DATA_MIME

__all__ = ["execute_run", "render_html"]


class _ReadyClient(AsyncKernelClient):
    """A kernel client that is ready as soon as the kernel answers on both channels.

    jupyter_client's own check then waits for 0.2 s of silence on IOPub to drop the status
    messages of its ``kernel_info`` request, a pause every run of a batch pays. Those messages
    can stay: nbclient reads only the IOPub messages whose parent is the cell it executes.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if reply["msg_type"] == "kernel_info_reply":
                    try:
                        # a message on IOPub shows the kernel's broadcasts reach this client
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(reply)
                        return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")


def _ipc_kernel_manager(socket_dir: str) -> type:
    """A kernel manager class whose kernels use IPC sockets in ``socket_dir``."""

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(
                transport="ipc",
                ip=os.path.join(socket_dir, "kernel"),
                client_factory=_ReadyClient,
                **kwargs,
            )

    return IPCKernelManager


class NextKernel:
    """A kernel started while a run executes, ready for the worker's next run.

    A kernel is a new Python process that imports ipykernel (about half a second); started
    ahead, it boots while the previous notebook runs instead of after it. It has executed
    nothing when a run takes it, so every run still starts from a fresh kernel. Its IPC sockets
    live in its own owner-only folder, removed when the kernel stops.
    """

    def __init__(self) -> None:
        self._ready: tuple[Any, str, str] | None = None

    def start(self, cwd: str, scratch_root: str | None) -> None:
        """Start the next kernel in ``cwd`` (stopping one still waiting)."""
        self.stop()
        folder = tempfile.mkdtemp(prefix="tim-kernel-", dir=scratch_root)
        km = _ipc_kernel_manager(folder)(kernel_name="python3")
        run_sync(km.start_kernel)(cwd=cwd)
        self._ready = (km, folder, cwd)

    def take(self, cwd: str) -> tuple[Any, str] | None:
        """The waiting kernel, if it was started in ``cwd`` and is alive; else ``None``."""
        ready, self._ready = self._ready, None
        if ready is None:
            return None
        km, folder, started_in = ready
        if started_in != cwd or not run_sync(km.is_alive)():
            stop_kernel(km, folder)
            return None
        return km, folder

    def stop(self) -> None:
        """Stop a kernel that no run took."""
        ready, self._ready = self._ready, None
        if ready is not None:
            stop_kernel(ready[0], ready[1])


def _adopting(km: Any) -> type:
    """A kernel manager class whose construction hands back ``km``, a kernel already running.

    papermill builds its kernel manager from a class; handing it this one lets the client own
    the prestarted kernel as if it had started it (same clean-up: channels closed, kernel
    stopped, connection file removed).
    """

    class Adopting(type(km)):  # type: ignore[misc]
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            # not an instance of Adopting, so Python does not run __init__ on it again
            return km

    return Adopting


def stop_kernel(km: Any, folder: str) -> None:
    """Stop a kernel at once (it holds nothing worth a graceful exit) and remove its folder."""
    try:
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)
        run_sync(km.cleanup_resources)()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class _SparingManager(NotebookExecutionManager):
    """papermill's execution record, saved to disk at most once a second while cells run.

    papermill writes the whole executed notebook before and after every cell (some 70 writes
    of a notebook with its figures); once a second still leaves an analyst the cells a run got
    through when it is killed at its time limit, and a failed cell and the finished notebook
    are always written.
    """

    SAVE_EVERY = 1.0  # seconds

    def save(self, **kwargs: Any) -> None:
        # the first save (the whole notebook, before any cell runs) and the last always happen
        if (
            not getattr(self, "_saved", False)
            or getattr(self, "_final", False)
            or (self.now() - self.last_save_time).total_seconds() >= self.SAVE_EVERY
        ):
            super().save(**kwargs)
            self._saved = True

    def cell_exception(self, cell: Any, cell_index: Any = None, **kwargs: Any) -> None:
        self._final = True
        super().cell_exception(cell, cell_index, **kwargs)

    def notebook_complete(self, **kwargs: Any) -> None:
        self._final = True
        super().notebook_complete(**kwargs)


class _Engine(NBClientEngine):
    """papermill's nbclient engine with :class:`_SparingManager` as its execution record."""

    @classmethod
    def execute_notebook(
        cls,
        nb: Any,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = True,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> Any:
        nb_man = _SparingManager(
            nb,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


papermill_engines.register("tim", _Engine)


_EXPORTERS: dict[str, HTMLExporter] = {}


def _exporter() -> HTMLExporter:
    # one exporter per process: its Jinja templates compile once (0.2 s), not once per run
    if "html" not in _EXPORTERS:
        _EXPORTERS["html"] = HTMLExporter(
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
        )
    return _EXPORTERS["html"]


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
    body, _ = _exporter().from_notebook_node(nb)
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


def execute_run(
    spec: dict[str, Any],
    out_dir: str | None,
    *,
    kernels: NextKernel | None = None,
    next_kernel: bool = True,
) -> dict[str, Any]:
    """Run one notebook; return ``{"status", "error", "seconds", "notebook", "html"}``.

    ``spec`` holds ``notebook`` (path), ``parameters``, ``cwd`` and ``cell_timeout``. With
    ``out_dir`` the executed notebook and HTML are written there as well (the local runner);
    a Dask task passes ``None`` and ships the texts back to the client. With ``kernels`` (a
    serving worker) the run takes the kernel started ahead for it, if any, and (unless
    ``next_kernel`` is false: no run follows) starts the one for the next run before it
    executes its own cells.
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
        taken = kernels.take(spec["cwd"]) if kernels is not None else None
        if kernels is not None and next_kernel:
            kernels.start(spec["cwd"], spec.get("scratch_root"))
        # the kernel holds nothing worth a graceful exit, which waits about 0.6 s per run
        manager = _adopting(taken[0]) if taken else _ipc_kernel_manager(scratch)
        try:
            pm.execute_notebook(
                spec["notebook"],
                executed,
                parameters=spec["parameters"],
                kernel_name="python3",
                cwd=spec["cwd"],
                progress_bar=False,
                execution_timeout=spec["cell_timeout"],
                kernel_manager_class=manager,
                shutdown_kernel="immediate",
                engine_name="tim",
            )
        except PapermillExecutionError as exc:
            status, error = "failed", f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
        except Exception as exc:  # the kernel died, a cell timed out, ...
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            if taken:
                stop_kernel(*taken)
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


def serve(cwd: str | None = None, scratch_root: str | None = None) -> int:
    """A long-lived worker: one JSON job per line on stdin, one ``DONE`` line per finished run.

    Each job is ``{"spec": {...}, "out_dir": "..."}``; the result goes to ``out_dir`` (see
    :func:`execute_run`). Keeping the worker alive saves the 1-2 s of imports a fresh process
    pays for every run; each run still gets a fresh kernel.
    """
    kernels = NextKernel()
    try:
        if cwd is not None:
            # the first kernel boots while the batch is still checking the data
            kernels.start(cwd, scratch_root)
        for line in sys.stdin:
            if not line.strip():
                continue
            job = json.loads(line)
            result = execute_run(
                job["spec"],
                job["out_dir"],
                kernels=kernels,
                next_kernel=job.get("next_kernel", True),
            )
            print(f"{DONE} {json.dumps({'status': result['status']})}", flush=True)
    finally:
        kernels.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of a child process: ``--serve [CWD SCRATCH]``, or ``SPEC.json OUT_DIR``."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--serve"]:
        return serve(*args[1:3])
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    result = execute_run(spec, args[1])
    return 0 if result["status"] == "ok" else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
