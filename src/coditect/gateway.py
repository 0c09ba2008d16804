"""The GKE Gateway front door: a Gateway (class gke-l7-global-external-managed), the app and redirect
HTTPRoutes, and the GKE policies that carry what the BackendConfig and FrontendConfig carry for the
Ingress, made from the same Route objects and the same settings.

Sources: Gateway/HTTPRoute fields kubernetes-sigs/gateway-api apis/v1/{gateway,httproute}_types.go;
GKE policies GoogleCloudPlatform/gke-gateway-api apis/networking/v1/{gcpbackendpolicy,healthcheck,
gcpgatewaypolicy}_types.go; https://cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources
and https://cloud.google.com/kubernetes-engine/docs/how-to/secure-gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from coditect import gke
from coditect.base import PART_OF, InvariantError, child_opts, manifest, type_token
from coditect.certificate_manager import CertificateMap
from coditect.deployment import HealthEndpoint
from coditect.gcp import StaticIp
from coditect.gke import gateway_limits
from coditect.ingress import Route
from coditect.namespace import AppNamespace
from coditect.plan import declare
from coditect.service import NegService
from coditect.settings import BackendConfigSettings, GatewaySettings

# The Gateway API's and GKE's names are the rule engine's (coditect.gke.gateway_limits, each with its source).
GATEWAY_API = gateway_limits.GATEWAY_API_VERSION
GATEWAY_GROUP = gateway_limits.GATEWAY_API_GROUP
GKE_POLICY_API = gateway_limits.GKE_POLICY_API_VERSION
# The global external Application Load Balancer: the one GKE class whose routes take filters (the HTTPS redirect).
GATEWAY_CLASS = gateway_limits.MANAGED_CLASS
CERTMAP_ANNOTATION = gateway_limits.CERTMAP_ANNOTATION
HTTPS_LISTENER, HTTP_LISTENER = "https", "http"
# Ingress pathType -> HTTPRoute path match type (ImplementationSpecific has no equivalent: refused).
PATH_MATCH = {"Prefix": "PathPrefix", "Exact": "Exact"}
SAMPLE_RATE_SCALE = gateway_limits.SAMPLE_RATE_SCALE  # logging.sampleRate in millionths
# The Gateway takes minutes to program, like the Ingress. pulumi-kubernetes awaits a custom resource only when
# it carries pulumi.com/waitFor (provider/v4 pkg/metadata/overrides.go ReadyCondition: without it the ready
# condition is immediate; honoured over default await logic since v4.18.4, pulumi/pulumi-kubernetes#3352; the
# program's SDK is 4.34.x, the engine suite's provider 4.25.0). "condition=Programmed" waits for
# status.conditions Programmed=True and only for the current spec (pkg/await/condition/kubectl.go checkCondition
# skips a condition whose observedGeneration is older than metadata.generation), within AWAIT_TIMEOUT.
AWAIT_TIMEOUT = "20m"
WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"
GATEWAY_WAIT_FOR = "condition=Programmed"


@dataclass(frozen=True)
class GatewayBackend:
    """What every backend Service of the Gateway gets: the BackendConfig's settings (one source) and the
    Cloud Armor policy attached while it is on (None: no securityPolicy)."""

    settings: BackendConfigSettings
    security_policy: str | None = None


def backend_policy_spec(service: str, backend: GatewayBackend) -> dict[str, Any]:
    """GCPBackendPolicy spec: the BackendConfig's timeout, draining, affinity, logging and Cloud Armor."""
    settings = backend.settings
    affinity: dict[str, Any] = {"type": settings.session_affinity}
    if settings.session_affinity == "GENERATED_COOKIE":  # the CRD takes cookieTtlSec only with a cookie affinity
        affinity["cookieTtlSec"] = settings.affinity_cookie_ttl_sec
    logging = settings.logging
    default: dict[str, Any] = {
        "timeoutSec": settings.timeout_sec,
        "connectionDraining": {"drainingTimeoutSec": settings.draining_timeout_sec},
        "sessionAffinity": affinity,
        # Stated always: the policy's logging defaults to off, where GKE created Ingress backends with it on.
        "logging": {"enabled": True, "sampleRate": round(logging.sample_rate * SAMPLE_RATE_SCALE)} if logging.enable else {"enabled": False},
    }
    if backend.security_policy is not None:
        default["securityPolicy"] = backend.security_policy
    return {"targetRef": {"group": "", "kind": "Service", "name": service}, "default": default}


