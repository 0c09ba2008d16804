"""`ops inspect` and `ops probe` against the real API server, as the README says to run it: with the read-only Role the README
documents, bound to a service account, and that account's token. The real server's RBAC judges every read.
With the Role, no Kubernetes read is refused (there is no GKE controller, so inspect reports drift, exit 1,
never "no access"); with one rule removed, inspect exits 3 naming the verb and resource that rule granted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml

from ops.cluster import CONTEXT
from ops.errors import EXIT_NO_ACCESS
from tests_engine.conftest import ROOT, Driver
from tests_engine.test_engine import NAMESPACE, _explain


def documented_role(name: str = "coditect-inspect") -> dict[str, Any]:
    """A Role exactly as the README shows it, in the local stack's namespace."""
    text = (ROOT / "docs" / "operations.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if f"name: {name}," in b)
    role: dict[str, Any] = yaml.safe_load(block)
    role["metadata"]["namespace"] = NAMESPACE
    return role


def token_kubeconfig(client: kubernetes.client.ApiClient, role: dict[str, Any], cluster_kubeconfig: Path, out: Path) -> Path:
    from kubernetes.dynamic import DynamicClient

    dynamic, core = DynamicClient(client), kubernetes.client.CoreV1Api(client)
    name = role["metadata"]["name"]
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}],
    }
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": NAMESPACE}}
    for body in (account, role, binding):
        dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"]).create(body=body, namespace=NAMESPACE)
    # The audience is the API server's own (its --service-account-issuer, the default --api-audiences).
    request = kubernetes.client.AuthenticationV1TokenRequest(
        spec=kubernetes.client.V1TokenRequestSpec(audiences=["https://kubernetes.default.svc"], expiration_seconds=3600)
    )
    status = core.create_namespaced_service_account_token(name, NAMESPACE, request).status
    assert status is not None
    token = status.token
    config = yaml.safe_load(cluster_kubeconfig.read_text())
    config["users"] = [{"name": CONTEXT, "user": {"token": token}}]
    out.write_text(yaml.safe_dump(config))
    return out


def _inspect(kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    # No Google Cloud here: the Compute and Container APIs point at a closed loopback port.
    return subprocess.run(
        [sys.executable, "-m", "ops", "inspect", "local", "--kubeconfig", str(kubeconfig), "--gcp-endpoint", "http://127.0.0.1:9", "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


@pytest.fixture()
def deployed(project_copy: Driver) -> Any:
    up = project_copy("up")
    assert up.returncode == 0, _explain(up)
    yield project_copy
    down = project_copy("destroy")
    assert down.returncode == 0, _explain(down)


def test_the_documented_role_is_enough_and_each_rule_is_needed(deployed: Driver, cluster: Path, tmp_path: Path) -> None:
    admin = kubernetes.config.new_client_from_config(str(cluster), context=CONTEXT)
    role = documented_role()
    full = _inspect(token_kubeconfig(admin, role, cluster, tmp_path / "inspect.kubeconfig"))
    assert full.returncode != EXIT_NO_ACCESS, f"the README's Role is not enough:\n{full.stdout}{full.stderr}"

    short = yaml.safe_load(yaml.safe_dump(role))
    short["metadata"]["name"] = "coditect-inspect-no-events"
    short["rules"][0]["resources"] = [r for r in short["rules"][0]["resources"] if r != "events"]
    refused = _inspect(token_kubeconfig(admin, short, cluster, tmp_path / "short.kubeconfig"))
    assert refused.returncode == EXIT_NO_ACCESS, f"inspect did not need the events rule:\n{refused.stdout}{refused.stderr}"
    assert "events" in refused.stdout + refused.stderr


def test_the_documented_probe_role_lets_probe_create_its_job(deployed: Driver, cluster: Path, tmp_path: Path) -> None:
    """No node runs the Job's pod here, so the probe cannot finish (exit 1); what the real server judges is the
    access: with the README's Role nothing is refused, without `jobs create` the probe exits 3 naming it."""
    admin = kubernetes.config.new_client_from_config(str(cluster), context=CONTEXT)
    role = documented_role("coditect-probe")
    probe = [sys.executable, "-m", "ops", "probe", "local", "--peer", "10.96.0.10:80", "--deadline", "20", "--probe-timeout", "2"]
    full = subprocess.run(
        [*probe, "--kubeconfig", str(token_kubeconfig(admin, role, cluster, tmp_path / "probe.kubeconfig"))],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert full.returncode != EXIT_NO_ACCESS, f"the README's probe Role is not enough:\n{full.stdout}{full.stderr}"
    short = yaml.safe_load(yaml.safe_dump(role))
    short["metadata"]["name"] = "coditect-probe-no-create"
    short["rules"][0]["verbs"] = ["get", "delete"]
    refused = subprocess.run(
        [*probe, "--kubeconfig", str(token_kubeconfig(admin, short, cluster, tmp_path / "short.kubeconfig"))],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert refused.returncode == EXIT_NO_ACCESS, f"probe did not need jobs create:\n{refused.stdout}{refused.stderr}"
    assert "jobs" in refused.stdout + refused.stderr
