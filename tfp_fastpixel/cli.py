"""Command line: `python -m tfp_fastpixel train|sample|evaluate|demo ...`.

  train     train (or resume) a FastPixelCNN on a dataset into a run dir
  sample    write a PNG grid of samples from a run dir (--compare: real over
            generated, per class) and print the sampling time
  evaluate  print bits/dim of a run on its train or held-out split
  demo      offline end-to-end job on `digits`: train a small conditional
            model, print held-out bits/dim, write real-vs-generated PNGs per
            class, and measure FastPixelCNN's sampling speed against TFP's
"""
import argparse
import json
import os
import sys
import time

import numpy as np

# Model flags are named after the FastPixelCNN constructor arguments. Defaults
# are the small model of TFP's PixelCNN docstring, not TFP's (160 filters),
# so that a CPU run finishes.
_MODEL_FLAGS = dict(num_resnet=1, num_hierarchies=2, num_filters=32,
                    num_logistic_mix=5, dropout_p=0.3)


def _add_model_flags(p, defaults=None):
  d = dict(_MODEL_FLAGS, **(defaults or {}))
  g = p.add_argument_group("model (FastPixelCNN constructor arguments)")
  g.add_argument("--num_resnet", type=int, default=d["num_resnet"])
  g.add_argument("--num_hierarchies", type=int, default=d["num_hierarchies"])
  g.add_argument("--num_filters", type=int, default=d["num_filters"])
  g.add_argument("--num_logistic_mix", type=int, default=d["num_logistic_mix"])
  g.add_argument("--receptive_field_dims", type=int, nargs=2, default=[3, 3],
                 metavar=("H", "W"))
  g.add_argument("--dropout_p", type=float, default=d["dropout_p"])
  g.add_argument("--resnet_activation", default="concat_elu",
                 choices=["concat_elu", "elu", "relu"])
  g.add_argument("--use_weight_norm", action=argparse.BooleanOptionalAction,
                 default=True)
  g.add_argument("--use_data_init", action=argparse.BooleanOptionalAction,
                 default=True)
  g.add_argument("--name", default="PixelCNN")


def _add_data_flags(p, dataset="digits"):
  g = p.add_argument_group("data")
  g.add_argument("--dataset", default=dataset,
                 help="digits (offline), cifar10, quickdraw or folder")
  g.add_argument("--data_dir", default=None,
                 help="tfds data dir; the image root for --dataset folder")
  g.add_argument("--classes", nargs="+", default=None,
                 help="class names or ids to keep ('post': the post's 20 "
                      "QuickDraw classes); quote names with spaces")
  g.add_argument("--take", type=int, default=None,
                 help="use only the first N examples (the post's train[:N])")
  g.add_argument("--labels", default="scalar",
                 choices=["scalar", "onehot", "none"],
                 help="conditional input: class id, one-hot, or none "
                      "(unconditional)")
  g.add_argument("--heldout_fraction", type=float, default=0.1)
  g.add_argument("--image_size", type=int, nargs=2, default=None,
                 metavar=("H", "W"), help="resize folder images")
  g.add_argument("--channels", type=int, default=3, choices=[1, 3],
                 help="channels of folder images")


