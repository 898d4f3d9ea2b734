# Shared by the reference scripts: where the data and values live, and how values are written.
# Source it from the repository root:  source("tests/reference/common.R")
suppressPackageStartupMessages(library(jsonlite))

# External data sets, in the repository (origin and licence in each folder's SOURCES.md)
external <- file.path("tests", "data", "external")
out_dir <- file.path("tests", "reference", "values")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

# R's version string and the versions of the named packages, in that order
reference_versions <- function(packages) {
  c(list(R = R.version.string),
    setNames(lapply(packages, function(p) as.character(packageVersion(p))), packages))
}

# A writer of tests/reference/values/<stem>.json that records the source and the versions
make_writer <- function(versions) {
  function(x, stem, source) {
    x <- c(list(source = source, versions = versions), x)
    writeLines(
      toJSON(x, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
      file.path(out_dir, paste0(stem, ".json"))
    )
  }
}
