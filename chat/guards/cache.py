"""One cache client per process, shared by every thread and every connection.

Django gives each thread and each asyncio task its own cache object (`django.core.cache.cache`
and `caches[...]`). In a request that lives for milliseconds that is harmless; in a WebSocket or
SSE connection the object lives as long as the connection, and a RedisCache object holds its own
connection pool: one Redis connection per viewer (measured: 200 WebSocket viewers, 203 Redis
clients), which runs into Redis's client limit long before the server's own. The backends this
project uses (LocMemCache, and RedisCache on redis-py's pool) are thread-safe, so one object
serves everything that counts or limits (chat/guards/ratelimit.py, chat/domain/posting.py).
"""

from __future__ import annotations

import functools
import logging
import time

from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches

logger = logging.getLogger(__name__)

# While Redis is down every post would log the same warning; once per kind this often is enough.
FAILURE_LOG_SECS = 10.0
_last_logged: dict[str, float] = {}


@functools.cache
def shared_cache() -> BaseCache:
    return caches.create_connection(DEFAULT_CACHE_ALIAS)


def cache_failed(what: str) -> None:
    """Log that the cache failed and `what` went ahead without it (fail open: a cache outage
    must not become a full one), at most once per FAILURE_LOG_SECS for each `what`."""
    now = time.monotonic()
    if now - _last_logged.get(what, -FAILURE_LOG_SECS) >= FAILURE_LOG_SECS:
        _last_logged[what] = now
        logger.warning("the cache failed: %s went ahead without it", what, exc_info=True)
