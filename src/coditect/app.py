"""The whole application: every component wired from one Settings object."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from coditect import gke
from coditect.adoption import register_adoption
from coditect.backend_config import BackendConfig
from coditect.base import InvariantError
from coditect.certificate_manager import CertificateMap
from coditect.deployment import Autoscaler, CombinedDeployment, DisruptionBudget
from coditect.front_doors import backend_config, front_doors
from coditect.gateway import WebsocketGateway
from coditect.gcp import CloudArmor, SocketIOMonitoring, StaticIp, Tls
from coditect.gke import Finding, Level
from coditect.gke.manifest import Manifest
from coditect.ingress import WebsocketIngress
from coditect.inspect_hook import Inspect, inspection_hook
from coditect.inspection import InspectionMarker
from coditect.namespace import AppNamespace
from coditect.network_policy import EgressPolicy, LoadBalancerNetworkPolicy, NamespaceDefaultDeny
from coditect.nginx import NginxConfigMap, NginxSite
from coditect.plan import declaration_plan
from coditect.service import NegService
from coditect.settings import CONFIG_NAMESPACE, GATEWAY, Settings
from coditect.target import Target


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

    @property
    def socketio_url(self) -> str:
        return f"https://{self.settings.hosts[0]}{self.settings.socketio.path}"


def nginx_site(settings: Settings) -> NginxSite:
    """nginx in the pod, from the same settings as the health check and the BackendConfig."""
    return NginxSite(
        listen_port=settings.deployment.serving_port,
        health_path=settings.deployment.health_path,
        socketio_path=settings.socketio.path,
        upstream_port=settings.deployment.ide_port,
        proxy_timeout_sec=settings.backend_config.timeout_sec,
    )


# The stack setting behind the field each rule judges, for the objects this program declares: a
# finding on them is reported under the key a user changes (the rules stay the one owner of the check).
CONFIG_KEY_OF_RULE: dict[str, str] = {
    "backendconfig-affinity-replicas": "backendConfig.sessionAffinity",
    "backendconfig-websocket-timeout": "backendConfig.timeoutSec",
    "backendconfig-health-check-timeout": "backendConfig.healthCheck.timeoutSec",
    "grace-period-covers-draining": "deployment.terminationGracePeriodSeconds",
    "prestop-covers-draining": "deployment.preStopSeconds",
    "frontendconfig-redirect-needs-http": "gcp.tls.allowHttp",
    "ingress-allow-http-without-tls": "gcp.tls.allowHttp",
    "ingress-duplicate-host": "hosts",
    "ssl-policy-tls13-profile": "gcp.tls.sslPolicyProfile",
    "image-digest": "release.images.{subject}",  # the finding's subject is the container: nginx or ide
    # The Gateway's objects (src/coditect/gateway.py), made from the same keys.
    "gcpbackendpolicy-websocket-timeout": "backendConfig.timeoutSec",
    "healthcheckpolicy-numbers": "backendConfig.healthCheck.timeoutSec",
    "httproute-redirect-bundle": "gateway.redirectStatusCode",
    "gateway-address-distinct": "gateway.staticIpName",
}


def config_key(finding: Finding) -> str | None:
    template = CONFIG_KEY_OF_RULE.get(finding.rule)
    if template is None:
        return None
    return template.format(subject=finding.subject or "")


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


def _cloud_armor(settings: Settings) -> CloudArmor | None:
    """The policy while it is attached, and while it is detached but not yet deleted (two steps:
    Compute refuses to delete a policy a backend service still uses, and GKE detaches asynchronously)."""
    armor, name = settings.gcp.cloud_armor, f"{settings.gcp_prefix}-armor"
    if not armor.enabled and not armor.keep_detached_policy:
        return None
    if not armor.enabled:
        pulumi.log.warn(
            f"Cloud Armor policy {name} is detached from the backend (gcp.cloudArmor.enabled is false) and kept. Once GKE has "
            "applied the BackendConfig (the backend service shows no securityPolicy), set gcp.cloudArmor.keepDetachedPolicy "
            "to false and run pulumi up again to delete it."
        )
    return CloudArmor("cloud-armor", name, settings.socketio.path, armor)


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


def stack_context(settings: Settings) -> gke.Context:
    """What the rules need to know beyond the manifests, from the settings (the offline check passes the
    same values to the policy pack as its config)."""
    containment = settings.containment
    return gke.Context(
        min_session_sec=settings.socketio.min_session_sec,
        containment=gke.Containment(
            sandbox_required=containment.sandbox,
            dns=containment.dns,
            internet_ports=frozenset(containment.internet_ports),
            cluster_ranges=containment.cluster_ranges,
        ),
        gateway_bundle=settings.gateway.bundle_version if GATEWAY in settings.front_doors else None,
    )


def build_app(settings: Settings, target: Target, inspect: Inspect | None = None, levels: Mapping[str, Level] | None = None) -> App:
    """Every component, judged as one stack before any resource is declared, on the stack's own
    cluster: an explicit Kubernetes provider, never the kubeconfig's current context. `inspect` is the
    after-up inspection (the composition root, __main__.py, passes livestate.hook.inspect_until); None
    declares no hook. `levels`: the policies' enforcement levels (coditect.base.pack_levels); None: the
    pack's own."""
    cluster = cluster_provider(target)
    with declaration_plan(stack_context(settings), refusal, dict(levels) if levels is not None else None) as plan:
        return _declare_app(settings, cluster, inspection_hooks(settings, target, lambda: plan.manifests, inspect))


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


