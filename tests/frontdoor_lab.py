"""Load balancer stand-ins built from rendered manifests, one per front door, for the Socket.IO lab.

    ingress_door(docs)  Ingress + Service + BackendConfig (+ FrontendConfig for port 80)
    gateway_door(docs)  Gateway + HTTPRoutes + GCPBackendPolicy + HealthCheckPolicy

Each gives a FrontDoorSpec: per listener, the routing rules (path -> backend, redirect, or an error status),
and per backend the values the load balancer applies: timeout, session affinity, health check. FrontDoorLab
runs real python-socketio backends behind the pods' nginx from the same manifests (the rendered ConfigMap,
ports rewritten to loopback); open_door(spec, docs) puts an nginx load balancer generated from the spec in
front of them (a Door). A value dropped from the manifests is therefore dropped from the stand-in too, and
a scenario through it turns red.

What the stand-in models, and where each default comes from:
- timeout: the backend service's timeoutSec is a WebSocket's whole lifetime on the external ALB, and the
  response timeout of plain HTTP requests (https://cloud.google.com/load-balancing/docs/backend-service#timeout-setting).
  The lab scales seconds by LAB_SECONDS_PER_LB_SECOND (30 s -> 3 s; 86400 s -> 8640 s): a relay in front
  of the HTTPS listener ends each WebSocket at the scaled timeout, and nginx's proxy timeouts are the scaled
  value for plain requests. Without a value: Compute's default of 30 s (gke.limits.DEFAULT_BACKEND_TIMEOUT_SEC;
  GCPBackendPolicy `timeoutSec` default 30, gke-gateway-api apis/networking/v1/gcpbackendpolicy_types.go).
- affinity: CLIENT_IP -> nginx `hash $remote_addr`, NONE (the default of BackendConfig and GCPBackendPolicy)
  -> round robin, GENERATED_COOKIE -> the lab's cookie maps (tests/lab.py).
- health check: each pod is probed once at start, HTTP GET of requestPath on the health check's port,
  healthy only on 200 as Google's HTTP health checks require (https://cloud.google.com/load-balancing/docs/health-check-concepts).
  The pod's container ports are its nginx (serving port) and the IDE port; any other port has no listener.
  No healthy pod: the classic ALB behind an Ingress answers 502, the Gateway's ALB 503 "no healthy upstream".
  Ingress without a BackendConfig health check: the serving container's readiness probe path, else `/`
  (https://cloud.google.com/kubernetes-engine/docs/concepts/ingress#health_checks). Gateway without a
  HealthCheckPolicy: GET / on the serving port (https://cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources#configure_health_check).
- routing: Ingress paths (Prefix/Exact) then its defaultBackend, else GKE's default backend 404; HTTPRoute
  rules attached to a listener by parentRefs name/sectionName; a Gateway rule with no usable backend
  answers 500 (gateway-api apis/v1/httproute_types.go, BackendRefs). Hostnames are not matched: the lab
  serves 127.0.0.1. The HTTPS listener is plain HTTP on loopback (no TLS in the lab).
- port 80: Gateway: the HTTP listener's routes (RequestRedirect -> its statusCode, default 302 per the
  Gateway API; nothing attached -> 404). Ingress: FrontendConfig redirectToHttps (responseCodeName), else
  the app's rules unless kubernetes.io/ingress.allow-http is "false".
"""

from __future__ import annotations

import copy
import http.client
import json
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coditect.gke.limits import DEFAULT_BACKEND_TIMEOUT_SEC
from tests.lab import COOKIE_AFFINITY, SOCKETIO_PATH, UPGRADE, Lab, LifetimeCapRelay, cookie_affinity_maps, free_port, nginx_main_conf, stop

