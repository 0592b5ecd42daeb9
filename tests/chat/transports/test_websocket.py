"""The WebSocket contract through the full ASGI stack (origin check, sessions, routing)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from chat.domain.posting import post_message
from chat.models import Room, RoomEvent
from chat.realtime.hub import Hub
from config.asgi import application
from tests.chat.asgi_clients import HOST, ORIGIN, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]


post = database_sync_to_async(post_message)


async def test_hello_then_live_events(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    comm = await connect("/ws/rooms/lobby/", alice)
    hello = await comm.next_frame("hello")
    assert hello["room"] == {"slug": "lobby", "title": "Lobby"}
    assert hello["last_seq"] == 0
    assert hello["me"] == {"id": alice.pk, "name": "alice"}
    assert hello["presence"]["count"] == 1
    assert hello["presence"]["users"] == [{"id": alice.pk, "name": "alice"}]

    ack = await comm.send({"type": "message", "text": "hi there", "nonce": "n1"})
    assert ack["type"] == "ack"
    assert ack["nonce"] == "n1"
    assert ack["seq"] == 1
    (event,) = await comm.receive_events(1)
    assert event["seq"] == 1
    assert event["kind"] == "message"
    assert event["text"] == "hi there"
    assert event["user"] == {"id": alice.pk, "name": "alice"}
    assert event["id"] == ack["id"]
    await comm.disconnect()


async def test_a_cursor_of_another_log_epoch_gets_reset(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    for n in range(3):
        await post(room, alice, f"m{n}")
    comm = await connect("/ws/rooms/lobby/", alice)
    hello = await comm.next_frame("hello")
    assert hello["epoch"] == room.log_epoch
    await comm.disconnect()

    comm = await connect(f"/ws/rooms/lobby/?after=2&epoch={room.log_epoch}", alice)
    await comm.next_frame("hello")
    assert [event["seq"] for event in await comm.receive_events(1)] == [3]
    await comm.disconnect()

    comm = await connect("/ws/rooms/lobby/?after=2&epoch=0ther", alice)
    await comm.next_frame("hello")
    reset = await comm.next_frame("reset")
    assert reset == {"type": "reset", "last_seq": 3, "reason": "epoch_changed", "epoch": room.log_epoch}
    await comm.assert_silent("events")
    await comm.disconnect()


def go_back_to(room: Room, seq: int) -> None:
    """What restoring a backup taken at `seq` does to the room's log: the later events are
    gone, and the room carries its epoch of then (unchanged here)."""
    RoomEvent.objects.filter(room=room, seq__gt=seq).delete()
    Room.objects.filter(pk=room.pk).update(last_seq=seq)


async def test_a_log_gone_back_resets_connected_clients_under_a_new_epoch(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    for n in range(5):
        await post(room, alice, f"m{n}")
    comm = await connect("/ws/rooms/lobby/?after=0", alice)
    hello = await comm.next_frame("hello")
    assert len(await comm.receive_events(5)) == 5
    await database_sync_to_async(go_back_to)(room, 3)
    await hub._check_gaps()  # what the hub does every GAP_CHECK_SECS
    reset = await comm.next_frame("reset")
    await database_sync_to_async(room.refresh_from_db)()
    assert reset == {"type": "reset", "last_seq": 3, "reason": "epoch_changed", "epoch": room.log_epoch}
    assert room.log_epoch != hello["epoch"]
    await post(room, alice, "after the restore")
    (event,) = await comm.receive_events(1)
    assert (event["seq"], event["text"]) == (4, "after the restore")
    await comm.disconnect()

    # A client that saw seq 5 of the old log comes back: its cursor is valid by number only.
    await post(room, alice, "one more")
    comm = await connect(f"/ws/rooms/lobby/?after=5&epoch={hello['epoch']}", alice)
    await comm.next_frame("hello")
    assert (await comm.next_frame("reset"))["reason"] == "epoch_changed"
    await comm.disconnect()


async def test_one_post_reaches_every_local_connection_once(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    viewers = [await connect("/ws/rooms/lobby/") for _ in range(5)]
    author = await connect("/ws/rooms/lobby/", bob)
    for comm in [*viewers, author]:
        await comm.next_frame("hello")
    for n in range(3):
        await post(room, alice, f"m{n}")
    for comm in [*viewers, author]:
        events = await comm.receive_events(3)
        assert [e["seq"] for e in events] == [1, 2, 3]
        assert [e["text"] for e in events] == ["m0", "m1", "m2"]
        await comm.assert_silent("events")
    # One group membership for the room in this process, whatever the connection count.
    assert len(hub.feeds) == 1
    assert len(hub.feeds[room.pk].subscribers) == 6
    layer_groups = getattr(hub.layer, "groups", {})
    assert list(layer_groups.get(f"room.{room.pk}", {})) == [hub.channel_name]
    for comm in [*viewers, author]:
        await comm.disconnect()


async def test_resume_after_disconnect_gets_exactly_the_missed_events(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    comm = await connect("/ws/rooms/lobby/?after=0", alice)
    await comm.next_frame("hello")
    for n in range(3):
        await comm.send({"type": "message", "text": f"before {n}"})
    seen = await comm.receive_events(3)
    last_seen = seen[-1]["seq"]
    await comm.disconnect()

    for n in range(4):
        await post(room, alice, f"missed {n}")

    comm = await connect(f"/ws/rooms/lobby/?after={last_seen}", alice)
    hello = await comm.next_frame("hello")
    assert hello["last_seq"] == 7
    missed = await comm.receive_events(4)
    assert [e["seq"] for e in missed] == [4, 5, 6, 7]
    assert [e["text"] for e in missed] == [f"missed {n}" for n in range(4)]
    await post(room, alice, "live")
    (live,) = await comm.receive_events(1)
    assert live["seq"] == 8
    await comm.assert_silent("events")
    await comm.disconnect()


async def test_events_committed_during_backlog_are_delivered_once_in_order(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    for n in range(600):  # more than one backlog page
        await post(room, alice, f"old {n}")

    async def writer() -> None:
        for n in range(50):
            await post(room, alice, f"new {n}")

    comm = await connect("/ws/rooms/lobby/?after=0", alice)
    await comm.next_frame("hello")
    task = asyncio.create_task(writer())
    events = await comm.receive_events(650, timeout=20)
    await task
    assert [e["seq"] for e in events] == list(range(1, 651))
    await comm.assert_silent("events")
    await comm.disconnect()


async def test_without_after_the_stream_starts_live(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    await post(room, alice, "old")
    comm = await connect("/ws/rooms/lobby/")
    hello = await comm.next_frame("hello")
    assert hello["last_seq"] == 1
    assert hello["me"] is None
    await comm.assert_silent("events")
    await post(room, alice, "new")
    (event,) = await comm.receive_events(1)
    assert event["text"] == "new"
    await comm.disconnect()


async def test_cursor_older_than_backlog_or_ahead_gets_reset(
    hub: Hub, room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "CHAT_BACKLOG_MAX", 5)
    for n in range(8):
        await post(room, alice, f"m{n}")
    comm = await connect("/ws/rooms/lobby/?after=1", alice)
    await comm.next_frame("hello")
    reset = await comm.next_frame("reset")
    assert reset == {"type": "reset", "last_seq": 8, "reason": "backlog_exceeded", "epoch": room.log_epoch}
    await comm.assert_silent("events")
    await post(room, alice, "after reset")
    (event,) = await comm.receive_events(1)
    assert event["seq"] == 9
    await comm.disconnect()

    comm = await connect("/ws/rooms/lobby/?after=500", alice)
    await comm.next_frame("hello")
    reset = await comm.next_frame("reset")
    assert reset["reason"] == "cursor_ahead"
    assert reset["last_seq"] == 9
    await comm.disconnect()


async def test_guest_reads_but_cannot_post(hub: Hub, room: Room) -> None:
    comm = await connect("/ws/rooms/lobby/")
    await comm.next_frame("hello")
    error = await comm.send({"type": "message", "text": "hi", "nonce": 7})
    assert error == {
        "type": "error",
        "nonce": 7,
        "code": "login_required",
        "message": "Log in to post in this room.",
    }
    assert await database_sync_to_async(RoomEvent.objects.count)() == 0
    await comm.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid"),
        ("[1, 2]", "invalid"),
        ('"text"', "invalid"),
        ("{}", "unknown_type"),
        ('{"type": "shout", "text": "x"}', "unknown_type"),
        ('{"type": ["message"]}', "unknown_type"),
        ('{"type": "message"}', "invalid"),
        ('{"type": "message", "text": 5}', "invalid"),
        ('{"type": "message", "text": null}', "invalid"),
        ('{"type": "message", "text": "   "}', "empty"),
        ('{"type": "message", "text": "\\u0000\\u0007"}', "empty"),
        ('{"type": "message", "text": "' + "x" * 501 + '"}', "too_long"),
        ('{"type": "message", "text": "hi", "nonce": {"a": 1}}', "invalid"),
        ('{"type": "message", "text": "hi", "nonce": "' + "n" * 101 + '"}', "invalid"),
        ("[" * 30_000 + "]" * 30_000, "invalid"),  # nesting deeper than the parser allows
        ('{"type": "message", "text": "hi", "nonce": ' + "9" * 5000 + "}", "invalid"),
    ],
)
async def test_bad_frames_get_error_and_connection_survives(
    hub: Hub, room: Room, alice: AbstractBaseUser, frame: str, code: str
) -> None:
    comm = await connect("/ws/rooms/lobby/", alice)
    await comm.next_frame("hello")
    await comm.send_raw(text_data=frame)
    error = await comm.next_frame("error")
    assert error["code"] == code
    assert error["message"]
    assert await database_sync_to_async(RoomEvent.objects.count)() == 0
    ack = await comm.send({"type": "message", "text": "still here", "nonce": "ok"})
    assert ack["type"] == "ack"
    await comm.disconnect()


async def test_binary_and_oversized_frames_are_refused(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    comm = await connect("/ws/rooms/lobby/", alice)
    await comm.next_frame("hello")
    await comm.send_raw(bytes_data=b"\x00\x01binary")
    assert (await comm.next_frame("error"))["code"] == "invalid"
    await comm.send_raw(text_data=json.dumps({"type": "message", "text": "x" * 70_000}))
    assert (await comm.next_frame("error"))["code"] == "too_long"
    assert (await comm.send({"type": "ping"}))["type"] == "pong"
    await comm.disconnect()


async def test_control_characters_are_stripped(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    comm = await connect("/ws/rooms/lobby/", alice)
    await comm.next_frame("hello")
    await comm.send({"type": "message", "text": "a\u0000b\u001b[2Jc\u0085d"})
    (event,) = await comm.receive_events(1)
    assert event["text"] == "ab[2Jc d"
    await comm.disconnect()


async def test_unknown_room_closes_4404(hub: Hub, db: None) -> None:
    comm = WebsocketCommunicator(application, "/ws/rooms/nowhere/", headers=[HOST, ORIGIN])
    connected, _ = await comm.connect(timeout=5)
    assert connected
    closed = await comm.receive_output(timeout=5)
    assert closed["type"] == "websocket.close"
    assert closed["code"] == 4404


async def test_bad_cursor_closes_4400(hub: Hub, room: Room) -> None:
    comm = WebsocketCommunicator(application, "/ws/rooms/lobby/?after=-3", headers=[HOST, ORIGIN])
    await comm.connect(timeout=5)
    error = json.loads(await comm.receive_from(timeout=5))
    assert error["code"] == "invalid"
    closed = await comm.receive_output(timeout=5)
    assert closed["code"] == 4400


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example",
        b"null",
        b"http://testserver.evil.example",
        b"ftp://testserver",
        b"https://testserver",  # the same host and port, another scheme: another origin
    ],
)
async def test_cross_site_origin_is_refused(hub: Hub, room: Room, origin: bytes) -> None:
    comm = WebsocketCommunicator(application, "/ws/rooms/lobby/", headers=[HOST, (b"origin", origin)])
    connected, _ = await comm.connect(timeout=5)
    assert not connected


async def test_presence_counts_a_user_once_and_sees_leaves(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    watcher = await connect("/ws/rooms/lobby/", bob)
    await watcher.next_frame("hello")
    tab1 = await connect("/ws/rooms/lobby/", alice)
    tab2 = await connect("/ws/rooms/lobby/", alice)
    hello = await tab2.next_frame("hello")
    assert hello["presence"]["count"] == 2

    async def presence_until(count: int) -> dict[str, Any]:
        while True:
            frame = await watcher.next_frame("presence", timeout=4)
            if frame["count"] == count:
                return frame

    both = await presence_until(2)
    assert sorted(u["name"] for u in both["users"]) == ["alice", "bob"]
    await tab1.disconnect()
    await asyncio.sleep(1.5)
    await watcher.assert_silent("presence", wait=1.2)  # alice still has a tab open
    await tab2.disconnect()
    alone = await presence_until(1)
    assert alone["users"] == [{"id": bob.pk, "name": "bob"}]
    await watcher.disconnect()


async def test_presence_frames_are_throttled(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    watcher = await connect("/ws/rooms/lobby/", alice)
    await watcher.next_frame("hello")
    guests = [await connect("/ws/rooms/lobby/") for _ in range(20)]
    frames = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.5
    while loop.time() < deadline:
        try:
            frames.append(await watcher.next_frame("presence", timeout=deadline - loop.time()))
        except TimeoutError:
            break
    assert 1 <= len(frames) <= 3  # about one a second, not one per join
    assert frames[-1]["count"] == 21
    assert frames[-1]["guests"] == 20
    for comm in [watcher, *guests]:
        await comm.disconnect()


async def test_last_subscriber_leaving_releases_the_room(hub: Hub, room: Room, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("chat.realtime.hub.FEED_LINGER_SECS", 0.05)
    comms = [await connect("/ws/rooms/lobby/") for _ in range(3)]
    for comm in comms:
        await comm.next_frame("hello")
    assert hub.subscriber_count() == 3
    for comm in comms:
        await comm.disconnect()
    await asyncio.sleep(0.3)
    assert hub.subscriber_count() == 0
    assert room.pk not in hub.feeds
    assert not getattr(hub.layer, "groups", {}).get(f"room.{room.pk}")


async def test_a_stream_that_fails_to_start_is_released_and_closed_4500(
    hub: Hub, room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_start(self: object, cursor: int) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr("chat.realtime.subscription.Subscription.start", broken_start)
    comm = WebsocketCommunicator(application, "/ws/rooms/lobby/?after=0", headers=[HOST, ORIGIN])
    connected, _ = await comm.connect(timeout=5)
    assert connected
    frames = [await comm.receive_output(timeout=5) for _ in range(2)]
    assert frames[0]["type"] == "websocket.send"  # hello
    assert frames[1]["type"] == "websocket.close"
    assert frames[1]["code"] == 4500
    assert hub.subscriber_count() == 0


def test_large_batches_are_split_into_frames_daphne_can_send() -> None:
    from chat.domain.wire import WS_FRAME_BUDGET
    from chat.realtime.batch import Batch

    events = [{"seq": n, "kind": "message", "text": "字" * 500} for n in range(1, 301)]
    frames = Batch(events).ws_frames
    assert len(frames) > 1
    assert all(len(frame.encode()) <= WS_FRAME_BUDGET for frame in frames)
    assert [e for frame in frames for e in json.loads(frame)["events"]] == events
    small = Batch(events[:3])
    assert small.ws_frames == [small.ws_frame]


async def test_a_batch_or_presence_for_a_client_that_just_left_is_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A viewer who closes while the hub is writing a batch or presence to it: daphne raises
    Disconnected on the write. That is an ordinary departure (the client resumes by its cursor),
    not a failure to log; the soak saw it a few times in 7,000 departures."""
    from autobahn.exception import Disconnected

    from chat.realtime.batch import Batch
    from chat.transports.websocket import RoomConsumer

    consumer = RoomConsumer()

    async def gone(message: dict[str, Any]) -> None:
        raise Disconnected("Attempt to send on a closed protocol")

    consumer.base_send = gone
    with caplog.at_level(logging.DEBUG):
        await consumer.write_batch(Batch([{"seq": 1, "kind": "message", "text": "late"}]))
        await consumer.write_presence('{"type": "presence", "count": 0, "guests": 0, "users": []}')
    assert caplog.records == []


@pytest.mark.parametrize("path", ["/ws/rooms/NOT-A-SLUG/", "/ws/rooms/" + "x" * 51 + "/", "/ws/rooms/%00/"])
async def test_a_path_no_room_can_have_closes_4404(hub: Hub, db: None, path: str) -> None:
    comm = WebsocketCommunicator(application, path, headers=[HOST, ORIGIN])
    connected, _ = await comm.connect(timeout=5)
    assert connected
    closed = await comm.receive_output(timeout=5)
    assert closed["code"] == 4404


@pytest.mark.parametrize("path", ["/ws/other/", "/ws/rooms/lobby/extra/", "/elsewhere"])
async def test_a_path_outside_the_rooms_is_refused(hub: Hub, room: Room, path: str) -> None:
    comm = WebsocketCommunicator(application, path, headers=[HOST, ORIGIN])
    connected, _ = await comm.connect(timeout=5)
    assert not connected
