"""The Gateway front door on the stand-ins: the program's manifests for it (the coordinator's contract, prod's values:
the same timeout, affinity, draining, logging, Cloud Armor and health check the BackendConfig states), the live
objects GKE shows when it has converged, and the failures GKE reports, with its own words (GWCER messages as public
reports quote them; the sources are in each fixture)."""

from __future__ import annotations

import copy
from typing import Any

from livestate.desired import Desired, desired_from_manifests
from tests.standin.harness import golden_manifests
from tests.standin.world import NAMESPACE, World, fixture, healthy_world

Json = dict[str, Any]
GATEWAY = "coditect-gateway"
APP_ROUTE, REDIRECT_ROUTE = f"{GATEWAY}-app", f"{GATEWAY}-redirect"
SERVICE = "coditect-combined-service"
ADDRESS = "coditect-prod-gw-ip"
LABELS = {"app.kubernetes.io/part-of": "coditect"}


def _meta(name: str, **annotations: str) -> Json:
    return {"name": name, "namespace": NAMESPACE, "labels": dict(LABELS), **({"annotations": annotations} if annotations else {})}


def gateway_manifests() -> list[Json]:
    """The Gateway, its two HTTPRoutes and the three policies, shaped as the contract says the program renders them."""
    service_ref = {"group": "", "kind": "Service", "name": SERVICE}
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute"}
    policy = {"apiVersion": "networking.gke.io/v1"}
    return [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": _meta(GATEWAY, **{"networking.gke.io/certmap": "coditect-prod-certmap"}),
            "spec": {
                "gatewayClassName": "gke-l7-global-external-managed",
                "addresses": [{"type": "NamedAddress", "value": ADDRESS}],
                "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443}, {"name": "http", "protocol": "HTTP", "port": 80}],
            },
        },
        {
            **route,
            "metadata": _meta(APP_ROUTE),
            "spec": {
                "parentRefs": [{"name": GATEWAY, "sectionName": "https"}],
                "hostnames": ["coditect.ai"],
                "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [{"name": SERVICE, "port": 80}]}],
            },
        },
        {
            **route,
            "metadata": _meta(REDIRECT_ROUTE),
            "spec": {
                "parentRefs": [{"name": GATEWAY, "sectionName": "http"}],
                "hostnames": ["coditect.ai"],
                "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}],
            },
        },
        {
            **policy,
            "kind": "GCPBackendPolicy",
            "metadata": _meta(SERVICE),
            "spec": {
                "targetRef": service_ref,
                "default": {
                    "timeoutSec": 86400,
                    "connectionDraining": {"drainingTimeoutSec": 60},
                    "sessionAffinity": {"type": "CLIENT_IP"},
                    "logging": {"enabled": True, "sampleRate": 1000000},
                    "securityPolicy": "coditect-prod-armor",
                },
            },
        },
        {
            **policy,
            "kind": "HealthCheckPolicy",
            "metadata": _meta(SERVICE),
            "spec": {
                "targetRef": service_ref,
                "default": {
                    "checkIntervalSec": 15,
                    "timeoutSec": 5,
                    "healthyThreshold": 1,
                    "unhealthyThreshold": 2,
                    "config": {"type": "HTTP", "httpHealthCheck": {"portSpecification": "USE_FIXED_PORT", "port": 8080, "requestPath": "/healthz"}},
                },
            },
        },
        {
            **policy,
            "kind": "GCPGatewayPolicy",
            "metadata": _meta(GATEWAY),
            "spec": {
                "targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY},
                "default": {"sslPolicy": "coditect-prod-ssl-policy"},
            },
        },
    ]


def gateway_desired() -> Desired:
    """prod with both front doors (frontDoors: [ingress, gateway])."""
    return desired_from_manifests(golden_manifests() + gateway_manifests())


def gateway_world() -> World:
    """prod converged on both front doors."""
    world = healthy_world()
    world.add("gateways", fixture("k8s_gateway"))
    world.add("httproutes", fixture("k8s_httproute_app"))
    world.add("httproutes", fixture("k8s_httproute_redirect"))
    world.add("gcpbackendpolicies", fixture("k8s_gcpbackendpolicy"))
    world.add("healthcheckpolicies", fixture("k8s_healthcheckpolicy"))
    world.add("gcpgatewaypolicies", fixture("k8s_gcpgatewaypolicy"))
    world.add("events", fixture("k8s_event_gateway_sync"))
    for collection, name in (
        ("backendServices", "compute_gateway_backend_service"),
        ("healthChecks", "compute_gateway_health_check"),
        ("addresses", "compute_gateway_address"),
        ("targetHttpsProxies", "compute_gateway_target_https_proxy"),
    ):
        body = fixture(name)
        world.compute[(collection, body["name"])] = body
    return world


def gateway(world: World) -> Json:
    return world.one("gateways", GATEWAY)


def condition(conditions: list[Json], kind: str, status: str, reason: str, message: str) -> None:
    """Set condition `kind` in a status list, as the controller rewrites it."""
    found = next(c for c in conditions if c["type"] == kind)
    found.update(status=status, reason=reason, message=message, lastTransitionTime="2026-11-28T10:41:55Z")


