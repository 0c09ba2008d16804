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
import math
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from ops.errors import clip
from ops.program import ROOT
from ops.terminal import fold

BUNDLE = ROOT / "tests" / "node_lab" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# No GPU, no QUIC, nothing fetched in the background, a fresh profile: only the page's own traffic.
# Web security off so a page on loopback may talk to any endpoint (the IDE serves its page same-origin).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-web-security",
    "--enable-logging=stderr",
    "--v=0",
)
MAX_RESULT_BYTES = 1 << 20
MAX_CONSOLE_LINES = 200
MAX_EVENTS = 1000
MAX_LISTED = 10_000  # pods, sessions: more than any run's calls or reconnects
MAX_FIELD_CHARS = 2000
TOKEN_HEADER = "X-Ops-Verify-Token"  # the page's proof that a result is its own (see _PageHandler.do_POST)
MAX_REFUSALS_SHOWN = 3


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
    problem: str | None = None  # the page never reported back, or its result was malformed
    refused: list[str] = field(default_factory=list)  # results posted without this run's token: forged, or a redirect to the result server

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.refused and self.connected and self.upgraded and self.answered == self.calls and len(set(self.pods)) <= 1

    def text(self) -> str:
        # What the page, the endpoint and Chromium reported is folded onto one line per field (ops/terminal.py).
        verdict = "PASS" if self.ok else "FAIL"
        pods = ", ".join(sorted(set(map(fold, self.pods)))) or "none"
        lines = [
            f"browser: {verdict}  connected={self.connected} transport={fold(self.transport)} upgraded={self.upgraded} "
            f"calls answered {self.answered}/{self.calls} pods: {pods}"
        ]
        if self.problem:
            lines.append(f"  problem: {fold(self.problem)}")
        if self.refused:
            lines.append(
                f"  refused {len(self.refused)} result(s) not from this run's page (no or a wrong token; forged, or the endpoint "
                f"redirected a request to the result server): {'; '.join(map(fold, self.refused[:MAX_REFUSALS_SHOWN]))}"
            )
        lines += [f"  {event['at']:7.3f} s  {fold(event['kind'])}: {fold(event['detail'])}" for event in self.events]
        lines += [f"  console: {fold(line)}" for line in self.console]
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok}, indent=2)


def chromium_binary() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def _page(url: str, calls: int, timeout: float, hold: float = 0.0, token: str = "") -> bytes:
    """The page: the token is in its script only, never in a URL (a Referer would hand it to the endpoint)."""
    parts = urlsplit(url)
    config = {
        "token": token,
        "origin": f"{parts.scheme}://{parts.netloc}",
        "path": parts.path or "/socket.io/",
        "calls": calls,
        "timeoutMs": int(timeout * 1000),
        "upgradeWaitMs": 3000,
        "maxConnectErrors": 3,
        "holdMs": int(hold * 1000),
    }
    script = """
const cfg = CONFIG, t0 = performance.now(), events = [];
const result = {connected: false, transport: null, upgraded: false, calls: cfg.calls, answered: 0, pods: [], sessions: [], events};
let finished = false, calling = false, connectErrors = 0;
const log = (kind, detail) => { events.push({at: (performance.now() - t0) / 1000, kind, detail: String(detail)});
                                console.log(`[verify] ${kind}: ${detail}`); };
const finish = () => { if (finished) return; finished = true;
  result.transport = socket.io.engine ? socket.io.engine.transport.name : null;
  fetch("/result", {method: "POST", headers: {"Content-Type": "application/json", "TOKEN_HEADER": cfg.token},
                    body: JSON.stringify(result)}); };
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
""".replace("CONFIG", json.dumps(config)).replace("TOKEN_HEADER", TOKEN_HEADER)
    return (
        f'<!doctype html><meta charset="utf-8"><title>ops verify --browser</title><script src="/socket.io.min.js"></script><script>{script}</script>'
    ).encode()


