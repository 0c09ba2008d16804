"""What the migration plan judges from (Seen): the Ingress's address, the Gateway's status, the certificate and the
DNS answers, each read on its own through an Observer (observe.py), so one read that fails is named and the
others still count."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ops.errors import clip
from ops.migrate.observe import CertificateState, GatewayView, ObservationError, Observer, normalized
from ops.migrate.settings import GATEWAY, INGRESS, MigrationSettings


@dataclass
class Seen:
    ingress_ip: str | None = None
    gateway: GatewayView | None = None
    certificate: CertificateState | None = None
    dns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)  # what could not be read ("gateway", "dns", ...) -> why
    denied: bool = False  # one read was refused by RBAC or IAM (exit EXIT_NO_ACCESS)

    @property
    def gateway_ips(self) -> frozenset[str]:
        if self.gateway is None:
            return frozenset()
        found = set()
        for address in self.gateway.addresses:
            try:
                found.add(normalized(address))
            except ValueError:
                continue  # a hostname address (not of this class); the plan needs the IP the hosts resolve to
        return frozenset(found)

    def all_at(self, ips: frozenset[str], hosts: tuple[str, ...]) -> bool:
        return bool(ips) and all(self.dns.get(host) and set(self.dns[host]) <= ips for host in hosts)


def _attempt(seen: Seen, key: str, read: Callable[[], Any]) -> Any:
    from livestate.model import AccessDenied, CredentialsRefused, Malformed, Unreachable

    try:
        return read()
    except AccessDenied as error:
        seen.denied = True
        seen.unknown[key] = str(error)
    except (ObservationError, CredentialsRefused, Malformed, Unreachable) as error:
        seen.unknown[key] = clip(str(error))
    return None


def observe(observer: Observer, settings: MigrationSettings, what: tuple[str, ...] = ("ingress", "gateway", "certificate", "dns")) -> Seen:
    """Everything the plan judges from, each read on its own: one that fails is named, the others still count."""
    seen = Seen()
    doors = settings.front_doors
    if "ingress" in what and INGRESS in doors:
        seen.ingress_ip = _attempt(seen, "ingress", observer.ingress_address)
    if "gateway" in what and GATEWAY in doors:
        seen.gateway = _attempt(seen, "gateway", observer.gateway_status)
    if "certificate" in what and GATEWAY in doors:
        seen.certificate = _attempt(seen, "certificate", observer.certificate_state)
    if "dns" in what:
        for host in settings.hosts:
            found = _attempt(seen, "dns", lambda host=host: observer.resolve(host))  # type: ignore[misc]
            if found is not None:
                seen.dns[host] = tuple(found)
    return seen
