# %% [markdown]
# # Mentor well-being: burnout and secondary traumatic stress
#
# Mentoring young people who have lived through trauma can weigh on mentors. This notebook
# asks how the program's mentors are doing when they join, how that changes over their first
# year, which things the program controls (how many young people a mentor is matched with, how
# often they meet a supervisor, how much trauma-informed training they had) go together with
# that change, and whether mentor stress and the early closure of matches go together.
#
# Mentors answered two questionnaires when they joined (baseline, before their first match)
# and 12 months later:
#
# - the **ProQOL 5** (Professional Quality of Life), with three 10-item subscales scored 10-50:
#   *compassion satisfaction* (the pleasure of helping well; higher is better), *burnout* and
#   *secondary traumatic stress* (STS: fear-driven reactions to hearing about others'
#   trauma; higher is worse);
# - the **STSS** (Secondary Traumatic Stress Scale), 17 items scored 17-85; higher is worse.
#
# Caseload and supervision come *after* the baseline survey, so they cannot explain it: the
# question is whether they go with the **change** over the year, which is what the 12-month
# survey measures.
#
# > These are group summaries for planning support, not assessments of individual mentors.
# > The ProQOL is not a diagnostic tool. Counts smaller than `min_cell` are suppressed.

# %%
from typing import Optional

from tim_research import load_instrument, plots
from tim_research.stats.associations import correlation, linear_regression, stack_coefficients
from tim_research.stats.competing import early_closure
from tim_research.stats.measurement import band_distribution
from tim_research.stats.outcomes import change_table
from tim_research.stats.prevalence import distribution
from tim_research.stats.survival import cox
from tim_research.synth import REFERENCE_SD
from IPython.display import display

from tim_research.program import RELATIONSHIP_WAVES
from tim_research.stats.outcomes import group_means
from tim_research.views.notebook import needs, setup, show
from tim_research.views.tables import (
    band,
    match_table,
    mentor_change,
    mentor_scores,
    relationship_scores,
    wide_scores,
)

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column
pre_wave: str = "baseline"  # first mentor survey wave compared
post_wave: str = "12m"  # later mentor survey wave compared
conf_level: float = 0.95  # coverage of every confidence interval
caseload_breaks: list = [1, 2]  # left edges of the caseload bands (young people; last open-ended)
stss_breaks: list = [17, 28, 38]  # left edges of the baseline STSS bands (Bride 2007 cut points)

# %%
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
mentors = mentor_scores(nb.program)
baseline = mentors.xs(pre_wave, level="wave")
change = mentor_change(nb.program, pre_wave=pre_wave, post_wave=post_wave)
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
paired = change_table(
    wide,
    pairs={s: (f"{s}_{pre_wave}", f"{s}_{post_wave}") for s in scores},
    min_cell=nb.min_cell,
    conf_level=conf_level,
).set_index("measure")
show(paired[["n", "mean_change", "ci_lower", "ci_upper", "p", "cohens_dz", "note"]], digits=3)

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
# ## Who answered the 12-month survey?
#
# The analysis of change needs both surveys. A mentor without 12-month scores (lost to
# follow-up, not yet due at the data cut-off, or too many items skipped) is left out of it,
# not imputed. That is sound when whether a mentor answered depends only on things the model
# holds constant (the baseline score, caseload, supervision and training), and biased when it
# depends on the 12-month stress itself (mentors who struggle most may be the ones who stop
# answering). The table gives the share of mentors left out in each caseload band, so a
# reader can see whether the busiest mentors are missing more often.

# %%
change["caseload_band"] = band(
    change["caseload"].astype(float), breaks=caseload_breaks, unit=" young people"
).cat.remove_unused_categories()
change["survey"] = change["complete"].map(
    {True: "both surveys", False: f"no {post_wave} scores"}
).astype("category").cat.set_categories(["both surveys", f"no {post_wave} scores"])
followed = distribution(change, "survey", by="caseload_band", min_cell=nb.min_cell,
                        conf_level=conf_level)
show(followed[followed["category"] != "both surveys"], digits=3)

