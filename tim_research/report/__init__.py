"""Scheduled report runs: execute the notebooks for the program and each site, in parallel.

``tim report`` (see :func:`run_report`) plans the runs of a batch from the configuration
(``notebooks/reports.toml``), executes them on a pool of worker processes (papermill, a fresh
IPC kernel per run, per-cell timeout inside, a wall-clock limit enforced from outside by
killing the worker's process group),
renders staff HTML without code, gives each page the batch's header and footer
(:mod:`tim_research.report.page`: program, site, data cut-off, when made, link to the index
and the manifest), passes every report through the safety gate
(:mod:`tim_research.report.gate`), optionally prints each page to PDF
(:mod:`tim_research.report.pdf`), writes ``index.html`` and ``manifest.json``, and publishes
the batch with atomic renames. A batch interrupted at any point leaves the previously
published batch untouched.

Two trees. The staff tree holds only what staff may read: gated HTML, the index and the
manifest. Executed notebooks (of every run: ok, failed, blocked or timed out; a failed one
may show rows of data above its error), run results and worker logs (tracebacks may quote
data) go to the analyst tree, readable by the owner only (folders 0700, files 0600), which the
staff index never links. Folder layout under ``--out``::

    batches/<batch id>/index.html, manifest.json, <run>/report.html     (staff tree)
    batches/<batch id>/<run>/report.pdf     (with ``pdf=True``: ``tim report --pdf``)
    latest -> batches/<batch id>            (a symlink replaced atomically)
    analyst/<batch id>/<run>/notebook.ipynb, report.html, result.json, spec.json
    analyst/<batch id>/logs/worker-<n>.log  (analyst tree, owner-only)
    .staging-<batch id>/, analyst/.staging-<batch id>/
                                            (work in progress; removed on an interrupt, and
                                            by the next batch after a crash)
    analyst/.staging-<batch id>/program/    (the data read and checked once, as Parquet, for
                                            the kernels: tim_research.program.cache; removed
                                            before publishing)
    .lock                                   (held by the running batch)

Workers write everything into the analyst staging folder; a report's HTML is copied into the
staff staging folder only after it passed the gate. Publishing renames the analyst staging
folder, then the staff one, then switches ``latest``; batches beyond ``keep_batches`` are
pruned from both trees, and an analyst batch without its staff batch (a crash between the
renames) is removed. Every step runs under the ``--out`` lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tim_research.errors import ProgramValidationError, TimResearchError
from tim_research.program import read_program
from tim_research.program.cache import CACHE_ENV, data_fingerprint, write_cache
from tim_research.report import gate
from tim_research.report.config import ReportConfig, RunSpec, load_config, plan_runs
from tim_research.report.execute import execute_run
from tim_research.report.index import write_index
from tim_research.report.page import decorate, report_title
from tim_research.report.pdf import find_chromium, print_pdfs
from tim_research.report.workers import WorkerPool

__all__ = ["BatchResult", "RunResult", "data_fingerprint", "run_report"]

# owner-only modes of the analyst tree
_PRIVATE_DIR = 0o700
_PRIVATE_FILE = 0o600
# an error text that quoted values from the data is replaced by this
WITHHELD = "the error message quoted values from the data and is withheld"


@dataclass(frozen=True)
class RunResult:
    """Outcome of one run in a batch."""

    name: str
    template: str
    site: str | None
    status: str  # "ok", "failed", "timeout", "blocked" (safety gate)
    error: str
    seconds: float
    parameters: dict[str, Any]
    reused: bool = False
    #: optional tables the run needs and the data do not have (status "not run")
    missing_tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchResult:
    """Outcome of a batch: where it was published and each run's result.

    ``folder`` is the staff batch (``OUT/batches/<id>``), ``analyst`` its owner-only
    counterpart (``OUT/analyst/<id>``) with the executed notebooks and worker logs.
    """

    batch_id: str
    folder: Path
    runs: tuple[RunResult, ...]
    analyst: Path

    @property
    def failed(self) -> list[RunResult]:
        """Runs that did not produce a publishable report (other than :attr:`skipped` ones)."""
        return [r for r in self.runs if r.status != "ok" and not r.missing_tables]

    @property
    def skipped(self) -> list[RunResult]:
        """Runs not executed because the data lack a table they need (``needs``)."""
        return [r for r in self.runs if r.missing_tables]


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for pkg in (
        "tim-research",
        "pandas",
        "numpy",
        "statsmodels",
        "matplotlib",
        "seaborn",
        "papermill",
        "nbconvert",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            out[pkg] = "not installed"
    return out


def _git_commit(folder: Path) -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def _private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by the owner only; return it."""
    path.mkdir(mode=_PRIVATE_DIR, parents=True, exist_ok=True)
    os.chmod(path, _PRIVATE_DIR)  # mkdir's mode is masked by the umask; an old folder kept its own
    return path


