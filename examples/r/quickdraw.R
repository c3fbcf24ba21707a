# The "Easy PixelCNN with tfprobability" recipe in R, with the fastpixelcnn
# package: train a class-conditional PixelCNN, sample 8 images per class, save
# them as a PNG grid.
#
#   R CMD INSTALL r                     # once, from the repository root
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
# dropout_p, n_per_class, out (PNG path), run (run directory; default a new
# temporary one), seed.
#
# Only the R package reticulate is needed besides fastpixelcnn. Training goes
# through fp_train_run() (the Python API tfp_fastpixel.train), so the R keras
# package is not needed either.

library(fastpixelcnn)

# ---- options -----------------------------------------------------------------
opts <- list(dataset = "digits", data_dir = NULL, epochs = NULL, take = NULL,
             batch_size = 32, num_resnet = NULL, num_hierarchies = NULL,
             num_filters = NULL, num_logistic_mix = NULL, dropout_p = NULL,
             n_per_class = 8, out = NULL, run = NULL, seed = 1)
text_opts <- c("dataset", "data_dir", "out", "run")
for (a in commandArgs(trailingOnly = TRUE)) {
  kv <- strsplit(a, "=", fixed = TRUE)[[1]]
  if (length(kv) != 2 || !(kv[1] %in% names(opts))) {
    stop("unknown argument '", a, "'; expected key=value with key in: ",
         paste(names(opts), collapse = ", "))
  }
  opts[[kv[1]]] <- if (kv[1] %in% text_opts) path.expand(kv[2]) else
    as.numeric(kv[2])
}
if (!opts$dataset %in% c("digits", "quickdraw")) {
  stop("dataset: expected digits or quickdraw, got ", opts$dataset)
}
post <- opts$dataset == "quickdraw"
# The post's settings for QuickDraw; a tiny model for the offline digits.
pick <- function(key, post_value, tiny_value) {
  if (!is.null(opts[[key]])) opts[[key]] else if (post) post_value else tiny_value
}
model <- list(num_resnet = pick("num_resnet", 5, 1),
              num_hierarchies = pick("num_hierarchies", 3, 2),
              num_filters = pick("num_filters", 128, 16),
              num_logistic_mix = pick("num_logistic_mix", 5, 3),
              dropout_p = pick("dropout_p", 0.5, 0.1))
epochs <- pick("epochs", 10, 3)
take <- if (!is.null(opts$take)) opts$take else if (post) 500000 else NULL
run_dir <- if (is.null(opts$run)) file.path(tempdir(), "run") else opts$run
out <- if (is.null(opts$out)) {
  file.path("runs", sprintf("r_%s_samples.png", opts$dataset))
} else {
  opts$out
}

if (!post) {
  message("NOTE: dataset=digits -- scikit-learn's 8x8 digits 0-3 stand in for ",
          "QuickDraw (offline). Use dataset=quickdraw for the post's data.")
}

# ---- train: log_prob of (image, label) is the model's output ---------------
t0 <- Sys.time()
history <- fp_train_run(run_dir, dataset = opts$dataset, epochs = epochs,
                        batch_size = opts$batch_size, seed = opts$seed,
                        classes = if (post) "post" else c(0, 1, 2, 3),
                        labels = "scalar", take = take,
                        data_dir = opts$data_dir, model = model, verbose = 2)
cat(sprintf("trained %d epochs in %.1f s\n", nrow(history),
            as.numeric(difftime(Sys.time(), t0, units = "secs"))))
print(history)
last <- history[nrow(history), ]
cat(sprintf("test NLL %.3f nats/image = %.3f bits/dim\n",
            last$val_loss, last$val_bits_per_dim))

# ---- sample 8 per class, as the post does: one call per class --------------
dist <- fp_load_run(run_dir)
config <- reticulate::import("tfp_fastpixel.train")$read_config(run_dir)
class_ids <- unlist(config$data$classes)
image_shape <- unlist(config$model$image_shape)
high <- config$model$high
n <- opts$n_per_class
t0 <- Sys.time()
rows <- lapply(class_ids, function(label) {
  fp_sample(dist, n, seed = opts$seed + label, conditional_input = label)
})
cat(sprintf("sampled %d images in %.1f s\n", n * length(class_ids),
            as.numeric(difftime(Sys.time(), t0, units = "secs"))))

# ---- a PNG grid: one row per class, n columns; 1-pixel white gaps ------------
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
# The PNG is written by TensorFlow, so no R image package is needed.
tf <- reticulate::import("tensorflow", convert = FALSE)
pixels <- fp_from_r(array(round(grid * 255), c(dim(grid), 1)), "uint8")
dir.create(dirname(out), recursive = TRUE, showWarnings = FALSE)
invisible(tf$io$write_file(normalizePath(out, mustWork = FALSE),
                           tf$io$encode_png(pixels)))
cat(sprintf("saved %d x %d samples (classes %s) to %s\n", length(rows), n,
            paste(class_ids, collapse = ", "), out))
