"""Settings of the Kubernetes objects: the release, the Deployment and its autoscaling, the Service, the
BackendConfig, Socket.IO and the Ingress."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from coditect.gke import limits
from coditect.settings.types import (
    Bool,
    DirectoryPath,
    DnsLabel,
    Fraction,
    HttpPath,
    ImageReference,
    Int,
    LabelValue,
    Model,
    PortName,
    Quantity,
    quantity,
)


class ContainerResources(Model):
    cpu_request: Quantity = "250m"
    memory_request: Quantity = "256Mi"
    cpu_limit: Quantity = "1"
    memory_limit: Quantity = "1Gi"

    def request_problems(self) -> list[tuple[str, str]]:
        """(key, problem) where a request exceeds its limit: the API server rejects such a pod."""
        problems = []
        for kind, request, limit in (("cpu", self.cpu_request, self.cpu_limit), ("memory", self.memory_request, self.memory_limit)):
            if quantity(request) > quantity(limit):
                problems.append((f"{kind}Request", f"({request}) is above {kind}Limit ({limit}); Kubernetes rejects a request above its limit"))
        return problems


class Resources(Model):
    nginx: ContainerResources = ContainerResources(cpu_request="100m", memory_request="64Mi", cpu_limit="500m", memory_limit="256Mi")
    ide: ContainerResources = ContainerResources(cpu_request="500m", memory_request="1Gi", cpu_limit="2", memory_limit="4Gi")


class Images(Model):
    nginx: ImageReference = Field(description="the nginx front container (serves the IDE and proxies Socket.IO)")
    ide: ImageReference = Field(description="the IDE server (Theia) container")


class Release(Model):
    """What moves between stacks on promotion: the app version and the image of every container."""

    version: LabelValue = Field(description="becomes the app.kubernetes.io/version label of every pod")
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
            raise ValueError(f"maxReplicas ({self.max_replicas}) is below minReplicas ({self.min_replicas}); set maxReplicas >= minReplicas")
        return self


class DeploymentSettings(Model):
    name: DnsLabel = "coditect-combined"
    replicas: Int = Field(3, ge=1, le=100)
    serving_port: Int = Field(8080, ge=1024, le=65535, description="nginx listens here; unprivileged (>= 1024)")
    ide_port: Int = Field(3000, ge=1024, le=65535, description="the IDE server listens here, behind nginx")
    health_path: HttpPath = "/healthz"
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
    path: DirectoryPath = Field("/theia/socket.io/", description="starts and ends with /")
    min_session_sec: Int = Field(limits.DEFAULT_MIN_SESSION_SEC, ge=1, le=limits.TIMEOUT_SEC[1], description="shortest WebSocket session that must survive")


class IngressSettings(Model):
    name: DnsLabel = "coditect-ingress"
