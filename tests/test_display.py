"""Tables for people (views.display) and the staff page around them (report.page, index, PDF)."""

from __future__ import annotations

import base64
import json
import math
import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from tim_research import plots
from tim_research.errors import TimResearchError
from tim_research.report import gate, pdf
from tim_research.report.execute import render_html
from tim_research.report.index import write_index
from tim_research.report.page import decorate, readable_date, report_title
from tim_research.views.display import (
    MISSING,
    SUPPRESSED,
    format_interval,
    format_p,
    format_percent,
    format_table,
)
from tim_research.vocabulary import column_label, technical_columns


def _prevalence() -> pd.DataFrame:
    """A prevalence table as stats.prevalence makes it: one row masked by the privacy rules."""
    return pd.DataFrame(
        {
            "category": ["0", "1", "4+"],
            "n": [551.0, 551.0, 551.0],
            "n_missing": [49.0, 49.0, 49.0],
            "count": [223.0, 120.0, np.nan],
            "estimate": [223 / 551, 120 / 551, np.nan],
            "ci_lower": [0.3637, 0.1870, np.nan],
            "ci_upper": [0.4465, 0.2521, np.nan],
            "suppressed": [False, False, True],
        }
    )


# --- cell formats --------------------------------------------------------------------------------


def test_cells_read_as_people_write_them():
    assert format_percent(0.4047) == "40 %"
    assert format_interval(0.3512, 0.4449, percent=True) == "35-44 %"
    assert format_p(0.0004) == "< 0.001" and format_p(0.012) == "0.012"
    assert format_interval(-0.202, -0.009, digits=3) == "-0.202 to -0.009"
    assert MISSING == "–"


def test_prevalence_table_has_percentages_an_interval_plain_headers_and_no_index():
    shown = format_table(_prevalence())
    main = shown.main
    assert list(main.columns) == ["Category", "Number", "Count", "Percent", "95 % interval"]
    # the shares computed here from the counts, rounded to whole percent
    assert main["Percent"].tolist()[:2] == [f"{223 / 551:.0%}".replace("%", " %"), "22 %"]
    assert main["95 % interval"].tolist()[:2] == ["36-45 %", "19-25 %"]
    assert main["Number"].tolist() == ["551"] * 3  # whole numbers without decimals
    html = shown.to_html()
    assert "<th >0</th>" not in html and "suppressed</th>" not in html.lower()
    assert "nan" not in html.lower() and "&lt;NA&gt;" not in html


def test_masked_cells_say_suppressed_and_a_footnote_explains_it():
    shown = format_table(_prevalence())
    row = shown.main.iloc[2]
    assert row["Count"] == row["Percent"] == row["95 % interval"] == SUPPRESSED
    assert row["Number"] == "551"  # the denominator is not hidden
    assert any("suppressed" in n for n in shown.notes)
    assert "Suppressed" not in shown.main.columns  # the flag column itself is not shown


def test_technical_columns_are_folded_with_the_row_labels():
    t = pd.DataFrame(
        {
            "measure": ["BRS", "CYRM-R"],
            "n": [443, 444],
            "estimate": [0.133, 1.2],
            "se": [0.049, 0.5],
            "t": [2.7, 2.4],
            "df": [440, 441],
            "p": [0.0071, 0.00001],
        }
    )
    shown = format_table(t)
    assert list(shown.main.columns) == ["Measure", "Number", "Estimate", "p-value"]
    assert shown.main["p-value"].tolist() == ["0.007", "< 0.001"]
    assert list(shown.details.columns) == [
        "Measure",
        "Standard error",
        "t statistic",
        "Degrees of freedom",
    ]
    assert "<details" in shown.to_html() and "Technical details" in shown.to_html()
    # without technical columns there is no folded part
    assert format_table(t[["measure", "n"]]).details is None


def test_a_named_index_becomes_the_first_column_and_row_numbers_are_dropped():
    t = pd.DataFrame({"estimate": [3.48, 0.2]}, index=pd.Index(["Intercept", "years"]))
    assert format_table(t).main.columns[0] == " " * 0 or format_table(t).main.iloc[0, 0] == (
        "Intercept"
    )
    numbered = pd.DataFrame({"n": [5, 6]}, index=[3, 7])  # rows left after a filter
    assert list(format_table(numbered).main.columns) == ["Number"]


