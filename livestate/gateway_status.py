"""The summary of the Gateway front door that `ops migrate` waits on (the coordinator's contract, docs/migration.md
"Observed state"): `GatewayStatus` and its `proven`, built by `read_gateway_status` from the full record that
livestate/gateway.py reads, with one problem line per condition that is not True, per missing policy and per SYNC
warning event (GKE's GWCERnnn translation errors)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livestate.gateway import LISTENER_CONDITIONS, MAX_MESSAGE, Condition, LiveGateway, _meta, read_gateway, route_services
from livestate.gateway_desired import BACKEND_POLICY, GATEWAY_POLICY, HEALTH_CHECK_POLICY

if TYPE_CHECKING:
    from livestate.kube import KubeReader


@dataclass(frozen=True)
class GatewayStatus:
    name: str
    accepted: bool  # condition Accepted=True
    programmed: bool  # condition Programmed=True
    addresses: tuple[str, ...]  # status.addresses[].value
    routes_ok: bool  # every HTTPRoute parent Accepted=True and ResolvedRefs=True
    policies_attached: bool  # GCPBackendPolicy/HealthCheckPolicy/GCPGatewayPolicy attached/accepted
    problems: tuple[str, ...]  # one line each: condition reasons/messages, SYNC warning events (GWCER codes)

    @property
    def proven(self) -> bool:
        return self.accepted and self.programmed and bool(self.addresses) and self.routes_ok and self.policies_attached and not self.problems


def _met(found: dict[str, Condition], kind: str) -> bool:
    return kind in found and found[kind].true


def _unmet(what: str, found: dict[str, Condition], kind: str) -> str:
    return f"{what} {found[kind].line()}" if kind in found else f"{what} has no {kind} condition yet"


def gateway_problems(live: LiveGateway) -> list[str]:
    """The Gateway's own conditions that are not True, one line each."""
    what = f"Gateway {live.namespace}/{live.name}"
    if live.gateway is None:
        return [f"{what} does not exist"]
    problems = [_unmet(what, live.conditions, kind) for kind in ("Accepted", "Programmed") if not _met(live.conditions, kind)]
    if live.stale:
        problems.append(
            f"{what} status is for an older generation than its spec (metadata.generation {_meta(live.gateway, 'generation')}): GKE has not reconciled the last change"
        )
    if not live.addresses:
        problems.append(f"{what} has no address in status.addresses")
    return problems + listener_problems(live)


def listener_problems(live: LiveGateway) -> list[str]:
    """Every listener condition that is False (a listener GKE reported on but refuses, e.g. ResolvedRefs=False
    InvalidCertificateRef, Accepted=False UnsupportedAddress)."""
    what = f"Gateway {live.namespace}/{live.name}"
    return [
        f"{what} listener {name} {found[kind].line()}"
        for name, found in live.listeners.items()
        for kind in LISTENER_CONDITIONS
        if kind in found and found[kind].status == "False"
    ]


def route_problems(live: LiveGateway) -> list[str]:
    problems: list[str] = []
    for route in live.routes:
        what = f"HTTPRoute {live.namespace}/{route.name}"
        if route.route is None:
            problems.append(f"{what} does not exist")
            continue
        if not route.parents:
            problems.append(f"{what} has no status from Gateway {live.name} yet (status.parents)")
        for section, found in route.parents:
            parent = f"{what} (parent {live.name}{'/' + section if section else ''})"
            problems += [_unmet(parent, found, kind) for kind in ("Accepted", "ResolvedRefs") if not _met(found, kind)]
    return problems


def policy_problems(live: LiveGateway, services: Iterable[str]) -> list[str]:
    """Every policy found not attached, the Gateway without exactly one GCPGatewayPolicy, and every backend Service
    without a GCPBackendPolicy and a HealthCheckPolicy (without them GKE uses its defaults: a 30 s timeout, a health
    check on `/`)."""
    problems = [p for p in (policy.problem() for policy in live.policies) if p]
    # Exactly one GCPGatewayPolicy per Gateway (the rule gateway-has-gateway-policy): without it the HTTPS
    # listener uses Google's default SSL policy; of several, only the oldest applies.
    mine = [p.name for p in live.policies if p.kind == GATEWAY_POLICY and p.target_kind == "Gateway" and p.target == live.name]
    if not mine:
        problems.append(f"no {GATEWAY_POLICY} in {live.namespace} targets Gateway {live.name} (its HTTPS listener uses Google's default SSL policy)")
    elif len(mine) > 1:
        problems.append(f"{len(mine)} {GATEWAY_POLICY} objects in {live.namespace} target Gateway {live.name} ({', '.join(sorted(mine))}); keep exactly one")
    for service in services:
        for kind in (BACKEND_POLICY, HEALTH_CHECK_POLICY):
            if not any(p.kind == kind and p.target_kind == "Service" and p.target == service for p in live.policies):
                problems.append(f"no {kind} in {live.namespace} targets Service {service}")
    return problems


def sync_problems(live: LiveGateway) -> list[str]:
    return [
        f"Gateway {live.namespace}/{live.name} event {e.get('reason')} (Warning, x{e.get('count') or 1}): {str(e.get('message') or '')[:MAX_MESSAGE]}"
        for e in live.sync_warnings
    ]


def absent_status(namespace: str, name: str) -> GatewayStatus:
    """The status of a Gateway that does not exist (a reader that must tell "absent" from "not proven" compares with it)."""
    return GatewayStatus(name, False, False, (), False, False, (f"Gateway {namespace}/{name} does not exist",))


def read_gateway_status(kube: KubeReader, namespace: str, name: str, routes: Sequence[str]) -> GatewayStatus:
    """The Gateway `name` and its HTTPRoutes `routes` as GKE reports them now (R12: wait on status, not on creation)."""
    live = read_gateway(kube, namespace, name, routes)
    if live.gateway is None:
        return absent_status(namespace, name)
    route_lines = route_problems(live)
    # A route to a missing Service is a route problem; only existing Services need their two policies.
    policy_lines = policy_problems(live, [s for s in route_services(live.routes) if live.services.get(s)])
    return GatewayStatus(
        name=name,
        accepted=_met(live.conditions, "Accepted"),
        programmed=_met(live.conditions, "Programmed") and not live.stale,
        addresses=live.addresses,
        routes_ok=not route_lines,
        policies_attached=not policy_lines,
        problems=tuple(gateway_problems(live) + route_lines + policy_lines + sync_problems(live)),
    )
