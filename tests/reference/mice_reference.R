# mice::pool.scalar on the same five fits as outcomes_rubin (psych_lme4_reference.R): an
# implementation of Rubin's rules other than our own, for tests/test_outcomes.py.
# Run from the repository root:  Rscript tests/reference/mice_reference.R   (needs r-cran-mice)
suppressPackageStartupMessages({library(jsonlite); library(mice)})
jobs <- read.csv(file.path("tests", "data", "external", "mediation_jobs2.csv"))
m <- 5
fits <- lapply(0:(m - 1), function(j) {
  lm(depress2 ~ treat + depress1, data = jobs[(seq_len(nrow(jobs)) %% m) != j, ])
})
Q <- t(sapply(fits, coef))
U <- t(sapply(fits, function(f) diag(vcov(f))))
k <- ncol(Q)
n <- fits[[1]]$df.residual + k  # pool.scalar's df of the complete data is n - k
pooled <- lapply(seq_len(k), function(j) pool.scalar(Q[, j], U[, j], n = n, k = k))
out <- list(
  source = "mice::pool.scalar(Q, U, n, k) per coefficient; Barnard-Rubin df",
  r_version = R.version.string, mice_version = as.character(packageVersion("mice")),
  terms = colnames(Q), df_complete = n - k, estimates = Q, variances = U,
  qbar = sapply(pooled, `[[`, "qbar"), ubar = sapply(pooled, `[[`, "ubar"),
  b = sapply(pooled, `[[`, "b"), t = sapply(pooled, `[[`, "t"), df = sapply(pooled, `[[`, "df"),
  r = sapply(pooled, `[[`, "r"), fmi = sapply(pooled, `[[`, "fmi"))
write_json(out, "tests/reference/values/outcomes_mice_pool.json", digits = NA, pretty = TRUE,
           auto_unbox = TRUE)
cat("wrote tests/reference/values/outcomes_mice_pool.json\n")
