"""The Gateway front door under Pulumi mocks: prod's settings with frontDoors [ingress, gateway] and
[gateway] render exactly the contract's manifests (docs: the coordinator's gateway shapes), the backend
values are the BackendConfig's (one source), and every component invariant fires with its fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from coditect.app import build_app, nginx_site
from coditect.base import PART_OF, InvariantError
from coditect.certificate_manager import CertificateMap, resource_id
from coditect.deployment import CombinedDeployment, HealthEndpoint, NamedPort
from coditect.gateway import GatewayBackend, WebsocketGateway, backend_policy_spec, health_check_policy_spec
from coditect.gcp import StaticIp
from coditect.ingress import Route
from coditect.nginx import NginxConfigMap
from coditect.service import NegService
from coditect.settings import GatewaySettings, Settings
from coditect.settings.front_door import BundleVersion
from coditect.target import Target
from ops import gcp_api
from ops.manifests import manifests_of
from ops.program import ProgramRun, missing_components, run_program
from ops.schemas import validate_manifest
from tests.conftest import engine_config, stack_settings_raw
from tests.test_invariants import Parts, refuses, settings

RunComponents = Callable[..., ProgramRun]
GATEWAY_KINDS = ("Gateway", "HTTPRoute", "GCPBackendPolicy", "HealthCheckPolicy", "GCPGatewayPolicy")
INGRESS_KINDS = ("Ingress", "BackendConfig", "FrontendConfig", "ManagedCertificate")

_RUNS: dict[tuple[str, ...], ProgramRun] = {}


def prod_with(*doors: str) -> ProgramRun:
    """prod's stack file with frontDoors `doors` and the cluster's bundle v1.5.1, run once per process."""
    if doors not in _RUNS:
        raw = stack_settings_raw("prod")
        raw["frontDoors"] = list(doors)
        raw["gateway"] = {"bundleVersion": "v1.5.1"}
        _RUNS[doors] = run_program("prod", config=engine_config(raw))
    return copy.deepcopy(_RUNS[doors])


def by_kind(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests_of(run) if m["kind"] == kind]


def meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "coditect-app", "labels": dict(PART_OF), **extra}


SERVICE_REF = {"group": "", "kind": "Service", "name": "coditect-combined-service"}
# The contract's manifests for prod (namespace coditect-app, host coditect.ai, Service port 80, pod port 8080).
EXPECTED = [
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": meta("coditect-gateway", annotations={"networking.gke.io/certmap": "coditect-prod-certmap", "pulumi.com/waitFor": "condition=Programmed"}),
        "spec": {
            "gatewayClassName": "gke-l7-global-external-managed",
            "addresses": [{"type": "NamedAddress", "value": "coditect-prod-gw-ip"}],
            "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443}, {"name": "http", "protocol": "HTTP", "port": 80}],
        },
    },
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": meta("coditect-gateway-app"),
        "spec": {
            "parentRefs": [{"name": "coditect-gateway", "sectionName": "https"}],
            "hostnames": ["coditect.ai"],
            "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [{"name": "coditect-combined-service", "port": 80}]}],
        },
    },
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": meta("coditect-gateway-redirect"),
        "spec": {
            "parentRefs": [{"name": "coditect-gateway", "sectionName": "http"}],
            "hostnames": ["coditect.ai"],
            "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}],
        },
    },
    {
        "apiVersion": "networking.gke.io/v1",
        "kind": "GCPBackendPolicy",
        "metadata": meta("coditect-combined-service"),
        "spec": {
            "targetRef": SERVICE_REF,
            "default": {
                "timeoutSec": 86400,
                "connectionDraining": {"drainingTimeoutSec": 60},
                "sessionAffinity": {"type": "CLIENT_IP"},
                "logging": {"enabled": True, "sampleRate": 1000000},
                "securityPolicy": "coditect-prod-armor",
            },
        },
    },
    {
        "apiVersion": "networking.gke.io/v1",
        "kind": "HealthCheckPolicy",
        "metadata": meta("coditect-combined-service"),
        "spec": {
            "targetRef": SERVICE_REF,
            "default": {
                "checkIntervalSec": 15,
                "timeoutSec": 5,
                "healthyThreshold": 1,
                "unhealthyThreshold": 2,
                "config": {"type": "HTTP", "httpHealthCheck": {"portSpecification": "USE_FIXED_PORT", "port": 8080, "requestPath": "/healthz"}},
            },
        },
    },
    {
        "apiVersion": "networking.gke.io/v1",
        "kind": "GCPGatewayPolicy",
        "metadata": meta("coditect-gateway"),
        "spec": {
            "targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "coditect-gateway"},
            "default": {"sslPolicy": "coditect-prod-ssl-policy"},
        },
    },
]


@pytest.mark.parametrize("doors", [("ingress", "gateway"), ("gateway",)])
def test_prod_renders_exactly_the_contracts_gateway_manifests(doors: tuple[str, ...]) -> None:
    run = prod_with(*doors)
    declared = sorted((m for m in manifests_of(run) if m["kind"] in GATEWAY_KINDS), key=lambda m: GATEWAY_KINDS.index(m["kind"]))
    assert declared == EXPECTED
    assert missing_components(run) == []


def test_both_doors_keep_the_ingress_untouched_beside_the_gateway() -> None:
    both, ingress_only = prod_with("ingress", "gateway"), prod_with("ingress")
    for kind in (*INGRESS_KINDS, "Service", "Deployment"):
        assert by_kind(both, kind) == by_kind(ingress_only, kind), kind
    addresses = {r.inputs["name"] for r in both.of_type("gcp:compute/globalAddress:GlobalAddress")}
    assert addresses == {"coditect-prod-ip", "coditect-prod-gw-ip"}  # two addresses, one per load balancer
    assert both.exports["gatewayName"] == "coditect-gateway"
    assert both.exports["gatewayStaticIpName"] == "coditect-prod-gw-ip"
    assert both.exports["gatewayCertificateDnsRecords"] == [
        {"host": "coditect.ai", "name": "<known after deploy: record name>", "type": "CNAME", "data": "<known after deploy: record data>"}
    ]
    assert both.exports["ingressName"] == "coditect-ingress"


def test_ingress_only_declares_nothing_of_the_gateway() -> None:
    run = prod_with("ingress")
    assert [m["kind"] for m in manifests_of(run) if m["kind"] in GATEWAY_KINDS] == []
    assert not [r for r in run.resources if r.type.startswith("gcp:certificatemanager/")]
    assert not {"gatewayName", "gatewayStaticIpName", "gatewayStaticIpAddress", "gatewayCertificateDnsRecords"} & set(run.exports)


def test_gateway_only_declares_no_ingress_objects_and_no_backend_config_annotation() -> None:
    run = prod_with("gateway")
    kinds = {m["kind"] for m in manifests_of(run)}
    assert kinds.isdisjoint(INGRESS_KINDS)
    (service,) = by_kind(run, "Service")
    assert "cloud.google.com/backend-config" not in service["metadata"]["annotations"]
    # The Ingress's address is kept for a rollback (protected: dropping it would fail `pulumi up`); the SSL policy the
    # GCPGatewayPolicy names is declared too.
    assert {r.inputs["name"] for r in run.of_type("gcp:compute/globalAddress:GlobalAddress")} == {"coditect-prod-ip", "coditect-prod-gw-ip"}
    assert {r.inputs["name"] for r in run.of_type("gcp:compute/sSLPolicy:SSLPolicy")} == {"coditect-prod-ssl-policy"}
    assert not {"ingressName", "backendConfigName"} & set(run.exports) and run.exports["staticIpName"] == "coditect-prod-ip"
    assert any("coditect-prod-ip is kept for a rollback to the Ingress" in m for m in run.messages)
    # The after-up inspection reads the Ingress: no marker without one.
    assert "coditect-ingress-inspection" not in {m["metadata"]["name"] for m in by_kind(run, "ConfigMap")}


def test_certificate_map_has_one_authorization_and_entry_per_host_and_one_managed_certificate() -> None:
    run = prod_with("ingress", "gateway")
    (authorization,) = run.of_type("gcp:certificatemanager/dnsAuthorization:DnsAuthorization")
    assert authorization.inputs == {
        "name": "coditect-prod-auth-coditect-ai",
        "domain": "coditect.ai",
        "location": "global",
        "type": "FIXED_RECORD",
        "description": "coditect: authorizes the Gateway certificate for coditect.ai",
    }
    (certificate,) = run.of_type("gcp:certificatemanager/certificate:Certificate")
    assert certificate.inputs["managed"] == {"domains": ["coditect.ai"], "dnsAuthorizations": [f"{authorization.name}-id"]}
    (certmap,) = run.of_type("gcp:certificatemanager/certificateMap:CertificateMap")
    (entry,) = run.of_type("gcp:certificatemanager/certificateMapEntry:CertificateMapEntry")
    assert certmap.inputs["name"] == "coditect-prod-certmap"
    assert (entry.inputs["map"], entry.inputs["hostname"], entry.inputs["certificates"]) == ("coditect-prod-certmap", "coditect.ai", [f"{certificate.name}-id"])
    for resource in (authorization, certificate, certmap, entry):
        assert gcp_api.validate(resource.type, resource.name, resource.inputs) == [], resource.name


def test_only_the_gateway_is_awaited_and_for_programmed() -> None:
    """pulumi-kubernetes awaits a custom resource only with pulumi.com/waitFor (provider/v4 pkg/metadata/overrides.go)."""
    run = prod_with("ingress", "gateway")
    (gateway,) = by_kind(run, "Gateway")
    assert gateway["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Programmed"
    others = [m for m in manifests_of(run) if m["kind"] in ("HTTPRoute", "GCPBackendPolicy", "HealthCheckPolicy", "GCPGatewayPolicy")]
    assert len(others) == 5 and all("pulumi.com/waitFor" not in (m["metadata"].get("annotations") or {}) for m in others)


def test_each_host_set_gets_its_own_certificate_name() -> None:
    """managed.domains is immutable (certificatemanager.v1 ManagedCertificate.domains): a new host set is a new
    certificate, created before the old one is deleted, so the two must not share a name."""
    from coditect.certificate_manager import certificate_name

    (certificate,) = prod_with("ingress", "gateway").of_type("gcp:certificatemanager/certificate:Certificate")
    assert certificate.inputs["name"] == certificate_name("coditect-prod", ["coditect.ai"])
    one, two = certificate_name("coditect-prod", ["coditect.ai"]), certificate_name("coditect-prod", ["coditect.ai", "www.coditect.ai"])
    assert one != two and one.startswith("coditect-prod-gw-cert-") and len(two) <= 63
    assert two == certificate_name("coditect-prod", ["www.coditect.ai", "coditect.ai"])  # the order of the hosts is no change
    with pytest.raises(InvariantError, match="longer than 63 characters"):
        certificate_name("p" * 60, ["coditect.ai"])


def test_certificate_manager_inputs_are_judged_against_the_discovery_document() -> None:
    problems = gcp_api.validate("gcp:certificatemanager/dnsAuthorization:DnsAuthorization", "x", {"domain": "a.example", "type": "CNAME"})
    assert [(p.field, "FIXED_RECORD" in p.message) for p in problems] == [("type", True)]
    problems = gcp_api.validate("gcp:certificatemanager/certificateMapEntry:CertificateMapEntry", "x", {"map": "m", "hostnames": ["a"]})
    assert [p.field for p in problems] == ["hostnames"]


def test_long_hosts_get_a_stable_bounded_resource_id() -> None:
    host = "a" * 60 + ".example.com"
    first = resource_id("coditect-prod", "auth", host)
    assert len(first) <= 63 and first == resource_id("coditect-prod", "auth", host) != resource_id("coditect-prod", "auth", "b" + host[1:])
    assert resource_id("coditect-prod", "auth", "coditect.ai") == "coditect-prod-auth-coditect-ai"


def test_gateway_manifests_pass_the_shipped_gke_policy_crds() -> None:
    for manifest in manifests_of(prod_with("ingress", "gateway")):
        if manifest["kind"] in ("GCPBackendPolicy", "HealthCheckPolicy"):
            assert validate_manifest(manifest) == [], manifest["kind"]


# --- one source: the Gateway's backend is the BackendConfig's ----------------------------------


def test_backend_values_equal_the_backend_configs() -> None:
    run = prod_with("ingress", "gateway")
    (config,) = by_kind(run, "BackendConfig")
    (backend,) = by_kind(run, "GCPBackendPolicy")
    (health,) = by_kind(run, "HealthCheckPolicy")
    bc, gw, hc = config["spec"], backend["spec"]["default"], health["spec"]["default"]
    assert gw["timeoutSec"] == bc["timeoutSec"]
    assert gw["connectionDraining"] == bc["connectionDraining"]
    assert gw["sessionAffinity"]["type"] == bc["sessionAffinity"]["affinityType"]
    assert gw["securityPolicy"] == bc["securityPolicy"]["name"]
    assert gw["logging"] == {"enabled": bc["logging"]["enable"], "sampleRate": round(bc["logging"]["sampleRate"] * 1_000_000)}
    for key in ("checkIntervalSec", "timeoutSec", "healthyThreshold", "unhealthyThreshold"):
        assert hc[key] == bc["healthCheck"][key], key
    http = hc["config"]["httpHealthCheck"]
    assert (hc["config"]["type"], http["port"], http["requestPath"]) == (bc["healthCheck"]["type"], bc["healthCheck"]["port"], bc["healthCheck"]["requestPath"])


def _edit(raw: dict[str, Any], **backend: Any) -> None:
    raw["frontDoors"] = ["ingress", "gateway"]
    raw["gateway"] = {"bundleVersion": "v1.5.1"}
    raw["backendConfig"] = {**raw.get("backendConfig", {}), **backend}


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        (
            {"timeoutSec": 7200, "drainingTimeoutSec": 30, "sessionAffinity": "GENERATED_COOKIE", "affinityCookieTtlSec": 600},
            {"timeoutSec": 7200, "connectionDraining": {"drainingTimeoutSec": 30}, "sessionAffinity": {"type": "GENERATED_COOKIE", "cookieTtlSec": 600}},
        ),
        (
            {"logging": {"enable": True, "sampleRate": 0.25}},
            {"sessionAffinity": {"type": "CLIENT_IP"}, "logging": {"enabled": True, "sampleRate": 250000}},
        ),
    ],
)
def test_a_changed_backend_setting_changes_both_doors(run_with: Callable[..., ProgramRun], backend: dict[str, Any], expected: dict[str, Any]) -> None:
    run = run_with("staging", lambda raw: _edit(raw, **backend))
    (policy,) = by_kind(run, "GCPBackendPolicy")
    assert expected.items() <= policy["spec"]["default"].items()
    (config,) = by_kind(run, "BackendConfig")
    assert config["spec"]["timeoutSec"] == policy["spec"]["default"]["timeoutSec"]


def test_logging_off_and_cloud_armor_off_are_stated_or_left_out(run_with: Callable[..., ProgramRun]) -> None:
    def edit(raw: dict[str, Any]) -> None:
        _edit(raw, logging={"enable": False})
        raw["gcp"] = {**raw.get("gcp", {}), "monitoring": {"enabled": False}, "cloudArmor": {"enabled": False, "keepDetachedPolicy": False}}

    (policy,) = by_kind(run_with("staging", edit), "GCPBackendPolicy")
    assert policy["spec"]["default"]["logging"] == {"enabled": False}
    assert "securityPolicy" not in policy["spec"]["default"]


def test_redirect_status_code_and_names_come_from_the_settings(run_with: Callable[..., ProgramRun]) -> None:
    def edit(raw: dict[str, Any]) -> None:
        _edit(raw)
        raw["gateway"] = {"bundleVersion": "v1.5.1", "name": "edge", "redirectStatusCode": 308, "staticIpName": "edge-ip"}

    run = run_with("staging", edit)
    (redirect,) = [m for m in by_kind(run, "HTTPRoute") if m["metadata"]["name"] == "edge-redirect"]
    assert redirect["spec"]["rules"][0]["filters"][0]["requestRedirect"]["statusCode"] == 308
    (gateway,) = by_kind(run, "Gateway")
    assert gateway["spec"]["addresses"] == [{"type": "NamedAddress", "value": "edge-ip"}]
    assert run.exports["gatewayStaticIpName"] == "edge-ip"


def test_pure_spec_functions_follow_the_settings() -> None:
    s = settings("prod")
    cookie = s.backend_config.model_copy(update={"session_affinity": "GENERATED_COOKIE", "affinity_cookie_ttl_sec": 42})
    assert backend_policy_spec("svc", GatewayBackend(cookie))["default"]["sessionAffinity"] == {"type": "GENERATED_COOKIE", "cookieTtlSec": 42}
    assert "securityPolicy" not in backend_policy_spec("svc", GatewayBackend(cookie))["default"]
    spec = health_check_policy_spec("svc", s.backend_config, HealthEndpoint("/ready", NamedPort("http", 9000)))
    assert spec["default"]["config"]["httpHealthCheck"] == {"portSpecification": "USE_FIXED_PORT", "port": 9000, "requestPath": "/ready"}


# --- component invariants -----------------------------------------------------------------------


class GatewayParts(Parts):
    """Parts with the Gateway's front: its address, certificate map and backend."""

    def __init__(self, s: Settings, ns_name: str | None = None) -> None:
        super().__init__(s, ns_name)
        self.ip = StaticIp("gw-ip", "coditect-dev-gw-ip", front="the Gateway's")
        self.certmap = CertificateMap("certmap", s.gcp_prefix, s.hosts)

    def gateway(
        self, *routes: Route, backend: GatewayBackend | None = None, ingress_ip: str | None = None, certmap: CertificateMap | None = None
    ) -> WebsocketGateway:
        return WebsocketGateway(
            "gateway",
            self.ns,
            routes or tuple(Route(self.service, host=h) for h in self.s.hosts),
            GatewaySettings(bundle_version="v1.5.1"),
            backend or GatewayBackend(self.s.backend_config),
            self.ip,
            certmap or self.certmap,
            "coditect-dev-ssl-policy",
            ingress_static_ip=ingress_ip,
        )


