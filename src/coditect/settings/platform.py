"""Settings of what surrounds the workload: Google Cloud (static IP, TLS, Cloud Armor, monitoring), the
cluster and its preconditions, the containment of user code, and the after-up inspection."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, field_validator

from coditect.gke import limits
from coditect.settings.types import (
    Bool,
    ClusterContext,
    ClusterRange,
    DnsLabel,
    Entries,
    Int,
    Model,
    NotificationChannel,
    WafRuleSet,
)


class StaticIpSettings(Model):
    enabled: Bool = True
    name: DnsLabel | None = Field(None, description="global address name; default coditect-<environment>-ip")


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


class CloudArmorSettings(Model):
    """``enabled`` attaches the policy to the backend. Turning it off takes two ``pulumi up``s: first
    ``enabled: false`` detaches it (the BackendConfig states an empty policy name; a missing block
    would leave it attached) while the policy itself is kept; once GKE has applied that,
    ``keepDetachedPolicy: false`` deletes it (Compute refuses to delete a policy still in use). A
    stack that never had one sets both false."""

    enabled: Bool = True
    keep_detached_policy: Bool = True
    mode: Literal["preview", "enforce"] = "enforce"
    # Google publishes fewer than 20 preconfigured rule sets (https://cloud.google.com/armor/docs/waf-rules).
    waf_rules: Annotated[tuple[WafRuleSet, ...], Entries(20, "Google's preconfigured WAF rule sets number fewer than 20", unique=True)] = (
        "sqli-v33-stable",
        "xss-v33-stable",
        "lfi-v33-stable",
        "rce-v33-stable",
    )
    rate_limit: RateLimitSettings = RateLimitSettings()


class MonitoringSettings(Model):
    enabled: Bool = True
    period_sec: Literal[60, 300, 600, 900] = 300
    failures_before_alert: Int = Field(3, ge=1, le=10, description="consecutive check periods that must fail")
    failing_regions: Int = Field(2, ge=1, le=6, description="checker regions that must fail in the same period")
    # An alerting policy names at most 16 notification channels (https://cloud.google.com/monitoring/quotas).
    notification_channels: Annotated[tuple[NotificationChannel, ...], Entries(16, "an alerting policy takes at most 16 notification channels")] = Field(
        (), description="notification channel resource names: projects/<p>/notificationChannels/<id>"
    )


class GcpSettings(Model):
    static_ip: StaticIpSettings = StaticIpSettings()
    tls: TlsSettings = TlsSettings()
    cloud_armor: CloudArmorSettings = CloudArmorSettings()
    monitoring: MonitoringSettings = MonitoringSettings()


class ClusterPreconditions(Model):
    """What the cluster must provide for the containment here to mean anything (P1-P6 below). The
    project does not own the cluster: these are declarations, checked against what the stack needs (a
    prod stack on a cluster that enforces no NetworkPolicy, or without Workload Identity, is refused:
    every egress policy would be inert and the metadata server would hand out the node's credentials)."""

    # P1: NetworkPolicy is enforced only by a network plugin that implements it
    # (https://kubernetes.io/docs/concepts/services-networking/network-policies/#prerequisites).
    network_policy: Literal["dataplane-v2", "calico", "none"] = "none"
    # P2: GKE_METADATA on every node pool that can run IDE pods
    # (https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity).
    workload_identity: Bool = False
    # P3: a gVisor node pool exists (https://cloud.google.com/kubernetes-engine/docs/how-to/sandbox-pods).
    sandbox_node_pool: Bool = False
    # P4-P6 (https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster): not the Compute
    # default service account on nodes; the kubelet's read-only port 10255 closed; anonymous access limited.
    least_privilege_node_service_account: Bool = False
    kubelet_read_only_port: Bool = True
    limited_anonymous_auth: Bool = False
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

    context: ClusterContext
    # For the one `pulumi up` that takes over objects created by kubectl: the provider then creates
    # by updating what exists (upsert) and forces server-side apply over kubectl's field ownership
    # (patch force). Set it for that run only.
    adopt: Bool = False
    preconditions: ClusterPreconditions = ClusterPreconditions()


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
    dns: limits.DnsChoice = limits.DEFAULT_DNS
    internet_ports: Annotated[tuple[Int, ...], Entries(64, "each port is an entry of the internet egress rule; a few registries need one or two", least=1)] = (
        limits.DEFAULT_INTERNET_PORTS
    )  # e.g. package registries on 443
    # The cluster's pod, service, node and control-plane ranges: excepted from internet egress.
    cluster_ranges: Annotated[tuple[ClusterRange, ...], Entries(64, "a cluster has four kinds of range: pod, service, node, control plane")] = ()

    @field_validator("internet_ports")
    @classmethod
    def _ports(cls, ports: tuple[int, ...]) -> tuple[int, ...]:
        for port in ports:
            if not 1 <= port <= 65535:
                raise ValueError(f"{port} is not a port (1..65535)")
            if port == 53:
                raise ValueError("53 is DNS, which goes to the declared resolver only; remove it")
        return ports


class InspectionSettings(Model):
    """After `pulumi up` creates or changes the Ingress or the BackendConfig, prove that GKE applied them
    (the hook in src/coditect/inspect_hook.py runs `ops inspect`'s checks until they converge)."""

    after_up: Literal["off", "warn", "fail"] | None = None  # default: fail in prod, warn elsewhere
    deadline_sec: Int = Field(600, ge=30, le=3600)
    interval_sec: Int = Field(15, ge=5, le=300)
