# %% [markdown]
# # How long do matches last?
#
# Mentoring relationships that end early can do harm: a young person with a history of
# adversity may experience an unplanned ending as one more loss. This notebook asks how long
# matches last, how many close before their planned end, why they close, whether that differs
# between sites and with the mentor's trauma-informed training, and whether longer matches go
# with better resilience outcomes.
#
# > **Closure here means an unplanned closure.** A match that reaches its planned end is a
# > success, not a closure: it is counted as followed up to that date (censored). Set
# > `any_closure` to `True` to count every ending instead. Matches still open at the data
# > cut-off are censored there.

# %%
from typing import Optional

from tim_research import plots
from tim_research.stats.competing import early_closure
from tim_research.stats.survival import (
    cox_zph,
    closure_reasons,
    cox,
    kaplan_meier,
    logrank,
    median_survival,
)
from tim_research.views.notebook import setup, show
from tim_research.stats.outcomes import change_table
from tim_research.views.tables import band, match_table, wide_scores, youth_scores

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column
training_breaks: list = [0, 10, 20]  # left edges of the training bands in hours (last open-ended)
dose_breaks: list = [0, 3, 9]  # left edges of the months-matched bands at the 12-month survey
any_closure: bool = False  # True counts planned completions as closures too

# %%
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
matches = match_table(nb.program)
matches["site"] = matches["site"].cat.remove_unused_categories()  # one curve per site present
closed = matches["closed"] if any_closure else matches["unplanned_closure"]
planned_reasons = () if any_closure else ("planned completion",)
print(f"{len(matches)} matches, {nb.site_label}; data cut-off {nb.program.cutoff.date()}")

# %% [markdown]
# ## Why did matches close?
#
# Reasons recorded for every match that had closed by the data cut-off, including planned
# completions. Reasons given for fewer than `min_cell` matches are masked (and one more when
# needed, so that the masked count cannot be worked out from the total).

# %%
show(closure_reasons(matches, cutoff=nb.program.cutoff, min_cell=nb.min_cell))

# %% [markdown]
# ## Early closure within 3, 6 and 12 months
#
# The share of matches that ended for an unplanned reason by 3, 6 and 12 months, counting
# planned completions as a different ending and allowing for matches still open (the
# Aalen-Johansen cumulative incidence, with 95% confidence intervals). Months are calendar
# months from the start (a match that started on the fifteenth of one month reaches its third
# month on the fifteenth three months later; one that ends on that date lasted three months). `at_risk` counts the matches still open on that date and `events`
# the unplanned endings before it. This is the same definition as in the site report and its
# key numbers.

# %%
early = early_closure(
    matches, cutoff=nb.program.cutoff, planned_reasons=planned_reasons, min_cell=nb.min_cell
)
show(early, digits=3)

# %%
early_by_site = early_closure(
    matches,
    cutoff=nb.program.cutoff,
    by="site",
    planned_reasons=planned_reasons,
    min_cell=nb.min_cell,
)
early_text = (
    f"{early['estimate'].iloc[-1]:.0%} of matches closed early by {early['months'].iloc[-1]} months"
    if early["estimate"].iloc[-1] == early["estimate"].iloc[-1]
    else "Matches closed early: too few to report"
)
print(early_text)
plots.bar_with_ci(
    early_by_site,
    x="months",
    hue="site",
    title=early_text,
    xlabel="Months since the match started",
    ylabel="Matches closed early (%)",
)

# %% [markdown]
# ## Match survival by site
#
# Kaplan-Meier curves: the share of matches still open (not closed early) at each time since
# the start, with 95% confidence bands. The median is the time by which half of the matches
# had closed; it is empty ("not reached") while more than half are still open.

# %%
several = len(nb.sites) > 1
site_test = logrank(matches["duration_months"], closed, matches["site"]) if several else None
print(site_test or "One site only: no comparison between sites.")

# %%
site_curves = kaplan_meier(matches["duration_months"], closed, by=matches["site"])
test_note = f"log-rank p = {site_test.p:.2f}" if site_test else nb.site_label
plots.survival_curves(
    site_curves,
    title=f"Matches still open by site ({test_note})",
    ylabel="Matches not closed early",
)

# %%
show(median_survival(matches["duration_months"], closed, by=matches["site"],
                     min_cell=nb.min_cell), digits=1)

# %% [markdown]
# ## Match survival by the mentor's trauma-informed training
#
# Training hours completed before the first match, in bands with the breaks given in the
# parameters (`training_breaks`: each band runs from its break up to the next one; the last
# is open-ended).

# %%
bands = band(matches["training_hours"], breaks=training_breaks, unit=" h")
matches["training_band"] = bands.cat.remove_unused_categories()
several = matches["training_band"].nunique() > 1
training_test = (
    logrank(matches["duration_months"], closed, matches["training_band"]) if several else None
)
print(training_test or "One training band only: no comparison.")

# %%
training_curves = kaplan_meier(matches["duration_months"], closed, by=matches["training_band"])
test_note = f"log-rank p = {training_test.p:.3f}" if training_test else "one band"
plots.survival_curves(
    training_curves,
    title=f"Matches still open by mentor training ({test_note})",
    ylabel="Matches not closed early",
)

# %%
show(median_survival(matches["duration_months"], closed, by=matches["training_band"],
                     min_cell=nb.min_cell), digits=1)

