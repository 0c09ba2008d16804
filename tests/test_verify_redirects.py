"""`ops verify` and redirects (issue 19, class 6): never followed, always named with the URL to verify instead.

Real components: httpx over the bounded transport and websockets' client against loopback servers
(tests/hostile_server.py). A redirect's target is a second server that counts what reaches it: a
redirect followed silently shows there as a request, and a PASS it earned for the endpoint.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops.__main__ import main
from ops.verify import CheckName, Layer, Options, Report, verify
from ops.verify.advice import endpoint_url, origin
from ops.verify.report import Check
from tests.hostile_server import GOOD, Behaviour, Connection, HostileServer, Request

STATUSES = [301, 302, 303, 307, 308]
REASONS = {300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect"}


@dataclass
class Counted:
    """A behaviour that notes every request it answers: a target that must see none."""

    behaviour: Behaviour
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, conn: Connection, request: Request) -> bool:
        with self.lock:
            self.requests.append(request)
        return self.behaviour(conn, request)


def redirecting(status: int, location: str | None, at: str) -> Behaviour:
    """A correct Engine.IO server that answers `at` ('handshake' or 'websocket') with `status` to `location`."""

    def answer(conn: Connection, request: Request) -> bool:
        hit = request.is_handshake if at == "handshake" else request.is_websocket
        if not hit:
            return GOOD(conn, request)
        headers = {"Location": location} if location is not None else {}
        conn.respond("", f"{status} {REASONS[status]}", headers)
        return False

    return answer


@contextlib.contextmanager
def target_server() -> Iterator[tuple[HostileServer, Counted]]:
    counted = Counted(GOOD)  # a correct endpoint: following the redirect there would pass every check
    with HostileServer(counted) as server:
        yield server, counted


def the_failure(report: Report) -> Check:
    failures = [c for c in report.checks if c.ok is False]
    assert failures and not report.ok, report.text()
    return failures[0]


# --- regressions: the issue's examples --------------------------------------------------------------


def test_issue_a_websocket_upgrade_redirected_to_another_origin_is_not_followed() -> None:
    """Issue 19: verify followed it and reported PASS for a socket it never opened on the endpoint."""
    with target_server() as (target, seen):
        location = target.url("/socket.io/") + "?EIO=4&transport=websocket"
        with HostileServer(redirecting(302, location.replace("http://", "ws://"), "websocket")) as endpoint:
            report = verify(Options(endpoint.url(), timeout=1.0, polls=1))
    upgrade, only = report.check(CheckName.WS_UPGRADE), report.check(CheckName.WS_ONLY)
    for check in (upgrade, only):
        assert check.ok is False and "HTTP 302 redirected to ws://127.0.0.1:" in check.detail, report.text()
        assert check.layer == Layer.LOAD_BALANCER_OR_NGINX and "another origin" in (check.diagnosis or "")
        assert f"verify that URL: python -m ops verify http://127.0.0.1:{target.port}/socket.io/" in (check.diagnosis or "")
        assert "never follows a redirect" in (check.diagnosis or "")
    assert seen.requests == [], "the redirect was followed"
    assert report.check(CheckName.HANDSHAKE).ok and report.check(CheckName.POLLING).ok


def test_issue_http_to_https_301_says_verify_the_https_url() -> None:
    """Issue 19: the load balancer's redirectToHttps was diagnosed as 'the Socket.IO server refused the handshake'."""
    with HostileServer(redirecting(301, "https://127.0.0.1/theia/socket.io/?EIO=4&transport=polling&t=abc", "handshake")) as endpoint:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["verify", endpoint.url("/theia/socket.io/"), "--timeout", "1", "--polls", "1"])
    printed = out.getvalue()
    assert code == 1, printed
    assert "[FAIL] handshake: GET: HTTP 301 redirected to https://127.0.0.1/theia/socket.io/?EIO=4&transport=polling&t=abc" in printed
    assert "diagnosis (load balancer): the endpoint redirects plain HTTP to HTTPS" in printed
    assert "Fix: verify that URL: python -m ops verify https://127.0.0.1/theia/socket.io/" in printed
    assert "refused the handshake" not in printed and "verdict: FAIL" in printed


def test_a_redirect_without_location_is_named_too() -> None:
    with HostileServer(redirecting(302, None, "handshake")) as endpoint:
        report = verify(Options(endpoint.url(), timeout=1.0, polls=1))
    handshake = the_failure(report)
    assert handshake.name == CheckName.HANDSHAKE and "HTTP 302 without a Location header" in handshake.detail


