"""Who may do what in a room: roles, reading (private rooms, the overlay key), moderating, and
who may post at all (`check_may_post`, the first of the write gates in posting.py).
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chat.errors import ChatError, login_required, private_room
from chat.models import BotAccount, Posting, Room, RoomRole, Sanction
from chat.types import AnyUser

from .bots import note_bot
from .wire import format_ts

# Roles and access.


def is_staff(user: AnyUser) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_staff", False))


def is_owner(user: AnyUser, room: Room) -> bool:
    return bool(user.is_authenticated and room.owner_id is not None and room.owner_id == user.pk)


def has_role(user: AnyUser, room: Room, role: str) -> bool:
    if not user.is_authenticated:
        return False
    return RoomRole.objects.filter(room_id=room.pk, user_id=user.pk, role=role).exists()


def can_moderate(user: AnyUser, room: Room) -> bool:
    """Site staff moderate everywhere; a room's owner and its appointed moderators moderate it."""
    if not user.is_authenticated:
        return False
    return is_staff(user) or is_owner(user, room) or has_role(user, room, RoomRole.Role.MODERATOR)


def can_appoint(user: AnyUser, room: Room) -> bool:
    """The owner (and staff) appoint moderators and invite members."""
    return is_staff(user) or is_owner(user, room)


def can_read(user: AnyUser, room: Room, overlay_key: str | None = None) -> bool:
    """Anyone reads a public room; a private one, its members and moderators (and an overlay
    that carries the room's overlay key, for OBS which has no session)."""
    if not room.private:
        return True
    if overlay_key_matches(room, overlay_key):
        return True
    if not user.is_authenticated:
        return False
    if is_staff(user) or is_owner(user, room):
        return True
    return RoomRole.objects.filter(room_id=room.pk, user_id=user.pk).exists()


def overlay_key_matches(room: Room, key: str | None) -> bool:
    """`key` is the room's overlay key (the owner sets, rotates or clears it); none matches an
    unset key. Compared in constant time: the key is a password."""
    return bool(room.overlay_key and key) and secrets.compare_digest(
        str(key).encode(), room.overlay_key.encode()
    )


def can_open_overlay(user: AnyUser, room: Room, overlay_key: str | None) -> bool:
    """The overlay page: once the owner has set a key, only with it (whoever asks); without a
    key, whoever may read the room."""
    if room.overlay_key:
        return overlay_key_matches(room, overlay_key)
    return can_read(user, room)


def require_reader(user: AnyUser, room: Room, overlay_key: str | None = None) -> None:
    if not can_read(user, room, overlay_key):
        raise private_room()


def require_owner(user: AnyUser, room: Room, what: str | Promise | None = None) -> None:
    """The room's owner (or staff): the video and the overlay key are theirs, not moderators'.
    `what` completes the refusal ("Only the room's owner may ..."; by default "do this")."""
    if not user.is_authenticated:
        raise login_required()
    if not can_appoint(user, room):
        raise ChatError(
            "forbidden",
            _("Only the room's owner may %(what)s."),
            params={"what": _("do this") if what is None else what},
            status=403,
        )


def require_moderator(user: AnyUser, room: Room) -> None:
    if not user.is_authenticated:
        raise login_required()
    if not can_moderate(user, room):
        raise ChatError("forbidden", _("Only the room's moderators may do this."), status=403)


def active_sanction(room: Room, user: AnyUser) -> Sanction | None:
    """The user's ban, or else their timeout with the latest end, if any is in force."""
    if not user.is_authenticated:
        return None
    now = timezone.now()
    # One query on every post; almost always an empty answer.
    sanctions = list(
        Sanction.objects.filter(
            room_id=room.pk,
            user_id=user.pk,
            lifted_at=None,
            kind__in=(Sanction.Kind.BAN, Sanction.Kind.TIMEOUT),
        ).exclude(kind=Sanction.Kind.TIMEOUT, until__lte=now)
    )
    bans = [s for s in sanctions if s.kind == Sanction.Kind.BAN]
    if bans:
        return bans[0]
    return max(sanctions, key=lambda s: s.until or now, default=None)


@dataclass(frozen=True, slots=True)
class Standing:
    """What a write needs to know, read with one query (`load_standing`): the room's current
    settings (a connection's copy of the room may be hours old) and the writer's place in it."""

    room: Room
    moderates: bool  # staff, the owner or an appointed moderator
    member: bool  # any role in the room (a private room's members)
    sanctioned: bool  # a ban or a running timeout; `active_sanction` says which
    hidden: bool = False  # a moderator hid the user: their posts are kept, never published
    role: str | None = None  # "owner", "moderator" or "staff": the badge their posts carry


