"""The batch's ``index.html``: every run with its status, duration and link, plus provenance."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

__all__ = ["write_index"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 70rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #ddd; }
.ok { color: #00704a; } .failed, .timeout, .blocked { color: #b00020; font-weight: bold; }
.not-run { color: #555; }
code { font-size: 0.9em; }
"""


def write_index(path: Path, manifest: dict[str, Any]) -> None:
    """Write the batch index page from its manifest."""
    esc = html.escape
    rows = []
    for run in manifest["runs"]:
        folder = run["name"]
        # a failed run's notebook may show rows of data before its error: it is for the
        # analyst, never linked from the staff index
        if run["status"] == "ok":
            link = f'<a href="{esc(folder)}/report.html">report</a>'
        elif run["status"] == "blocked":
            link = "withdrawn by the safety gate"
        elif run["status"] == "not run" and run.get("missing_tables"):
            # the data have no such table: the report cannot be made, nothing went wrong
            link = "not run: needs " + esc(" and ".join(f"{t}.csv" for t in run["missing_tables"]))
        elif run["status"] == "not run":
            link = "not run in this batch"
        else:
            link = "not published (the analyst can see why)"
        reused = " (re-used)" if run.get("reused") else ""
        rows.append(
            "<tr>"
            f"<td>{esc(run['name'])}</td><td>{esc(run['site'] or 'whole program')}</td>"
            f'<td class="{esc(run["status"].replace(" ", "-"))}">{esc(run["status"])}{reused}</td>'
            f"<td>{run['seconds']:.1f} s</td><td>{link}</td>"
            f"<td>{esc(run['error'])}</td>"
            "</tr>"
        )
    versions = ", ".join(f"{esc(k)} {esc(v)}" for k, v in manifest["versions"].items())
    failed = sum(r["status"] != "ok" for r in manifest["runs"])
    summary = (
        f"{len(manifest['runs'])} runs, {failed} not published"
        if failed
        else (f"{len(manifest['runs'])} runs, all published")
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Reports {esc(manifest["batch_id"])}</title>
<style>{_STYLE}</style></head><body>
<h1>Program reports</h1>
<p>Batch <code>{esc(manifest["batch_id"])}</code>: {esc(summary)}.</p>
<table><thead><tr><th>run</th><th>for</th><th>status</th><th>time</th><th>output</th>
<th>problem</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>
<h2>Provenance</h2>
<ul>
<li>Data: <code>{esc(manifest["data_dir"])}</code>,
SHA-256 <code>{esc(manifest["data_fingerprint"])}</code></li>
<li>Configuration: <code>{esc(manifest["config"])}</code>;
code commit <code>{esc(manifest["git_commit"])}</code></li>
<li>Versions: {versions}</li>
</ul>
<p>ACE scores in these reports are population research measures, not screening tools for
individuals. Counts below each report's minimum cell size are suppressed.</p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
