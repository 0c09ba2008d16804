"""The steps of a verification, in the order they run. Each returns what it observed or raises Failed.

handshake  Engine.IO v4 open packet: 200, a sid, `upgrades` has websocket, sane ping timings
polling    N rounds of namespace connect / reply / disconnect carrying the sid, all 200
ws_upgrade the same session upgraded to WebSocket (2probe/3probe/5) and a message over it
ws_only    a WebSocket-only session: separates "Upgrade not forwarded" from "no affinity"
hold       keep the upgraded socket S seconds answering pings, then a message
"""

from __future__ import annotations

import time
from typing import Any, assert_never

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from ops.verify import advice
from ops.verify.advice import Failed, Layer
from ops.verify.bounds import Deadline, Stage
from ops.verify.options import Options
from ops.verify.protocol import (
    PING_PROBE,
    PONG_PROBE,
    EngineIOPacket,
    EngineIOTransport,
    SocketIOPacket,
    check_engineio,
    connect_replies,
    is_connect_reply,
    parse_open,
    parse_socketio,
    socketio_message,
    split_payload,
)
from ops.verify.report import CheckName, Session
from ops.verify.transport import Answer, Transport

PROBE_NAMESPACE = "/__verify__"  # connected after the hold: any answer, accepted or refused, proves the socket lives
MAX_PING_MS = 300_000
POLLS_PER_REPLY = 4  # GETs to wait for a CONNECT reply: a ping or noop may come first
PINGS_PER_SECOND = 50  # more is a flood, not a heartbeat: answering it would let the server stall our sends


def ping_flood(pings: int, seconds: float) -> Failed | None:
    """The Failed for a server pinging faster than any heartbeat (50/s and a start of 50); None otherwise."""
    if pings <= PINGS_PER_SECOND * (1 + seconds):
        return None
    return Failed(f"{pings} pings in {seconds:.1f} s: a flood, not a heartbeat", Layer.APP, advice.MALFORMED, ends_run=True)


