"""Comments by position in the video: the time-window query and the exports read them here."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Max, QuerySet, Value

from chat.domain.wire import WireEvent, format_ts
from chat.guards.cache import shared_cache
from chat.models import EventKind, Room, RoomEvent

from .models import RoomVideo

WINDOW_DEFAULT_LIMIT = 1000
WINDOW_MAX_LIMIT = 5000


def current_video(room: Room) -> RoomVideo | None:
    return RoomVideo.objects.filter(room_id=room.pk).first()


def timeline(room: Room, video: RoomVideo | None = None) -> QuerySet[RoomEvent]:
    """The visible comments of the room's current video that have a position in it.

    Served by the partial index on (room, video_ms, seq): a window is one index range scan.
    """
    since = video.since_seq if video is not None else 0
    return RoomEvent.objects.filter(
        room_id=room.pk, kind=EventKind.DANMAKU, video_ms__isnull=False, deleted_at=None, seq__gt=since
    )


# The density timeline (`density`): buckets a caller may ask for, and how many by default (a
# seek bar a few hundred pixels wide draws one every few pixels).
DENSITY_DEFAULT_BUCKETS = 100
DENSITY_MAX_BUCKETS = 1000


# Seconds a computed curve is kept. The key names the room's last seq and the video's version,
# so any new comment, deletion, clear or video change is a new key: this only bounds how long
# a stale entry occupies the cache.
DENSITY_CACHE_SECS = 60


def density(room: Room, buckets: int) -> dict[str, Any]:
    """Comments of the current video counted per `bucket_ms` of its position (Bilibili's
    "high-energy bar"), kept until the room's log moves on.

    Counting is one grouped index range scan (room, video_ms): 40-60 ms for 100,000 comments
    on SQLite (docs/PROTOCOL.md), above the 50 ms the page may wait, so every viewer who opens
    the page between two comments shares one count."""
    video = current_video(room)
    if video is None or not video.recorded:
        return {"bucket_ms": None, "duration_ms": None, "counts": []}
    key = f"danmaku:density:{room.pk}:{room.last_seq}:{video.pk}:{video.updated_at.timestamp()}:{buckets}"
    cache = shared_cache()
    kept: dict[str, Any] | None = cache.get(key)
    if kept is None:
        kept = count_density(room, video, buckets)
        cache.set(key, kept, DENSITY_CACHE_SECS)
    return kept


def count_density(room: Room, video: RoomVideo, buckets: int) -> dict[str, Any]:
    """The counting itself: the buckets span the video's length, or, when it is unknown, up to
    its last comment."""
    comments = timeline(room, video)
    span = video.duration_ms
    if not span:
        last = comments.aggregate(last=Max("video_ms"))["last"]
        span = (last or 0) + 1
    bucket_ms = max(1, -(-span // buckets))  # ceil: `buckets` buckets cover the whole span
    counts = [0] * -(-span // bucket_ms)
    rows = (
        comments.annotate(bucket=F("video_ms") / Value(bucket_ms))
        .values_list("bucket")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for bucket, n in rows:
        index = min(int(bucket), len(counts) - 1)  # a comment past the stated length: the last
        counts[index] += n
    return {"bucket_ms": bucket_ms, "duration_ms": span, "counts": counts}


_WIRE_COLUMNS = ("seq", "pk", "user_id", "user_name", "text", "created_at", "data", "video_ms")


def comments_in_window(room: Room, from_ms: int, to_ms: int, limit: int) -> tuple[list[WireEvent], bool]:
    """Comments with from_ms <= video_ms < to_ms, by position; and whether `limit` cut it short.

    Rows come as tuples, not model instances: an answer holds up to thousands of comments, and
    building a model per row costs more than the indexed query. The JSON is event_to_wire's.
    """
    rows = list(
        timeline(room, current_video(room))
        .filter(video_ms__gte=from_ms, video_ms__lt=to_ms)
        .order_by("video_ms", "seq")
        .values_list(*_WIRE_COLUMNS)[: limit + 1]
    )
    events = [
        {
            "seq": seq,
            "kind": "danmaku",
            "id": pk,
            "user": {"id": user_id, "name": user_name} if user_id else None,
            "text": text,
            "ts": format_ts(created_at),
            **data,
            "video_ms": video_ms,
        }
        for seq, pk, user_id, user_name, text, created_at, data, video_ms in rows[:limit]
    ]
    return events, len(rows) > limit
