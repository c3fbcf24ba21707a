test_that("an export loads and samples the live model's images", {
  skip_without_python()
  dist <- tiny_model()
  dir <- file.path(tempfile("fp-export-"))
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  expect_identical(fp_export(dist, dir), normalizePath(dir))
  m <- fp_load_export(dir)
  x <- fp_sample(m, 6, seed = 7, conditional_input = 2)
  expect_pixels(x, c(6, 4, 4, 1))
  expect_identical(x, fp_sample(dist, 6, seed = 7, conditional_input = 2))
  labels <- c(0, 1, 2, 3, 0, 1)
  expect_identical(fp_sample(m, c(2, 3), seed = 8, conditional_input = labels),
                   fp_sample(dist, c(2, 3), seed = 8,
                             conditional_input = labels))
  expect_equal(fp_log_prob(m, x, conditional_input = labels),
               fp_log_prob(dist, x, conditional_input = labels),
               tolerance = 1e-5)
  y <- fp_complete(m, x, num_observed = 5, sample_shape = 2, seed = 3,
                   conditional_input = 1)
  expect_pixels(y, c(2, 6, 4, 4, 1))
  expect_identical(y, fp_complete(dist, x, num_observed = 5, sample_shape = 2,
                                  seed = 3, conditional_input = 1))
  # Bad input to the export is caught by name too.
  expect_error(fp_sample(m, 2), "conditional_input")
  expect_error(fp_sample(m, 2, seed = 0.5, conditional_input = 1), "seed")
  expect_error(fp_log_prob(m, array(0, c(2, 3, 4, 1)), conditional_input = 1),
               "`x` must have shape")
  expect_error(fp_complete(m, x, 17, conditional_input = 1), "num_observed")
})

test_that("fp_export and fp_load_export check their folders", {
  skip_without_python()
  dist <- tiny_model()
  full <- tempfile("fp-full-")
  dir.create(full)
  on.exit(unlink(full, recursive = TRUE), add = TRUE)
  writeLines("x", file.path(full, "file.txt"))
  expect_error(fp_export(dist, full), "export_dir")
  expect_error(fp_load_export(full), "`export_dir`.*saved_model.pb")
  expect_error(fp_export(dist, c("a", "b")), "`export_dir` must be one path")
  expect_error(fp_export(dist, tempfile(), verbose = "yes"), "`verbose`")
})
