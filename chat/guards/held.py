"""Held connections bounded per client address and per process.

A WebSocket, an SSE stream or a waiting long-poll holds a socket (and a file descriptor) for as
long as it lasts. Before these limits one address held 8,000 long-polls, and 21,000 from 20
addresses filled the descriptor table until /healthz failed. Every held connection now takes a
place here before anything else (so requests for rooms that do not exist count too) and gives
it back when it ends:

- at most `CHAT_HELD_PER_IP` at once per address: across processes when Redis is configured
  (each process's count of an address in one hash, the counts of a process that died dropped
  once its liveness key expires), in this process otherwise; refused with 429 `rate_limited`;
- at most `CHAT_CONNECTIONS_MAX` per process: refused with 503 `server_busy`.

A cache outage lets connections through (as the rate limits do): the per-process cap still holds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import uuid
import weakref
from collections import Counter
from typing import Any, Protocol

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from chat.errors import ChatError

from .cache import cache_failed
from .redis_pool import async_redis

logger = logging.getLogger(__name__)

# How long a client that was turned away should wait: held connections end by themselves
# (polls within a minute), so a short wait is honest.
RETRY_AFTER_SECS = 10
# A process's counts live this long unless it refreshes them (every third of it).
LIVENESS_SECS = 30
# Of the descriptor limit, what held connections may use by default: the rest is for the
# database, Redis, log files and the short requests that must still be answered.
DESCRIPTOR_SHARE = 0.8

PROCESS_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def connections_max() -> int:
    """`CHAT_CONNECTIONS_MAX`, or 80% of this process's descriptor limit when it is 0."""
    configured = int(settings.CHAT_CONNECTIONS_MAX)
    if configured > 0:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1, int(soft * DESCRIPTOR_SHARE))


def too_many_from_address() -> ChatError:
    return ChatError(
        "rate_limited",
        _("Too many open connections from your network. Try again in %(seconds)s s."),
        params={"seconds": RETRY_AFTER_SECS},
        status=429,
        retry_after=RETRY_AFTER_SECS,
    )


def server_busy() -> ChatError:
    return ChatError(
        "server_busy",
        _("The server holds all the connections it can. Try again in %(seconds)s s."),
        params={"seconds": RETRY_AFTER_SECS},
        status=503,
        retry_after=RETRY_AFTER_SECS,
    )


class AddressCounts(Protocol):
    async def take(self, address: str, cap: int) -> bool:
        """Count one more connection of `address` unless it already has `cap`; whether it did."""

    def give_back(self, address: str) -> None:
        """Count one connection of `address` fewer: at once, or in a task of its own (nothing
        waits for it: a connection that ends does not wait for its count)."""


class LocalCounts:
    """One process, no services."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    async def take(self, address: str, cap: int) -> bool:
        return self.take_now(address, cap)

    def take_now(self, address: str, cap: int) -> bool:
        """`take`, without waiting: this process's counts are in memory."""
        if self.counts[address] >= cap:
            return False
        self.counts[address] += 1
        return True

    def give_back(self, address: str) -> None:
        self.counts[address] -= 1
        if self.counts[address] <= 0:
            del self.counts[address]


# KEYS[1]: the address's hash (process id -> count). ARGV: this process's id, the cap, the
# liveness key prefix, the liveness seconds. Counts of processes whose liveness key is gone are
# dropped; returns 1 and counts this connection if the address is under the cap, else 0.
_TAKE_LUA = """
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local process = fields[i]
  if process ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. process) == 0 then
    redis.call('HDEL', KEYS[1], process)
  else
    total = total + tonumber(fields[i + 1])
  end
end
redis.call('SET', ARGV[3] .. ARGV[1], '1', 'EX', tonumber(ARGV[4]))
if total >= tonumber(ARGV[2]) then
  return 0
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], 86400)
return 1
"""

# KEYS[1]: the address's hash. ARGV[1]: this process's id.
_GIVE_BACK_LUA = """
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 1
"""


