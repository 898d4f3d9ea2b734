# %% [markdown]
# # Goals, relationships and positive experiences
#
# The course this program follows asks programs to evaluate young people's goal achievement,
# to collect feedback from mentors and mentees, and names trust as the foundation of the
# mentoring relationship. This notebook asks four questions: how far young people reach the
# goals they set with their mentor, and whether that rises the longer they are matched; how
# young people and mentors rate their relationship early on and a year in; whether matches
# with a stronger early relationship close early less often; and whether positive childhood
# experiences go with a weaker link between adversity and resilience.
#
# **Goal Attainment Scaling (GAS).** Each goal is rated at a review on five levels, from -2
# (much less than expected) through 0 (the expected outcome) to +2 (much more than expected).
# A young person's goals are combined into one T-score (Kiresuk & Sherman 1968), which is 50
# when every goal is met at the expected level; the share of goals met or exceeded uses the
# level the program expected at that review.
#
# **Relationship quality.** Young people answer the Youth Strength of Relationship scale (YSoR,
# 10 items, mean score from "never true" to "always true", negative items reversed) and the
# Youth-Centered Relationship scale (Jucovy 2002; mean of five items from "not true at all" to
# "very true"); mentors answer the Mentor Strength of Relationship scale (MSoR). Both are
# asked 3 months into the match and again at 12 months, while the match is open.
#
# > Group summaries for planning and for the program's evaluation, not judgements of single
# > matches. Counts smaller than `min_cell` are suppressed.

# %%
from typing import Optional

import pandas as pd
from IPython.display import display

from tim_research import load_instrument, plots
from tim_research.stats.associations import correlation, linear_regression
from tim_research.stats.competing import early_closure
from tim_research.stats.outcomes import group_means
from tim_research.stats.prevalence import prevalence_grid
from tim_research.stats.survival import cox
from tim_research.synth import REFERENCE_SD
from tim_research.views.notebook import needs, setup, show
from tim_research.views.tables import (
    band,
    goal_scores,
    match_table,
    pce_scores,
    relationship_scores,
    youth_scores,
)

# %% tags=["parameters"]
data_dir: str = "../data/sample"  # folder of the program's data package
site: Optional[str] = None  # site name, or None for all sites
min_cell: int = 5  # smallest count shown; smaller counts are suppressed
seed: int = 0  # seed for every random step (none here)
allow_identifiers: list = []  # columns that look like direct identifiers but may be read, as table.column
conf_level: float = 0.95  # coverage of every confidence interval
rho: float = 0.3  # assumed correlation between goal scales in the GAS T-score (Kiresuk & Sherman)
early_wave: str = "3m"  # relationship survey wave that counts as early
landmark_months: float = 3.0  # matches open this long (months) enter the survival analysis
early_months: int = 12  # an unplanned closure before this many months is an early closure
ysor_breaks: list = [1, 3, 4]  # left edges of the early YSoR bands (mean score, 1-5)

# %%
nb = setup(
    data_dir=data_dir, site=site, min_cell=min_cell, seed=seed,
    allow_identifiers=allow_identifiers,
)
print(f"Tables in these data: {', '.join(nb.program.available)}; {nb.site_label}")

# %% [markdown]
# ## Goal attainment by site
#
# One GAS T-score per young person at their latest review (equal weights unless the program
# gave goals weights; `rho` is the assumed correlation between goals). The mean per site has
# a t confidence interval; a site with fewer than `min_cell` young people reviewed is
# suppressed.

