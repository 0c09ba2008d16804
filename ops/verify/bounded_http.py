"""HTTP exchanges with a total deadline and byte caps, under httpx's client (cookies, headers, URLs).

httpx's timeouts bound each socket operation, so a server trickling a byte per second never trips
them. Here the socket streams httpcore opens take min(httpx's timeout, what is left of the step's
`Deadline`) for every connect, TLS handshake, write and read, and stop once it is spent (Python's ssl
holds one deadline across the many reads of a handshake or record); `read_body` caps the body's
bytes as sent and as decompressed.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

from livestate.bounds import decompress
from ops.verify.bounds import MAX_BODY_BYTES, BoundExceeded, Deadline, Stage

# httpcore's errors as httpx raises them (most specific first): the verdicts are written against httpx's.
HTTPCORE_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def as_httpx(error: Exception) -> Exception:
    for core, mapped in HTTPCORE_ERRORS:
        if isinstance(error, core):
            return mapped(str(error))
    return error


class DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation waits at most what is left of the backend's current deadline."""

    def __init__(self, stream: httpcore.NetworkStream, backend: DeadlineBackend) -> None:
        self.stream, self.backend = stream, backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, self.backend.wait(self.backend.reading, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, self.backend.wait(Stage.REQUEST, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None) -> httpcore.NetworkStream:
        wait = self.backend.wait(Stage.TLS, timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self.stream.start_tls(ssl_context, server_hostname, wait), self.backend)

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, bounded by the deadline of the exchange in progress (one at a time)."""

    def __init__(self, resolve: tuple[str, str] | None = None) -> None:
        self.sockets = httpcore.SyncBackend()
        self.resolve = resolve  # (HOST, IP): a connection to HOST goes to IP; TLS (SNI, certificate) and Host stay HOST's
        self.deadline = Deadline(0.0)
        self.reading = Stage.HEADERS  # BODY once the headers are in
        self.stage = Stage.CONNECT  # the last stage that started: the one a timeout stopped

    def start(self, deadline: Deadline) -> None:
        self.deadline, self.reading, self.stage = deadline, Stage.HEADERS, Stage.CONNECT

    def wait(self, stage: Stage, timeout: float | None, timed_out: type[Exception]) -> float:
        self.stage = stage
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise timed_out(f"{stage}: the step's deadline is spent")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        wait = self.wait(Stage.CONNECT, timeout, httpcore.ConnectTimeout)
        if self.resolve is not None and host.lower().removesuffix(".") == self.resolve[0]:
            host = self.resolve[1]
        return DeadlineStream(self.sockets.connect_tcp(host, port, wait, local_address, socket_options), self)

    def sleep(self, seconds: float) -> None:
        self.sockets.sleep(min(seconds, self.deadline.remaining()))


class CoreBody(httpx.SyncByteStream):
    """httpcore's response body as httpx reads it, its errors mapped to httpx's."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.stream
        except (httpcore.ProtocolError, httpcore.TimeoutException, httpcore.NetworkError) as error:
            raise as_httpx(error) from None

    def close(self) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()


class BoundedTransport(httpx.BaseTransport):
    """httpx's HTTP/1.1 transport over a DeadlineBackend: set `backend.start(deadline)` before each exchange."""

    def __init__(self, ssl_context: ssl.SSLContext | None, local_address: str | None, resolve: tuple[str, str] | None = None) -> None:
        self.backend = DeadlineBackend(resolve)
        self.pool = httpcore.ConnectionPool(ssl_context=ssl_context, local_address=local_address, retries=0, keepalive_expiry=5.0, network_backend=self.backend)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            answer = self.pool.handle_request(core_request)
        except (httpcore.ProtocolError, httpcore.TimeoutException, httpcore.NetworkError, httpcore.UnsupportedProtocol) as error:
            raise as_httpx(error) from None
        self.backend.reading = Stage.BODY
        assert isinstance(answer.stream, Iterable)
        return httpx.Response(status_code=answer.status, headers=answer.headers, stream=CoreBody(answer.stream), extensions=answer.extensions)

    def close(self) -> None:
        self.pool.close()


def read_body(response: httpx.Response, deadline: Deadline) -> bytes:
    """The body as sent, decompressed, each at most 1 MiB, read by the deadline; BoundExceeded otherwise."""
    raw = bytearray()
    for chunk in response.iter_raw():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise BoundExceeded(Stage.BODY, f"more than {MAX_BODY_BYTES} bytes (the cap on a response body)")
        if deadline.expired():
            raise deadline.exceeded(Stage.BODY)
    body = bytes(raw)
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",") if c.strip()]
    for coding in reversed(codings):  # applied in order, so undone in reverse
        body = decompress(body, coding)
    return body
