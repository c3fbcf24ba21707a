"""Shared fixtures for the data / training / CLI tests (tiny models only)."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # Test this checkout, installed or not.
  sys.path.insert(0, ROOT)

# The smallest FastPixelCNN that still trains: keeps the 2-core CI fast.
TINY_MODEL = dict(num_resnet=1, num_hierarchies=1, num_filters=8,
                  num_logistic_mix=2, dropout_p=0.0)
TINY_FLAGS = ["--num_resnet", "1", "--num_hierarchies", "1", "--num_filters",
              "8", "--num_logistic_mix", "2", "--dropout_p", "0"]


@pytest.fixture(scope="session")
def tiny_model():
  """FastPixelCNN constructor kwargs of a tiny model (do not mutate)."""
  return dict(TINY_MODEL)


@pytest.fixture(scope="session")
def tiny_flags():
  """The same tiny model as CLI flags (do not mutate)."""
  return tuple(TINY_FLAGS)


@pytest.fixture
def subprocess_env():
  """Environment for `python -m tfp_fastpixel` child processes."""
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join(
      p for p in [ROOT, env.get("PYTHONPATH", "")] if p)
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  env.setdefault("CUDA_VISIBLE_DEVICES", "")
  return env