# The settings columns a write reads, in the order `load_standing` assigns them.
_STANDING_FIELDS = (
    "private",
    "posting",
    "slow_mode_seconds",
    "blocked_words",
    "blocked_action",
    "review",
    "review_account_age_hours",
    "unique_chat",
    "unique_chat_seconds",
    "chat_delay_seconds",
    "owner_id",
)


def _standing_sql() -> str:
    room, sanction, role = Room._meta.db_table, Sanction._meta.db_table, RoomRole._meta.db_table
    bot = BotAccount._meta.db_table
    column = {field.attname: field.column for field in Room._meta.concrete_fields}
    columns = ", ".join(f"r.{column[name]}" for name in _STANDING_FIELDS)
    return (
        f"SELECT {columns},"
        f" EXISTS (SELECT 1 FROM {sanction} s WHERE s.room_id = r.id AND s.user_id = %s"
        f" AND s.lifted_at IS NULL AND (s.kind = %s OR s.until > %s)),"
        f" EXISTS (SELECT 1 FROM {sanction} h WHERE h.room_id = r.id AND h.user_id = %s"
        f" AND h.lifted_at IS NULL AND h.kind = %s),"
        f" EXISTS (SELECT 1 FROM {role} m WHERE m.room_id = r.id AND m.user_id = %s AND m.role = %s),"
        f" EXISTS (SELECT 1 FROM {role} m WHERE m.room_id = r.id AND m.user_id = %s),"
        f" EXISTS (SELECT 1 FROM {bot} b WHERE b.user_id = %s)"
        f" FROM {room} r WHERE r.id = %s"
    )


_STANDING_SQL = _standing_sql()


def load_standing(room: Room, user: AnyUser) -> Standing:
    """One statement on every post, where the ORM took three (room, sanctions, roles): at
    hundreds of posts a second, building queries was most of the write path's cost."""
    user_id = user.pk if user.is_authenticated else None
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [
        *(user_id, Sanction.Kind.BAN.value, now, user_id, Sanction.Kind.HIDE.value),
        *(user_id, RoomRole.Role.MODERATOR.value, user_id),
        *(user_id, room.pk),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_STANDING_SQL, params)
        row = cursor.fetchone()
    if row is None:
        raise Room.DoesNotExist(f"room {room.pk} does not exist")
    fresh = copy.copy(room)
    for name, value in zip(_STANDING_FIELDS, row, strict=False):
        setattr(fresh, name, value)
    fresh.private = bool(fresh.private)
    fresh.unique_chat = bool(fresh.unique_chat)
    if isinstance(fresh.blocked_words, str | bytes):  # text on SQLite and (as Django loads jsonb) PostgreSQL
        fresh.blocked_words = json.loads(fresh.blocked_words)
    sanctioned, hidden, moderator, member, bot = (bool(flag) for flag in row[len(_STANDING_FIELDS) :])
    if user.is_authenticated:
        note_bot(user, bot)  # the event this post writes says `bot` as of now
    role = None
    if is_owner(user, fresh):
        role = "owner"
    elif moderator:
        role = "moderator"
    elif is_staff(user):
        role = "staff"
    return Standing(
        fresh, moderates=role is not None, member=member, sanctioned=sanctioned, hidden=hidden, role=role
    )


def check_may_post(room: Room, user: AnyUser) -> Standing:
    """Who may write here at all: raises login_required, private_room, banned, muted or
    moderators_only. (What they write is checked by the writer, how often by the flood rules.)
    Returns the writer's standing, with the room's current settings, for the later gates."""
    if not user.is_authenticated:
        raise login_required()
    standing = load_standing(room, user)
    room = standing.room
    if room.private and not (standing.member or standing.moderates):
        raise private_room()
    sanction = active_sanction(room, user) if standing.sanctioned else None
    if sanction is not None and sanction.kind == Sanction.Kind.BAN:
        raise ChatError(
            "banned", _("You are banned from this room."), status=403, until=None, reason=sanction.reason
        )
    if sanction is not None:
        assert sanction.until is not None
        until = format_ts(sanction.until)
        seconds = max(1, int((sanction.until - timezone.now()).total_seconds()) + 1)
        raise ChatError(
            "muted",
            _("You are timed out in this room until %(until)s (%(seconds)s s from now)."),
            params={"until": until, "seconds": seconds},
            status=403,
            until=until,
            retry_after=seconds,
            reason=sanction.reason,
        )
    if room.posting == Posting.MODERATORS and not standing.moderates:
        raise ChatError("moderators_only", _("Only moderators may post in this room."), status=403)
    return standing
