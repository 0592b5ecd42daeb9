"""Long-poll through the full ASGI stack (chat/transports/longpoll.py, docs/PROTOCOL.md)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection

from chat.domain.posting import post_message
from chat.models import Room
from chat.realtime.hub import Hub
from config.asgi import application
from tests.chat.asgi_clients import asgi_get, asgi_post_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

post = database_sync_to_async(post_message)


async def test_poll_answers_at_once_when_behind(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    for n in range(3):
        await post(room, alice, f"m{n}")
    status, headers, body = await asgi_get("/rooms/lobby/poll?after=1&timeout=30")
    assert status == 200
    assert headers[b"cache-control"] == b"no-store"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert [e["seq"] for e in body["events"]] == [2, 3]
    assert body["last_seq"] == 3
    assert body["presence"]["count"] >= 1


async def test_poll_holds_until_an_event_arrives(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = asyncio.create_task(asgi_get("/rooms/lobby/poll?after=0&timeout=10"))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    await post(room, alice, "arrived")
    _, _, body = await waiting
    assert [e["text"] for e in body["events"]] == ["arrived"]
    assert body["last_seq"] == 1
    assert loop.time() - started < 3


async def test_poll_times_out_empty(hub: Hub, room: Room) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    _, _, body = await asgi_get("/rooms/lobby/poll?after=0&timeout=1")
    assert body["events"] == []
    assert body["last_seq"] == 0
    assert 0.9 <= loop.time() - started < 3


async def test_poll_without_cursor_and_resets(
    hub: Hub, room: Room, alice: AbstractBaseUser, settings: Any
) -> None:
    for n in range(4):
        await post(room, alice, f"m{n}")
    assert (await asgi_get("/rooms/lobby/poll"))[2]["last_seq"] == 4
    settings.CHAT_BACKLOG_MAX = 2
    _, _, behind = await asgi_get("/rooms/lobby/poll?after=0")
    assert behind["events"] == []
    assert behind["reset"] == "backlog_exceeded"
    assert behind["last_seq"] == 4
    _, _, ahead = await asgi_get("/rooms/lobby/poll?after=40")
    assert ahead["reset"] == "cursor_ahead"


async def test_poll_rejects_bad_parameters(hub: Hub, room: Room) -> None:
    for query in [
        "after=x",
        "after=-2",
        "timeout=56",
        "timeout=-1",
        "timeout=1.5",
        "after=1&timeout=" + "9" * 25,
    ]:
        status, _, body = await asgi_get(f"/rooms/lobby/poll?{query}")
        assert (status, body["code"]) == (400, "invalid"), query
    status, _, body = await asgi_get("/rooms/nope/poll?after=0")
    assert (status, body["code"]) == (404, "room_not_found")
    status, _, body = await asgi_post_status("/rooms/lobby/poll")
    assert (status, body["code"]) == (405, "method_not_allowed")


async def test_looping_poller_gets_every_seq_once_while_ten_writers_post(hub: Hub, room: Room) -> None:
    writers = await database_sync_to_async(
        lambda: [get_user_model().objects.create_user(f"w{n}") for n in range(10)]
    )()
    total = 500

    def write(user: AbstractBaseUser) -> None:
        try:
            for n in range(total // len(writers)):
                post_message(room, user, f"{user.get_username()} {n}")
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(user,)) for user in writers]
    for thread in threads:
        thread.start()
    cursor, seen = 0, []
    while len(seen) < total:
        _, _, body = await asgi_get(f"/rooms/lobby/poll?after={cursor}&timeout=5")
        assert "reset" not in body
        seen.extend(e["seq"] for e in body["events"])
        cursor = body["last_seq"]
    for thread in threads:
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert seen == list(range(1, total + 1))
    assert (await asgi_get(f"/rooms/lobby/poll?after={cursor}&timeout=0"))[2]["events"] == []


async def test_a_poll_the_client_abandons_is_released(hub: Hub, room: Room) -> None:
    comm = ApplicationCommunicator(
        application,
        {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/rooms/lobby/poll",
            "raw_path": b"/rooms/lobby/poll",
            "query_string": b"after=0&timeout=30",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        },
    )
    await comm.send_input({"type": "http.request", "body": b"", "more_body": False})
    for _ in range(100):
        if hub.subscriber_count() == 1:
            break
        await asyncio.sleep(0.01)
    assert hub.subscriber_count() == 1
    await comm.send_input({"type": "http.disconnect"})
    await comm.wait(timeout=5)
    assert hub.subscriber_count() == 0


async def test_polls_a_moment_behind_are_answered_from_the_feeds_memory(
    hub: Hub, room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The steady state of a long-poll viewer: each poll asks for what followed the last answer.
    The room's feed has it in memory (chat/realtime/feed.py, RECENT_EVENTS), so neither the log's
    position nor its events are read: what saturated one process near 1,000 polls a second."""
    from chat.realtime import subscription as subscription_module

    reads: list[str] = []
    real_position, real_after = subscription_module.log_position, subscription_module.events_after
    monkeypatch.setattr(
        subscription_module, "log_position", lambda *a: reads.append("position") or real_position(*a)
    )
    monkeypatch.setattr(
        subscription_module, "events_after", lambda *a: reads.append("events") or real_after(*a)
    )
    first = asyncio.create_task(asgi_get("/rooms/lobby/poll?after=0&timeout=10"))  # opens the feed
    await asyncio.sleep(0.3)
    for n in range(3):
        await post(room, alice, f"m{n}")
    _, _, body = await first
    cursor = body["last_seq"]
    feed = hub.feeds[room.pk]
    await delivered(feed, 3)
    reads.clear()
    seen = [e["seq"] for e in body["events"]]
    while len(seen) < 3:
        _, _, body = await asgi_get(f"/rooms/lobby/poll?after={cursor}&timeout=5")
        seen.extend(e["seq"] for e in body["events"])
        cursor = body["last_seq"]
    waiting = asyncio.create_task(asgi_get(f"/rooms/lobby/poll?after={cursor}&timeout=10"))
    await asyncio.sleep(0.3)
    await post(room, alice, "next")
    _, _, body = await waiting
    assert seen + [e["seq"] for e in body["events"]] == [1, 2, 3, 4]
    assert reads == []
    # A cursor older than what memory holds gets the log's answer.
    monkeypatch.setattr("chat.realtime.feed.RECENT_EVENTS", 1)
    await post(room, alice, "fifth")
    await delivered(feed, 5)
    _, _, body = await asgi_get("/rooms/lobby/poll?after=1&timeout=0")
    assert [e["seq"] for e in body["events"]] == [2, 3, 4, 5]
    assert reads == ["position", "events"]


