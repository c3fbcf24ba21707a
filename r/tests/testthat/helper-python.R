# Tests that need Python call skip_without_python() first. It skips with a
# message saying what is missing, except where FASTPIXELCNN_REQUIRE_PYTHON is
# true (CI): there a missing Python is an error, so the tests never pass by
# skipping.
skip_without_python <- function() {
  if (fp_available()) return(invisible(TRUE))
  python <- Sys.getenv("RETICULATE_PYTHON")
  msg <- paste0(
    "no Python with tfp_fastpixel (RETICULATE_PYTHON=",
    if (nzchar(python)) python else "<unset>",
    "); set RETICULATE_PYTHON to one, or run install_fastpixelcnn()")
  if (isTRUE(as.logical(Sys.getenv("FASTPIXELCNN_REQUIRE_PYTHON", "false")))) {
    stop(msg, call. = FALSE)
  }
  skip(msg)
}

# The smallest conditional model that still learns (4x4 pixels, values 0..3).
tiny_model <- function(...) {
  args <- modifyList(
    list(image_shape = c(4, 4, 1), conditional_shape = list(),
         num_resnet = 1, num_hierarchies = 1, num_filters = 8,
         num_logistic_mix = 2, receptive_field_dims = c(3, 3),
         dropout_p = 0, high = 3, low = 0),
    list(...), keep.null = TRUE)
  do.call(tfd_fast_pixel_cnn, args)
}

expect_pixels <- function(x, dims, high = 3) {
  expect_true(is.array(x) || length(dims) == 1)
  expect_identical(dim(x), as.integer(dims))
  expect_true(all(is.finite(x)))
  expect_true(all(x >= 0 & x <= high))
  expect_true(all(x == round(x)))
}
