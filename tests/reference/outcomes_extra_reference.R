# Reference values for the report tables of tests/test_outcomes.py and tests/test_matches.py:
# group means with t intervals, the WWC effect size of an ANCOVA, and a Cox model with a
# rescaled covariate and missing values. (Early closure is checked in competing_reference.R.)
#
# Run from the repository root with R and Debian's r-cran-survival and r-cran-jsonlite:
#
#     Rscript tests/reference/outcomes_extra_reference.R
#
# It reads the external data in tests/data/external (see SOURCES.md there) and
# writes tests/reference/values/extra_*.json. Every JSON records the R and package versions.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

source(file.path("tests", "reference", "common.R"))
write_values <- make_writer(reference_versions(c("survival", "jsonlite")))

# ---------------------------------------------------------------------------------------------
# Group means with t intervals: t.test(x)$conf.int per company of univbct (one row per soldier)
# ---------------------------------------------------------------------------------------------
univbct <- read.csv(file.path(external, "multilevel_univbct.csv"))
wide <- univbct[univbct$TIME == 0, ]
means_case <- function(value) {
  groups <- sort(unique(wide$COMPANY))
  rows <- lapply(groups, function(g) {
    x <- wide[wide$COMPANY == g, value]
    ok <- x[!is.na(x)]
    ci <- t.test(ok)$conf.int
    list(group = g, n = length(ok), n_missing = sum(is.na(x)), mean = mean(ok), sd = sd(ok),
         ci_lower = ci[1], ci_upper = ci[2])
  })
  list(
    group = sapply(rows, `[[`, "group"),
    n = sapply(rows, `[[`, "n"),
    n_missing = sapply(rows, `[[`, "n_missing"),
    mean = sapply(rows, `[[`, "mean"),
    sd = sapply(rows, `[[`, "sd"),
    ci_lower = sapply(rows, `[[`, "ci_lower"),
    ci_upper = sapply(rows, `[[`, "ci_upper")
  )
}
write_values(
  list(JOBSAT1 = means_case("JOBSAT1"), JOBSAT3 = means_case("JOBSAT3")),
  "extra_group_means",
  paste(
    "Per COMPANY of multilevel_univbct.csv (rows with TIME == 0, one per soldier): n and",
    "mean of the non-missing values, sd(), and t.test(x)$conf.int (95%)."
  )
)

# ---------------------------------------------------------------------------------------------
# ANCOVA with the What Works Clearinghouse effect size
# g = (1 - 3 / (4 N - 9)) * adjusted difference / pooled within-group SD of the outcome
# ---------------------------------------------------------------------------------------------
wwc_case <- function(data, post, group, pre) {
  d <- data[complete.cases(data[, c(post, group, pre)]), ]
  g <- factor(d[[group]])
  fit <- lm(d[[post]] ~ g + d[[pre]])
  est <- unname(coef(fit)[2])
  y <- d[[post]]
  a <- y[g == levels(g)[1]]
  b <- y[g == levels(g)[2]]
  n <- length(y)
  s <- sqrt(((length(a) - 1) * var(a) + (length(b) - 1) * var(b)) / (n - 2))
  list(n = n, levels = levels(g), estimate = est, pooled_sd = s,
       hedges_g = (1 - 3 / (4 * n - 9)) * est / s)
}
jobs <- read.csv(file.path(external, "mediation_jobs2.csv"))
write_values(
  list(
    jobs = wwc_case(jobs, "depress2", "treat", "depress1"),
    univbct_gender = wwc_case(wide, "JOBSAT3", "GENDER", "JOBSAT1")
  ),
  "extra_ancova_wwc",
  paste(
    "lm(post ~ factor(group) + pre) on complete cases; estimate = coefficient of the second",
    "level; hedges_g = (1 - 3 / (4N - 9)) * estimate / pooled within-group SD of post (WWC",
    "Procedures and Standards Handbook 5.0). Cases: depress2 ~ treat + depress1 on",
    "mediation_jobs2.csv; JOBSAT3 ~ GENDER + JOBSAT1 on univbct rows with TIME == 0."
  )
)

# ---------------------------------------------------------------------------------------------
# Cox model per 10 units of a covariate, with missing values dropped (na.omit)
# ---------------------------------------------------------------------------------------------
rossi <- read.csv(file.path(external, "lifelines_rossi.csv"))
rossi_na <- rossi
rossi_na$age[rossi_na$prio > 12] <- NA
fit <- coxph(Surv(week, arrest) ~ I(age / 10) + prio + fin, data = rossi_na)
write_values(
  list(
    n = fit$n,
    n_events = fit$nevent,
    n_dropped = length(fit$na.action),
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(vcov(fit)))),
    hr = unname(exp(coef(fit))),
    ci_lower = unname(exp(confint(fit))[, 1]),
    ci_upper = unname(exp(confint(fit))[, 2])
  ),
  "extra_cox_per",
  paste(
    "coxph(Surv(week, arrest) ~ I(age / 10) + prio + fin) on lifelines_rossi.csv with age set",
    "to NA where prio > 12 (rows dropped by na.omit); Efron ties."
  )
)
