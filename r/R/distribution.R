# The arguments and defaults are FastPixelCNN's (tfd.PixelCNN's plus
# jit_compile); tests/test_arguments.py keeps them equal to the Python
# signature. Values go to Python as they are and are checked there by the one
# validator every way of building a model shares (whole-number doubles such
# as 5 or c(28, 28, 1) are accepted where an int is wanted).
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
    conditional_shape = as.list(conditional_shape),
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
  # list(x = NULL) would drop the entry: these must reach Python as None.
  if (is.null(conditional_shape)) args["conditional_shape"] <- list(NULL)
  args["jit_compile"] <- list(jit_compile)
  .fp_call(do.call(.fp_module()$FastPixelCNN, args))
}