def _declare_app(settings: Settings, cluster: k8s.Provider, hooks: pulumi.ResourceHookBinding | None) -> App:
    def on_cluster(**options: Any) -> ResourceOptions:
        return ResourceOptions(providers={"kubernetes": cluster}, **options)

    ns = AppNamespace("namespace", settings.namespace, opts=on_cluster())
    nginx = NginxConfigMap("nginx-config", ns, f"{settings.deployment.name}-nginx", nginx_site(settings), opts=on_cluster())
    deployment = CombinedDeployment(
        "combined",
        namespace=ns,
        settings=settings.deployment,
        release=settings.release,
        nginx=nginx,
        autoscaled=settings.autoscaling.enabled,
        sandboxed=settings.containment.sandbox,
        opts=on_cluster(),
    )
    gcp_settings, prefix = settings.gcp, settings.gcp_prefix
    cloud_armor = _cloud_armor(settings)
    config = backend_config(settings, ns, deployment, cloud_armor, on_cluster)
    service = NegService("service", namespace=ns, settings=settings.service, deployment=deployment, backend_config=config, opts=on_cluster())
    doors = front_doors(settings, ns, service, cloud_armor, on_cluster)
    monitoring = (
        SocketIOMonitoring("monitoring", settings.hosts[0], settings.socketio.path, gcp_settings.monitoring, prefix)
        if gcp_settings.monitoring.enabled
        else None
    )
    budget = DisruptionBudget("disruption-budget", deployment, settings.deployment.min_available, opts=on_cluster())
    autoscaler = (
        Autoscaler(
            "autoscaler",
            deployment,
            settings.autoscaling.min_replicas,
            settings.autoscaling.max_replicas,
            settings.autoscaling.target_cpu_utilization,
            opts=on_cluster(),
        )
        if settings.autoscaling.enabled
        else None
    )
    inspection = InspectionMarker("inspection", ns, config, service, doors.ingress, hooks, on_cluster(), gateway=doors.gateway)
    policy = LoadBalancerNetworkPolicy("network-policy", deployment, opts=on_cluster())
    EgressPolicy("egress-policy", deployment, settings.containment, opts=on_cluster())
    NamespaceDefaultDeny("default-deny", ns, opts=on_cluster())
    return App(
        settings,
        ns,
        deployment,
        config,
        service,
        nginx,
        doors.ingress,
        budget,
        autoscaler,
        policy,
        doors.static_ip,
        doors.tls,
        cloud_armor,
        monitoring,
        inspection,
        doors.gateway,
        doors.gateway_static_ip,
        doors.certificate_map,
    )
