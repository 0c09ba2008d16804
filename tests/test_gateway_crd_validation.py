"""The offline Gateway check (ops/gateway_schemas.py + ops/crd_cel.py) through ops.schemas, as `ops check` runs it:
the vendored CRDs are the upstream bytes, the rendered front door passes under both bundles, and every broken variant
is refused with one line naming the object, the field path and the rule's message (tests_engine/test_gateway_crds_apiserver.py
proves a real kube-apiserver gives the same verdicts)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops import crd_cel, gateway_schemas
from ops.schemas import validate_all, validate_manifest
from tests.gateway_cases import BUNDLES, Case, backend_policy, bad_cases, good_variants, health_policy, redirect_route, valid_set

CRDS = Path(__file__).resolve().parent.parent / "schemas" / "gateway-crds"


def _lines(manifest: dict[str, Any], bundle: str | None) -> list[str]:
    return [str(p) for p in validate_manifest(manifest, bundle=bundle)]


# --- the vendored files -------------------------------------------------------------------------------------------


def test_vendored_crds_hold_their_checksums() -> None:
    listed = {}
    for line in (CRDS / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    on_disk = sorted(str(p.relative_to(CRDS)) for p in CRDS.glob("*/*.yaml"))
    assert sorted(listed) == on_disk, "SHA256SUMS must list every vendored CRD file and nothing else"
    wrong = [name for name, digest in listed.items() if hashlib.sha256((CRDS / name).read_bytes()).hexdigest() != digest]
    assert wrong == [], f"changed since vendoring (re-copy from the upstream commit named in the README): {wrong}"


def test_readme_names_the_upstream_commit_of_every_folder() -> None:
    readme = (CRDS / "README.md").read_text()
    for commit in ("40be951cebe5cb3f0365fe6951403de4ff8b9f33", "e7677b70ae75d14a4448fba94870e7deea6cf0ad", "fc40d606a5332f11a8883f85caff66b63c4e88ef"):
        assert commit in readme
    for folder in ("gateway-api-v1.3.0", "gateway-api-v1.5.1", "gke"):
        assert f"`{folder}/`" in readme


def test_each_bundle_serves_the_four_gateway_kinds_and_gke_the_three_policies() -> None:
    for bundle in BUNDLES:
        kinds = {k for _, k in gateway_schemas.schemas(bundle)}
        assert kinds == {"GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant"}
    assert set(gateway_schemas.schemas(gateway_schemas.GKE)) == {
        ("networking.gke.io/v1", "GCPBackendPolicy"),
        ("networking.gke.io/v1", "HealthCheckPolicy"),
        ("networking.gke.io/v1", "GCPGatewayPolicy"),
    }
    # ReferenceGrant v1 exists only from v1.5 (so the project emits v1beta1).
    assert ("gateway.networking.k8s.io/v1", "ReferenceGrant") not in gateway_schemas.schemas("v1.3.0")
    assert ("gateway.networking.k8s.io/v1", "ReferenceGrant") in gateway_schemas.schemas("v1.5.1")


# --- verdicts -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bundle", [*BUNDLES, None])
def test_the_rendered_front_door_passes(bundle: str | None) -> None:
    assert validate_all(valid_set(), bundle=bundle) == []


@pytest.mark.parametrize("case", good_variants(), ids=lambda c: c.name)
def test_variants_the_api_server_admits_pass(case: Case) -> None:
    for bundle in BUNDLES:
        assert _lines(case.manifest, bundle) == []


@pytest.mark.parametrize("case", bad_cases(), ids=lambda c: c.name)
def test_broken_object_refused_naming_object_path_and_rule(case: Case) -> None:
    where = f"{case.manifest['kind']} {case.manifest['metadata']['namespace']}/{case.manifest['metadata']['name']}: "
    for bundle in BUNDLES:
        lines = _lines(case.manifest, bundle)
        if case.accepted[bundle]:
            assert lines == [], f"{bundle} admits it"
            continue
        assert lines, f"{case.name} passed under {bundle}"
        assert all(line.startswith(where) for line in lines)
        named = [line for line in lines if f": {case.path}: " in line and case.says in line]
        assert named, f"no line names {case.path!r} and {case.says!r}: {lines}"
        assert all("\n" not in line and "Traceback" not in line for line in lines)
        for piece in case.also:
            assert any(piece in line for line in lines), (piece, lines)


def test_redirect_308_refused_by_v1_3_only_and_the_line_names_that_bundle() -> None:
    assert _lines(redirect_route(308), "v1.5.1") == []
    both = _lines(redirect_route(308), None)
    assert len(both) == 1
    assert "308 is not one of [301, 302]" in both[0] and both[0].endswith("Gateway API v1.3.0)")
    assert "v1.5.1" not in both[0]


def test_a_refusal_shared_by_both_bundles_is_one_line_naming_both() -> None:
    lines = _lines(redirect_route(304), None)
    assert len(lines) == 2  # the enums differ, so the texts differ: one line per bundle
    [listener] = [line for line in _lines(next(c for c in bad_cases() if c.name == "duplicate-listener-names").manifest, None) if "unique" in line]
    assert listener.endswith("Gateway API v1.3.0 and v1.5.1)")


def test_unknown_bundle_is_one_line_naming_the_setting() -> None:
    [line] = _lines(redirect_route(), "v1.4.1")
    assert "unknown Gateway API bundle 'v1.4.1'" in line and "gateway.bundleVersion" in line
    # GKE's policies do not depend on the Gateway API bundle.
    assert _lines(backend_policy(), "v1.4.1") == []


def test_other_crds_keep_their_path_in_ops_schemas() -> None:
    config = {"apiVersion": "cloud.google.com/v1", "kind": "BackendConfig", "metadata": {"name": "b", "namespace": "n"}, "spec": {"timeoutSec": 30}}
    assert validate_manifest(config) == []
    assert not gateway_schemas.handles("networking.gke.io/v1", "ManagedCertificate")
    assert gateway_schemas.handles("gateway.networking.k8s.io/v1", "GRPCRoute")
    [line] = _lines({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute", "metadata": {"name": "g", "namespace": "n"}}, "v1.5.1")
    assert "is not served" in line and "vendored kinds" in line


# --- defaults before validation -----------------------------------------------------------------------------------


def test_defaults_are_applied_before_validation_as_the_api_server_does() -> None:
    schema = gateway_schemas.schemas("v1.5.1")[("gateway.networking.k8s.io/v1", "Gateway")]
    gateway: dict[str, Any] = {
        "spec": {"gatewayClassName": "c", "addresses": [{"value": "x"}], "listeners": [{"name": "h", "protocol": "HTTPS", "port": 443, "tls": {}}]}
    }
    gateway_schemas.apply_defaults(gateway, schema)
    assert gateway["spec"]["addresses"][0]["type"] == "IPAddress"
    assert gateway["spec"]["listeners"][0]["tls"]["mode"] == "Terminate"
    route_schema = gateway_schemas.schemas("v1.3.0")[("gateway.networking.k8s.io/v1", "HTTPRoute")]
    route = redirect_route()
    del route["spec"]["rules"][0]["filters"][0]["requestRedirect"]["statusCode"]
    gateway_schemas.apply_defaults(route, route_schema)
    assert route["spec"]["rules"][0]["filters"][0]["requestRedirect"]["statusCode"] == 302
    assert route["spec"]["parentRefs"][0]["kind"] == "Gateway"


# --- the CEL layer ------------------------------------------------------------------------------------------------


def test_property_names_are_escaped_as_kubernetes_escapes_them() -> None:
    assert crd_cel.escape("namespace") == "__namespace__"
    assert crd_cel.escape("a-b.c/d") == "a__dash__b__dot__c__slash__d"
    assert crd_cel.escape("x__y") == "x__underscores__y"
    assert crd_cel.escape("9lives") is None
    assert crd_cel.escape("ünïcode") is None
    assert crd_cel.escape("port") == "port"


def test_split_follows_go_strings_split() -> None:
    def split(*args: Any) -> list[str]:
        return [str(p) for p in crd_cel.k8s_split(*args)]

    assert split("a/b/c", "/") == ["a", "b", "c"]
    assert split("a/b/c", "/", 2) == ["a", "b/c"]
    assert split("a/b", "/", 0) == []
    assert split("", "/") == [""]
    assert split("abc", "") == ["a", "b", "c"]
    assert split("abc", "", 2) == ["a", "bc"]


def _object(rule: str, **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {k: {"type": "integer"} for k in properties}, "x-kubernetes-validations": [{"rule": rule, "message": "m"}]}


def test_a_false_rule_reports_its_message_and_a_true_one_passes() -> None:
    assert crd_cel.validate({"a": 2}, _object("self.a > 1", a=1), "spec") == []
    [failure] = crd_cel.validate({"a": 1}, _object("self.a > 1", a=1), "spec")
    assert str(failure) == "spec: m"


def test_a_missing_field_is_no_such_key_as_on_the_api_server() -> None:
    [failure] = crd_cel.validate({}, _object("self.a > 1", a=1), "spec")
    assert str(failure) == "spec: no such key: a evaluating rule: m"
    # an error on one side of || is absorbed by a true other side, as in CEL
    assert crd_cel.validate({"b": 1}, _object("self.a > 1 || self.b == 1", a=1, b=1), "spec") == []


def test_transition_rules_are_skipped_on_create() -> None:
    schema: dict[str, Any] = {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "immutable"}]}
    assert crd_cel.is_transition_rule(schema["x-kubernetes-validations"][0])
    assert crd_cel.validate("anything", schema, "spec.x") == []


def test_a_rule_using_a_function_celpy_lacks_is_refused_never_passed() -> None:
    schema = {"type": "string", "x-kubernetes-validations": [{"rule": "isURL(self)", "message": "must be a URL"}]}
    [failure] = crd_cel.validate("https://example.com", schema, "spec.url")
    assert failure.path == "spec.url" and "isURL" in failure.message and failure.message.endswith("evaluating rule: must be a URL")


def _all_rules() -> set[str]:
    rules: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            rules.extend(str(r["rule"]) for r in node.get("x-kubernetes-validations") or [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for source in (*BUNDLES, gateway_schemas.GKE):
        walk(list(gateway_schemas.schemas(source).values()))
    return set(rules)


def test_every_rule_in_the_vendored_crds_compiles() -> None:
    rules = _all_rules()
    assert len(rules) >= 70
    for rule in rules:
        crd_cel._program(rule)  # raises on a parse error


def test_every_function_the_rules_call_is_implemented_so_no_rule_goes_unchecked() -> None:
    """celpy's standard library, its macros, or crd_cel.KUBERNETES_FUNCTIONS: a function outside them would make its rule
    fail to evaluate (a refusal, never a silent pass), and this test names it so it gets implemented."""
    from celpy.evaluation import base_functions

    macros = {"has", "all", "exists", "exists_one", "map", "filter"}
    known = set(base_functions) | macros | set(crd_cel.KUBERNETES_FUNCTIONS)
    called = {
        name for rule in _all_rules() for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", re.sub(r'r?"""(?:.|\n)*?"""|"[^"]*"|\'[^\']*\'', '""', rule))
    }
    assert "split" in called and "duration" in called
    assert called - known == set()


# --- property: the numbers agree with the CRD's own minimum/maximum --------------------------------------------------

GKE = gateway_schemas.schemas(gateway_schemas.GKE)


def _bounds(kind: str, path: str) -> tuple[int, int]:
    node: Any = GKE[("networking.gke.io/v1", kind)]
    for part in path.split("."):
        node = node["properties"][part]
    return int(node["minimum"]), int(node["maximum"])


BACKEND_FIELDS = ["default.timeoutSec", "default.connectionDraining.drainingTimeoutSec", "default.logging.sampleRate", "default.sessionAffinity.cookieTtlSec"]
HEALTH_FIELDS = ["default.healthyThreshold", "default.unhealthyThreshold"]


def _put(manifest: dict[str, Any], path: str, value: int) -> None:
    node = manifest["spec"]
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


@settings(max_examples=60, deadline=None)
@given(field=st.sampled_from(BACKEND_FIELDS + HEALTH_FIELDS), value=st.integers(min_value=-10, max_value=3_000_000_000))
def test_numbers_refused_exactly_outside_the_crd_range(field: str, value: int) -> None:
    kind, make = ("GCPBackendPolicy", backend_policy) if field in BACKEND_FIELDS else ("HealthCheckPolicy", health_policy)
    low, high = _bounds(kind, "spec." + field)
    manifest = make()
    _put(manifest, field, value)
    lines = _lines(manifest, None)
    assert (lines == []) == (low <= value <= high), (field, value, lines)
    if lines:
        assert re.search(rf"spec\.{re.escape(field)}: {value} is (less|greater) than the (minimum|maximum)", lines[0])


@settings(max_examples=60, deadline=None)
@given(interval=st.integers(min_value=-2, max_value=310), timeout=st.integers(min_value=-2, max_value=310))
def test_health_check_interval_and_timeout_agree_with_range_and_rule(interval: int, timeout: int) -> None:
    manifest = health_policy()
    manifest["spec"]["default"].update(checkIntervalSec=interval, timeoutSec=timeout)
    in_range = 1 <= interval <= 300 and 1 <= timeout <= 300
    lines = _lines(manifest, None)
    assert (lines == []) == (in_range and timeout <= interval), (interval, timeout, lines)
    assert any("timeOutSec cannot exceed checkIntervalSec" in line for line in lines) == (timeout > interval)
