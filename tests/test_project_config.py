"""The project's own configuration: locked dependencies, what each environment imports, the typed
config keys of Pulumi.yaml, and the CI and hook files.

The locks (uv.lock, policy/uv.lock) are checked with `uv lock --check --offline` (uv's cache answers; no
network), for their sources and hashes, for what a plain `uv sync` installs (the CLI's), and against the
virtualenv the tests run in.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from components.settings import CONFIG_NAMESPACE, Settings
from tests.conftest import ROOT, STACKS

# Where first-party modules live: the project root, and policy/ for the pack and the rule engine.
SOURCE_ROOTS = (ROOT, ROOT / "policy")
PACK = ROOT / "policy"
# Sources a locked package may come from: PyPI (with hashes), this checkout's policy/ (editable), the project itself.
REGISTRY = "https://pypi.org/simple"


# pyproject.toml and uv.lock.

def pyproject(project: Path = ROOT) -> dict[str, Any]:
    with (project / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def requirements(project: Path = ROOT, groups: tuple[str, ...] = ()) -> list[Requirement]:
    """[project.dependencies] of a pyproject.toml and the named dependency groups."""
    document = pyproject(project)
    lines = list(document["project"].get("dependencies", []))
    for group in groups:
        lines += document["dependency-groups"][group]
    return [Requirement(line) for line in lines]


def all_groups(project: Path = ROOT) -> tuple[str, ...]:
    return tuple(pyproject(project).get("dependency-groups", {}))


def requirement_names(project: Path = ROOT, groups: tuple[str, ...] = ()) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements(project, groups)}


def uv_lock(project: Path = ROOT) -> dict[str, dict[str, Any]]:
    """uv.lock's packages by name (this lock holds one version of each)."""
    with (project / "uv.lock").open("rb") as file:
        packages = tomllib.load(file)["package"]
    by_name: dict[str, dict[str, Any]] = {canonicalize_name(p["name"]): p for p in packages}
    assert len(by_name) == len(packages), f"{project / 'uv.lock'}: a package is locked at two versions; extend uv_lock()"
    return by_name


def locked_versions(project: Path = ROOT) -> dict[str, str]:
    return {name: package["version"] for name, package in uv_lock(project).items()}


def installed_by_sync(project: Path = ROOT, groups: tuple[str, ...] = ()) -> set[str]:
    """What `uv sync` installs here from uv.lock: the project's dependencies and the named groups, transitively,
    with extras and with every environment marker evaluated for this interpreter."""
    packages = uv_lock(project)
    [root] = [p for p in packages.values() if p["source"] in ({"virtual": "."}, {"editable": "."})]
    pending = list(root.get("dependencies", [])) + [d for g in groups for d in root.get("dev-dependencies", {}).get(g, [])]
    found: set[str] = set()
    while pending:
        dependency = pending.pop()
        if "marker" in dependency and not Marker(dependency["marker"]).evaluate():
            continue
        name = canonicalize_name(dependency["name"])
        package = packages[name]
        extras = [d for extra in dependency.get("extra", []) for d in package.get("optional-dependencies", {}).get(extra, [])]
        if name in found and not extras:
            continue
        found.add(name)
        pending += package.get("dependencies", []) + extras
    return found


def uv() -> Path:
    beside = Path(sys.executable).with_name("uv")
    assert beside.is_file(), f"{beside}: not installed; run `make setup` (the lint group installs uv)"
    return beside


@pytest.mark.parametrize("project", [ROOT, PACK], ids=["program", "pack"])
def test_every_locked_package_comes_from_pypi_with_hashes_or_from_this_checkout(project: Path) -> None:
    for name, package in uv_lock(project).items():
        source = package["source"]
        if "registry" not in source:
            assert source in ({"virtual": "."}, {"editable": "."}, {"editable": "policy"}), f"{project.name}/uv.lock: {name} from {source}"
            continue
        assert source["registry"] == REGISTRY, f"{name}: {source}"
        files = [package["sdist"]] if "sdist" in package else []
        files += package.get("wheels", [])
        assert files and all(f.get("hash", "").startswith("sha256:") for f in files), f"{project.name}/uv.lock: {name} has a file without a hash"


