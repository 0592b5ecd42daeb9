"""The header deadline (chat/transports/headers.py) on Twisted's HTTP channel, with a fake clock:
headers that trickle past it are cut, whatever arrives meanwhile; anything after them is not."""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web import http

from chat.transports.headers import HeaderDeadlineChannel, header_deadline_protocol

DEADLINE = 10.0
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: chat.example\r\n\r\n"


class Answering(http.Request):
    """Answered at once, like a page."""

    def process(self) -> None:
        self.setHeader(b"Content-Length", b"2")
        self.write(b"ok")
        self.finish()


class Held(http.Request):
    """Never answered, like an SSE stream or a held long-poll."""

    def process(self) -> None:
        pass


def connect(
    request_factory: Any = Answering, timeout: float = DEADLINE, body: tuple[float, float] = (0, 0)
) -> tuple[Any, StringTransport, Clock]:
    clock = Clock()
    channel = HeaderDeadlineChannel()
    channel.header_timeout = timeout
    channel.body_timeout, channel.body_min_rate = body
    channel.callLater = clock.callLater  # type: ignore[method-assign]
    channel.requestFactory = request_factory
    transport = StringTransport()
    channel.makeConnection(transport)
    return channel, transport, clock


def trickle(channel: Any, clock: Clock, data: bytes, every: float) -> None:
    """`data` one byte at a time, `every` seconds apart."""
    for byte in data:
        channel.dataReceived(bytes([byte]))
        clock.advance(every)


def answers(transport: StringTransport) -> int:
    return transport.value().count(b"HTTP/1.1 200 OK")


def test_headers_trickled_past_the_deadline_get_408_and_the_connection_closes() -> None:
    channel, transport, clock = connect()
    trickle(channel, clock, b"GET /healthz HTTP/1.1\r\nX-Slow: ", every=0.25)  # 7.75 s
    while clock.seconds() < DEADLINE - 0.5:
        channel.dataReceived(b"a")  # every byte restarts Twisted's idle timer, not this one
        clock.advance(0.5)
    assert not transport.disconnecting
    clock.advance(0.5)
    assert transport.disconnecting
    head, body = transport.value().split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"Connection: close" in head
    error = json.loads(body)
    assert error["code"] == "request_timeout"
    assert error["message"] == "The request's headers did not arrive within 10 s."
    # A client that does not take the answer is aborted as Twisted's idle timeout would.
    clock.advance(channel.abortTimeout)
    assert transport.disconnected


def test_a_connection_that_sends_nothing_is_closed_without_an_answer() -> None:
    _, transport, clock = connect()
    clock.advance(DEADLINE - 0.01)
    assert not transport.disconnecting
    clock.advance(0.01)
    assert transport.disconnecting
    assert transport.value() == b""


def test_headers_within_the_deadline_are_answered_and_the_connection_stays() -> None:
    channel, transport, clock = connect()
    clock.advance(3)
    trickle(channel, clock, REQUEST, every=DEADLINE / 2 / len(REQUEST))  # all in by 8 s
    assert answers(transport) == 1
    clock.advance(10 * DEADLINE)
    assert not transport.disconnecting
    assert clock.getDelayedCalls() == []


def test_on_keep_alive_the_next_request_has_its_own_deadline_from_its_first_byte() -> None:
    channel, transport, clock = connect()
    channel.dataReceived(REQUEST)
    assert answers(transport) == 1
    clock.advance(5 * DEADLINE)  # idle between requests: Twisted's idle timer, not the deadline
    assert not transport.disconnecting
    channel.dataReceived(REQUEST)
    assert answers(transport) == 2

    channel.dataReceived(b"GET /healthz HTTP/1.1\r\n")
    clock.advance(DEADLINE - 0.01)
    channel.dataReceived(b"X-Slow: a")
    assert not transport.disconnecting
    clock.advance(0.01)
    assert transport.disconnecting
    assert transport.value().count(b"HTTP/1.1 408 Request Timeout") == 1


def test_a_request_is_not_cut_while_it_is_held_nor_while_its_body_arrives() -> None:
    channel, transport, clock = connect(Held)
    channel.dataReceived(REQUEST)
    clock.advance(10 * DEADLINE)  # a stream held long past the deadline
    channel.dataReceived(b"GET /next HTTP/1.1\r\n")  # pipelined: kept until the answer is done
    clock.advance(10 * DEADLINE)
    assert not transport.disconnecting

    channel, transport, clock = connect(Answering)
    channel.dataReceived(b"POST /rooms/demo/messages HTTP/1.1\r\nContent-Length: 8\r\n\r\n")
    trickle(channel, clock, b'{"a": 1}', every=DEADLINE / 2)  # 40 s of body
    assert answers(transport) == 1
    assert not transport.disconnecting


