"""What GKE built for the Ingress, read by following the names it writes: the Ingress's
ingress.kubernetes.io/* annotations, the Service's cloud.google.com/neg-status, the Compute
self-links. Reads only; a missing object is recorded as None, never created."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from livestate.desired import Desired, DesiredBackend
from livestate.gcp_http import resource_name
from livestate.kube import API
from livestate.model import Malformed
from livestate.shapes import Shape, check, json_annotation

if TYPE_CHECKING:  # the readers import their clients: only the caller that reads builds them
    from livestate.compute import ComputeReader
    from livestate.kube import KubeReader

Json = dict[str, Any]
ANNOTATION = "ingress.kubernetes.io/"
NEG_STATUS = "cloud.google.com/neg-status"

# The fields this module and checks.py read, by kind (the API reference's types:
# https://kubernetes.io/docs/reference/kubernetes-api/). Checked on every object read, so a reader never
# meets a string where it iterates objects; an absent field stays unset.
METADATA: Shape = (
    ("metadata.name", str),
    ("metadata.uid", str),
    ("metadata.annotations.*", str),
    ("metadata.creationTimestamp", str),
    ("metadata.managedFields[].time", str),
)
INGRESS: Shape = (
    *METADATA,
    ("spec.defaultBackend.service.name", str),
    ("spec.rules[].http.paths[].backend.service.name", str),
    ("status.loadBalancer.ingress[].ip", str),
)
EVENT: Shape = (
    *METADATA,
    ("type", str),
    ("reason", str),
    ("message", str),
    ("count", int),
    ("lastTimestamp", str),
    ("eventTime", str),
    ("series.lastObservedTime", str),
)
POD: Shape = (
    *METADATA,
    ("spec.readinessGates[].conditionType", str),
    ("status.conditions[].type", str),
    ("status.conditions[].status", str),
    ("status.podIP", str),
)
CERTIFICATE: Shape = (*METADATA, ("status.certificateStatus", str), ("status.domainStatus[].domain", str), ("status.domainStatus[].status", str))
AUTOSCALER: Shape = (*METADATA, ("spec.scaleTargetRef.kind", str), ("spec.scaleTargetRef.name", str))
# cloud.google.com/neg-status, as the NEG controller writes it: {"network_endpoint_groups": {"PORT": "NEG"}, "zones": [...]}
# (k8s.io/ingress-gce pkg/neg/types/types.go, NegStatus).
NEG_STATUS_SHAPE: Shape = (("network_endpoint_groups.*", str), ("zones[]", str))
# ingress.kubernetes.io/backends: {"BACKEND SERVICE": "HEALTHY" | "UNHEALTHY" | "Unknown"} (pkg/loadbalancers/l7.go).
BACKENDS_SHAPE: Shape = (("*", str),)


def checked(obj: Json | None, shape: Shape, what: str) -> Json | None:
    if obj is not None:
        check(obj, shape, API, what)
    return obj


def checked_all(objects: list[Json], shape: Shape, what: str) -> list[Json]:
    for index, obj in enumerate(objects):
        name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), dict) else None
        check(obj, shape, API, f"{what} item {index}" + (f" ({name})" if isinstance(name, str) else ""))
    return objects


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


def _time(value: Any) -> datetime | None:
    """An RFC 3339 Time or MicroTime as the API writes it; None when absent or unreadable."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    # The API writes UTC with a Z; a time without a zone is taken as UTC, so every time compares with every other.
    return parsed.replace(tzinfo=UTC) if parsed and parsed.tzinfo is None else parsed


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
    """Every Service the Ingress routes to; a service backend without a name (IngressServiceBackend.name is
    required) is Malformed. The types were checked against INGRESS when it was read."""
    spec = ingress.get("spec") or {}
    backends = [("spec.defaultBackend", spec.get("defaultBackend"))]
    for r, rule in enumerate(spec.get("rules") or []):
        backends += [(f"spec.rules[{r}].http.paths[{i}].backend", p.get("backend")) for i, p in enumerate((rule.get("http") or {}).get("paths") or [])]
    names = []
    for where, backend in backends:
        service = (backend or {}).get("service")
        if service is None:
            continue  # a resource backend, or none
        if not service.get("name"):
            meta = ingress.get("metadata") or {}
            raise Malformed(API, f"Ingress {meta.get('namespace')}/{meta.get('name')}", f"{where}.service has no name")
        names.append(str(service["name"]))
    return list(dict.fromkeys(names))


def _backend(desired: DesiredBackend, namespace: str, kube: KubeReader, compute: ComputeReader) -> LiveBackend:
    what = f"Service {namespace}/{desired.service}"
    live = LiveBackend(desired, service=checked(kube.service(namespace, desired.service), METADATA, what))
    negs = json_annotation(live.service, NEG_STATUS, NEG_STATUS_SHAPE, API, what).get("network_endpoint_groups") or {}
    live.neg = negs.get(str(desired.port))
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
    live.pods = checked_all(kube.pods(namespace, desired.pod_selector), POD, f"the Pod list of {namespace}") if desired.pod_selector else []
    return live


def read_live(desired: Desired, kube: KubeReader, compute: ComputeReader) -> Live:
    ns = desired.namespace
    what = f"Ingress {ns}/{desired.ingress}"
    live = Live(ingress=checked(kube.ingress(ns, desired.ingress), INGRESS, what))
    if live.ingress is not None:
        uid = str((live.ingress.get("metadata") or {}).get("uid") or "")
        events = checked_all(kube.events_of(ns, "Ingress", desired.ingress, uid), EVENT, f"the Event list of {what}")
        warnings = [e for e in events if e.get("type") == "Warning"]
        # Events outlive the fix by up to --event-ttl (1h by default,
        # https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/): only those after
        # the Ingress's last change speak of its current spec.
        live.warnings, live.stale_warnings = split_by_freshness(warnings, last_change(live.ingress))
        live.routed = {name: kube.service(ns, name) is not None for name in routed_services(live.ingress)}
        live.health = {str(k): str(v) for k, v in json_annotation(live.ingress, ANNOTATION + "backends", BACKENDS_SHAPE, API, what).items()}
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
    live.certificates = {name: checked(kube.managed_certificate(ns, name), CERTIFICATE, f"ManagedCertificate {ns}/{name}") for name in desired.certificates}
    return read_leftovers(desired, kube, live)


def read_leftovers(desired: Desired, kube: KubeReader, live: Live | None = None) -> Live:
    """Into `live` (a new one when None): the lists the leftovers layer judges, every one of the namespace."""
    ns, live = desired.namespace, live or Live()
    live.ingresses = checked_all(kube.ingresses(ns), METADATA, f"the Ingress list of {ns}")
    live.backend_configs = checked_all(kube.backend_configs(ns), METADATA, f"the BackendConfig list of {ns}")
    live.autoscalers = checked_all(kube.autoscalers(ns), AUTOSCALER, f"the HorizontalPodAutoscaler list of {ns}")
    live.disruption_budgets = checked_all(kube.disruption_budgets(ns), METADATA, f"the PodDisruptionBudget list of {ns}")
    live.deployments = checked_all(kube.deployments(ns), METADATA, f"the Deployment list of {ns}")
    return live
