"""A release change as the README runs it: `ops rollback` writes the previous release back into the stack file
(from git history), and the real `pulumi up` then changes exactly the Deployment's images, nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes
import yaml

from ops.cluster import CONTEXT
from tests_engine.conftest import Driver
from tests_engine.test_engine import NAMESPACE, _explain

NEXT: dict[str, Any] = {
    "version": "1.6.0",
    "images": {
        "nginx": "us-docker.pkg.dev/coditect/app/nginx@sha256:" + "1" * 64,
        "ide": "us-docker.pkg.dev/coditect/app/theia@sha256:" + "2" * 64,
    },
}


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=release", "-c", "user.email=release@coditect.test", *args], cwd=root, check=True, capture_output=True, timeout=60)


def _images(cluster: Path) -> dict[str, str]:
    client = kubernetes.config.new_client_from_config(str(cluster), context=CONTEXT)
    deployment = kubernetes.client.AppsV1Api(client).read_namespaced_deployment("coditect-combined", NAMESPACE)
    pod = deployment.spec.template.spec
    assert pod is not None
    return {c.name: str(c.image) for c in pod.containers}


def _changes(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    return dict(json.loads(result.stdout.strip().splitlines()[-1])["changes"])


def test_rollback_then_up_changes_exactly_the_images(project_copy: Driver, cluster: Path) -> None:
    root = project_copy.root
    stack_file = root / "Pulumi.local.yaml"
    first = yaml.safe_load(stack_file.read_text())["config"]["coditect:release"]
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "release 1.5.0")
    try:
        assert (up := project_copy("up")).returncode == 0, _explain(up)
        config = yaml.safe_load(stack_file.read_text())
        config["config"]["coditect:release"] = NEXT
        stack_file.write_text(yaml.safe_dump(config, sort_keys=False))
        _git(root, "commit", "-qam", "release 1.6.0")
        assert (up := project_copy("up")).returncode == 0, _explain(up)
        assert _images(cluster) == {"nginx": NEXT["images"]["nginx"], "ide": NEXT["images"]["ide"]}

        rollback = subprocess.run(
            [sys.executable, "-m", "ops", "--project", str(root), "rollback", "local"], capture_output=True, text=True, timeout=300, cwd=root
        )
        assert rollback.returncode == 0, rollback.stdout + rollback.stderr
        preview = project_copy("preview")
        assert preview.returncode == 0, _explain(preview)
        changes = _changes(preview)
        assert changes.get("update") == 1 and set(changes) <= {"update", "same"}, f"more than the Deployment changes: {changes}\n{preview.stdout[-4000:]}"
        assert "kubernetes:apps/v1:Deployment" in preview.stdout
        assert (up := project_copy("up")).returncode == 0, _explain(up)
        assert _images(cluster) == first["images"]
    finally:
        down = project_copy("destroy")
        assert down.returncode == 0, _explain(down)
