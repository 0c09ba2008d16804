"""`python -m ops inspect` of the Gateway front door (frontDoors: [ingress, gateway]) against the stand-ins, through
the real `kubernetes` client: each scenario's verdict and the diagnosis line it prints (name + fix), a malformed
Gateway status as one line, and `read_gateway_status`'s `proven` per scenario (what `ops migrate` waits on)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livestate.errors import Unusable
from livestate.gateway import serves
from livestate.gateway_desired import desired_gateway
from livestate.gateway_status import GatewayStatus, read_gateway_status
from livestate.kube import KubeReader
from livestate.model import Malformed
from ops.__main__ import main
from tests.standin.gateway_world import (
    ADDRESS,
    APP_ROUTE,
    GATEWAY,
    REDIRECT_ROUTE,
    SCENARIOS,
    SERVICE,
    condition,
    gateway,
    gateway_desired,
    gateway_manifests,
    gateway_world,
    sync_failed,
)
from tests.standin.harness import running
from tests.standin.world import CONTEXT, NAMESPACE, World
from tests.test_inspect import use_desired

GATEWAY_LAYERS = ("gateway translation", "gateway policies applied", "gateway front end")


@pytest.fixture
def desired(monkeypatch: pytest.MonkeyPatch) -> None:
    use_desired(monkeypatch, gateway_desired())


def inspect(world: World, tmp: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    with running(world, tmp) as standins:
        # A generous per-request timeout: the machine is shared, and a late answer is not what these tests judge.
        code = main(["inspect", "prod", "--kubeconfig", str(standins.kubeconfig), "--gcp-endpoint", standins.compute_url, "--timeout", "30", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def report(world: World, tmp: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code, out, _ = inspect(world, tmp, capsys, "--json")
    return code, json.loads(out)


def status_of(world: World, tmp: Path) -> GatewayStatus:
    with running(world, tmp) as standins:
        kube = KubeReader(CONTEXT, str(standins.kubeconfig), 30.0)
        try:
            return read_gateway_status(kube, NAMESPACE, GATEWAY, [APP_ROUTE, REDIRECT_ROUTE])
        finally:
            kube.close()


def test_healthy_gateway_converges_with_every_layer(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = inspect(gateway_world(), tmp_path, capsys)
    assert code == 0, out
    assert "converged (1 poll" in out and "diagnosis" not in out
    for layer in GATEWAY_LAYERS:
        assert f"\n{layer}\n" in out
    for metric in (
        "Gateway programmed",
        f"HTTPRoute {APP_ROUTE}: refs resolved",
        "GCPBackendPolicy attached",
        "gateway backend timeout (s)",
        "gateway health check path",
        "gateway SSL policy",
        "gateway certificate map",
    ):
        assert f"  {metric} " in out


def test_an_ingress_only_program_gets_no_gateway_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.standin.harness import golden_desired

    use_desired(monkeypatch, golden_desired())
    code, out, _ = inspect(gateway_world(), tmp_path, capsys)
    assert code == 0 and "gateway" not in out


# scenario -> (the failing checks, the first diagnosis's cause start, a phrase of its fix)
EXPECTED: dict[str, tuple[set[str], str, str]] = {
    "missing backend Service": (
        {f"HTTPRoute {APP_ROUTE}: backends", f"HTTPRoute {APP_ROUTE}: refs resolved", "gateway sync errors"},
        f"HTTPRoute {NAMESPACE}/{APP_ROUTE} routes to Service {NAMESPACE}/coditect-api-v2, which does not exist (ResolvedRefs=False BackendNotFound)",
        f"create Service {NAMESPACE}/coditect-api-v2, or route only to Services this program declares",
    ),
    "policy not attached": (
        {"GCPBackendPolicy attached", "gateway backend timeout (s)", "gateway session affinity"},
        f"GCPBackendPolicy {NAMESPACE}/{SERVICE} is not attached to Service {NAMESPACE}/{SERVICE} (Attached=False Conflicted",
        "GKE applies only the oldest: delete the other (kubectl get gcpbackendpolicies -n coditect-app)",
    ),
    "class without filters": (
        {"gateway class", "Gateway programmed", f"HTTPRoute {REDIRECT_ROUTE}: accepted", "gateway sync errors"},
        f"Gateway {NAMESPACE}/{GATEWAY} is of class gke-l7-gxlb (the classic ALB), which does not support HTTPRoute rule filters: "
        f"HTTPRoute {NAMESPACE}/{REDIRECT_ROUTE} (RequestRedirect) is refused",
        "spec.gatewayClassName: gke-l7-global-external-managed",
    ),
    "address not found": (
        {
            "Gateway programmed",
            "Gateway address",
            "gateway sync errors",
            "gateway backend service",
            "gateway static IP reserved",
            "gateway SSL policy",
            "gateway certificate map",
        },
        f"Gateway {NAMESPACE}/{GATEWAY} has no address: the global address {ADDRESS} does not exist (Programmed=False AddressNotUsable)",
        f"reserve it: gcloud compute addresses create {ADDRESS} --global",
    ),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_failure_is_one_diagnosis_naming_the_object_and_the_fix(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], scenario: str) -> None:
    world = gateway_world()
    SCENARIOS[scenario](world)
    code, document = report(world, tmp_path, capsys)
    failing, cause, fix = EXPECTED[scenario]
    assert code == 1
    assert {c["metric"] for c in document["checks"] if c["status"] != "ok"} == failing
    assert {layer for layer, ok in document["layers"].items() if not ok} <= set(GATEWAY_LAYERS)  # the Ingress still converged
    (diagnosis,) = document["diagnoses"]  # every failing check folded into the one root cause
    assert diagnosis["cause"].startswith(cause), diagnosis["cause"]
    assert fix in diagnosis["fix"]
    assert all(diagnosis[key] for key in ("resource", "field", "live", "desired"))
    code, out, _ = inspect(world, tmp_path, capsys)  # and the text report prints it as its diagnosis line
    assert code == 1 and f"  - {cause}" in out and f"fix: {diagnosis['fix']}" in out


def test_policy_drift_while_attached_is_not_applied_yet(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = gateway_world()
    world.compute[("healthChecks", gateway_backend(world))]["httpHealthCheck"]["requestPath"] = "/"
    code, document = report(world, tmp_path, capsys)
    assert code == 1
    (diagnosis,) = document["diagnoses"]
    assert (
        diagnosis["cause"] == f"GKE has not applied the Gateway policies: HealthCheck {gateway_backend(world)} httpHealthCheck.requestPath / (desired /healthz)"
    )


def gateway_backend(world: World) -> str:
    return str(next(name for collection, name in world.compute if collection == "backendServices" and name.startswith("gkegw1-")))


def test_policies_attached_as_the_spec_says_accepted_true(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = gateway_world()
    for plural in ("gcpbackendpolicies", "healthcheckpolicies", "gcpgatewaypolicies"):
        for policy in world.kube[plural]:
            policy["status"]["conditions"] = [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": ""}]
    assert inspect(world, tmp_path, capsys)[0] == 0
    assert status_of(world, tmp_path).policies_attached


def test_a_policy_without_status_is_pending(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = gateway_world()
    world.one("healthcheckpolicies", SERVICE).pop("status")
    code, document = report(world, tmp_path, capsys)
    assert code == 1
    check = next(c for c in document["checks"] if c["metric"] == "HealthCheckPolicy attached")
    assert (check["status"], check["live"]) == ("pending", "no status yet")
    assert "GKE has not processed it yet" in document["diagnoses"][0]["fix"]


def test_a_sync_warning_before_the_last_success_is_history(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = gateway_world()
    sync_failed(world, "Error GWCER106: stale")
    world.kube["events"][-1]["lastTimestamp"] = "2026-11-28T09:59:00Z"  # before the Normal SYNC success (10:05:12)
    assert inspect(world, tmp_path, capsys)[0] == 0
    assert status_of(world, tmp_path).proven


def test_a_sync_warning_is_quoted_terminal_safe(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = gateway_world()
    sync_failed(world, "Error GWCER105: Listener is invalid\x1b[2J\u202e")
    code, out, _ = inspect(world, tmp_path, capsys)
    assert code == 1
    assert "GKE failed to sync Gateway coditect-app/coditect-gateway: SYNC: failed to translate Gateway" in out
    assert "\x1b" not in out and "\u202e" not in out and "\\x1b[2J\\u202e" in out


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda gw: gw["status"]["conditions"][0].update(status=True), "status.conditions[0].status is a boolean, not a string"),
        (lambda gw: gw["status"]["conditions"][1].pop("type"), "status.conditions[1] has no type or no status (metav1.Condition requires both)"),
        (lambda gw: gw["status"].update(addresses={"value": "34.117.80.12"}), "status.addresses is an object, not a list"),
    ],
)
def test_a_malformed_gateway_status_is_one_line(
    desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: Callable[[dict[str, Any]], Any], problem: str
) -> None:
    world = gateway_world()
    damage(gateway(world))
    code, out, err = inspect(world, tmp_path, capsys)
    assert (code, out) == (1, "")
    assert err == f"error: Kubernetes API: Gateway {NAMESPACE}/{GATEWAY}: {problem}\n"
    with pytest.raises(Malformed) as malformed:
        status_of(world, tmp_path)
    assert malformed.value.problem == problem


def test_a_missing_gateway_is_missing(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = gateway_world()
    world.kube["gateways"] = []
    code, document = report(world, tmp_path, capsys)
    assert code == 1
    assert next(c for c in document["checks"] if c["metric"] == "Gateway exists")["status"] == "missing"
    status = status_of(world, tmp_path)
    assert not status.proven and status.problems == (f"Gateway {NAMESPACE}/{GATEWAY} does not exist",)


# --- read_gateway_status: what ops migrate waits on --------------------------------------------------------------------


def test_read_gateway_status_proves_the_healthy_gateway(tmp_path: Path) -> None:
    status = status_of(gateway_world(), tmp_path)
    assert status == GatewayStatus(GATEWAY, True, True, ("34.117.80.12",), True, True, ())
    assert status.proven


# scenario -> (accepted, programmed, addresses, routes_ok, policies_attached), and a GWCER code or reason a problem names
PROVEN: dict[str, tuple[tuple[bool, bool, bool, bool, bool], str]] = {
    "missing backend Service": ((True, True, True, False, True), "GWCER102"),
    "policy not attached": ((True, True, True, True, False), "Conflicted"),
    "class without filters": ((True, False, True, False, True), "GWCER104"),
    "address not found": ((True, False, False, True, True), "GWCER106"),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_read_gateway_status_is_not_proven_in_any_failure(tmp_path: Path, scenario: str) -> None:
    world = gateway_world()
    SCENARIOS[scenario](world)
    status = status_of(world, tmp_path)
    flags, named = PROVEN[scenario]
    assert (status.accepted, status.programmed, bool(status.addresses), status.routes_ok, status.policies_attached) == flags
    assert not status.proven
    assert any(named in p for p in status.problems), status.problems
    assert all("\n" not in p for p in status.problems)  # one line each


def test_read_gateway_status_needs_both_policies_per_backend_service(tmp_path: Path) -> None:
    world = gateway_world()
    world.kube["healthcheckpolicies"] = []
    status = status_of(world, tmp_path)
    assert not status.policies_attached and f"no HealthCheckPolicy in {NAMESPACE} targets Service {SERVICE}" in status.problems


def test_a_condition_for_an_older_generation_is_not_programmed(tmp_path: Path) -> None:
    world = gateway_world()
    gateway(world)["metadata"]["generation"] = 2  # a spec change GKE has not reconciled yet
    status = status_of(world, tmp_path)
    assert not status.programmed and not status.proven


def test_a_route_parent_condition_for_an_older_generation_is_no_proof(tmp_path: Path) -> None:
    world = gateway_world()
    world.one("httproutes", APP_ROUTE)["metadata"]["generation"] = 2  # its conditions say observedGeneration 1
    status = status_of(world, tmp_path)
    assert not status.routes_ok and not status.proven
    assert any(
        p.startswith(f"HTTPRoute {NAMESPACE}/{APP_ROUTE} (parent {GATEWAY}/https) Accepted=Unknown Stale: True for observedGeneration 1")
        for p in status.problems
    ), status.problems


@pytest.mark.parametrize("plural, name", [("gcpbackendpolicies", SERVICE), ("gcpgatewaypolicies", GATEWAY)])
def test_a_policy_condition_for_an_older_generation_is_no_proof(tmp_path: Path, plural: str, name: str) -> None:
    world = gateway_world()
    world.one(plural, name)["metadata"]["generation"] = 3
    status = status_of(world, tmp_path)
    assert not status.policies_attached and not status.proven
    assert any("is not attached" in p and "older than metadata.generation 3" in p for p in status.problems), status.problems


def test_a_gateway_without_its_gateway_policy_is_not_proven(tmp_path: Path) -> None:
    world = gateway_world()
    world.kube["gcpgatewaypolicies"] = []
    status = status_of(world, tmp_path)
    assert not status.policies_attached and not status.proven
    assert f"no GCPGatewayPolicy in {NAMESPACE} targets Gateway {GATEWAY} (its HTTPS listener uses Google's default SSL policy)" in status.problems


def test_a_gateway_with_two_gateway_policies_is_not_proven(tmp_path: Path) -> None:
    world = gateway_world()
    second = copy.deepcopy(world.one("gcpgatewaypolicies", GATEWAY))
    second["metadata"]["name"] = "second"
    world.add("gcpgatewaypolicies", second)
    status = status_of(world, tmp_path)
    assert not status.proven and any(p.startswith(f"2 GCPGatewayPolicy objects in {NAMESPACE} target Gateway {GATEWAY}") for p in status.problems)


def test_a_route_without_status_from_the_gateway_is_not_ok(tmp_path: Path) -> None:
    world = gateway_world()
    world.one("httproutes", REDIRECT_ROUTE)["status"] = {"parents": []}
    status = status_of(world, tmp_path)
    assert not status.routes_ok and f"HTTPRoute {NAMESPACE}/{REDIRECT_ROUTE} has no status from Gateway {GATEWAY} yet (status.parents)" in status.problems


def test_a_timeouts_route_is_diagnosed(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = gateway_world()
    app = world.one("httproutes", APP_ROUTE)
    condition(
        app["status"]["parents"][0]["conditions"],
        "Accepted",
        "False",
        "Invalid",
        f'Error GWCER104: HTTPRoute "coditect-app/{APP_ROUTE}" is misconfigured, err: Timeouts are not supported.',
    )
    code, document = report(world, tmp_path, capsys)
    assert code == 1
    assert document["diagnoses"][0]["fix"].startswith(f"remove spec.rules[].timeouts from HTTPRoute {NAMESPACE}/{APP_ROUTE}")


# --- pure pieces ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "port", "expected"),
    [
        ("gkegw1-l2gd-coditect-app-coditect-combined-serv-80-8qnhmwmaxb0n", 80, True),  # cut to 63 characters
        ("gkegw1-rxra-lgtm-grafana-grafana-80-3y1pnm1bpt5z", 80, False),  # another namespace
        ("gkegw1-l2gd-coditect-app-gw-serve404-80-n2ok3hq9sd0r", 80, False),  # GKE's default backend
        ("gkegw1-l2gd-coditect-app-coditect-combined-serv-8080-8qnhmwmaxb0n", 80, False),  # another port
        ("k8s1-c2a4e1f0-coditect-app-coditect-combined-servi-80-9b1e3f7a", 80, False),  # the Ingress's
    ],
)
def test_a_backend_service_is_matched_to_its_service_by_gkes_name(name: str, port: int, expected: bool) -> None:
    assert serves(name, NAMESPACE, SERVICE, port) is expected


def test_desired_gateway_reads_the_contracts_manifests() -> None:
    want = desired_gateway(gateway_manifests())
    assert want is not None
    assert (want.name, want.class_name, want.address, want.services) == (GATEWAY, "gke-l7-global-external-managed", ADDRESS, (SERVICE,))
    assert [(r.name, r.sections, r.filters) for r in want.routes] == [(APP_ROUTE, ("https",), ()), (REDIRECT_ROUTE, ("http",), ("RequestRedirect",))]
    assert {p.kind for p in want.policies} == {"GCPBackendPolicy", "HealthCheckPolicy", "GCPGatewayPolicy"}
    assert desired_gateway([m for m in gateway_manifests() if m["kind"] != "Gateway"]) is None
    with pytest.raises(Unusable, match="declares 2 Gateways"):
        desired_gateway(gateway_manifests() + gateway_manifests()[:1])


# --- frontDoors: [gateway] -----------------------------------------------------------------------------------------

INGRESS_KINDS = ("Ingress", "FrontendConfig", "ManagedCertificate", "BackendConfig")


def gateway_only() -> Any:
    from livestate.desired import desired_from_manifests
    from tests.standin.harness import golden_manifests

    return desired_from_manifests([m for m in golden_manifests() if m["kind"] not in INGRESS_KINDS] + gateway_manifests())


def test_the_gateway_alone_converges_once_the_ingress_is_gone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use_desired(monkeypatch, gateway_only())
    world = gateway_world()
    world.kube["ingresses"], world.kube["backendconfigs"] = [], []
    code, out, _ = inspect(world, tmp_path, capsys)
    assert code == 0, out
    assert [line for line in out.splitlines() if line and not line.startswith(" ")][1:-1] == [*GATEWAY_LAYERS, "leftovers"]
    assert not any("/ingresses/" in path for _, _, path in world.requests)  # no Ingress is read by name


def test_the_gateway_alone_names_the_ingress_left_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use_desired(monkeypatch, gateway_only())
    code, document = report(gateway_world(), tmp_path, capsys)
    assert code == 1
    assert {c["resource"] for c in document["checks"] if c["status"] != "ok"} == {
        "Ingress coditect-app/coditect-ingress",
        "BackendConfig coditect-app/coditect-backend-config",
    }
    assert document["diagnoses"][0]["fix"].startswith("delete it once nothing needs it (kubectl delete ingress coditect-ingress -n coditect-app)")


def test_no_ingress_and_no_gateway_is_unusable() -> None:
    from livestate.desired import desired_from_manifests
    from tests.standin.harness import golden_manifests

    with pytest.raises(Unusable, match="declares 0 Ingresses"):
        desired_from_manifests([m for m in golden_manifests() if m["kind"] not in INGRESS_KINDS])


def test_an_address_of_the_crds_default_type_is_diagnosed(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GKE refuses type IPAddress, the CRD's default (GWCER106 as kubernetes-sigs/gateway-api#2632 quotes it)."""
    world = gateway_world()
    live = gateway(world)
    live["spec"]["addresses"] = [{"type": "IPAddress", "value": ADDRESS}]
    message = 'Error GWCER106: Gateway "coditect-app/coditect-gateway" is invalid, err: unsupported address type "IPAddress", only "NamedAddress" is supported'
    condition(live["status"]["conditions"], "Accepted", "False", "UnsupportedAddress", message)
    condition(live["status"]["conditions"], "Programmed", "False", "Invalid", message)
    live["status"].pop("addresses")
    code, document = report(world, tmp_path, capsys)
    assert code == 1
    (diagnosis,) = document["diagnoses"]
    assert diagnosis["cause"] == f"Gateway {NAMESPACE}/{GATEWAY} has no address: GKE takes only a NamedAddress (Accepted=False UnsupportedAddress)"
    assert diagnosis["fix"].startswith("write spec.addresses[].type: NamedAddress explicitly")


