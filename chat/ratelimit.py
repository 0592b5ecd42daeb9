"""Rate limits as a token bucket (GCRA), shared across processes when the cache is Redis.

`"20/10"` means a burst of up to 20 actions, refilled at 20 per 10 seconds. The state per key is one
number, the "theoretical arrival time" (TAT): the moment the bucket would be full again. An action is
allowed when, after adding its cost, the TAT lies at most one period ahead of now.

A fixed window (count per calendar window) forgets everything at each boundary: a client can fire
twice the limit across one, and whether `count + 1` quick actions are refused depends on the clock.
GCRA has no boundaries, and a refused action costs nothing, so a client that waits `Retry-After`
gets through. The update is atomic: a Lua script on Redis, a lock in-process for the local cache
(which is per-process anyway).
"""

from __future__ import annotations

import functools
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import BaseCache
from django.core.exceptions import ImproperlyConfigured

from .cache import cache_failed, shared_cache


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @property
    def interval(self) -> float:
        return self.seconds / self.count


@functools.lru_cache(maxsize=32)
def parse_rate(text: str) -> Rate:
    """`"20/10"`: 20 actions per 10 seconds."""
    try:
        count, seconds = (int(part) for part in text.split("/"))
    except ValueError:
        raise ImproperlyConfigured(f"rate {text!r} is not of the form COUNT/SECONDS") from None
    if count < 1 or seconds < 1:
        raise ImproperlyConfigured(f"rate {text!r} needs a positive count and period")
    return Rate(count, seconds)


# KEYS[1]: the TAT key. ARGV: now, interval, period (seconds, floats). Returns nil when allowed,
# else the seconds to wait as a string.
_GCRA_LUA = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > period + 1e-9 then
  return tostring(new_tat - period - now)
end
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1)
return false
"""

_local_lock = threading.Lock()


def _redis_client(cache: BaseCache) -> Any | None:
    """The redis-py client behind Django's RedisCache, or None for other backends."""
    inner = getattr(cache, "_cache", None)
    get_client = getattr(inner, "get_client", None)
    if get_client is None or type(cache).__name__ != "RedisCache":
        return None
    return get_client(None, write=True)


@functools.cache
def _script() -> Any:
    from redis.commands.core import Script

    return Script(None, _GCRA_LUA.encode())  # type: ignore[arg-type]  # bytes need no client encoder


def gcra(tat: float, now: float, rate: Rate) -> tuple[float | None, float]:
    """One step of the algorithm: (seconds to wait or None, the new TAT)."""
    new_tat = max(tat, now) + rate.interval
    if new_tat - now > rate.seconds + 1e-9:
        return new_tat - rate.seconds - now, tat
    return None, new_tat


def hit(key: str, rate: Rate, now: float | None = None, cache: BaseCache | None = None) -> int | None:
    """Count one action against `key`; None if allowed, else whole seconds until one would be.

    When the cache cannot be reached (Redis down) the action is allowed and a warning logged:
    flood limits are a guard, and refusing every post and connection would turn a cache outage
    into a full one.
    """
    try:
        return _hit(key, rate, now, cache)
    except Exception:
        cache_failed(f"rate limit {key.split(':', 1)[0]}")
        return None


def _hit(key: str, rate: Rate, now: float | None, cache: BaseCache | None) -> int | None:
    cache = shared_cache() if cache is None else cache
    now = time.time() if now is None else now
    cache_key = f"ratelimit:{key}"
    client = _redis_client(cache)
    if client is not None:
        redis_key = cache.make_and_validate_key(cache_key)
        answer = _script()(keys=[redis_key], args=[now, rate.interval, rate.seconds], client=client)
        wait = None if answer is None else float(answer)
    else:
        with _local_lock:
            stored = cache.get(cache_key)
            wait, new_tat = gcra(float(stored) if stored is not None else 0.0, now, rate)
            if wait is None:
                cache.set(cache_key, new_tat, timeout=math.ceil(new_tat - now) + 1)
    if wait is None:
        return None
    return max(1, math.ceil(wait))
