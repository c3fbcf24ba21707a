"""`python -m tfp_fastpixel`: train, sample (PNG grids, --compare), evaluate
and demo end to end on tiny digits models."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import cli
from tfp_fastpixel import grid


def _png(path):
  return tf.io.decode_png(tf.io.read_file(path)).numpy()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_flags):
  """A one-epoch conditional digits run, shared by the sampling tests."""
  run = str(tmp_path_factory.mktemp("cli") / "run")
  assert cli.main(["train", "--dataset", "digits", "--take", "96",
                   "--epochs", "1", "--classes", "3", "7", "--verbose", "0",
                   "--out", run] + list(tiny_flags)) == 0
  return run


def test_train_writes_run_dir_and_prints_bits_per_dim(trained_run, capsys):
  with open(os.path.join(trained_run, "config.json")) as f:
    config = json.load(f)
  assert config["data"]["classes"] == [3, 7]
  assert config["model"]["num_resnet"] == 1
  assert cli.main(["evaluate", "--run", trained_run]) == 0
  assert "test bits/dim:" in capsys.readouterr().out


def test_sample_writes_decodable_png_and_prints_time(trained_run, tmp_path,
                                                     capsys):
  out = str(tmp_path / "samples.png")
  assert cli.main(["sample", "--run", trained_run, "--n", "3", "--label", "7",
                   "--out", out, "--zoom", "2"]) == 0
  assert "sampled 3 images" in capsys.readouterr().out
  png = _png(out)
  # 1 row x 3 tiles of 16x16 (8x8 at zoom 2) with 1-pixel padding.
  assert png.shape == (1 * 17 + 1, 3 * 17 + 1, 1) and png.dtype == np.uint8


def test_sample_compare_puts_real_over_generated_per_class(trained_run,
                                                           tmp_path, capsys):
  out = str(tmp_path / "compare.png")
  assert cli.main(["sample", "--run", trained_run, "--n", "2", "--compare",
                   "--out", out, "--zoom", "1"]) == 0
  assert " s" in capsys.readouterr().out
  png = _png(out)
  # 2 classes x (real row, generated row) of 2 tiles, 3 pixels between classes.
  assert png.shape == (2 * (2 * 9 + 1) + 3, 2 * 9 + 1, 1)
  # The top-left tile is the first held-out "3", scaled from [0, 16].
  from tfp_fastpixel import data
  real = data.as_numpy(data.load("digits", "test", classes=[3], labels=None,
                                 batch_size=1, shuffle=False))[0]
  np.testing.assert_array_equal(png[1:9, 1:9], grid.to_uint8(real[0], 0, 16))


def test_sample_rejects_unknown_label_and_run(trained_run, tmp_path):
  with pytest.raises(ValueError, match="--label"):
    cli.main(["sample", "--run", trained_run, "--label", "5", "--out",
              str(tmp_path / "x.png")])
  with pytest.raises(ValueError, match="run_dir"):
    cli.main(["sample", "--run", str(tmp_path / "none"), "--out",
              str(tmp_path / "x.png")])


def test_demo_end_to_end(tmp_path, tiny_flags, capsys):
  out = str(tmp_path / "demo")
  assert cli.main(["demo", "--out", out, "--epochs", "1", "--n", "2",
                   "--verbose", "0"] + list(tiny_flags)) == 0
  text = capsys.readouterr().out
  assert "held-out bits/dim:" in text and "speedup:" in text
  for digit in range(10):
    assert _png(os.path.join(out, f"compare_{digit}.png")).shape == (
        2 * 65 + 1, 2 * 65 + 1, 1)  # Real over generated, 8x8 at zoom 8.
  with open(os.path.join(out, "demo.json")) as f:
    summary = json.load(f)
  assert summary["speedup_vs_tfp"] > 0 and summary["epochs"] == 1


def test_module_entry_point(subprocess_env):
  from tfp_fastpixel import __main__
  assert callable(__main__.main)
  proc = subprocess.run([sys.executable, "-m", "tfp_fastpixel", "--help"],
                        env=subprocess_env, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, timeout=120,
                        check=False)
  assert proc.returncode == 0
  for command in ("train", "sample", "evaluate", "demo"):
    assert command in proc.stdout


def test_grid_checks_input():
  with pytest.raises(TypeError, match="images"):
    grid.make_grid(np.zeros([2, 4, 4, 1], np.float32))
  with pytest.raises(ValueError, match="generated"):
    grid.compare_grid(np.zeros([2, 4, 4, 1]), np.zeros([3, 4, 4, 1]))
  with pytest.raises(ValueError, match="grid"):
    grid.write_png("x.png", np.zeros([4, 4, 2], np.uint8))


def test_train_resume_uses_stored_config(trained_run, capsys):
  """Runs last in this file: it adds an epoch to the shared run."""
  assert cli.main(["train", "--out", trained_run, "--resume", "--epochs", "2",
                   "--verbose", "0"]) == 0
  assert "trained to epoch 2" in capsys.readouterr().out
  with open(os.path.join(trained_run, "history.csv")) as f:
    assert [line.split(",")[0] for line in f][1:] == ["0", "1"]
  with pytest.raises(ValueError, match="--resume"):
    cli.main(["train", "--out", trained_run + "_none", "--resume"])
