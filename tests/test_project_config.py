"""The project's own configuration: locked dependencies, what each environment imports, the typed
config keys of Pulumi.yaml, and the CI and hook files.

Re-resolving a lock needs the network, so the locks are checked against their inputs by name, pin
and specifier, and against the virtualenv the tests run in.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from components.settings import CONFIG_NAMESPACE, Settings
from tests.conftest import ROOT, STACKS

# Each input file and the lock generated from it by `make lock`.
LOCKS = {"requirements.txt": "requirements.lock", "requirements-dev.txt": "requirements-dev.lock",
         "requirements-scan.txt": "requirements-scan.lock", "requirements-pip.txt": "requirements-pip.lock"}
# Where first-party modules live: the project root, and policy/ for the pack and the rule engine.
SOURCE_ROOTS = (ROOT, ROOT / "policy")


# Requirement and lock files.

def requirements(path: Path) -> list[Requirement]:
    """The requirements of a pip requirements file, following its `-r` includes."""
    found: list[Requirement] = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += requirements(path.parent / line[3:].strip())
        elif line.startswith("-e "):  # a first-party package of this checkout (policy/), never locked
            assert (path.parent / line[3:].strip() / "pyproject.toml").is_file(), f"{path.name}: {line} is not a package of this checkout"
        elif line:
            found.append(Requirement(line))
    return found


def requirement_names(path: Path) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements(path)}


@dataclass(frozen=True)
class Pin:
    requirement: Requirement
    hashes: int

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name)

    @property
    def version(self) -> str:
        [specifier] = self.requirement.specifier
        return specifier.version

    def applies_here(self) -> bool:
        """Whether the pin's environment marker (a universal lock has some) matches this interpreter."""
        return self.requirement.marker is None or self.requirement.marker.evaluate()


def lock_pins(path: Path) -> dict[str, list[Pin]]:
    """The pins of a lock file written by `uv pip compile --universal --generate-hashes`, by package:
    one pin, or several with disjoint environment markers (numpy for Python < 3.12 and >= 3.12)."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pins: dict[str, list[Pin]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, *hashes = line.split(" --hash=")
        pin = Pin(Requirement(requirement.strip()), len(hashes))
        pins.setdefault(pin.name, []).append(pin)
    for name, same in pins.items():
        assert len(same) == 1 or all(p.requirement.marker for p in same), f"{path.name}: {name} is pinned twice for one environment"
    return pins


def versions(pins: list[Pin]) -> set[str]:
    return {pin.version for pin in pins}


@pytest.mark.parametrize("source", sorted(LOCKS))
def test_every_requirement_is_pinned_within_its_range_with_hashes(source: str) -> None:
    pins = lock_pins(ROOT / LOCKS[source])
    for pin in (p for same in pins.values() for p in same):
        assert {s.operator for s in pin.requirement.specifier} == {"=="}, f"{LOCKS[source]}: {pin.requirement} is not an exact pin"
        assert pin.hashes, f"{LOCKS[source]}: {pin.name} has no hash (pip --require-hashes refuses it)"
    for requirement in requirements(ROOT / source):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{source} names {requirement.name}, which {LOCKS[source]} does not pin: run `make lock`"
        outside = {v for v in versions(pins[name]) if not requirement.specifier.contains(v, prereleases=True)}
        assert not outside, f"{LOCKS[source]} pins {name} {outside}, outside {source}'s {requirement.specifier}: run `make lock`"


def test_pulumi_up_runs_the_versions_the_tests_ran() -> None:
    """requirements.lock (what `pulumi up` may install) agrees with requirements-dev.lock on every package."""
    program, dev = lock_pins(ROOT / "requirements.lock"), lock_pins(ROOT / "requirements-dev.lock")
    differing = {name: (versions(pins), versions(dev.get(name, []))) for name, pins in program.items()
                 if versions(pins) != versions(dev.get(name, []))}
    assert not differing, f"requirements.lock vs requirements-dev.lock: {differing}; run `make lock`"


def test_the_test_environment_is_the_locked_one() -> None:
    """The virtualenv running these tests holds requirements-dev.lock's versions (`make setup`)."""
    stale = {}
    for pin in (p for same in lock_pins(ROOT / "requirements-dev.lock").values() for p in same if p.applies_here()):
        try:
            installed = importlib.metadata.version(pin.name)
        except importlib.metadata.PackageNotFoundError:
            installed = "missing"
        if installed != pin.version:
            stale[pin.name] = (installed, pin.version)
    assert not stale, f"installed vs locked: {stale}; run `make setup`"


