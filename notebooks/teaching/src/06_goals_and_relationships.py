# %% [markdown]
# # 6. Goals and the mentoring relationship
#
# **Time:** about 30 minutes. **You will learn:**
#
# - how to write a goal with a young person so that progress on it can be scored later (Goal
#   Attainment Scaling);
# - how a young person's goals become one T-score, and what that score means;
# - how to read a program's goal attainment by site, and why sites are hard to compare;
# - what the youth and mentor relationship questionnaires ask about, and how to read whether
#   matches with a weak early relationship end early more often.
#
# The data are those in `data_dir`, by default the **sample program** that ships with
# tim-research; the first code cell says so if they are made up. Goal and relationship scores
# describe **groups**: they are never a judgement of one young person or one mentor. Run the
# cells from top to bottom; in an exercise, replace `...` with your answer and run the cell.

# %% tags=["hide-input"]
import inspect
from typing import Optional

import pandas as pd

from tim_research import load_instrument, plots
from tim_research.stats.competing import early_closure
from tim_research.stats.goals import gas_tscores
from tim_research.stats.outcomes import group_means
from tim_research.views.notebook import setup, show
from tim_research.views.tables import band, goal_scores, match_table, relationship_scores
from tim_research.views.teaching import check, exercise

# %% tags=["parameters", "hide-input"]
data_dir: str = "../../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step (none here)
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column

# %% tags=["hide-input"]
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
print(f"{len(nb.program.youth)} young people, {nb.site_label}; the data were cut off on "
      f"{nb.program.cutoff.date()}.")
if nb.program.effects is not None:
    print("These are synthetic data with planted effects: they teach the methods, not facts "
          "about a real program.")

# %% [markdown]
# ## Setting a goal you can score
#
# In Goal Attainment Scaling (GAS; Kiresuk and Sherman 1968) the young person and their mentor
# choose a goal together and, **before the work starts**, write down what five possible
# outcomes at the next review would look like, from -2 (much less than expected) through 0
# (the expected outcome) to +2 (much more than expected). The level in the middle is the
# realistic hope, not the best case. Writing the levels first matters: at the review the
# mentor only picks the level that matches what happened, instead of deciding afterwards what
# counts as success.
#
# A few tips for good goals:
#
# - the goal is the young person's, in their words, and about something they care about;
# - each level describes something you could see or count, and the levels neither overlap nor
#   leave gaps;
# - where the young person is today is usually one level below the expected level
#   (Turner-Stokes 2009);
# - a goal that was not reached is information for the plan, never a failure of the young
#   person: trauma, moves and crises get in the way of plans.
#
# Here is one worked example for an invented young person, Jordan, who wants to get back into
# football. The levels describe the eight weeks before the review.

# %% tags=["hide-input"]
jordan = pd.DataFrame(
    {
        "level": [-2, -1, 0, 1, 2],
        "meaning": [
            "much less than expected",
            "less than expected",
            "expected",
            "more than expected",
            "much more than expected",
        ],
        "what it looks like": [
            "no training sessions",
            "1 or 2 sessions (where Jordan is now)",
            "3 to 5 sessions",
            "6 or 7 sessions",
            "all 8 sessions, and played in a match",
        ],
    }
).set_index("level")
show(jordan)

# %% [markdown]
# ## From levels to a T-score
#
# At a review each goal gets the level reached. A young person usually has a few goals, and
# GAS combines their levels into one **T-score** (Kiresuk and Sherman 1968), which is 50 when
# every goal is met at the expected level:
#
# $$T = 50 + \frac{10 \sum_i w_i x_i}{\sqrt{(1 - \rho) \sum_i w_i^2 + \rho \left(\sum_i w_i\right)^2}}$$
#
# - $x_i$ is the level reached on goal $i$; goals above the expected level push the score up,
#   goals below it pull it down;
# - $w_i$ is the goal's **weight**: a goal that matters more to the young person, or is
#   harder, can count more (without weights every goal counts the same);
# - $\rho$ (rho) is the assumed correlation between a young person's goals. It changes how far
#   the score moves away from the score of goals all met as expected, never in which direction.
#
# You never need to do this sum by hand: `gas_tscores` in tim-research does it. Here is
# another invented young person, Riley, at a review, with three goals and their weights.

