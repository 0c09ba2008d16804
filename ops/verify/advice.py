"""Which layer a failure belongs to and what to do about it: every diagnosis text `ops verify` prints."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection

from coditect.gke.limits import DEFAULT_BACKEND_TIMEOUT_SEC as GKE_DEFAULT_TIMEOUT_SEC
from ops.errors import shown
from ops.verify.bounds import MAX_WEBSOCKET_MESSAGE, BoundExceeded, Stage


class Layer(StrEnum):
    """Where the fault is, as printed after `diagnosis`: the layers a request crosses, or a pair of them."""

    OUTSIDE = "outside"
    OUTSIDE_TLS = "outside (TLS)"
    LOAD_BALANCER = "load balancer"
    LOAD_BALANCER_OR_NGINX = "load balancer / nginx"
    NGINX_OR_LOAD_BALANCER = "nginx / load balancer"
    LOAD_BALANCER_NGINX_OR_APP = "load balancer / nginx / app"
    APP = "app"
    APP_OR_LOAD_BALANCER = "app / load balancer"
    APP_OR_OUTSIDE = "app / outside"


class Failed(Exception):
    """A check failed; carries what to report. A layer of None: only comparing the WebSocket checks can tell (see upgrade_layer)."""

    def __init__(self, detail: str, layer: Layer | None, diagnosis: str | None, *, ends_run: bool = False, **data: Any) -> None:
        super().__init__(detail)
        self.detail, self.layer, self.diagnosis, self.data = detail, layer, diagnosis, data
        self.ends_run = ends_run  # a bound was exceeded: the later checks would each wait out --timeout again


# --- affinity and the WebSocket upgrade ----------------------------------------------------------

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


def affinity(pods: list[str]) -> str:
    """A request of a known session was refused: name the pods when more than one answered it."""
    seen = f" Pods that answered this session: {', '.join(pods)}." if len(pods) > 1 else ""
    return AFFINITY + seen


def upgrade_layer(websocket_only_ok: bool) -> tuple[Layer, str]:
    """A failed upgrade of the polling session: a working WebSocket-only session rules out a dropped Upgrade."""
    return (Layer.LOAD_BALANCER, UPGRADE_AFFINITY) if websocket_only_ok else (Layer.NGINX_OR_LOAD_BALANCER, UPGRADE_DROPPED)


WEBSOCKET_ONLY_FAILURE = (Layer.NGINX_OR_LOAD_BALANCER, UPGRADE_DROPPED)  # a fresh WebSocket failed: no affinity involved

# --- HTTP answers --------------------------------------------------------------------------------


def status_diagnosis(status: int, body: str) -> tuple[Layer, str]:
    lowered = body.lower()
    if status == 404:
        return Layer.LOAD_BALANCER_OR_NGINX, (
            "the path is not routed to the Socket.IO server: check the Ingress paths, the nginx `location` for the socket.io "
            "path and the app's socket.io path (this URL must end with it, e.g. /theia/socket.io/)."
        )
    if status in (502, 503):
        return Layer.LOAD_BALANCER, (
            f"HTTP {status} from the load balancer: no healthy backend. The health check must get 200 from the pods "
            "(BackendConfig healthCheck requestPath/port = the readiness probe); see the Ingress annotation "
            "ingress.kubernetes.io/backends and the NEG status."
        )
    if status == 504:
        return Layer.LOAD_BALANCER_OR_NGINX, "HTTP 504: the request timed out behind the load balancer (nginx upstream or the app hangs)."
    if status == 400 and ("unsupported" in lowered or '"code":5' in lowered):
        return Layer.APP, "the server does not speak Engine.IO v4 (EIO=4): client and server Socket.IO versions differ."
    if status in (401, 403):
        return Layer.APP_OR_OUTSIDE, f"HTTP {status}: the request is not authorized (Origin check, IAP, Cloud Armor?); pass --header as a browser would."
    return Layer.APP, f"HTTP {status}: the Socket.IO server refused the handshake."


# --- redirects -------------------------------------------------------------------------------------

REDIRECT_STATUSES = frozenset({300, 301, 302, 303, 307, 308})  # RFC 9110 15.4: the 3xx codes that carry a Location
ENGINE_IO_QUERY = frozenset({"EIO", "transport", "t", "sid"})  # what verify adds to the URL it was given
MAX_LOCATION_CHARS = 300
# A browser's WebSocket fails on any answer but 101: the handshake request's redirect mode is "error"
# (https://websockets.spec.whatwg.org/#concept-websocket-establish), so socket.io-client cannot follow one either.
WEBSOCKET_NO_REDIRECT = "a browser's WebSocket never follows a redirect, so socket.io-client fails here"


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with ws/wss as http/https and default ports made explicit: what same-origin compares."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme.lower(), parts.scheme.lower())
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:  # a Location whose port is no number: no origin this one can share
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def endpoint_url(url: str) -> str:
    """`url` as `ops verify` takes it: the Engine.IO parameters it adds removed, http(s) for ws(s)."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme.lower(), parts.scheme)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ENGINE_IO_QUERY])
    return urlunsplit((scheme, parts.netloc, parts.path, query, ""))


