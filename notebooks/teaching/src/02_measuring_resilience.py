# %% [markdown]
# # 2. Measuring resilience: from answers to a score
#
# **Time:** about 30 minutes. **You will learn:**
#
# - how a questionnaire turns answers into a score, and why some questions are "reverse keyed";
# - what happens when a young person skips a question;
# - what reliability (Cronbach's alpha) tells you, and what it does not;
# - how the Brief Resilience Scale (BRS) and the Child and Youth Resilience Measure (CYRM-R)
#   look in a program's data.
#
# The data are those in `data_dir`, by default the **sample program** that ships with
# tim-research; the first code cell says so if they are made up. Run the cells from top to
# bottom; in an exercise, replace `...` with your answer and run the cell.

# %% tags=["hide-input"]
from typing import Optional

import pandas as pd

from tim_research import load_instrument
from tim_research.stats.measurement import (
    instrument_item_correlations,
    instrument_reliability,
    reliability_table,
)
from tim_research.stats.prevalence import distribution
from tim_research.views.notebook import setup, show
from tim_research.views.tables import item_responses, youth_scores
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
brs = load_instrument("brs")
items = item_responses(nb.program, ["brs", "cyrm_r"], wave="baseline")
baseline = youth_scores(nb.program).xs("baseline", level="wave")
print(f"{len(items)} young people answered the baseline survey, {nb.site_label}.")
if nb.program.effects is not None:
    print("These are synthetic data with planted effects: they teach the methods, not facts "
          "about real young people.")

# %% [markdown]
# ## Six questions, one score
#
# The BRS (Smith et al. 2008) asks six questions about bouncing back after hard times, each
# answered from 1 (strongly disagree) to 5 (strongly agree). Three are worded positively ("I tend
# to bounce back quickly") and three negatively ("I have a hard time making it through stressful
# events"). Agreeing with a negative item means **less** resilience, so before averaging, those
# answers are turned around: 5 becomes 1, 4 becomes 2, and so on. This is **reverse keying**.
# The table lists the items (short labels, not the full wording) and which are reversed.

# %% tags=["hide-input"]
codes = brs.response_sets[brs.items[0].response_set].codes
display(show(pd.DataFrame({
    "item": [i.id for i in brs.items],
    "label": [i.label for i in brs.items],
    "reverse_keyed": [i.reverse for i in brs.items],
})))
print(f"Answers run from {min(codes)} to {max(codes)}.")

# %% [markdown]
# What goes wrong if we forget? Each item should go **with** the others: people who agree with
# one positive item tend to agree with the others. The table shows the correlation of each pair
# of items, as answered, without reversing (from -1, opposite, to +1, together).

# %% tags=["hide-input"]
raw = instrument_item_correlations(items, "brs", reverse_keyed=False)
display(show(raw))
against = raw.index[raw["brs_1"] < 0].tolist()
print(f"Items that go against brs_1 when not reversed: {', '.join(against)}")
unreversed = instrument_reliability(items, "brs", reverse_keyed=False).alpha
reversed_ = instrument_reliability(items, "brs").alpha
print(f"Cronbach's alpha (see below) with the items as answered: {unreversed:.2f}; "
      f"reverse keyed: {reversed_:.2f}")

# %% tags=["hide-input"]
ex_2_1 = exercise(
    "2.1",
    expected=min(codes) + max(codes) - 4,
    tolerance=0,
    hint=f"Reversing turns the lowest answer ({min(codes)}) into the highest ({max(codes)}), "
    "and so on inwards.",
    explanation="A reversed item adds to the score in the same direction as the others.",
)

# %% [markdown]
# ### Exercise 2.1
# A young person answers **4 (agree)** to "I have a hard time making it through stressful
# events", a reverse-keyed item. Which value counts towards their BRS score?

# %%
answer_2_1 = ...
check(answer_2_1, ex_2_1)

# %% [markdown]
# ## Skipped questions
#
# Young people skip questions. A score built from too few answers would be unreliable, and filling a
# gap with a zero would make resilience look lower than it is. The BRS score here is the mean of the
# answered items when enough are answered, and is **missing** otherwise: never a low score. The
# table shows how many BRS items young people answered at baseline.

# %% tags=["hide-input"]
rule = next(s for s in brs.scales if s.id == "score")
display(show(distribution(baseline, "brs_n_answered", min_cell=nb.min_cell)[
    ["category", "count", "estimate", "suppressed"]
].rename(columns={"category": "items answered"})))
unscored = int(baseline["brs_score"].isna().sum())
print(f"Rule: a BRS score needs at least {rule.min_answered} of {len(rule.items)} items. "
      "Young people without a baseline BRS score: "
      + (str(unscored) if unscored == 0 or unscored >= nb.min_cell else f"fewer than {nb.min_cell}")
      + ".")

# %% tags=["hide-input"]
ex_2_2 = exercise(
    "2.2",
    expected=len(rule.items) - rule.min_answered,
    tolerance=0,
    hint="Compare the number of items with the number a score needs (printed above).",
    explanation="The score is then the mean of the answered items.",
)

# %% [markdown]
# ### Exercise 2.2
# How many BRS items can a young person skip and still get a score?

# %%
answer_2_2 = ...
check(answer_2_2, ex_2_2)

# %% [markdown]
# ## Reliability: do the items hang together?
#
# Cronbach's alpha (0 to 1) says how consistently the items of a scale move together in this
# group. Around 0.70 or more is usually taken as good enough to compare groups. Alpha is about
# the scale in **this** group, not about any one young person, and a high alpha does not prove
# the scale measures resilience: that takes other evidence (validity). The published alpha, from
# the instrument's own studies, is shown beside ours.

# %% tags=["hide-input"]
rel = reliability_table(items, ["brs", "cyrm_r"])
show(rel[["k", "n", "alpha", "alpha_ci_lower", "alpha_ci_upper", "published_alpha",
          "published_ref"]])

# %% tags=["hide-input"]
brs_alpha = rel.loc["brs_score", "alpha"]
ex_2_3 = exercise(
    "2.3",
    expected=round(float(brs_alpha), 2),
    tolerance=0.01,
    hint="Find the row 'brs_score' and read the 'alpha' column.",
    explanation="Alpha belongs to the scale in this group; it can differ in another group.",
)

# %% [markdown]
# ### Exercise 2.3
# What is Cronbach's alpha of the BRS in these baseline answers? Two decimals.

# %%
answer_2_3 = ...
check(answer_2_3, ex_2_3)

# %% [markdown]
# ## BRS and CYRM-R scores at baseline
#
# The BRS measures bouncing back; the CYRM-R (Jefferies, McGarrigle and Ungar 2019) measures the
# resources around a young person, personal and relational (caregivers). Together they describe
# resilience as something a young person **has access to**, not only something they are. The
# BRS bands (low, normal, high) come from the scale's authors.

# %% tags=["hide-input"]
display(show(distribution(baseline, "brs_score_category", min_cell=nb.min_cell)[
    ["category", "count", "estimate", "ci_lower", "ci_upper"]
]))
print(f"Mean baseline scores: BRS {baseline['brs_score'].mean():.2f} (range 1-5), "
      f"CYRM-R {baseline['cyrm_r_score'].mean():.1f} (range 17-85).")

# %% [markdown]
# ## Key points
#
# - Reverse-keyed items are turned around before a score is made; forgetting it makes items
#   pull against each other and lowers reliability.
# - A score with too many skipped items is missing, not low.
# - Alpha describes a scale in a group; it is not a verdict on one young person.
# - Scores describe groups well; for one young person they are a conversation starter at most.
