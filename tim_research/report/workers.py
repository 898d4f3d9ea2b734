"""Long-lived run processes for ``tim report``: imports paid once, runs killable one by one.

Each worker runs ``tim_research.report.execute.main(['--serve'])`` in its own session, with an
owner-only umask and its standard error in an owner-only log (the analyst tree). The
parent sends one job at a time and waits for its ``DONE`` line with the run's time limit; a run
that overruns has its worker's whole process group (worker and kernel) killed, and the next job
gets a fresh worker.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tim_research.report.execute import DONE

__all__ = ["Worker", "WorkerPool"]


# The worker's program. jsonschema (imported by nbformat) loads rfc3987_syntax when it is
# installed, which compiles a grammar at import (about 1.3 s of a worker's 1.9 s start-up) to
# check "iri" string formats; no notebook schema uses them, so the worker blocks that import.
# A worker has written and flushed everything when its loop ends; leaving through os._exit
# skips tearing down the imported stack (about 0.2 s the batch would wait for at its end).
_SERVE = (
    "import os, sys; sys.modules['rfc3987_syntax'] = None; "
    "from tim_research.report.execute import main; code = main(['--serve', *sys.argv[1:]]); "
    "sys.stdout.flush(); sys.stderr.flush(); os._exit(code)"
)


class Worker:
    """One serving process and a thread that collects its output lines."""

    def __init__(
        self,
        log_path: Path,
        env: dict[str, str] | None = None,
        first_kernel: tuple[str, str] | None = None,
    ) -> None:
        # the log may hold tracebacks that quote data: owner-only from its creation
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._log = os.fdopen(fd, "a", encoding="utf-8")
        self.proc = subprocess.Popen(
            # (working folder, scratch folder) of the kernel to start before the first job
            [sys.executable, "-c", _SERVE, *(first_kernel or ())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            start_new_session=True,  # the kernel joins this group, so killpg ends both
            # the executed notebooks, pages and results the worker and its kernels write are
            # for the analyst only
            umask=0o077,
            # kernels inherit the worker's environment (e.g. the batch's program cache)
            env={**os.environ, **env} if env else None,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def run(self, job: dict[str, Any], timeout: float) -> str:
        """Send a job; return ``"done"``, ``"timeout"`` or ``"died"``."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return "died"
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                return "timeout"
            if line is None:
                return "died"
            if line.startswith(DONE):
                return "done"

    def kill(self) -> None:
        """Kill the worker's process group (the worker and any kernel it started)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._log.close()

    def end_input(self) -> None:
        """Tell the worker there are no more jobs (it stops its spare kernel and exits)."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass

    def close(self) -> None:
        """Let the worker finish (end of input), or kill it if it does not."""
        try:
            self.end_input()
            self.proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, OSError):
            self.kill()
            return
        self._log.close()


class WorkerPool:
    """Up to ``size`` workers started on demand; a killed worker is replaced by a new one.

    ``env`` is added to the environment of every worker and so of its kernels;
    ``first_kernel`` (working folder, scratch folder) has each worker start a kernel there
    before its first job arrives.
    """

    def __init__(
        self,
        size: int,
        log_dir: Path,
        env: dict[str, str] | None = None,
        first_kernel: tuple[str, str] | None = None,
    ) -> None:
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._all: set[Worker] = set()
        self._lock = threading.Lock()
        self._count = 0
        self._size = size
        self._log_dir = log_dir
        self._env = env
        self._first_kernel = first_kernel
        self._closed = False

    def prestart(self) -> None:
        """Start every worker now, so their imports overlap with other work."""
        with self._lock:
            while len(self._all) < self._size:
                self._idle.put(self._start())

    def _start(self) -> Worker:
        self._count += 1
        self._log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        worker = Worker(self._log_dir / f"worker-{self._count}.log", self._env, self._first_kernel)
        self._all.add(worker)
        return worker

    def acquire(self) -> Worker:
        """An idle worker, a new one while fewer than ``size`` exist, else wait for one.

        A closed pool (the batch was stopped) starts no worker: a run that asks for one then
        gets a worker that was killed, or an error when none is left.
        """
        while True:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                if self._closed:
                    raise RuntimeError("the batch is stopping: no worker is started")
                if len(self._all) < self._size:
                    return self._start()
            try:
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                continue

    def release(self, worker: Worker, *, healthy: bool) -> None:
        """Return a worker after a job; an unhealthy one is killed and forgotten."""
        if healthy:
            self._idle.put(worker)
            return
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def close(self, *, kill: bool = False) -> None:
        """Stop every worker (kill them when interrupted); a closed pool starts no new one."""
        with self._lock:
            self._closed = True
            workers, self._all = list(self._all), set()
        if not kill:
            for worker in workers:  # all at once: each stops its spare kernel in parallel
                worker.end_input()
        for worker in workers:
            worker.kill() if kill else worker.close()
