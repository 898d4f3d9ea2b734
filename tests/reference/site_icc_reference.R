# Site-level reliability: ICC(1) and ICC(2) of group means from a one-way ANOVA, as
# multilevel::ICC1 / multilevel::ICC2 on aov(value ~ factor(group)) (Bliese 2000), for
# tests/test_psychometrics.py. Run from the repository root:
#   Rscript tests/reference/site_icc_reference.R   (needs r-cran-multilevel, r-cran-jsonlite)
source(file.path("tests", "reference", "common.R"))
suppressPackageStartupMessages(library(multilevel))
write_values <- make_writer(reference_versions(c("multilevel", "jsonlite")))

icc_case <- function(d, value, group) {
  d <- d[!is.na(d[[value]]) & !is.na(d[[group]]), ]
  fit <- aov(d[[value]] ~ factor(d[[group]]))
  tab <- summary(fit)[[1]]
  list(
    value = value, group = group, n = nrow(d), n_groups = length(unique(d[[group]])),
    icc1 = ICC1(fit), icc2 = ICC2(fit),
    ms_between = tab[1, 3], ms_within = tab[2, 3], df_between = tab[1, 1],
    df_within = tab[2, 1], f = tab[1, 4], p = tab[1, 5]
  )
}

bh <- read.csv(file.path(external, "multilevel_bh1996.csv"))
univbct <- read.csv(file.path(external, "multilevel_univbct.csv"))
univ1 <- univbct[univbct$TIME == 0, ]
# an unbalanced subset: company g keeps its first (g %% 7) * 3 + 2 soldiers
bh$k <- ave(seq_len(nrow(bh)), bh$GRP, FUN = seq_along)
small <- bh[bh$k <= (bh$GRP %% 7) * 3 + 2, ]
cases <- list(
  bh1996_wbeing = icc_case(bh, "WBEING", "GRP"),
  bh1996_cohes = icc_case(bh, "COHES", "GRP"),
  bh1996_unbalanced_lead = icc_case(small, "LEAD", "GRP"),
  univbct_jobsat1 = icc_case(univ1, "JOBSAT1", "COMPANY")
)
write_values(
  list(cases = cases, unbalanced_rule = "company GRP keeps rows 1..((GRP %% 7) * 3 + 2)"),
  "site_icc",
  "multilevel::ICC1 and ICC2 on aov(value ~ factor(group)); rows with a missing value dropped"
)
cat("wrote tests/reference/values/site_icc.json\n")
