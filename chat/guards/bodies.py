"""How large a request body may be, by path: refused before it is read (chat/transports/bounded.py
applies it in daphne's own protocol layer, as soon as `Content-Length` or a chunk passes it).

Every path gets `CHAT_REQUEST_BODY_MAX_BYTES` (64 KiB: a chat message is at most 500 characters,
a moderation request a few hundred bytes, a login form less). Apps that take larger bodies on a
path of their own register its limit (danmaku: the Bilibili XML upload).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings

_limits: list[tuple[re.Pattern[str], Callable[[], int]]] = []


def add_body_limit(path_pattern: str, limit: Callable[[], int]) -> None:
    """Bodies of requests whose path matches `path_pattern` (a regex on the path, without the
    query string) may be up to `limit()` bytes, read when a request arrives (so a setting
    overridden in tests applies)."""
    compiled = re.compile(path_pattern)
    if all(existing.pattern != compiled.pattern for existing, _ in _limits):
        _limits.append((compiled, limit))


def body_limit(path: str) -> int:
    """The largest body a request to `path` may carry, in bytes."""
    for pattern, limit in _limits:
        if pattern.fullmatch(path):
            return int(limit())
    return int(settings.CHAT_REQUEST_BODY_MAX_BYTES)
