# %% [markdown]
# # 3. Is the program working?
#
# **Time:** about 35 minutes. **You will learn:**
#
# - why "scores went up" is not enough, and what a comparison group adds;
# - regression to the mean: why the lowest scorers tend to improve even without help;
# - effect sizes: how big a change is, beyond "statistically significant";
# - reliable change: when one young person's change is more than measurement noise.
#
# The data are those in `data_dir`, by default the **sample program** that ships with
# tim-research; the first code cell says so if they are made up, and how many young people
# joined a mentoring match and how many waited in a comparison group. Resilience is measured
# with the Brief Resilience Scale (BRS, 1-5) when they joined and 12 months later. Run the
# cells from top to bottom; in an exercise, replace `...` with your answer and run the cell.

# %% tags=["hide-input"]
from typing import Optional

import pandas as pd

from tim_research import plots
from tim_research.stats.outcomes import (
    change_criterion,
    change_table,
    compare_table,
    group_means,
    reliable_change,
)
from tim_research.stats.prevalence import distribution
from tim_research.views.notebook import setup, show
from tim_research.views.tables import baseline_items, wide_scores, youth_scores
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
wide = wide_scores(youth_scores(nb.program), values=["brs_score"])
print(f"{len(wide)} young people, {nb.site_label}:")
print(wide["arm"].value_counts().to_string())
if nb.program.effects is not None:
    print("These are synthetic data with a planted program effect: they teach the methods, "
          "not facts about a real program.")

# %% [markdown]
# ## Step 1: did scores change?
#
# For each young person with both surveys, the change is the 12-month score minus the baseline
# score. The table gives the mean change in each group, its 95% confidence interval, and an
# effect size, Cohen's d<sub>z</sub>: the mean change divided by how much changes vary between
# young people. As a rough guide, 0.2 is small, 0.5 medium and 0.8 large (Cohen 1988), but in
# youth mentoring about 0.2 is a typical program effect (DuBois et al. 2002; Raposa et al. 2019).

# %% tags=["hide-input"]
changes = change_table(
    wide,
    pairs={"BRS 0-12 months": ("brs_score_baseline", "brs_score_12m")},
    by="arm",
    min_cell=nb.min_cell,
).set_index("arm")
show(changes[["n", "mean_change", "ci_lower", "ci_upper", "p", "cohens_dz"]], digits=3)

# %% tags=["hide-input"]
ex_3_1 = exercise(
    "3.1",
    expected=changes.loc["mentored", "mean_change"],
    tolerance=0.006,
    hint="Read 'mean_change' in the row 'mentored'.",
    explanation="On its own this change could come from time, growing up or the survey itself: "
    "step 2 compares it with the comparison group.",
)

# %% [markdown]
# ### Exercise 3.1
# By how many BRS points did mentored young people change on average between joining and 12
# months? Two decimals (a fall is negative).

# %%
answer_3_1 = ...
check(answer_3_1, ex_3_1)

# %% [markdown]
# ## Step 2: compared with what?
#
# Young people change anyway. The comparison group shows how much change happens **without** a
# match. The difference between the groups' mean changes is a first estimate of what the
# program added.

# %% tags=["hide-input"]
difference = changes.loc["mentored", "mean_change"] - changes.loc["comparison", "mean_change"]
print(f"Mean change: mentored {changes.loc['mentored', 'mean_change']:+.2f}, comparison "
      f"{changes.loc['comparison', 'mean_change']:+.2f}; difference {difference:+.2f} BRS points.")

# %% tags=["hide-input"]
ex_3_2 = exercise(
    "3.2",
    expected=round(float(difference), 2),
    tolerance=0.011,
    hint="Subtract the comparison group's mean change from the mentored group's.",
    explanation="Unless the groups were assigned at random, also check whether they started "
    "from the same place: the next steps do.",
)

# %% [markdown]
# ### Exercise 3.2
# What is the mentored group's mean change minus the comparison group's? Two decimals.

# %%
answer_3_2 = ...
check(answer_3_2, ex_3_2)

# %% [markdown]
# ## Regression to the mean
#
# Anyone measured on a bad day scores lower than usual, and next time is likely to score nearer
# their usual level. So the young people with the **lowest** baseline scores tend to "improve"
# even with no help at all, and those with the highest tend to fall back. This is regression to
# the mean. A program that enrols young people **because** they scored low will look better than
# it is, unless it is compared with a group chosen the same way.
#
# The table splits the **comparison** group (no mentor) into thirds by baseline score and gives
# the mean change in each third.

