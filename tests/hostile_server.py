"""A hostile Engine.IO server on 127.0.0.1 for `ops verify`: it trickles, hangs, floods, bombs and lies.

`HostileServer(behaviour)` listens on a free loopback port, answers each connection in a daemon
thread and stops every one of them when the `with` block ends (each also stops by itself after
`lifetime` seconds): nothing it starts outlives a test.

A behaviour is named by where it turns hostile: `http:*` at the first request (the handshake),
`poll:*` once the handshake passed (the polling rounds), `ws:*` once polling passed (the WebSockets).
Before that point it answers as a correct Engine.IO v4 / Socket.IO v5 server would.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import socket
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

TICK_S = 0.05  # the pace of a trickle: far under any --timeout a test uses, so only a total deadline stops it
SOCKET_TIMEOUT_S = 0.5  # how often a blocked read or write looks at the stop flag
MAX_REQUEST_BYTES = 2**16
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

GOOD_OPEN = {"sid": "hostile-sid", "upgrades": ["websocket"], "pingInterval": 25000, "pingTimeout": 20000, "maxPayload": 1000000}
CONNECTED = '40{"sid":"socket-sid"}'

# Open packets that must not pass the handshake: every v4 field with a wrong type or value.
BAD_OPEN_PACKETS = (
    "0" + json.dumps(GOOD_OPEN | {"sid": ""}),
    "0" + json.dumps(GOOD_OPEN | {"sid": 12}),
    "0" + json.dumps(GOOD_OPEN | {"pingInterval": True}),
    "0" + json.dumps(GOOD_OPEN | {"pingTimeout": 2.5}),
    "0" + json.dumps(GOOD_OPEN | {"pingInterval": "25000"}),
    "0" + json.dumps(GOOD_OPEN | {"upgrades": "websocket"}),
    "0" + json.dumps(GOOD_OPEN | {"upgrades": [1]}),
    "0" + json.dumps(GOOD_OPEN | {"maxPayload": False}),
    "0" + json.dumps({k: v for k, v in GOOD_OPEN.items() if k != "maxPayload"}),
    '0{"sid":"x","upgrades":["websocket"],"pingInterval":NaN,"pingTimeout":1,"maxPayload":1}',
    "0" + "[" * 50_000,
    "0[]",
    "0",
    "",
    "\x1e\x1e",
)
# Polling payloads that must not count as a CONNECT reply.
BAD_POLL_PAYLOADS = ("", "\x1e", "9nonsense", "40garbage", '40{"sid":""}', "40[]", '40/other,{"sid":"x"}', '44{"message":1}', "4")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]

    @property
    def is_handshake(self) -> bool:
        return self.query.get("transport") == "polling" and "sid" not in self.query

    @property
    def is_websocket(self) -> bool:
        return self.headers.get("upgrade", "").lower() == "websocket"


class Connection:
    """One accepted socket: what a behaviour writes to, stopping when the server stops."""

    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock, self.stop = sock, stop
        self.buffer = b""

    def send(self, data: bytes) -> bool:
        """False once the peer is gone or the server stopped: a behaviour's loop ends there."""
        if self.stop.is_set():
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def wait(self, seconds: float) -> bool:
        return not self.stop.wait(seconds)

    def read_until(self, marker: bytes) -> bytes | None:
        while marker not in self.buffer:
            if len(self.buffer) > MAX_REQUEST_BYTES or not self._fill():
                return None
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def read_exactly(self, count: int) -> bytes | None:
        while len(self.buffer) < count:
            if count > MAX_REQUEST_BYTES or not self._fill():
                return None
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _fill(self) -> bool:
        while not self.stop.is_set():
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return False
            self.buffer += chunk
            return bool(chunk)
        return False

    def read_request(self) -> Request | None:
        head = self.read_until(b"\r\n\r\n")
        if head is None:
            return None
        line, *lines = head.decode("latin-1").split("\r\n")
        method, target, _ = [*line.split(" "), "", ""][:3]
        headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in lines)}
        if self.read_exactly(int(headers.get("content-length", "0") or 0)) is None:
            return None
        parts = urlsplit(target)
        return Request(method, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}, headers)

    def respond(self, body: bytes | str, status: str = "200 OK", headers: dict[str, str] | None = None) -> bool:
        data = body.encode() if isinstance(body, str) else body
        fields = {"Content-Type": "text/plain; charset=UTF-8", "Content-Length": str(len(data))} | (headers or {})
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        return self.send(head.encode() + data)

    # WebSocket (RFC 6455), server side: frames out unmasked, frames in masked
    def accept_websocket(self, request: Request) -> bool:
        digest = hashlib.sha1((request.headers.get("sec-websocket-key", "") + WEBSOCKET_GUID).encode()).digest()
        return self.send(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {base64.b64encode(digest).decode()}\r\n\r\n").encode())

    def send_frame(self, payload: bytes | str, opcode: int = 1, fin: bool = True, claimed_length: int | None = None) -> bool:
        data = payload.encode() if isinstance(payload, str) else payload
        length = len(data) if claimed_length is None else claimed_length
        first = bytes([(0x80 if fin else 0) | opcode])
        if length < 126:
            header = first + bytes([length])
        elif length < 2**16:
            header = first + bytes([126]) + length.to_bytes(2, "big")
        else:
            header = first + bytes([127]) + length.to_bytes(8, "big")
        return self.send(header + data)

    def receive_text(self) -> str | None:
        """The next client text frame's payload (close, ping and binary frames skipped); None once closed."""
        while True:
            header = self.read_exactly(2)
            if header is None:
                return None
            length = header[1] & 0x7F
            if length >= 126:
                extended = self.read_exactly(2 if length == 126 else 8)
                if extended is None:
                    return None
                length = int.from_bytes(extended, "big")
            mask = self.read_exactly(4) if header[1] & 0x80 else b"\0\0\0\0"
            payload = self.read_exactly(length)
            if mask is None or payload is None:
                return None
            opcode = header[0] & 0x0F
            if opcode == 8:
                return None
            if opcode == 1:
                return bytes(b ^ mask[i % 4] for i, b in enumerate(payload)).decode(errors="replace")


Behaviour = Callable[[Connection, Request], bool]  # answers one request; False ends the connection


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



# --- Google Cloud answers that break the API's promise (ops inspect's Compute and Container reads) ---

def google_answer(status: str, body: bytes | str, content_type: str = "application/json; charset=UTF-8") -> Behaviour:
    """Every request answered with `status` and `body` as given."""
    def answer(conn: Connection, request: Request) -> bool:
        return conn.respond(body, status, {"Content-Type": content_type})
    return answer


def cut_short(conn: Connection, request: Request) -> bool:
    """A Content-Length promising 1000 bytes, 20 sent, then the connection closed."""
    conn.send(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name": "k8s1-abc",')
    return False


def gzip_answer(body: bytes) -> Behaviour:
    """A correct answer, gzip-encoded as Google's front ends send it to clients that accept gzip."""
    def answer(conn: Connection, request: Request) -> bool:
        compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return conn.respond(compressor.compress(body) + compressor.flush(), headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    return answer


GOOGLE_ERROR_401 = json.dumps({"error": {"code": 401, "status": "UNAUTHENTICATED",
                                         "message": "Request had invalid authentication credentials. Expected OAuth 2 access token."}})
GOOGLE_ERROR_403 = json.dumps({"error": {"code": 403, "message": "Required 'compute.backendServices.get' permission for 'projects/p/global/backendServices/x'",
                                         "errors": [{"message": "Required 'compute.backendServices.get' permission", "domain": "global", "reason": "forbidden"}]}})
# name -> behaviour: the answers of a server that is not the API it claims to be, at the HTTP level and in the JSON
GCP_BEHAVIOURS: dict[str, Behaviour] = {
    "hang": hang, "trickle_headers": trickle_headers, "trickle_body": trickle_body, "endless_body": endless_body,
    "huge_headers": huge_headers, "not_http": not_http, "gzip_bomb": compressed("gzip"), "deflate_bomb": compressed("deflate"),
    "corrupt_gzip": corrupt_gzip, "unknown_coding": unknown_coding,
    "cut_short": cut_short,
    "truncated_json": google_answer("200 OK", '{"name": "k8s1-abc", "backends": [{"group": "https://'),
    "html_200": google_answer("200 OK", "<!DOCTYPE html><html><title>Sign in</title><body>captive portal</body></html>", "text/html"),
    "list_for_object": google_answer("200 OK", '[{"name": "k8s1-abc"}]'),
    "wrong_type": google_answer("200 OK", '{"name": "k8s1-abc", "timeoutSec": "thirty", "currentNodeCount": "three", "backends": "all"}'),
    "not_utf8": google_answer("200 OK", b'{"name": "\xff\xfe"}'),
    "deep_nesting": google_answer("200 OK", '{"backends": ' + "[" * 5000 + "]" * 5000 + "}"),
    "escape_sequences": google_answer("200 OK", r'{"name": "\u001b[2J", "timeoutSec": "\u001b[2J\u001b[32mPASS", "selfLink": 5}'),
    "unauthenticated_401": google_answer("401 Unauthorized", GOOGLE_ERROR_401),
    "forbidden_403": google_answer("403 Forbidden", GOOGLE_ERROR_403),
    "forbidden_403_list_body": google_answer("403 Forbidden", "[1, 2]"),
    "error_500_string_error": google_answer("500 Internal Server Error", '{"error": "boom\u001b[2J"}'),
    "error_502_html": google_answer("502 Bad Gateway", "<html><body>\x1b[2J upstream</body></html>", "text/html"),
}

# --- a correct Engine.IO server, hostile from one step on ------------------------------------------

def engine_io(polling: Behaviour | None = None, websocket: Callable[[Connection, Request], None] | None = None) -> Behaviour:
    """A correct server whose polling GETs after the handshake (`polling`) or WebSockets (`websocket`) turn hostile."""
    def answer(conn: Connection, request: Request) -> bool:
        if request.is_websocket:
            if not conn.accept_websocket(request):
                return False
            (websocket or good_websocket)(conn, request)
            return False
        if request.is_handshake:
            return conn.respond("0" + json.dumps(GOOD_OPEN))
        if request.method == "POST":
            return conn.respond("ok")
        return (polling or answer_with(CONNECTED))(conn, request)
    return answer


def good_websocket(conn: Connection, request: Request) -> None:
    if "sid" not in request.query:
        conn.send_frame("0" + json.dumps(GOOD_OPEN | {"upgrades": []}))
    while (text := conn.receive_text()) is not None:
        if text == "2probe":
            conn.send_frame("3probe")
        elif text.startswith("40"):
            conn.send_frame(CONNECTED if text == "40" else text.replace("40", "44", 1) + '{"message":"Invalid namespace"}')


def ws_hang(conn: Connection, request: Request) -> None:
    conn.wait(3600)


def ws_oversized_frame(conn: Connection, request: Request) -> None:
    conn.send_frame(b"", claimed_length=2**40)  # a header promising a terabyte
    while conn.send(b"4" * 65536):
        pass


def ws_big_message(conn: Connection, request: Request) -> None:
    conn.send_frame("4" + "x" * 65535, fin=False)
    while conn.send_frame("x" * 65536, opcode=0, fin=False):
        pass


def ws_trickle_fragments(conn: Connection, request: Request) -> None:
    conn.send_frame("3pro", fin=False)
    while conn.wait(TICK_S) and conn.send_frame("b", opcode=0, fin=False):
        pass


def ws_ping_flood(conn: Connection, request: Request) -> None:
    while conn.send_frame("2"):
        pass


def ws_reserved_bits(conn: Connection, request: Request) -> None:
    conn.send(b"\xf1\x05hello")  # RSV1-3 set without an extension: a protocol error
    conn.wait(3600)


def ws_invalid_utf8(conn: Connection, request: Request) -> None:
    conn.send_frame(b"3\xff\xfe")
    conn.wait(3600)


def ws_malformed_packets(conn: Connection, request: Request) -> None:
    conn.send_frame("9nonsense")
    conn.wait(3600)


def ws_bad_open(conn: Connection, request: Request) -> None:
    if "sid" not in request.query:
        conn.send_frame("0" + json.dumps(GOOD_OPEN | {"sid": ""}))
        conn.wait(3600)
    else:
        good_websocket(conn, request)


BEHAVIOURS: dict[str, Behaviour] = {
    "http:hang": hang,
    "http:trickle_headers": trickle_headers,
    "http:trickle_body": trickle_body,
    "http:endless_body": endless_body,
    "http:huge_headers": huge_headers,
    "http:not_http": not_http,
    "http:gzip_bomb": compressed("gzip"),
    "http:deflate_bomb": compressed("deflate"),
    "http:corrupt_gzip": corrupt_gzip,
    "http:unknown_coding": unknown_coding,
    **{f"http:bad_open_{i}": answer_with(body) for i, body in enumerate(BAD_OPEN_PACKETS)},
    "poll:hang": engine_io(polling=hang),
    "poll:trickle_body": engine_io(polling=trickle_body),
    "poll:endless_body": engine_io(polling=endless_body),
    "poll:gzip_bomb": engine_io(polling=compressed("gzip")),
    **{f"poll:bad_payload_{i}": engine_io(polling=answer_with(body)) for i, body in enumerate(BAD_POLL_PAYLOADS)},
    "ws:hang": engine_io(websocket=ws_hang),
    "ws:oversized_frame": engine_io(websocket=ws_oversized_frame),
    "ws:big_message": engine_io(websocket=ws_big_message),
    "ws:trickle_fragments": engine_io(websocket=ws_trickle_fragments),
    "ws:ping_flood": engine_io(websocket=ws_ping_flood),
    "ws:reserved_bits": engine_io(websocket=ws_reserved_bits),
    "ws:invalid_utf8": engine_io(websocket=ws_invalid_utf8),
    "ws:malformed_packets": engine_io(websocket=ws_malformed_packets),
    "ws:bad_open": engine_io(websocket=ws_bad_open),
}
GOOD = engine_io()  # the control: every check passes against it


class HostileServer:
    """`behaviour` served on 127.0.0.1 until the `with` block ends or `lifetime` seconds pass."""

    def __init__(self, behaviour: Behaviour, lifetime: float = 60.0, *, raw: bool = False) -> None:
        self.behaviour, self.lifetime = behaviour, lifetime
        self.raw = raw  # the behaviour answers the bare connection (a TLS stand-in), not an HTTP request
        self.stop = threading.Event()
        self.timer = threading.Timer(lifetime, self.stop.set)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(TICK_S)
        self.port: int = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self.sockets: list[socket.socket] = []

    def url(self, path: str = "/socket.io/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> HostileServer:
        self._start(self._accept)
        self.timer.daemon = True
        self.timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.timer.cancel()
        self.stop.set()
        for sock in [self.listener, *self.sockets]:
            sock.close()
        for thread in self.threads:
            thread.join(timeout=2)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(SOCKET_TIMEOUT_S)
            self.sockets.append(sock)
            self._start(self._serve, sock)

    def _serve(self, sock: socket.socket) -> None:
        conn = Connection(sock, self.stop)
        try:
            if self.raw:
                self.behaviour(conn, Request("", "", {}, {}))
                return
            while (request := conn.read_request()) is not None and self.behaviour(conn, request):
                pass
        finally:
            sock.close()
