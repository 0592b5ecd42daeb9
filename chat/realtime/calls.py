"""A room's call, as the fan-out carries it: the roster (who is in the call, their media and
mute state) shared by every process, and the relay of frames addressed to one participant.

The roster lives in a `RosterStore` (a dict in one process, a Redis hash across processes)
and is never written to the event log. Each change bumps the roster's version and is sent to
the room's channel-layer group, so every process's hub hands the new roster to its local
watchers (every WebSocket connection of the room): a hub ignores a version older than one it
has seen, so changes that cross on the way cannot roll the roster back.

A participant's entry names the channel of the hub of the process its connection is on: an
addressed frame goes to that hub (`layer.send`), which writes it to the one local connection
with that participant id, and to no one else. A participant whose heartbeats stop for
CHAT_CALL_TIMEOUT seconds is removed by the sweep of any process watching the room.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from django.conf import settings

from chat.domain.wire import dumps
from chat.guards.redis_pool import async_redis

from .groups import room_group_name

if TYPE_CHECKING:
    from .hub import Hub

logger = logging.getLogger(__name__)

CALL_ROSTER_MESSAGE = "call.roster"
CALL_RELAY_MESSAGE = "call.relay"
CALL_ENDED_MESSAGE = "call.ended"
# How often each process looks for participants whose heartbeats stopped, in the rooms it
# watches: an expired participant leaves at most this long after CHAT_CALL_TIMEOUT.
CALL_SWEEP_SECS = 2.0

Entries = dict[str, dict[str, Any]]  # participant id -> entry (public fields + route + expiry)
T = TypeVar("T")

# An entry's fields that every watcher sees; the rest (route, expiry) stay on the server.
PUBLIC_FIELDS = ("id", "user", "audio", "video", "audio_muted", "video_muted")


def public_roster(entries: Entries) -> list[dict[str, Any]]:
    """The roster as clients see it, in the order participants joined."""
    ordered = sorted(entries.values(), key=lambda entry: (entry["joined"], entry["id"]))
    return [{name: entry[name] for name in PUBLIC_FIELDS} for entry in ordered]


def roster_frame(version: int, entries: Entries) -> str:
    return dumps({"type": "call.roster", "version": version, "participants": public_roster(entries)})


class RosterStore(Protocol):
    async def change(self, room_id: int, apply: Callable[[Entries], T]) -> tuple[T, int, Entries, bool]:
        """Run `apply` on the room's entries (it edits them in place) atomically; returns its
        result, the version, the entries after, and whether the public roster changed."""

    async def read(self, room_id: int) -> tuple[int, Entries]: ...

    async def close(self) -> None: ...


def next_version(version: int) -> int:
    """The roster's next version: above the last, and never below the clock (in ms), so a
    version stays above any a process has seen even after the stored counter expired."""
    return max(version + 1, int(time.time() * 1000))


def _changed(before: Entries, after: Entries) -> bool:
    return public_roster(before) != public_roster(after)


class LocalRosterStore:
    """One process, no services (the hub's own: one per process, as the in-memory layer)."""

    def __init__(self) -> None:
        self._rooms: dict[int, tuple[int, Entries]] = {}

    async def change(self, room_id: int, apply: Callable[[Entries], T]) -> tuple[T, int, Entries, bool]:
        version, entries = self._rooms.get(room_id, (0, {}))
        after = copy.deepcopy(entries)
        result = apply(after)
        changed = _changed(entries, after)
        if after != entries:
            version = next_version(version)
            if after:
                self._rooms[room_id] = (version, after)
            else:
                self._rooms.pop(room_id, None)
        return result, version, after, changed

    async def read(self, room_id: int) -> tuple[int, Entries]:
        version, entries = self._rooms.get(room_id, (0, {}))
        return version, copy.deepcopy(entries)

    async def close(self) -> None:
        return None


class RedisRosterStore:
    """Across processes: per room a hash (participant id -> JSON entry) and a version counter,
    changed under WATCH so two processes' changes never interleave."""

    def __init__(self, url: str, prefix: str, ttl: float) -> None:
        self.redis = async_redis(url, decode_responses=True)
        self.prefix = prefix
        self.ttl_ms = int(ttl * 1000)

    def _keys(self, room_id: int) -> tuple[str, str]:
        base = f"{self.prefix}call:{room_id}"
        return base, f"{base}:version"

    async def change(self, room_id: int, apply: Callable[[Entries], T]) -> tuple[T, int, Entries, bool]:
        from redis.exceptions import WatchError

        key, version_key = self._keys(room_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key, version_key)
                    raw = cast(dict[str, str], await pipe.hgetall(key))
                    version = int(await pipe.get(version_key) or 0)
                    entries: Entries = {pid: json.loads(text) for pid, text in raw.items()}
                    after: Entries = copy.deepcopy(entries)
                    result = apply(after)
                    if after == entries:
                        await pipe.unwatch()
                        return result, version, after, False
                    pipe.multi()
                    pipe.delete(key)
                    if after:
                        pipe.hset(key, mapping={pid: json.dumps(entry) for pid, entry in after.items()})
                        pipe.pexpire(key, self.ttl_ms)
                    version = next_version(version)
                    pipe.set(version_key, version, px=self.ttl_ms)
                    await pipe.execute()
                    return result, version, after, _changed(entries, after)
                except WatchError:
                    continue

    async def read(self, room_id: int) -> tuple[int, Entries]:
        key, version_key = self._keys(room_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(key)
            pipe.get(version_key)
            raw, version = await pipe.execute()
        return int(version or 0), {pid: json.loads(text) for pid, text in raw.items()}

    async def close(self) -> None:
        await self.redis.aclose()


def make_roster_store() -> RosterStore:
    # A room with no activity at all for ten timeouts forgets its call (every live participant
    # heartbeats well within one).
    ttl = float(settings.CHAT_CALL_TIMEOUT) * 10
    if settings.REDIS_URL:
        return RedisRosterStore(settings.REDIS_URL, f"{settings.REDIS_PREFIX}:", ttl)
    return LocalRosterStore()


class CallWatcher(Protocol):
    """A local connection of a room: it is shown the roster, and may be a participant."""

    async def write_call(self, frame: str) -> None: ...

    def call_ended(self, participant_id: str, reason: str, retry_after: int = 0) -> None: ...


class CallRelay:
    """This process's part of every call: see the module docstring. Owned by the hub."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.store: RosterStore = make_roster_store()
        self.watchers: dict[int, set[CallWatcher]] = {}
        self.participants: dict[str, CallWatcher] = {}  # local participant id -> its connection
        self.rosters: dict[int, tuple[int, str]] = {}  # room -> (version, frame) last passed on
        self.relayed = 0  # addressed frames delivered here
        self.dropped = 0  # addressed frames whose participant has no connection here (any more)
        # Messages are delivered one at a time, in the order they came: an offer before the
        # candidates that follow it. Bounded like the hub's channel (HUB_CHANNEL_CAPACITY).
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=settings.HUB_CHANNEL_CAPACITY)

    @property
    def channel_name(self) -> str:
        return self.hub.channel_name

    async def watch(self, room_id: int, watcher: CallWatcher) -> None:
        """Show `watcher` the room's roster now (if a call is on) and on every change."""
        self.watchers.setdefault(room_id, set()).add(watcher)
        known = self.rosters.get(room_id)
        if known is None:
            version, entries = await self.store.read(room_id)
            known = self._remember(room_id, version, entries)
        if known is not None and known[1]:
            await watcher.write_call(known[1])

    def unwatch(self, room_id: int, watcher: CallWatcher) -> None:
        watchers = self.watchers.get(room_id)
        if watchers is None:
            return
        watchers.discard(watcher)
        if not watchers:
            del self.watchers[room_id]
            self.rosters.pop(room_id, None)

    def _remember(self, room_id: int, version: int, entries: Entries) -> tuple[int, str] | None:
        """Keep the newest roster of a watched room; None when `version` is older than it."""
        known = self.rosters.get(room_id)
        if known is not None and known[0] >= version:
            return None
        frame = roster_frame(version, entries) if entries or known is not None else ""
        if room_id in self.watchers:
            self.rosters[room_id] = (version, frame)
        return version, frame

    async def change(self, room_id: int, apply: Callable[[Entries], T]) -> T:
        """Change the room's roster; if the roster clients see changed, tell every process."""
        result, version, entries, changed = await self.store.change(room_id, apply)
        if changed:
            await self.publish_roster(room_id, version, entries)
        return result

    async def publish_roster(self, room_id: int, version: int, entries: Entries) -> None:
        message = {
            "type": CALL_ROSTER_MESSAGE,
            "room_id": room_id,
            "version": version,
            "entries": entries,
        }
        self.dispatch(message)  # at once here; the group brings it to the other processes
        await self.hub.layer.group_send(room_group_name(room_id), message)

    async def relay(self, channel: str, participant_id: str, frame: dict[str, Any]) -> None:
        """Hand `frame` to the participant's connection, through its process's hub."""
        message = {"type": CALL_RELAY_MESSAGE, "to": participant_id, "frame": frame}
        if channel == self.channel_name:
            self.dispatch(message)
        else:
            await self.hub.layer.send(channel, message)

    async def end(self, channel: str, participant_id: str, reason: str, retry_after: int = 0) -> None:
        """Tell a participant's connection that its part of the call is over (removed, expired);
        `retry_after`: the seconds a removal keeps them out."""
        message = {
            "type": CALL_ENDED_MESSAGE,
            "to": participant_id,
            "reason": reason,
            "retry_after": retry_after,
        }
        if channel == self.channel_name:
            self.dispatch(message)
        elif channel:
            await self.hub.layer.send(channel, message)

    def dispatch(self, message: dict[str, Any]) -> None:
        """A `call.*` message from the channel layer (Hub._dispatch) or from this process."""
        try:
            self.inbox.put_nowait(message)
        except asyncio.QueueFull:
            logger.error("call: the relay's inbox is full; a %s message was dropped", message.get("type"))

    async def deliver_loop(self) -> None:
        while True:
            message = await self.inbox.get()
            kind = message.get("type")
            try:
                if kind == CALL_ROSTER_MESSAGE:
                    await self._deliver_roster(message)
                elif kind == CALL_RELAY_MESSAGE:
                    await self._deliver_relay(message)
                elif kind == CALL_ENDED_MESSAGE:
                    self._deliver_ended(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("call: delivering a %s message failed", kind)

    async def _deliver_roster(self, message: dict[str, Any]) -> None:
        room_id = int(message["room_id"])
        if room_id not in self.watchers:
            return
        known = self._remember(room_id, int(message["version"]), message["entries"])
        if known is None:
            return
        for watcher in list(self.watchers.get(room_id, ())):
            await watcher.write_call(known[1])

    async def _deliver_relay(self, message: dict[str, Any]) -> None:
        watcher = self.participants.get(str(message.get("to")))
        if watcher is None:  # it left, or its connection dropped and has not come back yet
            self.dropped += 1
            logger.debug("call: no connection here for participant %s", message.get("to"))
            return
        self.relayed += 1
        await watcher.write_call(dumps(message["frame"]))

    def _deliver_ended(self, message: dict[str, Any]) -> None:
        participant_id = str(message.get("to"))
        watcher = self.participants.pop(participant_id, None)
        if watcher is not None:
            retry_after = message.get("retry_after")
            wait = retry_after if type(retry_after) is int and retry_after > 0 else 0
            watcher.call_ended(participant_id, str(message.get("reason", "ended")), wait)

    async def sweep(self) -> None:
        """Remove the participants whose heartbeats stopped, in every room watched here."""
        now = time.time()
        for room_id in list(self.watchers):

            def expire(entries: Entries) -> list[dict[str, Any]]:
                gone = [entry for entry in entries.values() if entry["expires"] <= now]
                for entry in gone:
                    del entries[entry["id"]]
                return gone

            try:
                for entry in await self.change(room_id, expire):
                    await self.end(entry["channel"], entry["id"], "expired")
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("room %s: the call sweep failed", room_id)

    async def sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(CALL_SWEEP_SECS)
            await self.sweep()