class _PageServer(ThreadingHTTPServer):
    """The page and its bundle, and the one result the page posts with this run's token; every other POST refused."""

    def __init__(self, page: bytes, bundle: bytes, token: str) -> None:
        self.page, self.bundle, self.token = page, bundle, token
        self.result: Any = None  # the accepted result's JSON, judged by parse_result
        self.refused: list[str] = []
        self.lock = threading.Lock()
        self.reported = threading.Event()
        super().__init__(("127.0.0.1", 0), _PageHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A broken request ends its connection; no traceback reaches the user's terminal."""

    def refuse(self, why: str) -> None:
        with self.lock:
            if len(self.refused) < MAX_EVENTS:
                self.refused.append(why)


class _PageHandler(BaseHTTPRequestHandler):
    server: _PageServer

    def do_GET(self) -> None:
        body, kind = (self.server.bundle, "text/javascript") if self.path == "/socket.io.min.js" else (self.server.page, "text/html")
        self._answer(200 if self.path in ("/", "/socket.io.min.js") else 404, body, kind)

    def do_POST(self) -> None:
        """A result counts only with this run's token, from the page's own origin, once. The endpoint can redirect
        the page's requests here (307 keeps a POST's body) but cannot read the token from the page's script."""
        server = self.server
        presented = self.headers.get(TOKEN_HEADER) or ""
        origin = self.headers.get("Origin")
        own = f"http://127.0.0.1:{server.server_address[1]}"
        if self.path != "/result" or not secrets.compare_digest(presented.encode(), server.token.encode()) or origin not in (None, own):
            server.refuse(f"POST {clip(self.path, 80)} from origin {clip(str(origin), 80)}")
            self._answer(403, b"", "text/plain")
            return
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            length = -1
        if not 0 < length <= MAX_RESULT_BYTES or server.reported.is_set():
            server.refuse(f"a result of {length} bytes" if not server.reported.is_set() else "a second result")
            self._answer(400, b"", "text/plain")
            return
        body = self.rfile.read(length)
        try:
            server.result = json.loads(body)
        except (ValueError, RecursionError):
            server.result = _MALFORMED
        server.reported.set()
        self._answer(204, b"", "text/plain")

    def _answer(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """The page's requests are not the report."""


_MALFORMED = object()  # a tokened result that was not JSON


def _typed(found: dict[str, Any], key: str, kind: type) -> Any:
    """found[key] when it is a `kind` (True is no int here); ValueError naming the key otherwise."""
    value = found.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValueError(f"{key} is {clip(repr(value), 60)}, not {kind.__name__}")
    return value


def _strings(found: dict[str, Any], key: str) -> list[str]:
    values = _typed(found, key, list)
    if len(values) > MAX_LISTED or not all(isinstance(v, str) and len(v) <= MAX_FIELD_CHARS for v in values):
        raise ValueError(f"{key} is not a list of at most {MAX_LISTED} strings of at most {MAX_FIELD_CHARS} characters")
    return values


def _events(found: dict[str, Any]) -> list[dict[str, Any]]:
    events = _typed(found, "events", list)
    if len(events) > MAX_EVENTS:
        raise ValueError(f"events holds {len(events)} entries, more than {MAX_EVENTS}")
    for event in events:
        at = event.get("at") if isinstance(event, dict) else None
        if (
            not isinstance(event, dict)
            or isinstance(at, bool)
            or not isinstance(at, int | float)
            or not math.isfinite(at)
            or not all(isinstance(event.get(k), str) and len(event[k]) <= MAX_FIELD_CHARS for k in ("kind", "detail"))
        ):
            raise ValueError(f"an event {clip(repr(event), 60)} is not {{at: seconds, kind: text, detail: text}}")
    return [{"at": float(e["at"]), "kind": e["kind"], "detail": e["detail"]} for e in events]


def parse_result(found: Any, report: BrowserReport) -> None:
    """The page's result into `report`, every field of its exact type and bounded; ValueError naming the first that is not."""
    if not isinstance(found, dict):
        raise ValueError(f"the result is {type(found).__name__}, not the page's JSON object")
    connected, upgraded = _typed(found, "connected", bool), _typed(found, "upgraded", bool)
    transport = found.get("transport")
    if transport not in (None, "polling", "websocket"):
        raise ValueError(f"transport is {clip(repr(transport), 60)}, not polling, websocket or null")
    answered = _typed(found, "answered", int)
    if not 0 <= answered <= report.calls:
        raise ValueError(f"answered is {answered}, outside 0..{report.calls} (the calls made)")
    pods, sessions, events = _strings(found, "pods"), _strings(found, "sessions"), _events(found)
    report.connected, report.upgraded, report.transport, report.answered = connected, upgraded, transport, answered
    report.pods, report.sessions, report.events = pods, sessions, events


def _console_lines(stderr: str) -> list[str]:
    """Chromium's console messages (`...:CONSOLE(n)] "text", source: ...`), the lines the write-up tells users to look for."""
    lines = [line.split("] ", 1)[-1] for line in stderr.splitlines() if ":CONSOLE" in line]
    return [line for line in lines if not line.startswith('"[verify] ')][:MAX_CONSOLE_LINES]  # the page's own lines are the events


def run_browser(url: str, calls: int = 10, timeout: float = 10.0, hold: float = 0.0) -> BrowserReport:
    """Open the page in headless Chromium and return what the browser saw; BrowserUnavailable without Chromium or the bundle.
    With `hold`, the page stays connected that long after its calls, through any cut and reconnect."""
    binary = chromium_binary()
    if binary is None:
        raise BrowserUnavailable(
            "--browser needs Chromium, which is not installed here. Fix: apt-get install chromium chromium-driver "
            "(Debian), or run `python -m ops verify` without --browser"
        )
    if not BUNDLE.is_file():
        raise BrowserUnavailable(
            f"--browser needs the pinned socket.io-client ({BUNDLE.relative_to(ROOT)}). Fix: make node-lab (npm ci --prefix tests/node_lab)"
        )
    token = secrets.token_urlsafe(32)  # per run: only this run's page knows it
    server = _PageServer(_page(url, calls, timeout, hold, token), BUNDLE.read_bytes(), token)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    report = BrowserReport(url, calls=calls)
    with tempfile.TemporaryDirectory(prefix="ops-verify-browser-") as profile, tempfile.TemporaryFile("w+") as stderr:
        browser = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"http://127.0.0.1:{server.server_address[1]}/"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            if not server.reported.wait(timeout * 3 + hold + 10):
                report.problem = f"the page reported nothing within {timeout * 3 + hold + 10:g} s (Chromium failed to start or the page hung)"
        finally:
            _stop(browser)
            server.shutdown()
            server.server_close()
        stderr.seek(0)
        report.console = _console_lines(stderr.read())
    report.refused = list(server.refused)
    if server.result is _MALFORMED:
        report.problem = "the page's result was not valid JSON"
    elif server.reported.is_set():
        try:
            parse_result(server.result, report)
        except ValueError as error:
            report.problem = f"the page's result was refused: {error}"
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
