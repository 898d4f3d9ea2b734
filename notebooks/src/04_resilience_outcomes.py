# %% [markdown]
# # Resilience outcomes: baseline, 6 and 12 months
#
# Does mentoring change young people's resilience over the first year? This notebook follows two
# self-report scales from baseline to 6 and 12 months: the Brief Resilience Scale (BRS, mean of 6
# items, 1-5) and the Child and Youth Resilience Measure (CYRM-R, sum of 17 items, 17-85). Higher
# is better on both.
#
# > **What this design can and cannot say.** The comparison group is a waitlist at some sites
# > only. The primary estimate compares the arms *within* those sites (intention to treat: every
# > young person counts in the arm they were assigned to, whether or not a match happened or
# > lasted). Where the waitlist was assigned at random within a site, that comparison is a
# > causal estimate; otherwise it is an association adjusted for baseline scores and site. Dose
# > (months matched, meetings) is what young people *received*, which depends on their match
# > lasting: those results are associations. Results describe groups, never individuals.

# %%
from typing import Optional

import numpy as np
import pandas as pd
from IPython.display import display

from tim_research import plots
from tim_research.errors import DataError
from tim_research.instruments import load_instrument
from tim_research.stats.associations import linear_regression
from tim_research.stats.evaluation import (
    analysis_plan,
    attrition,
    baseline_equivalence,
    benjamini_hochberg,
    e_value,
    itt_effect,
    tipping_point,
)
from tim_research.stats.outcomes import (
    change_criterion,
    change_table,
    group_means,
    growth_model,
    reliable_change,
)
from tim_research.stats.prevalence import distribution
from tim_research.views.notebook import needs, setup, show
from tim_research.views.tables import (
    baseline_items,
    growth_frame,
    wide_scores,
    youth_contact,
    youth_scores,
)

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column
ace_bands: str = "cdc_2019"  # ACE bands of the moderator: cdc_2019 (0,1,2-3,4+) or cdc_ace_study
ace_centre: int = 2  # ACE score whose band is the reference of the moderation terms
n_imputations: int = 20  # imputed data sets in the missing-data analyses
attrition_boundary: str = "cautious"  # WWC attrition boundary: cautious or optimistic
plan: dict = {}  # analysis plan: primary, estimand, secondary, multiplicity, alpha; empty for the default

# %%
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
scores = youth_scores(nb.program, ace_cutoffs=ace_bands)
wide = wide_scores(scores, values=["brs_score", "cyrm_r_score"])
contact = youth_contact(nb.program, months=12)
youth = contact.join(wide.drop(columns=["site", "arm"]))
youth["girl"] = (youth["gender"] == "girl").astype(float).where(youth["gender"].notna())
OUTCOMES = {
    "BRS 12 months": ("brs_score_baseline", "brs_score_12m"),
    "CYRM-R 12 months": ("cyrm_r_score_baseline", "cyrm_r_score_12m"),
    "BRS 6 months": ("brs_score_baseline", "brs_score_6m"),
    "CYRM-R 6 months": ("cyrm_r_score_baseline", "cyrm_r_score_6m"),
}
arms_per_site = youth.groupby("site", observed=True)["arm"].nunique()
two_arm_sites = [s for s, k in arms_per_site.items() if k == 2]
randomised = youth[youth["site"].isin(two_arm_sites)]
print(f"{len(youth)} enrolled young people, {nb.site_label}; sites with both arms: "
      f"{', '.join(map(str, two_arm_sites)) or 'none'}")

# %% [markdown]
# ## The analysis plan
#
# Declared before the results: one primary outcome and estimand, the secondary outcomes, and
# how their p-values are adjusted for testing several (Benjamini-Hochberg keeps the expected
# share of false discoveries among the secondary findings at the plan's alpha). Everything
# else in this notebook (dose, closure, moderation, reliable change) is exploratory.

# %%
DEFAULT_PLAN = {
    "primary": "BRS 12 months",
    "estimand": "intention to treat at sites with both arms: follow-up score on arm, "
    "baseline score and site (fixed effects)",
    "secondary": ["CYRM-R 12 months", "BRS 6 months", "CYRM-R 6 months"],
    "multiplicity": "BH",
    "alpha": 0.05,
}
the_plan = analysis_plan(plan or DEFAULT_PLAN, outcomes=list(OUTCOMES))
show(the_plan.to_frame())

