"""What the program declared, as the numbers GKE should have put on the load balancer.

Built from the rendered Kubernetes manifests (the same objects `pulumi up` sends), so the CLI and
the resource hook judge the live state against one description.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livestate.errors import Unusable

if TYPE_CHECKING:
    from livestate.preconditions import ClusterDeclaration

Manifest = Mapping[str, Any]


@dataclass(frozen=True)
class DesiredBackend:
    """One Service port behind the Ingress and the BackendConfig GKE should apply to its backend service."""

    service: str
    port: int  # the Service port number (the key of the NEG in cloud.google.com/neg-status)
    backend_config: str | None
    spec: Mapping[str, Any]  # the BackendConfig spec
    readiness_path: str | None  # the serving container's readiness probe (httpGet), if any
    readiness_port: int | None
    pod_selector: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Desired:
    namespace: str
    ingress: str
    ingress_services: tuple[str, ...]  # every Service the Ingress routes to, default backend first
    backends: tuple[DesiredBackend, ...]
    static_ip: str | None  # kubernetes.io/ingress.global-static-ip-name
    ssl_policy: str | None  # FrontendConfig spec.sslPolicy
    redirect_to_https: bool
    certificates: Mapping[str, tuple[str, ...]]  # ManagedCertificate name -> domains
    declared: frozenset[tuple[str, str]]  # (kind, name) of every namespaced object declared
    allow_http: bool = True  # kubernetes.io/ingress.allow-http: with "false" GKE builds no HTTP proxy/forwarding rule

    def declares(self, kind: str, name: str) -> bool:
        return (kind, name) in self.declared


@dataclass(frozen=True)
class StackTarget:
    """Where the stack's live objects are: the kubeconfig context and the Google Cloud project; with
    what the stack file declares the cluster provides (None: nothing to check, as for the resource hook).
    The declaration travels with the target but does not identify it, so it takes no part in equality."""

    context: str
    project: str
    cluster: ClusterDeclaration | None = field(default=None, compare=False)


def _meta(manifest: Manifest) -> Mapping[str, Any]:
    return manifest.get("metadata") or {}


def _by_kind(manifests: Iterable[Manifest]) -> dict[str, dict[str, Manifest]]:
    found: dict[str, dict[str, Manifest]] = {}
    for manifest in manifests:
        found.setdefault(str(manifest.get("kind")), {})[str(_meta(manifest).get("name"))] = manifest
    return found


def _ingress_backends(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    backends = [spec["defaultBackend"]["service"]] if spec.get("defaultBackend") else []
    for rule in spec.get("rules") or []:
        backends += [path["backend"]["service"] for path in (rule.get("http") or {}).get("paths") or [] if "service" in path.get("backend", {})]
    return backends


def _service_port(service: Manifest, ref: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for port in service.get("spec", {}).get("ports") or []:
        if ("name" in ref and port.get("name") == ref["name"]) or ("number" in ref and port.get("port") == ref["number"]):
            return port
    return None


def _readiness(deployments: Iterable[Manifest], selector: Mapping[str, str], target_port: Any) -> tuple[str | None, int | None]:
    """(path, port) of the readiness probe of the container serving `target_port` in the selected pods."""
    for deployment in deployments:
        template = deployment.get("spec", {}).get("template", {})
        labels = template.get("metadata", {}).get("labels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            continue
        for container in template.get("spec", {}).get("containers") or []:
            ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
            if target_port not in ports and target_port not in ports.values():
                continue
            probe = (container.get("readinessProbe") or {}).get("httpGet")
            if not probe:
                return None, None
            port = probe.get("port")
            return str(probe.get("path") or "/"), int(ports.get(port, port))
    return None, None


def _backend_config_name(service: Manifest, port: Mapping[str, Any]) -> str | None:
    import json

    raw = (_meta(service).get("annotations") or {}).get("cloud.google.com/backend-config")
    if not raw:
        return None
    parsed = json.loads(raw)
    ports = parsed.get("ports") or {}
    return ports.get(port.get("name")) or ports.get(str(port.get("port"))) or parsed.get("default")


def desired_from_manifests(manifests: Iterable[Manifest]) -> Desired:
    """The desired state of the stack's one Ingress; Unusable when the manifests declare none."""
    manifests = list(manifests)
    kinds = _by_kind(manifests)
    ingresses = list(kinds.get("Ingress", {}).values())
    if len(ingresses) != 1:
        raise Unusable(f"the program declares {len(ingresses)} Ingresses; inspect follows exactly one")
    ingress = ingresses[0]
    annotations = _meta(ingress).get("annotations") or {}
    services, configs = kinds.get("Service", {}), kinds.get("BackendConfig", {})
    backends: dict[tuple[str, int], DesiredBackend] = {}
    ingress_services: list[str] = []
    for ref in _ingress_backends(ingress.get("spec") or {}):
        name = str(ref.get("name"))
        if name not in ingress_services:
            ingress_services.append(name)
        service = services.get(name)
        port = _service_port(service, ref.get("port") or {}) if service else None
        if service is None or port is None:
            continue
        config_name = _backend_config_name(service, port)
        selector = dict(service.get("spec", {}).get("selector") or {})
        path, probe_port = _readiness(kinds.get("Deployment", {}).values(), selector, port.get("targetPort"))
        spec = (configs.get(config_name) or {}).get("spec") or {} if config_name else {}
        backends.setdefault((name, int(port["port"])), DesiredBackend(name, int(port["port"]), config_name, spec, path, probe_port, selector))
    frontend_name = annotations.get("networking.gke.io/v1beta1.FrontendConfig")
    frontend = (kinds.get("FrontendConfig", {}).get(frontend_name) or {}).get("spec") or {} if frontend_name else {}
    certificates = {
        name: tuple(kinds.get("ManagedCertificate", {}).get(name, {}).get("spec", {}).get("domains") or ())
        for name in filter(None, (n.strip() for n in str(annotations.get("networking.gke.io/managed-certificates", "")).split(",")))
    }
    return Desired(
        namespace=str(_meta(ingress).get("namespace")),
        ingress=str(_meta(ingress).get("name")),
        ingress_services=tuple(ingress_services),
        backends=tuple(backends.values()),
        static_ip=annotations.get("kubernetes.io/ingress.global-static-ip-name"),
        ssl_policy=frontend.get("sslPolicy") or None,
        redirect_to_https=bool((frontend.get("redirectToHttps") or {}).get("enabled")),
        certificates=certificates,
        declared=frozenset((str(m.get("kind")), str(_meta(m).get("name"))) for m in manifests),
        allow_http=allows_http(annotations),
    )


# strconv.ParseBool's false spellings; any other value (or none) leaves HTTP on, as ingress-gce reads it
# (k8s.io/ingress-gce pkg/annotations/ingress.go AllowHTTP).
_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "False"})


def allows_http(annotations: Mapping[str, Any]) -> bool:
    return str(annotations.get("kubernetes.io/ingress.allow-http", "true")) not in _FALSE


def with_cluster(target: StackTarget, settings: Any) -> StackTarget:
    """`target` carrying the stack's cluster declaration (settings: components.settings.Settings)."""
    from livestate.preconditions import ClusterDeclaration

    return StackTarget(target.context, target.project, ClusterDeclaration(settings.cluster.preconditions, settings.environment == "prod"))
