"""Timeouts and bans: a user may not post in the room until the sanction ends or is lifted."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.domain.access import can_moderate, require_moderator
from chat.domain.audit import audit
from chat.domain.eventlog import append_event
from chat.domain.wire import format_ts
from chat.errors import ChatError
from chat.models import EventKind, Room, RoomEvent, Sanction
from chat.types import AnyUser

from .fields import clean_reason, find_user
from .pins import unpin_removed
from .removal import leaves_placeholder, remove_recent
from .reports import resolve_removed

TIMEOUT_MIN_SECONDS = 10
TIMEOUT_MAX_SECONDS = 24 * 3600


def sanction_user(
    room: Room, actor: AnyUser, name: object, seconds: object, reason: object, purge: object = False
) -> RoomEvent:
    """Time out (`seconds` 10 s .. 24 h) or, with seconds None, ban a user from posting here.
    With `purge`, the same event also removes the user's recent messages and lists them."""
    require_moderator(actor, room)
    if not isinstance(purge, bool):
        raise ChatError("invalid", _("purge must be true or false."), field="purge")
    target = find_user(name)
    why = clean_reason(reason)
    if seconds is not None and (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not TIMEOUT_MIN_SECONDS <= seconds <= TIMEOUT_MAX_SECONDS
    ):
        raise ChatError(
            "invalid",
            _("seconds must be a whole number from %(timeout_min_seconds)s to %(timeout_max_seconds)s."),
            params={"timeout_min_seconds": TIMEOUT_MIN_SECONDS, "timeout_max_seconds": TIMEOUT_MAX_SECONDS},
            field="seconds",
        )
    if can_moderate(target, room):
        raise ChatError("forbidden", _("Moderators cannot be timed out or banned here."), status=403)
    kind = Sanction.Kind.BAN if seconds is None else Sanction.Kind.TIMEOUT
    until = None if seconds is None else timezone.now() + timedelta(seconds=seconds)
    with transaction.atomic():
        moderator = actor if isinstance(actor, User) else None
        Sanction.objects.create(
            room=room, user=target, kind=kind, until=until, reason=why, created_by=moderator
        )
        wire_until = format_ts(until) if until is not None else None
        data: dict[str, object] = {"sanction": str(kind), "until": wire_until, "reason": why}
        removed: list[dict[str, int]] = []
        if purge:
            removed = remove_recent(room, target)
            data.update(removed=removed, placeholder=leaves_placeholder(room))
        event = append_event(room, EventKind.BAN, user=target, data=data)
        if removed:
            unpin_removed(room, event_ids=[entry["id"] for entry in removed])
            resolve_removed(room, [entry["id"] for entry in removed])
        if kind == Sanction.Kind.BAN:
            unpin_removed(room, author_id=target.pk)
        audit(
            room,
            actor,
            str(kind),
            target=target,
            reason=why,
            until=wire_until,
            seconds=seconds,
            removed=len(removed),
        )
    return event


def lift_sanctions(room: Room, actor: AnyUser, name: object, reason: object = None) -> RoomEvent:
    """Lift a user's timeout and ban in this room."""
    require_moderator(actor, room)
    target = find_user(name)
    why = clean_reason(reason)
    with transaction.atomic():
        lifted = Sanction.objects.filter(
            room_id=room.pk, user=target, lifted_at=None, kind__in=(Sanction.Kind.BAN, Sanction.Kind.TIMEOUT)
        ).update(lifted_at=timezone.now())
        if not lifted:
            raise ChatError(
                "not_found",
                _("%(user)s is not timed out or banned here."),
                params={"user": target.get_username()},
                status=404,
            )
        event = append_event(room, EventKind.UNBAN, user=target)
        audit(room, actor, "unban", target=target, reason=why)
    return event


def hide_user(room: Room, actor: AnyUser, name: object, reason: object = None) -> None:
    """Hide a user (YouTube's hide): from now on their messages and comments are kept like held
    ones, echoed to them and listed for moderators, never published. No room event: silent."""
    require_moderator(actor, room)
    target = find_user(name)
    why = clean_reason(reason)
    if can_moderate(target, room):
        raise ChatError("forbidden", _("Moderators cannot be hidden here."), status=403)
    with transaction.atomic():
        if Sanction.objects.filter(
            room_id=room.pk, user=target, kind=Sanction.Kind.HIDE, lifted_at=None
        ).exists():
            raise ChatError(
                "already_hidden",
                _("%(user)s is hidden already."),
                params={"user": target.get_username()},
                status=409,
            )
        moderator = actor if isinstance(actor, User) else None
        Sanction.objects.create(
            room=room, user=target, kind=Sanction.Kind.HIDE, reason=why, created_by=moderator
        )
        audit(room, actor, "hide", target=target, reason=why)


def unhide_user(room: Room, actor: AnyUser, name: object, reason: object = None) -> None:
    """Let a hidden user's new messages be published again (what they posted meanwhile stays in
    the review queue, where a moderator may still approve it)."""
    require_moderator(actor, room)
    target = find_user(name)
    why = clean_reason(reason)
    with transaction.atomic():
        lifted = Sanction.objects.filter(
            room_id=room.pk, user=target, kind=Sanction.Kind.HIDE, lifted_at=None
        ).update(lifted_at=timezone.now())
        if not lifted:
            raise ChatError(
                "not_found",
                _("%(user)s is not hidden here."),
                params={"user": target.get_username()},
                status=404,
            )
        audit(room, actor, "unhide", target=target, reason=why)