# %% [markdown]
# ## Mean scores at each wave
#
# Mean score of each group at baseline, 6 and 12 months, with 95% confidence intervals, over
# all sites. Each wave includes everyone who answered it, so the groups of people differ a
# little between waves. `n` is the number who answered.

# %%
brs_means = group_means(scores, value="brs_score", by=["arm", "months"], min_cell=nb.min_cell)
show(brs_means)

# %%
first, last = brs_means[brs_means["arm"] == "mentored"]["mean"].iloc[[0, -1]]
brs_instrument = load_instrument("brs")
brs_range = brs_instrument.scale_range(brs_instrument.scales[0])
plots.trajectories(
    brs_means,
    x="months",
    group="arm",
    title=f"BRS of mentored youth: {first:.2f} at baseline, {last:.2f} at 12 months",
    xlabel="Months since enrolment",
    ylabel="BRS score (1-5, mean and 95% CI)",
    scale=brs_range,  # the whole scale, so a small change does not look steep
)

# %% [markdown]
# ## Change within each group
#
# The same young people at baseline and follow-up (complete pairs only). Changes within one
# group also include what happens to every young person over a year (growing up, the school
# year, returning towards the average after a hard time at enrolment), which is why the
# comparison group matters.

# %%
changes = change_table(
    wide,
    pairs={"BRS 0-12 months": OUTCOMES["BRS 12 months"],
           "CYRM-R 0-12 months": OUTCOMES["CYRM-R 12 months"]},
    by="arm",
    min_cell=nb.min_cell,
)
show(changes[["measure", "arm", "n", "mean_change", "ci_lower", "ci_upper", "hedges_gz",
              "suppressed", "note"]], digits=3)

# %% [markdown]
# ## Who is missing at 12 months? Attrition (What Works Clearinghouse)
#
# Attrition is the share of young people assigned to an arm (at the sites with both arms)
# without a 12-month BRS score. The WWC Standards Handbook judges overall attrition together
# with the difference between the arms: below its boundary attrition is "low"; above it,
# the arms analysed may no longer be comparable even if they were at assignment. The
# **cautious** boundary is the plan's choice here because mentoring can change who answers
# (a closed match makes a missed survey more likely).

# %%
if two_arm_sites:
    attr = attrition(randomised, "brs_score_12m", boundary=attrition_boundary,
                     min_cell=nb.min_cell)
    display(show(attr.to_frame(), digits=3))
    if not attr.suppressed:
        print(f"Overall attrition {attr.overall:.0%}, differential {attr.differential:.1%} "
              f"(the {attr.boundary} boundary at this overall rate allows "
              f"{attr.max_differential:.1%}): {attr.rating} attrition.")
else:
    print("No site has both arms: attrition by arm cannot be assessed.")

# %%
mentored = youth[youth["arm"] == "mentored"].assign(
    site_name=lambda d: d["site"].astype(str),
    missing_12m=lambda d: d["brs_score_12m"].isna().astype(float),
    closure=lambda d: np.where(d["early_closure"] == 1, "closed early", "not closed early"),
)
missing_by_closure = group_means(mentored, value="missing_12m", by="closure",
                                 min_cell=nb.min_cell)
show(missing_by_closure[["closure", "n", "mean", "suppressed"]].rename(
    columns={"mean": "share missing at 12 months"}))

# %% [markdown]
# ## Were the arms alike at the start? Baseline equivalence (WWC)
#
# On the young people analysed for the primary outcome. Hedges' g is the baseline difference
# in pooled SDs (the Cox index for yes/no characteristics). WWC bands: |g| up to 0.05
# satisfies equivalence; 0.05 to 0.25 requires the characteristic in the model (the baseline
# score is, the others are not); above 0.25 does not satisfy.

# %%
pre, post = OUTCOMES[the_plan.primary]
analysed = randomised[randomised[[pre, post]].notna().all(axis=1)]
if two_arm_sites:
    equivalence = baseline_equivalence(
        analysed, [pre, "cyrm_r_score_baseline", "age", "ace10_score", "girl"],
        min_cell=nb.min_cell,
    )
    display(show(equivalence, digits=3))
    worst = equivalence.loc[equivalence["hedges_g"].abs().idxmax()]
    print(f"Largest baseline difference: {worst['covariate']} (g = {worst['hedges_g']:.2f}, "
          f"{worst['band']}).")

