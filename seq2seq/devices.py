"""Which device this process trains and translates on, in one phrase, and a hint for a GPU left unused.

Keras computes on the device its backend picks: JAX and PyTorch (`torch.cuda.is_available()`)
take a GPU they can use, TensorFlow its first visible GPU. A GPU the backend cannot use leaves
everything on the CPU without a word: the default install brings `tensorflow-cpu` on Linux, and
PyTorch's CPU wheel or JAX without its CUDA plugin see no GPU. `device_line()` names the device
(`seq2seq train` prints it first, `seq2seq info` too) and adds a one-line hint where an NVIDIA
GPU is present but unused, naming the fix: the extra to install, or the `KERAS_BACKEND` to choose.

Cheap by design: describing the device asks only the active backend (which training imports
anyway; TensorFlow's physical device list, which leaves its thread settings open). Looking for
an unused GPU reads `/proc` or runs `nvidia-smi -L`, and judges the other backends from their
installed packages' metadata, importing none. `probe_backends()` asks each installed backend in
a process of its own, only when called (`seq2seq info --backends`).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch", "numpy": "NumPy", "openvino": "OpenVINO"}
BACKENDS = ("jax", "torch", "tensorflow")  # the GPU backends, in the order a hint proposes them
GPU_FIX = {  # for a backend whose installed build runs on the CPU only: how to get its CUDA build (docs/backends.md)
    "jax": "pip install 'keras-seq2seq[gpu-jax]'",
    "torch": "pip uninstall torch, then pip install 'keras-seq2seq[gpu-torch]'",
    "tensorflow": "pip install 'keras-seq2seq[gpu-jax]' and set KERAS_BACKEND=jax",
}
NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")  # one folder per GPU where the NVIDIA driver is loaded
PROBE_SECONDS = 180  # the most one backend may take to start and list its devices in `probe_backends`


@dataclass(frozen=True)
class Device:
    """Where a backend computes: `kind` is "cpu", "gpu", "tpu" or "mps" (Apple); `name` the accelerator's model."""

    backend: str  # the Keras backend: "tensorflow", "jax", "torch", ...
    kind: str
    name: str = ""
    visible: int = 1  # accelerators the backend sees; Keras computes on the first (--distribute: all, TF and JAX)
    cores: int = 1  # CPU cores this process may run on

    def describe(self) -> str:
        """One phrase: "JAX on 1 GPU (NVIDIA H200)", "TensorFlow on the CPU (2 cores)"."""
        backend = NAMES.get(self.backend, self.backend)
        if self.kind == "cpu":
            return f"{backend} on the CPU ({self.cores} core{'s' if self.cores != 1 else ''})"
        if self.kind == "mps":
            return f"{backend} on the Apple GPU (mps)"
        unit = self.kind.upper()
        count = f"1 {unit}" if self.visible <= 1 else f"1 of {self.visible} {unit}s"
        return f"{backend} on {count}" + (f" ({self.name})" if self.name else "")


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system tells)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def current_device() -> Device:
    """The device the active Keras backend computes on (imports Keras and that backend only)."""
    import keras

    backend = keras.backend.backend()
    found = {"tensorflow": _tensorflow_device, "jax": _jax_device, "torch": _torch_device}.get(backend)
    kind, name, visible = found() if found else ("cpu", "", 1)
    return Device(backend, kind, name, visible, cpu_cores())


def _tensorflow_device() -> tuple[str, str, int]:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")  # unlike the logical list, this leaves TensorFlow unstarted
    if not gpus:
        return "cpu", "", 1
    return "gpu", tf.config.experimental.get_device_details(gpus[0]).get("device_name", ""), len(gpus)


def _jax_device() -> tuple[str, str, int]:
    import jax

    devices = jax.devices()  # the default platform's: an accelerator where jax has one, else the CPU
    platform = devices[0].platform
    if platform == "cpu":
        return "cpu", "", 1
    return ("gpu" if platform in ("gpu", "cuda", "rocm") else platform), devices[0].device_kind, len(devices)


def _torch_device() -> tuple[str, str, int]:
    import keras
    import torch

    # Where Keras' torch backend puts tensors: KERAS_TORCH_DEVICE, else mps or cuda where available, else the CPU.
    device = keras.ops.zeros((1,)).device
    if device.type == "cuda":
        return "gpu", torch.cuda.get_device_name(device), torch.cuda.device_count()
    return ("mps", "", 1) if device.type == "mps" else ("cpu", "", 1)


