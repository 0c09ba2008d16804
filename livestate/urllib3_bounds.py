"""A total deadline and byte caps for HTTP exchanges made through urllib3 (under the `kubernetes` client).

urllib3's timeouts bound each socket operation, so a server trickling a byte a second never trips them,
and its `.data` reads and decompresses a body whole. Here every socket read of an exchange waits at most
what is left of its `Deadline` (the status line and headers included), the bytes received are counted
against a raw cap, and the Content-Encoding header is taken away from urllib3, so nothing decompresses a
body except `read_body`, under a decoded cap. Any excess raises `BoundExceeded` (livestate/bounds.py,
the vocabulary `verify` already uses) out of the client call.

Use: `install(pool_manager)` once, then `with exchange(Exchange(deadline, cap)):` around each call.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from livestate.bounds import BoundExceeded, Deadline, Stage, decompress

READ_CHUNK = 65536


@dataclass
class Exchange:
    """One request's bounds and what it has used of them."""

    deadline: Deadline
    max_raw: int  # bytes on the wire: status line, headers and body
    max_decoded: int  # bytes of the body once decompressed
    received: int = 0
    stage: Stage = Stage.HEADERS
    encodings: list[str] = field(default_factory=list)  # the Content-Encoding the server declared, in order


_current = threading.local()


@contextmanager
def exchange(bounds: Exchange) -> Iterator[Exchange]:
    """Bound every urllib3 read made by this thread inside the block (through an `install`ed pool manager)."""
    previous = getattr(_current, "exchange", None)
    _current.exchange = bounds
    try:
        yield bounds
    finally:
        _current.exchange = previous


class _BoundedSocketReader(io.RawIOBase):
    """The socket as http.client reads it, one recv at a time: each waits at most the deadline's remainder,
    and the bytes are counted against the raw cap."""

    def __init__(self, raw: Any, sock: socket.socket, bounds: Exchange | None) -> None:
        self.raw, self.sock, self.bounds = raw, sock, bounds  # raw: the socket's own SocketIO (it holds the socket open)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        bounds = self.bounds
        if bounds is None:
            return int(self.raw.readinto(buffer))
        remaining = bounds.deadline.remaining()
        if remaining <= 0:
            raise bounds.deadline.exceeded(bounds.stage)
        timeout = self.sock.gettimeout()
        self.sock.settimeout(remaining if timeout is None else min(timeout, remaining))
        try:
            count = int(self.raw.readinto(buffer))
        except TimeoutError:
            if bounds.deadline.expired():
                raise bounds.deadline.exceeded(bounds.stage) from None
            raise
        finally:
            self.sock.settimeout(timeout)
        bounds.received += count
        if bounds.received > bounds.max_raw:
            raise BoundExceeded(bounds.stage, f"more than {bounds.max_raw} bytes received (the cap on one answer)")
        return count


class BoundedHTTPResponse(http.client.HTTPResponse):
    """http.client's response over a `_BoundedSocketReader`; it hides Content-Encoding from urllib3 (which
    would decompress without a cap) and records it for `read_body`."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.bounds: Exchange | None = getattr(_current, "exchange", None)
        raw = self.fp.detach()  # the SocketIO of sock.makefile(); detached, so dropping its buffer does not close it
        self.fp = io.BufferedReader(_BoundedSocketReader(raw, sock, self.bounds), READ_CHUNK)

    def begin(self) -> None:
        super().begin()
        if self.bounds is not None:
            self.bounds.stage = Stage.BODY
            self.bounds.encodings = [c.strip().lower() for v in self.msg.get_all("Content-Encoding") or [] for c in v.split(",") if c.strip()]
            del self.msg["Content-Encoding"]


class BoundedHTTPConnection(HTTPConnection):
    response_class = BoundedHTTPResponse


class BoundedHTTPSConnection(HTTPSConnection):
    response_class = BoundedHTTPResponse


class BoundedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = BoundedHTTPConnection


class BoundedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = BoundedHTTPSConnection


def install(pool_manager: urllib3.PoolManager) -> None:
    """Make every connection `pool_manager` opens from now on a bounded one."""
    pool_manager.clear()
    pool_manager.pool_classes_by_scheme = {"http": BoundedHTTPConnectionPool, "https": BoundedHTTPSConnectionPool}


def read_body(response: Any, bounds: Exchange) -> bytes:
    """A urllib3 response's body, read in chunks against the exchange's deadline and raw cap, then
    decompressed (gzip, deflate) under its decoded cap; BoundExceeded or ValueError (corrupt, unknown coding)."""
    raw = bytearray()
    while chunk := response.read(READ_CHUNK, decode_content=False):
        raw += chunk
        if bounds.deadline.expired():
            raise bounds.deadline.exceeded(Stage.BODY)
    body = bytes(raw)
    for coding in reversed(bounds.encodings):  # applied in order, so undone in reverse
        body = decompress(body, coding, bounds.max_decoded)
    if len(body) > bounds.max_decoded:
        raise BoundExceeded(Stage.BODY, f"a body of more than {bounds.max_decoded} bytes (the cap on this answer)")
    return body
