"""The live state the stand-ins serve, built from the JSON fixtures (each names its source)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "inspect"
PROJECT = "coditect-prod"
NAMESPACE = "coditect-app"
CONTEXT = "gke_coditect-prod_us-central1_coditect-prod"  # Pulumi.prod.yaml's coditect:cluster.context

Json = dict[str, Any]


def fixture(name: str) -> Json:
    body: Json = json.loads((FIXTURES / f"{name}.json").read_text())["body"]
    return body


@dataclass
class World:
    """Kubernetes objects by plural, Compute resources by (collection, name), and which reads are denied."""

    kube: dict[str, list[Json]] = field(default_factory=dict)
    compute: dict[tuple[str, str], Json] = field(default_factory=dict)
    kube_forbidden: set[str] = field(default_factory=set)  # plurals whose reads answer 403
    compute_forbidden: set[str] = field(default_factory=set)  # collections whose gets answer 403
    clusters: dict[str, Json] = field(default_factory=dict)  # Container API clusters by projects/P/locations/L/clusters/N
    # getHealth answers by (backend service, NEG self-link): the healthStatus entries of that NEG's endpoints
    health: dict[tuple[str, str], list[Json]] = field(default_factory=dict)
    container_forbidden: bool = False  # GetCluster answers 403
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (api, method, path) of every request served
    # Google Cloud answers served as given, by request path: (status, Content-Type, body bytes) of a server
    # that breaks the API's promise (a truncated object, an HTML page, a list, a 401).
    gcp_raw: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)

    def one(self, plural: str, name: str) -> Json:
        return next(o for o in self.kube[plural] if o["metadata"]["name"] == name)

    def add(self, plural: str, obj: Json) -> None:
        self.kube.setdefault(plural, []).append(obj)

    @property
    def ingress(self) -> Json:
        return self.one("ingresses", "coditect-ingress")

    @property
    def cluster(self) -> Json:
        return next(iter(self.clusters.values()))

    @property
    def backend_service_name(self) -> str:
        return str(next(iter(json.loads(self.ingress["metadata"]["annotations"]["ingress.kubernetes.io/backends"]))))

    @property
    def backend_service(self) -> Json:
        return self.compute[("backendServices", self.backend_service_name)]

    @property
    def health_check(self) -> Json:
        return self.compute[("healthChecks", self.backend_service_name)]


def healthy_world() -> World:
    """The prod stack converged: everything GKE and Google Cloud show matches the program."""
    world = World()
    world.add("ingresses", fixture("k8s_ingress"))
    world.add("services", fixture("k8s_service"))
    for suffix, ip in (("2xkqp", "10.8.1.23"), ("8fj4w", "10.8.2.17"), ("q7m2d", "10.8.3.9")):
        pod = fixture("k8s_pod")
        pod["metadata"]["name"] = f"coditect-combined-7d9c8b6f5d-{suffix}"
        pod["status"]["podIP"] = ip
        world.add("pods", pod)
    world.add("events", fixture("k8s_event_ip"))
    world.add("backendconfigs", fixture("k8s_backendconfig"))
    world.add("managedcertificates", fixture("k8s_managedcertificate"))
    world.add("deployments", fixture("k8s_deployment"))
    world.kube.setdefault("horizontalpodautoscalers", [])
    world.kube.setdefault("poddisruptionbudgets", [])
    for collection, name in (
        ("backendServices", "compute_backend_service"),
        ("healthChecks", "compute_health_check"),
        ("urlMaps", "compute_url_map"),
        ("urlMaps", "compute_url_map_redirect"),
        ("targetHttpProxies", "compute_target_http_proxy"),
        ("targetHttpsProxies", "compute_target_https_proxy"),
        ("forwardingRules", "compute_forwarding_rule_http"),
        ("forwardingRules", "compute_forwarding_rule_https"),
        ("addresses", "compute_address"),
    ):
        body = fixture(name)
        world.compute[(collection, body["name"])] = body
    service = world.backend_service
    zones = [str(b["group"]) for b in service["backends"]]
    # Two pods in the first zone's NEG, one in the second's; every endpoint passing the health check.
    for group, ips in ((zones[0], ("10.8.1.23", "10.8.2.17")), (zones[1], ("10.8.3.9",))):
        world.health[(service["name"], group)] = [endpoint(ip, "HEALTHY") for ip in ips]
    cluster = fixture("container_cluster")
    world.clusters[f"projects/{PROJECT}/locations/{cluster['location']}/clusters/{cluster['name']}"] = cluster
    return world


def endpoint(ip: str, state: str) -> Json:
    """One healthStatus entry of getHealth for a NEG endpoint
    (https://cloud.google.com/compute/docs/reference/rest/v1/backendServices/getHealth)."""
    return {
        "ipAddress": ip,
        "port": 8080,
        "healthState": state,
        "forwardingRuleIp": "34.120.7.42",
        "forwardingRule": f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/forwardingRules/k8s2-fs-c2a4e1f0-coditect-app-coditect-ingress-6y1n0bkx",
    }


def copy_world(world: World) -> World:
    return copy.deepcopy(world)
