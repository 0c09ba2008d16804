"""The offline Gateway validator (ops/gateway_schemas.py: schema, defaults, list types, CEL) against a real kube-apiserver.

Each Gateway API bundle's CRDs (schemas/gateway-crds/gateway-api-<bundle>/) and GKE's policy CRDs (gke/) are installed
into the loopback API server, then every case of tests/gateway_cases.py is created with a server-side dry run and
`fieldValidation=Strict` (unknown fields refused, as the offline check refuses them). The API server's verdict
(admitted or refused) must equal the offline one for every case, and both must equal the case's expectation.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml

from ops import gateway_schemas
from ops.cluster import CONTEXT
from ops.program import YAML_LOADER
from tests.gateway_cases import BUNDLES, NAMESPACE, Case, all_cases, valid_set
from tests_engine.conftest import ROOT

CRDS = ROOT / "schemas" / "gateway-crds"
READY_TIMEOUT_SEC = 60.0


@cache
def _bodies(folder: Path) -> list[dict[str, Any]]:
    bodies = [yaml.load(p.read_text(), Loader=YAML_LOADER) for p in sorted(folder.glob("*.yaml"))]
    return [b for b in bodies if b.get("kind") == "CustomResourceDefinition"]


@pytest.fixture(scope="module")
def client(cluster: Path) -> Iterator[kubernetes.client.ApiClient]:
    api = kubernetes.config.new_client_from_config(str(cluster), context=CONTEXT)
    core = kubernetes.client.CoreV1Api(api)
    try:
        core.create_namespace(kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=NAMESPACE)))
    except kubernetes.client.ApiException as error:
        if error.status != 409:
            raise
    yield api
    api.close()


def _install(api: kubernetes.client.ApiClient, bodies: list[dict[str, Any]]) -> None:
    """Replace the CRDs by these (delete, wait until gone, create, wait until Established): a bundle switch is a fresh install."""
    ext = kubernetes.client.ApiextensionsV1Api(api)
    names = [b["metadata"]["name"] for b in bodies]
    for name in names:
        try:
            ext.delete_custom_resource_definition(name)
        except kubernetes.client.ApiException as error:
            if error.status != 404:
                raise
    deadline = time.monotonic() + READY_TIMEOUT_SEC
    for name in names:
        while True:
            try:
                ext.read_custom_resource_definition(name)
            except kubernetes.client.ApiException as error:
                if error.status == 404:
                    break
                raise
            assert time.monotonic() < deadline, f"CRD {name} still there {READY_TIMEOUT_SEC:.0f} s after its deletion"
            time.sleep(0.2)
    for body in copy.deepcopy(bodies):
        ext.create_custom_resource_definition(body)  # type: ignore[arg-type]  # the client sends a dict body as it is
    for name in names:
        while True:
            status = ext.read_custom_resource_definition(name).status
            if any(c.type == "Established" and c.status == "True" for c in (status.conditions if status else None) or []):
                break
            assert time.monotonic() < deadline, f"CRD {name} not Established after {READY_TIMEOUT_SEC:.0f} s"
            time.sleep(0.2)


@cache
def _plurals() -> dict[str, str]:
    return {b["spec"]["names"]["kind"]: b["spec"]["names"]["plural"] for f in (CRDS / "gateway-api-v1.5.1", CRDS / "gke") for b in _bodies(f)}


def _dry_run(api: kubernetes.client.ApiClient, manifest: dict[str, Any]) -> str | None:
    """None when the API server admits `manifest` (server-side dry run, strict fields); else its refusal."""
    group, _, version = manifest["apiVersion"].rpartition("/")
    try:
        kubernetes.client.CustomObjectsApi(api).create_namespaced_custom_object(
            group, version, NAMESPACE, _plurals()[manifest["kind"]], manifest, dry_run="All", field_validation="Strict"
        )
    except kubernetes.client.ApiException as error:
        return f"{error.status} {error.reason}: {error.body}"
    return None


def _wait_serving(api: kubernetes.client.ApiClient) -> None:
    """The CRD handler serves a new CRD a moment after Established; wait until the valid objects of every kind are admitted."""
    referencegrant = next(c.manifest for c in all_cases() if c.name == "referencegrant-v1beta1")
    deadline = time.monotonic() + READY_TIMEOUT_SEC
    for manifest in [*valid_set(), referencegrant]:
        while (answer := _dry_run(api, manifest)) is not None:
            assert time.monotonic() < deadline, f"{manifest['kind']} still refused {READY_TIMEOUT_SEC:.0f} s after install: {answer}"
            time.sleep(0.3)


def _verdicts(api: kubernetes.client.ApiClient, bundle: str, cases: list[Case]) -> list[tuple[Case, list[str], str | None]]:
    return [(case, gateway_schemas.validate(case.manifest, bundle), _dry_run(api, case.manifest)) for case in cases]


def _rule_messages(bodies: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.update(str(r["message"]) for r in node.get("x-kubernetes-validations") or [] if r.get("message"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(bodies)
    return found


def _is_rule_case(case: Case, messages: set[str]) -> bool:
    """A case refused by a CEL rule: its expected text is (part of) a rule's message."""
    return bool(case.says) and any(case.says.split(" evaluating rule: ")[-1] in m for m in messages)


