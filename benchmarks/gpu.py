"""Training and decoding on a GPU, each installed backend in turn: speed, GPU use and quality, in under 8 minutes.

For each backend (JAX, PyTorch, and TensorFlow where installed), in a process of its own since
the backend is fixed per process: the default `attention` preset is trained with `seq2seq.train`
for a short time budget (`--max-time`) on quality.py's split of the corpus (2,000 held-out English
sentences, split seed 12345, so BLEU compares with the CPU's figures there), measuring
- the first step (compiling) and the step time (median) and target tokens/s at steady state,
  the last half of the training time, validations left out;
- how busy the GPU was then (nvidia-smi's utilization.gpu, sampled twice a second in a
  background thread; null without nvidia-smi) and the most GPU memory used;
- greedy (batch 1,024) and beam-5 (batch 256) sentences/s on `--sentences` training sources,
  timed after a warm-up run of the same sentences that compiles every shape;
- beam-5 BLEU and chrF of the held-out sentences (sacrebleu, all references).
Prints a table; writes JSON to benchmarks/results/gpu.json when a GPU is present, or to --out.
`--quick` is a smoke run for a CPU (a slice of the corpus, a small model, seconds of training):
it shows the script works end to end, its figures mean nothing. On a GPU machine without
network, see benchmarks/gpu_wheels.sh for the wheels and corpus to carry there.

    python benchmarks/gpu.py [--data PATH] [--max-time auto|90s] [--backends jax,torch] [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import RESULTS, ROOT, TATOEBA, machine, write_result

sys.path.insert(0, str(ROOT))  # the package itself, also where it is not installed (PYTHONPATH or not)

from seq2seq.devices import installed_backends, nvidia_gpus  # noqa: E402  (imports no backend)

BUDGET_SECONDS = 420  # the training time of all backends together, with OTHER_SECONDS each, by default
DEADLINE_SECONDS = 470  # on a GPU, the whole run stops each backend at its share of this (under 8 minutes)
OTHER_SECONDS = 100  # per backend besides training: start, vocabularies, decoding, scoring
QUICK = {"limit": 4000, "test_sources": 200, "sentences": 256, "max_time": 15.0}
SAMPLE_SECONDS = 0.5


class GpuSampler:
    """nvidia-smi's utilization.gpu (%) and memory.used (MiB) of the GPU this process uses, in a background thread."""

    def __init__(self):
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
        self.command = [
            "nvidia-smi",
            f"--id={visible or 0}",
            "--query-gpu=utilization.gpu,memory.used",
            "--format=csv,noheader,nounits",
        ]
        self.samples: list[tuple[float, float, float]] = []  # (time, busy %, memory MiB)
        self.running = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self.running.set()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running.clear()
        self.thread.join()

    def _sample(self) -> None:
        while self.running.is_set():
            try:
                line = subprocess.run(self.command, capture_output=True, text=True, timeout=5).stdout.strip()
                busy, memory = (float(value) for value in line.splitlines()[0].split(","))
            except (OSError, subprocess.SubprocessError, ValueError, IndexError):
                return  # no nvidia-smi, or no GPU it can read: no samples, so busy is null
            self.samples.append((time.perf_counter(), busy, memory))
            time.sleep(SAMPLE_SECONDS)

    def busy(self, start: float, end: float, gaps=()) -> float | None:
        """Mean utilization between `start` and `end`, leaving out the (begin, end) `gaps`; None without samples."""
        values = [busy for at, busy, _ in self.samples if start <= at <= end and not any(a <= at <= b for a, b in gaps)]
        return round(statistics.fmean(values), 1) if values else None

    def peak_memory(self) -> float | None:
        return max((memory for _, _, memory in self.samples), default=None)


def step_clock():
    """A Keras callback that records when each training step begins and ends, and each validation's span."""
    import keras

    class StepClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.begins, self.ends, self.validations = [], [], []

        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            self.begins.append(time.perf_counter())

        def on_train_batch_end(self, batch, logs=None):  # after Keras has read the step's loss: the device is done
            self.ends.append(time.perf_counter())

        def on_test_begin(self, logs=None):
            self.validations.append((time.perf_counter(), None))

        def on_test_end(self, logs=None):
            self.validations[-1] = (self.validations[-1][0], time.perf_counter())

    return StepClock()


