"""A stack file that imports a Pulumi ESC environment is never rendered, checked or promoted as if the import were
absent: without a CLI that can resolve it, every command refuses, naming `environment:`. The CLI route itself (the
real CLI's `pulumi config --json`, and its refusal on a backend without ESC) is proven in tests_engine/test_esc.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops import esc
from ops.errors import UsageError
from ops.stack_check import settings_for
from tests.conftest import ROOT

IMPORT = "environment:\n  - coditect/prod-common\n"


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    for package in ("src", "policy", "rendered"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    monkeypatch.delenv("PULUMI_CLI", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # no `pulumi` anywhere
    return tmp_path


def _import_environment(project: Path, stack: str = "prod") -> None:
    path = project / f"Pulumi.{stack}.yaml"
    path.write_text(IMPORT + path.read_text(encoding="utf-8"), encoding="utf-8")


def test_a_stack_without_environment_needs_no_cli(project: Path) -> None:
    _config, _secrets, settings = settings_for("prod", project)
    assert settings.environment == "prod"


def test_an_environment_import_without_a_cli_is_refused_naming_it(project: Path) -> None:
    _import_environment(project)
    with pytest.raises(UsageError) as refused:
        settings_for("prod", project)
    message = str(refused.value)
    assert message.startswith("Pulumi.prod.yaml: environment: imports the ESC environment coditect/prod-common")
    assert "there is no Pulumi CLI here" in message and "pulumi login" in message


@pytest.mark.parametrize("command", [["check", "prod"], ["render", "prod"], ["promote", "staging", "prod", "--dry-run"], ["target", "prod"]])
def test_every_command_refuses_with_exit_2(project: Path, command: list[str]) -> None:
    _import_environment(project)
    result = subprocess.run(
        [sys.executable, "-m", "ops", "--project", str(project), *command],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PATH": str(project / "no-bin"), "PYTHONPATH": str(ROOT)},
    )
    # `check` judges each stack and reports it (exit 1); the others stop at the stack file (exit 2).
    assert result.returncode == (1 if command[0] == "check" else 2), result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "environment: imports the ESC environment coditect/prod-common" in output and "move the values into the stack file" in output
    assert "Traceback" not in output


def test_the_cli_listing_is_read_as_the_cli_writes_it() -> None:
    """configValueJSON (pulumi/pulumi pkg/cmd/pulumi/config/config.go): value, objectValue, secret without a value."""
    config, secrets = esc._values(
        {
            "gcp:project": {"value": "coditect-prod", "secret": False},
            "coditect:release": {"value": '{"version": "1"}', "objectValue": {"version": "1"}, "secret": False},
            "coditect:token": {"secret": True},
        }
    )
    assert config["gcp:project"] == "coditect-prod" and config["coditect:release"] == {"version": "1"}
    assert secrets == ["coditect:token"] and set(config["coditect:token"]) == {"secure"}


@pytest.mark.parametrize(
    "stack_file, names",
    [
        ({"environment": ["a/b", "c/d"]}, ["a/b", "c/d"]),
        ({"environment": {"imports": ["a/b"]}}, ["a/b"]),
        ({"environment": "a/b"}, ["a/b"]),
        ({}, []),
    ],
)
def test_imports_are_named_in_every_form(stack_file: dict[str, Any], names: list[str]) -> None:
    assert esc.imports_of(stack_file) == names


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5), lambda inner: st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=8
)


@settings(max_examples=200, deadline=None)
@given(target=json_values, patch=json_values)
def test_merge_patch_is_rfc_7386(target: Any, patch: Any) -> None:
    merged = esc.merge_patch(target, patch)
    if not isinstance(patch, dict):
        assert merged == patch
        return
    for key, value in patch.items():
        if value is None:
            assert key not in merged
        elif not isinstance(value, dict):
            assert merged[key] == value
    if isinstance(target, dict):
        for key in set(target) - set(patch):
            assert merged[key] == target[key]
