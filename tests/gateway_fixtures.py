"""Gateway-side manifests in the shape of the project's Gateway contract (Gateway, two HTTPRoutes, GCPBackendPolicy,
HealthCheckPolicy, GCPGatewayPolicy), built to agree with the catalogue's baseline Ingress/BackendConfig/Service, and
the rule context the tests judge them with."""

from __future__ import annotations

import copy
from typing import Any

from coditect import gke
from tests.policy_catalogue_base import NS, Manifests, baseline

GATEWAY = "coditect-gateway"
CONTEXT = gke.Context(min_session_sec=3_600, gateway_bundle="v1.3.0")
LABELS = {"app.kubernetes.io/part-of": "coditect"}


def _meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": NS, "labels": dict(LABELS), **extra}


def service_target(service: str) -> dict[str, str]:
    return {"group": "", "kind": "Service", "name": service}


def gateway_objects(service: str = "web", port: int = 80, health_port: int = 8080, hosts: tuple[str, ...] = ("coditect.ai",)) -> Manifests:
    """The Gateway front door for `service`, with the values of the baseline BackendConfig."""
    return {
        "gateway": {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": _meta(GATEWAY, annotations={"networking.gke.io/certmap": "coditect-dev-certmap"}),
            "spec": {
                "gatewayClassName": "gke-l7-global-external-managed",
                "addresses": [{"type": "NamedAddress", "value": "coditect-dev-gw-ip"}],
                "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443}, {"name": "http", "protocol": "HTTP", "port": 80}],
            },
        },
        "app_route": {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": _meta(f"{GATEWAY}-app"),
            "spec": {
                "parentRefs": [{"name": GATEWAY, "sectionName": "https"}],
                "hostnames": list(hosts),
                "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [{"name": service, "port": port}]}],
            },
        },
        "redirect_route": {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": _meta(f"{GATEWAY}-redirect"),
            "spec": {
                "parentRefs": [{"name": GATEWAY, "sectionName": "http"}],
                "hostnames": list(hosts),
                "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}],
            },
        },
        "backend_policy": {
            "apiVersion": "networking.gke.io/v1",
            "kind": "GCPBackendPolicy",
            "metadata": _meta(service),
            "spec": {
                "targetRef": service_target(service),
                "default": {
                    "timeoutSec": 86_400,
                    "connectionDraining": {"drainingTimeoutSec": 60},
                    "sessionAffinity": {"type": "CLIENT_IP"},
                    "logging": {"enabled": True, "sampleRate": 1_000_000},
                },
            },
        },
        "health_policy": {
            "apiVersion": "networking.gke.io/v1",
            "kind": "HealthCheckPolicy",
            "metadata": _meta(service),
            "spec": {
                "targetRef": service_target(service),
                "default": {
                    "checkIntervalSec": 15,
                    "timeoutSec": 5,
                    "healthyThreshold": 1,
                    "unhealthyThreshold": 2,
                    "config": {
                        "type": "HTTP",
                        "httpHealthCheck": {"portSpecification": "USE_FIXED_PORT", "port": health_port, "requestPath": "/healthz"},
                    },
                },
            },
        },
        "gateway_policy": {
            "apiVersion": "networking.gke.io/v1",
            "kind": "GCPGatewayPolicy",
            "metadata": _meta(GATEWAY),
            "spec": {
                "targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY},
                "default": {"sslPolicy": "coditect-dev-ssl-policy"},
            },
        },
    }


def both_front_doors() -> Manifests:
    """The catalogue baseline (Ingress, BackendConfig, Service, Deployment) with the Gateway beside it."""
    return {**baseline(), **copy.deepcopy(gateway_objects())}


def findings(manifests: Manifests, context: gke.Context = CONTEXT) -> list[gke.Finding]:
    return gke.evaluate(list(manifests.values()), context)