def redirected(status: int, location: str | None, request_url: str, what: str) -> Failed:
    """A 3xx answer, never followed: a PASS must come from the endpoint asked, not from wherever it points.
    The verdict names the target and the command that verifies it."""
    if not location:
        return Failed(
            f"{what}: HTTP {status} without a Location header",
            Layer.LOAD_BALANCER_OR_NGINX,
            f"HTTP {status} is a redirect that says nowhere to go: check the load balancer's and nginx's redirects.",
            status=status,
        )
    target = urljoin(request_url, location.strip())
    shown_target = shown(target, MAX_LOCATION_CHARS) if len(target) > MAX_LOCATION_CHARS or not target.isprintable() else target
    endpoint = endpoint_url(target)
    again = f"verify that URL: python -m ops verify {shown(endpoint, MAX_LOCATION_CHARS) if len(endpoint) > MAX_LOCATION_CHARS else endpoint}"
    here, there = origin(request_url), origin(target)
    socket = f"; {WEBSOCKET_NO_REDIRECT}" if what == "WebSocket" else ""
    if here[0] == "http" and there == ("https", here[1], 443):
        layer, why = (
            Layer.LOAD_BALANCER,
            ("the endpoint redirects plain HTTP to HTTPS (the load balancer's redirectToHttps, FrontendConfig, answers 301): browsers use the HTTPS URL"),
        )
    elif there != here:
        layer, why = (
            Layer.LOAD_BALANCER_OR_NGINX,
            (
                f"the endpoint redirects to another origin ({there[0]}://{there[1]}:{there[2]}): "
                "nothing was verified there, and what answers there is not this endpoint"
            ),
        )
    else:
        layer, why = Layer.LOAD_BALANCER_OR_NGINX, "the endpoint redirects to another path: the socket.io path in this URL is not the one served"
    return Failed(f"{what}: HTTP {status} redirected to {shown_target} (not followed)", layer, f"{why}{socket}. Fix: {again}", status=status, location=target)


def is_session_unknown(status: int, body: str) -> bool:
    lowered = body.lower()
    return status == 400 and ("invalid session" in lowered or "session id unknown" in lowered or '"code":1' in lowered)


def is_html(body: str, content_type: str) -> bool:
    return "text/html" in content_type or body.lstrip().lower().startswith(("<!doctype", "<html"))


HTML_INSTEAD_OF_SOCKETIO = (
    "the request reached a web page (a default backend, the IDE's index, a login page) instead of the "
    "Socket.IO server: check the socket.io path in this URL, the Ingress paths and nginx's location."
)
NOT_SOCKETIO_V4 = "something other than a Socket.IO v4 server answered at this path."
BAD_SERVER_OPTIONS = "fix the Socket.IO server options."
SESSION_CLOSED = "the Socket.IO server closed the session it just opened."
NO_POLLING_CONNECT_REPLY = "the server never answered CONNECT over polling."

# --- transport failures --------------------------------------------------------------------------


HUNG = (
    "the server accepted the connection but did not answer in time: a hung pod, nginx upstream or app; "
    "check the backends' health (ingress.kubernetes.io/backends) and the pod logs."
)
OVERSIZED = "an answer far larger than any Engine.IO payload: something other than the Socket.IO server answers at this path, or it misbehaves."
MALFORMED = "the answer breaks the protocol: something other than a Socket.IO v4 server, or a broken proxy, answers at this path."


def request_failure(error: httpx.HTTPError, method: str, timeout: float, stage: Stage) -> Failed:
    """An HTTP request that got no complete answer; `stage` is the part of the exchange that was under way."""
    if isinstance(error, httpx.ConnectTimeout) and stage is Stage.CONNECT:
        return Failed(
            f"no connection within {timeout:g} s",
            Layer.OUTSIDE,
            "the host does not accept connections: check DNS (does it point at the Ingress IP?), the forwarding rule / static IP, and firewalls.",
            ends_run=True,
            exceeded=str(stage),
        )
    if isinstance(error, httpx.TimeoutException):
        return Failed(
            f"no answer within {timeout:g} s ({method}): {stage} not done by the deadline (--timeout)",
            Layer.OUTSIDE_TLS if stage is Stage.TLS else Layer.LOAD_BALANCER_NGINX_OR_APP,
            HUNG,
            ends_run=True,
            exceeded=str(stage),
        )
    if isinstance(error, httpx.ConnectError):
        text = str(error)
        if "CERTIFICATE" in text.upper() or "SSL" in text.upper() or "TLS" in text.upper():
            return Failed(
                f"TLS failed: {shown(text, 200)}",
                Layer.OUTSIDE_TLS,
                "the certificate is not valid for this host: is the ManagedCertificate Active and does DNS "
                "point at the load balancer? (--insecure skips verification for a test endpoint).",
            )
        return Failed(
            f"cannot connect: {shown(text, 200)}",
            Layer.OUTSIDE,
            "nothing answers at this address: check DNS, the Ingress IP (kubectl get ingress) and firewalls.",
        )
    if isinstance(error, httpx.RemoteProtocolError):
        return Failed(f"a malformed HTTP answer ({method}, {stage}): {shown(str(error), 200)}", Layer.LOAD_BALANCER_NGINX_OR_APP, MALFORMED)
    return Failed(f"{type(error).__name__} ({method}, {stage}): {shown(str(error), 200)}", Layer.OUTSIDE, "the HTTP exchange failed before a complete answer.")


