"""Upgrading a deployed stack to 1.0.0 replaces nothing, under the real engine.

1.0.0 moved every resource under one `coditect:index:SocketIoApp` component, which changes every URN; each
former top-level child carries `Alias(parent=ROOT_STACK_RESOURCE)` so that the engine matches the old URN
(pulumi/pulumi pkg/resource/deploy/step_generator.go: aliases). Mocks only show that the aliases are declared;
here the program as it was before 1.0.0 (PREVIOUS_RELEASE, from this repository's history) is deployed, and
the current program is previewed and deployed on the same state: it may create only the new component, and
every object in the API server keeps its uid.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from ops.cluster import CONTEXT
from tests_engine.conftest import BIN, ROOT, Driver
from tests_engine.test_engine import _explain, _golden, _live

PREVIOUS_RELEASE = "4574df641c3456ff834b10b425672e5c1b6c4684"  # the last commit of the flat layout, before src/coditect
NEW_COMPONENT = "coditect:index:SocketIoApp"
CHANGING_STEPS = ("update", "replace", "create-replacement", "delete-replaced", "delete", "import", "import-replacement")


def _previous_tree(target: Path) -> Path:
    """PREVIOUS_RELEASE's tracked files in `target`, on the built engine and the dev virtualenv."""
    present = subprocess.run(["git", "cat-file", "-e", f"{PREVIOUS_RELEASE}^{{commit}}"], cwd=ROOT, capture_output=True)
    if present.returncode != 0:
        pytest.fail(f"commit {PREVIOUS_RELEASE} is not in this clone's history: the upgrade test needs a full clone (not --depth)")
    target.mkdir()
    archive = subprocess.run(["git", "archive", "--format=tar", PREVIOUS_RELEASE], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    (target / ".engine").mkdir()
    (target / ".engine" / "bin").symlink_to(BIN.resolve())
    (target / ".venv").symlink_to((ROOT / ".venv").resolve())
    return target


def _summary(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """The change summary drive.py prints last: {"same": n, "create": n, ...}."""
    last = [line for line in result.stdout.splitlines() if line.startswith('{"changes"')][-1]
    changes: dict[str, int] = json.loads(last)["changes"]
    return changes


def _uids(client: kubernetes.client.ApiClient) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for manifest in _golden():
        live: dict[str, Any] | None = _live(client, manifest)
        assert live is not None, f"{manifest['kind']} {manifest['metadata']['name']} is not in the API server"
        found[(manifest["kind"], manifest["metadata"]["name"])] = live["metadata"]["uid"]
    return found


def test_upgrading_a_deployed_stack_to_the_component_replaces_nothing(tmp_path: Path, project_copy: Driver, cluster: Path) -> None:
    previous = Driver(project_copy.python, _previous_tree(tmp_path / "previous"), project_copy.pack_python)
    current = project_copy
    deployed_by = previous
    try:
        up = previous("up")
        assert up.returncode == 0, "the previous release did not deploy:\n" + _explain(up)
        client = kubernetes.config.new_client_from_config(str(cluster), context=CONTEXT)
        before = _uids(client)

        shutil.copytree(previous.root / ".engine" / "state", current.root / ".engine" / "state")
        deployed_by = current
        preview = current("preview")
        assert preview.returncode == 0, _explain(preview)
        changes = _summary(preview)
        changing = {step: n for step, n in changes.items() if step in CHANGING_STEPS and n}
        assert not changing, f"the upgrade would change deployed resources {changing}:\n" + _explain(preview)
        assert changes.get("create") == 1 and NEW_COMPONENT in preview.stdout, f"only {NEW_COMPONENT} may be created: {changes}\n" + _explain(preview)

        upgraded = current("up")
        assert upgraded.returncode == 0, _explain(upgraded)
        assert _uids(client) == before, "an object was replaced in the API server"
        again = current("preview", "--expect-no-changes")
        assert again.returncode == 0, "the upgraded stack still has changes:\n" + _explain(again)
    finally:
        down = deployed_by("destroy")
        assert down.returncode == 0, _explain(down)