def _add_train_flags(p, epochs=10):
  g = p.add_argument_group("training")
  g.add_argument("--epochs", type=int, default=epochs,
                 help="total epochs of the run (resuming counts earlier ones)")
  g.add_argument("--batch_size", type=int, default=32)
  g.add_argument("--learning_rate", type=float, default=1e-3)
  g.add_argument("--seed", type=int, default=0)
  g.add_argument("--time_budget", type=float, default=None,
                 help="seconds; stop after the epoch that exceeds it")
  g.add_argument("--distribute", action="store_true",
                 help="train under tf.distribute.MirroredStrategy")
  g.add_argument("--cpu_devices", type=int, default=None,
                 help="split the CPU into this many logical devices (to try "
                      "--distribute without GPUs)")
  g.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog="python -m tfp_fastpixel",
      description="Train tfd.PixelCNN models with Keras and sample them fast.")
  sub = parser.add_subparsers(dest="command", required=True)

  p = sub.add_parser("train", help="train or resume a run")
  _add_data_flags(p)
  _add_model_flags(p)
  _add_train_flags(p)
  p.add_argument("--out", required=True, help="run directory")
  p.add_argument("--resume", action="store_true",
                 help="continue --out with its stored data/model config "
                      "(data and model flags are ignored)")

  p = sub.add_parser("sample", help="write a PNG grid of samples")
  p.add_argument("--run", required=True, help="run directory")
  p.add_argument("--n", type=int, default=8, help="samples per class")
  p.add_argument("--label", nargs="+", default=None,
                 help="class name(s) or id(s); default: every class")
  p.add_argument("--out", required=True, help="PNG file")
  p.add_argument("--compare", action="store_true",
                 help="real images (top row) over generated ones, per class")
  p.add_argument("--baseline", action="store_true",
                 help="also time TFP's own sampler on the same weights")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--zoom", type=int, default=None,
                 help="upscaling per tile (default: tiles about 64 px)")

  p = sub.add_parser("evaluate", help="print bits/dim of a run")
  p.add_argument("--run", required=True)
  p.add_argument("--split", default="test", choices=["train", "test"])

  p = sub.add_parser("demo", help="offline end-to-end job on digits")
  p.add_argument("--out", default="runs/digits", help="run directory")
  p.add_argument("--labels", default="onehot", choices=["scalar", "onehot"])
  p.add_argument("--n", type=int, default=8, help="samples per class")
  # Held-out bits/dim on digits bottoms out after ~15-20 epochs of this model
  # (1,617 training images); the time budget keeps slow machines near 3 min.
  _add_model_flags(p, dict(num_resnet=2, num_hierarchies=2, num_filters=32,
                           num_logistic_mix=5, dropout_p=0.3))
  _add_train_flags(p, epochs=20)
  p.set_defaults(time_budget=180.0, batch_size=32, learning_rate=2e-3)
  return parser


def main(argv=None) -> int:
  args = build_parser().parse_args(argv)
  if getattr(args, "cpu_devices", None):
    _split_cpu(args.cpu_devices)
  return {"train": _train, "sample": _sample, "evaluate": _evaluate,
          "demo": _demo}[args.command](args)


# ---------------------------------------------------------------------------
# Subcommands.


def _split_cpu(n):
  import tensorflow as tf
  if n < 1:
    raise ValueError(f"--cpu_devices: expected >= 1, got {n}")
  cpu = tf.config.list_physical_devices("CPU")[0]
  try:
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * n)
  except RuntimeError as e:  # TF already initialized its devices.
    raise RuntimeError(f"--cpu_devices must be set before TF starts: {e}")


def _data_config(args):
  cfg = dict(name=args.dataset,
             labels=None if args.labels == "none" else args.labels,
             heldout_fraction=args.heldout_fraction)
  for key in ("data_dir", "classes", "take", "image_size"):
    if getattr(args, key) is not None:
      cfg[key] = getattr(args, key)
  if args.dataset == "folder":
    cfg["channels"] = args.channels
  if cfg.get("classes") == ["post"]:
    cfg["classes"] = "post"
  return cfg


def _model_kwargs(args):
  return dict(num_resnet=args.num_resnet, num_hierarchies=args.num_hierarchies,
              num_filters=args.num_filters,
              num_logistic_mix=args.num_logistic_mix,
              receptive_field_dims=list(args.receptive_field_dims),
              dropout_p=args.dropout_p,
              resnet_activation=args.resnet_activation,
              use_weight_norm=args.use_weight_norm,
              use_data_init=args.use_data_init, name=args.name)


