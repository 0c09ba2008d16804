"""Hostile Kubernetes answers (issue 19, classes 1 and 2) through the real `kubernetes` client: `ops inspect`
and `ops probe`'s reads end in one line naming the API, the object and what was wrong (exit 1), within
their deadline and byte caps, never a traceback (exit 4); a 401 is refused credentials, not an RBAC verb."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ops.inspect.run as inspect_run
from livestate.desired import StackTarget
from livestate.jobs import LOG_LIMIT, JobClient
from livestate.kube import MAX_ANSWER_BYTES, MAX_PAGES, PAGE_LIMIT, KubeReader
from livestate.model import Malformed
from ops.__main__ import main
from tests.standin import hostile_kube as hk
from tests.standin.harness import golden_desired
from tests.standin.servers import ComputeHandler, serving, write_kubeconfig
from tests.standin.world import CONTEXT, NAMESPACE, PROJECT, World, healthy_world

Json = dict[str, Any]
SERVICE = r"/api/v1/namespaces/coditect-app/services/coditect-combined-service$"
INGRESS = r"/apis/networking.k8s.io/v1/namespaces/coditect-app/ingresses/coditect-ingress$"
PODS = r"/api/v1/namespaces/coditect-app/pods$"
SLACK_S = 4.0  # a loaded 2-core machine: the bound is the deadline plus this, not the deadline exactly


@pytest.fixture(autouse=True)
def prod_desired(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inspect_run, "desired_state", lambda stack, root: (golden_desired(), StackTarget(CONTEXT, PROJECT)))


@contextmanager
def hostile(world: World, sabotage: hk.Sabotage, tmp: Path) -> Iterator[tuple[Path, str]]:
    with ExitStack() as stack:
        kube = stack.enter_context(hk.serving_hostile(world, sabotage))
        compute = stack.enter_context(serving(ComputeHandler, world))
        yield write_kubeconfig(tmp / "kubeconfig.json", kube, CONTEXT), compute


def inspect(
    tmp: Path, sabotage: hk.Sabotage, world: World | None = None, timeout: float = 5.0, capsys: pytest.CaptureFixture[str] | None = None
) -> tuple[int, str, float]:
    assert capsys is not None
    with hostile(world or healthy_world(), sabotage, tmp) as (kubeconfig, compute):
        start = time.monotonic()
        code = main(["inspect", "prod", "--kubeconfig", str(kubeconfig), "--gcp-endpoint", compute, "--timeout", str(timeout)])
        took = time.monotonic() - start
    return code, capsys.readouterr().err, took


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def with_service(change: Any) -> World:
    world = healthy_world()
    service = world.one("services", "coditect-combined-service")
    change(service)
    return world


def neg_status(value: str) -> World:
    return with_service(lambda s: s["metadata"]["annotations"].__setitem__("cloud.google.com/neg-status", value))


# --- class 1: answers that are not what the API promises -------------------------------------------

MALFORMED = {
    "truncated JSON": (
        hk.Sabotage().on(SERVICE, hk.body('{"kind": "Service", "metadata": {"name": "coditect-comb')),
        None,
        "Service coditect-app/coditect-combined-service: the answer is not JSON",
    ),
    "HTML with 200": (
        hk.Sabotage().on(INGRESS, hk.body("<!DOCTYPE html><html><body>Sign in</body></html>", content_type="text/html")),
        None,
        "Ingress coditect-app/coditect-ingress: the answer is not JSON",
    ),
    "a list where an object belongs": (
        hk.Sabotage().on(INGRESS, hk.json_body([{"kind": "Ingress"}])),
        None,
        "Ingress coditect-app/coditect-ingress: the answer is a JSON list, not an object",
    ),
    "neg-status not JSON": (hk.Sabotage(), neg_status("{network_endpoint_groups"), "annotation cloud.google.com/neg-status: not JSON"),
    "neg-status a list": (hk.Sabotage(), neg_status('["k8s1-neg"]'), "annotation cloud.google.com/neg-status: a list, not a JSON object"),
    "neg-status zones not a list": (
        hk.Sabotage(),
        neg_status('{"network_endpoint_groups": {"8080": "k8s1-x"}, "zones": "us-central1-a"}'),
        "zones is a string, not a list",
    ),
    "neg-status groups a list": (
        hk.Sabotage(),
        neg_status('{"network_endpoint_groups": ["k8s1-x"], "zones": []}'),
        "network_endpoint_groups is a list, not an object",
    ),
    "annotation not a string": (
        hk.Sabotage(),
        with_service(lambda s: s["metadata"]["annotations"].__setitem__("cloud.google.com/neg", {"ingress": True})),
        'metadata.annotations["cloud.google.com/neg"] is an object, not a string',
    ),
}


def _ingress_world(change: Any) -> World:
    world = healthy_world()
    change(world.ingress)
    return world


MALFORMED |= {
    "Ingress backend without a name": (
        hk.Sabotage(),
        _ingress_world(lambda i: i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].pop("name")),
        "spec.rules[0].http.paths[0].backend.service has no name",
    ),
    "Ingress paths a string": (
        hk.Sabotage(),
        _ingress_world(lambda i: i["spec"]["rules"][0].__setitem__("http", {"paths": "/"})),
        "spec.rules[0].http.paths is a string, not a list",
    ),
    "backends annotation a list": (
        hk.Sabotage(),
        _ingress_world(lambda i: i["metadata"]["annotations"].__setitem__("ingress.kubernetes.io/backends", "[1]")),
        "annotation ingress.kubernetes.io/backends: a list, not a JSON object",
    ),
    "pod conditions a string": (hk.Sabotage(), None, "status.conditions is a string, not a list"),
}


def _pods_conditions_string(world: World) -> World:
    for pod in world.kube["pods"]:
        pod["status"]["conditions"] = "Ready"
    return world


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_answer_is_one_line_naming_api_object_and_problem(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sabotage, world, expected = MALFORMED[case]
    if case == "pod conditions a string":
        world = _pods_conditions_string(healthy_world())
    code, err, _ = inspect(tmp_path, sabotage, world, capsys=capsys)
    line = one_error_line(err)
    assert code == 1
    assert line.startswith("error: Kubernetes API: ") and expected in line, line


def test_the_unsabotaged_standin_converges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The control: the same server with nothing turned hostile passes, so each failure above is the sabotage's."""
    code, err, _ = inspect(tmp_path, hk.Sabotage(), capsys=capsys)
    assert code == 0, err


