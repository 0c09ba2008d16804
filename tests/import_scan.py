"""Which third-party modules a set of source files imports (at module level, inside functions, following the
first-party modules they load) and which of those no requirement list provides; used by
tests/test_project_imports.py and test_policy_pack_standalone.py."""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.metadata
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT
from tests.project_locks import (
    SOURCE_ROOTS,
)


def module_files(module: str, roots: tuple[Path, ...] = SOURCE_ROOTS) -> list[Path]:
    """The first-party source file of a dotted module name under `roots`, if there is one."""
    parts = module.split(".")
    for root in roots:
        for candidate in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
            if candidate.is_file():
                return [candidate]
    return []


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_statements(path: Path, module_level_only: bool, functions: bool = False) -> Iterator[tuple[str, list[str]]]:
    """(module, imported names) of every absolute import in a file. Module level: what runs on import,
    so not inside functions nor under `if TYPE_CHECKING:`; with `functions`, also what runs when any
    function runs (every function body, never `if TYPE_CHECKING:`)."""

    def walk(statements: list[ast.stmt]) -> Iterator[tuple[str, list[str]]]:
        for statement in statements:
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    yield alias.name, []
            elif isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module:
                yield statement.module, [alias.name for alias in statement.names]
            elif isinstance(statement, ast.If) and _is_type_checking(statement.test):
                if not module_level_only:
                    yield from walk(statement.body)
                yield from walk(statement.orelse)
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and module_level_only and not functions:
                continue
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    children = getattr(statement, field, [])
                    yield from walk([c for c in children if isinstance(c, ast.stmt)])
                    for handler in (c for c in children if isinstance(c, ast.ExceptHandler)):
                        yield from walk(handler.body)

    yield from walk(ast.parse(path.read_text(), str(path)).body)


def is_module(dotted: str) -> bool:
    """Whether `dotted` names a module, looked up on sys.path without importing any of its packages
    (importlib.util.find_spec imports the parents, and importing one runs its code: pulumi.provider's loads
    a copy of google/rpc/status.proto that Google's API clients load too, which breaks the process)."""
    search: list[str] | None = None
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        spec = importlib.machinery.PathFinder.find_spec(part, search)
        if spec is None:
            return False
        if index < len(parts) - 1:
            if spec.submodule_search_locations is None:
                return False
            search = list(spec.submodule_search_locations)
    return True


def imported_module(module: str, names: list[str]) -> list[str]:
    """The modules an import statement loads: `from google.cloud import container_v1` loads
    google.cloud.container_v1 (a namespace package's top name says nothing about who provides it)."""
    submodules = [f"{module}.{name}" for name in names if is_module(f"{module}.{name}")]
    return submodules or [module]


def third_party_imports(
    paths: list[Path], module_level_only: bool = False, follow: bool = False, roots: tuple[Path, ...] = SOURCE_ROOTS, functions: bool = False
) -> dict[str, Path]:
    """The modules the files import that are neither stdlib nor first-party (found under `roots`), with
    one importer each. `follow`: also scan the first-party modules they import, as the interpreter
    would load them; `functions`: also the imports inside functions (see import_statements)."""
    found: dict[str, Path] = {}
    pending, seen = list(paths), set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module, names in import_statements(path, module_level_only, functions):
            first_party = module_files(module, roots) + [f for n in names for f in module_files(f"{module}.{n}", roots)]
            top = module.split(".")[0]
            if first_party or module_files(top, roots):
                if follow:
                    pending += first_party
            elif top not in sys.stdlib_module_names and top != "__future__":
                for loaded in imported_module(module, names):
                    found.setdefault(loaded, path)
    return found


def moving_with(listed: set[str]) -> set[str]:
    """Distributions that a listed one requires at exactly one version (pydantic pins pydantic-core):
    importing them directly is importing part of the listed package."""
    exact: set[str] = set()
    for name in listed:
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if (requirement.marker is None or requirement.marker.evaluate({"extra": ""})) and any(s.operator == "==" for s in requirement.specifier):
                exact.add(canonicalize_name(requirement.name))
    return exact


def requirement_closure(listed: set[str]) -> set[str]:
    """The listed distributions and everything they require, transitively (as installed here)."""
    closure, pending = set(), list(listed)
    while pending:
        name = pending.pop()
        if name in closure:
            continue
        closure.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        pending += [canonicalize_name(Requirement(r).name) for r in requires if Requirement(r).marker is None or Requirement(r).marker.evaluate({"extra": ""})]  # type: ignore[union-attr]
    return closure


def namespace_owners(module: str) -> set[str] | None:
    """For a module in a namespace several distributions share (google): the ones whose files hold it
    (google-cloud-compute does not install google.cloud.container_v1). None for any other module."""
    top = module.split(".")[0]
    names = {canonicalize_name(d) for d in importlib.metadata.packages_distributions().get(top, [])}
    if len(names) < 2 or "." not in module:
        return None
    prefix = module.replace(".", "/")
    return {
        canonicalize_name(d.metadata["Name"])
        for d in importlib.metadata.distributions()
        if canonicalize_name(d.metadata["Name"]) in names and any(str(f).startswith((prefix + "/", prefix + ".")) for f in d.files or [])
    }


def unlisted(imports: dict[str, Path], listed: set[str]) -> dict[str, str]:
    """Imports that no distribution named in `listed` provides: {module: importing file}. In a shared
    namespace, a member installed by what the listed ones require counts (google.api_core)."""
    providers = importlib.metadata.packages_distributions()
    provided, closure = listed | moving_with(listed), requirement_closure(listed)
    missing = {}
    for module, path in imports.items():
        owners = namespace_owners(module)
        ok = owners & closure if owners is not None else {canonicalize_name(d) for d in providers.get(module.split(".")[0], [])} & provided
        if not ok:
            missing[module] = str(path.relative_to(ROOT))
    return missing


# Imported inside functions the program's modules define, but only on paths `pulumi up` never takes,
# with why. tests/test_deploy_venv.py runs the hook in a virtualenv of the deploy lock, which proves it
# for the hook's path.
OUTSIDE_THE_DEPLOY_LOCK = {
    "google.cloud.container_v1": "livestate/container.py: the cluster layer only; the hook inspects translation and the BackendConfig",
    "google.cloud.container_v1.services.cluster_manager.transports": "livestate/container.py: the cluster layer's client, as above",
    "kubernetes_validate.utils": "src/coditect/internals.py: strict schemas for ops render/check and the tests",
    "pulumi_policy.policy": "src/coditect/internals.py: the policy pack's analyzer, run by ops check and the tests",
    "pulumi_policy.proxy": "src/coditect/internals.py: as above",
}
