"""Socket.IO end to end through a stand-in for each front door, built from its rendered manifests.

Both doors from one real render, rendered/staging/kubernetes.yaml (staging declares frontDoors [ingress, gateway]):
the Ingress door from its Ingress, Service, BackendConfig and FrontendConfig; the Gateway door from its Gateway,
HTTPRoutes, GCPBackendPolicy and HealthCheckPolicy, in front of the same Service and pods. Then one mutation per
value, each dropping it from the manifests, each turning a scenario red. Lab seconds are load balancer seconds scaled by
LAB_SECONDS_PER_LB_SECOND (tests/frontdoor_lab.py): GKE's 30 s default timeout is 3 s here."""

from __future__ import annotations

import copy
import dataclasses
import http.client
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from coditect.gke.limits import DEFAULT_BACKEND_TIMEOUT_SEC
from ops.verify import CheckName, Layer, Options, Report, Session, verify
from tests.conftest import ROOT
from tests.frontdoor_lab import (
    NO_HEALTHY_STATUS,
    Doc,
    Door,
    FrontDoorError,
    FrontDoorLab,
    FrontDoorSpec,
    edited,
    gateway_door,
    ingress_door,
    load_files,
    load_manifests,
    pod_template,
    pods_lab,
    scaled,
    without,
)
from tests.lab import SOCKETIO_PATH, nginx_binary

STAGING = ROOT / "rendered" / "staging" / "kubernetes.yaml"  # both front doors, as `ops render staging` wrote them
PROD = ROOT / "rendered" / "prod" / "kubernetes.yaml"  # the Ingress alone
SCALED_DEFAULT_S = scaled(DEFAULT_BACKEND_TIMEOUT_SEC)  # the cap a dropped timeout leaves, in lab seconds
HOLD_S = SCALED_DEFAULT_S + 1.5  # past the default cap, by more than a ping interval
SERVICE = "coditect-combined-service"
REDIRECT_ROUTE = "coditect-gateway-redirect"

lab = pytest.mark.lab  # real nginx and Socket.IO servers: `make test-fast` skips these


def manifests(door: str) -> list[Doc]:
    """The render both doors are built from; `door` names which one the caller reads (the file holds both)."""
    assert door in ("ingress", "gateway")
    return load_files(STAGING)


def door_spec(door: str, docs: list[Doc]) -> FrontDoorSpec:
    return ingress_door(docs) if door == "ingress" else gateway_door(docs)


# One dropped value each; the policy object differs per door, the value is the same.
BACKEND_POLICY = {"ingress": "BackendConfig", "gateway": "GCPBackendPolicy"}


def policy_values(door: str, spec: dict[str, Any]) -> dict[str, Any]:
    return spec if door == "ingress" else spec["default"]


def drop_timeout(door: str, docs: list[Doc]) -> list[Doc]:
    return edited(docs, BACKEND_POLICY[door], lambda spec: policy_values(door, spec).pop("timeoutSec"))


def drop_affinity(door: str, docs: list[Doc]) -> list[Doc]:
    return edited(docs, BACKEND_POLICY[door], lambda spec: policy_values(door, spec).pop("sessionAffinity"))


def wrong_health_check(door: str, docs: list[Doc], **change: object) -> list[Doc]:
    if door == "ingress":
        return edited(docs, "BackendConfig", lambda spec: spec["healthCheck"].update(change))
    return edited(docs, "HealthCheckPolicy", lambda spec: spec["default"]["config"]["httpHealthCheck"].update(change))


@pytest.fixture(scope="module")
def pods(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrontDoorLab]:
    """Two python-socketio backends behind staging's rendered nginx site, shared by every door of the module."""
    if nginx_binary() is None:
        message = "nginx is not installed: apt-get install nginx (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    docs = manifests("ingress")
    lab = pods_lab(tmp_path_factory.mktemp("front-doors"), docs, ingress_door(docs), backends=2, ping_interval=1)
    yield lab
    lab.stop()