def health_check_policy_spec(service: str, settings: BackendConfigSettings, health: HealthEndpoint) -> dict[str, Any]:
    """HealthCheckPolicy spec: the BackendConfig's health check, every number stated (the Gateway's
    defaults, 5/5/2/2, are not the Ingress's) and the port fixed to the pod's serving port."""
    check = settings.health_check
    return {
        "targetRef": {"group": "", "kind": "Service", "name": service},
        "default": {
            "checkIntervalSec": check.check_interval_sec,
            "timeoutSec": check.timeout_sec,
            "healthyThreshold": check.healthy_threshold,
            "unhealthyThreshold": check.unhealthy_threshold,
            "config": {
                "type": "HTTP",
                "httpHealthCheck": {"portSpecification": "USE_FIXED_PORT", "port": health.port.number, "requestPath": health.path},
            },
        },
    }


class WebsocketGateway(pulumi.ComponentResource):
    """GKE Gateway for the websocket app, beside the Ingress or instead of it.

    Refuses routes whose Service is in another namespace, has no health endpoint or is configured apart
    from `backend`, hosts without a certificate, and the Ingress's own address; everything it
    declares goes through the stack's declaration plan, so the GKE rules judge it before deploy.
    """

    namespace: AppNamespace
    name: str
    app_route_name: str
    redirect_route_name: str
    services: tuple[NegService, ...]
    manifests: list[dict[str, Any]]

    def __init__(
        self,
        resource_name: str,
        namespace: AppNamespace,
        routes: Sequence[Route],
        settings: GatewaySettings,
        backend: GatewayBackend,
        static_ip: StaticIp,
        certificate_map: CertificateMap,
        ssl_policy_name: str,
        ingress_static_ip: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("WebsocketGateway"), resource_name, None, opts)
        self.namespace = namespace
        self.name = settings.name
        self.app_route_name, self.redirect_route_name = f"{settings.name}-app", f"{settings.name}-redirect"
        where = f"Gateway {namespace.name}/{settings.name}"
        hosts = _check_routes(where, namespace, tuple(routes), backend)
        _check_front(where, hosts, static_ip, certificate_map, ingress_static_ip)
        self.services = tuple({id(r.service): r.service for r in routes}.values())

        def meta(name: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
            found = {"name": name, "namespace": namespace.name, "labels": dict(PART_OF)}
            return {**found, "annotations": annotations} if annotations else found

        gateway_spec = {
            "gatewayClassName": GATEWAY_CLASS,
            # type stated: the CRD defaults it to IPAddress, which GKE refuses.
            "addresses": [{"type": "NamedAddress", "value": static_ip.name}],
            # No tls block: the certificate map annotation carries TLS (with it, a tls block is refused).
            "listeners": [{"name": HTTPS_LISTENER, "protocol": "HTTPS", "port": 443}, {"name": HTTP_LISTENER, "protocol": "HTTP", "port": 80}],
        }
        parent = {"name": settings.name}
        app_spec = {
            "parentRefs": [{**parent, "sectionName": HTTPS_LISTENER}],
            "hostnames": list(hosts),
            # No timeouts: GKE refuses them; the backend's timeoutSec is the GCPBackendPolicy's.
            "rules": _rules(routes),
        }
        redirect_spec = {
            # On the HTTP listener only: on both it would redirect HTTPS to itself.
            "parentRefs": [{**parent, "sectionName": HTTP_LISTENER}],
            "hostnames": list(hosts),
            "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": settings.redirect_status_code}}]}],
        }
        gateway_policy_spec = {
            "targetRef": {"group": GATEWAY_GROUP, "kind": "Gateway", "name": settings.name},
            "default": {"sslPolicy": ssl_policy_name},
        }
        objects: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = [
            # (resource name, apiVersion, kind, metadata, spec)
            (
                resource_name,
                GATEWAY_API,
                "Gateway",
                meta(settings.name, {CERTMAP_ANNOTATION: certificate_map.name, WAIT_FOR_ANNOTATION: GATEWAY_WAIT_FOR}),
                gateway_spec,
            ),
            (f"{resource_name}-app", GATEWAY_API, "HTTPRoute", meta(self.app_route_name), app_spec),
            (f"{resource_name}-redirect", GATEWAY_API, "HTTPRoute", meta(self.redirect_route_name), redirect_spec),
        ]
        for service in self.services:
            objects.append(
                (f"{resource_name}-backend-{service.name}", GKE_POLICY_API, "GCPBackendPolicy", meta(service.name), backend_policy_spec(service.name, backend))
            )
            health = health_check_policy_spec(service.name, backend.settings, service.deployment.health)
            objects.append((f"{resource_name}-health-{service.name}", GKE_POLICY_API, "HealthCheckPolicy", meta(service.name), health))
        objects.append((f"{resource_name}-policy", GKE_POLICY_API, "GCPGatewayPolicy", meta(settings.name), gateway_policy_spec))
        self.manifests = [manifest(api, kind, metadata, spec) for _, api, kind, metadata, spec in objects]
        self.manifest = self.manifests[0]

        def create() -> None:
            gateway: k8s.apiextensions.CustomResource | None = None
            created: list[k8s.apiextensions.CustomResource] = []
            for name, api, kind, metadata, spec in objects:
                # Routes and policies after the Gateway and the Services they name; the Gateway after its address and certificates.
                depends = [namespace, static_ip, certificate_map] if gateway is None else [namespace, gateway, *self.services]
                # Only the Gateway is awaited (its waitFor): a route's or policy's conditions are per parent or ancestor,
                # which one waitFor condition cannot name soundly; the after-up inspection judges them instead.
                timeouts = pulumi.CustomTimeouts(create=AWAIT_TIMEOUT, update=AWAIT_TIMEOUT) if gateway is None else None
                created.append(
                    k8s.apiextensions.CustomResource(
                        name, api_version=api, kind=kind, metadata=metadata, spec=spec, opts=child_opts(self, depends, custom_timeouts=timeouts)
                    )
                )
                gateway = gateway or created[0]
            self.resource = created[0]
            self.resources = created
            self.register_outputs({"name": settings.name, "routes": [self.app_route_name, self.redirect_route_name]})

        # Used on its own, the Gateway cross-checks its routes and policies with the Services, pods and
        # BackendConfigs they reach, against the cluster's CRD bundle (a plan sees the whole stack instead).
        reachable: dict[int, dict[str, Any]] = {id(m): m for m in self.manifests}
        for service in self.services:
            for part in (service, service.deployment, service.backend_config):
                if part is not None:
                    reachable.setdefault(id(part), part.manifest)
        declare(where, self.manifests, create, stack=list(reachable.values()), context=gke.Context(gateway_bundle=settings.bundle_version))


