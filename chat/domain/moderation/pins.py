"""The pinned message: one at a time, with an optional end, shown atop the room page and the
overlay's chat. A `pin` event carries the pin (`pinned`: the message, or null when it goes);
it also goes when the message is deleted (or cleared, or purged) and when its author is banned.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.domain.access import require_moderator
from chat.domain.audit import audit
from chat.domain.eventlog import append_event
from chat.domain.wire import event_to_wire, format_ts
from chat.errors import ChatError
from chat.models import EventKind, Room, RoomEvent
from chat.types import AnyUser

from .fields import clean_event_id, clean_reason

PIN_MIN_SECONDS = 10
PIN_MAX_SECONDS = 24 * 3600


def pin_to_wire(event: RoomEvent, until: datetime | None) -> dict[str, Any]:
    """`{"id", "seq", "user", "text", "ts", "until"}` of a pinned message."""
    wire = event_to_wire(event)
    return {
        "id": wire["id"],
        "seq": wire["seq"],
        "user": wire["user"],
        "text": wire["text"],
        "ts": wire["ts"],
        "until": format_ts(until) if until is not None else None,
    }


def current_pin(room: Room) -> dict[str, Any] | None:
    """The room's pin in force (as the history answer gives it), or None."""
    if room.pinned_event_id is None or (
        room.pinned_until is not None and room.pinned_until <= timezone.now()
    ):
        return None
    event = RoomEvent.objects.filter(pk=room.pinned_event_id, deleted_at=None).first()
    return pin_to_wire(event, room.pinned_until) if event is not None else None


def _clean_seconds(value: object) -> int | None:
    if value is None:
        return None
    in_range = isinstance(value, int) and PIN_MIN_SECONDS <= value <= PIN_MAX_SECONDS
    if isinstance(value, bool) or not isinstance(value, int) or not in_range:
        raise ChatError(
            "invalid",
            _("seconds must be a whole number from %(pin_min_seconds)s to %(pin_max_seconds)s, or null."),
            params={"pin_min_seconds": PIN_MIN_SECONDS, "pin_max_seconds": PIN_MAX_SECONDS},
            field="seconds",
        )
    return value


def pin_message(room: Room, actor: AnyUser, event_id: object, seconds: object = None) -> RoomEvent:
    """Pin a chat message (replacing any pin), for `seconds` or until unpinned."""
    require_moderator(actor, room)
    target_id = clean_event_id(event_id)
    lasts = _clean_seconds(seconds)
    with transaction.atomic():
        target = RoomEvent.objects.filter(
            room_id=room.pk, pk=target_id, kind=EventKind.MESSAGE, deleted_at=None
        ).first()
        if target is None:
            raise ChatError(
                "not_found",
                _("There is no message %(target_id)s in this room to pin."),
                params={"target_id": target_id},
                status=404,
            )
        until = timezone.now() + timedelta(seconds=lasts) if lasts is not None else None
        Room.objects.filter(pk=room.pk).update(pinned_event=target, pinned_until=until)
        event = append_event(room, EventKind.PIN, data={"pinned": pin_to_wire(target, until)})
        audit(
            room, actor, "pin", target=target.user, event_id=target.pk, text=target.text[:200], seconds=lasts
        )
    return event


def unpin_message(room: Room, actor: AnyUser, reason: object = None) -> RoomEvent:
    """Take the pin down; ChatError `not_found` when nothing is pinned."""
    require_moderator(actor, room)
    why = clean_reason(reason)
    with transaction.atomic():
        live = Q(pinned_until=None) | Q(pinned_until__gt=timezone.now())
        if not Room.objects.filter(live, pk=room.pk, pinned_event__isnull=False).update(
            pinned_event=None, pinned_until=None
        ):
            raise ChatError("not_found", _("No message is pinned in this room."), status=404)
        event = append_event(room, EventKind.PIN, data={"pinned": None})
        audit(room, actor, "unpin", event_id=event.pk, reason=why)
    return event


def unpin_removed(room: Room, *, event_ids: list[int] | None = None, author_id: int | None = None) -> None:
    """Inside a deletion, clear or ban: if the pin is one of `event_ids` (all, for None with no
    author) or by `author_id`, it goes too, with its `pin` event in the same transaction."""
    pinned = Room.objects.filter(pk=room.pk, pinned_event__isnull=False)
    if event_ids is not None:
        pinned = pinned.filter(pinned_event_id__in=event_ids)
    if author_id is not None:
        pinned = pinned.filter(pinned_event__user_id=author_id)
    if pinned.update(pinned_event=None, pinned_until=None):
        append_event(room, EventKind.PIN, data={"pinned": None})