def test_valid_gateway_parts_declare_every_object(run_components: RunComponents) -> None:
    run = run_components(lambda: GatewayParts(settings()).gateway())
    kinds = sorted(r.inputs["kind"] for r in run.resources if r.type.startswith("kubernetes:") and r.inputs.get("kind") in GATEWAY_KINDS)
    assert kinds == sorted(["Gateway", "HTTPRoute", "HTTPRoute", "GCPBackendPolicy", "HealthCheckPolicy", "GCPGatewayPolicy"])
    # Every child sits under the component (URN type <parent>$<type>).
    gateway_children = [r for r in run.resources if r.custom and r.inputs.get("kind") in GATEWAY_KINDS]
    assert all("coditect:index:WebsocketGateway$" in r.urn for r in gateway_children)


def test_gateway_refuses_a_service_in_another_namespace(run_components: RunComponents) -> None:
    def program() -> None:
        parts = GatewayParts(settings())
        other = Parts(settings(), ns_name="coditect-other")
        parts.gateway(Route(other.service, host="dev.coditect.ai"))

    refuses(run_components, program, "Gateway coditect-dev/coditect-gateway", "outside namespace 'coditect-dev'", "ReferenceGrant")


def test_gateway_refuses_a_route_without_a_host(run_components: RunComponents) -> None:
    def program() -> None:
        parts = GatewayParts(settings())
        parts.gateway(Route(parts.service))

    refuses(run_components, program, "has no host")