# %% [markdown]
# ## What goes with early closure? A Cox model
#
# A Cox proportional-hazards model of early closure with the mentor's training (per 10 hours),
# the young person's age and ACE score, and the mentor's caseload together. A hazard ratio
# below one means a lower rate of early closure for each unit more (a ratio of 0.8 means a rate
# one fifth lower), holding the others fixed. Each site keeps its own baseline rate of early
# closure (a model stratified by site), so differences between sites in how matches end are
# not read as effects of training or caseload. Several matches of one mentor are not
# independent, so the standard errors are cluster-robust by mentor (`se`; `se_naive` is the
# usual one). Matches of young people with an incomplete ACE questionnaire are left out. These
# are associations: mentors who train more may differ in other ways too.

# %%
covariates = ["training_hours", "age", "ace10_score", "caseload"]
closure = matches.assign(closed_early=closed)
hazards = cox(
    closure,
    duration="duration_months",
    event="closed_early",
    covariates=covariates,
    per={"training_hours": 10},
    strata="site",
    cluster="mentor_id",
    missing="drop",
)
show(hazards, digits=3)

# %%
training_hr = hazards.loc["training_hours (per 10)"]
print(f"Hazard ratio {training_hr['hr']:.2f} per 10 hours of mentor training "
      f"(95% CI {training_hr['ci_lower']:.2f} to {training_hr['ci_upper']:.2f})")
plots.forest(
    hazards,
    estimate="hr",
    reference=1.0,
    title=f"Hazard ratio {training_hr['hr']:.2f} per 10 hours of mentor training",
    xlabel="Hazard ratio of early closure (95% CI; 1 means no difference)",
)

# %%
print(
    f"{hazards.attrs['n']} matches, {hazards.attrs['n_events']} early closures; "
    f"{hazards.attrs['n_dropped']} matches left out for a missing value"
)

# %% [markdown]
# ### Do the hazard ratios hold over the life of a match?
#
# The model assumes that each hazard ratio is the same in the first months of a match as
# later on. The test below (scaled Schoenfeld residuals, as R's `cox.zph`) asks, for each
# covariate and for all together (`GLOBAL`), whether the ratio drifts with time. A small p
# says it does; the plot of the covariate with the smallest p shows how: a flat line means a
# steady ratio, a slope an effect that grows or fades.

# %%
zph = cox_zph(
    closure.dropna(subset=covariates),
    duration="duration_months",
    event="closed_early",
    covariates=covariates,
    strata="site",
)
show(zph.table, digits=3)

# %%
drift = zph.table.drop(index="GLOBAL")["p"].idxmin()
print(
    f"Smallest p: {drift} (p = {zph.table.loc[drift, 'p']:.3f}); all covariates together: "
    f"p = {zph.table.loc['GLOBAL', 'p']:.3f}"
)
plots.zph_residuals(zph.residuals, drift, title=f"Does the effect of {drift} change over time?")

# %% [markdown]
# ## Do longer matches go with better outcomes?
#
# Change in resilience (BRS) from baseline to the 12-month survey, by how many months the
# young person had been matched by then (`dose_breaks`; young people never matched, such as
# the comparison group, form their own band). Young people without a 12-month survey have no
# band and are left out here. Young people whose matches close early may differ from the
# others in many ways, so this shows an association, not the effect of a longer match.

# %%
wide = wide_scores(youth_scores(nb.program), values=["brs_score", "matched_months"])
wide["matched_band"] = band(
    wide["matched_months_12m"], breaks=dose_breaks, unit=" months", zero="not matched"
)
by_length = change_table(
    wide[wide["matched_band"].notna()],
    pairs={"BRS 0-12 months": ("brs_score_baseline", "brs_score_12m")},
    by="matched_band",
    min_cell=nb.min_cell,
)
show(by_length[["matched_band", "n", "mean_change", "ci_lower", "ci_upper", "hedges_gz", "note"]],
     digits=3)

# %%
longest = by_length.dropna(subset=["mean_change"]).iloc[-1]
plots.point_range(
    by_length.dropna(subset=["mean_change"]),
    label="matched_band",
    y="mean_change",
    reference=0.0,
    title=f"BRS change {longest['mean_change']:+.2f} points with {longest['matched_band']} matched",
    xlabel="Mean change in BRS, baseline to 12 months (points, 95% CI)",
)

# %% [markdown]
# ## Reading these results
#
# - Early closure is common in youth mentoring; the rates and curves show when it happens most,
#   which is when extra support for new matches helps most.
# - The Cox model and the training curves describe associations. Training is not randomly
#   assigned, so a lower closure rate for better-trained mentors is a reason to look closer,
#   not proof that training prevents closures. With several terms tested at once, one of them
#   can look "significant" by chance.

# %%
if nb.program.effects is not None:  # the package says it is synthetic: its truth is known
    truth = nb.program.effects
    print(
        "These data are synthetic, with known effects (see the package's CODEBOOK.md): a hazard "
        f"ratio of {truth.training_hr_per_10h:g} per 10 training hours, {truth.age_closure_hr:g} "
        f"per year of age and {truth.ace_closure_hr:g} per ACE category, and "
        f"{truth.early_closure_12m:.0%} of matches closed early by 12 months."
    )
