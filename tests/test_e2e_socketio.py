"""End to end, loopback only: `ops verify` against real nginx (the project's rendered site config)
in front of real python-socketio servers, behind load balancer stand-ins in broken and fixed forms."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ops.verify import UPGRADE_AFFINITY, UPGRADE_DROPPED, Check, CheckName, Layer, Options, Report, Session, verify
from ops.verify.protocol import SocketIOPacket, socketio_message
from tests.conftest import ROOT, stack_run
from tests.lab import Lab, nginx_binary, node_ready

pytestmark = pytest.mark.lab  # real nginx, Socket.IO servers and Chromium: `make test-fast` skips them

T = TypeVar("T")


# Started once per test session (per xdist worker: each worker starts its own, on free ports).
LAB_CAP_S = 1.5  # the stand-in for the load balancer's WebSocket lifetime: short, so holds past it are quick
LAB_PING_INTERVAL_S = 1  # short: a hold sees pings quickly and no poll waits long


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if nginx_binary() is None:
        message = "nginx is not installed: apt-get install nginx (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    lab = Lab(tmp_path_factory.mktemp("lab"), backends=2, cap=LAB_CAP_S, ping_interval=LAB_PING_INTERVAL_S).start()
    yield lab
    lab.stop()


def run(url: str, **options: Any) -> Report:
    return verify(Options(url, **({"timeout": 5.0} | options)))


def diagnosis(check: Check) -> str:
    """The diagnosis of a check that must have failed with one."""
    assert check.ok is False and check.diagnosis is not None, check
    return check.diagnosis


def in_parallel(*calls: Callable[[], T]) -> list[T]:
    """Independent verifications against the lab at once: their waits overlap instead of adding up."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


REFUSED_ADMIN = socketio_message(SocketIOPacket.CONNECT_ERROR, "/admin")  # "44/admin,": the app refused the namespace


def test_incident_setup_fails_with_the_right_diagnosis(lab: Lab) -> None:
    report = run(lab.url("incident"))
    assert not report.ok
    handshake, polling = report.check(CheckName.HANDSHAKE), report.check(CheckName.POLLING)
    assert handshake.ok, "a bare handshake passes from any pod: that is why it proves nothing"
    assert polling.layer == Layer.LOAD_BALANCER
    assert "round 1/10 POST #1: HTTP 400" in polling.detail and "Invalid session" in polling.detail
    assert "session affinity is not applied" in diagnosis(polling) and "Translation failed" in diagnosis(polling)
    assert sorted(report.pods[Session.POLLING]) == ["pod-1", "pod-2"]
    for name in (CheckName.WS_UPGRADE, CheckName.WS_ONLY):
        check = report.check(name)
        assert diagnosis(check) == UPGRADE_DROPPED and check.layer == Layer.NGINX_OR_LOAD_BALANCER, check


def test_fixed_setup_passes_every_check(lab: Lab) -> None:
    """(How fast: bench/socketio_load.py. A timed assertion here would fail on a loaded machine.)"""
    report = run(lab.url("fixed"))
    assert report.ok, report.text()
    assert [c.name for c in report.checks] == ["handshake", "polling", "ws_upgrade", "ws_only", "hold"]
    assert report.check(CheckName.POLLING).data["requests"] == 30
    assert report.check(CheckName.HOLD).ok is None
    # One pod served the whole session, polling and upgrade alike.
    assert len(report.pods[Session.POLLING]) == 1 and report.pods[Session.WEBSOCKET_UPGRADE] == report.pods[Session.POLLING]


def test_round_robin_with_upgrade_fails_polling_but_passes_websocket_only(lab: Lab) -> None:
    report = run(lab.url("rr_upgrade"))
    assert not report.ok
    assert "session affinity" in diagnosis(report.check(CheckName.POLLING))
    assert report.check(CheckName.WS_ONLY).ok is True
    upgrade = report.check(CheckName.WS_UPGRADE)
    if upgrade.ok is False:  # the upgrade lands on the other pod half of the time
        assert upgrade.diagnosis == UPGRADE_AFFINITY and upgrade.layer == Layer.LOAD_BALANCER


def test_affinity_is_real_one_pod_per_session_and_several_overall(lab: Lab) -> None:
    # 16 client IPs: all on one pod by chance has p = 2^-15
    reports = in_parallel(*(partial(run, lab.url("fixed"), source_address=f"127.0.{n}.1", polls=3) for n in range(1, 17)))
    seen: set[str] = set()
    for report in reports:
        assert report.ok, report.text()
        pods = {pod for session in report.pods.values() for pod in session}
        assert len(report.pods[Session.POLLING]) == 1 and pods == set(report.pods[Session.POLLING]), report.pods
        seen |= pods
    assert len(seen) >= 2, f"every client IP hashed to {seen}: affinity unproven"


