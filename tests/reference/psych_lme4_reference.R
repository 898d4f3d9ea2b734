# Reference values for tests/test_psychometrics.py and tests/test_outcomes.py.
#
# Run from the repository root with R and Debian's r-cran-psych, r-cran-lme4,
# r-cran-gparotation and r-cran-jsonlite:
#
#     Rscript tests/reference/psych_lme4_reference.R
#
# It reads the external data in tests/data/external (see SOURCES.md there) and lme4's
# own `sleepstudy`, and writes tests/reference/values/psych_*.json and outcomes_*.json.
# Every JSON records the R and package versions that produced it.

suppressPackageStartupMessages({
  library(psych)
  library(lme4)
  library(jsonlite)
})

source(file.path("tests", "reference", "common.R"))
write_values <- make_writer(reference_versions(c("psych", "lme4", "GPArotation", "jsonlite")))

# ---------------------------------------------------------------------------------------------
# psych::alpha, psych::omega and item statistics on the bfi scales
# ---------------------------------------------------------------------------------------------
bfi <- read.csv(file.path(external, "psych_bfi.csv"))
reversed <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
scales <- list()
for (s in c("A", "C", "E", "N", "O")) {
  items <- paste0(s, 1:5)
  x <- bfi[, items]
  keys <- intersect(items, reversed)
  a <- psych::alpha(x, keys = if (length(keys)) keys else NULL, check.keys = FALSE,
                    warnings = FALSE)
  # psych reverses with the data's own min and max; check that they are the scale's 1 and 6
  stopifnot(min(x, na.rm = TRUE) == 1, max(x, na.rm = TRUE) == 6)
  xr <- x
  for (k in keys) xr[[k]] <- 7 - xr[[k]]
  om <- suppressWarnings(suppressMessages(psych::omega(xr, nfactors = 1, plot = FALSE)))
  f1 <- psych::fa(xr, nfactors = 1, fm = "minres")
  scales[[s]] <- list(
    items = items,
    reversed = I(keys),
    n_rows = nrow(x),
    n_any = sum(rowSums(!is.na(x)) > 0),
    raw_alpha = a$total$raw_alpha,
    std_alpha = a$total$std.alpha,
    average_r = a$total$average_r,
    feldt_lower = a$feldt$lower.ci[[1]],
    feldt_upper = a$feldt$upper.ci[[1]],
    omega_tot = om$omega.tot,
    fa_minres_loadings = as.numeric(f1$loadings[, 1]),
    item_n = as.numeric(a$item.stats$n),
    item_mean = as.numeric(a$item.stats$mean),
    item_sd = as.numeric(a$item.stats$sd),
    item_r_drop = as.numeric(a$item.stats$r.drop),
    alpha_if_deleted = as.numeric(a$alpha.drop$raw_alpha)
  )
}
write_values(
  list(scales = scales),
  "psych_alpha_bfi",
  paste(
    "psych::alpha(x, keys = <reversed items of the scale>, check.keys = FALSE) on psych_bfi.csv;",
    "omega_tot = psych::omega(<reversed x>, nfactors = 1)$omega.tot (minres, pairwise cor);",
    "fa_minres_loadings = psych::fa(<reversed x>, nfactors = 1, fm = 'minres')$loadings"
  )
)

# ---------------------------------------------------------------------------------------------
# psych::ICC on job satisfaction waves of univbct (classical ANOVA path, lmer = FALSE)
# ---------------------------------------------------------------------------------------------
univbct <- read.csv(file.path(external, "multilevel_univbct.csv"))
wide <- univbct[univbct$TIME == 0, c("SUBNUM", "JOBSAT1", "JOBSAT2", "JOBSAT3")]
icc_case <- function(cols) {
  x <- na.omit(wide[, cols])
  r <- psych::ICC(x, lmer = FALSE)$results
  list(
    waves = cols,
    n_targets = nrow(x),
    n_incomplete = nrow(wide) - nrow(x),
    type = r$type,
    icc = r$ICC,
    f = r$F,
    df1 = r$df1,
    df2 = r$df2,
    p = r$p,
    ci_lower = r[["lower bound"]],
    ci_upper = r[["upper bound"]]
  )
}
write_values(
  list(
    two_waves = icc_case(c("JOBSAT1", "JOBSAT2")),
    three_waves = icc_case(c("JOBSAT1", "JOBSAT2", "JOBSAT3"))
  ),
  "psych_icc_univbct",
  paste(
    "psych::ICC(na.omit(<JOBSAT waves, one row per SUBNUM from TIME == 0>), lmer = FALSE)",
    "on multilevel_univbct.csv"
  )
)

