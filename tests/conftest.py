"""Shared fixtures: tiny models, every image of a tiny shape, child-process
environments. The package is imported from its (editable) installation."""

import itertools
import os
import sys

import numpy as np
import pytest

# The saved tiny models of tests/data/ (see make_models.py there), for the
# tests' `import make_models`.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "data"))

# The smallest FastPixelCNN that still trains: keeps the 2-core CI fast.
TINY_MODEL = dict(
    num_resnet=1,
    num_hierarchies=1,
    num_filters=8,
    num_logistic_mix=2,
    dropout_p=0.0,
)


@pytest.fixture(scope="session")
def tiny_model():
  """FastPixelCNN constructor kwargs of a tiny model (do not mutate)."""
  return dict(TINY_MODEL)


@pytest.fixture(scope="session")
def tiny_flags():
  """The same tiny model as CLI flags."""
  return tuple(
      item
      for name, value in TINY_MODEL.items()
      for item in (f"--{name}", str(value))
  )


def every_image(image_shape, high):
  """Every image with values in {0..high}, `[(high+1)^(H*W*C), H, W, C]`,
  numbered row-major in base high+1 (so prefix-major in raster order)."""
  size = int(np.prod(image_shape))
  grid = np.array(list(itertools.product(range(high + 1), repeat=size)))
  return grid.reshape((-1,) + tuple(image_shape)).astype(np.float32)


@pytest.fixture(scope="session")
def all_images():
  """`all_images(image_shape, high)`: every image of a tiny shape."""
  return every_image


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, tiny_flags):
  """A one-epoch conditional digits run (classes 3 and 7), shared by the
  sampling tests; tests that change a run work on a copy."""
  from tfp_fastpixel import cli

  run = str(tmp_path_factory.mktemp("cli") / "run")
  argv = ["train", "--dataset", "digits", "--take", "96", "--epochs", "1"]
  argv += ["--classes", "3", "7", "--verbose", "0", "--out", run]
  assert cli.main(argv + list(tiny_flags)) == 0
  return run


@pytest.fixture
def subprocess_env():
  """Environment for child processes (`python -m tfp_fastpixel`, loaders)."""
  env = dict(os.environ)
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  env.setdefault("CUDA_VISIBLE_DEVICES", "")
  return env


# The modules whose tests take longest, longest first: pytest-xdist hands
# out tests in collection order, so starting these first keeps one worker
# from running a minute-long test alone at the end.
LONG_FIRST = (
    "test_multiworker.py",
    "test_graph_mode.py",
    "test_shards.py",
    "test_export.py",
    "test_teacher_forcing.py",
    "test_train.py",
)


def pytest_collection_modifyitems(items):
  order = {name: i for i, name in enumerate(LONG_FIRST)}
  items.sort(key=lambda item: order.get(item.path.name, len(order)))
