"""The websocket Ingress (GKE external Application Load Balancer) and the routes that feed it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from coditect import gke
from coditect.base import PART_OF, InvariantError, child_opts, manifest, type_token
from coditect.gke import limits
from coditect.namespace import AppNamespace
from coditect.plan import declare
from coditect.service import NegService

# GKE's L7 load balancer takes minutes to program; Pulumi's Ingress await defaults to 10.
AWAIT_TIMEOUT = "20m"


@dataclass(frozen=True)
class Route:
    """A host/path sent to a Service. Holds the NegService object itself: a name typed as a
    string (the incident's ``coditect-api-v2``) cannot be routed to."""

    service: NegService
    host: str | None = None
    path: str = "/"
    path_type: str = "Prefix"

    def __post_init__(self) -> None:
        if not isinstance(self.service, NegService):
            raise InvariantError(
                f"Route(host={self.host!r}, path={self.path!r}): service is {type(self.service).__name__} {self.service!r}, "
                "not a NegService declared in this program. GKE fails the whole Ingress when a backend Service does not exist. "
                "Fix: pass the NegService object (e.g. app.service), never a name."
            )


@dataclass(frozen=True)
class IngressExtras:
    """Ingress annotations owned by other components (static IP, certificates, FrontendConfig)."""

    annotations: dict[str, str] = field(default_factory=dict)
    manifests: tuple[dict, ...] = ()  # what the annotations refer to (FrontendConfig, ManagedCertificate), for the rule check


class WebsocketIngress(pulumi.ComponentResource):
    """GKE Ingress (class annotation ``gce``, no ``ingressClassName``) with an explicit default backend.

    Refuses routes whose Service is in another namespace, lacks NEG or lacks a BackendConfig, and
    runs GKE's cross-reference rules over everything it routes to before declaring anything.
    """

    namespace: AppNamespace
    name: str
    resource: k8s.networking.v1.Ingress

    def __init__(
        self,
        resource_name: str,
        namespace: AppNamespace,
        name: str,
        default_route: Route,
        routes: tuple[Route, ...],
        min_session_sec: int,
        extras: IngressExtras = IngressExtras(),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("WebsocketIngress"), resource_name, None, opts)
        self.namespace = namespace
        self.name = name
        where = f"Ingress {namespace.name}/{name}"
        all_routes = (default_route, *routes)
        for route in all_routes:
            _check_route(where, namespace, route)

        annotations = {limits.INGRESS_CLASS_ANNOTATION: limits.GCE_INGRESS_CLASS, **extras.annotations}
        hosts: dict[str | None, list[k8s.networking.v1.HTTPIngressPathArgs]] = {}
        seen: set[tuple[str | None, str]] = set()
        for route in routes:
            if (route.host, route.path) in seen:
                raise InvariantError(
                    f"{where}: host {route.host or '*'!r} path {route.path!r} is routed twice; GKE keeps only the last one. "
                    "Fix: declare each host and path once."
                )
            seen.add((route.host, route.path))
            hosts.setdefault(route.host, []).append(
                k8s.networking.v1.HTTPIngressPathArgs(path=route.path, path_type=route.path_type, backend=_backend(route.service))
            )
        metadata = k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace.name, annotations=annotations, labels=dict(PART_OF))
        spec = k8s.networking.v1.IngressSpecArgs(
            default_backend=_backend(default_route.service),
            rules=[k8s.networking.v1.IngressRuleArgs(host=host, http=k8s.networking.v1.HTTPIngressRuleValueArgs(paths=paths)) for host, paths in hosts.items()],
        )
        self.manifest = manifest("networking.k8s.io/v1", "Ingress", metadata, spec)
        services = {id(r.service): r.service for r in all_routes}.values()
        reachable: dict[int, dict] = {id(self.manifest): self.manifest, **{id(m): m for m in extras.manifests}}
        for svc in services:
            for part in (svc, svc.deployment, svc.backend_config):
                if part is not None:
                    reachable.setdefault(id(part), part.manifest)  # shared Deployments count once

        def create() -> None:
            self.resource = k8s.networking.v1.Ingress(
                resource_name,
                metadata=metadata,
                spec=spec,
                opts=child_opts(
                    self,
                    [namespace, *services],
                    custom_timeouts=pulumi.CustomTimeouts(create=AWAIT_TIMEOUT, update=AWAIT_TIMEOUT),
                ),
            )
            self.register_outputs({"name": self.resource.metadata.name})

        declare(where, [self.manifest], create, stack=list(reachable.values()), context=gke.Context(min_session_sec))


def _backend(service: NegService) -> k8s.networking.v1.IngressBackendArgs:
    return k8s.networking.v1.IngressBackendArgs(
        service=k8s.networking.v1.IngressServiceBackendArgs(name=service.name, port=k8s.networking.v1.ServiceBackendPortArgs(name=service.port.name))
    )


def _check_route(where: str, namespace: AppNamespace, route: Route) -> None:
    service = route.service
    problems = []
    if service.namespace is not namespace:
        problems.append(
            f"route {route.host or '*'}{route.path} goes to Service {service.namespace.name}/{service.name}, outside namespace "
            f"{namespace.name!r}; GKE looks backends up in the Ingress's namespace only. Fix: declare the Service in the Ingress's AppNamespace."
        )
    if not service.neg:
        problems.append(
            f"Service {service.name} has no {limits.NEG_ANNOTATION} '{{\"ingress\": true}}': without NEG a ClusterIP Service fails "
            "translation and CLIENT_IP affinity would pin nodes, not pods. Fix: create the NegService with neg=True."
        )
    if service.backend_config is None:
        problems.append(
            f"Service {service.name} has no BackendConfig: the load balancer would keep a 30 s timeout and no session affinity. "
            "Fix: pass backend_config= to the NegService."
        )
    if problems:
        raise InvariantError(f"{where} refuses a route:\n" + "\n".join(f"  - {p}" for p in problems))
