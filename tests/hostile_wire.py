"""The loopback side of the hostile servers (tests/hostile_server.py): `HostileServer` listens on a free 127.0.0.1
port and hands each connection to a behaviour in a daemon thread, stopping all of them when the `with` block ends
(or after `lifetime` seconds); `Connection` reads one HTTP request and writes answers and WebSocket frames, each
blocking step looking at the stop flag, so nothing outlives a test."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

TICK_S = 0.05  # the pace of a trickle: far under any --timeout a test uses, so only a total deadline stops it
SOCKET_TIMEOUT_S = 0.5  # how often a blocked read or write looks at the stop flag
MAX_REQUEST_BYTES = 2**16
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


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
        return self.send(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {base64.b64encode(digest).decode()}\r\n\r\n"
            ).encode()
        )

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
