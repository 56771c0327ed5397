"""Placements on devices and workers: the refusals, TF_CONFIG, joining a JAX cluster, one-line failures.

The trainings on two devices and two worker processes are in test_distribution_workers.py.
"""

from __future__ import annotations

import json

import keras
import pytest

from seq2seq.errors import ConfigError
from seq2seq.training import distribution
from seq2seq.training.distribution import (
    DistributionError,
    Placement,
    first_line,
    join_cluster,
    placement_for,
    tf_config_task,
)
from seq2seq.training.workers import AgreeToStop, stop_on_lost_peers, worker_settings
from tests.conftest import one_line_error


def test_pytorch_is_refused_in_one_line_that_names_the_backends_to_use(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    message = one_line_error(ConfigError, placement_for.__wrapped__, "mirrored")
    assert "torch backend" in message and "KERAS_BACKEND=jax" in message and "KERAS_BACKEND=tensorflow" in message


def test_an_unknown_strategy_is_refused():
    assert "mirrored, multi-worker" in one_line_error(ConfigError, placement_for.__wrapped__, "everywhere")


def test_one_device_is_the_chief_and_reads_every_row():
    placement = placement_for(None)
    assert placement == Placement() and placement.chief and placement.shard == (0, 1) and placement.replicas == 1


@pytest.mark.parametrize(
    ("cluster", "task", "expected"),
    [
        ({"worker": ["a:1", "b:2", "c:3"]}, {"type": "worker", "index": 0}, (0, 3, True)),
        ({"worker": ["a:1", "b:2", "c:3"]}, {"type": "worker", "index": 2}, (2, 3, False)),
        ({"chief": ["a:1"], "worker": ["b:2"]}, {"type": "chief", "index": 0}, (0, 2, True)),
        ({"chief": ["a:1"], "worker": ["b:2"]}, {"type": "worker", "index": 0}, (1, 2, False)),
    ],
)
def test_tf_config_names_this_workers_place_and_the_chief(monkeypatch, cluster, task, expected):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
    assert tf_config_task() == expected


def test_a_damaged_tf_config_is_one_line_with_an_example(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1"]}}')
    assert "TF_CONFIG must be JSON such as" in one_line_error(ConfigError, tf_config_task)


def test_without_tf_config_this_process_is_the_only_worker(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert tf_config_task() == (0, 1, True)


def test_a_process_count_without_a_coordinator_is_refused(monkeypatch):
    for variable in distribution.CLUSTER_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    assert join_cluster() is None  # nothing asked, nothing joined
    assert "need --coordinator" in one_line_error(ConfigError, join_cluster, None, 2, 1)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="checked before joining, on JAX only")
def test_a_process_id_outside_the_count_is_refused():
    assert "from 0 to 1" in one_line_error(ConfigError, join_cluster, "127.0.0.1:1", 2, 2)


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="a coordinator is JAX's")
def test_a_coordinator_outside_jax_points_to_tf_config():
    assert "TF_CONFIG" in one_line_error(ConfigError, join_cluster, "127.0.0.1:1", 2, 0)


def test_a_timeout_from_the_environment_must_be_a_positive_number(monkeypatch):
    monkeypatch.setenv("SEQ2SEQ_PEER_TIMEOUT", "7")
    assert distribution.timeout("PEER_TIMEOUT", 60) == 7
    monkeypatch.setenv("SEQ2SEQ_PEER_TIMEOUT", "0")
    assert "SEQ2SEQ_PEER_TIMEOUT" in one_line_error(ConfigError, distribution.timeout, "PEER_TIMEOUT", 60)


def test_the_reported_line_of_a_lost_peer_is_the_one_that_says_what_failed():
    error = RuntimeError("Graph execution error:\n\n{{function_node x}} Collective ops is aborted by: task:1 is down")
    assert first_line(error) == "Collective ops is aborted by: task:1 is down"
    assert first_line(ValueError("plain\nsecond")) == "plain"


def test_a_lost_peer_becomes_one_line_and_other_errors_pass_through():
    two = Placement("multi-worker", object(), replicas=2, worker=1, workers=2)
    UnavailableError = type("UnavailableError", (Exception,), {})
    with pytest.raises(DistributionError, match="worker 1 of 2 lost contact.*--resume") as info:
        with stop_on_lost_peers(two):
            raise UnavailableError("Socket closed\nmore")
    assert "\n" not in str(info.value)
    with pytest.raises(KeyError), stop_on_lost_peers(two):
        raise KeyError("a mistake of ours, not the network's")


def test_only_the_chief_keeps_its_checkpoint_and_log_folders(tmp_path):
    from seq2seq.config import TrainConfig

    settings = TrainConfig(checkpoint_dir=str(tmp_path / "ckpt"), logdir=str(tmp_path / "logs"))
    with worker_settings(settings, Placement("multi-worker", object(), 2, 0, 2)) as chief:
        assert chief == settings
    with worker_settings(settings, Placement("multi-worker", object(), 2, 1, 2)) as other:
        folder = other.checkpoint_dir
        assert str(tmp_path) not in folder and str(tmp_path) not in other.logdir
    assert not list(tmp_path.iterdir())


def test_on_one_worker_a_stop_is_its_own_decision():
    class Model:
        stop_training = False

    agree = AgreeToStop(Placement())
    agree.set_model(Model())
    agree.on_train_batch_end(0)
    assert agree.model.stop_training is False
    agree.model.stop_training = True
    agree.on_train_batch_end(1)
    assert agree.model.stop_training is True
