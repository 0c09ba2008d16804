"""The two HTTP stand-ins, each in a thread on 127.0.0.1 (an ephemeral port): the Kubernetes API, and
Google Cloud (the Compute API and the Container API on one endpoint, as --gcp-endpoint serves both)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.standin.world import PROJECT, World, fixture

# (group, version, plural) -> list kind. Only these resources exist on the stand-in.
KUBE_RESOURCES: dict[tuple[str, str, str], str] = {
    ("", "v1", "services"): "ServiceList",
    ("", "v1", "pods"): "PodList",
    ("", "v1", "events"): "EventList",
    ("networking.k8s.io", "v1", "ingresses"): "IngressList",
    ("apps", "v1", "deployments"): "DeploymentList",
    ("autoscaling", "v2", "horizontalpodautoscalers"): "HorizontalPodAutoscalerList",
    ("policy", "v1", "poddisruptionbudgets"): "PodDisruptionBudgetList",
    ("cloud.google.com", "v1", "backendconfigs"): "BackendConfigList",
    ("networking.gke.io", "v1", "managedcertificates"): "ManagedCertificateList",
    # The Gateway API (standard channel, as GKE installs it) and GKE's Gateway policies.
    ("gateway.networking.k8s.io", "v1", "gateways"): "GatewayList",
    ("gateway.networking.k8s.io", "v1", "httproutes"): "HTTPRouteList",
    ("networking.gke.io", "v1", "gcpbackendpolicies"): "GCPBackendPolicyList",
    ("networking.gke.io", "v1", "healthcheckpolicies"): "HealthCheckPolicyList",
    ("networking.gke.io", "v1", "gcpgatewaypolicies"): "GCPGatewayPolicyList",
}
CORE_PATH = re.compile(r"^/api/(?P<version>v1)/namespaces/(?P<namespace>[a-z0-9-]+)/(?P<plural>[a-z]+)(?:/(?P<name>[a-z0-9.-]+))?$")
GROUP_PATH = re.compile(
    r"^/apis/(?P<group>[a-z0-9.-]+)/(?P<version>v[0-9a-z]+)/namespaces/(?P<namespace>[a-z0-9-]+)/(?P<plural>[a-z]+)(?:/(?P<name>[a-z0-9.-]+))?$"
)
COMPUTE_PATH = re.compile(
    r"^/compute/v1/projects/(?P<project>[a-z0-9-]+)/global/"
    r"(?P<collection>backendServices|healthChecks|urlMaps|targetHttpProxies|targetHttpsProxies|forwardingRules|addresses)"
    r"/(?P<name>[a-z0-9-]+)$"
)
# backendServices.getHealth, the one Compute method inspect POSTs (it reads; the API names it a POST for its body).
GET_HEALTH_PATH = re.compile(r"^/compute/v1/projects/(?P<project>[a-z0-9-]+)/global/backendServices/(?P<name>[a-z0-9-]+)/getHealth$")
# Container API v1 GetCluster, the one Container method inspect calls (its REST path, no zonal alias).
CONTAINER_PATH = re.compile(r"^/v1/projects/(?P<project>[a-z0-9-]+)/locations/(?P<location>[a-z0-9-]+)/clusters/(?P<name>[a-z0-9-]+)$")
PERMISSION = {"forwardingRules": "compute.globalForwardingRules.get", "addresses": "compute.globalAddresses.get"}


def _fill(template: Any, **values: str) -> Any:
    """A fixture body with its {placeholders} filled in."""
    if isinstance(template, dict):
        return {k: _fill(v, **values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, **values) for v in template]
    if isinstance(template, str):
        for key, value in values.items():
            template = template.replace("{" + key + "}", value)
    return template


class _Handler(BaseHTTPRequestHandler):
    world: World
    api: str

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read World.requests instead
        return

    @classmethod
    def warm(cls) -> None:
        """Load what answering needs before the first request, so no client deadline pays for it."""

    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = (json.dumps(body) if content_type == "application/json" else str(body)).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def api_of(self, path: str) -> str:
        return self.api

    def do_GET(self) -> None:
        self.world.requests.append((self.api_of(self.path), "GET", self.path))
        self.answer(urlsplit(self.path).path, parse_qs(urlsplit(self.path).query))

    def _refuse_write(self) -> None:
        self.world.requests.append((self.api_of(self.path), self.command, self.path))
        self._send(
            405,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "the server does not allow this method on the requested resource",
                "reason": "MethodNotAllowed",
                "code": 405,
            },
        )

    do_PUT = do_PATCH = do_DELETE = _refuse_write

    def do_POST(self) -> None:
        self._refuse_write()

    def answer(self, path: str, query: dict[str, list[str]]) -> None:
        raise NotImplementedError


def _selected(obj: dict[str, Any], query: dict[str, list[str]]) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, (query.get("labelSelector") or [""])[0].split(",")):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    for term in filter(None, (query.get("fieldSelector") or [""])[0].split(",")):
        key, _, value = term.partition("=")
        node: Any = obj
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node != value:
            return False
    return True


class KubeHandler(_Handler):
    api = "kubernetes"

    def answer(self, path: str, query: dict[str, list[str]]) -> None:
        match = CORE_PATH.match(path) or GROUP_PATH.match(path)
        group = (match.groupdict().get("group") or "") if match else ""
        if not match or (group, match["version"], match["plural"]) not in KUBE_RESOURCES:
            self._send(404, "404 page not found\n", "text/plain; charset=utf-8")
            return
        plural, namespace, name = match["plural"], match["namespace"], match["name"]
        subject = plural + (f".{group}" if group else "")
        if plural in self.world.kube_forbidden:
            verb = "get" if name else "list"
            self._send(
                403,
                _fill(
                    fixture("k8s_status_forbidden"),
                    subject=f'{subject} "{name}"' if name else subject,
                    verb=verb,
                    plural=plural,
                    group=group,
                    namespace=namespace,
                ),
            )
            return
        objects = [o for o in self.world.kube.get(plural, []) if o["metadata"].get("namespace") == namespace]
        if name is None:
            kind = KUBE_RESOURCES[(group, match["version"], plural)]
            api_version = f"{group}/{match['version']}" if group else match["version"]
            # Built-in lists carry their items without kind/apiVersion; custom resource lists keep them.
            custom = group in ("cloud.google.com", "networking.gke.io", "gateway.networking.k8s.io")
            items = [o if custom else {k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in objects if _selected(o, query)]
            self._send(200, {"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": "88214100"}, "items": items})
            return
        found = next((o for o in objects if o["metadata"]["name"] == name), None)
        if found is None:
            self._send(404, _fill(fixture("k8s_status_not_found"), subject=subject, name=name, plural=plural))
            return
        self._send(200, found)


class ComputeHandler(_Handler):
    """Compute's global load-balancing collections and the Container API's GetCluster."""

    api = "compute"

    @classmethod
    def warm(cls) -> None:
        # The Google messages that answers are parsed as take more than a second to import: under load that
        # alone spent a client's 5 s request deadline on the first getHealth (a red CI run).
        from google.cloud import compute_v1, container_v1  # noqa: F401
        from google.protobuf import json_format  # noqa: F401

    def api_of(self, path: str) -> str:
        return "container" if CONTAINER_PATH.match(urlsplit(path).path) else self.api

    def _served_raw(self, path: str) -> bool:
        """An answer the world gives as bytes (World.gcp_raw) instead of the API's object."""
        if path not in self.world.gcp_raw:
            return False
        code, content_type, data = self.world.gcp_raw[path]
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return True

    def answer(self, path: str, query: dict[str, list[str]]) -> None:
        if self._served_raw(path):
            return
        if CONTAINER_PATH.match(path):
            self.cluster(path, query)
            return
        match = COMPUTE_PATH.match(path)
        if not match:
            self._send(404, "<!DOCTYPE html><title>Error 404 (Not Found)</title><p>The requested URL was not found on this server.", "text/html; charset=UTF-8")
            return
        collection, name, project = match["collection"], match["name"], match["project"]
        values = {"project": project, "collection": collection, "name": name}
        if collection in self.world.compute_forbidden:
            permission = PERMISSION.get(collection, f"compute.{collection}.get")
            self._send(403, _fill(fixture("compute_error_forbidden"), permission=permission, **values))
            return
        found = self.world.compute.get((collection, name)) if project == PROJECT else None
        if found is None:
            self._send(404, _fill(fixture("compute_error_not_found"), **values))
            return
        self._send(200, found)

    def do_POST(self) -> None:
        match = GET_HEALTH_PATH.match(urlsplit(self.path).path)
        if not match:
            self._refuse_write()
            return
        self.world.requests.append((self.api, "POST", self.path))
        length = int(self.headers.get("Content-Length") or 0)
        if urlsplit(self.path).path in self.world.gcp_raw:
            self.rfile.read(length)
            self._served_raw(urlsplit(self.path).path)
            return
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            body = None
        project, name = match["project"], match["name"]
        values = {"project": project, "collection": "backendServices", "name": name}
        if "backendServices" in self.world.compute_forbidden:
            self._send(403, _fill(fixture("compute_error_forbidden"), permission="compute.backendServices.get", **values))
            return
        service = self.world.compute.get(("backendServices", name)) if project == PROJECT else None
        if service is None:
            self._send(404, _fill(fixture("compute_error_not_found"), **values))
            return
        groups = [b.get("group") for b in service.get("backends") or []]
        # The API's request body is a ResourceGroupReference, {"group": url}, naming one of the service's backends.
        if not isinstance(body, dict) or set(body) != {"group"} or body["group"] not in groups:
            message = f"Invalid value for field 'resourceGroupReference': {json.dumps(body)[:200]}. Expected one of the backends of {name}."
            self._send(400, {"error": {"code": 400, "message": message, "errors": [{"message": message, "domain": "global", "reason": "invalid"}]}})
            return
        self._send(200, _group_health(self.world.health.get((name, body["group"]), [])))

    def cluster(self, path: str, query: dict[str, list[str]]) -> None:
        resource = path.removeprefix("/v1/")
        if self.world.container_forbidden:
            self._send(403, _fill(fixture("container_error_forbidden"), resource=resource))
            return
        found = self.world.clusters.get(resource)
        if found is None:
            self._send(404, _fill(fixture("container_error_not_found"), resource=resource))
            return
        self._send(200, _as_requested(found, query))


