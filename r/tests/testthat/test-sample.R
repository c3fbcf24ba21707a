test_that("fp_sample takes doubles and returns R arrays of the right shape", {
  skip_without_python()
  dist <- tiny_model()
  labels <- c(0, 1, 2, 3, 0, 1, 2, 3)
  expect_pixels(fp_sample(dist, 8, seed = 42, conditional_input = labels),
                c(8, 4, 4, 1))
  expect_pixels(fp_sample(dist, c(2, 3), conditional_input = 1),
                c(2, 3, 4, 4, 1))
  expect_pixels(fp_sample(dist, conditional_input = 1), c(4, 4, 1))
  expect_identical(dim(fp_sample(dist, 0, conditional_input = 1)),
                   c(0L, 4L, 4L, 1L))
  unconditional <- tiny_model(conditional_shape = NULL)
  expect_pixels(fp_sample(unconditional, 3), c(3, 4, 4, 1))
})

test_that("a seed reproduces samples; doubles, integers and pairs alike", {
  skip_without_python()
  dist <- tiny_model()
  a <- fp_sample(dist, 6, seed = 42, conditional_input = 2)
  expect_identical(fp_sample(dist, 6, seed = 42L, conditional_input = 2), a)
  expect_identical(fp_to_r(dist$sample(6, seed = 42, conditional_input = 2)),
                   a)
  pair <- fp_sample(dist, 6, seed = c(3, 4), conditional_input = 2)
  expect_identical(fp_sample(dist, 6, seed = c(3L, 4L), conditional_input = 2),
                   pair)
  # Fresh randomness without a seed: 6 images of 16 pixels with 4 values
  # each are all equal to the seeded draw with negligible probability.
  expect_false(identical(fp_sample(dist, 6, conditional_input = 2), a))
})

test_that("fp_log_prob scores R arrays and tensors alike", {
  skip_without_python()
  dist <- tiny_model()
  labels <- c(0, 1, 2, 3)
  s <- dist$sample(4, seed = 1, conditional_input = labels)
  x <- fp_to_r(s)
  lp <- fp_log_prob(dist, x, conditional_input = labels)
  expect_length(lp, 4)
  expect_true(all(is.finite(lp) & lp <= 1e-4))  # discrete: log p <= 0
  expect_equal(lp, fp_to_r(dist$log_prob(s, conditional_input = labels)),
               tolerance = 1e-5)
  expect_equal(fp_log_prob(dist, s, conditional_input = labels), lp,
               tolerance = 1e-5)
  # One label for all images is the same as that label repeated.
  expect_equal(fp_log_prob(dist, x, conditional_input = 2),
               fp_log_prob(dist, x, conditional_input = rep(2, 4)),
               tolerance = 1e-6)
})

test_that("conditional_input is one-hot vectors too", {
  skip_without_python()
  dist <- tiny_model(conditional_shape = c(3))
  onehot <- diag(3)[c(1, 2, 3, 1), ]
  x <- fp_sample(dist, 4, seed = 5, conditional_input = onehot)
  expect_pixels(x, c(4, 4, 4, 1))
  expect_length(fp_log_prob(dist, x, conditional_input = onehot), 4)
  expect_pixels(fp_sample(dist, 2, conditional_input = c(0, 1, 0)),
                c(2, 4, 4, 1))
})

test_that("bad input to sampling and scoring is rejected by name", {
  skip_without_python()
  dist <- tiny_model()
  expect_error(fp_sample("dist", 2), "`distribution` must be")
  expect_error(fp_sample(dist, 2.5, conditional_input = 1), "sample_shape")
  expect_error(fp_sample(dist, -1, conditional_input = 1), "sample_shape")
  expect_error(fp_sample(dist, 2, seed = 1.5, conditional_input = 1), "seed")
  expect_error(fp_sample(dist, 2, seed = "a", conditional_input = 1), "seed")
  expect_error(fp_sample(dist, 2, seed = c(1, 2, 3), conditional_input = 1),
               "seed")
  expect_error(fp_sample(dist, 2), "conditional_input")
  expect_error(fp_sample(dist, 4, conditional_input = c(1, 2, 3)),
               "conditional_input")
  expect_error(fp_sample(dist, 2, conditional_input = "a"),
               "`conditional_input` must be numeric")
  expect_error(fp_sample(tiny_model(conditional_shape = NULL), 2,
                         conditional_input = 1), "conditional_input")
  expect_error(fp_log_prob(dist), "`x` is missing")
  expect_error(fp_log_prob(dist, array(0, c(2, 5, 4, 1)),
                           conditional_input = 1), "4, 4, 1")
})
