# Arrays between R and Python as raw float64 bytes: reticulate before 1.38
# cannot convert NumPy 2 arrays ("incompatible NumPy binary version"), while
# raw vectors and bytes cross with every version.

fp_to_r <- function(x) {
  if (!inherits(x, "python.builtin.object")) return(x)
  res <- reticulate::py_to_r(.fp_call(.fp_glue()$to_bytes(x)))
  dims <- as.integer(unlist(res[[1]]))
  bytes <- res[[2]]
  vals <- readBin(bytes, "double", n = length(bytes) %/% 8L, size = 8L,
                  endian = "little")
  if (length(dims) <= 1) return(vals)
  # Python is row-major, R column-major.
  aperm(array(vals, dim = rev(dims)), rev(seq_along(dims)))
}

fp_from_r <- function(x, dtype = "float32") {
  if (inherits(x, "python.builtin.object")) return(x)
  if (!(is.numeric(x) || is.logical(x))) {
    stop("`x` must be a numeric vector, matrix or array; got an object of ",
         "class ", paste(class(x), collapse = "/"), call. = FALSE)
  }
  if (!is.character(dtype) || length(dtype) != 1 ||
        !dtype %in% c("float16", "float32", "float64", "int32", "int64",
                      "uint8")) {
    stop("`dtype` must be one of \"float16\", \"float32\", \"float64\", ",
         "\"int32\", \"int64\", \"uint8\"; got ", deparse(dtype),
         call. = FALSE)
  }
  dims <- dim(x)
  if (is.null(dims)) dims <- length(x)
  vals <- if (length(dims) > 1) aperm(x, rev(seq_along(dims))) else x
  bytes <- writeBin(as.double(vals), raw(), size = 8L, endian = "little")
  arr <- .fp_call(.fp_glue()$from_bytes(bytes, as.list(as.integer(dims))))
  arr$astype(dtype)
}

# An R argument on its way to Python: scalars as Python floats, vectors,
# matrices and arrays as float64 NumPy arrays (the Python side casts them to
# the model's dtype), Python objects unchanged.
.fp_in <- function(x, argument) {
  if (is.null(x) || inherits(x, "python.builtin.object")) return(x)
  if (!(is.numeric(x) || is.logical(x))) {
    stop("`", argument, "` must be numeric (a number, vector, matrix or ",
         "array); got an object of class ", paste(class(x), collapse = "/"),
         call. = FALSE)
  }
  if (is.null(dim(x)) && length(x) == 1) return(as.double(x))
  fp_from_r(x, "float64")
}

.fp_check_distribution <- function(distribution) {
  if (!inherits(distribution, "python.builtin.object")) {
    stop("`distribution` must be a FastPixelCNN (from tfd_fast_pixel_cnn() ",
         "or fp_load_run()) or a loaded export (fp_load_export()); got an ",
         "object of class ", paste(class(distribution), collapse = "/"),
         call. = FALSE)
  }
}

.fp_check_seed <- function(seed) {
  if (!is.null(seed) && !inherits(seed, "python.builtin.object") &&
        (!is.numeric(seed) || !length(seed) %in% c(1L, 2L))) {
    stop("`seed` must be NULL, a whole number, or two whole numbers; got ",
         deparse(seed), call. = FALSE)
  }
}