# %% tags=["hide-input"]
comparison = wide[wide["arm"] == "comparison"].dropna(
    subset=["brs_score_baseline", "brs_score_12m"]
).copy()
comparison["baseline_third"] = pd.qcut(
    comparison["brs_score_baseline"].rank(method="first"), 3, labels=["lowest", "middle", "highest"]
)
comparison["change"] = comparison["brs_score_12m"] - comparison["brs_score_baseline"]
thirds = group_means(comparison, value="change", by="baseline_third", min_cell=nb.min_cell)
display(show(thirds, digits=3))
low, high = thirds.set_index("baseline_third")["mean"].loc[["lowest", "highest"]]
print(f"Without a mentor, the lowest third changed by {low:+.2f} and the highest third by "
      f"{high:+.2f} points on average.")

# %% [markdown]
# A fairer comparison therefore adjusts for where each young person started. The analysis of
# covariance (ANCOVA) below compares 12-month scores of young people with the same baseline
# score; `hedges_g` is its effect size in standard deviations.

# %% tags=["hide-input"]
adjusted = compare_table(
    wide,
    outcomes={"BRS": ("brs_score_baseline", "brs_score_12m")},
    group="arm",
    reference="comparison",
    min_cell=nb.min_cell,
)
show(adjusted[["measure", "group", "versus", "n", "estimate", "ci_lower", "ci_upper", "p",
               "hedges_g"]], digits=3)

# %% tags=["hide-input"]
ex_3_3 = exercise(
    "3.3",
    expected="c",
    choices=["a", "b", "c"],
    hint="Think about who would improve even without a mentor.",
    explanation="A comparison group chosen the same way, and adjusting for the starting score, "
    "guard against it.",
)

# %% [markdown]
# ### Exercise 3.3
# A program enrols only young people with low resilience scores and reports that their scores
# rose a year later. Which is the best reading? Answer `"a"`, `"b"` or `"c"`:
#
# a) the program works: scores rose;
# b) the program does not work: the rise must be chance;
# c) part or all of the rise may be regression to the mean: we need a comparison group.

# %%
answer_3_3 = ...
check(answer_3_3, ex_3_3)

# %% [markdown]
# ## Reliable change: one young person at a time
#
# Every score has some measurement error, so a small change for one young person may be noise.
# The Reliable Change Index (Jacobson and Truax 1991) compares each change with the change that
# measurement error alone could produce (using the scale's spread and reliability in these
# data). Only changes beyond it count as "reliably improved" or "reliably worse". The table shows
# the share in each category, by group.

# %% tags=["hide-input"]
criterion = change_criterion(baseline_items(nb.program, "brs"), instrument="brs")
print(f"A change counts as reliable when it exceeds {criterion.critical_change:.2f} BRS points.")
reliable = reliable_change(
    wide["brs_score_baseline"],
    wide["brs_score_12m"],
    sd=criterion.sd,
    reliability=criterion.reliability,
)
categories = distribution(reliable.join(wide["arm"]), "category", by="arm", min_cell=nb.min_cell)
display(show(categories[["arm", "category", "n", "count", "estimate"]]))
plots.bar_with_ci(
    categories,
    x="category",
    hue="arm",
    min_cell=nb.min_cell,
    title="Reliable change in BRS, joining to 12 months",
    xlabel="",
    ylabel="Young people (%)",
)

# %% tags=["hide-input"]
better = categories.set_index(["arm", "category"])["estimate"]
ex_3_4 = exercise(
    "3.4",
    expected=better.loc[("mentored", "reliably improved")],
    tolerance=0.006,
    hint="Find the row for the mentored group and the category 'reliably improved'.",
    explanation=f"{better.loc[('mentored', 'no reliable change')]:.0%} of mentored young "
    "people showed no reliable change: group comparisons, not individual scores, show whether "
    "a program works.",
)

# %% [markdown]
# ### Exercise 3.4
# What share of mentored young people reliably improved on the BRS? Give a share between 0 and
# 1 with two decimals.

# %%
answer_3_4 = ...
check(answer_3_4, ex_3_4)

# %% [markdown]
# ## Key points
#
# - A change over time is not an effect: compare with a group that did not get the program.
# - Low scorers drift up on their own (regression to the mean); adjust for the starting score.
# - Report effect sizes with confidence intervals, not only p-values.
# - Reliable change separates real change from noise for one person, but program decisions
#   rest on groups.
