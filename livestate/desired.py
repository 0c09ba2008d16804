"""What the program declared, as the numbers GKE should have put on the load balancer.

Built from the rendered Kubernetes manifests (the same objects `pulumi up` sends), so the CLI and
the resource hook judge the live state against one description; read through the rule engine's view of
the stack (gke.stack, gke.manifest) and annotation keys (gke.limits), so a reference GKE resolves is
resolved here as the rules resolve it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coditect.gke import limits
from coditect.gke.manifest import (
    DEPLOYMENT,
    FRONTEND_CONFIG,
    INGRESS,
    MANAGED_CERTIFICATE,
    annotations_of,
    as_list,
    backend_config_refs,
    containers,
    field_at,
    kind_of,
    mapping_at,
    name_of,
    namespace_of,
    service_ports,
    spec_of,
)
from coditect.gke.stack import StackView
from livestate.errors import Unusable
from livestate.gateway_desired import DesiredGateway, desired_gateway

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
    gateway: DesiredGateway | None = None  # the Gateway front door, when the program declares one

    @property
    def has_ingress(self) -> bool:
        """False when the Gateway is the program's only front door."""
        return bool(self.ingress)

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


def _service_port(service: Manifest, ref: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The Service port an IngressServiceBackend's port (name or number) names."""
    for port in service_ports(service):
        if ("name" in ref and port.get("name") == ref["name"]) or ("number" in ref and port.get("port") == ref["number"]):
            return port
    return None


def _readiness(workloads: Iterable[Manifest], target_port: Any) -> tuple[str | None, int | None]:
    """(path, port) of the readiness probe of the container serving `target_port` in the selected workloads."""
    for workload in workloads:
        if kind_of(workload) != DEPLOYMENT:
            continue
        for container in containers(workload):
            ports = {p.get("name"): p["containerPort"] for p in as_list(container.get("ports")) if isinstance(p, Mapping)}
            if target_port not in ports and target_port not in ports.values():
                continue
            probe = field_at(container, "readinessProbe", "httpGet")
            if not isinstance(probe, Mapping):
                return None, None
            port: Any = probe.get("port")
            return str(probe.get("path") or "/"), int(ports.get(port, port))
    return None, None


def _backend_config_name(service: Manifest, port: Mapping[str, Any]) -> str | None:
    """The BackendConfig GKE applies to this port: by port name, then number, then the default; the GA
    annotation over the beta one, as the rules read it (gke.manifest.backend_config_refs)."""
    by_port, default = backend_config_refs(service)
    return by_port.get(str(port.get("name"))) or by_port.get(str(port.get("port"))) or default


def _backend(stack: StackView, namespace: str, ref: Mapping[str, Any]) -> DesiredBackend | None:
    service = stack.services.get((namespace, str(ref.get("name"))))
    port = _service_port(service, mapping_at(ref, "port")) if service else None
    if service is None or port is None:
        return None
    config_name = _backend_config_name(service, port)
    selector = dict(mapping_at(service, "spec", "selector"))
    path, probe_port = _readiness(stack.selected_workloads(service), port.get("targetPort"))
    config = stack.backend_configs.get((namespace, config_name)) if config_name else None
    return DesiredBackend(name_of(service), int(port["port"]), config_name, dict(spec_of(config)) if config else {}, path, probe_port, selector)


def desired_from_manifests(manifests: Iterable[Manifest]) -> Desired:
    """The desired state of the stack's one Ingress, read as the rules read the stack (gke.stack.StackView,
    the annotation keys of gke.limits); Unusable when the manifests declare no single Ingress."""
    stack = StackView(list(manifests))
    ingresses = stack.of_kind(INGRESS)
    gateway = desired_gateway(stack.manifests)
    if not ingresses and gateway is not None:  # frontDoors: [gateway]: the Gateway is the only front door
        return _gateway_only(stack, gateway)
    if len(ingresses) != 1:
        raise Unusable(f"the program declares {len(ingresses)} Ingresses; inspect follows exactly one (or none beside a Gateway)")
    ingress = ingresses[0]
    namespace, annotations = namespace_of(ingress), annotations_of(ingress)
    backends: dict[tuple[str, int], DesiredBackend] = {}
    ingress_services: list[str] = []
    for _ingress, _place, ref in stack.ingress_routes:
        name = str(ref.get("name"))
        if name not in ingress_services:
            ingress_services.append(name)
        backend = _backend(stack, namespace, ref)
        if backend is not None:
            backends.setdefault((backend.service, backend.port), backend)
    frontend_name = annotations.get(limits.FRONTEND_CONFIG_ANNOTATION)
    frontend = spec_of(stack.index(FRONTEND_CONFIG).get((namespace, str(frontend_name)), {})) if frontend_name else {}
    certificates = stack.index(MANAGED_CERTIFICATE)
    return Desired(
        namespace=namespace,
        ingress=name_of(ingress),
        ingress_services=tuple(ingress_services),
        backends=tuple(backends.values()),
        static_ip=annotations.get(limits.GLOBAL_STATIC_IP_ANNOTATION),
        ssl_policy=frontend.get("sslPolicy") or None,
        redirect_to_https=bool(field_at(frontend, "redirectToHttps", "enabled")),
        certificates={
            name: tuple(as_list(field_at(certificates.get((namespace, name)), "spec", "domains")))
            for name in filter(None, (n.strip() for n in str(annotations.get(limits.MANAGED_CERTIFICATES_ANNOTATION, "")).split(",")))
        },
        declared=frozenset((kind_of(m), name_of(m)) for m in stack.manifests),
        allow_http=allows_http(annotations),
        gateway=gateway,
    )


def _gateway_only(stack: StackView, gateway: DesiredGateway) -> Desired:
    """A program whose one front door is the Gateway: no Ingress to judge, only its leftovers (an Ingress still live
    after the migration is undeclared, and GKE still builds a load balancer for it)."""
    return Desired(
        namespace=gateway.namespace,
        ingress="",
        ingress_services=(),
        backends=(),
        static_ip=None,
        ssl_policy=None,
        redirect_to_https=False,
        certificates={},
        declared=frozenset((kind_of(m), name_of(m)) for m in stack.manifests),
        gateway=gateway,
    )


# strconv.ParseBool's false spellings; any other value (or none) leaves HTTP on, as ingress-gce reads it
# (k8s.io/ingress-gce pkg/annotations/ingress.go AllowHTTP).
_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "False"})


def allows_http(annotations: Mapping[str, Any]) -> bool:
    return str(annotations.get(limits.ALLOW_HTTP_ANNOTATION, "true")) not in _FALSE


def with_cluster(target: StackTarget, settings: Any) -> StackTarget:
    """`target` carrying the stack's cluster declaration (settings: coditect.settings.Settings)."""
    from livestate.preconditions import ClusterDeclaration

    return StackTarget(target.context, target.project, ClusterDeclaration(settings.cluster.preconditions, settings.environment == "prod"))
