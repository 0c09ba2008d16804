"""`ops verify URL --browser`: the real `socket.io-client` in headless Chromium, against the endpoint.

`verify` emulates a client; users run socket.io-client in a browser, which posts the namespace
connect over polling before upgrading, reconnects with backoff and reports `xhr post error` or
`transport error` rather than HTTP codes. This module serves a small page on loopback (the pinned
client bundle from tests/node_lab, installed by `make setup`), opens it in Chromium, and collects
what the page reports back: connected, transport reached, `whoami` calls answered and by which pod,
errors and disconnects with timestamps, plus the browser's console lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from ops.program import ROOT

BUNDLE = ROOT / "tests" / "node_lab" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# No GPU, no QUIC, nothing fetched in the background, a fresh profile: only the page's own traffic.
# Web security off so a page on loopback may talk to any endpoint (the IDE serves its page same-origin).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-web-security", "--enable-logging=stderr", "--v=0")
MAX_RESULT_BYTES = 1 << 20
MAX_CONSOLE_LINES = 200


class BrowserUnavailable(Exception):
    """Chromium or the pinned client bundle is not installed; the message says how to install it."""


@dataclass
class BrowserReport:
    url: str
    connected: bool = False
    transport: str | None = None  # the transport the session ended on: polling or websocket
    upgraded: bool = False
    calls: int = 0
    answered: int = 0
    pods: list[str] = field(default_factory=list)  # who answered each call, in order
    sessions: list[str] = field(default_factory=list)  # the Socket.IO session of every connect: more than one is a reconnect
    events: list[dict[str, Any]] = field(default_factory=list)  # {at: seconds, kind, detail}
    console: list[str] = field(default_factory=list)
    problem: str | None = None  # the page never reported back

    @property
    def ok(self) -> bool:
        return self.problem is None and self.connected and self.upgraded and self.answered == self.calls and len(set(self.pods)) <= 1

    def text(self) -> str:
        verdict = "PASS" if self.ok else "FAIL"
        pods = ", ".join(sorted(set(self.pods))) or "none"
        lines = [f"browser: {verdict}  connected={self.connected} transport={self.transport} upgraded={self.upgraded} "
                 f"calls answered {self.answered}/{self.calls} pods: {pods}"]
        if self.problem:
            lines.append(f"  problem: {self.problem}")
        lines += [f"  {event['at']:7.3f} s  {event['kind']}: {event['detail']}" for event in self.events]
        lines += [f"  console: {line}" for line in self.console]
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok}, indent=2)


def chromium_binary() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def _page(url: str, calls: int, timeout: float, hold: float = 0.0) -> bytes:
    parts = urlsplit(url)
    config = {"origin": f"{parts.scheme}://{parts.netloc}", "path": parts.path or "/socket.io/", "calls": calls,
              "timeoutMs": int(timeout * 1000), "upgradeWaitMs": 3000, "maxConnectErrors": 3, "holdMs": int(hold * 1000)}
    script = """
const cfg = CONFIG, t0 = performance.now(), events = [];
const result = {connected: false, transport: null, upgraded: false, calls: cfg.calls, answered: 0, pods: [], sessions: [], events};
let finished = false, calling = false, connectErrors = 0;
const log = (kind, detail) => { events.push({at: (performance.now() - t0) / 1000, kind, detail: String(detail)});
                                console.log(`[verify] ${kind}: ${detail}`); };
const finish = () => { if (finished) return; finished = true;
  result.transport = socket.io.engine ? socket.io.engine.transport.name : null;
  fetch("/result", {method: "POST", body: JSON.stringify(result)}); };
const runCalls = async () => { if (calling) return; calling = true;
  for (let i = 0; i < cfg.calls; i++) {
    try { result.pods.push(String(await socket.timeout(cfg.timeoutMs).emitWithAck("whoami"))); result.answered++; }
    catch (e) { log("call unanswered", e.message); }
  }
  // With a hold, stay connected (through any cut and reconnect) before reporting.
  if (cfg.holdMs > 0) setTimeout(finish, cfg.holdMs); else finish(); };
const socket = io(cfg.origin, {path: cfg.path, transports: ["polling", "websocket"], reconnectionDelay: 300,
                               reconnectionDelayMax: 1000, timeout: cfg.timeoutMs});
// Listen for the upgrade from the engine's open on: it can complete before the namespace's connect event.
socket.io.on("open", () => socket.io.engine.on("upgrade", (transport) => {
  result.upgraded = true; log("upgrade", transport.name); if (result.connected) runCalls(); }));