def sync_failed(world: World, message: str) -> None:
    """GKE's Warning SYNC event on the Gateway, after its last successful sync."""
    event = fixture("k8s_event_gateway_sync_failed")
    event["message"] = event["message"].replace("{message}", message)
    world.add("events", event)


# --- the failures, each as GKE reports it ----------------------------------------------------------------------------
# The messages' wording is GKE's Gateway controller's, as users paste it from `kubectl describe gateway|httproute`:
# GWCER106 "address ... does not exist" and "unsupported address type" (kubernetes-sigs/gateway-api#2632), GWCER104
# for gke-l7-gxlb filters (cited in kubernetes-sigs/ingress2gateway#148), GWCER102 nested in BackendNotFound; the
# condition reasons are the spec's (kubernetes-sigs/gateway-api apis/v1/shared_types.go, gateway_types.go).

GWCER102 = (
    'Object reference of HTTPRoute "coditect-app/coditect-gateway-app" bound to ParentRef {Group: "gateway.networking.k8s.io", Kind: "Gateway", '
    'Namespace: "coditect-app", Name: "coditect-gateway", SectionName: "https", Port: nil} failed to be resolved: error cause: reference-not-found: '
    'Error GWCER104: HTTPRoute "coditect-app/coditect-gateway-app" is misconfigured, err: Error GWCER102: services coditect-app/coditect-api-v2 not found'
)
GWCER104_FILTERS = (
    'Error GWCER104: HTTPRoute "coditect-app/coditect-gateway-redirect" is misconfigured, err: classic GXLB (GatewayClass gke-l7-gxlb) does not '
    "support rule filters, GFEv3 based External LB (GatewayClass gke-l7-global-external-managed) supports rule filters"
)
GWCER106 = f'Error GWCER106: Gateway "coditect-app/coditect-gateway" is invalid, err: address "{ADDRESS}" does not exist.'


def missing_backend_service(world: World) -> None:
    """The live app route sends to a Service that does not exist (an older program's route)."""
    route = world.one("httproutes", APP_ROUTE)
    route["spec"]["rules"][0]["backendRefs"][0]["name"] = "coditect-api-v2"
    condition(route["status"]["parents"][0]["conditions"], "ResolvedRefs", "False", "BackendNotFound", GWCER102)
    sync_failed(world, "Error GWCER102: services coditect-app/coditect-api-v2 not found")


def policy_not_attached(world: World) -> None:
    """An older GCPBackendPolicy on the same Service wins (GKE applies the oldest); the program's is Conflicted and the
    backend service keeps the other's values. The reason is the spec's (policy_types.go); the message is illustrative."""
    ours = world.one("gcpbackendpolicies", SERVICE)
    condition(
        ours["status"]["conditions"],
        "Attached",
        "False",
        "Conflicted",
        'Policy "coditect-app/coditect-legacy-policy" already targets Service "coditect-app/coditect-combined-service"',
    )
    legacy = copy.deepcopy(fixture("k8s_gcpbackendpolicy"))
    legacy["metadata"].update(name="coditect-legacy-policy", uid="ab0e6f2c-9d41-4c37-8e5b-2f7a1d3c9e64", creationTimestamp="2026-10-02T08:11:00Z")
    legacy["spec"]["default"] = {"timeoutSec": 30}
    world.add("gcpbackendpolicies", legacy)
    backend = world.compute[("backendServices", fixture("compute_gateway_backend_service")["name"])]
    backend.update(timeoutSec=30, sessionAffinity="NONE")


def class_without_filters(world: World) -> None:
    """The Gateway is of class gke-l7-gxlb (classic ALB): the redirect route's RequestRedirect is refused and GKE fails
    to translate the Gateway."""
    live = gateway(world)
    live["spec"]["gatewayClassName"] = "gke-l7-gxlb"
    redirect = world.one("httproutes", REDIRECT_ROUTE)
    condition(redirect["status"]["parents"][0]["conditions"], "Accepted", "False", "IncompatibleFilters", GWCER104_FILTERS)
    condition(
        live["status"]["conditions"], "Programmed", "False", "Invalid", f'failed to translate Gateway "coditect-app/coditect-gateway": {GWCER104_FILTERS}'
    )
    sync_failed(world, GWCER104_FILTERS)


def address_not_found(world: World) -> None:
    """The named global address was never reserved: Programmed=False AddressNotUsable, no address, no load balancer."""
    live = gateway(world)
    condition(live["status"]["conditions"], "Programmed", "False", "AddressNotUsable", GWCER106)
    live["status"].pop("addresses")
    for built in ("backend-services", "target-proxies", "url-maps", "forwarding-rules"):
        live["metadata"]["annotations"][f"networking.gke.io/{built}"] = ""
    del world.compute[("addresses", ADDRESS)]
    del world.compute[("backendServices", fixture("compute_gateway_backend_service")["name"])]
    sync_failed(world, GWCER106)


SCENARIOS = {
    "missing backend Service": missing_backend_service,
    "policy not attached": policy_not_attached,
    "class without filters": class_without_filters,
    "address not found": address_not_found,
}
