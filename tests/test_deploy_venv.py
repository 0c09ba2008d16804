"""The after-up hook runs in the virtualenv `pulumi up` gets: one built from requirements-pip.lock and
requirements.lock only (not the dev lock these tests run in). In it the program's modules are imported
and the hook's inspection is called against the stand-ins, so every import the hook performs when
it runs (function-level ones included) must be satisfied by the deploy lock.

Slow (building the virtualenv takes a minute or two); the virtualenv is cached under ~/.cache, keyed
by the locks' sha256, so later runs take seconds. Under CI=true a virtualenv that cannot be built is
a failure, elsewhere (no network) a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from engine.deploy_venv import DeployVenvError
from engine.deploy_venv import deploy_python as build_deploy_venv
from tests.conftest import ROOT
from tests.standin.harness import closed_port_url, running
from tests.standin.servers import write_kubeconfig
from tests.standin.world import CONTEXT, PROJECT, healthy_world

# What the program does on `pulumi up` (cwd = the project, the program's directory on sys.path), then
# what the hook does when the engine calls it: livestate.hook.inspect_until (which __main__.py hands to
# build_app) with the stack's manifests.
HOOK_RUN = """
import json, sys
import yaml
import components.app, components.inspect_hook, livestate.hook
from livestate.hook import inspect_until
manifests = [m for m in yaml.safe_load_all(open("rendered/prod/kubernetes.yaml")) if m]
kubeconfig, endpoint = sys.argv[1], sys.argv[2]
print(json.dumps(inspect_until(manifests, "prod", sys.argv[3], sys.argv[4], 0.0, 0.01, kubeconfig, endpoint, 10.0)))  # a generous answer timeout: the machine may be busy
"""


def deploy_python() -> Path:
    """The deploy virtualenv's interpreter (engine/deploy_venv.py); under CI a failed build fails."""
    try:
        return build_deploy_venv()
    except DeployVenvError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(str(error))
        pytest.skip(str(error))
    raise AssertionError('unreachable')


@pytest.mark.slow
def test_the_hook_runs_in_the_virtualenv_pulumi_up_installs(tmp_path: Path) -> None:
    python = deploy_python()
    with running(healthy_world(), tmp_path) as standins:
        result = subprocess.run([str(python), "-c", HOOK_RUN, str(standins.kubeconfig), standins.compute_url, CONTEXT, PROJECT],
                                cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"the hook failed in the deploy virtualenv:\n{result.stderr[-2000:]}"
    assert json.loads(result.stdout.splitlines()[-1]) is None, result.stdout


@pytest.mark.slow
def test_the_hook_fails_with_a_message_when_the_cluster_is_unreachable(tmp_path: Path) -> None:
    """Every import of the hook's path runs before it reads: a closed port gives a message, not an ImportError."""
    python = deploy_python()
    closed = closed_port_url()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig.json", closed, CONTEXT)
    result = subprocess.run([str(python), "-c", HOOK_RUN, str(kubeconfig), closed, CONTEXT, PROJECT],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"the hook failed in the deploy virtualenv:\n{result.stderr[-2000:]}"
    assert json.loads(result.stdout.splitlines()[-1]).startswith("cannot prove that GKE applied the BackendConfig:"), result.stdout
