"""One hub per process: the only member of the channel layer's room groups.

The hub joins a room's group once, when the first local connection to that room opens, and
leaves it shortly after the last one closes. Each event arrives once per process and goes to the
room's feed (feed.py), which encodes it once and writes it to every local subscriber. The hub
also keeps presence across processes and the groups' membership alive, and checks the rooms'
`last_seq` so a feed repairs what the layer dropped, and their log epoch so a restored log resets
its clients. Notices that concern no one room (notices.py) reach it through a group every hub
joins, and go to its `notice_listeners`.

It knows neither transports nor event kinds: subscribers are anything with the `Subscriber`
methods, and the domain's rules about events come in through `EventRules` (batch.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
import weakref
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from chat.domain.eventlog import log_position, log_positions, renew_log_epoch

from .calls import CallRelay
from .feed import RoomFeed, Subscriber, log_reset, probe
from .groups import notice_group_name, room_group_name
from .notices import NOTICE_MESSAGE
from .presence import PresenceStore, make_presence_store
from .publish import ROOM_EVENT_MESSAGE, ROOM_EVENTS_MESSAGE, use_event_loop

logger = logging.getLogger(__name__)

HUB_CHANNEL_PREFIX = "hub"  # settings.CHANNEL_LAYERS sizes channels matching "hub*"
PRESENCE_CHANGED_MESSAGE = "room.presence"
HUB_PING_MESSAGE = "hub.ping"
# Presence frames go out at most once per tick per room (about once a second, docs/PROTOCOL.md).
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
        # Called with the topic of every notice (notices.py) that reaches this process.
        self.notice_listeners: set[Callable[[str], None]] = set()
        self.calls = CallRelay(self)  # rooms' calls: roster and addressed frames (calls.py)

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
                asyncio.create_task(self._join_notices(), name="hub-notices"),
                asyncio.create_task(self.calls.deliver_loop(), name="hub-call-delivery"),
                asyncio.create_task(self.calls.sweep_loop(), name="hub-call-sweep"),
            ]
            if settings.GRIP_STATS:  # viewers held by Pushpin count in presence too
                from .pushpin_stats import count_pushpin_viewers

                counting = count_pushpin_viewers(settings.GRIP_STATS, self.presence_store, self.feeds)
                self._tasks.append(asyncio.create_task(counting, name="hub-pushpin-stats"))
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
        await self.calls.store.close()
        self._tasks = []
        self._started = None

    async def leave(self) -> None:
        """A graceful stop: this process's members leave every room now, not after the
        presence TTL, and the rooms' other processes are told (they send the new count to their
        subscribers at their next presence tick). Then as `stop`."""
        for task in self._tasks:
            task.cancel()  # no presence refresh may put the members back meanwhile
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for feed in list(self.feeds.values()):
            feed.subscribers.clear()
            if not feed.is_open():
                continue
            try:
                await self.presence_store.put(feed.room_id, self.process_id, {})
                await self.layer.group_send(
                    room_group_name(feed.room_id),
                    {"type": PRESENCE_CHANGED_MESSAGE, "room_id": feed.room_id, "from": self.process_id},
                )
            except Exception:
                logger.exception("room %s: removing this process's presence failed", feed.room_id)
        try:
            await self.layer.group_discard(notice_group_name(), self.channel_name)
        except Exception:
            logger.exception("hub: leaving the notices group failed")
        await self.stop()

    async def subscribe(self, room_id: int, subscriber: Subscriber) -> RoomFeed:
        """Add a subscriber; returns once the room's group is joined (nothing published after
        this returns can be missed)."""
        await self.start()
        feed = self.feeds.get(room_id)
        if feed is None:
            feed = RoomFeed(room_id)
            self.feeds[room_id] = feed
            feed.open_task = asyncio.create_task(self._open(feed))
        self.subscribe_now(feed, subscriber)
        try:
            await asyncio.shield(feed.opened)
        except BaseException:
            feed.subscribers.discard(subscriber)
            raise
        return feed

    def open_feed(self, room_id: int) -> RoomFeed | None:
        """The room's feed if this process has one and it `is_open`, else None."""
        feed = self.feeds.get(room_id)
        return feed if feed is not None and feed.is_open() else None

    def subscribe_now(self, feed: RoomFeed, subscriber: Subscriber) -> None:
        """Add a subscriber to this hub's `feed` without waiting for it to open (`subscribe`
        waits; a caller that does not must know the feed `is_open`): nothing published from
        then on can be missed."""
        if feed.linger is not None:
            feed.linger.cancel()
            feed.linger = None
        feed.subscribers.add(subscriber)
        feed.local_dirty = True

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
            feed.last_seq, feed.epoch = await database_sync_to_async(log_position)(feed.room_id)
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
            if feed.is_open():
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

    async def _join_notices(self) -> None:
        """Join the group every hub is in (notices.py); retried with the rooms' rejoin."""
        try:
            await self.layer.group_add(notice_group_name(), self.channel_name)
        except Exception:
            logger.warning("hub: could not join the notices group yet")
            self._rejoin_pending = True

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
        if message.get("type") == NOTICE_MESSAGE:
            for listener in list(self.notice_listeners):
                try:
                    listener(str(message.get("topic", "")))
                except Exception:
                    logger.exception("hub: a notice listener failed")
            return
        if str(message.get("type", "")).startswith("call."):
            self.calls.dispatch(message)
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
        try:
            await self.layer.group_add(notice_group_name(), self.channel_name)
        except Exception:
            failed = True
            logger.warning("hub: could not rejoin the notices group yet")
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
                if not feed.is_open():
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
                    await self.layer.group_add(notice_group_name(), self.channel_name)
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
        latest = await database_sync_to_async(log_positions)(room_ids)
        for room_id, (last_seq, epoch) in latest.items():
            feed = self.feeds.get(room_id)
            if feed is None:
                continue
            if epoch == feed.epoch and last_seq < feed.last_seq:
                # The log is behind what we delivered: the database was restored, and carries
                # the epoch it had then. Its clients' cursors are of the old log: a new epoch.
                epoch = await database_sync_to_async(renew_log_epoch)(room_id, epoch)
            if epoch != feed.epoch:
                logger.warning(
                    "room %s: the log is now at seq %s under epoch %s (was %s at %s): resetting clients",
                    room_id, last_seq, epoch, feed.epoch, feed.last_seq,
                )  # fmt: skip
                feed.epoch = epoch  # once: the reset itself travels through the inbox
                feed.offer(log_reset(last_seq, epoch))
            elif last_seq > feed.last_seq:
                feed.offer(probe(last_seq))


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The hub of the running event loop (one per process under daphne)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub()
    return hub


async def leave_rooms() -> None:
    """The running event loop's hub leaves its rooms (`Hub.leave`): a stopping server's last
    step (config/serve.py). Nothing to do if it never started."""
    hub = running_hub()
    if hub is not None:
        await hub.leave()


def running_hub() -> Hub | None:
    """The running event loop's hub if it has started (it receives from the channel layer)."""
    hub = _hubs.get(asyncio.get_running_loop())
    started = hub._started if hub is not None else None
    return hub if started is not None and started.done() and not started.exception() else None
