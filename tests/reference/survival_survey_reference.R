# Reference values for tim_research.matches and tim_research.prevalence.
#
# Run from the repository root:  Rscript tests/reference/survival_survey_reference.R
# Needs R with the survival, survey and jsonlite packages (Debian: r-cran-survival,
# r-cran-survey, r-cran-jsonlite).  Writes tests/reference/values/survival_*.json and
# tests/reference/values/survey_*.json.  Every file records R.version.string and the
# package versions used.
#
# Data:
# - tests/data/external/lifelines_rossi.csv (Rossi, Berk & Lenihan 1980; see SOURCES.md);
# - survival::lung and survival::aml (shipped with the survival package; exported into the
#   JSON so the Python tests read exactly the same rows);
# - survey::api (apistrat, apiclus1; shipped with the survey package; exported likewise).

suppressPackageStartupMessages({
  library(survival)
  library(survey)
  library(jsonlite)
})

out_dir <- file.path("tests", "reference", "values")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

versions <- function(pkgs) {
  list(
    R = R.version.string,
    packages = setNames(lapply(pkgs, function(p) as.character(packageVersion(p))), pkgs)
  )
}

write_json_file <- function(x, stem) {
  path <- file.path(out_dir, paste0(stem, ".json"))
  txt <- toJSON(x, auto_unbox = TRUE, digits = I(15), na = "null", pretty = TRUE)
  writeLines(txt, path)
  cat("wrote", path, "\n")
}

rossi <- read.csv(file.path("tests", "data", "external", "lifelines_rossi.csv"))

# ---------------------------------------------------------------------------
# Kaplan-Meier: survfit, full tables (censoring times included), three conf.types
# ---------------------------------------------------------------------------
km_table <- function(fit) {
  s <- summary(fit, censored = TRUE)
  strata <- if (is.null(s$strata)) NULL else as.character(s$strata)
  list(
    strata = strata,
    time = s$time,
    n_risk = s$n.risk,
    n_event = s$n.event,
    n_censor = s$n.censor,
    surv = s$surv,
    std_err = s$std.err,       # standard error of S(t) (Greenwood), as summary.survfit prints
    lower = s$lower,
    upper = s$upper
  )
}

km_median <- function(fit) {
  tab <- summary(fit)$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  lcl <- grep("LCL$", colnames(tab), value = TRUE)
  ucl <- grep("UCL$", colnames(tab), value = TRUE)
  list(
    strata = if (nrow(tab) > 1) rownames(tab) else NULL,
    n = unname(tab[, "records"]),
    events = unname(tab[, "events"]),
    median = unname(tab[, "median"]),
    lower = unname(tab[, lcl]),
    upper = unname(tab[, ucl])
  )
}

km_set <- function(formula, data) {
  res <- list()
  for (ct in c("log", "log-log", "plain")) {
    fit <- survfit(formula, data = data, conf.type = ct)
    res[[ct]] <- list(table = km_table(fit), median = km_median(fit))
  }
  fit90 <- survfit(formula, data = data, conf.type = "log", conf.int = 0.90)
  res[["log_90"]] <- list(table = km_table(fit90), median = km_median(fit90))
  res
}

lung_data <- survival::lung[, c("time", "status", "sex")]
lung_data$event <- as.integer(lung_data$status == 2)
aml_data <- survival::aml
aml_data$group <- as.character(aml_data$x)

write_json_file(list(
  source = paste("survival::survfit on tests/data/external/lifelines_rossi.csv,",
                 "survival::lung and survival::aml; summary(fit, censored=TRUE) and",
                 "summary(fit)$table"),
  versions = versions(c("survival", "jsonlite")),
  rossi_overall = km_set(Surv(week, arrest) ~ 1, rossi),
  rossi_by_fin = km_set(Surv(week, arrest) ~ fin, rossi),
  lung_by_sex = km_set(Surv(time, event) ~ sex, lung_data),
  lung_overall = km_set(Surv(time, event) ~ 1, lung_data),
  aml_by_group = km_set(Surv(time, status) ~ group, aml_data),
  lung_data = list(time = lung_data$time, event = lung_data$event, sex = lung_data$sex),
  aml_data = list(time = aml_data$time, status = aml_data$status, group = aml_data$group)
), "survival_km")