# %% tags=["hide-input"]
default_rho = inspect.signature(gas_tscores).parameters["rho"].default
riley = pd.DataFrame(
    {
        "youth_id": ["Riley"] * 3,
        "review": ["6 months"] * 3,
        "goal": ["school attendance", "a weekend job", "seeing an old friend again"],
        "attained": [1, -1, 0],
        "weight": [2.0, 1.0, 1.0],
    }
)
display(show(riley))
print(f"tim-research uses rho = {default_rho}, the usual convention in the GAS literature, "
      "unless you choose another value.")

# %% tags=["hide-input"]
riley_t = gas_tscores(riley, weight="weight")["t_score"].iloc[0]
as_expected = gas_tscores(riley.assign(attained=0))["t_score"].iloc[0]


def _side(t: float) -> str:
    return "above" if t > as_expected else "below" if t < as_expected else "at"


ex_6_1 = exercise(
    "6.1",
    expected=riley_t,
    tolerance=0.06,
    hint='Run gas_tscores(riley, weight="weight") in a new cell and read the t_score column.',
    explanation=f"Riley's T-score is {_side(riley_t)} the score of goals met as expected: "
    "the goal with the larger weight counts more.",
)

# %% [markdown]
# ### Exercise 6.1
# Use the library to compute Riley's T-score. Click `+` in the toolbar to add a new cell, type
# `gas_tscores(riley, weight="weight")` and run it. Then give the `t_score` below, one decimal.

# %%
answer_6_1 = ...
check(answer_6_1, ex_6_1)

# %% tags=["hide-input"]
exceeded = riley.copy()
exceeded.loc[2, "attained"] = riley.loc[2, "attained"] + 1  # the third goal, one level higher
t_after = gas_tscores(exceeded, weight="weight")["t_score"].iloc[0]
ex_6_2 = exercise(
    "6.2",
    expected="a" if t_after > riley_t else "b" if t_after < riley_t else "c",
    choices=["a", "b", "c"],
    hint="A level above the expected level is a positive x in the sum at the top of the formula.",
    explanation="Any goal that does better than before raises the T-score; rho and the "
    "weights only change by how much.",
)

# %% [markdown]
# ### Exercise 6.2
# At the next review Riley's third goal ("seeing an old friend again") is exceeded: one level
# more than expected. Nothing else changes. What happens to Riley's T-score? Answer `"a"`,
# `"b"` or `"c"`:
#
# a) it goes up; b) it goes down; c) it stays the same, because meeting a goal is all that counts.

# %%
answer_6_2 = ...
check(answer_6_2, ex_6_2)

# %% [markdown]
# What do rho and the weights do? Here is a third invented young person, Sam, whose most
# important goal (the largest weight) was not met while two others were met or exceeded. The
# table gives Sam's T-score with and without the weights for a few values of rho, beside the
# score of goals all met at the expected level.

# %% tags=["hide-input"]
sam = pd.DataFrame(
    {
        "youth_id": ["Sam"] * 3,
        "review": ["12 months"] * 3,
        "goal": ["finding a place to live", "a college course", "a hobby"],
        "attained": [-1, 0, 2],
        "weight": [3.0, 1.0, 1.0],
    }
)
display(show(sam))
rows = []
for r in (0.0, default_rho, 0.6):
    rows.append({
        "rho": r,
        "Sam, with weights": gas_tscores(sam, weight="weight", rho=r)["t_score"].iloc[0],
        "Sam, equal weights": gas_tscores(sam, rho=r)["t_score"].iloc[0],
        "all goals as expected": gas_tscores(sam.assign(attained=0), rho=r)["t_score"].iloc[0],
    })
