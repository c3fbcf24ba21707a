"""Internal: every TensorFlow private API the package uses, in one place.

Each serves speed only, where no public API does; `tests/test_tf_compat.py`
pins the behaviour relied on, so that a TensorFlow upgrade that changes it
fails there first, and clearly.
"""

import contextlib

import tensorflow as tf
from tensorflow.python.eager import context

# Grappler passes that cost a new model's graph program seconds of its
# first call and buy no steady speed (docs/performance.md, "First call").
# The remapper, which fuses each matmul or convolution with its bias, stays
# on: without it QuickDraw's steady call was 19% slower.
_LEAN_OFF = (
    "constant_folding",
    "arithmetic_optimization",
    "dependency_optimization",
    "layout_optimizer",
    "shape_optimization",
    "loop_optimization",
    "function_optimization",
    "debug_stripper",
    "common_subgraph_elimination",
    "implementation_selector",
    "pin_to_host_optimization",
)


def call_options():
  """The serialized per-thread function-call options (None if TF has none)."""
  old = getattr(context.context(), "function_call_options", None)
  return None if old is None else old.config_proto_serialized


@contextlib.contextmanager
def graph_optimizer(off=False):
  """Eager tf.function calls on this thread run less of Grappler.

  Grappler rewrites a function's graph on its first call, twice over by
  default. By default the passes in `_LEAN_OFF` are off (the generator's
  graph program: about 13k ops in nested loop bodies, where most of that is
  wasted). `off=True`: Grappler is off altogether, for the small graphs
  around the XLA core that run once per `sample()` (reading and preparing
  the weights, the readiness check), which it only delays: 1.6 s of the
  QuickDraw model's first call, with the same steady time and draws.

  The options are TF's per-thread call options (`context.context()`,
  private), restored on exit: other threads and other calls keep theirs.
  Where TF has none, this does nothing.
  """
  ctx = context.context()
  old = getattr(ctx, "function_call_options", None)
  if old is None:
    yield
    return
  config = tf.compat.v1.ConfigProto()
  if old.config_proto_serialized:
    config.ParseFromString(old.config_proto_serialized)
  rewrite = config.graph_options.rewrite_options
  if off:
    rewrite.disable_meta_optimizer = True
  else:
    for name in _LEAN_OFF:
      setattr(rewrite, name, rewrite.OFF)
    rewrite.memory_optimization = rewrite.NO_MEM_OPT
    rewrite.meta_optimizer_iterations = rewrite.ONE
  ctx.function_call_options = context.FunctionCallOptions(
      executor_type=old.executor_type, config_proto=config
  )
  try:
    yield
  finally:
    ctx.function_call_options = old


def call_flat(concrete, tensors):
  """Calls a concrete function on its flat tensor arguments.

  Skips TF's Python binding and casting of each argument, which the
  compiled core's 160-600 arguments make worth skipping (6 ms of a 60 ms
  call on a small model). The tensors must already have the function's
  input types, in its flat order, without its captures.
  """
  return concrete._call_flat(tensors, concrete.captured_inputs)  # noqa: SLF001
