"""`python -m ops inspect` against stand-ins of the Kubernetes API and the Compute API, through the
real `kubernetes` client and google-auth's session (Compute's REST API as JSON): every scenario of issue 12."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ops.inspect.run as inspect_run
from livestate.desired import Desired, StackTarget
from ops.__main__ import main
from ops.errors import EXIT_NO_ACCESS
from ops.inspect.run import Options, run
from tests.standin.harness import Running, closed_port_url, golden_desired, golden_manifests, running
from tests.standin.world import CONTEXT, PROJECT, fixture, healthy_world


def use_desired(monkeypatch: pytest.MonkeyPatch, desired: Desired) -> None:
    """The stack's desired state without re-running the program (the golden render is its output)."""
    monkeypatch.setattr(inspect_run, "desired_state", lambda stack, root: (desired, StackTarget(CONTEXT, PROJECT)))


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    use_desired(monkeypatch, golden_desired())
    with running(healthy_world(), tmp_path) as standins:
        yield standins


def inspect(standins: Running, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["inspect", "prod", "--kubeconfig", str(standins.kubeconfig), "--gcp-endpoint", standins.compute_url, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def report(standins: Running, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code, out, _ = inspect(standins, "--json", capsys=capsys)
    return code, json.loads(out)


def failing(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["metric"]: c for c in document["checks"] if c["status"] != "ok"}


def assert_named(document: dict[str, Any]) -> None:
    """Every diagnosis names resource, field, live and desired."""
    assert document["diagnoses"]
    for diagnosis in document["diagnoses"]:
        assert all(diagnosis[key] for key in ("resource", "field", "live", "desired", "cause", "fix")), diagnosis


def test_healthy_stack_converges_and_only_reads(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = inspect(live, capsys=capsys)
    assert code == 0, out + err
    assert "converged (1 poll" in out and "DRIFT" not in out and "diagnosis" not in out
    for layer in ("ingress translation", "backends", "backendconfig applied", "front end", "leftovers"):
        assert f"\n{layer}\n" in out
    assert live.world.requests and {method for _, method, _ in live.world.requests} == {"GET", "POST"}
    assert {path.rsplit("/", 1)[-1] for _, method, path in live.world.requests if method == "POST"} == {"getHealth"}  # a read, by its body
    assert {api for api, _, _ in live.world.requests} == {"kubernetes", "compute"}


def test_incident_translation_failed_on_a_dangling_service(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    world = live.world
    world.ingress["spec"]["rules"][0]["http"]["paths"].append(
        {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "coditect-api-v2", "port": {"number": 80}}}}
    )
    world.add("events", fixture("k8s_event_translation_failed"))
    world.backend_service.update(sessionAffinity="NONE", timeoutSec=30)
    world.add("horizontalpodautoscalers", fixture("k8s_hpa_orphan"))
    code, document = report(live, capsys)
    assert code == 1
    assert_named(document)
    first = document["diagnoses"][0]
    assert first["cause"].startswith("Ingress translation failed: Service coditect-app/coditect-api-v2 does not exist, so the BackendConfig was never applied")
    assert "sessionAffinity NONE (desired CLIENT_IP)" in first["cause"] and "timeoutSec 30 (desired 86400)" in first["cause"]
    assert first["resource"] == "Ingress coditect-app/coditect-ingress" and "could not find service" in first["live"]
    assert document["layers"]["ingress translation"] is False
    assert failing(document)["undeclared HorizontalPodAutoscaler"]["live"] == "Deployment coditect-api-v2 (does not exist)"


def test_backend_config_not_applied(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    live.world.backend_service.update(sessionAffinity="NONE", timeoutSec=30)
    code, document = report(live, capsys)
    assert code == 1
    assert_named(document)
    assert set(failing(document)) == {"session affinity", "backend timeout (s)"}
    (diagnosis,) = document["diagnoses"]
    assert diagnosis["cause"].startswith("GKE has not applied the BackendConfig: BackendService k8s1-")
    assert (diagnosis["live"], diagnosis["desired"]) == ("NONE, 30", "CLIENT_IP, 86400")


def test_unhealthy_backend_whose_health_check_path_is_not_the_readiness_probe(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    world = live.world
    name = world.backend_service_name
    for statuses in world.health.values():
        for status in statuses:
            status["healthState"] = "UNHEALTHY"
    world.health_check["httpHealthCheck"]["requestPath"] = "/"
    code, document = report(live, capsys)
    assert code == 1
    assert_named(document)
    causes = [d["cause"] for d in document["diagnoses"]]
    assert f"BackendService {name} is UNHEALTHY: its health check probes /:8080, but the pods' readiness probe serves /healthz:8080" in causes
    assert failing(document)["health check path"]["live"] == "/"


def test_cloud_armor_still_attached_after_being_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # gcp.cloudArmor.enabled: false renders securityPolicy {name: ""} (dev's golden render shows it).
    dev_config = next(m for m in golden_manifests("dev") if m["kind"] == "BackendConfig")
    assert dev_config["spec"]["securityPolicy"] == {"name": ""}
    use_desired(monkeypatch, golden_desired(securityPolicy={"name": ""}))
    with running(healthy_world(), tmp_path) as standins:
        code, document = report(standins, capsys)
    assert code == 1
    assert_named(document)
    assert failing(document)["Cloud Armor policy"] | {"target": "none", "live": "coditect-prod-armor"} == failing(document)["Cloud Armor policy"]
    assert document["diagnoses"][0]["cause"].startswith("Cloud Armor policy coditect-prod-armor is still attached to BackendService k8s1-")


def test_logging_off(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    live.world.backend_service["logConfig"] = {"enable": False}
    code, document = report(live, capsys)
    assert code == 1
    assert_named(document)
    assert failing(document)["request logging"]["live"] == "False"
    assert document["diagnoses"][0]["cause"].startswith("Load balancer request logging is off on BackendService k8s1-")


def test_certificate_still_provisioning(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    certificate = live.world.one("managedcertificates", "coditect-prod-certificate")
    certificate["status"] = {
        "certificateName": certificate["status"]["certificateName"],
        "certificateStatus": "Provisioning",
        "domainStatus": [{"domain": "coditect.ai", "status": "Provisioning"}],
    }
    code, document = report(live, capsys)
    assert code == 1
    assert_named(document)
    check = failing(document)["certificate"]
    assert (check["status"], check["live"]) == ("pending", "Provisioning (coditect.ai: Provisioning)")
    assert "still provisioning" in document["diagnoses"][0]["cause"]


@pytest.mark.parametrize(
    ("plural", "named"),
    [
        ("events", 'RBAC verb "list" on resource "events" (apiGroup "") in namespace coditect-app'),
        ("ingresses", 'RBAC verb "get" on resource "ingresses" (apiGroup "networking.k8s.io") in namespace coditect-app'),
        ("backendconfigs", 'RBAC verb "list" on resource "backendconfigs" (apiGroup "cloud.google.com") in namespace coditect-app'),
    ],
)
def test_kubernetes_403_exits_no_access_naming_the_rbac_verb_and_resource(live: Running, capsys: pytest.CaptureFixture[str], plural: str, named: str) -> None:
    live.world.kube_forbidden.add(plural)
    code, out, err = inspect(live, capsys=capsys)
    assert (code, out) == (EXIT_NO_ACCESS, "")
    assert f"no access: Kubernetes API denied a read; grant {named}" in err
    assert "is forbidden: User" in err  # the API server's own words follow


@pytest.mark.parametrize(
    ("collection", "permission"),
    [
        ("backendServices", "compute.backendServices.get"),
        ("healthChecks", "compute.healthChecks.get"),
        ("forwardingRules", None),
        ("addresses", "compute.globalAddresses.get"),
        ("targetHttpsProxies", "compute.targetHttpsProxies.get"),
    ],
)
def test_compute_403_exits_no_access_naming_the_iam_permission(
    live: Running, capsys: pytest.CaptureFixture[str], collection: str, permission: str | None
) -> None:
    live.world.compute_forbidden.add(collection)
    code, _, err = inspect(live, capsys=capsys)
    if permission is None:  # the program never reads forwarding rules: the inspection passes without that permission
        assert code == 0
        return
    assert code == EXIT_NO_ACCESS
    assert f"grant IAM permission {permission} on project coditect-prod" in err


def test_kubernetes_api_unreachable(live: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.standin.servers import write_kubeconfig

    write_kubeconfig(live.kubeconfig, closed_port_url(), CONTEXT)
    code, out, err = inspect(live, capsys=capsys)
    assert (code, out) == (1, "")
    assert "error: Kubernetes API at http://127.0.0.1:" in err and "is unreachable" in err


def test_compute_api_unreachable(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", "prod", "--kubeconfig", str(live.kubeconfig), "--gcp-endpoint", closed_port_url()])
    err = capsys.readouterr().err
    assert code == 1
    assert "Compute Engine API at http://127.0.0.1:" in err and "unreachable: ConnectionError" in err


def _options(standins: Running, wait: float, interval: float = 0.01) -> Options:
    return Options("prod", Path("."), kubeconfig=str(standins.kubeconfig), gcp_endpoint=standins.compute_url, wait=wait, interval=interval)


def test_wait_converges_after_n_polls(live: Running) -> None:
    world = live.world
    world.backend_service.update(sessionAffinity="NONE", timeoutSec=30)
    pending = world.one("managedcertificates", "coditect-prod-certificate")
    active = pending["status"]
    pending["status"] = {"certificateStatus": "Provisioning", "domainStatus": [{"domain": "coditect.ai", "status": "Provisioning"}]}
    sleeps: list[float] = []

    def gke_works_while_we_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            world.backend_service.update(sessionAffinity="CLIENT_IP", timeoutSec=86400)
        if len(sleeps) == 3:
            pending["status"] = active

    out, err = io.StringIO(), io.StringIO()
    assert run(_options(live, wait=60), out, err, sleep=gke_works_while_we_sleep) == 0
    assert sleeps == [0.01, 0.01, 0.01]
    progress = err.getvalue().splitlines()
    assert len(progress) == 4
    assert "backendconfig applied waiting" in progress[0] and "front end waiting" in progress[0]
    assert "backendconfig applied ok" in progress[2] and "front end waiting" in progress[2]
    assert "front end ok" in progress[3]
    assert "converged (4 polls" in out.getvalue()


def test_wait_times_out(live: Running) -> None:
    live.world.backend_service["timeoutSec"] = 30
    out, err = io.StringIO(), io.StringIO()
    assert run(_options(live, wait=3.0, interval=0.05), out, err) == 1
    polls = len(err.getvalue().splitlines())
    assert polls >= 2  # at least one retry before the deadline, however loaded the machine
    assert f"NOT converged: 1 of 23 checks ({polls} polls" in out.getvalue()


@pytest.mark.parametrize(
    "arguments",
    [
        ["--wait", "-1"],
        ["--interval", "0"],
        ["--wait", "nan"],
        ["--interval", "nan"],
        ["--timeout", "nan"],
        ["--timeout", "inf"],
        ["--wait", "1e999"],
        ["--gcp-endpoint", "compute.example"],
        ["--context", "no-such-context"],
    ],
)
def test_bad_arguments_exit_2(live: Running, capsys: pytest.CaptureFixture[str], arguments: list[str]) -> None:
    code, _, err = inspect(live, *arguments, capsys=capsys)
    assert code == 2
    assert err.startswith("error: ")


def test_standins_are_strict() -> None:
    """A path the real API does not have is 404; a write is refused; neither is ever served data."""
    world = healthy_world()
    from tests.standin.servers import ComputeHandler, KubeHandler, serving

    with serving(KubeHandler, world) as kube, serving(ComputeHandler, world) as compute:
        for url in (
            f"{kube}/api/v1/namespaces/coditect-app/ingresses/coditect-ingress",  # Ingress is not in the core group
            f"{kube}/apis/networking.k8s.io/v1beta1/namespaces/coditect-app/ingresses",  # removed in Kubernetes 1.22
            f"{compute}/compute/v1/projects/{PROJECT}/regions/us-central1/backendServices/x",  # GKE's backends are global
            f"{compute}/compute/v1/projects/{PROJECT}/global/backendServices",
        ):  # list is not served
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(url)
            assert error.value.code == 404, url
        request = urllib.request.Request(f"{kube}/api/v1/namespaces/coditect-app/services/coditect-combined-service", method="DELETE")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request)
        assert error.value.code == 405
    assert world.one("services", "coditect-combined-service")


def test_desired_state_is_the_programs_render(monkeypatch: pytest.MonkeyPatch) -> None:
    """What inspect compares against is what the program renders for the stack, with its target."""
    from ops.inspect.stack import _rendered
    from ops.program import ROOT
    from ops.stack_check import settings_for

    config, secret_keys, _ = settings_for("prod", ROOT)
    desired = _rendered("prod", ROOT, config, secret_keys)
    assert desired == golden_desired()
    desired, target = inspect_run.desired_state("prod", ROOT)
    assert desired == golden_desired()
    assert target == StackTarget(CONTEXT, PROJECT)
