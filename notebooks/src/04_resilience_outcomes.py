# %% [markdown]
# # Resilience outcomes: baseline, 6 and 12 months
#
# Do young people's resilience scores change over the first year, and do mentored young people
# change more than those in the comparison group? For whom, and does the length of the match
# matter? This notebook follows two self-report scales from baseline to 6 and 12 months: the
# Brief Resilience Scale (BRS, mean of 6 items, 1-5) and the Child and Youth Resilience Measure
# (CYRM-R, sum of 17 items, 17-85). Higher is better on both.
#
# > **What this design can and cannot say.** The comparison group is a waitlist at some sites
# > only; young people were not randomly assigned. Differences between the groups are
# > associations adjusted for baseline scores, not proof that mentoring caused them. Results
# > describe groups of young people, never individuals.

# %%
from typing import Optional

from tim_research import plots
from tim_research.views.notebook import setup, show
from tim_research.stats.outcomes import (
    change_criterion,
    change_table,
    compare_table,
    group_means,
    growth_model,
    missing_data_sensitivity,
    reliable_change,
)
from tim_research.stats.prevalence import distribution
from tim_research.privacy import safe_person_table
from tim_research.views.tables import baseline_items, growth_frame, wide_scores, youth_scores

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column
ace_bands: str = "cdc_2019"  # ACE bands of the moderator: cdc_2019 (0,1,2-3,4+) or cdc_ace_study
n_imputations: int = 20  # imputed data sets in the missing-data check
show_person_level: bool = False  # list youth whose BRS reliably worsened, by pseudonym only

# %%
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
scores = youth_scores(nb.program, ace_cutoffs=ace_bands)
wide = wide_scores(scores, values=["brs_score", "cyrm_r_score", "matched_months"])
print(f"{len(wide)} young people with at least one completed survey, {nb.site_label}")

# %% [markdown]
# ## Mean scores at each wave
#
# Mean score of each group at baseline, 6 and 12 months, with 95% confidence intervals. Each
# wave includes everyone who answered it, so the groups of people differ a little between
# waves (some young people miss a survey). `n` is the number who answered.

# %%
brs_means = group_means(scores, value="brs_score", by=["arm", "months"], min_cell=nb.min_cell)
show(brs_means)

# %%
first, last = brs_means[brs_means["arm"] == "mentored"]["mean"].iloc[[0, -1]]
plots.trajectories(
    brs_means,
    x="months",
    group="arm",
    title=f"BRS of mentored youth: {first:.2f} at baseline, {last:.2f} at 12 months",
    xlabel="Months since enrolment",
    ylabel="BRS score (1-5, mean and 95% CI)",
)

# %%
cyrm_means = group_means(scores, value="cyrm_r_score", by=["arm", "months"], min_cell=nb.min_cell)
first, last = cyrm_means[cyrm_means["arm"] == "mentored"]["mean"].iloc[[0, -1]]
plots.trajectories(
    cyrm_means,
    x="months",
    group="arm",
    title=f"CYRM-R of mentored youth: {first:.1f} at baseline, {last:.1f} at 12 months",
    xlabel="Months since enrolment",
    ylabel="CYRM-R score (17-85, mean and 95% CI)",
)

# %% [markdown]
# ## Change within each group
#
# The same young people at baseline and follow-up (complete pairs only). `mean_change` is
# follow-up minus baseline with its 95% CI; `cohens_dz` is the mean change divided by the SD of
# the changes, and `hedges_gz` the same with a small-sample correction. Changes within one
# group also include things that happen to every young person over a year (growing up, the
# school year, returning towards the average after a hard time at enrolment), which is why
# the comparison group matters.

# %%
changes = change_table(
    wide,
    pairs={
        "BRS 0-6 months": ("brs_score_baseline", "brs_score_6m"),
        "BRS 0-12 months": ("brs_score_baseline", "brs_score_12m"),
        "CYRM-R 0-6 months": ("cyrm_r_score_baseline", "cyrm_r_score_6m"),
        "CYRM-R 0-12 months": ("cyrm_r_score_baseline", "cyrm_r_score_12m"),
    },
    by="arm",
    min_cell=nb.min_cell,
)
hidden = ["sd_change", "t", "df", "wilcoxon_v", "wilcoxon_method", "cohens_dz_ci_lower",
          "cohens_dz_ci_upper", "conf_level"]
show(changes.drop(columns=hidden), digits=3)

# %% [markdown]
# ## Mentored compared with comparison youth at 12 months
#
# An analysis of covariance: the 12-month score of each group, adjusted for the baseline
# score. `estimate` is the adjusted difference (mentored minus comparison) in score points;
# `hedges_g` expresses it in standard deviations of the 12-month score (the What Works
# Clearinghouse convention). Only young people with both surveys are included; the
# missing-data check below asks whether that matters. Where the data hold only one group
# (a site without a comparison group) the table says so instead.

# %%
ancova = compare_table(
    wide,
    outcomes={
        "BRS": ("brs_score_baseline", "brs_score_12m"),
        "CYRM-R": ("cyrm_r_score_baseline", "cyrm_r_score_12m"),
    },
    group="arm",
    reference="comparison",
    min_cell=nb.min_cell,
)
show(ancova, digits=3)

# %% [markdown]
# ## How many young people changed reliably?
#
# A change counts as reliable (Jacobson & Truax 1991) when it is larger than what measurement
# error alone would produce 95% of the time. That threshold needs a standard deviation and a
# reliability. **Two recorded choices:** the SD is that of the baseline scores of everybody
# in this sample, and the reliability is Cronbach's alpha of the baseline items in this
# sample. Published norms or test-retest reliabilities would give other thresholds.
# `critical_change` is the smallest change, in score points, that counts as reliable.

