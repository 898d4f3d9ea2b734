# Independent reference scores for tests/test_scoring.py, written in base R from each instrument's
# published scoring rules (sources beside each rule), not from the Python engine.
# Run from the repository root:  Rscript tests/reference/scoring_reference.R
# Inputs: seeded random responses made here, and data/external/brfss2022_ace_12states.csv.
# Outputs: tests/reference/values/scoring_<id>_input.csv, scoring_<id>_expected.csv, scoring_meta.json,
# scoring_brfss_ace_complete_cases.json
suppressPackageStartupMessages(library(jsonlite))
out <- "tests/reference/values"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
set.seed(20261127)

make_items <- function(prefix, k, codes, n = 80, p_missing = 0.08) {
  m <- matrix(sample(codes, n * k, replace = TRUE), n, k)
  m[matrix(runif(n * k) < p_missing, n, k)] <- NA
  # a few rows with many missing, to reach every missing-item rule
  m[1:4, ] <- NA
  m[5, 1:(k - 1)] <- NA
  colnames(m) <- paste0(prefix, "_", seq_len(k))
  rownames(m) <- sprintf("r%03d", sample(n))  # shuffled, non-default row labels
  m
}
rev_code <- function(x, lo, hi) lo + hi - x
n_ans <- function(m) rowSums(!is.na(m))
sum_all <- function(m) ifelse(n_ans(m) == ncol(m), rowSums(m), NA)
prorated_sum <- function(m, min_n) {
  k <- ncol(m); n <- n_ans(m)
  ifelse(n >= min_n, rowMeans(m, na.rm = TRUE) * k, NA)
}
# Project convention for every sum banded by whole-number cut-offs: a prorated sum is rounded half
# up to a whole number before banding, as a hand-scorer would (R's round() rounds half to even).
round_half_up <- function(x) floor(x + 0.5)
cut_closed_right <- function(x, breaks, labels) {
  # bins (-Inf, b1], (b1, b2], ... : used where the source gives integer upper bounds
  as.character(cut(x, c(-Inf, breaks, Inf), labels = labels, right = TRUE))
}
cut_closed_left <- function(x, breaks, labels) {
  # bins (-Inf, b1), [b1, b2), ... : used where the source gives "below b1"
  as.character(cut(x, c(-Inf, breaks, Inf), labels = labels, right = FALSE))
}
write_pair <- function(id, items, expected) {
  write.csv(data.frame(row_id = rownames(items), items, check.names = FALSE),
            file.path(out, paste0("scoring_", id, "_input.csv")), row.names = FALSE, na = "")
  write.csv(data.frame(row_id = rownames(items), expected, check.names = FALSE),
            file.path(out, paste0("scoring_", id, "_expected.csv")), row.names = FALSE, na = "")
}

# --- Brief Resilience Scale (Smith et al. 2008): reverse 2, 4, 6 (6 - x); mean of items.
# Missing: project policy, mean of answered items when >= 5 of 6 answered.
# Cut-offs (Smith et al. 2013, p. 177): low < 3.00, normal 3.00-4.30, high > 4.30 (unrounded mean).
m <- make_items("brs", 6, 1:5)
r <- m; for (j in c(2, 4, 6)) r[, j] <- rev_code(r[, j], 1, 5)
s <- ifelse(n_ans(r) >= 5, rowMeans(r, na.rm = TRUE), NA)
cat_brs <- ifelse(is.na(s), NA, ifelse(s < 3, "low", ifelse(s <= 4.30, "normal", "high")))
write_pair("brs", m, data.frame(brs_score = s, brs_score_category = cat_brs,
                                brs_n_answered = n_ans(m)))

# --- CDC-Kaiser ACE questionnaire: count of "yes" over 10 categories (0-10); groups abuse 1-3,
# neglect 4-5, household 6-10 (CDC ACE Study). Missing: project policy, all items answered.
m <- make_items("ace10", 10, 0:1, p_missing = 0.04)
s <- sum_all(m)
write_pair("ace10", m, data.frame(
  ace10_score = s,
  ace10_score_category = cut_closed_right(s, 0:3, c("0", "1", "2", "3", "4+")),
  ace10_abuse = sum_all(m[, 1:3]), ace10_neglect = sum_all(m[, 4:5]),
  ace10_household = sum_all(m[, 6:10]), ace10_n_answered = n_ans(m)))

