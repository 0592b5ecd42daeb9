"""Comments by position in the video: the time-window query and the exports read them here."""

from __future__ import annotations

from django.db.models import QuerySet

from chat.models import EventKind, Room, RoomEvent
from chat.wire import WireEvent, event_to_wire

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


def comments_in_window(room: Room, from_ms: int, to_ms: int, limit: int) -> tuple[list[WireEvent], bool]:
    """Comments with from_ms <= video_ms < to_ms, by position; and whether `limit` cut it short."""
    rows = list(
        timeline(room, current_video(room))
        .filter(video_ms__gte=from_ms, video_ms__lt=to_ms)
        .order_by("video_ms", "seq")[: limit + 1]
    )
    return [event_to_wire(event) for event in rows[:limit]], len(rows) > limit
