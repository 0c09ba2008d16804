"""An ingress2gateway translation of this app's real prod Ingress is refused, one line per value it drops.

The Gateway side is built the way kubernetes-sigs/ingress2gateway@89ab0cd (`print --providers=gce`) builds it:
- pkg/i2gw/providers/common/converter.go: one Gateway per namespace and Ingress class, named after the class, with an
  HTTP listener `<host>-http` per host and an HTTPS listener only for `spec.tls` (this Ingress has none: its certificate
  is the networking.gke.io/managed-certificates annotation, which the tool drops); one HTTPRoute `<ingress>-<host>` and
  one `<ingress>-default-backend`, parentRefs by Gateway name only; no addresses (global-static-ip-name is dropped);
- pkg/i2gw/providers/gce/utils.go ingClassToGwyClassGCE: class gce -> gke-l7-global-external-managed;
- pkg/i2gw/providers/gce/ir_converter.go buildGceServiceIR: a BackendConfig failing extensions.ValidateBeConfig
  (affinityCookieTtlSec with a type other than GENERATED_COOKIE) is skipped whole;
- pkg/i2gw/emitters/gce/{gce.go,output_extensions.go}: GCPBackendPolicy from sessionAffinity (cookieTtlSec only with
  GENERATED_COOKIE) and securityPolicy only; HealthCheckPolicy with the four numbers, type, port and requestPath and no
  portSpecification; GCPGatewayPolicy from the FrontendConfig's sslPolicy; no redirect route (redirectToHttps dropped).
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from coditect import gke
from tests.conftest import ROOT
from tests.gateway_fixtures import CONTEXT

Manifest = dict[str, Any]
RULES_OF_THE_TRANSLATION = frozenset(
    r.id for r in gke.all_rules() if r.kinds & {"Gateway", "HTTPRoute", "GCPBackendPolicy", "HealthCheckPolicy", "GCPGatewayPolicy"}
)


def prod() -> list[Manifest]:
    return [d for d in yaml.safe_load_all((ROOT / "rendered" / "prod" / "kubernetes.yaml").read_text()) if d]


def one(manifests: list[Manifest], kind: str) -> Manifest:
    (found,) = [m for m in manifests if m["kind"] == kind]
    return copy.deepcopy(found)


def _meta(name: str, namespace: str) -> dict[str, str]:
    return {"name": name, "namespace": namespace}


def _valid_for_ingress2gateway(spec: dict[str, Any]) -> bool:
    """providers/gce/extensions/input_extensions.go ValidateBeConfig."""
    affinity, health = spec.get("sessionAffinity"), spec.get("healthCheck")
    if affinity and affinity.get("affinityCookieTtlSec") is not None and affinity.get("affinityType") != "GENERATED_COOKIE":
        return False
    return not (health and health.get("type") not in ("HTTP", "HTTPS", "HTTP2"))


def ingress2gateway(manifests: list[Manifest]) -> list[Manifest]:
    """What the tool prints for the Ingress, Service, BackendConfig and FrontendConfig among `manifests`."""
    ingress, service = one(manifests, "Ingress"), one(manifests, "Service")
    namespace, gateway = ingress["metadata"]["namespace"], ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"]
    port_numbers = {p["name"]: p["port"] for p in service["spec"]["ports"]}

    def backend(ref: dict[str, Any]) -> dict[str, Any]:
        port = ref["service"]["port"]
        return {"name": ref["service"]["name"], "port": port.get("number", port_numbers.get(port.get("name")))}

    host_names = [rule["host"] for rule in ingress["spec"]["rules"]]
    out: list[Manifest] = [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": _meta(gateway, namespace),
            "spec": {
                "gatewayClassName": "gke-l7-global-external-managed",
                "listeners": [{"name": f"{h.replace('.', '-')}-http", "hostname": h, "port": 80, "protocol": "HTTP"} for h in host_names],
            },
        }
    ]
    for rule in ingress["spec"]["rules"]:
        out.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": _meta(f"{ingress['metadata']['name']}-{rule['host'].replace('.', '-')}", namespace),
                "spec": {
                    "parentRefs": [{"name": gateway}],
                    "hostnames": [rule["host"]],
                    "rules": [
                        {"matches": [{"path": {"type": "PathPrefix", "value": p["path"]}}], "backendRefs": [backend(p["backend"])]}
                        for p in rule["http"]["paths"]
                    ],
                },
            }
        )
    out.append(
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": _meta(f"{ingress['metadata']['name']}-default-backend", namespace),
            "spec": {"parentRefs": [{"name": gateway}], "rules": [{"backendRefs": [backend(ingress["spec"]["defaultBackend"])]}]},
        }
    )
    spec = one(manifests, "BackendConfig")["spec"]
    target = {"group": "", "kind": "Service", "name": service["metadata"]["name"]}
    if _valid_for_ingress2gateway(spec):
        affinity = spec["sessionAffinity"]
        session = {"type": affinity["affinityType"]}
        if affinity["affinityType"] == "GENERATED_COOKIE" and "affinityCookieTtlSec" in affinity:
            session["cookieTtlSec"] = affinity["affinityCookieTtlSec"]
        health = spec["healthCheck"]
        block = {"port": health["port"], "requestPath": health["requestPath"]}
        numbers = {k: health[k] for k in ("checkIntervalSec", "timeoutSec", "healthyThreshold", "unhealthyThreshold") if k in health}
        out += [
            {
                "apiVersion": "networking.gke.io/v1",
                "kind": "GCPBackendPolicy",
                "metadata": _meta(service["metadata"]["name"], namespace),
                "spec": {"targetRef": target, "default": {"sessionAffinity": session, "securityPolicy": spec["securityPolicy"]["name"]}},
            },
            {
                "apiVersion": "networking.gke.io/v1",
                "kind": "HealthCheckPolicy",
                "metadata": _meta(service["metadata"]["name"], namespace),
                "spec": {"targetRef": target, "default": {**numbers, "config": {"type": health["type"], "httpHealthCheck": block}}},
            },
        ]
    out.append(
        {
            "apiVersion": "networking.gke.io/v1",
            "kind": "GCPGatewayPolicy",
            "metadata": _meta(gateway, namespace),
            "spec": {
                "targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway},
                "default": {"sslPolicy": one(manifests, "FrontendConfig")["spec"]["sslPolicy"]},
            },
        }
    )
    return out


# (rule, where) -> the value of the Ingress the translation dropped, as a person would name it.
DROPPED: dict[tuple[str, str | None], str] = {
    ("gcpbackendpolicy-timeout", "spec.default.timeoutSec"): "timeout",
    ("front-doors-backend-agree", "spec.default.timeoutSec"): "timeout",
    ("front-doors-backend-agree", "spec.default.connectionDraining.drainingTimeoutSec"): "draining",
    ("gcpbackendpolicy-logging", "spec.default.logging.enabled"): "logging",
    ("front-doors-backend-agree", "spec.default.logging.enabled"): "logging",
    ("httproute-listener-binding", "spec.listeners"): "redirect",
    ("gateway-addresses", "spec.addresses"): "static IP",
    ("healthcheckpolicy-config", "spec.default.config.httpHealthCheck.portSpecification"): "health check portSpecification",
    ("gateway-tls", "spec.listeners"): "HTTPS (managed certificate)",
    # not an Ingress value but the tool's own shape: its routes name no sectionName, so they bind every listener
    ("httproute-listener-binding", "spec.parentRefs[0].sectionName"): "sectionName",
    ("gateway-backend-policies", "GCPBackendPolicy"): "every GCPBackendPolicy value (BackendConfig skipped)",
    ("gateway-backend-policies", "HealthCheckPolicy"): "every HealthCheckPolicy value (BackendConfig skipped)",
}


def translation_findings(manifests: list[Manifest]) -> list[gke.Finding]:
    before = {f.message for f in gke.evaluate(manifests, CONTEXT)}
    after = gke.evaluate(manifests + ingress2gateway(manifests), CONTEXT)
    return [f for f in after if f.message not in before]


def test_the_prod_stack_alone_gives_no_gateway_finding() -> None:
    assert [f for f in gke.evaluate(prod(), CONTEXT) if f.rule in RULES_OF_THE_TRANSLATION or f.level is gke.Level.MANDATORY] == []


def test_a_translation_of_a_translatable_backendconfig_is_refused_naming_each_dropped_value() -> None:
    """The prod BackendConfig without affinityCookieTtlSec (the one value that makes the tool skip it, see below):
    GCPBackendPolicy with only sessionAffinity and securityPolicy, HealthCheckPolicy with port and no portSpecification,
    no redirect route, a Gateway without addresses."""
    manifests = prod()
    backend_config = next(m for m in manifests if m["kind"] == "BackendConfig")
    del backend_config["spec"]["sessionAffinity"]["affinityCookieTtlSec"]
    translated = ingress2gateway(manifests)
    backend_policy = next(m for m in translated if m["kind"] == "GCPBackendPolicy")
    assert backend_policy["spec"]["default"] == {"sessionAffinity": {"type": "CLIENT_IP"}, "securityPolicy": "coditect-prod-armor"}
    found = translation_findings(manifests)
    assert all(f.level is gke.Level.MANDATORY for f in found)
    named = [(DROPPED.get((f.rule, f.subject)), f) for f in found]
    assert [f.message for label, f in named if label is None] == [], "every finding names a dropped value"
    labels = [label or "" for label, _ in named]
    one_line_each = ["timeout", "draining", "logging", "redirect", "static IP", "health check portSpecification", "HTTPS (managed certificate)"]
    assert sorted(labels) == sorted([*one_line_each, "sectionName", "sectionName"]), labels  # two routes without sectionName
    # what the translation kept gives no finding: affinity, Cloud Armor, the health check path, port and numbers, the SSL policy
    assert {f.subject for f in found if f.resource.startswith(("GCPBackendPolicy", "HealthCheckPolicy", "GCPGatewayPolicy"))} == {
        "spec.default.timeoutSec",
        "spec.default.connectionDraining.drainingTimeoutSec",
        "spec.default.logging.enabled",
        "spec.default.config.httpHealthCheck.portSpecification",
    }
    lines = {f.message for f in found}
    assert any("keeps 30 s" in line and "86400" in line for line in lines)  # the 24 h socket cut to 30 s
    assert any("gives 60 s" in line and "0 s (not set: the default)" in line for line in lines)
    assert any("has no spec.addresses" in line for line in lines)


def test_the_real_prod_backendconfig_is_skipped_whole_and_the_gateway_refused_for_both_policies() -> None:
    """prod's BackendConfig sets affinityCookieTtlSec with CLIENT_IP: ValidateBeConfig fails and the tool emits neither
    policy, so even affinity and Cloud Armor are lost."""
    translated = ingress2gateway(prod())
    assert {m["kind"] for m in translated} == {"Gateway", "HTTPRoute", "GCPGatewayPolicy"}
    found = translation_findings(prod())
    labels = {DROPPED.get((f.rule, f.subject)) for f in found}
    assert None not in labels, [f.message for f in found]
    assert {
        "every GCPBackendPolicy value (BackendConfig skipped)",
        "every HealthCheckPolicy value (BackendConfig skipped)",
        "static IP",
        "redirect",
    } <= labels
    service = next(f for f in found if f.subject == "GCPBackendPolicy")
    assert service.resource == "Service coditect-app/coditect-combined-service" and "30 s timeout" in service.problem
