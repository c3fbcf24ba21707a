# Runs the tests in tests/testthat against the Python that RETICULATE_PYTHON
# names (or the virtualenv install_fastpixelcnn() made). Without a Python
# that has tfp_fastpixel they skip, unless FASTPIXELCNN_REQUIRE_PYTHON=true
# (CI), where that is a failure.
library(testthat)
library(fastpixelcnn)

test_check("fastpixelcnn")