# --- STSS (Bride et al. 2004): sums; intrusion 2,3,6,10,13; avoidance 1,5,7,9,12,14,17;
# arousal 4,8,11,15,16. Bands (Bride 2007, as cited): <28, 28-37, 38-43, 44-48, >=49, applied to
# the total rounded half up.
# Missing: project policy, total prorated when >= 14 of 17 answered; subscales need all items.
m <- make_items("stss", 17, 1:5, p_missing = 0.05)
s <- prorated_sum(m, 14)
write_pair("stss", m, data.frame(
  stss_score = s,
  stss_score_category = cut_closed_left(round_half_up(s), c(28, 38, 44, 49),
                                        c("little or none", "mild", "moderate", "high", "severe")),
  stss_intrusion = sum_all(m[, c(2, 3, 6, 10, 13)]),
  stss_avoidance = sum_all(m[, c(1, 5, 7, 9, 12, 14, 17)]),
  stss_arousal = sum_all(m[, c(4, 8, 11, 15, 16)]), stss_n_answered = n_ans(m)))

# --- PCL-5 (NCPTSD): items 0-4, total 0-80; clusters B 1-5, C 6-7, D 8-14, E 15-20.
# Missing: project policy, total prorated when >= 16 of 20 answered; clusters need all items.
# DSM-5 symptom rule (NCPTSD): an item rated >= 2 is a symptom; needs >= 1 B, >= 1 C, >= 2 D,
# >= 2 E. Counts need every item of the cluster. The rule (project policy for missing items): a
# cluster is met when its answered symptoms reach the minimum, failed when answered symptoms plus
# unanswered items stay below it; the rule is 0 if any cluster failed, 1 if all met, else NA.
# Cut-point (NCPTSD, Bovin et al. 2016): total >= 33, on the total rounded half up.
m <- make_items("pcl5", 20, 0:4, p_missing = 0.04)
symptoms <- function(cols) ifelse(rowSums(is.na(m[, cols])) == 0, rowSums(m[, cols] >= 2), NA)
b <- symptoms(1:5); c_ <- symptoms(6:7); d <- symptoms(8:14); e <- symptoms(15:20)
clusters <- list(list(1:5, 1), list(6:7, 1), list(8:14, 2), list(15:20, 2))
met_all <- rep(TRUE, nrow(m)); failed_any <- rep(FALSE, nrow(m))
for (cl in clusters) {
  x <- m[, cl[[1]], drop = FALSE]
  seen <- rowSums(x >= 2, na.rm = TRUE); unknown <- rowSums(is.na(x))
  met_all <- met_all & seen >= cl[[2]]
  failed_any <- failed_any | (seen + unknown < cl[[2]])
}
total <- prorated_sum(m, 16)
write_pair("pcl5", m, data.frame(
  pcl5_score = total,
  pcl5_score_category = ifelse(is.na(total), NA, ifelse(round_half_up(total) >= 33,
                                                      "probable PTSD", "below cut-point")),
  pcl5_intrusion = sum_all(m[, 1:5]), pcl5_avoidance = sum_all(m[, 6:7]),
  pcl5_negative_cognition_mood = sum_all(m[, 8:14]),
  pcl5_arousal_reactivity = sum_all(m[, 15:20]),
  pcl5_intrusion_symptoms = b, pcl5_avoidance_symptoms = c_,
  pcl5_cognition_mood_symptoms = d, pcl5_arousal_symptoms = e,
  pcl5_dsm5_rule = ifelse(failed_any, 0, ifelse(met_all, 1, NA)),
  pcl5_n_answered = n_ans(m)))

