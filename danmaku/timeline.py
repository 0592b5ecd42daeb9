"""Comments by position in the video: the time-window query and the exports read them here."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Max, QuerySet

from chat.domain.eventlog import in_log
from chat.domain.wire import USER_ROLE_KEY, WireEvent, format_ts
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
        in_log(room.pk), kind=EventKind.DANMAKU, video_ms__isnull=False, deleted_at=None, seq__gt=since
    )


# The density timeline (`density`): buckets a caller may ask for, and how many by default (a
# seek bar a few hundred pixels wide draws one every few pixels).
DENSITY_DEFAULT_BUCKETS = 100
DENSITY_MAX_BUCKETS = 1000


# A bound past any position a comment can have: the last bucket also counts comments past the
# video's stated length (a length set wrong).
_PAST_THE_END = 2**62


def density(room: Room, buckets: int) -> dict[str, Any]:
    """Comments of the current video counted per `bucket_ms` of its position (Bilibili's
    "high-energy bar"), counted afresh on every request: in a live room a cache would be cold
    at every new comment. See count_density for why that is fast enough."""
    video = current_video(room)
    if video is None or not video.recorded:
        return {"bucket_ms": None, "duration_ms": None, "counts": []}
    return count_density(room, video, buckets)


def count_density(room: Room, video: RoomVideo, buckets: int) -> dict[str, Any]:
    """The counting itself: the buckets span the video's length, or, when it is unknown, up to
    its last comment.

    One statement: a bucket number per row (a recursive CTE), each counted by a correlated
    COUNT over its video_ms range. Each count is a range scan of the partial index
    `room_event_video_time` on (room, video_ms, seq), which holds visible comments only, and
    nothing is sorted: 100,000 comments take 9-20 ms on SQLite, where one GROUP BY over
    `video_ms / bucket_ms` took 40-60 ms (it read every row and built a temporary B-tree of
    the groups). `kind` is written into the statement, not bound: SQLite uses the partial
    index (kind = 'danmaku') for the correlated subquery only when it can read that there.
    docs/DECISIONS.md has the comparison with counts kept on write."""
    since = video.since_seq
    span = video.duration_ms
    if not span:
        last = timeline(room, video).aggregate(last=Max("video_ms"))["last"]
        span = (last or 0) + 1
    bucket_ms = max(1, -(-span // buckets))  # ceil: `buckets` buckets cover the whole span
    count = -(-span // bucket_ms)
    table = connection.ops.quote_name(RoomEvent._meta.db_table)
    rooms = connection.ops.quote_name(Room._meta.db_table)
    sql = f"""
        WITH RECURSIVE bucket(i) AS (
            SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM bucket WHERE i < %s
        )
        SELECT i, (
            SELECT COUNT(*) FROM {table}
            WHERE room_id = %s AND video_ms IS NOT NULL AND deleted_at IS NULL
              AND video_ms >= i * %s
              AND video_ms < CASE WHEN i = %s THEN %s ELSE (i + 1) * %s END
              AND kind = '{EventKind.DANMAKU.value}' AND seq > %s
              AND seq <= (SELECT last_seq FROM {rooms} WHERE id = %s)
        )
        FROM bucket
    """
    last = count - 1
    params = [last, room.pk, bucket_ms, last, _PAST_THE_END, bucket_ms, since, room.pk]
    counts = [0] * count
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for i, n in cursor.fetchall():
            counts[int(i)] = int(n)
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
    for event in events:
        if USER_ROLE_KEY in event:  # a moderator's comment: their badge goes on `user`
            role = event.pop(USER_ROLE_KEY)
            if event["user"] is not None:
                event["user"]["role"] = role
    return events, len(rows) > limit
