"""Who is in a room: each process writes its local members; everyone reads the union.

Members are keyed so one user with two tabs counts once (`u:<user id>`), guests by session
(`g:<session key or connection id>`). A process's entry lives `ttl` seconds unless refreshed,
so the members of a process that died drop out by themselves.
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from chat.domain.wire import BOT_MEMO
from chat.guards.redis_pool import async_redis

# Presence frames list at most this many names; the count is always exact.
PRESENCE_USERS_MAX = 100

Members = dict[str, str]  # member key -> display name ("" for guests; BOT_MARK + name for a bot)
# The viewers Pushpin holds (pushpin_stats.py): one member whose name is their number, all guests.
PUSHPIN_COUNT_KEY = "n:pushpin"
# A bot's stored name starts with this: a character no user name has (Django's username
# validator allows letters, digits and @.+-_ only), so the flag needs no field or query of its own.
BOT_MARK = "\x1f"


@dataclass(frozen=True)
class PresenceSnapshot:
    count: int = 0
    guests: int = 0
    users: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "guests": self.guests, "users": self.users}

    def with_member(self, key: str, name: str) -> PresenceSnapshot:
        """This snapshot as it will be once `key` is counted (used for a joiner's hello)."""
        if key.startswith("u:"):
            if any(f"u:{user['id']}" == key for user in self.users):
                return self
            users = sorted([*self.users, _user_entry(key, name)], key=_by_name)
            return PresenceSnapshot(self.count + 1, self.guests, users[:PRESENCE_USERS_MAX])
        return PresenceSnapshot(self.count + 1, self.guests + 1, self.users)


def _by_name(user: dict[str, Any]) -> tuple[str, int]:
    return (str(user["name"]).lower(), int(user["id"]))


def _user_entry(key: str, stored: str) -> dict[str, Any]:
    """A presence list's `{"id", "name"}`, with `"bot": true` for a bot, as events say it."""
    if stored.startswith(BOT_MARK):
        return {"id": int(key[2:]), "name": stored[len(BOT_MARK) :], "bot": True}
    return {"id": int(key[2:]), "name": stored}


def summarize(members: Members) -> PresenceSnapshot:
    users = [_user_entry(key, name) for key, name in members.items() if key.startswith("u:")]
    users.sort(key=_by_name)
    count = len(members)
    held = members.get(PUSHPIN_COUNT_KEY)
    if held is not None:  # the entry stands for that many guests
        count += (int(held) if held.isdigit() else 0) - 1
    return PresenceSnapshot(count=count, guests=count - len(users), users=users[:PRESENCE_USERS_MAX])


def presence_identity(user: Any, session_key: str | None) -> tuple[str, str]:
    """A connection's member key and stored name: a user counts once however many tabs. A bot
    (as `chat.domain.bots.is_bot` found when the connection opened) is marked."""
    if user is not None and user.is_authenticated:
        name = str(user.get_username())
        return f"u:{user.pk}", BOT_MARK + name if getattr(user, BOT_MEMO, False) else name
    return f"g:{session_key or _guest_key()}", ""


# A guest without a session is a member of its own, new for every connection (or poll): unique
# across processes by the process's random prefix, and cheaper than a uuid4 per poll.
_GUEST_PREFIX = uuid.uuid4().hex[:12]
_guest_numbers = itertools.count()


def _guest_key() -> str:
    return f"{_GUEST_PREFIX}.{next(_guest_numbers)}"


class PresenceStore(Protocol):
    async def put(self, room_id: int, process_id: str, members: Members) -> None:
        """Replace this process's members of a room (empty removes them) and refresh the TTL."""

    async def snapshot(self, room_id: int) -> PresenceSnapshot:
        """The union of every live process's members."""

    async def close(self) -> None: ...


class LocalPresenceStore:
    """One process, no services: a dict with the same TTL behaviour as the Redis store."""

    _rooms: dict[int, dict[str, tuple[float, Members]]] = {}

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl

    async def put(self, room_id: int, process_id: str, members: Members) -> None:
        processes = self._rooms.setdefault(room_id, {})
        if members:
            processes[process_id] = (time.monotonic() + self.ttl, dict(members))
        else:
            processes.pop(process_id, None)
            if not processes:
                self._rooms.pop(room_id, None)

    async def snapshot(self, room_id: int) -> PresenceSnapshot:
        now = time.monotonic()
        union: Members = {}
        for expires, members in self._rooms.get(room_id, {}).values():
            if expires > now:
                union.update(members)
        return summarize(union)

    async def close(self) -> None:
        return None


class RedisPresenceStore:
    """Across processes: per room a sorted set of processes (score = expiry) and per process a
    hash of its members with the same expiry."""

    def __init__(self, url: str, prefix: str, ttl: float) -> None:
        self.redis = async_redis(url, decode_responses=True)
        self.prefix = prefix
        self.ttl = ttl

    def _keys(self, room_id: int, process_id: str = "") -> tuple[str, str]:
        base = f"{self.prefix}presence:{room_id}"
        return f"{base}:procs", f"{base}:p:{process_id}"

    async def put(self, room_id: int, process_id: str, members: Members) -> None:
        procs_key, members_key = self._keys(room_id, process_id)
        now = time.time()
        ttl_ms = int(self.ttl * 1000)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(members_key)
            pipe.zremrangebyscore(procs_key, "-inf", now)
            if members:
                pipe.hset(members_key, mapping=dict(members))  # type: ignore[arg-type]
                pipe.pexpire(members_key, ttl_ms)
                pipe.zadd(procs_key, {process_id: now + self.ttl})
                pipe.pexpire(procs_key, ttl_ms)
            else:
                pipe.zrem(procs_key, process_id)
            await pipe.execute()

    async def snapshot(self, room_id: int) -> PresenceSnapshot:
        procs_key, _ = self._keys(room_id)
        processes = cast(list[str], await self.redis.zrangebyscore(procs_key, time.time(), "+inf"))
        union: Members = {}
        if processes:
            async with self.redis.pipeline(transaction=False) as pipe:
                for process_id in processes:
                    pipe.hgetall(self._keys(room_id, process_id)[1])
                for members in await pipe.execute():
                    union.update(members)
        return summarize(union)

    async def close(self) -> None:
        await self.redis.aclose()


def make_presence_store() -> PresenceStore:
    from django.conf import settings

    ttl = float(settings.CHAT_PRESENCE_TTL)
    if settings.REDIS_URL:
        prefix = f"{settings.REDIS_PREFIX}:"
        return RedisPresenceStore(settings.REDIS_URL, prefix, ttl)
    return LocalPresenceStore(ttl)
