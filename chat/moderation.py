"""Moderation actions: domain functions that append room events, so every viewer sees them."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .errors import ChatError, login_required
from .eventlog import append_event
from .messages import AnyUser
from .models import CONTENT_KINDS, EventKind, Room, RoomEvent


def can_moderate(user: AnyUser, room: Room) -> bool:
    """Site staff moderate everywhere; a room's owner moderates it."""
    if not user.is_authenticated:
        return False
    return bool(getattr(user, "is_staff", False)) or (room.owner_id is not None and room.owner_id == user.pk)


def require_moderator(user: AnyUser, room: Room) -> None:
    if not user.is_authenticated:
        raise login_required()
    if not can_moderate(user, room):
        raise ChatError("forbidden", "Only the room's moderators may do this.", status=403)


def delete_event(room: Room, actor: AnyUser, event_id: object) -> RoomEvent:
    """Delete a message or a danmaku comment: it keeps its seq but loses its content everywhere
    (history, time-window and export APIs), and a `delete` event tells every live viewer."""
    require_moderator(actor, room)
    if isinstance(event_id, bool) or not isinstance(event_id, int) or not 0 < event_id < 2**62:
        raise ChatError("invalid", "id must be the id of a message or comment.", field="id")
    with transaction.atomic():
        target = RoomEvent.objects.filter(room_id=room.pk, pk=event_id, kind__in=CONTENT_KINDS).first()
        if target is None:
            raise ChatError("not_found", f"There is no message {event_id} in this room.", status=404)
        # The conditional update is the check: of two moderators deleting at once, one wins.
        if not RoomEvent.objects.filter(pk=target.pk, deleted_at=None).update(deleted_at=timezone.now()):
            raise ChatError("already_deleted", f"Message {event_id} is already deleted.", status=409)
        return append_event(
            room, EventKind.DELETE, user=actor, data={"target": target.pk, "target_seq": target.seq}
        )
