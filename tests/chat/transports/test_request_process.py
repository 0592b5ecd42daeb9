"""chat/transports/bounded.py: a plain HTTP request reaches the application with the scope and
body messages daphne's own `process` gives it, without daphne's Deferreds."""

from __future__ import annotations

from typing import Any

import pytest
from daphne.http_protocol import WebRequest

from chat.transports.bounded import BoundedRequest

from .twisted_requests import StubServer, new_request, written


class Queue:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def put_nowait(self, message: dict[str, Any]) -> None:
        self.messages.append(message)


class Server(StubServer):
    request_buffer_size = 4

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.queues: list[Queue] = []

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Queue:
        self.scopes.append(scope)
        self.queues.append(Queue())
        return self.queues[-1]


def received(
    process: Any, server: Server, headers: list[tuple[bytes, bytes]], uri: bytes, body: bytes
) -> Any:
    request, channel = new_request(server)
    request.process = process.__get__(request)  # the one under test
    for name, value in headers:
        request.requestHeaders.addRawHeader(name, value)
    request.gotLength(len(body))
    request.handleContentChunk(body)
    request.requestReceived(b"POST", uri, b"HTTP/1.1")
    return request, channel


CASES = [
    (
        [(b"host", b"example.com"), (b"cookie", b"a=b"), (b"x_dropped", b"1")],
        b"/rooms/a/poll?after=3&timeout=5",
        b"",
    ),
    (
        [(b"host", b"example.com"), (b"daphne-root-path", b"/chat")],
        b"/chat/rooms/%C3%A9/events",
        b"0123456789",
    ),
    ([(b"host", b"example.com")], b"/", b"1234"),
    ([(b"host", b"example.com")], b"/caf\xc3\xa9", b""),  # 400: not ASCII
    ([(b"host", b"example.com")], b"/?q=caf\xc3\xa9", b""),  # 400: not ASCII
]


@pytest.mark.parametrize(("headers", "uri", "body"), CASES)
@pytest.mark.parametrize("forwarded", [False, True])
def test_the_same_scope_and_messages_as_daphne(
    headers: list[tuple[bytes, bytes]], uri: bytes, body: bytes, forwarded: bool
) -> None:
    ours, daphnes = Server(), Server()
    for server in (ours, daphnes):
        if forwarded:
            server.proxy_forwarded_address_header = "X-Forwarded-For"
            server.proxy_forwarded_proto_header = "X-Forwarded-Proto"
    headers = [*headers, (b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-proto", b"https")]
    mine, my_channel = received(BoundedRequest.process, ours, headers, uri, body)
    theirs, their_channel = received(WebRequest.process, daphnes, headers, uri, body)
    assert ours.scopes == daphnes.scopes
    assert [queue.messages for queue in ours.queues] == [queue.messages for queue in daphnes.queues]
    assert written(my_channel) == written(their_channel)
    refused = b"\xc3" in uri  # not ASCII: 400 from both, no application
    assert bool(ours.scopes) is not refused
    assert written(my_channel).startswith(b"HTTP/1.1 400 ") is refused
    assert (mine.client_addr, mine.client_scheme) == (theirs.client_addr, theirs.client_scheme)


def test_a_body_arrives_in_the_servers_buffer_size() -> None:
    server = Server()
    received(BoundedRequest.process, server, [(b"host", b"example.com")], b"/", b"0123456789")
    assert [(m["body"], m["more_body"]) for m in server.queues[0].messages] == [
        (b"0123", True),
        (b"4567", True),
        (b"89", False),
    ]
    assert server.scopes[0]["method"] == "POST"
