test_that("fp_from_r and fp_to_r keep shape, values and indices", {
  skip_without_python()
  a <- array(seq_len(2 * 3 * 4) / 2, c(2, 3, 4))
  p <- fp_from_r(a, "float64")
  expect_identical(reticulate::py_to_r(p$dtype$name), "float64")
  expect_identical(unlist(reticulate::py_to_r(p$shape)), c(2L, 3L, 4L))
  # R's a[2, 3, 1] is NumPy's a[1, 2, 0].
  expect_identical(reticulate::py_to_r(p$item(1L, 2L, 0L)), a[2, 3, 1])
  expect_identical(fp_to_r(p), a)
  m <- matrix(c(1, 2, 3, 4, 5, 6), 2)
  expect_identical(fp_to_r(fp_from_r(m)), m)
  expect_identical(fp_to_r(fp_from_r(c(1.5, -2))), c(1.5, -2))
  expect_identical(fp_to_r(fp_from_r(array(0, c(0, 4, 4, 1)))),
                   array(0, c(0, 4, 4, 1)))
  # Python numbers and tensors come back as R numbers.
  tf <- reticulate::import("tensorflow", convert = FALSE)
  expect_identical(fp_to_r(tf$constant(2.5)), 2.5)
  expect_identical(fp_to_r(tf$ones(c(2L, 1L), dtype = "int32")),
                   matrix(c(1, 1), 2))
  # R values pass through fp_to_r unchanged, Python ones through fp_from_r.
  expect_identical(fp_to_r(a), a)
  expect_identical(fp_from_r(p), p)
})

test_that("fp_from_r rejects what it cannot move", {
  skip_without_python()
  expect_error(fp_from_r(c("a", "b")), "`x` must be a numeric")
  expect_error(fp_from_r(list(1, 2)), "`x` must be a numeric")
  expect_error(fp_from_r(1:3, dtype = "complex128"), "`dtype` must be one of")
})
