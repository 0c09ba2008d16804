"""The stack's front doors, from the settings' ``frontDoors``: the Ingress with its BackendConfig,
static IP, certificate and FrontendConfig; the Gateway with its own static IP and certificate map; or
both side by side. Both are made from the same Route objects and the same backend settings.

Declaration order is kept as it was for ``[ingress]`` (BackendConfig before the Service, the static IP,
TLS and the Ingress after it), so every existing stack renders as before; the Gateway's objects follow
the Ingress.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi import ResourceOptions

from coditect.backend_config import BackendConfig
from coditect.base import InvariantError
from coditect.certificate_manager import CertificateMap
from coditect.deployment import CombinedDeployment
from coditect.gateway import GatewayBackend, WebsocketGateway
from coditect.gcp import CloudArmor, StaticIp, Tls
from coditect.ingress import IngressExtras, Route, WebsocketIngress
from coditect.namespace import AppNamespace
from coditect.service import NegService
from coditect.settings import GATEWAY, INGRESS, AppSettings, gateway_static_ip_name, ingress_static_ip_name

# The options of each object, given its own (depends_on): SocketIoApp's parent and alias.
OnCluster = Callable[..., ResourceOptions]


@dataclass(frozen=True)
class FrontDoors:
    ingress: WebsocketIngress | None
    static_ip: StaticIp | None  # the Ingress's
    tls: Tls | None  # the SSL policy (both doors) and, with the Ingress, its ManagedCertificate and FrontendConfig
    gateway: WebsocketGateway | None
    gateway_static_ip: StaticIp | None
    certificate_map: CertificateMap | None


def security_policy(settings: AppSettings, cloud_armor: CloudArmor | None) -> str | None:
    """The Cloud Armor policy the backends carry: its name while attached, else None."""
    return cloud_armor.name if cloud_armor and settings.gcp.cloud_armor.enabled else None


def backend_config(
    settings: AppSettings, ns: AppNamespace, deployment: CombinedDeployment, cloud_armor: CloudArmor | None, on_cluster: OnCluster
) -> BackendConfig | None:
    """The Ingress's BackendConfig; None when the Ingress is not a front door (a Gateway takes none)."""
    if INGRESS not in settings.front_doors:
        return None
    return BackendConfig(
        "backend-config",
        namespace=ns,
        settings=settings.backend_config,
        health=deployment.health,
        security_policy=security_policy(settings, cloud_armor),
        opts=on_cluster(depends_on=[cloud_armor] if cloud_armor else []),
    )


def front_doors(settings: AppSettings, ns: AppNamespace, service: NegService, cloud_armor: CloudArmor | None, on_cluster: OnCluster) -> FrontDoors:
    """Every front door the settings list, routed to `service` for every host."""
    gcp_settings, prefix = settings.gcp, settings.gcp_prefix
    with_ingress, with_gateway = INGRESS in settings.front_doors, GATEWAY in settings.front_doors
    routes = tuple(Route(service, host=host) for host in settings.hosts)
    static_ip = StaticIp("static-ip", ingress_static_ip_name(settings), opts=on_cluster()) if with_ingress and gcp_settings.static_ip.enabled else None
    tls = Tls("tls", ns, prefix, settings.hosts, gcp_settings.tls, opts=on_cluster(), ingress=with_ingress) if gcp_settings.tls.enabled else None
    ingress = _ingress(settings, ns, service, routes, static_ip, tls, on_cluster) if with_ingress else None
    if not with_gateway:
        return FrontDoors(ingress, static_ip, tls, None, None, None)
    if tls is None:  # the settings refuse this too (front_door_problems); model_copy skips them
        raise InvariantError("Gateway: gcp.tls is off, so there is no SSL policy for its GCPGatewayPolicy. Fix: enable gcp.tls.")
    gateway_ip = StaticIp("gateway-static-ip", gateway_static_ip_name(settings), opts=on_cluster(), front="the Gateway's")
    certificate_map = CertificateMap("certificate-map", prefix, settings.hosts, opts=on_cluster())
    gateway = WebsocketGateway(
        "gateway",
        namespace=ns,
        routes=routes,
        settings=settings.gateway,
        backend=GatewayBackend(settings.backend_config, security_policy(settings, cloud_armor)),
        static_ip=gateway_ip,
        certificate_map=certificate_map,
        ssl_policy_name=tls.ssl_policy_name,
        ingress_static_ip=static_ip.name if static_ip else None,
        opts=on_cluster(depends_on=[r for r in (tls, cloud_armor) if r is not None]),
    )
    return FrontDoors(ingress, static_ip, tls, gateway, gateway_ip, certificate_map)


def _ingress(
    settings: AppSettings, ns: AppNamespace, service: NegService, routes: tuple[Route, ...], static_ip: StaticIp | None, tls: Tls | None, on_cluster: OnCluster
) -> WebsocketIngress:
    annotations: dict[str, Any] = {**(static_ip.ingress_annotations() if static_ip else {}), **(tls.ingress_annotations() if tls else {})}
    extras = IngressExtras(annotations=annotations, manifests=tuple(tls.manifests()) if tls else ())
    return WebsocketIngress(
        "ingress",
        namespace=ns,
        name=settings.ingress.name,
        default_route=Route(service),
        routes=routes,
        min_session_sec=settings.socketio.min_session_sec,
        extras=extras,
        opts=on_cluster(depends_on=[r for r in (static_ip, tls) if r is not None]),
    )
