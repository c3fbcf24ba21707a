"""Multi-worker training for real: two worker processes on this machine
(MultiWorkerMirroredStrategy, TF_CONFIG on 127.0.0.1) train a tiny model on
digits; a worker is killed mid-epoch, the job restarts and finishes, and the
run dir samples."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tfp_fastpixel import cli

pytestmark = pytest.mark.slow

TIMEOUT = 240  # seconds, for every wait below


def _free_ports(n):
  socks = [socket.socket() for _ in range(n)]
  for s in socks:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in socks]
  for s in socks:
    s.close()
  return ports


def _start_workers(run, epochs, take, env, tiny_flags):
  ports = _free_ports(2)
  procs = []
  for index in range(2):
    tf_config = {
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": index},
    }
    argv = [
        sys.executable,
        "-m",
        "tfp_fastpixel",
        "train",
        "--dataset",
        "digits",
        "--take",
        str(take),
        "--epochs",
        str(epochs),
        "--strategy",
        "multiworker",
        "--batch_size",
        "32",
        "--verbose",
        "2",
        "--out",
        run,
    ] + list(tiny_flags)
    procs.append(
        subprocess.Popen(
            argv,
            env=dict(env, TF_CONFIG=json.dumps(tf_config)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    )
  return procs


def _wait(procs):
  outs = []
  for p in procs:
    try:
      out, _ = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
      for q in procs:
        q.kill()
      raise
    outs.append(out)
  return [p.returncode for p in procs], outs


def _epochs(run):
  with open(os.path.join(run, "history.csv")) as f:
    return [int(row["epoch"]) for row in csv.DictReader(f)]


def test_two_workers_train_survive_a_killed_worker_and_the_run_dir_samples(
    tmp_path, subprocess_env, tiny_flags
):
  run = str(tmp_path / "run")
  ckpt = os.path.join(run, "checkpoints", "ckpt-{}.index")
  start = time.time()
  procs = _start_workers(run, 2, 1024, subprocess_env, tiny_flags)
  try:
    while not os.path.exists(ckpt.format(1)):  # epoch 1 of 2 done
      assert time.time() - start < TIMEOUT, "epoch 1 never finished"
      assert all(p.poll() is None for p in procs), "a worker exited"
      time.sleep(0.1)
    time.sleep(1.0)  # into epoch 2 (about 5 s long)
    procs[1].send_signal(signal.SIGKILL)
    procs[1].wait(timeout=TIMEOUT)
    # The surviving worker blocks in a collective; the job is restarted.
    procs[0].kill()
    procs[0].wait(timeout=TIMEOUT)
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
  assert not os.path.exists(ckpt.format(2)), "epoch 2 finished: kill earlier"
  assert _epochs(run) == [0]
  killed = time.time()

  codes, outs = _wait(_start_workers(run, 2, 1024, subprocess_env, tiny_flags))
  assert codes == [0, 0], outs[0][-3000:] + outs[1][-3000:]
  print(
      f"\nkill at {killed - start:.1f} s, restart to the end "
      f"{time.time() - killed:.1f} s"
  )
  assert "over 2 replicas" in outs[0]
  assert "Resuming" in outs[0] and "from epoch 1" in outs[0]
  assert _epochs(run) == [0, 1]  # nothing lost, nothing repeated
  assert os.path.exists(ckpt.format(2))
  # Only the chief wrote; the other worker cleaned up after itself.
  assert sorted(os.listdir(run)) == [
      "checkpoints",
      "config.json",
      "history.csv",
  ]
  png = str(tmp_path / "s.png")
  assert (
      cli.main(
          ["sample", "--run", run, "--n", "2", "--out", png, "--no-progress"]
      )
      == 0
  )
  assert os.path.getsize(png) > 0