# %%
missing = followed[followed["category"] != "both surveys"].dropna(subset=["count"])
for _, row in missing.iterrows():
    print(
        f"Caseload {row['caseload_band']}: {row['count']:.0f} of {row['n']:.0f} mentors "
        f"({row['estimate']:.0%}, {conf_level:.0%} CI {row['ci_lower']:.0%} to "
        f"{row['ci_upper']:.0%}) have no {post_wave} scores"
    )

# %% [markdown]
# ## What goes together with the change in stress and burnout?
#
# One linear regression per score for the mentors with both surveys: the 12-month score on
# the baseline score, caseload (young people matched with the mentor), supervision frequency
# (per step: monthly, fortnightly, weekly) and training hours (per 10 hours). Holding the
# baseline score constant makes each estimate a difference in **change** (analysis of
# covariance, ANCOVA): the difference in 12-month score points linked to one more young
# person, one more supervision step or ten more hours of training, for mentors who started at
# the same level, with the other two factors held constant. Mentors were not assigned to
# caseloads or supervision at random, so these are associations: for example, a program may
# give more supervision to mentors it already sees struggling.

# %%
factors = "caseload + supervision_step + I(training_hours / 10)"
columns = ["estimate", "se", "ci_lower", "ci_upper", "p", "n"]
stss_fit = linear_regression(
    change, f"stss_score_{post_wave} ~ stss_score_{pre_wave} + {factors}", conf_level=conf_level
)
show(stss_fit.coefficients[columns], digits=3)

# %%
burnout_fit = linear_regression(
    change,
    f"proqol5_burnout_{post_wave} ~ proqol5_burnout_{pre_wave} + {factors}",
    conf_level=conf_level,
)
show(burnout_fit.coefficients[columns], digits=3)

# %%
program_terms = ["caseload", "supervision_step", "training_hours / 10"]
effects = stack_coefficients({"STSS": stss_fit, "Burnout": burnout_fit})
effects = effects[effects.index.str.endswith(tuple(program_terms))]
clear = ((effects["ci_lower"] > 0) | (effects["ci_upper"] < 0)).sum()
plots.forest(
    effects,
    title=f"{clear} of {len(effects)} program factors have an interval that excludes zero",
    xlabel=f"Difference in {post_wave} score points, same baseline ({conf_level:.0%} CI)",
)

# %% [markdown]
# ### Two checks of the model
#
# The model above counts supervision in equal steps. The first check gives fortnightly and
# weekly supervision each their own difference from monthly supervision; if the steps are
# roughly equal, the weekly difference is about twice the fortnightly one. The second adds
# the site (each site its own intercept: site fixed effects), so that differences between
# sites in how they support mentors are not read as effects of caseload or supervision. It is
# left out when the data hold one site.

# %%
checks = {"STSS, supervision per step": stss_fit}
checks["STSS, supervision as categories"] = linear_regression(
    change,
    f"stss_score_{post_wave} ~ stss_score_{pre_wave} + caseload + supervision"
    " + I(training_hours / 10)",
    conf_level=conf_level,
)
if change.loc[change["complete"], "site"].nunique() > 1:
    checks["STSS, site fixed effects"] = linear_regression(
        change, f"stss_score_{post_wave} ~ stss_score_{pre_wave} + {factors} + C(site)",
        conf_level=conf_level,
    )
compared = stack_coefficients(checks)
show(compared[compared["coefficient"].str.contains("caseload|supervision")][columns], digits=3)

# %% [markdown]
# ## Mentor stress and the early closure of matches
#
# Two questions, one in each direction. First: do matches of mentors who joined with more
# secondary traumatic stress close early more often? The mentor's baseline STSS is measured
# before the first match, so it comes before any closure. The table gives the share of
# matches that closed for an unplanned reason within 12 months (the library's one definition
# of early closure: cumulative incidence, planned completion competing, open matches followed
# up to the data cut-off) by the mentor's baseline STSS band (`stss_breaks`). The Cox model
# after it adds the mentor's baseline STSS (per 10 points) to the model of notebook 05
# (training per 10 hours, the young person's age and ACE score, caseload; a separate baseline
# rate per site; standard errors that allow for several matches of one mentor).

