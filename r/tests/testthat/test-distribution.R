test_that("tfd_fast_pixel_cnn builds from R doubles", {
  skip_without_python()
  dist <- tiny_model()
  fp <- reticulate::import("tfp_fastpixel", convert = FALSE)
  expect_true(reticulate::import_builtins()$isinstance(dist, fp$FastPixelCNN))
  expect_identical(fp_to_r(dist$event_shape$as_list()), c(4, 4, 1))
  expect_identical(reticulate::py_to_r(dist$parameters$get("num_filters")), 8L)
  unconditional <- tiny_model(conditional_shape = NULL)
  expect_null(reticulate::py_to_r(unconditional$conditional_shape))
})

test_that("tfd_fast_pixel_cnn has the Python signature's arguments and defaults", {
  skip_without_python()
  arguments <- reticulate::import("tfp_fastpixel.arguments")
  python <- arguments$model_defaults()
  r <- formals(tfd_fast_pixel_cnn)
  expect_identical(names(r), c("image_shape", names(python)))
  expect_identical(r$image_shape, quote(expr = ))
  for (name in names(python)) {
    expect_equal(eval(r[[name]]), unlist(python[[name]]),
                 label = paste0("default of ", name), ignore_attr = TRUE)
  }
})

test_that("non-integral and out-of-range values are rejected by name", {
  skip_without_python()
  err <- expect_error(tiny_model(image_shape = c(4.5, 4, 1)), "image_shape")
  expect_match(conditionMessage(err), "4.5", fixed = TRUE)
  # No Python traceback in the message: the argument comes first.
  expect_no_match(conditionMessage(err), "Detailed traceback")
  expect_error(tiny_model(num_filters = 8.5), "num_filters")
  expect_error(tiny_model(num_resnet = 0), "num_resnet")
  expect_error(tiny_model(dropout_p = 1), "dropout_p")
  expect_error(tiny_model(resnet_activation = "tanh"), "resnet_activation")
  expect_error(tiny_model(dtype = "int32"), "dtype")
})

test_that("the Python API itself takes R doubles (no wrapper)", {
  skip_without_python()
  fp <- reticulate::import("tfp_fastpixel", convert = FALSE)
  dist <- fp$FastPixelCNN(
    image_shape = c(4, 4, 1), conditional_shape = list(), num_resnet = 1,
    num_hierarchies = 2, num_filters = 8, num_logistic_mix = 2,
    receptive_field_dims = c(3, 3), dropout_p = 0, high = 3, low = 0)
  labels <- c(0, 1, 2, 3, 0, 1, 2, 3)
  s <- dist$sample(8, conditional_input = labels)
  expect_pixels(fp_to_r(s), c(8, 4, 4, 1))
  lp <- fp_to_r(dist$log_prob(s, conditional_input = labels))
  expect_length(lp, 8)
  expect_true(all(is.finite(lp)))
  # seed = 1 (a double) is seed = 1L.
  a <- fp_to_r(dist$sample(4, conditional_input = 2, seed = 1))
  b <- fp_to_r(dist$sample(4L, conditional_input = 2, seed = 1L))
  expect_pixels(a, c(4, 4, 4, 1))
  expect_identical(a, b)
  expect_error(dist$sample(2.5, conditional_input = 1), "2.5", fixed = TRUE)
  expect_error(dist$sample(2, conditional_input = 1, seed = 1.5), "seed")
  expect_error(fp$FastPixelCNN(image_shape = c(4.5, 4, 1),
                               conditional_shape = list()), "4.5",
               fixed = TRUE)
})

test_that("the package leaves tfprobability's names alone", {
  exports <- getNamespaceExports("fastpixelcnn")
  expect_false(any(c("tfd_sample", "tfd_log_prob") %in% exports))
  expect_false(exists("tfd_sample", envir = globalenv(), inherits = FALSE))
})

test_that("tfprobability's tfd_sample and tfd_log_prob work on a FastPixelCNN", {
  skip_without_python()
  skip_if_not_installed("tfprobability")
  dist <- tiny_model()
  s <- tfprobability::tfd_sample(dist, 4, conditional_input = 2)
  expect_pixels(fp_to_r(s), c(4, 4, 4, 1))
  lp <- fp_to_r(tfprobability::tfd_log_prob(dist, s, conditional_input = 2))
  expect_length(lp, 4)
})
