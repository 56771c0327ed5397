"""The package's shape: small modules, one-way imports, a root of public API and shared parts, mirrored tests."""

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
    "compiled_loops",
    "config",
    "devices",
    "errors",
    "atomic_files",
    "host",
    "text",
    "settings_checks",
}  # public API and cross-cutting parts
CROSS_MODULE_TESTS = {"integration", "project"}  # folders of tests that span many modules
# The packages from the lowest up: a package imports only packages of levels below its own (and
# "root", the shared modules of the package root, imports no package). Seq2Seq sits above
# translation and evaluation: those need only the step interface that a model and an ensemble
# both have, while the model offers `translate` and `evaluate_translations` through them.
PACKAGE_ORDER = [
    {"root"},
    {"data"},
    {"kernels"},
    {"layers"},
    {"search"},
    {"translation"},
    {"evaluation"},
    {"models"},
    {"training"},
    {"forecasting"},
    {"serving", "export", "cli"},
]


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


def package_of(module: str) -> str:
    """The subpackage a module of seq2seq belongs to, or "root" for the package root's own modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else "root"


def package_imports(source: str, relative_path: str, modules) -> list[tuple[int, str]]:
    """`(line, module)` for every module of seq2seq that a file imports, lazily or not, wherever it does.

    Not counted: the package root's lazy names (`seq2seq/__init__.py`), which import on first
    use only, and imports inside the command line's functions, which are its entry points.
    Names that a subpackage's `lazy_attributes` imports are counted, on the line of the call.
    """
    found: list[tuple[int, str]] = []
    is_cli = relative_path.startswith("seq2seq/cli/")

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if is_cli and in_function:
                continue  # an entry point of the command line: nothing below it counts
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name) for alias in child.names if alias.name.startswith("seq2seq"))
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and (child.module or "").startswith("seq2seq"):
                for alias in child.names:
                    submodule = f"{child.module}.{alias.name}"
                    found.append((child.lineno, submodule if submodule in modules else child.module))
            elif (
                isinstance(child, ast.Call)
                and getattr(child.func, "id", None) == "lazy_attributes"
                and relative_path != "seq2seq/__init__.py"
            ):
                names = next((arg for arg in child.args if isinstance(arg, ast.Dict)), None)
                values = names.values if names is not None else []
                found.extend((child.lineno, v.value) for v in values if isinstance(v, ast.Constant))
            visit(child, inner)

    visit(ast.parse(source), False)
    return found


def package_edges(modules: dict[str, Path]) -> list[tuple[str, str, str]]:
    """`(importing package, imported package, "file:line")` for every import that crosses packages."""
    edges = []
    for name, path in modules.items():
        relative = str(path.relative_to(ROOT))
        for line, imported in package_imports(path.read_text(encoding="utf-8"), relative, modules):
            if package_of(name) != package_of(imported):
                edges.append((package_of(name), package_of(imported), f"{relative}:{line}"))
    return edges


def imports_against_the_order(edges, order: list[set[str]]) -> list[str]:
    """Each edge that imports a package of the same level or a higher one: `file:line: a imports b`."""
    level = {package: rank for rank, packages in enumerate(order) for package in packages}
    return [
        f"{where}: {importer} imports {imported}, which is not below it in the package order"
        for importer, imported, where in edges
        if level[imported] >= level[importer]
    ]


def test_no_module_imports_itself_through_others():
    modules = package_modules()
    graph = {name: imported_modules(path, modules) & set(modules) for name, path in modules.items()}
    assert import_cycles(graph) == []
    assert "seq2seq.models.seq2seq" in graph["seq2seq.models.loading"]  # the walk sees imports inside functions


def test_the_cycle_finder_finds_a_cycle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]


def test_every_package_has_a_place_in_the_package_order():
    packages = {package_of(name) for name in package_modules()}
    assert packages == set().union(*PACKAGE_ORDER)


def test_no_package_imports_itself_through_others():
    edges = package_edges(package_modules())
    graph = {package: set() for package in set().union(*PACKAGE_ORDER)}
    for importer, imported, _ in edges:
        graph[importer].add(imported)
    assert import_cycles(graph) == []
    assert ("training", "models") in {(a, b) for a, b, _ in edges}  # the walk sees the imports


def test_imports_between_packages_go_down_the_package_order():
    assert imports_against_the_order(package_edges(package_modules()), PACKAGE_ORDER) == []


def test_the_order_check_names_the_file_and_line_of_an_import_that_goes_up_or_sideways():
    order = [{"root"}, {"low"}, {"high", "side"}]
    edges = [
        ("high", "low", "a.py:3"),
        ("low", "high", "b.py:7"),
        ("high", "side", "c.py:9"),
        ("low", "root", "d.py:1"),
    ]
    assert imports_against_the_order(edges, order) == [
        "b.py:7: low imports high, which is not below it in the package order",
        "c.py:9: high imports side, which is not below it in the package order",
    ]


def test_the_package_walk_counts_lazy_and_late_imports_but_not_the_command_lines_entry_points():
    modules = {"seq2seq.models.loading": Path(), "seq2seq.models": Path(), "seq2seq.training.fit": Path()}
    source = (
        "from seq2seq import lazy_attributes\n"
        "from seq2seq.models import loading\n"
        "def later():\n"
        "    import seq2seq.training.fit\n"
        "__getattr__ = lazy_attributes(__name__, {'train': 'seq2seq.training.fit'})\n"
    )
    expected = [(1, "seq2seq"), (2, "seq2seq.models.loading"), (4, "seq2seq.training.fit"), (5, "seq2seq.training.fit")]
    assert package_imports(source, "seq2seq/translation/x.py", modules) == expected
    assert package_imports(source, "seq2seq/cli/x.py", modules) == [e for e in expected if e[0] != 4]
    assert [package_of(module) for _, module in expected] == ["root", "models", "training", "training"]


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


def test_names_import_from_their_modules_only_and_the_public_ones_from_the_root_too():
    import seq2seq
    import seq2seq.evaluation
    import seq2seq.training

    assert not hasattr(seq2seq.training, "train") and not hasattr(seq2seq.evaluation, "evaluate_model")
    assert seq2seq.train.__module__ == "seq2seq.training.fit"
    assert seq2seq.load_ensemble.__module__ == "seq2seq.models.loading"