LAB_SECONDS_PER_LB_SECOND = 1 / 10  # 30 s -> 3 s: well above the lab's 1 s pingInterval, so long polls live
NO_AFFINITY = "NONE"
AFFINITIES = ("NONE", "CLIENT_IP", "GENERATED_COOKIE")
NO_HEALTHY_STATUS = {"ingress": 502, "gateway": 503}
# FrontendConfig redirectToHttps.responseCodeName -> status (ingress-gce pkg/apis/frontendconfig/v1beta1/types.go;
# Compute urlMaps defaultUrlRedirect.redirectResponseCode).
REDIRECT_CODES = {"MOVED_PERMANENTLY_DEFAULT": 301, "FOUND": 302, "SEE_OTHER": 303, "TEMPORARY_REDIRECT": 307, "PERMANENT_REDIRECT": 308}
GATEWAY_REDIRECT_DEFAULT = 302  # HTTPRequestRedirectFilter.StatusCode default (gateway-api apis/v1/httproute_types.go)

Doc = dict[str, Any]


class FrontDoorError(ValueError):
    """Manifests the stand-in cannot be built from; the message names the object and the fix."""


# --- loading -------------------------------------------------------------------------------------


def load_manifests(*texts: str) -> list[Doc]:
    """Every Kubernetes object of one or more multi-document YAML texts (empty documents skipped)."""
    docs: list[Doc] = []
    for text in texts:
        try:
            loaded = list(yaml.safe_load_all(text))
        except yaml.YAMLError as error:
            raise FrontDoorError(f"manifests are not YAML: {error}".splitlines()[0]) from None
        for index, doc in enumerate(loaded):
            if doc is None:
                continue
            if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str) or not isinstance((doc.get("metadata") or {}).get("name"), str):
                raise FrontDoorError(f"document {index} is not a Kubernetes object (needs kind and metadata.name): fix or remove it")
            docs.append(doc)
    return docs


def load_files(*paths: Path) -> list[Doc]:
    return load_manifests(*(path.read_text() for path in paths))


def objects(docs: Iterable[Doc], kind: str) -> list[Doc]:
    return [doc for doc in docs if doc["kind"] == kind]


def named(docs: Iterable[Doc], kind: str, name: str) -> Doc | None:
    return next((doc for doc in objects(docs, kind) if doc["metadata"]["name"] == name), None)


def the_one(docs: Iterable[Doc], kind: str) -> Doc:
    found = objects(docs, kind)
    if len(found) != 1:
        raise FrontDoorError(f"expected exactly one {kind} in the manifests, found {len(found)}: pass the manifests of one front door")
    return found[0]


def without(docs: Iterable[Doc], kind: str, name: str | None = None) -> list[Doc]:
    """A copy of the manifests without that object (every object of the kind when name is None)."""
    return [copy.deepcopy(doc) for doc in docs if not (doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name))]


# --- the spec ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    service: str
    serving_port: int  # the container port the NEG endpoints (pod IP:port) receive traffic on
    timeout_sec: int
    affinity: str
    health_path: str
    health_port: int


@dataclass(frozen=True)
class Rule:
    """One path of a listener: to a backend, a redirect to https, or a fixed error status."""

    path: str
    exact: bool = False
    backend: Backend | None = None
    redirect_status: int | None = None
    status: int | None = None


@dataclass(frozen=True)
class FrontDoorSpec:
    door: str  # "ingress" | "gateway"
    app: tuple[Rule, ...]  # the HTTPS listener
    http: tuple[Rule, ...] | None  # the port-80 listener; None: there is none

    def backends(self) -> list[Backend]:
        seen: dict[str, Backend] = {}
        for rule in (*self.app, *(self.http or ())):
            if rule.backend is not None:
                seen.setdefault(rule.backend.service, rule.backend)
        return list(seen.values())

    def route(self, path: str) -> Rule | None:
        """The app listener's rule for a request path: exact first, then the longest prefix."""
        for rule in self.app:
            if rule.exact and rule.path == path:
                return rule
        prefixes = [r for r in self.app if not r.exact and (r.path == "/" or path == r.path.rstrip("/") or path.startswith(r.path.rstrip("/") + "/"))]
        return max(prefixes, key=lambda r: len(r.path), default=None)


