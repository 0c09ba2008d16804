"""HTTP answers that never finish, never end, or never fit (a hang, trickles, an endless body, huge headers,
compression bombs, a body that is not what it says), served by tests/hostile_wire.py's `HostileServer`."""

from __future__ import annotations

import functools
import zlib

from tests.hostile_wire import TICK_S, Behaviour, Connection, Request


@functools.cache
def bomb(coding: str, inflated_mib: int = 64) -> bytes:
    """`inflated_mib` MiB of zeros, compressed (gzip: ~64 KB): a client decompressing it whole allocates all of it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS)
    chunk = bytes(2**20)
    return b"".join(compressor.compress(chunk) for _ in range(inflated_mib)) + compressor.flush()


# --- HTTP answers that never finish, never end, or never fit ---------------------------------------


def hang(conn: Connection, request: Request) -> bool:
    conn.wait(3600)
    return False


def trickle_headers(conn: Connection, request: Request) -> bool:
    conn.send(b"HTTP/1.1 200 OK\r\n")
    while conn.wait(TICK_S) and conn.send(b"X"):
        pass
    return False


def trickle_body(conn: Connection, request: Request) -> bool:
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n0")
    while conn.wait(TICK_S) and conn.send(b" "):
        pass
    return False


def endless_body(conn: Connection, request: Request) -> bool:
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"0" * 0x10000 + b"\r\n"
    while conn.send(chunk):
        pass
    return False


def huge_headers(conn: Connection, request: Request) -> bool:
    conn.send(b"HTTP/1.1 200 OK\r\nX-Huge: ")
    while conn.send(b"a" * 65536):
        pass
    return False


def tls_trickle(conn: Connection, request: Request) -> bool:
    """For a raw server: the start of a 16 KiB TLS handshake record, then a byte at a time. Each of the
    client's reads gets its byte well within any per-read timeout: only a total deadline ends it."""
    conn.send(b"\x16\x03\x03\x40\x00\x02")
    while conn.wait(TICK_S) and conn.send(b"\x00"):
        pass
    return False


def not_http(conn: Connection, request: Request) -> bool:
    conn.send(b"\x00\xff garbage that is no status line\r\n\r\n")
    return False


def compressed(coding: str) -> Behaviour:
    def answer(conn: Connection, request: Request) -> bool:
        return conn.respond(bomb(coding), headers={"Content-Encoding": coding})

    return answer


def corrupt_gzip(conn: Connection, request: Request) -> bool:
    return conn.respond(b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})


def unknown_coding(conn: Connection, request: Request) -> bool:
    return conn.respond(b"0{}", headers={"Content-Encoding": "br"})


def answer_with(body: str) -> Behaviour:
    def answer(conn: Connection, request: Request) -> bool:
        return conn.respond(body)

    return answer
