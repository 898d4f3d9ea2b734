"""Staff pages in a real browser: headless Debian Chromium opens a batch as staff would.

One batch of three real reports (program overview, resilience outcomes, North's site report) is
built on the sample with ``pdf=True`` and shared by every test here; the other runs of the
configuration are listed in its index as not run. Screenshots of the pages at 1280 pixels are
saved as test artefacts in ``$TIM_SCREENSHOTS`` (default: a pytest temporary folder, named in
the test output). Chromium is Debian's (``make browser`` installs it); Playwright drives it and
never downloads a browser.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from conftest import REPO

from tim_research.report import run_report
from tim_research.report.pdf import CHROMIUM_FLAGS, find_chromium, page_count

pytestmark = pytest.mark.slow

REPORTS = ("program-overview", "resilience-outcomes", "site-report-north")
WIDTH = 1280


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "out"
    result = run_report(
        config=REPO / "notebooks" / "reports.toml",
        data=REPO / "data" / "sample",
        out=out,
        only=["program-overview", "resilience-outcomes", "site-report-north"],
        jobs=2,
        progress=False,
        batch_id="b1",
        pdf=True,
    )
    assert [r.name for r in result.runs if r.status == "ok"] == list(REPORTS), [
        (r.name, r.status, r.error) for r in result.runs
    ]
    return result.folder


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=find_chromium(), args=list(CHROMIUM_FLAGS))
        yield chromium
        chromium.close()


def _pages(batch):
    return ["index.html", *(f"{name}/report.html" for name in REPORTS)]


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": WIDTH, "height": 900})
    page.goto(path.as_uri())
    return page


def test_pages_fit_1280_pixels_and_screenshots_are_kept(batch, browser, screenshots):
    for name in _pages(batch):
        page = _open(browser, batch / name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{name} is {width} px wide"
        # a table wider than its box would only be readable by scrolling sideways
        wide = page.evaluate(
            """[...document.querySelectorAll('.tim-table > table')]
                .filter(t => t.getBoundingClientRect().right > window.innerWidth + 1).length"""
        )
        assert wide == 0, f"{name}: {wide} table(s) run off the page"
        shot = screenshots / (name.replace("/", "_").replace(".html", ".png"))
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        page.close()


def test_every_image_has_a_real_alt_text(batch, browser):
    for name in _pages(batch)[1:]:
        page = _open(browser, batch / name)
        alts = page.evaluate("[...document.images].map(i => i.getAttribute('alt') || '')")
        assert alts, f"{name} has no figure"
        for alt in alts:
            assert len(alt) > 40 and "No description" not in alt, (name, alt)
        page.close()


def test_every_link_resolves_and_reports_link_back_to_the_index(batch, browser):
    index = (batch / "index.html").resolve()
    for name in _pages(batch):
        page = _open(browser, batch / name)
        links = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
        ids = set(page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)"))
        for href in links:
            url = urlparse(href)
            if url.scheme in ("http", "https"):
                continue  # outside the batch (references in the prose); not fetched here
            assert url.scheme == "file", href
            target = Path(unquote(url.path))
            assert target.is_file(), f"{name}: broken link {href}"
            if url.fragment and target == (batch / name).resolve():
                # a browser matches the fragment as written, then percent-decoded (HTML spec)
                found = url.fragment in ids or unquote(url.fragment) in ids
                assert found, f"{name}: no anchor {url.fragment}"
        if name != "index.html":
            home = page.evaluate("[...document.querySelectorAll('header a')].map(a => a.href)")
            assert index.as_uri() in home, name
        page.close()


def test_pages_declare_their_language_and_keep_headings_in_order(batch, browser):
    for name in _pages(batch):
        page = _open(browser, batch / name)
        assert page.evaluate("document.documentElement.lang") == "en"
        levels = page.evaluate(
            "[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])"
        )
        assert levels[0] == 1 and levels.count(1) == 1, (name, levels)
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), (name, levels)
        page.close()


def test_index_names_reports_by_title_and_lists_runs_not_made(batch, browser):
    page = _open(browser, batch / "index.html")
    rows = page.evaluate(
        "[...document.querySelectorAll('tbody tr')].map(r => r.innerText.replace(/\\s+/g, ' '))"
    )
    assert any(r.startswith("Resilience outcomes") for r in rows)
    assert any("Site North" in r for r in rows)
    assert sum("not run" in r for r in rows) == 8  # the runs --only left out (3 sites too)
    page.close()


def test_each_published_report_has_a_pdf(batch):
    counts = {p.parent.name: page_count(p) for p in sorted(batch.glob("*/report.pdf"))}
    print("PDF pages:", counts)
    assert set(counts) == {p.parent.name for p in batch.glob("*/report.html")}
    assert all(n >= 2 for n in counts.values()), counts  # a new page per section
