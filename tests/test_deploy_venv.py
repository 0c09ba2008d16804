"""The after-up hook runs in the virtualenv `pulumi up` gets: one that `uv sync` builds from uv.lock the way the
CLI's uv toolchain runs it (engine/deploy_venv.py; pulumi/pulumi sdk/python/toolchain/uv.go), so the program's
dependencies and no dependency group (not the ops, tests and lint groups these tests run in). In it the program's
modules are imported and the hook's inspection is called against the stand-ins, so every import the hook
performs when it runs (function-level ones included) must be satisfied by the program's dependencies.

Slow (building the virtualenv takes up to a minute with a cold uv cache); the virtualenv is cached under
~/.cache, keyed by uv.lock and pyproject.toml, so later runs take seconds. Under CI=true a virtualenv that cannot
be built is a failure, elsewhere (no network) a skip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

import engine.deploy_venv
from engine.deploy_venv import DeployVenvError
from engine.deploy_venv import deploy_python as build_deploy_venv
from engine.deploy_venv import pack_python as build_pack_venv
from tests.conftest import ROOT
from tests.project_locks import PACK, installed_by_sync, locked_versions
from tests.standin.harness import closed_port_url, running
from tests.standin.servers import write_kubeconfig
from tests.standin.world import CONTEXT, PROJECT, healthy_world

# What the program does on `pulumi up` (cwd = the project, the program's directory on sys.path), then
# what the hook does when the engine calls it: livestate.hook.inspect_until (which __main__.py hands to
# build_app) with the stack's manifests.
HOOK_RUN = """
import json, sys
import yaml
import coditect.app, coditect.inspect_hook, livestate.hook
from livestate.hook import inspect_until
manifests = [m for m in yaml.safe_load_all(open("rendered/prod/kubernetes.yaml")) if m]
kubeconfig, endpoint = sys.argv[1], sys.argv[2]
print(json.dumps(inspect_until(manifests, "prod", sys.argv[3], sys.argv[4], 0.0, 0.01, kubeconfig, endpoint, 10.0)))  # a generous answer timeout: the machine may be busy
"""


DISTRIBUTIONS = "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"


def deploy_python(pack: bool = False) -> Path:
    """The deploy (or pack) virtualenv's interpreter (engine/deploy_venv.py); under CI a failed build fails."""
    try:
        return build_pack_venv() if pack else build_deploy_venv()
    except DeployVenvError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(str(error))
        pytest.skip(str(error))
    raise AssertionError("unreachable")


def distributions(python: Path) -> dict[str, str]:
    """{canonical name: version} of what is installed in a virtualenv, pip and setuptools aside (uv installs neither)."""
    found = json.loads(subprocess.run([str(python), "-I", "-c", DISTRIBUTIONS], capture_output=True, text=True, timeout=60, check=True).stdout)
    return {canonicalize_name(name): version for name, version in found.items()}


@pytest.mark.slow
def test_the_deploy_virtualenv_is_the_lock_without_groups() -> None:
    """Exactly what a plain `uv sync` installs from uv.lock, at its versions: the package (editable), its dependencies
    and the default `deploy` group; no test, ops or lint package."""
    installed = distributions(deploy_python())
    locked = locked_versions()
    expected = installed_by_sync(groups=("deploy",)) | {"coditect-gke"}
    assert set(installed) == expected, f"installed but not locked: {set(installed) - expected}, missing: {expected - set(installed)}"
    assert {name: version for name, version in installed.items() if version != locked[name]} == {}
    assert "pytest" not in installed and "pulumi-policy" not in installed


@pytest.mark.slow
def test_the_pack_virtualenv_is_the_pack_lock_and_loads_the_pack() -> None:
    python = deploy_python(pack=True)
    installed = distributions(python)
    assert set(installed) == installed_by_sync(PACK, ("pack",)), "the pack directory is run as it is: nothing of ours is installed"
    assert {name: version for name, version in installed.items() if version != locked_versions(PACK)[name]} == {}
    loaded = subprocess.run(
        # As the SDK's pack runner does (pulumi/policy/__main__.py: runpy.run_path of the directory puts it first on sys.path).
        [str(python), "-I", "-c", "import sys; sys.path.insert(0, '.'); import gke.pack, pulumi_policy; print(gke.pack.__file__)"],
        cwd=PACK,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0 and Path(loaded.stdout.strip()).parent == PACK / "gke", loaded.stderr[-1500:]


def test_a_lock_older_than_pyproject_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`uv sync --locked` stops with one message instead of re-resolving (the CLI's plain sync would install
    versions no test ran)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, project / name)
    (project / "policy").symlink_to(PACK)
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    (project / "pyproject.toml").write_text(text.replace('"pydantic>=2.14,<3"', '"pydantic>=2.14,<2.15"'), encoding="utf-8")
    monkeypatch.setattr(engine.deploy_venv, "CACHE", tmp_path / "cache")
    with pytest.raises(DeployVenvError, match=r"with `uv sync --locked`: The lockfile at `uv.lock` needs to be updated"):
        engine.deploy_venv.build(project)
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.is_dir()] == [], "a failed build leaves no virtualenv behind"


@pytest.mark.slow
def test_the_hook_runs_in_the_virtualenv_pulumi_up_installs(tmp_path: Path) -> None:
    python = deploy_python()
    with running(healthy_world(), tmp_path) as standins:
        result = subprocess.run(
            [str(python), "-c", HOOK_RUN, str(standins.kubeconfig), standins.compute_url, CONTEXT, PROJECT],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, f"the hook failed in the deploy virtualenv:\n{result.stderr[-2000:]}"
    assert json.loads(result.stdout.splitlines()[-1]) is None, result.stdout


@pytest.mark.slow
def test_the_hook_fails_with_a_message_when_the_cluster_is_unreachable(tmp_path: Path) -> None:
    """Every import of the hook's path runs before it reads: a closed port gives a message, not an ImportError."""
    python = deploy_python()
    closed = closed_port_url()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig.json", closed, CONTEXT)
    result = subprocess.run(
        [str(python), "-c", HOOK_RUN, str(kubeconfig), closed, CONTEXT, PROJECT],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"the hook failed in the deploy virtualenv:\n{result.stderr[-2000:]}"
    assert json.loads(result.stdout.splitlines()[-1]).startswith("cannot prove that GKE applied the BackendConfig coditect-app/coditect-backend-config:"), (
        result.stdout
    )