def _rules(routes: Sequence[Route]) -> list[dict[str, Any]]:
    """One rule per path, in the routes' order (every host routes alike: _check_routes)."""
    rules: dict[str, dict[str, Any]] = {}
    for route in routes:
        service = route.service
        rules.setdefault(
            route.path,
            {
                "matches": [{"path": {"type": PATH_MATCH[route.path_type], "value": route.path}}],
                "backendRefs": [{"name": service.name, "port": service.port.number}],
            },
        )
    return list(rules.values())


def _check_routes(where: str, namespace: AppNamespace, routes: tuple[Route, ...], backend: GatewayBackend) -> tuple[str, ...]:
    """The hosts the routes serve, or InvariantError naming every route the Gateway cannot serve as the Ingress does."""
    if not routes:
        raise InvariantError(f"{where} refuses to declare a Gateway with no route: it would serve nothing. Fix: pass the app's routes (one per host).")
    problems: list[str] = []
    for route in routes:
        problems += _route_problems(namespace, route, backend)
    by_host: dict[str, list[tuple[str, str, int]]] = {}
    for route in routes:
        if route.host is None:
            continue
        key = (route.path, route.service.name, id(route.service))
        if key[:2] in [k[:2] for k in by_host.get(route.host, [])]:
            problems.append(f"host {route.host!r} path {route.path!r} is routed twice. Fix: declare each host and path once.")
        by_host.setdefault(route.host, []).append(key)
    # One HTTPRoute lists every host and one set of rules: hosts routed differently cannot share it.
    shapes = {tuple(paths) for paths in by_host.values()}
    if len(shapes) > 1:
        problems.append(
            f"the hosts {', '.join(by_host)} are routed differently; the app HTTPRoute serves every host with the same rules. "
            "Fix: route every host to the same paths and Services."
        )
    if problems:
        raise InvariantError(f"{where} refuses a route:\n" + "\n".join(f"  - {p}" for p in problems))
    return tuple(by_host)


