"""`python -m tfp_fastpixel`: train, sample (PNG grids, --compare), evaluate
and demo end to end on tiny digits models."""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import cli
from tfp_fastpixel import grid
from tfp_fastpixel import run_dir


def _png(path):
  return tf.io.decode_png(tf.io.read_file(path)).numpy()


def test_train_writes_run_dir_and_prints_bits_per_dim(trained_run, capsys):
  with open(os.path.join(trained_run, "config.json")) as f:
    config = json.load(f)
  assert config["data"]["classes"] == [3, 7]
  assert config["model"]["num_resnet"] == 1
  assert cli.main(["evaluate", "--run", trained_run]) == 0
  assert "test bits/dim:" in capsys.readouterr().out


def test_sample_writes_decodable_png_and_prints_time(
    trained_run, tmp_path, capsys
):
  out = str(tmp_path / "samples.png")
  assert (
      cli.main(
          [
              "sample",
              "--run",
              trained_run,
              "--n",
              "3",
              "--label",
              "7",
              "--out",
              out,
              "--zoom",
              "2",
          ]
      )
      == 0
  )
  assert "sampled 3 images" in capsys.readouterr().out
  png = _png(out)
  # 1 row x 3 tiles of 16x16 (8x8 at zoom 2) with 1-pixel padding.
  assert png.shape == (1 * 17 + 1, 3 * 17 + 1, 1) and png.dtype == np.uint8


def test_sample_compare_puts_real_over_generated_per_class(
    trained_run, tmp_path, capsys
):
  out = str(tmp_path / "compare.png")
  assert (
      cli.main(
          [
              "sample",
              "--run",
              trained_run,
              "--n",
              "2",
              "--compare",
              "--out",
              out,
              "--zoom",
              "1",
          ]
      )
      == 0
  )
  assert " s" in capsys.readouterr().out
  png = _png(out)
  # 2 classes x (real row, generated row) of 2 tiles, 3 pixels between classes.
  assert png.shape == (2 * (2 * 9 + 1) + 3, 2 * 9 + 1, 1)
  # The top-left tile is the first held-out "3", scaled from [0, 16].
  from tfp_fastpixel import data

  real = data.as_numpy(
      data.load(
          "digits",
          "test",
          classes=[3],
          labels=None,
          batch_size=1,
          shuffle=False,
      )
  )[0]
  np.testing.assert_array_equal(png[1:9, 1:9], grid.to_uint8(real[0], 0, 16))


def test_user_errors_are_one_line_and_status_2(trained_run, tmp_path, capsys):
  png = str(tmp_path / "x.png")
  cases = [
      (
          ["sample", "--run", trained_run, "--label", "5", "--out", png],
          "--label: classes [5] were not trained on",
      ),
      (["sample", "--run", str(tmp_path / "none"), "--out", png], "--run"),
      (["sample", "--run", trained_run, "--n", "0", "--out", png], "--n"),
      (
          ["complete", "--run", trained_run, "--rows", "9", "--out", png],
          "--rows: expected 0..8",
      ),
      (["train", "--out", str(tmp_path / "none"), "--resume"], "--resume"),
      (["train", "--dataset", "nope", "--out", str(tmp_path / "r")], "nope"),
  ]
  for argv, message in cases:
    assert cli.main(argv) == 2, argv
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, (argv, err)
    assert err.count("\n") == 1, err
  assert not os.path.exists(png)


@pytest.mark.slow
def test_cli_errors_and_help_in_a_fresh_process(subprocess_env, tmp_path):
  """No traceback for a user error; --help and flag errors without TF."""
  proc = subprocess.run(
      [
          sys.executable,
          "-m",
          "tfp_fastpixel",
          "sample",
          "--run",
          str(tmp_path / "none"),
          "--out",
          "x.png",
      ],
      env=subprocess_env,
      capture_output=True,
      text=True,
      timeout=300,
      check=False,
  )
  assert proc.returncode == 2
  assert "Traceback" not in proc.stderr
  assert proc.stderr.strip().splitlines()[-1].startswith("error: --run")
  check = (
      "import sys\nfrom tfp_fastpixel import cli\n"
      "import tfp_fastpixel.run_dir\n"
      "for argv in (['--help'], ['sample', '--n', 'x']):\n"
      "  try:\n    cli.main(argv)\n"
      "  except SystemExit as e:\n    print('exit', e.code)\n"
      "print('tensorflow' in sys.modules)\n"
  )
  proc = subprocess.run(
      [sys.executable, "-c", check],
      env=subprocess_env,
      capture_output=True,
      text=True,
      timeout=120,
      check=False,
  )
  assert proc.stdout.strip().splitlines()[-3:] == [
      "exit 0",
      "exit 2",
      "False",
  ], proc.stdout


