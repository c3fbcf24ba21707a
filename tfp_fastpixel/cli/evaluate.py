"""`evaluate`: print the bits/dim of a run on its train or held-out split."""

from tfp_fastpixel.cli import run_data


def add_parser(sub):
  p = sub.add_parser("evaluate", help="print bits/dim of a run")
  p.add_argument("--run", required=True)
  p.add_argument("--split", default="test", choices=["train", "test"])


def run(args):
  from tfp_fastpixel import train as train_lib

  dist, _ = train_lib.load_distribution(args.run)
  bpd = run_data.bits_per_dim(dist, args.run, args.split)
  print(f"{args.split} bits/dim: {bpd:.4f}")
  return 0
