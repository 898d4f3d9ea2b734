# %% [markdown]
# # Mentor well-being: burnout and secondary traumatic stress
#
# Mentoring young people who have lived through trauma can weigh on mentors. This notebook
# asks how the program's mentors are doing, whether that changes over their first year, and
# which things the program controls (how many young people a mentor is matched with, how
# often they meet a supervisor, how much trauma-informed training they had) go together with
# burnout and secondary traumatic stress.
#
# Mentors answered two questionnaires when they joined (baseline) and 12 months later:
#
# - the **ProQOL 5** (Professional Quality of Life), with three 10-item subscales scored 10-50:
#   *compassion satisfaction* (the pleasure of helping well; higher is better), *burnout* and
#   *secondary traumatic stress* (STS: fear-driven reactions to hearing about others'
#   trauma; higher is worse);
# - the **STSS** (Secondary Traumatic Stress Scale), 17 items scored 17-85; higher is worse.
#
# > These are group summaries for planning support, not assessments of individual mentors.
# > The ProQOL is not a diagnostic tool. Counts smaller than `min_cell` are suppressed.

# %%
from typing import Optional

from tim_research import plots
from tim_research.stats.associations import correlation, linear_regression, stack_coefficients
from tim_research.stats.measurement import band_distribution
from tim_research.stats.outcomes import change_table
from tim_research.views.notebook import setup, show
from tim_research.views.tables import mentor_scores, wide_scores

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column
pre_wave: str = "baseline"  # first mentor survey wave compared
post_wave: str = "12m"  # later mentor survey wave compared
conf_level: float = 0.95  # coverage of every confidence interval

# %%
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
mentors = mentor_scores(nb.program)
baseline = mentors.xs(pre_wave, level="wave")
print(f"{len(baseline)} mentors with a {pre_wave} survey, {nb.site_label}")

# %% [markdown]
# A score is prorated (the mean of the answered items times the number of items) when a
# mentor skipped one or two items; the warning above says how often that happened.
#
# ## Change from joining to a year later
#
# The change for mentors who answered both surveys: mean change (later minus first) with its
# confidence interval, paired t-test p-value and the standardised change (Cohen's d_z; 0.2 is
# conventionally small). A change based on fewer than `min_cell` mentors is suppressed.

# %%
scores = [
    "proqol5_compassion_satisfaction",
    "proqol5_burnout",
    "proqol5_secondary_traumatic_stress",
    "stss_score",
]
wide = wide_scores(mentors, values=scores, keep=[])
change = change_table(
    wide,
    pairs={s: (f"{s}_{pre_wave}", f"{s}_{post_wave}") for s in scores},
    min_cell=nb.min_cell,
    conf_level=conf_level,
).set_index("measure")
show(change[["n", "mean_change", "ci_lower", "ci_upper", "p", "cohens_dz", "note"]], digits=3)

# %% [markdown]
# ## ProQOL bands when mentors joined
#
# The ProQOL 5 score sheet puts each subscale into three bands: low (22 or less), moderate
# (23-41) and high (42 or more). Shares have Wilson confidence intervals; bands with fewer
# than `min_cell` mentors are suppressed (shown as empty, never as zero), together with a
# second band when needed so the hidden count cannot be worked out.

# %%
bands = band_distribution(
    baseline,
    {
        "proqol5_compassion_satisfaction_category": "Compassion satisfaction",
        "proqol5_burnout_category": "Burnout",
        "proqol5_secondary_traumatic_stress_category": "Secondary traumatic stress",
    },
    min_cell=nb.min_cell,
    conf_level=conf_level,
)
show(bands)

# %%
low = bands[bands["category"] == "low"].set_index("scale")["estimate"]
plots.bar_with_ci(
    bands,
    x="category",
    hue="scale",
    title=f"{low['Burnout']:.0%} of mentors in the low burnout band, "
    f"{low['Secondary traumatic stress']:.0%} in the low STS band",
    xlabel="ProQOL 5 band (raw-score bands of the score sheet)",
    ylabel="Mentors (%)",
)

# %% [markdown]
# The STSS total has its own severity bands (Bride 2007, as cited by later papers: under 28
# little or none, 28-37 mild, 38-43 moderate, 44-48 high, 49 or more severe). They were
# developed with social workers; for volunteer mentors read them as a rough guide.

# %%
stss_bands = band_distribution(
    baseline, {"stss_score_category": "STSS severity"}, min_cell=nb.min_cell, conf_level=conf_level
)
show(stss_bands)

# %% [markdown]
# ## What goes together with burnout and secondary traumatic stress?
#
# One linear regression per score, at baseline, with three things the program decides:
# caseload (young people matched with the mentor), supervision frequency (compared with
# monthly) and training hours (per 10 hours). Each estimate is the difference in score points
# linked to that factor with the other two held constant, with its confidence interval.
# Mentors were not assigned to caseloads or supervision at random, so these are associations:
# for example, a program may give more supervision to mentors it already sees struggling.

