"""`ops verify` against hostile arguments and hostile servers (issue 11, class 2).

Bad arguments: exit 2 with one `error:` line, never a traceback, and whatever reaches a run is
finite and in range. Hostile servers (tests/hostile_server.py, loopback only): every run ends
within --timeout plus the WebSocket close wait and a small slack, fails with the layer and the
bound named, and stays under a fixed memory bound. No PASS without a server that earned it.
"""

from __future__ import annotations

import contextlib
import io
import math
import time
import tracemalloc
from collections.abc import Iterator
from unittest import mock
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livestate.bounds import MAX_BODY_BYTES
from ops.__main__ import main
from ops.verify import CheckName, Layer, Options, Report, verify
from ops.verify.options import MAX_HOLD_S, MAX_POLLS, MAX_TIMEOUT_S
from ops.verify.report import Check
from ops.verify.transport import WEBSOCKET_CLOSE_TIMEOUT_S
from tests.hostile_server import BEHAVIOURS, GOOD, Behaviour, HostileServer, answer_with, tls_trickle

SLACK_S = 0.75  # scheduling on a loaded two-core machine
MEMORY_BOUND = 16 * 2**20  # Python allocations during one run against a bomb or an endless body


def bound_s(timeout: float) -> float:
    """The longest a run against a hostile server may last: one step's deadline, closing one WebSocket, slack."""
    return timeout + WEBSOCKET_CLOSE_TIMEOUT_S + SLACK_S


def run_against(behaviour: Behaviour, timeout: float = 0.5, polls: int = 2, hold: float = 0.0) -> tuple[Report, float]:
    with HostileServer(behaviour) as server:
        start = time.monotonic()
        report = verify(Options(server.url(), timeout=timeout, polls=polls, hold=hold))
        return report, time.monotonic() - start


def failed(report: Report) -> Check:
    """The one check that failed; every check after it skipped or failed too, none passed vacuously."""
    failures = [c for c in report.checks if c.ok is False]
    assert failures and not report.ok, report.text()
    assert failures[0].layer is not None and failures[0].diagnosis, report.text()
    assert len(report.checks) == len(CheckName), report.text()
    return failures[0]


# --- hostile servers --------------------------------------------------------------------------------


def test_the_control_server_passes_every_check() -> None:
    report, _ = run_against(GOOD, hold=0.2)
    assert report.ok and all(c.ok for c in report.checks), report.text()


@pytest.mark.parametrize("name", sorted(BEHAVIOURS))
def test_every_hostile_server_fails_within_the_bound(name: str) -> None:
    report, took = run_against(BEHAVIOURS[name], timeout=0.5)
    check = failed(report)
    assert took <= bound_s(0.5), f"{name}: {took:.2f} s\n{report.text()}"
    assert "Traceback" not in report.text()
    if name.startswith(("poll:", "ws:")):  # hostile only from that step: the handshake before it earned its PASS
        assert report.check(CheckName.HANDSHAKE).ok is True, report.text()
    if name.startswith("ws:"):
        assert check.name in (CheckName.WS_UPGRADE, CheckName.WS_ONLY), report.text()


@settings(max_examples=12, deadline=None)
@given(name=st.sampled_from(sorted(BEHAVIOURS)), timeout=st.sampled_from([0.2, 0.4, 0.7]), polls=st.integers(1, 3), hold=st.sampled_from([0.0, 0.3]))
def test_hostile_servers_under_any_options_end_within_the_bound(name: str, timeout: float, polls: int, hold: float) -> None:
    report, took = run_against(BEHAVIOURS[name], timeout=timeout, polls=polls, hold=hold)
    failed(report)
    assert took <= bound_s(timeout) + hold, f"{name}: {took:.2f} s\n{report.text()}"


@pytest.mark.parametrize("name", ["http:trickle_headers", "http:trickle_body"])
def test_issue_trickle_with_timeout_2_ends_in_2_seconds(name: str) -> None:
    """Issue 11: with --timeout 2 a trickling server kept verify running past 75 s."""
    report, took = run_against(BEHAVIOURS[name], timeout=2.0)
    check = failed(report)
    assert took <= 2.0 + SLACK_S, took
    assert "not done by the deadline (--timeout)" in check.detail and check.layer == Layer.LOAD_BALANCER_NGINX_OR_APP
    assert ("response headers" if "headers" in name else "response body") in check.detail
    assert all(c.ok is None for c in report.checks[1:]) and "exceeded a bound" in report.checks[1].detail