# %%
if needs(nb, "goals", "matches"):
    latest = goal_scores(nb.program, rho=rho, latest=True).dropna(subset=["t_score"])
    by_site = group_means(
        latest, value="t_score", by="site", min_cell=nb.min_cell, conf_level=conf_level
    )
    display(show(by_site[["site", "n", "mean", "ci_lower", "ci_upper", "suppressed"]], digits=1))
    overall = group_means(latest, value="t_score", min_cell=nb.min_cell, conf_level=conf_level)
    o = overall.iloc[0]
    if o["suppressed"]:
        print("Mean GAS T-score at the latest review: hidden (too few young people)")
    else:
        met = latest["share_met"].mean()
        print(
            f"Mean GAS T-score at the latest review: {o['mean']:.1f} "
            f"({conf_level:.0%} CI {o['ci_lower']:.1f} to {o['ci_upper']:.1f}), "
            f"{int(o['n'])} young people; on average {met:.0%} of a young person's goals "
            "met or exceeded"
        )
        display(plots.point_range(
            by_site,
            label="site",
            y="mean",
            min_cell=nb.min_cell,
            reference=50.0,
            title=f"Mean GAS T-score at the latest review: {o['mean']:.1f}",
            xlabel=f"GAS T-score (50 = goals met as expected; {conf_level:.0%} CI)",
        ))

# %% [markdown]
# ## Does goal attainment rise with months matched?
#
# A linear regression of the T-score at each young person's latest review on the months
# they had been matched by then (per 12 months). Matches that closed early have their last
# review at closure, so they contribute short times. This is an association: young people
# who stay matched longer may differ in other ways.

# %%
if needs(nb, "goals", "matches"):
    months_fit = linear_regression(
        latest, "t_score ~ I(matched_months / 12)", conf_level=conf_level
    )
    slope = months_fit.coefficients.loc["matched_months / 12"]
    display(show(months_fit.coefficients[["estimate", "ci_lower", "ci_upper", "p", "n"]], digits=2))
    print(
        f"GAS T-score per 12 months matched: {slope['estimate']:+.2f} points "
        f"({conf_level:.0%} CI {slope['ci_lower']:+.2f} to {slope['ci_upper']:+.2f}), "
        f"n = {months_fit.n}"
    )

# %% [markdown]
# ## Relationship quality over time, youth and mentor views side by side
#
# Mean scores at each wave (the scale ranges are in the table's labels); higher means a
# stronger (or more youth-centred) relationship. The groups behind the two waves differ: a match that has closed is not asked
# again. The MSoR is reported as a total only, with the caveat printed below.

# %%
if needs(nb, "relationship_surveys", "matches"):
    rel = relationship_scores(nb.program).reset_index()
    print(f"MSoR caveat: {load_instrument('msor').caveat}")
    views = {
        "ysor_score": ("youth", "Youth: YSoR (1-5)"),
        "youth_centered_score": ("youth", "Youth: youth-centred (1-4)"),
        "msor_score": ("mentor", "Mentor: MSoR total (1-5)"),
    }
    parts = []
    for column, (who, label) in views.items():
        m = group_means(
            rel[rel["reporter"] == who].assign(measure=label),
            value=column,
            by=["measure", "months"],
            min_cell=nb.min_cell,
            conf_level=conf_level,
        )
        parts.append(m.rename(columns={column: "score"}))
    over_time = pd.concat(parts, ignore_index=True)
    display(show(over_time[["measure", "months", "n", "mean", "ci_lower", "ci_upper", "suppressed"]]))
    shown = over_time[~over_time["suppressed"].astype(bool)]
    for _, row in shown.iterrows():
        print(
            f"{row['measure']}, {row['months']:.0f} months: mean {row['mean']:.2f} ({row['ci_lower']:.2f} "
            f"to {row['ci_upper']:.2f}), {int(row['n'])} reports"
        )

# %%
if needs(nb, "relationship_surveys", "matches"):
    display(plots.trajectories(
        over_time[over_time["measure"] != views["youth_centered_score"][1]],
        x="months",
        group="measure",
        min_cell=nb.min_cell,
        unit="reports",
        scale=(1, 5),
        title="Relationship strength at each wave, youth and mentor reports",
        xlabel="Months into the match",
        ylabel=f"Mean score ({conf_level:.0%} CI)",
    ))

# %% [markdown]
# Do young people and their mentors see the relationship the same way? The correlation of
# the youth's YSoR with the mentor's MSoR total for the same match at the early wave (Pearson
# r with a Fisher z interval).

