"""A hosts change once the Gateway exists: how the plan tells it (the deployed certificate is of other hosts, or
not ACTIVE) and the order it must be done in, with no client at the Gateway while the new certificate provisions."""

from __future__ import annotations

from ops.migrate.seen import Seen
from ops.migrate.settings import GATEWAY, GATEWAY_ONLY, INGRESS, MigrationSettings, migrate_command

# Why a hosts change cannot simply be deployed once the Gateway exists (src/coditect/certificate_manager.py): a certificate's
# domains are immutable, so the new host set is a new certificate, and one `pulumi up` creates it, moves every map entry to
# it and deletes the old one, without waiting for it to leave PROVISIONING.
HOSTS_CHANGE = (
    "a hosts change with the gateway door: one `pulumi up` creates the new certificate, moves every certificate map entry to it "
    "and deletes the old one without waiting for ACTIVE, so HTTPS through the Gateway fails for every host while it provisions. "
    "Do it in order: the new hosts' DNS authorizations and certificate first, ACTIVE (this step), then the switch, with no traffic at the Gateway meanwhile"
)


def other_hosts(s: MigrationSettings, seen: Seen) -> str | None:
    """What says the deployed Gateway's certificate is of other hosts than the stack's (a hosts change), or None."""
    if seen.gateway is None:  # no Gateway deployed: its first certificate serves no one while it provisions
        return None
    cert = seen.certificate
    if cert is None:  # the Gateway is created after its certificate map: without a certificate by this name, its own is another's
        return f"the Gateway is deployed but no certificate for the stack's hosts ({', '.join(s.hosts)}) exists: its certificate is of other hosts"
    domains = sorted(domain for domain, _state in cert.domains)
    if domains and domains != sorted(s.hosts):
        return f"the certificate's domains ({', '.join(domains)}) are not the stack's hosts ({', '.join(s.hosts)})"
    return None


def hosts_changed(s: MigrationSettings, seen: Seen) -> list[str]:
    """The findings of a hosts change (or of a deployed Gateway whose certificate is not ACTIVE): [] when neither."""
    other = other_hosts(s, seen)
    if other is not None:
        return [other, HOSTS_CHANGE]
    return [HOSTS_CHANGE] if seen.gateway is not None and seen.certificate is not None and not seen.certificate.active else []


def serving(s: MigrationSettings, seen: Seen) -> bool:
    """Whether clients may reach the Gateway now: it is the only door, or a host resolves to it."""
    return s.front_doors == GATEWAY_ONLY or any(set(seen.dns.get(host, ())) & seen.gateway_ips for host in s.hosts)


def traffic_off(s: MigrationSettings, seen: Seen) -> list[str]:
    """The first line of a hosts change while clients may reach the Gateway: move them to the Ingress."""
    if s.front_doors == GATEWAY_ONLY:
        return [
            f"first bring the Ingress back and DNS to it: `{migrate_command(s, INGRESS)}` (the Gateway must serve no one while its new certificate provisions)"
        ]
    if serving(s, seen):
        return [
            f"first point {', '.join(s.hosts)} back at the Ingress ({seen.ingress_ip or 'its address'}): "
            "the Gateway must serve no one while its new certificate provisions"
        ]
    return []


def hosts_change_next(s: MigrationSettings, seen: Seen) -> list[str]:
    """The order of a hosts change once the Gateway exists: traffic off the Gateway, the new certificate ACTIVE, then the rest."""
    return [
        *traffic_off(s, seen),
        f"then `pulumi up -s {s.stack}` with the new hosts: it creates their DNS authorizations and certificate; create the records it asks for",
        f"wait until `{migrate_command(s, GATEWAY)}` shows step 1 done (the certificate ACTIVE, every host AUTHORIZED); then steps 2 to 4 again",
    ]
