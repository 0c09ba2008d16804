"""What `ops migrate` observes of the live system, behind one interface (`Observer`), so the plan is judged
the same way from a real cluster or from a test's fake.

The real observer reads, read-only:
- the Gateway's status through livestate.gateway_status.read_gateway_status (imported on use, as the other live readers:
  its GatewayStatus is the contract of docs/migration.md, "Observed state"), None when the Gateway does not exist;
- the Ingress's address (status.loadBalancer.ingress[].ip) through livestate.kube;
- the Certificate Manager certificate and its DNS authorizations through the bounded Google client
  (livestate.gcp_http), REST v1:
  https://cloud.google.com/certificate-manager/docs/reference/certificate-manager/rest/v1/projects.locations.certificates
  https://cloud.google.com/certificate-manager/docs/reference/certificate-manager/rest/v1/projects.locations.dnsAuthorizations
- every host's addresses through socket.getaddrinfo, under a deadline (getaddrinfo itself has none).
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import threading
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from ops.errors import clip

API = "Certificate Manager API"
DEFAULT_CERTIFICATE_ENDPOINT = "https://certificatemanager.googleapis.com"
CERTIFICATE_FIX = (
    "gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS naming the key of a service account with "
    "roles/certificatemanager.viewer on the project"
)
# https://cloud.google.com/certificate-manager/docs/reference/certificate-manager/rest/v1/projects.locations.dnsAuthorizations (name)
DNS_AUTHORIZATION_NAME = re.compile(r"projects/[a-z0-9-]{1,63}/locations/global/dnsAuthorizations/[a-z0-9-]{1,63}")
RESOURCE_NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
MAX_AUTHORIZATIONS = 100  # a managed certificate holds at most 100 domains, one DNS authorization each


class GatewayView(Protocol):
    """What the plan reads of livestate.gateway_status.GatewayStatus (the coordinator's contract)."""

    @property
    def name(self) -> str: ...
    @property
    def addresses(self) -> tuple[str, ...]: ...
    @property
    def problems(self) -> tuple[str, ...]: ...
    @property
    def accepted(self) -> bool: ...
    @property
    def programmed(self) -> bool: ...
    @property
    def routes_ok(self) -> bool: ...
    @property
    def policies_attached(self) -> bool: ...
    @property
    def proven(self) -> bool: ...


@dataclass(frozen=True)
class DnsRecord:
    """The record a DNS authorization asks for (dnsResourceRecord): `_acme-challenge.HOST.` CNAME `….authorize.certificatemanager.goog.`."""

    domain: str
    name: str
    type: str
    data: str

    def __str__(self) -> str:
        return f"{self.name} {self.type} {self.data}  (for {self.domain})"


@dataclass(frozen=True)
class CertificateState:
    """A Google-managed certificate as Certificate Manager reports it (managed.state, per-domain authorization)."""

    name: str
    state: str  # ACTIVE, PROVISIONING, FAILED or STATE_UNSPECIFIED
    domains: tuple[tuple[str, str], ...] = ()  # (domain, AUTHORIZING | AUTHORIZED | FAILED) from authorizationAttemptInfo
    issue: str = ""  # provisioningIssue: reason and details, when Certificate Manager names one
    records: tuple[DnsRecord, ...] = ()  # the CNAME records the certificate's DNS authorizations ask for

    @property
    def active(self) -> bool:
        return self.state == "ACTIVE"

    def unauthorized(self, hosts: tuple[str, ...]) -> list[str]:
        """The hosts whose domain is not AUTHORIZED: Certificate Manager has not found its CNAME record (yet)."""
        seen = dict(self.domains)
        return [host for host in hosts if seen.get(host) != "AUTHORIZED"]


class ObservationError(Exception):
    """Something the plan needs could not be observed (named, with why); the plan says it cannot tell."""


class Observer(Protocol):
    def gateway_status(self) -> GatewayView | None:
        """The Gateway's status; None when there is no such Gateway."""

    def certificate_state(self) -> CertificateState | None:
        """The Certificate Manager certificate; None when it does not exist."""

    def resolve(self, host: str) -> tuple[str, ...]:
        """The host's addresses now; () when it does not resolve."""

    def ingress_address(self) -> str | None:
        """The Ingress's load balancer address; None while it has none (or there is no Ingress)."""


def normalized(address: str) -> str:
    """An IP address in its one canonical text (IPv6 compressed), or ValueError."""
    return ipaddress.ip_address(address.strip("[]")).compressed


def resolve(host: str, timeout: float) -> tuple[str, ...]:
    """The host's addresses by getaddrinfo, in a daemon thread joined with `timeout`: the system resolver has
    no deadline of its own, and a hung one must not hang the plan. () when it does not resolve."""
    found: list[tuple[str, ...]] = []
    failed: list[BaseException] = []

    def lookup() -> None:
        try:
            answers = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
            found.append(tuple(sorted({normalized(str(answer[4][0]).split("%")[0]) for answer in answers})))
        except socket.gaierror:
            found.append(())
        except (OSError, UnicodeError, ValueError) as error:
            failed.append(error)

    thread = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(timeout)
    if failed:
        raise ObservationError(f"DNS: looking up {clip(host, 120)} failed: {clip(str(failed[0]), 200)}")
    if not found:
        raise ObservationError(f"DNS: {clip(host, 120)} was not resolved within {timeout:g} s (the system resolver did not answer)")
    return found[0]


def _printable(text: object, limit: int = 200) -> str:
    return clip("".join(c if c.isprintable() else "?" for c in str(text)), limit)


CERTIFICATE_SHAPE: Any = (
    ("name", str),
    ("managed.state", str),
    ("managed.domains[]", str),
    ("managed.dnsAuthorizations[]", str),
    ("managed.authorizationAttemptInfo[].domain", str),
    ("managed.authorizationAttemptInfo[].state", str),
    ("managed.provisioningIssue.reason", str),
    ("managed.provisioningIssue.details", str),
)
DNS_AUTHORIZATION_SHAPE: Any = (
    ("domain", str),
    ("dnsResourceRecord.name", str),
    ("dnsResourceRecord.type", str),
    ("dnsResourceRecord.data", str),
)


class CertificateReader:
    """Read-only Certificate Manager v1 REST reads through the bounded session (livestate.gcp_http); a loopback
    http:// endpoint is a stand-in, reached with anonymous credentials."""

    def __init__(self, project: str, endpoint: str | None = None, timeout: float = 5.0) -> None:
        self.project = project
        self.endpoint = (endpoint or DEFAULT_CERTIFICATE_ENDPOINT).rstrip("/")
        self.timeout = timeout
        self._session: Any = None

    def _authorized(self) -> Any:
        if self._session is None:
            from google.auth.credentials import AnonymousCredentials
            from google.auth.transport.requests import AuthorizedSession

            from livestate.gcp_http import bound_session, default_credentials, is_loopback

            credentials = AnonymousCredentials() if is_loopback(self.endpoint) else default_credentials(self.timeout)
            self._session = bound_session(AuthorizedSession(credentials), self.timeout)
        return self._session

    def _get(self, path: str, what: str, shape: Any, permission: str) -> dict[str, Any] | None:
        from livestate.gcp_http import NotTheObject, call
        from livestate.model import Malformed
        from livestate.shapes import check

        def read() -> dict[str, Any]:
            from google.api_core import exceptions as api_exceptions

            response = self._authorized().request("GET", f"{self.endpoint}/v1/{path}", timeout=self.timeout)
            if response.status_code >= 400:
                raise api_exceptions.from_http_response(response)
            try:
                data = json.loads(response.content.decode("utf-8"))
            except (RecursionError, json.JSONDecodeError) as error:
                raise NotTheObject(f"Failed to load JSON: {_printable(error)}") from None
            try:
                check(data, shape, API, what)
            except Malformed as wrong:
                raise NotTheObject(f"Failed to parse: {wrong.problem}") from None
            return data

        return call(read, api=API, what=what, endpoint=self.endpoint, permission=f"IAM permission {permission} on project {self.project}", fix=CERTIFICATE_FIX)

    def certificate(self, name: str) -> CertificateState | None:
        if not RESOURCE_NAME.fullmatch(name):
            raise ObservationError(f"Certificate Manager certificate name {_printable(name, 80)!r} is not a resource name ({RESOURCE_NAME.pattern})")
        found = self._get(
            f"projects/{quote(self.project, safe='')}/locations/global/certificates/{name}",
            f"certificates/{name}",
            CERTIFICATE_SHAPE,
            "certificatemanager.certs.get",
        )
        if found is None:
            return None
        managed = found.get("managed") or {}
        attempts = managed.get("authorizationAttemptInfo") or []
        issue = managed.get("provisioningIssue") or {}
        authorizations = list(managed.get("dnsAuthorizations") or [])[:MAX_AUTHORIZATIONS]
        return CertificateState(
            name=name,
            state=managed.get("state") or "STATE_UNSPECIFIED",
            domains=tuple((str(a.get("domain", "")), str(a.get("state", ""))) for a in attempts[:MAX_AUTHORIZATIONS]),
            issue=" ".join(_printable(issue.get(key, "")) for key in ("reason", "details") if issue.get(key)),
            records=tuple(record for record in (self.dns_record(a) for a in authorizations) if record is not None),
        )

    def dns_record(self, authorization: str) -> DnsRecord | None:
        if not DNS_AUTHORIZATION_NAME.fullmatch(authorization):
            raise ObservationError(f"{API}: the certificate names DNS authorization {_printable(authorization, 120)!r}, which is not a resource name")
        found = self._get(authorization, authorization.rsplit("/", 1)[-1], DNS_AUTHORIZATION_SHAPE, "certificatemanager.dnsauthorizations.get")
        if found is None:
            return None
        record = found.get("dnsResourceRecord") or {}
        return DnsRecord(
            *(_printable(value, 260) for value in (found.get("domain", ""), record.get("name", ""), record.get("type", ""), record.get("data", "")))
        )


@dataclass
class LiveObserver:
    """The real observer: the cluster of the stack's kubeconfig context and its Google Cloud project."""

    namespace: str
    gateway_name: str
    routes: tuple[str, ...]
    ingress_name: str
    certificate_name: str
    project: str
    context: str
    kubeconfig: str | None = None
    certificate_endpoint: str | None = None
    timeout: float = 5.0
    _kube: Any = None

    def kube(self) -> Any:
        if self._kube is None:
            from livestate.kube import KubeReader

            self._kube = KubeReader(self.context, self.kubeconfig, self.timeout)
        return self._kube

    def gateway_status(self) -> GatewayView | None:
        """The Gateway's status, None when it does not exist (the plan then says `pulumi up` creates it)."""
        from livestate.gateway_status import absent_status, read_gateway_status

        status = read_gateway_status(self.kube(), self.namespace, self.gateway_name, self.routes)
        return None if status == absent_status(self.namespace, self.gateway_name) else status

    def certificate_state(self) -> CertificateState | None:
        return CertificateReader(self.project, self.certificate_endpoint, self.timeout).certificate(self.certificate_name)

    def resolve(self, host: str) -> tuple[str, ...]:
        return resolve(host, self.timeout)

    def ingress_address(self) -> str | None:
        found = self.kube().ingress(self.namespace, self.ingress_name)
        entries = (((found or {}).get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        for entry in entries if isinstance(entries, list) else []:
            ip = entry.get("ip") if isinstance(entry, dict) else None
            if isinstance(ip, str):
                try:
                    return normalized(ip)
                except ValueError:
                    raise ObservationError(
                        f"Ingress {self.namespace}/{self.ingress_name}: status.loadBalancer.ingress[].ip {_printable(ip, 60)!r} is not an IP address"
                    ) from None
        return None

    def close(self) -> None:
        if self._kube is not None:
            self._kube.close()
