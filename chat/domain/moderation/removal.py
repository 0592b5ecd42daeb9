"""Removing content: one message or comment, or everything so far (clear)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from chat.domain.access import require_moderator
from chat.domain.audit import audit
from chat.domain.eventlog import append_event
from chat.errors import ChatError
from chat.models import CONTENT_KINDS, EventKind, Room, RoomEvent
from chat.types import AnyUser

from .fields import clean_event_id, clean_reason


def delete_event(room: Room, actor: AnyUser, event_id: object, reason: object = None) -> RoomEvent:
    """Delete a message or a danmaku comment: it keeps its seq but loses its content everywhere
    (history, time-window and export APIs), and a `delete` event tells every live viewer."""
    require_moderator(actor, room)
    target_id = clean_event_id(event_id)
    why = clean_reason(reason)
    with transaction.atomic():
        target = RoomEvent.objects.filter(room_id=room.pk, pk=target_id, kind__in=CONTENT_KINDS).first()
        if target is None:
            raise ChatError("not_found", f"There is no message {target_id} in this room.", status=404)
        # The conditional update is the check: of two moderators deleting at once, one wins.
        if not RoomEvent.objects.filter(pk=target.pk, deleted_at=None).update(deleted_at=timezone.now()):
            raise ChatError("already_deleted", f"Message {target_id} is already deleted.", status=409)
        event = append_event(room, EventKind.DELETE, data={"target": target.pk, "target_seq": target.seq})
        audit(
            room, actor, "delete", target=target.user, event_id=target.pk, reason=why, text=target.text[:200]
        )
    return event


def clear_room(room: Room, actor: AnyUser, reason: object = None) -> RoomEvent:
    """Remove every message and comment so far; a `clear` event empties every screen."""
    require_moderator(actor, room)
    why = clean_reason(reason)
    with transaction.atomic():
        event = append_event(room, EventKind.CLEAR)
        cleared = RoomEvent.objects.filter(
            room_id=room.pk, kind__in=CONTENT_KINDS, deleted_at=None, seq__lt=event.seq
        ).update(deleted_at=timezone.now())
        audit(room, actor, "clear", event_id=event.pk, reason=why, removed=cleared)
    return event
