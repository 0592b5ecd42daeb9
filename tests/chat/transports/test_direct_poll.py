"""Long-polls answered below ASGI (chat/transports/direct_poll.py): Twisted requests of the
project's request class, with the real hub, feed and database; what the client would read is
what the request's channel was given."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser

from chat.domain.posting import post_message
from chat.domain.room_settings import update_settings
from chat.guards.held import held_connections
from chat.models import Room
from chat.realtime.hub import Hub
from chat.transports import direct_poll
from chat.transports.bounded import BoundedRequest
from chat.transports.direct_poll import answer_directly, reply
from chat.transports.http import send_body
from tests.chat.asgi_clients import HOST, asgi_get, until

from .twisted_requests import StubServer, new_request, written

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

post = database_sync_to_async(post_message)


class Server(StubServer):
    """The applications daphne would have made, its access log, its open connections."""

    def __init__(self, direct: bool = True) -> None:
        self.direct_poll = answer_directly if direct else None
        self.applications: list[dict[str, Any]] = []
        self.logged: list[dict[str, Any]] = []
        self.connected: set[Any] = set()

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        self.applications.append(scope)
        protocol.content.close()  # as if abandoned meanwhile: nothing more is done
        return None

    def protocol_connected(self, protocol: Any) -> None:
        self.connected.add(protocol)

    def protocol_disconnected(self, protocol: Any) -> None:
        self.connected.discard(protocol)

    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        self.logged.append(details)


def request_for(
    server: Server, uri: bytes, headers: list[tuple[bytes, bytes]] | None = None, method: bytes = b"GET"
) -> tuple[BoundedRequest, Any]:
    request, channel = new_request(server)
    for name, value in headers if headers is not None else [HOST]:
        request.requestHeaders.addRawHeader(name, value)
    request.gotLength(None)
    request.requestReceived(method, uri, b"HTTP/1.1")
    return request, channel


def answer(channel: Any) -> tuple[int, bytes, Any]:
    """(status, head, JSON body) of what the client was sent; (0, b"", None) when nothing yet."""
    raw = channel.transport.written.getvalue()
    if not raw:
        return 0, b"", None
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head[9:12]), head, json.loads(body)


async def opened(room: Room) -> None:
    """A poll the usual way: the room is remembered and its feed open (it lingers afterwards)."""
    status, _, _ = await asgi_get(f"/rooms/{room.slug}/poll?after=0&timeout=0")
    assert status == 200


async def test_a_poll_behind_is_answered_at_once_from_memory(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    await opened(room)
    for n in range(3):
        await post(room, alice, f"m{n}")
    feed = hub.feeds[room.pk]
    await until(lambda: feed.last_seq == 3)
    server = Server()
    request, channel = request_for(server, b"/rooms/lobby/poll?after=1&timeout=30")
    status, head, body = answer(channel)
    assert server.applications == []  # no application was made
    assert status == 200
    assert [e["text"] for e in body["events"]] == ["m1", "m2"]
    assert (body["last_seq"], body["epoch"]) == (3, feed.epoch)
    assert body["presence"]["count"] >= 1
    assert b"Cache-Control: no-store" in head
    assert b"X-Content-Type-Options: nosniff" in head
    assert request.finished
    assert request not in server.connected
    assert server.logged[0]["status"] == 200
    assert server.logged[0]["path"].startswith("/rooms/lobby/poll")
    assert held_connections().held == 0


async def test_a_held_poll_is_answered_by_the_broadcast(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    await opened(room)
    server = Server()
    request, channel = request_for(server, b"/rooms/lobby/poll?after=0&timeout=30")
    assert answer(channel)[0] == 0
    assert server.applications == []
    feed = hub.feeds[room.pk]
    assert len(feed.subscribers) == 1  # a guest member of the room while it waits
    assert held_connections().held == 1
    await post(room, alice, "arrived")
    await until(lambda: answer(channel)[0] == 200)
    _, _, body = answer(channel)
    assert [e["text"] for e in body["events"]] == ["arrived"]
    assert body["last_seq"] == 1
    assert feed.subscribers == set()
    assert held_connections().held == 0
    assert request.finished


async def test_polls_answered_by_one_batch_share_its_encoded_answer(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    await opened(room)
    channels = [request_for(Server(), b"/rooms/lobby/poll?after=0")[1] for _ in range(20)]
    await post(room, alice, "for all")
    await until(lambda: all(answer(channel)[0] == 200 for channel in channels))
    bodies = {channel.transport.written.getvalue().partition(b"\r\n\r\n")[2] for channel in channels}
    assert len(bodies) == 1
    assert json.loads(bodies.pop())["events"][0]["text"] == "for all"


async def test_a_held_poll_times_out_empty(hub: Hub, room: Room) -> None:
    await opened(room)
    loop = asyncio.get_running_loop()
    started = loop.time()
    _, channel = request_for(Server(), b"/rooms/lobby/poll?after=0&timeout=1")
    await until(lambda: answer(channel)[0] == 200)
    assert 0.9 <= loop.time() - started < 3
    _, _, body = answer(channel)
    assert (body["events"], body["last_seq"]) == ([], 0)
    assert hub.feeds[room.pk].subscribers == set()
    await opened(room)  # remembered again: a second passed
    _, zero = request_for(Server(), b"/rooms/lobby/poll?after=0&timeout=0")
    assert answer(zero)[2]["events"] == []  # at once


async def test_a_client_that_leaves_gives_its_place_back(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    await opened(room)
    request, channel = request_for(Server(), b"/rooms/lobby/poll?after=0&timeout=30")
    feed = hub.feeds[room.pk]
    assert len(feed.subscribers) == 1
    assert held_connections().held == 1
    request.connectionLost(Exception("gone"))
    assert feed.subscribers == set()
    assert held_connections().held == 0
    await post(room, alice, "too late")
    await asyncio.sleep(0.2)
    assert channel.transport.written.getvalue() == b""


async def test_a_room_turned_private_refuses_its_held_polls(
    hub: Hub, owned: Room, alice: AbstractBaseUser
) -> None:
    await opened(owned)
    polls = [
        request_for(Server(), b"/rooms/lobby/poll?after=0", [HOST, (b"accept-language", lang)])[1]
        for lang in (b"ja", b"en")
    ]
    await database_sync_to_async(update_settings)(owned, alice, {"private": True})
    await until(lambda: all(answer(channel)[0] for channel in polls))
    (ja_status, _, ja), (en_status, _, en) = (answer(channel) for channel in polls)
    assert (ja_status, en_status) == (403, 403)
    assert ja["code"] == en["code"] == "private_room"
    assert ja["message"] != en["message"]  # each in its reader's language
    assert held_connections().held == 0


async def test_a_room_public_again_by_the_check_answers_and_the_log_has_the_rest(
    hub: Hub, owned: Room, alice: AbstractBaseUser
) -> None:
    await opened(owned)
    _, channel = request_for(Server(), b"/rooms/lobby/poll?after=0")

    def private_and_back() -> None:
        update_settings(owned, alice, {"private": True})
        Room.objects.filter(pk=owned.pk).update(private=False)  # before the feed checks

    await database_sync_to_async(private_and_back)()
    await until(lambda: answer(channel)[0] != 0)
    status, _, body = answer(channel)
    assert status == 200
    # The feed's memory forgot what the settings event retracts: the next poll reads the log.
    assert (body["events"], body["last_seq"]) == ([], 0)
    _, _, rest = await asgi_get("/rooms/lobby/poll?after=0&timeout=0")
    assert [e["kind"] for e in rest["events"]] == ["settings"]


async def test_when_the_database_cannot_say_who_may_read_polls_answer_empty_once_logged(
    hub: Hub,
    owned: Room,
    alice: AbstractBaseUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await opened(owned)
    polls = [request_for(Server(), b"/rooms/lobby/poll?after=0")[1] for _ in range(5)]

    def unreachable(room_id: int) -> bool:
        raise OSError("the database went away")

    monkeypatch.setattr(direct_poll, "_anyone_reads", unreachable)
    await database_sync_to_async(update_settings)(owned, alice, {"private": True})
    await until(lambda: all(answer(channel)[0] for channel in polls))
    for channel in polls:
        status, _, body = answer(channel)
        assert status == 200
        assert (body["events"], body["last_seq"]) == ([], 0)  # the next poll asks the usual way
    assert held_connections().held == 0
    assert len([r for r in caplog.records if "who may read it is not known" in r.getMessage()]) == 1


async def test_a_settings_event_reaches_held_polls(hub: Hub, owned: Room, alice: AbstractBaseUser) -> None:
    await opened(owned)
    _, channel = request_for(Server(), b"/rooms/lobby/poll?after=0")
    await database_sync_to_async(update_settings)(owned, alice, {"slow_mode_seconds": 3})
    await until(lambda: answer(channel)[0] != 0)
    status, _, body = answer(channel)
    assert status == 200
    assert [e["kind"] for e in body["events"]] == ["settings"]


async def test_a_log_reset_answers_held_polls_with_a_reset(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    await opened(room)
    await post(room, alice, "old")
    feed = hub.feeds[room.pk]
    await until(lambda: feed.last_seq == 1)
    _, channel = request_for(Server(), b"/rooms/lobby/poll?after=1")
    await feed.reset(0, "newepoch")
    _, _, body = answer(channel)
    assert (body["reset"], body["last_seq"], body["epoch"], body["events"]) == (
        "epoch_changed",
        0,
        "newepoch",
        [],
    )


@pytest.mark.parametrize(
    ("uri", "headers"),
    [
        (b"/rooms/lobby/poll", None),  # no cursor: its first poll reads the log
        (b"/rooms/lobby/poll?after=0&key=k", None),
        (b"/rooms/lobby/poll?after=0&ticket=t", None),
        (b"/rooms/lobby/poll?after=0&after=0", None),
        (b"/rooms/lobby/poll?after=0&", None),
        (b"/rooms/lobby/poll?after=x", None),
        (b"/rooms/lobby/poll?after=0&timeout=56", None),  # refused the usual way
        (b"/rooms/lobby/poll?after=9", None),  # ahead: a reset
        (b"/rooms/lobby/poll?after=0&epoch=other", None),
        (b"/rooms/nowhere/poll?after=0", None),
        (b"/rooms/lobby/events?after=0", None),
        (b"/rooms/lobby/poll?after=0", [(b"host", b"evil.example")]),
        (b"/rooms/lobby/poll?after=0", [HOST, (b"cookie", b"a=1; sessionid=abc")]),
        (b"/rooms/lobby/poll?after=0", [HOST, (b"authorization", b"Bearer x")]),
        (b"/rooms/lobby/poll?after=0", [HOST, (b"origin", b"http://other.example")]),
        (b"/rooms/lobby/poll?after=0", [HOST, (b"grip-sig", b"x")]),
        (b"/rooms/lobby/poll?after=0", [HOST, (b"daphne-root-path", b"/chat")]),
    ],
)
async def test_other_polls_go_the_usual_way(
    hub: Hub, room: Room, uri: bytes, headers: list[tuple[bytes, bytes]] | None
) -> None:
    await opened(room)
    server = Server()
    _, channel = request_for(server, uri, headers)
    assert len(server.applications) == 1
    assert channel.transport.written.getvalue() == b""
    assert hub.feeds[room.pk].subscribers == set()
    assert held_connections().held == 0


@pytest.mark.parametrize("buffer", ["_buffer", "_dataBuffer"])
async def test_pipelined_polls_go_the_usual_way(hub: Hub, room: Room, buffer: str) -> None:
    """Answered at once one after another, a read's worth would hold the event loop."""
    await opened(room)
    server = Server()
    request, channel = new_request(server)
    setattr(
        channel, buffer, b"GET /rooms/lobby/poll?after=0 HTTP/1.1\r\n" if buffer == "_buffer" else [b"GET"]
    )
    request.requestHeaders.addRawHeader(b"host", b"testserver")
    request.gotLength(None)
    request.requestReceived(b"GET", b"/rooms/lobby/poll?after=0&timeout=0", b"HTTP/1.1")
    assert len(server.applications) == 1


