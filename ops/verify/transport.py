"""The verifier's I/O: Engine.IO URLs, HTTP long-polling requests and WebSockets, noting the pod that answered.

Every exchange is one step under a total deadline of --timeout and byte caps (see `bounds`): what a
step could not finish becomes a Failed naming the stage and the bound, never a hang.
"""

from __future__ import annotations

import logging
import ssl
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection, reconnect

from livestate.bounds import ACCEPT_ENCODING
from ops.verify import advice
from ops.verify.bounded_http import BoundedTransport, read_body
from ops.verify.bounds import MAX_WEBSOCKET_MESSAGE, MAX_WEBSOCKET_QUEUE, BoundExceeded, Deadline, Stage
from ops.verify.options import Options
from ops.verify.protocol import ENGINE_IO_VERSION, EngineIOTransport

POLLING_POST_HEADERS = {"Content-Type": "text/plain;charset=UTF-8"}  # what engine.io-client sends
WEBSOCKET_CLOSE_TIMEOUT_S = 1.0  # what closing a WebSocket adds to a step when the server never answers the close

# websockets logs a hostile peer's stream errors from its reader thread with a traceback; the check's
# verdict already reports the closed socket, so the log goes nowhere rather than to the user's terminal.
WEBSOCKET_LOG = logging.getLogger("ops.verify.websocket")
WEBSOCKET_LOG.addHandler(logging.NullHandler())
WEBSOCKET_LOG.propagate = False


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read whole within the step's bounds."""

    status_code: int
    headers: httpx.Headers
    text: str


class NoRedirects(reconnect):
    """websockets' client (connect() is this class's connect()) with redirects never followed: a 3xx is an
    InvalidStatus, diagnosed with its target (advice.redirected), as a browser's WebSocket fails on it."""

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc


class Transport:
    def __init__(self, options: Options, pods: dict[str, list[str]]) -> None:
        self.options = options
        self.pods = pods  # session -> the pods that answered it, in order of first answer
        parts = urlsplit(options.url)
        scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.base = urlunsplit((scheme, parts.netloc, path, "", ""))
        self.query = parse_qsl(parts.query)
        self.ssl_context: ssl.SSLContext | None = None
        if scheme == "https":
            self.ssl_context = ssl.create_default_context()
            if options.insecure:
                self.ssl_context.check_hostname = False
                self.ssl_context.verify_mode = ssl.CERT_NONE
        self.bounded = BoundedTransport(self.ssl_context, options.source_address, options.resolve)
        self.http = httpx.Client(
            transport=self.bounded,
            timeout=options.timeout,
            trust_env=False,
            headers={"Accept-Encoding": ACCEPT_ENCODING, **dict(options.headers)},
            follow_redirects=False,
        )

    def url(self, transport: EngineIOTransport | str, sid: str | None = None) -> str:
        query = [*self.query, ("EIO", ENGINE_IO_VERSION), ("transport", transport), ("t", uuid.uuid4().hex[:8])]
        if sid:
            query.append(("sid", sid))
        base = self.base
        if transport == EngineIOTransport.WEBSOCKET and base.startswith("http"):
            base = "ws" + base[4:]
        return f"{base}?{urlencode(query)}"

    def _note_pod(self, session: str, headers: Any) -> None:
        pod = headers.get(self.options.pod_header)
        if pod:
            pods = self.pods.setdefault(session, [])
            if pod not in pods:
                pods.append(pod)

    # HTTP long-polling
    def get(self, url: str, session: str) -> Answer:
        return self._exchange(self.http.build_request("GET", url), session)

    def post(self, url: str, session: str, body: str) -> Answer:
        return self._exchange(self.http.build_request("POST", url, content=body.encode(), headers=POLLING_POST_HEADERS), session)

    def _exchange(self, request: httpx.Request, session: str) -> Answer:
        """One request and its whole answer, connect to last body byte, within --timeout and the byte caps."""
        deadline = Deadline(self.options.timeout)
        backend = self.bounded.backend
        backend.start(deadline)
        try:
            response = self.http.send(request, stream=True)
            try:
                body = read_body(response, deadline)
            finally:
                response.close()
        except BoundExceeded as exceeded:
            raise advice.bound_failure(exceeded, request.method) from None
        except httpx.HTTPError as error:
            raise advice.request_failure(error, request.method, self.options.timeout, backend.stage) from None
        except ValueError as error:  # a body in a coding not asked for, or corrupt
            raise advice.undecodable_body(error, request.method) from None
        self._note_pod(session, response.headers)
        if response.status_code in advice.REDIRECT_STATUSES:  # httpx follows none (follow_redirects=False): say where it points
            raise advice.redirected(response.status_code, response.headers.get("location"), str(request.url), request.method)
        return Answer(response.status_code, response.headers, body.decode("utf-8", errors="replace"))

    # WebSocket
    def _websocket_headers(self) -> list[tuple[str, str]]:
        headers = list(self.options.headers)
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies.jar)
        if cookies:
            headers.append(("Cookie", cookies))  # cookie affinity: the WebSocket must carry the LB's cookie
        return headers

    def open_websocket(self, url: str, session: str) -> ClientConnection:
        """A WebSocket opened (TCP, TLS, the HTTP upgrade) within --timeout in total."""
        deadline = Deadline(self.options.timeout)  # websockets holds open_timeout across connect, TLS and the upgrade
        source: dict[str, Any] = {"source_address": (self.options.source_address, 0)} if self.options.source_address else {}
        if self.options.resolve is not None:  # socket.create_connection's address; SNI and Host stay the URL's host
            parts = urlsplit(url)
            source["address"] = (self.options.resolve[1], parts.port or (443 if parts.scheme == "wss" else 80))
        try:
            websocket = NoRedirects(
                url,
                additional_headers=self._websocket_headers(),
                proxy=None,
                ping_interval=None,
                open_timeout=deadline.seconds,
                close_timeout=WEBSOCKET_CLOSE_TIMEOUT_S,
                ssl=self.ssl_context,
                max_size=MAX_WEBSOCKET_MESSAGE,
                max_queue=MAX_WEBSOCKET_QUEUE,
                logger=WEBSOCKET_LOG,
                **source,
            ).connect()
        except TimeoutError:
            raise advice.bound_failure(deadline.exceeded(Stage.WEBSOCKET_OPEN), "WebSocket") from None
        except (WebSocketException, OSError) as error:
            raise advice.websocket_failure(error, url) from None
        websocket.pending_legacy_warning = False  # used as a connection, never iterated as connect(legacy=...) warns about
        if websocket.response is not None:  # set once the handshake succeeded
            self._note_pod(session, websocket.response.headers)
        return websocket

    def receive(self, websocket: ClientConnection, timeout: float) -> str | None:
        """The next text message within `timeout` (TimeoutError if none); None for a binary one.
        Once this client began closing for a bound the server broke (close 1009, 1002, 1007), a Failed naming it."""
        try:
            message = websocket.recv(timeout=timeout)
        except (ConnectionClosed, TimeoutError):
            if failure := advice.websocket_violation(websocket):
                raise failure from None
            raise
        return message if isinstance(message, str) else None

    def send(self, websocket: ClientConnection, message: str) -> None:
        """`message` sent; a Failed naming the bound if this client is closing the socket for one."""
        try:
            websocket.send(message)
        except ConnectionClosed:
            if failure := advice.websocket_violation(websocket):
                raise failure from None
            raise

    def close(self) -> None:
        self.http.close()
