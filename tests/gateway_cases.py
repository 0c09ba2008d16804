"""Gateway-side manifests in the shape the Gateway front door renders (Gateway, two HTTPRoutes, GCPBackendPolicy,
HealthCheckPolicy, GCPGatewayPolicy), and broken variants of them, each with the verdict the CRDs give per bundle.

Shared by tests/test_gateway_crd_validation.py (the offline validator) and tests_engine/test_gateway_crds_apiserver.py
(the same cases server-side dry-run created in a real kube-apiserver), so both judge exactly the same objects.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

NAMESPACE = "coditect"
GATEWAY = "coditect-gateway"
SERVICE = "coditect-app"
BUNDLES = ("v1.3.0", "v1.5.1")
LABELS = {"app.kubernetes.io/part-of": "coditect"}


def _meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": dict(LABELS), **extra}


def gateway() -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": _meta(GATEWAY, annotations={"networking.gke.io/certmap": "coditect-dev-certmap"}),
        "spec": {
            "gatewayClassName": "gke-l7-global-external-managed",
            "addresses": [{"type": "NamedAddress", "value": "coditect-dev-gw-ip"}],
            "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443}, {"name": "http", "protocol": "HTTP", "port": 80}],
        },
    }


def app_route() -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": _meta(f"{GATEWAY}-app"),
        "spec": {
            "parentRefs": [{"name": GATEWAY, "sectionName": "https"}],
            "hostnames": ["ide.example.com"],
            "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [{"name": SERVICE, "port": 80}]}],
        },
    }


def redirect_route(status_code: int = 301) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": _meta(f"{GATEWAY}-redirect"),
        "spec": {
            "parentRefs": [{"name": GATEWAY, "sectionName": "http"}],
            "hostnames": ["ide.example.com"],
            "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": status_code}}]}],
        },
    }


def backend_policy() -> dict[str, Any]:
    return {
        "apiVersion": "networking.gke.io/v1",
        "kind": "GCPBackendPolicy",
        "metadata": _meta(SERVICE),
        "spec": {
            "targetRef": {"group": "", "kind": "Service", "name": SERVICE},
            "default": {
                "timeoutSec": 86400,
                "connectionDraining": {"drainingTimeoutSec": 60},
                "sessionAffinity": {"type": "CLIENT_IP"},
                "logging": {"enabled": True, "sampleRate": 1000000},
                "securityPolicy": "coditect-dev-armor",
            },
        },
    }


def health_policy() -> dict[str, Any]:
    return {
        "apiVersion": "networking.gke.io/v1",
        "kind": "HealthCheckPolicy",
        "metadata": _meta(SERVICE),
        "spec": {
            "targetRef": {"group": "", "kind": "Service", "name": SERVICE},
            "default": {
                "checkIntervalSec": 15,
                "timeoutSec": 15,
                "healthyThreshold": 1,
                "unhealthyThreshold": 2,
                "config": {"type": "HTTP", "httpHealthCheck": {"portSpecification": "USE_FIXED_PORT", "port": 3000, "requestPath": "/healthz"}},
            },
        },
    }


def gateway_policy() -> dict[str, Any]:
    return {
        "apiVersion": "networking.gke.io/v1",
        "kind": "GCPGatewayPolicy",
        "metadata": _meta(GATEWAY),
        "spec": {"targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY}, "default": {"sslPolicy": "coditect-dev-ssl"}},
    }


def valid_set() -> list[dict[str, Any]]:
    """The full front door: what a stack with `frontDoors: [gateway]` renders."""
    return [gateway(), app_route(), redirect_route(), backend_policy(), health_policy(), gateway_policy()]


@dataclass(frozen=True)
class Case:
    name: str
    manifest: dict[str, Any]
    accepted: dict[str, bool]  # bundle -> the API server admits it
    path: str = ""  # the field path a refusal names
    says: str = ""  # a piece of the refusal's text (the rule's message or the schema's complaint)
    also: tuple[str, ...] = field(default=())  # further pieces every refusal list must hold


def _changed(make: Callable[[], dict[str, Any]], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    manifest = copy.deepcopy(make())
    change(manifest)
    return manifest


def _both(ok: bool) -> dict[str, bool]:
    return dict.fromkeys(BUNDLES, ok)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change that sets `path` ("spec.default.timeoutSec", list indices as numbers) to `value`."""

    def change(manifest: dict[str, Any]) -> None:
        node: Any = manifest
        parts = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        node: Any = manifest
        parts = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parts[:-1]:
            node = node[part]
        del node[parts[-1]]

    return change


HC = "spec.default.config.httpHealthCheck"
TERMINATE = {"name": "https", "protocol": "HTTPS", "port": 443, "tls": {"mode": "Terminate"}}


