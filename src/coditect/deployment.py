"""The combined Deployment: nginx in front (serving port, health path) and the IDE server behind it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from coditect.base import PART_OF, InvariantError, child_opts, manifest, type_token
from coditect.gke import limits
from coditect.namespace import AppNamespace
from coditect.nginx import NginxConfigMap
from coditect.plan import declare
from coditect.settings import ContainerResources, DeploymentSettings, Release

NGINX = "nginx"
IDE = "ide"
SERVING_PORT_NAME = "http"  # the Service's targetPort and the health check both refer to this
IDE_PORT_NAME = "ide"

# Writable scratch space under a read-only root filesystem: (container, volume, mount path). The
# volumes and every container's mounts are derived from this one table.
SCRATCH_VOLUMES: tuple[tuple[str, str, str], ...] = (
    (NGINX, "tmp", "/tmp"),
    (NGINX, "cache", "/var/cache/nginx"),
    (NGINX, "run", "/var/run"),
    (IDE, "tmp", "/tmp"),
    (IDE, "home", "/home/theia"),
    (IDE, "workspace", "/home/project"),
)

# NEG readiness gates can hold a pod not-Ready for up to 10 minutes (ingress-gce reflector), and
# Pulumi's Deployment await gives up after 10 minutes by default: leave room.
AWAIT_TIMEOUT = "20m"


@dataclass(frozen=True)
class NamedPort:
    name: str
    number: int


@dataclass(frozen=True)
class HealthEndpoint:
    """The one health path and port that the readiness probe and the LB health check share."""

    path: str
    port: NamedPort


class CombinedDeployment(pulumi.ComponentResource):
    """nginx + IDE in one pod, hardened, with its own ServiceAccount.

    Consumers take ``pod_labels`` (Service selector, PDB, NetworkPolicy), ``serving_port``
    (Service targetPort) and ``health`` (BackendConfig health check) from this object.
    """

    namespace: AppNamespace
    name: str
    pod_labels: dict[str, str]
    serving_port: NamedPort
    health: HealthEndpoint
    replicas: int
    deployment: k8s.apps.v1.Deployment
    service_account: k8s.core.v1.ServiceAccount

    def __init__(
        self,
        resource_name: str,
        namespace: AppNamespace,
        settings: DeploymentSettings,
        release: Release,
        nginx: NginxConfigMap | None = None,
        autoscaled: bool = False,
        sandboxed: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("CombinedDeployment"), resource_name, None, opts)
        if nginx is not None and nginx.namespace is not namespace:
            raise InvariantError(
                f"CombinedDeployment {namespace.name}/{settings.name}: its nginx ConfigMap is in namespace {nginx.namespace.name!r}; "
                "a pod can only mount ConfigMaps of its own namespace. Fix: create the NginxConfigMap in the same AppNamespace."
            )
        self.namespace = namespace
        self.nginx = nginx
        self.name = settings.name
        self.replicas = settings.replicas
        self.serving_port = NamedPort(SERVING_PORT_NAME, settings.serving_port)
        self.health = HealthEndpoint(settings.health_path, self.serving_port)
        self.pod_labels = {
            "app.kubernetes.io/name": settings.name,
            "app.kubernetes.io/component": "combined",
            **PART_OF,
        }
        ide_port = NamedPort(IDE_PORT_NAME, settings.ide_port)

        sa_metadata = k8s.meta.v1.ObjectMetaArgs(name=settings.name, namespace=namespace.name, labels=self.pod_labels)

        metadata = k8s.meta.v1.ObjectMetaArgs(
            name=settings.name,
            namespace=namespace.name,
            labels={**self.pod_labels, "app.kubernetes.io/version": release.version},
        )
        spec = k8s.apps.v1.DeploymentSpecArgs(
            # With an HPA the replica count belongs to the HPA; declaring it here would fight it.
            replicas=None if autoscaled else settings.replicas,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self.pod_labels),
            strategy=k8s.apps.v1.DeploymentStrategyArgs(
                type="RollingUpdate",
                # Never drop below the desired count: every pod holds live WebSocket sessions.
                rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
            ),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    # Not in the selector (immutable): marks the pods that run user code for the containment rules.
                    labels={**self.pod_labels, "app.kubernetes.io/version": release.version, limits.RUNS_USER_CODE_LABEL: "true"},
                    # A new site config means new pods: nginx reads it only at start.
                    annotations={"coditect.ai/nginx-config-sha256": nginx.checksum} if nginx else None,
                ),
                spec=k8s.core.v1.PodSpecArgs(
                    # GKE Sandbox: the terminal's processes run on gVisor's kernel, not the node's.
                    runtime_class_name=limits.GVISOR_RUNTIME_CLASS if sandboxed else None,
                    service_account_name=settings.name,
                    automount_service_account_token=False,
                    termination_grace_period_seconds=settings.termination_grace_period_seconds,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=settings.run_as_user,
                        run_as_group=settings.run_as_user,
                        fs_group=settings.run_as_user,
                        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                    ),
                    containers=[
                        _container(
                            NGINX,
                            release.images.nginx,
                            self.serving_port,
                            settings.resources.nginx,
                            settings,
                            probe=k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(path=self.health.path, port=self.serving_port.name)),
                            mounts=(*_scratch_mounts(NGINX), *([nginx.mount()] if nginx else [])),
                        ),
                        _container(
                            IDE,
                            release.images.ide,
                            ide_port,
                            settings.resources.ide,
                            settings,
                            # The IDE answers on its port once started; nginx's probe covers the HTTP path.
                            probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=ide_port.name)),
                            mounts=_scratch_mounts(IDE),
                        ),
                    ],
                    volumes=[
                        *(
                            k8s.core.v1.VolumeArgs(name=f"{role}-{volume}", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())
                            for role, volume, _ in SCRATCH_VOLUMES
                        ),
                        *([nginx.volume()] if nginx else []),
                    ],
                ),
            ),
        )
        self.manifest = manifest("apps/v1", "Deployment", metadata, spec)

        def create() -> None:
            self.service_account = k8s.core.v1.ServiceAccount(
                f"{resource_name}-sa",
                metadata=sa_metadata,
                automount_service_account_token=False,
                opts=child_opts(self, [namespace]),
            )
            self.deployment = k8s.apps.v1.Deployment(
                resource_name,
                metadata=metadata,
                spec=spec,
                opts=child_opts(
                    self,
                    [namespace, self.service_account, *([nginx] if nginx else [])],
                    custom_timeouts=pulumi.CustomTimeouts(create=AWAIT_TIMEOUT, update=AWAIT_TIMEOUT),
                ),
            )
            self.register_outputs({"name": self.deployment.metadata.name})

        declare(f"CombinedDeployment {namespace.name}/{settings.name}", [self.manifest], create)


def _scratch_mounts(role: str) -> tuple[k8s.core.v1.VolumeMountArgs, ...]:
    return tuple(k8s.core.v1.VolumeMountArgs(name=f"{owner}-{volume}", mount_path=path) for owner, volume, path in SCRATCH_VOLUMES if owner == role)


def _container(
    name: str,
    image: str,
    port: NamedPort,
    resources: ContainerResources,
    settings: DeploymentSettings,
    probe: k8s.core.v1.ProbeArgs,
    mounts: tuple[k8s.core.v1.VolumeMountArgs, ...],
) -> k8s.core.v1.ContainerArgs:
    readiness = k8s.core.v1.ProbeArgs(http_get=probe.http_get, tcp_socket=probe.tcp_socket, period_seconds=5, timeout_seconds=2, failure_threshold=2)
    liveness = k8s.core.v1.ProbeArgs(
        http_get=probe.http_get,
        tcp_socket=probe.tcp_socket,
        period_seconds=10,
        timeout_seconds=2,
        failure_threshold=6,
        initial_delay_seconds=10,
    )
    return k8s.core.v1.ContainerArgs(
        name=name,
        image=image,
        image_pull_policy="Always",
        ports=[k8s.core.v1.ContainerPortArgs(name=port.name, container_port=port.number, protocol="TCP")],
        readiness_probe=readiness,
        liveness_probe=liveness,
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": resources.cpu_request, "memory": resources.memory_request},
            limits={"cpu": resources.cpu_limit, "memory": resources.memory_limit},
        ),
        security_context=k8s.core.v1.SecurityContextArgs(
            run_as_non_root=True,
            run_as_user=settings.run_as_user,
            allow_privilege_escalation=False,
            privileged=False,
            read_only_root_filesystem=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        # Keep serving while the load balancer stops sending new requests to this pod.
        lifecycle=k8s.core.v1.LifecycleArgs(
            pre_stop=k8s.core.v1.LifecycleHandlerArgs(exec_=k8s.core.v1.ExecActionArgs(command=["sleep", str(settings.pre_stop_seconds or 0)]))
        ),
        volume_mounts=list(mounts),
    )


class DisruptionBudget(pulumi.ComponentResource):
    """PodDisruptionBudget built from the Deployment object it protects."""

    def __init__(self, resource_name: str, target: CombinedDeployment, min_available: int, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("DisruptionBudget"), resource_name, None, opts)
        _require_deployment("DisruptionBudget", resource_name, target)
        metadata = k8s.meta.v1.ObjectMetaArgs(name=target.name, namespace=target.namespace.name, labels=target.pod_labels)
        spec = k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            min_available=min_available,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=target.pod_labels),
        )
        self.manifest = manifest("policy/v1", "PodDisruptionBudget", metadata, spec)

        def create() -> None:
            self.resource = k8s.policy.v1.PodDisruptionBudget(resource_name, metadata=metadata, spec=spec, opts=child_opts(self, [target]))
            self.register_outputs({"name": self.resource.metadata.name})

        declare(f"PodDisruptionBudget {target.namespace.name}/{target.name}", [self.manifest], create)


class Autoscaler(pulumi.ComponentResource):
    """HorizontalPodAutoscaler (autoscaling/v2) built from the Deployment object it scales."""

    def __init__(
        self,
        resource_name: str,
        target: CombinedDeployment,
        min_replicas: int,
        max_replicas: int,
        target_cpu_utilization: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("Autoscaler"), resource_name, None, opts)
        _require_deployment("Autoscaler", resource_name, target)
        metadata = k8s.meta.v1.ObjectMetaArgs(name=target.name, namespace=target.namespace.name, labels=target.pod_labels)
        spec = k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(api_version="apps/v1", kind="Deployment", name=target.name),
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            metrics=[
                k8s.autoscaling.v2.MetricSpecArgs(
                    type="Resource",
                    resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                        name="cpu",
                        target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=target_cpu_utilization),
                    ),
                )
            ],
            # Scaling down kills pods holding sessions: do it slowly.
            behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(stabilization_window_seconds=600)
            ),
        )
        self.manifest = manifest("autoscaling/v2", "HorizontalPodAutoscaler", metadata, spec)

        def create() -> None:
            self.resource = k8s.autoscaling.v2.HorizontalPodAutoscaler(resource_name, metadata=metadata, spec=spec, opts=child_opts(self, [target]))
            self.register_outputs({"name": self.resource.metadata.name})

        declare(f"HorizontalPodAutoscaler {target.namespace.name}/{target.name}", [self.manifest], create)


def _require_deployment(kind: str, resource_name: str, target: object) -> None:
    if not isinstance(target, CombinedDeployment):
        raise InvariantError(
            f"{kind} {resource_name}: target is {type(target).__name__} {target!r}, not a CombinedDeployment declared in this program. "
            "Fix: pass the CombinedDeployment object it should protect or scale."
        )