# %%
if needs(nb, "relationship_surveys", "matches"):
    early = rel[rel["wave"] == early_wave]
    paired = (
        early[early["reporter"] == "youth"].set_index("match_id")[["ysor_score"]]
        .join(early[early["reporter"] == "mentor"].set_index("match_id")[["msor_score"]])
        .dropna()
    )
    if len(paired) >= max(nb.min_cell, 4):
        agree = correlation(paired, "ysor_score", "msor_score", conf_level=conf_level)
        print(
            f"Youth and mentor reports at {early_wave}: r = {agree.r:.2f} "
            f"({agree.ci[0]:.2f} to {agree.ci[1]:.2f}), {agree.n} matches with both"
        )
    else:
        print(f"Youth and mentor reports at {early_wave}: too few matches with both to show")

# %% [markdown]
# ## Early relationship quality and match survival
#
# Matches still open at the early survey (`landmark_months`) with a youth report enter this
# analysis; matches that ended before then cannot have an early report and are left out, so
# that a closure is never explained by a survey taken after it (a landmark analysis). The
# table gives the share closed early (unplanned, by `early_months` after the start; the
# library's one definition, planned completion competing and open matches counted to the
# cut-off) in bands of the early YSoR score (`ysor_breaks`). The Cox model follows the same
# matches from the landmark: hazard ratio per YSoR point, with the mentor's training (per 10
# hours), the young person's age and ACE score; a separate baseline rate per site; standard
# errors that allow for several matches of one mentor.

# %%
if needs(nb, "relationship_surveys", "matches", "mentors"):
    youth_early = rel[(rel["reporter"] == "youth") & (rel["wave"] == early_wave)]
    matches = match_table(nb.program).join(
        youth_early.set_index("match_id")["ysor_score"].rename("ysor_early")
    )
    landmark = matches[
        (matches["duration_months"] > landmark_months) & matches["ysor_early"].notna()
    ].copy()
    print(f"{len(landmark)} matches open at the landmark with an early youth report")
    ysor_band = band(landmark["ysor_early"], breaks=ysor_breaks, unit=" (YSoR)")
    by_quality = early_closure(
        landmark,
        cutoff=nb.program.cutoff,
        months=early_months,
        by=ysor_band.cat.remove_unused_categories(),
        min_cell=nb.min_cell,
        conf_level=conf_level,
    )
    display(show(by_quality, digits=3))

# %%
if needs(nb, "relationship_surveys", "matches", "mentors"):
    landmark["months_after_landmark"] = landmark["duration_months"] - landmark_months
    hazards = cox(
        landmark.assign(closed_early=landmark["unplanned_closure"]),
        duration="months_after_landmark",
        event="closed_early",
        covariates=["ysor_early", "training_hours", "age", "ace10_score"],
        per={"training_hours": 10},
        strata="site",
        cluster="mentor_id",
        missing="drop",
        conf_level=conf_level,
    )
    display(show(hazards, digits=3))
    q = hazards.loc["ysor_early"]
    print(
        f"Hazard ratio of unplanned closure per YSoR point at {early_wave}: {q['hr']:.2f} "
        f"({conf_level:.0%} CI {q['ci_lower']:.2f} to {q['ci_upper']:.2f}, "
        f"p {'< 0.001' if q['p'] < 0.001 else '= ' + format(q['p'], '.3f')}); "
        f"{hazards.attrs['n']} matches, {hazards.attrs['n_events']} unplanned closures"
    )

# %% [markdown]
# ## Positive childhood experiences, adversity and resilience
#
# Positive childhood experiences (PCEs; Bethell et al. 2019) are counted at enrolment: an
# experience counts when the young person answered "often" or "very often/always". A PCE count,
# like an ACE score, is a population research measure, not a screen for one young person.
# The published finding is that PCEs go with better mental health at every level of
# adversity. The grid gives the share of young people in the low resilience band of the BRS at
# enrolment by ACE band and PCE band; the regression asks whether the link between the ACE
# score and the baseline BRS score is weaker with more PCEs (the ACE x PCE term; a positive
# estimate means a softer link).

