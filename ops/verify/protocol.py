"""Engine.IO v4 and Socket.IO v5 wire facts: packet types, probes, payload framing, the open packet.

Specs: https://socket.io/docs/v4/engine-io-protocol/ and https://socket.io/docs/v4/socket-io-protocol/
(https://socket.io/docs/v4/engine-io-protocol/, https://socket.io/docs/v4/socket-io-protocol/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from ops.errors import shown

ENGINE_IO_VERSION = "4"  # the EIO query parameter
RECORD_SEPARATOR = "\x1e"  # joins packets in one HTTP long-polling payload


class EngineIOPacket(StrEnum):
    """The first character of every Engine.IO packet."""

    OPEN = "0"
    CLOSE = "1"
    PING = "2"
    PONG = "3"
    MESSAGE = "4"
    UPGRADE = "5"
    NOOP = "6"


class SocketIOPacket(StrEnum):
    """The type of a Socket.IO packet, carried inside an Engine.IO MESSAGE."""

    CONNECT = "0"
    DISCONNECT = "1"
    EVENT = "2"
    ACK = "3"
    CONNECT_ERROR = "4"
    BINARY_EVENT = "5"
    BINARY_ACK = "6"


class EngineIOTransport(StrEnum):
    """The `transport` query parameter."""

    POLLING = "polling"
    WEBSOCKET = "websocket"


PROBE = "probe"
PING_PROBE = f"{EngineIOPacket.PING}{PROBE}"  # "2probe": the client tests the new WebSocket of an upgrade
PONG_PROBE = f"{EngineIOPacket.PONG}{PROBE}"  # "3probe": the server answers it


def namespace_prefix(namespace: str) -> str:
    """The namespace as packets carry it: nothing for the main namespace, else '/name,'."""
    return "" if namespace == "/" else f"{namespace},"


def socketio_message(kind: SocketIOPacket, namespace: str = "/") -> str:
    """A Socket.IO packet without payload, framed as an Engine.IO message: "40", "41/admin,", ..."""
    return f"{EngineIOPacket.MESSAGE}{kind}{namespace_prefix(namespace)}"


class ConnectReplies(NamedTuple):
    """The prefixes of the two answers to a CONNECT (a tuple, so `str.startswith` takes it whole)."""

    accepted: str
    refused: str  # CONNECT_ERROR: the app refused the namespace (auth); the transport still carried it


def connect_replies(namespace: str) -> ConnectReplies:
    return ConnectReplies(socketio_message(SocketIOPacket.CONNECT, namespace), socketio_message(SocketIOPacket.CONNECT_ERROR, namespace))


def split_payload(body: str) -> list[str]:
    """The packets of one long-polling payload."""
    return body.split(RECORD_SEPARATOR)


BINARY_PREFIX = "b"  # a base64 binary message inside a long-polling payload
ENGINE_IO_TYPES = frozenset(EngineIOPacket)


def check_engineio(packet: str) -> None:
    """ValueError unless `packet` is an Engine.IO v4 text packet (a known type) or a base64 binary one."""
    if not packet:
        raise ValueError("an empty Engine.IO packet")
    if packet[0] not in ENGINE_IO_TYPES and packet[0] != BINARY_PREFIX:
        raise ValueError(f"an unknown Engine.IO packet type {packet[0]!r}")


def strict_json(text: str) -> Any:
    """JSON as a Socket.IO peer must send it: no NaN or Infinity, nesting bounded (ValueError, never RecursionError)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(text, parse_constant=refuse)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def exact_int(value: Any) -> bool:
    """An int and not a bool (`True` is an int to Python, not a number of milliseconds to Engine.IO)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class OpenPacket:
    """What the server's OPEN packet promises the client."""

    sid: str
    upgrades: list[str]
    ping_interval_ms: int
    ping_timeout_ms: int
    max_payload: int


def open_payload(packet: str) -> Any:
    """The JSON of an OPEN packet; ValueError when the packet is not one."""
    if not packet.startswith(EngineIOPacket.OPEN):
        raise ValueError(f"not an open packet: {packet[:20]!r}")
    return strict_json(packet[1:])


def parse_open(body: str) -> OpenPacket:
    """The OPEN packet that starts a payload; ValueError unless every v4 field has its exact type."""
    opened = open_payload(split_payload(body)[0])
    if not isinstance(opened, dict):
        raise ValueError("the open packet is not a JSON object")
    sid, upgrades = opened.get("sid"), opened.get("upgrades")
    if not isinstance(sid, str) or not sid or not sid.isprintable():
        raise ValueError(f"sid {shown(sid)} is not a non-empty printable string")
    if not isinstance(upgrades, list) or not all(isinstance(u, str) for u in upgrades):
        raise ValueError(f"upgrades {shown(upgrades)} is not a list of strings")
    for key in ("pingInterval", "pingTimeout", "maxPayload"):
        if not exact_int(opened.get(key)) or opened[key] <= 0:
            raise ValueError(f"{key} {shown(opened.get(key))} is not a positive integer")
    return OpenPacket(
        sid=sid, upgrades=upgrades, ping_interval_ms=opened["pingInterval"], ping_timeout_ms=opened["pingTimeout"], max_payload=opened["maxPayload"]
    )


@dataclass(frozen=True)
class SocketIOMessage:
    """A Socket.IO v5 packet: its type, namespace, ack id and JSON payload (None when absent)."""

    kind: SocketIOPacket
    namespace: str
    ack: int | None
    payload: Any


def parse_socketio(message: str) -> SocketIOMessage:
    """An Engine.IO MESSAGE carrying a Socket.IO packet, parsed strictly; ValueError when malformed."""
    if not message.startswith(EngineIOPacket.MESSAGE) or len(message) < 2:
        raise ValueError(f"not a Socket.IO packet: {message[:20]!r}")
    try:
        kind = SocketIOPacket(message[1])
    except ValueError:
        raise ValueError(f"an unknown Socket.IO packet type {message[1]!r}") from None
    rest = message[2:]
    if kind in (SocketIOPacket.BINARY_EVENT, SocketIOPacket.BINARY_ACK):
        count, dash, rest = rest.partition("-")
        if not dash or not count.isdecimal():
            raise ValueError("a binary packet without its attachment count")
    namespace = "/"
    if rest.startswith("/"):
        namespace, _, rest = rest.partition(",")  # "41/admin": a namespace and nothing after it leaves rest empty
    digits = len(rest) - len(rest.lstrip("0123456789"))
    ack = int(rest[:digits]) if digits else None
    payload = strict_json(rest[digits:]) if rest[digits:] else None
    return SocketIOMessage(kind, namespace, ack, payload)


def is_connect_reply(message: SocketIOMessage, namespace: str) -> bool:
    """An answer to CONNECT on `namespace`: accepted with a string sid, or refused with a message
    (an object with a string `message`, or the bare string python-socketio sends)."""
    if message.namespace != namespace:
        return False
    payload = message.payload
    if message.kind == SocketIOPacket.CONNECT:
        return isinstance(payload, dict) and isinstance(payload.get("sid"), str) and bool(payload["sid"])
    if message.kind == SocketIOPacket.CONNECT_ERROR:
        return isinstance(payload, str) or (isinstance(payload, dict) and isinstance(payload.get("message"), str))
    return False