# %% [markdown]
# ## The primary estimate: intention to treat within sites
#
# 12-month score adjusted for the baseline score and for site (a fixed effect per site), at
# the sites that have both arms; sites with one arm cannot say anything about the
# comparison and are left out. `hedges_g` is the WWC effect size (the adjusted difference in
# pooled SDs of the 12-month score, with its interval) and `improvement_index` the expected
# change in percentile rank of an average comparison young person had they been mentored.

# %%
if two_arm_sites:
    primary = itt_effect(youth, post, baseline=pre)
    display(show(primary.to_frame().T, digits=3))
    print(
        f"{the_plan.primary}: mentored minus comparison {primary.estimate:+.3f} points "
        f"(95% CI {primary.ci_lower:.3f} to {primary.ci_upper:.3f}, p = {primary.p:.3f}, "
        f"n = {primary.n}); g = {primary.hedges_g:.2f}, improvement index "
        f"{primary.improvement_index:+.1f} percentile points. Sites left out: "
        f"{', '.join(primary.excluded_sites) or 'none'} ({primary.n_excluded} young people)."
    )

# %%
if two_arm_sites:
    show(primary.coefficients, digits=3)

# %% [markdown]
# ### Sensitivity of the primary estimate
#
# - **Youth sharing a mentor** are not independent: standard errors clustered by mentor (CR1;
#   comparison youth are clusters of one).
# - **Dropout at random?** Multiple imputation of missing 12-month scores from the arm, site,
#   baseline scores, 6-month scores, ACE score, age, early closure and months matched (the last
#   two predict who is missing), then the same analysis (the first row, no shift, below).
# - **Dropout not at random:** the same imputations with every imputed mentored score
#   lowered by `delta` points (mentored youth who left did that much worse than similar youth
#   who stayed). The *tipping point* is the smallest shift that changes the conclusion.
# - **Unmeasured confounding:** the E-value is the strength of association (risk-ratio scale)
#   an unmeasured confounder would need with both arm and outcome to explain the estimate
#   away (VanderWeele & Ding 2017), for the estimate and for its interval limit nearest zero.

# %%
if two_arm_sites:
    clustered = itt_effect(youth, post, baseline=pre, cluster="mentor_id")
    ev = e_value(primary.hedges_g, primary.hedges_g_ci, scale="smd")
    deltas = [round(-0.05 * k, 2) for k in range(0, 13)]
    tip = tipping_point(
        youth, post, baseline=pre,
        auxiliary=["brs_score_6m", "cyrm_r_score_baseline", "ace10_score", "age",
                   "early_closure", "matched_months"],
        deltas=deltas, alpha=the_plan.alpha, m=n_imputations, seed=nb.seed,
    )
    mar = tip.table.set_index("delta").loc[0.0]
    sensitivity = pd.DataFrame([
        {"analysis": "site fixed effects (primary)", "estimate": primary.estimate,
         "ci_lower": primary.ci_lower, "ci_upper": primary.ci_upper, "p": primary.p},
        {"analysis": f"SE clustered by mentor ({clustered.n_clusters} clusters)",
         "estimate": clustered.estimate, "ci_lower": clustered.ci_lower,
         "ci_upper": clustered.ci_upper, "p": clustered.p},
        {"analysis": f"multiple imputation, MAR ({tip.m} imputations)",
         "estimate": mar["estimate"], "ci_lower": mar["ci_lower"], "ci_upper": mar["ci_upper"],
         "p": mar["p"]},
    ])
    display(show(sensitivity, digits=3))
    print(f"E-value {ev.e_value:.2f} for the estimate and {ev.e_value_ci:.2f} for its interval "
          "limit nearest zero.")

# %%
if two_arm_sites:
    display(show(tip.table, digits=3))
    if np.isnan(tip.tipping_delta):
        print(f"No shift down to {min(deltas)} points changes the conclusion at alpha "
              f"{the_plan.alpha}.")
    else:
        sd = analysed[post].std()
        print(f"The conclusion changes when imputed mentored scores are shifted by "
              f"{tip.tipping_delta:+.2f} points ({tip.tipping_delta / sd:+.2f} SD of the "
              f"12-month score); {tip.n_imputed_treated} mentored and "
              f"{tip.n_imputed_control} comparison scores were imputed.")

