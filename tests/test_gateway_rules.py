"""The GKE Gateway rules (src/coditect/gke/rules/gateway*.py) on plain manifests: the contract's full set of Gateway objects
beside the catalogue's Ingress gives no finding; each case breaks one thing and must fire its rule (and only the rules
it names), with a message naming the object and the fix. A property test checks the GCPBackendPolicy rules against the
ranges the CRD documents."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coditect import gke
from coditect.gke import gateway_limits as gw
from coditect.gke.rules.gateway_backend import sample_rate_problem
from tests.gateway_fixtures import CONTEXT, GATEWAY, both_front_doors, findings, gateway_objects
from tests.policy_catalogue import NS, Manifests

NS_GATEWAY = f"Gateway {NS}/{GATEWAY}"
APP_ROUTE = f"HTTPRoute {NS}/{GATEWAY}-app"
REDIRECT_ROUTE = f"HTTPRoute {NS}/{GATEWAY}-redirect"
BACKEND_POLICY = f"GCPBackendPolicy {NS}/web"
HEALTH_POLICY = f"HealthCheckPolicy {NS}/web"
GATEWAY_POLICY = f"GCPGatewayPolicy {NS}/{GATEWAY}"
SERVICE = f"Service {NS}/web"


def at(key: str, *path: str | int) -> Callable[[Manifests], Any]:
    """The node at manifests[key][path...] (for edits)."""

    def get(manifests: Manifests) -> Any:
        node: Any = manifests[key]
        for step in path:
            node = node[step]
        return node

    return get


def put(key: str, path: tuple[str | int, ...], value: Any) -> Callable[[Manifests], None]:
    return lambda m: at(key, *path[:-1])(m).__setitem__(path[-1], value)


def drop(key: str, *path: str | int) -> Callable[[Manifests], None]:
    return lambda m: at(key, *path[:-1])(m).pop(path[-1])


def both(*edits: Callable[[Manifests], object]) -> Callable[[Manifests], None]:
    def apply(manifests: Manifests) -> None:
        for edit in edits:
            edit(manifests)

    return apply


BP_DEFAULT = ("spec", "default")
HC_BLOCK = ("spec", "default", "config", "httpHealthCheck")


@dataclass(frozen=True)
class Case:
    name: str
    edit: Callable[[Manifests], object]
    rule: str
    resource: str  # the object the finding names
    problem: str  # part of the problem text
    fix: str  # part of the fix text
    also: frozenset[str] = field(default_factory=frozenset)  # other rules the same break rightly fires
    context: gke.Context = CONTEXT


AGREE = "front-doors-backend-agree"
CASES: tuple[Case, ...] = (
    # R1 class
    Case(
        "classic class",
        put("gateway", ("spec", "gatewayClassName"), "gke-l7-gxlb"),
        "gateway-class",
        NS_GATEWAY,
        "rejects every HTTPRoute rule filter",
        "gke-l7-global-external-managed",
        frozenset({"gateway-class-route-filters"}),
    ),
    Case(
        "regional class",
        put("gateway", ("spec", "gatewayClassName"), "gke-l7-regional-external-managed"),
        "gateway-class",
        NS_GATEWAY,
        "'gke-l7-regional-external-managed'",
        "set spec.gatewayClassName: gke-l7-global-external-managed",
    ),
    Case(
        "redirect route on a classic Gateway",
        put("gateway", ("spec", "gatewayClassName"), "gke-l7-gxlb"),
        "gateway-class-route-filters",
        REDIRECT_ROUTE,
        "RequestRedirect filter on a route bound to",
        "gke-l7-global-external-managed",
        frozenset({"gateway-class"}),
    ),
    # R2 addresses
    Case("no addresses", drop("gateway", "spec", "addresses"), "gateway-addresses", NS_GATEWAY, "ephemeral IP", "type: NamedAddress"),
    Case(
        "address type left to the CRD default",
        drop("gateway", "spec", "addresses", 0, "type"),
        "gateway-addresses",
        NS_GATEWAY,
        "defaults to IPAddress",
        "type: NamedAddress explicitly",
    ),
    Case(
        "output annotation as the address",
        both(drop("gateway", "spec", "addresses"), put("gateway", ("metadata", "annotations", gw.ADDRESSES_ANNOTATION), "coditect-dev-gw-ip")),
        "gateway-addresses",
        NS_GATEWAY,
        f"annotation {gw.ADDRESSES_ANNOTATION}: 'coditect-dev-gw-ip' is an output GKE's controller writes",
        "type: NamedAddress",
    ),
    Case("IPAddress type", put("gateway", ("spec", "addresses", 0, "type"), "IPAddress"), "gateway-addresses", NS_GATEWAY, "'IPAddress'", "NamedAddress"),
    Case("address without value", drop("gateway", "spec", "addresses", 0, "value"), "gateway-addresses", NS_GATEWAY, "has no value", "reserved global address"),
    Case(
        "the Ingress's address",
        both(put("ingress", ("metadata", "annotations", "kubernetes.io/ingress.global-static-ip-name"), "coditect-dev-gw-ip")),
        "gateway-address-distinct",
        NS_GATEWAY,
        f"Ingress {NS}/web already holds",
        "reserve a second global address",
    ),
    # R3 backends
    Case(
        "route to an undeclared Service",
        put("app_route", ("spec", "rules", 0, "backendRefs", 0, "name"), "coditect-api-v2"),
        "httproute-backend-exists",
        APP_ROUTE,
        "Service 'coditect-api-v2', which is not declared",
        "route to a Service declared in namespace",
    ),
    Case(
        "route to the targetPort",
        put("app_route", ("spec", "rules", 0, "backendRefs", 0, "port"), 8080),
        "httproute-backend-exists",
        APP_ROUTE,
        "not a port number of Service 'web' (ports: 80)",
        "not its targetPort",
    ),
    Case(
        "route without port",
        drop("app_route", "spec", "rules", 0, "backendRefs", 0, "port"),
        "httproute-backend-exists",
        APP_ROUTE,
        "has no port",
        "Service's port number",
    ),
    Case(
        "route to another namespace",
        put("app_route", ("spec", "rules", 0, "backendRefs", 0, "namespace"), "other"),
        "httproute-backend-exists",
        APP_ROUTE,
        "ReferenceGrant",
        "drop backendRefs[].namespace",
    ),
    Case(
        "route to a bucket",
        put("app_route", ("spec", "rules", 0, "backendRefs", 0, "kind"), "StorageBucket"),
        "httproute-backend-exists",
        APP_ROUTE,
        "StorageBucket 'web' (group ''), not a Service",
        'group "", kind Service',
    ),
    # R4 one policy of each
    Case("no GCPBackendPolicy", lambda m: m.pop("backend_policy"), "gateway-backend-policies", SERVICE, "no GCPBackendPolicy", "declare one GCPBackendPolicy"),
    Case(
        "no HealthCheckPolicy",
        lambda m: m.pop("health_policy"),
        "gateway-backend-policies",
        SERVICE,
        "503 no healthy upstream",
        "declare one HealthCheckPolicy",
    ),
    Case(
        "two GCPBackendPolicies",
        lambda m: m.__setitem__("second", {**copy.deepcopy(m["backend_policy"]), "metadata": {"name": "web-2", "namespace": NS}}),
        "gateway-backend-policies",
        SERVICE,
        "GKE applies only the oldest",
        "keep exactly one GCPBackendPolicy",
    ),
    Case(
        "HealthCheckPolicy in another namespace",
        put("health_policy", ("metadata", "namespace"), "other"),
        "gateway-backend-policies",
        SERVICE,
        "one in namespace other does not count",
        "declare one HealthCheckPolicy",
    ),
    Case(
        "policy for an undeclared Service",
        put("backend_policy", ("spec", "targetRef", "name"), "web-old"),
        "gateway-backend-policies",
        BACKEND_POLICY,
        "targets Service 'web-old', which is not declared",
        "target a Service declared",
    ),
    Case(
        "GCPBackendPolicy targetRef without group",
        drop("backend_policy", "spec", "targetRef", "group"),
        "gcpbackendpolicy-target",
        BACKEND_POLICY,
        "must attach to a core Service",
        'group: "", kind: Service',
        frozenset({"gateway-backend-policies"}),
    ),
    Case(
        "HealthCheckPolicy targeting the Gateway",
        put("health_policy", ("spec", "targetRef"), {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY}),
        "healthcheckpolicy-target",
        HEALTH_POLICY,
        "must attach to a core Service",
        'group: "", kind: Service',
        frozenset({"gateway-backend-policies"}),
    ),
    # R5 timeout
    Case(
        "no timeoutSec",
        drop("backend_policy", *BP_DEFAULT, "timeoutSec"),
        "gcpbackendpolicy-timeout",
        BACKEND_POLICY,
        "keeps 30 s",
        "set spec.default.timeoutSec explicitly",
    ),
    Case(
        "timeout above a day",
        put("backend_policy", (*BP_DEFAULT, "timeoutSec"), 90_000),
        "gcpbackendpolicy-timeout",
        BACKEND_POLICY,
        "outside GKE's allowed range 1..86400",
        "from 1 to 86400",
        frozenset({AGREE}),
    ),
    Case(
        "timeout below the minimum session",
        put("backend_policy", (*BP_DEFAULT, "timeoutSec"), 600),
        "gcpbackendpolicy-websocket-timeout",
        BACKEND_POLICY,
        "shorter than the minimum WebSocket session of 3600 s",
        "at least 3600",
        frozenset({AGREE}),
    ),
    Case(
        "HTTPRoute timeouts",
        put("app_route", ("spec", "rules", 0, "timeouts"), {"request": "86400s"}),
        "httproute-no-timeouts",
        APP_ROUTE,
        "Timeouts are not supported",
        "GCPBackendPolicy spec.default.timeoutSec",
    ),
    # R6 draining, logging, affinity
    Case(
        "draining above an hour",
        put("backend_policy", (*BP_DEFAULT, "connectionDraining", "drainingTimeoutSec"), 86_400),
        "gcpbackendpolicy-draining",
        BACKEND_POLICY,
        "drainingTimeoutSec is 86400, outside GKE's allowed range 0..3600",
        "from 0 to 3600",
        frozenset({AGREE}),
    ),
    Case(
        "logging not stated",
        drop("backend_policy", *BP_DEFAULT, "logging"),
        "gcpbackendpolicy-logging",
        BACKEND_POLICY,
        "does not state spec.default.logging.enabled",
        "enabled: true, sampleRate: 1000000",
    ),
    Case(
        "float sampleRate",
        put("backend_policy", (*BP_DEFAULT, "logging", "sampleRate"), 0.5),
        "gcpbackendpolicy-logging",
        BACKEND_POLICY,
        "BackendConfig's unit (0.0..1.0); GCPBackendPolicy counts in millionths",
        "integer from 0 to 1000000",
        frozenset({AGREE}),
    ),
    Case(
        "sampleRate 1.0 copied from the BackendConfig",
        put("backend_policy", (*BP_DEFAULT, "logging", "sampleRate"), 1.0),
        "gcpbackendpolicy-logging",
        BACKEND_POLICY,
        "(1000000 for this rate)",
        "1000000 logs every request",
        frozenset({AGREE}),
    ),
    Case(
        "sampleRate above a million",
        put("backend_policy", (*BP_DEFAULT, "logging", "sampleRate"), 2_000_000),
        "gcpbackendpolicy-logging",
        BACKEND_POLICY,
        "outside 0..1000000",
        "integer from 0 to 1000000",
        frozenset({AGREE}),
    ),
    Case(
        "HEADER_FIELD affinity",
        put("backend_policy", (*BP_DEFAULT, "sessionAffinity", "type"), "HEADER_FIELD"),
        "gcpbackendpolicy-affinity",
        BACKEND_POLICY,
        "HEADER_FIELD and HTTP_COOKIE are unsupported",
        "CLIENT_IP or GENERATED_COOKIE",
        frozenset({AGREE}),
    ),
    Case(
        "cookie TTL with CLIENT_IP",
        put("backend_policy", (*BP_DEFAULT, "sessionAffinity", "cookieTtlSec"), 3_600),
        "gcpbackendpolicy-affinity",
        BACKEND_POLICY,
        "applies only to GENERATED_COOKIE",
        "remove cookieTtlSec",
    ),
    # R7 health check
    Case(
        "health check without type",
        drop("health_policy", "spec", "default", "config", "type"),
        "healthcheckpolicy-config",
        HEALTH_POLICY,
        "config.type is not set",
        "config.type: HTTP",
    ),
    Case(
        "health check type without its block",
        put("health_policy", ("spec", "default", "config", "type"), "HTTPS"),
        "healthcheckpolicy-config",
        HEALTH_POLICY,
        "config.httpHealthCheck does not match config.type HTTPS",
        "move its settings to config.httpsHealthCheck",
        frozenset({AGREE}),
    ),
    Case(
        "port without portSpecification",
        drop("health_policy", *HC_BLOCK, "portSpecification"),
        "healthcheckpolicy-config",
        HEALTH_POLICY,
        "portSpecification is not set",
        "USE_FIXED_PORT",
    ),
    Case(
        "serving port with a port",
        put("health_policy", (*HC_BLOCK, "portSpecification"), "USE_SERVING_PORT"),
        "healthcheckpolicy-config",
        HEALTH_POLICY,
        "USE_SERVING_PORT, which the CRD rejects",
        "use USE_FIXED_PORT",
        frozenset({AGREE}),
    ),
    Case(
        "health check without path",
        drop("health_policy", *HC_BLOCK, "requestPath"),
        "healthcheckpolicy-config",
        HEALTH_POLICY,
        "GKE probes '/'",
        "/healthz",
    ),
    Case(
        "health check threshold left to the default",
        drop("health_policy", "spec", "default", "healthyThreshold"),
        "healthcheckpolicy-numbers",
        HEALTH_POLICY,
        "Gateway default is 2, the Ingress's was 1",
        "set spec.default.healthyThreshold explicitly",
    ),
    Case(
        "health check timeout above the interval",
        put("health_policy", ("spec", "default", "timeoutSec"), 20),
        "healthcheckpolicy-numbers",
        HEALTH_POLICY,
        "timeoutSec 20 is longer than checkIntervalSec 15",
        "less than or equal to checkIntervalSec",
        frozenset({AGREE}),
    ),
    Case(
        "health check interval out of range",
        put("health_policy", ("spec", "default", "checkIntervalSec"), 301),
        "healthcheckpolicy-numbers",
        HEALTH_POLICY,
        "outside GKE's allowed range 1..300",
        "from 1 to 300",
        frozenset({AGREE}),
    ),
    # R8 TLS
    Case(
        "certmap and listener certificates",
        put("gateway", ("spec", "listeners", 0, "tls"), {"mode": "Terminate", "certificateRefs": [{"name": "tls"}]}),
        "gateway-tls",
        NS_GATEWAY,
        "GKE refuses a Gateway with both",
        "remove spec.listeners[0].tls",
        frozenset({"gateway-tls-secret-exists"}),
    ),
    Case(
        "ManagedCertificate reference",
        both(
            drop("gateway", "metadata", "annotations"),
            put(
                "gateway",
                ("spec", "listeners", 0, "tls"),
                {"mode": "Terminate", "certificateRefs": [{"group": "networking.gke.io", "kind": "ManagedCertificate", "name": "coditect-cert"}]},
            ),
        ),
        "gateway-tls",
        NS_GATEWAY,
        "a ManagedCertificate, which GKE's Gateway controller does not support",
        "networking.gke.io/certmap",
    ),
    Case(
        "HTTPS listener without certificate",
        drop("gateway", "metadata", "annotations"),
        "gateway-tls",
        NS_GATEWAY,
        "is HTTPS with no certificate",
        "networking.gke.io/certmap",
    ),
    Case(
        "missing certificate Secret",
        both(
            drop("gateway", "metadata", "annotations"),
            put("gateway", ("spec", "listeners", 0, "tls"), {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "coditect-tls"}]}),
        ),
        "gateway-tls-secret-exists",
        NS_GATEWAY,
        "Secret 'coditect-tls', which is not declared",
        "declare the Secret",
    ),
    Case(
        "no HTTPS listener",
        lambda m: m["gateway"]["spec"].__setitem__("listeners", [{"name": "http", "protocol": "HTTP", "port": 80}]),
        "gateway-tls",
        NS_GATEWAY,
        "has no HTTPS listener",
        "protocol: HTTPS, port: 443",
        frozenset({"httproute-listener-binding"}),
    ),
    # R9 redirect and listeners
    Case(
        "redirect on every listener",
        drop("redirect_route", "spec", "parentRefs", 0, "sectionName"),
        "httproute-listener-binding",
        REDIRECT_ROUTE,
        "binds every listener",
        "set sectionName to 'http'",
        frozenset({"httproute-listener-binding"}),
    ),
    Case(
        "redirect on the HTTPS listener",
        put("redirect_route", ("spec", "parentRefs", 0, "sectionName"), "https"),
        "httproute-listener-binding",
        REDIRECT_ROUTE,
        "redirects HTTPS to itself (a loop)",
        "set sectionName to 'http'",
    ),
    Case(
        "app route on the HTTP listener",
        put("app_route", ("spec", "parentRefs", 0, "sectionName"), "http"),
        "httproute-listener-binding",
        APP_ROUTE,
        "serves the app over plain HTTP",
        "set sectionName to 'https'",
    ),
    Case(
        "no redirect route",
        lambda m: m.pop("redirect_route"),
        "httproute-listener-binding",
        NS_GATEWAY,
        "carries no redirect route",
        "RequestRedirect filter {scheme: https, statusCode: 301}",
    ),
    Case(
        "route to an undeclared Gateway",
        put("app_route", ("spec", "parentRefs", 0, "name"), "other-gateway"),
        "httproute-listener-binding",
        APP_ROUTE,
        "Gateway 'other-gateway', which is not declared",
        "bind it to the declared Gateway",
    ),
    Case(
        "redirect without statusCode",
        drop("redirect_route", "spec", "rules", 0, "filters", 0, "requestRedirect", "statusCode"),
        "httproute-redirect-filter",
        REDIRECT_ROUTE,
        "the CRD then answers 302",
        "statusCode: 301",
    ),
    Case(
        "redirect with a port",
        put("redirect_route", ("spec", "rules", 0, "filters", 0, "requestRedirect", "port"), 443),
        "httproute-redirect-filter",
        REDIRECT_ROUTE,
        "port 443, which GKE does not support",
        "remove spec.rules[0].filters[0].requestRedirect.port",
    ),
    Case(
        "308 on the v1.3.0 bundle",
        put("redirect_route", ("spec", "rules", 0, "filters", 0, "requestRedirect", "statusCode"), 308),
        "httproute-redirect-bundle",
        REDIRECT_ROUTE,
        "not accepted by the cluster's bundle v1.3.0, which allows 301, 302",
        "use 301",
    ),
    Case(
        "308 with no bundle stated",
        put("redirect_route", ("spec", "rules", 0, "filters", 0, "requestRedirect", "statusCode"), 308),
        "httproute-redirect-bundle",
        REDIRECT_ROUTE,
        "every bundle GKE installs (the stack states none)",
        "gatewayBundle",
        context=gke.Context(min_session_sec=3_600),
    ),
    # R10 GCPGatewayPolicy
    Case(
        "SSL policy as a path",
        put("gateway_policy", ("spec", "default", "sslPolicy"), "projects/p/global/sslPolicies/coditect-dev-ssl-policy"),
        "gcpgatewaypolicy-ssl-policy",
        GATEWAY_POLICY,
        "bare name of a global SSL policy",
        "name of the stack's global SSL policy",
    ),
    Case(
        "GCPGatewayPolicy targeting a Service",
        put("gateway_policy", ("spec", "targetRef"), {"group": "", "kind": "Service", "name": "web"}),
        "gcpgatewaypolicy-ssl-policy",
        GATEWAY_POLICY,
        "attaches only to a Gateway",
        "kind: Gateway",
        frozenset({"gateway-has-gateway-policy"}),
    ),
    Case(
        "GCPGatewayPolicy in another namespace",
        put("gateway_policy", ("metadata", "namespace"), "other"),
        "gcpgatewaypolicy-target-exists",
        f"GCPGatewayPolicy other/{GATEWAY}",
        "(one exists in namespace coditect-app",
        "in the Gateway's namespace",
        frozenset({"gateway-has-gateway-policy"}),
    ),
    Case(
        "no GCPGatewayPolicy",
        lambda m: m.pop("gateway_policy"),
        "gateway-has-gateway-policy",
        NS_GATEWAY,
        "has no GCPGatewayPolicy in namespace 'coditect-app' targeting it",
        "declare one GCPGatewayPolicy",
    ),
    Case(
        "two GCPGatewayPolicies",
        lambda m: m.__setitem__("gateway_policy_2", {**copy.deepcopy(m["gateway_policy"]), "metadata": {"name": "second", "namespace": NS}}),
        "gateway-has-gateway-policy",
        NS_GATEWAY,
        "is targeted by 2 GCPGatewayPolicy objects",
        "keep exactly one GCPGatewayPolicy",
    ),
    Case(
        "security policy as a path",
        put("backend_policy", (*BP_DEFAULT, "securityPolicy"), "projects/p/global/securityPolicies/coditect-armor"),
        "gcpbackendpolicy-security-policy",
        BACKEND_POLICY,
        "bare name of a Cloud Armor security policy",
        "name of the stack's Cloud Armor policy",
        frozenset({AGREE}),  # the Ingress side has none: the two doors differ too
    ),
    # AGREE
    Case(
        "Gateway affinity differs",
        put("backend_policy", (*BP_DEFAULT, "sessionAffinity", "type"), "GENERATED_COOKIE"),
        AGREE,
        BACKEND_POLICY,
        f"session affinity differs between the two front doors of {SERVICE}: BackendConfig {NS}/web-bc gives CLIENT_IP, {BACKEND_POLICY} gives GENERATED_COOKIE",
        "set spec.default.sessionAffinity.type to CLIENT_IP",
    ),
    Case(
        "Cloud Armor only on the Gateway",
        put("backend_policy", (*BP_DEFAULT, "securityPolicy"), "coditect-dev-armor"),
        AGREE,
        BACKEND_POLICY,
        "Cloud Armor policy differs",
        'set spec.default.securityPolicy to ""',
    ),
    Case(
        "health check path differs",
        put("health_policy", (*HC_BLOCK, "requestPath"), "/ready"),
        AGREE,
        HEALTH_POLICY,
        "gives /healthz, HealthCheckPolicy coditect-app/web gives /ready",
        "requestPath to /healthz",
    ),
    Case("health check port differs", put("health_policy", (*HC_BLOCK, "port"), 8081), AGREE, HEALTH_POLICY, "health check port differs", "port to 8080"),
    Case(
        "BackendConfig thresholds left to the Ingress defaults",
        put("health_policy", ("spec", "default", "unhealthyThreshold"), 3),
        AGREE,
        HEALTH_POLICY,
        "BackendConfig coditect-app/web-bc gives 2 (not set: the default)",
        "unhealthyThreshold to 2",
    ),
    Case(
        "Gateway timeout differs within the limits",
        put("backend_policy", (*BP_DEFAULT, "timeoutSec"), 7_200),
        AGREE,
        BACKEND_POLICY,
        f"BackendConfig {NS}/web-bc gives 86400 s, {BACKEND_POLICY} gives 7200 s",
        "set spec.default.timeoutSec to 86400",
    ),
    Case(
        "Gateway draining differs",
        put("backend_policy", (*BP_DEFAULT, "connectionDraining", "drainingTimeoutSec"), 30),
        AGREE,
        BACKEND_POLICY,
        "connection draining differs",
        "drainingTimeoutSec to 60",
    ),
    Case(
        "request logging off on the Gateway",
        put("backend_policy", (*BP_DEFAULT, "logging"), {"enabled": False}),
        AGREE,
        BACKEND_POLICY,
        "BackendConfig logging.enable vs GCPBackendPolicy logging.enabled) differs",
        "set spec.default.logging.enabled to true",
    ),
    Case(
        "log sample rate differs",
        put("backend_policy", (*BP_DEFAULT, "logging", "sampleRate"), 500_000),
        AGREE,
        BACKEND_POLICY,
        "1 (= 1000000 millionths)",
        "sampleRate to 1000000",
    ),
)
GATEWAY_FIRING: tuple[tuple[str, str], ...] = tuple((case.rule, case.name) for case in CASES)


def broken(case: Case) -> Manifests:
    manifests = copy.deepcopy(both_front_doors())
    case.edit(manifests)
    return manifests


def test_the_contracts_gateway_beside_the_ingress_gives_no_finding() -> None:
    assert findings(both_front_doors()) == []
    assert findings(both_front_doors(), gke.Context()) == []  # without a session length or a bundle too


def test_the_gateway_alone_gives_no_finding() -> None:
    """frontDoors [gateway]: no Ingress, no BackendConfig; the agreement rule has nothing to compare."""
    manifests = {k: v for k, v in both_front_doors().items() if k not in {"ingress", "backend_config"}}
    manifests["service"]["metadata"]["annotations"] = {}
    assert findings(manifests) == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_break_fires_its_rule_naming_the_object_and_the_fix(case: Case) -> None:
    found = findings(broken(case), case.context)
    assert {f.rule for f in found} == {case.rule} | case.also, [f.message for f in found]
    mine = [f for f in found if f.rule == case.rule and case.problem in f.problem]
    assert mine, [f.message for f in found if f.rule == case.rule]
    assert all(f.level is gke.Level.MANDATORY for f in found)
    assert any(f.resource == case.resource and case.fix in f.fix for f in mine), [f.message for f in mine]


def test_every_gateway_rule_has_a_case() -> None:
    gateway_rules = {
        r.id for r in gke.all_rules() if r.kinds & {gw.GATEWAY, gw.HTTP_ROUTE, gw.GCP_BACKEND_POLICY, gw.HEALTH_CHECK_POLICY, gw.GCP_GATEWAY_POLICY}
    }
    assert len(gateway_rules) == 26
    assert gateway_rules == {case.rule for case in CASES}


def test_the_output_annotation_beside_a_named_address_passes() -> None:
    """A Gateway read back from the cluster carries GKE's networking.gke.io/addresses output; with spec.addresses set it is no finding."""
    manifests = both_front_doors()
    manifests["gateway"]["metadata"]["annotations"][gw.ADDRESSES_ANNOTATION] = "/projects/604837251937/global/addresses/coditect-dev-gw-ip"
    assert findings(manifests) == []


