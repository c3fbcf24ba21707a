"""One definition of the model arguments: FastPixelCNN's signature, one
validator, and every way of building a model agreeing with both."""

import inspect
import os
import re

import pytest
import tensorflow as tf

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import arguments
from tfp_fastpixel import cli
from tfp_fastpixel import train as train_lib
from tfp_fastpixel.cli import flags as cli_flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_defaults_are_read_from_the_signature():
  params = inspect.signature(FastPixelCNN.__init__).parameters
  expected = {
      n: (p.default.name if isinstance(p.default, tf.DType) else p.default)
      for n, p in params.items()
      if n != "self" and p.default is not inspect.Parameter.empty
  }
  assert arguments.model_defaults() == expected
  assert arguments.required_arguments() == ("image_shape",)
  assert expected["name"] == "FastPixelCNN"


def _r_signature():
  with open(os.path.join(ROOT, "r", "R", "distribution.R")) as f:
    text = f.read()
  body = re.search(
      r"tfd_fast_pixel_cnn <- function\((.*?)\) \{", text, re.S
  ).group(1)
  out = {}
  for part in re.split(r",\s*\n", body):
    name, _, default = part.strip().partition(" = ")
    out[name] = default.strip() or None
  return out


def _r_literal(python_value):
  if python_value is None:
    return "NULL"
  if isinstance(python_value, bool):
    return "TRUE" if python_value else "FALSE"
  if isinstance(python_value, str):
    return f'"{python_value}"'
  if isinstance(python_value, tuple):
    return "c(" + ", ".join(map(str, python_value)) + ")"
  return repr(python_value)


def test_r_wrapper_has_the_same_arguments_and_defaults():
  r = _r_signature()
  python = arguments.model_defaults()
  assert list(r) == list(arguments.required_arguments()) + list(python)
  assert r["image_shape"] is None  # required in both
  for name, value in python.items():
    assert r[name] == _r_literal(value), name


def test_r_package_version_is_the_python_version():
  with open(os.path.join(ROOT, "pyproject.toml")) as f:
    python = re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)
  with open(os.path.join(ROOT, "r", "DESCRIPTION")) as f:
    r = re.search(r"^Version: (\S+)$", f.read(), re.M).group(1)
  assert r == python


# (argument, bad value, CLI flag value or None, expected exception type)
BAD = [
    ("num_filters", 0, "0", ValueError),
    ("num_filters", 8.5, "8.5", TypeError),
    ("num_resnet", True, None, TypeError),
    ("dropout_p", 1.0, "1.0", ValueError),
    ("receptive_field_dims", (3, 2), ["3", "2"], ValueError),
    ("resnet_activation", "tanh", "tanh", ValueError),
    ("num_hierarchies", 5, "5", ValueError),  # 8x8 digits: 8 % 2**4 != 0
    ("use_weight_norm", 1, None, TypeError),
    ("dtype", "int32", None, TypeError),
]


@pytest.mark.parametrize(
    "name, value, flag, error", BAD, ids=[f"{b[0]}={b[1]}" for b in BAD]
)
def test_every_way_rejects_the_same_values(
    name, value, flag, error, tmp_path, capsys
):
  base = dict(image_shape=(8, 8, 1), num_filters=4, num_resnet=1)
  with pytest.raises(error, match=name):
    FastPixelCNN(**dict(base, **{name: value}))
  with pytest.raises(error, match=name):
    train_lib.model_config(**dict(base, **{name: value}))
  if flag is not None:  # the CLI
    run = str(tmp_path / "run")
    argv = [
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "1",
        "--out",
        run,
        f"--{name}",
    ] + ([flag] if isinstance(flag, str) else flag)
    try:
      status = cli.main(argv)
    except SystemExit as e:  # argparse's own type check (e.g. 8.5 for int)
      status = e.code
    assert status == 2
    assert name in capsys.readouterr().err
    assert not os.path.exists(os.path.join(run, "checkpoints"))


def test_every_way_accepts_r_doubles_and_stores_ints():
  cfg = train_lib.model_config(
      image_shape=(8.0, 8.0, 1.0),
      num_filters=4.0,
      num_resnet=1.0,
      receptive_field_dims=(3.0, 3.0),
  )
  assert cfg["num_filters"] == 4 and isinstance(cfg["num_filters"], int)
  assert cfg["image_shape"] == [8, 8, 1]
  assert cfg["name"] == "FastPixelCNN" and "jit_compile" not in cfg
  dist = train_lib.make_distribution(cfg)
  assert dist.parameters["num_filters"] == 4


def test_cli_flags_follow_the_signature():
  parser = cli.build_parser()
  args = parser.parse_args(["train", "--out", "x"])
  kwargs = cli_flags.model_kwargs(args)
  defaults = arguments.model_defaults()
  for name, value in kwargs.items():
    expected = cli_flags.CLI_MODEL_DEFAULTS.get(name, defaults[name])
    assert value == (
        list(expected) if isinstance(expected, tuple) else expected
    ), name
  assert set(kwargs) == set(defaults) - {
      "conditional_shape",
      "high",
      "low",
      "dtype",
      "jit_compile",
  }
