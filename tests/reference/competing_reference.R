# Reference values for tim_research.stats.competing (match endings as competing risks).
#
# Run from the repository root:  Rscript tests/reference/competing_reference.R
# Needs R with survival, cmprsk and jsonlite.  Writes tests/reference/values/competing_*.json.
#
# Data:
# - survival::mgus2: time to progression (pcm) with death as the competing event, by sex;
#   the rows used (id, etime, event, sex, age) are written into competing_mgus2.json so the
#   Python tests read exactly what R read.
# - tests/reference/values/competing_synthetic_matches.csv: the matches of
#   tim_research.synth.program(n_youth=300, seed=3) as durations (duration_months from
#   match_durations(matches, cutoff=program.cutoff)), ending (the closure reason; empty =
#   still open, censored), site (of the youth), start_date and stop_date (the end date of a
#   closed match, else the cut-off). Made once in Python and committed.

source(file.path("tests", "reference", "common.R"))
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})
write_values <- make_writer(reference_versions(c("survival", "cmprsk", "jsonlite")))

# summary(survfit(Surv(time, state) ~ group), times = ...) as flat columns, one block per cause
aj_summary <- function(formula, data, times = NULL) {
  fit <- survfit(formula, data = data)
  s <- if (is.null(times)) summary(fit) else summary(fit, times = times)
  states <- s$states
  causes <- states[-1]
  out <- list(
    conf_type = s$conf.type,
    strata = if (is.null(s$strata)) NULL else sub("^[^=]*=", "", as.character(s$strata)),
    time = s$time,
    n_risk = s$n.risk[, 1]
  )
  out$causes <- lapply(seq_along(causes), function(k) {
    j <- k + 1
    list(
      cause = causes[k],
      n_event = s$n.event[, j],
      pstate = s$pstate[, j],
      std_err = s$std.err[, j],
      lower = s$lower[, j],
      upper = s$upper[, j]
    )
  })
  out
}

gray_tests <- function(ftime, fstatus, group, cencode, ...) {
  tests <- cuminc(ftime, fstatus, group, cencode = cencode, ...)$Tests
  list(cause = rownames(tests), stat = unname(tests[, "stat"]), pv = unname(tests[, "pv"]),
       df = unname(tests[, "df"]))
}

crr_fit <- function(ftime, fstatus, cov1, failcode, cencode) {
  fit <- crr(ftime, fstatus, cov1, failcode = failcode, cencode = cencode)
  se <- sqrt(diag(fit$var))
  list(
    covariate = names(fit$coef), coef = unname(fit$coef), se = unname(se),
    p = unname(2 * pnorm(-abs(fit$coef / se))), loglik = fit$loglik,
    loglik_null = fit$loglik.null, converged = fit$converged
  )
}

cox_fit <- function(formula, data) {
  s <- summary(coxph(formula, data = data))$coefficients
  list(covariate = rownames(s), coef = unname(s[, "coef"]), se = unname(s[, "se(coef)"]),
       p = unname(s[, "Pr(>|z|)"]))
}

# ---------------------------------------------------------------------------
# mgus2: progression vs death, by sex
# ---------------------------------------------------------------------------
mg <- mgus2
mg$etime <- with(mg, ifelse(pstat == 1, ptime, futime))
mg$event <- with(mg, ifelse(pstat == 1, 1, 2 * death))
mg$state <- factor(mg$event, 0:2, labels = c("censor", "pcm", "death"))
mg$male <- as.numeric(mg$sex == "M")
mg_times <- c(0.5, 12, 60, 120, 240, 300, 500)

write_values(
  list(
    data = list(id = mg$id, etime = mg$etime, event = mg$event, sex = as.character(mg$sex),
                age = mg$age),
    times = mg_times,
    aj_overall = aj_summary(Surv(etime, state) ~ 1, mg, mg_times),
    aj_by_sex = aj_summary(Surv(etime, state) ~ sex, mg, mg_times),
    gray = gray_tests(mg$etime, mg$event, mg$sex, cencode = 0),
    # stratified by age 70 or over, and with rho = 1 (early differences weighted up)
    gray_strata = gray_tests(mg$etime, mg$event, mg$sex, cencode = 0, strata = mg$age >= 70),
    gray_rho1 = gray_tests(mg$etime, mg$event, mg$sex, cencode = 0, rho = 1),
    crr = lapply(1:2, function(k) c(
      list(failcode = k),
      crr_fit(mg$etime, mg$event, cbind(age = mg$age, male = mg$male), k, 0)
    )),
    cox_cause_specific = lapply(1:2, function(k) {
      mg$ev <- as.numeric(mg$event == k)
      c(list(failcode = k), cox_fit(Surv(etime, ev) ~ age + male, mg))
    })
  ),
  "competing_mgus2",
  "survival::mgus2; survfit (Aalen-Johansen), cmprsk::cuminc, cmprsk::crr, coxph"
)