def test_307_and_308_pass_on_the_v1_5_1_bundle_and_301_on_every_bundle() -> None:
    for code, bundle in ((308, "v1.5.1"), (307, "v1.5.1"), (303, "v1.5.1"), (301, "v1.3.0"), (302, None)):
        manifests = both_front_doors()
        manifests["redirect_route"]["spec"]["rules"][0]["filters"][0]["requestRedirect"]["statusCode"] = code
        assert findings(manifests, gke.Context(min_session_sec=3_600, gateway_bundle=bundle)) == [], (code, bundle)


def test_a_route_with_several_ports_and_generated_cookie_agreement() -> None:
    """Passing variants: GENERATED_COOKIE with the same TTL on both sides, a Secret-based listener certificate, USE_SERVING_PORT
    on both sides, and a GCPGatewayPolicy kept beside a second Gateway."""
    manifests = both_front_doors()
    manifests["backend_config"]["spec"]["sessionAffinity"] = {"affinityType": "GENERATED_COOKIE", "affinityCookieTtlSec": 600}
    manifests["backend_policy"]["spec"]["default"]["sessionAffinity"] = {"type": "GENERATED_COOKIE", "cookieTtlSec": 600}
    del manifests["backend_config"]["spec"]["healthCheck"]["port"]
    manifests["health_policy"]["spec"]["default"]["config"]["httpHealthCheck"] = {"portSpecification": "USE_SERVING_PORT", "requestPath": "/healthz"}
    del manifests["gateway"]["metadata"]["annotations"]
    manifests["gateway"]["spec"]["listeners"][0]["tls"] = {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "coditect-tls"}]}
    manifests["secret"] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "coditect-tls", "namespace": NS}, "type": "kubernetes.io/tls"}
    # backend_config's healthCheck without port is its own (Ingress) rule's finding: only that one may remain
    assert {f.rule for f in findings(manifests)} == {"backendconfig-health-check-port"}
    manifests["backend_config"]["spec"]["sessionAffinity"]["affinityCookieTtlSec"] = 900
    agree = [f for f in findings(manifests) if f.rule == AGREE]
    assert [f.subject for f in agree] == ["spec.default.sessionAffinity.cookieTtlSec"] and "900 s" in agree[0].problem and "600 s" in agree[0].problem


