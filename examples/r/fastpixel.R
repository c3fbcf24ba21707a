# tfd_fast_pixel_cnn(): tfp_fastpixel.FastPixelCNN from R, the tfprobability way.
#
# Usage (see the R section of README.md):
#   Sys.setenv(RETICULATE_PYTHON = "/path/to/venv/bin/python")  # has tfp_fastpixel
#   source("examples/r/fastpixel.R")
#   dist <- tfd_fast_pixel_cnn(image_shape = c(28, 28, 1), conditional_shape = list(),
#                              num_resnet = 5, num_hierarchies = 3, num_filters = 64,
#                              num_logistic_mix = 5, dropout_p = 0.5)
#   dist |> tfd_log_prob(x, conditional_input = y)        # or dist$log_prob(...)
#   dist |> tfd_sample(8, conditional_input = 2)           # or dist$sample(...)
#   fp_to_r(dist$sample(8L, conditional_input = 2))        # -> R array, any NumPy
#
# Only reticulate (>= 1.28) is required. The R packages tensorflow / keras /
# tfprobability are optional: when tfprobability is installed its tfd_sample()
# and tfd_log_prob() are used unchanged (they just call $sample() / $log_prob()
# on the Python object); otherwise minimal stand-ins with the same signature
# are defined below.
#
# NumPy 2 and old reticulate: reticulate < 1.36 cannot convert NumPy 2 arrays
# ("incompatible NumPy binary version"). fp_to_r() moves tensors/arrays to R via
# Python lists ($numpy()$tolist()), which works with every reticulate/NumPy
# combination. With reticulate >= 1.36 you can also just use
# as.array(dist$sample(8)) (with the R tensorflow package) or py_to_r(x$numpy()).

if (!requireNamespace("reticulate", quietly = TRUE)) {
  stop("tfd_fast_pixel_cnn() needs the R package 'reticulate' ",
       "(Debian/Ubuntu: apt-get install r-cran-reticulate).")
}

.fp_env <- new.env(parent = emptyenv())

# The Python module tfp_fastpixel, imported once with convert = FALSE: what
# its objects return (tensors, arrays) stays in Python until fp_to_r(), so
# nothing ever goes through reticulate's NumPy conversion.
fp_module <- function() {
  if (is.null(.fp_env$module)) {
    .fp_env$module <- reticulate::import("tfp_fastpixel", convert = FALSE)
  }
  .fp_env$module
}

# Whole numbers only: R passes 8, c(28, 28, 1), 5 as doubles. as.integer()
# would silently truncate 4.5 to 4, so reject non-integral values instead.
.fp_as_int <- function(x, what) {
  if (!is.numeric(x) || anyNA(x) || any(!is.finite(x)) || any(x != round(x))) {
    stop(sprintf("%s must be whole numbers, got %s", what,
                 paste(as.character(x), collapse = ", ")), call. = FALSE)
  }
  as.integer(x)
}

# R shape -> Python tuple of ints, like tensorflow::shape()/normalize_shape():
#   NULL -> None (no conditioning), list() / integer(0) -> () (scalar),
#   c(28, 28, 1) -> (28, 28, 1), 10 -> (10,).
.fp_shape <- function(x, what) {
  if (is.null(x)) return(NULL)
  if (is.list(x)) x <- unlist(x)
  if (length(x) == 0) return(reticulate::tuple())
  reticulate::tuple(as.list(.fp_as_int(x, what)))
}

