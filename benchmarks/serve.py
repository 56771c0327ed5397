"""Serving throughput and latency, with and without request batching, side by side.

Starts `seq2seq serve` on 127.0.0.1 (a free port, in a subprocess) once per mode, warms it up,
then runs N concurrent clients for T seconds: each sends one sentence per request (keep-alive
HTTP/1.1) until the time or its request budget is spent. Reports requests/s, sentences/s,
p50/p99 latency, errors (must be 0) and the mean batch the server decoded. Prints a table and
writes JSON. Without --model it trains a small model on the built-in number task first.

    python benchmarks/serve.py [--model M.keras] [--clients 16] [--seconds 15]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import ROOT, machine, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HOST = "127.0.0.1"  # loopback only


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a trained model (default: train a small one on the number task)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--max-requests", type=int, default=20_000, help="per client, a bound besides the time")
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "serve.json")
    args = parser.parse_args()

    from seq2seq.data.builtin_tasks import number_words_pairs

    model_path, description = args.model, f"given model {args.model}"
    if model_path is None:
        model_path, description = train_small_model(ROOT / "benchmarks" / "results" / "serve-numbers.keras")
    sentences = [source for source, _ in number_words_pairs(2_000, seed=7)]

    rows = []
    for mode, flags in [("batching", []), ("no batching", ["--no-batching"])]:
        with running_server(
            model_path, ["--max-batch", str(args.max_batch), "--max-wait-ms", str(args.max_wait_ms), *flags]
        ) as port:
            for text in sentences[:8]:  # compile the search before timing
                post(http.client.HTTPConnection(HOST, port, timeout=60), {"texts": [text]})
            before = get_json(port, "/info")["served"]
            measured = run_clients(port, sentences, args.clients, args.seconds, args.max_requests)
            after = get_json(port, "/info")["served"]
        batches = max(after["batches"] - before["batches"], 1)
        rows.append({"mode": mode, **measured, "mean_batch_sentences": round(measured["sentences"] / batches, 2)})

    print(f"\n{args.clients} clients for {args.seconds:g} s each, one sentence per request, {HOST}")
    print(
        f"{'mode':<12} {'requests':>9} {'req/s':>8} {'sent/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'batch':>6}"
    )
    for row in rows:
        print(
            f"{row['mode']:<12} {row['requests']:>9} {row['requests_per_second']:>8.1f} "
            f"{row['sentences_per_second']:>8.1f} "
            f"{row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} {row['errors']:>7} {row['mean_batch_sentences']:>6.1f}"
        )
    speedup = rows[0]["requests_per_second"] / max(rows[1]["requests_per_second"], 1e-9)
    print(f"batching serves {speedup:.1f}x the requests per second")
    result = {
        "benchmark": "serve",
        "model": description,
        "machine": machine(),
        "clients": args.clients,
        "seconds": args.seconds,
        "max_batch": args.max_batch,
        "max_wait_ms": args.max_wait_ms,
        "texts_per_request": 1,
        "results": rows,
        "batching_speedup_requests_per_second": round(speedup, 2),
    }
    write_result(args.out, result)
    return 1 if any(row["errors"] for row in rows) else 0


def train_small_model(path: Path) -> tuple[Path, str]:
    """A word-level LSTM with attention on 3,000 number pairs, a few epochs (reused when present)."""
    description = "LSTM 128 + luong-general attention, word tokens, 3,000 number-word pairs, 6 epochs"
    if path.is_file():
        return path, description
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.data.builtin_tasks import number_words_pairs
    from seq2seq.training.fit import train

    model_config = ModelConfig(units=128, embedding_dim=64, tokenizer="word", attention="luong-general")
    model = train(number_words_pairs(3_000, seed=0), model_config, TrainConfig(epochs=6, learning_rate=3e-3, verbose=2))
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path, description


class running_server:
    """`with running_server(model, flags) as port:` runs `seq2seq serve` on a free loopback port."""

    def __init__(self, model_path: Path, flags: list[str]):
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            self.port = probe.getsockname()[1]
        command = [
            sys.executable,
            "-m",
            "seq2seq.cli",
            "serve",
            str(model_path),
            "--host",
            HOST,
            "--port",
            str(self.port),
            *flags,
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self) -> int:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"seq2seq serve exited with status {self.process.returncode}")
            try:
                get_json(self.port, "/health")
                return self.port
            except OSError:
                time.sleep(0.25)
        raise RuntimeError("seq2seq serve did not start within 120 s")

    def __exit__(self, *exc_info) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def get_json(port: int, path: str) -> dict:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path)
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def post(connection: http.client.HTTPConnection, body: dict) -> int:
    """POST /translate on a kept-alive connection; the HTTP status."""
    connection.request("POST", "/translate", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    return response.status


def run_clients(port: int, sentences: list[str], clients: int, seconds: float, max_requests: int) -> dict:
    """`clients` threads posting one sentence per request until `seconds` pass; counts and latencies."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        pick = random.Random(index)
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        mine, failed = [], 0
        for _ in range(max_requests):
            if time.monotonic() >= deadline:
                break
            started = time.perf_counter()
            try:
                ok = post(connection, {"texts": [pick.choice(sentences)]}) == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=60)
            mine.append(time.perf_counter() - started)
            failed += not ok
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "sentences": len(ordered),
        "errors": errors[0],
        "elapsed_seconds": round(elapsed, 2),
        "requests_per_second": round(len(ordered) / elapsed, 1),
        "sentences_per_second": round(len(ordered) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(ordered), 1) if ordered else None,
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1) if ordered else None,
    }


if __name__ == "__main__":
    sys.exit(main())
