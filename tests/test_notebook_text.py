"""Report text follows the data: markdown holds no data claims, printed statements are right.

Two kinds of test:

- A guard over the markdown cells of every notebook under ``notebooks/``: no digit and no data
  claim ("just under", "most common", "these data are synthetic", ...) outside the commented
  allow-list below. Statements about the data are printed by code cells, computed from the data.
- Every notebook of ``notebooks/reports.toml`` runs on four programs (the sample; seed 7 with
  300 youth and 3 sites; one without a comparison group; one without meetings and mentor
  surveys, and without the synthetic marker). A run whose ``needs`` the program lacks is
  checked to be planned as not run. For each run, the printed statements are compared with
  values the test computes from that program's tables with the library, and a program that
  does not say it is synthetic is never called synthetic.

The runs execute the notebooks' code cells in this process, in order, with the parameters
injected after the ``parameters`` cell as papermill does: a kernel per run would cost more than
the whole suite's budget for these tests. The committed notebooks are executed in kernels by
nbval and by ``tests/test_notebooks.py``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re

import matplotlib
import nbformat
import pytest
from conftest import REPO

from tim_research import synth
from tim_research.program import read_program
from tim_research.report.build import read_percent
from tim_research.report.config import load_config
from tim_research.views.notebook import select_site

matplotlib.use("Agg")

NOTEBOOKS = REPO / "notebooks"
CONFIG = load_config(NOTEBOOKS / "reports.toml")

# --------------------------------------------------------------------------- markdown guard

# Digits allowed in markdown, each for a stated reason. Everything else with a digit is a
# statement about the data (or a setting) and must be printed by a code cell instead.
ALLOWED_DIGITS = [
    # years in citations: "(Felitti et al. 1998)", "Ungar 2019", "Nunnally 1978"
    r"\b(19|20)\d\d[a-z]?\b",
    # confidence level of every interval the library reports (its default, a method)
    r"\b95\s?%",
    # instrument names: PCL-5, ProQOL 5, ACE-10, CYRM-R 17 items
    r"\bPCL-5\b",
    r"\bProQOL\s?5\b",
    r"\bACE-?10\b",
    r"\bace10\b",
    # ACE score band labels (the CDC-Kaiser ACE Study bands)
    r"\b4\+",
    r"\b4 or more\b",
    # a published population figure with its citation (CDC-Kaiser ACE Study, 02)
    r"\babout 1 in 8 adults\b",
    # the rule-of-thumb reliability threshold (Nunnally 1978), a method, not a result
    r"\b0\.70\b",
    # a reading guide to hazard ratios (what a ratio of 0.8 would mean), not a result
    r"\bratio of 0\.8\b",
    # the unit of the training hazard ratio the code asks for (per={"training_hours": 10})
    r"\bper 10 hours\b",
    # scale ranges from the instruments' manuals
    r"\bscored 1 to 5\b",
    r"\b17 to 85\b",
    # follow-up horizons the notebooks ask the library for (months=[3, 6, 12] in code)
    r"\b3, 6 and 12 months\b",
    # survey waves of the data contract (schema.WAVES: baseline, 6m, 12m)
    r"\b12-month\b",
    r"\b12m\b",
    r"\b6m\b",
    # a chapter reference in a citation, e.g. "48:423-443"
    r"\b\d+:\d+-\d+\b",
    # follow-up horizons of the data contract (schema.WAVES) and of early closure (months=)
    r"\b(baseline, )?(3|6) and 12 months\b",
    r"\b(3|6|12) months\b",
    r"\b(6|12)-month\b",
    # scale structure and ranges from the manuals (BRS 6 items 1-5, CYRM-R 17 items 17-85,
    # ProQOL 5 10-item subscales 10-50, STSS 17 items 17-85)
    r"\b(6|10|17) items\b",
    r"\b10-item\b",
    r"\b1-5\b",
    r"\b10-50\b",
    r"\b17-85\b",
    # published cut scores: ProQOL 5 manual bands, STSS severity bands (Bride 2007)
    r"\(22 or less\)",
    r"\(23-41\)",
    r"\(42 or more\)",
    r"\b(under 28|28-37|38-43|44-48|49 or more)\b",
    # WWC Handbook baseline-equivalence thresholds (effect sizes of 0.05 and 0.25)
    r"\b0\.05\b",
    r"\b0\.25\b",
    # Cohen's convention for a small standardised effect
    r"\b0\.2 is conventionally small\b",
    # units the code asks for (per={"training_hours": 10}, per 10 points, per 12 months)
    r"\bper (10|12) (hours|points|months)\b",
    # the name of an estimator (cluster-robust CR1, as R's sandwich::vcovCL)
    r"\bCR1\b",
    # another notebook of the batch, by its number
    r"\bnotebook 0\d\b",
    # the Goal Attainment Scaling levels and T-score from their source (Kiresuk & Sherman
    # 1968; tim_research.stats.goals): a scale fact, not a result
    r"\bfrom -2 \(much less than expected\) through 0 \(the expected outcome\) to \+2 "
    r"\(much more than expected\)",
    r"\bwhich is 50 when every goal is met at the expected level\b",
]

# Digits allowed in the markdown of the teaching notebooks only (notebooks/teaching/), each for
# a stated reason: lesson structure, instrument structure and published conventions. Applied
# before ALLOWED_DIGITS, so a pattern may include a passage that list also allows.
TEACHING_ALLOWED = [
    # the notebook's number in its title ("# 1. What an ACE score ...") and in cross-references
    r"^# [1-6]\. ",
    r"\bnotebook [1-6]\b",
    # session length in the opening cell ("**Time:** about 30 minutes")
    r"\*\*Time:\*\* about \d\d minutes\b",
    # exercise numbers ("Exercise 1.2")
    r"\bExercise [1-6]\.\d\b",
    # the answer format an exercise asks for, with a labelled example of the format
    r"\b[Aa] share between 0 and 1\b",
    r"\(for example \d(\.\d+)?\)",
    # a BRFSS variable name in backticks (`ASTHMA3`), not a figure
    r"`[A-Z]+\d*`",
    # journal volume(issue):pages in a citation, e.g. "14(4):245-258"
    r"\b\d+\(\d+\):\d+-\d+\b",
    # the ACE definition (before age 18) and instrument structure: the CDC-Kaiser ACE Study's
    # 10 categories; the BRFSS ACE module's 11 questions counted in 8 categories, scores 0 to 8
    # banded 0, 1, 2, 3 and 4 or more (tim_research/instruments/brfss_ace.toml, cdc_ace_study)
    r"\b(first 18 years|age 18)\b",
    r"\b(8|10) categories\b",
    r"\b11 questions\b",
    r"\b0 to 8\b",
    r"\b0, 1, 2, 3 and 4 or more\b",
    # BRS answer codes and reverse keying from its manual (brs.toml, agree5: 6 - answer), and
    # the answer code of the invented case in exercise 2.1
    r"\bfrom 1 \(strongly disagree\) to 5 \(strongly agree\)",
    r"\b5 becomes 1, 4 becomes 2\b",
    r"\*\*4 \(agree\)\*\*",
    # the range of a statistic, a reading guide: a correlation, Cronbach's alpha
    r"\(from -1, opposite, to \+1, together\)",
    r"\balpha \(0 to 1\)",
    # Cohen's conventions and the typical mentoring effect, with their citations
    r"\b0\.2 is small, 0\.5 medium and 0\.8 large \(Cohen 1988\)",
    r"\babout 0\.2 is a typical program effect \(DuBois et al\. 2002; Raposa et al\. 2019\)",
    # ProQOL 5 structure from its manual (Stamm 2010; proqol5.toml, frequency5): questions,
    # recall period, answer codes, items per scale, range of a scale's sum
    r"\b30 questions\b",
    r"\bthe last 30 days\b",
    r"\bfrom 1 \(never\) to 5 \(very often\)",
    r"\(1 = never, 2 = rarely, 3 = sometimes, 4 = often, 5 = very often\)",
    r"\b10 per scale\b",
    r"\b10 to 50\b",
    # the input format of the private self-check, as example code
    r"`my_answers = \{1: 4, 2: 2, 3: 5, \.\.\.\}`",
    # the definition of a median survival time (where the curve crosses half)
    r"\bcrosses 50%",
    # the Goal Attainment Scaling T-score formula as tim_research.stats.goals states it
    # (Kiresuk & Sherman 1968), a method shown in notebook 6, not a result
    re.escape(
        r"$$T = 50 + \frac{10 \sum_i w_i x_i}{\sqrt{(1 - \rho) \sum_i w_i^2 + \rho "
        r"\left(\sum_i w_i\right)^2}}$$"
    ),
]

# Words that state something about the data. A heading that asks a question ("Which experiences
# were most common?") states nothing and is exempt.
CLAIMS = [
    r"\bjust (under|over|below|above)\b",
    r"\b(nearly|almost|about|around|roughly|over|under) (half|a third|a quarter|one in|two in)\b",
    r"\bmost common\b",
    r"\bthe (majority|minority)\b",
    r"\bmost (mentors|young people|youth|matches|sites)\b",
    r"\b(higher|lower|larger|smaller) than (in )?(the )?(sample|other sites?)\b",
    r"\bsynthetic\b",
    r"\bthese data (are|show|have)\b",
    r"\bincludes? zero\b",
    r"\b(well|far) (above|below)\b",
]


def _markdown_cells(path):
    nb = nbformat.read(str(path), as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "markdown"]


def _offences(text: str, allowed: list[str] = (), *, teaching: bool = False) -> list[str]:
    """Digits and claims in a markdown text, a sentence that runs over lines included.

    ``teaching`` adds TEACHING_ALLOWED, for the notebooks under ``notebooks/teaching/``.
    """
    # a question as a heading states nothing; quote marks and line breaks are layout
    lines = [ln for ln in text.splitlines() if not re.match(r"\s*#+ .*\?\s*$", ln)]
    flat = " ".join(re.sub(r"^\s*>\s?", "", ln).strip() for ln in lines)
    for passage in allowed:
        flat = flat.replace(passage, " ")
    found = [f"claim {m.group(0)!r}" for p in CLAIMS for m in re.finditer(p, flat, re.I)]
    for pattern in [*(TEACHING_ALLOWED if teaching else ()), *ALLOWED_DIGITS]:
        flat = re.sub(pattern, " ", flat)
    found += [f"digit in {m.group(0)!r}" for m in re.finditer(r"\S*\d\S*", flat)]
    return found


MARKDOWN_NOTEBOOKS = sorted(NOTEBOOKS.rglob("*.ipynb"))


def _is_teaching(path) -> bool:
    return (NOTEBOOKS / "teaching") in path.parents


def test_the_guard_covers_every_notebook():
    assert {p.name for p in MARKDOWN_NOTEBOOKS} >= {r.notebook.name for r in CONFIG.runs}


@pytest.mark.parametrize("path", MARKDOWN_NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_holds_no_digits_or_data_claims(path):
    bad = [
        f"{', '.join(found)} in: {text[:60]!r}..."
        for text in _markdown_cells(path)
        if (found := _offences(text, teaching=_is_teaching(path)))
    ]
    assert not bad, (
        "statements about the data belong in code cells (printed from the data); methods with "
        "numbers go in the commented allow-list of this file:\n" + "\n".join(bad)
    )


@pytest.mark.parametrize(
    ("line", "caught"),
    [
        ('One STSS arousal item ("jumpy") has a corrected item-total correlation just under', True),
        ("with about 360 mentors", True),
        ("These data are synthetic: the generator decides", True),
        ("The BRS (0.82) falls inside the range its authors reported (0.80-0.91)", True),
        ("## Which experiences were most common?", False),
        ("Ranges are 95% confidence intervals (Felitti et al. 1998).", False),
        ("The report uses the Brief Resilience Scale (BRS, scored 1 to 5)", False),
    ],
)
def test_the_guard_catches_the_statements_of_issue_12(line, caught):
    assert bool(_offences(line)) is caught


@pytest.mark.parametrize(
    ("line", "in_teaching", "in_reports"),
    [
        ("# 1. What an ACE score can and cannot tell you", False, True),
        (
            "### Exercise 2.3\nWhat is alpha? Give a share between 0 and 1 (for example 0.25).",
            False,
            True,
        ),
        ("answered from 1 (strongly disagree) to 5 (strongly agree)", False, True),
        # statements about the data stay caught in a teaching notebook
        ("In these data 27% of adults reported none of the 8 categories.", True, True),
        ("Exercise 1.1: the answer is 0.27", True, True),
        ("Most mentors were in the moderate burnout band.", True, True),
        ("The mean change was 0.2 points, small by Cohen", True, True),
    ],
)
def test_the_teaching_list_applies_to_teaching_notebooks_only(line, in_teaching, in_reports):
    assert bool(_offences(line, teaching=True)) is in_teaching
    assert bool(_offences(line)) is in_reports


def test_teaching_notebooks_are_told_apart():
    assert _is_teaching(NOTEBOOKS / "teaching" / "01_ace_scores.ipynb")
    assert not _is_teaching(NOTEBOOKS / "01_program_overview.ipynb")


# --------------------------------------------------------------------------- four programs

PROGRAMS = {
    # the sample the repository ships (synthetic, marked as such)
    "sample": None,
    "seed7-300-3sites": {"seed": 7, "n_youth": 300, "sites": ("North", "South", "East")},
    "no-comparison": {"seed": 11, "n_youth": 300, "comparison_sites": ()},
    "no-meetings-no-mentor-surveys": {
        "seed": 5,
        "n_youth": 300,
        "tables": ("mentors", "matches"),
        "unmarked": True,  # written without the synthetic marker, as a real program's would be
    },
}


# the sample's own run is checked by nbval; here every notebook runs on it for one site with
# a larger min_cell and another seed, as a program director's site batch would
PARAMETERS = {"sample": {"site": "South", "min_cell": 10, "seed": 7}}


def _where(params) -> str:
    return "all sites" if params["site"] is None else f"site {params['site']}"


class _Programs:
    """Program folders written on first use (a module runs only its share of the programs)."""

    def __init__(self, tmp_path_factory) -> None:
        self._factory = tmp_path_factory
        self._folders: dict = {}

    def __getitem__(self, name: str):
        if name not in self._folders:
            self._folders[name] = self._write(name)
        return self._folders[name]

    def _write(self, name: str):
        options = PROGRAMS[name]
        if options is None:
            return REPO / "data" / "sample"
        folder = self._factory.mktemp(name)
        options = dict(options)
        if options.pop("unmarked", False):
            from tim_research.program import write_program

            keep = options.pop("tables")
            full = synth.program(**options)
            program = type(full)(
                **{t: df for t, df in full.tables().items() if t in {"youth", "surveys", *keep}},
                cutoff=full.cutoff,
            )
            write_program(program, folder, name="a-program", title="A mentoring program")
        else:
            synth.write_sample(folder, **options)
        return folder


@pytest.fixture(scope="module")
def program_dirs(tmp_path_factory):
    return _Programs(tmp_path_factory)


def run_notebook(path, parameters) -> str:
    """Execute the code cells of a notebook here, parameters injected; return what it printed."""
    # the text source the .ipynb is built from (tests/test_notebooks.py: they are equal)
    cells = read_percent((NOTEBOOKS / "src" / f"{path.stem}.py").read_text(encoding="utf-8"))
    namespace: dict = {"__name__": "__main__"}
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(NOTEBOOKS)  # papermill runs in the notebooks folder (reports.toml: cwd)
    try:
        with contextlib.redirect_stdout(printed):
            for cell in cells:
                if cell["cell_type"] != "code":
                    continue
                exec(compile(cell["source"], f"{path.name}", "exec"), namespace)
                if "parameters" in cell["tags"]:
                    namespace.update(parameters)
    finally:
        os.chdir(cwd)
        import matplotlib.pyplot as plt

        plt.close("all")
    return printed.getvalue()


def cases(programs) -> list[tuple[str, str]]:
    """(program, run) pairs; the programs are shared between this module and
    tests/test_notebook_programs.py so that the suite's workers split the runs."""
    return [(p, r.name) for p in programs for r in CONFIG.runs]


