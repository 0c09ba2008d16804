"""Everything a stack can configure, as one pydantic model tree.

Defaults are the production state that fixed the outage: namespace ``coditect-app``, Deployment
``coditect-combined``, Service ``coditect-combined-service``, BackendConfig with CLIENT_IP
affinity, ``affinityCookieTtlSec: 86400`` and ``timeoutSec: 86400``, one Ingress for every path.

Keys are the camelCase names of the stack file (``coditect:backendConfig`` ...). Unknown keys
are errors. ``load_settings`` turns validation errors into one ``SettingsError`` (a
``pulumi.RunError``: ``pulumi preview`` prints its message, not a traceback) that names each
config key, what is allowed and how to fix it.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from components import internals
from gke import limits
from gke.manifest import parse_image

CONFIG_NAMESPACE = "coditect"
ENVIRONMENTS = ("dev", "staging", "prod")
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
HOSTNAME = r"^(([a-z0-9]+|[a-z0-9][-a-z0-9]*[a-z0-9])\.)+[a-z][-a-z0-9]*[a-z0-9]$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"

Environment = Literal["dev", "staging", "prod"]
def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"is a boolean ({str(value).lower()}), not a number")
    return value


# Booleans are not numbers (YAML `replicas: true` is not 1) and numbers are not booleans: whole
# numbers and flags arrive typed (the stack file's YAML, or `pulumi config set --path`, which stores
# true/false as booleans and integers as numbers). A fraction may arrive as text ("0.5"): that
# command stores anything but an integer as a string.
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Fraction = Annotated[float, BeforeValidator(_not_a_boolean), Field(ge=0.0, le=1.0, allow_inf_nan=False)]

# Kubernetes object names are RFC 1123 labels; a Service port name is an IANA service name (15 at most).
DnsLabel = Annotated[str, StringConstraints(pattern=DNS_LABEL, max_length=63)]
PortName = Annotated[str, StringConstraints(pattern=DNS_LABEL, max_length=15)]


# The error type of cross-field problems: its context carries (config key, problem) pairs, so each is
# reported under its own key without parsing a message.
CONFLICT_ERROR = "settings_conflict"


def conflict(problems: list[tuple[str, str]]) -> PydanticCustomError:
    return PydanticCustomError(CONFLICT_ERROR, "{count} settings conflict", {"count": len(problems), "problems": tuple(problems)})


class SettingsError(pulumi.RunError):
    """Stack configuration is invalid; the message lists every problem with its fix."""


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        coerce_numbers_to_str=True,
    )


# Kubernetes quantity suffixes (k8s.io/apimachinery resource.Quantity): decimal SI and binary.
QUANTITY_FACTORS: dict[str, Decimal] = {"": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12),
                                         "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40)}


def quantity(text: str) -> Decimal:
    """The value of a quantity that matched QUANTITY, e.g. "250m" -> 0.25, "1Gi" -> 1073741824."""
    number = text.rstrip("".join(set("".join(QUANTITY_FACTORS))))
    return Decimal(number) * QUANTITY_FACTORS[text[len(number):]]


class ContainerResources(Model):
    cpu_request: str = Field("250m", pattern=QUANTITY)
    memory_request: str = Field("256Mi", pattern=QUANTITY)
    cpu_limit: str = Field("1", pattern=QUANTITY)
    memory_limit: str = Field("1Gi", pattern=QUANTITY)

    def request_problems(self) -> list[tuple[str, str]]:
        """(key, problem) where a request exceeds its limit: the API server rejects such a pod."""
        problems = []
        for kind, request, limit in (("cpu", self.cpu_request, self.cpu_limit), ("memory", self.memory_request, self.memory_limit)):
            if quantity(request) > quantity(limit):
                problems.append((f"{kind}Request", f"({request}) is above {kind}Limit ({limit}); Kubernetes rejects a request above its limit"))
        return problems


class Resources(Model):
    nginx: ContainerResources = ContainerResources(
        cpu_request="100m", memory_request="64Mi", cpu_limit="500m", memory_limit="256Mi"
    )
    ide: ContainerResources = ContainerResources(
        cpu_request="500m", memory_request="1Gi", cpu_limit="2", memory_limit="4Gi"
    )


def _image_reference(image: str) -> str:
    if parse_image(image) is None:
        raise ValueError(f"{image[:120]!r} is not an image reference: registry/repository[:tag][@sha256:<64 lower-case hex>]")
    return image


ImageReferenceText = Annotated[str, AfterValidator(_image_reference)]


class Images(Model):
    nginx: ImageReferenceText = Field(description="the nginx front container (serves the IDE and proxies Socket.IO)")
    ide: ImageReferenceText = Field(description="the IDE server (Theia) container")


class Release(Model):
    """What moves between stacks on promotion: the app version and the image of every container."""

    version: str = Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][-A-Za-z0-9_.]*$")
    images: Images

    @field_validator("version", mode="before")
    @classmethod
    def _text(cls, version: Any) -> Any:
        if isinstance(version, (bool, float)):
            raise ValueError(f"is {version!r}, not text: YAML reads 1.10 as the number 1.1; quote the version ('1.10')")
        return version


class Autoscaling(Model):
    enabled: Bool = False
    min_replicas: Int = Field(2, ge=1, le=100)
    max_replicas: Int = Field(6, ge=1, le=100)
    target_cpu_utilization: Int = Field(70, ge=10, le=95)

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"maxReplicas ({self.max_replicas}) is below minReplicas ({self.min_replicas}); set maxReplicas >= minReplicas"
            )
        return self


class DeploymentSettings(Model):
    name: DnsLabel = "coditect-combined"
    replicas: Int = Field(3, ge=1, le=100)
    serving_port: Int = Field(8080, ge=1024, le=65535, description="nginx listens here; unprivileged (>= 1024)")
    ide_port: Int = Field(3000, ge=1024, le=65535, description="the IDE server listens here, behind nginx")
    health_path: str = Field("/healthz", pattern=r"^/[A-Za-z0-9/_.-]*$")
    run_as_user: Int = Field(10001, ge=10000, le=2147483647, description=">= 10000: never a host user")
    # Keep serving while the load balancer drains this pod's connections; SIGTERM comes after it.
    # Unset: backendConfig.drainingTimeoutSec (see Settings._derive_pre_stop).
    pre_stop_seconds: Int | None = Field(None, ge=0, le=3600, description="default: backendConfig.drainingTimeoutSec")
    termination_grace_period_seconds: Int = Field(120, ge=1, le=7200)
    resources: Resources = Resources()
    min_available: Int = Field(1, ge=0, le=100, description="PodDisruptionBudget minAvailable")

    @model_validator(mode="after")
    def _ports_differ(self) -> DeploymentSettings:
        if self.serving_port == self.ide_port:
            raise ValueError(f"servingPort and idePort are both {self.serving_port}; give the IDE its own port")
        return self


class ServiceSettings(Model):
    name: DnsLabel = "coditect-combined-service"
    port: Int = Field(80, ge=1, le=65535)
    port_name: PortName = "http"


class HealthCheckSettings(Model):
    check_interval_sec: Int = Field(15, ge=limits.HEALTH_CHECK_INTERVAL_SEC[0], le=limits.HEALTH_CHECK_INTERVAL_SEC[1])
    timeout_sec: Int = Field(5, ge=limits.HEALTH_CHECK_TIMEOUT_SEC[0], le=limits.HEALTH_CHECK_TIMEOUT_SEC[1])
    healthy_threshold: Int = Field(1, ge=limits.HEALTH_CHECK_THRESHOLD[0], le=limits.HEALTH_CHECK_THRESHOLD[1])
    unhealthy_threshold: Int = Field(2, ge=limits.HEALTH_CHECK_THRESHOLD[0], le=limits.HEALTH_CHECK_THRESHOLD[1])


AffinityType = Literal["NONE", "CLIENT_IP", "GENERATED_COOKIE"]


class LoggingSettings(Model):
    """Load-balancer request logs. Stated in the BackendConfig always: GKE turns them on only when it
    creates the backend service and never changes them when the block is absent."""

    enable: Bool = True
    sample_rate: Fraction = 1.0


class BackendConfigSettings(Model):
    name: DnsLabel = "coditect-backend-config"
    timeout_sec: Int = Field(86400, ge=limits.TIMEOUT_SEC[0], le=limits.TIMEOUT_SEC[1])
    session_affinity: AffinityType = "CLIENT_IP"
    # Production carries 86400 although GKE applies the TTL only to GENERATED_COOKIE affinity.
    affinity_cookie_ttl_sec: Int = Field(86400, ge=limits.AFFINITY_COOKIE_TTL_SEC[0], le=limits.AFFINITY_COOKIE_TTL_SEC[1])
    draining_timeout_sec: Int = Field(60, ge=limits.DRAINING_TIMEOUT_SEC[0], le=limits.DRAINING_TIMEOUT_SEC[1])
    health_check: HealthCheckSettings = HealthCheckSettings()
    logging: LoggingSettings = LoggingSettings()


class SocketIOSettings(Model):
    path: str = Field("/theia/socket.io/", pattern=r"^/([A-Za-z0-9_.-]+/)+$", description="starts and ends with /")
    min_session_sec: Int = Field(limits.DEFAULT_MIN_SESSION_SEC, ge=1, le=limits.TIMEOUT_SEC[1], description="shortest WebSocket session that must survive")


class StaticIpSettings(Model):
    enabled: Bool = True
    name: str | None = Field(None, pattern=DNS_LABEL, max_length=63,
                                description="global address name; default coditect-<environment>-ip")


class TlsSettings(Model):
    enabled: Bool = True
    ssl_policy_profile: Literal["MODERN", "RESTRICTED"] = "MODERN"
    min_tls_version: Literal["TLS_1_2", "TLS_1_3"] = "TLS_1_2"
    redirect_to_https: Bool = True
    # GKE's HTTPS redirect lives on the HTTP frontend: turning HTTP off disables the redirect.
    allow_http: Bool = True


class RateLimitSettings(Model):
    """Per-client limit on Socket.IO handshakes (GETs without a sid). A browser opens one session per
    tab and reconnects with backoff, so it never comes near this."""

    handshakes_per_minute: Int = Field(120, ge=10, le=10000)
    ban_duration_sec: Int = Field(300, ge=60, le=86400)


# Google's preconfigured WAF rule sets are named <attack>-v<NN>-<stable|canary> (e.g. sqli-v33-stable);
# anything else would be pasted into a CEL expression.
PRECONFIGURED_WAF = r"^[a-z0-9]+(-[a-z0-9]+)*-v[0-9]{2}-(stable|canary)$"
WAF_RULE_DESCRIPTION = "OWASP preconfigured WAF: {}"  # the Cloud Armor rule's description (at most 64 characters)


class CloudArmorSettings(Model):
    """``enabled`` attaches the policy to the backend. Turning it off takes two ``pulumi up``s: first
    ``enabled: false`` detaches it (the BackendConfig states an empty policy name; a missing block
    would leave it attached) while the policy itself is kept; once GKE has applied that,
    ``keepDetachedPolicy: false`` deletes it (Compute refuses to delete a policy still in use). A
    stack that never had one sets both false."""

    enabled: Bool = True
    keep_detached_policy: Bool = True
    mode: Literal["preview", "enforce"] = "enforce"
    waf_rules: tuple[str, ...] = ("sqli-v33-stable", "xss-v33-stable", "lfi-v33-stable", "rce-v33-stable")
    rate_limit: RateLimitSettings = RateLimitSettings()

    @field_validator("waf_rules")
    @classmethod
    def _preconfigured(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if not re.fullmatch(PRECONFIGURED_WAF, name):  # fullmatch: `$` in re.match also matches before a final newline
                raise ValueError(f"{name[:80]!r} is not a Google preconfigured WAF rule set name such as sqli-v33-stable")
            if len(WAF_RULE_DESCRIPTION.format(name)) > limits.SECURITY_POLICY_RULE_DESCRIPTION_MAX:
                raise ValueError(f"{name!r} is too long: its Cloud Armor rule description would exceed "
                                 f"{limits.SECURITY_POLICY_RULE_DESCRIPTION_MAX} characters")
        if len(set(names)) != len(names):
            raise ValueError("lists a rule set twice")
        return names


class MonitoringSettings(Model):
    enabled: Bool = True
    period_sec: Literal[60, 300, 600, 900] = 300
    failures_before_alert: Int = Field(3, ge=1, le=10, description="consecutive check periods that must fail")
    failing_regions: Int = Field(2, ge=1, le=6, description="checker regions that must fail in the same period")
    notification_channels: tuple[str, ...] = Field(
        (), description="notification channel resource names: projects/<p>/notificationChannels/<id>")

    @field_validator("notification_channels")
    @classmethod
    def _channels(cls, channels: tuple[str, ...]) -> tuple[str, ...]:
        for channel in channels:
            if not re.fullmatch(r"projects/[a-z0-9-]+/notificationChannels/[0-9]+", channel):
                raise ValueError(f"{channel!r} is not projects/<project>/notificationChannels/<id>")
        return channels


class GcpSettings(Model):
    static_ip: StaticIpSettings = StaticIpSettings()
    tls: TlsSettings = TlsSettings()
    cloud_armor: CloudArmorSettings = CloudArmorSettings()
    monitoring: MonitoringSettings = MonitoringSettings()


class ClusterPreconditions(Model):
    """What the cluster must provide for the containment here to mean anything (containment-facts E.2,
    P1-P6). The project does not own the cluster: these are declarations, checked against what the stack
    needs (a prod stack on a cluster that enforces no NetworkPolicy, or without Workload Identity, is
    refused: every egress policy would be inert and the metadata server would hand out the node's
    credentials)."""

    network_policy: Literal["dataplane-v2", "calico", "none"] = "none"  # P1: who enforces NetworkPolicy
    workload_identity: Bool = False  # P2: GKE_METADATA on every node pool that can run IDE pods
    sandbox_node_pool: Bool = False  # P3: a gVisor node pool (COS_CONTAINERD) exists
    least_privilege_node_service_account: Bool = False  # P4: not the Compute default service account
    kubelet_read_only_port: Bool = True  # P5: 10255 open unless turned off
    limited_anonymous_auth: Bool = False  # P6
    # The resolver the cluster serves is declared as containment.dns (the egress is derived from it);
    # Settings hands it here so that `ops inspect` compares it with the cluster beside P1-P6.
    _dns: str | None = PrivateAttr(default=None)

    @property
    def dns(self) -> str | None:
        """containment.dns of the stack these preconditions belong to (None outside a Settings)."""
        return self._dns


class ClusterSettings(Model):
    """The cluster the stack deploys to. The program declares its own Kubernetes provider with this
    kubeconfig context, so ``pulumi up -s prod`` never acts on whatever context happens to be current.
    ``gcloud container clusters get-credentials NAME --location LOC --project P`` names it
    ``gke_P_LOC_NAME``."""

    context: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]*$")
    # For the one `pulumi up` that takes over objects created by kubectl: the provider then creates
    # by updating what exists (upsert) and forces server-side apply over kubectl's field ownership
    # (patch force). Set it for that run only.
    adopt: Bool = False
    preconditions: ClusterPreconditions = ClusterPreconditions()


class IngressSettings(Model):
    name: DnsLabel = "coditect-ingress"


# The namespaces a cluster starts with (kubernetes.io/docs/concepts/overview/working-with-objects/namespaces).
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


class ContainmentSettings(Model):
    """The IDE runs its users' code: its pods may reach DNS and the internet on the declared ports,
    nothing in the cluster, the VPC or the metadata server, and run in GKE Sandbox (gVisor) where on."""

    sandbox: Bool = False  # runtimeClassName gvisor; prod requires it
    # The resolver the IDE pods query, so where UDP/TCP 53 may go: the cluster's, read and compared by
    # `ops inspect` (addonsConfig.dnsCacheConfig, networkConfig.dnsConfig). node-local by default:
    # NodeLocal DNSCache is always on in Autopilot and on by default in Standard clusters from
    # 1.34.1-gke.3720000 (https://cloud.google.com/kubernetes-engine/docs/how-to/nodelocal-dns-cache),
    # and its rule keeps the kube-dns pods as fallback, so it also serves an older kube-dns-only cluster.
    # cloud-dns: Cloud DNS without the cache (169.254.169.254:53 only).
    dns: Literal["node-local", "kube-dns", "cloud-dns"] = "node-local"
    internet_ports: tuple[Int, ...] = Field((443,), min_length=1)  # e.g. package registries on 443
    # The cluster's pod, service, node and control-plane ranges: excepted from internet egress.
    cluster_ranges: tuple[str, ...] = ()

    @field_validator("internet_ports")
    @classmethod
    def _ports(cls, ports: tuple[int, ...]) -> tuple[int, ...]:
        for port in ports:
            if not 1 <= port <= 65535:
                raise ValueError(f"{port} is not a port (1..65535)")
            if port == 53:
                raise ValueError("53 is DNS, which goes to the declared resolver only; remove it")
        return ports

    @field_validator("cluster_ranges")
    @classmethod
    def _ranges(cls, ranges: tuple[str, ...]) -> tuple[str, ...]:
        for text in ranges:
            try:
                ipaddress.ip_network(text, strict=True)
            except ValueError as error:
                raise ValueError(f"{text[:60]!r} is not a CIDR range ({error})") from None
        return ranges


class InspectionSettings(Model):
    """After `pulumi up` creates or changes the Ingress or the BackendConfig, prove that GKE applied them
    (the hook in components/inspect_hook.py runs `ops inspect`'s checks until they converge)."""

    after_up: Literal["off", "warn", "fail"] | None = None  # default: fail in prod, warn elsewhere
    deadline_sec: Int = Field(600, ge=30, le=3600)
    interval_sec: Int = Field(15, ge=5, le=300)


class Settings(Model):
    environment: Environment
    namespace: DnsLabel = "coditect-app"
    hosts: tuple[str, ...] = Field(("coditect.ai",), min_length=1)
    release: Release
    deployment: DeploymentSettings = DeploymentSettings()
    autoscaling: Autoscaling = Autoscaling()
    service: ServiceSettings = ServiceSettings()
    backend_config: BackendConfigSettings = BackendConfigSettings()
    socketio: SocketIOSettings = SocketIOSettings()
    ingress: IngressSettings = IngressSettings()
    gcp: GcpSettings = GcpSettings()
    cluster: ClusterSettings
    containment: ContainmentSettings = ContainmentSettings()
    inspection: InspectionSettings = InspectionSettings()

    @field_validator("namespace")
    @classmethod
    def _own_namespace(cls, namespace: str) -> str:
        if namespace in SYSTEM_NAMESPACES:
            raise ValueError(f"is {namespace!r}, a namespace Kubernetes itself uses; give the app a namespace of its own")
        return namespace

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        for host in hosts:
            if not re.fullmatch(HOSTNAME, host) or len(host) > 253 or any(len(label) > 63 for label in host.split(".")):
                raise ValueError(f"{host[:120]!r} is not a lower-case DNS name such as coditect.ai "
                                 "(labels of at most 63 characters, no wildcards, no scheme)")
        duplicates = sorted({h for h in hosts if hosts.count(h) > 1})
        if duplicates:
            raise ValueError(f"{', '.join(duplicates)} listed more than once; GKE keeps only the last rule per host")
        return hosts

    @property
    def inspection_mode(self) -> Literal["off", "warn", "fail"]:
        return self.inspection.after_up or ("fail" if self.environment == "prod" else "warn")

    @property
    def gcp_prefix(self) -> str:
        """Prefix of every GCP resource name, so stacks sharing a project never collide."""
        return f"coditect-{self.environment}"

    @model_validator(mode="after")
    def _derive_pre_stop(self) -> Settings:
        """preStopSeconds defaults to the draining timeout: pods keep serving while the load balancer
        drains them, and get SIGTERM only after it (the shutdown sequence in the README)."""
        deployment, draining = self.deployment, self.backend_config.draining_timeout_sec
        if deployment.pre_stop_seconds is not None:
            return self
        if draining >= deployment.termination_grace_period_seconds:
            raise conflict([("deployment.terminationGracePeriodSeconds",
                             f"({deployment.termination_grace_period_seconds}) must be longer than the preStop delay, which is "
                             f"backendConfig.drainingTimeoutSec ({draining}) unless deployment.preStopSeconds is set: raise it above {draining}")])
        return self.model_copy(update={"deployment": deployment.model_copy(update={"pre_stop_seconds": draining})})

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Settings:
        # (config key, problem) pairs; format_errors reports each under its own key.
        problems = [*self._prod_problems(), *self._pod_problems(), *self._google_cloud_problems()]
        if problems:
            raise conflict(problems)
        return self

    @model_validator(mode="after")
    def _declare_cluster_dns(self) -> Settings:
        self.cluster.preconditions._dns = self.containment.dns
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
        for key, enabled in (("gcp.tls.enabled", gcp.tls.enabled), ("gcp.tls.redirectToHttps", gcp.tls.redirect_to_https),
                             ("gcp.cloudArmor.enabled", gcp.cloud_armor.enabled), ("gcp.monitoring.enabled", gcp.monitoring.enabled),
                             ("gcp.staticIp.enabled", gcp.static_ip.enabled)):
            if not enabled:
                problems.append((key, "is false; prod requires it (TLS with HTTPS redirect, Cloud Armor, uptime alerting, a static IP)"))
        if gcp.monitoring.enabled and not gcp.monitoring.notification_channels:
            problems.append(("gcp.monitoring.notificationChannels", "is empty; prod alerts must reach someone"))
        if not self.containment.sandbox:
            problems.append(("containment.sandbox", "is false; prod runs its users' code in GKE Sandbox (gVisor)"))
        declared = self.cluster.preconditions
        if declared.network_policy == "none":
            problems.append(("cluster.preconditions.networkPolicy",
                             "is none; prod needs a cluster that enforces NetworkPolicy (Dataplane V2 or Calico), or every egress policy is inert"))
        if not declared.workload_identity:
            problems.append(("cluster.preconditions.workloadIdentity",
                             "is false; without Workload Identity (GKE_METADATA) the metadata server hands IDE pods the node's credentials"))
        return problems

    def _pod_problems(self) -> list[tuple[str, str]]:
        """Pods Kubernetes would reject, or could never evict, or kill too early."""
        problems = []
        fewest_pods = self.autoscaling.min_replicas if self.autoscaling.enabled else self.deployment.replicas
        if self.deployment.min_available >= fewest_pods:
            problems.append(("deployment.minAvailable",
                             f"is {self.deployment.min_available} with as few as {fewest_pods} pod(s): the PodDisruptionBudget then allows no "
                             "eviction, so node drains and upgrades hang; keep it below the pod count"))
        for role, resources in (("nginx", self.deployment.resources.nginx), ("ide", self.deployment.resources.ide)):
            problems += [(f"deployment.resources.{role}.{key}", text) for key, text in resources.request_problems()]
        if self.containment.sandbox and not self.cluster.preconditions.sandbox_node_pool:
            problems.append(("cluster.preconditions.sandboxNodePool",
                             "is false while containment.sandbox is on: gVisor pods schedule only on a sandbox node pool"))
        pre_stop = self.deployment.pre_stop_seconds
        if pre_stop is not None and pre_stop >= self.deployment.termination_grace_period_seconds:
            problems.append(("deployment.preStopSeconds",
                             f"({pre_stop}) must be shorter than terminationGracePeriodSeconds ({self.deployment.termination_grace_period_seconds}), "
                             "or Kubernetes kills the pod during its preStop delay"))
        return problems

    def _google_cloud_problems(self) -> list[tuple[str, str]]:
        """Google Cloud settings the APIs refuse, or that have no effect as combined."""
        problems = []
        tls = self.gcp.tls
        if tls.enabled and tls.min_tls_version == "TLS_1_3" and tls.ssl_policy_profile not in limits.TLS_1_3_PROFILES:
            problems.append(("gcp.tls.sslPolicyProfile",
                             f"is {tls.ssl_policy_profile} with minTlsVersion TLS_1_3; Compute accepts TLS 1.3 only with profile RESTRICTED"))
        long_hosts = [h for h in self.hosts if len(h) > limits.MANAGED_CERTIFICATE_DOMAIN_MAX]
        if tls.enabled and long_hosts:
            problems.append(("hosts", f"{', '.join(long_hosts)} is longer than {limits.MANAGED_CERTIFICATE_DOMAIN_MAX} characters, "
                                      "the most a ManagedCertificate domain may have; use a shorter host or disable gcp.tls"))
        if self.gcp.monitoring.enabled and not self.backend_config.logging.enable:
            problems.append(("backendConfig.logging.enable",
                             "is false while gcp.monitoring is on: its request metric and dashboard read the load balancer's request logs"))
        if self.gcp.cloud_armor.enabled and not self.gcp.cloud_armor.waf_rules:
            problems.append(("gcp.cloudArmor.wafRules", "is empty with Cloud Armor on: the policy would only rate-limit; list the WAF rule sets"))
        if tls.redirect_to_https and not tls.enabled:
            problems.append(("gcp.tls.redirectToHttps", "is true without TLS: there is no HTTPS to redirect to (set it false, or enable gcp.tls)"))
        if not tls.allow_http and not tls.enabled:
            problems.append(("gcp.tls.allowHttp", "is false without TLS: the load balancer would serve nothing"))
        return problems



# --- reading the stack's config ---------------------------------------------------------------


def _decode(value: Any) -> Any:
    """Pulumi hands object and array config over as JSON text, scalars as plain text."""
    if not isinstance(value, str):
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, (dict, list)) else value