# ---------------------------------------------------------------------------
# Log-rank: survdiff
# ---------------------------------------------------------------------------
rossi$prio3 <- ifelse(rossi$prio == 0, "none", ifelse(rossi$prio <= 2, "1-2", "3+"))

survdiff_result <- function(formula, data) {
  sd <- survdiff(formula, data = data)
  k <- length(sd$n)
  list(
    groups = names(sd$n),
    n = as.numeric(sd$n),
    observed = as.numeric(sd$obs),
    expected = as.numeric(sd$exp),
    var = as.numeric(sd$var),
    chisq = sd$chisq,
    df = k - 1,
    p = pchisq(sd$chisq, k - 1, lower.tail = FALSE)
  )
}

write_json_file(list(
  source = "survival::survdiff (rho = 0) on tests/data/external/lifelines_rossi.csv",
  versions = versions(c("survival", "jsonlite")),
  prio3_definition = "prio == 0 -> 'none'; prio <= 2 -> '1-2'; otherwise '3+'",
  by_fin = survdiff_result(Surv(week, arrest) ~ fin, rossi),
  by_prio3 = survdiff_result(Surv(week, arrest) ~ prio3, rossi),
  prio3 = rossi$prio3,
  lung_by_sex = survdiff_result(Surv(time, event) ~ sex, lung_data)
), "survival_logrank")

# ---------------------------------------------------------------------------
# Cox: coxph, Efron and Breslow, tight convergence so that the values are the maximum
# of the partial likelihood to well below the test tolerance
# ---------------------------------------------------------------------------
cox_result <- function(formula, data, ties) {
  fit <- coxph(formula, data = data, ties = ties,
               control = coxph.control(eps = 1e-11, iter.max = 100))
  s <- summary(fit, conf.int = 0.95)
  co <- s$coefficients
  ci <- s$conf.int
  list(
    covariates = rownames(co),
    coef = unname(co[, "coef"]),
    se = unname(co[, "se(coef)"]),
    hr = unname(co[, "exp(coef)"]),
    z = unname(co[, "z"]),
    p = unname(co[, "Pr(>|z|)"]),
    ci_lower = unname(ci[, "lower .95"]),
    ci_upper = unname(ci[, "upper .95"]),
    loglik = as.numeric(fit$loglik),
    n = fit$n,
    nevent = fit$nevent,
    iter = fit$iter
  )
}

f7 <- Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio
f3 <- Surv(week, arrest) ~ fin + age + prio
rossi_tied <- rossi
rossi_tied$period <- rossi$week %/% 8 + 1   # 7 distinct times: very many ties

# default-control fit, recorded so that the size of R's own stopping error is visible
default_fit <- coxph(f7, data = rossi, ties = "efron")

write_json_file(list(
  source = paste("survival::coxph on tests/data/external/lifelines_rossi.csv,",
                 "control = coxph.control(eps = 1e-11, iter.max = 100)"),
  versions = versions(c("survival", "jsonlite")),
  tied_definition = "period = week %/% 8 + 1",
  efron_7 = cox_result(f7, rossi, "efron"),
  breslow_7 = cox_result(f7, rossi, "breslow"),
  efron_3 = cox_result(f3, rossi, "efron"),
  breslow_3 = cox_result(f3, rossi, "breslow"),
  efron_tied_3 = cox_result(Surv(period, arrest) ~ fin + age + prio, rossi_tied, "efron"),
  breslow_tied_3 = cox_result(Surv(period, arrest) ~ fin + age + prio, rossi_tied, "breslow"),
  efron_7_default_control_coef = unname(coef(default_fit))
), "survival_cox")

