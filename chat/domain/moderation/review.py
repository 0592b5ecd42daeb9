"""The review queue: which posts wait for a moderator (the last write gate), and deciding them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.domain.access import Standing, require_moderator
from chat.domain.audit import audit
from chat.domain.blocked_words import contains_blocked_word
from chat.domain.eventlog import append_event
from chat.domain.wire import format_ts
from chat.errors import ChatError
from chat.models import BlockedAction, EventKind, HeldMessage, Review, Room, RoomEvent
from chat.types import AnyUser


def hold_reason(standing: Standing, user: AnyUser, text: str) -> str | None:
    """Why a message must wait for a moderator (None: publish it now). Raises `blocked`."""
    room = standing.room
    if standing.hidden and not standing.moderates:
        return HeldMessage.Reason.HIDDEN_USER
    if not room.blocked_words and room.review == Review.OFF and not room.chat_delay_seconds:
        return None  # the usual case
    if standing.moderates:
        return None
    if contains_blocked_word(room, text):
        if room.blocked_action == BlockedAction.HOLD:
            return HeldMessage.Reason.BLOCKED_WORD
        raise ChatError("blocked", _("This room does not allow that message."), status=400)
    if room.review == Review.ALL:
        return HeldMessage.Reason.REVIEW_ALL
    if room.review == Review.NEW_ACCOUNTS:
        joined: datetime | None = getattr(user, "date_joined", None)
        if joined is None or joined > timezone.now() - timedelta(hours=room.review_account_age_hours):
            return HeldMessage.Reason.NEW_ACCOUNT
    if room.chat_delay_seconds:
        return HeldMessage.Reason.DELAYED  # published by the release loop (delay.py)
    return None


def held_to_wire(held: HeldMessage) -> dict[str, Any]:
    """A held message as the review queue lists it (its user selected with `bot_account`)."""
    user: dict[str, Any] = {"id": held.user_id, "name": held.user.get_username()}
    if hasattr(held.user, "bot_account"):
        user["bot"] = True
    return {
        "id": held.pk,
        "user": user,
        "kind": held.kind,
        "text": held.text,
        "reason": held.reason,
        "created": format_ts(held.created_at),
        **({"release_at": format_ts(held.release_at)} if held.release_at is not None else {}),
        **held.data,
        **({"video_ms": held.video_ms} if held.kind == EventKind.DANMAKU else {}),
    }


def decide_held(room: Room, actor: AnyUser, held_id: int, approve: object) -> RoomEvent:
    """Approve (publish now, with a new seq) or reject (a `review` event) a held message."""
    require_moderator(actor, room)
    if not isinstance(approve, bool):
        raise ChatError("invalid", _("approve must be true or false."), field="approve")
    with transaction.atomic():
        held = HeldMessage.objects.select_related("user").filter(room_id=room.pk, pk=held_id).first()
        if held is None:
            raise ChatError(
                "not_found",
                _("There is no held message %(held_id)s in this room."),
                params={"held_id": held_id},
                status=404,
            )
        decided = HeldMessage.objects.filter(pk=held.pk, decision=HeldMessage.Decision.PENDING).update(
            decision=HeldMessage.Decision.APPROVED if approve else HeldMessage.Decision.REJECTED,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        if not decided:
            raise ChatError("already_decided", _("Another moderator has already decided."), status=409)
        if approve:
            # `held_id`: its author's page puts it where it showed the message as pending.
            event = append_event(
                room,
                EventKind(held.kind),
                user=held.user,
                text=held.text,
                data={**held.data, "held_id": held.pk},
                video_ms=held.video_ms,
            )
            HeldMessage.objects.filter(pk=held.pk).update(event=event)
        else:
            # Only the held id, which only its author was given (in the ack): the author's page
            # says "rejected", and no one else learns whose message or what it said.
            event = append_event(room, EventKind.REVIEW, data={"held_id": held.pk, "decision": "rejected"})
        audit(
            room,
            actor,
            "approve" if approve else "reject",
            target=held.user,
            event_id=event.pk,
            text=held.text[:200],
            reason_held=held.reason,
        )
    return event
