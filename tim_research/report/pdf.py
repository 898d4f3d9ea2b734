"""Staff pages as PDF for board packs: headless Chromium prints each published page.

Debian's ``chromium`` package (``/usr/bin/chromium``) prints with the page's print styles
(:data:`tim_research.report.page.STYLE`: a new page per section, no table or figure split
across pages). It runs without a sandbox, GPU, first-run set-up, background networking,
component updates or sync, in a throw-away profile folder: nothing is fetched and nothing
is kept.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tim_research.errors import TimResearchError

__all__ = ["CHROMIUM", "CHROMIUM_FLAGS", "find_chromium", "page_count", "print_pdf", "print_pdfs"]

#: Where Debian's ``chromium`` package puts the browser.
CHROMIUM = "/usr/bin/chromium"
#: Flags of every headless Chromium the project starts (PDF printing and browser tests).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# seconds one page may take to print
_TIMEOUT = 120


def find_chromium() -> str:
    """The Chromium program to print with: ``$TIM_CHROMIUM``, ``/usr/bin/chromium`` or on PATH.

    Raises
    ------
    TimResearchError
        When there is none (one line saying how to install it).
    """
    wanted = os.environ.get("TIM_CHROMIUM")
    for candidate in ([wanted] if wanted else []) + [CHROMIUM, "chromium", "chromium-browser"]:
        found = shutil.which(candidate)
        if found:
            return found
    raise TimResearchError(
        "--pdf needs headless Chromium, which is not installed; install it with "
        "`apt-get install -y chromium` (Debian) or `make browser`, or leave out --pdf"
    )


def print_pdf(page: Path, target: Path, *, chromium: str) -> None:
    """Print one HTML page to ``target`` with headless Chromium."""
    with tempfile.TemporaryDirectory(prefix="tim-chromium-") as profile:
        done = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={target}",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        # Chromium's own messages name paths and GPU details, not data: keep the last line
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise TimResearchError(
            f"Chromium could not print {page.parent.name}/{page.name} to PDF (exit "
            f"{done.returncode}: {last[:200]})"
        )


def print_pdfs(pages: Sequence[Path], *, chromium: str) -> dict[str, int]:
    """Print each page to ``report.pdf`` beside it; return the page count per run folder."""
    counts = {}
    for page in pages:
        target = page.with_suffix(".pdf")
        print_pdf(page, target, chromium=chromium)
        counts[page.parent.name] = page_count(target)
    return counts


_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def page_count(pdf: Path) -> int:
    """Number of pages of a PDF written by Chromium (its ``/Type /Page`` objects).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as fh:
    ...     _ = fh.write(b"<< /Type /Pages /Count 2 >> << /Type /Page >> << /Type/Page >>")
    >>> page_count(Path(fh.name))
    2
    """
    return len(_PAGE.findall(Path(pdf).read_bytes()))