# Which environment provides each import.

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


def imported_module(module: str, names: list[str]) -> list[str]:
    """The modules an import statement loads: `from google.cloud import container_v1` loads
    google.cloud.container_v1 (a namespace package's top name says nothing about who provides it)."""
    submodules = []
    for name in names:
        try:
            if importlib.util.find_spec(f"{module}.{name}") is not None:
                submodules.append(f"{module}.{name}")
        except (ImportError, ValueError):
            pass
    return submodules or [module]


def third_party_imports(paths: list[Path], module_level_only: bool = False, follow: bool = False,
                        roots: tuple[Path, ...] = SOURCE_ROOTS, functions: bool = False) -> dict[str, Path]:
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
        pending += [canonicalize_name(Requirement(r).name) for r in requires
                    if Requirement(r).marker is None or Requirement(r).marker.evaluate({"extra": ""})]  # type: ignore[union-attr]
    return closure


def namespace_owners(module: str) -> set[str] | None:
    """For a module in a namespace several distributions share (google): the ones whose files hold it
    (google-cloud-compute does not install google.cloud.container_v1). None for any other module."""
    top = module.split(".")[0]
    names = {canonicalize_name(d) for d in importlib.metadata.packages_distributions().get(top, [])}
    if len(names) < 2 or "." not in module:
        return None
    prefix = module.replace(".", "/")
    return {canonicalize_name(d.metadata["Name"]) for d in importlib.metadata.distributions()
            if canonicalize_name(d.metadata["Name"]) in names and any(str(f).startswith((prefix + "/", prefix + ".")) for f in d.files or [])}


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
    "kubernetes_validate.utils": "components/internals.py: strict schemas for ops render/check and the tests",
    "pulumi_policy.policy": "components/internals.py: the policy pack's analyzer, run by ops check and the tests",
    "pulumi_policy.proxy": "components/internals.py: as above",
}


def test_the_program_imports_only_what_pulumi_up_installs() -> None:
    """`pulumi up` runs __main__.py with requirements.txt installed: every module it loads imports only
    those packages at module level, and inside its functions (the hook imports in the hook) only what
    requirements.lock installs, but for the paths named in OUTSIDE_THE_DEPLOY_LOCK."""
    program = [ROOT / "__main__.py"]
    imports = third_party_imports(program, module_level_only=True, follow=True)
    assert set(imports) >= {"pulumi", "pulumi_kubernetes", "pydantic"}, "the scan followed the program"
    assert not unlisted(imports, requirement_names(ROOT / "requirements.txt"))
    in_functions = third_party_imports(program, module_level_only=True, follow=True, functions=True)
    assert {m.split(".")[0] for m in in_functions} >= {"kubernetes", "google"}, "the scan followed the hook's function-level imports"
    missing = unlisted(in_functions, set(lock_pins(ROOT / "requirements.lock")))
    assert set(OUTSIDE_THE_DEPLOY_LOCK) <= set(missing), f"stale exemptions: {set(OUTSIDE_THE_DEPLOY_LOCK) - set(missing)}"
    assert not {m: f for m, f in missing.items() if m not in OUTSIDE_THE_DEPLOY_LOCK}, (
        "imported inside the program's functions but not in requirements.lock (not in the virtualenv `pulumi up` gets)")


def test_everything_else_imports_only_the_dev_requirements() -> None:
    files = [ROOT / "__main__.py"] + [p for d in ("components", "livestate", "ops", "tests", "tests_engine", "engine", "bench", "policy") for p in sorted((ROOT / d).rglob("*.py"))
                                      if "node_modules" not in p.parts and ".venv" not in p.parts]
    assert not unlisted(third_party_imports(files), requirement_names(ROOT / "requirements-dev.txt"))


