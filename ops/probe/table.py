"""The probe table: what a pod running user code must not reach (credentials, the node, the cluster)
and what it must (DNS, a declared registry). Containment-facts E.3; the metadata endpoints are rule
R3's (gke.limits.METADATA_ENDPOINTS)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from coditect.gke.limits import METADATA_ENDPOINTS
from ops.errors import UsageError

METADATA_TOKEN = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token"
DEFAULT_REGISTRY = "https://registry.npmjs.org/"
CONTROL_PLANE = "kubernetes.default.svc"
NODE_IP = "$HOST_IP"  # the pod's node, from the downward API (status.hostIP)


class Expect(StrEnum):
    BLOCKED = "blocked"
    REACHABLE = "reachable"


@dataclass(frozen=True)
class Probe:
    name: str
    kind: str  # "tcp" (connect), "http"/"https" (GET, any HTTP answer is reaching it), "dns" (resolve)
    target: str  # host, $ENV_VAR, or URL for http/https
    port: int
    expect: Expect
    why: str
    headers: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "expect": self.expect.value, "headers": dict(self.headers)}

    @property
    def shown(self) -> str:
        if self.kind in ("http", "https"):
            return self.target
        return f"{self.target} (resolve)" if self.kind == "dns" else f"{self.target}:{self.port}"


def parse_peer(value: str) -> tuple[str, int]:
    """HOST:PORT of a pod in another namespace (an IP, or a pod's DNS name)."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535 or any(c.isspace() for c in host):
        raise UsageError(f"--peer {value[:100]!r} must be HOST:PORT of a pod in another namespace, e.g. 10.48.3.17:8080")
    return host.strip("[]"), int(port)


def parse_registry(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError(f"--registry {value[:100]!r} must be an https:// URL the IDE may reach, e.g. {DEFAULT_REGISTRY}")
    return value


def probe_table(peer: tuple[str, int], registry: str = DEFAULT_REGISTRY) -> tuple[Probe, ...]:
    blocked, reachable = Expect.BLOCKED, Expect.REACHABLE
    metadata_ports = tuple(
        Probe(f"metadata {host}:{port}", "tcp", host, port, blocked, "the metadata server hands out credentials")
        for host, port in METADATA_ENDPOINTS
        if (host, port) != ("169.254.169.254", 80)
    )
    return (
        Probe(
            "metadata token", "http", METADATA_TOKEN, 80, blocked, "a Google access token for the pod's (or node's) identity", (("Metadata-Flavor", "Google"),)
        ),
        *metadata_ports,
        Probe("kubelet 10250", "tcp", NODE_IP, 10250, blocked, "the node's kubelet API"),
        Probe("kubelet read-only 10255", "tcp", NODE_IP, 10255, blocked, "the kubelet's unauthenticated port"),
        Probe("other namespace's pod", "tcp", peer[0], peer[1], blocked, "lateral movement to another workload"),
        Probe("control plane", "tcp", CONTROL_PLANE, 443, blocked, "the Kubernetes API server"),
        Probe("cluster DNS", "dns", CONTROL_PLANE, 53, reachable, "without DNS the IDE fails closed"),
        Probe("external DNS", "dns", str(urlsplit(registry).hostname), 53, reachable, "names outside the cluster resolve"),
        Probe("declared registry", "https", registry, 443, reachable, "the IDE's declared egress (package registry on 443)"),
    )
