"""A run's data, as the commands use it: its classes, real images and
bits/dim.

Every function reads the run's stored data config (`config["data"]`), so a
command works on the data the run was trained on, whatever its flags.
"""

import numpy as np

from tfp_fastpixel.cli import UsageError


def spec(config):
  """The `tfp_fastpixel.data.DataSpec` of a run's `config.json` contents."""
  from tfp_fastpixel import data as data_lib

  d = config["data"]
  return data_lib.describe(
      d["name"],
      d.get("classes"),
      d.get("labels"),
      d.get("data_dir"),
      d.get("image_size"),
      d.get("channels", 3),
  )


def class_ids(spec, labels):
  """The class ids `--label` names (default: every class of the run), or
  None for an unconditional run."""
  if spec.labels is None:
    if labels:
      raise UsageError("--label: this run is unconditional")
    return None
  ids = spec.resolve(labels) if labels else spec.classes
  unknown = sorted(set(ids) - set(spec.classes))
  if unknown:
    raise UsageError(
        f"--label: classes {unknown} were not trained on "
        f"(run classes: {list(spec.classes)})"
    )
  return list(ids)


def real_images(config, class_ids, n):
  """First `n` held-out images per class (train ones where test runs out).

  Returns: float32 `[G, n, H, W, C]` (`G = len(class_ids)`, or 1 with
  `class_ids=None` for unconditional runs).
  """
  from tfp_fastpixel import data as data_lib

  dcfg = dict(config["data"])
  name = dcfg.pop("name")
  groups = []
  for cid in class_ids if class_ids is not None else [None]:
    cfg = dict(dcfg, labels=None)
    if cid is not None:
      cfg["classes"] = [int(cid)]
    images = []
    for split in ("test", "train"):
      ds = data_lib.load(name, split, batch_size=n, shuffle=False, **cfg)
      for (batch,) in ds:
        images.extend(batch.numpy())
        if len(images) >= n:
          break
      if len(images) >= n:
        break
    if len(images) < n:
      raise UsageError(f"--n: only {len(images)} real images of class {cid}")
    groups.append(np.stack(images[:n]))
  return np.stack(groups)


def bits_per_dim(dist, run_dir, split="test"):
  """Bits/dim of `dist` on the run's `split` ('train' or 'test')."""
  from tfp_fastpixel import data as data_lib
  from tfp_fastpixel import train as train_lib

  config = train_lib.read_config(run_dir)
  dcfg = dict(config["data"])
  ds = data_lib.load(
      dcfg.pop("name"), split, batch_size=256, shuffle=False, **dcfg
  )
  return train_lib.evaluate_bits_per_dim(dist, ds)
