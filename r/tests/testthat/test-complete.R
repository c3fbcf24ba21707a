# Each image's pixels in raster order (all channels of a pixel together), one
# image per row: [n, H * W * C].
raster <- function(x) {
  matrix(aperm(x, c(4, 3, 2, 1)), nrow = dim(x)[1], byrow = TRUE)
}

test_that("fp_complete keeps its prefix and draws the rest", {
  skip_without_python()
  dist <- tiny_model()
  x <- fp_sample(dist, 2, seed = 1, conditional_input = c(1, 2))
  for (k in c(0, 5, 2 * 4, 16)) {
    y <- fp_complete(dist, x, num_observed = k, sample_shape = 3, seed = 2,
                     conditional_input = c(1, 2))
    expect_pixels(y, c(3, 2, 4, 4, 1))
    for (copy in 1:3) {
      kept <- raster(array(y[copy, , , , , drop = FALSE], dim(y)[-1]))
      expect_identical(kept[, seq_len(k)], raster(x)[, seq_len(k)])
    }
    if (k < 16) {  # the copies draw the rest independently
      expect_false(identical(y[1, , , , ], y[2, , , , ]))
    }
  }
  # All pixels observed: the images themselves.
  all_kept <- fp_complete(dist, x, num_observed = 16, seed = 3,
                          conditional_input = c(1, 2))
  expect_identical(all_kept, x)
  # The same seed, the same completion; num_observed as a double or integer.
  expect_identical(
    fp_complete(dist, x, 14 / 2, seed = 9, conditional_input = 1),
    fp_complete(dist, x, 7L, seed = 9, conditional_input = 1))
})

test_that("bad input to fp_complete is rejected by name", {
  skip_without_python()
  dist <- tiny_model()
  x <- fp_sample(dist, 2, seed = 1, conditional_input = 1)
  expect_error(fp_complete(dist, x, 2.5, conditional_input = 1),
               "num_observed")
  expect_error(fp_complete(dist, x, 17, conditional_input = 1),
               "num_observed")
  expect_error(fp_complete(dist, x), "`num_observed` is missing")
  expect_error(fp_complete(dist, x + 0.5, 4, conditional_input = 1),
               "images")
  expect_error(fp_complete(dist, x * 2, 4, conditional_input = 1), "images")
  expect_error(fp_complete(dist, x, 4, conditional_input = c(1, 2, 3)),
               "conditional_input")
})
