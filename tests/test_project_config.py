"""The project's own configuration: locked dependencies, the typed config keys of Pulumi.yaml, and the CI and
hook files. What each environment imports: test_project_imports.py.

The locks (uv.lock, policy/uv.lock) are checked with `uv lock --check --offline` (uv's cache answers; no
network), for their sources and hashes, for what a plain `uv sync` installs (the CLI's), and against the
virtualenv the tests run in.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.utils import canonicalize_name
from packaging.version import Version

from coditect.settings import CONFIG_NAMESPACE, Settings
from tests.conftest import ROOT, STACKS
from tests.project_locks import (
    PACK,
    REGISTRY,
    all_groups,
    installed_by_sync,
    locked_versions,
    pyproject,
    uv,
    uv_lock,
)


@pytest.mark.parametrize("project", [ROOT, PACK], ids=["program", "pack"])
def test_every_locked_package_comes_from_pypi_with_hashes_or_from_this_checkout(project: Path) -> None:
    for name, package in uv_lock(project).items():
        source = package["source"]
        if "registry" not in source:
            assert source in ({"virtual": "."}, {"editable": "."}), f"{project.name}/uv.lock: {name} from {source}"
            continue
        assert source["registry"] == REGISTRY, f"{name}: {source}"
        files = [package["sdist"]] if "sdist" in package else []
        files += package.get("wheels", [])
        assert files and all(f.get("hash", "").startswith("sha256:") for f in files), f"{project.name}/uv.lock: {name} has a file without a hash"


@pytest.mark.parametrize("project", [ROOT, PACK, ROOT / "provider"], ids=["program", "pack", "provider"])
def test_the_lock_is_current(project: Path) -> None:
    """`uv lock --check`: the lock satisfies pyproject.toml, so the CLI's plain `uv sync` installs it unchanged.
    provider/uv.lock holds the package's own pyproject.toml metadata (its dependency groups too): a change there
    makes the provider's `uv sync --locked` refuse, which only the engine suite saw before."""
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
    """What Pulumi's uv toolchain runs (`uv sync`) installs the package, its dependencies and the `deploy` group
    (the after-up hook's clients), and no other group."""
    document = pyproject()
    assert document["tool"]["uv"]["default-groups"] == ["deploy"] and "package" not in document["tool"]["uv"], "the project is the package"
    assert "sources" not in document["tool"]["uv"], "nothing is installed from a path outside the package"
    deploy = installed_by_sync(groups=("deploy",))
    assert {"pulumi", "pulumi-kubernetes", "pulumi-gcp", "pydantic", "kubernetes"} <= deploy
    assert not deploy & {"pytest", "pulumi-policy", "ruff", "mypy", "jsonschema"}, "a group's package would reach `pulumi up`"
    assert installed_by_sync() <= deploy and "kubernetes" not in installed_by_sync(), "a consumer of the wheel gets no hook client"
    runtime = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["runtime"]
    assert runtime == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}


@pytest.mark.parametrize("project", [ROOT, PACK], ids=["program", "pack"])
def test_the_cli_s_package_list_is_what_the_sync_installs(project: Path) -> None:
    """The CLI finds the resource plugins a program needs from `uv export --package <name> --locked --format
    pylock.toml` (uv.go, ListPackages): it runs, and names what `uv sync` installs, never a group it leaves out."""
    name = pyproject(project)["project"]["name"]
    result = subprocess.run(
        [str(uv()), "export", "--package", name, "--locked", "--format", "pylock.toml", "--offline"], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-1500:]
    exported = {canonicalize_name(p["name"]) for p in tomllib.loads(result.stdout)["packages"]}
    groups = pyproject(project)["tool"]["uv"]["default-groups"]
    expected = installed_by_sync(project, tuple(groups)) | ({"coditect-gke"} if project == ROOT else set())
    assert expected <= exported, f"the sync installs what the export omits: {expected - exported}"
    assert not exported & (installed_by_sync(project, all_groups(project)) - installed_by_sync(project, tuple(groups))), (
        "a group the sync leaves out is exported"
    )


def test_the_pack_syncs_its_own_lock() -> None:
    runtime = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text(encoding="utf-8"))["runtime"]
    assert runtime == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}
    assert pyproject(PACK)["tool"]["uv"]["default-groups"] == ["pack"]
    assert installed_by_sync(PACK) == set(), "the pack's package installs nothing itself"
    assert {"pulumi-policy", "pulumi", "grpcio"} <= installed_by_sync(PACK, ("pack",))
    assert pyproject(PACK)["project"]["dependencies"] == [], "the rule engine needs only the standard library"
    assert (PACK / "gke").resolve() == (ROOT / "src" / "coditect" / "gke").resolve(), "the pack's rules are the package's rule engine"


def test_the_bootstrap_installs_the_locked_uv() -> None:
    """requirements-pip.lock (pip, hashes) installs uv; the lint group and uv.lock hold the same version, so the sync keeps it."""
    bootstrap = re.findall(r"^uv==(\S+) \\$", (ROOT / "requirements-pip.lock").read_text(encoding="utf-8"), re.M)
    assert bootstrap == [locked_versions()["uv"]], f"requirements-pip.lock {bootstrap}, uv.lock {locked_versions()['uv']}: run `make lock`"
    assert re.search(r"^    --hash=sha256:[0-9a-f]{64}", (ROOT / "requirements-pip.lock").read_text(encoding="utf-8"), re.M)


def test_the_test_environment_is_the_locked_one() -> None:
    """The virtualenv running these tests holds uv.lock's versions of every group (`make setup`)."""
    locked = locked_versions()
    stale = {}
    for name in installed_by_sync(groups=all_groups()):
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "missing"
        if installed != locked[name]:
            stale[name] = (installed, locked[name])
    assert not stale, f"installed vs locked: {stale}; run `make setup`"


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
            f"{key}: a type and a description, and no default or value (defaults live in Settings): {spec}"
        )
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
    assert project.get("requiredPulumiVersion") == ">=3.238.0", 'Pulumi.yaml: requiredPulumiVersion must be ">=3.238.0"'
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
    assert {"ruff", "ruff-format", "mypy", "mypy-policy-pack", "ops-check", "check-yaml", "actionlint", "shellcheck"} <= set(hooks)
    assert hooks["ops-check"]["entry"].endswith("-m ops check")
    assert hooks["actionlint"]["entry"].endswith("-m ops.tools actionlint") and hooks["shellcheck"]["entry"].endswith("-m ops.tools shellcheck")
    for hook in hooks.values():
        assert hook["language"] == "system" and hook["entry"].startswith(".venv/bin/"), hook
        assert (ROOT / hook["entry"].split()[0]).is_file(), f"{hook['entry']}: not installed by `make setup`"
