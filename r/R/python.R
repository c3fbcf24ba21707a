# Finding the Python side: the module tfp_fastpixel and the package's glue.

.fp_env <- new.env(parent = emptyenv())

# The virtualenv install_fastpixelcnn() makes by default.
.fp_default_env <- "r-fastpixelcnn"

# Before Python starts, pick the interpreter: RETICULATE_PYTHON wins (reticulate
# reads it itself); otherwise the virtualenv install_fastpixelcnn() made, when
# it exists. Once Python runs in this R session it cannot be changed.
.fp_use_python <- function() {
  if (reticulate::py_available(initialize = FALSE)) return(invisible(FALSE))
  if (nzchar(Sys.getenv("RETICULATE_PYTHON"))) return(invisible(FALSE))
  if (reticulate::virtualenv_exists(.fp_default_env)) {
    reticulate::use_virtualenv(.fp_default_env, required = TRUE)
    return(invisible(TRUE))
  }
  invisible(FALSE)
}

fp_available <- function() {
  .fp_use_python()
  isTRUE(tryCatch(reticulate::py_module_available("tfp_fastpixel"),
                  error = function(e) FALSE))
}

.fp_missing_message <- function() {
  python <- tryCatch(reticulate::py_config()$python, error = function(e) NA)
  paste0(
    "fastpixelcnn needs a Python with the package tfp_fastpixel, and ",
    if (is.na(python)) "no Python was found" else
      paste0("the Python in use (", python, ") does not have it"),
    ". Run install_fastpixelcnn(\"<path to a tfp_fastpixel checkout>\") and ",
    "restart R, or set RETICULATE_PYTHON to such a Python before the first ",
    "call (Sys.setenv(RETICULATE_PYTHON = \"/path/to/venv/bin/python\"))."
  )
}

# A Python module, imported once with convert = FALSE: what its functions
# return (tensors, arrays) stays in Python until fp_to_r() moves it, so
# nothing goes through reticulate's NumPy conversion.
.fp_import <- function(name) {
  if (is.null(.fp_env[[name]])) {
    if (!fp_available()) stop(.fp_missing_message(), call. = FALSE)
    .fp_env[[name]] <- if (name == "glue") {
      reticulate::import_from_path(
        "fastpixelcnn_glue", system.file("python", package = "fastpixelcnn"),
        convert = FALSE)
    } else {
      reticulate::import(name, convert = FALSE)
    }
  }
  .fp_env[[name]]
}

.fp_module <- function() .fp_import("tfp_fastpixel")
.fp_glue <- function() .fp_import("glue")

# A Python error as an R error with the Python message only (reticulate 1.28
# appends the whole traceback), so that the message names the argument.
.fp_call <- function(expr) {
  tryCatch(expr, error = function(e) {
    msg <- conditionMessage(e)
    msg <- sub("\n*Detailed traceback:.*$", "", msg)
    msg <- sub("^Error in py_call_impl[^\n]*\n\\s*", "", msg)
    stop(msg, call. = FALSE)
  })
}

install_fastpixelcnn <- function(package = NULL,
                                 envname = "r-fastpixelcnn",
                                 python = NULL,
                                 extra_packages = NULL,
                                 pip_options = character(),
                                 new_env = FALSE) {
  spec <- .fp_pip_spec(package)
  if (!is.character(envname) || length(envname) != 1 || !nzchar(envname)) {
    stop("`envname` must be one non-empty string (a virtualenv name or ",
         "path); got ", deparse(envname), call. = FALSE)
  }
  if (!is.null(python) &&
        (!is.character(python) || length(python) != 1 || !file.exists(python))) {
    stop("`python` must be NULL or the path of a Python interpreter; got ",
         deparse(python), call. = FALSE)
  }
  if (!is.null(extra_packages) && !is.character(extra_packages)) {
    stop("`extra_packages` must be NULL or a character vector of pip ",
         "specifiers; got ", deparse(extra_packages), call. = FALSE)
  }
  if (!is.character(pip_options)) {
    stop("`pip_options` must be a character vector; got ",
         deparse(pip_options), call. = FALSE)
  }
  if (!isTRUE(new_env) && !isFALSE(new_env)) {
    stop("`new_env` must be TRUE or FALSE; got ", deparse(new_env),
         call. = FALSE)
  }
  if (new_env && reticulate::virtualenv_exists(envname)) {
    reticulate::virtualenv_remove(envname, confirm = FALSE)
  }
  if (!reticulate::virtualenv_exists(envname)) {
    reticulate::virtualenv_create(envname, python = python)
  }
  tryCatch(
    reticulate::virtualenv_install(envname, c(spec, extra_packages),
                                   ignore_installed = FALSE,
                                   pip_options = pip_options),
    error = function(e) {
      stop("pip could not install ", spec, ": ", conditionMessage(e),
           if (is.null(package)) {
             paste0("\nWhere tfp_fastpixel is not on your pip index, give ",
                    "the path of a checkout: ",
                    "install_fastpixelcnn(\"path/to/tfp_fastpixel\")")
           }, call. = FALSE)
    })
  python_path <- reticulate::virtualenv_python(envname)
  message("Installed ", spec, " into the virtualenv '", envname, "' (",
          python_path, ").\n",
          if (identical(envname, .fp_default_env)) {
            "fastpixelcnn uses it by default in new R sessions."
          } else {
            paste0("To use it, start a new R session with ",
                   "Sys.setenv(RETICULATE_PYTHON = \"", python_path, "\").")
          })
  invisible(python_path)
}

# What pip installs for `package`: by default the Python package of this
# package's version; else a checkout's absolute path, or a pip specifier (a
# name with a version, a wheel, a git+ URL).
.fp_pip_spec <- function(package) {
  if (is.null(package)) {
    return(paste0("tfp_fastpixel==", utils::packageVersion("fastpixelcnn")))
  }
  if (!is.character(package) || length(package) != 1 ||
        is.na(package) || !nzchar(package)) {
    stop("`package` must be NULL or one string: the path of a tfp_fastpixel checkout ",
         "(the folder with pyproject.toml) or a pip specifier such as ",
         "\"tfp_fastpixel==1.0.0\"", call. = FALSE)
  }
  if (dir.exists(package)) {
    path <- normalizePath(package, mustWork = TRUE)
    if (!file.exists(file.path(path, "pyproject.toml")) &&
          !file.exists(file.path(path, "setup.py"))) {
      stop("`package`: the folder ", path, " holds no pyproject.toml or ",
           "setup.py; give the root of a tfp_fastpixel checkout",
           call. = FALSE)
    }
    return(path)
  }
  if (grepl("^[.~]|[/\\\\]", package) && !grepl("://|^git\\+", package) &&
        !grepl("[.](whl|tar[.]gz|zip)$", package)) {
    stop("`package`: no folder ", package, " (looks like a path; give the ",
         "root of a tfp_fastpixel checkout)", call. = FALSE)
  }
  if (file.exists(package)) return(normalizePath(package, mustWork = TRUE))
  package
}