@pytest.mark.slow
def test_cli_hides_tensorflow_start_up_logs(subprocess_env, tmp_path):
  """TF_CPP_MIN_LOG_LEVEL unset: the CLI's own error line, no C++ logs."""

  def evaluate(env):
    # `evaluate` imports TensorFlow before it finds that the run is missing.
    return subprocess.run(
        [sys.executable, "-m", "tfp_fastpixel", "evaluate", "--run"]
        + [str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

  # `I0000 00:00:...` or `2024-01-01 00:00:00.000000: I tensorflow/...`.
  c_log = re.compile(r"^([IWEF]\d{4} |\S+ \S+: [IWEF] \S+\.(cc|h):)")
  env = dict(subprocess_env)
  # The user's own level is kept: 0 shows TensorFlow's INFO lines.
  env["TF_CPP_MIN_LOG_LEVEL"] = "0"
  proc = evaluate(env)
  assert proc.returncode == 2
  if not any(c_log.match(line) for line in proc.stderr.splitlines()):
    pytest.skip("TensorFlow logs nothing at start-up on this machine")
  del env["TF_CPP_MIN_LOG_LEVEL"]
  proc = evaluate(env)
  assert proc.returncode == 2
  assert proc.stderr.splitlines() == [
      f"error: run_dir: {str(tmp_path)!r} holds no config.json; is it a "
      "tfp_fastpixel run directory?"
  ]


def test_run_dir_reads_a_run_without_tensorflow(tmp_path, monkeypatch):
  run = tmp_path / "run"
  with pytest.raises(ValueError, match="--run: .* is not a directory"):
    run_dir.check(str(run), "--run")
  run.mkdir()
  with pytest.raises(
      ValueError, match=r"run_dir: .* \(config.json is missing\)"
  ):
    run_dir.check(str(run))
  (run / "config.json").write_text("{}")
  run_dir.check(str(run))
  assert run_dir.checkpoint_state(str(run)) == ""
  (run / "checkpoints").mkdir()
  (run / "checkpoints" / "checkpoint").write_text('"ckpt-1"')
  export = run / "export"
  export.mkdir()
  assert not run_dir.is_export(str(export))
  assert run_dir.current_export(str(run)) is None
  run_dir.write_export_stamp(str(export), str(run))
  assert run_dir.current_export(str(run)) == str(export)
  # A newer checkpoint makes the export stale.
  (run / "checkpoints" / "checkpoint").write_text('"ckpt-2"')
  assert run_dir.current_export(str(run)) is None
  monkeypatch.setenv("TF_XLA_FLAGS", "--tf_xla_auto_jit=2")
  run_dir.use_xla_cache(str(export))
  assert os.environ["TF_XLA_FLAGS"] == (
      "--tf_xla_auto_jit=2 --tf_xla_persistent_cache_directory="
      + os.path.join(str(export), "xla_cache")
  )
  monkeypatch.setenv("TF_XLA_FLAGS", "--tf_xla_persistent_cache_directory=/c")
  run_dir.use_xla_cache(str(export))  # the user's cache is kept
  assert os.environ["TF_XLA_FLAGS"] == "--tf_xla_persistent_cache_directory=/c"


@pytest.mark.slow
def test_export_then_sample_reuses_it_with_the_same_images(
    trained_run, tmp_path, capsys
):
  run = str(tmp_path / "run")  # a copy: the export goes into the run dir
  shutil.copytree(trained_run, run)
  live, via_export = str(tmp_path / "live.png"), str(tmp_path / "export.png")
  argv = ["sample", "--run", run, "--n", "3", "--seed", "4", "--out"]
  assert cli.main(argv + [live, "--no-use_export"]) == 0
  assert cli.main(["export", "--run", run]) == 0
  assert os.path.exists(os.path.join(run, "export", "saved_model.pb"))
  capsys.readouterr()
  assert cli.main(argv + [via_export]) == 0
  assert "with the run's export" in capsys.readouterr().out
  np.testing.assert_array_equal(_png(live), _png(via_export))
  # A directory that is not an export is never overwritten.
  other = tmp_path / "other"
  other.mkdir()
  assert cli.main(["export", "--run", run, "--out", str(other)]) == 2


def test_complete_writes_originals_masked_and_completions(
    trained_run, tmp_path, capsys
):
  out = str(tmp_path / "complete.png")
  assert (
      cli.main(
          [
              "complete",
              "--run",
              trained_run,
              "--rows",
              "3",
              "--images",
              "2",
              "--samples",
              "3",
              "--zoom",
              "1",
              "--out",
              out,
              "--no-progress",
          ]
      )
      == 0
  )
  assert "completed 2 images x 3" in capsys.readouterr().out
  png = _png(out)
  # 2 rows (one per image) of original, masked, 3 completions: 8x8 tiles.
  assert png.shape == (2 * 9 + 1, 5 * 9 + 1, 1)
  tiles = [
      [png[1 + 9 * r : 9 + 9 * r, 1 + 9 * t : 9 + 9 * t] for t in range(5)]
      for r in range(2)
  ]
  for original, masked, *completions in tiles:
    np.testing.assert_array_equal(masked[:3], original[:3])
    assert np.all(masked[3:] == 128)
    for done in completions:
      np.testing.assert_array_equal(done[:3], original[:3])


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, tiny_flags, capsys):
  out = str(tmp_path / "demo")
  assert (
      cli.main(
          ["demo", "--out", out, "--epochs", "1", "--n", "2", "--verbose", "0"]
          + list(tiny_flags)
      )
      == 0
  )
  text = capsys.readouterr().out
  assert "held-out bits/dim:" in text and "speedup:" in text
  for digit in range(10):
    assert _png(os.path.join(out, f"compare_{digit}.png")).shape == (
        2 * 65 + 1,
        2 * 65 + 1,
        1,
    )  # Real over generated, 8x8 at zoom 8.
  with open(os.path.join(out, "demo.json")) as f:
    summary = json.load(f)
  assert summary["speedup_vs_tfp"] > 0 and summary["epochs"] == 1


def test_module_entry_point(subprocess_env):
  from tfp_fastpixel import __main__

  assert callable(__main__.main)
  proc = subprocess.run(
      [sys.executable, "-m", "tfp_fastpixel", "--help"],
      env=subprocess_env,
      stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT,
      text=True,
      timeout=120,
      check=False,
  )
  assert proc.returncode == 0
  for command in ("train", "sample", "complete", "export", "evaluate", "demo"):
    assert command in proc.stdout


def test_grid_checks_input():
  with pytest.raises(TypeError, match="images"):
    grid.make_grid(np.zeros([2, 4, 4, 1], np.float32))
  with pytest.raises(ValueError, match="generated"):
    grid.compare_grid(np.zeros([2, 4, 4, 1]), np.zeros([3, 4, 4, 1]))
  with pytest.raises(ValueError, match="grid"):
    grid.write_png("x.png", np.zeros([4, 4, 2], np.uint8))


@pytest.mark.slow
def test_train_resume_uses_stored_config(trained_run, tmp_path, capsys):
  run = str(tmp_path / "run")  # a copy: the shared run stays at one epoch
  shutil.copytree(trained_run, run)
  assert (
      cli.main(
          ["train", "--out", run, "--resume", "--epochs", "2", "--verbose", "0"]
      )
      == 0
  )
  assert "trained to epoch 2" in capsys.readouterr().out
  with open(os.path.join(run, "history.csv")) as f:
    assert [line.split(",")[0] for line in f][1:] == ["0", "1"]