# --- Services and pods ---------------------------------------------------------------------------


def _namespace(doc: Doc) -> str:
    return str(doc["metadata"].get("namespace", "default"))


def _deployment_for(docs: list[Doc], service: Doc) -> Doc:
    selector = (service.get("spec") or {}).get("selector") or {}
    matches = [
        d
        for d in objects(docs, "Deployment")
        if _namespace(d) == _namespace(service) and selector and selector.items() <= ((d["spec"]["template"].get("metadata") or {}).get("labels") or {}).items()
    ]
    if len(matches) != 1:
        raise FrontDoorError(
            f"Service {service['metadata']['name']}: its selector matches {len(matches)} Deployments in the manifests, the lab needs exactly one"
        )
    return matches[0]


def _containers(deployment: Doc) -> list[Doc]:
    return list(deployment["spec"]["template"]["spec"].get("containers") or [])


def _service_port(service: Doc, port: int | str) -> Doc | None:
    key = "name" if isinstance(port, str) else "port"
    return next((p for p in service["spec"].get("ports") or [] if p.get(key) == port), None)


def _serving(docs: list[Doc], namespace: str, name: str, port: int | str) -> tuple[Doc, Doc, int] | None:
    """(Service, its port entry, the container port behind it), or None when the Service or port is missing."""
    service = next((s for s in objects(docs, "Service") if s["metadata"]["name"] == name and _namespace(s) == namespace), None)
    entry = _service_port(service, port) if service else None
    if service is None or entry is None:
        return None
    target = entry.get("targetPort", entry["port"])
    if isinstance(target, int):
        return service, entry, target
    for container in _containers(_deployment_for(docs, service)):
        for container_port in container.get("ports") or []:
            if container_port.get("name") == target:
                return service, entry, int(container_port["containerPort"])
    raise FrontDoorError(f"Service {name} port {port}: targetPort {target!r} names no container port of its Deployment")


@dataclass(frozen=True)
class PodTemplate:
    """The pod's nginx site as rendered (ConfigMap), with the ports to rewrite for loopback."""

    site: str
    serving_port: int
    ide_port: int

    def preamble_and_server(self) -> tuple[str, str]:
        start = self.site.find("\nserver {")
        if start < 0:
            raise FrontDoorError("the nginx ConfigMap's site has no `server {` block")
        return self.site[:start], self.site[start:]

    def server_block(self, pod_id: str, pod_port: int, backend_port: int) -> str:
        """This pod's server block on loopback: listen, upstream and the pod header rewritten, nothing else."""
        _, server = self.preamble_and_server()
        listen = f"listen {self.serving_port};"
        upstream = f"http://127.0.0.1:{self.ide_port}"
        if server.count(listen) != 1 or upstream not in server or '"$hostname"' not in server:
            raise FrontDoorError(f'the nginx site must `{listen}` once, proxy to {upstream} and send the pod header "$hostname"')
        return (
            server.replace(listen, f"listen 127.0.0.1:{pod_port};").replace(upstream, f"http://127.0.0.1:{backend_port}").replace('"$hostname"', f'"{pod_id}"')
        )


def pod_template(docs: list[Doc], backend: Backend) -> PodTemplate:
    """The nginx ConfigMap mounted into the pods behind this backend, and the IDE port nginx proxies to."""
    namespace = next((_namespace(s) for s in objects(docs, "Service") if s["metadata"]["name"] == backend.service), "default")
    service = named(docs, "Service", backend.service)
    assert service is not None  # a Backend exists only for a resolved Service
    pod_spec = _deployment_for(docs, service)["spec"]["template"]["spec"]
    config_maps = [v["configMap"]["name"] for v in pod_spec.get("volumes") or [] if "configMap" in v]
    sites = [cm for name in config_maps if (cm := named(docs, "ConfigMap", name)) and _namespace(cm) == namespace and "default.conf" in (cm.get("data") or {})]
    if len(sites) != 1:
        raise FrontDoorError(f"Service {backend.service}: its pods mount {len(sites)} ConfigMaps with a default.conf, the lab needs the nginx site")
    site = sites[0]["data"]["default.conf"]
    upstreams = set(re.findall(r"proxy_pass http://127\.0\.0\.1:(\d+)", site))
    if len(upstreams) != 1:
        raise FrontDoorError(f"ConfigMap {sites[0]['metadata']['name']}: nginx must proxy to one local IDE port, found {sorted(upstreams)}")
    return PodTemplate(site=site, serving_port=backend.serving_port, ide_port=int(upstreams.pop()))