async def test_a_cookie_without_a_session_is_direct(hub: Hub, room: Room) -> None:
    await opened(room)
    server = Server()
    _, channel = request_for(
        server,
        b"/rooms/lobby/poll?after=0&timeout=0",
        [HOST, (b"cookie", b"language=ja")],
    )
    assert server.applications == []
    assert answer(channel)[0] == 200


async def test_head_private_rooms_and_closed_feeds_go_the_usual_way(hub: Hub, room: Room) -> None:
    server = Server()
    request_for(server, b"/rooms/lobby/poll?after=0")  # no feed, the room not remembered
    await opened(room)
    request_for(server, b"/rooms/lobby/poll?after=0", method=b"HEAD")
    await database_sync_to_async(Room.objects.filter(pk=room.pk).update)(private=True)
    from chat.transports.http import forget_rooms

    forget_rooms()
    await asgi_get("/rooms/lobby/poll?after=0&timeout=0")  # refused, nothing remembered
    request_for(server, b"/rooms/lobby/poll?after=0")
    assert len(server.applications) == 3


async def test_past_the_addresss_held_places_the_usual_way_refuses(
    hub: Hub, room: Room, settings: Any
) -> None:
    await opened(room)
    settings.CHAT_HELD_PER_IP = 2
    server = Server()
    requests = [request_for(server, b"/rooms/lobby/poll?after=0")[0] for _ in range(3)]
    assert len(server.applications) == 1  # the third: refused there, with its reason
    assert held_connections().held == 2
    for request in requests[:2]:
        request.connectionLost(Exception("gone"))
    assert held_connections().held == 0


async def test_without_the_server_hook_every_poll_has_an_application(hub: Hub, room: Room) -> None:
    await opened(room)
    server = Server(direct=False)
    request_for(server, b"/rooms/lobby/poll?after=0")
    assert len(server.applications) == 1


@pytest.mark.parametrize(
    ("version", "connection"), [(b"HTTP/1.1", None), (b"HTTP/1.1", b"close"), (b"HTTP/1.0", None)]
)
async def test_the_same_bytes_as_daphnes_reply(version: bytes, connection: bytes | None) -> None:
    body = b'{"events":[],"last_seq":0}'
    sent = []
    for direct in (True, False):
        request, channel = new_request(Server())
        request.clientproto = version
        request.method, request.uri = b"GET", b"/rooms/a/poll?after=0"
        if connection is not None:
            request.responseHeaders.setRawHeaders(b"Connection", [connection])
        if direct:
            reply(request, 200, body)
        else:

            async def send(message: dict[str, Any], request: Any = request) -> None:
                request.handle_reply(message)

            await send_body(send, 200, body)
        sent.append(written(channel))
        assert request.finished
    assert sent[0] == sent[1]
    assert sent[0].startswith(version + b" 200 OK\r\n")
