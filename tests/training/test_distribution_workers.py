"""Data-parallel training for real: two logical devices, two worker processes on 127.0.0.1, a killed worker.

Each test starts fresh processes (a device split or a cluster is fixed when an engine starts):
TensorFlow's `SEQ2SEQ_LOGICAL_CPUS` or JAX's `--xla_force_host_platform_device_count` split the
CPU, and two workers meet through `TF_CONFIG` or JAX's coordinator on free local ports.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

pytestmark = pytest.mark.slow

ENGINES = ("tensorflow", "jax")
TOLERANCE = 1e-5  # relative: 2 devices against 1 on the same global batches (float sums in another order)

# One worker of a run: trains with `train()` and keeps its weights where the test says (the test's file, not
# the library's); the library writes the checkpoints, of the chief only.
WORKER = """
import json, sys
import numpy as np
from seq2seq.training.distribution import join_cluster, split_cpu_from_environment
job = json.loads(sys.argv[1])
split_cpu_from_environment()
if job.get("coordinator"):
    join_cluster(job["coordinator"], 2, job["index"])
from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.corpus import read_tatoeba
from seq2seq.training.fit import train
settings = {"epochs": 2, "batch_size": 24, "verbose": 0, "seed": 3, **job["settings"]}
model = train(read_tatoeba(job["corpus"], limit=160).pairs, ModelConfig(units=8, embedding_dim=4, tokenizer="word"),
              TrainConfig(**settings))
np.savez(job["weights"], *model.get_weights())
print(json.dumps({key: model.training_summary[key] for key in ("history", "stopped_early", "replicas")}))
"""

# The same global batches trained on one device and on two, side by side in one process.
EQUIVALENCE = """
import json, sys
from seq2seq.training.distribution import split_cpu_from_environment
split_cpu_from_environment()
import keras, numpy as np
from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.corpus import read_tatoeba
from seq2seq.models.seq2seq import Seq2Seq
from seq2seq.training.distribution import Placement, placement_for
from seq2seq.training.fit import build_vocabularies, compile_for_training, training_batches
from seq2seq.training.workers import build_before_fit
pairs = read_tatoeba(sys.argv[1], limit=150).pairs
model_config, train_config = ModelConfig(units=8, embedding_dim=4, tokenizer="word"), TrainConfig()
vocabularies = build_vocabularies(pairs, model_config, train_config)
two = placement_for("mirrored")
result = {"replicas": two.replicas}
for name, placement in (("one", Placement()), ("two", two)):
    keras.utils.set_random_seed(0)
    with placement.scope():
        model = Seq2Seq(model_config, *vocabularies)
        compile_for_training(model, train_config)
    batches = training_batches(model, pairs, 24, seed=0, placement=two)  # global batches that two devices share
    build_before_fit(model, placement)
    with placement.scope():
        history = model.fit(batches, epochs=3, verbose=0, shuffle=False)
    result[name] = {"loss": history.history["loss"], "weights": [w.tolist() for w in model.get_weights()]}