def _run_training(args, data_config, resume=False):
  import tensorflow as tf
  from tfp_fastpixel import train as train_lib
  strategy = tf.distribute.MirroredStrategy() if args.distribute else None
  if strategy is not None:
    print(f"MirroredStrategy over {strategy.num_replicas_in_sync} replicas")
  start = time.time()
  if resume and not os.path.exists(os.path.join(args.out,
                                                train_lib.CONFIG_FILE)):
    raise ValueError(f"--resume: {args.out!r} holds no run to resume")
  result = train_lib.train(
      args.out, None if resume else data_config,
      None if resume else _model_kwargs(args), epochs=args.epochs,
      batch_size=args.batch_size, learning_rate=args.learning_rate,
      strategy=strategy, verbose=args.verbose, time_budget=args.time_budget,
      seed=args.seed)
  print(f"trained to epoch {result.epoch} in {time.time() - start:.1f} s"
        + (" (stopped on NaN; kept the last good checkpoint)"
           if result.stopped_on_nan else ""))
  return result


def _train(args):
  result = _run_training(args, _data_config(args), resume=args.resume)
  bpd = _heldout_bits_per_dim(result.dist, args.out)
  print(f"held-out bits/dim: {bpd:.4f}")
  return 1 if result.stopped_on_nan else 0


def _heldout_bits_per_dim(dist, run_dir, split="test"):
  from tfp_fastpixel import data as data_lib
  from tfp_fastpixel import train as train_lib
  config = train_lib.read_config(run_dir)
  dcfg = dict(config["data"])
  ds = data_lib.load(dcfg.pop("name"), split, batch_size=256, shuffle=False,
                     **dcfg)
  return train_lib.evaluate_bits_per_dim(dist, ds)


def _evaluate(args):
  from tfp_fastpixel import train as train_lib
  dist, _ = train_lib.load_distribution(args.run)
  bpd = _heldout_bits_per_dim(dist, args.run, args.split)
  print(f"{args.split} bits/dim: {bpd:.4f}")
  return 0


def _spec(config):
  from tfp_fastpixel import data as data_lib
  d = config["data"]
  return data_lib.describe(d["name"], d.get("classes"), d.get("labels"),
                           d.get("data_dir"), d.get("image_size"),
                           d.get("channels", 3))


def _real_images(config, class_ids, n):
  """First `n` held-out images per class (train ones where test runs out).

  Returns: float32 `[G, n, H, W, C]` (`G = len(class_ids)`, or 1 with
  `class_ids=None` for unconditional runs).
  """
  from tfp_fastpixel import data as data_lib
  dcfg = dict(config["data"])
  name = dcfg.pop("name")
  groups = []
  for cid in (class_ids if class_ids is not None else [None]):
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
      raise ValueError(f"--n: only {len(images)} real images of class {cid}")
    groups.append(np.stack(images[:n]))
  return np.stack(groups)


def sample_grid(dist, spec, class_ids, n, seed=0):
  """Samples `n` images per class with `dist.sample`, timed.

  Returns:
    `(samples [G, n, H, W, C], seconds)`.
  """
  import tensorflow as tf
  if class_ids is None:  # Unconditional.
    start = time.time()
    samples = dist.sample(n, seed=seed)
    samples = tf.convert_to_tensor(samples).numpy()
    return samples[None], time.time() - start
  cond = spec.conditional_input(np.repeat(class_ids, n))
  start = time.time()
  samples = dist.sample(len(cond), conditional_input=cond, seed=seed)
  samples = tf.convert_to_tensor(samples).numpy()
  seconds = time.time() - start
  return samples.reshape((len(class_ids), n) + samples.shape[1:]), seconds


def tfp_sample_seconds(dist, spec, class_ids, n, seed=0):
  """Seconds TFP's own sampler (`tfd.PixelCNN._sample_n`, eager, one network
  call per pixel) takes for the same request on the same weights."""
  import tensorflow as tf
  import tensorflow_probability as tfp
  kwargs = {}
  total = n
  if class_ids is not None:
    kwargs["conditional_input"] = spec.conditional_input(np.repeat(class_ids, n))
    total = len(kwargs["conditional_input"])
  start = time.time()
  out = tfp.distributions.PixelCNN._sample_n(dist, total, seed=seed, **kwargs)
  tf.convert_to_tensor(out).numpy()
  return time.time() - start


