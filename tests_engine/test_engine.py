"""`pulumi preview`, `up`, a second preview and `destroy` of the local stack under the real engine, against a
real kube-apiserver: server-side apply, CRD validation and admission by the real server. The tests run in
file order (one stack's life); `make test-engine` runs them in one process."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml

from ops.cluster import CONTEXT
from tests_engine.conftest import ROOT, Driver

RENDERED = ROOT / "rendered" / "local" / "kubernetes.yaml"
NAMESPACE = "coditect-local"


def _client(kubeconfig: Path) -> kubernetes.client.ApiClient:
    return kubernetes.config.new_client_from_config(str(kubeconfig), context=CONTEXT)


def _golden() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(RENDERED.read_text()) if d]


def _live(client: kubernetes.client.ApiClient, manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The object the API server holds for `manifest` (found through discovery), or None."""
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import NotFoundError

    resource = DynamicClient(client).resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
    meta = manifest["metadata"]
    try:
        found = resource.get(name=meta["name"], namespace=meta.get("namespace"))
    except NotFoundError:
        return None
    return dict(found.to_dict())


def _explain(result: Any) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"


def test_preview_then_up_creates_what_the_golden_render_declares(drive: Driver, cluster: Path) -> None:
    preview = drive("preview")
    assert preview.returncode == 0, _explain(preview)
    up = drive("up")
    assert up.returncode == 0, _explain(up)
    client = _client(cluster)
    golden = _golden()
    missing = [f"{m['kind']} {m['metadata'].get('namespace', '')}/{m['metadata']['name']}" for m in golden if _live(client, m) is None]
    assert not missing, f"declared in {RENDERED.relative_to(ROOT)} but not in the API server: {missing}"
    namespace = _live(client, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    assert namespace is not None
    assert namespace["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "restricted"
    backend = next(m for m in golden if m["kind"] == "BackendConfig")
    live_backend = _live(client, backend)
    assert live_backend is not None and live_backend["spec"]["timeoutSec"] == backend["spec"]["timeoutSec"]


def test_second_preview_has_no_changes(drive: Driver) -> None:
    again = drive("preview", "--expect-no-changes")
    assert again.returncode == 0, "a perpetual diff:\n" + _explain(again)


def test_destroy_leaves_nothing_behind(drive: Driver, cluster: Path) -> None:
    down = drive("destroy")
    assert down.returncode == 0, _explain(down)
    client = _client(cluster)
    deadline = time.monotonic() + 120
    left = _golden()
    while time.monotonic() < deadline:
        left = [m for m in _golden() if _live(client, m) is not None]
        if not left:
            break
        time.sleep(2)
    assert not left, [f"{m['kind']} {m['metadata']['name']}" for m in left]


@pytest.mark.parametrize("missing_key", ["coditect:release", "coditect:cluster"])
def test_a_missing_required_key_stops_the_cli_before_the_program(project_copy: Driver, missing_key: str) -> None:
    """Pulumi.yaml's typed `config:` block, as the CLI reads it."""
    stack_file = project_copy.root / "Pulumi.local.yaml"
    config = yaml.safe_load(stack_file.read_text())
    del config["config"][missing_key]
    stack_file.write_text(yaml.safe_dump(config))
    preview = project_copy("preview")
    assert preview.returncode != 0
    assert missing_key in preview.stdout + preview.stderr, _explain(preview)


def test_the_cli_enforces_the_required_version_pulumi_yaml_declares(project_copy: Driver) -> None:
    """`requiredPulumiVersion` is read by the CLI itself: a range the CLI is outside stops it before the program."""
    project = project_copy.root / "Pulumi.yaml"
    text = project.read_text()
    assert 'requiredPulumiVersion: ">=3.238.0"' in text
    project.write_text(text.replace('requiredPulumiVersion: ">=3.238.0"', 'requiredPulumiVersion: ">=99.0.0"'))
    preview = project_copy("preview")
    assert preview.returncode != 0
    assert "99.0.0" in preview.stdout + preview.stderr, _explain(preview)


def _pulumi(copy: Driver, *args: str) -> subprocess.CompletedProcess[str]:
    """The built CLI itself on the copy's own backend (after a driver call created the stack there)."""
    from engine.drive import engine_environment

    env = {**os.environ, **engine_environment()}
    env["PULUMI_BACKEND_URL"] = f"file://{copy.root / '.engine' / 'state'}"
    env["PULUMI_HOME"] = str(copy.root / ".engine" / "pulumi-home")
    return subprocess.run(
        [str(copy.root / ".engine" / "bin" / "pulumi"), *args, "--stack", "local", "--non-interactive"],
        cwd=copy.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_config_set_path_as_the_cli_writes_it_reaches_the_program(project_copy: Driver) -> None:
    """`pulumi config set --path` edits the stack file the CLI's way; the program reads the nested value."""
    created = project_copy("preview")  # creates the stack in the copy's own backend
    assert created.returncode == 0, _explain(created)
    setting = _pulumi(project_copy, "config", "set", "--path", "coditect:deployment.replicas", "3")
    assert setting.returncode == 0, setting.stdout + setting.stderr
    stack = yaml.safe_load((project_copy.root / "Pulumi.local.yaml").read_text())
    assert stack["config"]["coditect:deployment"]["replicas"] == 3
    preview = project_copy("preview")
    assert preview.returncode == 0, _explain(preview)
    assert "replicas: 3" in preview.stdout, _explain(preview)


def test_a_secret_value_set_by_the_cli_reaches_the_program_decrypted(project_copy: Driver) -> None:
    """`pulumi config set --secret`: the stack file holds only the ciphertext, and the engine hands the program
    the plaintext (here the first host, which reaches the Ingress rule)."""
    created = project_copy("preview")
    assert created.returncode == 0, _explain(created)
    setting = _pulumi(project_copy, "config", "set", "--secret", "--path", "coditect:hosts[0]", "secret.coditect.test")
    assert setting.returncode == 0, setting.stdout + setting.stderr
    text = (project_copy.root / "Pulumi.local.yaml").read_text()
    assert "secure:" in text and "secret.coditect.test" not in text
    preview = project_copy("preview")
    assert preview.returncode == 0, _explain(preview)
    assert "local.coditect.test" not in preview.stdout, "the program still sees the old host:\n" + _explain(preview)
    assert "secret.coditect.test" in preview.stdout or "[secret]" in preview.stdout, _explain(preview)
