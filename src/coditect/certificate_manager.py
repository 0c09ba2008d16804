"""The Gateway's TLS: a Certificate Manager certificate map with a Google-managed certificate.

GKE's Gateway does not take a ManagedCertificate; the global external load balancer takes Certificate
Manager certificates only through a map, named by the Gateway's ``networking.gke.io/certmap``
annotation (https://cloud.google.com/kubernetes-engine/docs/how-to/secure-gateway). The certificate is
authorized by DNS, so it can be issued before any traffic reaches the new load balancer, while DNS
still points at the Ingress (https://cloud.google.com/certificate-manager/docs/domain-authorization):
the user creates the CNAME records this component outputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from coditect.base import InvariantError, child_opts, type_token
from coditect.plan import declare

LOCATION = "global"  # the global external load balancer takes only global certificates and maps
# Certificate Manager resource ids: lower-case letters, digits and '-', at most 63 (the API's resource naming).
ID_MAX = 63


def certificate_name(prefix: str, hosts: Sequence[str]) -> str:
    """The Google-managed certificate's id: `<prefix>-gw-cert-<digest of the sorted hosts>`. managed.domains and
    managed.dnsAuthorizations cannot be changed on a certificate (certificatemanager.v1 discovery document:
    "Immutable"), so a change of hosts replaces it, and Pulumi creates the replacement before deleting the old
    one: under a fixed name the create collides with the certificate still in use. The digest gives each host
    set its own name, so the create succeeds; it does not make the change safe. In that one `pulumi up` Pulumi
    creates the new certificate, repoints every CertificateMapEntry at it and deletes the old one, and nothing
    waits for the new one to leave PROVISIONING (Certificate Manager v1 ManagedCertificate.State: PROVISIONING is
    "attempts to provision", https://cloud.google.com/python/docs/reference/certificatemanager/latest/google.cloud.certificate_manager_v1.types.Certificate.ManagedCertificate.State),
    so HTTPS through the Gateway fails for every host until it is ACTIVE. `ops migrate` says the order a hosts
    change takes with the gateway door (ops/migrate/plan.py HOSTS_CHANGE): no traffic at the Gateway, the new
    certificate ACTIVE, then traffic back. ops/migrate reads the certificate by this name too (one owner of the name)."""
    digest = hashlib.sha256("\n".join(sorted(host.lower() for host in hosts)).encode()).hexdigest()[:8]
    name = f"{prefix}-gw-cert-{digest}"
    if len(name) > ID_MAX:
        raise InvariantError(f"Certificate Manager certificate id {name!r} is longer than {ID_MAX} characters. Fix: shorten the stack's gcp prefix.")
    return name


def resource_id(prefix: str, kind: str, host: str) -> str:
    """A Certificate Manager id for one host's object, stable across runs: the host with dots as '-',
    or a digest of it when that is too long."""
    readable = f"{prefix}-{kind}-{host.replace('.', '-')}"
    if len(readable) <= ID_MAX:
        return readable
    return f"{prefix}-{kind}-{hashlib.sha256(host.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class DnsRecord:
    """A record the user must create for DNS authorization (a CNAME under _acme-challenge.<host>)."""

    host: str
    name: str
    type: str
    data: str


def _records(host: str, found: Any) -> list[dict[str, str]]:
    """The authorization's dnsResourceRecords output as plain records (none until Google has made them)."""
    return [DnsRecord(host, str(r.get("name", "")), str(r.get("type", "")), str(r.get("data", ""))).__dict__ for r in _plain_list(found)]


def _plain_list(found: Any) -> list[dict[str, Any]]:
    if not found:
        return []
    return [r if isinstance(r, dict) else {"name": getattr(r, "name", ""), "type": getattr(r, "type", ""), "data": getattr(r, "data", "")} for r in found]


class CertificateMap(pulumi.ComponentResource):
    """``<prefix>-certmap``: per host a DnsAuthorization and a map entry, one Google-managed Certificate
    for all hosts. ``dns_records`` are the CNAMEs to create (the program exports them)."""

    name: str
    hosts: tuple[str, ...]
    certificate_name: str
    dns_records: pulumi.Output[list[dict[str, str]]]

    def __init__(self, resource_name: str, prefix: str, hosts: Sequence[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("CertificateMap"), resource_name, None, opts)
        if not hosts:
            raise InvariantError(
                f"CertificateMap {prefix}-certmap refuses to declare a map with no host: it would certify nothing. Fix: pass the stack's hosts."
            )
        if len(set(hosts)) != len(hosts):
            raise InvariantError(f"CertificateMap {prefix}-certmap: a host is listed twice ({', '.join(hosts)}); one entry per host. Fix: list each host once.")
        self.name = f"{prefix}-certmap"
        self.hosts = tuple(hosts)
        self.certificate_name = certificate_name(prefix, self.hosts)
        description = "coditect: the Gateway's certificate (DNS-authorized)"

        def create() -> None:
            import pulumi_gcp as gcp  # here, not at import: ops migrate imports certificate_name without the provider SDK

            authorizations = [
                gcp.certificatemanager.DnsAuthorization(
                    f"{resource_name}-auth-{host}",
                    name=resource_id(prefix, "auth", host),
                    domain=host,
                    location=LOCATION,
                    type="FIXED_RECORD",  # stated: the CNAME the user creates once per host
                    description=f"coditect: authorizes the Gateway certificate for {host}",
                    opts=child_opts(self),
                )
                for host in self.hosts
            ]
            self.certificate = gcp.certificatemanager.Certificate(
                f"{resource_name}-certificate",
                name=self.certificate_name,
                location=LOCATION,
                description=description,
                managed=gcp.certificatemanager.CertificateManagedArgs(domains=list(self.hosts), dns_authorizations=[a.id for a in authorizations]),
                opts=child_opts(self, authorizations),
            )
            self.map = gcp.certificatemanager.CertificateMap(
                resource_name, name=self.name, description="coditect: the Gateway's certificate map", opts=child_opts(self)
            )
            self.entries = [
                gcp.certificatemanager.CertificateMapEntry(
                    f"{resource_name}-entry-{host}",
                    name=resource_id(prefix, "entry", host),
                    map=self.map.name,
                    hostname=host,
                    certificates=[self.certificate.id],
                    description=f"coditect: {host}",
                    opts=child_opts(self, [self.map, self.certificate]),
                )
                for host in self.hosts
            ]
            self.dns_records = pulumi.Output.all(*[a.dns_resource_records for a in authorizations]).apply(
                lambda found: [record for host, records in zip(self.hosts, found, strict=True) for record in _records(host, records)]
            )
            self.register_outputs({"name": self.name, "dnsRecords": self.dns_records})

        declare(f"CertificateMap {self.name}", [], create)