@pytest.fixture
def start_lab(pods: FrontDoorLab) -> Iterator[Callable[[str, list[Doc]], Door]]:
    """open(door, manifests): that door's load balancer, built from the manifests, in front of the pods."""
    opened: list[Door] = []

    def start(door: str, docs: list[Doc]) -> Door:
        opened.append(pods.open_door(door_spec(door, docs), docs))
        return opened[-1]

    yield start
    for each in opened:
        each.close()


def run(front: Door, **options: Any) -> Report:
    return verify(Options(front.url(), **({"timeout": 5.0} | options)))


def get(front: Door, listener: str, path: str) -> tuple[int, str | None]:
    connection = http.client.HTTPConnection("127.0.0.1", front.ports[listener], timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


HANDSHAKE_PATH = f"{SOCKETIO_PATH}?EIO=4&transport=polling"


# --- the stand-ins as rendered: everything green ---------------------------------------------------


@lab
@pytest.mark.parametrize("door", ["ingress", "gateway"])
def test_rendered_door_serves_socketio_with_affinity_past_the_default_timeout(door: str, start_lab: Callable[[str, list[Doc]], Door]) -> None:
    front = start_lab(door, manifests(door))
    assert front.healthy == {SERVICE: ["pod-1", "pod-2"]}, "both pods must pass the rendered health check"
    report = run(front, hold=HOLD_S)
    assert report.ok, report.text()
    assert report.check(CheckName.HANDSHAKE).ok and report.check(CheckName.WS_UPGRADE).ok
    # One pod served the whole session, polling and upgrade alike, though two are in the pool.
    assert len(report.pods[Session.POLLING]) == 1 and report.pods[Session.WEBSOCKET_UPGRADE] == report.pods[Session.POLLING], report.pods
    assert report.check(CheckName.HOLD).data["held_s"] >= HOLD_S - 0.1
    assert get(front, "http", HANDSHAKE_PATH) == (301, f"https://127.0.0.1{HANDSHAKE_PATH}")


# --- one dropped value each: the scenario it guards turns red --------------------------------------


@lab
@pytest.mark.parametrize("door", ["ingress", "gateway"])
def test_dropped_timeout_cuts_the_socket_at_the_default(door: str, start_lab: Callable[[str, list[Doc]], Door], monkeypatch: pytest.MonkeyPatch) -> None:
    from ops.verify import advice

    docs = drop_timeout(door, manifests(door))
    assert door_spec(door, docs).app[0].backend.timeout_sec == DEFAULT_BACKEND_TIMEOUT_SEC  # type: ignore[union-attr]
    monkeypatch.setattr(advice, "GKE_DEFAULT_TIMEOUT_SEC", SCALED_DEFAULT_S)  # verify's 30 s, scaled like the lab
    report = run(start_lab(door, docs), hold=HOLD_S, polls=2)
    hold = report.check(CheckName.HOLD)
    assert hold.ok is False and SCALED_DEFAULT_S - 0.5 <= hold.data["closed_after_s"] <= SCALED_DEFAULT_S + 0.5, report.text()
    assert f"cut at ~{SCALED_DEFAULT_S} s, Compute's default backend timeout" in str(hold.diagnosis)
    assert report.check(CheckName.POLLING).ok, "plain requests are not capped: only the socket's lifetime is"


@lab
@pytest.mark.parametrize("door", ["ingress", "gateway"])
def test_dropped_affinity_loses_the_session_across_pods(door: str, start_lab: Callable[[str, list[Doc]], Door]) -> None:
    docs = drop_affinity(door, manifests(door))
    assert door_spec(door, docs).app[0].backend.affinity == "NONE"  # type: ignore[union-attr]
    report = run(start_lab(door, docs))
    polling = report.check(CheckName.POLLING)
    assert polling.ok is False and polling.layer == Layer.LOAD_BALANCER, report.text()
    assert "HTTP 400" in polling.detail and "Invalid session" in polling.detail
    assert "session affinity is not applied" in str(polling.diagnosis)
    assert sorted(report.pods[Session.POLLING]) == ["pod-1", "pod-2"]


@lab
@pytest.mark.parametrize("door", ["ingress", "gateway"])
@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"requestPath": "/health"}, id="path"),  # the IDE answers it 404, as a static file server does
        pytest.param({"port": 80}, id="service-port"),  # the Service's port, not the container's: nothing listens there in the pod
    ],
)
def test_wrong_health_check_leaves_no_healthy_backend(door: str, change: dict[str, object], start_lab: Callable[[str, list[Doc]], Door]) -> None:
    front = start_lab(door, wrong_health_check(door, manifests(door), **change))
    assert front.healthy == {SERVICE: []}, "no pod passes the health check"
    handshake = run(front, polls=1).check(CheckName.HANDSHAKE)
    status = NO_HEALTHY_STATUS[door]
    assert handshake.ok is False and handshake.data["status"] == status, handshake
    assert f"HTTP {status} from the load balancer: no healthy backend" in str(handshake.diagnosis)


