"""Large sampling jobs: `sample --out_dir` writes atomic, resumable,
reproducible .npz shards and a manifest, over every local device."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tfp_fastpixel import cli


def _shards(out_dir):
  return sorted(f for f in os.listdir(out_dir) if f.startswith("shard_"))


def _load(out_dir, name):
  with np.load(os.path.join(out_dir, name)) as z:
    return z["images"], z["labels"]


@pytest.mark.slow
def test_shards_are_written_resumed_and_reproduced(
    trained_run, tmp_path, capsys
):
  out = str(tmp_path / "job")
  argv = [
      "sample",
      "--run",
      trained_run,
      "--out_dir",
      out,
      "--n",
      "10",
      "--shard_size",
      "4",
      "--seed",
      "5",
      "--no-progress",
  ]
  assert cli.main(argv) == 0
  assert "drew 10 this run" in capsys.readouterr().out
  assert _shards(out) == [f"shard_0000{k}.npz" for k in range(3)]
  sizes, labels = [], []
  for name in _shards(out):
    images, lab = _load(out, name)
    assert images.dtype == np.uint8 and images.shape[1:] == (8, 8, 1)
    sizes.append(len(images))
    labels += list(lab)
  assert sizes == [4, 4, 2]
  assert labels == [3, 7] * 5  # the run's classes, cycled
  with open(os.path.join(out, "manifest.json")) as f:
    manifest = json.load(f)
  assert manifest["complete"] and manifest["n"] == 10
  assert manifest["seed"] == 5 and manifest["model"]["num_filters"] == 8

  # A crash mid-job: one shard missing, one temporary file left behind.
  first, _ = _load(out, "shard_00001.npz")
  os.remove(os.path.join(out, "shard_00001.npz"))
  with open(os.path.join(out, "shard_00002.npz.tmp.npz"), "wb") as f:
    f.write(b"partial")
  stamp = os.path.getmtime(os.path.join(out, "shard_00000.npz"))
  assert cli.main(argv) == 0
  assert "drew 4 this run" in capsys.readouterr().out  # only the lost shard
  again, _ = _load(out, "shard_00001.npz")
  np.testing.assert_array_equal(again, first)  # the same images
  assert os.path.getmtime(os.path.join(out, "shard_00000.npz")) == stamp

  # Another seed (or size) into the same directory is refused.
  assert cli.main(argv[:-3] + ["--seed", "6", "--no-progress"]) == 2
  assert "different job" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--n", "0"], "--n"),
        (["--n", "5", "--shard_size", "0"], "--shard_size"),
        ([], "--n"),
        (["--n", "5", "--out", "x.png"], "exactly one of"),
        (["--n", "5", "--label", "4"], "--label"),
    ],
)
def test_shard_job_rejects_bad_input(
    trained_run, tmp_path, capsys, flags, message
):
  argv = ["sample", "--run", trained_run, "--out_dir", str(tmp_path / "o")]
  assert cli.main(argv + flags) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: ") and message in err, err


# TF fixes its devices at start-up, so the two-device checks share one fresh
# process: MirroredStrategy training over two logical CPUs, then a shard job
# on the run, whose batches are split over both.
_TWO_DEVICES = textwrap.dedent("""
    import sys
    from tfp_fastpixel import cli
    run, out, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
    code = cli.main(["train", "--cpu_devices", "2", "--distribute",
                     "--take", "128", "--epochs", "2", "--labels", "onehot",
                     "--verbose", "2", "--out", run] + flags)
    if code == 0:
      code = cli.main(["sample", "--run", run, "--out_dir", out, "--n", "6",
                       "--shard_size", "3", "--label", "7", "--no-progress"])
    sys.exit(code)
""")


@pytest.mark.slow
def test_two_devices_train_mirrored_and_shards_use_both(
    tmp_path, tiny_flags, subprocess_env
):
  run, out = str(tmp_path / "run"), str(tmp_path / "two")
  proc = subprocess.run(
      [sys.executable, "-c", _TWO_DEVICES, run, out] + list(tiny_flags),
      env=subprocess_env,
      stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT,
      text=True,
      timeout=600,
      check=False,
  )
  assert proc.returncode == 0, proc.stdout[-5000:]
  assert "MirroredStrategy over 2 replicas" in proc.stdout
  bpd = float(proc.stdout.split("held-out bits/dim:")[1].split()[0])
  assert 0 < bpd < 5
  assert os.path.exists(os.path.join(run, "checkpoints", "ckpt-2.index"))
  assert "on 2 device(s)" in proc.stdout
  with open(os.path.join(out, "manifest.json")) as f:
    assert json.load(f)["replicas"] == 2
  images = np.concatenate([_load(out, s)[0] for s in _shards(out)])
  assert images.shape == (6, 8, 8, 1)
  # The two replicas draw with different seeds: not all images repeat.
  assert len({im.tobytes() for im in images}) > 1