@pytest.mark.parametrize("project", [ROOT, PACK], ids=["program", "pack"])
def test_the_lock_is_current(project: Path) -> None:
    """`uv lock --check`: the lock satisfies pyproject.toml, so the CLI's plain `uv sync` installs it unchanged."""
    result = subprocess.run([str(uv()), "lock", "--check", "--offline"], cwd=project, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{project / 'uv.lock'} is stale: run `make lock`\n{result.stderr[-1500:]}"


def test_a_stale_lock_is_found(tmp_path: Path) -> None:
    """The check above can fail: a range the lock does not satisfy."""
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "policy").symlink_to(PACK)
    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(text.replace('"pydantic>=2.14,<3"', '"pydantic>=2.14,<2.15"'), encoding="utf-8")
    result = subprocess.run([str(uv()), "lock", "--check", "--offline"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "needs to be updated" in result.stderr, result.stderr


def test_a_plain_uv_sync_installs_the_program_s_dependencies_only() -> None:
    """What Pulumi's uv toolchain runs (`uv sync`) installs no dependency group: default-groups is empty."""
    document = pyproject()
    assert document["tool"]["uv"]["default-groups"] == [] and document["tool"]["uv"]["package"] is False
    assert document["tool"]["uv"]["sources"]["coditect-gke-rules"] == {"path": "policy", "editable": True}
    deploy = installed_by_sync()
    assert {"pulumi", "pulumi-kubernetes", "pydantic", "coditect-gke-rules"} <= deploy
    assert not deploy & {"pytest", "pulumi-policy", "ruff", "mypy", "jsonschema"}, "a group's package would reach `pulumi up`"
    runtime = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["runtime"]
    assert runtime == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}


@pytest.mark.parametrize("project", [ROOT, PACK], ids=["program", "pack"])
def test_the_cli_s_package_list_is_what_the_sync_installs(project: Path) -> None:
    """The CLI finds the resource plugins a program needs from `uv export --package <name> --locked --format
    pylock.toml` (uv.go, ListPackages): it runs, and names what `uv sync` installs, never a group it leaves out."""
    name = pyproject(project)["project"]["name"]
    result = subprocess.run([str(uv()), "export", "--package", name, "--locked", "--format", "pylock.toml", "--offline"],
                            cwd=project, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-1500:]
    exported = {canonicalize_name(p["name"]) for p in tomllib.loads(result.stdout)["packages"]}
    groups = pyproject(project)["tool"]["uv"]["default-groups"]
    expected = installed_by_sync(project, tuple(groups)) | ({"coditect-gke-rules"} if project == PACK else set())
    assert expected <= exported, f"the sync installs what the export omits: {expected - exported}"
    assert not exported & (installed_by_sync(project, all_groups(project)) - installed_by_sync(project, tuple(groups))), "a group the sync leaves out is exported"


def test_the_pack_syncs_its_own_lock() -> None:
    runtime = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text(encoding="utf-8"))["runtime"]
    assert runtime == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}
    assert pyproject(PACK)["tool"]["uv"]["default-groups"] == ["pack"]
    assert installed_by_sync(PACK) == set(), "the pack's package installs nothing itself"
    assert {"pulumi-policy", "pulumi", "grpcio"} <= installed_by_sync(PACK, ("pack",))
    assert pyproject(PACK)["project"]["dependencies"] == [], "the rule engine needs only the standard library: the program's install stays as it is"


def test_the_bootstrap_installs_the_locked_uv() -> None:
    """requirements-pip.lock (pip, hashes) installs uv; the lint group and uv.lock hold the same version, so the sync keeps it."""
    bootstrap = re.findall(r"^uv==(\S+) \\$", (ROOT / "requirements-pip.lock").read_text(encoding="utf-8"), re.M)
    assert bootstrap == [locked_versions()["uv"]], f"requirements-pip.lock {bootstrap}, uv.lock {locked_versions()['uv']}: run `make lock`"
    assert re.search(r"^    --hash=sha256:[0-9a-f]{64}", (ROOT / "requirements-pip.lock").read_text(encoding="utf-8"), re.M)


