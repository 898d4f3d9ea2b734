"""Statistics: data frames in, data frames or small result objects out.

Nothing here reads a program's data package or draws a figure. Each module's estimates are
checked against R in ``tests/reference/``.

- :mod:`~tim_research.stats.psychometrics`: reliability, item statistics, ICC.
- :mod:`~tim_research.stats.measurement`: the same for a catalogued instrument's scales.
- :mod:`~tim_research.stats.prevalence`: shares with design-based intervals.
- :mod:`~tim_research.stats.survival`: match durations, early closure, Kaplan-Meier,
  Nelson-Aalen, quantiles, (weighted) log-rank, Cox (strata, cluster-robust SE),
  concordance, proportional-hazards checks.
- :mod:`~tim_research.stats.competing`: match endings as competing risks: cumulative
  incidence, Gray's test, Fine-Gray regression.
- :mod:`~tim_research.stats.outcomes`: change, group comparisons, growth models, pooling.
- :mod:`~tim_research.stats.associations`: correlation and linear regression.
- :mod:`~tim_research.stats.goals`: Goal Attainment Scaling T-scores per youth and review.
- :mod:`~tim_research.stats.evaluation`: analysis plan, ITT within sites, WWC equivalence and
  attrition, Benjamini-Hochberg, E-values, tipping-point sensitivity.
"""
