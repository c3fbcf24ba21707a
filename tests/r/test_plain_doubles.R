# R doubles straight into the Python API (run by tests/test_r.py), no wrapper:
#   RETICULATE_PYTHON=/path/to/python Rscript tests/r/test_plain_doubles.R
# R passes 8, c(4, 4, 1), 1 as Python floats / lists of floats and list() as
# []. tfp_fastpixel.FastPixelCNN must accept integral floats wherever TFP wants
# ints -- including n in $sample(8) -- and reject non-integral ones.
library(reticulate)
fp <- import("tfp_fastpixel", convert = FALSE)
to_r <- function(x) {  # tensor -> R array via Python lists (NumPy-2-safe)
  a <- import("numpy", convert = FALSE)$asarray(x$numpy())
  vals <- unlist(py_to_r(a$tolist()))
  dims <- as.integer(unlist(py_to_r(import_builtins(convert = FALSE)$list(a$shape))))
  if (length(dims) <= 1) vals else aperm(array(vals, rev(dims)), rev(seq_along(dims)))
}

high <- 3
dist <- fp$FastPixelCNN(
  image_shape = c(4, 4, 1), conditional_shape = list(),
  num_resnet = 1, num_hierarchies = 2, num_filters = 8, num_logistic_mix = 2,
  receptive_field_dims = c(3, 3), dropout_p = 0, high = high, low = 0)
print(dist)

labels <- c(0, 1, 2, 3, 0, 1, 2, 3)
s <- dist$sample(8, conditional_input = labels)  # n = 8 is an R double
x <- to_r(s)
stopifnot(identical(dim(x), c(8L, 4L, 4L, 1L)), all(x >= 0), all(x <= high),
          all(x == round(x)))
lp <- to_r(dist$log_prob(s, conditional_input = labels))
stopifnot(length(lp) == 8, all(is.finite(lp)))
s1 <- dist$sample(3, conditional_input = 1)      # scalar label, double n
stopifnot(identical(dim(to_r(s1)), c(3L, 4L, 4L, 1L)))

# non-integral doubles must be rejected (printed so the message can be read)
e1 <- tryCatch({fp$FastPixelCNN(image_shape = c(4.5, 4, 1),
                                conditional_shape = list()); NULL},
               error = conditionMessage)
e2 <- tryCatch({dist$sample(2.5, conditional_input = 1); NULL},
               error = conditionMessage)
cat("image_shape = c(4.5, 4, 1) ->", substr(e1, 1, 300), "\n")
cat("sample(2.5) ->", substr(e2, 1, 300), "\n")
# a clear error names the offending value
stopifnot(is.character(e1), grepl("4.5", e1, fixed = TRUE),
          is.character(e2), grepl("2.5", e2, fixed = TRUE))

cat("R plain-doubles test: OK\n")