def _class_ids(spec, labels):
  if spec.labels is None:
    if labels:
      raise ValueError("--label: this run is unconditional")
    return None
  ids = spec.resolve(labels) if labels else spec.classes
  unknown = sorted(set(ids) - set(spec.classes))
  if unknown:
    raise ValueError(f"--label: classes {unknown} were not trained on "
                     f"(run classes: {list(spec.classes)})")
  return list(ids)


def _zoom(spec, zoom):
  return zoom or max(1, 64 // max(spec.image_shape[:2]))


def _sample(args):
  from tfp_fastpixel import grid
  from tfp_fastpixel import train as train_lib
  if args.n < 1:
    raise ValueError(f"--n: expected >= 1, got {args.n}")
  dist, config = train_lib.load_distribution(args.run)
  spec = _spec(config)
  class_ids = _class_ids(spec, args.label)
  samples, seconds = sample_grid(dist, spec, class_ids, args.n, args.seed)
  print(f"sampled {samples.shape[0] * samples.shape[1]} images of shape "
        f"{list(spec.image_shape)} in {seconds:.2f} s")
  if args.compare:
    real = _real_images(config, class_ids, args.n)
    image = grid.compare_grid(real, samples, spec.low, spec.high,
                              zoom=_zoom(spec, args.zoom))
  else:
    image = grid.make_grid(grid.to_uint8(samples, spec.low, spec.high),
                           zoom=_zoom(spec, args.zoom))
  grid.write_png(args.out, image)
  print(f"wrote {args.out}")
  if args.baseline:
    _print_speedup(dist, spec, class_ids, args.n, args.seed, seconds)
  return 0


def _print_speedup(dist, spec, class_ids, n, seed, first_seconds):
  _, warm = sample_grid(dist, spec, class_ids, n, seed + 1)
  tfp_seconds = tfp_sample_seconds(dist, spec, class_ids, n, seed)
  total = n * (len(class_ids) if class_ids is not None else 1)
  print(f"sampling {total} images, measured on this machine:\n"
        f"  FastPixelCNN.sample:        {warm:.2f} s "
        f"(first call, with tracing: {first_seconds:.2f} s)\n"
        f"  TFP PixelCNN._sample_n:     {tfp_seconds:.2f} s\n"
        f"  speedup: {tfp_seconds / warm:.1f}x "
        f"({tfp_seconds / first_seconds:.1f}x counting tracing)")
  return tfp_seconds / warm


def _demo(args):
  """Offline end-to-end job: digits, conditional, a few minutes on a CPU."""
  from tfp_fastpixel import grid
  start = time.time()
  args.dataset = "digits"
  data_config = dict(name="digits", labels=args.labels)
  result = _run_training(args, data_config)
  bpd = _heldout_bits_per_dim(result.dist, args.out)
  print(f"held-out bits/dim: {bpd:.4f}")

  from tfp_fastpixel import train as train_lib
  spec = _spec(train_lib.read_config(args.out))
  class_ids = list(spec.classes)
  samples, seconds = sample_grid(result.dist, spec, class_ids, args.n,
                                 args.seed)
  real = _real_images(train_lib.read_config(args.out), class_ids, args.n)
  zoom = _zoom(spec, None)
  paths = []
  for g, cid in enumerate(class_ids):
    paths.append(grid.write_png(
        os.path.join(args.out, f"compare_{spec.class_names[cid]}.png"),
        grid.compare_grid(real[g], samples[g], spec.low, spec.high, zoom)))
  grid.write_png(os.path.join(args.out, "compare_all.png"),
                 grid.compare_grid(real, samples, spec.low, spec.high, zoom))
  print(f"wrote {len(paths)} real-vs-generated PNGs (real top row, generated "
        f"bottom row) and compare_all.png to {args.out}")
  speedup = _print_speedup(result.dist, spec, class_ids, args.n, args.seed,
                           seconds)
  summary = dict(heldout_bits_per_dim=bpd, epochs=result.epoch,
                 speedup_vs_tfp=speedup, wall_seconds=time.time() - start)
  with open(os.path.join(args.out, "demo.json"), "w") as f:
    json.dump(summary, f, indent=2)
  print(f"demo done in {summary['wall_seconds']:.0f} s")
  return 0


if __name__ == "__main__":
  sys.exit(main())