def test_gateway_refuses_no_route(run_components: RunComponents) -> None:
    def program() -> None:
        parts = GatewayParts(settings())
        WebsocketGateway("gw", parts.ns, (), GatewaySettings(), GatewayBackend(parts.s.backend_config), parts.ip, parts.certmap, "ssl")

    refuses(run_components, program, "no route")


def test_gateway_refuses_a_route_declared_twice_and_hosts_routed_differently(run_components: RunComponents) -> None:
    def twice() -> None:
        parts = GatewayParts(settings())
        parts.gateway(Route(parts.service, host="dev.coditect.ai"), Route(parts.service, host="dev.coditect.ai"))

    refuses(run_components, twice, "routed twice")

    def apart() -> None:
        s = settings(edit=lambda raw: raw.update(hosts=["dev.coditect.ai", "b.coditect.ai"]))
        parts = GatewayParts(s)
        parts.gateway(Route(parts.service, host="dev.coditect.ai"), Route(parts.service, host="b.coditect.ai", path="/b/"))

    refuses(run_components, apart, "routed differently")


def test_gateway_refuses_an_unmatchable_path_type(run_components: RunComponents) -> None:
    def program() -> None:
        parts = GatewayParts(settings())
        parts.gateway(Route(parts.service, host="dev.coditect.ai", path_type="ImplementationSpecific"))

    refuses(run_components, program, "no HTTPRoute path match")


