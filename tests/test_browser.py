"""The real socket.io-client in headless Chromium through the lab (real nginx with the rendered site
config, python-socketio pods), loopback only; `ops verify`'s verdict must agree with the browser's."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ops.__main__ import main
from ops.verify import Options, verify
from ops.verify import browser as browser_module
from ops.verify.browser import BUNDLE, chromium_binary, run_browser
from tests.lab import Lab, nginx_binary

pytestmark = pytest.mark.lab  # real nginx, Socket.IO servers and Chromium: `make test-fast` skips them

CALLS = 5


def _require(missing: str | None) -> None:
    """Skip where a tool is missing locally; fail in CI, which installs it (.ci/run)."""
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing} (CI installs it: .ci/run)")
        pytest.skip(missing)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    _require(None if chromium_binary() else "Chromium is not installed: apt-get install chromium chromium-driver")
    _require(None if BUNDLE.is_file() else "socket.io-client is not installed: make node-lab")
    _require(None if nginx_binary() else "nginx is not installed: apt-get install nginx")
    lab = Lab(tmp_path_factory.mktemp("browser-lab"), backends=2, ping_interval=1).start()
    yield lab
    lab.stop()


@pytest.mark.parametrize(("setup", "connects"), [("fixed", True), ("incident", False), ("rr_upgrade", False)])
def test_the_browser_and_verify_agree(lab: Lab, setup: str, connects: bool) -> None:
    seen = run_browser(lab.url(setup), calls=CALLS, timeout=5.0)
    verdict = verify(Options(lab.url(setup), timeout=5.0))
    assert seen.ok is connects, seen.text()
    assert verdict.ok is seen.ok, verdict.text() + "\n" + seen.text()
    if connects:
        assert seen.connected and seen.upgraded and seen.transport == "websocket"
        assert seen.answered == CALLS and len(set(seen.pods)) == 1, seen.text()
    else:  # the namespace connect posted over polling reaches another pod: the browser's words for the 400
        assert not seen.connected and seen.answered == 0
        assert any(e["kind"] == "connect_error" and "xhr post error" in e["detail"] for e in seen.events), seen.text()


def test_a_lifetime_cap_cuts_the_socket_and_the_browser_reconnects_with_a_new_session(lab: Lab) -> None:
    """What users saw at 30 s: the load balancer ends the connection; socket.io-client reconnects, as a
    new session. `ops verify --hold` past the cap reports the cut."""
    seen = run_browser(lab.url("capped"), calls=1, timeout=5.0, hold=lab.cap * 2.5)
    assert seen.connected and seen.answered == 1, seen.text()
    assert any(e["kind"] == "disconnect" for e in seen.events), seen.text()
    assert len(seen.sessions) >= 2 and len(set(seen.sessions)) == len(seen.sessions), seen.text()
    verdict = verify(Options(lab.url("capped"), timeout=5.0, hold=lab.cap * 2))
    assert not verdict.ok, verdict.text()


def test_verify_browser_on_the_command_line(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", lab.url("fixed"), "--browser", "--timeout", "5"]) == 0
    out = capsys.readouterr().out
    assert "browser: PASS" in out and "upgrade: websocket" in out
    assert main(["verify", lab.url("incident"), "--browser", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "browser: FAIL" in out and "disagree" not in out


def test_without_chromium_the_message_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(browser_module, "chromium_binary", lambda: None)
    # An unreachable port: verify fails fast, then --browser explains what is missing instead of a traceback.
    assert main(["verify", "http://127.0.0.1:9/theia/socket.io/", "--browser", "--timeout", "1"]) == 1
    assert "--browser needs Chromium, which is not installed here. Fix: apt-get install chromium" in capsys.readouterr().err
