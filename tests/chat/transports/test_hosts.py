"""ALLOWED_HOSTS on the held transports as on pages (a DNS-rebound name reads nothing), and the
WebSocket origin check's scheme."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from chat.models import Room
from chat.realtime.hub import Hub
from config.asgi import application
from tests.chat.asgi_clients import SseStream, asgi_get_opened
from tests.chat.conftest import hub, room  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

STREAMS = ["/rooms/lobby/events?after=0", "/rooms/lobby/poll?after=0&timeout=1"]


def with_host(url: str, host: bytes, *extra: tuple[bytes, bytes]) -> SseStream:
    stream = SseStream(url)
    stream.comm.scope["headers"] = [(b"host", host), *extra]
    return stream


async def websocket(
    host: bytes, origin: bytes, scheme: str = "ws", *extra: tuple[bytes, bytes]
) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(
        application, "/ws/rooms/lobby/?after=0", headers=[(b"host", host), (b"origin", origin), *extra]
    )
    comm.scope["scheme"] = scheme  # as config/serve.py sets it (the scope is read when connecting)
    return comm


@pytest.mark.parametrize(
    "host", [b"evil.example", b"evil.example:80", b"testserver.evil.example", b"bad host"]
)
@pytest.mark.parametrize("url", STREAMS)
async def test_a_stream_for_a_host_not_allowed_is_400(hub: Hub, room: Room, url: str, host: bytes) -> None:  # noqa: F811
    status, _, body = await asgi_get_opened(with_host(url, host))
    assert (status, body["code"]) == (400, "invalid_host")
    assert "events" not in body


@pytest.mark.parametrize("host", [b"evil.example", b"testserver.evil.example"])
async def test_a_websocket_for_a_host_not_allowed_is_refused(hub: Hub, room: Room, host: bytes) -> None:  # noqa: F811
    # The page of a DNS-rebound name is same-origin with it: only the Host gives it away.
    comm = await websocket(host, b"http://" + host)
    connected, _ = await comm.connect(timeout=5)
    assert connected  # accepted only to say why (refuse_websocket)
    refusal = json.loads(await comm.receive_from(timeout=5))
    assert (refusal["type"], refusal["code"]) == ("error", "invalid_host")
    assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4400}


async def test_allowed_hosts_follow_django(hub: Hub, room: Room, settings: Any) -> None:  # noqa: F811
    settings.ALLOWED_HOSTS = [".chat.example"]
    for host, status in [(b"chat.example", 200), (b"live.chat.example:8443", 200), (b"testserver", 400)]:
        answer, _, _ = await asgi_get_opened(with_host(STREAMS[1], host))
        assert answer == status, host
    # DEBUG with no ALLOWED_HOSTS: Django's implicit local names, nothing else.
    settings.ALLOWED_HOSTS = []
    settings.DEBUG = True
    for host, status in [
        (b"localhost:8000", 200),
        (b"app.localhost", 200),
        (b"[::1]:8000", 200),
        (b"evil.example", 400),
    ]:
        answer, _, _ = await asgi_get_opened(with_host(STREAMS[1], host))
        assert answer == status, host
    settings.DEBUG = False
    answer, _, body = await asgi_get_opened(with_host(STREAMS[1], b"localhost"))
    assert (answer, body["code"]) == (400, "invalid_host")


async def test_the_origin_check_compares_the_scheme(hub: Hub, room: Room, settings: Any) -> None:  # noqa: F811
    comm = await websocket(b"testserver", b"https://testserver", "wss")
    connected, _ = await comm.connect(timeout=5)
    assert connected
    assert json.loads(await comm.receive_from(timeout=5))["type"] == "hello"
    await comm.disconnect()
    comm = await websocket(b"testserver", b"http://testserver", "wss")
    connected, _ = await comm.connect(timeout=5)
    assert not connected
    # Behind a proxy that says so (SECURE_PROXY_SSL_HEADER), as Django decides request.scheme.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forwarded = (b"x-forwarded-proto", b"https")
    comm = await websocket(b"testserver", b"https://testserver", "ws", forwarded)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    await comm.disconnect()
    comm = await websocket(b"testserver", b"http://testserver", "ws", forwarded)
    connected, _ = await comm.connect(timeout=5)
    assert not connected