# %%
if needs(nb, "pce_surveys"):
    pce = pce_scores(nb.program)
    base = youth_scores(nb.program).xs("baseline", level="wave")
    young = pce.join(base[["brs_score", "brs_score_category"]]).dropna(
        subset=["pce_score", "ace10_score", "brs_score"]
    )
    young["low_resilience"] = (young["brs_score_category"] == "low").astype(float)
    grid = prevalence_grid(
        young,
        "low_resilience",
        rows="ace10_score_category",
        columns="pce_score_category",
        min_cell=nb.min_cell,
        conf_level=conf_level,
    )
    # cell sizes are left out: a small ACE x PCE cell would show a count below min_cell
    display(show(grid.drop(columns=["n", "n_missing"]), digits=3))
    pce_fit = linear_regression(
        young, "brs_score ~ ace10_score * pce_score", conf_level=conf_level
    )
    display(show(pce_fit.coefficients[["estimate", "ci_lower", "ci_upper", "p", "n"]], digits=3))
    inter = pce_fit.coefficients.loc["ace10_score:pce_score"]
    print(
        f"ACE x PCE term on the baseline BRS: {inter['estimate']:+.3f} points per ACE per PCE "
        f"({conf_level:.0%} CI {inter['ci_lower']:+.3f} to {inter['ci_upper']:+.3f}), "
        f"n = {pce_fit.n}"
    )

# %% [markdown]
# ## Planted effects
#
# Where the data package declares planted effects, the estimates above are set beside them.

# %%
planted = nb.program.effects
if planted is None:
    print("These data carry no planted effects: there is no known truth to compare with.")


def _inside(value, low, high):
    return "inside" if low <= value <= high else "outside"


if planted is not None and nb.program.has("goals", "matches"):
    print(
        f"Synthetic data: planted rise of the GAS T-score {planted.goal_t_per_12m:+.2f} points "
        f"per 12 months matched; estimate {slope['estimate']:+.2f}, the planted value is "
        f"{_inside(planted.goal_t_per_12m, slope['ci_lower'], slope['ci_upper'])} its "
        f"{conf_level:.0%} interval"
    )
if planted is not None and nb.program.has("relationship_surveys", "matches", "mentors"):
    hr = planted.relationship_closure_hr
    print(
        f"Synthetic data: planted hazard ratio per YSoR point at {early_wave} {hr:.2f}; "
        f"estimate {q['hr']:.2f}, the planted value is "
        f"{_inside(hr, q['ci_lower'], q['ci_upper'])} its {conf_level:.0%} interval"
    )
if planted is not None and nb.program.has("pce_surveys"):
    points = planted.pce_ace_moderation_d * REFERENCE_SD["brs"]
    print(
        f"Synthetic data: planted ACE x PCE term {points:+.3f} BRS points per ACE per PCE; "
        f"estimate {inter['estimate']:+.3f}, the planted value is "
        f"{_inside(points, inter['ci_lower'], inter['ci_upper'])} its {conf_level:.0%} interval"
    )

# %% [markdown]
# ## Reading these results
#
# - **Goals.** A T-score near its value at the expected level (above) means goals were met
#   about as expected. Programs set goals differently; compare sites with care, and read the
#   rise with months matched as an association, not as the effect of mentoring.
# - **Two views of one relationship.** Young people and mentors answer different
#   questionnaires on different response scales, so compare each view over time rather than
#   the two means with each other; the correlation shows how far they agree on which
#   relationships are strong.
# - **Early relationship and closure.** The landmark analysis asks whether a weak early
#   relationship goes with an early ending. It cannot say that improving the relationship
#   would prevent closures, but it points to where supervision can look first.
# - **Positive experiences.** The ACE x PCE term describes the young people at enrolment. It
#   is a population pattern, never a way to screen or rank young people.