# ---------------------------------------------------------------------------
# synthetic program: six closure reasons by site; planned vs unplanned
# ---------------------------------------------------------------------------
syn <- read.csv(file.path(out_dir, "competing_synthetic_matches.csv"), na.strings = "",
                stringsAsFactors = FALSE)
reasons <- sort(unique(syn$ending[!is.na(syn$ending)]))
syn$state <- factor(ifelse(is.na(syn$ending), "censored", syn$ending),
                    levels = c("censored", reasons))
syn$two <- factor(ifelse(is.na(syn$ending), "censored",
                         ifelse(syn$ending == "planned completion", "planned", "unplanned")),
                  levels = c("censored", "unplanned", "planned"))
syn_times <- c(1, 3, 6, 12, 24)
site_dummies <- model.matrix(~ site, syn)[, -1, drop = FALSE]
syn$fstatus <- as.character(syn$two)

write_values(
  list(
    times = syn_times,
    aj_reasons_overall = aj_summary(Surv(duration_months, state) ~ 1, syn, syn_times),
    aj_reasons_by_site = aj_summary(Surv(duration_months, state) ~ site, syn, syn_times),
    # every time with an ending (summary without times)
    aj_reasons_by_site_all = aj_summary(Surv(duration_months, state) ~ site, syn),
    aj_unplanned_overall = aj_summary(Surv(duration_months, two) ~ 1, syn, c(3, 6, 12)),
    aj_unplanned_by_site = aj_summary(Surv(duration_months, two) ~ site, syn, c(3, 6, 12)),
    gray_reasons = gray_tests(syn$duration_months,
                              ifelse(is.na(syn$ending), "censored", syn$ending), syn$site,
                              cencode = "censored"),
    gray_unplanned = gray_tests(syn$duration_months, syn$fstatus, syn$site,
                                cencode = "censored"),
    crr_unplanned = crr_fit(syn$duration_months, syn$fstatus, site_dummies, "unplanned",
                            "censored"),
    cox_unplanned = {
      syn$ev <- as.numeric(syn$fstatus == "unplanned")
      cox_fit(Surv(duration_months, ev) ~ site, syn)
    }
  ),
  "competing_synthetic",
  "tim_research.synth.program(n_youth=300, seed=3) matches (competing_synthetic_matches.csv)"
)

# ---------------------------------------------------------------------------
# early closure: unplanned endings within N calendar months, planned completion competing
# ---------------------------------------------------------------------------
# The date k calendar months after d (its own k for each d); a day past the end of a
# shorter month becomes its last day (31 January + 1 month = 28 or 29 February).
add_months <- function(d, k) {
  lt <- as.POSIXlt(d)
  m0 <- lt$mon + k
  y <- lt$year + 1900 + m0 %/% 12
  m <- m0 %% 12 + 1
  first <- as.Date(sprintf("%04d-%02d-01", y, m))
  next_first <- as.Date(sprintf("%04d-%02d-01", y + m %/% 12, m %% 12 + 1))
  first + pmin(lt$mday, as.integer(next_first - first)) - 1
}

# Calendar months from start to stop: whole months, then the share of the next month.
calendar_months <- function(start, stop) {
  a <- as.POSIXlt(start)
  b <- as.POSIXlt(stop)
  whole <- (b$year - a$year) * 12 + (b$mon - a$mon)
  whole <- ifelse(add_months(start, whole) > stop, whole - 1, whole)
  lower <- add_months(start, whole)
  upper <- add_months(start, whole + 1)
  whole + as.numeric(stop - lower) / as.numeric(upper - lower)
}

syn$start <- as.Date(syn$start_date)
syn$stop <- as.Date(syn$stop_date)
syn$cal <- calendar_months(syn$start, syn$stop)
# the calendar rule: time < N exactly when the stop is before the N-month date
for (n in 1:36) stopifnot(identical(syn$cal < n, syn$stop < add_months(syn$start, n)))
ec_months <- c(3, 6, 12)
# "within N months" is before the N-month date: the incidence just before N. No stop falls
# in the last 1e-9 month before N (a day is at least 1/31 of a month), so N - 1e-9 gives it.
eps <- 1e-9
for (n in ec_months) stopifnot(!any(syn$cal >= n - eps & syn$cal < n))

early_block <- function(data) {
  s <- summary(survfit(Surv(cal, two) ~ 1, data = data), times = ec_months - eps)
  j <- which(s$states == "unplanned")
  list(
    n = nrow(data),
    n_risk = s$n.risk[, 1],
    events = sapply(ec_months, function(n) sum(data$two == "unplanned" & data$cal < n)),
    pstate = s$pstate[, j], std_err = s$std.err[, j], lower = s$lower[, j],
    upper = s$upper[, j]
  )
}

write_values(
  list(
    months = ec_months,
    calendar_months = syn$cal,
    overall = early_block(syn),
    by_site = lapply(split(syn, syn$site), early_block)
  ),
  "competing_early_closure",
  paste("tim_research.synth.program(n_youth=300, seed=3) matches",
        "(competing_synthetic_matches.csv); survfit on calendar months")
)