@pytest.mark.parametrize("bundle", BUNDLES)
def test_apiserver_and_offline_validator_agree_on_every_case(client: kubernetes.client.ApiClient, bundle: str, capsys: pytest.CaptureFixture[str]) -> None:
    bodies = _bodies(CRDS / "gke") + _bodies(CRDS / f"gateway-api-{bundle}")
    t0 = time.monotonic()
    _install(client, bodies)
    _wait_serving(client)
    installed = time.monotonic() - t0
    cases = all_cases()
    results = _verdicts(client, bundle, cases)
    disagreements = [
        f"{case.name}: offline {'admits' if not offline else 'refuses: ' + offline[0]}; API server {'admits' if server is None else 'refuses: ' + server[:600]}"
        for case, offline, server in results
        if (not offline) != (server is None)
    ]
    unexpected = [
        f"{case.name}: expected {'admitted' if case.accepted[bundle] else 'refused'}"
        for case, _, server in results
        if (server is None) != case.accepted[bundle]
    ]
    # For a CEL refusal the rule's own message is the contract: the API server's text carries the one offline names.
    messages = _rule_messages(bodies)
    rule_cases = [(case, server or "") for case, _, server in results if not case.accepted[bundle] and _is_rule_case(case, messages)]
    unworded = [f"{case.name}: API server said {server[:600]}" for case, server in rule_cases if case.says not in server.replace('\\"', '"')]
    refused = sum(1 for _, _, server in results if server is not None)
    with capsys.disabled():
        print(
            f"\nGateway API {bundle}: {len(cases)} cases, {len(cases) - len(disagreements)} agree "
            f"({refused} refused by the API server, {len(cases) - refused} admitted; {len(rule_cases)} CEL refusals worded alike); "
            f"install {installed:.1f} s, {len(cases)} dry runs + offline checks {time.monotonic() - t0 - installed:.1f} s"
        )
    assert disagreements == [], "\n".join(disagreements)
    assert unexpected == [], "\n".join(unexpected)
    assert len(rule_cases) >= 8 and unworded == [], "\n".join(unworded)


def _stack_gateway_objects(stack: str) -> tuple[str, list[dict[str, Any]]]:
    """The stack's declared bundle and the Gateway-side objects of its golden render, moved into the test namespace."""
    settings = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
    bundle = str(settings["coditect:gateway"]["bundleVersion"])
    rendered = [m for m in yaml.load_all((ROOT / "rendered" / stack / "kubernetes.yaml").read_text(encoding="utf-8"), Loader=YAML_LOADER) if m]
    objects = []
    for manifest in rendered:
        if gateway_schemas.handles(manifest["apiVersion"], manifest["kind"]):
            moved = copy.deepcopy(manifest)
            moved["metadata"]["namespace"] = NAMESPACE
            objects.append(moved)
    return bundle, objects


def test_the_api_server_admits_the_rendered_gateway_of_staging(client: kubernetes.client.ApiClient) -> None:
    """What `pulumi up` would send for staging's Gateway front door, judged by the API server's own schema and CEL
    rules for the bundle the stack declares its cluster has (coditect:gateway.bundleVersion)."""
    bundle, objects = _stack_gateway_objects("staging")
    assert {m["kind"] for m in objects} == {"Gateway", "HTTPRoute", "GCPBackendPolicy", "HealthCheckPolicy", "GCPGatewayPolicy"}, "staging runs the Gateway"
    _install(client, _bodies(CRDS / "gke") + _bodies(CRDS / f"gateway-api-{bundle}"))
    _wait_serving(client)
    refused = {f"{m['kind']} {m['metadata']['name']}": answer for m in objects if (answer := _dry_run(client, m)) is not None}
    assert refused == {}, refused
    assert all(gateway_schemas.validate(m, bundle) == [] for m in objects), "the offline check admits them too"
