# %% [markdown]
# # Measurement quality: do the questionnaires measure consistently here?
#
# Before we compare scores between groups or over time, we need to know that each questionnaire
# measures consistently in *our* young people and mentors. This notebook checks every scale
# used in the program at the first survey (baseline):
#
# - **Internal consistency.** Cronbach's alpha, with a confidence interval (Feldt's method),
#   and McDonald's omega total. Neither exceeds one; higher means the items of a scale move
#   together. A common rule of thumb (Nunnally 1978) treats 0.70 as the lowest acceptable value
#   for comparing groups.
# - **Item statistics.** For each item, its correlation with the rest of its scale (the
#   *corrected item-total correlation*, `r_drop`) and the alpha the scale would have without
#   it. Items that hang together poorly with the rest are flagged.
# - **Published values.** The alphas reported by the instrument's authors or by validation
#   studies, with their sources, so that our values can be read against them.
#
# The scales: for young people the Brief Resilience Scale (BRS) and the Child and Youth
# Resilience Measure (CYRM-R, total and its personal and caregiver subscales); for mentors the
# three ProQOL 5 subscales and the Secondary Traumatic Stress Scale (STSS, total and its three
# subscales); the mentors' scales need the mentor surveys table. The ACE questionnaire is
# discussed at the end: it is a checklist, not a scale.

# %%
from typing import Optional

import pandas as pd
from IPython.display import display

from tim_research import plots
from tim_research.views.tables import item_responses
from tim_research.stats.measurement import (
    instrument_item_correlations,
    instrument_item_statistics,
    instrument_reliability,
    published_reliability,
    reliability_table,
)
from tim_research.views.notebook import needs, setup, show

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column
wave: str = "baseline"  # survey wave whose answers are checked
low_r_drop: float = 0.3  # items whose corrected item-total r is below this are flagged
conf_level: float = 0.95  # coverage of the alpha confidence intervals

# %%
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
youth = item_responses(nb.program, ["brs", "cyrm_r"], wave=wave)
has_mentors = nb.program.has("mentors", "mentor_surveys")
mentors = item_responses(nb.program, ["proqol5", "stss"], wave=wave) if has_mentors else None
print(
    f"{wave} surveys, {nb.site_label}: {len(youth)} young people"
    + (f", {len(mentors)} mentors" if has_mentors else "")
)

# %% [markdown]
# ## Reverse keying: why items are turned around before alpha
#
# Three BRS statements are worded negatively (e.g. "hard time making it through stressful
# events"): agreeing with them means *less* resilience. Worded this way, such items usually
# correlate negatively with the positively worded ones; the table below shows whether they do
# here. Scoring reverses them (the highest answer becomes the lowest) so that a high answer
# always means more resilience. Reliability must be computed on the reversed items too,
# otherwise the items cancel each other out. The keys and the answer range come from the
# instrument file, never typed by hand. (The ProQOL burnout scale has reversed items too;
# CYRM-R and STSS have none.)

# %%
show(instrument_item_correlations(youth, "brs", reverse_keyed=False))

# %%
raw_brs = instrument_reliability(youth, "brs", reverse_keyed=False, conf_level=conf_level)
print(f"BRS alpha with items as answered (not reversed): {raw_brs.alpha:.2f}")

# %% [markdown]
# A negative alpha is a sure sign of items that were not reversed. With the negatively worded
# items reversed, the same answers give the alpha in the next table.
#
# ## Young people's scales
#
# `n` counts young people who answered at least one item of the scale. The published columns
# show the alpha reported by the source in `published_ref` (a range where the source gives
# only a range); the sources are listed further down.

# %%
youth_rel = reliability_table(youth, ["brs", "cyrm_r"], conf_level=conf_level)
columns = [
    "k",
    "n",
    "alpha",
    "alpha_ci_lower",
    "alpha_ci_upper",
    "omega_total",
    "average_r",
    "published_alpha",
    "published_low",
    "published_high",
    "published_ref",
]
show(youth_rel[columns])

# %% [markdown]
# ## Mentors' scales

# %%
mentor_rel = None
if needs(nb, "mentors", "mentor_surveys"):
    mentor_rel = reliability_table(mentors, ["proqol5", "stss"], conf_level=conf_level)
    display(show(mentor_rel[columns]))

# %%
all_scales = pd.concat([youth_rel, mentor_rel])
reaching = f"{(all_scales['alpha'] >= 0.7).sum()} of {len(all_scales)} scales reach alpha 0.70"
print(reaching)
plots.reliability(
    all_scales,
    title=reaching,
    xlabel=f"Cronbach's alpha ({conf_level:.0%} CI); dashed line at 0.70",
)

# %% [markdown]
# ## Where the published values come from
#
# Each published value is stored with its citation, where in the source it appears, and
# whether it was read in the source itself (`primary`) or in a work quoting it
# (`secondary`; the `seen_in` column says where). Secondary values should be checked against
# the original before they are quoted in a report. No published alpha could be cited for the
# CYRM-R caregiver subscale, and the CYRM-R values are from a Japanese translation: the
# original validation paper (Jefferies, McGarrigle & Ungar 2019) was not available here. A
# translation answered by a different population can differ from a program's own young people.

