"""ClusterIP Service with container-native load balancing (NEG) and its BackendConfig attached."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from coditect.backend_config import BackendConfig
from coditect.base import InvariantError, child_opts, manifest, type_token
from coditect.deployment import CombinedDeployment
from coditect.gke import limits
from coditect.namespace import AppNamespace
from coditect.plan import declare
from coditect.settings import ServiceSettings


@dataclass(frozen=True)
class ServicePort:
    name: str
    number: int


class NegService(pulumi.ComponentResource):
    """The Service behind the websocket Ingress.

    Selector, targetPort and the backend-config annotation are derived from the Deployment and
    BackendConfig objects passed in, never typed twice.
    """

    namespace: AppNamespace
    name: str
    port: ServicePort
    deployment: CombinedDeployment
    backend_config: BackendConfig | None
    neg: bool
    resource: k8s.core.v1.Service

    def __init__(
        self,
        resource_name: str,
        namespace: AppNamespace,
        settings: ServiceSettings,
        deployment: CombinedDeployment,
        backend_config: BackendConfig | None,
        neg: bool = True,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("NegService"), resource_name, None, opts)
        for what, obj in (("deployment", deployment), ("backend_config", backend_config)):
            if obj is not None and obj.namespace is not namespace:
                raise InvariantError(
                    f"Service {namespace.name}/{settings.name}: its {what} is in namespace {obj.namespace.name!r}, not {namespace.name!r}; "
                    "GKE looks Deployments' pods and BackendConfigs up in the Service's namespace. Fix: declare them in the same AppNamespace."
                )
        if backend_config is not None and deployment.nginx is not None:
            # The settings the BackendConfig's spec is made from (one source), not the spec read back.
            health = backend_config.health
            problems = deployment.nginx.site.disagreements(backend_config.settings.timeout_sec, health.path, health.port.number)
            if problems:
                raise InvariantError(
                    f"Service {namespace.name}/{settings.name} joins a load balancer and pods that disagree:\n" + "\n".join(f"  - {p}" for p in problems)
                )
        self.namespace = namespace
        self.name = settings.name
        self.port = ServicePort(settings.port_name, settings.port)
        self.deployment = deployment
        self.backend_config = backend_config
        self.neg = neg

        annotations: dict[str, str] = {}
        if neg:
            annotations[limits.NEG_ANNOTATION] = json.dumps({"ingress": True})
        if backend_config is not None:
            annotations[limits.BACKEND_CONFIG_ANNOTATION] = json.dumps({"default": backend_config.name})
        metadata = k8s.meta.v1.ObjectMetaArgs(name=settings.name, namespace=namespace.name, labels=deployment.pod_labels, annotations=annotations)
        spec = k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=deployment.pod_labels,
            ports=[
                k8s.core.v1.ServicePortArgs(
                    name=self.port.name,
                    port=self.port.number,
                    target_port=deployment.serving_port.name,
                    protocol="TCP",
                    # No appProtocol: ingress-gce reads the backend protocol from the
                    # cloud.google.com/app-protocols annotation only (HTTP when absent).
                )
            ],
        )
        self.manifest = manifest("v1", "Service", metadata, spec)
        depends = [namespace, deployment, *([backend_config] if backend_config else [])]

        def create() -> None:
            self.resource = k8s.core.v1.Service(resource_name, metadata=metadata, spec=spec, opts=child_opts(self, depends))
            self.register_outputs({"name": self.resource.metadata.name})

        declare(f"Service {namespace.name}/{settings.name}", [self.manifest], create)