def test_a_second_service_with_its_own_policies_is_judged_on_its_own() -> None:
    manifests = both_front_doors()
    extra = gateway_objects(service="api", port=81)
    manifests["api_backend_policy"], manifests["api_health_policy"] = extra["backend_policy"], extra["health_policy"]
    manifests["api_service"] = {**copy.deepcopy(manifests["service"]), "metadata": {"name": "api", "namespace": NS, "annotations": {}}}
    manifests["api_service"]["spec"]["ports"] = [{"name": "http", "port": 81, "targetPort": "http"}]
    manifests["app_route"]["spec"]["rules"].append(
        {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": [{"name": "api", "port": 81}]}
    )
    assert findings(manifests) == []
    del manifests["api_health_policy"]
    found = findings(manifests)
    assert [(f.rule, f.resource) for f in found] == [("gateway-backend-policies", f"Service {NS}/api")]


# --- the documented ranges, as a property ------------------------------------------------------------------

TIMEOUTS = st.one_of(st.integers(-10, 200_000), st.floats(-10, 200_000, allow_nan=False), st.none())
DRAINING = st.one_of(st.integers(-10, 10_000), st.floats(-10, 10_000, allow_nan=False), st.none())
RATES = st.one_of(st.integers(-10, 2_000_000), st.floats(-1, 2_000_000, allow_nan=False), st.sampled_from([0.0, 0.5, 1.0, 1, 2, 1_000_000.0]))


def _whole_in(value: Any, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value == int(value) and low <= value <= high


@settings(max_examples=150, deadline=None)
@given(timeout=TIMEOUTS, draining=DRAINING, rate=RATES)
def test_gcpbackendpolicy_rules_agree_with_the_crd_ranges(timeout: Any, draining: Any, rate: Any) -> None:
    policy = copy.deepcopy(gateway_objects()["backend_policy"])
    default = policy["spec"]["default"]
    for key, value in (("timeoutSec", timeout),):
        if value is None:
            default.pop(key)
        else:
            default[key] = value
    if draining is None:
        default.pop("connectionDraining")
    else:
        default["connectionDraining"]["drainingTimeoutSec"] = draining
    default["logging"]["sampleRate"] = rate
    fired = {f.rule for f in gke.evaluate_resource(policy)}
    low, high = gw.BACKEND_TIMEOUT_SEC
    assert ("gcpbackendpolicy-timeout" in fired) == (timeout is None or not _whole_in(timeout, low, high))
    assert ("gcpbackendpolicy-draining" in fired) == (draining is not None and not _whole_in(draining, *gw.DRAINING_TIMEOUT_SEC))
    fraction = rate == 1  # BackendConfig's "every request" carried over (1 and 1.0 alike: the engine sends floats)
    assert ("gcpbackendpolicy-logging" in fired) == (fraction or not _whole_in(rate, *gw.SAMPLE_RATE))
    if isinstance(rate, float) and rate != int(rate):
        assert "millionths" in (sample_rate_problem(rate) or "")
