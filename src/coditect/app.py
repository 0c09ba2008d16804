"""The repository's stack: its cluster provider at the stack root and one SocketIoApp (src/coditect/socketio_app.py)
from the stack's Settings, refused with the stack file's keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from coditect.adoption import register_adoption
from coditect.args import SocketIoAppArgs
from coditect.backend_config import BackendConfig
from coditect.base import InvariantError
from coditect.certificate_manager import CertificateMap
from coditect.deployment import Autoscaler, CombinedDeployment, DisruptionBudget
from coditect.gateway import WebsocketGateway
from coditect.gcp import CloudArmor, SocketIOMonitoring, StaticIp, Tls
from coditect.gke import Finding, Level
from coditect.gke.manifest import Manifest
from coditect.ingress import WebsocketIngress
from coditect.inspect_hook import Inspect, inspection_hook
from coditect.inspection import InspectionMarker
from coditect.namespace import AppNamespace
from coditect.network_policy import LoadBalancerNetworkPolicy
from coditect.nginx import NginxConfigMap
from coditect.service import NegService
from coditect.settings import CONFIG_NAMESPACE, AppSettings, Settings
from coditect.socketio_app import CONFIG_KEY_OF_RULE, SocketIoApp, config_key, nginx_site, socketio_url, stack_context
from coditect.target import Target

__all__ = [
    "CONFIG_KEY_OF_RULE",
    "App",
    "StackRefused",
    "build_app",
    "cluster_provider",
    "config_key",
    "inspection_hooks",
    "nginx_site",
    "refusal",
    "stack_context",
]


@dataclass(frozen=True)
class App:
    settings: Settings
    namespace: AppNamespace
    deployment: CombinedDeployment
    backend_config: BackendConfig | None  # None: no Ingress (frontDoors [gateway])
    service: NegService
    nginx: NginxConfigMap
    ingress: WebsocketIngress | None
    disruption_budget: DisruptionBudget
    autoscaler: Autoscaler | None
    network_policy: LoadBalancerNetworkPolicy
    static_ip: StaticIp | None
    tls: Tls | None
    cloud_armor: CloudArmor | None
    monitoring: SocketIOMonitoring | None
    inspection: InspectionMarker | None  # it inspects every front door
    gateway: WebsocketGateway | None = None
    gateway_static_ip: StaticIp | None = None
    certificate_map: CertificateMap | None = None
    component: SocketIoApp | None = None

    @property
    def socketio_url(self) -> str:
        return socketio_url(self.settings)  # the component's url output: http:// when gcp.tls is off


class StackRefused(InvariantError):
    """The GKE rules refused what the stack's settings declare; each finding is named by the
    setting that causes it. Raised before any resource is declared."""


def refusal(findings: list[Finding]) -> StackRefused:
    """The settings that make GKE break, one line per finding, named by their config key."""
    stack = pulumi.get_stack()
    lines = [f"Invalid stack configuration (Pulumi.{stack}.yaml): GKE would break on what these settings declare:"]
    for finding in findings:
        key = config_key(finding)
        if key is None:
            lines.append(f"  - {finding.message}")
            continue
        full = f"{CONFIG_NAMESPACE}:{key}"
        lines.append(f"  - {full}: {finding.message} Change it with: pulumi config set --path '{full}' <value> (or edit Pulumi.{stack}.yaml)")
    return StackRefused("\n".join(lines))


def cluster_provider(target: Target) -> k8s.Provider:
    """The stack's own Kubernetes provider. ``cluster_identifier`` keeps it (and so every object on it)
    from being replaced when only its options change, such as turning adoption on and off: the
    provider is replaced only when the identifier does (pulumi-kubernetes Provider docs)."""
    if target.adopt:
        pulumi.log.warn(
            f"Adoption run on {target.cluster_context}: existing objects are taken over (upsert) and kubectl's field ownership "
            "is overridden (patch force). Remove coditect:cluster.adopt after this pulumi up."
        )
        register_adoption()
    return k8s.Provider(
        "cluster",
        context=target.cluster_context,
        cluster_identifier=target.cluster_context,
        upsert_existing_objects=target.adopt,
        enable_patch_force=target.adopt,
    )


APP_NAME = "app"  # the SocketIoApp of the stack; its children keep the names they had at the stack root


def build_app(settings: Settings, target: Target, inspect: Inspect | None = None, levels: Mapping[str, Level] | None = None) -> App:
    """Every component, judged as one stack before any resource is declared, on the stack's own
    cluster: an explicit Kubernetes provider, never the kubeconfig's current context. `inspect` is the
    after-up inspection (the composition root, __main__.py, passes livestate.hook.inspect_until); None
    declares no hook. `levels`: the policies' enforcement levels (coditect.base.pack_levels); None: the
    pack's own."""
    cluster = cluster_provider(target)
    component = SocketIoApp(
        APP_NAME,
        app_args(settings),
        ResourceOptions(providers={"kubernetes": cluster}),
        levels=levels,
        after_up=(lambda declared: inspection_hooks(settings, target, declared, inspect)) if inspect is not None else None,
        refusal=refusal,
    )
    return App(
        settings,
        component.namespace_component,
        component.deployment,
        component.backend_config,
        component.service,
        component.nginx,
        component.ingress,
        component.disruption_budget,
        component.autoscaler,
        component.network_policy,
        component.static_ip,
        component.tls,
        component.cloud_armor,
        component.monitoring,
        component.inspection,
        component.gateway,
        component.gateway_static_ip,
        component.certificate_map,
        component,
    )


def app_args(settings: Settings) -> SocketIoAppArgs:
    """The component's args: the stack settings' app keys, as they were validated (one copy of each
    value; the component judges them again with the same model)."""
    return cast(SocketIoAppArgs, settings.model_dump(include=set(AppSettings.model_fields)))


def inspection_hooks(settings: Settings, target: Target, declared: Callable[[], list[Manifest]], inspect: Inspect | None) -> pulumi.ResourceHookBinding | None:
    """After `up` creates or changes the BackendConfig or the Ingress: prove GKE applied them (warn, or
    fail in prod; never in preview). Bound to the InspectionMarker only, the stack's last object.
    `declared` gives the stack's manifests when the hook runs."""
    if inspect is None:
        return None
    hook = inspection_hook(
        "inspect-after-apply",
        settings.inspection_mode,
        target.stack,
        target.cluster_context,
        target.project,
        declared,
        inspect,
        deadline=settings.inspection.deadline_sec,
        interval=settings.inspection.interval_sec,
    )
    return pulumi.ResourceHookBinding(after_create=[hook], after_update=[hook]) if hook is not None else None