class Checks:
    def __init__(self, options: Options, transport: Transport) -> None:
        self.options = options
        self.transport = transport
        self.connect_packet = socketio_message(SocketIOPacket.CONNECT, options.namespace)
        self.disconnect_packet = socketio_message(SocketIOPacket.DISCONNECT, options.namespace)
        self.connect_replies = connect_replies(options.namespace)
        self.upgraded: ClientConnection | None = None  # the polling session's WebSocket, held by `hold`

    def handshake(self) -> dict[str, Any]:
        response = self.transport.get(self.transport.url(EngineIOTransport.POLLING), Session.POLLING)
        body = response.text
        if response.status_code != 200:
            layer, diagnosis = advice.status_diagnosis(response.status_code, body)
            raise Failed(f"HTTP {response.status_code} body={body[:120]!r}", layer, diagnosis, status=response.status_code)
        if advice.is_html(body, response.headers.get("content-type", "")):
            raise Failed("HTTP 200 but an HTML page, not an Engine.IO open packet", Layer.LOAD_BALANCER_OR_NGINX, advice.HTML_INSTEAD_OF_SOCKETIO)
        try:
            opened = parse_open(body)
        except ValueError as error:
            raise Failed(f"HTTP 200 but not an Engine.IO v4 open packet: {body[:120]!r} ({error})", Layer.APP, advice.NOT_SOCKETIO_V4) from None
        problems = []
        if EngineIOTransport.WEBSOCKET not in opened.upgrades:
            problems.append(f"upgrades={opened.upgrades} lacks websocket (the server disabled the WebSocket transport)")
        if not (0 < opened.ping_interval_ms <= MAX_PING_MS and 0 < opened.ping_timeout_ms <= MAX_PING_MS):
            problems.append(f"pingInterval={opened.ping_interval_ms}ms pingTimeout={opened.ping_timeout_ms}ms outside 1 ms..300 s")
        if problems:
            raise Failed("; ".join(problems), Layer.APP, advice.BAD_SERVER_OPTIONS, sid=opened.sid)
        return {"sid": opened.sid, "upgrades": opened.upgrades, "pingInterval": opened.ping_interval_ms, "pingTimeout": opened.ping_timeout_ms}

    def _expect_ok(self, response: Answer, what: str, index: int) -> None:
        if response.status_code == 200:
            return
        body = response.text
        data: dict[str, Any] = {"request": index, "status": response.status_code}
        if advice.is_session_unknown(response.status_code, body):
            pods = self.transport.pods.get(Session.POLLING, [])
            raise Failed(f"{what}: HTTP 400 body={body[:100]!r}", Layer.LOAD_BALANCER, advice.affinity(pods), **data)
        layer, diagnosis = advice.status_diagnosis(response.status_code, body)
        raise Failed(f"{what}: HTTP {response.status_code} body={body[:100]!r}", layer, diagnosis, **data)

    def polling(self, sid: str) -> dict[str, Any]:
        requests = 0
        refused = None

        def post(body: str, where: str) -> None:
            nonlocal requests
            requests += 1
            response = self.transport.post(self.transport.url(EngineIOTransport.POLLING, sid), Session.POLLING, body)
            self._expect_ok(response, f"{where} POST #{requests}", requests)

        for round_number in range(1, self.options.polls + 1):
            where = f"round {round_number}/{self.options.polls}"
            post(self.connect_packet, where)
            reply = None
            for _ in range(POLLS_PER_REPLY):
                requests += 1
                response = self.transport.get(self.transport.url(EngineIOTransport.POLLING, sid), Session.POLLING)
                self._expect_ok(response, f"{where} GET #{requests}", requests)
                packets = self._packets(response.text, f"{where} GET #{requests}")
                if EngineIOPacket.PING in packets:  # the server's heartbeat: answer like a client
                    post(EngineIOPacket.PONG, where)
                if EngineIOPacket.CLOSE in packets:
                    raise Failed(f"{where}: the server closed the session", Layer.APP, advice.SESSION_CLOSED)
                reply = next((p for p in packets if p.startswith(self.connect_replies)), None)
                if reply:
                    self._check_connect_reply(reply, self.options.namespace, f"{where} GET #{requests}")
                    break
            if reply is None:
                raise Failed(f"{where}: no reply to the namespace connect", Layer.APP, advice.NO_POLLING_CONNECT_REPLY)
            if reply.startswith(self.connect_replies.refused):
                refused = reply  # the app refused the namespace (auth); the transport still carried it
                continue
            post(self.disconnect_packet, where)
        return {"rounds": self.options.polls, "requests": requests, "refused": refused}

    def _packets(self, payload: str, where: str) -> list[str]:
        """The Engine.IO packets of a polling payload; a Failed if any breaks the framing."""
        packets = split_payload(payload)
        for packet in packets:
            self._check_packet(packet, where)
        return packets

    @staticmethod
    def _check_packet(packet: str, where: str) -> None:
        try:
            check_engineio(packet)
        except ValueError as error:
            raise advice.malformed(where, error) from None

    @staticmethod
    def _check_connect_reply(reply: str, namespace: str, where: str) -> None:
        """A CONNECT reply counts only when it parses as Socket.IO v5 for this namespace with its fields typed."""
        try:
            parsed = parse_socketio(reply)
            if not is_connect_reply(parsed, namespace):
                raise ValueError(f"not a Socket.IO v5 CONNECT reply for {namespace}: {reply[:80]!r}")
        except ValueError as error:
            raise advice.malformed(where, error) from None

    def _expect(self, websocket: ClientConnection, prefixes: tuple[str, ...], what: str) -> str:
        """The first message starting with one of `prefixes` within --timeout, answering the server's pings meanwhile."""
        deadline = Deadline(self.options.timeout)
        pings = 0
        while True:
            if deadline.expired():
                raise Failed(
                    f"no {what} within {self.options.timeout:g} s",
                    Layer.APP,
                    advice.no_websocket_answer(what),
                    ends_run=True,
                    exceeded=str(Stage.WEBSOCKET_MESSAGE),
                )
            try:
                message = self.transport.receive(websocket, deadline.remaining())
            except TimeoutError:
                continue
            if message is None:  # a binary message: an app's payload, not an answer to wait for
                continue
            self._check_packet(message, f"waiting for {what}")
            if message == EngineIOPacket.PING:
                pings += 1
                if flood := ping_flood(pings, deadline.seconds - deadline.remaining()):
                    raise flood
                self.transport.send(websocket, EngineIOPacket.PONG)
            elif message.startswith(prefixes):
                return message

    def ws_upgrade(self, sid: str) -> dict[str, Any]:
        websocket = self.transport.open_websocket(self.transport.url(EngineIOTransport.WEBSOCKET, sid), Session.WEBSOCKET_UPGRADE)
        try:
            self.transport.send(websocket, PING_PROBE)
            self._expect(websocket, (PONG_PROBE,), PONG_PROBE)
            self.transport.send(websocket, EngineIOPacket.UPGRADE)
            self.transport.send(websocket, self.connect_packet)
            reply = self._expect(websocket, self.connect_replies, "the namespace connect")
            self._check_connect_reply(reply, self.options.namespace, "the upgraded WebSocket")
        except ConnectionClosed as error:
            websocket.close()
            raise Failed(f"the WebSocket closed during the upgrade: {error}", Layer.APP_OR_LOAD_BALANCER, advice.UPGRADED_SESSION_DROPPED) from None
        except BaseException:
            websocket.close()
            raise
        self.upgraded = websocket
        return {"reply": reply[:80]}

    def ws_only(self) -> dict[str, Any]:
        websocket = self.transport.open_websocket(self.transport.url(EngineIOTransport.WEBSOCKET), Session.WEBSOCKET_ONLY)
        try:
            opened = self._expect(websocket, (EngineIOPacket.OPEN,), "the open packet")
            try:
                sid = parse_open(opened).sid
            except ValueError as error:
                raise advice.malformed("the WebSocket's open packet", error) from None
            self.transport.send(websocket, self.connect_packet)
            reply = self._expect(websocket, self.connect_replies, "the namespace connect")
            self._check_connect_reply(reply, self.options.namespace, "the WebSocket-only session")
        except ConnectionClosed as error:
            raise Failed(f"the WebSocket closed: {error}", Layer.APP, advice.FRESH_SESSION_CLOSED) from None
        finally:
            websocket.close()
        return {"sid": sid, "reply": reply[:80]}

    def hold(self) -> dict[str, Any]:
        websocket = self.upgraded
        assert websocket is not None, "hold runs only after a successful ws_upgrade"
        start = time.monotonic()
        pings = 0
        try:
            while (remaining := self.options.hold - (time.monotonic() - start)) > 0:
                try:
                    message = self.transport.receive(websocket, min(remaining, 1.0))
                except TimeoutError:
                    continue
                if message is None:
                    continue
                self._check_packet(message, "during the hold")
                if message == EngineIOPacket.PING:
                    pings += 1
                    if flood := ping_flood(pings, time.monotonic() - start):
                        raise flood
                    self.transport.send(websocket, EngineIOPacket.PONG)
            self.transport.send(websocket, socketio_message(SocketIOPacket.CONNECT, PROBE_NAMESPACE))
            reply = self._expect(websocket, connect_replies(PROBE_NAMESPACE), "a message after the hold")
            self._check_connect_reply(reply, PROBE_NAMESPACE, "after the hold")
        except ConnectionClosed:
            cut = time.monotonic() - start
            raise Failed(
                f"closed after {cut:.1f} s of {self.options.hold:g} s ({pings} pings answered)",
                Layer.LOAD_BALANCER_OR_NGINX,
                advice.hold_cut(cut),
                closed_after_s=round(cut, 2),
            ) from None
        return {"held_s": round(time.monotonic() - start, 2), "pings": pings, "reply": reply[:60]}


def summary(name: CheckName, data: dict[str, Any]) -> str:
    """The one-line detail of a check that passed."""
    match name:
        case CheckName.HANDSHAKE:
            return f"HTTP 200 sid={data['sid']} upgrades={data['upgrades']} pingInterval={data['pingInterval']}ms pingTimeout={data['pingTimeout']}ms"
        case CheckName.POLLING:
            refused = f"; namespace refused by the app: {data['refused'][:60]!r}" if data["refused"] else ""
            return f"{data['rounds']} rounds, {data['requests']} requests with the sid, all 200{refused}"
        case CheckName.WS_UPGRADE:
            return f"101, {PING_PROBE}->{PONG_PROBE}, {EngineIOPacket.UPGRADE} sent, namespace reply {data['reply']}"
        case CheckName.WS_ONLY:
            return f"101, open packet sid={data['sid']}, namespace reply {data['reply']}"
        case CheckName.HOLD:
            return f"held {data['held_s']} s answering {data['pings']} pings, then a message: {data['reply']}"
        case _:
            assert_never(name)
