"""Good clients beside one hostile client: do the good clients' requests all succeed, and how fast?

Starts `seq2seq serve` on 127.0.0.1 (a free port, in a subprocess, with its default limits) over
a small model trained for a few seconds, then runs N good clients (one number sentence per
request, greedy, kept-alive connections) for T seconds twice: alone (the baseline), and beside one
hostile client that cycles through the bodies of issue 29's findings 1, 2 and 5:
- a lone surrogate, alone and among good texts (finding 1: it failed every request of its batch);
- the request that held the worker ~4 minutes (64 texts of 1,000 characters, beam 32,
  min_length 999, max_length 1000), and the heaviest request within every cap, waited for and
  abandoned after a second (finding 2);
- a 56 MB body (declared; 4 KB sent), a foreign Host header, random bytes, and slow connections
  that send their headers one byte at a time (finding 5).
Every loop is bounded in count and time; only 127.0.0.1 is contacted. Prints a table and writes
benchmarks/results/hostile-clients.json.

    python benchmarks/hostile_clients.py [--clients 8] [--seconds 20]
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
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from common import ROOT, machine, write_result
from serve import HOST, get_json, post

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MAX_GOOD_REQUESTS = 20_000  # per client, a bound besides the time
MAX_HOSTILE_ACTIONS = 400
SLOW_CONNECTIONS = 20  # held open at once by the hostile client, one header byte per round each
LONG_TEXT = ("three thousand four hundred and fifty-six " * 30)[:1000]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--train-seconds", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hostile-clients.json")
    args = parser.parse_args()

    from seq2seq.data.builtin_tasks import number_words_pairs

    with tempfile.TemporaryDirectory() as folder:
        model_path, description = train_briefly(Path(folder) / "numbers.keras", args.train_seconds)
        sentences = [source for source, _ in number_words_pairs(2_000, seed=7)]
        log = Path(folder) / "serve.log"
        with open(log, "w") as log_file, served(model_path, log_file) as port:
            for text in sentences[:8]:  # compile the greedy search before timing
                post(http.client.HTTPConnection(HOST, port, timeout=60), {"texts": [text]})
            baseline = run_clients(port, sentences, args.clients, args.seconds)
            lines_before = len(log.read_text().splitlines())
            hostile: dict = {}
            attacker = threading.Thread(target=attack, args=(port, sentences, args.seconds, hostile))
            attacker.start()
            under_attack = run_clients(port, sentences, args.clients, args.seconds)
            attacker.join()
            healthy = get_json(port, "/health") == {"status": "ok"}
            log_lines = len(log.read_text().splitlines()) - lines_before

    rows = [
        {"run": "baseline (good clients only)", **baseline, "hostile_requests": 0},
        {"run": "with one hostile client", **under_attack, "hostile_requests": hostile["requests"]},
    ]
    print(f"\n{args.clients} good clients for {args.seconds:g} s, one sentence per request, {HOST}")
    print(f"model: {description}")
    print(f"{'run':<30} {'sent':>7} {'ok':>7} {'failed':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'hostile':>8}")
    for row in rows:
        print(
            f"{row['run']:<30} {row['sent']:>7} {row['succeeded']:>7} {row['failed']:>7} {row['p50_ms']:>8.1f} "
            f"{row['p95_ms']:>8.1f} {row['max_ms']:>8.1f} {row['hostile_requests']:>8}"
        )
    print("\nhostile requests by kind: status codes (count)")
    for kind in hostile["kinds"]:
        shown = ", ".join(f"{item['status']} ({item['count']})" for item in kind["statuses"])
        print(f"  {kind['kind']:<44} {kind['sent']:>4} sent: {shown}")
    slow = hostile["slow_connections"]
    print(
        f"  slow connections: {slow['opened']} opened, {slow['closed_by_server']} closed by the server, "
        f"longest seen open {slow['longest_held_s']} s; {log_lines} log lines; healthy after: {healthy}"
    )
    result = {
        "benchmark": "hostile-clients",
        "model": description,
        "machine": machine(),
        "clients": args.clients,
        "seconds": args.seconds,
        "server_flags": "defaults (--deadline 30, --max-work 200000, --max-body-bytes 1048576, --read-timeout 10)",
        "results": rows,
        "hostile": hostile,
        "server_log_lines_during_attack": log_lines,
        "healthy_after": healthy,
    }
    write_result(args.out, result)
    return 0 if under_attack["failed"] == 0 and healthy else 1


def train_briefly(path: Path, seconds: float) -> tuple[Path, str]:
    """An LSTM 128 with attention over word tokens, trained on 3,000 number pairs for `seconds`."""
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.data.builtin_tasks import number_words_pairs
    from seq2seq.training.fit import train

    model_config = ModelConfig(units=128, embedding_dim=64, tokenizer="word", attention="luong-general")
    train_config = TrainConfig(epochs=100, max_time=seconds, learning_rate=3e-3, verbose=0)
    model = train(number_words_pairs(3_000, seed=0), model_config, train_config)
    model.save(path)
    epochs = model.training_summary.get("epochs")
    architecture = "LSTM 128 + luong-general attention, word tokens"
    return path, f"{architecture}, 3,000 number pairs, {epochs} epochs in {seconds:g} s"


class served:
    """`with served(model, log) as port:` runs `seq2seq serve` with its default limits on a free loopback port."""

    def __init__(self, model_path: Path, log):
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
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)

    def __enter__(self) -> int:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                get_json(self.port, "/health")
                return self.port
            except OSError:
                time.sleep(0.25)
        self.__exit__()
        raise RuntimeError("seq2seq serve did not start within 120 s")

    def __exit__(self, *exc_info) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def run_clients(port: int, sentences: list[str], clients: int, seconds: float) -> dict:
    """`clients` threads posting one sentence per request until `seconds` pass; counts and latencies."""
    latencies: list[float] = []
    failures = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        pick = random.Random(index)
        connection = http.client.HTTPConnection(HOST, port, timeout=120)
        mine, failed = [], Counter()
        for _ in range(MAX_GOOD_REQUESTS):
            if time.monotonic() >= deadline:
                break
            started = time.perf_counter()
            try:
                status = post(connection, {"texts": [pick.choice(sentences)]})
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=120)
            mine.append(time.perf_counter() - started)
            if status != 200:
                failed[str(status)] += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            failures.update(failed)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return {
        "sent": len(ordered),
        "succeeded": len(ordered) - sum(failures.values()),
        "failed": sum(failures.values()),
        "failures": dict(failures),
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max_ms": round(1000 * ordered[-1], 1),
    }


def attack(port: int, sentences: list[str], seconds: float, report: dict) -> None:
    """One hostile client: the bodies of findings 1, 2 and 5 in turn, plus slow connections, for `seconds`."""
    heaviest = {"texts": [LONG_TEXT] * 50, "beam": 4, "min_length": 256, "max_length": 1000}  # work 200,000
    finding_2 = {"texts": [LONG_TEXT] * 64, "beam": 32, "min_length": 999, "max_length": 1000}
    rebound, good = b'{"texts": ["Go"]}', sentences[:3]
    actions = [  # (kind, action(seconds left) -> status)
        ("lone surrogate", lambda left: send_json(port, {"texts": ["x\udce9"]}, left)),
        ("lone surrogate among 3 good texts", lambda left: send_json(port, {"texts": [*good, "\ud800"]}, left)),
        ("finding 2: beam 32, min_length 999, 64 x 1,000 chars", lambda left: send_json(port, finding_2, left)),
        ("heaviest within the caps, abandoned after 1 s", lambda left: send_json(port, heaviest, min(left, 1.0))),
        ("56 MB body (4 KB sent)", lambda left: send_raw(port, "Content-Length: 56000000", b"{" * 4096, left)),
        ("foreign Host header", lambda left: send_raw(port, "Content-Length: 17", rebound, left, "rebound.example")),
        ("random bytes", lambda left: send_raw(port, "Content-Length: 48", random.Random(left).randbytes(48), left)),
        ("heaviest within the caps (work 200,000)", lambda left: send_json(port, heaviest, left)),
    ]
    statuses: dict[str, Counter] = {name: Counter() for name, _ in actions}
    slow = SlowConnections(port)
    deadline = time.monotonic() + seconds
    for turn in range(MAX_HOSTILE_ACTIONS):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        slow.tick()
        name, action = actions[turn % len(actions)]
        statuses[name][action(max(left, 0.5))] += 1
    slow.close()
    report["requests"] = sum(sum(counts.values()) for counts in statuses.values())
    report["kinds"] = [
        {
            "kind": name,
            "sent": sum(counts.values()),
            "statuses": [{"status": status, "count": count} for status, count in sorted(counts.items(), key=str)],
        }
        for name, counts in statuses.items()
    ]
    report["slow_connections"] = slow.summary()


def send_json(port: int, body: dict, wait: float):
    """POST /translate on a new connection; the status, or "gave up" when not answered within `wait` seconds."""
    data = json.dumps(body).encode()
    return send_raw(port, f"Content-Length: {len(data)}", data, wait)


def send_raw(port: int, framing: str, body: bytes, wait: float, host: str = HOST):
    """Send a POST /translate with `framing` and `body` on a new connection; the status read back."""
    head = f"POST /translate HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    try:
        with socket.create_connection((HOST, port), timeout=wait) as connection:
            connection.sendall(head.encode() + body)
            answer = connection.recv(64)
    except socket.timeout:
        return "gave up"  # the client leaves; the server cancels what is left of the request
    except OSError as error:
        return type(error).__name__
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else "closed"


class SlowConnections:
    """Connections that send their request headers one byte per round, kept at `SLOW_CONNECTIONS` open."""

    def __init__(self, port: int):
        self.port = port
        self.open: list[tuple[socket.socket, float, int]] = []  # connection, opened at, bytes sent
        self.opened = self.closed = 0
        self.longest = 0.0
        self.header = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4096

    def tick(self) -> None:
        kept = []
        for connection, opened, sent in self.open:
            try:
                connection.send(self.header[sent : sent + 1])
                kept.append((connection, opened, sent + 1))
            except OSError:
                self.closed += 1
                self.longest = max(self.longest, time.monotonic() - opened)
                connection.close()
        self.open = kept
        while len(self.open) < SLOW_CONNECTIONS:
            connection = socket.create_connection((HOST, self.port), timeout=5)
            self.open.append((connection, time.monotonic(), 0))
            self.opened += 1

    def close(self) -> None:
        for connection, opened, _ in self.open:
            self.longest = max(self.longest, time.monotonic() - opened)
            connection.close()

    def summary(self) -> dict:
        """Counts, and the longest a connection was seen open: the client looks only between its other
        requests, so a connection the server closed is noticed up to one request later."""
        return {"opened": self.opened, "closed_by_server": self.closed, "longest_held_s": round(self.longest, 1)}


if __name__ == "__main__":
    sys.exit(main())
