"""One hub per process: the only member of the channel layer's room groups.

The hub joins a room's group once, when the first local connection to that room opens, and
leaves it shortly after the last one closes. Each event arrives once per process, is encoded
once, and is written to every local subscriber of the room. Events that queue up while a room
is delivering go out together as one batch (immediate when quiet, coalesced under load).

The hub knows the last seq it delivered per room. Commit order equals seq order, so when an
event arrives with a seq beyond the next one, every seq in between is already committed: the
hub re-reads them from the log. A message the channel layer dropped is repaired that way, and
a periodic check of the rooms' `last_seq` repairs one that was the last of its burst.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
import weakref
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .direct import http_chunk, text_frame
from .eventlog import current_last_seq, events_between
from .groups import room_group_name
from .models import Room
from .params import FRAME_MAX_BYTES
from .presence import Members, PresenceSnapshot, PresenceStore, make_presence_store
from .publish import ROOM_EVENT_MESSAGE, ROOM_EVENTS_MESSAGE, use_event_loop
from .wire import WireEvent, dumps, events_frame, sse_events

logger = logging.getLogger(__name__)

HUB_CHANNEL_PREFIX = "hub"  # settings.CHANNEL_LAYERS sizes channels matching "hub*"
PRESENCE_CHANGED_MESSAGE = "room.presence"
HUB_PING_MESSAGE = "hub.ping"
# Presence frames go out at most once per tick per room (DESIGN: about once a second).
PRESENCE_TICK_SECS = 1.0
# Keep a room's group membership a little after its last subscriber leaves: reconnecting
# clients come straight back, and re-joining costs a layer round trip and a database read.
FEED_LINGER_SECS = 5.0
# How often to compare each room's last_seq with the log, repairing a dropped final event
# and picking up events written by processes that share no channel layer with this one.
GAP_CHECK_SECS = 5.0
# Group membership expires after the layer's group_expiry (a day by default), and a Redis
# restarted without persistence has forgotten it: renew it this often (one ZADD per room).
GROUP_REFRESH_SECS = 60.0
# Per-room queue of incoming events; beyond it the hub stops queueing and re-reads the log.
FEED_INBOX_MAX = 10_000
# Under load a room sends at most one frame per tick to each connection, carrying every event
# that arrived meanwhile; a room that has been quiet for a tick delivers at once. Frames, not
# events, are what cost: each is a trip through daphne, autobahn and two epoll calls.
COALESCE_SECS = 0.02


# A marker in a room's inbox: "the log has reached this seq"; the feed reads what it lacks.
PROBE_KIND = "_probe"


# The largest `events` frame sent over WebSocket, in bytes: under daphne's message limit
# (FRAME_MAX_BYTES, both directions) with room for the frame's envelope.
WS_FRAME_BUDGET = FRAME_MAX_BYTES - 1024
# Events read from the log per query when repairing a gap.
GAP_PAGE = 500


def probe(seq: int) -> WireEvent:
    return {"seq": seq, "kind": PROBE_KIND}


class Batch:
    """Consecutive events of one room, encoded at most once per wire format."""

    __slots__ = (
        "_changes_access",
        "_sampled",
        "_sse_bytes",
        "_sse_frame",
        "_ws_frame",
        "_ws_frames",
        "_ws_raw",
        "events",
    )

    def __init__(self, events: list[WireEvent]) -> None:
        self.events = events
        self._ws_frame: str | None = None
        self._ws_frames: list[str] | None = None
        self._ws_raw: list[bytes] | None = None
        self._sse_frame: str | None = None
        self._sampled: dict[int, Batch] | None = None
        self._sse_bytes: tuple[bytes, bytes] | None = None
        self._changes_access: bool | None = None

    @property
    def first_seq(self) -> int:
        return int(self.events[0]["seq"])

    @property
    def last_seq(self) -> int:
        return int(self.events[-1]["seq"])

    @property
    def ws_frame(self) -> str:
        if self._ws_frame is None:
            self._ws_frame = events_frame(self.events)
        return self._ws_frame

    @property
    def ws_frames(self) -> list[str]:
        """`ws_frame`, split into several `events` frames when it is larger than a WebSocket
        message may be (daphne's limit, config/serve.py, holds for sending too): a backlog page or
        a repaired gap of hundreds of long messages would otherwise fail to send."""
        if self._ws_frames is None:
            frame = self.ws_frame
            if len(frame) * 4 <= WS_FRAME_BUDGET or len(frame.encode()) <= WS_FRAME_BUDGET:
                self._ws_frames = [frame]
            else:
                self._ws_frames = _split_events(self.events)
        return self._ws_frames

    @property
    def ws_raw_frames(self) -> list[bytes]:
        """`ws_frames` as complete WebSocket frames (header and UTF-8 payload), built once and
        written as they are to every connection that has a direct writer (chat/direct.py)."""
        if self._ws_raw is None:
            self._ws_raw = [text_frame(frame.encode()) for frame in self.ws_frames]
        return self._ws_raw

    @property
    def sse_frame(self) -> str:
        if self._sse_frame is None:
            self._sse_frame = sse_events(self.events)
        return self._sse_frame

    @property
    def changes_access(self) -> bool:
        """Whether live connections must re-check that they may still read the room: the batch
        holds a `settings` event of a private room (it turned private, or lost a member).
        Decided once per batch, not once per connection."""
        if self._changes_access is None:
            self._changes_access = any(
                e.get("kind") == "settings" and (e.get("settings") or {}).get("private") for e in self.events
            )
        return self._changes_access

    @property
    def sse_bytes(self) -> tuple[bytes, bytes]:
        """`sse_frame` as UTF-8, plain and as one chunk of a chunked response: built once and
        written to every SSE connection that has a direct writer."""
        if self._sse_bytes is None:
            raw = self.sse_frame.encode()
            self._sse_bytes = (raw, http_chunk(raw))
        return self._sse_bytes

    def since(self, cursor: int) -> Batch:
        return Batch([event for event in self.events if event["seq"] > cursor])

    def sampled(self, sampler: RateSampler) -> Batch:
        """This batch for viewers who asked for at most `sampler.rate` danmaku a second: the
        danmaku the room's sampler for that rate lets through, and every other event. Decided
        once per batch and rate, so such viewers share one filtered batch (and its frames)."""
        if self._sampled is None:
            self._sampled = {}
        filtered = self._sampled.get(sampler.rate)
        if filtered is None:
            filtered = Batch([e for e in self.events if e.get("kind") != "danmaku" or sampler.admit()])
            self._sampled[sampler.rate] = filtered
        return filtered


class RateSampler:
    """At most `rate` danmaku a second, spread evenly: a token bucket refilled continuously with
    a small burst (a fifth of a second's worth), so under a flood every fifth-of-a-second gets its
    share instead of the first comments of each second taking it all."""

    __slots__ = ("_at", "_tokens", "capacity", "rate")

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate / 5)
        self._tokens = self.capacity
        self._at = time.monotonic()

    def admit(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


def _split_events(events: list[WireEvent]) -> list[str]:
    frames: list[str] = []
    chunk: list[WireEvent] = []
    size = 0
    for event in events:
        encoded = len(dumps(event).encode()) + 1
        if chunk and size + encoded > WS_FRAME_BUDGET:
            frames.append(events_frame(chunk))
            chunk, size = [], 0
        chunk.append(event)
        size += encoded
    if chunk:
        frames.append(events_frame(chunk))
    return frames


class Subscriber(Protocol):
    """What a feed writes to: a WebSocket, an SSE stream, a waiting long-poll."""

    presence_key: str
    presence_name: str

    async def deliver(self, batch: Batch) -> None: ...

    async def deliver_presence(self, frame: str) -> None: ...


class RoomFeed:
    """A room as seen by this process: its subscribers, the last seq delivered, presence."""

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.subscribers: set[Subscriber] = set()
        self.last_seq = 0
        self.inbox: asyncio.Queue[WireEvent] = asyncio.Queue()
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
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
            newest = max(event["seq"], self.last_seq)
            while not self.inbox.empty():
                newest = max(newest, self.inbox.get_nowait()["seq"])
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


class Hub:
    """This process's single subscriber to the channel layer; see the module docstring."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        if self.layer is None:
            raise ImproperlyConfigured("the hub needs a channel layer (CHANNEL_LAYERS)")
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.feeds: dict[int, RoomFeed] = {}
        self.channel_name = ""
        self.presence_store: PresenceStore = make_presence_store()
        self._closing: dict[int, asyncio.Task[None]] = {}
        self._rejoin_pending = False  # a rejoin after a layer failure has not fully worked yet
        self._pings: dict[str, asyncio.Future[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._started: asyncio.Future[None] | None = None

    async def start(self) -> None:
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            try:
                self.channel_name = await self.layer.new_channel(HUB_CHANNEL_PREFIX)
            except BaseException as exc:
                self._started.set_exception(exc)
                self._started = None
                raise
            self._tasks = [
                asyncio.create_task(self._receive_loop(), name="hub-receive"),
                asyncio.create_task(self._presence_loop(), name="hub-presence"),
                asyncio.create_task(self._maintenance_loop(), name="hub-maintenance"),
            ]
            use_event_loop(asyncio.get_running_loop())
            self._started.set_result(None)
        await asyncio.shield(self._started)

    async def stop(self) -> None:
        """Leave every group and stop the background tasks (tests and shutdown)."""
        use_event_loop(None)
        for task in self._tasks:
            task.cancel()
        for feed in list(self.feeds.values()):
            feed.subscribers.clear()
            self._close_if_idle(feed)
        await asyncio.gather(*self._tasks, *self._closing.values(), return_exceptions=True)
        await self.presence_store.close()
        self._tasks = []
        self._started = None

    async def subscribe(self, room_id: int, subscriber: Subscriber) -> RoomFeed:
        """Add a subscriber; returns once the room's group is joined (nothing published after
        this returns can be missed)."""
        await self.start()
        feed = self.feeds.get(room_id)
        if feed is None:
            feed = RoomFeed(room_id)
            self.feeds[room_id] = feed
            feed.open_task = asyncio.create_task(self._open(feed))
        if feed.linger is not None:
            feed.linger.cancel()
            feed.linger = None
        feed.subscribers.add(subscriber)
        feed.local_dirty = True
        try:
            await asyncio.shield(feed.opened)
        except BaseException:
            feed.subscribers.discard(subscriber)
            raise
        return feed

    def unsubscribe(self, room_id: int, subscriber: Subscriber) -> None:
        feed = self.feeds.get(room_id)
        if feed is None or subscriber not in feed.subscribers:
            return
        feed.subscribers.discard(subscriber)
        feed.local_dirty = True
        if not feed.subscribers and feed.linger is None:
            loop = asyncio.get_running_loop()
            feed.linger = loop.call_later(FEED_LINGER_SECS, self._close_if_idle, feed)

    def subscriber_count(self) -> int:
        return sum(len(feed.subscribers) for feed in self.feeds.values())

    async def _open(self, feed: RoomFeed) -> None:
        try:
            previous = self._closing.get(feed.room_id)
            if previous is not None:
                await asyncio.shield(previous)
            await self.layer.group_add(room_group_name(feed.room_id), self.channel_name)
            # Read after joining: anything committed later arrives through the group.
            feed.last_seq = await database_sync_to_async(current_last_seq)(feed.room_id)
            await self._publish_presence(feed)
            feed.task = asyncio.create_task(feed.run(), name=f"hub-room-{feed.room_id}")
            feed.opened.set_result(None)
        except BaseException as exc:
            if self.feeds.get(feed.room_id) is feed:
                del self.feeds[feed.room_id]
            feed.opened.set_exception(exc)
            feed.opened.exception()  # mark retrieved: subscribers re-raise it themselves
            if isinstance(exc, asyncio.CancelledError):
                raise

    def _close_if_idle(self, feed: RoomFeed) -> None:
        feed.linger = None
        if feed.subscribers or self.feeds.get(feed.room_id) is not feed:
            return
        del self.feeds[feed.room_id]
        task = asyncio.create_task(self._close(feed))
        self._closing[feed.room_id] = task
        task.add_done_callback(lambda _: self._forget_closing(feed.room_id, task))

    def _forget_closing(self, room_id: int, task: asyncio.Task[None]) -> None:
        if self._closing.get(room_id) is task:
            del self._closing[room_id]

    async def _close(self, feed: RoomFeed) -> None:
        if feed.task is not None:
            feed.task.cancel()
        try:
            if feed.opened.done() and feed.opened.exception() is None:
                await self.layer.group_discard(room_group_name(feed.room_id), self.channel_name)
            await self.presence_store.put(feed.room_id, self.process_id, {})
        except Exception:
            logger.exception("room %s: leaving the group failed", feed.room_id)

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("hub: channel layer receive failed; rejoining groups")
                self._rejoin_pending = True
                await asyncio.sleep(1)
                await self._rejoin_groups()
                continue
            self._dispatch(message)

    async def ping(self) -> None:
        """A message through the channel layer to this hub and back: the layer (and Redis
        behind it) works for us. (A health check cannot receive on a channel of its own while
        the hub is receiving: channels_redis serves one receive per process at a time.)"""
        token = uuid.uuid4().hex
        arrived = self._pings[token] = asyncio.get_running_loop().create_future()
        try:
            await self.layer.send(self.channel_name, {"type": HUB_PING_MESSAGE, "token": token})
            await arrived
        finally:
            self._pings.pop(token, None)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") == HUB_PING_MESSAGE:
            arrived = self._pings.get(message.get("token", ""))
            if arrived is not None and not arrived.done():
                arrived.set_result(None)
            return
        feed = self.feeds.get(message.get("room_id", -1))
        if feed is None:
            return
        if message.get("type") == ROOM_EVENTS_MESSAGE:
            for event in message["events"]:
                feed.offer(event)
        elif message.get("type") == ROOM_EVENT_MESSAGE:
            feed.offer(message["event"])
        elif message.get("type") == PRESENCE_CHANGED_MESSAGE and message.get("from") != self.process_id:
            feed.remote_dirty = True

    async def _rejoin_groups(self) -> None:
        """Join every room's group again (after the layer failed: a restarted Redis has
        forgotten them). Until every join has worked, the maintenance loop retries."""
        failed = False
        for room_id in list(self.feeds):
            try:
                await self.layer.group_add(room_group_name(room_id), self.channel_name)
            except Exception:
                failed = True
                logger.warning("hub: could not rejoin room %s yet", room_id)
            feed = self.feeds.get(room_id)
            if feed is not None:
                feed.local_dirty = True
        self._rejoin_pending = failed
        await self._check_gaps()

    async def _presence_loop(self) -> None:
        refresh_every = max(1.0, settings.CHAT_PRESENCE_TTL / 3)
        last_refresh = time.monotonic()
        while True:
            await asyncio.sleep(PRESENCE_TICK_SECS)
            refresh = time.monotonic() - last_refresh >= refresh_every
            if refresh:
                last_refresh = time.monotonic()
            for feed in list(self.feeds.values()):
                if not feed.opened.done() or feed.opened.exception() is not None:
                    continue
                try:
                    if feed.local_dirty or refresh:
                        await self._publish_presence(feed, notify=feed.local_dirty)
                    elif feed.remote_dirty:
                        feed.remote_dirty = False
                        await feed.broadcast_presence(await self.presence_store.snapshot(feed.room_id))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("room %s: presence update failed", feed.room_id)

    async def _publish_presence(self, feed: RoomFeed, *, notify: bool = False) -> None:
        """Write our members, tell the other processes, send the union to our subscribers."""
        feed.local_dirty = False
        feed.remote_dirty = False
        members = feed.members()
        await self.presence_store.put(feed.room_id, self.process_id, members)
        if notify:
            await self.layer.group_send(
                room_group_name(feed.room_id),
                {"type": PRESENCE_CHANGED_MESSAGE, "room_id": feed.room_id, "from": self.process_id},
            )
        snapshot = await self.presence_store.snapshot(feed.room_id)
        feed.presence_keys = frozenset(members)
        await feed.broadcast_presence(snapshot)

    async def _maintenance_loop(self) -> None:
        last_group_refresh = time.monotonic()
        while True:
            await asyncio.sleep(GAP_CHECK_SECS)
            try:
                if self._rejoin_pending:
                    await self._rejoin_groups()
                await self._check_gaps()
                if time.monotonic() - last_group_refresh >= GROUP_REFRESH_SECS:
                    last_group_refresh = time.monotonic()
                    for room_id in list(self.feeds):
                        await self.layer.group_add(room_group_name(room_id), self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("hub: maintenance failed")

    async def _check_gaps(self) -> None:
        room_ids = [room_id for room_id, feed in self.feeds.items() if feed.opened.done()]
        if not room_ids:
            return
        latest = await database_sync_to_async(_last_seqs)(room_ids)
        for room_id, last_seq in latest.items():
            feed = self.feeds.get(room_id)
            if feed is not None and last_seq > feed.last_seq:
                feed.offer(probe(last_seq))


def _last_seqs(room_ids: list[int]) -> dict[int, int]:
    return dict(Room.objects.filter(pk__in=room_ids).values_list("pk", "last_seq"))


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The hub of the running event loop (one per process under daphne)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub()
    return hub


def running_hub() -> Hub | None:
    """The running event loop's hub if it has started (it receives from the channel layer)."""
    hub = _hubs.get(asyncio.get_running_loop())
    started = hub._started if hub is not None else None
    return hub if started is not None and started.done() and not started.exception() else None
