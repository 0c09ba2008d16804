"""The Gateway front door as GKE reports it: the Gateway, its HTTPRoutes, the GKE policies aimed at it or at its
Services, and the Warning events GKE raises on the Gateway (reason SYNC). Reads only, through the bounded
Kubernetes client (livestate/kube.py); every object is shape-checked (livestate/shapes.py) and a condition
without its type or status is Malformed, so no judgement is made from an answer that is not the API's.

Where the status lives (Gateway API v1, https://gateway-api.sigs.k8s.io/reference/spec/; kubernetes-sigs/gateway-api
apis/v1/gateway_types.go, shared_types.go, policy_types.go):
- Gateway: status.conditions Accepted and Programmed (False reason AddressNotUsable when a named address is not
  found), status.addresses[].value;
- HTTPRoute: per parent, status.parents[].conditions Accepted (IncompatibleFilters, ...) and ResolvedRefs
  (BackendNotFound, ...);
- policies: status.conditions (and, for GCPBackendPolicy, status.ancestors[].conditions) Accepted with reasons
  Accepted / Conflicted / Invalid / TargetNotFound. GKE writes `Attached` for the same fact, so either True is
  attached (GoogleCloudPlatform/gke-gateway-api apis/networking/v1/*_types.go).
GKE reports translation failures as Warning events reason SYNC on the Gateway ("failed to translate Gateway …:
Error GWCERnnn: …") and a success as a Normal SYNC event; a warning older than the last success is history.

`read_gateway` is the full record inspect judges; livestate/gateway_status.py's `read_gateway_status` is the summary
`ops migrate` waits on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livestate.gateway_desired import BACKEND_POLICY, GATEWAY_POLICY, HEALTH_CHECK_POLICY, POLICY_KINDS
from livestate.kube import API
from livestate.live import EVENT, METADATA, checked, checked_all, event_last_seen
from livestate.model import Malformed
from livestate.shapes import Shape, check

if TYPE_CHECKING:
    from livestate.compute import ComputeReader
    from livestate.kube import KubeReader

Json = dict[str, Any]
GATEWAY_GROUP, GATEWAY_VERSION = "gateway.networking.k8s.io", "v1"
GKE_GROUP, GKE_VERSION = "networking.gke.io", "v1"
PLURALS = {BACKEND_POLICY: "gcpbackendpolicies", HEALTH_CHECK_POLICY: "healthcheckpolicies", GATEWAY_POLICY: "gcpgatewaypolicies"}
BACKEND_SERVICES = "networking.gke.io/backend-services"  # controller outputs: the backend services GKE made,
TARGET_PROXIES = "networking.gke.io/target-proxies"  # and its target proxies
SYNC = "SYNC"
SUCCESS = "was a success"
LISTENER_CONDITIONS = ("Accepted", "Programmed", "ResolvedRefs")
ATTACHED = ("Attached", "Accepted")  # GKE's condition type, the spec's
STALE = "Stale"  # the reason given to a condition about an older generation (conditions())
MAX_MESSAGE = 300  # a condition or event message quoted in a problem line

CONDITIONS: Shape = (("type", str), ("status", str), ("reason", str), ("message", str), ("observedGeneration", int))


def _conditions_at(prefix: str) -> Shape:
    return tuple((f"{prefix}.{path}", kind) for path, kind in CONDITIONS)


GATEWAY_SHAPE: Shape = (
    *METADATA,
    ("metadata.generation", int),
    ("spec.gatewayClassName", str),
    ("spec.addresses[].type", str),
    ("spec.addresses[].value", str),
    ("status.addresses[].type", str),
    ("status.addresses[].value", str),
    *_conditions_at("status.conditions[]"),
    ("status.listeners[].name", str),
    *_conditions_at("status.listeners[].conditions[]"),
)
ROUTE_SHAPE: Shape = (
    *METADATA,
    ("metadata.generation", int),
    ("spec.parentRefs[].name", str),
    ("spec.parentRefs[].sectionName", str),
    ("spec.rules[].backendRefs[].name", str),
    ("spec.rules[].backendRefs[].port", int),
    ("spec.rules[].filters[].type", str),
    ("status.parents[].parentRef.name", str),
    ("status.parents[].parentRef.sectionName", str),
    ("status.parents[].controllerName", str),
    *_conditions_at("status.parents[].conditions[]"),
)
POLICY_SHAPE: Shape = (
    *METADATA,
    ("metadata.generation", int),
    ("spec.targetRef.group", str),
    ("spec.targetRef.kind", str),
    ("spec.targetRef.name", str),
    *_conditions_at("status.conditions[]"),
    ("status.ancestors[].ancestorRef.name", str),
    *_conditions_at("status.ancestors[].conditions[]"),
)


@dataclass(frozen=True)
class Condition:
    type: str
    status: str  # "True" | "False" | "Unknown"
    reason: str
    message: str

    @property
    def true(self) -> bool:
        return self.status == "True"

    def line(self) -> str:
        """`Programmed=False AddressNotUsable: <message>`, the message cut to MAX_MESSAGE characters."""
        message = self.message if len(self.message) <= MAX_MESSAGE else self.message[: MAX_MESSAGE - 1] + "…"
        return f"{self.type}={self.status} {self.reason or '(no reason)'}" + (f": {message}" if message else "")


def conditions(node: Any, where: str, what: str, generation: Any = None) -> dict[str, Condition]:
    """The conditions of a status list, by type; a condition without type or status is Malformed (both are
    required in metav1.Condition: https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/).

    A condition whose observedGeneration is older than the object's metadata.generation speaks of a spec that is
    gone (metav1.Condition observedGeneration): it is kept as Unknown/Stale, so it never counts as proof."""
    found: dict[str, Condition] = {}
    for index, item in enumerate(node or []):
        if not isinstance(item, dict) or not item.get("type") or not item.get("status"):
            raise Malformed(API, what, f"{where}[{index}] has no type or no status (metav1.Condition requires both)")
        kind, observed = str(item["type"]), item.get("observedGeneration")
        if isinstance(generation, int) and isinstance(observed, int) and observed < generation:
            found[kind] = Condition(
                kind,
                "Unknown",
                STALE,
                f"{item['status']} for observedGeneration {observed}, older than metadata.generation {generation}: GKE has not reconciled the last change",
            )
            continue
        found[kind] = Condition(kind, str(item["status"]), str(item.get("reason") or ""), str(item.get("message") or ""))
    return found


def _meta(obj: Json | None, key: str) -> Any:
    return ((obj or {}).get("metadata") or {}).get(key)


@dataclass
class LiveRoute:
    name: str
    route: Json | None
    parents: list[tuple[str, dict[str, Condition]]] = field(default_factory=list)  # (sectionName, conditions) for this Gateway


@dataclass
class LivePolicy:
    kind: str
    namespace: str
    name: str
    target_kind: str
    target: str
    conditions: dict[str, Condition]  # status.conditions and this Gateway's ancestor's (_policy)

    @property
    def attached(self) -> bool:
        return any(self.conditions[t].true for t in ATTACHED if t in self.conditions) and not self.refused

    @property
    def refused(self) -> Condition | None:
        """The condition saying GKE does not apply it: Attached/Accepted False, or an Accepted reason other than Accepted."""
        for kind in ATTACHED:
            condition = self.conditions.get(kind)
            if condition and (condition.status == "False" or condition.reason in ("Conflicted", "Invalid", "TargetNotFound")):
                return condition
        return None

    def problem(self) -> str | None:
        if self.attached:
            return None
        refused = self.refused
        stale = next((self.conditions[t] for t in ATTACHED if t in self.conditions and self.conditions[t].reason == STALE), None)
        shown = refused or stale
        why = shown.line() if shown is not None else "no Attached or Accepted condition yet (GKE has not processed it)"
        return f"{self.kind} {self.namespace}/{self.name} (target {self.target_kind} {self.target}) is not attached: {why}"


@dataclass
class LiveGateway:
    namespace: str
    name: str
    gateway: Json | None = None
    conditions: dict[str, Condition] = field(default_factory=dict)
    stale: bool = False  # the conditions speak of an older generation than the spec
    listeners: dict[str, dict[str, Condition]] = field(default_factory=dict)  # status.listeners[] by name
    routes: list[LiveRoute] = field(default_factory=list)
    policies: list[LivePolicy] = field(default_factory=list)
    sync_warnings: list[Json] = field(default_factory=list)  # Warning SYNC events since the last successful sync
    services: dict[str, bool] = field(default_factory=dict)  # every Service the live routes name -> exists
    # What Compute shows (read_load_balancer): per backend Service, its backend service and health check; the address.
    backend_services: dict[str, Json | None] = field(default_factory=dict)
    health_checks: dict[str, Json | None] = field(default_factory=dict)
    address: Json | None = None
    https_proxy: Json | None = None  # the targetHttpsProxies entry of networking.gke.io/target-proxies

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(str(a.get("value")) for a in ((self.gateway or {}).get("status") or {}).get("addresses") or [] if a.get("value"))

    @property
    def class_name(self) -> str | None:
        value = ((self.gateway or {}).get("spec") or {}).get("gatewayClassName")
        return str(value) if value else None

    def _listed(self, annotation: str) -> list[str]:
        """The entries of a GKE output annotation: "a, b" of names or /projects/P/global/COLLECTION/NAME paths."""
        raw = (_meta(self.gateway, "annotations") or {}).get(annotation) or ""
        return [part.strip() for part in str(raw).split(",") if part.strip()]

    def backend_service_names(self) -> list[str]:
        return [entry.rsplit("/", 1)[-1] for entry in self._listed(BACKEND_SERVICES)]

    def https_proxy_name(self) -> str | None:
        """The HTTPS target proxy GKE lists; only a path says which collection a proxy is in."""
        return next((e.rsplit("/", 1)[-1] for e in self._listed(TARGET_PROXIES) if "/targetHttpsProxies/" in e), None)


def _route(kube: KubeReader, namespace: str, name: str, gateway: str) -> LiveRoute:
    what = f"HTTPRoute {namespace}/{name}"
    route = checked(kube.custom(GATEWAY_GROUP, GATEWAY_VERSION, "httproutes", namespace, name, "HTTPRoute"), ROUTE_SHAPE, what)
    live = LiveRoute(name, route)
    for index, parent in enumerate(((route or {}).get("status") or {}).get("parents") or []):
        ref = parent.get("parentRef") or {}
        if ref.get("name") == gateway:
            found = conditions(parent.get("conditions"), f"status.parents[{index}].conditions", what, _meta(route, "generation"))
            live.parents.append((str(ref.get("sectionName") or ""), found))
    return live


def _policy(obj: Json, kind: str, namespace: str, gateway: str, what: str) -> LivePolicy:
    """The policy with its conditions: status.conditions, then those of each ancestor that is this Gateway (or names
    none); a condition that is not True is never hidden by a True one of another ancestor."""
    status, target = obj.get("status") or {}, (obj.get("spec") or {}).get("targetRef") or {}
    generation = _meta(obj, "generation")
    found = conditions(status.get("conditions"), "status.conditions", what, generation)
    for index, ancestor in enumerate(status.get("ancestors") or []):
        if (ancestor.get("ancestorRef") or {}).get("name", gateway) != gateway:
            continue
        for kind, condition in conditions(ancestor.get("conditions"), f"status.ancestors[{index}].conditions", what, generation).items():
            if kind not in found or found[kind].true:
                found[kind] = condition
    return LivePolicy(kind, namespace, str(_meta(obj, "name")), str(target.get("kind") or ""), str(target.get("name") or ""), found)


def _sync_warnings(events: list[Json]) -> list[Json]:
    """Warning SYNC events seen after GKE's last successful sync: a Normal SYNC "SYNC on NS/NAME was a success" (GKE
    also writes Normal SYNC events naming only the Gateway, which say a sync ran, not that it succeeded)."""
    syncs = [e for e in events if e.get("reason") == SYNC]
    successes = [t for t in (event_last_seen(e) for e in syncs if e.get("type") == "Normal" and SUCCESS in str(e.get("message") or "")) if t]
    since = max(successes) if successes else None
    return [e for e in syncs if e.get("type") == "Warning" and not (since and (seen := event_last_seen(e)) and seen <= since)]


def route_services(routes: Iterable[LiveRoute]) -> list[str]:
    return list(
        dict.fromkeys(
            str(ref.get("name"))
            for r in routes
            for rule in ((r.route or {}).get("spec") or {}).get("rules") or []
            for ref in rule.get("backendRefs") or []
            if ref.get("name") and ref.get("kind", "Service") == "Service"
        )
    )


def read_gateway(kube: KubeReader, namespace: str, name: str, routes: Sequence[str], services: Sequence[str] = ()) -> LiveGateway:
    """The Gateway, `routes` (HTTPRoute names), the policies aimed at it or at a Service the routes (or `services`)
    name, and its SYNC warnings."""
    what = f"Gateway {namespace}/{name}"
    live = LiveGateway(namespace, name, checked(kube.custom(GATEWAY_GROUP, GATEWAY_VERSION, "gateways", namespace, name, "Gateway"), GATEWAY_SHAPE, what))
    if live.gateway is None:
        return live
    live.conditions = conditions((live.gateway.get("status") or {}).get("conditions"), "status.conditions", what)
    for index, listener in enumerate((live.gateway.get("status") or {}).get("listeners") or []):
        where = f"status.listeners[{index}].conditions"
        live.listeners[str(listener.get("name") or index)] = conditions(listener.get("conditions"), where, what)
    generation = _meta(live.gateway, "generation")
    observed = [c.get("observedGeneration") for c in (live.gateway.get("status") or {}).get("conditions") or [] if c.get("observedGeneration") is not None]
    live.stale = bool(generation and observed and min(observed) < generation)
    uid = str(_meta(live.gateway, "uid") or "")
    live.sync_warnings = _sync_warnings(checked_all(kube.events_of(namespace, "Gateway", name, uid), EVENT, f"the Event list of {what}"))
    live.routes = [_route(kube, namespace, route, name) for route in routes]
    named = route_services(live.routes)
    live.services = {service: kube.service(namespace, service) is not None for service in named}
    targets = {("Gateway", name), *(("Service", s) for s in (*named, *services))}
    for kind in POLICY_KINDS:
        listed = checked_all(kube.customs(GKE_GROUP, GKE_VERSION, PLURALS[kind], namespace, kind), POLICY_SHAPE, f"the {kind} list of {namespace}")
        for obj in listed:
            policy = _policy(obj, kind, namespace, name, f"{kind} {namespace}/{_meta(obj, 'name')}")
            if (policy.target_kind, policy.target) in targets:
                live.policies.append(policy)
    return live


# The health check fields compared with a HealthCheckPolicy, beyond what livestate/compute.py checks of every
# health check (https://cloud.google.com/compute/docs/reference/rest/v1/healthChecks).
HEALTH_CHECK_NUMBERS: Shape = (
    ("checkIntervalSec", int),
    ("timeoutSec", int),
    ("healthyThreshold", int),
    ("unhealthyThreshold", int),
    ("httpHealthCheck.portSpecification", str),
)


def serves(backend_service: str, namespace: str, service: str, port: int | None) -> bool:
    """Whether a Gateway backend service named `backend_service` is the one of Service `namespace/service` (port):
    GKE names them gkegw1-<id>-<namespace>-<service>-<port>-<hash> (as its networking.gke.io/backend-services
    annotation shows), namespace and service each possibly cut to keep the name within 63 characters."""
    parts = backend_service.split("-")
    if len(parts) < 6 or not parts[0].startswith("gkegw") or (port is not None and parts[-2] != str(port)):
        return False
    middle = parts[2:-2]
    return any(namespace.startswith("-".join(middle[:i])) and service.startswith("-".join(middle[i:])) for i in range(1, len(middle)))


def read_load_balancer(live: LiveGateway, backends: Sequence[tuple[str, int | None]], address: str | None, compute: ComputeReader) -> None:
    """Into `live`: for each (Service, port) the backend service GKE lists for it and its first health check; the
    named global address. A backend without a listed backend service is recorded as None, never looked for by guess."""
    from livestate.compute import API as COMPUTE_API
    from livestate.gcp_http import resource_name

    names = live.backend_service_names()
    for service, port in backends:
        name = next((n for n in names if serves(n, live.namespace, service, port)), None)
        found = compute.get("backendServices", name) if name else None
        live.backend_services[service] = found
        links = (found or {}).get("healthChecks") or []
        health = compute.get("healthChecks", resource_name(links[0])) if links else None
        if health is not None:
            check(health, HEALTH_CHECK_NUMBERS, COMPUTE_API, f"healthChecks/{health.get('name')}")
        live.health_checks[service] = health
    live.address = compute.get("addresses", address) if address else None
    proxy = live.https_proxy_name()
    live.https_proxy = compute.get("targetHttpsProxies", proxy) if proxy else None
    if live.https_proxy is not None:
        check(live.https_proxy, (("certificateMap", str),), COMPUTE_API, f"targetHttpsProxies/{proxy}")