CASES = cases(["sample", "seed7-300-3sites"])


@pytest.mark.slow
@pytest.mark.parametrize(("program", "run"), CASES, ids=[f"{p}-{r}" for p, r in CASES])
def test_printed_statements_follow_the_data(program_dirs, program, run):
    check_run(program_dirs, program, run)


def check_run(program_dirs, program: str, run: str) -> None:
    """Run one notebook on one program here and check its printed statements."""
    folder = program_dirs[program]
    data = read_program(folder)
    template = next(t for t in CONFIG.runs if t.name == run)
    missing = [t for t in template.needs if not data.has(t)]
    if missing:
        # what tim report does with it: the batch lists it as not run (tests/test_report_runs)
        assert program == "no-meetings-no-mentor-surveys", missing
        return
    site = data.sites[0] if template.scope == "each_site" else None
    params = {**CONFIG.parameters, **template.parameters, "data_dir": str(folder), "site": site}
    params.update(PARAMETERS.get(program, {}))
    text = run_notebook(template.notebook, params)
    if params["site"] is not None:
        data = select_site(data, params["site"])
    if data.effects is None:
        assert "synthetic" not in text.lower()
    check = CHECKS.get(template.notebook.stem[:2])
    assert check is not None, f"no check of the printed statements of {template.notebook.name}"
    check(data, text, params)