@pytest.mark.parametrize("scheme", ["https", "wss"])
def test_a_trickled_tls_handshake_ends_at_the_deadline(scheme: str) -> None:
    """A TLS handshake is many reads: it ends at the step's deadline however slowly its bytes arrive."""
    with HostileServer(tls_trickle, raw=True) as server:
        start = time.monotonic()
        report = verify(Options(f"{scheme}://127.0.0.1:{server.port}/socket.io/", timeout=0.5, polls=1, insecure=True))
        took = time.monotonic() - start
    handshake = failed(report)
    assert handshake.name == CheckName.HANDSHAKE and took <= bound_s(0.5), f"{took:.2f} s\n{report.text()}"
    assert "no answer within 0.5 s" in handshake.detail and handshake.layer == Layer.OUTSIDE_TLS, report.text()


@contextlib.contextmanager
def peak_memory() -> Iterator[list[int]]:
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("name", "bound"),
    [
        ("http:endless_body", f"more than {MAX_BODY_BYTES} bytes (the cap on a response body)"),
        ("http:gzip_bomb", "decompressing the body more than"),
        ("http:deflate_bomb", "decompressing the body more than"),
        ("poll:endless_body", "the cap on a response body"),
        ("poll:gzip_bomb", "decompressing the body more than"),
        ("ws:oversized_frame", "a WebSocket message over the 1048576-byte cap"),
        ("ws:big_message", "a WebSocket message over the 1048576-byte cap"),
    ],
)
def test_issue_endless_bodies_and_bombs_stay_under_a_memory_bound(name: str, bound: str) -> None:
    """Issue 11: an endless body or a gzip bomb drove verify to gigabytes and a MemoryError."""
    with peak_memory() as peak:
        # A deadline far above the time the caps take: the subject is the memory bound, and under load a 0.5 s
        # step deadline ended the read before the cap did (a timeout instead of the bound's message).
        report, _ = run_against(BEHAVIOURS[name], timeout=10.0)
    assert bound in failed(report).detail, report.text()
    assert peak[0] < MEMORY_BOUND, f"{peak[0] / 2**20:.1f} MiB"


@pytest.mark.parametrize(
    ("field", "value"), [("sid", ""), ("pingInterval", True), ("pingTimeout", False), ("sid", None), ("upgrades", [None]), ("maxPayload", "1000000")]
)
def test_issue_open_packet_fields_need_their_exact_type(field: str, value: object) -> None:
    """Issue 11: an empty sid or `pingInterval: true` passed the handshake."""
    import json

    from tests.hostile_server import GOOD_OPEN

    report, _ = run_against(answer_with("0" + json.dumps(GOOD_OPEN | {field: value})))
    handshake = failed(report)
    assert handshake.name == CheckName.HANDSHAKE and "not an Engine.IO v4 open packet" in handshake.detail and field in handshake.detail


# --- hostile arguments ------------------------------------------------------------------------------


def run_cli(*args: str) -> tuple[int, str, str, list[Options]]:
    """`python -m ops verify ARGS` in this process, the network stubbed out: the options a run would get."""
    reached: list[Options] = []

    def stub(options: Options) -> Report:
        reached.append(options)
        return Report(options.url, [Check(CheckName.HANDSHAKE, True, "stub")])

    out, err = io.StringIO(), io.StringIO()
    with mock.patch("ops.verify.verify", stub), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["verify", *args])
    return code, out.getvalue(), err.getvalue(), reached