def bad_cases() -> list[Case]:
    """Each refused by the CRDs (at least under one bundle), with where and why."""
    return [
        Case(
            "draining-86400",
            _changed(backend_policy, _set("spec.default.connectionDraining.drainingTimeoutSec", 86400)),
            _both(False),
            "spec.default.connectionDraining.drainingTimeoutSec",
            "86400 is greater than the maximum of 3600",
        ),
        Case(
            "float-sample-rate",
            _changed(backend_policy, _set("spec.default.logging.sampleRate", 0.5)),
            _both(False),
            "spec.default.logging.sampleRate",
            "is not of type 'integer'",
        ),
        Case(
            "affinity-CLIENTIP",
            _changed(backend_policy, _set("spec.default.sessionAffinity.type", "CLIENTIP")),
            _both(False),
            "spec.default.sessionAffinity.type",
            "'CLIENTIP' is not one of",
        ),
        Case(
            "backend-timeout-0",
            _changed(backend_policy, _set("spec.default.timeoutSec", 0)),
            _both(False),
            "spec.default.timeoutSec",
            "0 is less than the minimum of 1",
        ),
        Case(
            "backend-unknown-field",
            _changed(backend_policy, _set("spec.default.timeoutSecs", 30)),
            _both(False),
            "spec.default",
            "'timeoutSecs' was unexpected",
        ),
        Case(
            "hc-timeout-over-interval",
            _changed(health_policy, _set("spec.default.timeoutSec", 20)),
            _both(False),
            "spec.default",
            "timeOutSec cannot exceed checkIntervalSec",
        ),
        Case(
            "hc-port-without-portSpecification",
            _changed(health_policy, _delete(f"{HC}.portSpecification")),
            _both(False),
            HC,
            "no such key: portSpecification evaluating rule: for portSpecification being USE_FIXED_PORT",
            ("port and portName must be unset for portSpecification being USE_SERVING_PORT",),
        ),
        Case(
            # what ingress2gateway emits without a port: still refused, by CEL's missing-key error alone
            "hc-no-portSpecification-no-port",
            _changed(health_policy, lambda m: m["spec"]["default"]["config"].update(httpHealthCheck={"requestPath": "/healthz"})),
            _both(False),
            HC,
            "no such key: portSpecification",
        ),
        Case(
            "hc-healthyThreshold-11",
            _changed(health_policy, _set("spec.default.healthyThreshold", 11)),
            _both(False),
            "spec.default.healthyThreshold",
            "11 is greater than the maximum of 10",
        ),
        Case(
            "hc-type-without-block",
            _changed(
                health_policy, lambda m: m["spec"]["default"].update(config={"type": "HTTPS", "httpHealthCheck": {"portSpecification": "USE_SERVING_PORT"}})
            ),
            _both(False),
            "spec.default.config",
            "httpsHealthCheck must be specified for type HTTPS",
        ),
        Case(
            "listener-terminate-without-refs",
            _changed(gateway, _set("spec.listeners.0", dict(TERMINATE))),
            _both(False),
            "spec.listeners[0].tls",
            "no such key: certificateRefs evaluating rule: certificateRefs or options must be specified when mode is Terminate",
        ),
        Case(
            "listener-https-empty-tls",  # mode defaults to Terminate, so the same rule fires
            _changed(gateway, _set("spec.listeners.0.tls", {})),
            _both(False),
            "spec.listeners[0].tls",
            "certificateRefs or options must be specified when mode is Terminate",
        ),
        Case(
            "listener-http-with-tls",
            _changed(gateway, _set("spec.listeners.1.tls", {"mode": "Terminate", "options": {"networking.gke.io/pre-shared-certs": "c1"}})),
            _both(False),
            "spec.listeners",
            "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
        ),
        Case(
            "duplicate-listener-names",
            _changed(gateway, _set("spec.listeners.1.name", "https")),
            _both(False),
            "spec.listeners",
            "Listener name must be unique within the Gateway",
        ),
        Case(
            # `type` defaults to IPAddress, so an address name without `type: NamedAddress` must parse as an IP
            "address-name-without-type",
            _changed(gateway, _set("spec.addresses", [{"value": "coditect-dev-gw-ip"}])),
            _both(False),
            "spec.addresses[0]",
            "is not valid under any of the given schemas",
        ),
        Case("listener-port-0", _changed(gateway, _set("spec.listeners.1.port", 0)), _both(False), "spec.listeners[1].port", "0 is less than the minimum of 1"),
        Case(
            "redirect-with-urlrewrite",
            _changed(
                redirect_route,
                lambda m: m["spec"]["rules"][0]["filters"].append({"type": "URLRewrite", "urlRewrite": {"hostname": "ide.example.com"}}),
            ),
            _both(False),
            "spec.rules[0].filters",
            "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
        ),
        Case(
            "redirect-308",
            redirect_route(308),
            {"v1.3.0": False, "v1.5.1": True},
            "spec.rules[0].filters[0].requestRedirect.statusCode",
            "308 is not one of [301, 302]",
        ),
        Case(
            "redirect-307",
            redirect_route(307),
            {"v1.3.0": False, "v1.5.1": True},
            "spec.rules[0].filters[0].requestRedirect.statusCode",
            "307 is not one of [301, 302]",
        ),
        Case("redirect-304", redirect_route(304), _both(False), "spec.rules[0].filters[0].requestRedirect.statusCode", "304 is not one of"),
        Case(
            "backend-ref-without-port",
            _changed(app_route, _delete("spec.rules.0.backendRefs.0.port")),
            _both(False),
            "spec.rules[0].backendRefs[0]",
            "Must have port for Service reference",
        ),
        Case(
            "path-without-slash",
            _changed(app_route, _set("spec.rules.0.matches.0.path.value", "theia")),
            _both(False),
            "spec.rules[0].matches[0].path",
            "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
        ),
        Case(
            "timeouts-backend-over-request",
            _changed(app_route, _set("spec.rules.0.timeouts", {"request": "10s", "backendRequest": "1h"})),
            _both(False),
            "spec.rules[0].timeouts",
            "backendRequest timeout cannot be longer than request",
        ),
        Case(
            "duplicate-parent-refs",
            _changed(app_route, _set("spec.parentRefs", [{"name": GATEWAY, "namespace": NAMESPACE}, {"name": GATEWAY, "namespace": NAMESPACE}])),
            _both(False),
            "spec.parentRefs",
            "sectionName must be unique when parentRefs includes 2 or more references to the same parent",
        ),
        Case(
            "infrastructure-annotation-key-prefix-too-long",
            _changed(gateway, _set("spec.infrastructure", {"annotations": {"a" * 253 + ".example/x": "y"}})),
            _both(False),
            "spec.infrastructure.annotations",
            "If specified, the annotation key's prefix must be a DNS subdomain not longer than 253 characters in total.",
        ),
        Case(
            "referencegrant-v1",
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "ReferenceGrant",
                "metadata": _meta("from-routes"),
                "spec": {
                    "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": NAMESPACE}],
                    "to": [{"group": "", "kind": "Service"}],
                },
            },
            {"v1.3.0": False, "v1.5.1": True},
            "(top level)",
            "gateway.networking.k8s.io/v1 ReferenceGrant is not served",
        ),
    ]


