"""The verifier's I/O: Engine.IO URLs, HTTP long-polling requests and WebSockets, noting the pod that answered."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from websockets.exceptions import InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from ops.verify.diagnoses import request_failure, websocket_failure
from ops.verify.options import Options
from ops.verify.protocol import ENGINE_IO_VERSION, EngineIOTransport

MAX_WEBSOCKET_MESSAGE = 2**20
POLLING_POST_HEADERS = {"Content-Type": "text/plain;charset=UTF-8"}  # what engine.io-client sends


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
        transport = httpx.HTTPTransport(local_address=options.source_address, verify=self.ssl_context or True, retries=0)
        self.http = httpx.Client(transport=transport, timeout=options.timeout, trust_env=False,
                                 headers=dict(options.headers), follow_redirects=False)

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
    def get(self, url: str, session: str) -> httpx.Response:
        return self._exchange("GET", session, lambda: self.http.get(url))

    def post(self, url: str, session: str, body: str) -> httpx.Response:
        return self._exchange("POST", session, lambda: self.http.post(url, content=body.encode(), headers=POLLING_POST_HEADERS))

    def _exchange(self, method: str, session: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            response = send()
        except httpx.HTTPError as error:
            raise request_failure(error, method, self.options.timeout) from None
        self._note_pod(session, response.headers)
        return response

    # WebSocket
    def _websocket_headers(self) -> list[tuple[str, str]]:
        headers = list(self.options.headers)
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies.jar)
        if cookies:
            headers.append(("Cookie", cookies))  # cookie affinity: the WebSocket must carry the LB's cookie
        return headers

    def open_websocket(self, url: str, session: str) -> ClientConnection:
        source: dict[str, Any] = {"source_address": (self.options.source_address, 0)} if self.options.source_address else {}
        try:
            websocket = connect(url, additional_headers=self._websocket_headers(), proxy=None, ping_interval=None,
                                open_timeout=self.options.timeout, close_timeout=1, ssl=self.ssl_context,
                                max_size=MAX_WEBSOCKET_MESSAGE, **source)
        except (InvalidHandshake, OSError, TimeoutError) as error:
            raise websocket_failure(error) from None
        if websocket.response is not None:  # set once the handshake succeeded
            self._note_pod(session, websocket.response.headers)
        return websocket

    def receive(self, websocket: ClientConnection, timeout: float) -> str:
        message = websocket.recv(timeout=timeout)
        return message if isinstance(message, str) else message.decode(errors="replace")

    def close(self) -> None:
        self.http.close()
