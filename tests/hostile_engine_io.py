"""A correct Engine.IO v4 / Socket.IO v5 server for `ops verify`, hostile from one step on: at the handshake
(`http:*`), in the polling rounds (`poll:*`) or on the WebSocket (`ws:*`); BEHAVIOURS names each, GOOD is the control."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.hostile_http import answer_with, compressed, corrupt_gzip, endless_body, hang, huge_headers, not_http, trickle_body, trickle_headers, unknown_coding
from tests.hostile_wire import TICK_S, Behaviour, Connection, Request

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
