# Reference values for tests/test_associations.py.
#
# Run from the repository root with R (Debian's r-base-core) and r-cran-jsonlite:
#
#     Rscript tests/reference/associations_reference.R
#
# It reads the external data in tests/data/external (see SOURCES.md there):
# mediation_jobs2.csv (JOBS II, no missing values) and multilevel_univbct.csv (soldiers over three
# waves, with missing values), and writes tests/reference/values/assoc_*.json with the R and
# package versions that produced them. Only base R's stats package computes: cor.test, lm,
# confint and t.test.

suppressPackageStartupMessages(library(jsonlite))

source(file.path("tests", "reference", "common.R"))
write_values <- make_writer(reference_versions(c("stats", "jsonlite")))

jobs <- read.csv(file.path(external, "mediation_jobs2.csv"))
univbct <- read.csv(file.path(external, "multilevel_univbct.csv"))
wave0 <- univbct[univbct$TIME == 0, ]

# ---------------------------------------------------------------------------------------------
# cor.test: Pearson r, t test and Fisher z interval
# ---------------------------------------------------------------------------------------------
cor_case <- function(d, x, y, level) {
  ok <- complete.cases(d[[x]], d[[y]])
  ct <- cor.test(d[[x]], d[[y]], conf.level = level)
  list(
    x = x, y = y, conf_level = level,
    r = unname(ct$estimate), t = unname(ct$statistic), df = unname(ct$parameter),
    p = ct$p.value, ci_lower = ct$conf.int[1], ci_upper = ct$conf.int[2],
    n = sum(ok), n_excluded = sum(!ok)
  )
}
write_values(
  list(cases = list(
    jobs_depress1_job_seek_95 = c(data = "mediation_jobs2.csv", cor_case(jobs, "depress1", "job_seek", 0.95)),
    jobs_depress1_job_seek_90 = c(data = "mediation_jobs2.csv", cor_case(jobs, "depress1", "job_seek", 0.90)),
    univbct_t0_jobsat1_commit1_95 = c(
      data = "multilevel_univbct.csv rows with TIME == 0",
      cor_case(wave0, "JOBSAT1", "COMMIT1", 0.95)
    )
  )),
  "assoc_cor_test",
  "stats::cor.test(x, y, conf.level=...) (Pearson; rows with a missing value dropped)"
)

# ---------------------------------------------------------------------------------------------
# lm + confint: coefficient table and model statistics
# ---------------------------------------------------------------------------------------------
lm_case <- function(formula, d, level, factors) {
  fit <- lm(as.formula(formula), data = d)
  s <- summary(fit)
  co <- s$coefficients
  ci <- confint(fit, level = level)
  fs <- s$fstatistic
  list(
    formula = formula, conf_level = level,
    factor_levels = lapply(factors, function(f) levels(factor(d[[f]]))),
    terms = rownames(co),
    estimate = unname(co[, 1]), se = unname(co[, 2]), t = unname(co[, 3]), p = unname(co[, 4]),
    ci_lower = unname(ci[, 1]), ci_upper = unname(ci[, 2]),
    n = nobs(fit), n_excluded = nrow(d) - nobs(fit), df_resid = fit$df.residual,
    r_squared = s$r.squared, adj_r_squared = s$adj.r.squared, sigma = s$sigma,
    f = unname(fs["value"]), f_df1 = unname(fs["numdf"]), f_df2 = unname(fs["dendf"]),
    f_p = unname(pf(fs["value"], fs["numdf"], fs["dendf"], lower.tail = FALSE))
  )
}
write_values(
  list(cases = list(
    jobs = c(data = "mediation_jobs2.csv", lm_case(
      "depress2 ~ treat + depress1 + econ_hard + sex + age + marital + educ", jobs, 0.95,
      c("marital", "educ")
    )),
    univbct_t0 = c(data = "multilevel_univbct.csv rows with TIME == 0", lm_case(
      "JOBSAT1 ~ COMMIT1 + READY1 + AGE + COMPANY", wave0, 0.90, c("COMPANY")
    ))
  )),
  "assoc_lm",
  "summary(lm(formula, data)) and confint(fit, level=...); factors with R's default levels"
)

# ---------------------------------------------------------------------------------------------
# paired change between waves (TIME 0 -> 2) of JSAT, pairing soldiers by SUBNUM
# ---------------------------------------------------------------------------------------------
pre <- univbct[univbct$TIME == 0, c("SUBNUM", "JSAT")]
post <- univbct[univbct$TIME == 2, c("SUBNUM", "JSAT")]
both <- merge(pre, post, by = "SUBNUM", suffixes = c("_pre", "_post"))
tt <- t.test(both$JSAT_post, both$JSAT_pre, paired = TRUE)
ok <- complete.cases(both$JSAT_pre, both$JSAT_post)
write_values(
  list(
    data = "multilevel_univbct.csv, JSAT at TIME 0 (pre) and TIME 2 (post), paired by SUBNUM",
    n_pre = sum(!is.na(pre$JSAT)), mean_pre = mean(pre$JSAT, na.rm = TRUE),
    n_post = sum(!is.na(post$JSAT)), mean_post = mean(post$JSAT, na.rm = TRUE),
    n = sum(ok), mean_change = unname(tt$estimate), ci_lower = tt$conf.int[1],
    ci_upper = tt$conf.int[2], p = tt$p.value,
    cohens_dz = mean(both$JSAT_post[ok] - both$JSAT_pre[ok]) /
      sd(both$JSAT_post[ok] - both$JSAT_pre[ok])
  ),
  "assoc_paired_waves",
  "stats::t.test(post, pre, paired=TRUE); d_z = mean / sd of the differences"
)
