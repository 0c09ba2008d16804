"""`python -m ops verify URL`: prove a live Socket.IO endpoint works the way a browser needs it to.

A bare handshake proves nothing (any pod answers it). What broke in the outage was the *second*
request of a session (no affinity: another pod answers 400), the WebSocket upgrade (Upgrade header
dropped) and long connections (cut at the backend timeout). Checks, in order:

  handshake  Engine.IO v4 open packet: 200, a sid, `upgrades` has websocket, sane ping timings
  polling    N rounds of namespace connect / reply / disconnect carrying the sid, all 200
  ws_upgrade the same session upgraded to WebSocket (2probe/3probe/5) and a message over it
  ws_only    a WebSocket-only session: separates "Upgrade not forwarded" from "no affinity"
  hold       (--hold S) keep the upgraded socket S seconds answering pings, then a message

Protocol facts: Engine.IO v4 / Socket.IO v5 specs; see socketio-facts.md in the shared research.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from components.protocol import POD_HEADER
from gke.limits import DEFAULT_BACKEND_TIMEOUT_SEC as GKE_DEFAULT_TIMEOUT_SEC

RECORD_SEPARATOR = "\x1e"
PROBE_NAMESPACE = "/__verify__"
DEFAULT_POLLS = 10  # 3 sid-carrying requests a round: missing affinity over 2 pods slips through with p = 2^-30


class VerifyUsageError(ValueError):
    pass


@dataclass
class Options:
    url: str
    polls: int = DEFAULT_POLLS
    hold: float = 0.0
    headers: list[tuple[str, str]] = field(default_factory=list)
    namespace: str = "/"
    source_address: str | None = None
    timeout: float = 10.0
    insecure: bool = False
    pod_header: str = POD_HEADER

    def validate(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https", "ws", "wss"} or not parts.hostname:
            raise VerifyUsageError(f"URL {self.url!r} must be http(s)://host/path/to/socket.io/")
        if self.polls < 1:
            raise VerifyUsageError("--polls must be at least 1")
        if self.hold < 0 or self.timeout <= 0:
            raise VerifyUsageError("--hold must be >= 0 and --timeout > 0")
        if not self.namespace.startswith("/"):
            raise VerifyUsageError("--namespace must start with '/' (e.g. / or /admin)")
        if self.source_address is not None:
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in self.source_address else socket.AF_INET, self.source_address)
            except OSError:
                raise VerifyUsageError(f"--source-address {self.source_address!r} is not an IP address") from None


@dataclass
class Check:
    name: str
    ok: bool | None  # None: skipped
    detail: str
    ms: float = 0.0
    layer: str | None = None
    diagnosis: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        status = {True: "PASS", False: "FAIL", None: "SKIP"}[self.ok]
        text = f"[{status}] {self.name}: {self.detail}" + (f" ({self.ms:.0f} ms)" if self.ok is not None else "")
        if self.diagnosis:
            text += f"\n       diagnosis ({self.layer}): {self.diagnosis}"
        return text


@dataclass
class Report:
    url: str
    checks: list[Check] = field(default_factory=list)
    pods: dict[str, list[str]] = field(default_factory=dict)  # session -> pods that answered it
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok is not False for c in self.checks)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def text(self) -> str:
        lines = [c.line() for c in self.checks]
        if self.pods:
            lines.append("pods: " + "; ".join(f"{session}: {', '.join(pods)}" for session, pods in self.pods.items()))
        lines.append(f"verdict: {'PASS' if self.ok else 'FAIL'} in {self.elapsed_s:.2f} s")
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps({"url": self.url, "ok": self.ok, "elapsed_s": round(self.elapsed_s, 3),
                           "checks": [asdict(c) for c in self.checks], "pods": self.pods}, indent=2)


class Failed(Exception):
    """A check failed; carries what to report."""

    def __init__(self, detail: str, layer: str, diagnosis: str, **data: Any) -> None:
        super().__init__(detail)
        self.detail, self.layer, self.diagnosis, self.data = detail, layer, diagnosis, data


# --- diagnosis texts -----------------------------------------------------------------------------

AFFINITY = (
    "session affinity is not applied: a later request of the session reached another pod, which does not know the sid. "
    "Check the BackendConfig's sessionAffinity (CLIENT_IP or GENERATED_COOKIE), that the Service's "
    "cloud.google.com/backend-config annotation names it, and that the Ingress translated "
    "(`kubectl describe ingress` shows no 'Translation failed'; a missing Service blocks the whole Ingress)."
)
UPGRADE_DROPPED = (
    "the WebSocket upgrade does not reach the Socket.IO server: a proxy drops the Upgrade/Connection headers "
    "(nginx needs proxy_http_version 1.1, proxy_set_header Upgrade $http_upgrade and Connection $connection_upgrade; "
    "GKE's load balancer forwards WebSockets without configuration, but not with an HTTP2 backend protocol)."
)
UPGRADE_AFFINITY = (
    "a WebSocket-only session works, so Upgrade is forwarded; the upgrade of the polling session reached another pod: "
    "session affinity is not applied. " + AFFINITY.split(": ", 1)[1]
)


def _status_diagnosis(status: int, body: str) -> tuple[str, str]:
    lowered = body.lower()
    if status == 404:
        return "load balancer / nginx", (
            "the path is not routed to the Socket.IO server: check the Ingress paths, the nginx `location` for the socket.io "
            "path and the app's socket.io path (this URL must end with it, e.g. /theia/socket.io/).")
    if status in (502, 503):
        return "load balancer", (
            f"HTTP {status} from the load balancer: no healthy backend. The health check must get 200 from the pods "
            "(BackendConfig healthCheck requestPath/port = the readiness probe); see the Ingress annotation "
            "ingress.kubernetes.io/backends and the NEG status.")
    if status == 504:
        return "load balancer / nginx", "HTTP 504: the request timed out behind the load balancer (nginx upstream or the app hangs)."
    if status == 400 and ("unsupported" in lowered or '"code":5' in lowered):
        return "app", "the server does not speak Engine.IO v4 (EIO=4): client and server Socket.IO versions differ."
    if status in (401, 403):
        return "app / outside", f"HTTP {status}: the request is not authorized (Origin check, IAP, Cloud Armor?); pass --header as a browser would."
    return "app", f"HTTP {status}: the Socket.IO server refused the handshake."


def _is_session_unknown(status: int, body: str) -> bool:
    lowered = body.lower()
    return status == 400 and ("invalid session" in lowered or "session id unknown" in lowered or '"code":1' in lowered)


def _is_html(body: str, content_type: str) -> bool:
    return "text/html" in content_type or body.lstrip().lower().startswith(("<!doctype", "<html"))


# --- the verifier ---------------------------------------------------------------------------------


class Verifier:
    def __init__(self, options: Options) -> None:
        options.validate()
        self.o = options
        parts = urlsplit(options.url)
        scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.base = urlunsplit((scheme, parts.netloc, path, "", ""))
        self.query = parse_qsl(parts.query)
        self.nsp = "" if options.namespace == "/" else f"{options.namespace},"
        self.ssl_context: ssl.SSLContext | None = None
        if scheme == "https":
            self.ssl_context = ssl.create_default_context()
            if options.insecure:
                self.ssl_context.check_hostname = False
                self.ssl_context.verify_mode = ssl.CERT_NONE
        transport = httpx.HTTPTransport(local_address=options.source_address, verify=self.ssl_context or True, retries=0)
        self.http = httpx.Client(transport=transport, timeout=options.timeout, trust_env=False,
                                 headers=dict(options.headers), follow_redirects=False)
        self.report = Report(options.url)
        self.upgraded: ClientConnection | None = None

    # URL and transport helpers
    def url(self, transport: str, sid: str | None = None, websocket: bool = False) -> str:
        query = [*self.query, ("EIO", "4"), ("transport", transport), ("t", uuid.uuid4().hex[:8])]
        if sid:
            query.append(("sid", sid))
        base = self.base
        if websocket:
            base = "ws" + base[4:] if base.startswith("http") else base
        return f"{base}?{urlencode(query)}"

    def _pod(self, session: str, response_headers: Any) -> None:
        pod = response_headers.get(self.o.pod_header) if response_headers is not None else None
        if pod:
            pods = self.report.pods.setdefault(session, [])
            if pod not in pods:
                pods.append(pod)

    def _request(self, method: str, url: str, session: str, body: str | None = None) -> httpx.Response:
        try:
            if method == "GET":
                response = self.http.get(url)
            else:
                response = self.http.post(url, content=body.encode(), headers={"Content-Type": "text/plain;charset=UTF-8"})
        except httpx.ConnectTimeout:
            raise Failed(f"no connection within {self.o.timeout:g} s", "outside",
                         "the host does not accept connections: check DNS (does it point at the Ingress IP?), the "
                         "forwarding rule / static IP, and firewalls.") from None
        except httpx.TimeoutException:
            raise Failed(f"no answer within {self.o.timeout:g} s ({method})", "load balancer / nginx / app",
                         "the server accepted the connection but did not answer: a hung pod, nginx upstream or app; "
                         "check the backends' health (ingress.kubernetes.io/backends) and the pod logs.") from None
        except httpx.ConnectError as error:
            text = str(error)
            if "CERTIFICATE" in text.upper() or "SSL" in text.upper() or "TLS" in text.upper():
                raise Failed(f"TLS failed: {text}", "outside (TLS)",
                             "the certificate is not valid for this host: is the ManagedCertificate Active and does DNS "
                             "point at the load balancer? (--insecure skips verification for a test endpoint).") from None
            raise Failed(f"cannot connect: {text}", "outside",
                         "nothing answers at this address: check DNS, the Ingress IP (kubectl get ingress) and firewalls.") from None
        except httpx.HTTPError as error:
            raise Failed(f"{type(error).__name__}: {error}", "outside", "the HTTP exchange failed before any answer.") from None
        self._pod(session, response.headers)
        return response

    # checks
    def handshake(self) -> dict[str, Any]:
        response = self._request("GET", self.url("polling"), "polling")
        body = response.text
        if response.status_code != 200:
            layer, diagnosis = _status_diagnosis(response.status_code, body)
            raise Failed(f"HTTP {response.status_code} body={body[:120]!r}", layer, diagnosis, status=response.status_code)
        if _is_html(body, response.headers.get("content-type", "")):
            raise Failed("HTTP 200 but an HTML page, not an Engine.IO open packet", "load balancer / nginx",
                         "the request reached a web page (a default backend, the IDE's index, a login page) instead of the "
                         "Socket.IO server: check the socket.io path in this URL, the Ingress paths and nginx's location.")
        packet = body.split(RECORD_SEPARATOR, 1)[0]
        try:
            if not packet.startswith("0"):
                raise ValueError
            opened = json.loads(packet[1:])
            sid, upgrades = str(opened["sid"]), list(opened.get("upgrades") or [])
            ping_interval, ping_timeout = int(opened["pingInterval"]), int(opened["pingTimeout"])
        except (ValueError, KeyError, TypeError):
            raise Failed(f"HTTP 200 but not an Engine.IO v4 open packet: {body[:120]!r}", "app",
                         "something other than a Socket.IO v4 server answered at this path.") from None
        problems = []
        if "websocket" not in upgrades:
            problems.append(f"upgrades={upgrades} lacks websocket (the server disabled the WebSocket transport)")
        if not (0 < ping_interval <= 300_000 and 0 < ping_timeout <= 300_000):
            problems.append(f"pingInterval={ping_interval}ms pingTimeout={ping_timeout}ms outside 1 ms..300 s")
        if problems:
            raise Failed("; ".join(problems), "app", "fix the Socket.IO server options.", sid=sid)
        return {"sid": sid, "upgrades": upgrades, "pingInterval": ping_interval, "pingTimeout": ping_timeout}

    def _expect_ok(self, response: httpx.Response, what: str, index: int) -> None:
        if response.status_code == 200:
            return
        body = response.text
        data = {"request": index, "status": response.status_code}
        if _is_session_unknown(response.status_code, body):
            pods = self.report.pods.get("polling", [])
            seen = f" Pods that answered this session: {', '.join(pods)}." if len(pods) > 1 else ""
            raise Failed(f"{what}: HTTP 400 body={body[:100]!r}", "load balancer", AFFINITY + seen, **data)
        layer, diagnosis = _status_diagnosis(response.status_code, body)
        raise Failed(f"{what}: HTTP {response.status_code} body={body[:100]!r}", layer, diagnosis, **data)

    def polling(self, sid: str) -> dict[str, Any]:
        requests = 0
        refused = None
        for round_ in range(1, self.o.polls + 1):
            where = f"round {round_}/{self.o.polls}"
            requests += 1
            self._expect_ok(self._request("POST", self.url("polling", sid), "polling", f"40{self.nsp}"), f"{where} POST #{requests}", requests)
            reply = None
            for _ in range(4):  # a ping or noop may come first
                requests += 1
                response = self._request("GET", self.url("polling", sid), "polling")
                self._expect_ok(response, f"{where} GET #{requests}", requests)
                packets = response.text.split(RECORD_SEPARATOR)
                if "2" in packets:  # the server's heartbeat: answer like a client
                    requests += 1
                    self._expect_ok(self._request("POST", self.url("polling", sid), "polling", "3"), f"{where} POST #{requests}", requests)
                if "1" in packets:
                    raise Failed(f"{where}: the server closed the session", "app", "the Socket.IO server closed the session it just opened.")
                reply = next((p for p in packets if p.startswith((f"40{self.nsp}", f"44{self.nsp}"))), None)
                if reply:
                    break
            if reply is None:
                raise Failed(f"{where}: no reply to the namespace connect", "app", "the server never answered CONNECT over polling.")
            if reply.startswith("44"):
                refused = reply  # the app refused the namespace (auth); the transport still carried it
                continue
            requests += 1
            self._expect_ok(self._request("POST", self.url("polling", sid), "polling", f"41{self.nsp}"), f"{where} POST #{requests}", requests)
        return {"rounds": self.o.polls, "requests": requests, "refused": refused}

    def _ws_headers(self) -> list[tuple[str, str]]:
        headers = list(self.o.headers)
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies.jar)
        if cookies:
            headers.append(("Cookie", cookies))  # cookie affinity: the WebSocket must carry the LB's cookie
        return headers

    def _ws_connect(self, url: str) -> ClientConnection:
        kwargs: dict[str, Any] = {}
        if self.o.source_address:
            kwargs["source_address"] = (self.o.source_address, 0)
        try:
            return connect(url, additional_headers=self._ws_headers(), proxy=None, ping_interval=None,
                           open_timeout=self.o.timeout, close_timeout=1, ssl=self.ssl_context, max_size=2**20, **kwargs)
        except InvalidStatus as error:
            status = error.response.status_code
            body = (error.response.body or b"").decode(errors="replace")
            raise Failed(f"WebSocket handshake rejected: HTTP {status} body={body[:100]!r}", "?", "", status=status) from None
        except (InvalidHandshake, OSError, TimeoutError) as error:
            raise Failed(f"WebSocket connection failed: {type(error).__name__}: {error}", "?", "") from None

    def _recv(self, ws: ClientConnection, timeout: float | None = None) -> str:
        message = ws.recv(timeout=timeout if timeout is not None else self.o.timeout)
        return message if isinstance(message, str) else message.decode(errors="replace")

    def _expect(self, ws: ClientConnection, prefixes: tuple[str, ...], what: str) -> str:
        deadline = time.monotonic() + self.o.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failed(f"no {what} within {self.o.timeout:g} s", "app", f"the server did not answer {what} over the WebSocket.")
            try:
                message = self._recv(ws, remaining)
            except TimeoutError:
                continue
            if message == "2":
                ws.send("3")
            elif message.startswith(prefixes):
                return message

    def ws_upgrade(self, sid: str) -> dict[str, Any]:
        ws = self._ws_connect(self.url("websocket", sid, websocket=True))
        self._pod("websocket upgrade", ws.response.headers)
        try:
            ws.send("2probe")
            self._expect(ws, ("3probe",), "3probe")
            ws.send("5")
            ws.send(f"40{self.nsp}")
            reply = self._expect(ws, (f"40{self.nsp}", f"44{self.nsp}"), "the namespace connect")
        except ConnectionClosed as error:
            ws.close()
            raise Failed(f"the WebSocket closed during the upgrade: {error}", "app / load balancer",
                         "the server dropped the upgraded session (unknown sid on another pod?).") from None
        self.upgraded = ws
        return {"reply": reply[:80]}

    def ws_only(self) -> dict[str, Any]:
        ws = self._ws_connect(self.url("websocket", websocket=True))
        self._pod("websocket only", ws.response.headers)
        try:
            opened = self._expect(ws, ("0",), "the open packet")
            ws.send(f"40{self.nsp}")
            reply = self._expect(ws, (f"40{self.nsp}", f"44{self.nsp}"), "the namespace connect")
        except ConnectionClosed as error:
            raise Failed(f"the WebSocket closed: {error}", "app", "the server closed a fresh WebSocket session.") from None
        finally:
            ws.close()
        return {"sid": json.loads(opened[1:]).get("sid"), "reply": reply[:80]}

    def hold(self) -> dict[str, Any]:
        ws = self.upgraded
        assert ws is not None
        start = time.monotonic()
        pings = 0
        try:
            while (remaining := self.o.hold - (time.monotonic() - start)) > 0:
                try:
                    message = self._recv(ws, min(remaining, 1.0))
                except TimeoutError:
                    continue
                if message == "2":
                    ws.send("3")
                    pings += 1
            ws.send(f"40{PROBE_NAMESPACE},")
            reply = self._expect(ws, (f"40{PROBE_NAMESPACE}", f"44{PROBE_NAMESPACE}"), "a message after the hold")
        except ConnectionClosed:
            cut = time.monotonic() - start
            near_default = abs(cut - GKE_DEFAULT_TIMEOUT_SEC) <= 2
            diagnosis = (
                f"cut at ~{GKE_DEFAULT_TIMEOUT_SEC} s, Compute's default backend timeout: the BackendConfig's timeoutSec is not "
                "applied (is the Ingress translated? is the Service annotated with the BackendConfig?)." if near_default else
                f"a proxy ended the WebSocket after {cut:.1f} s: the load balancer's backend timeout (BackendConfig "
                "timeoutSec is the hard lifetime of a WebSocket on GKE, idle or not) or an idle timeout (nginx "
                "proxy_read_timeout shorter than the server's pingInterval) is shorter than the hold."
            )
            raise Failed(f"closed after {cut:.1f} s of {self.o.hold:g} s ({pings} pings answered)", "load balancer / nginx",
                         diagnosis, closed_after_s=round(cut, 2)) from None
        return {"held_s": round(time.monotonic() - start, 2), "pings": pings, "reply": reply[:60]}

    # orchestration
    def _run(self, name: str, fn: Any, *args: Any) -> dict[str, Any] | None:
        start = time.perf_counter()
        try:
            data = fn(*args)
        except Failed as failure:
            check = Check(name, False, failure.detail, (time.perf_counter() - start) * 1000, failure.layer, failure.diagnosis, failure.data)
            self.report.checks.append(check)
            return None
        self.report.checks.append(Check(name, True, _summary(name, data), (time.perf_counter() - start) * 1000, data=data))
        return data

    def run(self) -> Report:
        start = time.perf_counter()
        try:
            opened = self._run("handshake", self.handshake)
            if opened is None:
                for name in ("polling", "ws_upgrade", "ws_only", "hold"):
                    self.report.checks.append(Check(name, None, "not run: the handshake failed"))
                return self.report
            self._run("polling", self.polling, opened["sid"])
            upgraded = self._run("ws_upgrade", self.ws_upgrade, opened["sid"])
            only = self._run("ws_only", self.ws_only)
            self._explain_websocket(upgraded is not None, only is not None)
            if self.o.hold <= 0:
                self.report.checks.append(Check("hold", None, "not requested (--hold SECONDS proves sockets outlive a timeout)"))
            elif upgraded is None:
                self.report.checks.append(Check("hold", None, "not run: the upgrade failed"))
            else:
                self._run("hold", self.hold)
            return self.report
        finally:
            if self.upgraded is not None:
                self.upgraded.close()
            self.http.close()
            self.report.elapsed_s = time.perf_counter() - start

    def _explain_websocket(self, upgrade_ok: bool, only_ok: bool) -> None:
        upgrade, only = self.report.check("ws_upgrade"), self.report.check("ws_only")
        if upgrade and not upgrade_ok and upgrade.layer == "?":
            upgrade.layer, upgrade.diagnosis = ("load balancer", UPGRADE_AFFINITY) if only_ok else ("nginx / load balancer", UPGRADE_DROPPED)
        if only and not only_ok and only.layer == "?":
            only.layer, only.diagnosis = "nginx / load balancer", UPGRADE_DROPPED


def _summary(name: str, data: dict[str, Any]) -> str:
    if name == "handshake":
        return f"HTTP 200 sid={data['sid']} upgrades={data['upgrades']} pingInterval={data['pingInterval']}ms pingTimeout={data['pingTimeout']}ms"
    if name == "polling":
        refused = f"; namespace refused by the app: {data['refused'][:60]!r}" if data["refused"] else ""
        return f"{data['rounds']} rounds, {data['requests']} requests with the sid, all 200{refused}"
    if name == "ws_upgrade":
        return f"101, 2probe->3probe, 5 sent, namespace reply {data['reply']}"
    if name == "ws_only":
        return f"101, open packet sid={data['sid']}, namespace reply {data['reply']}"
    if name == "hold":
        return f"held {data['held_s']} s answering {data['pings']} pings, then a message: {data['reply']}"
    return json.dumps(data)


def verify(options: Options) -> Report:
    return Verifier(options).run()


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise VerifyUsageError(f"--header {text!r} must look like 'Name: value'")
    return name.strip(), value.strip()
