"""A real python-socketio ASGI server for the end-to-end lab (what the IDE server is to nginx).

Environment: BACKEND_ID (answers the `whoami` event), PING_INTERVAL / PING_TIMEOUT (whole seconds),
SIO_PATH (default theia/socket.io), IDE_PATHS (comma-separated paths the page answers 200 on, every
other path 404 as a static file server does; unset: every path answers 200).
"""

import os
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

AsgiMessage = dict[str, Any]

BACKEND_ID = os.environ.get("BACKEND_ID", "backend")
IDE_PATHS = frozenset(os.environ["IDE_PATHS"].split(",")) if os.environ.get("IDE_PATHS") else None
sio = socketio.AsyncServer(
    async_mode="asgi",
    cors_allowed_origins="*",
    ping_interval=int(os.environ.get("PING_INTERVAL", "25")),
    ping_timeout=int(os.environ.get("PING_TIMEOUT", "20")),
)


@sio.event
async def whoami(sid: str) -> str:
    return BACKEND_ID


async def index(
    scope: AsgiMessage, receive: Callable[[], Awaitable[AsgiMessage]], send: Callable[[AsgiMessage], Awaitable[None]]
) -> None:  # the IDE's page, for requests outside socket.io
    if IDE_PATHS is not None and scope.get("path") not in IDE_PATHS:
        await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"Cannot GET"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": b"<!doctype html><title>IDE</title>"})


app = socketio.ASGIApp(sio, other_asgi_app=index, socketio_path=os.environ.get("SIO_PATH", "theia/socket.io"))
