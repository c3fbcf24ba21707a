"""Large sampling jobs: shards written atomically, resumed after a crash.

`sample_shards(dist, spec, out_dir, n, shard_size, ...)` draws `n` images
into `out_dir/shard_00000.npz`, `shard_00001.npz`, ... (uint8 `images`
`[m, H, W, C]` and int `labels` `[m]`, -1 when unconditional). Each shard is
written to a temporary file and renamed, so a shard file is always whole;
re-running the same job skips the shards that exist, and a crash loses at
most the shard in flight. Shard k draws with the stateless seed
`[seed, k]`, so a re-run reproduces the same images. `manifest.json` holds
what the shards depend on (model config, seed, counts, labels, replicas);
a directory made by a different job is refused.

Each shard's batch is split over the replicas of a `tf.distribute` strategy
(every local device by default), each replica drawing its part with its own
seed; with more than one replica the generator takes the graph path.
"""

import json
import os
import time

import numpy as np
import tensorflow as tf
import tf_keras

from tfp_fastpixel import _execution
from tfp_fastpixel import grid

MANIFEST = "manifest.json"
# What must match for a directory's shards to belong to this job.
_JOB_KEYS = ("model", "data", "seed", "n", "shard_size", "labels", "replicas")


def shard_path(out_dir, index):
  return os.path.join(out_dir, f"shard_{index:05d}.npz")


def _check_manifest(out_dir, job):
  path = os.path.join(out_dir, MANIFEST)
  if not os.path.exists(path):
    if any(f.startswith("shard_") for f in os.listdir(out_dir)):
      raise ValueError(
          f"--out_dir: {out_dir!r} holds shards but no {MANIFEST}; use a new "
          "directory"
      )
    return
  with open(path) as f:
    stored = json.load(f)
  different = [k for k in _JOB_KEYS if stored.get(k) != job[k]]
  if different:
    raise ValueError(
        f"--out_dir: {out_dir!r} holds shards of a different job (its "
        f"{', '.join(different)} differ: "
        + "; ".join(f"{k} {stored.get(k)!r} != {job[k]!r}" for k in different)
        + "); use a new directory or the same arguments"
    )


def _write_json(path, obj):
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(obj, f, indent=2)
  os.replace(tmp, path)


def _write_shard(path, images, labels):
  tmp = path + ".tmp.npz"  # np.savez keeps a name that ends in .npz
  np.savez(tmp, images=images, labels=labels)
  os.replace(tmp, path)


def sample_shards(
    dist,
    spec,
    out_dir: str,
    n: int,
    shard_size: int = 1000,
    class_ids=None,
    seed: int = 0,
    config: dict = None,
    strategy: tf.distribute.Strategy = None,
    verbose: bool = True,
) -> dict:
  """Draws `n` images into shards in `out_dir`; returns the manifest.

  Args:
    dist: a `FastPixelCNN`.
    spec: the run's `data.DatasetSpec` (range, labels).
    out_dir: where the shards go (created if missing).
    n: images in all (> 0).
    shard_size: images per shard (> 0); the last shard may be smaller.
    class_ids: labels to cycle through (image i gets
      `class_ids[i % len(class_ids)]`); None for unconditional runs.
    seed: the base seed; shard k uses the stateless seed `[seed, k]`.
    config: the run's config (stored in the manifest).
    strategy: splits each shard's batch over its replicas; default a
      `MirroredStrategy` over every local device.
    verbose: a progress bar over shards, with images per second.
  """
  for name, value in (("n", n), ("shard_size", shard_size)):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
      raise ValueError(f"--{name}: expected a positive integer, got {value!r}")
  strategy = strategy or tf.distribute.MirroredStrategy()
  replicas = strategy.num_replicas_in_sync
  os.makedirs(out_dir, exist_ok=True)
  job = dict(
      model=(config or {}).get("model"),
      data=(config or {}).get("data"),
      seed=int(seed),
      n=int(n),
      shard_size=int(shard_size),
      labels=None if class_ids is None else [int(c) for c in class_ids],
      replicas=replicas,
  )
  _check_manifest(out_dir, job)
  num_shards = -(-n // shard_size)
  manifest = dict(job, num_shards=num_shards, complete=False)
  _write_json(os.path.join(out_dir, MANIFEST), manifest)

  draw = _replica_sampler(dist, strategy)
  bar = (
      tf_keras.utils.Progbar(num_shards, unit_name="shard") if verbose else None
  )
  drawn, start, done = 0, time.time(), 0
  for k in range(num_shards):
    size = min(shard_size, n - k * shard_size)
    path = shard_path(out_dir, k)
    if not os.path.exists(path):
      first = k * shard_size
      labels = (
          np.full([size], -1, np.int64)
          if class_ids is None
          else np.array(
              [
                  class_ids[i % len(class_ids)]
                  for i in range(first, first + size)
              ]
          )
      )
      cond = None if class_ids is None else spec.conditional_input(labels)
      images = draw(size, [seed, k], cond)
      _write_shard(path, grid.to_uint8(images, spec.low, spec.high), labels)
      drawn += size
    done += 1
    if bar is not None:
      rate = drawn / max(time.time() - start, 1e-9)
      bar.update(done, values=[("images/s", rate)], finalize=done == num_shards)
  seconds = time.time() - start
  manifest.update(
      complete=True,
      drawn_this_run=drawn,
      seconds_this_run=round(seconds, 3),
      images_per_second=round(drawn / seconds, 3) if drawn else None,
      finished=time.strftime("%Y-%m-%dT%H:%M:%S"),
  )
  _write_json(os.path.join(out_dir, MANIFEST), manifest)
  return manifest


def _replica_sampler(dist, strategy):
  """`draw(size, seed, cond)`: one shard, its batch split over replicas.

  Replica r draws its contiguous slice of the shard with the stateless seed
  `[seed[0], seed[1] * replicas + r]`.
  """
  replicas = strategy.num_replicas_in_sync
  # XLA cannot read a variable that lives on another device, so several
  # replicas take the graph path (which reads the weights once per call).
  generate = _execution.traced_generator(
      dist, xla=None if replicas == 1 else False
  )
  h, w, c = dist.image_shape.as_list()

  def replica_fn(n, seed, *cond):
    r = tf.distribute.get_replica_context().replica_id_in_sync_group
    seed = tf.stack([seed[0], seed[1] * replicas + r])
    return generate(
        n, *cond, seed, tf.zeros([n, h, w, c], dist.dtype), tf.constant(0)
    )

  @tf.function(autograph=False)
  def step(parts, seed, conds):
    return strategy.run(replica_fn, args=(parts, seed, *conds))

  def draw(size, seed, cond):
    sizes = [size // replicas + (r < size % replicas) for r in range(replicas)]
    offsets = np.cumsum([0] + sizes)
    parts = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(sizes[ctx.replica_id_in_sync_group])
    )
    conds = []
    if cond is not None:
      flat = tf.reshape(tf.cast(cond, dist.dtype), [size, -1])
      conds = [
          strategy.experimental_distribute_values_from_function(
              lambda ctx: flat[
                  offsets[ctx.replica_id_in_sync_group] : offsets[
                      ctx.replica_id_in_sync_group + 1
                  ]
              ]
          )
      ]
    out = step(parts, tf.constant(seed, tf.int32), conds)
    return np.concatenate(
        [t.numpy() for t in strategy.experimental_local_results(out)]
    )

  return draw