def steady_state(clock, sampler: GpuSampler, tokens_per_step: float) -> dict:
    """Compile time, step time, tokens/s and GPU use over the last half of the training time."""
    durations = [end - begin for begin, end in zip(clock.begins, clock.ends)]
    if len(durations) < 4:
        first = round(clock.ends[0] - clock.started, 2) if clock.ends else None
        return {"steps": len(durations), "first_step_seconds": first, "error": "too few steps for a steady state"}
    first_end, last_end = clock.ends[0], clock.ends[-1]
    half = first_end + (last_end - first_end) / 2
    gaps = [(begin, end) for begin, end in clock.validations if end is not None]
    window = [
        i
        for i in range(1, len(clock.ends))
        if clock.ends[i - 1] >= half and not any(clock.ends[i - 1] <= a <= clock.ends[i] for a, _ in gaps)
    ]  # no validation between two steps
    seconds = sum(clock.ends[i] - clock.ends[i - 1] for i in window)
    median = statistics.median(durations[1:])
    slow = [d for d in durations[1:] if d > 5 * median]  # new shapes compiling, mostly
    return {
        "steps": len(durations),
        "first_step_seconds": round(clock.ends[0] - clock.started, 2),
        "steady_steps": len(window),
        "step_ms": round(1000 * statistics.median(durations[i] for i in window), 1) if window else None,
        "target_tokens_per_second": round(len(window) * tokens_per_step / seconds) if seconds else None,
        "gpu_busy_percent": sampler.busy(half, last_end, gaps),
        "slow_steps": len(slow),
        "slow_steps_seconds": round(sum(slow), 1),
        "validation_seconds": round(sum(end - begin for begin, end in gaps), 1),
    }


def sentences_per_second(model, sentences, sampler: GpuSampler, **search) -> dict:
    """A warm-up run (compiles every shape), then a timed run of the same sentences."""
    model.translate(sentences, **search)
    started = time.perf_counter()
    model.translate(sentences, **search)
    ended = time.perf_counter()
    speed = round(len(sentences) / (ended - started))
    return {"sentences_per_second": speed, "gpu_busy_percent": sampler.busy(started, ended)}


def measure_backend(args) -> None:
    """Child: train, score and decode on this process's backend, writing `args.out` after each part.

    A part that fails is recorded under "errors" and the others still run.
    """
    import keras

    from seq2seq.training.process_setup import configure_training_threads

    configure_training_threads()  # TensorFlow on a CPU only, before it starts

    import seq2seq
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.data.corpus import split_pairs
    from seq2seq.data.pipeline import EncodedPairs
    from seq2seq.devices import current_device
    from seq2seq.evaluation.scores import group_references, score_translations
    from seq2seq.training.fit import training_batches, validation_split

    backend = keras.backend.backend()
    version = importlib.import_module(backend).__version__
    result = {"device": current_device().describe(), "keras": keras.version(), backend: version, "errors": {}}
    pairs = seq2seq.read_tatoeba(args.data, limit=QUICK["limit"] if args.quick else None).pairs
    sources_total = len({source for source, _ in pairs})
    train_pairs, test_pairs = split_pairs(pairs, args.test_sources / sources_total, seed=args.split_seed)
    test_sources, references = group_references(test_pairs)
    small = {"units": 64, "embedding_dim": 64, "vocab_size": 1000} if args.quick else {}
    train_config = TrainConfig(max_time=args.max_time, epochs=100_000, verbose=0)
    clock = step_clock()
    with GpuSampler() as sampler:
        model_config = ModelConfig.from_preset("attention", **small)
        model = seq2seq.train(train_pairs, model_config, train_config, callbacks=[clock])
        fitted, _ = validation_split(train_pairs, train_config)
        encoded = EncodedPairs.encode(fitted, model.source_vocab, model.target_vocab)
        tokens = int(encoded.target_lengths.sum()) + len(encoded)  # pieces and an end token per sentence (quality.py)
        tokens_per_step = tokens / len(training_batches(model, encoded, train_config.batch_size))
        result["training"] = {
            **steady_state(clock, sampler, tokens_per_step),
            "seconds": model.training_summary.get("seconds"),
            "epochs": model.training_summary.get("epochs"),
            "best_validation_loss": model.training_summary.get("best_validation_loss"),
            "peak_gpu_memory_mib": sampler.peak_memory(),
        }
        write_result(args.out, result)  # after each part, so a run stopped at its time limit keeps what it measured

        def measure(name: str, run) -> None:
            try:
                result[name] = run()
            except Exception as error:  # noqa: BLE001  (recorded; the other parts still run)
                result["errors"][name] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            write_result(args.out, result)

        def quality() -> dict:
            started = time.perf_counter()
            scores = score_translations(model.translate(test_sources, beam=5), references)
            return {**scores, "beam": 5, "seconds": round(time.perf_counter() - started, 1)}

        measure("quality", quality)
        sentences = sorted({source for source, _ in train_pairs})[: args.sentences]
        for name, search in (("greedy", {"batch_size": 1024}), ("beam5", {"beam": 5, "batch_size": 256})):
            measure(name, lambda search=search: {**search, **sentences_per_second(model, sentences, sampler, **search)})


def run_backend(args, backend: str, folder: str, timeout: float) -> dict:
    """Run the child for `backend` for at most `timeout` seconds: what it measured, and how it ended if not well."""
    out = Path(folder) / f"{backend}.json"
    log = Path(folder) / f"{backend}.log"
    command = [
        sys.executable,
        __file__,
        "--child",
        "--data",
        str(args.data),
        "--max-time",
        str(args.max_time),
        "--test-sources",
        str(args.test_sources),
        "--split-seed",
        str(args.split_seed),
        "--sentences",
        str(args.sentences),
        "--out",
        str(out),
    ]
    command += ["--quick"] if args.quick else []
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        with open(log, "w", encoding="utf-8") as stream:
            status = subprocess.run(
                command, env=environment, stdout=stream, stderr=subprocess.STDOUT, timeout=timeout
            ).returncode
    except subprocess.TimeoutExpired:
        status = f"stopped after {timeout:.0f} s"
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    ended = f"exit {status}: {lines[-1] if lines else '(no output)'}"
    if not out.is_file():
        return {"backend": backend, "error": ended, "log_tail": lines[-20:]}
    row = {"backend": backend, **json.loads(out.read_text(encoding="utf-8"))}
    if status != 0:
        row["errors"]["ended"] = ended
    return row


