"""Messages per minute, for the moderator's chart of the last hour: one counter per room and
minute on the shared cache (across processes on Redis), counted once a post is committed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.cache import BaseCache
from django.utils import timezone

from chat.guards.cache import cache_failed, shared_cache
from chat.guards.ratelimit import count
from chat.models import EventKind, Room, RoomEvent

# A counter is kept this long after its minute: the chart shows the last hour.
STATS_KEEP_SECS = 3700
CHART_MINUTES = 60


def stats_key(room_id: int, minute: int) -> str:
    """The counter of a room's posts in one minute (minutes since the epoch)."""
    return f"stats:{room_id}:{minute}"


def _this_minute() -> int:
    return int(timezone.now().timestamp() // 60)


def count_minute(room_id: int) -> None:
    """Count one committed post in the room's counter for this minute."""
    count(stats_key(room_id, _this_minute()), STATS_KEEP_SECS)


def minute_counts(room_id: int) -> list[dict[str, Any]]:
    """Messages and comments per minute over the last hour, oldest first."""
    now = _this_minute()
    minutes = list(range(now - CHART_MINUTES + 1, now + 1))
    keys = [stats_key(room_id, minute) for minute in minutes]
    counts = shared_cache().get_many(keys)
    return [
        {
            "minute": datetime.fromtimestamp(minute * 60, tz=UTC).strftime("%Y-%m-%dT%H:%M:00Z"),
            "messages": int(counts.get(key, 0)),
        }
        for minute, key in zip(minutes, keys, strict=True)
    ]


# The home page's "N messages": what a reader can scroll back through (messages and comments,
# neither deleted nor cleared), counted up to this many ("10,000+" beyond), so a room of
# millions costs a bounded index walk, never a scan. Cached under the room's last seq: any
# change to the room (a post, a delete, a clear) is a new event, so the figure is never stale.
MESSAGE_COUNT_CAP = 10_000
MESSAGE_COUNT_KEEP_SECS = 3600
COUNTED_KINDS = (EventKind.MESSAGE, EventKind.DANMAKU)


def message_counts(rooms: Sequence[Room]) -> dict[int, int]:
    """room id -> visible messages and comments, at most MESSAGE_COUNT_CAP + 1 (meaning more)."""
    shared = shared_cache()
    cache: BaseCache | None = shared  # None once it failed: the rest are counted without it
    keys = {room.pk: f"messages:{room.pk}:{room.log_epoch}:{room.last_seq}" for room in rooms}
    try:
        known = shared.get_many(list(keys.values()))
    except Exception:
        cache_failed("counting the home page's messages")  # counted afresh instead
        known, cache = {}, None
    counts: dict[int, int] = {}
    for room in rooms:
        key = keys[room.pk]
        if key in known:
            counts[room.pk] = int(known[key])
            continue
        visible = RoomEvent.objects.filter(
            room_id=room.pk, seq__lte=room.last_seq, kind__in=COUNTED_KINDS, deleted_at=None
        )
        counts[room.pk] = visible.order_by("-seq")[: MESSAGE_COUNT_CAP + 1].count()
        if cache is not None:
            try:
                cache.set(key, counts[room.pk], MESSAGE_COUNT_KEEP_SECS)
            except Exception:
                cache_failed("counting the home page's messages")
                cache = None
    return counts
