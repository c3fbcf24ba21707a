"""`train`: train (or resume) a FastPixelCNN on a data set into a run dir,
then print its held-out bits/dim."""

import os
import time

from tfp_fastpixel.cli import UsageError
from tfp_fastpixel.cli import flags
from tfp_fastpixel.cli import run_data


def add_parser(sub):
  p = sub.add_parser("train", help="train or resume a run")
  flags.add_data_flags(p)
  flags.add_model_flags(p)
  flags.add_train_flags(p)
  p.add_argument("--out", required=True, help="run directory")
  p.add_argument(
      "--resume",
      action="store_true",
      help="continue --out with its stored data/model config "
      "(data and model flags are ignored)",
  )


def run(args):
  result = run_training(args, flags.data_config(args), resume=args.resume)
  bpd = run_data.bits_per_dim(result.dist, args.out)
  print(f"held-out bits/dim: {bpd:.4f}")
  return 1 if result.stopped_on_nan else 0


def run_training(args, data_config, resume=False):
  """`tfp_fastpixel.train.train` with the training and model flags of
  `args` into `args.out`; prints the strategy and the time taken."""
  import tensorflow as tf

  from tfp_fastpixel import train as train_lib

  strategy = None
  if args.strategy == "multiworker":
    if "TF_CONFIG" not in os.environ:
      raise UsageError(
          "--strategy multiworker: set TF_CONFIG for each worker (see the "
          "README's section on running across machines)"
      )
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
  elif args.strategy == "mirrored":
    strategy = tf.distribute.MirroredStrategy()
  if strategy is not None:
    print(
        f"{type(strategy).__name__} over {strategy.num_replicas_in_sync} "
        "replicas",
        flush=True,
    )
  start = time.time()
  if resume and not os.path.exists(
      os.path.join(args.out, train_lib.CONFIG_FILE)
  ):
    raise UsageError(f"--resume: {args.out!r} holds no run to resume")
  result = train_lib.train(
      args.out,
      None if resume else data_config,
      None if resume else flags.model_kwargs(args),
      epochs=args.epochs,
      batch_size=args.batch_size,
      learning_rate=args.learning_rate,
      strategy=strategy,
      verbose=args.verbose,
      time_budget=args.time_budget,
      seed=args.seed,
  )
  print(
      f"trained to epoch {result.epoch} in {time.time() - start:.1f} s"
      + (
          " (stopped on NaN; kept the last good checkpoint)"
          if result.stopped_on_nan
          else ""
      )
  )
  return result
