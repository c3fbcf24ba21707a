# A SavedModel that needs only TensorFlow (tfp_fastpixel.export_saved_model),
# and loading it back for fp_sample(), fp_complete() and fp_log_prob().

.fp_check_dir_arg <- function(path, argument) {
  if (!is.character(path) || length(path) != 1 || is.na(path) ||
        !nzchar(path)) {
    stop("`", argument, "` must be one path (a string); got ",
         deparse(path), call. = FALSE)
  }
  path.expand(path)
}

fp_export <- function(distribution, export_dir, verbose = FALSE) {
  .fp_check_distribution(distribution)
  export_dir <- .fp_check_dir_arg(export_dir, "export_dir")
  if (!isTRUE(verbose) && !isFALSE(verbose)) {
    stop("`verbose` must be TRUE or FALSE; got ", deparse(verbose),
         call. = FALSE)
  }
  .fp_call(.fp_module()$export_saved_model(distribution, export_dir,
                                           verbose = verbose))
  invisible(normalizePath(export_dir))
}

fp_load_export <- function(export_dir) {
  export_dir <- .fp_check_dir_arg(export_dir, "export_dir")
  if (!file.exists(file.path(export_dir, "saved_model.pb"))) {
    stop("`export_dir`: ", export_dir, " holds no saved_model.pb; give a ",
         "folder written by fp_export()", call. = FALSE)
  }
  tf <- .fp_import("tensorflow")
  .fp_call(tf$saved_model$load(normalizePath(export_dir)))
}