def _private_write(path: Path, text: str) -> None:
    """Write a text file that only its owner can read (created 0600, never world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, _PRIVATE_FILE)  # an existing file keeps its mode on O_CREAT


def _make_private(root: Path) -> None:
    """Set owner-only modes on everything under ``root`` (files written by kernels included)."""
    for dirpath, _, filenames in os.walk(root):
        os.chmod(dirpath, _PRIVATE_DIR)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, _PRIVATE_FILE)


class _Countdown:
    """Runs not yet handed to a worker, counted down as threads take them."""

    def __init__(self, total: int) -> None:
        self._left = total
        self._lock = threading.Lock()

    def take(self) -> int:
        """Count one run out; return how many are left after it."""
        with self._lock:
            self._left -= 1
            return self._left


def _run_local(
    spec: RunSpec,
    config: ReportConfig,
    folder: Path,
    pool: WorkerPool,
    scratch: Path,
    countdown: _Countdown,
) -> tuple[str, str, float]:
    """Execute one run on a pooled worker with a wall-clock limit; return status, error, s.

    ``folder`` is the run's folder in the analyst staging area: the worker writes the executed
    notebook, the HTML and ``result.json`` there. The worker that takes the batch's last run
    starts no kernel for a next one, and stops as soon as that run is done.
    """
    _private_dir(folder)
    job = {
        "notebook": str(spec.notebook),
        "parameters": spec.parameters,
        "cwd": str(config.notebooks_dir),
        "cell_timeout": config.cell_timeout,
        # a killed run cannot clean up after itself; the batch removes this folder at its end
        "scratch_root": str(scratch),
    }
    _private_write(folder / "spec.json", json.dumps(job, indent=1))
    worker = pool.acquire()
    more = countdown.take() > 0
    start = time.perf_counter()
    outcome = worker.run(
        {"spec": job, "out_dir": str(folder), "next_kernel": more}, timeout=config.run_timeout
    )
    seconds = time.perf_counter() - start
    if outcome == "done" and not more:
        worker.end_input()  # it stops while the other workers finish their runs
    pool.release(worker, healthy=outcome == "done")
    if outcome == "timeout":
        return "timeout", f"killed after the run limit of {config.run_timeout} s", seconds
    result_file = folder / "result.json"
    if outcome == "died" or not result_file.exists():
        return "failed", "the run process died (see the worker logs in the analyst folder)", seconds
    result = json.loads(result_file.read_text(encoding="utf-8"))
    return result["status"], result["error"], seconds


def _run_dask(specs: list[RunSpec], config: ReportConfig, work: Path, scheduler: str):
    """Yield ``(spec, status, error, seconds)`` from runs executed as Dask tasks.

    The executed notebook and HTML of each run are written to ``work/<run>`` (the analyst
    staging area), as a local worker would write them.
    """
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    with Client(scheduler) as client:
        futures = {}
        for spec in specs:
            job = {
                "notebook": str(spec.notebook),
                "parameters": spec.parameters,
                "cwd": str(config.notebooks_dir),
                "cell_timeout": config.cell_timeout,
            }
            futures[client.submit(execute_run, job, None, pure=False, key=f"tim-{spec.name}")] = (
                spec
            )
        for future in dask_completed(futures):
            spec = futures[future]
            folder = _private_dir(work / spec.name)
            try:
                result = future.result()
            except Exception as exc:  # the task itself failed (worker lost, ...)
                yield spec, "failed", f"{type(exc).__name__}: {exc}", 0.0
                continue
            _private_write(folder / "notebook.ipynb", result["notebook"])
            if result["html"]:
                _private_write(folder / "report.html", result["html"])
            yield spec, result["status"], result["error"], result["seconds"]


def _previous(out: Path) -> dict[str, Any] | None:
    manifest = out / "latest" / "manifest.json"
    if manifest.is_file():
        return json.loads(manifest.read_text(encoding="utf-8"))
    return None


def _previous_seconds(out: Path) -> dict[str, float]:
    """How long each run took in the latest published batch (empty when there is none)."""
    try:
        previous = _previous(out)
        runs = previous.get("runs", []) if isinstance(previous, dict) else []
        return {
            str(r["name"]): float(r["seconds"])
            for r in runs
            if isinstance(r, dict) and "name" in r and "seconds" in r
        }
    except (OSError, ValueError, TypeError, KeyError):
        # timings only order the queue: a damaged manifest must not stop the batch
        return {}


def _longest_first(todo: list[RunSpec], seconds: Mapping[str, float]) -> list[RunSpec]:
    """Runs in the order they should start: new runs first, then the longest last time first.

    Started longest first, the runs leave short ones to fill the last gaps, so the workers
    finish nearly together instead of one waiting on a long run started last. Runs with no
    timing keep the configuration's order and go first, since nothing says they are short.
    """
    unknown = [s for s in todo if s.name not in seconds]
    known = sorted((s for s in todo if s.name in seconds), key=lambda s: -seconds[s.name])
    return unknown + known


def _analyst_root(out: Path) -> Path:
    return out / "analyst"


def _publish(staging: Path, work: Path, out: Path, batch_id: str, keep: int) -> tuple[Path, Path]:
    """Publish the staff (``staging``) and analyst (``work``) batches; prune both trees.

    Each rename is atomic. The analyst batch goes first, so a published staff batch always has
    its analyst batch; a crash between the two leaves an analyst batch without a staff one,
    which the next batch removes (:func:`_prune_analyst`).
    """
    batches = out / "batches"
    batches.mkdir(parents=True, exist_ok=True)
    _make_private(work)  # whatever a kernel or a copy wrote with a looser mode
    analyst = _analyst_root(out) / batch_id
    os.replace(work, analyst)  # atomic on one file system
    final = batches / batch_id
    os.replace(staging, final)
    link = out / f".latest-{batch_id}"
    link.symlink_to(Path("batches") / batch_id)
    os.replace(link, out / "latest")  # readers see the old batch or the new one, never half
    old = sorted(p for p in batches.iterdir() if p.is_dir() and p != final)
    for stale in old[: max(0, len(old) - (keep - 1))]:
        shutil.rmtree(stale, ignore_errors=True)
    _prune_analyst(out)
    return final, analyst


def _prune_analyst(out: Path) -> None:
    """Remove analyst batches whose staff batch is gone (pruned, or never published)."""
    root = _analyst_root(out)
    if not root.is_dir():
        return
    batches = out / "batches"
    for folder in root.iterdir():
        if folder.name.startswith("."):
            continue  # staging folders are cleared under the lock by _clear_leftovers
        if folder.is_dir() and not folder.is_symlink() and not (batches / folder.name).is_dir():
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _output_lock(out: Path, *, wait: bool) -> Iterator[None]:
    """Hold an exclusive lock on the output folder for a whole batch.

    Two batches writing to one folder would publish a manifest of one and reports of the
    other; the lock makes the second one stop (or wait) instead. The lock is released by the
    operating system when the process ends, so a crashed batch never leaves it held.
    """
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise TimResearchError(
                f"another report batch is writing to the --out folder {out.name!r}; run again "
                "when it has finished, or add --wait to start as soon as it has"
            ) from None
        yield
    finally:
        os.close(fd)


def _scratch_root(out: Path) -> Path:
    """A short per-output-folder scratch path (kernel IPC sockets need short paths)."""
    tag = hashlib.sha256(str(out).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"tim-report-{tag}"


def _clear_leftovers(out: Path) -> None:
    """Remove what a crashed or killed batch left behind (only ever called under the lock)."""
    for pattern in (".staging-*", ".latest-*", "analyst/.staging-*"):
        for path in out.glob(pattern):
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)
    _prune_analyst(out)
    shutil.rmtree(_scratch_root(out), ignore_errors=True)


def run_report(
    *,
    config: str | Path,
    data: str | Path,
    out: str | Path,
    jobs: int | None = None,
    only: Sequence[str] = (),
    resume: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    progress: bool = True,
    batch_id: str | None = None,
    wait: bool = False,
    mapping: str | Path | None = None,
    pdf: bool = False,
) -> BatchResult:
    """Execute, check and publish one batch of reports; see the module docstring.

    Parameters
    ----------
    config
        Report configuration file (``notebooks/reports.toml``).
    data
        Program data package folder, passed to every notebook as ``data_dir``.
    out
        Output folder (batches, ``latest`` link).
    jobs
        Runs executed at the same time (default: the number of CPUs).
    only
        Names of ``[[run]]`` entries to execute (default: all). The other runs are not
        dropped from the published batch: each is carried over from the latest batch when
        the data and the notebook are unchanged, and is otherwise listed as ``not run``.
    resume
        Re-use the successful runs of the latest published batch when the data, parameters and
        notebook are unchanged; execute only failed or missing runs.
    executor, scheduler
        ``"local"`` (processes on this machine) or ``"dask"`` with a scheduler address.
    progress
        Show one progress bar for the batch (on standard error).
    batch_id
        Name of the batch folder (default: a UTC timestamp and a random part).
    wait
        When another batch is writing to ``out``, wait for it instead of stopping.
    mapping
        A mapping file (:mod:`tim_research.io.mapping`) kept outside the data folder; by
        default the folder's own ``mapping.toml``, if any. The kernels take the tables it
        gives from the batch's checked copy, so it needs the local executor.
    pdf
        Also print each published staff page to ``report.pdf`` beside it (headless Chromium,
        Debian's ``chromium`` package); checked before anything runs.
    """
    cfg = load_config(config)
    chromium = find_chromium() if pdf else None
    data_dir = Path(data).resolve()
    out = Path(out).resolve()
    if executor not in ("local", "dask"):
        raise TimResearchError(f"executor must be 'local' or 'dask', got {executor!r}")
    if executor == "dask" and not scheduler:
        raise TimResearchError("--executor dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
    if mapping is not None:
        mapping = Path(mapping).resolve()
        if executor == "dask":
            raise TimResearchError(
                "--mapping needs the local executor (Dask workers read the data folder "
                "itself); put the mapping in the data folder as mapping.toml instead"
            )
        if not mapping.is_file():
            raise TimResearchError(f"--mapping {mapping.name!r} is not a file")
    with _output_lock(out, wait=wait):
        _clear_leftovers(out)
        return _run_batch(
            cfg,
            mapping=mapping,
            data_dir=data_dir,
            out=out,
            jobs=jobs,
            only=tuple(only),
            resume=resume,
            executor=executor,
            scheduler=scheduler,
            progress=progress,
            batch_id=batch_id,
            chromium=chromium,
        )


def _program_name(data_dir: Path) -> str:
    """The program's name for page headers: the data package's title, else its folder name."""
    try:
        package = json.loads((data_dir / "datapackage.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        package = {}
    name = package.get("title") or package.get("name") if isinstance(package, dict) else None
    return str(name or data_dir.name)


def _run_batch(
    cfg: ReportConfig,
    *,
    mapping: Path | None,
    data_dir: Path,
    out: Path,
    jobs: int | None,
    only: tuple[str, ...],
    resume: bool,
    executor: str,
    scheduler: str | None,
    progress: bool,
    batch_id: str | None,
    chromium: str | None = None,
) -> BatchResult:
    started = datetime.now(UTC).replace(microsecond=0)
    # the random part keeps two batches started in the same second apart
    batch_id = batch_id or (started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3))
    # staff staging (gated HTML, index, manifest) and analyst staging (everything executed)
    staging = out / f".staging-{batch_id}"
    work = _analyst_root(out) / f".staging-{batch_id}"
    for folder in (staging, work):
        if folder.exists():
            shutil.rmtree(folder)
    staging.mkdir(parents=True)
    _private_dir(_analyst_root(out))
    _private_dir(work)

    # kernel IPC sockets; made now, so each worker can start its first kernel at once
    scratch = _scratch_root(out)
    scratch.mkdir(mode=_PRIVATE_DIR, exist_ok=True)

    def discard() -> None:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)

    # The data are read and checked once, here; kernels take the checked tables from this
    # owner-only copy (program.cache) instead of each reading and checking the package again.
    # Its path is known before it is written, so the workers can start now.
    cache = work / "program"
    if executor == "local":
        # an empty cache folder tells a kernel the copy is on its way (program.cache waits)
        cache.mkdir(mode=_PRIVATE_DIR)
    pool = WorkerPool(
        jobs or os.cpu_count() or 1,
        work / "logs",
        env={CACHE_ENV: str(cache)},
        first_kernel=(str(cfg.notebooks_dir), str(scratch)),
    )
    if executor == "local":
        # workers import papermill and boot their first kernel while the data are checked
        pool.prestart()
    try:
        program = _read_program(data_dir, mapping)
        specs = plan_runs(cfg, data_dir=data_dir, sites=program.sites)
        chosen = {s.name for s in plan_runs(cfg, data_dir=data_dir, sites=program.sites, only=only)}
        # free-text labels shared by fewer people than the strictest run's min_cell are hidden
        strictest = max((int(s.parameters.get("min_cell", 5)) for s in specs), default=5)
        # the values the gate looks for are first needed when a run finishes: they are found
        # while the first runs start, not before
        finder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tim-gate")
        identifiers_job = finder.submit(
            lambda: gate.ValueIndex(gate.identifiers_in_data(data_dir, min_cell=strictest))
        )
        finder.shutdown(wait=False)
    except BaseException:
        pool.close(kill=True)
        discard()
        raise
    fingerprint = data_fingerprint(data_dir, mapping=mapping)
    versions = _versions()
    page_info = {
        "program": _program_name(data_dir),
        "data_cutoff": program.cutoff.date().isoformat() if program.cutoff is not None else "",
        "generated_at": started.isoformat(),
        "version": versions["tim-research"],
        "batch_id": batch_id,
    }

    # runs left out by --only are carried over rather than silently dropped from `latest`
    previous = _previous(out) if resume or only else None
    reusable: dict[str, dict[str, Any]] = {}
    prev_dir = (out / "latest").resolve()
    prev_work = (
        _analyst_root(out) / str(previous["batch_id"])
        if previous and previous.get("batch_id")
        else None
    )
    if previous and previous.get("data_fingerprint") == fingerprint:
        for run in previous["runs"]:
            if run["status"] == "ok" and (prev_dir / run["name"] / "report.html").is_file():
                reusable[run["name"]] = run
    results: dict[str, RunResult] = {}
    todo = []
    for spec in specs:
        prev = reusable.get(spec.name)
        wanted = spec.name in chosen
        missing = tuple(t for t in spec.needs if not program.has(t))
        if missing:
            # the data cannot support this report: listed, never executed into an error
            results[spec.name] = RunResult(
                spec.name,
                spec.template,
                spec.site,
                "not run",
                "needs " + " and ".join(f"{t}.csv" for t in missing),
                0.0,
                spec.parameters,
                missing_tables=missing,
            )
        elif (
            prev is not None
            and (resume or not wanted)
            and prev["parameters"] == spec.parameters
            and prev.get("notebook_sha256") == _sha(spec.notebook)
        ):
            _carry_over(spec.name, prev_dir, prev_work, staging, work)
            results[spec.name] = RunResult(
                spec.name,
                spec.template,
                spec.site,
                "ok",
                "",
                prev["seconds"],
                spec.parameters,
                reused=True,
            )
        elif wanted:
            todo.append(spec)
        else:
            results[spec.name] = RunResult(
                spec.name,
                spec.template,
                spec.site,
                "not run",
                "left out by --only, and the latest batch has no report of it on the same data",
                0.0,
                spec.parameters,
            )

    todo = _longest_first(todo, _previous_seconds(out))
    bar = tqdm(total=len(todo), desc="reports", unit="run", disable=not progress, file=sys.stderr)

    def finish(spec: RunSpec, status: str, error: str, seconds: float) -> None:
        folder = work / spec.name
        identifiers = identifiers_job.result()
        if gate.find_values([error], identifiers):
            # error texts reach the index, the manifest, standard error and cron logs
            error = WITHHELD
        if status == "ok":
            html = folder / "report.html"
            # the page staff get: with the batch's header and footer, checked as published
            page = (
                decorate(
                    html.read_text(encoding="utf-8"),
                    title=report_title(spec.notebook),
                    info={
                        **page_info,
                        "for": f"Site {spec.site}" if spec.site else "Whole program",
                    },
                )
                if html.is_file()
                else ""
            )
            notebook = folder / "notebook.ipynb"
            texts = [page] + ([notebook.read_text(encoding="utf-8")] if notebook.exists() else [])
            problems = gate.scan(
                texts, identifiers=identifiers, min_cell=int(spec.parameters.get("min_cell", 5))
            )
            if problems:
                # the page stays in the analyst tree with the notebook; staff never get it
                status, error = "blocked", "safety gate: " + "; ".join(problems)
            elif not html.is_file():
                status, error = "failed", "the run reported success but wrote no report"
            else:
                # written (with the staff tree's usual modes) only after the gate passed it
                (staging / spec.name).mkdir()
                (staging / spec.name / "report.html").write_text(page, encoding="utf-8")
        results[spec.name] = RunResult(
            spec.name, spec.template, spec.site, status, error, seconds, spec.parameters
        )
        failed = sum(r.status not in ("ok", "not run") for r in results.values())
        bar.set_postfix(failed=failed)
        bar.update(1)
        tqdm.write(
            f"{status:>7}  {spec.name}  {seconds:5.1f} s" + (f"  {error}" if error else ""),
            file=sys.stderr,
        )

    # SIGTERM (a scheduler stopping the job) unwinds like Ctrl-C: workers and kernels are killed
    # and both staging folders removed; the published batch is never touched before the rename
    previous_handler = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if executor == "local":
            with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as threads:
                countdown = _Countdown(len(todo))
                futures = {
                    threads.submit(_run_local, s, cfg, work / s.name, pool, scratch, countdown): s
                    for s in todo
                }
                try:
                    # written while the first runs import their stack; their kernels wait
                    # for it when they reach setup()
                    write_cache(
                        program, cache, data_dir=data_dir, fingerprint=fingerprint, mapping=mapping
                    )
                    for future in as_completed(futures):
                        finish(futures[future], *future.result())
                except BaseException:
                    for f in futures:
                        f.cancel()
                    pool.close(kill=True)
                    raise
            pool.close()
        else:
            for spec, status, error, seconds in _run_dask(todo, cfg, work, scheduler or ""):
                finish(spec, status, error, seconds)
    except BaseException:
        # no worker may outlive the batch and write into the folders being removed
        pool.close(kill=True)
        discard()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        shutil.rmtree(scratch, ignore_errors=True)
        # a copy of the data has no place among the published batch's reports
        shutil.rmtree(cache, ignore_errors=True)
        bar.close()

    ordered = tuple(results[s.name] for s in specs)
    if chromium is not None:
        try:
            print_pdfs(
                [staging / r.name / "report.html" for r in ordered if r.status == "ok"],
                chromium=chromium,
            )
        except BaseException:
            discard()
            raise
    manifest = {
        "batch_id": batch_id,
        "program": page_info["program"],
        "data_cutoff": page_info["data_cutoff"],
        "generated_at": page_info["generated_at"],
        "data_dir": data_dir.name,
        "data_fingerprint": fingerprint,
        "config": cfg.source.name,
        "git_commit": _git_commit(cfg.source.parent),
        "versions": versions,
        # relative to --out; owner-only, and never linked from the index
        "analyst_folder": f"analyst/{batch_id}",
        "runs": [
            {
                **asdict(r),
                "title": report_title(s.notebook),
                "notebook": s.notebook.name,
                "notebook_sha256": _sha(s.notebook),
                "pdf": (staging / r.name / "report.pdf").is_file(),
            }
            for r, s in zip(ordered, specs)
        ],
    }
    try:
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        write_index(staging / "index.html", manifest)
        final, analyst = _publish(staging, work, out, batch_id, cfg.keep_batches)
    except BaseException:
        discard()
        raise
    return BatchResult(batch_id, final, ordered, analyst)


def _carry_over(
    name: str, prev_dir: Path, prev_work: Path | None, staging: Path, work: Path
) -> None:
    """Copy a re-used run: its staff page, and its analyst folder (notebook, result, spec)."""
    (staging / name).mkdir()
    shutil.copyfile(prev_dir / name / "report.html", staging / name / "report.html")
    if prev_work is not None and (prev_work / name).is_dir():
        shutil.copytree(prev_work / name, work / name)
    elif (prev_dir / name / "notebook.ipynb").is_file():
        # a batch published before the two trees kept its notebook in the staff tree
        _private_dir(work / name)
        shutil.copyfile(prev_dir / name / "notebook.ipynb", work / name / "notebook.ipynb")


def _read_program(data_dir: Path, mapping: Path | None = None) -> Any:
    """``read_program``, with a validation error reduced to counts per table, column and check.

    The full problem list quotes the offending values and row keys (youth ids, free text);
    ``tim report`` prints its errors to standard error, which cron mails and logs keep.
    """
    try:
        return read_program(data_dir, mapping=mapping)
    except ProgramValidationError as exc:
        try:
            summary = exc.report.summary()
            parts = [
                f"{t}.{c} [{k}]: {n}" if isinstance(c, str) and c else f"{t} [{k}]: {n}"
                for t, c, k, n in summary[["table", "column", "check", "problems"]].itertuples(
                    index=False
                )
            ]
        except Exception:  # a report of another shape: say nothing about its contents
            parts = []
        raise ProgramValidationError(
            f"the data package {data_dir.name!r} failed validation"
            + (f" (problems per column and check: {'; '.join(parts)})" if parts else "")
            + "; nothing was run. Values are not shown here: see them with "
            "tim_research.program.validate_program in a notebook",
            exc.report,
        ) from None


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
