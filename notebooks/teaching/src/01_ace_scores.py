# %% [markdown]
# # 1. What an ACE score can and cannot tell you
#
# > **Content note.** This session talks about childhood abuse, neglect and household
# > difficulties, including sexual abuse. It uses survey answers from adults, not stories, but the
# > topic can bring up memories. You can step out at any time, skip an exercise, or talk to your
# > program supervisor. If you need support now, contact your local crisis line or emergency
# > services.
#
# **Time:** about 30 minutes. **You will learn:**
#
# - which experiences the ACE questionnaire asks about, and how a score is counted;
# - what a "dose-response" pattern in a population looks like, using real survey data;
# - how our figures compare with published ones, and why they differ;
# - why an ACE score must never be used to judge or screen one person.
#
# **How to use this notebook.** Run the cells from top to bottom (Shift + Enter). Cells with
# folded code (a "..." bar) do the data work; you can open them, but you do not need to. In an
# exercise, replace `...` with your answer and run the cell: the notebook tells you whether you
# are right, and gives a hint if not.

# %% tags=["hide-input"]
import pandas as pd

from tim_research import load_instrument, plots, score
from tim_research.instruments import load_column_map
from tim_research.stats.prevalence import distribution, indicators, prevalence
from tim_research.views.notebook import show
from tim_research.views.teaching import check, exercise, setup_display

# %% tags=["parameters", "hide-input"]
brfss_file: str = "../../data/external/brfss2022_ace_12states.csv"  # the BRFSS 2022 ACE extract
published_file: str = "data/published_ace_figures.csv"  # published figures with sources
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step (none in this notebook)

# %% [markdown]
# ## The data: real answers from a public health survey
#
# The Behavioral Risk Factor Surveillance System (BRFSS) is a yearly telephone survey of US
# adults run by the CDC. In 2022, some states asked its Adverse Childhood Experiences (ACE)
# module: 11 questions about the respondent's first 18 years. The file we use is a public-domain
# extract of those answers (see `data/external/SOURCES.md`). It holds no names or ids.
#
# The original CDC-Kaiser ACE Study asked about **10 categories**: emotional, physical and sexual
# abuse; emotional and physical neglect; and growing up with domestic violence, household
# substance misuse, household mental illness, parental separation or divorce, and a household
# member in prison. The BRFSS module has no neglect questions, so its answers are counted in
# **8 categories**.

# %% tags=["hide-input"]
setup_display()
answers = pd.read_csv(brfss_file)
aces = score(
    answers,
    "brfss_ace",
    columns=load_column_map("brfss"),
    cutoffs={"brfss_ace_score": "cdc_ace_study"},
)
instrument = load_instrument("brfss_ace")
categories = {f"brfss_ace_{s.id}": s.label for s in instrument.scales if s.id != "score"}
print(f"{len(answers):,} adults from {answers['state'].nunique()} states in the extract; "
      f"{aces['brfss_ace_score'].notna().sum():,} "
      f"have an ACE score, {aces['brfss_ace_score'].isna().sum():,} do not (the module was "
      "not asked, or too many answers were missing).")

# %% [markdown]
# ## Counting: from answers to a score
#
# Each category counts **once**, however often it happened and however many questions point to
# it: someone who answers "yes" to both substance-use questions still scores one point for that
# category. The ACE score is the number of categories reported, here 0 to 8. "Don't know" and
# "refused" are not "no": when an unanswered question could change the count, the person gets
# no score rather than a score that is too low.
#
# The table shows how the adults with a score are spread over the counts 0, 1, 2, 3 and 4 or
# more, with 95% confidence intervals.

# %% tags=["hide-input"]
bands = distribution(aces, "brfss_ace_score_category", min_cell=min_cell)
show(bands[["category", "count", "estimate", "ci_lower", "ci_upper"]])

# %% tags=["hide-input"]
share_zero = bands.set_index("category").loc["0", "estimate"]
ex_1_1 = exercise(
    "1.1",
    expected=share_zero,
    tolerance=0.006,
    hint="Read the 'estimate' column in the row for an ACE score of 0.",
    explanation=f"So {1 - share_zero:.0%} of these adults reported at least one category.",
)

# %% [markdown]
# ### Exercise 1.1
# What share of the adults with a score reported **none** of the 8 categories? Give it as a share
# between 0 and 1 with two decimals (for example 0.25).

# %%
answer_1_1 = ...
check(answer_1_1, ex_1_1)

# %% [markdown]
# ## Which experiences were most common?
#
# Each category on its own, among the adults who answered its questions.

# %% tags=["hide-input"]
each = indicators(aces, list(categories), labels=categories, min_cell=min_cell)
each = each.sort_values("estimate", ascending=False)
show(each[["label", "n", "estimate", "ci_lower", "ci_upper"]])

# %% tags=["hide-input"]
options = {
    "a": "brfss_ace_parental_separation",
    "b": "brfss_ace_emotional_abuse",
    "c": "brfss_ace_household_substance_use",
}
most_common = each["indicator"].iloc[0]
ex_1_2 = exercise(
    "1.2",
    expected=next((k for k, v in options.items() if v == most_common), "none"),
    choices=[*options, "none"],
    hint="The table is sorted: the first row is the most common category.",
    explanation=f"The most common was: {each['label'].iloc[0]}.",
)

# %% [markdown]
# ### Exercise 1.2
# Which category was reported most often? Answer `"a"`, `"b"`, `"c"` or `"none"` (none of these):
#
# a) parental separation or divorce, b) emotional abuse, c) household substance use

