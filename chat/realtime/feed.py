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
from typing import Protocol

from channels.db import database_sync_to_async

from chat.domain.eventlog import events_between
from chat.domain.wire import WireEvent, dumps

from .batch import Batch, RateSampler
from .presence import Members, PresenceSnapshot

logger = logging.getLogger(__name__)

# Per-room queue of incoming events; beyond it the feed stops queueing and re-reads the log.
FEED_INBOX_MAX = 10_000
# Under load a room sends at most one frame per tick to each connection, carrying every event
# that arrived meanwhile; a room that has been quiet for a tick delivers at once. Frames, not
# events, are what cost: each is a trip through daphne, autobahn and two epoll calls.
COALESCE_SECS = 0.02
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

    def sampler(self, rate: int) -> RateSampler:
        sampler = self.samplers.get(rate)
        if sampler is None:
            sampler = self.samplers[rate] = RateSampler(rate)
        return sampler

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
        last_broadcast = -COALESCE_SECS
        while True:
            incoming = [await self.inbox.get()]
            wait = last_broadcast + COALESCE_SECS - loop.time()
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
        for subscriber in tuple(self.subscribers):
            try:
                await subscriber.deliver(batch)
            except Exception:
                logger.exception("room %s: a subscriber failed to take a batch", self.room_id)

    async def reset(self, last_seq: int, epoch: str) -> None:
        """The log went back to `last_seq` under a new `epoch`: every subscriber is reset."""
        self.last_seq = last_seq
        self.epoch = epoch
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