async def delivered(feed: Any, seq: int) -> None:
    """Until the room's feed has delivered `seq`."""
    async with asyncio.timeout(5):
        while feed.last_seq < seq:  # noqa: ASYNC110 (the feed signals nothing)
            await asyncio.sleep(0.01)


async def test_anonymous_polls_of_a_public_room_take_the_room_from_memory_briefly(
    hub: Hub, room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    """chat/transports/http.py, ROOM_MEMO_SECS: no query for the room within it; a room that
    turned private refuses polls once it has passed, and at once to a poll that must be checked."""
    from chat.transports import http

    reads: list[str] = []
    real = http.get_room
    monkeypatch.setattr(http, "get_room", lambda slug: reads.append(slug) or real(slug))
    monkeypatch.setattr(http, "ROOM_MEMO_SECS", 0.5)
    for _ in range(3):
        status, _, _ = await asgi_get("/rooms/lobby/poll?after=0&timeout=0")
        assert status == 200
    assert reads == ["lobby"]
    await database_sync_to_async(Room.objects.filter(pk=room.pk).update)(private=True)
    await asyncio.sleep(0.6)
    status, _, body = await asgi_get("/rooms/lobby/poll?after=0&timeout=0")
    assert (status, body["code"]) == (403, "private_room")
    assert reads == ["lobby", "lobby"]


async def test_polls_arriving_together_once_the_memory_ran_out_share_one_read_of_the_room(
    hub: Hub, room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thousand pollers answered by one event come back together: one query for the room, not
    one each, and a poll that leaves meanwhile does not cancel the others' read."""
    from chat.transports import http

    reads: list[str] = []
    real = http.get_room

    def slow_read(slug: str) -> Room:
        reads.append(slug)
        threading.Event().wait(0.2)  # the read is still in flight when the others arrive
        return real(slug)

    monkeypatch.setattr(http, "get_room", slow_read)
    leaving = asyncio.ensure_future(asgi_get("/rooms/lobby/poll?after=0&timeout=0"))
    await asyncio.sleep(0.05)
    polls = [asgi_get("/rooms/lobby/poll?after=0&timeout=0") for _ in range(20)]
    leaving.cancel()
    answers = await asyncio.gather(*polls)
    assert [status for status, _, _ in answers] == [200] * 20
    assert reads == ["lobby"]
    status, _, body = await asgi_get("/rooms/nowhere/poll?after=0&timeout=0")
    assert (status, body["code"]) == (404, "room_not_found")


async def test_polls_answered_by_one_batch_share_one_encoded_answer(
    hub: Hub, room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """chat/transports/longpoll.py, `_answers`: the guests a post answers get the same answer,
    encoded once (twice at most: the presence tick may count some of them meanwhile)."""
    from chat.transports import longpoll

    encoded: list[Any] = []
    real = longpoll.dumps
    monkeypatch.setattr(longpoll, "dumps", lambda value: encoded.append(value) or real(value))
    waiting = [asyncio.create_task(asgi_get("/rooms/lobby/poll?after=0&timeout=10")) for _ in range(8)]
    await asyncio.sleep(0.5)
    await post(room, alice, "arrived")
    answers = await asyncio.gather(*waiting)
    bodies = {json.dumps(body, sort_keys=True) for _, _, body in answers}
    assert len(encoded) == len(bodies) <= 2
    for status, _, body in answers:
        assert status == 200
        assert [event["text"] for event in body["events"]] == ["arrived"]
        assert body["last_seq"] == 1
        assert body["presence"]["guests"] >= 1
