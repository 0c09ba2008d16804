"""Engine.IO v4 and Socket.IO v5 wire facts: packet types, probes, payload framing, the open packet.

Specs: https://socket.io/docs/v4/engine-io-protocol/ and https://socket.io/docs/v4/socket-io-protocol/
(see socketio-facts.md in the shared research).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

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


@dataclass(frozen=True)
class OpenPacket:
    """What the server's OPEN packet promises the client."""

    sid: str
    upgrades: list[str]
    ping_interval_ms: int
    ping_timeout_ms: int


def open_payload(packet: str) -> Any:
    """The JSON of an OPEN packet; ValueError when the packet is not one."""
    if not packet.startswith(EngineIOPacket.OPEN):
        raise ValueError(f"not an open packet: {packet[:20]!r}")
    return json.loads(packet[1:])


def parse_open(body: str) -> OpenPacket:
    """The OPEN packet that starts a polling handshake's payload; ValueError when it is not a v4 one."""
    try:
        opened = open_payload(split_payload(body)[0])
        return OpenPacket(sid=str(opened["sid"]), upgrades=list(opened.get("upgrades") or []),
                          ping_interval_ms=int(opened["pingInterval"]), ping_timeout_ms=int(opened["pingTimeout"]))
    except (KeyError, TypeError) as error:
        raise ValueError(f"not an Engine.IO v4 open packet: {error}") from None