def test_cookie_affinity_carries_the_load_balancer_cookie_into_the_websocket(lab: Lab) -> None:
    for _ in range(4):
        report = run(lab.url("cookie"), polls=3)
        assert report.ok, report.text()
        assert len({pod for session in report.pods.values() for pod in session}) == 1


def test_hold_longer_than_the_lifetime_cap_fails_shorter_passes(lab: Lab) -> None:
    cut, kept = in_parallel(partial(run, lab.url("capped"), hold=lab.cap + 1, polls=1), partial(run, lab.url("capped"), hold=lab.cap / 2, polls=1))
    hold = cut.check(CheckName.HOLD)
    assert hold.layer == Layer.LOAD_BALANCER_OR_NGINX
    assert lab.cap - 0.5 <= hold.data["closed_after_s"] <= lab.cap + 0.5
    assert "BackendConfig timeoutSec is the hard lifetime of a WebSocket" in diagnosis(hold)
    assert hold.data["closed_after_s"] < lab.cap + 1 and "pings answered" in hold.detail
    assert kept.ok, kept.text()
    assert kept.check(CheckName.HOLD).data["held_s"] >= lab.cap / 2


def test_hold_answers_server_pings_through_the_pod_nginx(lab: Lab) -> None:
    """Behind the fixed setup (no cap) a hold longer than pingInterval answers pings and survives."""
    report = run(lab.url("fixed"), hold=lab.ping_interval + 1.0, polls=1)
    assert report.ok, report.text()
    assert report.check(CheckName.HOLD).data["pings"] >= 1


def _official_client_connects(url: str, wait_timeout: float) -> tuple[bool, str]:
    import socketio

    client = socketio.Client(reconnection=False, request_timeout=3)
    try:
        client.connect(url.split("/theia/")[0], socketio_path="theia/socket.io", wait_timeout=wait_timeout)
        answer = client.call("whoami", timeout=3)
        client.disconnect()
        return True, str(answer)
    except Exception as error:
        return False, f"{type(error).__name__}: {error}"
    finally:
        if client.connected:
            client.disconnect()


def test_the_official_python_socketio_client_agrees(lab: Lab) -> None:
    # A failing connect lasts its whole wait; a working one takes ~0.1 s on loopback, so 1 s still tells them apart.
    with ThreadPoolExecutor(max_workers=4) as pool:
        good = pool.submit(_official_client_connects, lab.url("fixed"), 2.0)
        bad = pool.submit(_official_client_connects, lab.url("incident"), 1.0)
        fixed, incident = pool.submit(run, lab.url("fixed")), pool.submit(run, lab.url("incident"))
        connected, answer = good.result()
        assert connected and answer.startswith("backend-"), answer
        assert fixed.result().ok
        assert not bad.result()[0], "the official client connected through the incident setup"
        assert not incident.result().ok


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops", "verify", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_cli_exit_codes_and_json(lab: Lab) -> None:
    usages = (
        (("ftp://example.com/socket.io/",), "must be http(s)://"),
        ((lab.url("fixed"), "--polls", "0"), "--polls must be at least 1"),
        ((lab.url("fixed"), "--header", "no-colon"), "must look like 'Name: value'"),
        ((lab.url("fixed"), "--source-address", "nowhere"), "is not an IP address"),
    )
    good, bad, *refused = in_parallel(partial(cli, lab.url("fixed"), "--json"), partial(cli, lab.url("incident")), *(partial(cli, *args) for args, _ in usages))
    assert good.returncode == 0, good.stdout + good.stderr
    report = json.loads(good.stdout)
    assert report["ok"] is True and [c["name"] for c in report["checks"]][:4] == ["handshake", "polling", "ws_upgrade", "ws_only"]
    assert bad.returncode == 1 and "[FAIL] polling" in bad.stdout and "verdict: FAIL" in bad.stdout
    for usage, (_, message) in zip(refused, usages, strict=True):
        assert usage.returncode == 2 and message in usage.stderr and "Traceback" not in usage.stderr


def test_unreachable_host_is_a_clear_verdict() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens
    result = cli(f"http://127.0.0.1:{port}/theia/socket.io/", "--timeout", "2")
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "[FAIL] handshake: cannot connect" in result.stdout and "diagnosis (outside)" in result.stdout


def test_html_page_instead_of_engine_io(lab: Lab) -> None:
    report = run(f"http://127.0.0.1:{lab.ports['pod-1']}/ide/")
    handshake = report.check(CheckName.HANDSHAKE)
    assert handshake.ok is False and "an HTML page, not an Engine.IO open packet" in handshake.detail
    assert [c.ok for c in report.checks[1:]] == [None, None, None, None]


