"""One connection's cursor (chat/realtime/subscription.py) against a fake `Sink`: the backlog
after a cursor, then live, each seq written once and in order, whatever arrives meanwhile;
a client that stops reading catches up from the log; where a stream starts (`resume_point`)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser

from chat.domain.eventlog import append_event, events_after
from chat.domain.wire import WireEvent
from chat.models import EventKind, Room
from chat.realtime import feed as feed_module
from chat.realtime import hub as hub_module
from chat.realtime.batch import Batch
from chat.realtime.feed import RoomFeed, log_reset, probe
from chat.realtime.hub import Hub
from chat.realtime.subscription import Subscription, resume_point

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]


class FakeSink:
    """A transport that records what it is given; `lag` is a client that stopped reading."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, Any]] = []  # ("batch", [seqs]) or ("presence", frame), in order
        self.lag = False

    async def write_batch(self, batch: Batch) -> None:
        self.writes.append(("batch", [event["seq"] for event in batch.events]))

    async def write_presence(self, frame: str) -> None:
        self.writes.append(("presence", frame))

    async def write_reset(self, frame: str) -> None:
        self.writes.append(("reset", json.loads(frame)))

    def lagging(self) -> bool:
        return self.lag

    def drained(self) -> bool:
        return not self.lag

    @property
    def seqs(self) -> list[int]:
        return [seq for kind, seqs in self.writes if kind == "batch" for seq in seqs]

    async def wait_for(self, predicate: Any, timeout: float = 5) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate(self):
            if loop.time() > deadline:
                raise TimeoutError(f"still waiting; written: {self.writes}")
            await asyncio.sleep(0.005)


def _append(room: Room, user: AbstractBaseUser, count: int, kind: EventKind) -> list[WireEvent]:
    before = Room.objects.get(pk=room.pk).last_seq
    for n in range(count):
        video_ms = 0 if kind == EventKind.DANMAKU else None
        append_event(room, kind, user=user, text=f"{kind} {before + n + 1}", video_ms=video_ms)
    return events_after(room.pk, before, count)


async def append(
    room: Room, user: AbstractBaseUser, count: int, kind: EventKind = EventKind.MESSAGE
) -> list[WireEvent]:
    """Write `count` events to the room's log; their wire form, as the hub would carry them."""
    return await database_sync_to_async(_append)(room, user, count, kind)


def live(events: list[WireEvent], *seqs: int) -> Batch:
    """A live batch of the given seqs (from `events`, indexed by seq)."""
    by_seq = {event["seq"]: event for event in events}
    return Batch([by_seq[seq] for seq in seqs])