def test_headers_come_from_the_one_dictionary():
    t = pd.DataFrame({"arm": ["comparison"], "mean_change": [0.2], "cohens_dz": [0.1]})
    shown = format_table(t)
    assert list(shown.main.columns) == [column_label(c) for c in t.columns]
    assert shown.main["Group"].tolist() == ["waitlist comparison"]
    assert {"se", "df", "t"} <= technical_columns()


def test_cells_and_headers_are_escaped():
    t = pd.DataFrame({"<b>x</b>": ["<script>alert(1)</script>"]})
    html = format_table(t).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html


def test_show_text_form_is_plain():
    text = str(format_table(_prevalence(), caption="ACE bands", source="baseline survey"))
    assert text.splitlines()[0] == "ACE bands" and "Source: baseline survey" in text


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(0, 1, allow_nan=False)),
            st.integers(0, 500),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_every_row_is_kept_no_raw_missing_marker_and_hidden_cells_say_so(rows):
    t = pd.DataFrame(
        {
            "estimate": [r[0] if r[0] is not None else np.nan for r in rows],
            "count": [float(r[1]) for r in rows],
            "suppressed": [r[2] for r in rows],
        }
    )
    t.loc[t["suppressed"], "estimate"] = np.nan
    shown = format_table(t, percent=["estimate"])
    assert len(shown.main) == len(t)
    html = shown.to_html()
    assert not re.search(r">\s*(nan|NaN|<NA>|None)\s*<", html)
    for k, (_, _, hidden) in enumerate(rows):
        if hidden:
            assert shown.main.iloc[k]["Percent"] == SUPPRESSED
        elif not math.isnan(t["estimate"].iloc[k]):
            assert shown.main.iloc[k]["Percent"].endswith(" %")


# --- the safety gate reads staff tables --------------------------------------------------------


def test_gate_finds_a_small_count_under_its_plain_header():
    t = pd.DataFrame({"site": ["North", "East"], "n": [120, 3]})
    html = format_table(t).to_html()
    assert gate.small_cells(html, min_cell=5)  # "Number" is a count column
    hidden = pd.DataFrame({"site": ["North", "East"], "n": [120, np.nan], "suppressed": [0, 1]})
    assert gate.small_cells(format_table(hidden).to_html(), min_cell=5) == []


def test_gate_reads_counts_with_thousands_grouped():
    t = pd.DataFrame({"youth": [12_345.0, 2.0]})
    assert format_table(t).main.iloc[0, 0] == "12,345"
    assert gate.small_cells(format_table(t).to_html(), min_cell=5)


# --- staff pages: figures, header, index -------------------------------------------------------


def _figure_output(fig: Figure) -> dict:
    png = base64.b64encode(b"\x89PNG fake").decode()
    return nbformat.v4.new_output(
        "display_data",
        data={
            "image/png": png,
            "text/plain": "<Figure>",
            plots.FIGURE_DATA_MIME: plots.figure_data_html(fig),
        },
    )


def test_staff_html_gives_every_figure_its_alt_text():
    t = pd.DataFrame({"site": ["North", "South"], "estimate": [0.6, 0.4]})
    t = t.assign(ci_lower=t["estimate"] - 0.1, ci_upper=t["estimate"] + 0.1)
    fig = plots.bar_with_ci(t, x="site", title="Shares by site")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [_figure_output(fig), nbformat.v4.new_output("display_data", {"image/png": ""})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), cell]
    html = render_html(nb)
    alts = re.findall(r'<img[^>]*alt="([^"]*)"', html)
    assert alts[0] == plots.alt_text(fig) and alts[0].startswith("Shares by site.")
    assert "No description has been provided" not in html


