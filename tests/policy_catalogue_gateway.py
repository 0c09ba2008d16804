"""Catalogue cases for the GKE Gateway front door: the failure modes GKE's Gateway controller is known for.

Each case starts from the catalogue baseline with the project's Gateway objects beside the Ingress (or, where the
Ingress side would rightly disagree too, the Gateway alone) and breaks one thing the way it has broken in public
reports. Sources: https://docs.cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources,
secure-gateway, gatewayclass-capabilities; kubernetes-sigs/gateway-api#1243, #1612, #2622, #2632;
GoogleCloudPlatform/gke-gateway-api#42. The API server's own refusals (CRD schema and CEL, ops/gateway_schemas.py)
are named in `schema` where the pack and the schema both reject the break.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tests.gateway_fixtures import GATEWAY, both_front_doors
from tests.policy_catalogue_base import NS, Case, Manifests

BP = ("backend_policy", "spec", "default")
HC = ("health_policy", "spec", "default", "config", "httpHealthCheck")
REDIRECT = ("redirect_route", "spec", "rules", 0, "filters", 0, "requestRedirect")
CERTMAP = "networking.gke.io/certmap"


def _node(manifests: Manifests, path: tuple[str | int, ...]) -> Any:
    node: Any = manifests
    for step in path:
        node = node[step]
    return node


def gateway(*edits: Callable[[Manifests], object]) -> Callable[[Manifests], None]:
    """The baseline with the Gateway objects beside it, then `edits` (a case's `breaks` gets the bare baseline)."""

    def apply(manifests: Manifests) -> None:
        manifests.update(copy.deepcopy(both_front_doors()))
        for edit in edits:
            edit(manifests)

    return apply


def gateway_alone(*edits: Callable[[Manifests], object]) -> Callable[[Manifests], None]:
    """frontDoors [gateway]: no Ingress, no BackendConfig, so only the Gateway's own rules judge the break."""

    def apply(manifests: Manifests) -> None:
        gateway()(manifests)
        del manifests["ingress"], manifests["backend_config"]
        manifests["service"]["metadata"]["annotations"] = {}
        for edit in edits:
            edit(manifests)

    return apply


def put(path: tuple[str | int, ...], value: Any) -> Callable[[Manifests], None]:
    return lambda m: _node(m, path[:-1]).__setitem__(path[-1], value)


def drop(path: tuple[str | int, ...]) -> Callable[[Manifests], None]:
    return lambda m: _node(m, path[:-1]).pop(path[-1])


def _second_backend_policy(manifests: Manifests) -> None:
    manifests["backend_policy_2"] = {**copy.deepcopy(manifests["backend_policy"]), "metadata": {"name": "web-2", "namespace": NS}}


TLS_SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "coditect-tls", "namespace": NS}, "type": "kubernetes.io/tls"}
MANAGED_CERT_REF = {"group": "networking.gke.io", "kind": "ManagedCertificate", "name": "coditect-cert"}

