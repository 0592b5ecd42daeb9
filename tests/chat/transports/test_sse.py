"""Server-Sent Events through the full ASGI stack (chat/transports/sse.py, docs/PROTOCOL.md)."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser

from chat.domain.posting import post_message
from chat.models import Room
from chat.realtime.hub import Hub
from tests.chat.asgi_clients import SseStream, asgi_get

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

post = database_sync_to_async(post_message)


async def test_sse_sends_hello_backlog_then_live(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    for n in range(3):
        await post(room, alice, f"old {n}")
    stream = await SseStream("/rooms/lobby/events?after=1").open()
    assert stream.status == 200
    assert stream.headers[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert stream.headers[b"cache-control"] == b"no-cache"
    assert stream.headers[b"x-accel-buffering"] == b"no"
    assert stream.headers[b"x-content-type-options"] == b"nosniff"
    blocks = await stream.blocks_until(lambda b: len(b) >= 1)
    assert stream.text.startswith("retry: 3000\nevent: hello\ndata: ")  # one block, not two
    assert blocks[0]["retry"] == "3000"
    assert blocks[0]["event"] == "hello"
    assert "id" not in blocks[0]
    hello = json.loads(blocks[0]["data"])
    assert hello["type"] == "hello"
    assert hello["last_seq"] == 3
    assert hello["room"] == {"slug": "lobby", "title": "Lobby"}

    backlog = await stream.events_until(2)
    assert [(e["sse_id"], e["sse_event"], e["text"]) for e in backlog] == [
        (2, "message", "old 1"),
        (3, "message", "old 2"),
    ]
    await post(room, alice, "live")
    events = await stream.events_until(3)
    assert events[2]["seq"] == events[2]["sse_id"] == 4
    assert events[2]["text"] == "live"
    assert events[2]["user"] == {"id": alice.pk, "name": "alice"}
    await stream.close()


async def test_sse_last_event_id_wins_over_after(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    for n in range(5):
        await post(room, alice, f"m{n}")
    stream = await SseStream("/rooms/lobby/events?after=0", headers=[(b"last-event-id", b"3")]).open()
    events = await stream.events_until(2)
    assert [e["sse_id"] for e in events] == [4, 5]
    await stream.close()


async def test_sse_without_cursor_is_live_only(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    await post(room, alice, "before")
    stream = await SseStream("/rooms/lobby/events").open()
    await stream.blocks_until(lambda b: any(x.get("event") == "hello" for x in b))
    await post(room, alice, "after")
    (event,) = await stream.events_until(1)
    assert event["text"] == "after"
    await stream.close()


async def test_sse_reset_for_a_cursor_ahead(hub: Hub, room: Room) -> None:
    stream = await SseStream("/rooms/lobby/events?after=99").open()
    blocks = await stream.blocks_until(lambda b: any(x.get("event") == "reset" for x in b))
    reset = next(json.loads(b["data"]) for b in blocks if b.get("event") == "reset")
    assert reset == {"type": "reset", "last_seq": 0, "reason": "cursor_ahead", "epoch": room.log_epoch}
    await stream.close()


async def test_sse_keep_alive(hub: Hub, room: Room, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chat.transports.sse.KEEPALIVE_SECS", 0.1)
    stream = await SseStream("/rooms/lobby/events").open()
    await stream.blocks_until(lambda b: sum(1 for x in b if x.get("comment") == "keep-alive") >= 2, timeout=3)
    await stream.close()


async def test_sse_errors_are_json(hub: Hub, room: Room) -> None:
    for url in ["/rooms/nope/events", "/rooms/No_Such/events"]:
        status, _, body = await asgi_get(url)
        assert (status, body["code"]) == (404, "room_not_found")
    for query in ["after=-1", "after=abc", "after=" + "9" * 30]:
        status, _, body = await asgi_get(f"/rooms/lobby/events?{query}")
        assert (status, body["code"]) == (400, "invalid")
    status, _, body = await asgi_get("/rooms/lobby/events", headers=[(b"last-event-id", b"x1")])
    assert (status, body["code"]) == (400, "invalid")


async def test_two_hundred_closed_streams_leave_nothing_behind(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    tasks_before = set(asyncio.all_tasks())
    streams = [SseStream("/rooms/lobby/events") for _ in range(200)]
    await asyncio.gather(*(stream.open() for stream in streams))
    for stream in streams:
        await stream.blocks_until(lambda b: any(x.get("event") == "hello" for x in b))
    assert hub.subscriber_count() == 200
    await post(room, alice, "to everyone")
    for stream in streams[:5]:
        assert (await stream.events_until(1))[0]["text"] == "to everyone"
    await asyncio.gather(*(stream.close() for stream in streams))
    assert hub.subscriber_count() == 0
    # Each stream's application task is gone; only the hub's own tasks (and this test) remain.
    leftover = [t for t in asyncio.all_tasks() if "event_stream" in repr(t.get_coro())]
    assert leftover == []
    # Nothing else new but the hub's own tasks (its room feed, tickers and loops, all "hub-...").
    new = [task for task in asyncio.all_tasks() - tasks_before if not task.get_name().startswith("hub-")]
    assert new == []
