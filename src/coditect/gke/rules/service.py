"""Service annotations that GLBC parses (ingress-gce pkg/annotations/service.go; translation errors T4, T5, T7, T8 of pkg/translator/translator.go)."""

from __future__ import annotations

from collections.abc import Iterator

from .. import limits
from .. import policies as policy
from ..manifest import SERVICE, Manifest, annotations_of, as_number, format_number, parse_json_annotation, service_ports
from ..model import Problem
from ..registry import resource_rule

KINDS = (SERVICE,)
SERVICE_ANNOTATIONS = "ingress-gce pkg/annotations/service.go"


@resource_rule(
    "service-neg-annotation", policy.SERVICE_GKE_ANNOTATIONS, KINDS, f"{limits.NEG_ANNOTATION} is valid JSON.", "ingress-gce pkg/neg/types (NegAnnotation)"
)
def neg_annotation(manifest: Manifest) -> Iterator[Problem]:
    annotations = annotations_of(manifest)
    if limits.NEG_ANNOTATION in annotations and not isinstance(parse_json_annotation(annotations[limits.NEG_ANNOTATION]), dict):
        yield Problem(
            f"annotation {limits.NEG_ANNOTATION} is not valid JSON ({annotations[limits.NEG_ANNOTATION]!r}); GKE treats NEG as off.",
            "set it to '{\"ingress\": true}'.",
            subject=limits.NEG_ANNOTATION,
        )


@resource_rule(
    "service-neg-status-owned",
    policy.SERVICE_CONTROLLER_ANNOTATIONS,
    KINDS,
    f"{limits.NEG_STATUS_ANNOTATION} is left to the NEG controller.",
    "ingress-gce pkg/neg/syncers",
)
def neg_status_owned(manifest: Manifest) -> Iterator[Problem]:
    if limits.NEG_STATUS_ANNOTATION in annotations_of(manifest):
        yield Problem(
            f"declares {limits.NEG_STATUS_ANNOTATION}, which the NEG controller writes.", "remove it from the manifest.", subject=limits.NEG_STATUS_ANNOTATION
        )


def _port_keys(manifest: Manifest) -> set[str]:
    ports = service_ports(manifest)
    names = {str(p.get("name")) for p in ports if p.get("name")}
    numbers = {format_number(number) for p in ports if (number := as_number(p.get("port"))) is not None}
    return names | numbers


def _backend_config_annotations(manifest: Manifest) -> Iterator[tuple[str, object]]:
    annotations = annotations_of(manifest)
    for key in (limits.BACKEND_CONFIG_ANNOTATION, limits.BETA_BACKEND_CONFIG_ANNOTATION):
        if key in annotations:
            yield key, annotations[key]


@resource_rule(
    "service-backend-config-annotation",
    policy.SERVICE_GKE_ANNOTATIONS,
    KINDS,
    f"{limits.BACKEND_CONFIG_ANNOTATION} is JSON naming a default or per-port BackendConfig.",
    f"{SERVICE_ANNOTATIONS}#L156-L163",
)
def backend_config_annotation(manifest: Manifest) -> Iterator[Problem]:
    for key, raw in _backend_config_annotations(manifest):
        parsed = parse_json_annotation(raw)
        if not isinstance(parsed, dict):
            yield Problem(
                f"annotation {key} is not valid JSON ({raw!r}); GKE fails to translate every Ingress using this Service.",
                'set it to \'{"default": "<BackendConfig name>"}\'.',
                subject=key,
            )
            continue
        ports = parsed.get("ports")
        if not parsed.get("default") and not (isinstance(ports, dict) and ports):
            yield Problem(
                f'annotation {key} names no BackendConfig (needs "default" or a non-empty "ports").',
                'set it to \'{"default": "<BackendConfig name>"}\'.',
                subject=key,
            )


@resource_rule(
    "service-backend-config-port",
    policy.SERVICE_GKE_ANNOTATIONS,
    KINDS,
    "backend-config port keys are the Service's port names or numbers.",
    SERVICE_ANNOTATIONS,
)
def backend_config_port(manifest: Manifest) -> Iterator[Problem]:
    port_keys = _port_keys(manifest)
    for key, raw in _backend_config_annotations(manifest):
        parsed = parse_json_annotation(raw)
        ports = parsed.get("ports") if isinstance(parsed, dict) else None
        for port in ports if isinstance(ports, dict) else {}:
            if str(port) not in port_keys:
                yield Problem(
                    f"annotation {key} maps port {port!r}, which is not a port name or number of this Service "
                    f"(ports: {', '.join(sorted(port_keys)) or 'none'}); GKE silently applies no BackendConfig to it.",
                    "use the Service port's name or number (not the targetPort).",
                    subject=key,
                )


def _app_protocols(manifest: Manifest) -> Iterator[tuple[str, object]]:
    annotations = annotations_of(manifest)
    for key in limits.APP_PROTOCOLS_ANNOTATIONS:
        if key in annotations:
            yield key, parse_json_annotation(annotations[key])


@resource_rule(
    "service-app-protocols", policy.SERVICE_GKE_ANNOTATIONS, KINDS, "app-protocols is a JSON map of port to HTTP, HTTPS or HTTP2.", SERVICE_ANNOTATIONS
)
def app_protocols(manifest: Manifest) -> Iterator[Problem]:
    for key, parsed in _app_protocols(manifest):
        if not isinstance(parsed, dict):
            yield Problem(
                f"annotation {key} is not valid JSON; translation fails.",
                'use a JSON map of port name to HTTP or HTTPS, e.g. \'{"http": "HTTP"}\'.',
                subject=key,
            )
            continue
        for port_name, protocol in parsed.items():
            if protocol not in limits.APP_PROTOCOLS:
                yield Problem(
                    f"annotation {key} gives port {port_name!r} protocol {protocol!r}; "
                    f"GKE accepts only {', '.join(sorted(limits.APP_PROTOCOLS))} and fails translation.",
                    "use HTTP or HTTPS.",
                    subject=key,
                )


@resource_rule(
    "service-app-protocols-websocket",
    policy.SERVICE_WEBSOCKET_PROTOCOL,
    KINDS,
    "No HTTP2 backend protocol on a port carrying WebSockets.",
    "kubernetes/ingress-gce#855",
)
def app_protocols_websocket(manifest: Manifest) -> Iterator[Problem]:
    for key, parsed in _app_protocols(manifest):
        for port_name, protocol in parsed.items() if isinstance(parsed, dict) else ():
            if protocol == "HTTP2":
                yield Problem(
                    f"annotation {key} sets port {port_name!r} to HTTP2: WebSocket upgrades through the load balancer then fail with 502 (ingress-gce#855).",
                    "use HTTP (or HTTPS) for a port that carries Socket.IO.",
                    subject=key,
                )
