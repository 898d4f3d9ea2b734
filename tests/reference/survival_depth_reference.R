# Reference values for the deeper survival estimators of tim_research.stats.survival
# (tests/test_survival_depth.py): Nelson-Aalen cumulative hazard, weighted log-rank tests,
# quantiles of survival with CIs, the concordance of a Cox model, stratified Cox models and
# cluster-robust (grouped sandwich) standard errors, and cox.zph.
#
# Run from the repository root:  Rscript tests/reference/survival_depth_reference.R
# Needs R with the survival and jsonlite packages.  Writes
# tests/reference/values/survival_depth.json (R.version.string and package versions recorded).
#
# Data: tests/data/external/lifelines_rossi.csv, survival::lung and survival::veteran (the
# rows used are written into the JSON so Python reads exactly the same data).
source(file.path("tests", "reference", "common.R"))
suppressPackageStartupMessages(library(survival))
write_values <- make_writer(reference_versions(c("survival", "jsonlite")))

rossi <- read.csv(file.path(external, "lifelines_rossi.csv"))
lung_d <- data.frame(time = lung$time, status = as.integer(lung$status == 2), sex = lung$sex)
vet <- data.frame(time = veteran$time, status = veteran$status, trt = veteran$trt,
                  celltype = as.character(veteran$celltype), karno = veteran$karno,
                  age = veteran$age)
z95 <- qnorm(0.975)

# --- 1. Nelson-Aalen: survfit(ctype = 1) $cumhaz and $std.chaz, log-transformed CI -------------
nelson_aalen_case <- function(formula, data) {
  fit <- survfit(formula, data = data, ctype = 1)
  strata <- if (is.null(fit$strata)) NULL else rep(names(fit$strata), fit$strata)
  h <- fit$cumhaz
  se <- fit$std.chaz
  list(strata = strata, time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
       cumhaz = h, std_chaz = se,
       # CI of H(t) on the log scale: H exp(+-z se / H); NA while H(t) = 0
       lower = ifelse(h > 0, h * exp(-z95 * se / h), NA),
       upper = ifelse(h > 0, h * exp(z95 * se / h), NA))
}
nelson_aalen <- list(
  rossi_fin = nelson_aalen_case(Surv(week, arrest) ~ fin, rossi),
  lung = nelson_aalen_case(Surv(time, status) ~ 1, lung_d),
  veteran_celltype = nelson_aalen_case(Surv(time, status) ~ celltype, vet)
)

# --- 2. weighted log-rank: survdiff(rho) and an independent G(rho, gamma) ---------------------
survdiff_case <- function(formula, data, rho) {
  s <- survdiff(formula, data = data, rho = rho)
  df <- sum(s$exp > 0) - 1
  list(rho = rho, gamma = 0, chisq = s$chisq, df = df,
       p = pchisq(s$chisq, df, lower.tail = FALSE),
       observed = as.numeric(s$obs), expected = as.numeric(s$exp), var_diag = diag(s$var))
}
# Fleming-Harrington G(rho, gamma) by a plain loop over the distinct event times, with
# weights S(t-)^rho (1 - S(t-))^gamma from the pooled Kaplan-Meier curve (no survival code)
fh_loop <- function(time, status, group, rho, gamma) {
  g <- sort(unique(group))
  k <- length(g)
  o <- e <- numeric(k)
  v <- matrix(0, k, k)
  s_prev <- 1
  for (tt in sort(unique(time[status == 1]))) {
    at_risk <- time >= tt
    n <- sum(at_risk)
    d <- sum(status[time == tt] == 1)
    w <- s_prev^rho * (1 - s_prev)^gamma
    n_g <- sapply(g, function(x) sum(at_risk & group == x))
    d_g <- sapply(g, function(x) sum(time == tt & status == 1 & group == x))
    o <- o + w * d_g
    e <- e + w * d * n_g / n
    if (n > 1) {
      f <- n_g / n
      v <- v + w^2 * d * (n - d) / (n - 1) * (diag(f, k) - outer(f, f))
    }
    s_prev <- s_prev * (1 - d / n)
  }
  idx <- 2:k
  chisq <- as.numeric(t(o - e)[idx] %*% solve(v[idx, idx, drop = FALSE], (o - e)[idx]))
  list(rho = rho, gamma = gamma, chisq = chisq, df = k - 1,
       p = pchisq(chisq, k - 1, lower.tail = FALSE),
       observed = o, expected = e, var_diag = diag(v))
}
logrank_cases <- list()
for (rho in c(0, 1, 0.5)) {
  tag <- paste0("rho", rho)
  logrank_cases[[paste0("rossi_fin_", tag)]] <- c(
    list(data = "rossi", group = "fin"), survdiff_case(Surv(week, arrest) ~ fin, rossi, rho))
  logrank_cases[[paste0("veteran_celltype_", tag)]] <- c(
    list(data = "veteran", group = "celltype"),
    survdiff_case(Surv(time, status) ~ celltype, vet, rho))
}
for (rg in list(c(0, 1), c(1, 1), c(0.5, 2))) {
  tag <- paste0("rho", rg[1], "_gamma", rg[2])
  logrank_cases[[paste0("rossi_fin_", tag)]] <- c(
    list(data = "rossi", group = "fin"),
    fh_loop(rossi$week, rossi$arrest, rossi$fin, rg[1], rg[2]))
  logrank_cases[[paste0("veteran_celltype_", tag)]] <- c(
    list(data = "veteran", group = "celltype"),
    fh_loop(vet$time, vet$status, vet$celltype, rg[1], rg[2]))
}
# the loop reproduces survdiff where both apply (gamma = 0)
stopifnot(abs(fh_loop(vet$time, vet$status, vet$celltype, 0.5, 0)$chisq -
              survdiff(Surv(time, status) ~ celltype, vet, rho = 0.5)$chisq) < 1e-10)

