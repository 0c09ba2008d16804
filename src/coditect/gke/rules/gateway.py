"""The GKE Gateway front door: Gateway, HTTPRoute and GCPGatewayPolicy objects GKE's Gateway controller accepts and
that do what this app needs (class, address, TLS, redirect, backends), and the names they resolve across the stack
(https://docs.cloud.google.com/kubernetes-engine/docs/how-to/gatewayclass-capabilities, deploying-gateways,
secure-gateway, configure-gateway-resources; kubernetes-sigs/gateway-api apis/v1 at v1.3.0 and v1.5.1)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import gateway_limits as gw
from .. import limits
from .. import policies as policy
from ..manifest import (
    INGRESS,
    SERVICE,
    Manifest,
    annotations_of,
    as_list,
    as_number,
    field_at,
    mapping_at,
    namespace_of,
    reference,
    service_ports,
    spec_of,
)
from ..model import Context, Problem
from ..registry import resource_rule, stack_rule
from ..stack import Key, StackView

CLASSES = "https://docs.cloud.google.com/kubernetes-engine/docs/how-to/gatewayclass-capabilities; kubernetes-sigs/ingress2gateway#148"
ADDRESSES = "gateway-api@v1.5.1 apis/v1/gateway_types.go GatewaySpecAddress (default IPAddress); kubernetes-sigs/gateway-api#2632 (GWCER106)"
SECURE = "https://docs.cloud.google.com/kubernetes-engine/docs/how-to/secure-gateway (restrictions; GWCER105, GWCER102)"
ROUTES = "gateway-api@v1.5.1 apis/v1/httproute_types.go (BackendRefs, HTTPRequestRedirectFilter); config/crd/standard v1.3.0 and v1.5.1"
RESOURCES = "https://docs.cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources"
NAMED_ADDRESS_FIX = f"set spec.addresses to [{{type: {gw.NAMED_ADDRESS}, value: <the name of a reserved global address>}}]."


# --- reading Gateway API objects --------------------------------------------------------------------


def listeners(gateway: Manifest) -> list[Mapping[str, Any]]:
    return [item for item in as_list(spec_of(gateway).get("listeners")) if isinstance(item, Mapping)]


def listener_named(gateway: Manifest, name: Any) -> Mapping[str, Any] | None:
    return next((item for item in listeners(gateway) if item.get("name") == name), None)


def route_rules(route: Manifest) -> list[tuple[str, Mapping[str, Any]]]:
    return [(f"spec.rules[{i}]", rule) for i, rule in enumerate(as_list(spec_of(route).get("rules"))) if isinstance(rule, Mapping)]


def route_filters(route: Manifest) -> list[tuple[str, Mapping[str, Any]]]:
    """(where, filter) for every rule filter of the route."""
    return [
        (f"{where}.filters[{j}]", item)
        for where, rule in route_rules(route)
        for j, item in enumerate(as_list(rule.get("filters")))
        if isinstance(item, Mapping)
    ]


def redirect_filters(route: Manifest) -> list[tuple[str, Mapping[str, Any]]]:
    return [(where, item) for where, item in route_filters(route) if item.get("type") == gw.REQUEST_REDIRECT]


def backend_refs(route: Manifest) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (f"{where}.backendRefs[{j}]", ref)
        for where, rule in route_rules(route)
        for j, ref in enumerate(as_list(rule.get("backendRefs")))
        if isinstance(ref, Mapping)
    ]


def is_service_ref(ref: Mapping[str, Any]) -> bool:
    """A backendRef or targetRef to a core Service (group "" and kind Service are the backendRef defaults)."""
    return ref.get("group") in (None, "") and ref.get("kind") in (None, SERVICE)


def parent_gateways(stack: StackView, route: Manifest) -> Iterator[tuple[str, Mapping[str, Any], Manifest | None]]:
    """(where, parentRef, the declared Gateway or None) for every parentRef to a Gateway."""
    gateways = stack.index(gw.GATEWAY)
    for i, parent in enumerate(as_list(spec_of(route).get("parentRefs"))):
        if not isinstance(parent, Mapping) or parent.get("kind", gw.GATEWAY) != gw.GATEWAY:
            continue
        key = (str(parent.get("namespace") or namespace_of(route)), str(parent.get("name")))
        yield f"spec.parentRefs[{i}]", parent, gateways.get(key)


def route_backend_services(stack: StackView) -> dict[Key, list[tuple[Manifest, Mapping[str, Any]]]]:
    """Declared Services an HTTPRoute routes to -> (route, backendRef) for each such reference."""
    used: dict[Key, list[tuple[Manifest, Mapping[str, Any]]]] = {}
    for route in stack.of_kind(gw.HTTP_ROUTE):
        for _, ref in backend_refs(route):
            key = (str(ref.get("namespace") or namespace_of(route)), str(ref.get("name")))
            if is_service_ref(ref) and key in stack.services and key[0] == namespace_of(route):
                used.setdefault(key, []).append((route, ref))
    return used


def service_port_of(service: Manifest, number: Any) -> Mapping[str, Any] | None:
    wanted = as_number(number)
    return next((p for p in service_ports(service) if wanted is not None and as_number(p.get("port")) == wanted), None)


def bare_name_problem(manifest: Manifest, key: str, what: str, fix: str) -> Iterator[Problem]:
    """spec.default.<key> as GKE's controller takes it: the bare name of a policy of the project, never a path
    (a path is rejected when the load balancer is programmed, e.g. "SetSecurityPolicy: Invalid value")."""
    value = field_at(manifest, "spec", "default", key)
    if not isinstance(value, str) or not value or "/" in value:
        yield Problem(
            f"spec.default.{key} is {value!r}; it must be the bare name of a {what} (no path).",
            f"set spec.default.{key} to the name of {fix}.",
            subject=f"spec.default.{key}",
        )


# --- Gateway ----------------------------------------------------------------------------------------


@resource_rule("gateway-class", policy.GATEWAY_SPEC, (gw.GATEWAY,), f"spec.gatewayClassName is {gw.MANAGED_CLASS}.", CLASSES)
def gateway_class(manifest: Manifest) -> Iterator[Problem]:
    class_name = spec_of(manifest).get("gatewayClassName")
    if class_name == gw.MANAGED_CLASS:
        return
    if class_name == gw.CLASSIC_CLASS:
        why = (
            f"{gw.CLASSIC_CLASS} is the classic Application Load Balancer, which rejects every HTTPRoute rule filter "
            "(GWCER104 'does not support rule filters'): no HTTP->HTTPS redirect, no header modifier, no rewrite"
        )
    else:
        why = f"this app's internet-facing front door is the global external Application Load Balancer, {gw.MANAGED_CLASS}"
    yield Problem(f"spec.gatewayClassName is {class_name!r}; {why}.", f"set spec.gatewayClassName: {gw.MANAGED_CLASS}.", subject="spec.gatewayClassName")


@stack_rule(
    "gateway-class-route-filters",
    policy.GATEWAY_REFERENCES,
    (gw.GATEWAY, gw.HTTP_ROUTE),
    f"No HTTPRoute with rule filters is bound to a {gw.CLASSIC_CLASS} Gateway.",
    CLASSES,
)
def classic_class_filters(stack: StackView, _context: Context) -> Iterator[Problem]:
    for route in stack.of_kind(gw.HTTP_ROUTE):
        filters = route_filters(route)
        for where, _, gateway in parent_gateways(stack, route):
            if filters and gateway is not None and spec_of(gateway).get("gatewayClassName") == gw.CLASSIC_CLASS:
                yield Problem(
                    f"{filters[0][0]} is a {filters[0][1].get('type')} filter on a route bound to {reference(gateway)} of class "
                    f"{gw.CLASSIC_CLASS}, which rejects rule filters; GKE then fails to translate the whole Gateway (GWCER104).",
                    f"set the Gateway's spec.gatewayClassName to {gw.MANAGED_CLASS}.",
                    resource=reference(route),
                    subject=where,
                )


@resource_rule(
    "gateway-addresses", policy.GATEWAY_SPEC, (gw.GATEWAY,), f"spec.addresses names a reserved address with an explicit type {gw.NAMED_ADDRESS}.", ADDRESSES
)
def gateway_addresses(manifest: Manifest) -> Iterator[Problem]:
    addresses = as_list(spec_of(manifest).get("addresses"))
    if not addresses:
        output = annotations_of(manifest).get(gw.ADDRESSES_ANNOTATION)
        # The output annotation set as input is the usual way to end up here: say why it did not hold the address.
        hint = f" (annotation {gw.ADDRESSES_ANNOTATION}: {output!r} is an output GKE's controller writes; it does not choose the address)" if output else ""
        yield Problem(
            f"has no spec.addresses{hint}: GKE gives it an ephemeral IP that changes whenever the Gateway is re-created, so DNS points nowhere.",
            NAMED_ADDRESS_FIX,
            subject="spec.addresses",
        )
    for i, address in enumerate(addresses):
        where = f"spec.addresses[{i}]"
        kind, value = field_at(address, "type"), field_at(address, "value")
        if kind != gw.NAMED_ADDRESS:
            state = "has no type, which the CRD defaults to IPAddress" if kind is None else f"has type {kind!r}"
            yield Problem(
                f"{where} {state}; GKE accepts only {gw.NAMED_ADDRESS} (GWCER106 'unsupported address type').",
                f"write {where}.type: {gw.NAMED_ADDRESS} explicitly.",
                subject=f"{where}.type",
            )
        if not isinstance(value, str) or not value:
            yield Problem(
                f"{where} has no value: no reserved address is named.", f"set {where}.value to the reserved global address's name.", subject=f"{where}.value"
            )


def named_addresses(gateway: Manifest) -> list[str]:
    return [str(field_at(a, "value")) for a in as_list(spec_of(gateway).get("addresses")) if field_at(a, "type") == gw.NAMED_ADDRESS and field_at(a, "value")]


@stack_rule(
    "gateway-address-distinct",
    policy.GATEWAY_REFERENCES,
    (gw.GATEWAY, INGRESS),
    "A Gateway's address is not the global static IP of an Ingress beside it.",
    "https://cloud.google.com/kubernetes-engine/docs/how-to/migrate-ingress-gateway (both run side by side, then DNS moves)",
)
def address_distinct(stack: StackView, _context: Context) -> Iterator[Problem]:
    ingress_ips = {str(ip): ingress for ingress in stack.of_kind(INGRESS) if (ip := annotations_of(ingress).get(limits.GLOBAL_STATIC_IP_ANNOTATION))}
    for gateway in stack.of_kind(gw.GATEWAY):
        for value in named_addresses(gateway):
            if value in ingress_ips:
                yield Problem(
                    f"uses address {value!r}, which {reference(ingress_ips[value])} already holds ({limits.GLOBAL_STATIC_IP_ANNOTATION}); "
                    "the classic and the managed load balancer cannot share one forwarding address while both exist.",
                    "reserve a second global address for the Gateway (gateway.staticIpName) and move DNS to it when the Gateway is proven.",
                    resource=reference(gateway),
                    subject="spec.addresses",
                )


def _certificate_refs(listener: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in as_list(field_at(listener, "tls", "certificateRefs")) if isinstance(r, Mapping)]


def _ref_problem(where: str, ref: Mapping[str, Any]) -> Problem | None:
    group, kind = ref.get("group") or "", ref.get("kind") or gw.SECRET
    if group == "" and kind == gw.SECRET:
        return None
    what = (
        "a ManagedCertificate, which GKE's Gateway controller does not support"
        if kind == "ManagedCertificate" or group == gw.MANAGED_CERTIFICATE_GROUP
        else f"{group}/{kind}"
    )
    return Problem(
        f"{where} references {what} (GWCER105: only {{Group: '', Kind: Secret}} is supported).",
        f"use the Gateway annotation {gw.CERTMAP_ANNOTATION} with a Certificate Manager map (managed certificates), or a Secret.",
        subject=where,
    )


@resource_rule(
    "gateway-tls",
    policy.GATEWAY_SPEC,
    (gw.GATEWAY,),
    "An HTTPS listener; TLS from the certmap annotation xor listener certificates; never a ManagedCertificate.",
    SECURE,
)
def gateway_tls(manifest: Manifest) -> Iterator[Problem]:
    certmap = annotations_of(manifest).get(gw.CERTMAP_ANNOTATION)
    if not any(listener.get("protocol") == gw.HTTPS for listener in listeners(manifest)):
        yield Problem(
            "has no HTTPS listener: the app is served over plain HTTP only (a translated Ingress whose certificate came from "
            "networking.gke.io/managed-certificates loses it this way).",
            f"add listener {{name: https, protocol: HTTPS, port: 443}} and annotate the Gateway with {gw.CERTMAP_ANNOTATION}: <certificate map>.",
            subject="spec.listeners",
        )
    for i, listener in enumerate(listeners(manifest)):
        where = f"spec.listeners[{i}]"
        refs, options = _certificate_refs(listener), mapping_at(listener, "tls", "options")
        if certmap and (refs or options):
            yield Problem(
                f"has annotation {gw.CERTMAP_ANNOTATION} and {where}.tls certificates; GKE refuses a Gateway with both.",
                f"remove {where}.tls and keep the certificate map (or drop the annotation).",
                subject=f"{where}.tls",
            )
        if listener.get("protocol") == gw.HTTPS and not certmap and not refs and not options.get(gw.PRE_SHARED_CERTS_OPTION):
            yield Problem(
                f"{where} ({listener.get('name')!r}) is HTTPS with no certificate: no {gw.CERTMAP_ANNOTATION} annotation, no tls.certificateRefs.",
                f"annotate the Gateway with {gw.CERTMAP_ANNOTATION}: <certificate map> and leave the listener without tls.",
                subject=f"{where}.tls",
            )
        for j, ref in enumerate(refs):
            problem = _ref_problem(f"{where}.tls.certificateRefs[{j}]", ref)
            if problem is not None:
                yield problem


@stack_rule(
    "gateway-tls-secret-exists",
    policy.GATEWAY_REFERENCES,
    (gw.GATEWAY, gw.SECRET),
    "Every Secret a Gateway listener references is declared in the stack.",
    SECURE,
)
def tls_secret_exists(stack: StackView, _context: Context) -> Iterator[Problem]:
    secrets = stack.index(gw.SECRET)
    for gateway in stack.of_kind(gw.GATEWAY):
        for i, listener in enumerate(listeners(gateway)):
            for j, ref in enumerate(_certificate_refs(listener)):
                if (ref.get("group") or "") != "" or (ref.get("kind") or gw.SECRET) != gw.SECRET:
                    continue
                namespace = str(ref.get("namespace") or namespace_of(gateway))
                if (namespace, str(ref.get("name"))) not in secrets:
                    yield Problem(
                        f"spec.listeners[{i}].tls.certificateRefs[{j}] names Secret {ref.get('name')!r}, which is not declared in namespace "
                        f"{namespace!r}; GKE then fails the whole Gateway, the HTTP listener included (GWCER102 'Secret ... not found').",
                        f"declare the Secret in namespace {namespace!r} before the Gateway, or use the {gw.CERTMAP_ANNOTATION} annotation instead.",
                        resource=reference(gateway),
                        subject=f"spec.listeners[{i}].tls.certificateRefs[{j}]",
                    )
