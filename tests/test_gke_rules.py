"""The rule engine on plain manifests: every resource rule the catalogue does not cover, each firing
(on one broken field of a valid object) and passing (on the valid object)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from coditect import gke
from coditect.gke import Level
from coditect.gke.enforcement import enforced_levels
from coditect.gke.manifest import backend_config_refs, is_digest_pinned, neg_enabled
from tests.policy_catalogue import baseline

Edit = Callable[[dict[str, Any]], object]
PROD_LEVELS = enforced_levels({"image-digest": {"enforcementLevel": "mandatory"}})


def ids(findings: list[gke.Finding]) -> set[str]:
    return {f.rule for f in findings}


def base(key: str) -> dict[str, Any]:
    return copy.deepcopy(baseline()[key])


def _annotate(key: str, value: str) -> Edit:
    return lambda m: m["metadata"]["annotations"].update({key: value})


# (baseline object, edit, the rule it must fire, its level). With the catalogue (tests/policy_catalogue.py),
# every rule of the registry fires somewhere: tests/test_rule_registry.py checks that.
FIRING: list[tuple[str, Edit, str, Level]] = [
    ("backend_config", lambda m: m.update({"spec": []}), "backendconfig-spec", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"].update({"logging": {"enable": True, "sampleRate": 2}}), "backendconfig-logging-sample-rate", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"].update({"iap": {"enabled": True}, "cdn": {"enabled": True}}), "backendconfig-iap-cdn", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"]["healthCheck"].update({"type": "TCP"}), "backendconfig-health-check-type", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"]["healthCheck"].update({"requestPath": "healthz"}), "backendconfig-health-check-path", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"]["healthCheck"].pop("port"), "backendconfig-health-check-port", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"]["healthCheck"].update({"port": 70000}), "backendconfig-health-check-port", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"]["healthCheck"].update({"unhealthyThreshold": 11}), "backendconfig-health-check-range", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"]["healthCheck"].update({"timeoutSec": 20}), "backendconfig-health-check-timeout", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"]["sessionAffinity"].update({"affinityCookieTtlSec": 90000}), "backendconfig-cookie-ttl-range", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"]["sessionAffinity"].update({"affinityCookieTtlSec": 60}), "backendconfig-cookie-ttl-unused", Level.ADVISORY),
    ("backend_config", lambda m: m["spec"].update({"timeoutSec": 1.5}), "backendconfig-timeout-range", Level.MANDATORY),
    ("backend_config", lambda m: m["spec"].pop("connectionDraining"), "backendconfig-draining-explicit", Level.ADVISORY),
    ("backend_config", lambda m: m["spec"].pop("securityPolicy"), "backendconfig-unreset-blocks-stated", Level.ADVISORY),
    ("backend_config", lambda m: m["spec"].pop("logging"), "backendconfig-unreset-blocks-stated", Level.ADVISORY),
    ("service", _annotate("cloud.google.com/neg", "{ingress: true}"), "service-neg-annotation", Level.MANDATORY),
    ("service", _annotate("cloud.google.com/neg-status", "{}"), "service-neg-status-owned", Level.ADVISORY),
    ("service", _annotate("cloud.google.com/app-protocols", '{"http": "GRPC"}'), "service-app-protocols", Level.MANDATORY),
    ("service", _annotate("cloud.google.com/app-protocols", "http"), "service-app-protocols", Level.MANDATORY),
    ("ingress", _annotate("kubernetes.io/ingress.class", "nginx"), "ingress-class", Level.MANDATORY),
    ("ingress", lambda m: m["spec"].update({"ingressClassName": "gce"}), "ingress-class-name-ignored", Level.ADVISORY),
    ("ingress", lambda m: m["metadata"].update({"annotations": {}}), "ingress-class-explicit", Level.ADVISORY),
    (
        "ingress",
        lambda m: m["metadata"]["annotations"].update(
            {"kubernetes.io/ingress.global-static-ip-name": "a", "kubernetes.io/ingress.regional-static-ip-name": "b"}
        ),
        "ingress-static-ip",
        Level.MANDATORY,
    ),
    ("ingress", _annotate("kubernetes.io/ingress.allow-http", "false"), "ingress-allow-http-without-tls", Level.MANDATORY),
    ("ingress", lambda m: m["spec"]["rules"][0]["http"]["paths"][0].update({"pathType": "Regex"}), "ingress-path-type", Level.MANDATORY),
    ("ingress", lambda m: m["spec"]["rules"][0]["http"]["paths"][0].update({"path": "/api/*"}), "ingress-path-type", Level.MANDATORY),
    ("ingress", lambda m: m["spec"]["rules"].append({"host": "other.coditect.ai"}), "ingress-rule-http", Level.MANDATORY),
    ("ingress", lambda m: m["spec"]["rules"].append(copy.deepcopy(m["spec"]["rules"][0])), "ingress-duplicate-host", Level.MANDATORY),
    (
        "ingress",
        lambda m: m["spec"].update({"defaultBackend": {"resource": {"kind": "StorageBucket", "name": "b"}}}),
        "ingress-backend-service",
        Level.MANDATORY,
    ),
    ("deployment", lambda m: m["spec"]["template"]["spec"]["containers"][0].update({"image": "nginx:1.27"}), "image-digest", Level.ADVISORY),
    ("deployment", lambda m: m["spec"]["template"]["spec"]["containers"][0].pop("livenessProbe"), "container-probes", Level.ADVISORY),
    ("deployment", lambda m: m["spec"]["template"]["spec"]["containers"][0].pop("resources"), "container-resources", Level.ADVISORY),
    ("deployment", lambda m: m["spec"]["template"]["spec"]["containers"][0].pop("securityContext"), "container-security-context", Level.ADVISORY),
]


def test_baseline_objects_pass_their_resource_rules() -> None:
    for key in ("deployment", "backend_config", "service", "ingress"):
        assert gke.evaluate_resource(base(key), PROD_LEVELS) == [], key


@pytest.mark.parametrize(("key", "edit", "rule", "level"), FIRING, ids=[f"{rule}-{i}" for i, (_, _, rule, _) in enumerate(FIRING)])
def test_resource_rule_fires(key: str, edit: Edit, rule: str, level: Level) -> None:
    manifest = base(key)
    edit(manifest)
    found = [f for f in gke.evaluate_resource(manifest) if f.rule == rule]
    assert found, gke.evaluate_resource(manifest)
    assert {f.level for f in found} == {level} == {gke.rule(rule).level}
    assert all(f.resource.startswith(manifest["kind"]) and "Fix:" in f.message for f in found)


def test_cookie_ttl_with_cookie_affinity_is_fine() -> None:
    bc = base("backend_config")
    bc["spec"]["sessionAffinity"] = {"affinityType": "GENERATED_COOKIE", "affinityCookieTtlSec": 86400}
    assert gke.evaluate_resource(bc) == []


def test_invalid_neg_json_means_neg_off_and_port_name_keys_are_valid() -> None:
    svc = base("service")
    svc["metadata"]["annotations"]["cloud.google.com/neg"] = "{ingress: true}"
    assert not neg_enabled(svc), "GKE treats invalid NEG JSON as NEG off"
    svc = base("service")
    svc["metadata"]["annotations"]["cloud.google.com/backend-config"] = '{"ports": {"http": "web-bc"}}'
    assert gke.evaluate_resource(svc) == [], "a port name key is valid"


def test_ga_backend_config_annotation_wins_over_beta() -> None:
    svc = base("service")
    svc["metadata"]["annotations"]["beta.cloud.google.com/backend-config"] = '{"default": "old-bc"}'
    assert backend_config_refs(svc) == ({}, "web-bc")
    del svc["metadata"]["annotations"]["cloud.google.com/backend-config"]
    assert backend_config_refs(svc) == ({}, "old-bc")


def test_digest_level_follows_the_stack_levels_and_names_the_container() -> None:
    deployment = base("deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    [advisory] = [f for f in gke.evaluate_resource(deployment) if f.rule == "image-digest"]
    [mandatory] = [f for f in gke.evaluate_resource(deployment, PROD_LEVELS) if f.rule == "image-digest"]
    assert (advisory.level, mandatory.level) == (Level.ADVISORY, Level.MANDATORY)
    assert mandatory.subject == "nginx"


@pytest.mark.parametrize(
    ("image", "pinned"),
    [("r/x@sha256:" + "a" * 64, True), ("r/x:1@sha256:" + "b" * 64, True), ("r/x@sha256:abc", False), ("r/x:latest", False), (None, False)],
)
def test_digest_pinning(image: Any, pinned: bool) -> None:
    assert is_digest_pinned(image) is pinned


def test_rules_never_raise_on_malformed_manifests() -> None:
    for broken in (
        {},
        {"kind": "Ingress"},
        {"kind": "Ingress", "spec": "x"},
        {"kind": "Service", "metadata": {"annotations": None}},
        {"kind": "BackendConfig", "spec": []},
        {"kind": "Deployment", "spec": {"template": 3}},
        {"kind": "HorizontalPodAutoscaler", "spec": {"scaleTargetRef": "x"}},
        {"kind": "PodDisruptionBudget", "spec": None},
    ):
        gke.evaluate([broken], gke.Context(min_session_sec=3600))


def test_replicas_come_from_the_autoscaler_when_the_deployment_leaves_them_to_it() -> None:
    """A Deployment without spec.replicas runs 1 pod (apps/v1 default) unless an HPA scales it:
    then affinity NONE breaks sessions as soon as maxReplicas > 1."""
    manifests = baseline()
    manifests["backend_config"]["spec"]["sessionAffinity"] = {"affinityType": "NONE"}
    del manifests["deployment"]["spec"]["replicas"]
    assert "backendconfig-affinity-replicas" not in ids(gke.evaluate_stack(list(manifests.values())))
    manifests["hpa"] = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "coditect-app"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 4},
    }
    [finding] = [f for f in gke.evaluate_stack(list(manifests.values())) if f.rule == "backendconfig-affinity-replicas"]
    assert "scaled by HorizontalPodAutoscaler coditect-app/web up to 4 replicas" in finding.problem
    manifests["hpa"]["spec"]["maxReplicas"] = 1
    assert "backendconfig-affinity-replicas" not in ids(gke.evaluate_stack(list(manifests.values())))
