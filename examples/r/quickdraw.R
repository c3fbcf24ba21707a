# The "Easy PixelCNN with tfprobability" recipe in R, with FastPixelCNN:
# build a class-conditional PixelCNN, train it on log_prob with tf_keras
# (through reticulate), sample 8 images per class, save them as a PNG.
#
#   RETICULATE_PYTHON=/path/to/venv/bin/python Rscript examples/r/quickdraw.R
#   ... Rscript examples/r/quickdraw.R dataset=quickdraw data_dir=~/tensorflow_datasets
#
# DATA: by default this runs on scikit-learn's bundled 8x8 digits (classes
# 0-3, values 0..16), NOT QuickDraw: it works offline and trains in seconds
# on a laptop CPU. dataset=quickdraw uses tfds `quickdraw_bitmap` (28x28,
# values 0..255) with the post's 20 classes and model size; tfds must be able
# to download it or find it prepared under data_dir=.
#
# Options (key=value): dataset (digits|quickdraw), data_dir, epochs, take,
# batch_size, num_resnet, num_hierarchies, num_filters, num_logistic_mix,
# dropout_p, n_per_class, out (PNG path), seed.
#
# Only reticulate is needed (works with Debian's 1.28 and NumPy 2: results come
# back through fp_to_r(), i.e. Python lists). Where the R packages
# tfprobability/keras/tensorflow are installed the same code reads
# `dist %>% tfd_log_prob(...)`, `layer_input()`, `keras_model()`, see
# the R section of README.md.

library(reticulate)
script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else file.path("examples", "r")
})
source(file.path(script_dir, "fastpixel.R"))

# ---- options -----------------------------------------------------------------
opts <- list(dataset = "digits", data_dir = NULL, epochs = NULL, take = NULL,
             batch_size = 32, num_resnet = NULL, num_hierarchies = NULL,
             num_filters = NULL, num_logistic_mix = NULL, dropout_p = NULL,
             n_per_class = 8, out = NULL, seed = 1)
for (a in commandArgs(trailingOnly = TRUE)) {
  kv <- strsplit(a, "=", fixed = TRUE)[[1]]
  if (length(kv) != 2 || !(kv[1] %in% names(opts))) {
    stop("unknown argument '", a, "'; expected key=value with key in: ",
         paste(names(opts), collapse = ", "))
  }
  v <- kv[2]
  opts[[kv[1]]] <- if (kv[1] %in% c("dataset", "data_dir", "out")) {
    path.expand(v)
  } else {
    as.numeric(v)
  }
}
post <- opts$dataset == "quickdraw"
# The post's settings for QuickDraw; a tiny model for the offline digits.
pick <- function(key, post_value, tiny_value) {
  if (!is.null(opts[[key]])) opts[[key]] else if (post) post_value else tiny_value
}
classes <- if (post) "post" else list(0L, 1L, 2L, 3L)
epochs <- pick("epochs", 10, 3)
take <- pick("take", 500000, NA)
num_resnet <- pick("num_resnet", 5, 1)
num_hierarchies <- pick("num_hierarchies", 3, 2)
num_filters <- pick("num_filters", 128, 16)
num_logistic_mix <- pick("num_logistic_mix", 5, 3)
dropout_p <- pick("dropout_p", 0.5, 0.1)
out <- if (is.null(opts$out)) file.path("runs", sprintf("r_%s_samples.png", opts$dataset)) else opts$out

# ---- Python side -----------------------------------------------------------------
tf <- import("tensorflow", convert = FALSE)
keras <- import("tf_keras", convert = FALSE)
fp_data <- import("tfp_fastpixel.data", convert = FALSE)
invisible(tf$random$set_seed(as.integer(opts$seed)))

if (!post) {
  message("NOTE: dataset=digits -- scikit-learn's 8x8 digits 0-3 stand in for ",
          "QuickDraw (offline). Use dataset=quickdraw for the post's data.")
}

# ---- data: tf.data of ((image [B,H,W,1], label [B]),), as in the post ------
spec <- fp_data$describe(opts$dataset, classes = classes, labels = "scalar",
                         data_dir = opts$data_dir)
