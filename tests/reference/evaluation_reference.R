# Reference values for tests/test_evaluation.py: the intention-to-treat ANCOVA with site fixed
# effects and mentor-clustered (CR1) standard errors, the WWC effect size and baseline
# equivalence formulas, and Benjamini-Hochberg adjusted p-values.
#
# Run from the repository root with R and Debian's r-cran-sandwich, r-cran-lmtest and
# r-cran-jsonlite:
#
#     Rscript tests/reference/evaluation_reference.R
#
# It reads tests/data/external/mediation_jobs2.csv (see SOURCES.md there) and writes
# tests/reference/values/evaluation_*.json. Every JSON records the R and package versions.

suppressPackageStartupMessages({
  library(sandwich)
  library(lmtest)
  library(jsonlite)
})

source(file.path("tests", "reference", "common.R"))
write_values <- make_writer(reference_versions(c("sandwich", "lmtest", "jsonlite")))

jobs <- read.csv(file.path(external, "mediation_jobs2.csv"))
# occupation plays the site; consecutive rows in threes play youth sharing a mentor, and every
# fifth cluster id is blanked (a youth without a mentor: a cluster of its own)
jobs$site <- jobs$occp
jobs$mentor <- paste0("m", (jobs$row_id - 1) %/% 3)
jobs$mentor[((jobs$row_id - 1) %/% 3) %% 5 == 0] <- NA
jobs$arm <- ifelse(jobs$treat == 1, "treatment", "control")

itt_case <- function(d, cluster) {
  both <- names(which(tapply(d$arm, d$site, function(a) length(unique(a)) == 2)))
  d <- d[d$site %in% both, ]
  d <- d[complete.cases(d[, c("depress2", "depress1")]), ]
  d$site <- factor(d$site, levels = sort(unique(d$site)))
  d$arm <- factor(d$arm, levels = c("control", "treatment"))
  fit <- lm(depress2 ~ arm + depress1 + site, data = d)
  est <- unname(coef(fit)[2])
  if (cluster) {
    ids <- ifelse(is.na(d$mentor), paste0("row", seq_len(nrow(d))), d$mentor)
    v <- vcovCL(fit, cluster = ids, type = "HC1")
    g <- length(unique(ids))
    ct <- coeftest(fit, vcov. = v, df = g - 1)
    ci <- coefci(fit, vcov. = v, df = g - 1)
    df <- g - 1
  } else {
    ct <- coeftest(fit)
    ci <- confint(fit)
    df <- fit$df.residual
    g <- NA
  }
  y <- d$depress2
  a <- y[d$arm == "control"]
  b <- y[d$arm == "treatment"]
  n <- length(y)
  s <- sqrt(((length(a) - 1) * var(a) + (length(b) - 1) * var(b)) / (n - 2))
  omega <- 1 - 3 / (4 * n - 9)
  g_es <- omega * est / s
  list(n = n, n_treated = length(b), n_control = length(a), n_clusters = g, df = df,
       estimate = est, se = ct[2, 2], p = ct[2, 4], ci_lower = ci[2, 1], ci_upper = ci[2, 2],
       hedges_g = g_es, hedges_g_ci = omega * ci[2, ] / s,
       improvement_index = 100 * (pnorm(g_es) - 0.5))
}

write_values(
  list(ols = itt_case(jobs, FALSE), cluster = itt_case(jobs, TRUE)),
  "evaluation_itt_jobs2",
  paste(
    "mediation_jobs2.csv with site = occp, arm = treat, mentor = paste0('m', (row_id - 1) %/% 3)",
    "blanked where ((row_id - 1) %/% 3) %% 5 == 0 (blank = own cluster). Sites with both arms;",
    "lm(depress2 ~ arm + depress1 + factor(site)); 'cluster': coeftest/coefci with",
    "sandwich::vcovCL(type = 'HC1') and df = clusters - 1. hedges_g = (1 - 3/(4N - 9)) *",
    "estimate / pooled within-arm SD of depress2 (WWC Handbook 5.0); its CI the estimate's CI",
    "times the same factor; improvement_index = 100 * (pnorm(g) - 0.5)."
  )
)

# WWC baseline equivalence: continuous Hedges' g and the Cox index of a binary covariate
wwc_g <- function(x, treat) {
  a <- x[treat == 1 & !is.na(x)]
  b <- x[treat == 0 & !is.na(x)]
  n <- length(a) + length(b)
  s <- sqrt(((length(a) - 1) * var(a) + (length(b) - 1) * var(b)) / (n - 2))
  (1 - 3 / (4 * n - 9)) * (mean(a) - mean(b)) / s
}
cox_index <- function(x, treat) {
  a <- x[treat == 1 & !is.na(x)]
  b <- x[treat == 0 & !is.na(x)]
  n <- length(a) + length(b)
  pt <- mean(a)
  pc <- mean(b)
  (1 - 3 / (4 * n - 9)) * (qlogis(pt) - qlogis(pc)) / 1.65
}
write_values(
  list(
    age = wwc_g(jobs$age, jobs$treat),
    econ_hard = wwc_g(jobs$econ_hard, jobs$treat),
    depress1 = wwc_g(jobs$depress1, jobs$treat),
    sex = cox_index(jobs$sex, jobs$treat)
  ),
  "evaluation_equivalence_jobs2",
  paste(
    "mediation_jobs2.csv, treat = 1 vs 0: WWC Handbook 5.0 Hedges' g",
    "(1 - 3/(4N - 9)) * mean difference / pooled SD for age, econ_hard, depress1; Cox index",
    "(1 - 3/(4N - 9)) * (qlogis(p_t) - qlogis(p_c)) / 1.65 for sex."
  )
)

p <- c(0.001, 0.04, 0.03, NA, 0.2, 0.04, 0.7, 0.012)
write_values(
  list(p = p, bh = p.adjust(p, method = "BH")),
  "evaluation_bh",
  "p.adjust(p, method = 'BH') with one missing p-value (left out of the count, stays NA)."
)
