"""Posting chat messages: the domain function every transport calls."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .errors import ChatError, login_required
from .eventlog import append_event
from .models import EventKind, Room, RoomEvent
from .ratelimit import hit, parse_rate
from .text import clean_text


def post_message(room: Room, user: AbstractBaseUser | AnonymousUser, text: object) -> RoomEvent:
    """Validate and append a chat message; raises ChatError with a stable code."""
    if not user.is_authenticated:
        raise login_required()
    cleaned = clean_text(text)
    retry_after = hit(f"message:user:{user.pk}", parse_rate(settings.CHAT_MESSAGE_RATE))
    if retry_after is not None:
        raise ChatError(
            "rate_limited",
            f"You are posting too fast; try again in {retry_after} s.",
            status=429,
            retry_after=retry_after,
        )
    return append_event(room, EventKind.MESSAGE, user=user, text=cleaned)


def submit_message(room: Room, user: AbstractBaseUser | AnonymousUser, frame: dict[str, object]) -> RoomEvent:
    """A `{"type": "message", "text": ...}` frame from any transport."""
    if "text" not in frame:
        raise ChatError("invalid", "A message needs text.")
    return post_message(room, user, frame["text"])
