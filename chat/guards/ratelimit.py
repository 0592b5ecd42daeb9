"""Rate limits as a token bucket (GCRA), shared across processes when the cache is Redis.

`"20/10"` means a burst of up to 20 actions, refilled at 20 per 10 seconds. The state per key is one
number, the "theoretical arrival time" (TAT): the moment the bucket would be full again. An action is
allowed when, after adding its cost, the TAT lies at most one period ahead of now.

A fixed window (count per calendar window) forgets everything at each boundary: a client can fire
twice the limit across one, and whether `count + 1` quick actions are refused depends on the clock.
GCRA has no boundaries, and a refused action costs nothing, so a client that waits `Retry-After`
gets through. The update is atomic: a Lua script on Redis, a lock in-process for the local cache
(which is per-process anyway).

A post passes several limits at once (per user, per address, the same text twice, slow mode).
`claim` checks them together and counts the post against all of them or, when one refuses,
against none: one round trip to Redis per post instead of one per limit, and a post refused by
slow mode does not use up the writer's rate or mark its text as already posted.
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


# Several checks made and counted together, all or nothing. KEYS: one per check. ARGV[1]: now
# (seconds), then two numbers per check: for a GCRA rate, its interval and period; for "once",
# 0 and its period (refused until the moment stored in the key, then the key is set to now + the
# period). Returns false when every check passed (and all were counted), else {index, seconds
# to wait as a string} for the first check that refused (and nothing was counted).
_CLAIM_LUA = """
local now = tonumber(ARGV[1])
local until_ = {}
for i = 1, #KEYS do
  local a = tonumber(ARGV[2 * i])
  local b = tonumber(ARGV[2 * i + 1])
  local stored = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  if a == 0 then
    if stored > now then
      return {i, tostring(stored - now)}
    end
    until_[i] = now + b
  else
    if stored < now then stored = now end
    local new_tat = stored + a
    if new_tat - now > b + 1e-9 then
      return {i, tostring(new_tat - b - now)}
    end
    until_[i] = new_tat
  end
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.6f', until_[i]), 'PX', math.ceil((until_[i] - now) * 1000) + 1)
end
return false
"""

_local_lock = threading.Lock()


@dataclass(frozen=True)
class Check:
    """One check of a claim: a GCRA `rate` on `key`, or, with `once` seconds, "refused while
    `key` was claimed in the last `once` seconds" (the same text twice)."""

    key: str
    rate: Rate | None = None
    once: int = 0


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

    return Script(None, _CLAIM_LUA.encode())  # type: ignore[arg-type]  # bytes need no client encoder


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
    refused = claim([Check(f"ratelimit:{key}", rate)], now, cache)
    return None if refused is None else refused[1]


def claim(
    checks: list[Check], now: float | None = None, cache: BaseCache | None = None
) -> tuple[int, int] | None:
    """Make every check and count the action against all of them, or against none: None when all
    passed, else (the index of the first check that refused, whole seconds to wait). One round
    trip on Redis (a script), so a post's limits cost one call and a refusal costs nothing
    anywhere. A cache outage allows the action (see `hit`)."""
    cache = shared_cache() if cache is None else cache
    now = time.time() if now is None else now
    try:
        client = _redis_client(cache)
        if client is not None:
            args: list[float] = [now]
            for check in checks:
                if check.rate is None:
                    args += [0, check.once]
                else:
                    args += [check.rate.interval, check.rate.seconds]
            keys = [cache.make_and_validate_key(check.key) for check in checks]
            answer = _script()(keys=keys, args=args, client=client)
            if not answer:
                return None
            index, wait = int(answer[0]) - 1, float(answer[1])
        else:
            refused = _claim_locally(checks, now, cache)
            if refused is None:
                return None
            index, wait = refused
    except Exception:
        cache_failed(f"rate limit {checks[0].key.removeprefix('ratelimit:').split(':', 1)[0]}")
        return None
    return index, max(1, math.ceil(wait))


def _claim_locally(checks: list[Check], now: float, cache: BaseCache) -> tuple[int, float] | None:
    """`claim` for an in-process cache (LocMem: per process anyway), under a lock."""
    with _local_lock:
        stored = cache.get_many([check.key for check in checks])
        updates: list[tuple[str, float, int]] = []
        for index, check in enumerate(checks):
            if check.rate is None:
                until = stored.get(check.key)
                if until is not None and until > now:
                    return index, until - now
                updates.append((check.key, now + check.once, check.once))
            else:
                tat = stored.get(check.key)
                wait, new_tat = gcra(float(tat) if tat is not None else 0.0, now, check.rate)
                if wait is not None:
                    return index, wait
                updates.append((check.key, new_tat, math.ceil(new_tat - now) + 1))
        for key, value, timeout in updates:
            cache.set(key, value, timeout=timeout)
    return None


def release(key: str, cache: BaseCache | None = None) -> None:
    """Forget a "once" claim (its action did not happen after all)."""
    try:
        (shared_cache() if cache is None else cache).delete(key)
    except Exception:
        cache_failed("releasing a duplicate check")


def count(key: str, timeout: int, cache: BaseCache | None = None) -> None:
    """Add one to the counter `key`, kept `timeout` seconds after its last count (one round
    trip on Redis). A cache outage loses the count, with a warning."""
    cache = shared_cache() if cache is None else cache
    try:
        client = _redis_client(cache)
        if client is not None:
            redis_key = cache.make_and_validate_key(key)
            client.pipeline(transaction=False).incr(redis_key).expire(redis_key, timeout).execute()
            return
        with _local_lock:
            if not cache.add(key, 1, timeout=timeout):
                try:
                    cache.incr(key)
                except ValueError:  # expired in between
                    cache.add(key, 1, timeout=timeout)
    except Exception:
        cache_failed("a counter")