@lab
def test_gateway_without_the_redirect_route_serves_no_redirect(start_lab: Callable[[str, list[Doc]], Door]) -> None:
    front = start_lab("gateway", without(manifests("gateway"), "HTTPRoute", REDIRECT_ROUTE))
    status, location = get(front, "http", HANDSHAKE_PATH)
    assert (status, location) == (404, None), "nothing is attached to the HTTP listener: no redirect to https"


@lab
def test_generated_cookie_affinity_keeps_each_session_on_one_pod(start_lab: Callable[[str, list[Doc]], Door]) -> None:
    docs = edited(
        manifests("gateway"), "GCPBackendPolicy", lambda spec: spec["default"].update(sessionAffinity={"type": "GENERATED_COOKIE", "cookieTtlSec": 86400})
    )
    front = start_lab("gateway", docs)
    for _ in range(3):  # a new session each time: the LB picks a pod at random, then its cookie pins the session
        report = run(front, polls=3)
        assert report.ok, report.text()
        assert len({pod for session in report.pods.values() for pod in session}) == 1, report.pods


@lab
def test_a_door_whose_pods_differ_from_the_running_ones_is_refused(pods: FrontDoorLab) -> None:
    docs = manifests("gateway")
    for doc in docs:
        if doc["kind"] == "ConfigMap" and "default.conf" in doc.get("data", {}):
            doc["data"]["default.conf"] = doc["data"]["default.conf"].replace("proxy_buffering off;", "proxy_buffering on;")
    with pytest.raises(FrontDoorError, match=r"the gateway door's pods \(nginx ConfigMap, ports\) differ from the running ones: start another FrontDoorLab"):
        pods.open_door(gateway_door(docs), docs)


@lab
@pytest.mark.parametrize("door", ["ingress", "gateway"])
def test_the_browser_connects_through_the_rendered_door_and_not_without_affinity(door: str, start_lab: Callable[[str, list[Doc]], Door]) -> None:
    """socket.io-client in headless Chromium agrees with verify: connected and upgraded on one pod, and no
    connection once affinity is dropped (the namespace connect posted over polling lands on the other pod)."""
    from ops.verify.browser import BUNDLE, chromium_binary, run_browser

    if not (chromium_binary() and BUNDLE.is_file()):
        message = "Chromium or socket.io-client missing: apt-get install chromium; make node-lab"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    good = run_browser(start_lab(door, manifests(door)).url(), calls=3, timeout=5.0)
    assert good.ok and good.upgraded and good.transport == "websocket" and len(set(good.pods)) == 1, good.text()
    bad = run_browser(start_lab(door, drop_affinity(door, manifests(door))).url(), calls=3, timeout=5.0)
    assert not bad.ok and not bad.connected and bad.answered == 0, bad.text()


