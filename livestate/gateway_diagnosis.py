"""The Gateway front door's diagnoses: from the failing checks of gateway_checks.py (and the SYNC warning events
GKE raises) to causes and fixes, the root cause first, as diagnosis.py is for the Ingress. Pure functions."""

from __future__ import annotations

import re

from coditect.gke import gateway_limits
from livestate.diagnosis import Diagnosis
from livestate.gateway import PLURALS, LiveGateway
from livestate.gateway_checks import TLS_METRICS, VALUE_METRICS
from livestate.gateway_desired import DesiredGateway, DesiredPolicy
from livestate.model import Check, Layer, Status

MANAGED_CLASS, CLASSIC_CLASS = gateway_limits.MANAGED_CLASS, gateway_limits.CLASSIC_CLASS
# GKE's messages as `kubectl describe gateway` shows them (tests/standin/gateway_world.py quotes each, with its source):
# GWCER102 a missing Service or Secret, GWCER104 a misconfigured HTTPRoute, GWCER105 a listener, GWCER106 the address.
GWCER = re.compile(r"GWCER(\d{3})")
SERVICE_NOT_FOUND = re.compile(r"services? \"?(?P<namespace>[a-z0-9-]+)/(?P<service>[a-z0-9.-]+)\"? not found")
NO_FILTERS = "does not support rule filters"
NO_TIMEOUTS = "Timeouts are not supported"
UNSUPPORTED_TYPE = "unsupported address type"
ADDRESS_MISSING = re.compile(r"address \"(?P<address>[^\"]+)\" does not exist")


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