def test_page_has_header_footer_title_and_language():
    page = "<html><head><title>nb</title></head><body><main><h1>A</h1></main></body></html>"
    out = decorate(
        page,
        title="Match duration",
        info={
            "program": "Sample program",
            "for": "Site North",
            "data_cutoff": "2024-06-30",
            "generated_at": "2026-12-01T16:45:00+00:00",
            "version": "0.1.0",
            "batch_id": "b1",
        },
    )
    assert out.startswith('<html lang="en">')
    assert "<title>Match duration</title>" in out
    header = out[out.index("<header") : out.index("</header>")]
    assert 'href="../index.html"' in header and "Site North" in header
    assert readable_date("2024-06-30") in header and "16:45 UTC" in header
    footer = out[out.index("<footer") : out.index("</footer>")]
    assert "0.1.0" in footer and 'href="../manifest.json"' in footer
    assert "@media print" in out and "break-inside: avoid" in out


def test_report_title_is_the_notebooks_first_heading(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell("Intro\n\n# Match *duration*\n\n## Part"),
    ]
    path = tmp_path / "05_match_duration.ipynb"
    nbformat.write(nb, path)
    assert report_title(path) == "Match duration"
    (tmp_path / "06_x.ipynb").write_text("not json")
    assert report_title(tmp_path / "06_x.ipynb") == "X"


def _manifest(**run_changes) -> dict:
    def run(name, title, site=None, status="ok", error="", **extra):
        return {
            "name": name,
            "title": title,
            "site": site,
            "status": status,
            "error": error,
            "seconds": 1.0,
            "reused": False,
            **extra,
        }

    return {
        "batch_id": "20261201T164508Z-5ab9a5",
        "program": "Sample program",
        "data_cutoff": "2024-06-30",
        "generated_at": "2026-12-01T16:45:08+00:00",
        "data_dir": "sample",
        "data_fingerprint": "abc",
        "config": "reports.toml",
        "git_commit": "def",
        "versions": {"tim-research": "0.1.0"},
        "runs": [
            run("program-overview", "Program overview", **run_changes),
            run("site-report-north", "Mentoring report", site="North"),
            run(
                "meetings",
                "Meeting frequency",
                status="not run",
                error="needs meetings.csv",
            ),
            run("ace-profile", "ACE profile", status="blocked", error="safety gate: 1 value"),
        ],
    }


def test_index_lists_titles_readable_dates_and_why_runs_are_missing(tmp_path):
    write_index(tmp_path / "index.html", _manifest(pdf=True))
    page = (tmp_path / "index.html").read_text()
    assert '<a href="program-overview/report.html">Program overview</a>' in page
    assert '<a href="program-overview/report.pdf">PDF</a>' in page
    assert "site-report-north/report.pdf" not in page  # no PDF was printed for it
    assert "30 June 2024" in page and "1 December 2026, 16:45 UTC" in page
    assert "not run in this batch: needs meetings.csv" in page
    assert "<code>meetings</code>" in page  # the analyst can find a run that is not published
    assert "withdrawn by the safety gate" in page and "ace-profile/report.html" not in page
    assert '<html lang="en">' in page and "Site North" in page
    headings = [int(h) for h in re.findall(r"<h([1-6])", page)]
    assert headings[0] == 1 and all(b - a <= 1 for a, b in zip(headings, headings[1:]))


def test_index_without_pdfs_has_no_print_column(tmp_path):
    write_index(tmp_path / "index.html", _manifest())
    assert ">Print<" not in (tmp_path / "index.html").read_text()


# --- PDF ---------------------------------------------------------------------------------------


def test_missing_chromium_is_one_clear_error(monkeypatch):
    monkeypatch.delenv("TIM_CHROMIUM", raising=False)
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    with pytest.raises(TimResearchError, match="apt-get install -y chromium"):
        pdf.find_chromium()


def test_tim_report_pdf_without_chromium_exits_2_before_running(monkeypatch, tmp_path, capsys):
    from tim_research import cli

    monkeypatch.delenv("TIM_CHROMIUM", raising=False)
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    status = cli.main(
        [
            "report",
            "--pdf",
            "--config",
            "notebooks/reports.toml",
            "--data",
            "data/sample",
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "chromium" in err[0]
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was written


def test_page_count_counts_page_objects_not_the_page_tree(tmp_path):
    fake = tmp_path / "x.pdf"
    fake.write_bytes(b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>\n<< /Type /Page >>\n" * 1)
    assert pdf.page_count(fake) == 1
    assert json.dumps(pdf.CHROMIUM_FLAGS).count("--") == len(pdf.CHROMIUM_FLAGS)
