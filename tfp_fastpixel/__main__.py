"""`python -m tfp_fastpixel ...` (and the `tfp-fastpixel` console script)."""

import sys


def main(argv=None) -> int:
  from tfp_fastpixel import cli

  return cli.main(argv)


if __name__ == "__main__":
  sys.exit(main())