#' A FastPixelCNN distribution (mirrors tfprobability::tfd_pixel_cnn()).
#'
#' Arguments and defaults are FastPixelCNN's (tfd.PixelCNN's, plus
#' jit_compile); a Python test keeps this signature equal to the Python one.
#' Values go to Python unchanged and are checked there by the same validator
#' as every other way of building a model (R doubles such as 5 or c(28, 28, 1)
#' are accepted where an int is wanted; 5.5 is rejected).
#' Returns the Python object: use $sample(), $log_prob(), etc. on it.
tfd_fast_pixel_cnn <- function(image_shape,
                               conditional_shape = NULL,
                               num_resnet = 5,
                               num_hierarchies = 3,
                               num_filters = 160,
                               num_logistic_mix = 10,
                               receptive_field_dims = c(3, 3),
                               dropout_p = 0.5,
                               resnet_activation = "concat_elu",
                               use_weight_norm = TRUE,
                               use_data_init = TRUE,
                               high = 255,
                               low = 0,
                               dtype = "float32",
                               name = "FastPixelCNN",
                               jit_compile = NULL) {
  args <- list(
    image_shape = as.list(image_shape),
    conditional_shape = if (is.null(conditional_shape)) NULL
                        else as.list(conditional_shape),
    num_resnet = num_resnet,
    num_hierarchies = num_hierarchies,
    num_filters = num_filters,
    num_logistic_mix = num_logistic_mix,
    receptive_field_dims = as.list(receptive_field_dims),
    dropout_p = dropout_p,
    resnet_activation = resnet_activation,
    use_weight_norm = use_weight_norm,
    use_data_init = use_data_init,
    high = high,
    low = low,
    dtype = dtype,
    name = name
  )
  # list(x = NULL) would drop the entry; keep these as None.
  if (is.null(conditional_shape)) args["conditional_shape"] <- list(NULL)
  args["jit_compile"] <- list(jit_compile)
  do.call(fp_module()$FastPixelCNN, args)
}

# Small Python helpers that move data as Python lists (never as NumPy arrays
# through reticulate's converter, which reticulate < 1.36 cannot do for NumPy 2).
.fp_py <- function() {
  if (is.null(.fp_env$py)) {
    .fp_env$py <- reticulate::py_run_string(paste(
      "def fp_shape_and_list(x):",
      "    import numpy as np",
      "    a = np.asarray(x.numpy() if hasattr(x, 'numpy') else x)",
      "    return [list(a.shape), a.tolist()]",
      "def fp_from_list(values, shape, dtype):",
      "    import numpy as np",
      "    return np.asarray(values, dtype=dtype).reshape(shape)",
      sep = "\n"), local = TRUE, convert = FALSE)
  }
  .fp_env$py
}

# Tensor / ndarray / Python number -> R numeric array (or vector / scalar).
# Keeps the shape; R values pass through unchanged.
fp_to_r <- function(x) {
  if (!inherits(x, "python.builtin.object")) return(x)
  res <- reticulate::py_to_r(.fp_py()$fp_shape_and_list(x))
  dims <- as.integer(unlist(res[[1]]))
  vals <- unlist(res[[2]])
  if (length(dims) <= 1) return(vals)
  # Python lists are row-major; R arrays are column-major.
  aperm(array(vals, dim = rev(dims)), rev(seq_along(dims)))
}

# R numeric array / matrix / vector -> NumPy array (a Python object, shape
# kept), e.g. images for $log_prob() or fit(). Needed with reticulate < 1.36 +
# NumPy 2, where r_to_py() of an R array fails; plain vectors are fine anyway.
fp_from_r <- function(x, dtype = "float32") {
  dims <- dim(x)
  if (is.null(dims)) dims <- length(x)
  vals <- if (length(dims) > 1) aperm(x, rev(seq_along(dims))) else x
  vals <- as.list(as.numeric(vals))  # row-major, always a Python list
  .fp_py()$fp_from_list(vals, reticulate::tuple(as.list(as.integer(dims))), dtype)
}

# Stand-ins for tfprobability's generics when that package is not installed.
# Like tfprobability they just call the Python methods; tfd_sample() also
# turns a whole-number double n (e.g. 8) into an integer for older Pythons.
if (!requireNamespace("tfprobability", quietly = TRUE)) {
  tfd_sample <- function(distribution, sample_shape = list(), ...) {
    if (is.numeric(sample_shape) && length(sample_shape) == 1) {
      sample_shape <- .fp_as_int(sample_shape, "sample_shape")
    } else if (length(sample_shape) > 0) {
      sample_shape <- as.list(.fp_as_int(unlist(sample_shape), "sample_shape"))
    }
    distribution$sample(sample_shape, ...)
  }
  tfd_log_prob <- function(distribution, value, ...) {
    distribution$log_prob(value, ...)
  }
}
