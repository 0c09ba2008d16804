"""The Gateway front door's checks: what the program declared (gateway_desired.DesiredGateway)
against what GKE and Compute show (gateway.LiveGateway). Pure functions, as checks.py and diagnosis.py are
for the Ingress; the verdict rule is the same (converged only when every check is ok). The diagnoses of the
failing checks are in gateway_diagnosis.py.

Layers, in GKE's order: gateway translation (the Gateway admitted and programmed with an address, every
HTTPRoute parent Accepted and ResolvedRefs, no SYNC warning), gateway policies applied (each policy attached,
its values on the backend service and health check GKE made), gateway front end (the named global address).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from livestate.checks import NONE, _compare, _get, _text
from livestate.gateway import MAX_MESSAGE, Condition, LiveGateway, LivePolicy, LiveRoute
from livestate.gateway_desired import BACKEND_POLICY, HEALTH_CHECK_POLICY, DesiredGateway, DesiredPolicy, DesiredRoute
from livestate.gateway_status import listener_problems
from livestate.gcp_http import resource_name
from livestate.model import Check, Layer, Status

# GCPBackendPolicy spec.default path -> (BackendService field, metric, value when Compute leaves it out)
BACKEND_POLICY_FIELDS: tuple[tuple[str, str, str, Any], ...] = (
    ("timeoutSec", "timeoutSec", "gateway backend timeout (s)", None),
    ("connectionDraining.drainingTimeoutSec", "connectionDraining.drainingTimeoutSec", "gateway connection draining (s)", 0),
    ("sessionAffinity.type", "sessionAffinity", "gateway session affinity", "NONE"),
    ("sessionAffinity.cookieTtlSec", "affinityCookieTtlSec", "gateway affinity cookie TTL", 0),
    ("logging.enabled", "logConfig.enable", "gateway request logging", False),
)
# HealthCheckPolicy spec.default path -> (HealthCheck field, metric)
HEALTH_POLICY_FIELDS = (
    ("checkIntervalSec", "checkIntervalSec", "gateway health check interval (s)"),
    ("timeoutSec", "timeoutSec", "gateway health check timeout (s)"),
    ("healthyThreshold", "healthyThreshold", "gateway healthy threshold"),
    ("unhealthyThreshold", "unhealthyThreshold", "gateway unhealthy threshold"),
    ("config.type", "type", "gateway health check type"),
    ("config.httpHealthCheck.portSpecification", "httpHealthCheck.portSpecification", "gateway health check port specification"),
    ("config.httpHealthCheck.requestPath", "httpHealthCheck.requestPath", "gateway health check path"),
    ("config.httpHealthCheck.port", "httpHealthCheck.port", "gateway health check port"),
)
TLS_METRICS = frozenset({"gateway SSL policy", "gateway certificate map"})
VALUE_METRICS = frozenset(
    {m for _s, _l, m, _d in BACKEND_POLICY_FIELDS} | {m for _s, _l, m in HEALTH_POLICY_FIELDS} | {"gateway log sample rate", "gateway Cloud Armor policy"}
)


def _condition(layer: Layer, metric: str, resource: str, field: str, condition: Condition | None, hint: str = "") -> Check:
    """True is ok; False drift; Unknown or absent pending (GKE has not acted yet)."""
    if condition is None:
        return Check(layer, metric, resource, field, "True", "no condition yet", Status.PENDING, hint)
    status = Status.OK if condition.true else Status.DRIFT if condition.status == "False" else Status.PENDING
    return Check(layer, metric, resource, field, "True", condition.line(), status, hint)


def _latest(events: list[dict[str, Any]]) -> dict[str, Any]:
    return max(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))


def _quoted(event: Mapping[str, Any]) -> str:
    return f"{event.get('reason')}: {str(event.get('message') or '')[:MAX_MESSAGE]} (x{event.get('count') or 1})"


def translation(desired: DesiredGateway, live: LiveGateway) -> Iterator[Check]:
    layer, gateway = Layer.GATEWAY_TRANSLATION, f"Gateway {desired.namespace}/{desired.name}"
    if live.gateway is None:
        hint = "not deployed, deployed under another name, or the cluster serves no Gateway API (gatewayApiConfig.channel CHANNEL_STANDARD)"
        yield Check(layer, "Gateway exists", gateway, "metadata.name", desired.name, NONE, Status.MISSING, hint)
        return
    yield _compare(layer, "gateway class", gateway, "spec.gatewayClassName", desired.class_name, live.class_name)
    yield _condition(layer, "Gateway accepted", gateway, "status.conditions[Accepted]", live.conditions.get("Accepted"))
    programmed = live.conditions.get("Programmed")
    if live.stale and programmed and programmed.true:  # True, but for an older spec: not yet proven for this one
        programmed = Condition(
            "Programmed", "Unknown", "Pending", f"status is for an older generation than metadata.generation {live.gateway['metadata'].get('generation')}"
        )
    yield _condition(layer, "Gateway programmed", gateway, "status.conditions[Programmed]", programmed, "GKE programs the load balancer")
    want = _get(live.address, "address") if desired.address else "an address"
    have = ", ".join(live.addresses)
    status = Status.MISSING if not have else Status.OK if not desired.address or want in live.addresses else Status.DRIFT
    yield Check(layer, "Gateway address", gateway, "status.addresses[].value", _text(want), have or NONE, status)
    refused = listener_problems(live)
    shown = "; ".join(p.removeprefix(f"{gateway} listener ") for p in refused)
    yield Check(layer, "Gateway listeners", gateway, "status.listeners[].conditions", "none False", shown or NONE, Status.DRIFT if refused else Status.OK)
    if live.sync_warnings:
        yield Check(layer, "gateway sync errors", gateway, "events[reason=SYNC,type=Warning]", NONE, _quoted(_latest(live.sync_warnings)), Status.DRIFT)
    else:
        yield Check(layer, "gateway sync errors", gateway, "events[reason=SYNC,type=Warning]", NONE, NONE, Status.OK)
    routes = {r.name: r for r in live.routes}
    for route in desired.routes:
        yield from _route(layer, desired, route, routes.get(route.name), live)


def _route(layer: Layer, desired: DesiredGateway, want: DesiredRoute, route: LiveRoute | None, live: LiveGateway) -> Iterator[Check]:
    resource = f"HTTPRoute {desired.namespace}/{want.name}"

    def metric(what: str) -> str:  # the table shows no resource column: the metric names the route
        return f"HTTPRoute {want.name}: {what}"

    if route is None or route.route is None:
        yield Check(layer, metric("exists"), resource, "metadata.name", want.name, NONE, Status.MISSING)
        return
    if want.backends:
        names = [str(b.get("name")) for rule in (route.route.get("spec") or {}).get("rules") or [] for b in rule.get("backendRefs") or []]
        shown = ", ".join(f"{n} (no such Service)" if not live.services.get(n, True) else n for n in dict.fromkeys(names))
        check = _compare(layer, metric("backends"), resource, "spec.rules[].backendRefs[].name", ", ".join(dict.fromkeys(s for s, _ in want.backends)), shown)
        yield check if all(live.services.get(n, True) for n in names) else Check(**{**check.__dict__, "status": Status.DRIFT})
    parents = dict(route.parents)
    for section in want.sections or ("",):
        where = f"{desired.name}/{section}" if section else desired.name
        found = parents.get(section)
        if found is None:
            yield Check(layer, metric("accepted"), resource, f"status.parents[{where}]", "True", "no status from the Gateway yet", Status.PENDING)
            continue
        yield _condition(layer, metric("accepted"), resource, f"status.parents[{where}].conditions[Accepted]", found.get("Accepted"))
        yield _condition(layer, metric("refs resolved"), resource, f"status.parents[{where}].conditions[ResolvedRefs]", found.get("ResolvedRefs"))


def _attached(layer: Layer, want: DesiredPolicy, policy: LivePolicy | None, namespace: str) -> Check:
    resource, field = f"{want.kind} {namespace}/{want.name}", "status.conditions[Attached|Accepted]"
    if policy is None:
        return Check(layer, f"{want.kind} exists", resource, "metadata.name", want.name, NONE, Status.MISSING)
    if policy.attached:
        shown = next(policy.conditions[t].line() for t in ("Attached", "Accepted") if t in policy.conditions and policy.conditions[t].true)
        return Check(layer, f"{want.kind} attached", resource, field, "Attached=True", shown, Status.OK)
    refused = policy.refused
    if refused is None:
        return Check(layer, f"{want.kind} attached", resource, field, "Attached=True", "no status yet", Status.PENDING)
    return Check(layer, f"{want.kind} attached", resource, field, "Attached=True", refused.line(), Status.DRIFT)


def _backend_values(layer: Layer, desired: DesiredGateway, service: str, live: LiveGateway) -> Iterator[Check]:
    backend = live.backend_services.get(service)
    if backend is None:
        yield Check(
            layer,
            "gateway backend service",
            f"Service {desired.namespace}/{service}",
            "Gateway annotation networking.gke.io/backend-services",
            "a backend service",
            NONE,
            Status.MISSING,
            "GKE lists it once the Gateway is programmed",
        )
        return
    resource = f"BackendService {backend.get('name')}"
    policy = desired.policy(BACKEND_POLICY, service)
    spec = policy.default if policy else {}
    for spec_path, live_path, metric, absent in BACKEND_POLICY_FIELDS:
        if _get(spec, spec_path) is not None:
            value = _get(backend, live_path)
            yield _compare(layer, metric, resource, live_path, _get(spec, spec_path), absent if value is None else value)
    if _get(spec, "logging.sampleRate") is not None:  # an integer per million in the policy, a fraction on the backend service
        yield _compare(
            layer, "gateway log sample rate", resource, "logConfig.sampleRate", _get(spec, "logging.sampleRate") / 1e6, _get(backend, "logConfig.sampleRate")
        )
    if "securityPolicy" in spec:
        live_policy = resource_name(str(backend["securityPolicy"])) if backend.get("securityPolicy") else None
        yield _compare(layer, "gateway Cloud Armor policy", resource, "securityPolicy", spec.get("securityPolicy"), live_policy)
    health = desired.policy(HEALTH_CHECK_POLICY, service)
    if health is None:
        return
    hc = live.health_checks.get(service)
    hc_resource = f"HealthCheck {(hc or {}).get('name', '(none on ' + str(backend.get('name')) + ')')}"
    for spec_path, live_path, metric in HEALTH_POLICY_FIELDS:
        if _get(health.default, spec_path) is not None:
            yield _compare(layer, metric, hc_resource, live_path, _get(health.default, spec_path), _get(hc, live_path))


def policies(desired: DesiredGateway, live: LiveGateway) -> Iterator[Check]:
    layer = Layer.GATEWAY_POLICIES
    found = {(p.kind, p.name): p for p in live.policies}
    for want in desired.policies:
        yield _attached(layer, want, found.get((want.kind, want.name)), desired.namespace)
    if live.gateway is None:
        return
    for service in desired.services:
        yield from _backend_values(layer, desired, service, live)


def front_end(desired: DesiredGateway, live: LiveGateway) -> Iterator[Check]:
    if not desired.address or live.gateway is None:
        return
    layer, resource = Layer.GATEWAY_FRONT_END, f"Address {desired.address}"
    address = live.address
    if address is None:
        yield Check(layer, "gateway static IP reserved", resource, "status, address", "IN_USE", "none (no such global address)", Status.MISSING)
        return
    live_text = f"{address.get('status')} {address.get('address')}"
    in_use = address.get("status") == "IN_USE" and address.get("address") in live.addresses
    status = Status.OK if in_use else Status.PENDING if address.get("status") == "RESERVED" else Status.DRIFT
    yield Check(layer, "gateway static IP reserved", resource, "status, address", f"IN_USE {address.get('address')}", live_text, status, "bound by the Gateway")


def tls(desired: DesiredGateway, live: LiveGateway) -> Iterator[Check]:
    """The SSL policy (GCPGatewayPolicy) and certificate map (annotation) on the HTTPS target proxy GKE made."""
    if live.gateway is None or not (desired.ssl_policy or desired.certificate_map):
        return
    layer, proxy = Layer.GATEWAY_FRONT_END, live.https_proxy
    resource = f"TargetHttpsProxy {(proxy or {}).get('name') or live.https_proxy_name() or '(none listed)'}"
    if desired.ssl_policy:
        policy = resource_name(str(proxy["sslPolicy"])) if proxy and proxy.get("sslPolicy") else None
        yield _compare(layer, "gateway SSL policy", resource, "sslPolicy", desired.ssl_policy, policy)
    if desired.certificate_map:
        certmap = resource_name(str(proxy["certificateMap"])) if proxy and proxy.get("certificateMap") else None
        yield _compare(layer, "gateway certificate map", resource, "certificateMap", desired.certificate_map, certmap)


def gateway_checks(desired: DesiredGateway, live: LiveGateway) -> list[Check]:
    return [*translation(desired, live), *policies(desired, live), *front_end(desired, live), *tls(desired, live)]