def test_gateway_refuses_a_backend_made_from_other_settings_than_the_backend_config(run_components: RunComponents) -> None:
    def program() -> None:
        parts = GatewayParts(settings())
        parts.gateway(backend=GatewayBackend(parts.s.backend_config.model_copy(update={"timeout_sec": 3600})))

    refuses(run_components, program, "made from other settings", "BackendConfig coditect-backend-config")


def test_gateway_refuses_pods_that_disagree_with_its_backend(run_components: RunComponents) -> None:
    def program() -> None:
        s = settings()
        parts = GatewayParts(s)
        short = NginxConfigMap(
            "nginx-short", parts.ns, "short", nginx_site(s.model_copy(update={"backend_config": s.backend_config.model_copy(update={"timeout_sec": 60})}))
        )
        deployment = CombinedDeployment("short", parts.ns, s.deployment, s.release, nginx=short)
        parts.service = NegService("svc-short", parts.ns, s.service, deployment, None)
        parts.gateway()

    refuses(run_components, program, "nginx proxy_read_timeout", "shorter than")


def test_gateway_refuses_the_ingress_address_and_uncertified_hosts(run_components: RunComponents) -> None:
    def shared() -> None:
        GatewayParts(settings()).gateway(ingress_ip="coditect-dev-gw-ip")

    refuses(run_components, shared, "is the Ingress's", "gateway.staticIpName")

    def uncovered() -> None:
        parts = GatewayParts(settings())
        parts.gateway(certmap=CertificateMap("other-map", "coditect-dev", ("other.coditect.ai",)))

    refuses(run_components, uncovered, "has no entry for dev.coditect.ai")