# --- class 2: no bound on time or memory -------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (hk.trickle_body, "Service coditect-app/coditect-combined-service: response body: not done within the 0.5 s deadline"),
        (hk.trickle_headers, "no answer to Service coditect-app/coditect-combined-service within the 0.5 s deadline"),
        (hk.hang, "no answer to Service coditect-app/coditect-combined-service within the 0.5 s deadline"),
    ],
)
def test_a_trickle_or_a_hang_ends_at_the_total_deadline(action: hk.Action, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, took = inspect(tmp_path, hk.Sabotage().on(SERVICE, action), timeout=0.5, capsys=capsys)
    assert code == 1 and expected in one_error_line(err)
    assert took < 0.5 + SLACK_S, took


def test_an_endless_body_stops_at_the_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, took = inspect(tmp_path, hk.Sabotage().on(SERVICE, hk.endless_body), timeout=30, capsys=capsys)
    assert code == 1 and f"more than {MAX_ANSWER_BYTES + 2**16} bytes received" in one_error_line(err)
    assert took < 30


def test_a_gzip_bomb_stops_at_the_decoded_cap_in_small_memory(tmp_path: Path) -> None:
    """About 1 MiB of gzip inflating to 1 GiB: decoded no further than MAX_ANSWER_BYTES + 1."""
    action = hk.gzip_bomb(1024)
    assert len(hk.bomb("gzip", 1024)) < 2 * 2**20
    with hostile(healthy_world(), hk.Sabotage().on(SERVICE, action), tmp_path) as (kubeconfig, _):
        reader = KubeReader(CONTEXT, str(kubeconfig), 10)
        tracemalloc.start()
        try:
            with pytest.raises(Malformed, match=f"decompressing the body: more than {MAX_ANSWER_BYTES} bytes once decompressed"):
                reader.service(NAMESPACE, "coditect-combined-service")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            reader.close()
    assert peak < 4 * MAX_ANSWER_BYTES, peak  # not the gigabyte


def test_a_small_gzip_answer_is_decoded(tmp_path: Path) -> None:
    import gzip

    service = healthy_world().one("services", "coditect-combined-service")
    action = hk.body(gzip.compress(json.dumps(service).encode()), headers={"Content-Encoding": "gzip"})
    with hostile(healthy_world(), hk.Sabotage().on(SERVICE, action), tmp_path) as (kubeconfig, _):
        reader = KubeReader(CONTEXT, str(kubeconfig), 5)
        try:
            assert reader.service(NAMESPACE, "coditect-combined-service") == service
        finally:
            reader.close()


# --- lists that say they are partial -------------------------------------------------------------------


def _pods() -> list[Json]:
    return [{k: v for k, v in p.items() if k not in ("kind", "apiVersion")} for p in healthy_world().kube["pods"]]


def test_a_paged_list_is_followed_to_its_end(tmp_path: Path) -> None:
    sabotage = hk.Sabotage().on(PODS, hk.paged(_pods(), "PodList", per_page=1))
    with hostile(healthy_world(), sabotage, tmp_path) as (kubeconfig, _):
        reader = KubeReader(CONTEXT, str(kubeconfig), 5)
        try:
            assert [p["metadata"]["name"] for p in reader.pods(NAMESPACE, {})] == [p["metadata"]["name"] for p in _pods()]
        finally:
            reader.close()
    assert [q.get("continue") for q in sabotage.seen] == [None, ["1"], ["2"]]
    assert all(q["limit"] == [str(PAGE_LIMIT)] for q in sabotage.seen)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"remaining_without_continue": True}, "more items remain (metadata.remainingItemCount) but gives no metadata.continue"),
        ({"endless": True}, f"still partial after {MAX_PAGES} pages"),
    ],
)
def test_a_partial_list_is_never_taken_as_complete(options: Json, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, _ = inspect(tmp_path, hk.Sabotage().on(PODS, hk.paged(_pods(), "PodList", per_page=1, **options)), capsys=capsys)
    line = one_error_line(err)
    assert code == 1 and "the Pod list of coditect-app" in line and expected in line, line


# --- 401 is not 403 ------------------------------------------------------------------------------------


def test_401_is_refused_credentials_with_the_gcloud_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, _ = inspect(tmp_path, hk.Sabotage().on(INGRESS, hk.unauthorized()), capsys=capsys)
    line = one_error_line(err)
    assert code == 1 and "Kubernetes API refused the credentials: HTTP 401: Unauthorized" in line
    assert "gcloud container clusters get-credentials" in line and "RBAC" not in err and "grant" not in err


# --- probe's reads -------------------------------------------------------------------------------------

JOB = r"/apis/batch/v1/namespaces/coditect-app/jobs/coditect-probe-x$"
LOG = r"/api/v1/namespaces/coditect-app/pods/coditect-probe-x-1/log$"


@contextmanager
def job_client(sabotage: hk.Sabotage, tmp: Path, timeout: float = 5.0) -> Iterator[JobClient]:
    with hk.serving_hostile(World(), sabotage) as url:
        cluster = JobClient(CONTEXT, str(write_kubeconfig(tmp / "kubeconfig.json", url, CONTEXT)), timeout)
        try:
            yield cluster
        finally:
            cluster.close()


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ({"status": {"conditions": "Complete"}}, "status.conditions is a string, not a list"),
        ({"status": {"conditions": [["Complete", "True"]]}}, "status.conditions[0] is a list, not an object"),
        ({"status": {"conditions": [{"type": "Complete", "status": True}]}}, "status.conditions[0].status is a boolean, not a string"),
        ({"status": "Complete"}, "status is a string, not an object"),
    ],
)
def test_a_job_status_of_the_wrong_shape_is_malformed(job: Json, expected: str, tmp_path: Path) -> None:
    with (
        job_client(hk.Sabotage().on(JOB, hk.json_body({"kind": "Job", "metadata": {"name": "coditect-probe-x"}, **job})), tmp_path) as cluster,
        pytest.raises(Malformed, match="Job coditect-app/coditect-probe-x: " + expected.replace("[", r"\[").replace("]", r"\]")),
    ):
        cluster.job(NAMESPACE, "coditect-probe-x")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"containerStatuses": [{"state": {"waiting": "ImagePullBackOff"}}]}, "status.containerStatuses[0].state.waiting is a string, not an object"),
        ({"phase": ["Pending"]}, "status.phase is a list, not a string"),
        ("Pending", "status is a string, not an object"),
    ],
)
def test_a_pod_status_of_the_wrong_shape_is_malformed(status: Any, expected: str, tmp_path: Path) -> None:
    pods = {"kind": "PodList", "metadata": {}, "items": [{"metadata": {"name": "coditect-probe-x-1"}, "status": status}]}
    with job_client(hk.Sabotage().on(PODS, hk.json_body(pods)), tmp_path) as cluster, pytest.raises(Malformed) as raised:
        cluster.pods(NAMESPACE, "job-name=coditect-probe-x")
    assert expected in str(raised.value)


