"""What every staff page of a batch shares: header, footer, styles for screen and print.

A report's HTML (nbconvert's page of the executed notebook, without code) gets, before the
safety gate reads it:

* a header: the program, who the report is for (the whole program or one site), the data
  cut-off, when the batch was made, and a link back to the batch index;
* a footer: the tim-research version, the batch and a link to the batch manifest;
* the report's title (its notebook's first heading) as the page title, ``lang`` on the page;
* styles: tables that fit the page (wide ones scroll inside their box, never the page),
  folded technical details, and print rules for PDF board packs (each section starts a new
  page; tables, figures and headings are not split across pages).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "STYLE",
    "decorate",
    "readable_date",
    "readable_time",
    "report_title",
]

STYLE = """
.tim-page-header, .tim-page-footer { font-family: system-ui, sans-serif; color: #333;
  max-width: 70rem; margin: 0 auto; padding: 0.6rem 1rem; }
.tim-page-header { border-bottom: 2px solid #0072B2; display: flex; flex-wrap: wrap;
  gap: 0.3rem 1.5rem; align-items: baseline; font-size: 0.95rem; }
.tim-page-header a, .tim-page-footer a { color: #005a8c; }
.tim-page-header .tim-home { font-weight: bold; margin-right: auto; }
.tim-page-footer { border-top: 1px solid #ccc; font-size: 0.85rem; margin-top: 2rem; }
.tim-page-header dl { display: flex; flex-wrap: wrap; gap: 0.2rem 1.2rem; margin: 0; }
.tim-page-header dt { font-weight: bold; }
.tim-page-header dt::after { content: ":"; }
.tim-page-header dd { margin: 0 0 0 0.3rem; }
.tim-page-header dl div { display: flex; }
.tim-table { max-width: 100%; overflow-x: auto; margin: 0.4rem 0 1rem; }
.tim-table table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.tim-table caption { text-align: left; font-weight: bold; padding-bottom: 0.3rem; }
.jp-RenderedHTMLCommon .tim-table th, .tim-table th { text-align: left; vertical-align: bottom; }
.jp-RenderedHTMLCommon .tim-table td, .tim-table td { text-align: left; }
.tim-table td, .tim-table th { padding: 0.25rem 0.6rem; }
.tim-source, .tim-notes { font-size: 0.85rem; color: #444; margin: 0.3rem 0; }
.tim-details summary { cursor: pointer; color: #005a8c; font-size: 0.9rem; }
.jp-RenderedImage img, .jp-RenderedHTMLCommon img { max-width: 100%; height: auto; }
/* what a report prints is its headline sentences: read as prose, not as program output */
.jp-RenderedText[data-mime-type="text/plain"] pre { font-family: system-ui, sans-serif;
  font-size: 1rem; line-height: 1.5; white-space: pre-wrap; color: #222;
  background: #f3f7fa; border-left: 3px solid #0072B2; padding: 0.4rem 0.8rem; }
@media print {
  .tim-page-header { border-bottom-width: 1px; }
  .jp-Cell, .jp-OutputArea-output { overflow: visible !important; }
  h2 { break-before: page; }
  h1, h2, h3, h4 { break-after: avoid; }
  table, tr, img, figure, .tim-table, .jp-RenderedImage { break-inside: avoid; }
  .tim-table { overflow: visible; }
  details.tim-details > summary { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""

_HEADING = re.compile(r"^\s*#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def report_title(notebook: str | Path) -> str:
    r"""The first level-1 heading of a notebook's markdown cells (its title), else its name.

    Examples
    --------
    >>> import json, tempfile
    >>> cells = [{"cell_type": "markdown", "source": ["# Match duration\n", "Text"]}]
    >>> with tempfile.NamedTemporaryFile("w", suffix=".ipynb", delete=False) as fh:
    ...     _ = fh.write(json.dumps({"cells": cells}))
    >>> report_title(fh.name)
    'Match duration'
    """
    path = Path(notebook)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        nb = {}
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        found = _HEADING.search(text)
        if found:
            # markdown emphasis and code marks are not part of the title
            return re.sub(r"[*_`]", "", found.group(1)).strip()
    return path.stem.replace("_", " ").lstrip("0123456789 ").capitalize() or path.stem


def readable_date(value: str | date | None) -> str:
    """A date as people write it: ``"30 June 2024"``; empty when unknown.

    Examples
    --------
    >>> readable_date("2024-06-30"), readable_date(None)
    ('30 June 2024', '')
    """
    if value in (None, ""):
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day.day} {day:%B %Y}"


def readable_time(value: str | datetime | None) -> str:
    """A UTC time as people write it: ``"1 December 2026, 16:45 UTC"``.

    Examples
    --------
    >>> readable_time("2026-12-01T16:45:08+00:00")
    '1 December 2026, 16:45 UTC'
    """
    if value in (None, ""):
        return ""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return f"{when.day} {when:%B %Y, %H:%M} UTC"


def _header(info: Mapping[str, Any], index_href: str) -> str:
    esc = html.escape
    facts = [
        ("Program", info.get("program", "")),
        ("For", info.get("for", "")),
        ("Data up to", readable_date(info.get("data_cutoff"))),
        ("Made", readable_time(info.get("generated_at"))),
    ]
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(str(v))}</dd></div>" for k, v in facts if v)
    return (
        '<header class="tim-page-header">'
        f'<a class="tim-home" href="{esc(index_href)}">All reports of this batch</a>'
        f"<dl>{items}</dl></header>"
    )


def _footer(info: Mapping[str, Any], manifest_href: str) -> str:
    esc = html.escape
    version = info.get("version", "")
    batch = info.get("batch_id", "")
    return (
        '<footer class="tim-page-footer">'
        f"Made with tim-research {esc(str(version))}"
        + (f", batch <code>{esc(str(batch))}</code>" if batch else "")
        + f'. <a href="{esc(manifest_href)}">Manifest</a> (data fingerprint, versions, runs). '
        "ACE scores describe groups of young people; they are not a screening tool for "
        "individuals.</footer>"
    )


def decorate(
    page: str,
    *,
    title: str,
    info: Mapping[str, Any],
    index_href: str = "../index.html",
    manifest_href: str = "../manifest.json",
) -> str:
    """A report page with the batch's header, footer, title, language and styles.

    ``info`` holds ``program``, ``for`` (whole program or the site), ``data_cutoff`` (ISO
    date), ``generated_at`` (ISO time), ``version`` and ``batch_id``; empty ones are left out.

    Examples
    --------
    >>> page = "<html><head><title>x</title></head><body><h1>Overview</h1></body></html>"
    >>> out = decorate(page, title="Overview", info={"program": "Sample", "version": "0.1"})
    >>> '<html lang="en">' in out, 'href="../index.html"' in out, "<title>Overview</title>" in out
    (True, True, True)
    """
    esc = html.escape
    if re.search(r"<html\b[^>]*\blang=", page) is None:
        page = re.sub(r"<html\b", '<html lang="en"', page, count=1)
    page, titled = re.subn(
        r"<title>.*?</title>", f"<title>{esc(title)}</title>", page, count=1, flags=re.S
    )
    head = ("" if titled else f"<title>{esc(title)}</title>") + f"<style>{STYLE}</style>"
    page = re.sub(r"</head>", lambda _: head + "</head>", page, count=1)
    header = _header(info, index_href)
    page = re.sub(r"<body\b[^>]*>", lambda m: m.group(0) + header, page, count=1)
    footer = _footer(info, manifest_href)
    cut = page.rfind("</body>")
    return page[:cut] + footer + page[cut:] if cut >= 0 else page + footer