# --------------------------------------------------------------------------- per notebook


def _check_01(data, text, params):
    assert f"{len(data.youth)} young people, {_where(params)}" in text
    assert f"tables in the data: {', '.join(data.available)}" in text
    for tables in (("matches",), ("mentors", "mentor_surveys")):
        gone = [t for t in tables if not data.has(t)]
        line = f"needs {' and '.join(t + '.csv' for t in gone)}, which these data do not have"
        assert (line in text) is bool(gone)


def _check_02(data, text, params):
    from tim_research.stats.prevalence import distribution
    from tim_research.views.tables import youth_scores

    baseline = youth_scores(data, instruments=()).xs("baseline", level="wave")
    bands = distribution(baseline, "ace10_score_category", min_cell=params["min_cell"])
    share = bands["estimate"].iloc[-1]
    assert f"{share:.0%} of young people reported 4 or more ACE categories" in text
    assert f"{len(baseline)} young people with a baseline survey" in text


def _check_03(data, text, params):
    import pandas as pd

    from tim_research.stats.measurement import instrument_item_statistics, reliability_table
    from tim_research.views.tables import item_responses

    youth = item_responses(data, ["brs", "cyrm_r"], wave="baseline")
    brs = reliability_table(youth, ["brs"]).iloc[0]
    assert f"{brs['label']}: alpha {brs['alpha']:.2f}" in text
    frames = [instrument_item_statistics(youth, i, low_r_drop=0.3) for i in ("brs", "cyrm_r")]
    if data.has("mentor_surveys"):
        mentors = item_responses(data, ["proqol5", "stss"], wave="baseline")
        frames += [
            instrument_item_statistics(mentors, i, low_r_drop=0.3) for i in ("proqol5", "stss")
        ]
    else:
        assert "needs mentor_surveys.csv" in text
    items = pd.concat(frames)
    low = items[items["low_r_drop"]]
    line = next(ln for ln in text.splitlines() if ln.startswith("Items with r_drop below"))
    for label, r in zip(low["label"], low["r_drop"], strict=True):
        assert f"{label} (r_drop {r:.2f})" in line
    assert line.endswith("none") is low.empty