def test_hanging_server_times_out_with_a_verdict() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    try:
        start = time.monotonic()
        report = run(f"http://127.0.0.1:{server.getsockname()[1]}/theia/socket.io/", timeout=1.0)
        assert time.monotonic() - start < 3
        handshake = report.check(CheckName.HANDSHAKE)
        assert handshake.ok is False and "no answer within 1 s" in handshake.detail
    finally:
        for connection in accepted:
            connection.close()
        server.close()


def test_tls_error_is_a_clear_verdict(lab: Lab) -> None:
    report = run(f"https://127.0.0.1:{lab.ports['fixed']}/theia/socket.io/", timeout=2)
    handshake = report.check(CheckName.HANDSHAKE)
    assert handshake.ok is False and handshake.layer in (Layer.OUTSIDE, Layer.OUTSIDE_TLS), handshake
    assert "TLS" in handshake.detail or "SSL" in handshake.detail.upper()


def test_production_site_config_passes_nginx_t(tmp_path: Path) -> None:
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed")
    config_map = stack_run("prod").one("kubernetes:core/v1:ConfigMap", "nginx-config").inputs
    (tmp_path / "default.conf").write_text(config_map["data"]["default.conf"])
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n    include {tmp_path}/default.conf;\n}}\n")
    result = subprocess.run([binary, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", "stderr"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_namespace_the_app_refuses_still_proves_the_transport(lab: Lab) -> None:
    """python-socketio answers CONNECT to an unknown namespace with CONNECT_ERROR; the sid still travelled every time."""
    report = run(lab.url("fixed"), namespace="/admin", polls=3)
    assert report.ok, report.text()
    assert f"namespace refused by the app: '{REFUSED_ADMIN}" in report.check(CheckName.POLLING).detail
    assert report.check(CheckName.WS_ONLY).data["reply"].startswith(REFUSED_ADMIN)


def test_a_cut_at_the_default_timeout_is_named(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket cut near GKE's 30 s default points at the BackendConfig not being applied (scaled
    down here: the lab's cap stands for the default)."""
    from ops.verify import advice

    monkeypatch.setattr(advice, "GKE_DEFAULT_TIMEOUT_SEC", lab.cap)
    hold = run(lab.url("capped"), hold=lab.cap + 1, polls=1).check(CheckName.HOLD)
    expected = f"cut at ~{lab.cap} s, Compute's default backend timeout: the BackendConfig's timeoutSec is not applied"
    assert expected in diagnosis(hold)


# --- the same verdicts against socket.io on Node, the server the IDE runs ------------------------


@pytest.fixture(scope="session")
def node_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if nginx_binary() is None or not node_ready():
        message = "Node socket.io lab unavailable: needs nginx, node and `npm ci --prefix tests/node_lab` (make setup does it)"
        if os.environ.get("CI") and shutil.which("node"):
            pytest.fail(message)
        pytest.skip(message)
    lab = Lab(tmp_path_factory.mktemp("node-lab"), backends=2, cap=LAB_CAP_S, ping_interval=LAB_PING_INTERVAL_S, backend="node").start()
    yield lab
    lab.stop()


def test_node_incident_fails_on_session_id_unknown(node_lab: Lab) -> None:
    report = run(node_lab.url("incident"))
    polling = report.check(CheckName.POLLING)
    assert polling.ok is False and '{"code":1,"message":"Session ID unknown"}' in polling.detail
    assert "session affinity is not applied" in diagnosis(polling)
    assert diagnosis(report.check(CheckName.WS_ONLY)) == UPGRADE_DROPPED


def test_node_fixed_setup_passes_and_holds(node_lab: Lab) -> None:
    report = run(node_lab.url("fixed"), hold=1.0)
    assert report.ok, report.text()


def test_node_round_robin_with_upgrade(node_lab: Lab) -> None:
    report = run(node_lab.url("rr_upgrade"))
    assert report.check(CheckName.POLLING).ok is False and report.check(CheckName.WS_ONLY).ok is True


def test_node_lifetime_cap_cuts_the_hold(node_lab: Lab) -> None:
    hold = run(node_lab.url("capped"), hold=node_lab.cap + 1, polls=1).check(CheckName.HOLD)
    assert hold.ok is False and node_lab.cap - 0.5 <= hold.data["closed_after_s"] <= node_lab.cap + 0.5


def test_node_refused_namespace_keeps_the_session(node_lab: Lab) -> None:
    """Node closes a session on a DISCONNECT for a namespace it refused; verify must not send one."""
    report = run(node_lab.url("fixed"), namespace="/admin", polls=3)
    assert report.ok, report.text()
    assert REFUSED_ADMIN + '{"message":"Invalid namespace"}' in report.check(CheckName.POLLING).detail
