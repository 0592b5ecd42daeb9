"""Writing to a room: the domain functions every transport calls, by frame type.

A frame type (`message`, and `danmaku` from the danmaku app) maps to a writer registered here,
so the WebSocket consumer and the HTTP endpoints accept the same frames without knowing them.
Every writer goes through the same gates, in this order:

1. who may post at all (`check_may_post`): signed in, may read the room, not banned or timed
   out, not a moderators-only room;
2. what is posted: the writer's own validation (text, danmaku fields);
3. how often (`check_flood`): per-user and per-IP rates, the same text again within
   `CHAT_DUPLICATE_SECONDS`, the room's slow mode (moderators exempt);
4. whether a moderator must see it first (`hold_reason`): blocked words (refused or held),
   review of everyone or of new accounts, or the room's chat delay (held until its
   `release_at`, moderation/delay.py). A held message is acked with `held: true`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chat.errors import ChatError, Text
from chat.guards.ratelimit import Check, Rate, claim, parse_rate, release
from chat.models import EventKind, HeldMessage, Room, RoomEvent
from chat.types import AnyUser

from .access import Standing, check_may_post
from .batching import on_rollback
from .eventlog import append_event
from .moderation.delay import check_delay_room, notify_release, release_time
from .moderation.review import hold_reason
from .stats import count_minute
from .text import clean_text
from .wire import USER_ROLE_KEY, format_ts


@dataclass(frozen=True)
class WriteContext:
    """Where a write comes from: the client's address, for per-IP limits."""

    ip: str = ""


@dataclass(frozen=True)
class Posted:
    """A write's outcome: the event it appended, or the message held for review."""

    event: RoomEvent | None = None
    held: HeldMessage | None = None

    def ack(self, nonce: Any) -> dict[str, Any]:
        if self.event is not None:
            return {"type": "ack", "nonce": nonce, "seq": self.event.seq, "id": self.event.pk}
        assert self.held is not None
        if self.held.reason == HeldMessage.Reason.HIDDEN_USER:
            # A hidden user's message: shown to them (and listed for moderators) only. The ack
            # says neither "held" nor why, as YouTube's hide does not tell the user.
            return {
                "type": "ack",
                "nonce": nonce,
                "seq": None,
                "id": None,
                "held_id": self.held.pk,
                "private": True,
            }
        if self.held.release_at is not None:
            # Chat delay: it appears at `release_at` unless a moderator removes it first.
            return {
                "type": "ack",
                "nonce": nonce,
                "seq": None,
                "id": None,
                "held": True,
                "held_id": self.held.pk,
                "delayed": True,
                "release_at": format_ts(self.held.release_at),
                "message": gettext("This room shows messages after a short delay."),
            }
        return {
            "type": "ack",
            "nonce": nonce,
            "seq": None,
            "id": None,
            "held": True,
            "held_id": self.held.pk,
            "message": gettext("A moderator will review your message before it appears."),
        }


Writer = Callable[[Room, AnyUser, dict[str, object], WriteContext], Posted]

_writers: dict[str, Writer] = {}


def register_writer(frame_type: str, writer: Writer) -> None:
    _writers[frame_type] = writer


def writer_types() -> list[str]:
    return sorted(_writers)


def submit_frame(
    room: Room,
    user: AnyUser,
    frame: dict[str, object],
    context: WriteContext | None = None,
    default_type: str | None = None,
) -> Posted:
    """Dispatch a client's write frame by its `type`; ChatError("unknown_type") for others."""
    frame_type = frame.get("type", default_type)
    writer = _writers.get(frame_type) if isinstance(frame_type, str) else None
    if writer is None:
        raise ChatError(
            "unknown_type", _("type must be one of: %(types)s."), params={"types": ", ".join(writer_types())}
        )
    return writer(room, user, frame, context or WriteContext())


# The flood refusals' sentences, made once (a post that passes makes none).
TOO_FAST = _("You are posting too fast.")
TOO_MANY_FROM_NETWORK = _("Too many messages from your network.")
DUPLICATE = _("You just posted that.")
SLOW_MODE = _("Slow mode: one message every %(seconds)s s.")
UNIQUE_CHAT = _("Unique chat: someone said that in the last %(seconds)s s.")


def _limited(code: str, message: Promise, seconds: int | None, retry_after: int) -> ChatError:
    """A flood refusal: `message` (with the room's `seconds` where it names them), then when to
    try again, in the language of whoever reads it."""
    return ChatError(
        code,
        _("%(message)s Try again in %(retry_after)s s."),
        params={
            "message": message if seconds is None else Text(message, seconds=seconds),
            "retry_after": retry_after,
        },
        status=429,
        retry_after=retry_after,
    )


def unique_chat_key(room_id: int, text: str) -> str:
    """The room-wide claim of a text in unique-chat mode: case and runs of spaces aside."""
    normal = " ".join(text.casefold().split())
    return f"unique:{room_id}:{hashlib.blake2b(normal.encode(), digest_size=12).hexdigest()}"


