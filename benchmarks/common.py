"""What the benchmark scripts share: the corpus location, the machine and writing results."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TATOEBA = ROOT.parent / "shared" / "data" / "tatoeba" / "fra-eng.txt"
RESULTS = ROOT / "benchmarks" / "results"


def machine() -> dict:
    """The core count, platform and Python version, recorded beside every result."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]}


def write_result(path: Path, result: dict) -> None:
    """Write `result` as indented JSON to `path` and say so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