# %% [markdown]
# ## Secondary outcomes
#
# The same estimand for each secondary outcome. `p_bh` is the p-value adjusted by the plan's
# rule across the secondary outcomes; read a secondary result as supported when `p_bh` is
# below the plan's alpha.

# %%
if two_arm_sites:
    rows = []
    for label in the_plan.secondary:
        b, f = OUTCOMES[label]
        try:
            r = itt_effect(youth, f, baseline=b)
        except DataError as exc:  # e.g. a wave these data hardly have
            print(f"{label}: not estimated: {exc}.")
            continue
        rows.append({"outcome": label, "n": r.n, "estimate": r.estimate, "ci_lower": r.ci_lower,
                     "ci_upper": r.ci_upper, "hedges_g": r.hedges_g, "p": r.p})
    if rows:
        secondary = pd.DataFrame(rows)
        if the_plan.multiplicity == "BH":
            secondary["p_bh"] = benjamini_hochberg(secondary["p"])
        display(show(secondary, digits=3))
        supported = (secondary.get("p_bh", secondary["p"]) < the_plan.alpha).sum()
        print(f"{supported} of {len(secondary)} secondary outcomes estimated are supported "
              "after adjustment.")

# %% [markdown]
# ## How many young people changed reliably?
#
# A change counts as reliable (Jacobson & Truax 1991) when it is larger than measurement error
# alone would produce 95% of the time. The threshold needs an SD (here: the baseline SD of the
# sample) and a reliability. Cronbach's alpha ignores how much scores move between occasions
# without real change, so where the data allow the reliability is the **retest correlation**
# of comparison youth between baseline and 6 months (no mentoring in between); otherwise alpha.
# `critical_change` is the smallest change, in score points, that counts as reliable. The
# tables count groups; no list of individual young people is produced.

# %%
comparison = youth[youth["arm"] == "comparison"]
retest_pairs = int(comparison[["brs_score_baseline", "brs_score_6m"]].notna().all(axis=1).sum())
use_retest = retest_pairs >= 30
criteria = {}
for inst, col in (("brs", "brs_score"), ("cyrm_r", "cyrm_r_score")):
    retest = ((comparison[f"{col}_baseline"], comparison[f"{col}_6m"]) if use_retest else None)
    criteria[inst] = change_criterion(baseline_items(nb.program, inst), instrument=inst,
                                      retest=retest)
alpha_brs = change_criterion(baseline_items(nb.program, "brs"), instrument="brs")
show(pd.concat([c.to_frame() for c in [alpha_brs, *criteria.values()]], ignore_index=True),
     digits=3)

# %%
brs_reliable = reliable_change(
    youth["brs_score_baseline"], youth["brs_score_12m"],
    sd=criteria["brs"].sd, reliability=criteria["brs"].reliability,
)
print(f"BRS criterion: {criteria['brs'].reliability_kind} {criteria['brs'].reliability:.2f}, "
      f"critical change {criteria['brs'].critical_change:.2f} points (with alpha "
      f"{alpha_brs.reliability:.2f} it would be {alpha_brs.critical_change:.2f}).")
show(distribution(brs_reliable.join(youth["arm"]), "category", by="arm", min_cell=nb.min_cell))

# %%
cyrm_reliable = reliable_change(
    youth["cyrm_r_score_baseline"], youth["cyrm_r_score_12m"],
    sd=criteria["cyrm_r"].sd, reliability=criteria["cyrm_r"].reliability,
)
show(distribution(cyrm_reliable.join(youth["arm"]), "category", by="arm", min_cell=nb.min_cell))

# %% [markdown]
# ## Longer matches and ACE scores: an association, not a finding about whom it helps
#
# A growth model uses every survey a young person answered. Mentoring enters as **months
# matched by the survey date** (`matched_years`, per 12 months). Match length is received,
# not assigned: matches of older youth, youth with more ACEs and less trained mentors close
# earlier, so these terms are associations. The ACE bands are compared with the band that
# holds the `ace_centre` score, so `matched_years` is the association *in that band* and each
# `matched_years x ACE` term the difference from it.

# %%
ace = scores["ace10_score_category"]
bands = list(ace.cat.categories)
centre_band = next(
    (b for b in bands if (scores.loc[ace == b, "ace10_score"] == ace_centre).any()), bands[0]
)
centred = scores.assign(
    ace10_score_category=ace.cat.reorder_categories(
        [centre_band] + [b for b in bands if b != centre_band]
    )
)
brs_growth = growth_frame(centred, outcome="brs_score")
brs_model = growth_model(brs_growth.frame, **brs_growth.spec)
show(brs_model.fixed, digits=3)