def check_flood(standing: Standing, user: AnyUser, text: str, context: WriteContext) -> list[str]:
    """Rates per user and per IP (shared by every transport and, on Redis, every process), the
    same text twice within CHAT_DUPLICATE_SECONDS, the room's slow mode and unique chat: checked
    and counted together, so a post refused by one of them counts against none (one script on
    Redis). Returns the "once" claims' keys, to release if the post does not happen after all."""
    room = standing.room
    checks = [Check(f"ratelimit:message:user:{user.pk}", parse_rate(settings.CHAT_MESSAGE_RATE))]
    refusals: list[tuple[str, Promise, int | None]] = [("rate_limited", TOO_FAST, None)]
    if context.ip:
        checks.append(Check(f"ratelimit:message:ip:{context.ip}", parse_rate(settings.CHAT_MESSAGE_RATE_IP)))
        refusals.append(("rate_limited", TOO_MANY_FROM_NETWORK, None))
    duplicate = None
    if settings.CHAT_DUPLICATE_SECONDS > 0:
        digest = hashlib.blake2b(text.casefold().encode(), digest_size=12).hexdigest()
        duplicate = f"dup:{room.pk}:{user.pk}:{digest}"
        checks.append(Check(duplicate, once=settings.CHAT_DUPLICATE_SECONDS))
        refusals.append(("duplicate", DUPLICATE, None))
    if room.slow_mode_seconds and not standing.moderates:
        seconds = room.slow_mode_seconds
        checks.append(Check(f"ratelimit:slow:{room.pk}:{user.pk}:{seconds}", Rate(1, seconds)))
        refusals.append(("slow_mode", SLOW_MODE, seconds))
    claims = [duplicate] if duplicate is not None else []
    if room.unique_chat and not standing.moderates:
        seconds = room.unique_chat_seconds
        claims.append(unique_chat_key(room.pk, text))
        checks.append(Check(claims[-1], once=seconds))
        refusals.append(("unique_chat", UNIQUE_CHAT, seconds))
    refused = claim(checks)
    if refused is not None:
        index, retry_after = refused
        code, message, named_seconds = refusals[index]
        raise _limited(code, message, named_seconds, retry_after)
    return claims


def publish_content(
    standing: Standing,
    user: AnyUser,
    kind: EventKind,
    text: str,
    context: WriteContext,
    data: dict[str, Any] | None = None,
    video_ms: int | None = None,
) -> Posted:
    """Gates 3 and 4 for validated content, then append it (or hold it for review). A post that
    is refused by gate 4 or fails to be written (here, or when its batch rolls back) releases its
    duplicate check, so sending the same text again is not refused as already posted."""
    claims = check_flood(standing, user, text, context)
    room = standing.room
    if standing.role is not None:
        # The author's badge, as of this post (docs/PROTOCOL.md: `user.role`).
        data = {**(data or {}), USER_ROLE_KEY: standing.role}
    try:
        reason = hold_reason(standing, user, text)
        if reason is not None:
            assert isinstance(user, User)
            release_at = None
            if reason == HeldMessage.Reason.DELAYED:
                check_delay_room(room, user.pk)
                release_at = release_time(room)
            held = HeldMessage.objects.create(
                room=room,
                user=user,
                kind=kind,
                text=text,
                data=data or {},
                video_ms=video_ms,
                reason=reason,
                release_at=release_at,
            )
            if release_at is not None:
                transaction.on_commit(functools.partial(notify_release, release_at))
            posted = Posted(held=held)
        else:
            posted = Posted(
                event=append_event(room, kind, user=user, text=text, data=data, video_ms=video_ms)
            )
    except BaseException:
        for key in claims:
            release(key)
        raise
    for key in claims:
        on_rollback(functools.partial(release, key))
    if posted.event is not None:
        transaction.on_commit(functools.partial(count_minute, room.pk))
    return posted


# How much of a replied-to message a reply quotes (characters).
REPLY_EXCERPT_CHARS = 80
_ID_MAX = 2**63 - 1


def reply_parent(room: Room, reply_to: object) -> dict[str, Any]:
    """The `reply_to` field of a reply to message `reply_to` (its id): {id, seq, user, excerpt},
    computed once, when the reply is posted. ChatError `bad_reply` unless the parent is a
    message of this room that everyone can still see (not deleted, not cleared)."""
    if isinstance(reply_to, bool) or not isinstance(reply_to, int) or not 0 < reply_to <= _ID_MAX:
        raise ChatError(
            "bad_reply", _("reply_to must be the id of a message in this room."), field="reply_to"
        )
    parent = (
        RoomEvent.objects.filter(pk=reply_to, room_id=room.pk, kind=EventKind.MESSAGE, deleted_at=None)
        .only("pk", "seq", "user_id", "user_name", "text")
        .first()
    )
    if parent is None:
        raise ChatError(
            "bad_reply", _("The message you reply to is not in this room, or was removed."), field="reply_to"
        )
    excerpt = parent.text
    if len(excerpt) > REPLY_EXCERPT_CHARS:
        excerpt = excerpt[: REPLY_EXCERPT_CHARS - 1].rstrip() + "…"
    user = {"id": parent.user_id, "name": parent.user_name} if parent.user_id else None
    return {"id": parent.pk, "seq": parent.seq, "user": user, "excerpt": excerpt}


def post_message(
    room: Room, user: AnyUser, text: object, context: WriteContext | None = None, reply_to: object = None
) -> Posted:
    """Validate and append (or hold) a chat message, a reply to message `reply_to` if given;
    raises ChatError with a stable code."""
    standing = check_may_post(room, user)
    cleaned = clean_text(text)
    data = {"reply_to": reply_parent(room, reply_to)} if reply_to is not None else None
    return publish_content(standing, user, EventKind.MESSAGE, cleaned, context or WriteContext(), data=data)


def submit_message(room: Room, user: AnyUser, frame: dict[str, object], context: WriteContext) -> Posted:
    """A `{"type": "message", "text": ..., "reply_to"?: <message id>}` frame from any transport."""
    if "text" not in frame:
        raise ChatError("invalid", _("A message needs text."))
    return post_message(room, user, frame["text"], context, frame.get("reply_to"))


register_writer("message", submit_message)
