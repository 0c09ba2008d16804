"""The whole stack's settings, and the rules between areas that no single area can judge."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import field_validator, model_validator

from coditect.gke import limits
from coditect.settings.errors import conflict
from coditect.settings.front_door import DEFAULT_FRONT_DOORS, FrontDoors, GatewaySettings, front_door_problems
from coditect.settings.platform import ClusterSettings, ContainmentSettings, GcpSettings, InspectionSettings
from coditect.settings.types import DnsLabel, Entries, Environment, Host, Model
from coditect.settings.workload import (
    Autoscaling,
    BackendConfigSettings,
    DeploymentSettings,
    IngressSettings,
    Release,
    ServiceSettings,
    SocketIOSettings,
)

# The namespaces a cluster starts with (kubernetes.io/docs/concepts/overview/working-with-objects/namespaces).
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


class AppSettings(Model):
    """What a consumer of the app chooses: everything but the stack's cluster and its after-up
    inspection. The stack settings (``Settings``) and the component's args (``SocketIoAppArgs``,
    generated from this model by ops/component_args.py) are both this one definition."""

    environment: Environment
    namespace: DnsLabel = "coditect-app"
    # A ManagedCertificate holds at most 100 domains (spec.domains maxItems, schemas/crds/managedcertificate.networking.gke.io.yaml).
    # Required, no default: a stack that forgot its hosts must not silently serve (and certify) production's domain.
    hosts: Annotated[tuple[Host, ...], Entries(100, "a ManagedCertificate holds at most 100 domains", least=1, unique=True)]
    release: Release
    deployment: DeploymentSettings = DeploymentSettings()
    autoscaling: Autoscaling = Autoscaling()
    service: ServiceSettings = ServiceSettings()
    backend_config: BackendConfigSettings = BackendConfigSettings()
    socketio: SocketIOSettings = SocketIOSettings()
    ingress: IngressSettings = IngressSettings()
    front_doors: FrontDoors = DEFAULT_FRONT_DOORS
    gateway: GatewaySettings = GatewaySettings()
    gcp: GcpSettings = GcpSettings()
    containment: ContainmentSettings = ContainmentSettings()

    @field_validator("namespace")
    @classmethod
    def _own_namespace(cls, namespace: str) -> str:
        if namespace in SYSTEM_NAMESPACES:
            raise ValueError(f"is {namespace!r}, a namespace Kubernetes itself uses; give the app a namespace of its own")
        return namespace

    @property
    def gcp_prefix(self) -> str:
        """Prefix of every GCP resource name, so stacks sharing a project never collide."""
        return f"coditect-{self.environment}"

    @model_validator(mode="after")
    def _derive_pre_stop(self) -> AppSettings:
        """preStopSeconds defaults to the draining timeout: pods keep serving while the load balancer
        drains them, and get SIGTERM only after it (the shutdown sequence in the README)."""
        deployment, draining = self.deployment, self.backend_config.draining_timeout_sec
        if deployment.pre_stop_seconds is not None:
            return self
        if draining >= deployment.termination_grace_period_seconds:
            raise conflict(
                [
                    (
                        "deployment.terminationGracePeriodSeconds",
                        f"({deployment.termination_grace_period_seconds}) must be longer than the preStop delay, which is "
                        f"backendConfig.drainingTimeoutSec ({draining}) unless deployment.preStopSeconds is set: raise it above {draining}",
                    )
                ]
            )
        return self.model_copy(update={"deployment": deployment.model_copy(update={"pre_stop_seconds": draining})})

    @model_validator(mode="after")
    def _cross_field_rules(self) -> AppSettings:
        # (config key, problem) pairs; format_errors reports each under its own key.
        problems = [*self._prod_problems(), *self._pod_problems(), *self._google_cloud_problems(), *front_door_problems(self)]
        if problems:
            raise conflict(problems)
        return self

    def _prod_problems(self) -> list[tuple[str, str]]:
        """What prod requires beyond the other stacks."""
        if self.environment != "prod":
            return []
        problems = []
        if self.deployment.replicas < 2 and not self.autoscaling.enabled:
            problems.append(("deployment.replicas", f"is {self.deployment.replicas}; prod needs at least 2 replicas to survive a pod restart"))
        if self.autoscaling.enabled and self.autoscaling.min_replicas < 2:
            problems.append(("autoscaling.minReplicas", f"is {self.autoscaling.min_replicas}; prod needs at least 2 pods to survive a pod restart"))
        if self.deployment.min_available < 1:
            problems.append(("deployment.minAvailable", "is 0; prod needs a PodDisruptionBudget keeping at least 1 pod"))
        gcp = self.gcp
        for key, enabled in (
            ("gcp.tls.enabled", gcp.tls.enabled),
            ("gcp.tls.redirectToHttps", gcp.tls.redirect_to_https),
            ("gcp.cloudArmor.enabled", gcp.cloud_armor.enabled),
            ("gcp.monitoring.enabled", gcp.monitoring.enabled),
            ("gcp.staticIp.enabled", gcp.static_ip.enabled),
        ):
            if not enabled:
                problems.append((key, "is false; prod requires it (TLS with HTTPS redirect, Cloud Armor, uptime alerting, a static IP)"))
        if gcp.monitoring.enabled and not gcp.monitoring.notification_channels:
            problems.append(("gcp.monitoring.notificationChannels", "is empty; prod alerts must reach someone"))
        if not self.containment.sandbox:
            problems.append(("containment.sandbox", "is false; prod runs its users' code in GKE Sandbox (gVisor)"))
        problems += self._prod_cluster_problems()
        return problems

    def _pod_problems(self) -> list[tuple[str, str]]:
        """Pods Kubernetes would reject, or could never evict, or kill too early."""
        problems = []
        fewest_pods = self.autoscaling.min_replicas if self.autoscaling.enabled else self.deployment.replicas
        if self.deployment.min_available >= fewest_pods:
            problems.append(
                (
                    "deployment.minAvailable",
                    f"is {self.deployment.min_available} with as few as {fewest_pods} pod(s): the PodDisruptionBudget then allows no "
                    "eviction, so node drains and upgrades hang; keep it below the pod count",
                )
            )
        for role, resources in (("nginx", self.deployment.resources.nginx), ("ide", self.deployment.resources.ide)):
            problems += [(f"deployment.resources.{role}.{key}", text) for key, text in resources.request_problems()]
        problems += self._pod_cluster_problems()
        pre_stop = self.deployment.pre_stop_seconds
        if pre_stop is not None and pre_stop >= self.deployment.termination_grace_period_seconds:
            problems.append(
                (
                    "deployment.preStopSeconds",
                    f"({pre_stop}) must be shorter than terminationGracePeriodSeconds ({self.deployment.termination_grace_period_seconds}), "
                    "or Kubernetes kills the pod during its preStop delay",
                )
            )
        return problems

    def _prod_cluster_problems(self) -> list[tuple[str, str]]:
        """What prod requires of the cluster: judged by the stack settings, which declare it (Settings)."""
        return []

    def _pod_cluster_problems(self) -> list[tuple[str, str]]:
        """What the pods need of the cluster: judged by the stack settings, which declare it (Settings)."""
        return []

    def _google_cloud_problems(self) -> list[tuple[str, str]]:
        """Google Cloud settings the APIs refuse, or that have no effect as combined."""
        problems = []
        tls = self.gcp.tls
        long_hosts = [h for h in self.hosts if len(h) > limits.MANAGED_CERTIFICATE_DOMAIN_MAX]
        if tls.enabled and long_hosts:
            problems.append(
                (
                    "hosts",
                    f"{', '.join(long_hosts)} is longer than {limits.MANAGED_CERTIFICATE_DOMAIN_MAX} characters, "
                    "the most a ManagedCertificate domain may have; use a shorter host or disable gcp.tls",
                )
            )
        if self.gcp.monitoring.enabled and not self.backend_config.logging.enable:
            problems.append(
                ("backendConfig.logging.enable", "is false while gcp.monitoring is on: its request metric and dashboard read the load balancer's request logs")
            )
        if self.gcp.cloud_armor.enabled and not self.gcp.cloud_armor.waf_rules:
            problems.append(("gcp.cloudArmor.wafRules", "is empty with Cloud Armor on: the policy would only rate-limit; list the WAF rule sets"))
        # Not the ingress-allow-http-without-tls rule's copy: without TLS no allow-http annotation is written
        # (src/coditect/gcp.py Tls.ingress_annotations), so the rule never sees this and the setting would be ignored.
        if not tls.allow_http and not tls.enabled:
            problems.append(("gcp.tls.allowHttp", "is false without TLS: the load balancer would serve nothing"))
        if tls.redirect_to_https and not tls.enabled:
            problems.append(("gcp.tls.redirectToHttps", "is true without TLS: there is no HTTPS to redirect to (set it false, or enable gcp.tls)"))
        return problems


class Settings(AppSettings):
    """The whole stack's settings: the app's (AppSettings) and the stack's own cluster and after-up
    inspection, with the rules that need the cluster's declared preconditions."""

    cluster: ClusterSettings
    inspection: InspectionSettings = InspectionSettings()

    @property
    def inspection_mode(self) -> Literal["off", "warn", "fail"]:
        return self.inspection.after_up or ("fail" if self.environment == "prod" else "warn")

    @model_validator(mode="after")
    def _declare_cluster_dns(self) -> Settings:
        self.cluster.preconditions._dns = self.containment.dns
        return self

    def _prod_cluster_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        declared = self.cluster.preconditions
        if declared.network_policy == "none":
            problems.append(
                (
                    "cluster.preconditions.networkPolicy",
                    "is none; prod needs a cluster that enforces NetworkPolicy (Dataplane V2 or Calico), or every egress policy is inert",
                )
            )
        if not declared.workload_identity:
            problems.append(
                (
                    "cluster.preconditions.workloadIdentity",
                    "is false; without Workload Identity (GKE_METADATA) the metadata server hands IDE pods the node's credentials",
                )
            )
        return problems

    def _pod_cluster_problems(self) -> list[tuple[str, str]]:
        if self.containment.sandbox and not self.cluster.preconditions.sandbox_node_pool:
            return [("cluster.preconditions.sandboxNodePool", "is false while containment.sandbox is on: gVisor pods schedule only on a sandbox node pool")]
        return []