# --- CYRM-R (manual v2.5; Jefferies et al. 2019): sum of 17 items; personal 1,2,3,7,9,10,12,13,
# 14,16; caregiver 4,5,6,8,11,15,17. Missing: project policy, total prorated when >= 14 of 17,
# personal when >= 8 of 10, caregiver needs all 7. 5-point (1-5) and 3-point (1-3) versions.
for (version in c("5pt", "3pt")) {
  m <- make_items("cyrm_r", 17, if (version == "5pt") 1:5 else 1:3, p_missing = 0.05)
  personal <- c(1, 2, 3, 7, 9, 10, 12, 13, 14, 16); caregiver <- c(4, 5, 6, 8, 11, 15, 17)
  write_pair(paste0("cyrm_r_", version), m, data.frame(
    cyrm_r_score = prorated_sum(m, 14), cyrm_r_personal = prorated_sum(m[, personal], 8),
    cyrm_r_caregiver = sum_all(m[, caregiver]), cyrm_r_n_answered = n_ans(m)))
}

# --- ProQOL 5 (Stamm 2010): subscale raw sums; CS 3,6,12,16,18,20,22,24,27,30; burnout
# 1,4,8,10,15,17,19,21,26,29 with 1,4,15,17,29 reversed (6 - x); STS 2,5,7,9,11,13,14,23,25,28.
# Bands: 22 or less low, 23-41 moderate, 42 or more high, applied to the sum rounded half up.
# Missing: project policy, prorated when
# >= 8 of 10 answered.
m <- make_items("proqol5", 30, 1:5, p_missing = 0.06)
r <- m; for (j in c(1, 4, 15, 17, 29)) r[, j] <- rev_code(r[, j], 1, 5)
band <- function(x) cut_closed_right(round_half_up(x), c(22, 41), c("low", "moderate", "high"))
cs <- prorated_sum(r[, c(3, 6, 12, 16, 18, 20, 22, 24, 27, 30)], 8)
bo <- prorated_sum(r[, c(1, 4, 8, 10, 15, 17, 19, 21, 26, 29)], 8)
sts <- prorated_sum(r[, c(2, 5, 7, 9, 11, 13, 14, 23, 25, 28)], 8)
write_pair("proqol5", m, data.frame(
  proqol5_compassion_satisfaction = cs, proqol5_compassion_satisfaction_category = band(cs),
  proqol5_burnout = bo, proqol5_burnout_category = band(bo),
  proqol5_secondary_traumatic_stress = sts,
  proqol5_secondary_traumatic_stress_category = band(sts), proqol5_n_answered = n_ans(m)))

# --- BRFSS ACE module on the real 2022 extract. Codes: 1 yes / 2 no (Q1-5; Q5 also 8 parents not
# married), 1 never / 2 once / 3 more than once (Q6-11); 7 and 9 (don't know, refused) unanswered.
# Eight categories (Merrick et al. 2018): Q1; Q2 or Q3; Q4; Q5; Q6; Q7; Q8; Q9 or Q10 or Q11.
brfss <- read.csv(file.path("data", "external", "brfss2022_ace_12states.csv"))
vars <- c("ACEDEPRS", "ACEDRINK", "ACEDRUGS", "ACEPRISN", "ACEDIVRC", "ACEPUNCH", "ACEHURT1",
          "ACESWEAR", "ACETOUCH", "ACETTHEM", "ACEHVSEX")
