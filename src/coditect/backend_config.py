"""The BackendConfig (cloud.google.com/v1) that carries timeout, affinity, draining and health check."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from coditect.base import PART_OF, child_opts, manifest, type_token
from coditect.deployment import HealthEndpoint
from coditect.gke import limits
from coditect.namespace import AppNamespace
from coditect.plan import declare
from coditect.settings import BackendConfigSettings


class BackendConfig(pulumi.ComponentResource):
    """GKE BackendConfig for a Socket.IO backend.

    Every block is set explicitly: GKE never resets a backend-service field whose block is later
    removed. ``affinityCookieTtlSec`` is kept as production has it; GKE applies it only to
    GENERATED_COOKIE affinity. The health check is derived from the Deployment's health endpoint.
    """

    namespace: AppNamespace
    name: str
    session_affinity: str
    settings: BackendConfigSettings
    health: HealthEndpoint
    resource: k8s.apiextensions.CustomResource

    def __init__(
        self,
        resource_name: str,
        namespace: AppNamespace,
        settings: BackendConfigSettings,
        health: HealthEndpoint,
        security_policy: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("BackendConfig"), resource_name, None, opts)
        self.namespace = namespace
        self.name = settings.name
        self.session_affinity = settings.session_affinity
        self.settings, self.health = settings, health  # what the spec is made from: others compare these, not the spec
        self.spec = backend_config_spec(settings, health, security_policy)
        metadata = k8s.meta.v1.ObjectMetaArgs(name=settings.name, namespace=namespace.name, labels=dict(PART_OF))
        self.manifest = manifest(limits.BACKEND_CONFIG_API_VERSION, "BackendConfig", metadata, self.spec)

        def create() -> None:
            self.resource = k8s.apiextensions.CustomResource(
                resource_name,
                api_version=limits.BACKEND_CONFIG_API_VERSION,
                kind="BackendConfig",
                metadata=metadata,
                spec=self.spec,
                opts=child_opts(self, [namespace]),
            )
            self.register_outputs({"name": settings.name})

        declare(f"BackendConfig {namespace.name}/{settings.name}", [self.manifest], create)


def backend_config_spec(settings: BackendConfigSettings, health: HealthEndpoint, security_policy: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "timeoutSec": settings.timeout_sec,
        "connectionDraining": {"drainingTimeoutSec": settings.draining_timeout_sec},
        "sessionAffinity": {
            "affinityType": settings.session_affinity,
            "affinityCookieTtlSec": settings.affinity_cookie_ttl_sec,
        },
        "healthCheck": {
            "type": "HTTP",
            "requestPath": health.path,
            # With NEG the health check goes to the pod: the container port, not the Service port.
            "port": health.port.number,
            "checkIntervalSec": settings.health_check.check_interval_sec,
            "timeoutSec": settings.health_check.timeout_sec,
            "healthyThreshold": settings.health_check.healthy_threshold,
            "unhealthyThreshold": settings.health_check.unhealthy_threshold,
        },
    }
    # Stated even when Cloud Armor is off: GKE leaves an attached policy in place when the block is
    # absent and detaches it only on an empty name (limits.UNRESET_BACKEND_CONFIG_BLOCKS).
    spec["securityPolicy"] = {"name": security_policy if security_policy is not None else limits.DETACH_SECURITY_POLICY}
    logging = settings.logging
    spec["logging"] = {"enable": True, "sampleRate": logging.sample_rate} if logging.enable else {"enable": False}
    return spec
