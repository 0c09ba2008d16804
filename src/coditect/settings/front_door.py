"""Settings of the front doors: the GKE Ingress (today's), the GKE Gateway beside it or instead of it.

``frontDoors`` lists which the stack declares: ``[ingress]`` (the default, what every stack had),
``[ingress, gateway]`` (both side by side on two static IPs, the migration of
https://cloud.google.com/kubernetes-engine/docs/how-to/migrate-ingress-gateway), or ``[gateway]``.
The Gateway's backend (timeout, affinity, draining, health check, Cloud Armor, logging) is made from
the same ``backendConfig`` and ``deployment`` settings as the BackendConfig: there is no second copy.
"""

from __future__ import annotations

from typing import Annotated, Literal, Protocol

from pydantic import Field

from coditect.settings.platform import GcpSettings
from coditect.settings.types import DNS_LABEL, DnsLabel, Entries, Model, pattern_string

FrontDoor = Literal["ingress", "gateway"]
INGRESS: FrontDoor = "ingress"
GATEWAY: FrontDoor = "gateway"

# The Gateway API CRD bundles a GKE cluster may have (its CRDs' gateway.networking.k8s.io/bundle-version).
BundleVersion = Literal["v1.3.0", "v1.5.1"]
# RequestRedirect statusCode: 301 and 302 in the v1.3.0 CRD's enum, 303/307/308 added by v1.5 (kubernetes-sigs/gateway-api
# config/crd/standard/gateway.networking.k8s.io_httproutes.yaml at v1.3.0 and v1.5.1). 303 turns a POST into a GET: not offered.
RedirectStatusCode = Literal[301, 302, 307, 308]
STATUS_CODES_SINCE_V1_5: frozenset[int] = frozenset({307, 308})
BUNDLES_WITH_307_308: frozenset[str] = frozenset({"v1.5.1"})

# The HTTPRoutes are named <gateway name>-app and <gateway name>-redirect: both must stay RFC 1123 labels.
ROUTE_SUFFIXES = ("-app", "-redirect")
GATEWAY_NAME_MAX = 63 - max(len(s) for s in ROUTE_SUFFIXES)
GatewayName = Annotated[
    str,
    pattern_string(
        "an RFC 1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)",
        DNS_LABEL,
        example="coditect-gateway",
        max_length=GATEWAY_NAME_MAX,
        length_reason="its HTTPRoute <name>-redirect must stay an RFC 1123 label of at most 63",
    ),
]

# How to read the bundle a cluster has (https://gateway-api.sigs.k8s.io/concepts/versioning/): the fix a refusal names.
BUNDLE_COMMAND = "kubectl get crd gateways.gateway.networking.k8s.io -o jsonpath='{.metadata.annotations.gateway\\.networking\\.k8s\\.io/bundle-version}'"


class GatewaySettings(Model):
    """The GKE Gateway (class gke-l7-global-external-managed). Its required fields are required only
    while ``gateway`` is in ``frontDoors``."""

    name: GatewayName = "coditect-gateway"
    bundle_version: BundleVersion | None = Field(
        None, description="the Gateway API CRD bundle the cluster has (v1.3.0 or v1.5.1); required with the gateway front door"
    )
    static_ip_name: DnsLabel | None = Field(None, description="the Gateway's own global address; default coditect-<environment>-gw-ip")
    redirect_status_code: RedirectStatusCode = Field(301, description="HTTP to HTTPS redirect; 307/308 need bundle v1.5.1")


FrontDoors = Annotated[
    tuple[FrontDoor, ...],
    Entries(2, "there are two front doors, ingress and gateway", least=1, unique=True),
]
DEFAULT_FRONT_DOORS: tuple[FrontDoor, ...] = (INGRESS,)


class Settings(Protocol):
    """What the front-door rules read of the whole settings (the root model imports this module: no import back)."""

    @property
    def front_doors(self) -> tuple[FrontDoor, ...]: ...
    @property
    def gateway(self) -> GatewaySettings: ...
    @property
    def gcp(self) -> GcpSettings: ...
    @property
    def gcp_prefix(self) -> str: ...


def gateway_static_ip_name(settings: Settings) -> str:
    return settings.gateway.static_ip_name or f"{settings.gcp_prefix}-gw-ip"


def ingress_static_ip_name(settings: Settings) -> str:
    return settings.gcp.static_ip.name or f"{settings.gcp_prefix}-ip"


def front_door_problems(settings: Settings) -> list[tuple[str, str]]:
    """(config key, problem) of the front-door settings as combined with the rest of the stack."""
    if GATEWAY not in settings.front_doors:
        return []
    gateway, problems = settings.gateway, []
    if gateway.bundle_version is None:
        problems.append(
            (
                "gateway.bundleVersion",
                f"is not set while frontDoors has gateway: state the Gateway API CRD bundle the cluster has (v1.3.0 or v1.5.1), read with {BUNDLE_COMMAND}",
            )
        )
    elif gateway.redirect_status_code in STATUS_CODES_SINCE_V1_5 and gateway.bundle_version not in BUNDLES_WITH_307_308:
        problems.append(
            (
                "gateway.redirectStatusCode",
                f"is {gateway.redirect_status_code}, which the {gateway.bundle_version} HTTPRoute CRD refuses (its RequestRedirect "
                "statusCode is 301 or 302 only); use 301, or a cluster with bundle v1.5.1",
            )
        )
    if gateway_static_ip_name(settings) == ingress_static_ip_name(settings):
        problems.append(
            (
                "gateway.staticIpName",
                f"is {gateway_static_ip_name(settings)!r}, the Ingress's static IP: the Gateway's load balancer needs a global address "
                "of its own (both front doors serve side by side until DNS moves); give it another name",
            )
        )
    tls = settings.gcp.tls
    if not tls.enabled:
        problems.append(("gcp.tls.enabled", "is false while frontDoors has gateway: the Gateway serves HTTPS with the stack's SSL policy; enable gcp.tls"))
    elif not tls.redirect_to_https:
        problems.append(
            (
                "gcp.tls.redirectToHttps",
                "is false while frontDoors has gateway: the Gateway always redirects HTTP to HTTPS (its redirect HTTPRoute); set it true",
            )
        )
    # Not the frontendconfig-redirect-needs-http rule's copy: the Gateway's manifests carry no allow-http setting (its
    # HTTP listener on port 80 is always declared, for the redirect route), so no rule could see this and it would be ignored.
    if tls.enabled and not tls.allow_http:  # without TLS the stack refuses it already (root.py)
        problems.append(
            (
                "gcp.tls.allowHttp",
                "is false while frontDoors has gateway: the Gateway always serves HTTP on port 80, where its redirect HTTPRoute "
                "sends clients to HTTPS, so the setting cannot be honoured; set it true (or remove it)",
            )
        )
    return problems
