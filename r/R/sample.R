# After training: sampling, completion and log-probabilities, on a live
# FastPixelCNN or a loaded export alike, with R values in and R arrays out.

fp_sample <- function(distribution,
                      sample_shape = list(),
                      seed = NULL,
                      conditional_input = NULL) {
  .fp_check_distribution(distribution)
  .fp_check_seed(seed)
  cond <- .fp_in(conditional_input, "conditional_input")
  fp_to_r(.fp_call(.fp_glue()$sample(distribution, sample_shape, seed, cond)))
}

fp_log_prob <- function(distribution, x, conditional_input = NULL) {
  .fp_check_distribution(distribution)
  if (missing(x)) stop("`x` is missing: give images [n, H, W, C]",
                       call. = FALSE)
  x <- .fp_in(x, "x")
  cond <- .fp_in(conditional_input, "conditional_input")
  fp_to_r(.fp_call(.fp_glue()$log_prob(distribution, x, cond)))
}

fp_complete <- function(distribution,
                        images,
                        num_observed,
                        sample_shape = list(),
                        seed = NULL,
                        conditional_input = NULL) {
  .fp_check_distribution(distribution)
  if (missing(images)) stop("`images` is missing: give images [n, H, W, C]",
                            call. = FALSE)
  if (missing(num_observed)) {
    stop("`num_observed` is missing: how many pixels to keep, in raster ",
         "order", call. = FALSE)
  }
  .fp_check_seed(seed)
  images <- .fp_in(images, "images")
  cond <- .fp_in(conditional_input, "conditional_input")
  fp_to_r(.fp_call(.fp_glue()$complete(distribution, images, num_observed,
                                       sample_shape, seed, cond)))
}