class HeldRead:
    """`events_after` whose first read sees the log only up to `upto` (as if later events were
    committed after it ran) and then waits until released: live batches arrive meanwhile."""

    def __init__(self, upto: int) -> None:
        self.upto = upto
        self.cursors: list[int] = []  # the cursor of every read, in order
        self.entered = threading.Event()
        self.released = threading.Event()

    def __call__(self, room_id: int, after: int, limit: int) -> list[WireEvent]:
        events = events_after(room_id, after, limit)
        self.cursors.append(after)
        if len(self.cursors) == 1:
            events = [event for event in events if event["seq"] <= self.upto]
            self.entered.set()
            self.released.wait(10)
        return events

    async def reading(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while not self.entered.is_set():
            assert loop.time() < deadline, "the backlog read never started"
            await asyncio.sleep(0.005)


async def settled(subscription: Subscription) -> None:
    """Until a catch-up the subscription started on its own has finished."""
    task = subscription._catch_up_task
    if task is not None:
        await asyncio.wait_for(task, 5)


@pytest.fixture
def sink() -> FakeSink:
    return FakeSink()


@pytest.fixture
async def subscription(hub: Hub, room: Room, sink: FakeSink) -> AsyncIterator[Subscription]:
    current = Subscription(room.pk, sink, "g:viewer", "")
    yield current
    current.close()


# --- backlog, then live -----------------------------------------------------------------


async def test_backlog_after_the_cursor_then_live_each_seq_once(
    room: Room, alice: AbstractBaseUser, sink: FakeSink, subscription: Subscription
) -> None:
    await append(room, alice, 5)
    await subscription.start(2)
    assert sink.seqs == [3, 4, 5]
    events = await append(room, alice, 2)  # 6 and 7
    await subscription.deliver(live(events, 6))
    await subscription.deliver(live(events, 6))  # the same batch again
    await subscription.deliver(live(events, 6, 7))  # overlapping what was written
    assert sink.seqs == [3, 4, 5, 6, 7]


async def test_live_batches_during_the_backlog_read_are_buffered_and_deduplicated(
    room: Room,
    alice: AbstractBaseUser,
    sink: FakeSink,
    subscription: Subscription,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = await append(room, alice, 13)
    read = HeldRead(upto=10)
    monkeypatch.setattr("chat.realtime.subscription.events_after", read)
    starting = asyncio.create_task(subscription.start(0))
    await read.reading()
    for seqs in [(9, 10), (9, 10, 11), (11, 12), (12, 13)]:  # within the backlog, overlapping it, each other
        await subscription.deliver(live(events, *seqs))
    assert sink.writes == []  # nothing live before the backlog
    read.released.set()
    await asyncio.wait_for(starting, 5)
    assert sink.seqs == list(range(1, 14))
    assert read.cursors == [0]  # 11 to 13 came from the buffer, not from a second read
    more = await append(room, alice, 1)
    await subscription.deliver(live(more, 14))
    assert sink.seqs == list(range(1, 15))


async def test_a_buffer_overflow_rereads_the_log_and_still_writes_each_seq_once(
    room: Room,
    alice: AbstractBaseUser,
    sink: FakeSink,
    subscription: Subscription,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("chat.realtime.subscription.PENDING_MAX_EVENTS", 5)
    events = await append(room, alice, 20)
    read = HeldRead(upto=10)
    monkeypatch.setattr("chat.realtime.subscription.events_after", read)
    starting = asyncio.create_task(subscription.start(0))
    await read.reading()
    for seqs in [(11, 12, 13), (14, 15, 16), (17, 18, 19, 20)]:  # 10 events: more than 5 buffered
        await subscription.deliver(live(events, *seqs))
    read.released.set()
    await asyncio.wait_for(starting, 5)
    assert sink.seqs == list(range(1, 21))
    assert read.cursors == [0, 10]  # the buffer was let go and the log read again from the cursor


async def test_a_batch_that_does_not_follow_the_cursor_resyncs_from_the_log(
    room: Room, alice: AbstractBaseUser, sink: FakeSink, subscription: Subscription
) -> None:
    await append(room, alice, 5)
    await subscription.start(0)
    events = await append(room, alice, 3)  # 6, 7 and 8
    await subscription.deliver(live(events, 8))  # 6 and 7 never came
    await settled(subscription)
    assert sink.seqs == list(range(1, 9))
    more = await append(room, alice, 1)
    await subscription.deliver(live(more, 9))  # live again
    assert sink.seqs == list(range(1, 10))


# --- a client that stops reading ---------------------------------------------------------


async def test_a_lagging_client_gets_nothing_live_and_catches_up_from_the_log_once_drained(
    room: Room, alice: AbstractBaseUser, sink: FakeSink, subscription: Subscription
) -> None:
    await append(room, alice, 3)
    await subscription.start(0)
    sink.lag = True
    events = await append(room, alice, 3)  # 4, 5 and 6
    for seq in (4, 5, 6):
        await subscription.deliver(live(events, seq))
    await asyncio.sleep(0.2)
    assert sink.writes == [("batch", [1, 2, 3])]  # nothing more while the client is behind
    sink.lag = False
    await sink.wait_for(lambda s: s.seqs[-1] == 6)
    await settled(subscription)
    # One read of the log, not the three batches that were offered one by one.
    assert sink.writes == [("batch", [1, 2, 3]), ("batch", [4, 5, 6])]
    more = await append(room, alice, 1)
    await subscription.deliver(live(more, 7))
    assert sink.seqs == list(range(1, 8))


async def test_presence_while_behind_is_held_and_the_latest_sent_once_caught_up(
    room: Room, alice: AbstractBaseUser, sink: FakeSink, subscription: Subscription
) -> None:
    await subscription.deliver_presence('{"count": 0}')  # before the greeting: not this stream's
    await append(room, alice, 1)
    await subscription.start(0)
    await subscription.deliver_presence('{"count": 1}')  # live: at once
    sink.lag = True
    events = await append(room, alice, 1)
    await subscription.deliver(live(events, 2))
    await subscription.deliver_presence('{"count": 2}')
    await subscription.deliver_presence('{"count": 3}')
    await asyncio.sleep(0.2)
    assert sink.writes == [("batch", [1]), ("presence", '{"count": 1}')]
    sink.lag = False
    await sink.wait_for(lambda s: s.writes[-1][0] == "presence")
    await settled(subscription)
    assert sink.writes == [
        ("batch", [1]),
        ("presence", '{"count": 1}'),
        ("batch", [2]),
        ("presence", '{"count": 3}'),  # only the latest, after the events it follows
    ]


# --- where a stream starts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "last_seq", "start"),
    [
        (None, 40, (40, None)),  # no cursor: live from now
        (40, 40, (40, None)),  # up to date
        (30, 40, (30, None)),  # the backlog from 31
        (20, 40, (20, None)),  # exactly as far back as the backlog reaches
        (19, 40, (40, "backlog_exceeded")),  # one further: a reset, then live
        (0, 0, (0, None)),  # a new room
        (41, 40, (40, "cursor_ahead")),  # a cursor from another room, or a restored database
    ],
)
def test_resume_point(after: int | None, last_seq: int, start: tuple[int, str | None]) -> None:
    assert resume_point(after, last_seq, backlog_max=20) == start
    # The same, for a cursor of the room's log epoch; one of another epoch always resets.
    assert resume_point(after, last_seq, 20, "e1", "e1") == start
    other = (last_seq, None if after is None else "epoch_changed")
    assert resume_point(after, last_seq, 20, "e0", "e1") == other


async def test_a_reset_moves_the_cursor_back_and_drops_what_was_pending(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    await append(room, alice, 5, EventKind.MESSAGE)
    sink = FakeSink()
    subscription = Subscription(room.pk, sink, "u:1", "alice")
    feed = await subscription.open()
    await subscription.start(0)
    await sink.wait_for(lambda s: s.seqs == [1, 2, 3, 4, 5])
    await feed.reset(3, "e2")
    assert sink.writes[-1] == (
        "reset",
        {"type": "reset", "last_seq": 3, "reason": "epoch_changed", "epoch": "e2"},
    )
    assert (subscription.cursor, feed.last_seq, feed.epoch) == (3, 3, "e2")
    subscription.close()


# --- max_rate: sampled danmaku are skipped, not held ----------------------------------


async def test_max_rate_moves_the_cursor_past_skipped_danmaku(
    room: Room, alice: AbstractBaseUser, sink: FakeSink, hub: Hub
) -> None:
    subscription = Subscription(room.pk, sink, "g:sampled", "", max_rate=1)
    subscription.feed = RoomFeed(room.pk)  # the room's samplers live on its feed
    try:
        await append(room, alice, 1)  # a chat message: never sampled
        await append(room, alice, 20, EventKind.DANMAKU)  # 2 to 21
        await subscription.start(0)
        assert sink.seqs[0] == 1
        assert 1 <= len(sink.seqs) - 1 <= 3  # one comment a second, and a small burst
        assert subscription.cursor == 21  # past the skipped comments: a resume starts after 21
        skipped = await append(room, alice, 5, EventKind.DANMAKU)  # 22 to 26, all over the rate
        written = len(sink.writes)
        await subscription.deliver(live(skipped, 22, 23, 24, 25, 26))
        assert subscription.cursor == 26
        assert len(sink.writes) - written <= 1  # at most a comment the bucket refilled meanwhile
        assert all(seqs for kind, seqs in sink.writes if kind == "batch")  # never an empty batch
        chat = await append(room, alice, 1)
        await subscription.deliver(live(chat, 27))  # follows the cursor: written at once, no resync
        assert sink.writes[-1] == ("batch", [27])
        assert subscription._catch_up_task is None
    finally:
        subscription.close()


async def test_a_full_feed_inbox_keeps_a_log_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Far behind, a feed drops its queue for one probe of the log; a reset in it stays, first."""
    monkeypatch.setattr(feed_module, "FEED_INBOX_MAX", 3)
    feed = RoomFeed(1)
    for event in (probe(1), log_reset(0, "e2"), probe(3), probe(9)):
        feed.offer(event)
    queued = [feed.inbox.get_nowait() for _ in range(feed.inbox.qsize())]
    assert queued == [log_reset(0, "e2"), probe(9)]


# --- the feed's memory of recent events: catch-ups a moment behind read no log ---------------


def count_log_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the cursor of every backlog read from the log."""
    cursors: list[int] = []

    def counted(room_id: int, after: int, limit: int) -> list[WireEvent]:
        cursors.append(after)
        return events_after(room_id, after, limit)

    monkeypatch.setattr("chat.realtime.subscription.events_after", counted)
    return cursors


@pytest.fixture
async def hub_without_checks(monkeypatch: pytest.MonkeyPatch, hub: Hub) -> Hub:
    """The hub, without its periodic check of the log: the tests below hand the feed its
    batches themselves, and a check that found the events first would deliver them too."""
    monkeypatch.setattr(hub_module, "GAP_CHECK_SECS", 3600)
    return hub


async def broadcast(feed: RoomFeed, events: list[WireEvent]) -> None:
    """The feed delivers `events` as it does what arrives from the layer."""
    await feed.broadcast(Batch(events))


async def test_a_client_a_moment_behind_catches_up_from_memory(
    hub_without_checks: Hub, room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher = Subscription(room.pk, FakeSink(), "g:watcher", "")
    feed = await watcher.open()
    events = await append(room, alice, 6)
    await broadcast(feed, events)
    reads = count_log_reads(monkeypatch)
    sink = FakeSink()
    late = Subscription(room.pk, sink, "g:late", "")
    await late.open()
    assert await late.position(2, feed.epoch) == (6, feed.epoch)  # no query for the position
    await late.start(2)
    assert sink.seqs == [3, 4, 5, 6]
    assert reads == []  # ... nor for the backlog
    more = await append(room, alice, 2)
    await broadcast(feed, more)
    assert sink.seqs == [3, 4, 5, 6, 7, 8]  # then live, each seq once
    late.close()
    watcher.close()


async def test_memory_does_not_serve_what_a_delete_changed_nor_what_it_no_longer_holds(
    hub_without_checks: Hub, room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_module, "RECENT_EVENTS", 3)
    watcher = Subscription(room.pk, FakeSink(), "g:watcher", "")
    feed = await watcher.open()
    events = await append(room, alice, 6)
    for event in events:
        await broadcast(feed, [event])
    reads = count_log_reads(monkeypatch)
    assert feed.recent_after(4) is not None
    assert feed.recent_after(1) is None
    sink = FakeSink()
    far = Subscription(room.pk, sink, "g:far", "")
    await far.open()
    assert await far.position(1, feed.epoch) == (6, feed.epoch)  # the log's answer, read
    await far.start(1)
    assert sink.seqs == [2, 3, 4, 5, 6]
    assert reads == [1]
    far.close()

    # A moderator deletes message 5: its `delete` event (seq 7) retracts what memory holds.
    deleted = await database_sync_to_async(_delete_event)(room, 5)
    await broadcast(feed, deleted)
    assert feed.recent_after(4) is None
    sink = EventSink()
    again = Subscription(room.pk, sink, "g:again", "")
    await again.open()
    await again.start(4)
    assert reads == [1, 4]  # read from the log, which has message 5 without its text
    assert [event["seq"] for event in sink.events] == [5, 6, 7]
    assert sink.events[0].get("deleted") is True
    assert sink.events[0]["text"] == ""
    again.close()
    watcher.close()


async def test_memory_holds_each_seq_once_whatever_batches_the_feed_is_given(
    hub_without_checks: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    watcher = Subscription(room.pk, FakeSink(), "g:watcher", "")
    feed = await watcher.open()
    events = await append(room, alice, 6)
    await feed.broadcast(Batch(events[:4]))
    await feed.broadcast(Batch(events[2:]))  # overlaps what memory holds: it starts again
    assert feed.recent_after(1) is None
    assert feed.recent_after(2) == events[2:]  # 3, 4, 5, 6: once each
    await feed.broadcast(Batch(events[:2]))  # behind it: the same
    assert feed.recent_after(0) == events[:2]
    watcher.close()


def _delete_event(room: Room, seq: int) -> list[WireEvent]:
    from django.utils import timezone

    from chat.models import RoomEvent

    before = Room.objects.get(pk=room.pk).last_seq
    target = RoomEvent.objects.get(room=room, seq=seq)
    RoomEvent.objects.filter(pk=target.pk).update(deleted_at=timezone.now())
    append_event(room, EventKind.DELETE, data={"target": target.pk})
    return events_after(room.pk, before, 10)


class EventSink(FakeSink):
    """A FakeSink that keeps the events themselves."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[WireEvent] = []

    async def write_batch(self, batch: Batch) -> None:
        await super().write_batch(batch)
        self.events.extend(batch.events)