def _route_problems(namespace: AppNamespace, route: Route, backend: GatewayBackend) -> list[str]:
    service, at = route.service, f"route {route.host or '*'}{route.path}"
    problems = []
    if not isinstance(service, NegService):  # Route refuses it too; a hand-made Route bypassing __post_init__ still may not
        return [f"{at}: its service is not a NegService declared in this program. Fix: pass the NegService object."]
    if service.namespace is not namespace:
        problems.append(
            f"{at} goes to Service {service.namespace.name}/{service.name}, outside namespace {namespace.name!r}; an HTTPRoute's "
            "backendRefs resolve in its own namespace (another needs a ReferenceGrant, and the policies must sit beside the Service). "
            "Fix: declare the Service in the Gateway's AppNamespace."
        )
    if route.host is None:
        problems.append(f"{at} has no host: the app HTTPRoute lists its hostnames, one certificate map entry each. Fix: give the route a host.")
    if route.path_type not in PATH_MATCH:
        problems.append(f"{at} has pathType {route.path_type!r}, which has no HTTPRoute path match. Fix: use Prefix or Exact.")
    config = service.backend_config
    if config is not None and config.settings != backend.settings:
        problems.append(
            f"Service {service.name}'s BackendConfig {config.name} is made from other settings than the Gateway's backend: the two load "
            "balancers would time out, drain or check health differently. Fix: pass the same backendConfig settings to both."
        )
    nginx = service.deployment.nginx
    health = service.deployment.health
    if nginx is not None:
        problems += [f"Service {service.name}: {p}" for p in nginx.site.disagreements(backend.settings.timeout_sec, health.path, health.port.number)]
    return problems


def _check_front(where: str, hosts: tuple[str, ...], static_ip: StaticIp, certificate_map: CertificateMap, ingress_static_ip: str | None) -> None:
    problems = []
    if ingress_static_ip is not None and static_ip.name == ingress_static_ip:
        problems.append(
            f"its address {static_ip.name} is the Ingress's: one global address cannot front both load balancers. "
            "Fix: give the Gateway its own StaticIp (gateway.staticIpName)."
        )
    uncovered = [h for h in hosts if h not in certificate_map.hosts]
    if uncovered:
        problems.append(
            f"certificate map {certificate_map.name} has no entry for {', '.join(uncovered)}: HTTPS for those hosts would fail the handshake. "
            "Fix: build the CertificateMap from the same hosts as the routes."
        )
    if problems:
        raise InvariantError(f"{where} refuses its front:\n" + "\n".join(f"  - {p}" for p in problems))
