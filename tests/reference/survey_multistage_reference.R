# Reference values for the first-stage analysis of a two-stage sample in
# tim_research.stats.prevalence (tests/test_prevalence.py).
#
# Run from the repository root with R and Debian's r-cran-survey and r-cran-jsonlite:
#
#     Rscript tests/reference/survey_multistage_reference.R
#
# Data: survey::apiclus2 (shipped with the survey package): 40 of California's 757 school
# districts (dnum; fpc1 = 757), then up to 5 schools within each (snum; fpc2 = the district's
# number of schools). The rows used are exported into the JSON so the Python tests read exactly
# the same data. Writes tests/reference/values/survey_apiclus2.json.

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

source(file.path("tests", "reference", "common.R"))
write_values <- make_writer(reference_versions(c("survey", "jsonlite")))

data(api)
d <- apiclus2
d$sw <- as.numeric(d$sch.wide == "Yes")
d$aw <- as.numeric(d$awards == "Yes")
d$stype <- as.character(d$stype)
d$fpc2 <- as.numeric(d$fpc2)  # an integer array with dimnames in the package data

overall <- function(formula, design) {
  m <- svymean(formula, design)
  ci <- confint(m, level = 0.95)
  list(estimate = unname(coef(m)), se = as.numeric(SE(m)),
       ci_lower = unname(ci[1, 1]), ci_upper = unname(ci[1, 2]))
}

by_stype <- function(formula, design) {
  b <- svyby(formula, ~stype, design, svymean)
  ci <- confint(b, level = 0.95)
  list(group = as.character(b[[1]]), estimate = unname(coef(b)), se = as.numeric(SE(b)),
       ci_lower = unname(ci[, 1]), ci_upper = unname(ci[, 2]))
}

all_stats <- function(design) {
  list(sw = overall(~sw, design), aw = overall(~aw, design),
       sw_by_stype = by_stype(~sw, design), aw_by_stype = by_stype(~aw, design))
}

# first-stage specifications: what prevalence(psu="dnum", fpc="fpc1" or no fpc) must equal
first <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc1, data = d)
first_nofpc <- svydesign(id = ~dnum, weights = ~pw, data = d)
# the full two-stage design, recorded to show how far the first-stage SE is from it
two_stage <- svydesign(id = ~dnum + snum, weights = ~pw, fpc = ~fpc1 + fpc2, data = d)

cols <- c("cds", "stype", "dnum", "snum", "pw", "fpc1", "fpc2", "sw", "aw")

write_values(list(
  definitions = list(
    sw = "as.numeric(sch.wide == 'Yes')",
    aw = "as.numeric(awards == 'Yes')",
    first = "svydesign(id=~dnum, weights=~pw, fpc=~fpc1, data=apiclus2)",
    first_nofpc = "svydesign(id=~dnum, weights=~pw, data=apiclus2)",
    two_stage = "svydesign(id=~dnum+snum, weights=~pw, fpc=~fpc1+fpc2, data=apiclus2)"
  ),
  apiclus2 = lapply(d[, cols], function(v) if (is.factor(v)) as.character(v) else v),
  first = all_stats(first),
  first_nofpc = all_stats(first_nofpc),
  two_stage = all_stats(two_stage)
), "survey_apiclus2", source = "survey::svymean, svyby and confint on survey::apiclus2")
