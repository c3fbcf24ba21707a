# Class 0: dark images (all 0); class 1: bright ones (all 3), 4x4 pixels.
two_classes <- function(n) {
  y <- rep(c(0, 1), length.out = n)
  x <- array(0, c(n, 4, 4, 1))
  x[y == 1, , , ] <- 3
  list(x = x, y = y)
}

test_that("a tiny model trained from R: loss falls, samples follow the label", {
  skip_without_python()
  # Weight norm's data-dependent init on images of one constant value gives
  # scales that make the first steps spike (loss in the thousands) now and
  # then; without it this data trains smoothly for every seed tried.
  dist <- tiny_model(use_data_init = FALSE)
  data <- two_classes(64)
  history <- fp_train(dist, data$x, data$y, epochs = 10, batch_size = 16,
                      learning_rate = 0.02, seed = 1)
  expect_s3_class(history, "data.frame")
  expect_identical(history$epoch, 1:10)
  expect_true(all(c("loss", "bits_per_dim") %in% names(history)))
  expect_true(all(is.finite(history$loss)))
  expect_lt(history$loss[10], 0.25 * history$loss[1])
  # Conditional sampling: the label decides how bright the images are.
  dark <- fp_sample(dist, 16, seed = 1, conditional_input = 0)
  bright <- fp_sample(dist, 16, seed = 1, conditional_input = 1)
  expect_lt(mean(dark), 1)
  expect_gt(mean(bright), 2)
  mixed <- fp_sample(dist, 8, seed = 2, conditional_input = rep(c(0, 1), 4))
  expect_lt(mean(mixed[c(1, 3, 5, 7), , , ]), mean(mixed[c(2, 4, 6, 8), , , ]))
  # The trained model prefers each class's own images.
  lp <- fp_log_prob(dist, data$x[1:2, , , , drop = FALSE],
                    conditional_input = c(0, 1))
  lp_swapped <- fp_log_prob(dist, data$x[1:2, , , , drop = FALSE],
                            conditional_input = c(1, 0))
  expect_true(all(lp > lp_swapped))
})

test_that("bad input to fp_train is rejected by name", {
  skip_without_python()
  dist <- tiny_model()
  data <- two_classes(8)
  expect_error(fp_train(dist, data$x, data$y, epochs = 1.5), "epochs")
  expect_error(fp_train(dist, data$x, data$y, epochs = 0), "epochs")
  expect_error(fp_train(dist, data$x, data$y, batch_size = 2.5), "batch_size")
  expect_error(fp_train(dist, data$x, data$y, seed = 0.5), "seed")
  expect_error(fp_train(dist, data$x, data$y, learning_rate = -1),
               "learning_rate")
  expect_error(fp_train(dist, data$x), "`y` is required")
  expect_error(fp_train(dist, data$x, data$y[1:3]), "`y`")
  expect_error(fp_train(dist, data$x * 2, data$y), "`x` must lie in")
  expect_error(fp_train(dist, array(0, c(8, 4, 5, 1)), data$y),
               "`x` must have shape")
  expect_error(fp_train(dist, data$x, data$y, shuffle = "no"), "`shuffle`")
  expect_error(fp_train(tiny_model(conditional_shape = NULL), data$x, data$y),
               "`y` was given")
  expect_error(fp_train(dist), "`x` is missing")
})

test_that("the post's recipe through tf_keras: log_prob as the model output", {
  skip_without_python()
  tf <- reticulate::import("tensorflow", convert = FALSE)
  keras <- reticulate::import("tf_keras", convert = FALSE)
  tf$random$set_seed(1L)
  dist <- tiny_model()
  data <- two_classes(16)
  image_input <- keras$layers$Input(shape = reticulate::tuple(4L, 4L, 1L))
  label_input <- keras$layers$Input(shape = reticulate::tuple())
  log_prob <- dist$log_prob(image_input, conditional_input = label_input)
  model <- keras$Model(inputs = list(image_input, label_input),
                       outputs = log_prob)
  model$add_loss(tf$negative(tf$reduce_mean(log_prob)))
  model$compile(optimizer = keras$optimizers$Adam(learning_rate = 0.01))
  history <- model$fit(list(fp_from_r(data$x), fp_from_r(data$y)),
                       batch_size = 8L, epochs = 2L, verbose = 0L)
  loss <- unlist(reticulate::py_to_r(history$history)$loss)
  expect_length(loss, 2)
  expect_true(all(is.finite(loss) & loss > 0))
  expect_pixels(fp_sample(dist, 4, conditional_input = 2), c(4, 4, 4, 1))
})

test_that("fp_train_run trains on a data set, resumes, and loads back", {
  skip_without_python()
  run <- tempfile("fp-run-")
  on.exit(unlink(run, recursive = TRUE), add = TRUE)
  tiny <- list(num_resnet = 1, num_hierarchies = 1, num_filters = 8,
               num_logistic_mix = 2, dropout_p = 0)
  history <- fp_train_run(run, "digits", epochs = 1, batch_size = 16,
                          classes = c(3, 7), take = 64, model = tiny)
  expect_s3_class(history, "data.frame")
  expect_identical(history$epoch, 1L)
  expect_true(all(c("loss", "bits_per_dim", "val_loss", "val_bits_per_dim")
                  %in% names(history)))
  expect_true(all(is.finite(unlist(history))))
  # Calling again resumes: epochs is the run's total.
  more <- fp_train_run(run, "digits", epochs = 2, batch_size = 16,
                       classes = c(3, 7), take = 64, model = tiny)
  expect_identical(more$epoch, 2L)
  dist <- fp_load_run(run)
  expect_pixels(fp_sample(dist, 2, seed = 1, conditional_input = 7),
                c(2, 8, 8, 1), high = 16)
  expect_error(fp_train_run(run, "digits", epochs = 3, classes = c(3, 7),
                            take = 64, model = list(num_filters = 16)),
               "different model config")
  expect_error(fp_train_run(tempfile(), "digits", epochs = 1.5), "epochs")
  expect_error(fp_train_run(tempfile(), "digits", classes = 3.5), "classes")
  expect_error(fp_train_run(tempfile(), "digits", model = list(1)), "`model`")
  expect_error(fp_load_run(tempfile()), "run_dir")
})