# --- the Ingress door ----------------------------------------------------------------------------


def _readiness_path(docs: list[Doc], service: Doc, serving_port: int) -> str | None:
    for container in _containers(_deployment_for(docs, service)):
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
        probe = (container.get("readinessProbe") or {}).get("httpGet")
        if probe and (probe.get("port") == serving_port or ports.get(probe.get("port")) == serving_port):
            return str(probe.get("path", "/"))
    return None


def _backend_config(docs: list[Doc], service: Doc, entry: Doc) -> Doc:
    annotations = service["metadata"].get("annotations") or {}
    raw = annotations.get("cloud.google.com/backend-config") or annotations.get("beta.cloud.google.com/backend-config")
    if raw is None:
        return {}
    try:
        choice = json.loads(raw)
        ports = choice.get("ports") or {}
        name = ports.get(entry.get("name")) or ports.get(str(entry["port"])) or choice.get("default")
    except (ValueError, AttributeError):
        raise FrontDoorError(
            f'Service {service["metadata"]["name"]}: annotation cloud.google.com/backend-config is not JSON like {{"default": "name"}}'
        ) from None
    if name is None:
        return {}
    config = named(docs, "BackendConfig", name)
    if config is None:
        raise FrontDoorError(f"Service {service['metadata']['name']} names BackendConfig {name}, which is not in the manifests: add it or fix the annotation")
    return dict(config.get("spec") or {})


def _ingress_backend(docs: list[Doc], namespace: str, ref: Doc, ingress: str) -> Backend:
    service_ref = ref.get("service") or {}
    port_ref = service_ref.get("port") or {}
    port: int | str = port_ref["name"] if "name" in port_ref else port_ref.get("number", 0)
    served = _serving(docs, namespace, str(service_ref.get("name")), port)
    if served is None:  # the whole Ingress fails to translate (kubernetes/ingress-gce#646): no LB to stand in for
        raise FrontDoorError(
            f"Ingress {ingress}: backend Service {service_ref.get('name')} port {port!r} is not in the manifests; GKE would not translate the Ingress"
        )
    service, entry, serving_port = served
    spec = _backend_config(docs, service, entry)
    health = spec.get("healthCheck") or {}
    affinity = (spec.get("sessionAffinity") or {}).get("affinityType", NO_AFFINITY)
    return Backend(
        service=service["metadata"]["name"],
        serving_port=serving_port,
        timeout_sec=int(spec.get("timeoutSec", DEFAULT_BACKEND_TIMEOUT_SEC)),
        affinity=_affinity(affinity, f"BackendConfig of Service {service['metadata']['name']}"),
        health_path=str(health.get("requestPath") or _readiness_path(docs, service, serving_port) or "/"),
        health_port=int(health.get("port", serving_port)),
    )


