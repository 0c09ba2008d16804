"""gke.rules on plain manifests: rules the catalogue does not already cover, each firing and passing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gke import Level, rules
from tests.policy_catalogue import baseline


def ids(findings: list) -> set[str]:
    return {f.rule for f in findings}


def base(key: str) -> dict[str, Any]:
    return copy.deepcopy(baseline()[key])


def test_baseline_objects_pass_their_resource_rules() -> None:
    for key in ("deployment", "backend_config", "service", "ingress"):
        assert [f for f in rules.resource(base(key), require_digest=True)] == [], key


@pytest.mark.parametrize(
    ("edit", "rule"),
    [
        (lambda s: s.update({"logging": {"enable": True, "sampleRate": 2}}), "backendconfig-logging-sample-rate"),
        (lambda s: s.update({"iap": {"enabled": True}, "cdn": {"enabled": True}}), "backendconfig-iap-cdn"),
        (lambda s: s["healthCheck"].update({"type": "TCP"}), "backendconfig-health-check-type"),
        (lambda s: s["healthCheck"].update({"unhealthyThreshold": 11}), "backendconfig-health-check-range"),
        (lambda s: s["sessionAffinity"].update({"affinityCookieTtlSec": 90000}), "backendconfig-cookie-ttl-range"),
        (lambda s: s.update({"timeoutSec": 1.5}), "backendconfig-timeout-range"),
    ],
)
def test_backend_config_rules(edit, rule: str) -> None:
    bc = base("backend_config")
    edit(bc["spec"])
    assert rule in ids(rules.backend_config(bc))


def test_cookie_ttl_with_cookie_affinity_is_fine_and_with_client_ip_is_advisory() -> None:
    bc = base("backend_config")
    bc["spec"]["sessionAffinity"] = {"affinityType": "GENERATED_COOKIE", "affinityCookieTtlSec": 86400}
    assert rules.backend_config(bc) == []
    bc["spec"]["sessionAffinity"]["affinityType"] = "CLIENT_IP"
    [finding] = rules.backend_config(bc)
    assert finding.rule == "backendconfig-cookie-ttl-unused" and finding.level is Level.ADVISORY


def test_service_annotation_syntax() -> None:
    svc = base("service")
    svc["metadata"]["annotations"]["cloud.google.com/neg"] = "{ingress: true}"
    assert "service-neg-annotation" in ids(rules.service(svc))
    assert not rules.neg_enabled(svc), "GKE treats invalid NEG JSON as NEG off"
    svc = base("service")
    svc["metadata"]["annotations"]["cloud.google.com/backend-config"] = '{"ports": {"http": "web-bc"}}'
    assert rules.service(svc) == [], "a port name key is valid"
    svc["metadata"]["annotations"]["cloud.google.com/app-protocols"] = '{"http": "GRPC"}'
    assert "service-app-protocols" in ids(rules.service(svc))


def test_ga_backend_config_annotation_wins_over_beta() -> None:
    svc = base("service")
    svc["metadata"]["annotations"]["beta.cloud.google.com/backend-config"] = '{"default": "old-bc"}'
    assert rules.backend_config_refs(svc) == ({}, "web-bc")
    del svc["metadata"]["annotations"]["cloud.google.com/backend-config"]
    assert rules.backend_config_refs(svc) == ({}, "old-bc")


@pytest.mark.parametrize(
    ("edit", "rule", "level"),
    [
        (lambda i: i["metadata"]["annotations"].update({"kubernetes.io/ingress.class": "nginx"}), "ingress-class", Level.MANDATORY),
        (lambda i: i["spec"].update({"ingressClassName": "gce"}), "ingress-class-name-ignored", Level.ADVISORY),
        (lambda i: i["metadata"].update({"annotations": {}}), "ingress-class-explicit", Level.ADVISORY),
        (lambda i: i["metadata"]["annotations"].update({"kubernetes.io/ingress.global-static-ip-name": "a",
                                                        "kubernetes.io/ingress.regional-static-ip-name": "b"}), "ingress-static-ip", Level.MANDATORY),
        (lambda i: i["metadata"]["annotations"].update({"kubernetes.io/ingress.allow-http": "false"}), "ingress-allow-http-without-tls", Level.MANDATORY),
        (lambda i: i["spec"]["rules"][0]["http"]["paths"][0].update({"pathType": "Regex"}), "ingress-path-type", Level.MANDATORY),
        (lambda i: i["spec"]["rules"][0]["http"]["paths"][0].update({"path": "/api/*"}), "ingress-path-type", Level.MANDATORY),
        (lambda i: i["spec"]["rules"].append({"host": "other.coditect.ai"}), "ingress-rule-http", Level.MANDATORY),
        (lambda i: i["spec"].update({"defaultBackend": {"resource": {"kind": "StorageBucket", "name": "b"}}}), "ingress-backend-service", Level.MANDATORY),
    ],
)
def test_ingress_rules(edit, rule: str, level: Level) -> None:
    ingress = base("ingress")
    edit(ingress)
    found = [f for f in rules.ingress(ingress) if f.rule == rule]
    assert found and found[0].level is level


def test_container_hardening_is_advisory_and_digest_follows_the_environment() -> None:
    deployment = base("deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "nginx:1.27"
    del container["securityContext"], container["livenessProbe"], container["resources"]
    findings = {f.rule: f.level for f in rules.workload(deployment, require_digest=False)}
    assert findings == {"image-digest": Level.ADVISORY, "container-probes": Level.ADVISORY,
                        "container-resources": Level.ADVISORY, "container-security-context": Level.ADVISORY}
    assert {f.rule: f.level for f in rules.workload(deployment, require_digest=True)}["image-digest"] is Level.MANDATORY


@pytest.mark.parametrize(
    ("image", "pinned"),
    [("r/x@sha256:" + "a" * 64, True), ("r/x:1@sha256:" + "b" * 64, True), ("r/x@sha256:abc", False), ("r/x:latest", False), (None, False)],
)
def test_digest_pinning(image: Any, pinned: bool) -> None:
    assert rules.is_digest_pinned(image) is pinned


def test_rules_never_raise_on_malformed_manifests() -> None:
    for broken in ({}, {"kind": "Ingress"}, {"kind": "Ingress", "spec": "x"}, {"kind": "Service", "metadata": {"annotations": None}},
                   {"kind": "BackendConfig", "spec": []}, {"kind": "Deployment", "spec": {"template": 3}}):
        rules.resource(broken)
        rules.stack([broken])