# ---------------------------------------------------------------------------
# Survey: svymean / svyby / confint on survey::api
# ---------------------------------------------------------------------------
data(api)
prep <- function(d) {
  d$sw <- as.numeric(d$sch.wide == "Yes")
  d$aw <- as.numeric(d$awards == "Yes")
  d$stype <- as.character(d$stype)
  d
}
apistrat <- prep(apistrat)
apiclus1 <- prep(apiclus1)
# a copy with deterministic missing values in the indicator (every 17th row)
apistrat$sw_na <- apistrat$sw
apistrat$sw_na[seq(5, nrow(apistrat), by = 17)] <- NA
apiclus1$sw_na <- apiclus1$sw
apiclus1$sw_na[seq(3, nrow(apiclus1), by = 11)] <- NA

svy_overall <- function(formula, design, na.rm = FALSE) {
  m <- svymean(formula, design, na.rm = na.rm)
  ci <- confint(m, level = 0.95)
  list(estimate = unname(coef(m)), se = as.numeric(SE(m)),
       ci_lower = unname(ci[1, 1]), ci_upper = unname(ci[1, 2]))
}

svy_by <- function(formula, by, design, na.rm = FALSE) {
  b <- svyby(formula, by, design, svymean, na.rm = na.rm)
  ci <- confint(b, level = 0.95)
  list(group = as.character(b[[1]]), estimate = unname(coef(b)), se = as.numeric(SE(b)),
       ci_lower = unname(ci[, 1]), ci_upper = unname(ci[, 2]))
}

# every design: sw, aw and sw_na (na.rm = TRUE), overall and by school type
svy_all <- function(design) {
  list(
    sw = svy_overall(~sw, design),
    aw = svy_overall(~aw, design),
    sw_na = svy_overall(~sw_na, design, na.rm = TRUE),
    sw_by_stype = svy_by(~sw, ~stype, design),
    aw_by_stype = svy_by(~aw, ~stype, design),
    sw_na_by_stype = svy_by(~sw_na, ~stype, design, na.rm = TRUE)
  )
}

wilson <- function(x, n) {
  ci <- prop.test(x, n, correct = FALSE, conf.level = 0.95)$conf.int
  list(events = x, n = n, estimate = x / n, ci_lower = ci[1], ci_upper = ci[2])
}

strat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
strat_nofpc <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat)
clus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
clus1_nofpc <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
# stratified and clustered: districts nested within school type (an illustrative design)
strat_clus <- svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = apistrat, nest = TRUE)

cols <- c("cds", "stype", "dnum", "snum", "pw", "fpc", "sw", "aw", "sw_na")
export <- function(d) lapply(d[, cols], function(v) if (is.factor(v)) as.character(v) else v)

unweighted_by <- lapply(sort(unique(apistrat$stype)), function(g) {
  sub <- apistrat[apistrat$stype == g, ]
  c(list(group = g), wilson(sum(sub$sw), nrow(sub)))
})

write_json_file(list(
  source = paste("survey::svymean, survey::svyby and confint on survey::api (apistrat,",
                 "apiclus1); stats::prop.test(correct = FALSE) for Wilson intervals"),
  versions = versions(c("survey", "jsonlite")),
  definitions = list(
    sw = "as.numeric(sch.wide == 'Yes')",
    aw = "as.numeric(awards == 'Yes')",
    sw_na = "sw with NA at rows seq(5, n, 17) in apistrat and seq(3, n, 11) in apiclus1",
    strat = "svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)",
    strat_nofpc = "svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat)",
    clus1 = "svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)",
    clus1_nofpc = "svydesign(id=~dnum, weights=~pw, data=apiclus1)",
    strat_clus = "svydesign(id=~dnum, strata=~stype, weights=~pw, data=apistrat, nest=TRUE)"
  ),
  apistrat = export(apistrat),
  apiclus1 = export(apiclus1),
  strat = svy_all(strat),
  strat_nofpc = svy_all(strat_nofpc),
  clus1 = svy_all(clus1),
  clus1_nofpc = svy_all(clus1_nofpc),
  strat_clus = svy_all(strat_clus),
  unweighted = list(
    apistrat_sw = wilson(sum(apistrat$sw), nrow(apistrat)),
    apistrat_sw_by_stype = unweighted_by
  )
), "survey_api")
