"""The GKE Gateway's HTTPRoute and GCPGatewayPolicy rules: route timeouts, redirects, backends and listener binding,
and the SSL policy attachment (https://docs.cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources,
deploying-gateways; kubernetes-sigs/gateway-api apis/v1 at v1.3.0 and v1.5.1). The Gateway object's rules and the
readers of Gateway API objects are in ``gateway``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import gateway_limits as gw
from .. import policies as policy
from ..manifest import (
    SERVICE,
    Manifest,
    as_number,
    field_at,
    format_number,
    mapping_at,
    name_of,
    namespace_of,
    reference,
    service_ports,
)
from ..model import Context, Problem
from ..registry import resource_rule, stack_rule
from ..stack import Key, StackView
from .gateway import (
    RESOURCES,
    ROUTES,
    backend_refs,
    bare_name_problem,
    is_service_ref,
    listener_named,
    listeners,
    parent_gateways,
    redirect_filters,
    route_rules,
    service_port_of,
)

# --- HTTPRoute --------------------------------------------------------------------------------------


@resource_rule(
    "httproute-no-timeouts",
    policy.GATEWAY_SPEC,
    (gw.HTTP_ROUTE,),
    "No spec.rules[].timeouts (GKE refuses them; the limit is GCPBackendPolicy timeoutSec).",
    f"{RESOURCES}; kubernetes-sigs/gateway-api#1612",
)
def route_no_timeouts(manifest: Manifest) -> Iterator[Problem]:
    for where, rule in route_rules(manifest):
        if rule.get("timeouts") is not None:
            yield Problem(
                f"{where}.timeouts is set; GKE rejects HTTPRoute timeouts ('Timeouts are not supported', GWCER104) and WebSockets keep the 30 s default.",
                f"remove {where}.timeouts and set the socket lifetime in the Service's GCPBackendPolicy spec.default.timeoutSec.",
                subject=f"{where}.timeouts",
            )


@resource_rule(
    "httproute-redirect-filter",
    policy.GATEWAY_SPEC,
    (gw.HTTP_ROUTE,),
    "A RequestRedirect states its statusCode (one the CRD knows) and sets no port.",
    f"{ROUTES}; hyperledger-labs/splice cluster/pulumi/infra/src/gcpLoadBalancer.ts ('port is unsupported in GKE')",
)
def redirect_filter(manifest: Manifest) -> Iterator[Problem]:
    for where, item in redirect_filters(manifest):
        redirect = mapping_at(item, "requestRedirect")
        code = redirect.get("statusCode")
        if code is None:
            yield Problem(
                f"{where}.requestRedirect has no statusCode; the CRD then answers {gw.DEFAULT_REDIRECT_STATUS_CODE}, not the Ingress's 301.",
                f"set {where}.requestRedirect.statusCode: 301.",
                subject=f"{where}.requestRedirect.statusCode",
            )
        elif as_number(code) not in gw.REDIRECT_STATUS_CODES_ALL:
            yield Problem(
                f"{where}.requestRedirect.statusCode is {code!r}; a redirect answers one of {sorted(gw.REDIRECT_STATUS_CODES_ALL)}.",
                f"set {where}.requestRedirect.statusCode: 301.",
                subject=f"{where}.requestRedirect.statusCode",
            )
        if redirect.get("port") is not None:
            yield Problem(
                f"{where}.requestRedirect sets port {redirect.get('port')!r}, which GKE does not support (the scheme's standard port is inferred).",
                f"remove {where}.requestRedirect.port and keep scheme: https.",
                subject=f"{where}.requestRedirect.port",
            )


@stack_rule(
    "httproute-backend-exists",
    policy.GATEWAY_REFERENCES,
    (gw.HTTP_ROUTE, SERVICE),
    "Every HTTPRoute backendRef is a Service declared in the route's namespace, on one of its port numbers.",
    f"{ROUTES}; kubernetes-sigs/gateway-api#1243",
)
def route_backend_exists(stack: StackView, _context: Context) -> Iterator[Problem]:
    for route in stack.of_kind(gw.HTTP_ROUTE):
        for where, ref in backend_refs(route):
            problem = _backend_ref_problem(stack, route, ref)
            if problem is not None:
                yield Problem(problem[0], problem[1], resource=reference(route), subject=where)


def _backend_ref_problem(stack: StackView, route: Manifest, ref: Mapping[str, Any]) -> tuple[str, str] | None:
    namespace, name = namespace_of(route), str(ref.get("name"))
    if not is_service_ref(ref):
        return f"references {ref.get('kind')} {name!r} (group {ref.get('group') or ''!r}), not a Service.", 'route to a Service (group "", kind Service).'
    if ref.get("namespace") not in (None, namespace):
        return (
            f"references Service {name!r} in namespace {ref.get('namespace')!r}; a route in {namespace!r} needs a v1beta1 ReferenceGrant for that, "
            "and without it the rule answers 500 (ResolvedRefs=False, RefNotPermitted).",
            f"route to a Service in namespace {namespace!r} and drop backendRefs[].namespace.",
        )
    service = stack.services.get((namespace, name))
    if service is None:
        return (
            f"routes to Service {name!r}, which is not declared in namespace {namespace!r}; the rule then answers 500 "
            "(ResolvedRefs=False, BackendNotFound, GWCER102 'services ... not found').",
            f"route to a Service declared in namespace {namespace!r} (or declare Service {name!r} there).",
        )
    port = ref.get("port")
    if service_port_of(service, port) is None:
        ports = [format_number(n) for n in (as_number(p.get("port")) for p in service_ports(service)) if n is not None]
        state = "has no port" if port is None else f"uses port {port!r}, which is not a port number of Service {name!r}"
        return (
            f"{state} (ports: {', '.join(ports) or 'none'}); a Service backendRef needs one of them.",
            "set port to the Service's port number (not its targetPort).",
        )
    return None


@stack_rule(
    "httproute-listener-binding",
    policy.GATEWAY_ROUTING,
    (gw.GATEWAY, gw.HTTP_ROUTE),
    "The redirect route binds only the HTTP listener, app routes only the HTTPS listener, each by sectionName.",
    "kubernetes-sigs/gateway-api#2622, #3356 (redirect loops); https://cloud.google.com/kubernetes-engine/docs/how-to/deploying-gateways#configure_http-to-https_redirects",
)
def listener_binding(stack: StackView, _context: Context) -> Iterator[Problem]:
    redirected: set[tuple[Key, str]] = set()
    for route in stack.of_kind(gw.HTTP_ROUTE):
        redirects = bool(redirect_filters(route))
        wanted = gw.HTTP if redirects else gw.HTTPS
        what = "the redirect route" if redirects else "an app route"
        for where, parent, gateway in parent_gateways(stack, route):
            problem = _binding_problem(route, parent, gateway, wanted, what)
            if problem is not None:
                yield Problem(problem[0], problem[1], resource=reference(route), subject=f"{where}.sectionName")
            elif redirects and gateway is not None:
                redirected.add(((namespace_of(gateway), name_of(gateway)), str(parent.get("sectionName"))))
    for gateway in stack.of_kind(gw.GATEWAY):
        for listener in listeners(gateway):
            if listener.get("protocol") == gw.HTTP and ((namespace_of(gateway), name_of(gateway)), str(listener.get("name"))) not in redirected:
                yield Problem(
                    f"listener {listener.get('name')!r} (HTTP) carries no redirect route: http:// clients get the load balancer's 404 instead of HTTPS.",
                    f"add an HTTPRoute with parentRefs [{{name: {name_of(gateway)}, sectionName: {listener.get('name')}}}] and a "
                    "RequestRedirect filter {scheme: https, statusCode: 301}, or remove the HTTP listener.",
                    resource=reference(gateway),
                    subject="spec.listeners",
                )


def _binding_problem(route: Manifest, parent: Mapping[str, Any], gateway: Manifest | None, wanted: str, what: str) -> tuple[str, str] | None:
    name = parent.get("name")
    if gateway is None:
        namespace = parent.get("namespace") or namespace_of(route)
        return f"is bound to Gateway {name!r}, which is not declared in namespace {namespace!r}; the route serves nothing.", "bind it to the declared Gateway."
    section = parent.get("sectionName")
    listener_names = [str(item.get("name")) for item in listeners(gateway) if item.get("protocol") == wanted]
    fix = f"set sectionName to {' or '.join(repr(n) for n in listener_names) or f'a {wanted} listener'} of Gateway {name!r}."
    if section is None:
        return (
            f"is {what} and binds every listener of Gateway {name!r} (no sectionName): a redirect on the HTTPS listener loops, "
            "an app route on the HTTP listener serves the app unencrypted.",
            fix,
        )
    listener = listener_named(gateway, section)
    if listener is None:
        return f"names sectionName {section!r}, which is no listener of Gateway {name!r}; the route is not attached.", fix
    if listener.get("protocol") != wanted:
        why = "redirects HTTPS to itself (a loop)" if wanted == gw.HTTP else "serves the app over plain HTTP instead of redirecting"
        return f"is {what} bound to listener {section!r} ({listener.get('protocol')}), so it {why}.", fix
    return None


@stack_rule(
    "httproute-redirect-bundle",
    policy.GATEWAY_ROUTING,
    (gw.HTTP_ROUTE,),
    "A redirect's statusCode is one the cluster's Gateway API bundle accepts (307/308 only from v1.5).",
    "gateway-api v1.3.0 and v1.5.1 config/crd/standard/gateway.networking.k8s.io_httproutes.yaml (statusCode enum)",
)
def redirect_bundle(stack: StackView, context: Context) -> Iterator[Problem]:
    accepted = gw.REDIRECT_STATUS_CODES.get(context.gateway_bundle or "", gw.REDIRECT_STATUS_CODES_ANY_BUNDLE)
    bundle = (
        f"the cluster's bundle {context.gateway_bundle}"
        if context.gateway_bundle in gw.REDIRECT_STATUS_CODES
        else "every bundle GKE installs (the stack states none)"
    )
    for route in stack.of_kind(gw.HTTP_ROUTE):
        for where, item in redirect_filters(route):
            code = as_number(field_at(item, "requestRedirect", "statusCode"))
            if code in gw.REDIRECT_STATUS_CODES_ALL and code not in accepted:
                yield Problem(
                    f"{where}.requestRedirect.statusCode {format_number(code)} is not accepted by {bundle}, which allows "
                    f"{', '.join(str(c) for c in sorted(accepted))}; the API server rejects the route.",
                    "use 301, or state the cluster's bundle v1.5.1 (gateway.bundleVersion; pack config gatewayBundle) when it has it.",
                    resource=reference(route),
                    subject=f"{where}.requestRedirect.statusCode",
                )


# --- GCPGatewayPolicy -------------------------------------------------------------------------------


@resource_rule(
    "gcpgatewaypolicy-ssl-policy",
    policy.GATEWAY_SPEC,
    (gw.GCP_GATEWAY_POLICY,),
    "A GCPGatewayPolicy targets a Gateway and names its SSL policy by bare name.",
    f"{RESOURCES}; gke-gateway-api apis/networking/v1/gcpgatewaypolicy_types.go",
)
def gateway_policy_ssl(manifest: Manifest) -> Iterator[Problem]:
    target = mapping_at(manifest, "spec", "targetRef")
    if target.get("group") != gw.GATEWAY_API_GROUP or target.get("kind") != gw.GATEWAY or not target.get("name"):
        yield Problem(
            f"spec.targetRef is {dict(target)!r}; a GCPGatewayPolicy attaches only to a Gateway.",
            f"set spec.targetRef to {{group: {gw.GATEWAY_API_GROUP}, kind: Gateway, name: <gateway>}}.",
            subject="spec.targetRef",
        )
    yield from bare_name_problem(manifest, "sslPolicy", "global SSL policy", "the stack's global SSL policy")


@stack_rule(
    "gcpgatewaypolicy-target-exists",
    policy.GATEWAY_REFERENCES,
    (gw.GCP_GATEWAY_POLICY, gw.GATEWAY),
    "A GCPGatewayPolicy's Gateway is declared in the policy's namespace.",
    RESOURCES,
)
def gateway_policy_target(stack: StackView, _context: Context) -> Iterator[Problem]:
    gateways = stack.index(gw.GATEWAY)
    for item in stack.of_kind(gw.GCP_GATEWAY_POLICY):
        target = mapping_at(item, "spec", "targetRef")
        if target.get("kind") == gw.GATEWAY and (namespace_of(item), str(target.get("name"))) not in gateways:
            elsewhere = sorted(ns for ns, name in gateways if name == target.get("name"))
            hint = f" (one exists in namespace {', '.join(elsewhere)}; the policy must be in the Gateway's namespace)" if elsewhere else ""
            yield Problem(
                f"targets Gateway {target.get('name')!r}, which is not declared in namespace {namespace_of(item)!r}{hint}; the SSL policy applies to nothing.",
                "put the GCPGatewayPolicy in the Gateway's namespace and name the Gateway.",
                resource=reference(item),
                subject="spec.targetRef",
            )


@stack_rule(
    "gateway-has-gateway-policy",
    policy.GATEWAY_REFERENCES,
    (gw.GATEWAY, gw.GCP_GATEWAY_POLICY),
    "Every Gateway has exactly one GCPGatewayPolicy in its namespace targeting it (its SSL policy).",
    f"{RESOURCES}; gateway-api GEP-713 (policy attachment: of conflicting policies the oldest wins)",
)
def gateway_has_policy(stack: StackView, _context: Context) -> Iterator[Problem]:
    for gateway in stack.of_kind(gw.GATEWAY):
        name, namespace = name_of(gateway), namespace_of(gateway)
        found = [
            item
            for item in stack.of_kind(gw.GCP_GATEWAY_POLICY)
            if namespace_of(item) == namespace
            and mapping_at(item, "spec", "targetRef").get("kind") == gw.GATEWAY
            and mapping_at(item, "spec", "targetRef").get("name") == name
        ]
        if not found:
            yield Problem(
                f"has no GCPGatewayPolicy in namespace {namespace!r} targeting it: its HTTPS listener then uses Google's default SSL policy "
                "(TLS 1.0 and weak ciphers allowed), not the stack's, unlike the Ingress's FrontendConfig.",
                f"declare one GCPGatewayPolicy in namespace {namespace!r} with spec.targetRef {{group: {gw.GATEWAY_API_GROUP}, kind: Gateway, name: {name}}} "
                "and spec.default.sslPolicy.",
                resource=reference(gateway),
                subject=gw.GCP_GATEWAY_POLICY,
            )
        elif len(found) > 1:
            yield Problem(
                f"is targeted by {len(found)} GCPGatewayPolicy objects ({', '.join(name_of(p) for p in found)}); only the oldest applies.",
                f"keep exactly one GCPGatewayPolicy for Gateway {name!r}.",
                resource=reference(gateway),
                subject=gw.GCP_GATEWAY_POLICY,
            )
