"""The checks every transport makes before it streams (chat/transports/http.py): new WebSocket
and SSE connections count against their address's connection rate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat.models import Room
from chat.realtime.hub import Hub
from tests.chat.asgi_clients import SseStream, asgi_get

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


async def test_connections_are_limited_per_address(hub: Hub, owned: Room, settings: Any) -> None:
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    def websocket() -> WebsocketCommunicator:
        comm = WebsocketCommunicator(
            application,
            "/ws/rooms/lobby/",
            headers=[(b"host", b"testserver"), (b"origin", b"http://testserver")],
        )
        comm.scope["client"] = ("127.0.0.1", 5000)  # the address SseStream uses too
        return comm

    settings.CHAT_CONNECT_RATE_IP = "2/60"
    first = websocket()
    assert (await first.connect(timeout=5))[0]
    assert json.loads(await first.receive_from(timeout=5))["type"] == "hello"
    sse = await SseStream("/rooms/lobby/events").open()
    assert sse.status == 200
    status, headers, body = await asgi_get("/rooms/lobby/events")
    assert (status, body["code"]) == (429, "rate_limited")
    assert int(headers[b"retry-after"]) >= 1
    third = websocket()
    assert (await third.connect(timeout=5))[0]
    refusal = json.loads(await third.receive_from(timeout=5))
    assert (refusal["type"], refusal["code"]) == ("error", "rate_limited")
    assert (await third.receive_output(timeout=5))["code"] == 4429
    await first.disconnect()
    await sse.close()