def _check_05(data, text, params):
    from tim_research.stats.competing import early_closure
    from tim_research.views.tables import match_table

    matches = match_table(data)
    assert f"{len(matches)} matches, {_where(params)}" in text
    early = early_closure(
        matches,
        cutoff=data.cutoff,
        planned_reasons=("planned completion",),
        min_cell=params["min_cell"],
    )
    assert f"{early['estimate'].iloc[-1]:.0%} of matches closed early by" in text
    if data.effects is not None:
        assert f"{data.effects.early_closure_12m:.0%} of matches closed early by 12" in text


def _check_07(data, text, params):
    from tim_research.views.describe import key_numbers

    site = select_site(data, params["site"])
    numbers = key_numbers(site, min_cell=params["min_cell"]).set_index("key")
    for headline in numbers["headline"]:
        assert headline in text
    has_comparison = bool(site.youth["comparison"].any())
    assert ("no waitlist comparison group here" in text) is not has_comparison


def _check_04(data, text, params):
    from tim_research.stats.evaluation import itt_effect
    from tim_research.views.tables import wide_scores, youth_contact, youth_scores

    scores = youth_scores(data, ace_cutoffs=params.get("ace_bands", "cdc_2019"))
    wide = wide_scores(scores, values=["brs_score", "cyrm_r_score"])
    youth = youth_contact(data, months=12).join(wide.drop(columns=["site", "arm"]))
    arms = youth.groupby("site", observed=True)["arm"].nunique()
    if not (arms == 2).any():
        assert "sites with both arms: none" in text
        return
    primary = itt_effect(youth, "brs_score_12m", baseline="brs_score_baseline")
    assert (
        f"mentored minus comparison {primary.estimate:+.3f} points "
        f"(95% CI {primary.ci_lower:.3f} to {primary.ci_upper:.3f}, p = {primary.p:.3f}, "
        f"n = {primary.n})"
    ) in text


