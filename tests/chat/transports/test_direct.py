"""The fan-out's fast path: frames built once, written straight to daphne's transport."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.frames import Frame, Opcode

from chat.domain.wire import text_frame
from chat.transports.direct import DirectWriter


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 300_000])
def test_text_frame_is_what_a_websocket_library_builds(size: int) -> None:
    payload = ("é" * size).encode()[:size]
    assert text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False)


class FakeTransport:
    def __init__(self) -> None:
        self.dataBuffer = b""
        self.offset = 0
        self._tempDataLen = 0
        self.written: list[bytes] = []
        self.disconnecting = False

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self._tempDataLen += len(data)


class FakeProtocol:
    STATE_OPEN = 3

    def __init__(self) -> None:
        self.state = self.STATE_OPEN
        self.transport = FakeTransport()
        self._perMessageCompress = None


def test_writer_writes_while_open_and_reports_its_backlog() -> None:
    protocol = FakeProtocol()
    writer = DirectWriter(protocol)
    assert writer.write_all([b"abc"])
    assert writer.buffered() == 3
    protocol.transport.dataBuffer = b"0123456789"
    protocol.transport.offset = 4
    assert writer.buffered() == 6 + 3
    protocol.state = 4  # closing
    assert not writer.write_all([b"late"])
    assert protocol.transport.written == [b"abc"]
    compressed = FakeProtocol()
    compressed._perMessageCompress = object()
    assert not DirectWriter(compressed).write_all([b"x"])  # autobahn must frame compressed messages
    assert compressed.transport.written == []


def test_writer_lets_go_of_a_gone_connection() -> None:
    protocol = FakeProtocol()
    writer = DirectWriter(protocol)
    del protocol
    assert not writer.write_all([b"x"])
    assert writer.buffered() == 0


def test_http_chunk_is_what_twisted_writes() -> None:
    from twisted.web.http import toChunk

    from chat.domain.wire import http_chunk

    for data in (b"x", b"id: 1\nevent: message\ndata: {}\n\n", "é".encode() * 5000):
        assert http_chunk(data) == b"".join(toChunk(data))


class FakeChannel:
    def __init__(self) -> None:
        self.transport = FakeTransport()


class FakeRequest:
    def __init__(self, chunked: bool) -> None:
        self.finished = False
        self._disconnected = False
        self.startedWriting = 0
        self.chunked = chunked
        self.channel = FakeChannel()


def test_http_writer_waits_for_the_headers_and_picks_the_framing() -> None:
    from chat.transports.direct import DirectHttpWriter

    request = FakeRequest(chunked=True)
    writer = DirectHttpWriter(request)
    assert not writer.write(b"early", b"5\r\nearly\r\n")  # daphne has not sent the headers yet
    request.startedWriting = 1
    assert writer.write(b"raw", b"3\r\nraw\r\n")
    plain = FakeRequest(chunked=False)
    plain.startedWriting = 1
    assert DirectHttpWriter(plain).write(b"raw", b"3\r\nraw\r\n")
    assert request.channel.transport.written == [b"3\r\nraw\r\n"]
    assert plain.channel.transport.written == [b"raw"]
    request.finished = True
    assert not writer.write(b"late", b"4\r\nlate\r\n")


def test_write_all_sends_in_order_or_nothing() -> None:
    protocol = FakeProtocol()
    writer = DirectWriter(protocol)
    assert writer.write_all([b"one", b"two"])
    assert protocol.transport.written == [b"one", b"two"]
    protocol.state = 4  # closing
    assert not writer.write_all([b"three"])
    assert protocol.transport.written == [b"one", b"two"]


def test_the_http_upgrade_is_let_go_once_the_websocket_is_open() -> None:
    """Twisted's HTTP channel stays the socket's producer after daphne's upgrade, holding the
    upgrade request for the connection's lifetime; the writer releases both."""

    class Channel:
        def __init__(self) -> None:
            self.requests = [object()]
            self.timeout: float | None = 43200.0

        def setTimeout(self, seconds: float | None) -> None:
            self.timeout = seconds

    protocol = FakeProtocol()
    channel = Channel()
    transport: Any = protocol.transport
    transport.producer = channel
    transport.unregisterProducer = lambda: setattr(transport, "producer", None)
    DirectWriter(protocol).forget_http_upgrade()
    assert transport.producer is None
    assert channel.requests == []
    assert channel.timeout is None
    DirectWriter(protocol).forget_http_upgrade()  # again: nothing left to do, no error