by_rho = pd.DataFrame(rows).set_index("rho")
display(show(by_rho, digits=1))
at_default = by_rho.loc[default_rho]
one_side = all(len({_side(t) for t in by_rho[c]}) == 1 for c in by_rho.columns)
print(f"With its weights Sam's score is {_side(at_default['Sam, with weights'])} the score of "
      f"goals met as expected; with equal weights it is "
      f"{_side(at_default['Sam, equal weights'])} it. Changing rho "
      f"{'keeps each score on the same side of' if one_side else 'moves a score across'} "
      "that point.")

# %% [markdown]
# ## Reading a program's goal attainment
#
# Each young person in the program has one T-score per review. The table takes each young
# person's **latest** review and gives the mean T-score per site, with its 95% confidence
# interval. A site with fewer than `min_cell` young people reviewed is suppressed. The dashed
# line in the figure marks the score of goals met as expected.
#
# **A caution.** Sites set goals differently: one site may write ambitious expected levels,
# another modest ones. A site whose mean is above another's may set easier goals rather than
# mentor better. Compare a site with itself over time, and talk with sites about how they write
# goals, before comparing sites.

# %% tags=["hide-input"]
latest = goal_scores(nb.program, latest=True).dropna(subset=["t_score"])
by_site = group_means(latest, value="t_score", by="site", min_cell=nb.min_cell)
display(show(by_site[["site", "n", "mean", "ci_lower", "ci_upper", "suppressed"]], digits=1))
overall = group_means(latest, value="t_score", min_cell=nb.min_cell).iloc[0]
if overall["suppressed"]:
    print("Mean T-score at the latest review: hidden (too few young people).")
else:
    print(f"Mean T-score at the latest review, {nb.site_label}: {overall['mean']:.1f} "
          f"({int(overall['n'])} young people); on average {latest['share_met'].mean():.0%} "
          "of a young person's goals were met or exceeded.")
    display(plots.point_range(
        by_site,
        label="site",
        y="mean",
        min_cell=nb.min_cell,
        reference=50.0,
        title="Mean GAS T-score at the latest review, by site",
        xlabel="GAS T-score (95% CI)",
    ))

# %% tags=["hide-input"]
first_site = by_site.iloc[0]
ex_6_3 = exercise(
    "6.3",
    expected=float("nan") if first_site["suppressed"] else first_site["mean"],
    tolerance=0.06,
    hint="Read the 'mean' column in the first row of the table.",
    explanation="A mean near the expected level says the site's goals were, on the whole, met "
    "as planned: it says as much about how the goals were written as about the mentoring.",
)

# %% [markdown]
# ### Exercise 6.3
# What was the mean T-score at the latest review in the site of the **first row** of the table?
# One decimal.

# %%
answer_6_3 = ...
check(answer_6_3, ex_6_3)

# %% [markdown]
# ## The relationship itself
#
# Research on youth mentoring finds that the relationship is how mentoring works: trust,
# warmth and a young person's sense that the mentor is on their side (Rhodes 2005). Programs
# can ask both sides about it:
#
# - the **Youth Strength of Relationship** scale (YSoR) asks the young person how true some
#   positive statements are (for example, that the mentor has good ideas for solving problems)
#   and some negative ones (for example, feeling ignored), from "never true" to "always true";
# - the **Mentor Strength of Relationship** scale (MSoR) asks the mentor how much they agree
#   with statements about feeling close to the young person and about the practical side of
#   meeting (finding the time, for example).
#
# The question wording belongs to its authors and is not shipped with tim-research, only short
# descriptions. Some scoring details of both questionnaires could not be checked against the
# authors' own papers; for the mentor's questionnaire they matter most, and the cell below
# prints its caveat.

