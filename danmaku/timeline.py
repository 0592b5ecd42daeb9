"""Comments by position in the video: the time-window query and the exports read them here."""

from __future__ import annotations

from django.db.models import QuerySet

from chat.domain.wire import WireEvent, format_ts
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