# %%
formula = "~ caseload + supervision + I(training_hours / 10)"
burnout_fit = linear_regression(baseline, "proqol5_burnout " + formula, conf_level=conf_level)
columns = ["estimate", "se", "ci_lower", "ci_upper", "p", "n"]
show(burnout_fit.coefficients[columns])

# %%
sts_fit = linear_regression(
    baseline, "proqol5_secondary_traumatic_stress " + formula, conf_level=conf_level
)
show(sts_fit.coefficients[columns])

# %%
stss_fit = linear_regression(baseline, "stss_score " + formula, conf_level=conf_level)
show(stss_fit.coefficients[columns])

# %%
effects = stack_coefficients({"Burnout": burnout_fit, "ProQOL STS": sts_fit, "STSS": stss_fit})
clear = ((effects["ci_lower"] > 0) | (effects["ci_upper"] < 0)).sum()
plots.forest(
    effects,
    title=f"{clear} of {len(effects)} program factors have an interval that excludes zero",
    xlabel=f"Difference in score points ({conf_level:.0%} CI)",
)

# %% [markdown]
# ## Do secondary traumatic stress and burnout go together?
#
# The correlation of the STSS total with ProQOL burnout at baseline (Pearson r with a Fisher z
# confidence interval). The STSS is a separate questionnaire from the ProQOL, so the link is
# not just two subscales of one form sharing a response style.

# %%
assoc = correlation(baseline, "stss_score", "proqol5_burnout", conf_level=conf_level)
show(assoc.to_frame())

# %%
plots.scatter_with_fit(
    baseline,
    x="stss_score",
    y="proqol5_burnout",
    title=f"Mentors with more STS report more burnout (r = {assoc.r:.2f}, "
    f"{conf_level:.0%} CI {assoc.ci[0]:.2f} to {assoc.ci[1]:.2f})",
    xlabel="Secondary traumatic stress, STSS total (17-85)",
    ylabel="Burnout, ProQOL (10-50)",
)

# %% [markdown]
# ## What the program can change
#
# The key numbers behind the summary below, from this run of the notebook:

# %%
c = stss_fit.coefficients
print(
    f"STSS points per extra young person in the caseload: {c.loc['caseload', 'estimate']:+.1f} "
    f"({c.loc['caseload', 'ci_lower']:+.1f} to {c.loc['caseload', 'ci_upper']:+.1f})"
)
for term in c.index[c.index.str.startswith("supervision")]:
    print(
        f"STSS points, {term}: {c.loc[term, 'estimate']:+.1f} "
        f"({c.loc[term, 'ci_lower']:+.1f} to {c.loc[term, 'ci_upper']:+.1f})"
    )
print(
    f"Correlation of STS (STSS) with burnout: r = {assoc.r:.2f} "
    f"({assoc.ci[0]:.2f} to {assoc.ci[1]:.2f}), n = {assoc.n}"
)
print(
    f"Mean burnout change over the year: {change.loc['proqol5_burnout', 'mean_change']:+.1f} "
    f"points (n = {change.loc['proqol5_burnout', 'n']:.0f})"
)

# %% [markdown]
# In plain language, for the program as a whole (all sites; a single site's numbers above may
# differ):
#
# - **Most mentors are doing reasonably well.** About half are in the low ProQOL burnout band
#   and about four in five in the low ProQOL STS band; no mentor scored in the high band of
#   either. About two in three are in the moderate compassion satisfaction band. The STSS
#   bands are less reassuring: most mentors are in its "mild" band and about one in twelve in
#   its high or severe bands. Average scores hardly moved over the first year (changes well
#   under one point). Averages can hide a few mentors who struggle: supervisors, not this
#   report, are the ones to notice them.
# - **Caseload and supervision are the program's levers; the data lean the expected way
#   without proving it.** On both STS measures, mentors with one more young person report
#   slightly more STS, and mentors supervised fortnightly slightly less than those supervised
#   monthly. Weekly supervision shows no clear difference, burnout shows no consistent
#   pattern, and training hours no clear link either way. Every interval includes zero: with
#   about 360 mentors and caseloads of 1-3, the data cannot tell a small real effect from
#   chance.
# - **STS and burnout go together** (a moderate correlation, about 0.5). Support that eases
#   one may ease the other, so supervision that makes room to talk about what mentors hear
#   from young people, and manageable caseloads, are sensible defaults.
# - **To learn what works, change one thing and measure.** Because mentors were not assigned
#   to caseloads or supervision at random, these associations cannot show cause and effect. A
#   program that wants to know whether, say, fortnightly supervision lowers STS could introduce
#   it at some sites first and compare the ProQOL and STSS of mentors a year later.
# - These data are synthetic. The notebook shows how to look at a real program's mentors;
#   its numbers are not evidence about mentoring.
