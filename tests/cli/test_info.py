"""`seq2seq info`: the device line first, a hint only where a GPU sits unused, then the model file's description."""

from __future__ import annotations

import os
import subprocess
import sys

import keras

from seq2seq import devices
from seq2seq.cli import main
from tests.conftest import tiny_model

NAME = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


def run_info(capsys, *argv):
    status = main(["info", *argv])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def no_gpu_builds(monkeypatch):
    monkeypatch.setattr(devices, "cuda_builds", lambda: {"jax": False, "torch": False, "tensorflow": False})


def test_info_without_a_model_says_which_device_trains(capsys, monkeypatch):
    no_gpu_builds(monkeypatch)
    monkeypatch.setattr(devices, "nvidia_gpus", lambda: [])
    status, lines, err = run_info(capsys)
    assert status == 0 and err == ""
    assert lines == [f"Device: {devices.current_device().describe()}."]
    assert lines[0].startswith(f"Device: {NAME[keras.backend.backend()]} on ")


def test_a_gpu_faked_present_gets_a_one_line_hint(capsys, monkeypatch):
    no_gpu_builds(monkeypatch)
    monkeypatch.setattr(devices, "current_device", lambda: devices.Device(keras.backend.backend(), "cpu", cores=2))
    monkeypatch.setattr(devices, "nvidia_gpus", lambda: ["NVIDIA H200"])
    status, lines, _ = run_info(capsys)
    assert status == 0 and len(lines) == 2
    assert lines[1].startswith("Hint: an NVIDIA GPU (NVIDIA H200) is present") and "keras-seq2seq[gpu-" in lines[1]


def test_info_on_a_model_file_adds_its_description_after_the_device(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(devices, "nvidia_gpus", lambda: [])
    path = tmp_path / "model.keras"
    tiny_model(seed=3, units=5).save(path)
    status, lines, _ = run_info(capsys, str(path))
    assert status == 0
    assert lines[0].startswith("Device: ") and lines[1] == "architecture: preset classic"
    assert any("encoder: 1 x LSTM 5" in line for line in lines)


def test_backends_lists_what_each_installed_backend_would_use(capsys, monkeypatch):
    monkeypatch.setattr(devices, "nvidia_gpus", lambda: [])
    probed = {"jax": "JAX on 1 GPU (NVIDIA H200)", "torch": "PyTorch on the CPU (3 cores)"}
    monkeypatch.setattr(devices, "probe_backends", lambda: probed)
    status, lines, _ = run_info(capsys, "--backends")
    assert status == 0
    assert lines[1:] == [f"  KERAS_BACKEND={backend}: {phrase}" for backend, phrase in probed.items()]


def test_the_real_command_prints_the_device_line_first():
    environment = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    command = [sys.executable, "-m", "seq2seq.cli", "info"]
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Device: {NAME[keras.backend.backend()]} on ")