def test_a_redirect_mid_session_fails_that_request() -> None:
    """A polling request (sid-carrying) redirected: the polling check fails naming it, no later check follows it."""

    def answer(conn: Connection, request: Request) -> bool:
        if "sid" in request.query and not request.is_websocket:
            conn.respond("", "307 Temporary Redirect", {"Location": "/elsewhere/"})
            return False
        return GOOD(conn, request)

    with HostileServer(answer) as endpoint:
        report = verify(Options(endpoint.url(), timeout=1.0, polls=1))
    polling = the_failure(report)
    assert polling.name == CheckName.POLLING and "HTTP 307 redirected to http://127.0.0.1:" in polling.detail
    assert "/elsewhere/" in polling.detail and "another path" in (polling.diagnosis or "")


def test_a_control_endpoint_still_passes() -> None:
    """The valid case: a server that redirects nothing passes every check (the fix refuses redirects, not answers)."""
    with HostileServer(GOOD) as endpoint:
        report = verify(Options(endpoint.url(), timeout=1.0, polls=1))
    assert report.ok, report.text()


# --- generated: every redirect status x where x which origin x scheme --------------------------------


@st.composite
def redirects(draw: st.DrawFn) -> tuple[int, str, str, str]:
    """(status, where it is answered, the kind of target, the scheme of the URL given to verify)."""
    return (
        draw(st.sampled_from(STATUSES)),
        draw(st.sampled_from(["handshake", "websocket"])),
        draw(st.sampled_from(["other-origin", "same-origin-path", "relative", "https-same-host", "other-scheme-ws"])),
        draw(st.sampled_from(["http", "ws"])),
    )


def location_for(kind: str, target: HostileServer, endpoint_port: int) -> str:
    return {
        "other-origin": target.url("/socket.io/") + "?EIO=4",
        "same-origin-path": f"http://127.0.0.1:{endpoint_port}/moved/socket.io/",
        "relative": "/moved/socket.io/?x=1",
        "https-same-host": "https://127.0.0.1/socket.io/",
        "other-scheme-ws": f"ws://127.0.0.1:{target.port}/socket.io/",
    }[kind]


@settings(max_examples=15, deadline=None)
@given(case=redirects())
def test_no_redirect_is_followed_and_each_names_its_target(case: tuple[int, str, str, str]) -> None:
    status, at, kind, scheme = case
    with target_server() as (target, seen):
        endpoint = HostileServer(GOOD)  # its port is needed for the same-origin Location, before its behaviour
        endpoint.behaviour = redirecting(status, location_for(kind, target, endpoint.port), at)
        with endpoint:
            report = verify(Options(endpoint.url().replace("http://", f"{scheme}://", 1), timeout=1.0, polls=1))
    failure = the_failure(report)
    assert failure.name == (CheckName.HANDSHAKE if at == "handshake" else CheckName.WS_UPGRADE), report.text()
    assert f"HTTP {status} redirected to " in failure.detail and "(not followed)" in failure.detail
    location = failure.data["location"]
    assert f"verify that URL: python -m ops verify {endpoint_url(location)}" in (failure.diagnosis or "")
    if origin(location) != origin(endpoint.url()):
        assert "another origin" in (failure.diagnosis or "") or "HTTP to HTTPS" in (failure.diagnosis or "")
    assert seen.requests == [], f"followed to {location}"
    if at == "websocket":
        assert report.check(CheckName.WS_ONLY).ok is False and "never follows a redirect" in (failure.diagnosis or "")
    assert not any(c.ok for c in report.checks if c.name in (CheckName.WS_UPGRADE, CheckName.WS_ONLY))


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("https://h/theia/socket.io/?EIO=4&transport=polling&t=x", "https://h/theia/socket.io/"),
        ("wss://h:8443/socket.io/?token=a&EIO=4&transport=websocket&sid=s", "https://h:8443/socket.io/?token=a"),
        ("http://h/p/", "http://h/p/"),
    ],
)
def test_the_url_to_verify_drops_only_what_verify_adds(given_url: str, expected: str) -> None:
    assert endpoint_url(given_url) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://h/x", "ws://h:80/y", True),
        ("https://h/", "wss://H:443/", True),
        ("http://h/", "https://h/", False),
        ("http://h:1/", "http://h:2/", False),
        ("http://h/", "http://g/", False),
        ("http://h/", "http://h:bad/", False),
    ],
)
def test_same_origin_is_scheme_host_and_port(a: str, b: str, same: bool) -> None:
    assert (origin(a) == origin(b)) is same
