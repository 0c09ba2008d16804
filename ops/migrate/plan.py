"""The migration from the Ingress front door to the Gateway (and back) as numbered steps, each checkable.

GKE's guide runs both front doors side by side, tests the new Gateway IP, then cuts DNS over and
removes the Ingress (https://cloud.google.com/kubernetes-engine/docs/how-to/migrate-ingress-gateway).
Here every step has a check against the stack file and the observed state, and a rollback:

    0 ingress-only     frontDoors [ingress]
    1 certificate      the Certificate Manager certificate (DNS authorization) ACTIVE, each domain AUTHORIZED
    2 side-by-side     frontDoors [ingress, gateway] deployed, the Gateway proven (GatewayStatus.proven)
    3 verified         `ops verify URL --resolve HOST:GATEWAY_IP` passed, for the Gateway's current settings
    4 dns-cutover      every host resolves to the Gateway, and timeoutSec + DNS TTL passed since it was first seen so
    5 ingress-removed  frontDoors [gateway]

`evaluate` is pure (settings, what was seen, the proof file's memory, the time): tests judge every stage
from fake observations. `next_doors` says what `--next` may write, or why not (Refused).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ops.errors import Refused
from ops.migrate.hosts_change import hosts_change_next, hosts_changed, other_hosts, traffic_off
from ops.migrate.proof import Memory
from ops.migrate.seen import Seen
from ops.migrate.settings import (
    BOTH,
    BUNDLES,
    DEFAULT_DNS_TTL_S,
    GATEWAY,
    GATEWAY_KEY,
    GATEWAY_ONLY,
    INGRESS,
    INGRESS_ONLY,
    RUNBOOK,
    MigrationSettings,
    doors_text,
    migrate_command,
)

# --- the steps


@dataclass
class Step:
    number: int
    name: str
    goal: str
    reached: bool | None  # None: cannot tell (a read failed)
    findings: list[str]
    rollback: str


@dataclass
class Plan:
    settings: MigrationSettings
    to: str  # the front door migrated to: "gateway" or "ingress"
    steps: list[Step]
    next_lines: list[str]
    now: float
    dns_ttl: int

    @property
    def current(self) -> Step | None:
        """The first step not reached (None: the migration is complete)."""
        return next((step for step in self.steps if step.reached is not True), None)

    def text(self) -> str:
        s = self.settings
        route = "[ingress] -> [ingress, gateway] -> [gateway]" if self.to == GATEWAY else "[gateway] -> [ingress, gateway] -> [ingress]"
        lines = [
            f"Migrate {s.stack} to the {self.to} front door ({route}); runbook: {RUNBOOK}",
            f"Stack file: frontDoors {doors_text(s.front_doors)}; gateway {s.gateway_name} (bundleVersion {s.bundle_version or 'not set'}); "
            f"backendConfig.timeoutSec {s.timeout_sec} s; DNS TTL {self.dns_ttl} s (--dns-ttl); hosts {', '.join(s.hosts)}",
        ]
        current = self.current
        for step in self.steps:
            mark = "done" if step.reached is True else ">>>>" if step is current else "todo"
            lines.append(f"  {mark} {step.number} {step.name}: {step.goal}")
            lines += [f"         {finding}" for finding in step.findings]
            lines.append(f"         rollback: {step.rollback}")
        if current is None:
            lines.append(f"{s.stack} is at the last step ({self.steps[-1].name}): the migration to the {self.to} front door is complete.")
        elif current.reached is None:
            lines.append(f"{s.stack} is at step {current.number} ({current.name}), which cannot be judged: a read failed (above).")
        else:
            lines.append(f"{s.stack} is at step {current.number} ({current.name}).")
        lines.append("Next:")
        lines += [f"  {line}" for line in self.next_lines]
        return "\n".join(lines) + "\n"


def when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def _deploy(s: MigrationSettings, to: str = GATEWAY) -> str:
    return f"open a pull request with Pulumi.{s.stack}.yaml; after review `pulumi up -s {s.stack}`; then `{migrate_command(s, to)}` again"


def _unknown(seen: Seen, *keys: str) -> list[str]:
    return [f"cannot tell: {seen.unknown[key]}" for key in keys if key in seen.unknown]


def _dns_lines(seen: Seen, s: MigrationSettings) -> list[str]:
    return [f"{host} resolves to {', '.join(seen.dns.get(host, ())) or 'nothing'}" for host in s.hosts]


def _wait_until(mark_since: float, s: MigrationSettings, dns_ttl: int) -> float:
    return mark_since + s.timeout_sec + dns_ttl


def _certificate_step(s: MigrationSettings, seen: Seen) -> Step:
    rollback = f"`{migrate_command(s, INGRESS, '--next')}` (frontDoors back to [ingress]), then a pull request and `pulumi up`: the Gateway and its certificate go; DNS never moved"
    goal = f"Certificate Manager certificate {s.certificate_name} (DNS authorization) ACTIVE before any traffic, every domain AUTHORIZED"
    if GATEWAY not in s.front_doors:
        return Step(
            1,
            "certificate",
            goal,
            False,
            ["not created yet: frontDoors [ingress, gateway] creates it with the Gateway, which serves no traffic until DNS moves"],
            rollback,
        )
    if "certificate" in seen.unknown:
        return Step(1, "certificate", goal, None, _unknown(seen, "certificate"), rollback)
    cert, changed = seen.certificate, hosts_changed(s, seen)
    if cert is None:
        found = "does not exist" if changed else f"does not exist (yet): `pulumi up -s {s.stack}` creates it"
        return Step(1, "certificate", goal, False, [f"certificate {s.certificate_name} {found}", *changed], rollback)
    waiting = cert.unauthorized(s.hosts)
    findings = [f"managed.state {cert.state}" + (f"; provisioningIssue: {cert.issue}" if cert.issue else "")]
    if waiting:
        findings.append(f"not AUTHORIZED yet (its DNS authorization CNAME record is missing or not seen yet): {', '.join(waiting)}")
    findings += [f"record: {record}" for record in cert.records]
    return Step(1, "certificate", goal, cert.active and not waiting and not changed, [*findings, *changed], rollback)


def _gateway_step(s: MigrationSettings, seen: Seen) -> Step:
    rollback = f"`{migrate_command(s, INGRESS, '--next')}` (frontDoors back to [ingress]), pull request, `pulumi up`; DNS never moved"
    goal = "frontDoors [ingress, gateway] deployed; the Gateway proven: Accepted, Programmed, an address, routes and policies attached, no problem"
    if GATEWAY not in s.front_doors:
        return Step(2, "side-by-side", goal, False, [f"frontDoors is {doors_text(s.front_doors)}"], rollback)
    if "gateway" in seen.unknown or "ingress" in seen.unknown:
        return Step(2, "side-by-side", goal, None, _unknown(seen, "gateway", "ingress"), rollback)
    gateway = seen.gateway
    if gateway is None:
        return Step(2, "side-by-side", goal, False, [f"Gateway {s.namespace}/{s.gateway_name} does not exist: `pulumi up -s {s.stack}` creates it"], rollback)
    flags = [f"{flag} {'yes' if getattr(gateway, flag) else 'NO'}" for flag in ("accepted", "programmed", "routes_ok", "policies_attached")]
    findings = [f"Gateway {gateway.name}: {', '.join(flags)}; addresses {', '.join(gateway.addresses) or 'none'}", *(f"problem: {p}" for p in gateway.problems)]
    shared = seen.ingress_ip is not None and seen.ingress_ip in seen.gateway_ips
    if shared:
        findings.append(f"the Gateway has the Ingress's address {seen.ingress_ip}: the two front doors need two addresses (gateway.staticIpName)")
    return Step(2, "side-by-side", goal, gateway.proven and bool(seen.gateway_ips) and not shared, findings, rollback)


def _verified_step(s: MigrationSettings, seen: Seen, memory: Memory, now: float) -> Step:
    rollback = f"`{migrate_command(s, INGRESS, '--next')}` (frontDoors back to [ingress]), pull request, `pulumi up`; DNS never moved"
    goal = "`ops verify URL --resolve HOST:GATEWAY_IP` passed through the Gateway, with its current settings"
    proof = memory.proof
    if proof is None:
        return Step(3, "verified", goal, False, ["no passing verify through the Gateway is recorded"], rollback)
    finding = f"verify passed at {when(proof.time)} for {proof.host} through {proof.ip}"
    problems = []
    if seen.gateway is not None and proof.ip not in seen.gateway_ips:
        problems.append(f"stale: it went through {proof.ip}, the Gateway's address is {', '.join(sorted(seen.gateway_ips)) or 'none'}")
    if seen.gateway is None and GATEWAY in s.front_doors and "gateway" not in seen.unknown:
        problems.append("stale: there is no Gateway now")
    if proof.settings != s.digest:
        problems.append("stale: the stack's settings (every key but frontDoors and inspection) changed since it passed")
    if proof.time > now:
        problems.append(f"its time {when(proof.time)} is after now ({when(now)})")
    return Step(3, "verified", goal, not problems, [finding, *problems], rollback)


def _cutover_step(s: MigrationSettings, seen: Seen, memory: Memory, now: float, dns_ttl: int) -> Step:
    ingress = seen.ingress_ip or "<the Ingress address>"
    rollback = (
        f"point DNS back at the Ingress address {ingress} while both front doors exist; keep the Gateway until its sockets end "
        f"({s.timeout_sec} s + DNS TTL). Within days: the Ingress's ManagedCertificate renews only while DNS points at the Ingress ({RUNBOOK})"
    )
    goal = f"every host resolves to the Gateway; the Ingress kept until old sockets end (backendConfig.timeoutSec {s.timeout_sec} s + DNS TTL {dns_ttl} s)"
    if "dns" in seen.unknown or "gateway" in seen.unknown:
        return Step(4, "dns-cutover", goal, None, _unknown(seen, "dns", "gateway"), rollback)
    findings = _dns_lines(seen, s)
    if not seen.all_at(seen.gateway_ips, s.hosts):
        return Step(4, "dns-cutover", goal, False, [*findings, "DNS does not point at the Gateway (yet)"], rollback)
    if s.front_doors == GATEWAY_ONLY:
        return Step(4, "dns-cutover", goal, True, findings, rollback)
    mark = memory.dns
    since = mark.since if mark is not None and mark.door == GATEWAY else now
    until = _wait_until(since, s, dns_ttl)
    findings.append(f"first seen at the Gateway {when(since)}; the Ingress stays until {when(until)}")
    if now < until:
        findings.append(f"wait: {int(until - now)} s left for sockets opened through the Ingress to end")
    return Step(4, "dns-cutover", goal, now >= until, findings, rollback)


def _forward(s: MigrationSettings, seen: Seen, memory: Memory, now: float, dns_ttl: int) -> list[Step]:
    ingress = f"the Ingress serves at {seen.ingress_ip}" if seen.ingress_ip else "the Ingress front door"
    return [
        Step(0, "ingress-only", "frontDoors [ingress]: today's stack", True, [ingress] if INGRESS in s.front_doors else ["passed"], "nothing to roll back"),
        _certificate_step(s, seen),
        _gateway_step(s, seen),
        _verified_step(s, seen, memory, now),
        _cutover_step(s, seen, memory, now, dns_ttl),
        Step(
            5,
            "ingress-removed",
            "frontDoors [gateway]",
            s.front_doors == GATEWAY_ONLY,
            [f"frontDoors is {doors_text(s.front_doors)}"],
            f"`{migrate_command(s, INGRESS, '--next')}` (frontDoors back to [ingress, gateway]), pull request, `pulumi up`; the Ingress's ManagedCertificate "
            f"is load-balancer authorized and provisions only once DNS points at the Ingress again: follow `{migrate_command(s, INGRESS)}`",
        ),
    ]


def _forward_next(s: MigrationSettings, steps: list[Step], seen: Seen) -> list[str]:
    current = next((step for step in steps if step.reached is not True), None)
    gateway_ip = ", ".join(sorted(seen.gateway_ips)) or "GATEWAY_IP"
    if current is None:
        return [f'nothing: the Ingress is removed. What is left to clean up (the old global address) is in {RUNBOOK}, "Cleanup"']
    if current.reached is None:
        return ["fix what could not be read (above), then run this again"]
    if current.number == 1 and GATEWAY not in s.front_doors:
        if s.bundle_version is None:
            return [
                f"set {GATEWAY_KEY}.bundleVersion in Pulumi.{s.stack}.yaml to the Gateway API bundle the cluster has ({' or '.join(BUNDLES)}): "
                "kubectl get crd gateways.gateway.networking.k8s.io -o jsonpath='{.metadata.annotations.gateway\\.networking\\.k8s\\.io/bundle-version}'",
                f"then `{migrate_command(s, GATEWAY, '--next')}` (writes frontDoors [ingress, gateway])",
            ]
        return [f"`{migrate_command(s, GATEWAY, '--next')}` (writes frontDoors [ingress, gateway])", _deploy(s)]
    if current.number == 1 and other_hosts(s, seen) is not None:
        return hosts_change_next(s, seen)
    if current.number == 1 and seen.certificate is None:
        return [
            f"`pulumi up -s {s.stack}` creates the certificate with the Gateway (frontDoors {doors_text(s.front_doors)}); then `{migrate_command(s, GATEWAY)}` again"
        ]
    if current.number == 1:
        records = [f"create at your DNS provider: {record}" for record in (seen.certificate.records if seen.certificate else ())]
        return [
            *(traffic_off(s, seen) if seen.gateway is not None else []),
            *records,
            f"wait for Certificate Manager to authorize every domain (minutes to hours), then `{migrate_command(s, GATEWAY)}` again",
        ]
    if current.number == 2:
        return [f"wait for the Gateway to be Programmed; `python -m ops inspect {s.stack}` names what is wrong; then `{migrate_command(s, GATEWAY)}` again"]
    if current.number == 3:
        host = s.hosts[0]
        return [f"`python -m ops verify https://{host}{s.socketio_path} --resolve {host}:{gateway_ip}` (a pass is recorded for step 3)"]
    if current.number == 4 and not seen.all_at(seen.gateway_ips, s.hosts):
        return [
            "lower the TTL of the hosts' A/AAAA records first, and wait out the old TTL",
            f"point {', '.join(s.hosts)} at {gateway_ip}; then `{migrate_command(s, GATEWAY)}` again (it notes when it first sees DNS at the Gateway)",
        ]
    if current.number == 4:
        return [
            "keep both front doors until the time above; watch the request counts of both load balancers",
            f"then `{migrate_command(s, GATEWAY, '--next')}`",
        ]
    return [f"`{migrate_command(s, GATEWAY, '--next')}` (writes frontDoors [gateway])", _deploy(s)]


def _backward(s: MigrationSettings, seen: Seen, memory: Memory, now: float, dns_ttl: int) -> list[Step]:
    gateway_ip = ", ".join(sorted(seen.gateway_ips)) or "the Gateway address"
    restored: bool | None = INGRESS in s.front_doors and seen.ingress_ip is not None
    findings = [f"frontDoors is {doors_text(s.front_doors)}" + (f"; the Ingress serves at {seen.ingress_ip}" if seen.ingress_ip else "")]
    if INGRESS in s.front_doors and "ingress" in seen.unknown:
        restored, findings = None, _unknown(seen, "ingress")
    elif INGRESS in s.front_doors and seen.ingress_ip is None:
        findings.append("the Ingress has no address yet (`pulumi up`, then wait for it; its ManagedCertificate needs DNS at it)")
    back = _dns_back_step(s, seen, memory, now, dns_ttl, gateway_ip)
    return [
        Step(0, "gateway", "where the migration back starts", True, [f"frontDoors {doors_text(s.front_doors)}"], "nothing to roll back"),
        Step(
            1,
            "ingress-restored",
            "frontDoors [ingress, gateway] deployed, the Ingress has its address",
            restored,
            findings,
            f"`{migrate_command(s, GATEWAY, '--next')}` (frontDoors back to [gateway])",
        ),
        back,
        Step(
            3,
            "gateway-removed",
            "frontDoors [ingress]",
            s.front_doors == INGRESS_ONLY,
            [f"frontDoors is {doors_text(s.front_doors)}"],
            f"`{migrate_command(s, GATEWAY, '--next')}` (frontDoors back to [ingress, gateway]), then the steps of `{migrate_command(s, GATEWAY)}`",
        ),
    ]


def _dns_back_step(s: MigrationSettings, seen: Seen, memory: Memory, now: float, dns_ttl: int, gateway_ip: str) -> Step:
    goal = "every host resolves to the Ingress; the Gateway kept until its sockets end, if DNS ever pointed at it"
    rollback = f"point DNS back at the Gateway ({gateway_ip}) while both front doors exist"
    if s.front_doors == INGRESS_ONLY:
        return Step(2, "dns-back", goal, True, ["the Gateway is gone"], rollback)
    if "dns" in seen.unknown or "ingress" in seen.unknown:
        return Step(2, "dns-back", goal, None, _unknown(seen, "dns", "ingress"), rollback)
    findings = _dns_lines(seen, s)
    ingress_ips = frozenset([seen.ingress_ip]) if seen.ingress_ip else frozenset()
    if not seen.all_at(ingress_ips, s.hosts):
        return Step(2, "dns-back", goal, False, [*findings, "DNS does not point at the Ingress"], rollback)
    # Only a Gateway that never passed a verify and never had DNS at it (even mixed) holds no socket to wait for:
    # a pass may mean clients were pointed at it by hand, so from then on the wait is always kept.
    if not memory.gateway_served and memory.proof is None:
        return Step(2, "dns-back", goal, True, [*findings, "DNS never pointed at the Gateway and no verify passed through it: no socket to wait for"], rollback)
    mark = memory.dns
    since = mark.since if mark is not None and mark.door == INGRESS else now
    until = _wait_until(since, s, dns_ttl)
    findings.append(f"first seen back at the Ingress {when(since)}; the Gateway stays until {when(until)}")
    return Step(2, "dns-back", goal, now >= until, findings, rollback)


def _backward_next(s: MigrationSettings, steps: list[Step], seen: Seen) -> list[str]:
    current = next((step for step in steps if step.reached is not True), None)
    if current is None:
        return ["nothing: the stack serves through the Ingress alone"]
    if current.reached is None:
        return ["fix what could not be read (above), then run this again"]
    if current.number == 1 and INGRESS not in s.front_doors:
        return [f"`{migrate_command(s, INGRESS, '--next')}` (writes frontDoors [ingress, gateway])", _deploy(s, INGRESS)]
    if current.number == 1:
        return [f"wait for the Ingress's address, then `{migrate_command(s, INGRESS)}` again"]
    if current.number == 2 and seen.ingress_ip and not seen.all_at(frozenset([seen.ingress_ip]), s.hosts):
        return [
            f"point {', '.join(s.hosts)} at {seen.ingress_ip}; HTTPS through the Ingress works once its ManagedCertificate is Active, "
            "which needs DNS at the Ingress (kubectl describe managedcertificate)",
            f"then `{migrate_command(s, INGRESS)}` again",
        ]
    if current.number == 2:
        return ["keep both front doors until the time above", f"then `{migrate_command(s, INGRESS, '--next')}`"]
    return [f"`{migrate_command(s, INGRESS, '--next')}` (writes frontDoors [ingress])", _deploy(s, INGRESS)]


def evaluate(s: MigrationSettings, to: str, seen: Seen, memory: Memory, now: float, dns_ttl: int = DEFAULT_DNS_TTL_S) -> Plan:
    if to == GATEWAY:
        steps = _forward(s, seen, memory, now, dns_ttl)
        return Plan(s, to, steps, _forward_next(s, steps, seen), now, dns_ttl)
    steps = _backward(s, seen, memory, now, dns_ttl)
    return Plan(s, to, steps, _backward_next(s, steps, seen), now, dns_ttl)


# --- what --next may write


def needs_observation(s: MigrationSettings) -> bool:
    """Whether `--next` from here needs the live state: adding a front door does not; removing one does."""
    return s.front_doors == BOTH


def next_doors(plan: Plan) -> tuple[str, ...] | None:
    """The frontDoors `--next` writes, None when there is nothing left to do, or Refused saying why not."""
    s = plan.settings
    if plan.to == GATEWAY:
        if s.front_doors == GATEWAY_ONLY:
            return None
        if s.front_doors == INGRESS_ONLY:
            if s.bundle_version is None:
                raise Refused(
                    f"frontDoors [ingress] -> [ingress, gateway] needs {GATEWAY_KEY}.bundleVersion ({' or '.join(BUNDLES)}): the Gateway's manifests are "
                    f"judged against the bundle the cluster has, never a guessed one. Fix: set it in Pulumi.{s.stack}.yaml"
                )
            return BOTH
        return _gate(plan, (1, 2, 3, 4), GATEWAY_ONLY)
    if s.front_doors == INGRESS_ONLY:
        return None
    if s.front_doors == GATEWAY_ONLY:
        return BOTH
    return _gate(plan, (1, 2), INGRESS_ONLY)


def _gate(plan: Plan, required: tuple[int, ...], doors: tuple[str, ...]) -> tuple[str, ...]:
    missing = [step for step in plan.steps if step.number in required and step.reached is not True]
    if missing:
        problems = [
            f"step {step.number} {step.name}: {'cannot tell' if step.reached is None else 'not reached'}; {'; '.join(step.findings)}" for step in missing
        ]
        raise Refused(
            f"frontDoors {doors_text(plan.settings.front_doors)} -> {doors_text(doors)} removes a front door; refused until every step before it holds:",
            problems,
        )
    return doors
