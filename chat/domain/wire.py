"""The wire format: the one serializer of room events, the frames that carry them on every
transport (JSON for WebSocket and long-poll, Server-Sent Events, WebSocket and chunked-HTTP
framing for the fan-out's fast path), and the size limits of frames.

No Django at import time: config/serve.py reads FRAME_MAX_BYTES before settings exist.
"""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chat.models import RoomEvent

WireEvent = dict[str, Any]
# The author's role in the room when they posted, kept in an event's data and sent as `user.role`.
USER_ROLE_KEY = "user_role"

# The largest WebSocket frame or HTTP body a client may send: a chat message is at most 500
# characters, so anything near this is not one. daphne enforces it on frames (config/serve.py).
FRAME_MAX_BYTES = 64 * 1024
# The largest `events` frame sent over WebSocket, in bytes: under daphne's message limit
# (FRAME_MAX_BYTES, both directions) with room for the frame's envelope.
WS_FRAME_BUDGET = FRAME_MAX_BYTES - 1024


def size_label(size: int) -> str:
    """A byte count as the messages say it: 65536 -> "64 KiB", 52494336 -> "50.1 MiB"."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def format_ts(moment: datetime) -> str:
    """UTC, millisecond precision, `Z` suffix: 2026-11-22T10:00:00.123Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def event_to_wire(event: RoomEvent) -> WireEvent:
    user: dict[str, Any] | None = {"id": event.user_id, "name": event.user_name} if event.user_id else None
    if user is not None and event.user_bot:
        user["bot"] = True
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
    if USER_ROLE_KEY in event.data:
        data = dict(event.data)
        role = data.pop(USER_ROLE_KEY)
        if user is not None:
            user["role"] = role
        wire.update(data)
    else:
        wire.update(event.data)
    if event.kind == "danmaku":
        wire["video_ms"] = event.video_ms
    return wire


def dumps(payload: Any) -> str:
    """Compact JSON; non-ASCII left as is (UTF-8 on the wire)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def events_frame(events: list[WireEvent]) -> str:
    return dumps({"type": "events", "events": events})


def events_frames(events: list[WireEvent], frame: str | None = None) -> list[str]:
    """`events_frame(events)` (or the given `frame` of them), split into several `events`
    frames when it is larger than a WebSocket message may be (daphne's limit holds for sending
    too): a backlog page or a repaired gap of hundreds of long messages would otherwise fail."""
    frame = events_frame(events) if frame is None else frame
    if len(frame) * 4 <= WS_FRAME_BUDGET or len(frame.encode()) <= WS_FRAME_BUDGET:
        return [frame]
    frames: list[str] = []
    chunk: list[WireEvent] = []
    size = 0
    for event in events:
        encoded = len(dumps(event).encode()) + 1
        if chunk and size + encoded > WS_FRAME_BUDGET:
            frames.append(events_frame(chunk))
            chunk, size = [], 0
        chunk.append(event)
        size += encoded
    if chunk:
        frames.append(events_frame(chunk))
    return frames


def text_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked WebSocket text frame (RFC 6455 5.2): what a server sends."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


def http_chunk(data: bytes) -> bytes:
    """`data` as one chunk of a chunked HTTP/1.1 response body (RFC 9112 7.1)."""
    return b"%x\r\n" % len(data) + data + b"\r\n"


def sse_block(event: str, data: str, event_id: int | None = None) -> str:
    """One Server-Sent Event. `data` is compact JSON, so it holds no line break."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n"


def sse_events(events: list[WireEvent]) -> str:
    return "".join(sse_block(str(event["kind"]), dumps(event), int(event["seq"])) for event in events)


# Where chat.domain.bots.is_bot keeps its answer on a user object, so that `user_ref` (and
# presence) can say `bot` without a query of their own.
BOT_MEMO = "_chat_is_bot"


def user_ref(user: Any) -> dict[str, Any] | None:
    """`{"id", "name"}` of a signed-in user (with `"bot": true` for a bot account whose
    `is_bot` was asked), None for a guest."""
    if user is not None and user.is_authenticated:
        ref: dict[str, Any] = {"id": user.pk, "name": user.get_username()}
        if getattr(user, BOT_MEMO, False):
            ref["bot"] = True
        return ref
    return None


def reset_frame(last_seq: int, reason: str, epoch: str) -> dict[str, Any]:
    """The cursor cannot be resumed: the client reloads history and goes on from `last_seq`."""
    return {"type": "reset", "last_seq": last_seq, "reason": reason, "epoch": epoch}


def hello_payload(
    room: Any, last_seq: int, user: Any, presence: dict[str, Any], epoch: str
) -> dict[str, Any]:
    return {
        "type": "hello",
        "room": {"slug": room.slug, "title": room.title},
        "last_seq": last_seq,
        "epoch": epoch,
        "me": user_ref(user),
        "presence": presence,
    }