# --- 3. quantiles of survival with CIs: quantile(survfit(...)) --------------------------------
quantile_case <- function(formula, data, conf_type, probs = c(0.25, 0.5, 0.75)) {
  fit <- survfit(formula, data = data, conf.type = conf_type)
  q <- quantile(fit, probs = probs)
  as_mat <- function(m) if (is.matrix(m)) m else matrix(m, nrow = 1)
  list(conf_type = conf_type, probs = probs,
       strata = if (is.null(fit$strata)) NULL else names(fit$strata),
       quantile = as_mat(q$quantile), lower = as_mat(q$lower), upper = as_mat(q$upper))
}
quantiles <- list(
  rossi_fin_log = quantile_case(Surv(week, arrest) ~ fin, rossi, "log", c(0.1, 0.25, 0.5)),
  lung_sex_log = quantile_case(Surv(time, status) ~ sex, lung_d, "log"),
  lung_loglog = quantile_case(Surv(time, status) ~ 1, lung_d, "log-log", c(0.1, 0.25, 0.5, 0.75, 0.9)),
  veteran_trt_plain = quantile_case(Surv(time, status) ~ trt, vet, "plain"),
  veteran_celltype_log = quantile_case(Surv(time, status) ~ celltype, vet, "log")
)
# a curve that sits at exactly 0.5 and then 0.25 until its last (censored) time: the
# midpoint rules of findq (tests the flat stretches and the last point)
flat <- data.frame(time = c(1, 2, 3, 4, 5, 6, 7, 8), status = c(1, 1, 1, 1, 0, 1, 0, 0))
quantiles$flat <- quantile_case(Surv(time, status) ~ 1, flat, "log", c(0.25, 0.5, 0.75))
# a curve that ends at exactly 0.5: quantile.survfit and print.survfit's median differ there
flat_end <- data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 0, 0))
quantiles$flat_end <- c(
  quantile_case(Surv(time, status) ~ 1, flat_end, "log", c(0.25, 0.5)),
  list(print_median = unname(summary(survfit(Surv(time, status) ~ 1, flat_end))$table["median"])))

# --- 4. concordance of a Cox model's linear predictor -----------------------------------------
concordance_case <- function(fit) {
  cc <- concordance(fit)
  list(concordance = cc$concordance, se = sqrt(cc$var), count = as.list(cc$count),
       coef = unname(coef(fit)))
}
concord <- list(
  rossi_fin_age_prio = c(list(covariates = c("fin", "age", "prio")), concordance_case(
    coxph(Surv(week, arrest) ~ fin + age + prio, data = rossi))),
  lung_sex = c(list(covariates = c("sex")), concordance_case(
    coxph(Surv(time, status) ~ sex, data = lung_d))),
  veteran_trt = c(list(covariates = c("trt")), concordance_case(
    coxph(Surv(time, status) ~ trt, data = vet)))
)

