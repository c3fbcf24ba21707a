"""FastPixelCNN's constructor arguments: one definition, its signature.

The run-dir config (`train.model_config`), the CLI's model flags, the
examples and the R wrapper's test all take the argument names and defaults
from `model_defaults()`, which reads them from `FastPixelCNN.__init__`; one
validator (`validation.model_arguments`) checks the values for all of them.

The signature is read from the source with `ast` rather than by importing
the class, so that the CLI can build its flags, and answer `--help`,
without importing TensorFlow.
"""

import ast
import functools
import importlib.util
from typing import Any

_CLASS, _MODULE = "FastPixelCNN", "tfp_fastpixel.distribution"


def _value(node: ast.expr) -> Any:
  """A default's value; `tf.float32` (the one non-literal) as 'float32'."""
  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
    return node.attr
  return ast.literal_eval(node)


@functools.lru_cache(maxsize=None)
def _signature() -> tuple:
  with open(importlib.util.find_spec(_MODULE).origin, encoding="utf-8") as f:
    tree = ast.parse(f.read())
  cls = next(
      n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == _CLASS
  )
  init = next(
      n
      for n in cls.body
      if isinstance(n, ast.FunctionDef) and n.name == "__init__"
  )
  names = [a.arg for a in init.args.args[1:]]  # without self
  defaults = [_value(d) for d in init.args.defaults]
  required = names[: len(names) - len(defaults)]
  return tuple(required), tuple(zip(names[len(required) :], defaults))


def required_arguments() -> tuple:
  """Arguments without a default (`image_shape`)."""
  return _signature()[0]


def model_defaults() -> dict:
  """`{argument: default}` of `FastPixelCNN.__init__`, in signature order.

  dtypes are given by name ('float32'). Returns a new dict each call.
  """
  return dict(_signature()[1])


# Model properties, stored in a run's config; `jit_compile` only picks how
# `sample()` runs and is not part of a trained model.
SAMPLING_ONLY = ("jit_compile",)