# --- the derivation alone (no processes) -----------------------------------------------------------


@pytest.mark.parametrize("door", ["ingress", "gateway"])
def test_rendered_values_reach_the_stand_in(door: str) -> None:
    spec = door_spec(door, manifests(door))
    backend = spec.app[0].backend
    assert backend is not None and (backend.service, backend.serving_port) == (SERVICE, 8080)
    assert (backend.timeout_sec, backend.affinity, backend.health_path, backend.health_port) == (86400, "CLIENT_IP", "/healthz", 8080)
    assert spec.http is not None and spec.http[0].redirect_status == 301
    assert spec.route(SOCKETIO_PATH) == spec.app[0]


def test_gateway_without_its_policies_gets_gke_defaults() -> None:
    docs = without(without(manifests("gateway"), "GCPBackendPolicy"), "HealthCheckPolicy")
    backend = gateway_door(docs).app[0].backend
    assert backend is not None
    assert (backend.timeout_sec, backend.affinity) == (DEFAULT_BACKEND_TIMEOUT_SEC, "NONE")
    assert (backend.health_path, backend.health_port) == ("/", 8080), "no HealthCheckPolicy: GET / on the serving port"


def test_a_policy_for_another_service_does_not_apply() -> None:
    docs = edited(manifests("gateway"), "GCPBackendPolicy", lambda spec: spec["targetRef"].update(name="other"))
    backend = gateway_door(docs).app[0].backend
    assert backend is not None and backend.timeout_sec == DEFAULT_BACKEND_TIMEOUT_SEC


def test_redirect_status_defaults_to_302_without_status_code() -> None:
    docs = edited(manifests("gateway"), "HTTPRoute", lambda spec: [f["requestRedirect"].pop("statusCode") for r in spec["rules"] for f in r.get("filters", [])])
    http = gateway_door(docs).http
    assert http is not None and http[0].redirect_status == 302


def test_a_route_to_a_missing_service_answers_500_on_the_gateway() -> None:
    docs = edited(manifests("gateway"), "HTTPRoute", lambda spec: [ref.update(name="gone") for r in spec["rules"] for ref in r.get("backendRefs", [])])
    spec = gateway_door(docs)
    assert spec.app[0].backend is None and spec.app[0].status == 500 and spec.backends() == []


def test_an_ingress_to_a_missing_service_is_refused_with_the_reason() -> None:
    docs = edited(
        manifests("ingress"), "Ingress", lambda spec: [p["backend"]["service"].update(name="gone") for r in spec["rules"] for p in r["http"]["paths"]]
    )
    with pytest.raises(FrontDoorError, match="backend Service gone port 'http' is not in the manifests; GKE would not translate the Ingress"):
        ingress_door(docs)


def test_ingress_without_backend_config_falls_back_to_defaults_and_the_readiness_probe() -> None:
    docs = manifests("ingress")
    for doc in docs:
        if doc["kind"] == "Service":
            doc["metadata"]["annotations"].pop("cloud.google.com/backend-config")
    backend = ingress_door(docs).app[0].backend
    assert backend is not None
    assert (backend.timeout_sec, backend.affinity, backend.health_path) == (DEFAULT_BACKEND_TIMEOUT_SEC, "NONE", "/healthz")


def test_ingress_without_redirect_serves_the_app_on_port_80_unless_http_is_disallowed() -> None:
    docs = edited(manifests("ingress"), "FrontendConfig", lambda spec: spec.pop("redirectToHttps"))
    assert ingress_door(docs).http == ingress_door(docs).app
    for doc in docs:
        if doc["kind"] == "Ingress":
            doc["metadata"]["annotations"]["kubernetes.io/ingress.allow-http"] = "false"
    assert ingress_door(docs).http is None