def bound_failure(exceeded: BoundExceeded, what: str) -> Failed:
    """A step stopped by its deadline or a byte cap: the stage, the bound, the layer that broke it."""
    layer = Layer.OUTSIDE_TLS if exceeded.stage is Stage.TLS else Layer.LOAD_BALANCER_NGINX_OR_APP
    return Failed(f"{what}: {exceeded.stage} {exceeded.detail}", layer, HUNG if exceeded.late else OVERSIZED, ends_run=True, exceeded=str(exceeded.stage))


def undecodable_body(error: ValueError, method: str) -> Failed:
    return Failed(f"{method}: {shown(str(error), 200)}", Layer.LOAD_BALANCER_NGINX_OR_APP, MALFORMED, ends_run=True)


def malformed(what: str, error: ValueError) -> Failed:
    """A packet that breaks Engine.IO or Socket.IO: no check passes on an answer it cannot read exactly."""
    return Failed(f"{what}: {shown(str(error), 200)}", Layer.APP, MALFORMED, ends_run=True)


def websocket_failure(error: WebSocketException | OSError, url: str) -> Failed:
    """A WebSocket that did not open. Its layer is left open: upgrade_layer decides it once both WebSocket checks ran;
    a redirect's is known (see `redirected`)."""
    if isinstance(error, InvalidStatus):
        status = error.response.status_code
        if status in REDIRECT_STATUSES:
            return redirected(status, error.response.headers.get("Location"), url, "WebSocket")
        body = (error.response.body or b"").decode(errors="replace")
        return Failed(f"WebSocket handshake rejected: HTTP {status} body={body[:100]!r}", None, None, status=status)
    return Failed(f"WebSocket connection failed: {type(error).__name__}: {shown(str(error), 200)}", None, None)


# The close codes this client sends when the server breaks a bound or the protocol (RFC 6455 7.4.1).
WEBSOCKET_VIOLATIONS = {
    1009: f"a WebSocket message over the {MAX_WEBSOCKET_MESSAGE}-byte cap",
    1002: "malformed WebSocket frames",
    1007: "a WebSocket text message that is not UTF-8",
}


def websocket_violation(websocket: ClientConnection) -> Failed | None:
    """The Failed for a WebSocket this client began to close because the server broke a bound or the protocol;
    None while it is open or when the server closed it (a proxy's cut, judged by the check)."""
    sent = websocket.protocol.close_sent
    if sent is None or sent.code not in WEBSOCKET_VIOLATIONS or websocket.protocol.close_rcvd_then_sent:
        return None
    what = WEBSOCKET_VIOLATIONS[sent.code]
    layer, diagnosis = (Layer.LOAD_BALANCER_NGINX_OR_APP, OVERSIZED) if sent.code == 1009 else (Layer.APP, MALFORMED)
    return Failed(
        f"the server sent {what} (closed with {sent.code}: {shown(sent.reason, 100)})", layer, diagnosis, ends_run=True, exceeded=str(Stage.WEBSOCKET_MESSAGE)
    )


def no_websocket_answer(what: str) -> str:
    return f"the server did not answer {what} over the WebSocket."


UPGRADED_SESSION_DROPPED = "the server dropped the upgraded session (unknown sid on another pod?)."
FRESH_SESSION_CLOSED = "the server closed a fresh WebSocket session."

# --- long connections ----------------------------------------------------------------------------


def hold_cut(cut_s: float) -> str:
    """A held WebSocket closed after `cut_s` seconds: at GKE's default the BackendConfig is missing, else a timeout is short."""
    if abs(cut_s - GKE_DEFAULT_TIMEOUT_SEC) <= 2:
        return (
            f"cut at ~{GKE_DEFAULT_TIMEOUT_SEC} s, Compute's default backend timeout: the BackendConfig's timeoutSec is not "
            "applied (is the Ingress translated? is the Service annotated with the BackendConfig?)."
        )
    return (
        f"a proxy ended the WebSocket after {cut_s:.1f} s: the load balancer's backend timeout (BackendConfig "
        "timeoutSec is the hard lifetime of a WebSocket on GKE, idle or not) or an idle timeout (nginx "
        "proxy_read_timeout shorter than the server's pingInterval) is shorter than the hold."
    )