# ---------------------------------------------------------------------------------------------
# Paired change: t.test, wilcox.test and Cohen's d_z with a noncentral-t interval
# ---------------------------------------------------------------------------------------------
jobs <- read.csv(file.path(external, "mediation_jobs2.csv"))

dz_interval <- function(d, n, conf = 0.95) {
  # noncentral-t interval for the standardized mean difference of paired data
  t_obs <- d * sqrt(n)
  df <- n - 1
  g <- (1 - conf) / 2
  f <- function(ncp, target) pt(t_obs, df, ncp) - target
  lo <- uniroot(f, c(t_obs - 10, t_obs + 10), target = 1 - g, tol = 1e-13)$root
  hi <- uniroot(f, c(t_obs - 10, t_obs + 10), target = g, tol = 1e-13)$root
  c(lo, hi) / sqrt(n)
}

paired_case <- function(pre, post, label) {
  keep <- !is.na(pre) & !is.na(post)
  tt <- t.test(post[keep], pre[keep], paired = TRUE)
  wt <- suppressWarnings(wilcox.test(post[keep], pre[keep], paired = TRUE))
  d <- post[keep] - pre[keep]
  n <- sum(keep)
  dz <- mean(d) / sd(d)
  j <- exp(lgamma((n - 1) / 2) - lgamma((n - 2) / 2)) / sqrt((n - 1) / 2)
  ci <- dz_interval(dz, n)
  list(
    label = label,
    n = n,
    n_dropped = sum(!keep),
    mean_change = unname(tt$estimate),
    sd_change = sd(d),
    ci_lower = tt$conf.int[1],
    ci_upper = tt$conf.int[2],
    t = unname(tt$statistic),
    df = unname(tt$parameter),
    p = tt$p.value,
    wilcoxon_v = unname(wt$statistic),
    wilcoxon_p = wt$p.value,
    wilcoxon_method = wt$method,
    cohens_dz = dz,
    cohens_dz_ci = ci,
    hedges_j = j,
    hedges_gz = dz * j,
    hedges_gz_ci = ci * j
  )
}
w1 <- wide[, c("JOBSAT1", "JOBSAT2")]
# sleepstudy day 0 and day 9 reaction times: continuous, no ties, n < 50, so the exact test
sleep0 <- sleepstudy[sleepstudy$Days == 0, ]
sleep9 <- sleepstudy[sleepstudy$Days == 9, ]
stopifnot(identical(as.character(sleep0$Subject), as.character(sleep9$Subject)))
write_values(
  list(
    univbct_jobsat = paired_case(w1$JOBSAT1, w1$JOBSAT2, "univbct JOBSAT1 -> JOBSAT2"),
    jobs = paired_case(jobs$depress1, jobs$depress2, "jobs depress1 -> depress2"),
    sleepstudy_day0_day9 = c(
      paired_case(sleep0$Reaction, sleep9$Reaction, "sleepstudy Reaction day 0 -> day 9"),
      list(subject = as.character(sleep0$Subject), pre = sleep0$Reaction, post = sleep9$Reaction)
    )
  ),
  "outcomes_paired",
  paste(
    "t.test(post, pre, paired = TRUE); wilcox.test(post, pre, paired = TRUE) with R's defaults",
    "(exact when n < 50 without ties or zeros, else normal with continuity correction);",
    "d_z = mean(d)/sd(d) with a noncentral-t interval by uniroot on pt(); g_z = J * d_z with",
    "J = Gamma((n-1)/2) / (sqrt((n-1)/2) Gamma((n-2)/2)). Data: multilevel_univbct.csv",
    "(one row per SUBNUM from TIME == 0), mediation_jobs2.csv, and lme4's sleepstudy",
    "(Reaction on day 0 and day 9 per Subject; data copied into this file)."
  )
)

# ---------------------------------------------------------------------------------------------
# Jacobson-Truax reliable change and clinical significance (formula script)
# ---------------------------------------------------------------------------------------------
rc_inputs <- list(sd = sd(w1$JOBSAT1, na.rm = TRUE), reliability = 0.8,
                  dysfunctional_mean = 2.5, dysfunctional_sd = 0.8,
                  functional_mean = 3.8, functional_sd = 0.6)
