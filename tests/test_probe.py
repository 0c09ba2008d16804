"""`python -m ops probe`: the Job (from the prod golden render), the in-pod script (run here, on
loopback), the report parsing, and whole runs through the real `kubernetes` client against a strict
stand-in that simulates the Job's lifecycle and its pod's log (issue 15, part 5)."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ops.probe.run as probe_run
from ops.__main__ import main
from ops.errors import EXIT_NO_ACCESS, UsageError
from ops.probe.job import CONTAINER, PROBE_LABEL, build_job
from ops.probe.report import Observation, Result, Verdict, parse_log, results, text
from ops.probe.script import LINE_PREFIX
from ops.probe.table import Expect, Probe, parse_peer, probe_table
from tests.standin.harness import closed_port_url, golden_manifests
from tests.standin.jobs import Cluster, serving_jobs
from tests.standin.servers import write_kubeconfig
from tests.standin.world import CONTEXT, NAMESPACE

Json = dict[str, Any]
PEER = "10.52.1.9:8080"
TABLE = probe_table(parse_peer(PEER))
NAME = "coditect-probe-a1b2c3"


def ide_template() -> Json:
    deployment = next(m for m in golden_manifests("prod") if m["kind"] == "Deployment")
    template: Json = deployment["spec"]["template"]
    return template


def job() -> Json:
    return build_job(golden_manifests("prod"), TABLE, NAME)


def selects(selector: Json, labels: Json) -> bool:
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


# --- the Job -------------------------------------------------------------------------------------


def test_the_pod_is_an_ide_pod_to_every_network_policy() -> None:
    pod = job()["spec"]["template"]
    ide = ide_template()
    assert pod["metadata"]["labels"] == {**ide["metadata"]["labels"], PROBE_LABEL: NAME}
    assert pod["metadata"]["labels"]["coditect.ai/runs-user-code"] == "true"
    policies = [m for m in golden_manifests("prod") if m["kind"] == "NetworkPolicy"]
    assert (
        [p["metadata"]["name"] for p in policies if selects(p["spec"]["podSelector"], pod["metadata"]["labels"])]
        == [p["metadata"]["name"] for p in policies if selects(p["spec"]["podSelector"], ide["metadata"]["labels"])]
        == ["coditect-combined-egress", "coditect-combined-from-load-balancer", "default-deny"]
    )
    spec = pod["spec"]
    assert (spec["serviceAccountName"], spec["runtimeClassName"], spec["automountServiceAccountToken"]) == ("coditect-combined", "gvisor", False)
    assert job()["metadata"]["namespace"] == NAMESPACE


def test_the_job_is_restricted_bounded_and_serves_nothing() -> None:
    manifest = job()
    spec = manifest["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"], spec["ttlSecondsAfterFinished"]) == (0, 120, 300)
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
    (container,) = pod["containers"]
    assert container["name"] == CONTAINER
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["resources"]["limits"] == {"cpu": "200m", "memory": "64Mi"} and container["resources"]["requests"]
    assert "ports" not in container  # the Service targets the port by name "http": no such port, no endpoint
    assert not any(k in pod for k in ("volumes", "hostNetwork", "hostPID", "hostIPC"))
    assert container["env"] == [{"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}]
    assert container["command"][:4] == ["python3", "-I", "-B", "-c"]
    assert json.loads(container["command"][5]) == [p.as_dict() for p in TABLE] and container["command"][6] == "3"


def test_a_service_targeting_a_port_number_would_route_to_the_probe_pod_so_it_is_refused() -> None:
    manifests = golden_manifests("prod")
    service = next(m for m in manifests if m["kind"] == "Service")
    service["spec"]["ports"][0]["targetPort"] = 8080
    with pytest.raises(UsageError, match="Service coditect-app/coditect-combined-service selects the IDE pods with a numeric targetPort"):
        build_job(manifests, TABLE, NAME)


def test_exactly_one_deployment_runs_user_code() -> None:
    manifests = golden_manifests("prod")
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    with pytest.raises(UsageError, match="declares 2 Deployments"):
        build_job([*manifests, deployment], TABLE, NAME)
    del deployment["spec"]["template"]["metadata"]["labels"]["coditect.ai/runs-user-code"]
    with pytest.raises(UsageError, match="declares 0 Deployments"):
        build_job(manifests, TABLE, NAME)


def test_the_table_is_the_issues() -> None:
    rows = {p.name: (p.kind, p.shown, p.expect) for p in TABLE}
    blocked, reachable = Expect.BLOCKED, Expect.REACHABLE
    assert rows == {
        "metadata token": ("http", "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token", blocked),
        "metadata 169.254.169.254:8080": ("tcp", "169.254.169.254:8080", blocked),
        "metadata 169.254.169.252:987": ("tcp", "169.254.169.252:987", blocked),
        "metadata 169.254.169.252:988": ("tcp", "169.254.169.252:988", blocked),
        "kubelet 10250": ("tcp", "$HOST_IP:10250", blocked),
        "kubelet read-only 10255": ("tcp", "$HOST_IP:10255", blocked),
        "other namespace's pod": ("tcp", PEER, blocked),
        "control plane": ("tcp", "kubernetes.default.svc:443", blocked),
        "cluster DNS": ("dns", "kubernetes.default.svc (resolve)", reachable),
        "external DNS": ("dns", "registry.npmjs.org (resolve)", reachable),
        "declared registry": ("https", "https://registry.npmjs.org/", reachable),
    }
    assert dict(TABLE[0].headers) == {"Metadata-Flavor": "Google"}


# --- the script, run here on loopback ---------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[int]:
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = 200 if self.headers.get("Metadata-Flavor") == "Google" else 403
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b'{"access_token": "SECRET-TOKEN"}')

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_script_reports_how_far_each_probe_got_and_never_what_it_received(http_server: int) -> None:
    closed = int(closed_port_url().rsplit(":", 1)[1])
    blocked = Expect.BLOCKED
    table = (
        Probe("token", "http", f"http://127.0.0.1:{http_server}/token", 80, blocked, "", (("Metadata-Flavor", "Google"),)),
        Probe("no header", "http", f"http://127.0.0.1:{http_server}/token", 80, blocked, ""),
        Probe("open port", "tcp", "$HOST_IP", http_server, blocked, ""),
        Probe("closed port", "tcp", "127.0.0.1", closed, blocked, ""),
        Probe("unset variable", "tcp", "$NO_SUCH_VARIABLE", 1, blocked, ""),
        Probe("resolve", "dns", "localhost", 53, Expect.REACHABLE, ""),
        Probe("no such name", "dns", "nothing.invalid", 53, Expect.REACHABLE, ""),
    )
    manifest = build_job(golden_manifests("prod"), table, NAME, probe_timeout=2)
    command = manifest["spec"]["template"]["spec"]["containers"][0]["command"]
    done = subprocess.run(
        [sys.executable, *command[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"HOST_IP": "127.0.0.1", "HTTP_PROXY": f"http://127.0.0.1:{closed}", "PATH": "/usr/bin:/bin"},
    )
    assert "SECRET-TOKEN" not in done.stdout
    assert all(line.startswith(LINE_PREFIX) for line in done.stdout.splitlines())
    observed = parse_log(done.stdout)
    assert list(observed) == [p.name for p in table]
    assert observed["token"] == Observation("reached", "HTTP 200")  # the proxy from the environment is not used
    assert observed["no header"] == Observation("reached", "HTTP 403")
    assert observed["open port"] == Observation("reached", "connected")
    # a reset is the destination answering: the path is open, it is no policy block
    assert observed["closed port"] == Observation("refused", "path open: connection refused (reset), only the port is closed")
    assert observed["unset variable"] == Observation("error", "$NO_SUCH_VARIABLE is not set")
    assert observed["resolve"].outcome == "reached" and "127.0.0.1" in observed["resolve"].detail
    assert observed["no such name"].outcome == "unresolved"


# --- parsing and verdicts ---------------------------------------------------------------------------


def line(name: str, outcome: str, detail: str = "") -> str:
    return LINE_PREFIX + json.dumps({"name": name, "outcome": outcome, "detail": detail})


def contained_log() -> str:
    return "\n".join(
        line(p.name, "blocked" if p.expect is Expect.BLOCKED else "reached", "timed out after 3s" if p.expect is Expect.BLOCKED else "resolves to 34.36.1.1")
        for p in TABLE
    )


def test_parse_log_keeps_only_well_formed_probe_lines() -> None:
    log = "\n".join(
        [
            "starting",
            line("a", "reached", "HTTP 200"),
            LINE_PREFIX + "{not json",
            LINE_PREFIX + "[1]",
            line("b", "sideways"),
            LINE_PREFIX + json.dumps({"name": "c", "outcome": "blocked"}),
            line("d", "blocked", "x" * 500),
        ]
    )
    assert parse_log(log) == {"a": Observation("reached", "HTTP 200"), "d": Observation("blocked", "x" * 200)}


@pytest.mark.parametrize(
    ("expect", "outcome", "verdict"),
    [
        (Expect.BLOCKED, "blocked", Verdict.AS_EXPECTED),
        (Expect.BLOCKED, "reached", Verdict.WRONG),
        (Expect.BLOCKED, "unresolved", Verdict.INCONCLUSIVE),
        (Expect.BLOCKED, "error", Verdict.INCONCLUSIVE),
        (Expect.REACHABLE, "reached", Verdict.AS_EXPECTED),
        (Expect.REACHABLE, "blocked", Verdict.WRONG),
        (Expect.REACHABLE, "unresolved", Verdict.WRONG),
        (Expect.BLOCKED, None, Verdict.NO_RESULT),
        (Expect.BLOCKED, "refused", Verdict.WRONG),
        (Expect.REACHABLE, "refused", Verdict.WRONG),
    ],
)
def test_verdicts(expect: Expect, outcome: str | None, verdict: Verdict) -> None:
    probe = Probe("p", "tcp", "h", 1, expect, "")
    assert Result(probe, Observation(outcome, "") if outcome else None).verdict is verdict


def test_the_text_report_names_what_is_wrong() -> None:
    log = contained_log().replace(line("metadata token", "blocked", "timed out after 3s"), line("metadata token", "reached", "HTTP 200"))
    log = "\n".join(x for x in log.splitlines() if '"declared registry"' not in x)
    report = text(results(TABLE, log), "probe prod")
    assert "2 of 11 probes not as expected:" in report
    assert "  - metadata token: expected blocked, observed reached (HTTP 200); a Google access token" in report
    assert "  - declared registry: expected reachable, the pod printed no result for it" in report


# --- whole runs against the Job stand-in -------------------------------------------------------------


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """The prod stack's render without re-running the program (the golden render is its output)."""
    monkeypatch.setattr(probe_run, "render_stack", lambda stack, root: (golden_manifests(stack), CONTEXT))
    monkeypatch.setattr(probe_run, "_wait_and_read", _fast(probe_run._wait_and_read))


