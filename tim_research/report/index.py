"""The batch's ``index.html``: every report by its title, for whom, its status, and provenance."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from tim_research.report.page import STYLE, readable_date, readable_time

__all__ = ["write_index"]

_INDEX_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222;
  padding: 0 1rem; line-height: 1.45; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid #ddd;
  vertical-align: top; }
.ok { color: #00704a; } .failed, .timeout, .blocked { color: #b00020; font-weight: bold; }
.not-run, .skipped { color: #555; }
.facts { display: flex; flex-wrap: wrap; gap: 0.3rem 2rem; padding: 0; list-style: none; }
details { margin-top: 1rem; } code { font-size: 0.9em; overflow-wrap: anywhere; }
"""

# status words for staff; the manifest keeps the codes
_STATUS = {
    "ok": "ready",
    "failed": "failed",
    "timeout": "stopped: took too long",
    "blocked": "withdrawn by the safety gate",
    "not run": "not run in this batch",
    "skipped": "not run in this batch",
}


def _status(run: dict[str, Any]) -> str:
    words = _STATUS.get(run["status"], run["status"])
    if run["status"] == "not run" and run.get("missing_tables"):
        # the data have no such table: the report cannot be made, nothing went wrong
        return "not run: needs " + " and ".join(f"{t}.csv" for t in run["missing_tables"])
    if run["status"] in ("not run", "skipped") and run.get("error"):
        words = f"{words}: {run['error']}"
    if run["status"] == "ok" and run.get("reused"):
        words += " (carried over from an earlier batch on the same data)"
    return words


def _links(run: dict[str, Any]) -> tuple[str, str]:
    """The report's title (a link when published) and its PDF link."""
    esc = html.escape
    title = run.get("title") or run["name"]
    if run["status"] != "ok":
        # a failed run's notebook may show rows of data before its error: it is for the
        # analyst, never linked from the staff index (the run's name lets them find it)
        return f"{esc(title)}<br><small>run <code>{esc(run['name'])}</code></small>", ""
    folder = esc(run["name"])
    pdf = f'<a href="{folder}/report.pdf">PDF</a>' if run.get("pdf") else ""
    return f'<a href="{folder}/report.html">{esc(title)}</a>', pdf


def write_index(path: Path, manifest: dict[str, Any]) -> None:
    """Write the batch index page from its manifest."""
    esc = html.escape
    runs = manifest["runs"]
    any_pdf = any(r.get("pdf") for r in runs)
    rows = []
    for run in runs:
        title, pdf = _links(run)
        status = run["status"].replace(" ", "-")
        problem = run["error"] if run["status"] not in ("ok", "not run", "skipped") else ""
        audience = f"Site {run['site']}" if run["site"] else "Whole program"
        rows.append(
            "<tr>"
            f"<td>{title}</td><td>{esc(audience)}"
            f'</td><td class="{esc(status)}">{esc(_status(run))}'
            + (f"<br><small>{esc(problem)}</small>" if problem else "")
            + "</td>"
            + (f"<td>{pdf}</td>" if any_pdf else "")
            + "</tr>"
        )
    versions = ", ".join(f"{esc(k)} {esc(v)}" for k, v in manifest["versions"].items())
    ready = sum(r["status"] == "ok" for r in runs)
    summary = f"{ready} of {len(runs)} reports ready" + (
        "." if ready == len(runs) else "; the others are listed with the reason."
    )
    facts = [
        ("Program", manifest.get("program", "")),
        ("Data up to", readable_date(manifest.get("data_cutoff"))),
        ("Made", readable_time(manifest.get("generated_at"))),
    ]
    fact_items = "".join(
        f"<li><strong>{esc(k)}:</strong> {esc(str(v))}</li>" for k, v in facts if v
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Program reports{esc(" – " + manifest["program"]) if manifest.get("program") else ""}</title>
<style>{_INDEX_STYLE}{STYLE}</style></head><body>
<header><h1>Program reports</h1>
<ul class="facts">{fact_items}</ul></header>
<main>
<p>{esc(summary)}</p>
<table><thead><tr><th scope="col">Report</th><th scope="col">For</th>
<th scope="col">Status</th>{'<th scope="col">Print</th>' if any_pdf else ""}</tr></thead><tbody>
{"".join(rows)}
</tbody></table>
<p>ACE scores in these reports are population research measures, not screening tools for
individuals. Counts below each report's minimum cell size are suppressed.</p>
<h2>About this batch</h2>
<details><summary>Provenance: data, configuration and software versions</summary>
<ul>
<li>Batch <code>{esc(manifest["batch_id"])}</code>;
<a href="manifest.json">manifest</a> (every run with its parameters and timing)</li>
<li>Data: <code>{esc(manifest["data_dir"])}</code>,
SHA-256 <code>{esc(manifest["data_fingerprint"])}</code></li>
<li>Configuration: <code>{esc(manifest["config"])}</code>;
code commit <code>{esc(manifest["git_commit"])}</code></li>
<li>Versions: {versions}</li>
</ul></details>
</main>
<footer class="tim-page-footer">Made with tim-research
{esc(str(manifest["versions"].get("tim-research", "")))}.</footer>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
