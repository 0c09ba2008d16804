"""Everything a stack can configure, as one pydantic model tree.

Defaults are the production state that fixed the outage: namespace ``coditect-app``, Deployment
``coditect-combined``, Service ``coditect-combined-service``, BackendConfig with CLIENT_IP
affinity, ``affinityCookieTtlSec: 86400`` and ``timeoutSec: 86400``, one Ingress for every path.

Keys are the camelCase names of the stack file (``coditect:backendConfig`` ...). Unknown keys
are errors. ``load_settings`` turns validation errors into one ``SettingsError`` (a
``pulumi.RunError``: ``pulumi preview`` prints its message, not a traceback) that names each
config key, what is allowed and how to fix it.

Settings own types and ranges, and the rules between settings that no object shows; a judgement
about the declared objects belongs to the GKE rules (policy/gke), whose findings the program maps
back to the config key (src/coditect/app.py CONFIG_KEY_OF_RULE).

- ``types``: strict numbers and flags, the constrained strings and bounded lists;
- ``workload`` and ``platform``: the models of each area;
- ``root``: ``AppSettings`` (what a consumer of the app chooses), ``Settings`` (the stack's: the app's and
  its cluster) and their cross-field rules;
- ``source``: reading the engine's config;
- ``errors``: ``SettingsError`` and the one-line-per-key message.
"""

from coditect.settings.errors import CONFIG_NAMESPACE, CONFLICT_ERROR, SettingsError, conflict, format_errors, shown_value
from coditect.settings.front_door import GATEWAY, INGRESS, FrontDoor, GatewaySettings, gateway_static_ip_name, ingress_static_ip_name
from coditect.settings.platform import (
    CloudArmorSettings,
    ClusterPreconditions,
    ClusterSettings,
    ContainmentSettings,
    GcpSettings,
    InspectionSettings,
    MonitoringSettings,
    RateLimitSettings,
    StaticIpSettings,
    TlsSettings,
)
from coditect.settings.root import SYSTEM_NAMESPACES, AppSettings, Settings
from coditect.settings.source import load_settings, parse_settings, project_keys, raw_config
from coditect.settings.types import (
    WAF_RULE_DESCRIPTION,
    Entries,
    Grammar,
    Model,
    constrained_settings,
    pattern_string,
    quantity,
)
from coditect.settings.workload import (
    Autoscaling,
    BackendConfigSettings,
    ContainerResources,
    DeploymentSettings,
    HealthCheckSettings,
    Images,
    IngressSettings,
    LoggingSettings,
    Release,
    Resources,
    ServiceSettings,
    SocketIOSettings,
)

__all__ = [
    "CONFIG_NAMESPACE",
    "CONFLICT_ERROR",
    "GATEWAY",
    "INGRESS",
    "SYSTEM_NAMESPACES",
    "WAF_RULE_DESCRIPTION",
    "AppSettings",
    "Autoscaling",
    "BackendConfigSettings",
    "CloudArmorSettings",
    "ClusterPreconditions",
    "ClusterSettings",
    "ContainerResources",
    "ContainmentSettings",
    "DeploymentSettings",
    "Entries",
    "FrontDoor",
    "GatewaySettings",
    "GcpSettings",
    "Grammar",
    "HealthCheckSettings",
    "Images",
    "IngressSettings",
    "InspectionSettings",
    "LoggingSettings",
    "Model",
    "MonitoringSettings",
    "RateLimitSettings",
    "Release",
    "Resources",
    "ServiceSettings",
    "Settings",
    "SettingsError",
    "SocketIOSettings",
    "StaticIpSettings",
    "TlsSettings",
    "conflict",
    "constrained_settings",
    "format_errors",
    "gateway_static_ip_name",
    "ingress_static_ip_name",
    "load_settings",
    "parse_settings",
    "pattern_string",
    "project_keys",
    "quantity",
    "raw_config",
    "shown_value",
]