# %%
answer_1_2 = ...
check(answer_1_2, ex_1_2)

# %% [markdown]
# ## Dose-response: more categories, more health problems, on average
#
# The original ACE Study (Felitti et al. 1998, Am J Prev Med 14(4):245-258) found that the more
# categories people reported, the more often they had a range of health problems as adults. This
# "dose-response" pattern is about **groups**. Below, for each ACE count, is the share of adults who
# have ever been told they have asthma (the BRFSS question `ASTHMA3`; "don't know" and "refused" are
# left out).

# %% tags=["hide-input"]
scored = aces.dropna(subset=["brfss_ace_score"]).copy()
scored["asthma"] = answers.loc[scored.index, "ASTHMA3"].map({1: 1.0, 2: 0.0})
asthma = prevalence(scored, "asthma", by="brfss_ace_score_category", min_cell=min_cell)
show(asthma[["brfss_ace_score_category", "n", "events", "estimate", "ci_lower", "ci_upper"]])

# %% tags=["hide-input"]
by_count = asthma.set_index("brfss_ace_score_category")["estimate"]
ratio = by_count["4+"] / by_count["0"]
plots.bar_with_ci(
    asthma,
    x="brfss_ace_score_category",
    min_cell=min_cell,
    unit="adults",
    title=f"Asthma ever: {by_count['0']:.0%} with no ACEs, {by_count['4+']:.0%} with 4 or more",
    xlabel="ACE score (categories reported)",
    ylabel="Adults ever told they have asthma (%)",
)

# %% tags=["hide-input"]
ex_1_3 = exercise(
    "1.3",
    expected=ratio,
    tolerance=0.05,
    hint="Divide the share with asthma in the '4+' row by the share in the '0' row.",
    explanation="A ratio like this describes groups. It does not say what will happen to "
    "any one person.",
)

# %% [markdown]
# ### Exercise 1.3
# How many times as common was asthma among adults with 4 or more ACEs as among adults with none?
# Give a number with one decimal (for example 1.5).

# %%
answer_1_3 = ...
check(answer_1_3, ex_1_3)

# %% [markdown]
# ## How do these figures compare with published ones?
#
# Published BRFSS figures are **weighted** so that they stand for each state's adult population;
# the extract lost its survey weights, so our shares are simple counts of the people who
# answered. They also cover other years and states (and ACE figures have changed over the
# years), and the CDC-Kaiser Study counted 10 categories in one health plan's members. So we
# expect to be near, not equal. Sources are in the last column.

# %% tags=["hide-input"]
published = pd.read_csv(published_file)
high = published["max_aces"].fillna(float("inf"))
published["this_extract_percent"] = [
    100 * scored["brfss_ace_score"].between(lo, hi).mean()
    for lo, hi in zip(published["min_aces"], high)
]
show(published[["measure", "percent", "this_extract_percent", "categories", "population",
                "estimate", "source"]], digits=1)

# %% tags=["hide-input"]
brfss = published[published["categories"].str.startswith("8")]
four = brfss[brfss["min_aces"] == 4]
ours = four["this_extract_percent"].iloc[0]
inside = four["percent"].min() <= ours <= four["percent"].max()
print(f"4 or more ACEs: {ours:.1f}% in this extract; published BRFSS figures here range from "
      f"{four['percent'].min():.1f}% to {four['percent'].max():.1f}%"
      + ("" if inside else " (ours lies outside that range)") + ".")

# %% [markdown]
# ## Why an ACE score is not an individual screen
#
# Look again at the asthma table, at its two ends: adults with 4 or more ACEs who never had
# asthma, and adults with no ACEs who did. The code below prints both shares.

# %% tags=["hide-input"]
print(f"Adults with 4 or more ACEs who were never told they have asthma: {1 - by_count['4+']:.0%}"
      + (" (most of them)" if by_count["4+"] < 0.5 else ""))
print(f"Adults with no ACEs who were told they have asthma: {by_count['0']:.0%}")

# %% [markdown]
# The same holds for every outcome studied: a score describes risk **across a group**. It leaves
# out what protects people (a trusted adult, a safe school, a mentor), it counts an event once
# whatever its severity, and it relies on memory and willingness to tell. Using it to label,
# sort or refuse services to a young person would be wrong and can do harm.

# %% tags=["hide-input"]
ex_1_4 = exercise(
    "1.4",
    expected="b",
    choices=["a", "b", "c"],
    hint="Think about the adults with 4 or more ACEs who never had asthma.",
    explanation="Use ACE information to plan services and training for groups, and respond "
    "to each young person as an individual.",
)

# %% [markdown]
# ### Exercise 1.4
# A colleague learns that a young person in the program has an ACE score of 4 or more. What can
# they conclude? Answer `"a"`, `"b"` or `"c"`:
#
# a) the young person will have health problems as an adult;
# b) nothing certain about this young person: the score describes risk in groups;
# c) the young person should be referred for therapy because of the score.

# %%
answer_1_4 = ...
check(answer_1_4, ex_1_4)

# %% [markdown]
# ## Key points
#
# - An ACE score counts categories of adversity before age 18; it is a research measure.
# - In a population, more categories go with more health problems on average (dose-response).
# - Survey design, years, places and the list of categories change the figures: compare with
#   care and say how yours were made.
# - It is never a screen for one person. Respond to young people, not to their score.
