# %% [markdown]
# # 5. Trust, boundaries and match endings
#
# > **Content note.** This session talks about relationships that end, including endings for
# > safety reasons. For young people who have been let down by adults before, an ending can feel
# > like another loss; for mentors it can bring up guilt or grief. If this touches something for
# > you, talk to your program supervisor, or contact your local crisis line if you need support
# > now. If you are worried about a young person's safety, follow your program's safeguarding
# > procedure; in an emergency, contact emergency services.
#
# **Time:** about 30 minutes. **You will learn:**
#
# - how long matches last and why duration matters for young people;
# - what "early closure" means and how it is counted fairly when many matches are still open;
# - why matches end, and what a program can do about it.
#
# The data are those in `data_dir`, by default the **sample program** that ships with
# tim-research; the first code cell says so if they are made up. Run the cells from top to
# bottom; in an exercise, replace `...` with your answer and run the cell.

# %% tags=["hide-input"]
from typing import Optional

from tim_research import plots
from tim_research.stats.competing import early_closure
from tim_research.stats.survival import closure_reasons, kaplan_meier, median_survival
from tim_research.views.notebook import setup, show
from tim_research.views.tables import match_table
from tim_research.views.teaching import check, exercise

# %% tags=["parameters", "hide-input"]
data_dir: str = "../../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column

# %% tags=["hide-input"]
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
matches = match_table(nb.program)
print(f"{len(matches)} matches, {nb.site_label}; {int(matches['closed'].sum())} had ended by "
      f"the data cut-off ({nb.program.cutoff.date()}), the others were still open.")
if nb.program.effects is not None:
    print("These are synthetic data with planted effects: they teach the methods, not facts "
          "about a real program.")

# %% [markdown]
# ## Why duration matters
#
# In a large study of Big Brothers Big Sisters matches, young people whose matches lasted a year
# or more gained the most, and those whose matches ended early showed declines on some outcomes
# (Grossman and Rhodes 2002). For a young person who has learned that adults leave, a planned,
# well-prepared ending is part of the work; an abrupt one can confirm what they feared.
#
# ## Why did matches end?
#
# Reasons recorded for the matches that had ended. A planned completion is a good ending; the
# others are **unplanned**. Reasons given by fewer than `min_cell` matches are suppressed.

# %% tags=["hide-input"]
reasons = closure_reasons(matches, cutoff=nb.program.cutoff, min_cell=nb.min_cell)
show(reasons, digits=1)

# %% tags=["hide-input"]
unplanned = reasons[reasons["reason"] != "planned completion"].dropna(subset=["n"])
top_reason = unplanned.sort_values("n", ascending=False)["reason"].iloc[0]
options = {"a": "relationship difficulty", "b": "mentor time constraints", "c": "safety concern"}
ex_5_1 = exercise(
    "5.1",
    expected=next((k for k, v in options.items() if v == top_reason), "none"),
    choices=[*options, "none"],
    hint="Leave out 'planned completion' and look for the largest count.",
    explanation=f"The most common was: {top_reason}. Reasons point to what a program can "
    "change: realistic expectations at recruitment and support during the match.",
)

# %% [markdown]
# ### Exercise 5.1
# Among **unplanned** endings, which reason was recorded most often? Answer `"a"`, `"b"`, `"c"`
# or `"none"` (none of these): a) relationship difficulty, b) mentor time constraints,
# c) safety concern.

# %%
answer_5_1 = ...
check(answer_5_1, ex_5_1)

# %% [markdown]
# ## Early closure: counting fairly
#
# "What share of matches closed early?" sounds simple, but when the data are cut off some matches
# are still open, and some of those will close early later. Dividing the early closures so far by
# all matches undercounts; leaving out the open matches overcounts. The fair method follows each
# match for as long as it has been running (this is the one definition of early closure in
# tim-research, `tim_research.stats.competing.early_closure`):
#
# - an **early closure** is an unplanned ending within N months of the match start;
# - a planned completion is a different ending, which can no longer close early;
# - an open match counts for as long as it has been followed.

# %% tags=["hide-input"]
early = early_closure(
    matches, cutoff=nb.program.cutoff, planned_reasons=("planned completion",),
    min_cell=nb.min_cell,
)
display(show(early[["months", "n", "events", "estimate", "ci_lower", "ci_upper"]], digits=3))
by_12 = early.set_index("months").loc[12, "estimate"]
print(f"By 12 months: {by_12:.0%} of matches had closed early ({nb.site_label}).")

# %% tags=["hide-input"]
ex_5_2 = exercise(
    "5.2",
    expected=by_12,
    tolerance=0.006,
    hint="Read 'estimate' in the row for 12 months.",
    explanation="Across 170 US programs, Kupersmidt et al. (2017) found an average premature "
    "closure rate of 38%; definitions differ between studies, so compare with care.",
)

# %% [markdown]
# ### Exercise 5.2
# What share of matches closed early (an unplanned ending) within 12 months? A share between 0
# and 1, two decimals.

# %%
answer_5_2 = ...
check(answer_5_2, ex_5_2)

# %% [markdown]
# ## How long do matches last?
#
# The curve shows the share of matches not (yet) ended by an unplanned closure, month by month
# (Kaplan-Meier). Where it crosses 50% is the median time to an unplanned ending.

# %% tags=["hide-input"]
still_open = kaplan_meier(matches["duration_months"], matches["unplanned_closure"])
median = median_survival(matches["duration_months"], matches["unplanned_closure"])
half = median["median"].iloc[0]
plots.survival_curves(
    still_open,
    min_cell=nb.min_cell,
    title=(f"Half of the matches had an unplanned ending by {half:.0f} months" if half == half
           else "Fewer than half of the matches had an unplanned ending"),
    xlabel="Months since the match started",
    ylabel="Matches without an unplanned ending",
)

# %% tags=["hide-input"]
ex_5_3 = exercise(
    "5.3",
    expected="a",
    choices=["a", "b", "c"],
    hint="Think about what might still happen to a match that is open today.",
    explanation="Open matches are followed for as long as they have run, not dropped and not "
    "counted as successes.",
)

# %% [markdown]
# ### Exercise 5.3
# Why not just divide the number of early closures by the number of matches? Answer `"a"`, `"b"`
# or `"c"`:
#
# a) matches that are still open may still close early, so it undercounts;
# b) it overcounts, because planned completions are included;
# c) it is fine: the two give the same answer.

# %%
answer_5_3 = ...
check(answer_5_3, ex_5_3)

# %% [markdown]
# ## Key points
#
# - Longer, well-ended matches are linked with better outcomes; abrupt endings can harm.
# - Early closure counts unplanned endings within a time window, following open matches fairly.
# - Reasons for endings point to what a program can change: recruitment, training, support and
#   planned closure rituals.
