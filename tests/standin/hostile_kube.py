"""The Kubernetes stand-in (servers.KubeHandler) with chosen paths turned hostile: an answer that is not
what the API promises (truncated JSON, HTML with 200, a list for an object), one that never ends or never
fits (a trickle, an endless chunked body, a gzip bomb), a 401, or a list that says it is partial.
Every other path answers as the strict stand-in does. Loops stop when the client goes or the block ends."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from tests.hostile_server import TICK_S, bomb
from tests.standin.servers import KubeHandler
from tests.standin.world import World

Json = dict[str, Any]
Action = Callable[["HostileKubeHandler", dict[str, list[str]]], None]


@dataclass
class Sabotage:
    """Path pattern -> what the server does instead of answering; `seen` records the queries of those requests."""

    actions: list[tuple[re.Pattern[str], Action]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    seen: list[dict[str, list[str]]] = field(default_factory=list)

    def on(self, pattern: str, action: Action) -> Sabotage:
        self.actions.append((re.compile(pattern), action))
        return self


class HostileKubeHandler(KubeHandler):
    sabotage: Sabotage

    def answer(self, path: str, query: dict[str, list[str]]) -> None:
        for pattern, action in self.sabotage.actions:
            if pattern.search(path):
                self.sabotage.seen.append(query)
                action(self, query)
                return
        super().answer(path, query)

    def raw(self, data: bytes) -> bool:
        if self.sabotage.stop.is_set():
            return False
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            return False
        return True


def body(data: bytes | str, status: int = 200, content_type: str = "application/json", headers: dict[str, str] | None = None) -> Action:
    payload = data.encode() if isinstance(data, str) else data

    def act(handler: HostileKubeHandler, query: dict[str, list[str]]) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.raw(payload)

    return act


def json_body(value: Any, status: int = 200) -> Action:
    return body(json.dumps(value), status)


def unauthorized() -> Action:
    """What kube-apiserver answers a request whose credentials it does not accept."""
    return json_body(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401}, 401
    )


def trickle_body(handler: HostileKubeHandler, query: dict[str, list[str]]) -> None:
    """A 200 promising a megabyte, sent a byte per tick: each read succeeds, only a total deadline ends it."""
    handler.raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{")
    while not handler.sabotage.stop.wait(TICK_S) and handler.raw(b" "):
        pass


def trickle_headers(handler: HostileKubeHandler, query: dict[str, list[str]]) -> None:
    handler.raw(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not handler.sabotage.stop.wait(TICK_S) and handler.raw(b"x"):
        pass


def hang(handler: HostileKubeHandler, query: dict[str, list[str]]) -> None:
    handler.sabotage.stop.wait(60)


def endless_body(handler: HostileKubeHandler, query: dict[str, list[str]]) -> None:
    handler.raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    while handler.raw(chunk):
        pass


def gzip_bomb(inflated_mib: int = 1024) -> Action:
    """About 1 MiB of gzip (for 1 GiB) inflating to `inflated_mib` MiB of zeros."""
    return body(bomb("gzip", inflated_mib), headers={"Content-Encoding": "gzip"})


def paged(items: list[Json], kind: str, per_page: int, remaining_without_continue: bool = False, endless: bool = False) -> Action:
    """A list served `per_page` items at a time, with metadata.continue the offset of the next page; `endless`:
    always another page; `remaining_without_continue`: remainingItemCount without a continue token."""

    def act(handler: HostileKubeHandler, query: dict[str, list[str]]) -> None:
        offset = int((query.get("continue") or ["0"])[0])
        page = items[offset : offset + per_page]
        meta: Json = {"resourceVersion": "88214100"}
        rest = len(items) - offset - len(page)
        if remaining_without_continue:
            meta["remainingItemCount"] = max(rest, 1)
        elif rest > 0 or endless:
            meta["continue"] = str(offset + per_page if rest > 0 else offset)
            meta["remainingItemCount"] = max(rest, 1)
        json_body({"apiVersion": "v1", "kind": kind, "metadata": meta, "items": page})(handler, query)

    return act


@contextmanager
def serving_hostile(world: World, sabotage: Sabotage) -> Iterator[str]:
    bound = type("BoundHostileKubeHandler", (HostileKubeHandler,), {"world": world, "sabotage": sabotage})
    server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        sabotage.stop.set()
        server.shutdown()
        server.server_close()
