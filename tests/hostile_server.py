"""A hostile Engine.IO server on 127.0.0.1 for `ops verify`: it trickles, hangs, floods, bombs and lies.

`HostileServer(behaviour)` listens on a free loopback port, answers each connection in a daemon
thread and stops every one of them when the `with` block ends (each also stops by itself after
`lifetime` seconds): nothing it starts outlives a test.

A behaviour is named by where it turns hostile: `http:*` at the first request (the handshake),
`poll:*` once the handshake passed (the polling rounds), `ws:*` once polling passed (the WebSockets).
Before that point it answers as a correct Engine.IO v4 / Socket.IO v5 server would.

This module gathers what its parts serve, so importers name one module: hostile_wire.py (the loopback server
and its connection), hostile_http.py (HTTP answers that never finish, end or fit), hostile_google.py (Google
Cloud answers that break the API's promise) and hostile_engine_io.py (the Engine.IO server, hostile from one step on).
"""

from __future__ import annotations

from tests.hostile_engine_io import (
    BAD_OPEN_PACKETS,
    BAD_POLL_PAYLOADS,
    BEHAVIOURS,
    CONNECTED,
    GOOD,
    GOOD_OPEN,
    engine_io,
    good_websocket,
    ws_bad_open,
    ws_big_message,
    ws_hang,
    ws_invalid_utf8,
    ws_malformed_packets,
    ws_oversized_frame,
    ws_ping_flood,
    ws_reserved_bits,
    ws_trickle_fragments,
)
from tests.hostile_google import (
    GCP_BEHAVIOURS,
    GOOGLE_ERROR_401,
    GOOGLE_ERROR_403,
    cut_short,
    google_answer,
    gzip_answer,
)
from tests.hostile_http import (
    answer_with,
    bomb,
    compressed,
    corrupt_gzip,
    endless_body,
    hang,
    huge_headers,
    not_http,
    tls_trickle,
    trickle_body,
    trickle_headers,
    unknown_coding,
)
from tests.hostile_wire import (
    MAX_REQUEST_BYTES,
    SOCKET_TIMEOUT_S,
    TICK_S,
    WEBSOCKET_GUID,
    Behaviour,
    Connection,
    HostileServer,
    Request,
)

__all__ = [
    "BAD_OPEN_PACKETS",
    "BAD_POLL_PAYLOADS",
    "BEHAVIOURS",
    "CONNECTED",
    "GCP_BEHAVIOURS",
    "GOOD",
    "GOOD_OPEN",
    "GOOGLE_ERROR_401",
    "GOOGLE_ERROR_403",
    "MAX_REQUEST_BYTES",
    "SOCKET_TIMEOUT_S",
    "TICK_S",
    "WEBSOCKET_GUID",
    "Behaviour",
    "Connection",
    "HostileServer",
    "Request",
    "answer_with",
    "bomb",
    "compressed",
    "corrupt_gzip",
    "cut_short",
    "endless_body",
    "engine_io",
    "good_websocket",
    "google_answer",
    "gzip_answer",
    "hang",
    "huge_headers",
    "not_http",
    "tls_trickle",
    "trickle_body",
    "trickle_headers",
    "unknown_coding",
    "ws_bad_open",
    "ws_big_message",
    "ws_hang",
    "ws_invalid_utf8",
    "ws_malformed_packets",
    "ws_oversized_frame",
    "ws_ping_flood",
    "ws_reserved_bits",
    "ws_trickle_fragments",
]