# --- 5./6. stratified Cox and cluster-robust standard errors -----------------------------------
# a made-up cluster on rossi: rows in file order, three to a cluster
rossi$cl <- (seq_len(nrow(rossi)) - 1) %/% 3
cox_case <- function(fit) {
  list(coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))),
       se_naive = unname(sqrt(diag(if (is.null(fit$naive.var)) fit$var else fit$naive.var))),
       loglik = fit$loglik, n = fit$n, n_events = fit$nevent)
}
cox_cases <- list()
for (ties in c("efron", "breslow")) {
  cox_cases[[paste0("strata_wexp_", ties)]] <- c(
    list(covariates = c("fin", "age"), strata = "wexp", cluster = NULL, ties = ties),
    cox_case(coxph(Surv(week, arrest) ~ fin + age + strata(wexp), data = rossi, ties = ties)))
  cox_cases[[paste0("strata_wexp_mar_", ties)]] <- c(
    list(covariates = c("fin", "age", "prio"), strata = c("wexp", "mar"), cluster = NULL,
         ties = ties),
    cox_case(coxph(Surv(week, arrest) ~ fin + age + prio + strata(wexp, mar), data = rossi,
                   ties = ties)))
  cox_cases[[paste0("cluster_", ties)]] <- c(
    list(covariates = c("fin", "age", "prio"), strata = NULL, cluster = "cl", ties = ties),
    cox_case(coxph(Surv(week, arrest) ~ fin + age + prio, data = rossi, ties = ties,
                   cluster = cl)))
  cox_cases[[paste0("strata_cluster_", ties)]] <- c(
    list(covariates = c("fin", "age"), strata = "wexp", cluster = "cl", ties = ties),
    cox_case(coxph(Surv(week, arrest) ~ fin + age + strata(wexp), data = rossi, ties = ties,
                   cluster = cl)))
}
concord$rossi_strata_wexp <- c(
  list(covariates = c("fin", "age"), strata = "wexp"),
  concordance_case(coxph(Surv(week, arrest) ~ fin + age + strata(wexp), data = rossi)))

# --- 7. proportional-hazards check: cox.zph ------------------------------------------------------
zph_case <- function(fit, transform = "km") {
  z <- cox.zph(fit, transform = transform)
  list(transform = transform, terms = rownames(z$table), chisq = unname(z$table[, "chisq"]),
       df = unname(z$table[, "df"]), p = unname(z$table[, "p"]), time = z$time, x = z$x,
       y = unname(z$y))
}
zph <- list()
for (ties in c("efron", "breslow")) {
  zph[[paste0("rossi_", ties)]] <- c(
    list(data = "rossi", covariates = c("fin", "age", "prio"), ties = ties),
    zph_case(coxph(Surv(week, arrest) ~ fin + age + prio, data = rossi, ties = ties)))
}
for (tr in c("rank", "identity", "log")) {
  zph[[paste0("veteran_", tr)]] <- c(
    list(data = "veteran", covariates = c("trt", "karno", "age"), ties = "efron"),
    zph_case(coxph(Surv(time, status) ~ trt + karno + age, data = vet), tr))
}
zph$veteran_km <- c(
  list(data = "veteran", covariates = c("trt", "karno", "age"), ties = "efron"),
  zph_case(coxph(Surv(time, status) ~ trt + karno + age, data = vet)))
zph$rossi_strata_wexp <- c(
  list(data = "rossi", covariates = c("fin", "age", "prio"), ties = "efron", strata = "wexp"),
  zph_case(coxph(Surv(week, arrest) ~ fin + age + prio + strata(wexp), data = rossi)))
zph$rossi_strata_wexp_mar_breslow <- c(
  list(data = "rossi", covariates = c("fin", "age"), ties = "breslow",
       strata = c("wexp", "mar")),
  zph_case(coxph(Surv(week, arrest) ~ fin + age + strata(wexp, mar), data = rossi,
                 ties = "breslow")))
zph$lung_sex <- c(
  list(data = "lung", covariates = "sex", ties = "efron"),
  zph_case(coxph(Surv(time, status) ~ sex, data = lung_d)))

write_values(
  list(
    data = list(lung = as.list(lung_d), veteran = as.list(vet), flat = as.list(flat),
                flat_end = as.list(flat_end)),
    nelson_aalen = nelson_aalen, logrank = logrank_cases, quantiles = quantiles,
    concordance = concord, cox = cox_cases, rossi_cluster = rossi$cl,
    zph = zph
  ),
  "survival_depth",
  paste("survival::survfit(ctype = 1) cumhaz/std.chaz, survdiff(rho), a base-R loop for",
        "G(rho, gamma), quantile.survfit, concordance(coxph), coxph with strata() and cluster, cox.zph;",
        "lung status recoded 2 -> 1")
)
cat("wrote tests/reference/values/survival_depth.json\n")
