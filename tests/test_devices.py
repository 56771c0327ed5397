"""The device phrase, the detector of a GPU left unused and its hint, and the GPU extras they name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest
import tomllib
from packaging.requirements import Requirement

from seq2seq import devices
from seq2seq.devices import (
    Device,
    cpu_cores,
    current_device,
    device_line,
    is_cuda_torch,
    nvidia_gpus,
    probe_backends,
    unused_gpu_hint,
)

ROOT = Path(__file__).resolve().parents[1]
NO_CUDA_BUILDS = {"jax": False, "torch": False, "tensorflow": False}
on_a_cpu_machine = pytest.mark.skipif(bool(nvidia_gpus()), reason="an NVIDIA GPU is here: no CPU phrase expected")


def fake_nvidia_smi(folder: Path, listing: str) -> None:
    """An `nvidia-smi` on PATH that answers `-L` with `listing`."""
    program = folder / "nvidia-smi"
    program.write_text(f"#!/bin/sh\ncat <<'END'\n{listing}\nEND\n")
    program.chmod(0o755)


@on_a_cpu_machine
def test_this_machine_computes_on_the_cpu_with_its_cores():
    device = current_device()
    cores = len(os.sched_getaffinity(0))
    assert (device.backend, device.kind) == (keras.backend.backend(), "cpu")
    name = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}[device.backend]
    assert device.describe() == f"{name} on the CPU ({cores} core{'s' if cores > 1 else ''})"


@pytest.mark.parametrize(
    "device, phrase",
    [
        (Device("jax", "gpu", "NVIDIA H200", visible=1), "JAX on 1 GPU (NVIDIA H200)"),
        (Device("torch", "gpu", "NVIDIA A100-SXM4-40GB", visible=3), "PyTorch on 1 of 3 GPUs (NVIDIA A100-SXM4-40GB)"),
        (Device("tensorflow", "cpu", cores=1), "TensorFlow on the CPU (1 core)"),
        (Device("jax", "tpu", "TPU v4", visible=4), "JAX on 1 of 4 TPUs (TPU v4)"),
        (Device("torch", "mps"), "PyTorch on the Apple GPU (mps)"),
    ],
)
def test_the_device_phrase_names_backend_device_and_count(device, phrase):
    assert device.describe() == phrase


def test_nvidia_smi_names_the_gpus_unless_cuda_visible_devices_hides_them(tmp_path, monkeypatch):
    fake_nvidia_smi(tmp_path, "GPU 0: NVIDIA H200 (UUID: GPU-5a1)\nGPU 1: NVIDIA H200 (UUID: GPU-7c3)")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert nvidia_gpus() == ["NVIDIA H200", "NVIDIA H200"]
    for hidden in ("", "-1"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
        assert nvidia_gpus() == []


def test_without_nvidia_smi_the_drivers_proc_folder_names_the_gpus(tmp_path, monkeypatch):
    (tmp_path / "0000:17:00.0").mkdir()
    (tmp_path / "0000:17:00.0" / "information").write_text("Model: \t\t NVIDIA L4\nIRQ:   42\n")
    (tmp_path / "0000:65:00.0").mkdir()  # no information file
    monkeypatch.setattr(devices, "NVIDIA_PROC", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert nvidia_gpus() == ["NVIDIA L4", "NVIDIA GPU"]
    monkeypatch.setattr(devices, "NVIDIA_PROC", tmp_path / "absent")
    assert nvidia_gpus() == []


@pytest.mark.parametrize(
    "version, requires, cuda",
    [
        ("2.13.0+cpu", [], False),
        ("2.11.0+cu130", [], True),
        ("2.6.0+rocm6.1", [], False),
        ("2.13.0", ['cuda-toolkit[cublas,cudart]==13.0.3; platform_system == "Linux"', "filelock"], True),
        ("2.5.1", ['nvidia-cudnn-cu12==9.1.0.70; platform_system == "Linux"'], True),
        ("2.13.0", ["filelock", "sympy>=1.13.3"], False),  # macOS and Windows wheels
    ],
)
def test_a_torch_build_is_cuda_by_its_local_version_or_its_cuda_requirements(version, requires, cuda):
    assert is_cuda_torch(version, requires) is cuda


def test_no_hint_without_a_gpu_or_on_one():
    on_cpu = Device("tensorflow", "cpu", cores=2)
    assert unused_gpu_hint(on_cpu, gpus=[], builds=NO_CUDA_BUILDS) is None
    assert unused_gpu_hint(Device("jax", "gpu", "NVIDIA H200"), gpus=["NVIDIA H200"], builds={"jax": True}) is None


def test_a_gpu_unused_by_a_cpu_only_build_gets_the_extra_to_install():
    hint = unused_gpu_hint(Device("tensorflow", "cpu", cores=2), gpus=["NVIDIA H200"], builds=NO_CUDA_BUILDS)
    assert "NVIDIA H200" in hint and "TensorFlow runs on the CPU" in hint
    assert "keras-seq2seq[gpu-jax]" in hint and "KERAS_BACKEND=jax" in hint and "\n" not in hint
    hint = unused_gpu_hint(Device("torch", "cpu", cores=2), gpus=["NVIDIA L4"], builds=NO_CUDA_BUILDS)
    assert "keras-seq2seq[gpu-torch]" in hint and "pip uninstall torch" in hint


def test_a_gpu_another_installed_backend_can_use_gets_that_backend_named():
    hint = unused_gpu_hint(
        Device("tensorflow", "cpu", cores=2),
        gpus=["NVIDIA H200"],
        builds={"jax": False, "torch": True, "tensorflow": False},
    )
    assert hint.endswith("PyTorch here can use it: set KERAS_BACKEND=torch.")


def test_a_cuda_build_that_sees_no_gpu_points_at_the_driver():
    hint = unused_gpu_hint(Device("jax", "cpu", cores=2), gpus=["NVIDIA H200"], builds={"jax": True})
    assert "JAX, built for CUDA, does not see it" in hint and "nvidia-smi" in hint


def test_the_device_line_adds_the_hint_only_where_a_gpu_sits_unused(monkeypatch):
    monkeypatch.setattr(devices, "cuda_builds", lambda: dict(NO_CUDA_BUILDS))
    monkeypatch.setattr(devices, "nvidia_gpus", lambda: [])
    line = device_line()
    assert line == f"Device: {current_device().describe()}."
    on_cpu = Device(keras.backend.backend(), "cpu", cores=3)  # also where the backend does use a GPU
    monkeypatch.setattr(devices, "current_device", lambda: on_cpu)
    line = device_line()
    assert line == f"Device: {on_cpu.describe()}."
    monkeypatch.setattr(devices, "nvidia_gpus", lambda: ["NVIDIA H200"])
    first, hint = device_line().splitlines()
    assert first == line and hint.startswith("Hint: an NVIDIA GPU (NVIDIA H200) is present")


def test_looking_for_an_unused_gpu_imports_no_backend():
    code = (
        "import sys; from seq2seq.devices import cuda_builds, nvidia_gpus, installed_backends; "
        "cuda_builds(), nvidia_gpus(), installed_backends(); "
        "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@on_a_cpu_machine
@pytest.mark.slow  # starts every installed backend, side by side: 10-15 s on 2 cores
def test_each_installed_backend_is_asked_in_a_process_of_its_own():
    backends = devices.installed_backends()
    expected = {backend: Device(backend, "cpu", cores=cpu_cores()).describe() for backend in backends}
    assert probe_backends() == expected


def test_a_backend_that_cannot_start_is_named_with_its_error():
    found = probe_backends(["no_such_backend"])["no_such_backend"]
    assert found.startswith("no_such_backend failed to start: ")
    assert "no_such_backend" in found.split(": ", 1)[1]  # the child's last error line


def test_every_extra_a_hint_names_is_declared_with_valid_requirements():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    named = {fix.split("[")[1].split("]")[0] for fix in devices.GPU_FIX.values()}
    assert named == {"gpu-jax", "gpu-torch"} and named <= set(extras)
    requirements = [Requirement(text) for name in named for text in extras[name]]
    assert {(r.name, tuple(sorted(r.extras))) for r in requirements} == {("jax", ("cuda12",)), ("torch", ())}