def _fast(wait_and_read: Any) -> Any:
    """The real wait loop with a clock that advances by each sleep, so deadlines pass without waiting."""

    def wrapped(cluster: Any, namespace: str, name: str, wait: float, interval: float, sleep: Any, clock: Any) -> Any:
        now = [0.0]

        def advance(seconds: float) -> None:
            now[0] += seconds

        return wait_and_read(cluster, namespace, name, wait, interval, advance, lambda: now[0])

    return wrapped


def probe(cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    with serving_jobs(cluster) as url:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig.json", url, CONTEXT)
        code = main(["probe", "prod", "--peer", PEER, "--kubeconfig", str(kubeconfig), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_contained_ide_passes_and_the_job_is_gone(stack: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = Cluster(log="Python 3.13\n" + contained_log(), reads_until_done=3)
    code, out, err = probe(cluster, tmp_path, capsys)
    assert code == 0, out + err
    (sent,) = cluster.created
    name = sent["metadata"]["name"]
    assert sent == build_job(golden_manifests("prod"), TABLE, name)
    assert "all probes as expected" in out and f"Job coditect-app/{name}, Complete (Completed)" in out
    assert "metadata token" in out and "VERDICT" in out
    assert cluster.jobs == {} and cluster.pods == {}
    methods = [m for m, _ in cluster.requests]
    assert methods == ["POST", "GET", "GET", "GET", "GET", "GET", "DELETE"]  # create, 3 reads of the Job, pods, log, delete
    assert cluster.requests[-2] == ("GET", f"/api/v1/namespaces/coditect-app/pods/{name}-x7k2p/log")
    assert f"Job coditect-app/{name} deleted" in err


def test_a_probe_that_reaches_the_metadata_server_fails_the_run(stack: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = contained_log().replace(line("metadata token", "blocked", "timed out after 3s"), line("metadata token", "reached", "HTTP 200"))
    code, out, _ = probe(Cluster(log=log), tmp_path, capsys, "--json")
    assert code == 1
    document = json.loads(out)
    assert not document["ok"]
    wrong = [p for p in document["probes"] if p["verdict"] != "ok"]
    assert wrong == [
        {"name": "metadata token", "target": TABLE[0].target, "expected": "blocked", "observed": "reached", "detail": "HTTP 200", "verdict": "WRONG"}
    ]


def test_a_pod_that_never_runs_reports_why_and_the_job_is_still_deleted(stack: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = "0/3 nodes are available: 3 node(s) had untolerated taint {sandbox.gke.io/runtime: gvisor}"
    cluster = Cluster(reads_until_done=0, unschedulable=message)
    code, out, _ = probe(cluster, tmp_path, capsys, "--deadline", "20")
    assert code == 1
    assert f"not finished after 35 s; pod Pending, not scheduled: {message}" in out
    assert "11 of 11 probes not as expected" in out
    assert cluster.jobs == {} and cluster.requests[-1][0] == "DELETE"


@pytest.mark.parametrize(
    ("denied", "named", "deleted"),
    [
        (("create", "jobs"), 'RBAC verb "create" on resource "jobs" (apiGroup "batch") in namespace coditect-app', False),
        (("get", "pods/log"), 'RBAC verb "get" on resource "pods/log" (apiGroup "") in namespace coditect-app', True),
        (("list", "pods"), 'RBAC verb "list" on resource "pods" (apiGroup "") in namespace coditect-app', True),
    ],
)
def test_403_exits_no_access_naming_the_rbac_verb_and_resource(
    stack: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], denied: tuple[str, str], named: str, deleted: bool
) -> None:
    cluster = Cluster(log=contained_log(), forbidden={denied})
    code, out, err = probe(cluster, tmp_path, capsys)
    assert (code, out) == (EXIT_NO_ACCESS, "")
    assert f"no access: Kubernetes API denied a request; grant {named}" in err and "is forbidden: User" in err
    assert cluster.jobs == {} and (cluster.requests[-1][0] == "DELETE") is deleted


def test_kubernetes_api_unreachable(stack: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig.json", closed_port_url(), CONTEXT)
    code = main(["probe", "prod", "--peer", PEER, "--kubeconfig", str(kubeconfig)])
    assert code == 1
    assert "error: Kubernetes API at http://127.0.0.1:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments",
    [
        [],
        ["--peer", "10.52.1.9"],
        ["--peer", "10.52.1.9:0"],
        ["--peer", ":80"],
        ["--peer", PEER, "--registry", "http://registry.npmjs.org"],
        ["--peer", PEER, "--deadline", "5"],
        ["--peer", PEER, "--deadline", "x"],
        ["--peer", PEER, "--probe-timeout", "0"],
        ["--peer", PEER, "--probe-timeout", "30", "--deadline", "40"],
        ["--peer", PEER, "--image", "has space"],
    ],
)
def test_bad_arguments_exit_2(stack: None, capsys: pytest.CaptureFixture[str], arguments: list[str]) -> None:
    assert main(["probe", "prod", *arguments]) == 2
    assert not capsys.readouterr().out


def test_the_stack_is_rendered_by_the_program() -> None:
    from ops.program import ROOT

    manifests, context = probe_run.render_stack("prod", ROOT)
    assert (manifests, context) == (golden_manifests("prod"), CONTEXT)


def test_the_job_standin_is_strict(tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    cluster = Cluster()
    with serving_jobs(cluster) as url:
        for method, path in (
            ("GET", "/apis/batch/v1/namespaces/coditect-app/jobs"),
            ("GET", "/apis/batch/v1beta1/namespaces/coditect-app/jobs/x"),
            ("GET", "/api/v1/namespaces/coditect-app/pods/x"),
            ("DELETE", "/api/v1/namespaces/coditect-app/pods/x"),
            ("PUT", "/apis/batch/v1/namespaces/coditect-app/jobs/x"),
        ):
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(urllib.request.Request(url + path, method=method))
            assert error.value.code in (404, 405), (method, path)
    assert cluster.jobs == {}


def test_a_refused_connection_where_a_block_is_expected_fails_saying_the_path_is_open(stack: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused = line("kubelet 10250", "refused", "path open: connection refused (reset), only the port is closed")
    log = contained_log().replace(line("kubelet 10250", "blocked", "timed out after 3s"), refused)
    code, out, _ = probe(Cluster(log=log), tmp_path, capsys)
    assert code == 1
    assert "refused (path open" in out and "blocked (timed out after 3s)" in out  # each shown as what it is
    assert (
        "  - kubelet 10250: expected blocked, observed refused (path open: connection refused (reset), only the port is closed): "
        "the path is open, no policy blocks it" in out
    )
    assert "1 of " in out


@pytest.fixture
def dropping_port() -> Iterator[int]:
    """A loopback port that drops connection attempts, as a NetworkPolicy does: a listener whose accept
    queue is full (listen(0), one connection held, never accepted) lets Linux drop further SYNs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    held = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        yield port
    finally:
        held.close()
        server.close()


def test_the_script_tells_a_timeout_from_a_reset(dropping_port: int) -> None:
    """A destination that drops (a policy block) times out; one that resets (a closed port) is refused."""
    closed = int(closed_port_url().rsplit(":", 1)[1])
    table = (Probe("dropped", "tcp", "127.0.0.1", dropping_port, Expect.BLOCKED, ""), Probe("reset", "tcp", "127.0.0.1", closed, Expect.BLOCKED, ""))
    command = build_job(golden_manifests("prod"), table, NAME, probe_timeout=1)["spec"]["template"]["spec"]["containers"][0]["command"]
    done = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True, timeout=60, check=True, env={"PATH": "/usr/bin:/bin"})
    found = results(table, done.stdout)
    assert [(r.observed.outcome if r.observed else None, r.verdict) for r in found] == [("blocked", Verdict.AS_EXPECTED), ("refused", Verdict.WRONG)]
    assert found[0].observed == Observation("blocked", "timed out after 1s")