def ingress_door(docs: list[Doc]) -> FrontDoorSpec:
    ingress = the_one(docs, "Ingress")
    name, namespace, spec = ingress["metadata"]["name"], _namespace(ingress), ingress.get("spec") or {}
    rules: list[Rule] = []
    for host_rule in spec.get("rules") or []:
        for path in (host_rule.get("http") or {}).get("paths") or []:
            exact = path.get("pathType") == "Exact"
            rules.append(
                Rule(path=str(path.get("path", "/")).rstrip("*") or "/", exact=exact, backend=_ingress_backend(docs, namespace, path["backend"], name))
            )
    if not any(r.path == "/" and not r.exact for r in rules):
        default = spec.get("defaultBackend")
        rules.append(Rule("/", backend=_ingress_backend(docs, namespace, default, name)) if default else Rule("/", status=404))
    annotations = ingress["metadata"].get("annotations") or {}
    frontend_name = annotations.get("networking.gke.io/v1beta1.FrontendConfig")
    frontend = named(docs, "FrontendConfig", frontend_name) if frontend_name else None
    if frontend_name and frontend is None:
        raise FrontDoorError(f"Ingress {name} names FrontendConfig {frontend_name}, which is not in the manifests")
    redirect = ((frontend or {}).get("spec") or {}).get("redirectToHttps") or {}
    http: tuple[Rule, ...] | None = None
    if redirect.get("enabled"):
        code = redirect.get("responseCodeName", "MOVED_PERMANENTLY_DEFAULT")
        if code not in REDIRECT_CODES:
            raise FrontDoorError(f"FrontendConfig {frontend_name}: redirectToHttps.responseCodeName {code!r} is not one of {sorted(REDIRECT_CODES)}")
        http = (Rule("/", redirect_status=REDIRECT_CODES[code]),)
    elif str(annotations.get("kubernetes.io/ingress.allow-http", "true")).lower() != "false":
        http = tuple(rules)
    return FrontDoorSpec(door="ingress", app=tuple(rules), http=http)


# --- the Gateway door ----------------------------------------------------------------------------


def _affinity(value: object, where: str) -> str:
    if value not in AFFINITIES:
        raise FrontDoorError(f"{where}: session affinity {value!r} is not modelled by the lab (one of {', '.join(AFFINITIES)})")
    return str(value)


def _policy_for(docs: list[Doc], kind: str, namespace: str, service: str) -> Doc:
    """The `default` block of the one policy of this kind targeting the Service, {} when there is none."""
    found = [
        p
        for p in objects(docs, kind)
        if _namespace(p) == namespace
        and (ref := (p.get("spec") or {}).get("targetRef") or {}).get("kind") == "Service"
        and ref.get("group", "") == ""
        and ref.get("name") == service
    ]
    if len(found) > 1:  # GKE applies the oldest and ignores the others (configure-gateway-resources)
        raise FrontDoorError(f"{len(found)} objects of kind {kind} target Service {service}: keep exactly one (GKE applies the oldest, ignores the rest)")
    return dict((found[0].get("spec") or {}).get("default") or {}) if found else {}


def _gateway_backend(docs: list[Doc], namespace: str, ref: Doc) -> Backend | None:
    if ref.get("kind", "Service") != "Service" or ref.get("group", "") != "":
        return None
    served = _serving(docs, str(ref.get("namespace", namespace)), str(ref.get("name")), int(ref.get("port", 0)))
    if served is None:
        return None
    service, _, serving_port = served
    name = service["metadata"]["name"]
    policy = _policy_for(docs, "GCPBackendPolicy", _namespace(service), name)
    check = _policy_for(docs, "HealthCheckPolicy", _namespace(service), name).get("config") or {}
    kind = check.get("type", "HTTP")
    if kind != "HTTP":
        raise FrontDoorError(f"HealthCheckPolicy for Service {name}: config.type {kind!r} is not modelled by the lab (HTTP only)")
    http_check = check.get("httpHealthCheck") or {}
    specification = http_check.get("portSpecification", "USE_FIXED_PORT" if "port" in http_check else "USE_SERVING_PORT")
    if specification not in ("USE_FIXED_PORT", "USE_SERVING_PORT"):
        raise FrontDoorError(f"HealthCheckPolicy for Service {name}: portSpecification {specification!r} is not modelled by the lab")
    return Backend(
        service=name,
        serving_port=serving_port,
        timeout_sec=int(policy.get("timeoutSec", DEFAULT_BACKEND_TIMEOUT_SEC)),
        affinity=_affinity((policy.get("sessionAffinity") or {}).get("type", NO_AFFINITY), f"GCPBackendPolicy for Service {name}"),
        health_path=str(http_check.get("requestPath", "/")),
        health_port=int(http_check["port"]) if specification == "USE_FIXED_PORT" else serving_port,
    )


