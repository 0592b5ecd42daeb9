"""The one serializer of room events and frames: the same JSON on every transport."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .models import RoomEvent

WireEvent = dict[str, Any]


def format_ts(moment: datetime) -> str:
    """UTC, millisecond precision, `Z` suffix: 2026-11-22T10:00:00.123Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def event_to_wire(event: RoomEvent) -> WireEvent:
    user = {"id": event.user_id, "name": event.user_name} if event.user_id else None
    wire: WireEvent = {
        "seq": event.seq,
        "kind": event.kind,
        "id": event.pk,
        "user": user,
        "text": event.text,
        "ts": format_ts(event.created_at),
    }
    if event.deleted_at is not None:
        # A deleted event keeps its place in the log (seq stays gapless) but not its content.
        wire.update(user=None, text="", deleted=True)
        return wire
    wire.update(event.data)
    if event.kind == "danmaku":
        wire["video_ms"] = event.video_ms
    return wire


def dumps(payload: Any) -> str:
    """Compact JSON; non-ASCII left as is (UTF-8 on the wire)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def events_frame(events: list[WireEvent]) -> str:
    return dumps({"type": "events", "events": events})


def sse_block(event: str, data: str, event_id: int | None = None) -> str:
    """One Server-Sent Event. `data` is compact JSON, so it holds no line break."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n"


def sse_events(events: list[WireEvent]) -> str:
    return "".join(sse_block(str(event["kind"]), dumps(event), int(event["seq"])) for event in events)


def user_ref(user: Any) -> dict[str, Any] | None:
    """`{"id", "name"}` of a signed-in user, None for a guest."""
    if user is not None and user.is_authenticated:
        return {"id": user.pk, "name": user.get_username()}
    return None


def hello_payload(room: Any, last_seq: int, user: Any, presence: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "hello",
        "room": {"slug": room.slug, "title": room.title},
        "last_seq": last_seq,
        "me": user_ref(user),
        "presence": presence,
    }
