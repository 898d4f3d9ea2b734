# %% [markdown]
# # ACE profile of the young people in the program
#
# How much childhood adversity do the young people we serve report when they join, and how does
# that differ between sites and groups? This notebook describes the baseline Adverse Childhood
# Experiences (ACE) questionnaire (the categories of the CDC-Kaiser ACE Study).
#
# > **The ACE score is a population research measure, not a screening tool.** It describes
# > cumulative adversity across groups of young people. It must not be used to label, triage or
# > decide services for an individual young person. Tables here are counts and shares of groups;
# > groups smaller than `min_cell` are suppressed.

# %%
from typing import Optional

from tim_research import load_instrument, plots
from tim_research.views.describe import most_common
from tim_research.views.notebook import setup, show
from tim_research.stats.prevalence import distribution, indicators
from tim_research.views.tables import baseline_items, youth_scores

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column
ace_bands: str = "cdc_ace_study"  # ACE score bands: cdc_ace_study (0,1,2,3,4+) or cdc_2019 (0,1,2-3,4+)

# %%
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
baseline = youth_scores(nb.program, instruments=(), ace_cutoffs=ace_bands).xs("baseline", level="wave")
ace = load_instrument("ace10")
print(f"{len(baseline)} young people with a baseline survey, {nb.site_label}")

# %% [markdown]
# ## How many ACE categories did young people report?
#
# The ACE score counts the categories a young person reported (from none to all of them). A
# score is missing when any category was left unanswered: a count with gaps would understate
# adversity. Shares are of those with a complete score, with 95% Wilson confidence intervals.

# %%
bands = distribution(baseline, "ace10_score_category", min_cell=nb.min_cell)
show(bands)

# %%
four_plus = bands.set_index("category")["estimate"].iloc[-1]
# a hidden share (NaN) is said to be hidden, never printed
four_plus_text = (
    f"{four_plus:.0%} of young people reported 4 or more ACE categories"
    if four_plus == four_plus
    else "Young people reporting 4 or more ACE categories: too few to report"
)
print(four_plus_text)
plots.bar_with_ci(
    bands,
    x="category",
    min_cell=nb.min_cell,  # no bar, and no 0 % beside a hidden band, for a small group
    title=four_plus_text,
    xlabel="ACE score (categories reported)",
    ylabel="Young people (%)",
)

# %% [markdown]
# ## Which experiences were most common?
#
# Share of young people reporting each category, among those who answered that question.

# %%
items = baseline_items(nb.program, "ace10")
item_table = indicators(
    items,
    list(ace.item_ids),
    labels={i.id: i.label for i in ace.items},
    min_cell=nb.min_cell,
).sort_values("estimate", ascending=False)
show(item_table[["label", "n", "events", "estimate", "ci_lower", "ci_upper", "suppressed"]])

# %%
# named from the shown shares only: a hidden share is never the headline
common = most_common(
    item_table, title="Most common", none="too few answers to compare", label="label",
    value="estimate",
)
print(common)
plots.point_range(
    item_table,
    label="label",
    percent=True,
    min_cell=nb.min_cell,
    title=common,
    xlabel="Young people reporting it (%, 95% CI)",
)

# %% [markdown]
# ## Differences between sites and groups
#
# The same score bands by site and by gender. Differences between small groups are uncertain:
# compare the confidence intervals, not only the bars.

# %%
by_site = distribution(baseline, "ace10_score_category", by="site", min_cell=nb.min_cell)
plots.bar_with_ci(
    by_site,
    x="category",
    hue="site",
    min_cell=nb.min_cell,  # a site too small to show is named in a note, not drawn
    title="ACE score bands by site",
    xlabel="ACE score (categories reported)",
    ylabel="Young people (%)",
)

# %%
by_gender = distribution(baseline, "ace10_score_category", by="gender", min_cell=nb.min_cell)
show(by_gender[["gender", "category", "n", "count", "estimate", "ci_lower", "ci_upper"]])

# %% [markdown]
# ## Reading these results
#
# - These figures describe the group of young people in this program. They are useful for
#   planning (for example, how much trauma-informed training mentors need) and for comparing
#   with published population figures (in the CDC-Kaiser ACE Study, Felitti et al. 1998,
#   about 1 in 8 adults reported 4 or more categories).
# - They say nothing certain about any one young person. Do not use ACE scores to select,
#   exclude or prioritise individuals.
