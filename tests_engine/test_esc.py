"""A stack that imports an ESC environment, through the real CLI: `ops` reads the configuration the CLI merges
(`pulumi config --json`), and on a backend without ESC (this file backend) it refuses, quoting the CLI's reason
(pulumi/pulumi pkg/cmd/pulumi/config/config_env.go, errBackendNoEnvironments), naming `environment:`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.drive import engine_environment
from tests_engine.conftest import ROOT


@pytest.fixture()
def project(tmp_path: Path, engine: Path) -> tuple[Path, dict[str, str]]:
    """The project's tracked files in a scratch directory, and the local stack created in a backend of its own."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp_path / name)
    env = {
        **os.environ,
        **engine_environment(),
        "PULUMI_CLI": str(engine / "pulumi"),
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
    }
    (tmp_path / "state").mkdir()
    init = subprocess.run(
        [str(engine / "pulumi"), "stack", "init", "local", "--non-interactive"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert init.returncode == 0, init.stdout + init.stderr
    return tmp_path, env


def _ops(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops", "--project", str(project), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_the_merged_configuration_is_the_cli_s(project: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI route reads what the real CLI prints: the same settings as reading the stack file directly."""
    root, env = project
    from ops import esc

    for key in ("PULUMI_CLI", "PULUMI_BACKEND_URL", "PULUMI_HOME", "PULUMI_CONFIG_PASSPHRASE"):
        monkeypatch.setenv(key, env[key])
    config, secrets = esc.merged_config("local", root, {"environment": ["none"]})
    assert config["coditect:environment"] == "dev" and config["coditect:cluster"]["context"] == "coditect-local"
    assert secrets == []


def test_an_environment_import_on_a_backend_without_esc_is_refused(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    stack = root / "Pulumi.local.yaml"
    stack.write_text("environment:\n  - coditect/local-common\n" + stack.read_text())
    rendered = _ops(root, env, "render", "local", "--out", str(root / "out"))
    assert rendered.returncode == 2, rendered.stdout + rendered.stderr
    assert "environment: imports the ESC environment coditect/local-common" in rendered.stderr
    assert "does not support environments" in rendered.stderr, rendered.stderr
    assert not (root / "out").exists()
