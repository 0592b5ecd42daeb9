"""Removing content: one message or comment, or everything so far (clear)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.domain.access import require_moderator
from chat.domain.audit import audit
from chat.domain.eventlog import append_event
from chat.errors import ChatError
from chat.models import CONTENT_KINDS, EventKind, RemovedDisplay, Room, RoomEvent
from chat.types import AnyUser

from .fields import clean_event_id, clean_reason
from .pins import unpin_removed
from .reports import resolve_removed

# The system line a clear leaves (docs/PROTOCOL.md "Moderation you can see").
CLEARED_LINE = "The chat was cleared by a moderator."
# A purge (a timeout or ban with `purge`) removes the user's messages of the last hour, at most
# this many: what a viewer can still see of them scrolled back, and a bounded event.
PURGE_WINDOW = timedelta(hours=1)
PURGE_MAX = 200


def delete_event(room: Room, actor: AnyUser, event_id: object, reason: object = None) -> RoomEvent:
    """Delete a message or a danmaku comment: it keeps its seq but loses its content everywhere
    (history, time-window and export APIs), and a `delete` event tells every live viewer."""
    require_moderator(actor, room)
    target_id = clean_event_id(event_id)
    why = clean_reason(reason)
    with transaction.atomic():
        target = RoomEvent.objects.filter(room_id=room.pk, pk=target_id, kind__in=CONTENT_KINDS).first()
        if target is None:
            raise ChatError(
                "not_found",
                _("There is no message %(target_id)s in this room."),
                params={"target_id": target_id},
                status=404,
            )
        # The conditional update is the check: of two moderators deleting at once, one wins.
        if not RoomEvent.objects.filter(pk=target.pk, deleted_at=None).update(deleted_at=timezone.now()):
            raise ChatError(
                "already_deleted",
                _("Message %(target_id)s is already deleted."),
                params={"target_id": target_id},
                status=409,
            )
        data = {"target": target.pk, "target_seq": target.seq, "placeholder": leaves_placeholder(room)}
        event = append_event(room, EventKind.DELETE, data=data)
        unpin_removed(room, event_ids=[target.pk])
        resolve_removed(room, [target.pk])
        audit(
            room, actor, "delete", target=target.user, event_id=target.pk, reason=why, text=target.text[:200]
        )
    return event


def leaves_placeholder(room: Room) -> bool:
    """Whether a deleted message leaves "removed by a moderator" in its place (the room's
    `removed_display`, read now: the caller's copy of the room may be old)."""
    shown = Room.objects.filter(pk=room.pk).values_list("removed_display", flat=True).first()
    return shown != RemovedDisplay.VANISH


def remove_recent(room: Room, user: User) -> list[dict[str, int]]:
    """Twitch's purge: delete `user`'s messages and comments of the last PURGE_WINDOW (the
    newest PURGE_MAX of them); `[{"id", "seq"}]` of what went, for the event that says so."""
    since = timezone.now() - PURGE_WINDOW
    rows = list(
        RoomEvent.objects.filter(
            room_id=room.pk, user_id=user.pk, kind__in=CONTENT_KINDS, deleted_at=None, created_at__gte=since
        )
        .order_by("-seq")
        .values_list("pk", "seq")[:PURGE_MAX]
    )
    RoomEvent.objects.filter(pk__in=[pk for pk, _ in rows]).update(deleted_at=timezone.now())
    return [{"id": pk, "seq": seq} for pk, seq in reversed(rows)]


def clear_room(room: Room, actor: AnyUser, reason: object = None) -> RoomEvent:
    """Remove every message and comment so far; a `clear` event empties every screen, and a
    `system` line right after it says that a moderator cleared the chat."""
    require_moderator(actor, room)
    why = clean_reason(reason)
    with transaction.atomic():
        event = append_event(room, EventKind.CLEAR)
        cleared = RoomEvent.objects.filter(
            room_id=room.pk, kind__in=CONTENT_KINDS, deleted_at=None, seq__lt=event.seq
        ).update(deleted_at=timezone.now())
        Room.objects.filter(pk=room.pk).update(cleared_seq=event.seq)
        unpin_removed(room)
        resolve_removed(room)
        append_event(room, EventKind.SYSTEM, text=CLEARED_LINE, data={"cleared": event.seq})
        audit(room, actor, "clear", event_id=event.pk, reason=why, removed=cleared)
    return event