def test_the_log_is_asked_for_with_its_limit_and_capped(tmp_path: Path) -> None:
    sabotage = hk.Sabotage().on(LOG, hk.body("x" * LOG_LIMIT, content_type="text/plain"))
    with job_client(sabotage, tmp_path) as cluster:
        assert len(cluster.log(NAMESPACE, "coditect-probe-x-1", "probe")) == LOG_LIMIT
    assert sabotage.seen[0]["limitBytes"] == [str(LOG_LIMIT)]
    sabotage = hk.Sabotage().on(LOG, hk.body("x" * (LOG_LIMIT + 1), content_type="text/plain"))
    with (
        job_client(sabotage, tmp_path) as cluster,
        pytest.raises(Malformed, match=f"the log of pod coditect-app/coditect-probe-x-1 .*more than {LOG_LIMIT} bytes"),
    ):
        cluster.log(NAMESPACE, "coditect-probe-x-1", "probe")


def test_an_endless_log_stops_at_its_cap(tmp_path: Path) -> None:
    with job_client(hk.Sabotage().on(LOG, hk.endless_body), tmp_path) as cluster, pytest.raises(Malformed, match="bytes received"):
        cluster.log(NAMESPACE, "coditect-probe-x-1", "probe")


def test_a_trickled_job_ends_at_the_deadline(tmp_path: Path) -> None:
    start = time.monotonic()
    with job_client(hk.Sabotage().on(JOB, hk.trickle_body), tmp_path, timeout=0.5) as cluster, pytest.raises(Malformed, match=r"0\.5 s deadline"):
        cluster.job(NAMESPACE, "coditect-probe-x")
    assert time.monotonic() - start < 0.5 + SLACK_S


