"""The real engine suite: the Pulumi CLI, the Kubernetes provider, etcd and kube-apiserver built by `make engine`,
the program run in the deploy virtualenv (uv.lock's dependencies, synced as the CLI's uv toolchain syncs them) and
the policy pack in the pack's (policy/uv.lock), against a cluster on loopback.

Where a part is not built the suite skips, saying which; under CI (CI=true) that is a failure instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".engine" / "bin"
PARTS = ("pulumi", "pulumi-resource-kubernetes", "etcd", "kube-apiserver", "kube-controller-manager")
DRIVE_TIMEOUT_SEC = 900


def _missing() -> list[str]:
    return [p for p in PARTS if not (BIN / p).exists()]


def pytest_report_header(config: pytest.Config) -> list[str]:
    versions = []
    for part in PARTS:
        stamp = BIN / f"{part}.version"
        versions.append(f"{part} {stamp.read_text().strip() if stamp.exists() else 'NOT BUILT'}")
    return ["engine: " + ", ".join(versions)]


@pytest.fixture(scope="session")
def engine() -> Path:
    missing = _missing()
    if missing:
        message = f"engine parts not built: {', '.join(missing)} (run `make engine`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return BIN


@pytest.fixture(scope="session")
def deploy_python(engine: Path) -> str:
    """The interpreter of the virtualenv `pulumi up` builds: `uv sync` of uv.lock, no dependency group."""
    from engine.deploy_venv import DeployVenvError
    from engine.deploy_venv import deploy_python as build

    try:
        return str(build())
    except DeployVenvError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def pack_python(engine: Path) -> str:
    """The interpreter of the virtualenv `--policy-pack policy` builds: `uv sync` of policy/uv.lock."""
    from engine.deploy_venv import DeployVenvError
    from engine.deploy_venv import pack_python as build

    try:
        return str(build())
    except DeployVenvError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def cluster(engine: Path) -> Iterator[Path]:
    """A fresh loopback cluster for the session, stopped at the end."""
    ops = [sys.executable, "-m", "ops", "--project", str(ROOT), "cluster"]
    started = subprocess.run([*ops, "start"], capture_output=True, text=True, timeout=180)
    assert started.returncode == 0, started.stdout + started.stderr
    yield ROOT / ".engine" / "kubeconfig"
    subprocess.run([*ops, "stop"], capture_output=True, text=True, timeout=60)


@dataclass(frozen=True)
class Driver:
    python: str
    root: Path
    pack_python: str

    def __call__(self, *args: str, stack: str = "local") -> subprocess.CompletedProcess[str]:
        # The pack runs where the CLI would run it (engine/language_host.py reads CODITECT_POLICY_PYTHON).
        env = {**os.environ, "KUBECONFIG": str(ROOT / ".engine" / "kubeconfig"), "CODITECT_POLICY_PYTHON": self.pack_python}
        return subprocess.run(
            [self.python, str(self.root / "engine" / "drive.py"), *args, "--stack", stack],
            capture_output=True,
            text=True,
            timeout=DRIVE_TIMEOUT_SEC,
            cwd=self.root,
            env=env,
        )


@pytest.fixture(scope="session")
def drive(deploy_python: str, pack_python: str, cluster: Path) -> Driver:
    return Driver(deploy_python, ROOT, pack_python)


@pytest.fixture()
def project_copy(tmp_path: Path, deploy_python: str, pack_python: str, cluster: Path) -> Driver:
    """The project's tracked files in a scratch directory (to change stack files freely), on the same engine and cluster."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            target = tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (tmp_path / ".engine").mkdir()
    (tmp_path / ".engine" / "bin").symlink_to(BIN.resolve())
    (tmp_path / ".venv").symlink_to((ROOT / ".venv").resolve())
    return Driver(deploy_python, tmp_path, pack_python)