def assert_refused(code: int, err: str, reached: list[Options]) -> None:
    assert code == 2 and not reached, err
    assert err.startswith("error: ") and err.count("\n") == 1 and len(err) < 400, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ("http://127.0.0.1:0/socket.io/",),
        ("http://127.0.0.1:65536/socket.io/",),
        ("http://127.0.0.1:70000/socket.io/",),
        ("http://127.0.0.1:-1/socket.io/",),
        ("http://[::1/socket.io/",),
        ("http://bücher.example/socket.io/",),
        ("http://\u0130.example/socket.io/",),
        ("http://xn--a.example/\x00",),
        ("http:///socket.io/",),
        ("gopher://host/socket.io/",),
        ("--hold=nan", "http://127.0.0.1:1/"),
        ("--hold=inf", "http://127.0.0.1:1/"),
        ("--timeout=nan", "http://127.0.0.1:1/"),
        ("--timeout=-inf", "http://127.0.0.1:1/"),
        ("--timeout=0", "http://127.0.0.1:1/"),
        ("--polls=0", "http://127.0.0.1:1/"),
        ("--polls=" + "9" * 5000, "http://127.0.0.1:1/"),
        ("--header=X-Name: é", "http://127.0.0.1:1/"),
        ("--header=Ünïcode: x", "http://127.0.0.1:1/"),
        ("--header=X: a\r\nInjected: 1", "http://127.0.0.1:1/"),
        ("--namespace=/a,b", "http://127.0.0.1:1/"),
        ("--pod-header=Bad Header", "http://127.0.0.1:1/"),
        ("http://127.0.0.1:1/" + "x" * 10_000_000,),
    ],
)
def test_issue_bad_arguments_are_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    """Issue 11: wrapped ports, `--hold nan`, a Unicode host, `[::1`, a non-ASCII --header, `--timeout nan`."""
    code, _, err, reached = run_cli(*args)
    assert_refused(code, err, reached)


def test_issue_hold_nan_no_longer_passes_after_holding_nothing() -> None:
    code, _, err, _ = run_cli("--hold=nan", "http://127.0.0.1:1/")
    assert code == 2 and "--hold must be a finite number" in err


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e309", "0", "1_000", " 5 ", "0x10", "", "NaN", "+3", "4.0"]),
    st.text(max_size=12),
)
HOSTS = st.one_of(
    st.sampled_from(
        [
            "127.0.0.1",
            "[::1]",
            "[::1",
            "::1]",
            "localhost",
            "bücher.de",
            "-a.b",
            "a..b",
            "999.1.1.1",
            "a" * 64 + ".com",
            "[fe80::1%25eth0]",
            "",
            "xn--bcher-kva.de",
            "exa mple.com",
            "user@host",
            "[]",
        ]
    ),
    st.text(max_size=15),
)
PORTS = st.one_of(st.none(), st.integers(-5, 70_000).map(str), st.sampled_from(["", "0", "65535", "65536", "x", "1e3", "٣"]))
SCHEMES = st.sampled_from(["http", "https", "ws", "wss", "ftp", "", "HTTP", "javascript"])
HEADERS = st.one_of(st.text(max_size=30), st.sampled_from(["X: é", "é: x", "X: a\r\nY: b", ":", "Name:", "X-Ok: fine", "X\x00: y"]))


@st.composite
def urls(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.text(max_size=40))
    port = draw(PORTS)
    return f"{draw(SCHEMES)}://{draw(HOSTS)}{'' if port is None else ':' + port}/{draw(st.text(max_size=8))}"


@settings(max_examples=300, deadline=None)
@given(url=urls(), polls=NUMBERS, hold=NUMBERS, timeout=NUMBERS, headers=st.lists(HEADERS, max_size=3), namespace=st.text(max_size=10))
def test_any_arguments_are_refused_in_one_line_or_reach_the_run_in_range(
    url: str, polls: str, hold: str, timeout: str, headers: list[str], namespace: str
) -> None:
    args = [f"--polls={polls}", f"--hold={hold}", f"--timeout={timeout}", f"--namespace={namespace}", *(f"--header={h}" for h in headers), "--", url]
    code, _, err, reached = run_cli(*args)
    if code != 0:
        assert_refused(code, err, reached)
        return
    (options,) = reached
    parts = urlsplit(options.url)
    assert parts.scheme in ("http", "https", "ws", "wss") and parts.hostname and parts.hostname.isascii()
    assert parts.port is None or 1 <= parts.port <= 65535
    assert isinstance(options.polls, int) and 1 <= options.polls <= MAX_POLLS
    assert math.isfinite(options.hold) and 0 <= options.hold <= MAX_HOLD_S
    assert math.isfinite(options.timeout) and 0 < options.timeout <= MAX_TIMEOUT_S
    assert all(name.isascii() and value.isascii() and "\r" not in value and "\n" not in value for name, value in options.headers)