def project_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """The `coditect:` keys of an engine config map, without the namespace, decoded."""
    prefix = f"{CONFIG_NAMESPACE}:"
    return {key[len(prefix):]: _decode(value) for key, value in config.items() if key.startswith(prefix)}


def raw_config() -> dict[str, Any]:
    """Every `coditect:` key the engine passed in, without the namespace, decoded."""
    return project_keys(internals.engine_config())


def _key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        elif item in {"function-after", "function-before"} or str(item).startswith("function-"):
            continue
        else:
            parts.append(str(item))
    return ".".join(parts)


SHOWN_VALUE_MAX = 120


def shown_value(value: Any) -> str:
    """A value as an error shows it: its repr, cut to a readable length (a stack file can hold megabytes)."""
    text = repr(value)
    if len(text) <= SHOWN_VALUE_MAX:
        return text
    return f"{text[:SHOWN_VALUE_MAX]}... ({len(text)} characters)"


def format_errors(error: ValidationError, stack: str | None = None) -> str:
    stack_file = f"Pulumi.{stack}.yaml" if stack else "the stack file"
    lines = [f"Invalid stack configuration ({stack_file}):"]
    for item in error.errors():
        key = _key(tuple(item["loc"]))
        message = item["msg"].removeprefix("Value error, ")
        got = item.get("input")
        if item["type"] == CONFLICT_ERROR:  # cross-field rules: one line per offending key
            for rule_key, text in item.get("ctx", {}).get("problems", ()):
                full = f"{CONFIG_NAMESPACE}:{'.'.join(p for p in (key, rule_key) if p)}"
                lines.append(f"  - {full}: {text}. Fix: pulumi config set --path '{full}' <value> (or edit {stack_file})")
            continue
        full = f"{CONFIG_NAMESPACE}:{key}" if key else f"{CONFIG_NAMESPACE} (whole stack)"
        fix = f"pulumi config set --path '{full}' <value>" if key else f"edit {stack_file}"
        if item["type"] == "extra_forbidden":
            message = "is not a known setting (typo?)"
            fix = f"pulumi config rm --path '{full}', or correct its name in {stack_file}"
        elif item["type"] == "missing":
            message = "is required but not set"
        got_text = "" if item["type"] == "missing" or isinstance(got, Mapping) else f" (got {shown_value(got)})"
        lines.append(f"  - {full}: {message}{got_text}. Fix: {fix}")
    return "\n".join(lines)


def parse_settings(raw: Mapping[str, Any], stack: str | None = None) -> Settings:
    try:
        return Settings.model_validate(dict(raw))
    except ValidationError as error:
        raise SettingsError(format_errors(error, stack)) from None


def load_settings() -> Settings:
    """Settings of the running stack (under the engine or under mocks)."""
    return parse_settings(raw_config(), pulumi.get_stack())