def test_prefix_routing_matches_whole_path_elements() -> None:
    docs = edited(manifests("gateway"), "HTTPRoute", lambda spec: [m["path"].update(value="/theia") for r in spec["rules"] for m in r.get("matches", [])])
    spec = gateway_door(docs)
    assert spec.route("/theia/socket.io/") is not None and spec.route("/theia") is not None
    fallback = spec.route("/theiax")
    assert fallback is not None and fallback.status == 404


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: [", "manifests are not YAML"),
        ("- 1\n- 2\n", "document 0 is not a Kubernetes object"),
        ("kind: Service\n", "document 0 is not a Kubernetes object (needs kind and metadata.name)"),
    ],
)
def test_unreadable_manifests_are_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(FrontDoorError) as raised:
        load_manifests(text)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_an_unmodelled_affinity_is_named() -> None:
    docs = edited(manifests("gateway"), "GCPBackendPolicy", lambda spec: spec["default"]["sessionAffinity"].update(type="HEADER_FIELD"))
    with pytest.raises(FrontDoorError, match="GCPBackendPolicy for Service coditect-combined-service: session affinity 'HEADER_FIELD' is not modelled"):
        gateway_door(docs)


def test_no_gateway_is_a_clear_error() -> None:
    with pytest.raises(FrontDoorError, match="expected exactly one Gateway in the manifests, found 0"):
        gateway_door(load_files(PROD))  # prod: frontDoors [ingress]


def test_the_render_holds_both_doors_in_front_of_one_service() -> None:
    docs = manifests("gateway")
    assert {d["kind"] for d in docs} >= {"Ingress", "BackendConfig", "FrontendConfig", "Gateway", "HTTPRoute", "GCPBackendPolicy", "HealthCheckPolicy"}
    ingress, gateway = ingress_door(docs), gateway_door(docs)
    assert ingress.app[0].backend is not None and gateway.app[0].backend is not None
    assert ingress.app[0].backend.service == gateway.app[0].backend.service == SERVICE


def test_two_backend_policies_for_one_service_are_refused() -> None:
    docs = manifests("gateway")
    docs.append(copy.deepcopy(next(d for d in docs if d["kind"] == "GCPBackendPolicy")))
    with pytest.raises(FrontDoorError, match="2 objects of kind GCPBackendPolicy target Service coditect-combined-service: keep exactly one"):
        gateway_door(docs)


def test_unmodelled_gateway_shapes_are_named() -> None:
    tcp = edited(manifests("gateway"), "HealthCheckPolicy", lambda spec: spec["default"]["config"].update(type="TCP"))
    with pytest.raises(FrontDoorError, match=r"config\.type 'TCP' is not modelled by the lab"):
        gateway_door(tcp)
    split = edited(
        manifests("gateway"), "HTTPRoute", lambda spec: [r["backendRefs"].append(dict(r["backendRefs"][0])) for r in spec["rules"] if "backendRefs" in r]
    )
    with pytest.raises(FrontDoorError, match="HTTPRoute coditect-gateway-app: the lab models one backendRef per rule, found 2"):
        gateway_door(split)


def test_a_backend_config_the_service_names_must_exist() -> None:
    with pytest.raises(FrontDoorError, match="names BackendConfig coditect-backend-config, which is not in the manifests"):
        ingress_door(without(manifests("ingress"), "BackendConfig"))


def test_the_pod_site_must_keep_what_the_lab_rewrites() -> None:
    docs = manifests("ingress")
    backend = ingress_door(docs).app[0].backend
    assert backend is not None
    template = pod_template(docs, backend)
    assert "listen 127.0.0.1:1234;" in template.server_block("pod-1", 1234, 5678) and '"pod-1"' in template.server_block("pod-1", 1234, 5678)
    broken = dataclasses.replace(template, site=template.site.replace('"$hostname"', '"fixed"'))
    with pytest.raises(FrontDoorError, match='send the pod header "\\$hostname"'):
        broken.server_block("pod-1", 1234, 5678)
