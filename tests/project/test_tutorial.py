"""The tutorial stays honest: its builder runs every step, and the code it shows is the code it runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.S)


def test_the_tutorial_builder_runs_every_step_and_shows_the_committed_code(tatoeba_path, tmp_path):
    out = tmp_path / "tutorial.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "build_tutorial.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    built = out.read_text(encoding="utf-8")
    committed = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    assert python_blocks(built) == python_blocks(committed)
    assert "identical: 5 of 5" in built and "identical: 5 of 5" in committed
    assert (tmp_path / "attention.png").read_bytes()[:4] == b"\x89PNG"
    headings = re.findall(r"^## .*$", committed, flags=re.M)
    assert headings == re.findall(r"^## .*$", built, flags=re.M) and len(headings) == 6