BODY = (20.0, 500.0)  # Apache's body=20,MinRate=500


def test_a_body_trickled_slower_than_the_minimum_rate_gets_408() -> None:
    channel, transport, clock = connect(body=BODY)
    channel.dataReceived(b"POST /rooms/demo/messages HTTP/1.1\r\nContent-Length: 60000\r\n\r\n")
    # 1,000 bytes buy two more seconds: 22 s in all, whatever else trickles in.
    channel.dataReceived(b"x" * 1000)
    trickle(channel, clock, b"y" * 21, every=1.0)  # 21 s, 21 bytes
    assert not transport.disconnecting
    clock.advance(1.1)
    assert transport.disconnecting
    error = json.loads(transport.value().rsplit(b"\r\n\r\n", 1)[1])
    assert error["code"] == "request_timeout"
    assert error["message"] == (
        "The request's body arrived too slowly: at least 500 bytes a second after the first 20 s."
    )
    assert answers(transport) == 0


def test_a_body_at_the_minimum_rate_is_read_however_long_it_takes() -> None:
    channel, transport, clock = connect(body=BODY)
    size = 600 * 1000
    channel.dataReceived(b"POST /rooms/demo/mod/import HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % size)
    for _ in range(600):  # 600 s at 1,000 bytes a second, twice the minimum
        channel.dataReceived(b"z" * 1000)
        clock.advance(1.0)
    assert answers(transport) == 1
    assert not transport.disconnecting
    assert channel._body_deadline is None  # ended with the body
    # Requests without a body start no body deadline; a held stream is never cut.
    channel, transport, clock = connect(Held, body=BODY)
    channel.dataReceived(REQUEST)
    clock.advance(10 * BODY[0])
    assert not transport.disconnecting


def test_a_pipelined_request_gets_its_deadline_when_its_turn_comes() -> None:
    channel, transport, clock = connect(Held)
    channel.dataReceived(REQUEST + b"GET /slow HTTP/1.1\r\nX-Slow: a")
    clock.advance(10 * DEADLINE)
    assert not transport.disconnecting
    channel.requests[0].finish()  # the held request ends; Twisted replays the pipelined bytes
    clock.advance(DEADLINE)
    assert transport.disconnecting
    assert json.loads(transport.value().rsplit(b"\r\n\r\n", 1)[1])["code"] == "request_timeout"


def test_the_deadline_ends_with_the_connection_or_when_twisted_hands_it_on() -> None:
    channel, transport, clock = connect()
    channel.dataReceived(b"GET / HTTP/1.1\r\n")
    channel.connectionLost(Failure(ConnectionDone()))
    assert clock.getDelayedCalls() == []

    # Twisted turns the old channel's timer off when it switches the connection to HTTP/2.
    channel, transport, clock = connect()
    channel.setTimeout(None)
    clock.advance(2 * DEADLINE)
    assert not transport.disconnecting


def test_zero_means_no_deadline() -> None:
    channel, transport, clock = connect(timeout=0)
    channel.dataReceived(b"GET / HTTP/1.1\r\n")
    assert clock.getDelayedCalls() == []
    assert not transport.disconnecting


def test_the_protocol_daphne_builds_takes_the_setting(settings: Any) -> None:
    settings.CHAT_HEADER_TIMEOUT = 3
    settings.CHAT_BODY_TIMEOUT = 7
    settings.CHAT_BODY_MIN_RATE = 100
    clock = Clock()
    protocol = header_deadline_protocol()
    protocol.callLater = clock.callLater
    protocol.requestFactory = Answering
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(b"GET / HTTP/1.1\r\n")
    clock.advance(2.99)
    assert not transport.disconnecting
    clock.advance(0.01)
    assert transport.disconnecting
    assert transport.value().startswith(b"HTTP/1.1 408 ")
    protocol = header_deadline_protocol()
    assert (protocol._channel.body_timeout, protocol._channel.body_min_rate) == (7, 100)


def test_a_request_that_arrives_whole_makes_no_timer_of_its_own() -> None:
    """Most requests come in one read: no deadline is made and cancelled for them (a thousand
    long-polls a second), while one that arrives in parts still has its deadline."""
    channel, transport, clock = connect(body=(DEADLINE, 500))
    channel.dataReceived(REQUEST)  # the first: the connection's deadline, cancelled
    assert answers(transport) == 1
    made: list[float] = []
    channel.callLater = lambda delay, *args: made.append(delay) or clock.callLater(delay, *args)
    for _ in range(3):
        channel.dataReceived(REQUEST)
    assert answers(transport) == 4
    assert made == []
    channel.dataReceived(b"GET /healthz HTTP/1.1\r\n")
    assert made == [DEADLINE]
