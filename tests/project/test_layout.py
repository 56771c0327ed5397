"""The package's shape: small modules, no import cycles, a root of public API and shared parts, tests that mirror it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "seq2seq"
TESTS = ROOT / "tests"
MOST_LINES = 300
ROOT_MODULES = {
    "__init__",
    "backend",
    "config",
    "devices",
    "errors",
    "files",
    "host",
    "text",
    "validation",
}  # public API and cross-cutting parts
CROSS_MODULE_TESTS = {"integration", "project"}  # folders of tests that span many modules


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that `path` imports anywhere (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.split(".")[0] == "seq2seq"
        ):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return found - {module_name(path)}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan's components)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_no_module_imports_itself_through_others():
    modules = package_modules()
    graph = {name: imported_modules(path, modules) & set(modules) for name, path in modules.items()}
    assert import_cycles(graph) == []
    assert "seq2seq.models.seq2seq" in graph["seq2seq.models.loading"]  # the walk sees imports inside functions


def test_the_cycle_finder_finds_a_cycle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]


def test_every_module_is_short():
    long = {
        name: lines
        for name, path in package_modules().items()
        if (lines := len(path.read_text().splitlines())) > MOST_LINES
    }
    assert long == {}


def test_the_package_root_holds_only_the_public_api_and_shared_parts():
    assert {path.stem for path in PACKAGE.glob("*.py")} == ROOT_MODULES


def test_every_public_name_imports():
    import seq2seq

    for name in seq2seq.__all__:
        assert getattr(seq2seq, name) is not None, name


def module_under_test(test_file: Path, modules: dict[str, Path]) -> str | None:
    """The module a test file covers: tests/a/test_b[_aspect].py covers seq2seq/a/b.py (or the package a/b)."""
    folder = test_file.parent.relative_to(TESTS).parts
    words = test_file.stem.removeprefix("test_").split("_")
    for end in range(len(words), 0, -1):  # the longest module name that the file's name starts with
        candidate = ".".join(("seq2seq", *folder, "_".join(words[:end])))
        if candidate in modules:
            return candidate
    package = ".".join(("seq2seq", *folder))
    if folder and "_".join(words).startswith(folder[-1]) and package in modules:
        return package  # tests/cli/test_cli.py covers the package seq2seq/cli
    return None


def test_each_test_file_sits_where_its_module_sits():
    modules = package_modules()
    misplaced = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("test_*.py")
        if path.relative_to(TESTS).parts[0] not in CROSS_MODULE_TESTS and module_under_test(path, modules) is None
    ]
    assert misplaced == []


@pytest.mark.parametrize(
    "test_file, module",
    [
        ("training/test_fit_recipe.py", "seq2seq.training.fit"),
        ("data/test_tokenizers_subword.py", "seq2seq.data.tokenizers"),
        ("cli/test_cli_fuzz.py", "seq2seq.cli"),
        ("test_config.py", "seq2seq.config"),
        ("models/test_nothing_here.py", None),
    ],
)
def test_a_test_files_module_is_found_from_its_path(test_file, module):
    assert module_under_test(TESTS / test_file, package_modules()) == module


def test_the_former_single_module_paths_still_import():
    from seq2seq.evaluation import evaluate_model, score_translations
    from seq2seq.training import resume, train

    assert train.__module__ == "seq2seq.training.fit" and resume.__module__ == "seq2seq.training.fit"
    assert evaluate_model.__module__ == score_translations.__module__ == "seq2seq.evaluation.scores"
