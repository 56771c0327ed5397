"""A stand-in for a CUDA device on a CPU-only machine: PyTorch tensors refuse NumPy conversion.

On a GPU, `np.asarray(t)`, `np.argmax(t)` or `t.numpy()` of a CUDA tensor raise "can't convert
cuda:0 device type tensor to numpy"; on the CPU the same calls succeed silently, so a test
run on the CPU never sees the crash. Inside `refusing_numpy()` every PyTorch tensor behaves
as a CUDA one does: `Tensor.numpy` and `Tensor.__array__` raise that error, while `float()`,
`int()`, `bool()`, `item()` and `tolist()` keep working (as they do on CUDA), and so does a
tensor made by `.cpu()`, which (as on CUDA) is then a new tensor. (`.to("cpu")` is left alone:
Keras relies on it returning the very tensor on the CPU; the package moves tensors by `.cpu()`.)

Keras' own `convert_to_numpy` moves a tensor to the CPU first on CUDA, but not on the CPU, so
its conversions are let through where Keras itself called it (`get_weights`, `predict`, logs)
or `seq2seq.host` did. Project code calling `keras.ops.convert_to_numpy` directly is refused,
although CUDA would allow it: the package has one way to the host.

JAX and TensorFlow arrays cannot be guarded this way: on the CPU they expose Python's buffer
protocol, which NumPy reads before `__array__`. Their conversions copy rather than crash on a
GPU, and the code paths are the backend-independent ones the PyTorch run covers.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from pathlib import Path

CUDA_MESSAGE = (
    "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."
)
HOST_MODULE = str(Path(__file__).resolve().parents[2] / "seq2seq" / "host.py")
GUARD_MODULE = str(Path(__file__).resolve())
# Frames between a call of `convert_to_numpy` and whoever asked for it: Keras' wrappers and the tree mappers.
PASS_THROUGH = (
    "/keras/src/ops/",
    "/keras/src/backend/",
    "/keras/src/tree/",
    "/keras/api/",
    "/torch/utils/_pytree.py",
    "/optree/",
)
ON_HOST = "_device_guard_on_host"  # marks a tensor that `.cpu()` made
_installed = threading.Lock()


def _refusal(caller) -> str | None:
    """Why the conversion asked for by `caller` is refused; None where it goes through Keras' `convert_to_numpy`
    called by Keras itself or by `seq2seq.host`."""
    converting, frame = False, caller
    while frame is not None:
        filename = frame.f_code.co_filename.replace("\\", "/")
        if converting and not any(part in filename for part in PASS_THROUGH):
            if "/keras/" in filename or filename == HOST_MODULE:
                return None
            where = f"{filename}:{frame.f_lineno}"
            return f"keras.ops.convert_to_numpy called directly at {where}; convert through seq2seq.host"
        if frame.f_code.co_name == "convert_to_numpy" and "/keras/src/backend/" in filename:
            converting = True
        frame = frame.f_back
    return f"{CUDA_MESSAGE} [device guard: a tensor reached NumPy outside seq2seq.host, at {_where(caller)}]"


def _where(frame) -> str:
    """The innermost caller outside NumPy, PyTorch, Keras and this module, as `file:line`."""
    while frame is not None:
        filename = frame.f_code.co_filename.replace("\\", "/")
        if not any(part in filename for part in ("/numpy/", "/torch/", "/keras/", GUARD_MODULE)):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "an unknown place"


def _refuse_unless_allowed(original):
    def guarded(tensor, *args, **kwargs):
        refusal = None if getattr(tensor, ON_HOST, False) else _refusal(sys._getframe(1))
        if refusal is not None:
            raise TypeError(refusal)
        return original(tensor, *args, **kwargs)

    return guarded


def _moving_to_host(original):
    """`Tensor.cpu` that, as on CUDA, returns a new tensor, marked as on the host."""

    def cpu(tensor, *args, **kwargs):
        moved = original(tensor, *args, **kwargs)
        moved = moved.clone() if moved is tensor else moved
        setattr(moved, ON_HOST, True)
        return moved

    return cpu


@contextlib.contextmanager
def refusing_numpy():
    """Inside, PyTorch tensors refuse NumPy except through Keras' `convert_to_numpy` (see the module's docstring)."""
    import torch

    if not _installed.acquire(blocking=False):
        raise RuntimeError("refusing_numpy() is already active; it does not nest.")
    replacements = {"numpy": _refuse_unless_allowed, "__array__": _refuse_unless_allowed, "cpu": _moving_to_host}
    names = tuple(replacements)
    own = {name: torch.Tensor.__dict__[name] for name in names if name in torch.Tensor.__dict__}  # others: inherited
    try:
        for name, replace in replacements.items():
            setattr(torch.Tensor, name, replace(getattr(torch.Tensor, name)))
        yield
    finally:
        for name in names:
            if name in own:
                setattr(torch.Tensor, name, own[name])
            else:
                delattr(torch.Tensor, name)
        _installed.release()