any_of <- function(...) {
  x <- cbind(...)
  ifelse(rowSums(x == 1, na.rm = TRUE) > 0, 1, ifelse(rowSums(is.na(x)) == 0, 0, NA))
}
score_brfss <- function(d, emotional = "once_or_more", not_married = "not_exposed") {
  yn <- function(v) ifelse(v == 1, 1, ifelse(v == 2, 0, NA))
  freq <- function(v) ifelse(v %in% c(2, 3), 1, ifelse(v == 1, 0, NA))
  div <- ifelse(d$ACEDIVRC == 1, 1, ifelse(d$ACEDIVRC == 2, 0,
                ifelse(d$ACEDIVRC == 8, if (not_married == "not_exposed") 0 else NA, NA)))
  emo <- if (emotional == "once_or_more") freq(d$ACESWEAR) else
    ifelse(d$ACESWEAR == 3, 1, ifelse(d$ACESWEAR %in% c(1, 2), 0, NA))
  cats <- data.frame(
    brfss_ace_household_mental_illness = yn(d$ACEDEPRS),
    brfss_ace_household_substance_use = any_of(yn(d$ACEDRINK), yn(d$ACEDRUGS)),
    brfss_ace_incarcerated_household_member = yn(d$ACEPRISN),
    brfss_ace_parental_separation = div,
    brfss_ace_domestic_violence = freq(d$ACEPUNCH),
    brfss_ace_physical_abuse = freq(d$ACEHURT1),
    brfss_ace_emotional_abuse = emo,
    brfss_ace_sexual_abuse = any_of(freq(d$ACETOUCH), freq(d$ACETTHEM), freq(d$ACEHVSEX)))
  cats$brfss_ace_score <- ifelse(rowSums(is.na(cats)) == 0, rowSums(cats), NA)
  cats
}
variants <- list(default = c("once_or_more", "not_exposed"),
                 more_than_once = c("more_than_once", "not_exposed"),
                 not_married_missing = c("once_or_more", "missing"))
dist <- list()
for (name in names(variants)) {
  v <- variants[[name]]
  sc <- score_brfss(brfss, v[1], v[2])
  if (name == "default") {
    write.csv(data.frame(row = seq_len(nrow(sc)) - 1L, sc),
              file.path(out, "scoring_brfss_ace_expected.csv"), row.names = FALSE, na = "")
  }
  s <- sc$brfss_ace_score
  tab <- table(factor(pmin(s[!is.na(s)], 4), levels = 0:4))
  dist[[name]] <- list(options = list(emotional_abuse = v[1], parents_not_married = v[2]),
                       n_complete = sum(!is.na(s)),
                       percent_0_1_2_3_4plus = as.numeric(100 * tab / sum(tab)),
                       mean_score = mean(s, na.rm = TRUE))
}
# Complete-case rule (the analytic sample of Merrick et al. 2019, MMWR 68(44): respondents who
# answered all ACE questions): a respondent gets a score only if all 11 questions have an answer
# code - 1/2 (Q1-4), 1/2/8 (Q5; 8 "parents not married" is an answer, scored 0), 1/2/3 (Q6-11);
# blank, 7 (don't know) or 9 (refused) on any question removes the respondent. Written here as a
# plain count over answer codes, apart from score_brfss() above.
answer_codes <- c(rep(list(c(1, 2)), 4), list(c(1, 2, 8)), rep(list(c(1, 2, 3)), 6))
complete <- Reduce(`&`, Map(function(v, ok) !is.na(brfss[[v]]) & brfss[[v]] %in% ok,
                            vars, answer_codes))
d <- brfss[complete, ]
hit <- function(v, yes) as.integer(d[[v]] %in% yes)
cc_score <- hit("ACEDEPRS", 1) + pmax(hit("ACEDRINK", 1), hit("ACEDRUGS", 1)) +
  hit("ACEPRISN", 1) + hit("ACEDIVRC", 1) + hit("ACEPUNCH", 2:3) + hit("ACEHURT1", 2:3) +
  hit("ACESWEAR", 2:3) +
  pmax(hit("ACETOUCH", 2:3), hit("ACETTHEM", 2:3), hit("ACEHVSEX", 2:3))
cc_tab <- table(factor(pmin(cc_score, 4), levels = 0:4, labels = c("0", "1", "2", "3", "4+")))
write_json(list(
  source = paste("tests/reference/scoring_reference.R: BRFSS 2022 extract, complete cases",
                 "(all 11 ACE questions answered; code 8 an answer scored 0), default",
                 "emotional abuse rule (once or more)"),
  n = length(cc_score), counts = as.list(setNames(as.integer(cc_tab), names(cc_tab)))),
  file.path(out, "scoring_brfss_ace_complete_cases.json"), auto_unbox = TRUE, pretty = TRUE)

write_json(list(
  source = "tests/reference/scoring_reference.R (base R, rules cited in the script)",
  r_version = R.version.string, seed = 20261127,
  brfss_distribution = dist),
  file.path(out, "scoring_meta.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat("wrote", out, "\n")