def test_certificate_map_refuses_no_host_and_a_repeated_host(run_components: RunComponents) -> None:
    def certificate_map(*hosts: str) -> Callable[[], None]:
        def program() -> None:
            CertificateMap("m", "coditect-dev", hosts)

        return program

    refuses(run_components, certificate_map(), "no host")
    refuses(run_components, certificate_map("a.example", "a.example"), "listed twice")


def test_gateway_without_tls_is_refused_even_when_settings_are_bypassed(run_components: RunComponents) -> None:
    def program() -> None:
        s = settings("staging", lambda raw: raw.update(frontDoors=["ingress", "gateway"], gateway={"bundleVersion": "v1.5.1"}))
        off = s.model_copy(update={"gcp": s.gcp.model_copy(update={"tls": s.gcp.tls.model_copy(update={"enabled": False, "redirect_to_https": False})})})
        build_app(off, Target("staging", "coditect-staging", s.cluster.context))

    # build_app passes the settings to SocketIoApp as args, which it judges again with the same model: a
    # bypassed settings object is refused there, under the args key (front_doors' own check stays for direct callers).
    with pytest.raises(InvariantError, match=r"SocketIoApp app: args\.gcp\.tls\.enabled: is false while frontDoors has gateway"):
        run_components(program)


def test_gateway_on_its_own_cross_checks_its_routes_against_the_bundle(run_components: RunComponents) -> None:
    """Outside a plan the Gateway's stack rules still run on its routes and policies (ROUTING_KINDS): a 308 redirect
    is refused against bundle v1.3.0 (whose HTTPRoute CRD allows 301/302) and accepted against v1.5.1."""

    def with_bundle(bundle: BundleVersion) -> Callable[[], None]:
        def program() -> None:
            parts = GatewayParts(settings())
            routes = tuple(Route(parts.service, host=h) for h in parts.s.hosts)
            gateway = GatewaySettings(bundle_version=bundle, redirect_status_code=308)  # the settings model would refuse it; bypassed here
            WebsocketGateway("gateway", parts.ns, routes, gateway, GatewayBackend(parts.s.backend_config), parts.ip, parts.certmap, "ssl")

        return program

    refuses(run_components, with_bundle("v1.3.0"), "httproute-redirect-bundle", "coditect-gateway-redirect", "308")
    run = run_components(with_bundle("v1.5.1"))
    redirect = next(r for r in run.resources if r.inputs.get("kind") == "HTTPRoute" and r.inputs["metadata"]["name"] == "coditect-gateway-redirect")
    assert redirect.inputs["spec"]["rules"][0]["filters"][0]["requestRedirect"]["statusCode"] == 308


def test_no_front_door_switch_drops_a_protected_address() -> None:
    """Both addresses are protected, and Pulumi refuses to delete a protected resource: every step of the migration
    and of its rollback ([ingress] <-> [ingress, gateway] <-> [gateway]) declares the same two addresses, at the same
    names (the stack here names its bundle, as a stack in migration does)."""
    declared = {}
    for doors in (("ingress",), ("ingress", "gateway"), ("gateway",)):
        run = prod_with(*doors)
        declared[doors] = {(r.name, r.inputs["name"]) for r in run.of_type("gcp:compute/globalAddress:GlobalAddress")}
    assert len(set(map(frozenset, declared.values()))) == 1, declared
    assert declared[("ingress",)] == {("static-ip", "coditect-prod-ip"), ("gateway-static-ip", "coditect-prod-gw-ip")}