# --- generated: any JSON where the Gateway readers expect their shapes -----------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
# (plural, name, spot): the fields the Gateway readers and checks read; not metadata.name/namespace (the stand-in finds by them).
SPOTS = (
    ("gateways", GATEWAY, "status.conditions"),
    ("gateways", GATEWAY, "status.addresses"),
    ("gateways", GATEWAY, "spec.gatewayClassName"),
    ("gateways", GATEWAY, "metadata.generation"),
    ("gateways", GATEWAY, "status"),
    ("httproutes", APP_ROUTE, "status.parents"),
    ("httproutes", APP_ROUTE, "spec.rules"),
    ("httproutes", REDIRECT_ROUTE, "spec.parentRefs"),
    ("gcpbackendpolicies", SERVICE, "status"),
    ("gcpbackendpolicies", SERVICE, "spec.targetRef"),
    ("healthcheckpolicies", SERVICE, "status.conditions"),
)


def _put(obj: dict[str, Any], spot: str, value: Any) -> None:
    *path, last = spot.split(".")
    for key in path:
        obj = obj.setdefault(key, {})
    obj[last] = value


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spot=st.sampled_from(SPOTS), value=JSON_VALUES)
def test_any_value_in_a_gateway_field_is_a_verdict_or_one_line(
    desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], spot: tuple[str, str, str], value: Any
) -> None:
    world = gateway_world()
    plural, name, where = spot
    _put(world.one(plural, name), where, value)
    code, out, err = inspect(world, tmp_path, capsys)
    assert code in (0, 1), err
    assert "Traceback" not in err
    if err:
        assert err.startswith("error: ") and err.count("\n") == 1, err
    else:
        assert "converged" in out


