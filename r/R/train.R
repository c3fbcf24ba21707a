# Training from R without the R keras package, through the Python API
# tfp_fastpixel.train: on R arrays (fp_train) or on a named data set in a
# resumable run directory (fp_train_run, fp_load_run).

# Per-epoch logs (a Python dict of columns, or that dict in R) as a data frame.
.fp_history <- function(columns) {
  cols <- if (inherits(columns, "python.builtin.object")) {
    reticulate::py_to_r(columns)
  } else {
    columns
  }
  df <- as.data.frame(lapply(cols, function(v) as.numeric(unlist(v))),
                      optional = TRUE)
  if ("epoch" %in% names(df)) df$epoch <- as.integer(df$epoch)
  df
}

fp_train <- function(distribution,
                     x,
                     y = NULL,
                     epochs = 10,
                     batch_size = 32,
                     learning_rate = 0.001,
                     seed = NULL,
                     shuffle = TRUE,
                     verbose = 0) {
  .fp_check_distribution(distribution)
  if (missing(x)) stop("`x` is missing: give training images [n, H, W, C]",
                       call. = FALSE)
  .fp_check_seed(seed)
  if (length(seed) == 2) {
    stop("`seed` must be NULL or one whole number for fp_train(); got ",
         deparse(seed), call. = FALSE)
  }
  if (!is.numeric(learning_rate) || length(learning_rate) != 1) {
    stop("`learning_rate` must be one positive number; got ",
         deparse(learning_rate), call. = FALSE)
  }
  x <- .fp_in(x, "x")
  y <- .fp_in(y, "y")
  .fp_history(.fp_call(.fp_glue()$fit(distribution, x, y, epochs, batch_size,
                                      learning_rate, seed, shuffle, verbose)))
}

fp_train_run <- function(run_dir,
                         dataset = "digits",
                         epochs = 10,
                         batch_size = 32,
                         learning_rate = 0.001,
                         seed = 0,
                         classes = NULL,
                         labels = "scalar",
                         take = NULL,
                         data_dir = NULL,
                         model = NULL,
                         verbose = 0) {
  run_dir <- .fp_check_dir_arg(run_dir, "run_dir")
  if (!is.character(dataset) || length(dataset) != 1) {
    stop("`dataset` must be one of \"digits\", \"cifar10\", \"quickdraw\", ",
         "\"folder\"; got ", deparse(dataset), call. = FALSE)
  }
  if (!is.null(model) && (!is.list(model) || length(model) > 0 &&
                            (is.null(names(model)) || any(!nzchar(names(model)))))) {
    stop("`model` must be NULL or a named list of tfd_fast_pixel_cnn() ",
         "arguments, e.g. list(num_resnet = 1, num_filters = 16); got ",
         deparse(model), call. = FALSE)
  }
  if (!is.numeric(learning_rate) || length(learning_rate) != 1) {
    stop("`learning_rate` must be one positive number; got ",
         deparse(learning_rate), call. = FALSE)
  }
  data_config <- list(name = dataset)
  data_config["labels"] <- list(labels)  # NULL: unconditional, kept as None
  if (!is.null(classes)) data_config$classes <- as.list(classes)
  if (!is.null(take)) {
    # Stored in the run's config.json: a whole number there, as the CLI writes.
    if (is.numeric(take) && length(take) == 1 && isTRUE(take == round(take)) &&
          abs(take) <= .Machine$integer.max) {
      take <- as.integer(take)
    }
    data_config$take <- take
  }
  if (!is.null(data_dir)) data_config$data_dir <- path.expand(data_dir)
  model <- if (length(model)) reticulate::dict(model) else NULL
  res <- .fp_call(.fp_glue()$train_run(run_dir, reticulate::dict(data_config),
                                       model, epochs, batch_size,
                                       learning_rate, seed, verbose))
  res <- reticulate::py_to_r(res)
  if (isTRUE(res[[2]])) {
    warning("training stopped at a non-finite loss; ", run_dir, " keeps the ",
            "last good checkpoint", call. = FALSE)
  }
  .fp_history(res[[1]])
}

fp_load_run <- function(run_dir) {
  run_dir <- .fp_check_dir_arg(run_dir, "run_dir")
  train <- .fp_import("tfp_fastpixel.train")
  res <- .fp_call(train$load_distribution(run_dir))
  reticulate::py_get_item(res, 0L)
}
