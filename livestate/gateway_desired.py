"""What the program declared for the Gateway front door: the Gateway, its HTTPRoutes and the GKE policies
(GCPBackendPolicy, HealthCheckPolicy, GCPGatewayPolicy), read from the rendered manifests as desired.py reads
the Ingress. Pure (manifests only), so desired.py can import it without any client.

Kinds and fields: https://gateway-api.sigs.k8s.io/reference/spec/ (gateway.networking.k8s.io/v1) and
https://cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources (networking.gke.io/v1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from coditect.gke import gateway_limits
from coditect.gke.manifest import annotations_of, as_list, field_at, kind_of, mapping_at, name_of, namespace_of, spec_of
from livestate.errors import Unusable

Manifest = Mapping[str, Any]
# The kinds and the certmap annotation are the rule engine's (coditect.gke.gateway_limits).
GATEWAY, HTTP_ROUTE = gateway_limits.GATEWAY, gateway_limits.HTTP_ROUTE
BACKEND_POLICY, HEALTH_CHECK_POLICY, GATEWAY_POLICY = gateway_limits.GCP_BACKEND_POLICY, gateway_limits.HEALTH_CHECK_POLICY, gateway_limits.GCP_GATEWAY_POLICY
POLICY_KINDS = (BACKEND_POLICY, HEALTH_CHECK_POLICY, GATEWAY_POLICY)
CERTMAP = gateway_limits.CERTMAP_ANNOTATION


@dataclass(frozen=True)
class DesiredRoute:
    name: str
    sections: tuple[str, ...]  # parentRefs[].sectionName (the listeners it binds), "" for the whole Gateway
    backends: tuple[tuple[str, int | None], ...]  # (Service, port) of every backendRef
    filters: tuple[str, ...]  # every rule filter type (RequestRedirect, ...)


@dataclass(frozen=True)
class DesiredPolicy:
    kind: str
    name: str
    target_kind: str  # Service or Gateway
    target: str
    default: Mapping[str, Any]  # spec.default


@dataclass(frozen=True)
class DesiredGateway:
    namespace: str
    name: str
    class_name: str
    address: str | None  # spec.addresses[type=NamedAddress].value: the global address's name
    routes: tuple[DesiredRoute, ...]
    policies: tuple[DesiredPolicy, ...]
    certificate_map: str | None = None  # annotation networking.gke.io/certmap (TLS through Certificate Manager)

    @property
    def ssl_policy(self) -> str | None:
        """GCPGatewayPolicy spec.default.sslPolicy of the policy aimed at this Gateway."""
        policy = self.policy(GATEWAY_POLICY, self.name)
        value = policy.default.get("sslPolicy") if policy and policy.target_kind == GATEWAY else None
        return str(value) if value else None

    @property
    def services(self) -> tuple[str, ...]:
        """Every Service the routes send to, in route order."""
        return tuple(dict.fromkeys(service for route in self.routes for service, _port in route.backends))

    def policy(self, kind: str, target: str) -> DesiredPolicy | None:
        return next((p for p in self.policies if p.kind == kind and p.target == target), None)


def _route(manifest: Manifest) -> DesiredRoute:
    spec = spec_of(manifest)
    rules = [r for r in as_list(spec.get("rules")) if isinstance(r, Mapping)]
    backends = [b for r in rules for b in as_list(r.get("backendRefs")) if isinstance(b, Mapping)]
    return DesiredRoute(
        name=name_of(manifest),
        sections=tuple(str(p.get("sectionName") or "") for p in as_list(spec.get("parentRefs")) if isinstance(p, Mapping)),
        backends=tuple((str(b.get("name")), b.get("port") if isinstance(b.get("port"), int) else None) for b in backends),
        filters=tuple(str(f.get("type")) for r in rules for f in as_list(r.get("filters")) if isinstance(f, Mapping)),
    )


def _policy(manifest: Manifest) -> DesiredPolicy:
    target = mapping_at(manifest, "spec", "targetRef")
    return DesiredPolicy(
        kind_of(manifest), name_of(manifest), str(target.get("kind") or ""), str(target.get("name") or ""), dict(mapping_at(manifest, "spec", "default"))
    )


def _parents(route: Manifest) -> set[str]:
    return {str(p.get("name")) for p in as_list(field_at(route, "spec", "parentRefs")) if isinstance(p, Mapping)}


def desired_gateway(manifests: Iterable[Manifest]) -> DesiredGateway | None:
    """The program's one Gateway with the routes that attach to it and the policies in its namespace; None when
    it declares none (the Ingress is the only front door); Unusable when it declares more than one."""
    manifests = list(manifests)
    gateways = [m for m in manifests if kind_of(m) == GATEWAY]
    if not gateways:
        return None
    if len(gateways) > 1:
        raise Unusable(f"the program declares {len(gateways)} Gateways; inspect follows at most one")
    gateway = gateways[0]
    name, namespace = name_of(gateway), namespace_of(gateway)
    addresses = [a for a in as_list(field_at(gateway, "spec", "addresses")) if isinstance(a, Mapping)]
    named = next((str(a.get("value")) for a in addresses if a.get("type") == "NamedAddress"), None)
    routes = [m for m in manifests if kind_of(m) == HTTP_ROUTE and namespace_of(m) == namespace and name in _parents(m)]
    policies = [m for m in manifests if kind_of(m) in POLICY_KINDS and namespace_of(m) == namespace]
    return DesiredGateway(
        namespace=namespace,
        name=name,
        class_name=str(field_at(gateway, "spec", "gatewayClassName") or ""),
        address=named,
        routes=tuple(_route(r) for r in routes),
        policies=tuple(_policy(p) for p in policies),
        certificate_map=str(annotations_of(gateway).get(CERTMAP) or "") or None,
    )