# %% tags=["hide-input"]
for name in ("ysor", "msor"):
    inst = load_instrument(name)
    answers = next(iter(inst.response_sets.values()))
    print(f"{inst.name}: {len(inst.items)} questions, answered from "
          f"{answers.labels[0]!r} to {answers.labels[-1]!r}.")
print(f"\nMSoR caveat: {load_instrument('msor').caveat}")

# %% [markdown]
# ### Early relationship and early endings
#
# Young people answered the YSoR 3 months into their match. The table follows the matches that
# were still open at that point and had a youth report (a match that had already ended could
# not be asked), and gives the share that closed early, meaning an unplanned ending within 12
# months of the start, counted fairly as in notebook 5. The matches are grouped by how strong
# the young person said the relationship was.

# %% tags=["hide-input"]
rel = relationship_scores(nb.program).reset_index()
youth_early = rel[(rel["reporter"] == "youth") & (rel["wave"] == "3m")]
matches = match_table(nb.program).join(
    youth_early.set_index("match_id")["ysor_score"].rename("ysor_early")
)
landmark = matches[(matches["duration_months"] > 3) & matches["ysor_early"].notna()]
ysor_band = band(landmark["ysor_early"], breaks=[1, 3, 4], unit=" (YSoR)")
by_quality = early_closure(
    landmark,
    cutoff=nb.program.cutoff,
    months=12,
    by=ysor_band.cat.remove_unused_categories(),
    min_cell=nb.min_cell,
)
display(show(
    by_quality[["ysor_early_band", "n", "events", "estimate", "ci_lower", "ci_upper"]]
    .rename(columns={"ysor_early_band": "youth report at 3 months"}),
    digits=3,
))
shown = by_quality.dropna(subset=["estimate"])
if len(shown) >= 2:
    weak, strong = shown.iloc[0], shown.iloc[-1]
    print(f"Closed early by 12 months: {weak['estimate']:.0%} of matches in the band "
          f"{weak['ysor_early_band']} and {strong['estimate']:.0%} in the band "
          f"{strong['ysor_early_band']} ({nb.site_label}).")
plots.bar_with_ci(
    by_quality,
    x="ysor_early_band",
    min_cell=nb.min_cell,
    unit="matches",
    title="Matches closed early, by the young person's report at 3 months",
    xlabel="Strength of relationship, youth report at 3 months",
    ylabel="Closed early by 12 months (%)",
)

# %% tags=["hide-input"]
ex_6_4 = exercise(
    "6.4",
    expected=by_quality["estimate"].iloc[0],
    tolerance=0.006,
    hint="Read 'estimate' in the first row, the weakest band.",
    explanation="This is an association in a group: it does not say that a given match with a "
    "low early score will end, but it tells supervisors where to offer support first.",
)

# %% [markdown]
# ### Exercise 6.4
# What share of the matches in the **weakest** band (the first row) closed early? A share
# between 0 and 1, two decimals.

# %%
answer_6_4 = ...
check(answer_6_4, ex_6_4)

# %% [markdown]
# ### Discussion: trust as the foundation
#
# Many young people in trauma-informed programs have learned that adults are not always safe or
# reliable, so trust is built slowly, through small promises kept. In pairs:
#
# - What does a mentor do in the first months that helps a young person trust them? What can
#   break that trust?
# - A young person's early report is low. What would a supervisor ask the mentor, and how could
#   the program support the match, without blaming either of them?
# - Why might a young person and their mentor see the same relationship differently?
#
# ## Key points
#
# - A GAS goal is written with the young person, with its levels set before the work starts.
# - The T-score combines a young person's goals. Rho changes how far it moves from the score
#   of goals met as expected, never its direction; weights decide how much each goal counts,
#   so a heavy goal that was missed can outweigh lighter goals that were exceeded.
# - Sites write goals differently: read site means with care, and never as a ranking of
#   mentors or young people.
# - Research links a weak relationship early on with matches ending early (Rhodes et al. 2014);
#   the table above shows whether this program's data look the same. In a group, it is a reason
#   to support matches early, never a prediction for one match.
