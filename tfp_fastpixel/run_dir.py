"""A run directory's layout, and what can be read from it before TensorFlow
starts: its files, its checkpoint state and whether its export is current.

`train` writes the files named here (see `train` for what each one holds);
the CLI reads them to pick its path, and set the XLA cache, before it
imports TensorFlow. Only `ExportedSampler` needs TensorFlow, which it
imports when it is built.
"""

import os

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
HISTORY_FILE = "history.csv"
EXPORT_DIR = "export"  # the run's SavedModel (`python -m tfp_fastpixel export`)
EXPORT_STAMP = "checkpoint.txt"  # the checkpoint index the export was made from


def check(run_dir: str, argument: str = "run_dir") -> None:
  """Raises `ValueError`, naming `argument`, unless `run_dir` holds a run.

  Args:
    run_dir: a path that should be a directory written by `train`.
    argument: the name the error message gives the path (the CLI passes
      its flag, `--run`).
  """
  if not os.path.isdir(run_dir):
    raise ValueError(f"{argument}: {run_dir!r} is not a directory")
  if not os.path.exists(os.path.join(run_dir, CONFIG_FILE)):
    raise ValueError(
        f"{argument}: {run_dir!r} holds no run ({CONFIG_FILE} is missing)"
    )


def checkpoint_state(run_dir: str) -> str:
  """The run's checkpoint index file, as text ('' before the first one).

  Read without TensorFlow, so that a caller can pick its path (and set the
  XLA cache) before TensorFlow starts.
  """
  path = os.path.join(run_dir, CHECKPOINT_DIR, "checkpoint")
  if not os.path.exists(path):
    return ""
  with open(path) as f:
    return f.read()


def write_export_stamp(export_dir: str, run_dir: str) -> None:
  """Records in `export_dir` which checkpoint of `run_dir` it was made from."""
  with open(os.path.join(export_dir, EXPORT_STAMP), "w") as f:
    f.write(checkpoint_state(run_dir))


def is_export(path: str) -> bool:
  """Whether `path` holds an export stamped by `write_export_stamp`."""
  return os.path.exists(os.path.join(path, EXPORT_STAMP))


def current_export(run_dir: str):
  """RUN_DIR/export if it was made from the run's latest checkpoint, else
  None."""
  path = os.path.join(run_dir, EXPORT_DIR)
  if not is_export(path):
    return None
  with open(os.path.join(path, EXPORT_STAMP)) as f:
    made_from = f.read()
  state = checkpoint_state(run_dir)
  return path if state and made_from == state else None


def use_xla_cache(export_dir: str) -> None:
  """Keeps XLA's compilations next to an export, so later runs reuse them.

  Sets `TF_XLA_FLAGS`, so it must run before TensorFlow starts; a cache
  directory the user set is kept.
  """
  flags = os.environ.get("TF_XLA_FLAGS", "")
  if "tf_xla_persistent_cache_directory" not in flags:
    cache = os.path.join(export_dir, "xla_cache")
    os.environ["TF_XLA_FLAGS"] = (
        f"{flags} --tf_xla_persistent_cache_directory={cache}".strip()
    )


class ExportedSampler:
  """`sample(n, seed=, conditional_input=)` through a run's SavedModel.

  A seed gives the live model's images (both use `stateless_seed`).

  Args:
    path: a directory written by `tfp_fastpixel.export_saved_model`.
  """

  def __init__(self, path: str):
    import tensorflow as tf

    self.model = tf.saved_model.load(path)

  def sample(self, n, seed=0, conditional_input=None, progress=False):
    """`n` images `[n, H, W, C]`, as `FastPixelCNN.sample(n, seed=seed)`."""
    del progress  # one compiled call: no rows to report
    import tensorflow as tf

    from tfp_fastpixel.validation import stateless_seed

    kwargs = dict(n=tf.constant(n, tf.int32), seed=stateless_seed(seed))
    if conditional_input is not None:
      kwargs["conditional_input"] = tf.convert_to_tensor(
          conditional_input, tf.float32
      )
    return self.model.sample(**kwargs)