def nvidia_gpus() -> list[str]:
    """The NVIDIA GPUs of this machine by model name, without importing any backend; [] where none is visible.

    `CUDA_VISIBLE_DEVICES` set empty or to -1 hides them on purpose, so none counts then.
    """
    if os.environ.get("CUDA_VISIBLE_DEVICES", "0").strip() in ("", "-1"):
        return []
    if shutil.which("nvidia-smi"):
        try:
            listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
        # One line per GPU: "GPU 0: NVIDIA H200 (UUID: GPU-...)".
        gpu_lines = [line for line in listed.splitlines() if line.startswith("GPU ")]
        names = [line.split(":", 1)[1].split("(UUID")[0].strip() for line in gpu_lines]
        if names:
            return names
    try:
        folders = sorted(NVIDIA_PROC.iterdir())
    except OSError:
        return []
    return [_proc_model(folder) for folder in folders]


def _proc_model(folder: Path) -> str:
    """The model line of the driver's `information` file ("Model: NVIDIA H200"), or "NVIDIA GPU"."""
    try:
        for line in (folder / "information").read_text(errors="replace").splitlines():
            if line.startswith("Model:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "NVIDIA GPU"


def cuda_builds() -> dict[str, bool]:
    """For each GPU backend, whether its installed build can use an NVIDIA GPU, read from package metadata only."""
    return {backend: _installed_cuda_build(backend) for backend in BACKENDS}


def _installed_cuda_build(backend: str) -> bool:
    if backend == "jax":
        plugins = ("jax-cuda12-plugin", "jax-cuda13-plugin")
        return any(_version(plugin) for plugin in plugins) or "+cuda" in (_version("jaxlib") or "")
    if backend == "tensorflow":  # the `tensorflow` package on Linux is built for CUDA; `tensorflow-cpu` is not
        return sys.platform.startswith("linux") and _version("tensorflow") is not None
    version = _version("torch")
    return version is not None and is_cuda_torch(version, importlib.metadata.requires("torch") or [])


def is_cuda_torch(version: str, requires: list[str]) -> bool:
    """Whether a torch build is for CUDA: a `+cu…` local version, or CUDA packages required (PyPI's Linux wheels)."""
    local = version.partition("+")[2]
    if local:
        return local.startswith("cu")
    return any(requirement.startswith(("nvidia-", "cuda-toolkit")) for requirement in requires)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def unused_gpu_hint(device: Device, gpus: list[str] | None = None, builds: dict[str, bool] | None = None) -> str | None:
    """One line naming the fix where an NVIDIA GPU is present but `device` is the CPU; None otherwise."""
    if device.kind != "cpu":
        return None
    gpus = nvidia_gpus() if gpus is None else gpus
    if not gpus:
        return None
    builds = cuda_builds() if builds is None else builds
    gpu, active = f"an NVIDIA GPU ({gpus[0]})", NAMES.get(device.backend, device.backend)
    if builds.get(device.backend):
        return (
            f"{gpu} is present, but {active}, built for CUDA, does not see it: check that the driver suits "
            "its CUDA version (nvidia-smi) and that CUDA_VISIBLE_DEVICES does not hide it."
        )
    others = [backend for backend in BACKENDS if backend != device.backend and builds.get(backend)]
    if others:
        usable = others[0]  # the first of BACKENDS
        return (
            f"{gpu} is present but {active} runs on the CPU; {NAMES[usable]} here can use it: "
            f"set KERAS_BACKEND={usable}."
        )
    fix = GPU_FIX.get(device.backend, GPU_FIX["tensorflow"])
    return f"{gpu} is present but {active} runs on the CPU: {fix} (see docs/backends.md)."


def device_line() -> str:
    """`Device: <phrase>.`, and a second line `Hint: ...` where a GPU sits unused (what `seq2seq train` says first)."""
    device = current_device()
    hint = unused_gpu_hint(device)
    return f"Device: {device.describe()}." + (f"\nHint: {hint}" if hint else "")


def installed_backends() -> list[str]:
    """The GPU backends whose module is installed (found, not imported)."""
    return [backend for backend in BACKENDS if importlib.util.find_spec(backend) is not None]


def probe_backends(backends=None) -> dict[str, str]:
    """Each backend's device phrase, asked in a process of its own (a backend is fixed per process), all at once.

    Not installed, or failing to start, gives a phrase that says so.
    """
    backends = installed_backends() if backends is None else list(backends)
    code = "from seq2seq.devices import current_device; print(current_device().describe())"
    running = {}
    for backend in backends:
        environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        running[backend] = subprocess.Popen(
            [sys.executable, "-c", code], env=environment, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    found = {}
    for backend, process in running.items():
        try:
            out, err = process.communicate(timeout=PROBE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            found[backend] = f"{NAMES.get(backend, backend)}: no answer within {PROBE_SECONDS} s"
            continue
        started = process.returncode == 0
        last = ((out if started else err).strip().splitlines() or ["(no output)"])[-1]
        found[backend] = last if started else f"{NAMES.get(backend, backend)} failed to start: {last}"
    return found
