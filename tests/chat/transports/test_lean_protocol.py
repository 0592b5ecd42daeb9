"""What an idle WebSocket connection keeps: the lean daphne connection
(chat/transports/lean_protocol.py), a real handshake through daphne's and autobahn's code on an
in-memory transport; and the Room object connections share (chat/transports/websocket.py)."""

from __future__ import annotations

import asyncio
import base64
import sys
from collections import deque
from typing import Any

import pytest
from daphne.ws_protocol import WebSocketFactory
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

from chat.domain.wire import text_frame
from chat.models import Room
from chat.transports.direct import DirectWriter
from chat.transports.lean_protocol import HANDSHAKE_ONLY, LeanProtocolMixin, lean_protocol_class
from chat.transports.websocket import RoomConsumer, presence_frames, shared_room

KEY = base64.b64encode(b"0123456789abcdef").decode()
HANDSHAKE = (
    "GET /ws/rooms/demo/?after=3 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUpgrade: websocket\r\n"
    f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
    "Origin: http://127.0.0.1:8000\r\nCookie: sessionid=abc\r\n\r\n"
)


class FakeServer:
    """What daphne's WebSocket protocol asks of its server, recording the ASGI scope."""

    root_path = ""
    proxy_forwarded_address_header = None

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.inbox: list[dict[str, Any]] = []
        self.actions: list[tuple[str, str, dict[str, Any]]] = []

    def protocol_connected(self, protocol: Any) -> None: ...

    def protocol_disconnected(self, protocol: Any) -> None: ...

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        self.scopes.append(scope)
        server = self

        class Queue:
            def put_nowait(self, message: dict[str, Any]) -> None:
                server.inbox.append(message)

        return Queue()

    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        self.actions.append((protocol, action, details))


def open_connection(lean: bool = True) -> tuple[Any, FakeServer, StringTransport]:
    server = FakeServer()
    factory = WebSocketFactory(server, server="daphne")
    factory.setProtocolOptions(allowNullOrigin=True, failByDrop=False)
    if lean:
        factory.protocol = lean_protocol_class(factory)
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
    transport = StringTransport(
        hostAddress=IPv4Address("TCP", "127.0.0.1", 8000), peerAddress=IPv4Address("TCP", "127.0.0.1", 40000)
    )
    protocol.makeConnection(transport)
    protocol._raw_query_string = b"after=3"
    protocol.dataReceived(HANDSHAKE.encode())
    protocol.serverAccept()
    return protocol, server, transport


def test_a_lean_connection_opens_and_carries_frames_like_daphnes_own() -> None:
    protocol, server, transport = open_connection()
    assert b"101 Switching Protocols" in transport.value()
    assert protocol.state == protocol.STATE_OPEN
    assert server.inbox == [{"type": "websocket.connect"}]
    transport.clear()
    protocol.serverSend("hello")
    assert transport.value() == b"\x81\x05hello"
    transport.clear()
    protocol.serverClose(code=4403)
    assert transport.value() == b"\x88\x02" + (4403).to_bytes(2, "big")  # a close frame with the code
    assert protocol.localCloseCode == 4403  # state written after the open reads as the connection's


def test_factory_options_are_read_from_the_class_not_copied_into_each_connection() -> None:
    protocol, _, _ = open_connection()
    for name in type(protocol).CONFIG_ATTRS:
        assert name not in vars(protocol), name
    assert protocol.failByDrop is False
    assert protocol.openHandshakeTimeout == 5
    # A callable option stays a plain function, not a method of the connection.
    accept = protocol.perMessageCompressionAccept
    assert accept([]) is None


def test_the_handshake_is_forgotten_once_the_connection_is_open() -> None:
    protocol, server, _ = open_connection()
    state = vars(protocol)
    for name in HANDSHAKE_ONLY:
        assert name not in state, name
    # The scope's headers were emptied in place: every copy of the scope shares the list.
    assert server.scopes[0]["headers"] == []
    assert server.scopes[0]["path"] == "/ws/rooms/demo/"
    assert protocol.request.path == "/ws/rooms/demo/"  # what daphne's access log names
    assert protocol.websocket_extensions_in_use == ()


def test_an_open_lean_connection_holds_far_fewer_bytes_than_daphnes_own() -> None:
    lean, _, _ = open_connection()
    plain, _, _ = open_connection(lean=False)
    assert len(vars(lean)) < len(vars(plain)) / 2
    assert sys.getsizeof(vars(lean)) < sys.getsizeof(vars(plain)) / 2


def test_the_send_queue_is_made_only_for_a_chopped_or_synchronous_send() -> None:
    protocol, _, transport = open_connection()
    assert "_send_queue" not in vars(protocol)
    assert len(protocol.send_queue) == 0
    transport.clear()
    protocol.sendData(b"abc", chopsize=1)  # autobahn queues the chops and writes them one by one
    assert isinstance(protocol.send_queue, deque)


def test_the_lean_class_is_made_once() -> None:
    server = FakeServer()
    factory = WebSocketFactory(server, server="daphne")
    factory.protocol = lean_protocol_class(factory)
    assert lean_protocol_class(factory) is factory.protocol
    assert issubclass(factory.protocol, LeanProtocolMixin)


@pytest.mark.django_db
def test_connections_share_a_room_object_while_its_row_is_unchanged() -> None:
    Room.objects.create(slug="shared", title="Shared")
    first = shared_room(Room.objects.get(slug="shared"))
    assert shared_room(Room.objects.get(slug="shared")) is first
    Room.objects.filter(slug="shared").update(slow_mode_seconds=5)
    changed = shared_room(Room.objects.get(slug="shared"))
    assert changed is not first  # a connection keeps the room as it was when it connected
    assert changed.slow_mode_seconds == 5
    assert first.slow_mode_seconds == 0
    assert shared_room(Room.objects.get(slug="shared")) is changed


def test_a_presence_broadcast_is_framed_once_for_every_connection() -> None:
    frame = '{"type":"presence","count":2,"users":[]}'
    written = []
    for _ in range(2):
        protocol, _, transport = open_connection()
        transport.clear()
        consumer = RoomConsumer()
        consumer.direct_writer = DirectWriter(protocol)
        asyncio.run(consumer.write_presence(frame))
        written.append(transport.value())
    assert written == [text_frame(frame.encode())] * 2  # what autobahn would have sent
    assert presence_frames(frame) is presence_frames(frame)  # framed once, not per connection
