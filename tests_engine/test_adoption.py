"""Adoption as the README describes it: objects first applied by kubectl (server-side apply, field manager
`kubectl`), the BackendConfig with the incident's 30 s timeout. Without adoption `up` fails on the field kubectl
owns with another value; with `coditect:cluster.adopt: true` it takes the objects over without replacing them
and corrects the value; the next `up` without adoption keeps them.

pulumi-kubernetes v4 creates with a server-side apply PATCH, so an existing object is never refused as
"already exists" (provider/pkg/await/await.go, Creation): only fields another manager owns with another value
conflict, and `enablePatchForce` is what overrides them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes
import yaml
from kubernetes.dynamic import DynamicClient

from ops.cluster import CONTEXT
from tests_engine.conftest import Driver
from tests_engine.test_engine import _explain, _golden, _live

KUBECTL = "kubectl"  # the field manager `kubectl apply --server-side` uses


def _kubectl_apply(client: kubernetes.client.ApiClient, manifests: list[dict[str, Any]]) -> None:
    dynamic = DynamicClient(client)
    for manifest in manifests:
        resource = dynamic.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
        dynamic.server_side_apply(resource, body=manifest, namespace=manifest["metadata"].get("namespace"), field_manager=KUBECTL)


def _set_adopt(root: Path, adopt: bool) -> None:
    path = root / "Pulumi.local.yaml"
    config = yaml.safe_load(path.read_text())
    config["config"]["coditect:cluster"]["adopt"] = adopt
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def test_adoption_takes_over_kubectl_objects_without_replacing_them(project_copy: Driver, cluster: Path) -> None:
    client = kubernetes.config.new_client_from_config(str(cluster), context=CONTEXT)
    golden = _golden()
    live_setup = copy.deepcopy(golden)
    backend = next(m for m in live_setup if m["kind"] == "BackendConfig")
    backend["spec"]["timeoutSec"] = 30  # the incident's value, owned by kubectl
    _kubectl_apply(client, live_setup)
    uids = {(m["kind"], m["metadata"]["name"]): _live(client, m)["metadata"]["uid"] for m in golden}  # type: ignore[index]
    try:
        refused = project_copy("up")
        assert refused.returncode != 0, "up without adoption overrode a field kubectl owns"
        assert "conflict" in (refused.stdout + refused.stderr).lower(), _explain(refused)

        _set_adopt(project_copy.root, True)
        adopted = project_copy("up")
        assert adopted.returncode == 0, _explain(adopted)
        _set_adopt(project_copy.root, False)
        kept = project_copy("up")
        assert kept.returncode == 0, _explain(kept)
        after = {(m["kind"], m["metadata"]["name"]): _live(client, m)["metadata"]["uid"] for m in golden}  # type: ignore[index]
        assert after == uids, "adoption replaced objects"
        fixed = _live(client, next(m for m in golden if m["kind"] == "BackendConfig"))
        assert fixed is not None and fixed["spec"]["timeoutSec"] == 86400
    finally:
        down = project_copy("destroy")
        assert down.returncode == 0, _explain(down)