GATEWAY_CASES: tuple[Case, ...] = (
    Case(
        "Gateway: no HealthCheckPolicy, so GKE probes '/' and the pods look down (503 no healthy upstream)",
        "gateway-backend-policies",
        "503 no healthy upstream",
        gateway(lambda m: m.pop("health_policy")),
    ),
    Case(
        "Gateway: HTTPRoute timeouts for the WebSocket (GKE refuses them)",
        "httproute-no-timeouts",
        "Timeouts are not supported",
        gateway(put(("app_route", "spec", "rules", 0, "timeouts"), {"request": "86400s"})),
    ),
    Case(
        "Gateway: class gke-l7-gxlb with the HTTP->HTTPS redirect route",
        "gateway-class-route-filters",
        "RequestRedirect filter on a route bound to",
        gateway(put(("gateway", "spec", "gatewayClassName"), "gke-l7-gxlb")),
        also=frozenset({"gateway-class"}),  # the class is wrong on its own too: both name the one fix
    ),
    Case(
        "Gateway: the Ingress's ManagedCertificate referenced from the HTTPS listener",
        "gateway-tls",
        "a ManagedCertificate, which GKE's Gateway controller does not support",
        gateway(
            drop(("gateway", "metadata", "annotations")),
            put(("gateway", "spec", "listeners", 0, "tls"), {"mode": "Terminate", "certificateRefs": [MANAGED_CERT_REF]}),
        ),
    ),
    Case(
        "Gateway: certmap annotation together with listener certificateRefs",
        "gateway-tls",
        "GKE refuses a Gateway with both",
        gateway(
            put(("gateway", "spec", "listeners", 0, "tls"), {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "coditect-tls"}]}),
            lambda m: m.__setitem__("tls_secret", copy.deepcopy(TLS_SECRET)),
        ),
    ),
    Case(
        "Gateway: address without type (the CRD defaults it to IPAddress, GWCER106)",
        "gateway-addresses",
        "has no type, which the CRD defaults to IPAddress",
        gateway(put(("gateway", "spec", "addresses"), [{"value": "34.120.10.20"}])),
    ),
    Case(
        "Gateway: address of type IPAddress",
        "gateway-addresses",
        "has type 'IPAddress'",
        gateway(put(("gateway", "spec", "addresses"), [{"type": "IPAddress", "value": "34.120.10.20"}])),
    ),
    Case(
        "Gateway: output annotation networking.gke.io/addresses written as input instead of spec.addresses",
        "gateway-addresses",
        "networking.gke.io/addresses: 'coditect-dev-gw-ip' is an output",
        gateway(
            drop(("gateway", "spec", "addresses")),
            put(("gateway", "metadata", "annotations", "networking.gke.io/addresses"), "coditect-dev-gw-ip"),
        ),
    ),
    Case(
        "Gateway: the Ingress's static IP name reused for the Gateway",
        "gateway-address-distinct",
        f"Ingress {NS}/web already holds",
        gateway(put(("ingress", "metadata", "annotations", "kubernetes.io/ingress.global-static-ip-name"), "coditect-dev-gw-ip")),
    ),
    Case(
        "Gateway: redirect route bound to both listeners (redirect loop on HTTPS)",
        "httproute-listener-binding",
        "binds every listener",
        gateway(drop(("redirect_route", "spec", "parentRefs", 0, "sectionName"))),
    ),
    Case(
        "Gateway: two GCPBackendPolicies on one Service (GKE applies only the oldest)",
        "gateway-backend-policies",
        "GKE applies only the oldest",
        gateway(_second_backend_policy),
    ),
    Case(
        "Gateway: HEADER_FIELD session affinity",
        "gcpbackendpolicy-affinity",
        "HEADER_FIELD and HTTP_COOKIE are unsupported",
        gateway_alone(put((*BP, "sessionAffinity", "type"), "HEADER_FIELD")),
    ),
    Case(
        "Gateway: HTTP_COOKIE session affinity",
        "gcpbackendpolicy-affinity",
        "HTTP_COOKIE",
        gateway_alone(put((*BP, "sessionAffinity", "type"), "HTTP_COOKIE")),
    ),
    Case(
        "Gateway: HTTPRoute to Service coditect-api-v2, which does not exist (the incident, on the Gateway)",
        "httproute-backend-exists",
        "Service 'coditect-api-v2', which is not declared",
        gateway(put(("app_route", "spec", "rules", 0, "backendRefs", 0, "name"), "coditect-api-v2")),
    ),
    Case(
        "Gateway: BackendConfig's float sampleRate copied into the GCPBackendPolicy",
        "gcpbackendpolicy-logging",
        "GCPBackendPolicy counts in millionths",
        gateway_alone(put((*BP, "logging", "sampleRate"), 0.5)),
        schema="sampleRate",
    ),
    Case(
        "Gateway: GCPBackendPolicy timeout differs from the BackendConfig of the same Service",
        "front-doors-backend-agree",
        f"BackendConfig {NS}/web-bc gives 86400 s, GCPBackendPolicy {NS}/web gives 7200 s",
        gateway(put((*BP, "timeoutSec"), 7_200)),
    ),
    Case(
        "Gateway: 308 redirect, which the v1.3.0 bundle's CRD does not accept",
        "httproute-redirect-bundle",
        "which allows 301, 302",
        gateway(put((*REDIRECT, "statusCode"), 308)),
        schema="statusCode",
    ),
    Case(
        "Gateway: HealthCheckPolicy port without portSpecification (as ingress2gateway emits it)",
        "healthcheckpolicy-config",
        "portSpecification is not set",
        gateway(drop((*HC, "portSpecification"))),
        schema="portSpecification",
    ),
)

__all__ = ["GATEWAY", "GATEWAY_CASES", "gateway", "gateway_alone"]