# --- generated: any JSON where the readers expect their shapes ---------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
# Not metadata itself: the stand-in finds objects by metadata.name and namespace.
SERVICE_SPOTS = ("metadata.uid", "metadata.annotations", "metadata.annotations.cloud.google.com/neg-status", "spec", "status")
INGRESS_SPOTS = (
    "metadata.annotations",
    "metadata.managedFields",
    "spec.rules",
    "spec.defaultBackend",
    "status.loadBalancer.ingress",
    "metadata.annotations.ingress.kubernetes.io/backends",
)


def _put(obj: Json, spot: str, value: Any) -> None:
    head, _, rest = spot.partition(".")
    if head == "metadata" and rest.startswith("annotations."):
        obj["metadata"]["annotations"][rest.removeprefix("annotations.")] = value if not isinstance(value, dict | list) else json.dumps(value)
    elif rest:
        node = obj.setdefault(head, {})
        _put(node, rest, value) if isinstance(node, dict) else None
    else:
        obj[head] = value


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["services", "ingresses"]), spot_index=st.integers(0, 5), value=JSON_VALUES)
def test_any_value_in_a_read_field_is_a_verdict_or_one_line(kind: str, spot_index: int, value: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = healthy_world()
    spots = SERVICE_SPOTS if kind == "services" else INGRESS_SPOTS
    target = world.one("services", "coditect-combined-service") if kind == "services" else world.ingress
    _put(target, spots[spot_index % len(spots)], value)
    code, err, _ = inspect(tmp_path, hk.Sabotage(), world, capsys=capsys)
    assert code in (0, 1), err
    assert "Traceback" not in err
    if code == 1 and err.startswith("error:"):
        one_error_line(err)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=40) | JSON_VALUES.map(lambda v: json.dumps(v).encode()), status=st.sampled_from([200, 200, 500, 401, 410]))
def test_any_body_for_a_read_is_an_answer_or_one_line(body: bytes, status: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, _ = inspect(tmp_path, hk.Sabotage().on(PODS, hk.body(body, status)), capsys=capsys)
    assert code == 1, err  # no body here is a PodList of ready pods
    one_error_line(err)


@pytest.mark.parametrize("spot", ["spec.rules", "status.loadBalancer.ingress"])
def test_a_null_element_of_a_list_of_objects_is_malformed(spot: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the property above: `spec.rules: [null]` reached a reader as None (a traceback, exit 4)."""
    world = healthy_world()
    _put(world.ingress, spot, [None])
    code, err, _ = inspect(tmp_path, hk.Sabotage(), world, capsys=capsys)
    assert code == 1, err
    one_error_line(err)
    assert f"{spot}[0] is null, not an object" in err
