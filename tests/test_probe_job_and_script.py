"""`python -m ops probe`, offline parts: the Job (from the prod golden render), the in-pod script
(run here, on loopback) and the report parsing and verdicts (issue 15, part 5)."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ops.errors import UsageError
from ops.probe.job import CONTAINER, PROBE_LABEL, build_job
from ops.probe.report import Observation, Result, Verdict, parse_log, results, text
from ops.probe.script import LINE_PREFIX
from ops.probe.table import Expect, Probe
from tests.probe_helpers import NAME, PEER, TABLE, contained_log, ide_template, job, line, selects
from tests.standin.harness import closed_port_url, golden_manifests
from tests.standin.world import NAMESPACE

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


# --- the script tells a drop from a reset ----------------------------------------------------------


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