def test_the_test_environment_is_the_locked_one() -> None:
    """The virtualenv running these tests holds uv.lock's versions of every group (`make setup`)."""
    locked = locked_versions()
    stale = {}
    for name in installed_by_sync(groups=all_groups()) - {"coditect-gke-rules"}:
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "missing"
        if installed != locked[name]:
            stale[name] = (installed, locked[name])
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
    """`pulumi up` runs __main__.py after a plain `uv sync`: every module it loads imports only [project.dependencies]
    at module level, and inside its functions (the hook imports in the hook) only what that sync installs, but for
    the paths named in OUTSIDE_THE_DEPLOY_LOCK."""
    program = [ROOT / "__main__.py"]
    imports = third_party_imports(program, module_level_only=True, follow=True)
    assert set(imports) >= {"pulumi", "pulumi_kubernetes", "pydantic"}, "the scan followed the program"
    assert not unlisted(imports, requirement_names())
    in_functions = third_party_imports(program, module_level_only=True, follow=True, functions=True)
    assert {m.split(".")[0] for m in in_functions} >= {"kubernetes", "google"}, "the scan followed the hook's function-level imports"
    missing = unlisted(in_functions, installed_by_sync())
    assert set(OUTSIDE_THE_DEPLOY_LOCK) <= set(missing), f"stale exemptions: {set(OUTSIDE_THE_DEPLOY_LOCK) - set(missing)}"
    assert not {m: f for m, f in missing.items() if m not in OUTSIDE_THE_DEPLOY_LOCK}, (
        "imported inside the program's functions but not installed by a plain `uv sync` (not in the virtualenv `pulumi up` gets)")


def test_everything_else_imports_only_the_dev_requirements() -> None:
    files = [ROOT / "__main__.py"] + [p for d in ("components", "livestate", "ops", "tests", "tests_engine", "engine", "bench", "policy") for p in sorted((ROOT / d).rglob("*.py"))
                                      if "node_modules" not in p.parts and ".venv" not in p.parts]
    assert not unlisted(third_party_imports(files), requirement_names(groups=all_groups()))


def test_ops_imports_only_the_program_and_the_ops_group() -> None:
    """The delivery runs ops from `uv sync --group ops` (.github/workflows/stack.yml): no test or lint package."""
    files = [p for p in sorted((ROOT / "ops").rglob("*.py"))]
    assert not unlisted(third_party_imports(files), requirement_names(groups=("ops",)))
    assert unlisted(third_party_imports([ROOT / "tests" / "conftest.py"]), requirement_names(groups=("ops",))), "the guard can fire: the tests need the tests group"


def test_the_import_scan_sees_function_level_imports(tmp_path: Path) -> None:
    """The guard fires on an import inside a function, and on a namespace package's unlisted member."""
    program = tmp_path / "program.py"
    program.write_text("import pulumi\n\ndef hook() -> None:\n    from google.cloud import container_v1\n")
    assert set(third_party_imports([program], module_level_only=True)) == {"pulumi"}
    imports = third_party_imports([program], module_level_only=True, functions=True)
    assert set(unlisted({m: ROOT / "program.py" for m in imports}, requirement_names())) == {"google.cloud.container_v1"}


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
    assert str(cli) == locked_versions()["pulumi"], "the delivery's Pulumi CLI is uv.lock's pulumi SDK version"


def test_pre_commit_hooks_run_the_project_tools() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "mypy", "mypy-policy-pack", "ops-check"} <= set(hooks)
    assert hooks["ops-check"]["entry"].endswith("-m ops check")
    for hook in hooks.values():
        assert hook["language"] == "system" and hook["entry"].startswith(".venv/bin/"), hook
        assert (ROOT / hook["entry"].split()[0]).is_file(), f"{hook['entry']}: not installed by `make setup`"
