# %% [markdown]
# # 4. Caring for the carers: stress, burnout and compassion satisfaction
#
# > **Content note.** This session is about the emotional cost of supporting young people who
# > have lived through trauma, and it invites you to reflect on your own well-being. The
# > self-check at the end is optional and private. If anything here weighs on you, talk to your
# > program supervisor or to someone you trust; many employers offer a confidential employee
# > assistance service. If you are in crisis, contact your local crisis line or emergency
# > services.
#
# **Time:** about 30 minutes. **You will learn:**
#
# - what secondary traumatic stress, burnout and compassion satisfaction are;
# - how the Professional Quality of Life scale (ProQOL 5, Stamm 2010) measures them;
# - how mentors in a program are doing as a group, and why programs, not only individuals, act
#   on it;
# - how to check in with yourself, privately.
#
# The program data are those in `data_dir`, by default the **sample program** that ships with
# tim-research; the first code cell says so if they are made up. Run the cells from top to
# bottom; in an exercise, replace `...` with your answer and run it.

# %% tags=["hide-input"]
from typing import Optional

from tim_research import load_instrument
from tim_research.stats.measurement import band_distribution
from tim_research.stats.outcomes import change_table
from tim_research.views.notebook import setup, show
from tim_research.views.tables import mentor_scores, wide_scores
from tim_research.views.teaching import check, exercise, self_check

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
proqol = load_instrument("proqol5")
mentors = mentor_scores(nb.program)
baseline = mentors.xs("baseline", level="wave")
print(f"{len(baseline)} mentors answered the ProQOL 5 when they joined, {nb.site_label}.")
if nb.program.effects is not None:
    print("These are synthetic data with planted effects: they teach the methods, not facts "
          "about real mentors.")

# %% [markdown]
# ## Three sides of helping
#
# - **Compassion satisfaction**: the pleasure of doing the work well and making a difference.
# - **Burnout**: exhaustion, frustration and feeling that your efforts make no difference,
#   often tied to workload and a non-supportive setting.
# - **Secondary traumatic stress (STS)**: fear, intrusive images or trouble sleeping that come
#   from hearing about the trauma of people you help.
#
# The ProQOL 5 asks 30 questions about the last 30 days, each from 1 (never) to 5 (very often),
# 10 per scale. Some burnout items are worded positively and reverse keyed (notebook 2). Each
# scale is a sum of 10 to 50, banded on the score sheet as low, moderate or high.

# %% tags=["hide-input"]
for scale in proqol.scales:
    reversed_items = [i for i in scale.items if i in {it.id for it in proqol.items if it.reverse}]
    print(f"{scale.label}: {len(scale.items)} items, {len(reversed_items)} reverse keyed")

# %% tags=["hide-input"]
ex_4_1 = exercise(
    "4.1",
    expected="b",
    choices=["a", "b", "c"],
    hint="Which of the three is something you would want more of?",
    explanation="Compassion satisfaction can protect against the other two: programs can "
    "build it through supervision, recognition and peer support.",
)

# %% [markdown]
# ### Exercise 4.1
# Which ProQOL scale is the **positive** one, where a higher score is better? Answer `"a"`, `"b"`
# or `"c"`: a) burnout, b) compassion satisfaction, c) secondary traumatic stress.

# %%
answer_4_1 = ...
check(answer_4_1, ex_4_1)

# %% [markdown]
# ## How are the mentors doing, as a group?
#
# Share of mentors in each band when they joined, with 95% confidence intervals. Small groups are
# suppressed. These are group figures to plan support, not ratings of anyone.

# %% tags=["hide-input"]
scales = {
    "proqol5_compassion_satisfaction_category": "Compassion satisfaction",
    "proqol5_burnout_category": "Burnout",
    "proqol5_secondary_traumatic_stress_category": "Secondary traumatic stress",
}
bands = band_distribution(baseline, scales, min_cell=nb.min_cell)
show(bands[["scale", "category", "n", "count", "estimate", "ci_lower", "ci_upper", "suppressed"]])

# %% tags=["hide-input"]
moderate_burnout = bands.set_index(["scale", "category"]).loc[("Burnout", "moderate"), "estimate"]
ex_4_2 = exercise(
    "4.2",
    expected=moderate_burnout,
    tolerance=0.006,
    hint="Find the row with scale 'Burnout' and category 'moderate'.",
    explanation="Burnout is about the work and its setting as much as the person: caseloads, "
    "supervision and training are things a program can change.",
)

# %% [markdown]
# ### Exercise 4.2
# What share of mentors were in the **moderate** burnout band when they joined? A share between
# 0 and 1, two decimals.

# %%
answer_4_2 = ...
check(answer_4_2, ex_4_2)

# %% [markdown]
# ## Change over the first year
#
# The mean change in each scale from joining to 12 months, for mentors who answered both times,
# with Cohen's d<sub>z</sub> as effect size (notebook 3).

# %% tags=["hide-input"]
names = ["proqol5_compassion_satisfaction", "proqol5_burnout", "proqol5_secondary_traumatic_stress"]
wide = wide_scores(mentors, values=names, keep=[])
change = change_table(
    wide,
    pairs={n: (f"{n}_baseline", f"{n}_12m") for n in names},
    min_cell=nb.min_cell,
).set_index("measure")
display(show(change[["n", "mean_change", "ci_lower", "ci_upper", "cohens_dz"]], digits=2))
sts = change.loc["proqol5_secondary_traumatic_stress", "mean_change"]
print(f"Secondary traumatic stress changed by {sts:+.1f} points on average over the year.")

# %% [markdown]
# ## A private self-check
#
# You can score **your own** ProQOL 5 answers here. Use the official form (free from
# proqol.org, which also has the scoring guide), answer it for the last 30 days, and type each
# answer (1 = never, 2 = rarely, 3 = sometimes, 4 = often, 5 = very often) next to its item
# number in the cell below, e.g. `my_answers = {1: 4, 2: 2, 3: 5, ...}`.
#
# **Privacy.** The answers are scored in this notebook's memory only: nothing is written to a
# file or sent anywhere by the scoring. But Jupyter saves the notebook file itself, including
# what you type and the results shown. When you are done, delete your answers from the cell,
# clear its output (Edit > Clear Outputs), or close the notebook without saving. On the rendered
# site nothing can be typed, so nothing is kept.
#
# **Reading your result.** The ProQOL is a self-reflection tool, not a diagnosis. A high burnout
# or STS score is a reason to talk with your supervisor or someone you trust, and to look at
# your workload and support, not a judgement of you.

# %%
my_answers = {}  # item number: answer (1-5), e.g. {1: 4, 2: 2}; left empty in the stored copy
mine = self_check(my_answers, instrument="proqol5")
show(mine)

# %% [markdown]
# ## Key points
#
# - Caring work has costs (burnout, secondary traumatic stress) and rewards (compassion
#   satisfaction); all three can be measured and followed over time.
# - Group results guide what a program does: supervision, caseloads, training, peer support.
# - Checking in with yourself is private and worthwhile; reach out early if it is hard.