def _check_06(data, text, params):
    from tim_research.stats.associations import linear_regression
    from tim_research.views.tables import mentor_change

    change = mentor_change(data)
    fit = linear_regression(
        change,
        "stss_score_12m ~ stss_score_baseline + caseload + supervision_step"
        " + I(training_hours / 10)",
    )
    c = fit.coefficients.loc["caseload"]
    assert (
        f"STSS change per extra young person: {c['estimate']:+.2f} points "
        f"({c['ci_lower']:+.2f} to {c['ci_upper']:+.2f}), n = {fit.n}"
    ) in text


def _check_08(data, text, params):
    from tim_research.stats.associations import linear_regression
    from tim_research.views.tables import goal_scores, relationship_scores

    goals = goal_scores(data).sort_values("review_date")
    latest = goals.groupby("youth_id", sort=False).tail(1).dropna(subset=["t_score"])
    fit = linear_regression(latest, "t_score ~ I(matched_months / 12)")
    c = fit.coefficients.loc["matched_months / 12"]
    assert (
        f"GAS T-score per 12 months matched: {c['estimate']:+.2f} points "
        f"(95% CI {c['ci_lower']:+.2f} to {c['ci_upper']:+.2f}), n = {fit.n}"
    ) in text
    rel = relationship_scores(data).reset_index()
    early = rel[(rel["reporter"] == "youth") & (rel["wave"] == "3m")]["ysor_score"].dropna()
    if len(early) >= params["min_cell"]:
        line = f"Youth: YSoR (1-5), 3 months: mean {early.mean():.2f}"
        assert line in text
    assert ("Synthetic data: planted" in text) is (data.effects is not None)


CHECKS = {
    "01": _check_01,
    "02": _check_02,
    "03": _check_03,
    "05": _check_05,
    "07": _check_07,
    "04": _check_04,
    "06": _check_06,
    "08": _check_08,
}
