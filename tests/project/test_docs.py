"""The documentation stays true: the README's tour runs, and the docs' benchmark tables show the committed results."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# A table is tagged with the results files its figures come from: <!-- results: benchmarks/results/a.json ... -->
RESULTS_TAG = re.compile(r"<!-- results: ((?:benchmarks/results/[\w.-]+\.json ?)+) -->\n((?:\|.*\|\n)+)")
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?![\w])")
# What the tour's test changes so that it runs in about a minute: the time budget.
QUICK = {"--max-time 20m": "--max-time 20s"}


def result_tables() -> list[tuple[Path, str, str]]:
    """(page, results file, table) for every table tagged with the results file it comes from."""
    pages = [README, *sorted(DOCS.glob("*.md"))]
    return [
        (page, name, table) for page in pages for name, table in RESULTS_TAG.findall(page.read_text(encoding="utf-8"))
    ]


def numbers_in(value) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [number for item in value.values() for number in numbers_in(item)]
    if isinstance(value, list):
        return [number for item in value for number in numbers_in(item)]
    if isinstance(value, str):  # numbers kept in text, such as a training log line
        return [float(text.replace(",", "")) for text in NUMBER.findall(value)]
    return []


def shown_numbers(table: str) -> list[str]:
    """The numbers in a table's cells, leaving out the header row and the first (label) column."""
    rows = [row.strip().strip("|").split("|") for row in table.strip().splitlines()]
    cells = [cell for row in rows[2:] for cell in row[1:]]
    return [number for cell in cells for number in NUMBER.findall(cell)]


def is_shown_rounding(shown: str, values: list[float]) -> bool:
    """Whether `shown` is one of `values` rounded to the decimals shown (or a share shown in per cent)."""
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    number = float(shown.replace(",", ""))
    tolerance = 0.5 * 10**-decimals + 1e-9
    return any(abs(value - number) <= tolerance or abs(100 * value - number) <= tolerance for value in values)


def test_the_docs_tag_their_benchmark_tables():
    tagged = {name for _, names, _ in result_tables() for name in names.split()}
    assert {
        "benchmarks/results/quality.json",
        "benchmarks/results/decode-attention.json",
        "benchmarks/results/train.json",
    } <= tagged


@pytest.mark.parametrize(
    "page, name, table", result_tables(), ids=lambda value: getattr(value, "name", None) or str(value)[:40]
)
def test_every_number_in_a_benchmark_table_is_in_its_results_file(page, name, table):
    values = [
        value for file in name.split() for value in numbers_in(json.loads((ROOT / file).read_text(encoding="utf-8")))
    ]
    missing = [shown for shown in shown_numbers(table) if not is_shown_rounding(shown, values)]
    assert missing == [], f"{page.name}: numbers not in {name}"


def test_the_number_check_tells_a_rounded_figure_from_a_wrong_one():
    values = numbers_in({"a": 1838.6, "b": [0.136, "loss: 1.3219"], "c": 0.999})
    assert all(is_shown_rounding(shown, values) for shown in ["1,839", "0.136", "0.14", "1.3219", "99.9"])
    assert not any(is_shown_rounding(shown, values) for shown in ["1,840", "0.137", "1.32191", "98.9"])


def folder_beside_the_corpus(tatoeba_path: Path, tmp_path: Path) -> Path:
    """A working folder with the corpus at ../shared/data/tatoeba/fra-eng.txt, as beside a checkout."""
    corpus_folder = tmp_path / "shared" / "data" / "tatoeba"
    corpus_folder.mkdir(parents=True)
    (corpus_folder / "fra-eng.txt").symlink_to(tatoeba_path)
    workdir = tmp_path / "work"
    workdir.mkdir()
    return workdir


def tour_commands() -> list[str]:
    """The `$ ` lines of the README's tour, in order."""
    text = README.read_text(encoding="utf-8")
    tour = text.split("## A tour", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```console\n(.*?)```", tour, flags=re.S)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def test_the_tour_shows_the_five_tasks():
    commands = " ".join(tour_commands())
    for task in ("seq2seq train", "seq2seq translate", "seq2seq evaluate", "seq2seq serve", "seq2seq export"):
        assert task in commands


@pytest.mark.slow
def test_every_command_of_the_readme_tour_runs(tatoeba_path, tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("the tour asks the service with curl, which this machine lacks")
    workdir = folder_beside_the_corpus(tatoeba_path, tmp_path)
    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for command in tour_commands():
        for shown, quick in QUICK.items():
            command = command.replace(shown, quick)
        script += [f"echo '>>> {command}'", command]
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    assert shutil.which("seq2seq", path=environment["PATH"]), "the seq2seq command is not installed beside this Python"
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=workdir, env=environment, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    outputs = result.stdout.split(">>> ")[1:]
    assert len(outputs) == len(tour_commands())
    split = next(output for output in outputs if output.startswith("seq2seq split"))
    assert "Wrote 69809 pairs to train.txt and 3079 pairs (2000 source sentences" in split
    evaluate = next(output for output in outputs if output.startswith("seq2seq evaluate"))
    assert re.search(r"^BLEU \d+\.\d\d  chrF", evaluate, flags=re.M)


# What the Python example's test changes so that it runs in about a minute.
PYTHON_QUICK = {"limit=20_000": "limit=4_000", 'max_time="5m"': 'max_time="20s"'}


def readme_python_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## In Python", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


@pytest.mark.slow
def test_the_readme_python_example_runs(tatoeba_path, tmp_path):
    workdir = folder_beside_the_corpus(tatoeba_path, tmp_path)
    code = readme_python_example()
    for shown, quick in PYTHON_QUICK.items():
        assert shown in code
        code = code.replace(shown, quick)
    result = subprocess.run([sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    translations, first_word = result.stdout.strip().splitlines()[-2:]
    assert translations.startswith("[") and translations.count("'") + translations.count('"') >= 4
    assert first_word.strip() and (workdir / "fra.keras").is_file()