# %%
show(
    published_reliability()[
        [
            "instrument",
            "scale",
            "value",
            "value_low",
            "value_high",
            "n",
            "short_ref",
            "location",
            "source_type",
            "seen_in",
        ]
    ]
)

# %% [markdown]
# ## Item statistics
#
# One row per item and scale (an item of the CYRM-R or STSS total also appears under its
# subscale). `reversed` says the item was reverse-keyed; `r_drop` is its correlation with the
# sum of the other items of the scale; `low_r_drop` flags items below the threshold set in
# the parameters; `raises_alpha` flags items whose removal would raise the scale's alpha.
# A flagged item is a reason to look at its wording and its answers, not to drop it: the
# scales are scored as published.

# %%
brs_items = instrument_item_statistics(youth, "brs", low_r_drop=low_r_drop)
item_columns = [
    "label",
    "reversed",
    "mean",
    "sd",
    "n",
    "r_drop",
    "alpha_if_deleted",
    "low_r_drop",
    "raises_alpha",
]
show(brs_items[item_columns])

# %%
cyrm_items = instrument_item_statistics(youth, "cyrm_r", low_r_drop=low_r_drop)
show(cyrm_items[item_columns])

# %% [markdown]
# The mentors' items (they need the mentor surveys table):

# %%
mentor_items = []
if needs(nb, "mentors", "mentor_surveys"):
    for instrument in ("proqol5", "stss"):
        mentor_items.append(instrument_item_statistics(mentors, instrument, low_r_drop=low_r_drop))
        display(show(mentor_items[-1][item_columns]))

# %% [markdown]
# ### Flagged items
#
# Every item, across all instruments, that is below the `r_drop` threshold or would raise its
# scale's alpha if left out.

# %%
items = pd.concat([brs_items, cyrm_items, *mentor_items])
show(items.loc[items["low_r_drop"] | items["raises_alpha"], item_columns])

# %% [markdown]
# ## Why there is no alpha for the ACE questionnaire
#
# The ACE score counts *different* experiences (abuse, neglect, a parent's imprisonment,
# divorce...). It is a checklist of events, not a set of items that all reflect one
# underlying trait. Alpha and omega assume the latter: they are high when items move
# together. Adverse experiences need not go together (a young person whose parents divorced
# is not expected to also report physical neglect), so a low alpha would not mean the ACE
# score is measured badly, and a high one would not mean it is measured well. The quality
# of a checklist is a matter of accurate recall and honest reporting (for example how
# similar answers are when the questionnaire is repeated), which internal consistency cannot
# show. The ACE score is also a population research measure, not a tool to classify
# individuals (see the ACE profile notebook).
#
# ## What these results say
#
# Each scale's alpha read against its published value or range, the scales whose interval lies
# wholly below the rule-of-thumb 0.70 (too unreliable to compare groups on), and the flagged
# items; all computed from the data above.

# %%
for name, row in all_scales.iterrows():
    low = row["published_low"] if row["published_low"] == row["published_low"] else row["published_alpha"]
    high = row["published_high"] if row["published_high"] == row["published_high"] else row["published_alpha"]
    alpha, kind = round(row["alpha"], 2), "range" if low != high else "alpha"
    where = ("no published value" if low != low else f"below the published {kind}" if alpha < low
             else f"above the published {kind}" if alpha > high
             else "inside the published range" if kind == "range" else "equal to the published alpha")
    print(f"{row['label']}: alpha {row['alpha']:.2f} ({row['alpha_ci_lower']:.2f} to "
          f"{row['alpha_ci_upper']:.2f}); {where}")
below = all_scales.loc[all_scales["alpha_ci_upper"] < 0.7, "label"].tolist()
print("Interval wholly below 0.70: " + (", ".join(below) if below else "no scale"))
for flag, words in (("low_r_drop", f"with r_drop below {low_r_drop:.2f}"),
                    ("raises_alpha", "that would raise alpha if left out")):
    flagged = [f"{r['label']} (r_drop {r['r_drop']:.2f})" for _, r in items[items[flag]].iterrows()]
    print(f"Items {words}: " + ("; ".join(flagged) if flagged else "none"))
if nb.program.effects is not None:  # the package says it is synthetic
    print("These data are synthetic: the generator, not real respondents, decides how the items "
          "hang together; the numbers should not be quoted as evidence about the instruments.")

# %% [markdown]
# ## Reading these results
#
# - Alphas in a program's own data often differ from published ones: the published samples are
#   other populations (a much larger group of school children answering a translation, for the
#   CYRM-R), and differences of a few hundredths between populations are common.
# - Where a total scale is reliable but its subscales are not, report the total and treat
#   subscale scores as descriptive only.
# - A flagged item is a reason to look at its wording and answers, not to drop it.
# - Reliability describes this group of respondents. An alpha near the threshold with a wide
#   interval (one site, or few respondents) is a reason for caution in comparing groups, not
#   a verdict on the instrument.
