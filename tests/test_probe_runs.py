"""`python -m ops probe`, whole runs through the real `kubernetes` client against a strict stand-in
that simulates the Job's lifecycle and its pod's log (issue 15, part 5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ops.probe.run as probe_run
from ops.__main__ import main
from ops.errors import EXIT_NO_ACCESS
from ops.probe.job import build_job
from tests.probe_helpers import PEER, TABLE, contained_log, line
from tests.standin.harness import closed_port_url, golden_manifests
from tests.standin.jobs import Cluster, serving_jobs
from tests.standin.servers import write_kubeconfig
from tests.standin.world import CONTEXT

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
