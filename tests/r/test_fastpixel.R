# R-side test of FastPixelCNN through reticulate alone (run by tests/test_r.py).
#   RETICULATE_PYTHON=/path/to/python Rscript tests/r/test_fastpixel.R <repo root>
# Builds a conditional FastPixelCNN from plain R doubles with
# tfd_fast_pixel_cnn(), trains it briefly on log_prob through tf_keras (the
# post's recipe), samples with conditional_input, scores the samples with
# log_prob, and checks shapes, range, integrality and finite log-probabilities.
# Works with reticulate 1.28 + NumPy 2: results reach R as Python lists.
args <- commandArgs(trailingOnly = TRUE)
root <- if (length(args) >= 1) args[[1]] else "."
source(file.path(root, "examples", "r", "fastpixel.R"))
library(reticulate)

np <- import("numpy", convert = FALSE)
tf <- import("tensorflow", convert = FALSE)
cat(sprintf("R %s, reticulate %s, Python %s, NumPy %s, TF %s\n",
            getRversion(), packageVersion("reticulate"),
            py_config()$version, py_to_r(np$`__version__`),
            py_to_r(tf$`__version__`)))
invisible(tf$random$set_seed(1L))

# --- build: plain R doubles; the wrapper turns them into ints / tuples ------
high <- 3
dist <- tfd_fast_pixel_cnn(
  image_shape = c(4, 4, 1), conditional_shape = list(),
  num_resnet = 1, num_hierarchies = 2, num_filters = 8, num_logistic_mix = 2,
  receptive_field_dims = c(3, 3), dropout_p = 0, high = high, low = 0)
print(dist)
stopifnot(isTRUE(import_builtins()$isinstance(dist, fp_module()$FastPixelCNN)))
stopifnot(identical(as.integer(fp_to_r(dist$event_shape$as_list())),
                    c(4L, 4L, 1L)))
# non-integral doubles are rejected by the wrapper (not truncated)
err <- tryCatch({tfd_fast_pixel_cnn(image_shape = c(4.5, 4, 1)); NULL},
                error = conditionMessage)
# The Python validator answers, naming the argument and the value.
stopifnot(is.character(err), grepl("image_shape", err, fixed = TRUE),
          grepl("4.5", err, fixed = TRUE))

check_samples <- function(x, n) {
  stopifnot(is.array(x), identical(dim(x), c(as.integer(n), 4L, 4L, 1L)),
            all(is.finite(x)), all(x >= 0), all(x <= high),
            all(x == round(x)))
}
check_log_prob <- function(lp, n) {
  stopifnot(is.numeric(lp), length(lp) == n, all(is.finite(lp)),
            all(lp <= 1e-4))  # log-probabilities of discrete images
}

# --- the post's training recipe through tf_keras: log_prob as model output --
keras <- import("tf_keras", convert = FALSE)
rs <- np$random$RandomState(0L)
train_x <- rs$randint(0L, as.integer(high) + 1L, size = c(16L, 4L, 4L, 1L))$astype("float32")
train_y <- rs$randint(0L, 4L, size = 16L)$astype("float32")
image_input <- keras$layers$Input(shape = tuple(4L, 4L, 1L))
label_input <- keras$layers$Input(shape = tuple())
log_prob <- dist |> tfd_log_prob(image_input, conditional_input = label_input)
model <- keras$Model(inputs = list(image_input, label_input), outputs = log_prob)
invisible(model$add_loss(tf$negative(tf$reduce_mean(log_prob))))
invisible(model$compile(optimizer = keras$optimizers$Adam(learning_rate = 0.01)))
history <- model$fit(list(train_x, train_y), batch_size = 8L, epochs = 2L,
                     verbose = 0L)
loss <- unlist(py_to_r(history$history)$loss)
cat("training loss:", format(loss, digits = 4), "\n")
stopifnot(length(loss) == 2, all(is.finite(loss)), all(loss > 0))

# --- sample with a per-sample conditional_input, then score -----------------
n <- 8
labels <- c(0, 1, 2, 3, 0, 1, 2, 3)  # plain R doubles -> Python list
s <- dist$sample(as.integer(n), conditional_input = labels)
x <- fp_to_r(s)
check_samples(x, n)
lp <- fp_to_r(dist$log_prob(s, conditional_input = labels))
check_log_prob(lp, n)
cat("log_prob:", format(lp, digits = 4), "\n")

# --- R data back into Python: fp_from_r() gives the same log_prob ------------
lp_r <- fp_to_r(dist$log_prob(fp_from_r(x), conditional_input = labels))
stopifnot(isTRUE(all.equal(lp_r, lp, tolerance = 1e-5)))

# --- tfprobability-style calls (tfd_sample / tfd_log_prob), scalar label -----
s2 <- dist |> tfd_sample(4, conditional_input = 2)
x2 <- fp_to_r(s2)
check_samples(x2, 4)
lp2 <- fp_to_r(dist |> tfd_log_prob(s2, conditional_input = 2))
check_log_prob(lp2, 4)

cat("R FastPixelCNN test: OK\n")
