# %% [markdown]
# # Mentoring report for program staff
#
# This short report is for the staff of one site (or of the whole program). It answers five
# questions: how many young people the site serves, how long mentoring matches last, how many
# end early and why, whether young people's resilience is changing, and how much adversity
# they brought with them. It is produced from the program's data on a schedule, so the
# numbers always describe the data at their cut-off date.
#
# All numbers describe groups of young people. Counts smaller than the program's minimum
# group size are hidden (shown as "<" followed by that size, or as "hidden"), and so are
# numbers that would let a hidden count be worked out. Ranges are 95% confidence intervals: the
# true figure for this group of young people is very likely to lie inside them, and a narrow
# range means a precise figure.

# %%
from typing import Optional

from IPython.display import Markdown

from tim_research import plots
from tim_research.instruments import load_instrument
from tim_research.views.describe import early_closure, key_numbers, most_common
from tim_research.stats.survival import kaplan_meier
from tim_research.views.notebook import setup, show
from tim_research.stats.outcomes import group_means
from tim_research.stats.prevalence import distribution
from tim_research.views.tables import match_table, youth_scores

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step (none here)
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column
early_months: int = 12  # an unplanned closure before this many months is an early closure
outcome: str = "brs"  # resilience questionnaire reported: brs or cyrm_r
followup: str = "12m"  # survey wave compared with the baseline survey

# %%
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
Markdown(f"**Report for {nb.site_label}**, data drawn on {nb.program.cutoff:%d %B %Y}.")

# %% [markdown]
# ## Key numbers
#
# "Early closure" means a match that ended for an unplanned reason (a move, a mentor's time
# constraints, a difficult relationship, a safety concern) before the number of months given.
# The change in resilience compares the first survey with the follow-up survey for young people
# who answered both.

# %%
numbers = key_numbers(
    nb.program,
    early_months=early_months,
    outcome=outcome,
    followup=followup,
    min_cell=nb.min_cell,
)
headline = numbers.set_index("key")["headline"]
print("\n".join(headline))
show(numbers.set_index("measure")[["result", "interval", "note"]])

# %% [markdown]
# ## How long do matches last?
#
# The line shows the share of matches still going at each point after they started. Matches
# still open at the cut-off count for as long as they have run so far. A steep drop at the
# planned length of the matches is expected; drops before that are matches ending sooner than
# planned. The shaded band is the 95% confidence interval.

# %%
matches = match_table(nb.program)
survival = kaplan_meier(matches["duration_months"], matches["closed"])
plots.survival_curves(
    survival,
    min_cell=nb.min_cell,  # every step is a match's length: no curve for a few matches
    title=headline["median_match_months"],
    xlabel="Months since the match started",
    ylabel="Matches still open (share)",
)

# %% [markdown]
# ## How many matches end early?
#
# The share of matches that ended for an unplanned reason by 3, 6 and 12 months after they
# started (the months asked for in the code below), counting planned completions as a different ending and allowing for matches still
# open. Early endings matter because a relationship that ends abruptly can repeat a loss for a
# young person who has already lived through several.

# %%
early = early_closure(nb.program, months=[3, 6, 12], min_cell=nb.min_cell)
plots.bar_with_ci(
    early,
    x="months",
    title=headline["early_closure"],
    xlabel="Months since the match started",
    ylabel="Matches closed early (%, 95% CI)",
)

# %% [markdown]
# ## Why do matches close?
#
# Reasons recorded for the matches that have closed, as a share of all closed matches.
# "Planned completion" is the good ending: the match ran its agreed course.

# %%
reasons = distribution(
    matches[matches["closed"]], "closure_reason", min_cell=nb.min_cell
).sort_values("estimate", ascending=False)
# named from the shown cells only: a hidden reason is never the headline
common = most_common(
    reasons, title="Most common reason for closing", none="too few closures to report reasons"
)
print(common)
plots.point_range(
    reasons,
    label="category",
    percent=True,
    min_cell=nb.min_cell,
    unit="closed matches",
    title=common,
    xlabel="Closed matches (%, 95% CI)",
)

# %% [markdown]
# ## Is young people's resilience changing?
#
# Average resilience score at each survey for young people with a mentor and, where the site
# has one, for the waitlist comparison group. The report uses the Brief Resilience Scale (BRS,
# scored 1 to 5) unless the Child and Youth Resilience Measure (CYRM-R, 17 to 85) was chosen;
# on both, higher means young people feel better able to cope with hard times. Each average uses
# everyone who answered that survey, so the groups behind the points differ a little. For the
# whole program, comparison youth come only from sites with a waitlist.
#
# A rise among mentored young people is encouraging, but on its own it does not show that
# mentoring caused it: young people change as they grow, and those who stay in the program and
# answer every survey may differ from those who do not. The program's outcome analysis
# compares mentored and comparison youth more carefully.

# %%
scores = youth_scores(nb.program, instruments=(outcome,))
means = group_means(scores, value=f"{outcome}_score", by=["arm", "months"], min_cell=nb.min_cell)
arms = scores["arm"].dropna().astype(str).unique().tolist()
print(f"Groups in these data: {', '.join(sorted(arms))}"
      + ("" if nb.program.youth["comparison"].any() else " (no waitlist comparison group here)"))
instrument = load_instrument(outcome)
scale_range = instrument.scale_range(
    next(s for s in instrument.scales if instrument.scale_column(s) == f"{outcome}_score")
)
plots.trajectories(
    means,
    x="months",
    group="arm",
    min_cell=nb.min_cell,
    title=headline["change_mentored"],
    xlabel="Months since enrolment",
    ylabel=f"Mean {outcome.upper().replace('_', '-')} score (95% CI)",
    scale=scale_range,  # the whole scale, so a small change does not look steep
)

# %% [markdown]
# ## Adversity young people brought with them
#
# The number of categories of adverse childhood experiences (ACEs) young people reported when
# they joined, out of the ten ACE categories (abuse, neglect and household challenges).
#
# > **The ACE score is a population measure, not a screening tool.** It helps the site plan
# > (for example, how much trauma-informed training and supervision mentors need). It says
# > nothing certain about any one young person and must not be used to label, select or
# > prioritise anyone.

# %%
baseline = scores.xs("baseline", level="wave")
bands = distribution(baseline, "ace10_score_category", min_cell=nb.min_cell)
plots.bar_with_ci(
    bands,
    x="category",
    min_cell=nb.min_cell,  # no bar, and no 0 % beside a hidden band, for a small group
    title=headline["ace_4_or_more"],
    xlabel="ACE categories reported",
    ylabel="Young people (%, 95% CI)",
)

# %% [markdown]
# ## What these numbers can and cannot tell you
#
# - They describe the young people and matches in the data up to the cut-off date. Matches
#   still open may yet end early or run their full course.
# - Differences between sites, or between this report and an earlier one, can come from who was
#   enrolled rather than from how mentoring was done. Small groups give wide ranges: compare
#   the confidence intervals, not only the central numbers.
# - Changes in scores over time are not proof that mentoring caused them.
# - No table or figure here identifies an individual young person or mentor.
