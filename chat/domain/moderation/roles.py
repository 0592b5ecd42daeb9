"""A room's moderators and (private rooms) members, and the room's state as moderators see it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.domain.access import can_appoint, can_moderate, require_moderator, require_owner
from chat.domain.audit import audit
from chat.domain.eventlog import append_event
from chat.domain.room_settings import PUBLIC_SETTINGS, room_settings
from chat.domain.wire import format_ts
from chat.errors import ChatError
from chat.guards.origin import normalize_origin
from chat.models import EventKind, Room, RoomRole, Sanction, new_overlay_key
from chat.types import AnyUser

from .fields import find_user


def set_role(room: Room, actor: AnyUser, role: str, changes: object) -> dict[str, Any]:
    """`{"add": name}` or `{"remove": name}` for moderators (owner/staff) or members."""
    require_moderator(actor, room)
    if role == RoomRole.Role.MODERATOR and not can_appoint(actor, room):
        raise ChatError("forbidden", _("Only the room's owner appoints moderators."), status=403)
    if role == RoomRole.Role.MEMBER and not can_moderate(actor, room):
        raise ChatError("forbidden", _("Only the room's moderators invite members."), status=403)
    if not isinstance(changes, dict) or len(changes) != 1 or next(iter(changes)) not in {"add", "remove"}:
        raise ChatError("invalid", _('Send {"add": name} or {"remove": name}.'))
    verb, name = next(iter(changes.items()))
    target = find_user(name)
    with transaction.atomic():
        if verb == "add":
            RoomRole.objects.get_or_create(room=room, user=target, role=role)
        else:
            RoomRole.objects.filter(room=room, user=target, role=role).delete()
        audit(room, actor, f"{role}_{verb}", target=target)
        if room.private and verb == "remove":
            # Tells every process to re-check who may still read this private room.
            public = {n: getattr(room, n) for n in PUBLIC_SETTINGS}
            append_event(room, EventKind.SETTINGS, data={"settings": public})
    return room_state(room)


def set_overlay_key(room: Room, actor: AnyUser, *, rotate: bool) -> str:
    """The owner (or staff) gives the room a new overlay key (`rotate`) or clears it; returns
    the key now in force ("" for none). The old key stops working at once: in a private room, a
    `settings` event tells every process to re-check its readers, and streams opened with the old
    key end (as when a member is removed). The audit log records the change, never the key."""
    require_owner(actor, room, _("manage the overlay key"))
    with transaction.atomic():
        fresh = Room.objects.select_for_update().get(pk=room.pk)
        previous = fresh.overlay_key
        fresh.overlay_key = new_overlay_key() if rotate else ""
        fresh.save(update_fields=["overlay_key"])
        room.overlay_key = fresh.overlay_key
        audit(room, actor, "overlay_key_rotate" if rotate else "overlay_key_clear", had_key=bool(previous))
        if fresh.private and previous:
            public = {n: getattr(fresh, n) for n in PUBLIC_SETTINGS}
            append_event(room, EventKind.SETTINGS, data={"settings": public})
    return room.overlay_key


def set_embed_origin(room: Room, actor: AnyUser, origin: object) -> str:
    """The owner (or staff) names the origin of the page that embeds the room's player
    (`https://videos.example`; "" for none): it may then read the room from its pages and post
    with API tokens (docs/PROTOCOL.md "Other sites"). ChatError `invalid` for anything but an
    http(s) origin."""
    require_owner(actor, room, _("set the embedding site"))
    raw = origin.strip() if isinstance(origin, str) else origin
    normalized = "" if raw == "" else normalize_origin(raw)
    if normalized is None:
        raise ChatError(
            "invalid",
            _("Give the site as https://host or https://host:port, nothing after it."),
            field="origin",
        )
    with transaction.atomic():
        Room.objects.filter(pk=room.pk).update(embed_origin=normalized)
        room.embed_origin = normalized
        audit(room, actor, "embed_origin", origin=normalized)
    return normalized


def room_state(room: Room) -> dict[str, Any]:
    roles = RoomRole.objects.filter(room_id=room.pk).select_related("user").order_by("user__username")
    now = timezone.now()
    sanctions = (
        Sanction.objects.filter(room_id=room.pk, lifted_at=None)
        .exclude(kind=Sanction.Kind.TIMEOUT, until__lte=now)
        .exclude(kind=Sanction.Kind.HIDE)
        .select_related("user")
        .order_by("-created_at")
    )
    hidden = (
        Sanction.objects.filter(room_id=room.pk, lifted_at=None, kind=Sanction.Kind.HIDE)
        .select_related("user")
        .order_by("user__username")
    )
    return {
        "settings": room_settings(room),
        "hidden": [{"user": s.user.get_username(), "reason": s.reason} for s in hidden],
        "owner": room.owner.get_username() if room.owner is not None else None,
        "moderators": [r.user.get_username() for r in roles if r.role == RoomRole.Role.MODERATOR],
        "members": [r.user.get_username() for r in roles if r.role == RoomRole.Role.MEMBER],
        "sanctions": [
            {
                "user": s.user.get_username(),
                "kind": s.kind,
                "until": format_ts(s.until) if s.until is not None else None,
                "reason": s.reason,
            }
            for s in sanctions
        ],
    }