image_shape <- as.integer(unlist(py_to_r(spec$image_shape)))
high <- py_to_r(spec$high)
class_ids <- as.integer(unlist(py_to_r(spec$classes)))
class_names <- unlist(py_to_r(spec$class_names))[class_ids + 1]
load_split <- function(split) {
  fp_data$load(opts$dataset, split = split,
               batch_size = as.integer(opts$batch_size), classes = classes,
               take = if (is.na(take)) NULL else as.integer(take),
               data_dir = opts$data_dir, seed = as.integer(opts$seed))
}
train_ds <- load_split("train")
test_ds <- load_split("test")

# ---- the distribution: R doubles in, tfd_fast_pixel_cnn() makes them ints -----
dist <- tfd_fast_pixel_cnn(
  image_shape = image_shape,
  conditional_shape = list(),      # a scalar class label
  num_resnet = num_resnet,
  num_hierarchies = num_hierarchies,
  num_filters = num_filters,
  num_logistic_mix = num_logistic_mix,
  dropout_p = dropout_p,
  high = high, low = 0
)
print(dist)

# ---- the model: log_prob of (image, label) is the output, -mean is the loss -
image_input <- keras$layers$Input(shape = tuple(as.list(image_shape)))
label_input <- keras$layers$Input(shape = tuple())
log_prob <- dist |> tfd_log_prob(image_input, conditional_input = label_input)
model <- keras$Model(inputs = list(image_input, label_input), outputs = log_prob)
invisible(model$add_loss(tf$negative(tf$reduce_mean(log_prob))))
invisible(model$compile(optimizer = keras$optimizers$Adam(learning_rate = 0.001)))

t0 <- Sys.time()
history <- model$fit(train_ds, epochs = as.integer(epochs), verbose = 2L)
cat(sprintf("trained %d epochs in %.1f s\n", as.integer(epochs),
            as.numeric(difftime(Sys.time(), t0, units = "secs"))))
nll <- py_to_r(model$evaluate(test_ds, verbose = 0L))
cat(sprintf("test NLL %.3f nats/image = %.3f bits/dim\n",
            nll, nll / (prod(image_shape) * log(2))))

# ---- sample 8 per class (tfd_sample -> dist$sample) ------------------------------
# One call for all classes: conditional_input holds one label per sample
# (plain R doubles -> a Python list). Per class, as in the post, also works:
#   dist |> tfd_sample(8, conditional_input = 2)
n <- as.integer(opts$n_per_class)
labels <- rep(as.numeric(class_ids), each = n)
t0 <- Sys.time()
s <- dist |> tfd_sample(length(labels), conditional_input = labels)
x <- fp_to_r(s)  # R array [n * classes, H, W, C]; fine with reticulate 1.28 + NumPy 2
cat(sprintf("sampled %d images in %.1f s\n", length(labels),
            as.numeric(difftime(Sys.time(), t0, units = "secs"))))
stopifnot(dim(x)[1] == length(labels), all(x >= 0), all(x <= high),
          all(x == round(x)))
rows <- lapply(seq_along(class_ids), function(r) x[labels == class_ids[r], , , , drop = FALSE])

# ---- a PNG grid: one row per class, n columns; 1-pixel white gaps -----------
h <- image_shape[1]; w <- image_shape[2]; gap <- 1L
grid <- matrix(1, length(rows) * (h + gap) - gap, n * (w + gap) - gap)
for (r in seq_along(rows)) {
  for (j in seq_len(n)) {
    img <- rows[[r]][j, , , 1] / high            # [0, 1]
    if (post) img <- 1 - img                     # QuickDraw: dark strokes
    grid[(r - 1) * (h + gap) + seq_len(h), (j - 1) * (w + gap) + seq_len(w)] <- img
  }
}
scale <- max(1L, as.integer(ceiling(96 / h)))     # nearest-neighbour upscale
grid <- grid[rep(seq_len(nrow(grid)), each = scale),
             rep(seq_len(ncol(grid)), each = scale)]
dir.create(dirname(out), recursive = TRUE, showWarnings = FALSE)
png::writePNG(grid, out)
cat(sprintf("saved %d x %d samples (classes: %s) to %s\n", length(rows), n,
            paste(class_names, collapse = ", "), out))