socket.on("connect", () => {
  result.connected = true;
  result.sessions.push(socket.id);
  const engine = socket.io.engine;
  log("connect", `sid ${socket.id} over ${engine.transport.name}`);
  if (result.upgraded) runCalls();
  setTimeout(() => { if (!result.upgraded) { log("no upgrade", `still ${engine.transport.name} after ${cfg.upgradeWaitMs} ms`); runCalls(); } },
             cfg.upgradeWaitMs);
});
socket.on("connect_error", (e) => { log("connect_error", e.message + (e.description ? ` (${e.description.message || e.description})` : ""));
                                    if (++connectErrors >= cfg.maxConnectErrors && !result.connected) finish(); });
socket.on("disconnect", (reason) => log("disconnect", reason));
socket.io.on("reconnect_attempt", (n) => log("reconnect attempt", n));
setTimeout(finish, cfg.timeoutMs * 2 + cfg.holdMs);
""".replace("CONFIG", json.dumps(config))
    return (f'<!doctype html><meta charset="utf-8"><title>ops verify --browser</title>'
            f'<script src="/socket.io.min.js"></script><script>{script}</script>').encode()


class _PageServer(ThreadingHTTPServer):
    def __init__(self, page: bytes, bundle: bytes) -> None:
        self.page, self.bundle = page, bundle
        self.result: dict[str, Any] | None = None
        self.reported = threading.Event()
        super().__init__(("127.0.0.1", 0), _PageHandler)


class _PageHandler(BaseHTTPRequestHandler):
    server: _PageServer

    def do_GET(self) -> None:
        body, kind = (self.server.bundle, "text/javascript") if self.path == "/socket.io.min.js" else (self.server.page, "text/html")
        self._answer(200 if self.path in ("/", "/socket.io.min.js") else 404, body, kind)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.path == "/result" and 0 < length <= MAX_RESULT_BYTES:
            try:
                self.server.result = json.loads(self.rfile.read(length))
            except ValueError:
                self.server.result = None
            self.server.reported.set()
        self._answer(204, b"", "text/plain")

    def _answer(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """The page's requests are not the report."""


def _console_lines(stderr: str) -> list[str]:
    """Chromium's console messages (`...:CONSOLE(n)] "text", source: ...`), the lines the write-up tells users to look for."""
    lines = [line.split("] ", 1)[-1] for line in stderr.splitlines() if ":CONSOLE" in line]
    return [line for line in lines if not line.startswith('"[verify] ')][:MAX_CONSOLE_LINES]  # the page's own lines are the events


def run_browser(url: str, calls: int = 10, timeout: float = 10.0, hold: float = 0.0) -> BrowserReport:
    """Open the page in headless Chromium and return what the browser saw; BrowserUnavailable without Chromium or the bundle.
    With `hold`, the page stays connected that long after its calls, through any cut and reconnect."""
    binary = chromium_binary()
    if binary is None:
        raise BrowserUnavailable("--browser needs Chromium, which is not installed here. Fix: apt-get install chromium chromium-driver "
                                 "(Debian), or run `python -m ops verify` without --browser")
    if not BUNDLE.is_file():
        raise BrowserUnavailable(f"--browser needs the pinned socket.io-client ({BUNDLE.relative_to(ROOT)}). Fix: make node-lab "
                                 "(npm ci --prefix tests/node_lab)")
    server = _PageServer(_page(url, calls, timeout, hold), BUNDLE.read_bytes())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    report = BrowserReport(url, calls=calls)
    with tempfile.TemporaryDirectory(prefix="ops-verify-browser-") as profile, tempfile.TemporaryFile("w+") as stderr:
        browser = subprocess.Popen([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"http://127.0.0.1:{server.server_address[1]}/"],
                                   stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        try:
            if not server.reported.wait(timeout * 3 + hold + 10):
                report.problem = f"the page reported nothing within {timeout * 3 + hold + 10:g} s (Chromium failed to start or the page hung)"
        finally:
            _stop(browser)
            server.shutdown()
            server.server_close()
        stderr.seek(0)
        report.console = _console_lines(stderr.read())
    if server.result is not None:
        found = server.result
        report.connected, report.transport, report.upgraded = bool(found.get("connected")), found.get("transport"), bool(found.get("upgraded"))
        report.answered, report.pods = int(found.get("answered", 0)), [str(pod) for pod in found.get("pods", [])]
        report.sessions = [str(sid) for sid in found.get("sessions", [])]
        report.events = [event for event in found.get("events", []) if isinstance(event, dict)]
    elif report.problem is None:
        report.problem = "the page's report was not valid JSON"
    return report


def _stop(browser: subprocess.Popen[bytes]) -> None:
    """Chromium and its helper processes: the process group it was started in, and only that."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(browser.pid, sig)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            browser.wait(wait)
            return