sdiff <- rc_inputs$sd * sqrt(2) * sqrt(1 - rc_inputs$reliability)
rc_change <- w1$JOBSAT2 - w1$JOBSAT1
rci <- rc_change / sdiff
cut_a <- rc_inputs$dysfunctional_mean + 2 * rc_inputs$dysfunctional_sd
cut_b <- rc_inputs$functional_mean - 2 * rc_inputs$functional_sd
cut_c <- (rc_inputs$dysfunctional_sd * rc_inputs$functional_mean +
            rc_inputs$functional_sd * rc_inputs$dysfunctional_mean) /
  (rc_inputs$dysfunctional_sd + rc_inputs$functional_sd)
category <- ifelse(rci > qnorm(0.975), "reliably improved",
                   ifelse(rci < -qnorm(0.975), "reliably worse", "no reliable change"))
clinical <- ifelse(category == "reliably improved",
                   ifelse(w1$JOBSAT1 < cut_c & w1$JOBSAT2 >= cut_c, "recovered", "improved"),
                   ifelse(category == "reliably worse", "deteriorated", "unchanged"))
write_values(
  list(
    inputs = rc_inputs,
    subnum = wide$SUBNUM,
    change = rc_change,
    rci = rci,
    category = category,
    clinical = clinical,
    cutoff_a = cut_a,
    cutoff_b = cut_b,
    cutoff_c = cut_c
  ),
  paste0("outcomes_reliable_change"),
  paste(
    "Jacobson & Truax (1991) formulas in base R on multilevel_univbct.csv JOBSAT1 -> JOBSAT2",
    "(one row per SUBNUM from TIME == 0): rci = change / (sd * sqrt(2) * sqrt(1 - r)),",
    "|rci| > qnorm(0.975); cut-off c; recovered = reliably improved, pre < c <= post."
  )
)

# ---------------------------------------------------------------------------------------------
# ANCOVA: lm(depress2 ~ treat + depress1 [+ covariates]) on JOBS II
# ---------------------------------------------------------------------------------------------
ancova_case <- function(formula, covariates) {
  fit <- lm(formula, data = jobs)
  ct <- summary(fit)$coefficients
  ci <- confint(fit)["treat", ]
  dr <- drop1(fit, test = "F")
  ss_treat <- dr["treat", "Sum of Sq"]
  rss <- deviance(fit)
  nd <- data.frame(treat = c(0, 1), depress1 = mean(jobs$depress1))
  for (v in covariates) nd[[v]] <- mean(jobs[[v]])
  adj <- predict(fit, newdata = nd)
  list(
    formula = deparse(formula),
    n = nobs(fit),
    estimate = ct["treat", "Estimate"],
    se = ct["treat", "Std. Error"],
    t = ct["treat", "t value"],
    p = ct["treat", "Pr(>|t|)"],
    ci_lower = ci[[1]],
    ci_upper = ci[[2]],
    df_resid = fit$df.residual,
    partial_eta_sq = ss_treat / (ss_treat + rss),
    adjusted_mean_control = adj[[1]],
    adjusted_mean_treat = adj[[2]],
    baseline_coef = ct["depress1", "Estimate"]
  )
}
write_values(
  list(
    baseline_only = ancova_case(depress2 ~ treat + depress1, character()),
    with_covariates = ancova_case(depress2 ~ treat + depress1 + econ_hard + age,
                                  c("econ_hard", "age"))
  ),
  "outcomes_ancova_jobs2",
  paste(
    "lm() on mediation_jobs2.csv; partial eta squared from drop1(fit, test = 'F');",
    "adjusted means = predict() at treat 0/1 with covariates at their sample means."
  )
)

