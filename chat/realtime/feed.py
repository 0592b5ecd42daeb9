"""A room as one process sees it: its local subscribers, the last seq delivered, presence.

Events arrive in the feed's inbox (from the hub, in any grouping); the feed delivers them in seq
order as batches. Commit order equals seq order, so when an event arrives with a seq beyond the
next one, every seq in between is already committed: the feed re-reads them from the log. A
message the channel layer dropped is repaired that way; the hub's periodic check of the rooms'
`last_seq` drops a probe into the inbox to repair one that was the last of its burst.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Protocol

from channels.db import database_sync_to_async

from chat.domain.eventlog import events_between
from chat.domain.wire import WireEvent, dumps

from .batch import Batch, RateSampler
from .presence import Members, PresenceSnapshot

logger = logging.getLogger(__name__)

# Per-room queue of incoming events; beyond it the feed stops queueing and re-reads the log.
FEED_INBOX_MAX = 10_000
# Under load a room sends at most one frame per window to each connection, carrying every event
# that arrived meanwhile; a room that has been quiet for a window delivers at once. Frames, not
# events, are what cost: each is a send() system call per connection. The window is at least
# COALESCE_SECS and widens with the room's fan-out cost, so that writing a big room's frames
# takes at most FANOUT_SHARE of the event loop's time (the rest is left to reading posts, other
# rooms and the connections' own traffic), up to COALESCE_MAX_SECS; it narrows again as the
# cost falls (docs/DECISIONS.md, "An adaptive coalescing window").
COALESCE_SECS = 0.02
COALESCE_MAX_SECS = 0.2
FANOUT_SHARE = 0.5
# Recent events a feed keeps in memory, so a client that comes back a moment behind (every
# long-poll, a reconnecting WebSocket or SSE stream) catches up without reading the log.
RECENT_EVENTS = 1_000
# Weight of the newest broadcast in a room's fan-out cost (an exponential moving average).
COST_WEIGHT = 0.3
# Events read from the log per query when repairing a gap.
GAP_PAGE = 500
# A marker in a room's inbox: "the log has reached this seq"; the feed reads what it lacks.
PROBE_KIND = "_probe"
# A marker in a room's inbox: "the log went back to this seq, under a new epoch" (a restore).
RESET_KIND = "_reset"


def probe(seq: int) -> WireEvent:
    return {"seq": seq, "kind": PROBE_KIND}


def log_reset(seq: int, epoch: str) -> WireEvent:
    return {"seq": seq, "kind": RESET_KIND, "epoch": epoch}


class Subscriber(Protocol):
    """What a feed writes to: a WebSocket, an SSE stream, a waiting long-poll."""

    presence_key: str
    presence_name: str

    async def deliver(self, batch: Batch) -> None: ...

    async def deliver_presence(self, frame: str) -> None: ...

    async def deliver_reset(self, last_seq: int, epoch: str) -> None: ...


class RoomFeed:
    """A room as seen by this process: its subscribers, the last seq delivered, presence."""

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.subscribers: set[Subscriber] = set()
        self.last_seq = 0
        self.epoch = ""  # the log epoch last_seq counts in
        self.inbox: asyncio.Queue[WireEvent] = asyncio.Queue()
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Joining the group; referenced while it runs (the event loop keeps tasks weakly).
        self.open_task: asyncio.Task[None] | None = None
        self.task: asyncio.Task[None] | None = None
        self.linger: asyncio.TimerHandle | None = None
        self.presence = PresenceSnapshot()
        self.presence_keys: frozenset[str] = frozenset()  # local members counted in `presence`
        self.presence_frame = ""
        self.presence_version = 0  # bumped by every presence broadcast
        self.local_dirty = True  # our members changed: write them to the store
        self.remote_dirty = True  # someone's members changed: re-read the store
        self.samplers: dict[int, RateSampler] = {}  # one per max_rate its viewers asked for
        self.fanout_cost = 0.0  # seconds one broadcast takes, averaged (see COALESCE_SECS)
        # The latest batches, consecutive and ending at last_seq, about RECENT_EVENTS events.
        self.recent: deque[Batch] = deque()
        self.recent_events = 0

    def window(self) -> float:
        """The coalescing window now: COALESCE_SECS, or wider for a room whose fan-out is costly."""
        return max(COALESCE_SECS, min(COALESCE_MAX_SECS, self.fanout_cost / FANOUT_SHARE))

    def sampler(self, rate: int) -> RateSampler:
        sampler = self.samplers.get(rate)
        if sampler is None:
            sampler = self.samplers[rate] = RateSampler(rate)
        return sampler

    def is_open(self) -> bool:
        """The feed has joined its room's group and read where the log stands (`Hub._open`)."""
        opened = self.opened
        return opened.done() and not opened.cancelled() and opened.exception() is None

    def remember(self, batch: Batch) -> None:
        """Keep `batch` among the recent ones; forget them all if it changes what they showed
        (`Batch.retracts`): those catch-ups read the log, which has them as they are now."""
        if batch.retracts:
            self.forget()
            return
        if self.recent and batch.first_seq != self.recent[-1].last_seq + 1:
            self.forget()  # memory holds consecutive batches only, each seq once
        self.recent.append(batch)
        self.recent_events += len(batch.events)
        while len(self.recent) > 1 and self.recent_events - len(self.recent[0].events) >= RECENT_EVENTS:
            self.recent_events -= len(self.recent.popleft().events)

    def forget(self) -> None:
        self.recent.clear()
        self.recent_events = 0

    def recent_after(self, cursor: int) -> list[WireEvent] | None:
        """The events after `cursor` up to `last_seq` from memory; None when memory does not go
        back that far (read the log). A cursor at or past `last_seq` needs nothing: what follows
        it reaches the subscriber live. Only once the feed is open (its last_seq read from the log)."""
        if not self.is_open():
            return None
        if cursor >= self.last_seq:
            return []
        if not self.recent or self.recent[0].first_seq > cursor + 1:
            return None
        # From the newest back: a poll a moment behind needs the last batch or two of up to
        # RECENT_EVENTS, and a thousand of them come at once.
        newer: list[Batch] = []
        for batch in reversed(self.recent):
            newer.append(batch)
            if batch.first_seq <= cursor + 1:
                break
        return [event for batch in reversed(newer) for event in batch.events if event["seq"] > cursor]

    def position(self, after: int | None, epoch: str | None) -> tuple[int, str] | None:
        """(last_seq, epoch) as this feed has delivered them, when a stream resuming at `after`
        of log `epoch` can start from them without asking the database: the feed is open, the
        epoch is the feed's and the events after `after` are in memory. Otherwise None."""
        if after is None:
            return None
        if epoch is not None and epoch != self.epoch:
            return None
        if after > self.last_seq or self.recent_after(after) is None:
            return None
        return self.last_seq, self.epoch

    def members(self) -> Members:
        return {sub.presence_key: sub.presence_name for sub in self.subscribers}

    def presence_for(self, key: str, name: str) -> PresenceSnapshot:
        """The room's presence as a subscriber about to say hello should see it: with itself."""
        return self.presence if key in self.presence_keys else self.presence.with_member(key, name)

    def offer(self, event: WireEvent) -> None:
        if self.inbox.qsize() >= FEED_INBOX_MAX:
            # Far behind: drop the queue and re-read the log up to the newest seq instead.
            # A log reset among them is kept, ahead of the probe (the log is re-read after it).
            newest = max(event["seq"], self.last_seq)
            reset = event if event["kind"] == RESET_KIND else None
            while not self.inbox.empty():
                queued = self.inbox.get_nowait()
                if queued["kind"] == RESET_KIND:
                    reset = queued
                newest = max(newest, queued["seq"])
            if reset is not None:
                self.inbox.put_nowait(reset)
            event = probe(newest)
        self.inbox.put_nowait(event)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last_broadcast = -COALESCE_MAX_SECS
        while True:
            incoming = [await self.inbox.get()]
            wait = last_broadcast + self.window() - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            last_broadcast = loop.time()
            while not self.inbox.empty():
                incoming.append(self.inbox.get_nowait())
            try:
                await self._deliver(incoming)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("room %s: delivery failed; retrying from the log", self.room_id)
                await asyncio.sleep(1)
                self.offer(probe(max(e["seq"] for e in incoming)))

    async def _deliver(self, incoming: list[WireEvent]) -> None:
        resets = [e for e in incoming if e["kind"] == RESET_KIND]
        if resets:
            # Through the inbox, so no batch of the old log is written after the reset.
            await self.reset(resets[-1]["seq"], resets[-1]["epoch"])
            incoming = [e for e in incoming if e["kind"] != RESET_KIND]
            if not incoming:
                return
        by_seq = {e["seq"]: e for e in incoming if e["seq"] > self.last_seq and e["kind"] != PROBE_KIND}
        newest = max(e["seq"] for e in incoming)
        if newest <= self.last_seq:
            return
        if len(by_seq) == newest - self.last_seq:
            events = [by_seq[seq] for seq in range(self.last_seq + 1, newest + 1)]
            await self.broadcast(Batch(events))
            return
        # A gap: everything up to `newest` is committed, so the log has it. Read it in pages, so a
        # bulk import of 100,000 comments becomes many ordinary batches, not one huge frame.
        while self.last_seq < newest:
            upto = min(newest, self.last_seq + GAP_PAGE)
            events = await database_sync_to_async(events_between)(self.room_id, self.last_seq, upto)
            if not events:
                return
            await self.broadcast(Batch(events))

    async def broadcast(self, batch: Batch) -> None:
        self.last_seq = batch.last_seq
        self.remember(batch)
        started = time.perf_counter()
        for subscriber in tuple(self.subscribers):
            try:
                # Most WebSocket viewers take the batch at once, without a coroutine.
                deliver_now = getattr(subscriber, "deliver_now", None)
                if deliver_now is None or not deliver_now(batch):
                    await subscriber.deliver(batch)
            except Exception:
                logger.exception("room %s: a subscriber failed to take a batch", self.room_id)
        self.fanout_cost += COST_WEIGHT * (time.perf_counter() - started - self.fanout_cost)

    async def reset(self, last_seq: int, epoch: str) -> None:
        """The log went back to `last_seq` under a new `epoch`: every subscriber is reset."""
        self.last_seq = last_seq
        self.epoch = epoch
        self.forget()
        for subscriber in tuple(self.subscribers):
            try:
                await subscriber.deliver_reset(last_seq, epoch)
            except Exception:
                logger.exception("room %s: a subscriber failed to take a reset", self.room_id)

    async def broadcast_presence(self, snapshot: PresenceSnapshot) -> None:
        self.presence = snapshot
        frame = dumps({"type": "presence", **snapshot.as_dict()})
        if frame == self.presence_frame:
            return
        self.presence_frame = frame
        self.presence_version += 1
        for subscriber in tuple(self.subscribers):
            try:
                await subscriber.deliver_presence(frame)
            except Exception:
                logger.exception("room %s: a subscriber failed to take presence", self.room_id)
