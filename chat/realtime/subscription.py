"""A connection's ordered view of a room: backlog from the log, then live from the hub.

Every transport (WebSocket, SSE, long-poll) holds one `Subscription`. It keeps the connection's
cursor (the last seq written to it) and guarantees each seq is written once, in order, with no
gap: live batches that arrive while the backlog is still being read wait in a bounded buffer;
if the buffer overflows, or a live batch does not follow the cursor, the subscription re-reads
the log from its cursor and then goes live again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any, Protocol

from channels.db import database_sync_to_async

from chat.domain.eventlog import events_after, log_position
from chat.domain.wire import dumps

from .batch import Batch
from .feed import RoomFeed
from .hub import get_hub

logger = logging.getLogger(__name__)

# Events read from the log per query while catching up.
BACKLOG_PAGE = 500
# Live events a subscription buffers while catching up; past this it drops the buffer and
# re-reads the log instead, so a slow catch-up never holds unbounded memory.
PENDING_MAX_EVENTS = 2_000
# Shared by every subscription with nothing buffered (an empty deque is 760 bytes; most
# subscriptions never buffer). maxlen=0: nothing can be added to it by mistake.
_NOTHING_PENDING: deque[Any] = deque(maxlen=0)
# How often a subscription that fell behind checks whether its client has caught up.
DRAIN_POLL_SECS = 0.05


def resume_point(
    after: int | None, last_seq: int, backlog_max: int, epoch: str | None = None, log_epoch: str = ""
) -> tuple[int, str | None]:
    """Where a stream starts: (cursor, reset reason or None).

    No cursor: live from now. A cursor the log cannot serve (of another log epoch than the
    room's, ahead of the room, or more than `backlog_max` events behind): a reset, then live
    from now. A cursor without an epoch is taken to be of the room's.
    """
    if after is None:
        return last_seq, None
    if epoch is not None and epoch != log_epoch:
        return last_seq, "epoch_changed"
    if after > last_seq:
        return last_seq, "cursor_ahead"
    if last_seq - after > backlog_max:
        return last_seq, "backlog_exceeded"
    return after, None


class Sink(Protocol):
    """Where a subscription writes: the transport's own framing, and how far behind its client is."""

    async def write_batch(self, batch: Batch) -> None: ...

    async def write_presence(self, frame: str) -> None: ...

    async def write_reset(self, frame: str) -> None:
        """A `reset` frame (JSON): the client drops what it shows and reloads history."""
        ...

    def lagging(self) -> bool:
        """The client has not taken so much of what was written that live writing must stop: the
        subscription keeps only its cursor and catches up from the log once `drained`."""
        ...

    def drained(self) -> bool:
        """The client has taken (nearly) everything written: catching up may start."""
        ...


class Subscription:
    """One connection's cursor into a room; the room feed's subscriber (see the module doc)."""

    def __init__(
        self, room_id: int, sink: Sink, presence_key: str, presence_name: str, max_rate: int | None = None
    ) -> None:
        self.room_id = room_id
        self.max_rate = max_rate  # danmaku a second this viewer takes at most (None: all)
        self.sink = sink
        self.presence_key = presence_key
        self.presence_name = presence_name
        self.cursor = 0
        self.feed: RoomFeed | None = None
        self._live = False
        self._pending: deque[Batch] = _NOTHING_PENDING  # a deque of its own once needed
        self._pending_events = 0
        self._overflowed = False
        self._catch_up_task: asyncio.Task[None] | None = None
        self._closed = False
        self._started = False
        self._presence_version = -1
        self._held_presence: str | None = None

    async def open(self) -> RoomFeed:
        """Join the room's feed; live batches are buffered until `start`."""
        self.feed = await get_hub().subscribe(self.room_id, self)
        return self.feed

    async def position(self, after: int | None, epoch: str | None) -> tuple[int, str]:
        """The room's (last_seq, log epoch) to start a stream resuming at `after` of `epoch`:
        the feed's when it has what the stream needs in memory (`RoomFeed.position`), so a
        client coming back a moment behind costs no query; the log's otherwise."""
        known = self.feed.position(after, epoch) if self.feed is not None else None
        if known is not None:
            return known
        return await database_sync_to_async(log_position)(self.room_id)

    def greeting_presence(self) -> dict[str, object]:
        """Presence for the transport's greeting; a change after this is sent once started."""
        assert self.feed is not None
        self._presence_version = self.feed.presence_version
        return self.feed.presence_for(self.presence_key, self.presence_name).as_dict()

    async def start(self, cursor: int) -> None:
        """Write everything after `cursor` from the log, then go live."""
        self.cursor = cursor
        self._started = True
        feed = self.feed
        if feed is not None and feed.presence_frame and feed.presence_version != self._presence_version:
            await self.sink.write_presence(feed.presence_frame)
        await self._catch_up()

    def close(self) -> None:
        self._closed = True
        if self._catch_up_task is not None:
            self._catch_up_task.cancel()
        get_hub().unsubscribe(self.room_id, self)

    # Subscriber protocol (called by the room feed).

    def deliver_now(self, batch: Batch) -> bool:
        """`deliver` for the common case, without a coroutine: live, the batch follows the cursor,
        no sampling, and a sink that writes at once (`write_now`, a WebSocket with a direct
        writer that keeps up). False, with nothing done: the feed awaits `deliver`."""
        if not self._live or self._closed or self.max_rate is not None or batch.first_seq != self.cursor + 1:
            return False
        write_now = getattr(self.sink, "write_now", None)
        if write_now is None or not write_now(batch):
            return False
        self.cursor = batch.last_seq
        return True

    async def deliver(self, batch: Batch) -> None:
        if self._closed:
            return
        if not self._live:
            self._buffer(batch)
            return
        if batch.last_seq <= self.cursor:
            return
        if self.sink.lagging():
            # The client stopped reading (or reads slower than the room talks): keep nothing
            # for it but its cursor, and re-read the log once it has taken what it was sent.
            logger.info(
                "room %s: a %s client fell behind at seq %s; it will catch up from the log",
                self.room_id,
                type(self.sink).__name__,
                self.cursor,
            )
            self._live = False
            self._buffer(batch)
            self._catch_up_task = asyncio.create_task(self._catch_up_when_drained())
            return
        if batch.first_seq > self.cursor + 1:
            # Not the next seq (should not happen; repair it rather than skip events).
            logger.warning(
                "room %s: subscriber at %s got %s; resyncing", self.room_id, self.cursor, batch.first_seq
            )
            self._live = False
            self._buffer(batch)
            self._catch_up_task = asyncio.create_task(self._catch_up())
            return
        await self._write(batch)

    async def deliver_reset(self, last_seq: int, epoch: str) -> None:
        """The room's log went back (a restore): every seq after `last_seq` the client has seen
        is of the old log. It is told to reset, and the stream goes on from `last_seq`."""
        if self._closed:
            return
        self.cursor = last_seq
        self._pending.clear()
        self._pending_events = 0
        if self._started:
            frame = dumps({"type": "reset", "last_seq": last_seq, "reason": "epoch_changed", "epoch": epoch})
            await self.sink.write_reset(frame)

    async def deliver_presence(self, frame: str) -> None:
        # Presence only after the transport's own greeting, i.e. once the stream has started;
        # to a client that is behind (or catching up), only the latest, once it has caught up.
        if not self._started or self._closed:
            return
        if not self._live:
            self._held_presence = frame
            return
        await self.sink.write_presence(frame)

    # Internals.

    def _buffer(self, batch: Batch) -> None:
        if self._overflowed:
            return
        if self._pending_events + len(batch.events) > PENDING_MAX_EVENTS:
            self._pending.clear()
            self._pending_events = 0
            self._overflowed = True
            return
        if self._pending is _NOTHING_PENDING:
            self._pending = deque()
        self._pending.append(batch)
        self._pending_events += len(batch.events)

    async def _write(self, batch: Batch) -> None:
        if batch.first_seq <= self.cursor:
            batch = batch.since(self.cursor)
        self.cursor = batch.last_seq
        if self.max_rate is not None and self.feed is not None:
            # Sampled danmaku are skipped, not held: the cursor moves past them all the same,
            # so the stream stays ordered and a reconnect resumes after the last seq seen.
            batch = batch.sampled(self.feed.sampler(self.max_rate))
            if not batch.events:
                return
        await self.sink.write_batch(batch)

    async def _catch_up_when_drained(self) -> None:
        # Polled: Twisted's write buffer signals nothing when it empties.
        while not self.sink.drained() and not self._closed:  # noqa: ASYNC110
            await asyncio.sleep(DRAIN_POLL_SECS)
        await self._catch_up()

    async def _catch_up(self) -> None:
        while not self._closed:
            self._overflowed = False
            while True:
                # What the room's feed still has in memory needs no query (feed.RECENT_EVENTS).
                kept = self.feed.recent_after(self.cursor) if self.feed is not None else None
                if kept is not None:
                    if kept:
                        await self._write(Batch(kept))
                    break
                events = await database_sync_to_async(events_after)(self.room_id, self.cursor, BACKLOG_PAGE)
                if events:
                    await self._write(Batch(events))
                if len(events) < BACKLOG_PAGE:
                    break
            # Flush what arrived meanwhile; new batches keep landing in _pending while we await.
            gap = False
            while self._pending and not self._overflowed:
                batch = self._pending.popleft()
                self._pending_events -= len(batch.events)
                if batch.last_seq <= self.cursor:
                    continue
                if batch.first_seq > self.cursor + 1:
                    gap = True
                    break
                await self._write(batch)
            if gap or self._overflowed:
                self._pending.clear()
                self._pending_events = 0
                continue
            self._live = True
            held, self._held_presence = self._held_presence, None
            if held is not None:
                await self.sink.write_presence(held)
            return