def _group_health(statuses: list[dict[str, Any]]) -> dict[str, Any]:
    """A BackendServiceGroupHealth, parsed strictly as the v1 message (a field the API lacks fails the test);
    a NEG without endpoints answers without healthStatus, as the API does."""
    from google.cloud import compute_v1
    from google.protobuf import json_format

    answer: dict[str, Any] = {"kind": "compute#backendServiceGroupHealth", **({"healthStatus": statuses} if statuses else {})}
    json_format.ParseDict(answer, compute_v1.BackendServiceGroupHealth.pb()(), ignore_unknown_fields=False)
    return answer


def _as_requested(cluster: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
    """The cluster parsed strictly as the v1 Cluster message (a field the API lacks fails the test), and
    with enums as numbers when the client asks for them ($alt=json;enum-encoding=int), as the API does."""
    from google.cloud import container_v1
    from google.protobuf import json_format

    message = json_format.ParseDict(cluster, container_v1.Cluster.pb()(), ignore_unknown_fields=False)
    as_integers = "enum-encoding=int" in (query.get("$alt") or [""])[0]
    answer: dict[str, Any] = json_format.MessageToDict(message, use_integers_for_enums=as_integers)
    return answer


@contextmanager
def serving(handler: type[_Handler], world: World) -> Iterator[str]:
    """http://127.0.0.1:PORT of a stand-in serving `world` until the block ends."""
    handler.warm()
    bound = type(handler.__name__, (handler,), {"world": world})
    server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_kubeconfig(path: Path, server: str, context: str) -> Path:
    """A kubeconfig whose one context points at `server` with a bearer token (the stand-in ignores it)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": context,
        "clusters": [{"name": "standin", "cluster": {"server": server}}],
        "users": [{"name": "standin", "user": {"token": "standin-token"}}],
        "contexts": [{"name": context, "context": {"cluster": "standin", "user": "standin"}}],
    }
    path.write_text(json.dumps(config))
    return path