# %%
matches = match_table(nb.program).join(change[[f"stss_score_{pre_wave}"]], on="mentor_id")
matches = matches.dropna(subset=[f"stss_score_{pre_wave}"])
stss_band = band(matches[f"stss_score_{pre_wave}"], breaks=stss_breaks, unit=" points")
by_stress = early_closure(
    matches,
    cutoff=nb.program.cutoff,
    months=12,
    by=stss_band.cat.remove_unused_categories(),
    min_cell=nb.min_cell,
    conf_level=conf_level,
)
show(by_stress, digits=3)

# %%
hazards = cox(
    matches.assign(closed_early=matches["unplanned_closure"]),
    duration="duration_months",
    event="closed_early",
    covariates=[f"stss_score_{pre_wave}", "training_hours", "age", "ace10_score", "caseload"],
    per={f"stss_score_{pre_wave}": 10, "training_hours": 10},
    strata="site",
    cluster="mentor_id",
    missing="drop",
    conf_level=conf_level,
)
show(hazards, digits=3)

# %%
stress_hr = hazards.loc[f"stss_score_{pre_wave} (per 10)"]
print(
    f"Hazard ratio of early closure per 10 points of mentor baseline STSS: "
    f"{stress_hr['hr']:.2f} ({conf_level:.0%} CI {stress_hr['ci_lower']:.2f} to "
    f"{stress_hr['ci_upper']:.2f}, p = {stress_hr['p']:.2f}); {hazards.attrs['n']} matches, "
    f"{hazards.attrs['n_events']} early closures, {hazards.attrs['n_clusters']} mentors"
)

# %% [markdown]
# Second: do mentors whose matches closed for an unplanned reason before their 12-month
# survey report more stress a year on? The change model above, with the number of such
# closures added. Caseload stays in the model, because a mentor with more young people has
# more matches that can close. A closure and a rise in stress may both follow from something
# else (a hard year for the mentor), so this too is an association.

# %%
closure_fit = linear_regression(
    change,
    f"stss_score_{post_wave} ~ stss_score_{pre_wave} + {factors} + closures_before_{post_wave}",
    conf_level=conf_level,
)
per_closure = closure_fit.coefficients.loc[f"closures_before_{post_wave}"]
show(closure_fit.coefficients[columns], digits=3)
print(
    f"{post_wave} STSS points per unplanned closure before the survey: "
    f"{per_closure['estimate']:+.2f} ({per_closure['ci_lower']:+.2f} to "
    f"{per_closure['ci_upper']:+.2f}), n = {closure_fit.n}"
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
    title=f"STSS and burnout at {pre_wave}: r = {assoc.r:.2f} "
    f"({conf_level:.0%} CI {assoc.ci[0]:.2f} to {assoc.ci[1]:.2f})",
    xlabel="Secondary traumatic stress, STSS total (17-85)",
    ylabel="Burnout, ProQOL (10-50)",
)

# %% [markdown]
# ## Mentors' view of their relationships
#
# Mentors rate each relationship on the Mentor Strength of Relationship scale (MSoR) early in
# the match (the first relationship wave). The table sets the mean MSoR total beside the
# things above: supervision frequency and training, and the mentor's baseline STSS band. The
# MSoR is reported as a total only (its subscale item map is unverified; the instrument's
# caveat is printed). A mentor with several matches counts once per match.

# %%
if needs(nb, "relationship_surveys", "matches"):
    print(f"MSoR caveat: {load_instrument('msor').caveat}")
    rel = relationship_scores(nb.program).reset_index()
    first_wave = RELATIONSHIP_WAVES[0]
    mentor_view = rel[(rel["reporter"] == "mentor") & (rel["wave"] == first_wave)]
    mentor_view = mentor_view.join(
        change[["supervision", "training_hours", f"stss_score_{pre_wave}"]], on="mentor_id"
    )
    mentor_view["training_band"] = band(mentor_view["training_hours"], breaks=[0, 10, 20],
                                        unit=" hours")
    for factor in ("supervision", "training_band"):
        display(show(group_means(mentor_view, value="msor_score", by=factor,
                                 min_cell=nb.min_cell, conf_level=conf_level), digits=2))
    with_stss = mentor_view.dropna(subset=["msor_score", f"stss_score_{pre_wave}"])
    if len(with_stss) >= max(nb.min_cell, 4):
        msor_r = correlation(with_stss, f"stss_score_{pre_wave}", "msor_score",
                             conf_level=conf_level)
        print(
            f"Mentor baseline STSS and early MSoR total: r = {msor_r.r:.2f} "
            f"({msor_r.ci[0]:.2f} to {msor_r.ci[1]:.2f}), {msor_r.n} matches"
        )