def good_variants() -> list[Case]:
    """Accepted although they differ from the rendered shape: defaults the API server fills in, edge values."""
    return [
        Case("address-ip-defaulted-type", _changed(gateway, _set("spec.addresses", [{"value": "203.0.113.7"}])), _both(True)),
        Case("redirect-status-defaulted", _changed(redirect_route, _delete("spec.rules.0.filters.0.requestRedirect.statusCode")), _both(True)),
        Case("draining-3600", _changed(backend_policy, _set("spec.default.connectionDraining.drainingTimeoutSec", 3600)), _both(True)),
        Case("hc-timeout-equals-interval", _changed(health_policy, _set("spec.default.timeoutSec", 15)), _both(True)),
        Case("hc-serving-port", _changed(health_policy, _set(HC, {"portSpecification": "USE_SERVING_PORT", "requestPath": "/healthz"})), _both(True)),
        Case(
            "listener-terminate-with-options",
            _changed(gateway, _set("spec.listeners.0", {**TERMINATE, "tls": {"mode": "Terminate", "options": {"networking.gke.io/pre-shared-certs": "c1"}}})),
            _both(True),
        ),
        Case("infrastructure-annotation", _changed(gateway, _set("spec.infrastructure", {"annotations": {"networking.gke.io/x": "y"}})), _both(True)),
        Case("timeouts-within-request", _changed(app_route, _set("spec.rules.0.timeouts", {"request": "1h", "backendRequest": "10s"})), _both(True)),
        Case(
            "referencegrant-v1beta1",
            {
                "apiVersion": "gateway.networking.k8s.io/v1beta1",
                "kind": "ReferenceGrant",
                "metadata": _meta("from-routes"),
                "spec": {
                    "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": NAMESPACE}],
                    "to": [{"group": "", "kind": "Service"}],
                },
            },
            _both(True),
        ),
    ]


def all_cases() -> list[Case]:
    """The valid set, each object a case, then the good variants and the bad cases."""
    valid = [Case(f"valid-{m['kind']}-{m['metadata']['name']}", m, _both(True)) for m in valid_set()]
    return valid + good_variants() + bad_cases()