# ---------------------------------------------------------------------------------------------
# Growth models: lme4::lmer(y ~ time + (time | subject), REML = TRUE)
# ---------------------------------------------------------------------------------------------
lmer_case <- function(fit, time) {
  vc <- as.data.frame(VarCorr(fit))
  fe <- summary(fit)$coefficients
  get_vc <- function(v1, v2) {
    same2 <- if (is.na(v2)) is.na(vc$var2) else (!is.na(vc$var2) & vc$var2 == v2)
    r <- vc[vc$grp != "Residual" & vc$var1 == v1 & same2, "vcov"]
    if (length(r)) r else NA
  }
  list(
    n_obs = nobs(fit),
    n_subjects = unname(ngrps(fit)[1]),
    terms = rownames(fe),
    estimate = unname(fe[, "Estimate"]),
    se = unname(fe[, "Std. Error"]),
    intercept_var = get_vc("(Intercept)", NA),
    slope_var = get_vc(time, NA),
    intercept_slope_cov = get_vc("(Intercept)", time),
    residual_var = vc[vc$grp == "Residual", "vcov"],
    log_likelihood = as.numeric(logLik(fit))
  )
}
univ_fit <- lmer(JSAT ~ TIME + (TIME | SUBNUM), data = univbct, REML = TRUE)
univ_ri <- lmer(JSAT ~ TIME + (1 | SUBNUM), data = univbct, REML = TRUE)
sleep_fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy, REML = TRUE)
sleep_ml <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy, REML = FALSE)
write_values(
  list(
    univbct_slope = lmer_case(univ_fit, "TIME"),
    univbct_intercept = lmer_case(univ_ri, "TIME"),
    sleepstudy_slope = lmer_case(sleep_fit, "Days"),
    sleepstudy_ml = lmer_case(sleep_ml, "Days"),
    sleepstudy_data = list(
      Reaction = sleepstudy$Reaction,
      Days = sleepstudy$Days,
      Subject = as.character(sleepstudy$Subject)
    )
  ),
  "outcomes_lmer",
  paste(
    "lme4::lmer(JSAT ~ TIME + (TIME | SUBNUM)) and (1 | SUBNUM) on multilevel_univbct.csv",
    "(rows with NA JSAT dropped by na.omit), and lmer(Reaction ~ Days + (Days | Subject)) on",
    "lme4's sleepstudy (REML and ML); data of sleepstudy copied into this file."
  )
)

# ---------------------------------------------------------------------------------------------
# Rubin's rules with Barnard-Rubin degrees of freedom (formula script, as in mice::pool)
# ---------------------------------------------------------------------------------------------
# m = 5 analyses of depress2 ~ treat + depress1, each leaving out one fifth of the JOBS II rows
# (row number modulo 5); they stand in for the analyses of 5 imputed data sets.
m <- 5
fits <- lapply(0:(m - 1), function(j) {
  lm(depress2 ~ treat + depress1, data = jobs[(seq_len(nrow(jobs)) %% m) != j, ])
})
Q <- t(sapply(fits, coef))
U <- t(sapply(fits, function(f) diag(vcov(f))))
dfcom <- fits[[1]]$df.residual
qbar <- colMeans(Q)
ubar <- colMeans(U)
b <- apply(Q, 2, var)
t_var <- ubar + (1 + 1 / m) * b
riv <- (1 + 1 / m) * b / ubar
lambda <- (1 + 1 / m) * b / t_var
df_old <- (m - 1) / lambda^2
df_obs <- (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lambda)
df_br <- df_old * df_obs / (df_old + df_obs)
fmi <- (riv + 2 / (df_br + 3)) / (1 + riv)
stat <- qbar / sqrt(t_var)
write_values(
  list(
    m = m,
    terms = colnames(Q),
    estimates = Q,
    variances = U,
    df_complete = dfcom,
    estimate = unname(qbar),
    within = unname(ubar),
    between = unname(b),
    total = unname(t_var),
    se = unname(sqrt(t_var)),
    riv = unname(riv),
    lambda = unname(lambda),
    df = unname(df_br),
    fmi = unname(fmi),
    t = unname(stat),
    p = unname(2 * pt(abs(stat), df_br, lower.tail = FALSE)),
    ci_lower = unname(qbar - qt(0.975, df_br) * sqrt(t_var)),
    ci_upper = unname(qbar + qt(0.975, df_br) * sqrt(t_var))
  ),
  "outcomes_rubin",
  paste(
    "Rubin's rules (T = W + (1 + 1/m) B) with Barnard & Rubin (1999) df, as in mice::pool,",
    "written out in base R; inputs are 5 lm() fits of depress2 ~ treat + depress1 on",
    "mediation_jobs2.csv leaving out rows with row number %% 5 == j."
  )
)
cat("reference values written to", out_dir, "\n")