# %%
brs_criterion = change_criterion(baseline_items(nb.program, "brs"), instrument="brs")
show(brs_criterion.to_frame())

# %%
brs_reliable = reliable_change(
    wide["brs_score_baseline"],
    wide["brs_score_12m"],
    sd=brs_criterion.sd,
    reliability=brs_criterion.reliability,
)
show(distribution(brs_reliable.join(wide["arm"]), "category", by="arm", min_cell=nb.min_cell))

# %%
cyrm_criterion = change_criterion(baseline_items(nb.program, "cyrm_r"), instrument="cyrm_r")
show(cyrm_criterion.to_frame())

# %%
cyrm_reliable = reliable_change(
    wide["cyrm_r_score_baseline"],
    wide["cyrm_r_score_12m"],
    sd=cyrm_criterion.sd,
    reliability=cyrm_criterion.reliability,
)
show(distribution(cyrm_reliable.join(wide["arm"]), "category", by="arm", min_cell=nb.min_cell))

# %% [markdown]
# Shares are of young people with both surveys (`n`); `n_missing` lacks one of them. Counts
# below `min_cell` are masked (shown as "suppressed"), never as 0. These tables count groups.
#
# Staff following up individual young people may need to know who reliably got worse. That list
# is off by default. With `show_person_level=True` and a pseudonym key (environment variable
# `TIM_PSEUDONYM_KEY`, never a parameter) it shows pseudonyms instead of ids, and warns when
# site, gender and age would single someone out.

# %%
worse = brs_reliable[brs_reliable["category"] == "reliably worse"].join(
    wide[["site", "gender", "age"]]
)
if show_person_level:
    listing = safe_person_table(
        worse.reset_index(), id_column="youth_id", allow_person_level=True,
        quasi_identifiers=["site", "gender", "age"],
    )
    display(show(listing[["youth_id", "change", "rci"]]))
else:
    print(f"{len(worse)} young people reliably worsened on the BRS; the person-level list is "
          "not shown (show_person_level=False).")

# %% [markdown]
# ## For whom does mentoring work? A growth model
#
# A growth model uses every survey a young person answered (also those with a missed wave)
# and lets each young person have their own starting point and slope. Mentoring enters as
# **months matched by the survey date** (`matched_years`, per 12 months): a young person
# whose match closed after 3 months received less of it than one whose match lasted the year,
# so the length of the match is built into the estimate. The `ACE` terms are baseline
# differences between ACE score bands (reference: 0 ACEs), and the `matched_years x ACE`
# terms ask whether a year of mentoring goes with more or less change in that band.
# Young people with an incomplete ACE questionnaire are left out of this model.

# %%
brs_growth = growth_frame(scores, outcome="brs_score")
brs_model = growth_model(brs_growth.frame, **brs_growth.spec)
show(brs_model.fixed, digits=3)

# %%
brs_dose = brs_model.fixed.loc["matched_years"]
plots.forest(
    brs_model.fixed.drop(index="Intercept"),
    title=f"BRS: {brs_dose['estimate']:+.2f} points per 12 months matched (ACE 0 band)",
    xlabel="Difference in BRS points (95% CI)",
)

# %%
print(
    f"{brs_model.n_obs} surveys of {brs_model.n_subjects} young people; "
    f"{brs_model.n_dropped} surveys left out (missing score or ACE band)"
)

# %%
cyrm_growth = growth_frame(scores, outcome="cyrm_r_score")
cyrm_model = growth_model(cyrm_growth.frame, **cyrm_growth.spec)
cyrm_dose = cyrm_model.fixed.loc["matched_years"]
plots.forest(
    cyrm_model.fixed.drop(index="Intercept"),
    title=f"CYRM-R: {cyrm_dose['estimate']:+.2f} points per 12 months matched (ACE 0 band)",
    xlabel="Difference in CYRM-R points (95% CI)",
)

# %% [markdown]
# Read the interaction terms with care: each ACE band is a smaller group, so their
# intervals are wide, and several terms are tested at once, so one of them can look
# "significant" by chance.

# %% [markdown]
# ## Missing waves: does it matter who answered?
#
# Young people who stop answering surveys may differ from those who stay, for example when
# their match closed early. Multiple imputation fills in each missing score many times from
# what is known about the young person (the other waves and scales, ACE score, age), fits the
# same adjusted comparison to every completed data set and combines the results (Rubin's
# rules). Similar estimates from complete cases and from imputation suggest that missing
# waves do not drive the result, under the assumption that what is missing can be predicted
# from what was observed. `fmi` is the fraction of the information lost to missing data.

# %%
sensitivity = missing_data_sensitivity(
    wide,
    outcomes={
        "BRS": ("brs_score_baseline", "brs_score_12m"),
        "CYRM-R": ("cyrm_r_score_baseline", "cyrm_r_score_12m"),
    },
    group="arm",
    reference="comparison",
    auxiliary=["brs_score_6m", "cyrm_r_score_6m", "ace10_score", "age"],
    m=n_imputations,
    seed=nb.seed,
)
show(sensitivity, digits=3)

# %% [markdown]
# ## Reading these results
#
# - The within-group changes, the adjusted 12-month comparison and the growth model answer
#   different questions; read them together, with their confidence intervals.
# - Because assignment was not random, an adjusted difference between mentored and
#   comparison youth is an association. Differences that grow with months matched are
#   consistent with an effect of mentoring, but young people whose matches last longer may
#   also differ in other ways.
# - On the synthetic sample in `data/sample` the true effects are known (see its
#   `CODEBOOK.md`): a gain of 0.21 SD per 12 months matched, larger for young people with more
#   ACEs. The `matched_years` terms and the ACE interactions of the growth models are the
#   estimates to hold against that truth.
# - Reliable-change counts describe groups. They are not a tool for judging any one young
#   person.