def _route_rules(docs: list[Doc], route: Doc) -> list[Rule]:
    namespace, name = _namespace(route), route["metadata"]["name"]
    rules: list[Rule] = []
    for rule in (route.get("spec") or {}).get("rules") or []:
        redirect: int | None = None
        for item in rule.get("filters") or []:
            if item.get("type") != "RequestRedirect" or (item.get("requestRedirect") or {}).get("scheme") != "https":
                raise FrontDoorError(f"HTTPRoute {name}: filter {item.get('type')!r} is not modelled by the lab (only RequestRedirect to https)")
            redirect = int(item["requestRedirect"].get("statusCode", GATEWAY_REDIRECT_DEFAULT))
        refs = rule.get("backendRefs") or []
        if len(refs) > 1:
            raise FrontDoorError(f"HTTPRoute {name}: the lab models one backendRef per rule, found {len(refs)}")
        backend = _gateway_backend(docs, namespace, refs[0]) if refs else None
        # No usable backend and no redirect: the Gateway API says 500 (HTTPRouteRule.BackendRefs).
        status = None if redirect or backend else 500
        for match in rule.get("matches") or [{}]:
            path = match.get("path") or {}
            kind = path.get("type", "PathPrefix")
            if kind not in ("PathPrefix", "Exact"):
                raise FrontDoorError(f"HTTPRoute {name}: path match {kind!r} is not modelled by the lab")
            rules.append(Rule(path=str(path.get("value", "/")), exact=kind == "Exact", backend=backend, redirect_status=redirect, status=status))
    return rules


def _attached(route: Doc, gateway: Doc, listener: Doc) -> bool:
    for parent in (route.get("spec") or {}).get("parentRefs") or []:
        if (
            parent.get("kind", "Gateway") == "Gateway"
            and parent.get("name") == gateway["metadata"]["name"]
            and parent.get("namespace", _namespace(route)) == _namespace(gateway)
            and parent.get("sectionName", listener["name"]) == listener["name"]
        ):
            return True
    return False


def gateway_door(docs: list[Doc], name: str | None = None) -> FrontDoorSpec:
    gateways = [g for g in objects(docs, "Gateway") if name is None or g["metadata"]["name"] == name]
    if len(gateways) != 1:
        raise FrontDoorError(f"expected exactly one Gateway{f' named {name}' if name else ''} in the manifests, found {len(gateways)}")
    gateway = gateways[0]
    listeners = {listener.get("protocol"): listener for listener in (gateway.get("spec") or {}).get("listeners") or []}
    if "HTTPS" not in listeners:
        raise FrontDoorError(f"Gateway {gateway['metadata']['name']} has no HTTPS listener: the app is served on 443")

    def rules_of(listener: Doc) -> tuple[Rule, ...]:
        rules = [r for route in objects(docs, "HTTPRoute") if _attached(route, gateway, listener) for r in _route_rules(docs, route)]
        return tuple(rules) if any(r.path == "/" and not r.exact for r in rules) else (*rules, Rule("/", status=404))

    http = rules_of(listeners["HTTP"]) if "HTTP" in listeners else None
    return FrontDoorSpec(door="gateway", app=rules_of(listeners["HTTPS"]), http=http)


# --- mutations: one dropped value each -----------------------------------------------------------


def edited(docs: list[Doc], kind: str, change: Any) -> list[Doc]:
    """A copy of the manifests with `change(spec)` applied to every object of the kind (there must be one)."""
    result = copy.deepcopy(docs)
    targets = objects(result, kind)
    if not targets:
        raise FrontDoorError(f"no {kind} in the manifests to change")
    for doc in targets:
        if not isinstance(doc.get("spec"), dict):
            raise FrontDoorError(f"{kind} {doc['metadata']['name']} has no spec to change: edit its other fields directly")
        change(doc["spec"])
    return result