def test_a_gateway_policy_not_attached_explains_the_ssl_policy(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = gateway_world()
    condition(
        world.one("gcpgatewaypolicies", GATEWAY)["status"]["conditions"], "Attached", "False", "Invalid", 'SslPolicy "coditect-prod-ssl-policy" was not found'
    )
    proxy = next(body for (collection, _), body in world.compute.items() if collection == "targetHttpsProxies" and body["name"].startswith("gkegw1-"))
    proxy.pop("sslPolicy")
    code, document = report(world, tmp_path, capsys)
    assert code == 1
    (diagnosis,) = document["diagnoses"]
    assert diagnosis["cause"].startswith(f"GCPGatewayPolicy {NAMESPACE}/{GATEWAY} is not attached to Gateway {NAMESPACE}/{GATEWAY} (Attached=False Invalid")
    assert "sslPolicy none (desired coditect-prod-ssl-policy)" in diagnosis["cause"]


def test_a_refused_listener_fails_the_gateway(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GWCER105 as GKE words it for a ManagedCertificate in certificateRefs (discuss.google.dev, quoted in the fixture sources)."""
    world = gateway_world()
    message = (
        'Error GWCER105: Listener "https" is invalid, err: You specified {Group: networking.gke.io, Kind: ManagedCertificate} in the '
        "certificate reference, {Group: , Kind: Secret} are the supported values"
    )
    condition(gateway(world)["status"]["listeners"][0]["conditions"], "ResolvedRefs", "False", "InvalidCertificateRef", message)
    code, document = report(world, tmp_path, capsys)
    assert code == 1
    check = next(c for c in document["checks"] if c["metric"] == "Gateway listeners")
    assert (check["status"], check["live"]) == ("drift", f"https ResolvedRefs=False InvalidCertificateRef: {message}")
    assert document["diagnoses"][0]["resource"] == f"Gateway {NAMESPACE}/{GATEWAY}"
    status = status_of(world, tmp_path)
    assert not status.proven and status.problems == (f"Gateway {NAMESPACE}/{GATEWAY} listener https ResolvedRefs=False InvalidCertificateRef: {message}",)


def test_a_normal_sync_naming_only_the_gateway_is_no_success(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GKE writes Normal SYNC "NS/NAME" when a sync runs; only "SYNC on NS/NAME was a success" clears a warning."""
    world = gateway_world()
    sync_failed(world, "Error GWCER106: still failing")
    ran = copy.deepcopy(world.kube["events"][-2])  # the Normal success event of the fixture
    ran["metadata"]["name"] += "-ran"
    ran.update(message=f"{NAMESPACE}/{GATEWAY}", lastTimestamp="2026-11-28T11:00:00Z")  # after the warning (10:41:55)
    world.add("events", ran)
    assert inspect(world, tmp_path, capsys)[0] == 1
    assert status_of(world, tmp_path).problems[-1].endswith("Error GWCER106: still failing")


@pytest.mark.parametrize(("ancestor", "attached"), [(GATEWAY, False), ("another-gateway", True)])
def test_a_policy_refused_by_this_gateways_ancestor_is_not_attached(tmp_path: Path, ancestor: str, attached: bool) -> None:
    """status.ancestors[] (PolicyAncestorStatus, GCPBackendPolicy only): this Gateway's refusal is not hidden by Attached=True."""
    world = gateway_world()
    refused = {"type": "Accepted", "status": "False", "reason": "Conflicted", "message": "an older policy targets the Service"}
    world.one("gcpbackendpolicies", SERVICE)["status"]["ancestors"] = [
        {
            "ancestorRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": ancestor},
            "controllerName": "networking.gke.io/gateway",
            "conditions": [refused],
        }
    ]
    assert status_of(world, tmp_path).policies_attached is attached


@pytest.mark.parametrize(
    ("plural", "named"),
    [
        ("gateways", 'RBAC verb "get" on resource "gateways" (apiGroup "gateway.networking.k8s.io") in namespace coditect-app'),
        ("httproutes", 'RBAC verb "get" on resource "httproutes" (apiGroup "gateway.networking.k8s.io") in namespace coditect-app'),
        ("gcpbackendpolicies", 'RBAC verb "list" on resource "gcpbackendpolicies" (apiGroup "networking.gke.io") in namespace coditect-app'),
    ],
)
def test_a_denied_gateway_read_names_the_rbac_grant(desired: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], plural: str, named: str) -> None:
    from ops.errors import EXIT_NO_ACCESS

    world = gateway_world()
    world.kube_forbidden.add(plural)
    code, out, err = inspect(world, tmp_path, capsys)
    assert (code, out) == (EXIT_NO_ACCESS, "")
    assert f"no access: Kubernetes API denied a read; grant {named}" in err
