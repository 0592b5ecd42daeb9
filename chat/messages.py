"""Writing to a room: the domain functions every transport calls, by frame type.

A frame type (`message`, and `danmaku` from the danmaku app) maps to a writer registered here,
so the WebSocket consumer and the HTTP endpoint accept the same frames without knowing them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .errors import ChatError, login_required
from .eventlog import append_event
from .models import EventKind, Room, RoomEvent
from .ratelimit import hit, parse_rate
from .text import clean_text

AnyUser = AbstractBaseUser | AnonymousUser
Writer = Callable[[Room, AnyUser, dict[str, object]], RoomEvent]

_writers: dict[str, Writer] = {}


def register_writer(frame_type: str, writer: Writer) -> None:
    _writers[frame_type] = writer


def writer_types() -> list[str]:
    return sorted(_writers)


def submit_frame(
    room: Room, user: AnyUser, frame: dict[str, object], default_type: str | None = None
) -> RoomEvent:
    """Dispatch a client's write frame by its `type`; ChatError("unknown_type") for others."""
    frame_type = frame.get("type", default_type)
    writer = _writers.get(frame_type) if isinstance(frame_type, str) else None
    if writer is None:
        raise ChatError("unknown_type", f"type must be one of: {', '.join(writer_types())}.")
    return writer(room, user, frame)


def require_author(user: AnyUser) -> None:
    if not user.is_authenticated:
        raise login_required()


def check_post_rate(user: AnyUser) -> None:
    """The per-user limit shared by messages and danmaku on every transport."""
    retry_after = hit(f"message:user:{user.pk}", parse_rate(settings.CHAT_MESSAGE_RATE))
    if retry_after is not None:
        raise ChatError(
            "rate_limited",
            f"You are posting too fast; try again in {retry_after} s.",
            status=429,
            retry_after=retry_after,
        )


def post_message(room: Room, user: AnyUser, text: object) -> RoomEvent:
    """Validate and append a chat message; raises ChatError with a stable code."""
    require_author(user)
    cleaned = clean_text(text)
    check_post_rate(user)
    return append_event(room, EventKind.MESSAGE, user=user, text=cleaned)


def submit_message(room: Room, user: AnyUser, frame: dict[str, object]) -> RoomEvent:
    """A `{"type": "message", "text": ...}` frame from any transport."""
    if "text" not in frame:
        raise ChatError("invalid", "A message needs text.")
    return post_message(room, user, frame["text"])


register_writer("message", submit_message)
