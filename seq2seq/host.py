"""Backend tensors to host NumPy arrays: the one way the package reads a tensor's values.

A tensor on an accelerator cannot simply become a NumPy array. PyTorch refuses
(`np.asarray` of a CUDA tensor raises "can't convert cuda:0 device type tensor to numpy");
JAX and TensorFlow copy silently, one transfer per call. Every place that needs a tensor's
values on the host goes through `to_host` or `to_host_tree`, which copy from whatever device
the tensor is on: a PyTorch tensor is copied to the CPU first, the others go through
`keras.ops.convert_to_numpy`. tests/integration/test_device_safety.py runs the package's paths
on PyTorch with NumPy conversions outside this module refused, as a CUDA device refuses them.

Two choices made here:
- bfloat16 arrives as float32. NumPy has no bfloat16 of its own (only the slow `ml_dtypes`
  one), and everything read on the host (scores, attention statistics, sentence vectors)
  wants float32; the cast runs on the device, before the copy.
- A 0-d tensor may be read with `float(x)`, `int(x)` or `bool(x)`: those work on every device
  and backend, but each one waits for the device, so a loop reads one array with `to_host`
  rather than many scalars one by one.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

# Dtypes NumPy cannot hold natively, and what they become on the host.
WIDENED = {"bfloat16": "float32"}


def is_backend_value(value) -> bool:
    """Whether `value` lives on a backend device: a backend tensor or a Keras variable."""
    return isinstance(value, keras.Variable) or ops.is_tensor(value)


def to_host(value, dtype=None) -> np.ndarray:
    """`value` as a NumPy array on the host, copied from its device where it is a tensor or variable.

    `value` is a backend tensor, a Keras variable, a NumPy array or Python numbers (nested
    lists of them too, but not lists of tensors: use `to_host_tree` for those). bfloat16
    becomes float32; `dtype`, where given, is then applied on the host.
    """
    if is_backend_value(value):
        if isinstance(value, keras.Variable):
            value = ops.copy(value)  # a tensor of its value: NumPy 2 warns on converting TensorFlow's variables
        wider = WIDENED.get(keras.backend.standardize_dtype(value.dtype))
        tensor = ops.cast(value, wider) if wider else value
        array = _torch_to_numpy(tensor) if keras.backend.backend() == "torch" else ops.convert_to_numpy(tensor)
    else:
        array = np.asarray(value)
    return array if dtype is None else array.astype(dtype, copy=False)


def _torch_to_numpy(tensor) -> np.ndarray:
    """A PyTorch tensor's values in a new host array.

    Not through `np.array(tensor)`, as Keras' conversion goes, which NumPy 2 warns about for
    PyTorch tensors (their `__array__` takes no `copy` argument). From a CPU tensor the array is
    copied, as Keras' conversion does, so that writing to it never changes the tensor.
    """
    array = tensor.detach().cpu().numpy()
    return array.copy() if tensor.device.type == "cpu" else array


def to_host_tree(structure):
    """The same structure of dicts, lists and tuples with every tensor and variable as a host NumPy array.

    Other leaves (NumPy arrays, numbers, strings, None) are left as they are.
    """
    return keras.tree.map_structure(lambda leaf: to_host(leaf) if is_backend_value(leaf) else leaf, structure)
