"""Requests of the project's request class (chat/transports/bounded.py) without a network:
Twisted's `DummyChannel` as the connection, a stand-in for what daphne's request asks of its
server, and what the client was sent. Shared by the request-path tests."""

from __future__ import annotations

import re
from typing import Any

from twisted.web.test.requesthelper import DummyChannel

from chat.transports.bounded import BoundedRequest


class StubServer:
    """What daphne's request asks of its server; subclasses say what an application is."""

    proxy_forwarded_address_header: str | None = None
    proxy_forwarded_port_header: str | None = None
    proxy_forwarded_proto_header: str | None = None
    root_path = ""
    request_buffer_size = 65536
    server_name = "daphne"

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        raise NotImplementedError

    def protocol_connected(self, protocol: Any) -> None:
        pass

    def protocol_disconnected(self, protocol: Any) -> None:
        pass

    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        pass


def new_request(server: StubServer) -> tuple[BoundedRequest, Any]:
    """A request of `server` on a connection of its own, first in the connection's queue (as
    Twisted's channel keeps them), and that connection."""
    channel = DummyChannel()
    channel.factory = type("Factory", (), {"server": server, "log": lambda self, request: None})()
    channel.requests = []
    channel.requestDone = lambda request: channel.requests.remove(request)
    request = BoundedRequest(channel)
    channel.requests.append(request)
    return request, channel


def written(channel: Any) -> bytes:
    """What went to the client, its Date header aside."""
    return re.sub(rb"(?im)^date: [^\r\n]*\r\n", b"", channel.transport.written.getvalue())