# --- the lab -------------------------------------------------------------------------------------


def scaled(seconds: float, factor: float = LAB_SECONDS_PER_LB_SECOND) -> float:
    return seconds * factor


def probe(port: int | None, path: str) -> bool:
    """One HTTP health check: 200 only (redirects and errors are unhealthy; nothing listening is unhealthy)."""
    if port is None:
        return False
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@dataclass
class Door:
    """One front door's load balancer in front of a FrontDoorLab's pods. Ports: "app" (the HTTPS listener,
    through the WebSocket lifetime relay), "app-lb" (the same without the relay), "http" (port 80, when the
    door has one)."""

    spec: FrontDoorSpec
    healthy: dict[str, list[str]]  # service -> the pods its health check passes
    ports: dict[str, int]
    process: subprocess.Popen[bytes]
    relay: LifetimeCapRelay

    def url(self, listener: str = "app") -> str:
        return f"http://127.0.0.1:{self.ports[listener]}{SOCKETIO_PATH}"

    def close(self) -> None:
        self.relay.stop()
        stop(self.process)


@dataclass
class FrontDoorLab(Lab):
    """Backends behind the pods' nginx as rendered (`pod`), started once; open_door(spec) puts a load
    balancer generated from a door's spec in front of them, as many as needed, each closed on its own."""

    pod: PodTemplate | None = None
    factor: float = LAB_SECONDS_PER_LB_SECOND
    doors: list[Door] = field(default_factory=list)

    def start(self) -> FrontDoorLab:
        if self.pod is None:
            raise FrontDoorError("FrontDoorLab needs pod= (pod_template of the manifests)")
        self.backend_env.setdefault("IDE_PATHS", "/")  # the IDE answers its page at / and 404 elsewhere, as a static server does
        for i in range(1, self.backends + 1):
            self.ports[f"backend-{i}"] = free_port()
            self.ports[f"pod-{i}"] = free_port()
        self.start_backends()
        pods = [f"pod-{i}" for i in range(1, self.backends + 1)]
        self.start_nginx(self.workdir / "pods", nginx_main_conf(self.workdir / "pods", self.pods_conf()), pods)
        return self

    def open_door(self, spec: FrontDoorSpec, docs: list[Doc]) -> Door:
        """A load balancer for `spec` (from `docs`, whose pods must be the running ones), health-checked now."""
        backends = spec.backends()
        if len(backends) > 1:
            raise FrontDoorError(f"the lab runs the pods of one Service; the {spec.door} door routes to {[b.service for b in backends]}")
        if backends and pod_template(docs, backends[0]) != self.pod:
            raise FrontDoorError(f"the {spec.door} door's pods (nginx ConfigMap, ports) differ from the running ones: start another FrontDoorLab")
        pods = [f"pod-{i}" for i in range(1, self.backends + 1)]
        healthy = {b.service: [pod for pod in pods if probe(self.container_port(pod, b.health_port), b.health_path)] for b in backends}
        name = f"door-{len(self.doors)}"
        ports = {"app-lb": free_port(), **({"http": free_port()} if spec.http is not None else {})}
        self.ports.update({f"{name}:{listener}": port for listener, port in ports.items()})
        prefix = self.workdir / name
        self.start_nginx(prefix, nginx_main_conf(prefix, self.lb_conf(spec, healthy, ports)), [f"{name}:{listener}" for listener in ports])
        process = self.processes.pop()  # the door's own, stopped by close()
        socket_rule = spec.route(SOCKETIO_PATH)
        timeout = socket_rule.backend.timeout_sec if socket_rule and socket_rule.backend else DEFAULT_BACKEND_TIMEOUT_SEC
        relay = LifetimeCapRelay(ports["app-lb"], scaled(timeout, self.factor), only_upgrades=True)
        relay.start()
        self.doors.append(Door(spec, healthy, {**ports, "app": relay.port}, process, relay))
        return self.doors[-1]

    def stop(self) -> None:
        for door in self.doors:
            door.close()
        super().stop()

    def container_port(self, pod: str, port: int) -> int | None:
        """Where a pod's container port is on loopback: nginx's serving port, the IDE's port, else nothing."""
        assert self.pod is not None
        index = pod.removeprefix("pod-")
        return {self.pod.serving_port: self.ports[pod], self.pod.ide_port: self.ports[f"backend-{index}"]}.get(port)

    def pods_conf(self) -> str:
        assert self.pod is not None
        preamble, _ = self.pod.preamble_and_server()
        sites = [self.pod.server_block(f"pod-{i}", self.ports[f"pod-{i}"], self.ports[f"backend-{i}"]) for i in range(1, self.backends + 1)]
        return preamble + "\n".join(sites)

    def lb_conf(self, spec: FrontDoorSpec, healthy: dict[str, list[str]], ports: dict[str, int]) -> str:
        assert self.pod is not None
        preamble, _ = self.pod.preamble_and_server()  # the $connection_upgrade map, also needed by the LB's proxy
        parts = [preamble]
        for index, backend in enumerate(spec.backends()):
            pool = {pod: self.ports[pod] for pod in healthy.get(backend.service, [])}
            if backend.affinity == "GENERATED_COOKIE" and pool:
                parts.append(cookie_affinity_maps(pool))
            elif pool:
                balance = "        hash $remote_addr consistent;\n" if backend.affinity == "CLIENT_IP" else ""
                servers = "".join(f"        server 127.0.0.1:{port};\n" for port in pool.values())
                parts.append(f"    upstream backend_{index} {{\n{balance}{servers}    }}")
        parts.append(self._server(spec, healthy, ports["app-lb"], spec.app))
        if spec.http is not None:
            parts.append(self._server(spec, healthy, ports["http"], spec.http))
        return "\n".join(parts)

    def _server(self, spec: FrontDoorSpec, healthy: dict[str, list[str]], port: int, rules: tuple[Rule, ...]) -> str:
        locations = []
        for rule in rules:
            body = self._location_body(spec, healthy, rule)
            path = rule.path.rstrip("/") or "/"
            if rule.exact:
                locations.append(f"        location = {rule.path} {{ {body} }}")
            elif path == "/":
                locations.append(f"        location / {{ {body} }}")
            else:  # a prefix matches whole path elements (Ingress Prefix and HTTPRoute PathPrefix alike)
                locations.append(f"        location = {path} {{ {body} }}\n        location {path}/ {{ {body} }}")
        return f"    server {{\n        listen 127.0.0.1:{port};\n" + "\n".join(locations) + "\n    }"

    def _location_body(self, spec: FrontDoorSpec, healthy: dict[str, list[str]], rule: Rule) -> str:
        if rule.redirect_status is not None:
            return f"return {rule.redirect_status} https://$host$request_uri;"
        if rule.backend is None:
            return f"return {rule.status or 500};"
        backend = rule.backend
        if not healthy.get(backend.service):
            return f"return {NO_HEALTHY_STATUS[spec.door]};"
        timeout_ms = max(1, round(scaled(backend.timeout_sec, self.factor) * 1000))
        upstream = COOKIE_AFFINITY if backend.affinity == "GENERATED_COOKIE" else f"proxy_pass http://backend_{spec.backends().index(backend)};"
        return f"{upstream} {UPGRADE} proxy_set_header Host $host; proxy_read_timeout {timeout_ms}ms; proxy_send_timeout {timeout_ms}ms;"


def pods_lab(workdir: Path, docs: list[Doc], spec: FrontDoorSpec, **options: Any) -> FrontDoorLab:
    """A started FrontDoorLab running the pods `spec` routes to, as `docs` render them."""
    backends = spec.backends()
    if not backends:
        raise FrontDoorError(f"the {spec.door} door routes to no Service: nothing to stand in for")
    return FrontDoorLab(workdir, pod=pod_template(docs, backends[0]), **options).start()
