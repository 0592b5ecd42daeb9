"""The asyncio Redis clients of the realtime layers (held places, presence, calls): connections
from a pool that waits when all of them are busy.

redis-py's own pool (100 connections by default) raises "Too many connections" instead. When
2,000 viewers left a room at once on two processes, each giving its held place back in a task
of its own, most give-backs failed, and their places stayed counted against their address
until the process's liveness key expired. Here the 101st command waits for a connection (up to
REDIS_POOL_WAIT_SECS), as the 1,001st poll waits for a database thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

REDIS_POOL_MAX = 100  # connections per client and process, as redis-py's default
REDIS_POOL_WAIT_SECS = 10.0  # a command waits this long for a free connection, then fails


def async_redis(url: str, **options: Any) -> Redis:
    """An asyncio Redis client on `url` (options as `redis.asyncio.from_url` takes them) whose
    pool waits for a free connection; closing the client closes its pool."""
    import redis.asyncio as redis

    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=REDIS_POOL_MAX, timeout=REDIS_POOL_WAIT_SECS, **options
    )
    return redis.Redis.from_pool(pool)
