# %% [markdown]
# # Program overview: who enrolled, who was matched, and how good the data are
#
# Before asking whether mentoring helps, an evaluator needs to know what the data hold: whether
# the data package passed its checks, how many young people enrolled at each site and when,
# who they are, where their mentoring matches stood when the data were drawn, and how many of
# the scheduled surveys were completed. This notebook answers those questions with counts and
# shares only.
#
# > Every count table hides counts smaller than `min_cell` (shown as `<` followed by
# > `min_cell`), together with the cells that would let a hidden count be worked out from the totals (shown
# > as `x`). A hidden count is never shown as zero. No row describes a single young person.

# %%
from typing import Optional

from IPython.display import display

from tim_research import plots
from tim_research.views.describe import (
    data_quality,
    demographics,
    enrolment,
    key_numbers,
    match_outcomes,
    match_status,
    survey_completion,
)
from tim_research.views.notebook import needs, setup, show

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step (none here)
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column
period: str = "quarter"  # enrolment counted per month, quarter or year
early_months: int = 12  # an unplanned closure before this many months is an early closure

# %%
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
print(
    f"{len(nb.program.youth)} young people, {nb.site_label}; tables in the data: "
    f"{', '.join(nb.program.available)}; data drawn on {nb.program.cutoff:%d %B %Y}"
)

# %% [markdown]
# ## Did the data pass their checks?
#
# The loader checks the whole data package (all sites) against its own schema: required
# fields, allowed values and ranges, unique ids, links between tables (every match names an
# enrolled young person and a mentor), dates in a possible order, and columns that look like
# names or contact details. If any check fails, the set-up step above stops with a list of
# every problem: nothing is repaired or dropped silently. Fix the problems at the source and
# run the notebook again.
#
# Below, `problems` counts what failed in each table, `empty_cells` is the share of empty
# cells (surveys not completed are empty by design) and `unanswered_items` the share of
# questions skipped in completed surveys.

# %%
quality = data_quality(nb.data_dir)
show(quality.to_frame().drop(columns="description"))

# %% [markdown]
# ## The program at a glance
#
# The key numbers for the data shown (all sites, or the chosen site): each with its 95%
# confidence interval where there is one, and its denominator or caveat in the note. An early
# closure is a match that ended for an unplanned reason before `early_months` months. They
# need the matches table.

# %%
has_matches = needs(nb, "matches")
if has_matches:
    numbers = key_numbers(nb.program, early_months=early_months, min_cell=nb.min_cell)
    display(show(numbers.set_index("measure")[["result", "interval", "note"]]))

# %% [markdown]
# ## Enrolment over time
#
# Young people enrolled in each period, by site. A period with nobody enrolled is listed with a
# count of zero rather than left out.

# %%
show(enrolment(nb.program, period=period, min_cell=nb.min_cell))

# %% [markdown]
# ## Who enrolled
#
# Counts and percentages of each site's young people by gender, race/ethnicity, age band at
# enrolment and referral source. An empty answer is counted as "not stated": it is not
# guessed, and percentages include it.

# %%
show(demographics(nb.program, min_cell=nb.min_cell), digits=1)

# %% [markdown]
# ## Where matches stood at the data cut-off
#
# Each young person is counted once, by their latest match: still active, closed as planned,
# or closed unplanned (any other reason, such as a move or a mentor's time constraints). Young
# people in the waitlist comparison group were not offered a mentor during the study. The
# figure shows the same for young people who had a match, as shares with 95% confidence
# intervals. This section needs the matches table.

# %%
if needs(nb, "matches"):
    display(show(match_status(nb.program, min_cell=nb.min_cell)))

# %%
if has_matches:
    display(plots.bar_with_ci(
        match_outcomes(nb.program, min_cell=nb.min_cell),
        x="category",
        hue="site",
        title=numbers.set_index("key").loc["matches_active", "headline"],
        xlabel="Status at the data cut-off",
        ylabel="Matched young people (%, 95% CI)",
    ))

# %% [markdown]
# ## Survey completion
#
# Surveys completed, lost to follow-up and not yet due (scheduled after the cut-off) at each
# wave. `completed %` is the share completed among the surveys that were due. Missing
# follow-up surveys are handled in the outcome analyses (multiple imputation), but a low
# completion rate at one site is worth raising with its staff.

# %%
show(survey_completion(nb.program, min_cell=nb.min_cell), digits=1)

# %% [markdown]
# Mentors answer surveys of their own (see the codebook for their waves); this needs the mentors
# and mentor surveys tables:

# %%
if needs(nb, "mentors", "mentor_surveys"):
    display(show(survey_completion(nb.program, who="mentors", min_cell=nb.min_cell), digits=1))

# %% [markdown]
# ## Reading these tables
#
# - These are descriptions of the people in the data, not estimates of an effect. Sites differ
#   in who they enrol and whether they have a waitlist comparison group, so a difference
#   between sites is not evidence that one site's mentoring works better.
# - Follow-up surveys tend to be missed more often after a match has closed, so missing surveys
#   are not a random loss. The outcome notebooks account for that; the completion table shows
#   how much information each site has.
