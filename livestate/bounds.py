"""What one network step may cost: a total deadline and caps on the bytes read and decoded.

A per-read timeout is no bound: a server sending one byte a second extends it forever. Every step
(one HTTP exchange from connect to the last body byte, one WebSocket open, one awaited WebSocket
message) gets a `Deadline` of --timeout seconds in total, and every body a byte cap before and after
decompression, so a trickle, an endless body or a gzip bomb ends as a verdict, not a hang or a MemoryError.
"""

from __future__ import annotations

import time
import zlib
from enum import StrEnum

MAX_BODY_BYTES = 2**20  # an Engine.IO polling payload is at most maxPayload (1 MB by default) long
MAX_DECODED_BYTES = 2**20  # the same cap after gzip/deflate: a 1 KB bomb must not inflate to gigabytes
MAX_WEBSOCKET_MESSAGE = 2**20  # websockets refuses (close 1009) a longer message, decompressed or not
MAX_WEBSOCKET_QUEUE = 4  # messages buffered ahead of the reader: 4 MiB at most
ACCEPT_ENCODING = "gzip, deflate"  # every client asks only for what `decompress` undoes under its cap


class Stage(StrEnum):
    """The part of a network step a deadline or cap stopped, as the verdict names it."""

    CONNECT = "TCP connect"
    TLS = "TLS handshake"
    REQUEST = "sending the request"
    HEADERS = "response headers"
    BODY = "response body"
    DECODING = "decompressing the body"
    WEBSOCKET_OPEN = "WebSocket open"
    WEBSOCKET_MESSAGE = "WebSocket message"


class BoundExceeded(Exception):
    """A step ran past its deadline (`late`) or a byte cap; `detail` says which and by how much."""

    def __init__(self, stage: Stage, detail: str, *, late: bool = False) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage, self.detail, self.late = stage, detail, late


class Deadline:
    """A fixed point in time a step must finish by; `remaining` is what a blocking call may still wait."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def exceeded(self, stage: Stage) -> BoundExceeded:
        return BoundExceeded(stage, f"not done within the {self.seconds:g} s deadline (--timeout)", late=True)


def decompress(body: bytes, coding: str, cap: int = MAX_DECODED_BYTES) -> bytes:
    """One content coding undone, never holding more than `cap` + 1 decoded bytes; ValueError for an
    unknown or corrupt coding. The one decoder of verify's, the Kubernetes and the Google clients' bodies."""
    if coding == "identity":
        return body
    if coding in ("gzip", "x-gzip"):
        candidates = [zlib.MAX_WBITS | 16]
    elif coding == "deflate":
        candidates = [zlib.MAX_WBITS, -zlib.MAX_WBITS]  # zlib-wrapped as RFC 9110 says, raw as some servers send
    else:
        raise ValueError(f"a body in {coding!r}, which was not asked for (Accept-Encoding: {ACCEPT_ENCODING})")
    problem = ""
    for wbits in candidates:
        decoder = zlib.decompressobj(wbits)
        try:
            decoded = decoder.decompress(body, cap + 1)
        except zlib.error as error:
            problem = str(error)
            continue
        if len(decoded) > cap or decoder.unconsumed_tail:
            raise BoundExceeded(Stage.DECODING, f"more than {cap} bytes once decompressed from {len(body)} ({coding})")
        if not decoder.eof:
            problem = "the compressed stream ends early"
            continue
        return decoded
    raise ValueError(f"a corrupt {coding} body: {problem}")
