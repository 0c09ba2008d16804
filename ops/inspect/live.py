"""What GKE built for the Ingress, read by following the names it writes: the Ingress's
ingress.kubernetes.io/* annotations, the Service's cloud.google.com/neg-status, the Compute
self-links. Reads only; a missing object is recorded as None, never created."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ops.inspect.compute import ComputeReader, resource_name
from ops.inspect.desired import Desired, DesiredBackend
from ops.inspect.kube import KubeReader

Json = dict[str, Any]
ANNOTATION = "ingress.kubernetes.io/"
NEG_STATUS = "cloud.google.com/neg-status"


@dataclass
class LiveBackend:
    desired: DesiredBackend
    service: Json | None = None
    neg: str | None = None  # the NEG (and, with NEG, backend service) name from neg-status
    backend_service: Json | None = None
    health_check: Json | None = None
    endpoints: list[Json] | None = None  # getHealth's healthStatus over every NEG of the backend service; None: not read
    pods: list[Json] = field(default_factory=list)


@dataclass
class Live:
    ingress: Json | None = None
    warnings: list[Json] = field(default_factory=list)  # Warning events on the Ingress since its last change
    stale_warnings: list[Json] = field(default_factory=list)  # Warning events older than the Ingress's last change
    url_map: Json | None = None  # the URL map GKE wrote back (ingress.kubernetes.io/url-map)
    routed: dict[str, bool] = field(default_factory=dict)  # every Service the live Ingress routes to -> exists
    health: dict[str, str] = field(default_factory=dict)  # ingress.kubernetes.io/backends
    backends: list[LiveBackend] = field(default_factory=list)
    http_proxy: Json | None = None
    http_url_map: Json | None = None  # the URL map the HTTP proxy serves (the redirect map when redirecting)
    https_proxy: Json | None = None
    address: Json | None = None
    certificates: dict[str, Json | None] = field(default_factory=dict)
    ingresses: list[Json] = field(default_factory=list)
    backend_configs: list[Json] = field(default_factory=list)
    autoscalers: list[Json] = field(default_factory=list)
    disruption_budgets: list[Json] = field(default_factory=list)
    deployments: list[Json] = field(default_factory=list)

    def annotation(self, key: str) -> str | None:
        annotations = ((self.ingress or {}).get("metadata") or {}).get("annotations") or {}
        value = annotations.get(ANNOTATION + key)
        return str(value) if value else None


def _json_annotation(obj: Json | None, key: str) -> dict[str, Any]:
    raw = ((obj or {}).get("metadata") or {}).get("annotations", {}).get(key)
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _time(value: Any) -> datetime | None:
    """An RFC 3339 Time or MicroTime as the API writes it; None when absent or unreadable."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def last_change(obj: Json) -> datetime | None:
    """When the object last changed: the newest managedFields time (every apply/update records one),
    else its creation (https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management)."""
    meta = obj.get("metadata") or {}
    times = [t for t in (_time(m.get("time")) for m in meta.get("managedFields") or [] if isinstance(m, dict)) if t]
    return max(times) if times else _time(meta.get("creationTimestamp"))


def event_last_seen(event: Json) -> datetime | None:
    """The last time an event happened: repeats are folded into one event (count, lastTimestamp; events.k8s.io
    writes eventTime and series.lastObservedTime instead: https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/)."""
    times = [_time(event.get("lastTimestamp")), _time(event.get("eventTime")), _time((event.get("series") or {}).get("lastObservedTime"))]
    found = [t for t in times if t]
    return max(found) if found else None


def split_by_freshness(events: list[Json], since: datetime | None) -> tuple[list[Json], list[Json]]:
    """(fresh, stale): an event is fresh when it happened after `since` (or either time is unknown)."""
    fresh: list[Json] = []
    stale: list[Json] = []
    for event in events:
        seen = event_last_seen(event)
        (stale if since and seen and seen <= since else fresh).append(event)
    return fresh, stale


def routed_services(ingress: Json) -> list[str]:
    spec = ingress.get("spec") or {}
    names = [spec["defaultBackend"]["service"]["name"]] if (spec.get("defaultBackend") or {}).get("service") else []
    for rule in spec.get("rules") or []:
        names += [p["backend"]["service"]["name"] for p in (rule.get("http") or {}).get("paths") or [] if "service" in p.get("backend", {})]
    return list(dict.fromkeys(names))


def _backend(desired: DesiredBackend, namespace: str, kube: KubeReader, compute: ComputeReader) -> LiveBackend:
    live = LiveBackend(desired, service=kube.service(namespace, desired.service))
    live.neg = _json_annotation(live.service, NEG_STATUS).get("network_endpoint_groups", {}).get(str(desired.port))
    if live.neg:
        live.backend_service = compute.get("backendServices", live.neg)
        checks = (live.backend_service or {}).get("healthChecks") or []
        live.health_check = compute.get("healthChecks", resource_name(checks[0])) if checks else None
        if live.backend_service is not None:
            # The backends annotation says HEALTHY once any one endpoint is, and only once per sync: ask the
            # load balancer itself, per NEG (one per zone).
            live.endpoints = []
            for backend in live.backend_service.get("backends") or []:
                live.endpoints += compute.group_health(live.neg, str(backend.get("group"))) or []
    live.pods = kube.pods(namespace, desired.pod_selector) if desired.pod_selector else []
    return live


def read_live(desired: Desired, kube: KubeReader, compute: ComputeReader) -> Live:
    ns = desired.namespace
    live = Live(ingress=kube.ingress(ns, desired.ingress))
    if live.ingress is not None:
        uid = str((live.ingress.get("metadata") or {}).get("uid") or "")
        warnings = [e for e in kube.events_of(ns, "Ingress", desired.ingress, uid) if e.get("type") == "Warning"]
        # Events outlive the fix by up to --event-ttl (1h by default,
        # https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/): only those after
        # the Ingress's last change speak of its current spec.
        live.warnings, live.stale_warnings = split_by_freshness(warnings, last_change(live.ingress))
        live.routed = {name: kube.service(ns, name) is not None for name in routed_services(live.ingress)}
        live.health = {str(k): str(v) for k, v in _json_annotation(live.ingress, ANNOTATION + "backends").items()}
    live.backends = [_backend(b, ns, kube, compute) for b in desired.backends]
    if (url_map := live.annotation("url-map")) is not None:
        live.url_map = compute.get("urlMaps", url_map)
    if (proxy := live.annotation("target-proxy")) is not None:
        live.http_proxy = compute.get("targetHttpProxies", proxy)
        if live.http_proxy and live.http_proxy.get("urlMap"):
            live.http_url_map = compute.get("urlMaps", resource_name(live.http_proxy["urlMap"]))
    if (proxy := live.annotation("https-target-proxy")) is not None:
        live.https_proxy = compute.get("targetHttpsProxies", proxy)
    if desired.static_ip:
        live.address = compute.get("addresses", desired.static_ip)
    live.certificates = {name: kube.managed_certificate(ns, name) for name in desired.certificates}
    live.ingresses = kube.ingresses(ns)
    live.backend_configs = kube.backend_configs(ns)
    live.autoscalers = kube.autoscalers(ns)
    live.disruption_budgets = kube.disruption_budgets(ns)
    live.deployments = kube.deployments(ns)
    return live