# %% [markdown]
# ## Key numbers
#
# The numbers behind the reading guide below, from this run of the notebook. Where the data
# package declares planted effects, the last lines set the estimates beside them.

# %%
for label, fit in (("STSS", stss_fit), ("Burnout", burnout_fit)):
    c = fit.coefficients
    for term, unit in (("caseload", "extra young person"), ("supervision_step", "supervision step"),
                       ("training_hours / 10", "10 training hours")):
        print(
            f"{label} change per {unit}: {c.loc[term, 'estimate']:+.2f} points "
            f"({c.loc[term, 'ci_lower']:+.2f} to {c.loc[term, 'ci_upper']:+.2f}), n = {fit.n}"
        )
print(
    f"Mean STSS change over the year: {paired.loc['stss_score', 'mean_change']:+.1f} points; "
    f"burnout {paired.loc['proqol5_burnout', 'mean_change']:+.1f} points"
)
print(
    f"Correlation of STS (STSS) with burnout: r = {assoc.r:.2f} "
    f"({assoc.ci[0]:.2f} to {assoc.ci[1]:.2f}), n = {assoc.n}"
)

# %%
planted = nb.program.effects
if planted is not None:
    points = REFERENCE_SD["stss"] * len(load_instrument("stss").items)  # d units -> STSS points
    truth = {"caseload": planted.caseload_sts_d, "supervision_step": planted.supervision_sts_d}
    for term, d in truth.items():
        row = stss_fit.coefficients.loc[term]
        inside = "inside" if row["ci_lower"] <= d * points <= row["ci_upper"] else "outside"
        print(
            f"Synthetic data: planted {term} effect on the {post_wave} STSS {d * points:+.2f} "
            f"points ({d:+.2f} SD); estimate {row['estimate']:+.2f}, the planted value is "
            f"{inside} its {conf_level:.0%} interval"
        )
    closure_terms = planted.to_frame().query("scale.str.contains('hazard ratio')").index
    print(
        "Synthetic data: early closure was planted to depend on "
        f"{', '.join(closure_terms)} only; no link with mentor stress was planted"
    )
else:
    print("These data carry no planted effects: there is no known truth to compare with.")

# %% [markdown]
# ## Reading these results
#
# - **Where mentors start.** The band tables describe mentors when they joined; the ProQOL
#   and STSS bands can tell different stories, and the STSS bands were set for social workers.
#   Averages can hide a few mentors who struggle: supervisors, not this report, are the ones
#   to notice them.
# - **What goes with change.** The regressions compare mentors who started at the same level.
#   An interval that excludes zero is a difference the data can tell from chance; one that
#   spans zero is not evidence of no effect, only of an effect too small for this many
#   mentors to detect. The two checks show whether the supervision steps are about equal and
#   whether the estimates move when each site keeps its own level.
# - **Who is missing.** If the share without 12-month scores differs a lot between caseload
#   bands, or if the mentors who stop answering are the ones under most strain, the change
#   estimates may be too rosy; a program can reduce this by making the 12-month survey part of
#   supervision.
# - **Stress and closure.** The closure table and the Cox model ask whether stress at joining
#   goes with matches ending early; the last model asks whether an early ending goes with
#   more stress later. Neither can say which causes which.
# - **To learn what works, change one thing and measure.** Because mentors were not assigned
#   to caseloads or supervision at random, these associations cannot show cause and effect. A
#   program that wants to know whether, say, fortnightly supervision lowers STS could introduce
#   it at some sites first and compare the change in ProQOL and STSS of mentors a year later.