def print_table(rows: list[dict]) -> None:
    def get(row, part, key):
        value = row.get(part, {}).get(key)
        return "-" if value is None else value

    print(
        f"\n{'backend':<11} {'device':<34} {'1st step s':>10} {'step ms':>8} {'tok/s':>8} {'busy %':>7} "
        f"{'greedy/s':>9} {'beam5/s':>8} {'BLEU':>6} {'chrF':>6}"
    )
    for row in rows:
        if "error" in row:
            print("\n".join(f"  {line}" for line in row["log_tail"][-6:]))
            print(f"{row['backend']:<11} failed: {row['error']}")
            continue
        print(
            f"{row['backend']:<11} {row['device'][:34]:<34} {get(row, 'training', 'first_step_seconds'):>10} "
            f"{get(row, 'training', 'step_ms'):>8} {get(row, 'training', 'target_tokens_per_second'):>8} "
            f"{get(row, 'training', 'gpu_busy_percent'):>7} {get(row, 'greedy', 'sentences_per_second'):>9} "
            f"{get(row, 'beam5', 'sentences_per_second'):>8} {get(row, 'quality', 'bleu'):>6} "
            f"{get(row, 'quality', 'chrf'):>6}"
        )
        for part, error in row.get("errors", {}).items():
            print(f"{'':<11} {part} failed: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--data", type=Path, default=TATOEBA, help="a Tatoeba/Anki corpus (../shared/data/tatoeba/fra-eng.txt)")
    add("--max-time", default="auto", help="training time per backend (90s, 2m); auto: 8 minutes shared out")
    add("--backends", help="comma-separated, of jax, torch, tensorflow (default: every one installed)")
    add("--test-sources", type=int, help="held-out English sentences (2000; --quick 200)")
    add("--split-seed", type=int, default=12345)
    add("--sentences", type=int, help="sentences per decoding speed run (8192; --quick 256)")
    add("--quick", action="store_true", help="a CPU smoke run: 4,000 pairs, a small model, 15 s of training")
    add("--out", type=Path, help="the JSON to write (default: benchmarks/results/gpu.json on a GPU, else none)")
    add("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.test_sources = args.test_sources or (QUICK["test_sources"] if args.quick else 2000)
    args.sentences = args.sentences or (QUICK["sentences"] if args.quick else 8192)
    if not args.data.is_file():
        print(f"skipped: no corpus at {args.data} (pass --data)")
        return 0
    if args.child:
        args.max_time = float(args.max_time)
        measure_backend(args)
        return 0

    backends = args.backends.split(",") if args.backends else installed_backends()
    gpus = nvidia_gpus()
    args.max_time = seconds_per_backend(args.max_time, len(backends), args.quick)
    out = args.out or (RESULTS / "gpu.json" if gpus and not args.quick else None)
    print(
        f"GPUs: {', '.join(gpus) or 'none'}; backends: {', '.join(backends)}; training {args.max_time:g} s each",
        flush=True,
    )
    rows, deadline = [], time.monotonic() + DEADLINE_SECONDS
    with tempfile.TemporaryDirectory() as folder:
        for left, backend in zip(range(len(backends), 0, -1), backends):
            # Its share of the time left (no less than its training and two minutes); on a CPU, no limit but that.
            share = (deadline - time.monotonic()) / left if gpus and not args.quick else 0
            print(f"{backend} ...", flush=True)
            rows.append(run_backend(args, backend, folder, timeout=max(share, args.max_time + 120)))
    print_table(rows)
    result = {
        "benchmark": "gpu",
        "machine": machine(),
        "gpus": gpus,
        "command": "python benchmarks/gpu.py " + " ".join(sys.argv[1:]),
        "data": f"{args.data.name}, {args.test_sources} held-out English sentences (split seed {args.split_seed})",
        "quick": args.quick,
        "training_seconds_per_backend": args.max_time,
        "backends": rows,
    }
    if out:
        write_result(out, result)
    return 0


def seconds_per_backend(text: str, backends: int, quick: bool) -> float:
    """`--max-time` in seconds; `auto` shares the budget among the backends (30 s to 2 minutes each)."""
    if text != "auto":  # (seq2seq.training.stopping.parse_duration would import Keras, and TensorFlow with it, here)
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
        if not match or float(match.group(1)) <= 0:
            raise SystemExit(f"--max-time: expected auto or a duration such as 90s or 2m, got {text!r}")
        return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    if quick:
        return QUICK["max_time"]
    return float(min(120, max(30, BUDGET_SECONDS // max(backends, 1) - OTHER_SECONDS)))


if __name__ == "__main__":
    sys.exit(main())
