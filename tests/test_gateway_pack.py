"""The Gateway rules in the CrossGuard pack: derived policies judge Gateway objects as the engine hands them over
(numbers as floats), and gateway-routing reads the cluster's bundle from the pack config key gatewayBundle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy

from coditect import gke
from coditect.gke.pack import POLICIES, STACK_CONFIG, config_of, context_from
from ops.policy_gate import _options
from tests.gateway_fixtures import both_front_doors

TYPES = {
    "Gateway": "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    "HTTPRoute": "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    "GCPBackendPolicy": "kubernetes:networking.gke.io/v1:GCPBackendPolicy",
    "HealthCheckPolicy": "kubernetes:networking.gke.io/v1:HealthCheckPolicy",
    "GCPGatewayPolicy": "kubernetes:networking.gke.io/v1:GCPGatewayPolicy",
}


def as_engine_sends(value: Any) -> Any:
    """A protobuf Struct carries every number as a double."""
    if isinstance(value, dict):
        return {k: as_engine_sends(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_engine_sends(v) for v in value]
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def collect(found: list[str]) -> Callable[..., None]:
    return lambda message, urn=None: found.append(str(message))


def policy_named(name: str) -> Any:
    return next(p for p in POLICIES if p.name == name)


def resources(manifests: dict[str, dict[str, Any]]) -> list[PolicyResource]:
    return [
        PolicyResource(TYPES.get(m["kind"], f"kubernetes:x:{m['kind']}"), as_engine_sends(m), f"urn:{k}", k, _options(), None, None, [], {})
        for k, m in manifests.items()
    ]


def with_redirect(code: int) -> dict[str, dict[str, Any]]:
    manifests = both_front_doors()
    manifests["redirect_route"]["spec"]["rules"][0]["filters"][0]["requestRedirect"]["statusCode"] = code
    return manifests


def test_every_gateway_policy_passes_the_contract_shapes_as_the_engine_sends_them() -> None:
    found: list[str] = []
    manifests = both_front_doors()
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            for key, manifest in manifests.items():
                args = ResourceValidationArgs(TYPES.get(manifest["kind"], "kubernetes:x:y"), as_engine_sends(manifest), f"urn:{key}", key, _options(), None, {})
                policy.validate(args, collect(found))
    routing = policy_named("gateway-routing")
    assert isinstance(routing, StackValidationPolicy)
    for name in ("gateway-references", "gateway-routing", "front-doors-agree"):
        policy_named(name).validate(StackValidationArgs(resources(manifests), {}), collect(found))
    assert found == []


def test_a_float_sample_rate_is_refused_by_the_pack() -> None:
    manifest = both_front_doors()["backend_policy"]
    manifest["spec"]["default"]["logging"]["sampleRate"] = 0.5
    found: list[str] = []
    args = ResourceValidationArgs(TYPES["GCPBackendPolicy"], manifest, "urn:bp", "bp", _options(), None, {})
    policy_named("gateway-backend-limits").validate(args, collect(found))
    assert len(found) == 1 and "[gcpbackendpolicy-logging]" in found[0] and "millionths" in found[0]


def test_gateway_routing_reads_the_bundle_from_the_pack_config() -> None:
    routing = policy_named("gateway-routing")
    for config, refused in (({}, True), ({"gatewayBundle": "v1.3.0"}, True), ({"gatewayBundle": "v1.5.1"}, False)):
        found: list[str] = []
        routing.validate(StackValidationArgs(resources(with_redirect(308)), config), collect(found))
        assert bool(found) is refused, (config, found)
        assert all("[httproute-redirect-bundle]" in f for f in found)
    assert "gatewayBundle" not in (STACK_CONFIG["gateway-routing"].required or [])
    assert STACK_CONFIG["gateway-routing"].properties["gatewayBundle"]["enum"] == ["v1.3.0", "v1.5.1"]


def test_the_pack_config_carries_the_bundle_only_when_stated() -> None:
    assert "gateway-routing" not in config_of(gke.Context(min_session_sec=3_600))
    config = config_of(gke.Context(min_session_sec=3_600, gateway_bundle="v1.5.1"))
    assert config["gateway-routing"] == {"gatewayBundle": "v1.5.1"}
    assert context_from(config["gateway-routing"], "gateway-routing").gateway_bundle == "v1.5.1"
    assert context_from({}, "gateway-routing").gateway_bundle is None
