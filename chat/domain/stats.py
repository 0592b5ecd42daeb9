"""Messages per minute, for the moderator's chart of the last hour: one counter per room and
minute on the shared cache (across processes on Redis), counted once a post is committed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from chat.guards.cache import shared_cache
from chat.guards.ratelimit import count

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