class RedisCounts:
    """Across processes: per address a hash of each process's count, and per process a
    liveness key it refreshes while it holds connections."""

    def __init__(self, url: str, prefix: str, process_id: str = PROCESS_ID) -> None:
        self.redis = async_redis(url)
        self.prefix = prefix
        self.process_id = process_id
        self._take = self.redis.register_script(_TAKE_LUA)
        self._give_back = self.redis.register_script(_GIVE_BACK_LUA)
        self._refresher: asyncio.Task[None] | None = None

    def _key(self, address: str) -> str:
        return f"{self.prefix}held:{address}"

    async def take(self, address: str, cap: int) -> bool:
        self._keep_alive()
        args: list[Any] = [self.process_id, cap, f"{self.prefix}held-process:", LIVENESS_SECS]
        return bool(await self._take(keys=[self._key(address)], args=args))

    def give_back(self, address: str) -> None:
        task = asyncio.ensure_future(self._send_give_back(address))
        _giving_back.add(task)
        task.add_done_callback(_giving_back.discard)

    async def _send_give_back(self, address: str) -> None:
        try:
            await self._give_back(keys=[self._key(address)], args=[self.process_id])
        except Exception:
            cache_failed("giving back a held connection")

    def _keep_alive(self) -> None:
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.ensure_future(self._refresh())

    async def _refresh(self) -> None:
        """While this process lives, its counts count (the key is also set by every take)."""
        while True:
            await asyncio.sleep(LIVENESS_SECS / 3)
            try:
                await self.redis.set(f"{self.prefix}held-process:{self.process_id}", "1", ex=LIVENESS_SECS)
            except Exception:
                cache_failed("refreshing held connections")

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        await self.redis.aclose()


class HeldConnections:
    """This process's held connections: `hold(address)` takes a place or raises ChatError."""

    def __init__(self, counts: AddressCounts) -> None:
        self.counts = counts
        self.held = 0  # in this process (only the event loop's thread changes it)

    async def hold(self, address: str) -> Held:
        if self.held >= connections_max():
            logger.warning("refused a connection from %s: %d held, the process's limit", address, self.held)
            raise server_busy()
        self.held += 1
        try:
            counted = await self.counts.take(address, int(settings.CHAT_HELD_PER_IP))
        except Exception:
            cache_failed("counting held connections")
            return Held(self, address, counted=False)
        except BaseException:
            self.held -= 1
            raise
        if not counted:
            self.held -= 1
            raise too_many_from_address()
        return Held(self, address, counted=True)

    def hold_now(self, address: str) -> Held | None:
        """`hold`, when it can be decided without waiting (the counts are this process's) and
        the place is free; else None, with nothing taken (`hold` decides, and explains a refusal)."""
        counts = self.counts
        if not isinstance(counts, LocalCounts) or self.held >= connections_max():
            return None
        if not counts.take_now(address, int(settings.CHAT_HELD_PER_IP)):
            return None
        self.held += 1
        return Held(self, address, counted=True)


class Held:
    """A place taken by one connection; `release()` gives it back (once)."""

    __slots__ = ("_counted", "_owner", "address")

    def __init__(self, owner: HeldConnections, address: str, *, counted: bool) -> None:
        self._owner: HeldConnections | None = owner
        self._counted = counted
        self.address = address

    def release(self) -> None:
        owner, self._owner = self._owner, None
        if owner is None:
            return
        owner.held -= 1
        if self._counted:
            owner.counts.give_back(self.address)


# Redis give-backs in flight (referenced while they run: the event loop keeps tasks weakly).
_giving_back: set[asyncio.Future[None]] = set()


_held: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, HeldConnections] = weakref.WeakKeyDictionary()


def held_connections() -> HeldConnections:
    """The running event loop's accounting (one per process under daphne)."""
    loop = asyncio.get_running_loop()
    held = _held.get(loop)
    if held is None:
        if settings.REDIS_URL:
            counts: AddressCounts = RedisCounts(settings.REDIS_URL, f"{settings.REDIS_PREFIX}:")
        else:
            counts = LocalCounts()
        held = _held[loop] = HeldConnections(counts)
    return held


async def hold_connection(address: str) -> Held:
    """Take a place for a held connection from `address`, or raise ChatError (429 or 503)."""
    return await held_connections().hold(address)
