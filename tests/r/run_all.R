# Runs every tests/r/test_*.R in ONE R session (TensorFlow loads once), each
# in its own environment, and prints a marker per script:
#   ==== R TEST <name>: OK            or   ==== R TEST <name>: FAILED: <message>
# Exits with status 1 if any script failed.
#   RETICULATE_PYTHON=/path/to/python Rscript tests/r/run_all.R <repo root> [names...]
args <- commandArgs(trailingOnly = TRUE)
root <- if (length(args) >= 1) args[[1]] else "."
only <- if (length(args) >= 2) args[-1] else character()
scripts <- sort(list.files(file.path(root, "tests", "r"), pattern = "^test_.*[.]R$",
                           full.names = TRUE))
if (length(only)) scripts <- scripts[sub("[.]R$", "", basename(scripts)) %in% only]
if (!length(scripts)) stop("no R test scripts found under ", file.path(root, "tests", "r"))
failed <- 0L
for (f in scripts) {
  name <- sub("[.]R$", "", basename(f))
  cat(sprintf("==== R TEST %s: start\n", name))
  t0 <- Sys.time()
  ok <- tryCatch({
    source(f, local = new.env(parent = globalenv()), echo = FALSE)
    TRUE
  }, error = function(e) {
    cat(sprintf("==== R TEST %s: FAILED: %s\n", name,
                gsub("\n", " ", conditionMessage(e))))
    FALSE
  })
  secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  if (ok) cat(sprintf("==== R TEST %s: OK (%.1f s)\n", name, secs)) else failed <- failed + 1L
}
quit(status = if (failed > 0L) 1L else 0L, save = "no")
