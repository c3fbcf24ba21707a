test_that("install_fastpixelcnn checks `package` before installing anything", {
  expect_error(install_fastpixelcnn(42), "`package` must be NULL or one string")
  expect_error(install_fastpixelcnn(c("a", "b")),
               "`package` must be NULL or one string")
  empty <- tempfile("fp-empty-")
  dir.create(empty)
  on.exit(unlink(empty, recursive = TRUE), add = TRUE)
  expect_error(install_fastpixelcnn(empty), "no pyproject.toml")
  expect_error(install_fastpixelcnn(file.path(empty, "missing")),
               "`package`: no folder")
  expect_error(install_fastpixelcnn("tfp_fastpixel", envname = ""), "`envname`")
  expect_error(install_fastpixelcnn("tfp_fastpixel", python = "/no/python"),
               "`python`")
  expect_error(install_fastpixelcnn("tfp_fastpixel", new_env = NA), "`new_env`")
})

test_that("install_fastpixelcnn hands pip a checkout's full path or a specifier", {
  spec <- getFromNamespace(".fp_pip_spec", "fastpixelcnn")
  checkout <- tempfile("fp-checkout-")
  dir.create(checkout)
  on.exit(unlink(checkout, recursive = TRUE), add = TRUE)
  writeLines("[project]", file.path(checkout, "pyproject.toml"))
  expect_identical(spec(checkout), normalizePath(checkout))
  # By default the Python package of this package's version.
  expect_identical(spec(NULL), paste0("tfp_fastpixel==",
                                      packageVersion("fastpixelcnn")))
  expect_identical(spec("tfp_fastpixel==1.0.0"), "tfp_fastpixel==1.0.0")
  expect_identical(spec("git+https://example.org/tfp_fastpixel.git"),
                   "git+https://example.org/tfp_fastpixel.git")
})