# %%
brs_dose = brs_model.fixed.loc["matched_years"]
plots.forest(
    brs_model.fixed.drop(index="Intercept"),
    title=f"BRS: {brs_dose['estimate']:+.2f} points per 12 months matched (ACE {centre_band})",
    xlabel="Difference in BRS points (95% CI)",
)

# %%
print(f"{brs_model.n_obs} surveys of {brs_model.n_subjects} young people; "
      f"{brs_model.n_dropped} surveys left out (missing score or ACE band). Reference band: "
      f"ACE {centre_band} (holds ACE score {ace_centre}).")
effects = nb.program.effects
if effects is not None:
    from tim_research.synth import REFERENCE_SD

    planted = effects.brs_d * REFERENCE_SD["brs"]
    per_ace = effects.ace_moderation_d * REFERENCE_SD["brs"]
    print(f"Synthetic data: the planted gain is {planted:.3f} BRS points per 12 months matched "
          f"at ACE score {ace_centre} (growing by {per_ace:.3f} per further ACE); "
          f"estimated {brs_dose['estimate']:.3f} "
          f"({brs_dose['ci_lower']:.3f} to {brs_dose['ci_upper']:.3f}) in band {centre_band}.")

# %% [markdown]
# ## Dose by contact
#
# Among mentored young people with both BRS surveys: the 12-month score against months
# matched in the first year, meetings per month matched, minutes per meeting and the share of
# meetings held in person, adjusted for baseline and site. Contact is received, so these are
# associations: a young person who meets more often may differ in other ways.

# %%
site_term = " + C(site_name)" if mentored["site_name"].nunique() > 1 else ""
if needs(nb, "meetings"):
    dose_data = mentored.dropna(
        subset=["brs_score_baseline", "brs_score_12m", "meetings_per_month"]
    )
    dose_fit = linear_regression(
        dose_data,
        "brs_score_12m ~ brs_score_baseline + matched_months + meetings_per_month"
        " + minutes_per_meeting + share_in_person" + site_term,
    )
    display(show(dose_fit.coefficients, digits=3))
    dose_terms = dose_fit.coefficients.loc[
        ["matched_months", "meetings_per_month", "minutes_per_meeting", "share_in_person"]
    ]
    display(plots.forest(
        dose_terms,
        title=f"BRS at 12 months and mentoring received (n = {dose_fit.n} mentored youth)",
        xlabel="Difference in BRS points per unit (95% CI)",
    ))

# %% [markdown]
# ## Early closure: a possible harm
#
# A match that closes for an unplanned reason within its first 3 months is counted here as a
# harm to examine, not as "less mentoring". Mentored young people whose match closed early
# are compared with those whose match did not, adjusted for baseline and site. Young people
# whose match closed early are also more often missing at 12 months (table above), so this
# estimate rests on those who still answered.

# %%
closure_data = mentored.dropna(subset=["brs_score_baseline", "brs_score_12m"])
closure_fit = linear_regression(
    closure_data, "brs_score_12m ~ early_closure + brs_score_baseline" + site_term
)
harm = closure_fit.coefficients.loc["early_closure"]
show(closure_fit.coefficients, digits=3)
print(f"Early closure and the 12-month BRS: {harm['estimate']:+.3f} points "
      f"({harm['ci_lower']:.3f} to {harm['ci_upper']:.3f}), n = {closure_fit.n}.")
if effects is not None:
    print(f"Synthetic data: the planted effect of early closure is "
          f"{effects.early_closure_d * REFERENCE_SD['brs']:+.3f} BRS points.")

# %% [markdown]
# ## Reading these results
#
# - The plan's primary estimate answers the main question; secondary outcomes are read with
#   their adjusted p-values, and everything after them is exploratory.
# - The WWC tables say how far the analysed arms can be trusted to be comparable: high
#   attrition or baseline differences above 0.25 SD weaken the primary estimate whatever its
#   p-value. The tipping point says how much worse the missing mentored youth would have to
#   be for the conclusion to change.
# - Months matched, contact and early closure are received, not assigned: associations.
# - Reliable-change counts describe groups. They are not a tool for judging any one young
#   person.
