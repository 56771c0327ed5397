"""No backend tensor reaches NumPy except through seq2seq.host, checked on a CPU-only machine.

`device_guard.refusing_numpy()` makes PyTorch tensors refuse NumPy as CUDA tensors do; the
first tests show that it refuses what CUDA refuses and lets through what CUDA allows, and the
last runs every path of the package under it on the PyTorch backend (see device_paths.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.integration.device_guard import CUDA_MESSAGE, refusing_numpy

ROOT = Path(__file__).resolve().parents[2]
PATHS = [
    "training",
    "greedy",
    "beam",
    "nbest",
    "sampling",
    "coverage",
    "many sentences",
    "ensemble",
    "classic loop",
    "evaluate",
    "attention statistics",
    "attention picture",
    "sentence vectors",
    "validation loss",
    "averaging",
    "serving",
    "bfloat16",
]


@pytest.fixture(scope="module")
def torch():
    if importlib.util.find_spec("torch") is None:
        if os.environ.get("CI"):
            pytest.fail("PyTorch is missing under CI (install .[torch]); the device guard needs it")
        pytest.skip("PyTorch is not installed")
    import torch

    return torch


@pytest.mark.parametrize(
    "convert",
    [np.asarray, np.array, lambda t: np.argmax(t), lambda t: t.numpy(), lambda t: np.stack([t, t])],
    ids=["asarray", "array", "argmax", "numpy", "stack"],
)
def test_the_guard_refuses_what_a_cuda_tensor_refuses(torch, convert):
    tensor = torch.arange(6, dtype=torch.float32).reshape(2, 3)

    with refusing_numpy(), pytest.raises(TypeError) as refused:
        convert(tensor)

    assert str(refused.value).startswith(CUDA_MESSAGE) and "test_device_safety.py" in str(refused.value)


def test_the_guard_lets_through_what_a_cuda_tensor_allows(torch):
    tensor = torch.tensor([[2.5, -1.0, 4.0]])

    with refusing_numpy():
        read = (float(tensor[0, 0]), int(tensor[0, 2]), bool(tensor[0, 1]), tensor[0, 0].item(), tensor.tolist())

    assert read == (2.5, 4, True, 2.5, [[2.5, -1.0, 4.0]])


def test_the_guard_lets_a_tensor_moved_to_the_host_convert_but_not_one_only_cast(torch):
    tensor = torch.tensor([1.5, -2.0])

    with refusing_numpy():
        moved = tensor.cpu()
        read = (moved.numpy().tolist(), np.asarray(moved).tolist())
        with pytest.raises(TypeError, match="can't convert cuda:0"):
            tensor.to(torch.float64).numpy()

    assert moved is not tensor and read == ([1.5, -2.0], [1.5, -2.0])


def test_the_guard_refuses_keras_convert_to_numpy_called_from_outside_keras(torch):
    import keras

    refused = pytest.raises(TypeError, match="convert_to_numpy called directly at .*test_device_safety.py")
    with refusing_numpy(), refused:
        keras.ops.convert_to_numpy(torch.ones(3))


def test_numpy_conversion_works_again_after_the_guard(torch):
    tensor = torch.tensor([1.0, 2.0])
    with refusing_numpy():
        pass

    assert np.asarray(tensor).tolist() == [1.0, 2.0] and tensor.numpy().tolist() == [1.0, 2.0]


@pytest.mark.slow
def test_every_path_runs_on_pytorch_with_numpy_refused_as_on_a_cuda_device(torch, tatoeba_path, tmp_path):
    environment = {**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "tests.integration.device_paths", str(tatoeba_path), str(tmp_path)]
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=600)

    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["backend"] == "torch"
    assert "failed" not in result, result["failed"]["traceback"]
    assert result["ran"] == PATHS
    # The guard bites in that run: the old translator's `np.asarray` of a search state's flags is refused.
    assert result["guard"].startswith(CUDA_MESSAGE) and "device_paths.py" in result["guard"]
