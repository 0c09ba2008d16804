"""Dependencies point one way: no import circle anywhere in the repository, and neither the Pulumi program
(``__main__.py``, ``src/coditect/``), the live-state engine (``livestate/``) nor the policy pack and its rule
engine (``policy/``) import the command-line tools (``ops``).

Static: every ``import`` statement of every first-party module is read with ``ast``, wherever it stands
(module level, function bodies, ``TYPE_CHECKING`` blocks), so an import that runs only on one path counts
as much as one that always runs. An edge goes to the most specific first-party module the statement
names: ``from gke import limits`` is an edge to ``gke.limits``, ``from gke import Level`` one to ``gke``.
A package's ``__init__`` that Python runs before a submodule is not an edge of the submodule (the
convention of import-linter and grimp): a package may gather its submodules without a circle.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Where first-party modules live: src/ (the component package), policy/ (the pack) and the project root.
SOURCE_ROOTS = (ROOT / "src", ROOT / "policy", ROOT)
# policy/gke is a symbolic link to src/coditect/gke (the pack carries the package's rule engine): read once, as
# coditect.gke; the pack's `gke.x` imports are edges to `coditect.gke.x`.
PACK_ENGINE_LINK = Path("policy") / "gke"
SKIPPED_PARTS = frozenset({".venv", ".venv-scan", ".git", ".engine", "node_modules", "rendered", "__pycache__", "build"})
PACK_MAIN = "policy/__main__"  # the pack's entry point: a second module named __main__
PROGRAM = "__main__"
# The layers that must not import ops, by module-name prefix.
NOT_OPS = ("coditect", "livestate", PACK_MAIN, PROGRAM)

# Edges from the program into ops allowed for now: none (the after-up hook is built at the composition root
# from the live-state package, livestate/, which imports no ops). Kept as the place to name one, checked to
# still exist so that a stale entry fails.
KNOWN_OPS_EDGES: frozenset[tuple[str, str]] = frozenset()

Graph = Mapping[str, frozenset[str]]


def module_name(path: Path, roots: Iterable[Path] = SOURCE_ROOTS) -> str:
    """The dotted name a file is imported under: relative to policy/ for the rule engine and the pack."""
    for root in roots:
        if path.is_relative_to(root):
            relative = path.relative_to(root)
            break
    if relative == Path("__main__.py"):
        return PACK_MAIN if root.name == "policy" and root != ROOT else PROGRAM
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files(root: Path = ROOT) -> list[Path]:
    found = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if SKIPPED_PARTS & set(relative.parts) or "node_lab" in relative.parts or relative.is_relative_to(PACK_ENGINE_LINK):
            continue
        found.append(path)
    return sorted(found)


def _resolve(name: str, modules: frozenset[str]) -> str | None:
    """The longest first-party module that is `name` or one of its parents; None: not first-party."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The module a `from ... import` reads, relative imports resolved against the importer's package."""
    if not node.level:
        return node.module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_names(tree: ast.AST, importer: str, is_package: bool) -> Iterator[str]:
    """Every dotted name an import statement anywhere in the tree could load (for `from m import n`:
    both `m.n`, if it is a module, and `m`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, importer, is_package)
            yield from (f"{module}.{alias.name}" for alias in node.names if alias.name != "*")
            if any(alias.name == "*" for alias in node.names):
                yield module


def import_graph(files: Iterable[Path], roots: Iterable[Path] = SOURCE_ROOTS) -> dict[str, frozenset[str]]:
    """Module -> the first-party modules it imports."""
    named = {module_name(path, roots): path for path in files}
    modules = frozenset(named)
    graph: dict[str, frozenset[str]] = {}
    for name, path in named.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        names = imported_names(tree, name, is_package)
        if name == PACK_MAIN:
            names = (f"coditect.{n}" if n == "gke" or n.startswith("gke.") else n for n in names)
        targets = {_resolve(imported, modules) for imported in names}
        graph[name] = frozenset(t for t in targets if t is not None and t != name)
    return graph


def circles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _in_layer(module: str, layers: Iterable[str]) -> bool:
    return any(module == layer or module.startswith(f"{layer}.") for layer in layers)


def ops_edges(graph: Graph) -> set[tuple[str, str]]:
    """(importer, imported) for every import of ops by the program, its components or the policy pack."""
    return {(source, target) for source, targets in graph.items() if _in_layer(source, NOT_OPS) for target in targets if _in_layer(target, ("ops",))}


@pytest.fixture(scope="module")
def graph() -> dict[str, frozenset[str]]:
    return import_graph(source_files())


# --- the repository ------------------------------------------------------------------------------------


def test_the_walk_reads_the_repository(graph: Graph) -> None:
    """The graph holds every layer and the edges the code states, function-body imports included."""
    assert {PROGRAM, PACK_MAIN, "coditect", "ops", "coditect.gke", "coditect.gke.rules", "coditect.gke.registry", "coditect.gke.pack", "livestate"} <= set(
        graph
    )
    assert "coditect" in {m.split(".")[0] for m in graph[PROGRAM]}
    assert "coditect.gke.pack" in graph[PACK_MAIN]
    assert not any(m == "gke" or m.startswith("gke.") for m in graph), "the linked engine is read once, as coditect.gke"
    assert {"coditect.gke.registry", "coditect.gke.model", "coditect.gke.policies", "coditect.gke.limits"} <= graph["coditect.gke.rules.backend_config"]


def without(graph: Graph, edges: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    dropped = set(edges)
    return {source: frozenset(t for t in targets if (source, t) not in dropped) for source, targets in graph.items()}


def test_no_import_circle_anywhere(graph: Graph) -> None:
    assert circles(without(graph, KNOWN_OPS_EDGES)) == [], "import circles (each a set of modules that import each other)"


def test_the_registry_imports_no_rule(graph: Graph) -> None:
    """The rules register themselves; the registry and the model know none of them (kube-linter's layout)."""
    for module in ("coditect.gke.registry", "coditect.gke.model", "coditect.gke.policies"):
        assert not _in_layer_any(graph[module], "coditect.gke.rules"), f"{module} imports {sorted(graph[module])}"
    assert graph["coditect.gke.rules"] == {m for m in graph if m.startswith("coditect.gke.rules.")}, "coditect.gke.rules imports every rule module"


def _in_layer_any(modules: Iterable[str], layer: str) -> bool:
    return any(_in_layer(m, (layer,)) for m in modules)


def test_the_program_and_the_pack_do_not_import_ops(graph: Graph) -> None:
    edges = ops_edges(graph)
    assert edges - KNOWN_OPS_EDGES == set(), "new imports of ops from the program, its components or the policy pack"
    assert KNOWN_OPS_EDGES - edges == set(), "stale KNOWN_OPS_EDGES entries: remove them"


# --- the component package, installed ------------------------------------------------------------


def _import_without_site(package: str, path: list[Path]) -> subprocess.CompletedProcess[str]:
    """`import package` with no site-packages (so no installed `gke`), only `path` on PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in path)}
    return subprocess.run([sys.executable, "-S", "-c", f"import {package}"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_a_python_without_the_package_is_told_how_to_install_it() -> None:
    """Nothing puts src/ on sys.path: without the install, `ops` names the fix in one line."""
    missing = _import_without_site("ops", [ROOT])
    assert missing.returncode == 1 and missing.stdout == "", missing
    assert len(missing.stderr.strip().splitlines()) == 1 and "Fix: `make setup`, or `" in missing.stderr and " sync --frozen" in missing.stderr, missing.stderr
    assert _import_without_site("ops", [ROOT, ROOT / "src"]).returncode == 0, "with the package importable ops imports"


# --- the walker, on a small tree of its own ----------------------------------------------------------


def _tree(root: Path, files: Mapping[str, str]) -> dict[str, frozenset[str]]:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return import_graph(source_files(root), roots=(root / "src", root))


def test_a_circle_through_a_function_body_import_is_found(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path, {"a/__init__.py": "", "a/x.py": "from a import y\n", "a/y.py": "def late() -> None:\n    import a.x\n", "a/z.py": "from a.y import late\n"}
    )
    assert graph["a.y"] == {"a.x"}
    assert circles(graph) == [["a.x", "a.y"]]


def test_a_package_gathering_its_submodules_is_no_circle(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "p/__init__.py": "from p import rules\nfrom p.model import Rule\n",
            "p/model.py": "Rule = object\n",
            "p/rules/__init__.py": "from p.rules import one\n",
            "p/rules/one.py": "from p import model\nfrom p.model import Rule\n",
        },
    )
    assert graph["p"] == {"p.rules", "p.model"} and graph["p.rules.one"] == {"p.model"}
    assert circles(graph) == []


def test_a_name_imported_from_a_package_is_an_edge_to_the_package(tmp_path: Path) -> None:
    """`from p import Name` runs p/__init__: a rule module doing it while p imports the rules is a circle."""
    graph = _tree(
        tmp_path,
        {"p/__init__.py": "from p import rules\nName = 1\n", "p/rules/__init__.py": "from p.rules import one\n", "p/rules/one.py": "from p import Name\n"},
    )
    assert circles(graph) == [["p", "p.rules", "p.rules.one"]]


def test_relative_imports_resolve_against_the_package(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {"p/__init__.py": "from . import a\n", "p/a.py": "from .b import c\n", "p/b.py": "from ..q import r\nc = 1\n", "q/__init__.py": "", "q/r.py": ""},
    )
    assert graph["p"] == {"p.a"} and graph["p.a"] == {"p.b"} and graph["p.b"] == {"q.r"}


def test_an_import_of_ops_from_a_component_is_found(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "src/coditect/__init__.py": "",
            "src/coditect/hook.py": "def run() -> None:\n    from ops.inspect import live\n",
            "ops/__init__.py": "",
            "ops/inspect/__init__.py": "",
            "ops/inspect/live.py": "import coditect.hook\n",
        },
    )
    assert ops_edges(graph) == {("coditect.hook", "ops.inspect.live")}
    assert circles(graph) == [["coditect.hook", "ops.inspect.live"]]


# --- small modules: no production module over MAX_MODULE_LINES lines -------------------------------------------------

MAX_MODULE_LINES = 400  # the project's convention: small modules with one job each
PRODUCTION_DIRS = ("src", "ops", "livestate")


def oversized(root: Path, dirs: Iterable[str] = PRODUCTION_DIRS, limit: int = MAX_MODULE_LINES) -> list[tuple[str, int]]:
    """(path relative to root, line count) of every .py file under dirs with more than limit lines."""
    found = []
    for directory in dirs:
        for path in sorted((root / directory).rglob("*.py")):
            if SKIPPED_PARTS.isdisjoint(path.relative_to(root).parts):
                lines = len(path.read_text(encoding="utf-8").splitlines())
                if lines > limit:
                    found.append((path.relative_to(root).as_posix(), lines))
    return found


def test_no_production_module_is_over_the_line_limit() -> None:
    too_long = [f"{path}: {lines} lines" for path, lines in oversized(ROOT)]
    assert not too_long, f"over {MAX_MODULE_LINES} lines (split along its seams into modules with one job): {too_long}"


def test_the_line_limit_names_the_file_one_line_over(tmp_path: Path) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "big.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    (tmp_path / "ops" / "fits.py").write_text("x = 1\n" * MAX_MODULE_LINES)
    assert oversized(tmp_path) == [("ops/big.py", MAX_MODULE_LINES + 1)]
