"""The explorer as a dashboard in a real browser: Voila on loopback, headless Debian Chromium.

Voila serves notebooks/explorer.ipynb on 127.0.0.1 at a free port with the sample data (the
notebook's default) and a kernel from this test's Python; Playwright drives Debian's chromium
(``make browser``), never a downloaded one. The test changes the site dropdown and checks the
page shows the new table, its numbers recomputed here with the library; a screenshot is saved
in ``$TIM_SCREENSHOTS`` (default: a pytest temporary folder, named in the output). Voila is
always stopped, also when the test fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from conftest import REPO

from tim_research.report.pdf import CHROMIUM_FLAGS, find_chromium
from tim_research.views.explorer import Choice, explore, explorer_data
from tim_research.views.notebook import setup

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    port = _free_port()
    home = tmp_path_factory.mktemp("voila-home")
    # no user or global jupyter configuration: a clean clone behaves the same
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    log = home / "voila.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "voila", "notebooks/explorer.ipynb",
                "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
            ],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                # any HTTP answer means the server is up (this path is refused: 403)
                with urllib.request.urlopen(url + "static/none", timeout=2):
                    break
            except urllib.error.HTTPError:
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"voila did not serve: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_changing_the_site_shows_that_sites_table(voila, screenshots):
    from playwright.sync_api import expect, sync_playwright

    data = explorer_data(setup(data_dir=str(REPO / "data" / "sample")).program)
    expected = explore(data, Choice(site="North")).shown.main  # independent of the page
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=list(CHROMIUM_FLAGS))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(voila, timeout=30_000)
            caption = page.locator(".tim-table caption")
            expect(caption).to_have_text(
                "BRS resilience (1-5) at baseline, all sites, by arm", timeout=30_000
            )
            site = page.locator(".widget-dropdown", has_text="Site").locator("select")
            site.select_option(label="North")
            expect(caption).to_have_text(
                "BRS resilience (1-5) at baseline, site North, by arm", timeout=10_000
            )
            rows = page.locator(".tim-table tbody tr").evaluate_all(
                "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
            )
            assert rows == expected.astype(str).to_numpy().tolist()
            # the figure is drawn after the table: wait for it (a loaded machine is slower)
            expect(page.locator('img[src^="data:image/png"]').first).to_be_visible(timeout=15_000)
            shot = screenshots / "dashboard_north.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