print(json.dumps(result))
"""


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("127.0.0.1", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


def environment(engine: str, tmp_path, **variables) -> dict:
    return {
        **os.environ,
        "KERAS_BACKEND": engine,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SEQ2SEQ_COMPILATION_CACHE": str(tmp_path / "jax-cache"),
        "SEQ2SEQ_JOIN_TIMEOUT": "60",
        "SEQ2SEQ_PEER_TIMEOUT": "10",
        **variables,
    }


def cluster_environments(engine: str, tmp_path) -> list[tuple[dict, dict]]:
    """(environment, job settings) of each of two workers on free local ports."""
    if engine == "tensorflow":
        workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
        config = [{"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}} for index in (0, 1)]
        return [(environment(engine, tmp_path, TF_CONFIG=json.dumps(config[index])), {}) for index in (0, 1)]
    coordinator = f"127.0.0.1:{free_ports(1)[0]}"
    return [(environment(engine, tmp_path), {"coordinator": coordinator, "index": index}) for index in (0, 1)]


def finish(processes, seconds: float = 300) -> list[subprocess.CompletedProcess]:
    results = []
    for process in processes:
        out, err = process.communicate(timeout=seconds)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


@pytest.mark.parametrize("engine", ENGINES)
def test_two_devices_follow_the_loss_curve_of_one_device_on_the_same_global_batches(engine, tmp_path, tatoeba_path):
    variables = {"SEQ2SEQ_LOGICAL_CPUS": "2", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    run = subprocess.run(
        [sys.executable, "-c", EQUIVALENCE, str(tatoeba_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment(engine, tmp_path, **variables),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    np.testing.assert_allclose(result["two"]["loss"], result["one"]["loss"], rtol=TOLERANCE)
    assert result["one"]["loss"][-1] < result["one"]["loss"][0]  # it learned, so the curves compared are curves
    for two, one in zip(result["two"]["weights"], result["one"]["weights"]):
        np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_two_worker_processes_end_with_identical_weights_and_only_the_chief_writes(engine, tmp_path, tatoeba_path):
    processes = []
    for index, (env, job) in enumerate(cluster_environments(engine, tmp_path)):
        settings = {"distribute": "multi-worker", "checkpoint_dir": str(tmp_path / f"checkpoints-{index}")}
        settings.update(epochs=60, lr_schedule="constant")
        if index == 1:  # a time budget on worker 1 alone: both must stop after the same step
            settings.update(max_time="4s")
        job.update(corpus=str(tatoeba_path), weights=str(tmp_path / f"weights-{index}.npz"), settings=settings)
        command = [sys.executable, "-c", WORKER, json.dumps(job)]
        processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    results = finish(processes)
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
    summaries = [json.loads(result.stdout.strip().splitlines()[-1]) for result in results]
    assert summaries[1]["stopped_early"].startswith("the time budget of 4s")
    assert summaries[0]["stopped_early"] == "another worker stopped"
    assert summaries[0]["history"] == summaries[1]["history"] and summaries[0]["replicas"] == 2
    chief, other = (np.load(tmp_path / f"weights-{index}.npz") for index in (0, 1))
    assert len(chief.files) == len(other.files) > 0
    for name in chief.files:
        np.testing.assert_array_equal(chief[name], other[name])
    assert (tmp_path / "checkpoints-0" / "state.json").is_file()
    assert not (tmp_path / "checkpoints-1").exists()


def test_a_killed_worker_ends_the_other_with_one_line_and_resume_finishes_the_run(tmp_path, tatoeba_path):
    corpus = tmp_path / "pairs.txt"
    corpus.write_text("".join(tatoeba_path.read_text(encoding="utf-8").splitlines(keepends=True)[:160]), "utf-8")
    checkpoints = tmp_path / "checkpoints"

    def start(extra):
        processes = []
        for index, (env, _) in enumerate(cluster_environments("tensorflow", tmp_path)):
            command = [
                sys.executable,
                "-m",
                "seq2seq.cli",
                "train",
                str(corpus),
                "--out",
                str(tmp_path / f"{index}.keras"),
            ]
            command += ["--checkpoint-dir", str(checkpoints), "--units", "8", "--tokenizer", "word", "--epochs", "40"]
            command += ["--batch-size", "16", "--distribute", "multi-worker", *extra]
            processes.append(
                subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            )
        return processes

    first = start(["--lr-schedule", "constant"])
    deadline = time.monotonic() + 240
    while not (checkpoints / "epoch-002.keras").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    first[1].kill()
    killed = time.monotonic()
    _, err = first[0].communicate(timeout=120)
    assert time.monotonic() - killed < 40  # the peer timeout is 10 s here; TensorFlow's health check asks 3 times
    assert first[0].returncode == 2
    line = err.strip().splitlines()[-1]
    assert line.startswith("seq2seq: error: worker 0 of 2 lost contact with the others (") and "--resume" in line
    first[1].communicate()
    stopped_at = json.loads((checkpoints / "state.json").read_text())["epoch"]
    assert 2 <= stopped_at < 40
    results = finish(start(["--resume", "--epochs", str(stopped_at + 2)]))
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((checkpoints / "state.json").read_text())["epoch"] == stopped_at + 2
    assert (tmp_path / "0.keras").is_file() and not (tmp_path / "1.keras").exists()
    assert "worker 0 (the chief) saves the model" in results[1].stdout


def test_mirrored_training_on_two_logical_cpus_trains_a_real_slice_of_3000_pairs_in_batches_of_64(
    tmp_path, tatoeba_path
):
    corpus = tmp_path / "pairs.txt"
    corpus.write_text("".join(tatoeba_path.read_text(encoding="utf-8").splitlines(keepends=True)[:3000]), "utf-8")
    out = tmp_path / "mirrored.keras"
    command = [sys.executable, "-m", "seq2seq.cli", "train", str(corpus), "--out", str(out), "--units", "8"]
    command += ["--tokenizer", "word", "--batch-size", "64", "--epochs", "1", "--distribute", "mirrored"]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment("tensorflow", tmp_path, SEQ2SEQ_LOGICAL_CPUS="2"),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    from seq2seq.models.loading import load

    summary = load(out).training_summary
    assert (
        summary["replicas"] == 2 and summary["training_pairs"] > 2000 and np.isfinite(summary["best_validation_loss"])
    )
