"""The Gateway front door's checks and diagnoses: what the program declared (gateway_desired.DesiredGateway)
against what GKE and Compute show (gateway.LiveGateway). Pure functions, as checks.py and diagnosis.py are
for the Ingress; the verdict rule is the same (converged only when every check is ok).

Layers, in GKE's order: gateway translation (the Gateway admitted and programmed with an address, every
HTTPRoute parent Accepted and ResolvedRefs, no SYNC warning), gateway policies applied (each policy attached,
its values on the backend service and health check GKE made), gateway front end (the named global address).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from livestate.checks import NONE, _compare, _get, _text
from livestate.diagnosis import Diagnosis
from livestate.gateway import MAX_MESSAGE, PLURALS, Condition, LiveGateway, LivePolicy, LiveRoute, listener_problems
from livestate.gateway_desired import BACKEND_POLICY, HEALTH_CHECK_POLICY, DesiredGateway, DesiredPolicy, DesiredRoute
from livestate.gcp_http import resource_name
from livestate.model import Check, Layer, Status

MANAGED_CLASS = "gke-l7-global-external-managed"
CLASSIC_CLASS = "gke-l7-gxlb"
# GKE's messages as `kubectl describe gateway` shows them (tests/standin/gateway_world.py quotes each, with its source):
# GWCER102 a missing Service or Secret, GWCER104 a misconfigured HTTPRoute, GWCER105 a listener, GWCER106 the address.
GWCER = re.compile(r"GWCER(\d{3})")
SERVICE_NOT_FOUND = re.compile(r"services? \"?(?P<namespace>[a-z0-9-]+)/(?P<service>[a-z0-9.-]+)\"? not found")
NO_FILTERS = "does not support rule filters"
NO_TIMEOUTS = "Timeouts are not supported"
UNSUPPORTED_TYPE = "unsupported address type"
ADDRESS_MISSING = re.compile(r"address \"(?P<address>[^\"]+)\" does not exist")

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


# --- diagnoses ------------------------------------------------------------------------------------------------------


def _of(check: Check, cause: str, fix: str) -> Diagnosis:
    return Diagnosis(cause, fix, check.resource, check.field, check.live, check.target)


def _short(live: str) -> str:
    """`Type=Status Reason` of a condition's line, without its message (the diagnosis's live field keeps it whole)."""
    return live.split(":", 1)[0]


def _gwcer(text: str) -> set[str]:
    return set(GWCER.findall(text))


class _Diagnoser:
    """One pass over the failing Gateway checks: root causes first, each folding the checks it explains."""

    def __init__(self, desired: DesiredGateway, live: LiveGateway, checks: list[Check]) -> None:
        self.desired, self.live = desired, live
        self.failing = [c for c in checks if not c.ok]
        self.used: set[int] = set()
        self.found: list[Diagnosis] = []
        self.sync = next((c for c in self.failing if c.metric == "gateway sync errors"), None)

    def fold(self, *checks: Check | None) -> None:
        self.used.update(id(c) for c in checks if c is not None)

    def fold_sync(self, *codes: str) -> None:
        """The SYNC warning is the same failure when its GWCER code is one already explained."""
        if self.sync and _gwcer(self.sync.live) & set(codes):
            self.fold(self.sync)

    def of_metric(self, metric: str) -> list[Check]:
        return [c for c in self.failing if c.metric == metric and id(c) not in self.used]

    def of_route(self, what: str) -> list[Check]:
        """The route checks of one kind ("accepted", "refs resolved", "backends"), every route's."""
        return [c for c in self.failing if c.metric.startswith("HTTPRoute ") and c.metric.endswith(f": {what}") and id(c) not in self.used]

    def address(self) -> None:
        programmed = next(iter(self.of_metric("Gateway programmed")), None)
        accepted = next(iter(self.of_metric("Gateway accepted")), None)
        reserved = next(iter(self.of_metric("gateway static IP reserved")), None)
        listeners = next(iter(self.of_metric("Gateway listeners")), None)
        text = " ".join(c.live for c in (accepted, programmed, listeners, self.sync) if c)
        named = ADDRESS_MISSING.search(text)
        wrong_type = "UnsupportedAddress" in text or UNSUPPORTED_TYPE in text
        missing = (reserved is not None and reserved.status is Status.MISSING) or named is not None or "AddressNotUsable" in text
        first = (accepted or listeners) if wrong_type and (accepted or listeners) else programmed or reserved or accepted or self.sync
        if first is None or not (missing or wrong_type):
            return
        name = self.desired.address or (named["address"] if named else "?")
        gateway = f"Gateway {self.desired.namespace}/{self.desired.name}"
        if wrong_type:
            cause, fix = (
                f"{gateway} has no address: GKE takes only a NamedAddress ({_short(first.live)})",
                f"write spec.addresses[].type: NamedAddress explicitly (the CRD defaults it to IPAddress), value {name}; `pulumi up`",
            )
        else:
            cause = f"{gateway} has no address: the global address {name} does not exist ({_short(first.live)})"
            fix = (
                f"reserve it: gcloud compute addresses create {name} --global (the stack's coditect:gateway.staticIpName names it: a second "
                "global address, never the Ingress's); GKE binds it at its next sync of the Gateway, `inspect --wait 600` shows when"
            )
        self.found.append(_of(first, cause, fix))
        # Without an address GKE builds no load balancer: no backend service is listed either.
        unbuilt = [c for c in self.failing if c.metric in TLS_METRICS and c.status is Status.MISSING]
        self.fold(
            accepted if wrong_type else None,
            listeners if wrong_type else None,
            programmed,
            reserved,
            *self.of_metric("Gateway address"),
            *self.of_metric("gateway backend service"),
            *unbuilt,
        )
        self.fold_sync("106")

    def filters(self) -> None:
        refused = [c for c in self.of_route("accepted") if "IncompatibleFilters" in c.live or NO_FILTERS in c.live]
        cls = next(iter(self.of_metric("gateway class")), None)
        on_classic = cls is not None and cls.live == CLASSIC_CLASS
        if not refused and not on_classic and not (self.sync and NO_FILTERS in self.sync.live):
            return
        first = refused[0] if refused else cls or self.sync
        if first is None:
            return
        routes = ", ".join(c.resource for c in refused) or "the redirect route"
        self.found.append(
            _of(
                first,
                f"Gateway {self.desired.namespace}/{self.desired.name} is of class {CLASSIC_CLASS} (the classic ALB), which does not support "
                f"HTTPRoute rule filters: {routes} (RequestRedirect) is refused",
                f"spec.gatewayClassName: {MANAGED_CLASS} (the program declares {self.desired.class_name}): `pulumi up`; if GKE keeps the old "
                "load balancer, delete the Gateway and let `pulumi up` create it again (the named address keeps the IP)",
            )
        )
        self.fold(cls, *refused, *[c for c in self.of_metric("Gateway programmed") if NO_FILTERS in c.live or "GWCER104" in c.live])
        if self.sync and NO_FILTERS in self.sync.live:
            self.fold(self.sync)

    def timeouts(self) -> None:
        for check in [c for c in self.of_route("accepted") if NO_TIMEOUTS in c.live]:
            self.found.append(
                _of(
                    check,
                    f"{check.resource} is refused: GKE does not support HTTPRoute timeouts ({_short(check.live)})",
                    f"remove spec.rules[].timeouts from {check.resource}; the backend timeout belongs in GCPBackendPolicy spec.default.timeoutSec",
                )
            )
            self.fold(check)
            if self.sync and NO_TIMEOUTS in self.sync.live:
                self.fold(self.sync)

    def missing_backends(self) -> None:
        unresolved = [c for c in self.of_route("refs resolved") if "BackendNotFound" in c.live or "GWCER102" in c.live]
        dangling = [c for c in self.of_route("backends") if "(no such Service)" in c.live]
        for check in unresolved or dangling:
            named = SERVICE_NOT_FOUND.search(check.live) or (SERVICE_NOT_FOUND.search(self.sync.live) if self.sync else None)
            missing = [s for s, exists in self.live.services.items() if not exists]
            service = f"{named['namespace']}/{named['service']}" if named else f"{self.desired.namespace}/{missing[0] if missing else '?'}"
            self.found.append(
                _of(
                    check,
                    f"{check.resource} routes to Service {service}, which does not exist ({_short(check.live)}); the spec answers such requests with 500",
                    f"create Service {service}, or route only to Services this program declares: `pulumi up` of this stack replaces the live "
                    "route's backendRefs with the program's; then `inspect --wait`",
                )
            )
            self.fold(check, *[c for c in dangling + unresolved if c.resource == check.resource])
            self.fold_sync("102")

    def unattached(self) -> None:
        for check in [c for c in self.failing if c.metric.endswith((" attached", " exists")) and c.layer is Layer.GATEWAY_POLICIES and id(c) not in self.used]:
            kind, name = check.resource.split()[0], check.resource.split("/")[-1]
            want = next(p for p in self.desired.policies if p.kind == kind and p.name == name)
            target = f"{want.target_kind} {self.desired.namespace}/{want.target}"
            drift = self._value_drift(want.target) if want.target_kind == "Service" else [c for c in self.failing if c.metric == "gateway SSL policy"]
            consequence = (
                f", so its values are not on the load balancer: {'; '.join(f'{c.resource} {c.field} {c.live} (desired {c.target})' for c in drift)}"
                if drift
                else ""
            )
            if check.status is Status.MISSING:
                cause, fix = f"{check.resource} does not exist{consequence}", "`pulumi up` this stack (it declares the policy), then `inspect --wait`"
            else:
                cause = f"{check.resource} is not attached to {target} ({check.live}){consequence}"
                fix = self._attach_fix(check.live, want, target)
            self.found.append(_of(check, cause, fix))
            self.fold(check, *drift)

    def _value_drift(self, service: str) -> list[Check]:
        backend = self.live.backend_services.get(service) or {}
        health = self.live.health_checks.get(service) or {}
        resources = {f"BackendService {backend.get('name')}", f"HealthCheck {health.get('name')}"}
        return [c for c in self.failing if c.metric in VALUE_METRICS and c.resource in resources and id(c) not in self.used]

    def _attach_fix(self, live: str, want: DesiredPolicy, target: str) -> str:
        plural = PLURALS[want.kind]
        if "TargetNotFound" in live:
            return f'{target} does not exist: create it, or correct spec.targetRef of {want.kind} {want.name} (group "", kind {want.target_kind}, name)'
        if "Conflicted" in live:
            return (
                f"another {want.kind} targets {target} and GKE applies only the oldest: delete the other "
                f"(kubectl get {plural} -n {self.desired.namespace}), then `inspect --wait`"
            )
        if live == "no status yet":
            return (
                "GKE has not processed it yet: `inspect --wait 600`; if it stays, check that the cluster's GKE version serves networking.gke.io/v1 " + want.kind
            )
        return f"fix what the condition names (kubectl describe {plural} {want.name} -n {self.desired.namespace}), `pulumi up`, then `inspect --wait`"

    def values(self) -> None:
        drift = [c for c in self.failing if c.metric in VALUE_METRICS and id(c) not in self.used]
        if not drift:
            return
        first = drift[0]
        self.found.append(
            Diagnosis(
                f"GKE has not applied the Gateway policies: {'; '.join(f'{c.resource} {c.field} {c.live} (desired {c.target})' for c in drift)}",
                "the policies are attached: GKE re-syncs within minutes of a change, `inspect --wait 600` shows when; if it stays, read the "
                f"Gateway's events (kubectl describe gateway {self.desired.name} -n {self.desired.namespace})",
                first.resource,
                ", ".join(c.field for c in drift),
                ", ".join(c.live for c in drift),
                ", ".join(c.target for c in drift),
            )
        )
        self.fold(*drift)

    def rest(self) -> None:
        for check in self.failing:
            if id(check) in self.used:
                continue
            if check is self.sync:
                cause = f"GKE failed to sync Gateway {self.desired.namespace}/{self.desired.name}: {check.live}"
                fix = f"fix what the event names (kubectl describe gateway {self.desired.name} -n {self.desired.namespace}), then `inspect --wait`"
            else:
                cause = f"{check.metric}: {check.resource} is not as declared" + (f" ({check.hint})" if check.hint else "")
                fix = f"`pulumi up` this stack, then `inspect --wait`; if it persists, read the Gateway's events (kubectl describe gateway {self.desired.name})"
            self.found.append(_of(check, cause, fix))

    def run(self) -> list[Diagnosis]:
        for step in (self.address, self.filters, self.timeouts, self.missing_backends, self.unattached, self.values, self.rest):
            step()
        return self.found


def diagnose_gateway(desired: DesiredGateway, live: LiveGateway, checks: list[Check]) -> list[Diagnosis]:
    """From the failing Gateway checks to causes and fixes, the root cause first; each names resource, field, live, desired."""
    return _Diagnoser(desired, live, checks).run()