def test_the_import_scan_sees_function_level_imports(tmp_path: Path) -> None:
    """The guard fires on an import inside a function, and on a namespace package's unlisted member."""
    program = tmp_path / "program.py"
    program.write_text("import pulumi\n\ndef hook() -> None:\n    from google.cloud import container_v1\n")
    assert set(third_party_imports([program], module_level_only=True)) == {"pulumi"}
    imports = third_party_imports([program], module_level_only=True, functions=True)
    assert set(unlisted({m: ROOT / "program.py" for m in imports}, requirement_names(ROOT / "requirements.txt"))) == {"google.cloud.container_v1"}


# Pulumi.yaml's typed config.

def project_config() -> dict[str, dict[str, Any]]:
    config: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    return config


def required_settings() -> dict[str, str]:
    """{camelCase key: JSON type} of the top-level Settings fields without a default."""
    schema = Settings.model_json_schema(by_alias=True)
    types = {}
    for name, field in Settings.model_fields.items():
        if field.is_required():
            key = field.alias or name
            prop = schema["properties"][key]
            if "$ref" in prop:
                prop = schema["$defs"][prop["$ref"].rsplit("/", 1)[-1]]
            types[key] = prop["type"]
    return types


def test_pulumi_yaml_declares_exactly_the_required_settings() -> None:
    declared = {key.removeprefix(f"{CONFIG_NAMESPACE}:"): spec for key, spec in project_config().items()}
    required = required_settings()
    assert required, "Settings has required fields"
    assert set(declared) == set(required), f"Pulumi.yaml config: {sorted(declared)}, Settings requires {sorted(required)}"
    for key, spec in declared.items():
        assert {"type", "description"} <= set(spec) <= {"type", "description", "items", "secret"}, (
            f"{key}: a type and a description, and no default or value (defaults live in Settings): {spec}")
        assert spec["type"] == required[key], f"{key}: Pulumi.yaml says {spec['type']}, Settings says {required[key]}"
    assert all(key.startswith(f"{CONFIG_NAMESPACE}:") for key in project_config()), "keys are written in full"


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_sets_the_declared_keys_with_their_types(stack: str) -> None:
    """What the CLI checks before it runs the program."""
    python_type = {"string": str, "object": dict, "integer": int, "boolean": bool, "array": list}
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    for key, spec in project_config().items():
        assert key in config, f"Pulumi.{stack}.yaml does not set {key}: the CLI would stop"
        assert isinstance(config[key], python_type[spec["type"]]), f"Pulumi.{stack}.yaml: {key} is not a{'n' * (spec['type'] == 'object')} {spec['type']}"


def test_pulumi_yaml_requires_a_cli_that_fails_on_a_failing_after_hook() -> None:
    """Before 3.238 a failing after-hook is a warning: the inspection's fail mode would pass silently."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project.get("requiredPulumiVersion") == ">=3.238.0", "Pulumi.yaml: requiredPulumiVersion must be \">=3.238.0\""
    cli = yaml.safe_load((ROOT / ".github" / "workflows" / "stack.yml").read_text())["env"]["PULUMI_VERSION"]
    assert Version(str(cli)) >= Version("3.238.0"), f"the delivery's Pulumi CLI {cli} is older than Pulumi.yaml requires"


# CI and hooks.

def test_ci_workflow_parses_lints_and_installs_from_the_locks() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    runs = {job: " ".join(str(step.get("run", "")) for step in spec["steps"]) for job, spec in workflow["jobs"].items()}
    assert re.search(r"\bmake (-k )?lint\b", runs["lint"]) and ".ci/run" in runs["test"]
    cli = yaml.safe_load((ROOT / ".github" / "workflows" / "stack.yml").read_text())["env"]["PULUMI_VERSION"]
    assert {str(cli)} == versions(lock_pins(ROOT / "requirements.lock")["pulumi"]), "the delivery's Pulumi CLI is the locked SDK's version"


def test_pre_commit_hooks_run_the_project_tools() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "mypy", "mypy-policy-pack", "ops-check"} <= set(hooks)
    assert hooks["ops-check"]["entry"].endswith("-m ops check")
    for hook in hooks.values():
        assert hook["language"] == "system" and hook["entry"].startswith(".venv/bin/"), hook
        assert (ROOT / hook["entry"].split()[0]).is_file(), f"{hook['entry']}: not installed by `make setup`"
