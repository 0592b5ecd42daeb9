"""Roles, access and moderation actions: domain functions that know nothing of transports.

Every action appends a room event (so every viewer on every transport sees it at once) and an
audit entry (who, what, to whom, why). Moderation events carry no actor on the wire: their
`user` is the affected user (a `ban`'s target) or null; the actor is in the audit log.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import regex
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from .errors import ChatError, login_required
from .eventlog import append_event
from .models import (
    CONTENT_KINDS,
    AuditEntry,
    BlockedAction,
    EventKind,
    HeldMessage,
    Posting,
    Review,
    Room,
    RoomEvent,
    RoomRole,
    Sanction,
)
from .wire import format_ts

AnyUser = Any  # an authenticated user or AnonymousUser

TIMEOUT_MIN_SECONDS = 10
TIMEOUT_MAX_SECONDS = 24 * 3600
REASON_MAX_CHARS = 500
BLOCKED_WORDS_MAX = 200
BLOCKED_WORD_MAX_CHARS = 100
# The time all of a room's /regex/ blocked words may take on one message. A pattern that
# backtracks catastrophically on it (`/(a|aa)+$/` on a long run of a's) is stopped there, and the
# message counts as blocked: it waits for a moderator or is refused, as the room says.
BLOCKED_PATTERNS_BUDGET_SECS = 0.05
# The product of a pattern's counted repetitions (`x{3}`, `x{2,5}`): the matcher unrolls them, so
# `(?:a{1000}){1000}` would take a third of a second and 250 MB to compile. 1,000 keeps every
# pattern under a millisecond and a megabyte.
BLOCKED_PATTERN_MAX_REPEATS = 1000
_COUNTED_REPEAT = regex.compile(r"(?<!\\)(?:\\\\)*\{(\d*)(?:,(\d*))?\}")
SLOW_MODE_MAX_SECONDS = 3600
REVIEW_AGE_MAX_HOURS = 24 * 365

log = logging.getLogger(__name__)


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
    if overlay_key and _overlay_key_matches(room, overlay_key):
        return True
    if not user.is_authenticated:
        return False
    if is_staff(user) or is_owner(user, room):
        return True
    return RoomRole.objects.filter(room_id=room.pk, user_id=user.pk).exists()


def _overlay_key_matches(room: Room, key: str) -> bool:
    import secrets

    from django.apps import apps

    if not apps.is_installed("danmaku"):
        return False
    video_model = apps.get_model("danmaku", "RoomVideo")
    required = video_model.objects.filter(room_id=room.pk).values_list("overlay_key", flat=True).first()
    return bool(required) and secrets.compare_digest(key.encode(), str(required).encode())


def private_room() -> ChatError:
    return ChatError("private_room", "This room is private: only its members may enter.", status=403)


def require_reader(user: AnyUser, room: Room, overlay_key: str | None = None) -> None:
    if not can_read(user, room, overlay_key):
        raise private_room()


def require_moderator(user: AnyUser, room: Room) -> None:
    if not user.is_authenticated:
        raise login_required()
    if not can_moderate(user, room):
        raise ChatError("forbidden", "Only the room's moderators may do this.", status=403)


def active_sanction(room: Room, user: AnyUser) -> Sanction | None:
    """The user's ban, or else their timeout with the latest end, if any is in force."""
    now = timezone.now()
    # One query on every post; almost always an empty answer.
    sanctions = list(
        Sanction.objects.filter(room_id=room.pk, user_id=user.pk, lifted_at=None).exclude(
            kind=Sanction.Kind.TIMEOUT, until__lte=now
        )
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


# The settings columns a write reads, in the order `load_standing` assigns them.
_STANDING_FIELDS = (
    "private",
    "posting",
    "slow_mode_seconds",
    "blocked_words",
    "blocked_action",
    "review",
    "review_account_age_hours",
    "owner_id",
)


def _standing_sql() -> str:
    room, sanction, role = Room._meta.db_table, Sanction._meta.db_table, RoomRole._meta.db_table
    column = {field.attname: field.column for field in Room._meta.concrete_fields}
    columns = ", ".join(f"r.{column[name]}" for name in _STANDING_FIELDS)
    return (
        f"SELECT {columns},"
        f" EXISTS (SELECT 1 FROM {sanction} s WHERE s.room_id = r.id AND s.user_id = %s"
        f" AND s.lifted_at IS NULL AND (s.kind = %s OR s.until > %s)),"
        f" EXISTS (SELECT 1 FROM {role} m WHERE m.room_id = r.id AND m.user_id = %s AND m.role = %s),"
        f" EXISTS (SELECT 1 FROM {role} m WHERE m.room_id = r.id AND m.user_id = %s)"
        f" FROM {room} r WHERE r.id = %s"
    )


_STANDING_SQL = _standing_sql()


def load_standing(room: Room, user: AnyUser) -> Standing:
    """One statement on every post, where the ORM took three (room, sanctions, roles): at
    hundreds of posts a second, building queries was most of the write path's cost."""
    user_id = user.pk if user.is_authenticated else None
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [user_id, Sanction.Kind.BAN.value, now, user_id, RoomRole.Role.MODERATOR.value, user_id, room.pk]
    with connection.cursor() as cursor:
        cursor.execute(_STANDING_SQL, params)
        row = cursor.fetchone()
    if row is None:
        raise Room.DoesNotExist(f"room {room.pk} does not exist")
    fresh = copy.copy(room)
    for name, value in zip(_STANDING_FIELDS, row, strict=False):
        setattr(fresh, name, value)
    fresh.private = bool(fresh.private)
    if isinstance(fresh.blocked_words, str | bytes):  # text on SQLite and (as Django loads jsonb) PostgreSQL
        fresh.blocked_words = json.loads(fresh.blocked_words)
    sanctioned, moderator, member = (bool(flag) for flag in row[len(_STANDING_FIELDS) :])
    moderates = is_staff(user) or is_owner(user, fresh) or moderator
    return Standing(fresh, moderates=moderates, member=member, sanctioned=sanctioned)


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
        raise ChatError("banned", "You are banned from this room.", status=403, until=None)
    if sanction is not None:
        assert sanction.until is not None
        until = format_ts(sanction.until)
        seconds = max(1, int((sanction.until - timezone.now()).total_seconds()) + 1)
        raise ChatError(
            "muted",
            f"You are timed out in this room until {until} ({seconds} s from now).",
            status=403,
            until=until,
            retry_after=seconds,
        )
    if room.posting == Posting.MODERATORS and not standing.moderates:
        raise ChatError("moderators_only", "Only moderators may post in this room.", status=403)
    return standing


# Blocked words and review.


def blocked_word(room: Room, text: str) -> str | None:
    """The first of the room's blocked words or /regexes/ the text contains, or None. A text the
    patterns cannot be checked against within BLOCKED_PATTERNS_BUDGET_SECS counts as containing
    the pattern that ran out of time (a warning names the room and the pattern)."""
    folded = text.casefold()
    deadline = time.monotonic() + BLOCKED_PATTERNS_BUDGET_SECS
    for entry in room.blocked_words or []:
        if not isinstance(entry, str) or not entry:
            continue
        if not is_pattern(entry):
            if entry.casefold() in folded:
                return entry
            continue
        if repeats(entry[1:-1]) > BLOCKED_PATTERN_MAX_REPEATS:
            continue  # saved before the limit (it is refused now): too costly to compile here
        try:
            found = _matches(entry[1:-1], text, deadline)
        except regex.error:
            continue  # saved before it was checked; it matches nothing
        except TimeoutError:
            log.warning(
                "room %s: blocked word %r took over %.0f ms on a %d-character message; "
                "the message counts as blocked",
                room.slug,
                entry,
                BLOCKED_PATTERNS_BUDGET_SECS * 1000,
                len(text),
            )
            return entry
        if found:
            return entry
    return None


def _matches(pattern: str, text: str, deadline: float) -> bool:
    """Whether the /pattern/ (case-insensitive) occurs in `text`; TimeoutError past `deadline`
    (a time.monotonic() value)."""
    timeout = max(deadline - time.monotonic(), 0.001)
    return regex.search(pattern, text, regex.IGNORECASE, timeout=timeout) is not None


@functools.lru_cache(maxsize=1024)  # asked for every pattern of a room on every message
def repeats(pattern: str) -> int:
    """The product of the pattern's counted repetitions (the larger bound of each `{m,n}`), an
    upper bound on how many times the matcher unrolls any part of it."""
    product = 1
    for match in _COUNTED_REPEAT.finditer(pattern):
        bounds = [int(bound) for bound in match.groups() if bound]
        product *= max(bounds, default=1)
        if product > BLOCKED_PATTERN_MAX_REPEATS:
            break
    return product


def is_pattern(entry: str) -> bool:
    """Whether a blocked word or filter keyword is a /regular expression/."""
    return len(entry) > 2 and entry.startswith("/") and entry.endswith("/")


def hold_reason(standing: Standing, user: AnyUser, text: str) -> str | None:
    """Why a message must wait for a moderator (None: publish it now). Raises `blocked`."""
    room = standing.room
    if not room.blocked_words and room.review == Review.OFF:
        return None  # the usual case
    if standing.moderates:
        return None
    if blocked_word(room, text) is not None:
        if room.blocked_action == BlockedAction.HOLD:
            return HeldMessage.Reason.BLOCKED_WORD
        raise ChatError("blocked", "This room does not allow that message.", status=400)
    if room.review == Review.ALL:
        return HeldMessage.Reason.REVIEW_ALL
    if room.review == Review.NEW_ACCOUNTS:
        joined: datetime | None = getattr(user, "date_joined", None)
        if joined is None or joined > timezone.now() - timedelta(hours=room.review_account_age_hours):
            return HeldMessage.Reason.NEW_ACCOUNT
    return None


def held_to_wire(held: HeldMessage) -> dict[str, Any]:
    return {
        "id": held.pk,
        "user": {"id": held.user_id, "name": held.user.get_username()},
        "kind": held.kind,
        "text": held.text,
        "reason": held.reason,
        "created": format_ts(held.created_at),
        **held.data,
        **({"video_ms": held.video_ms} if held.kind == EventKind.DANMAKU else {}),
    }


# Audit.


def audit(
    room: Room,
    actor: AnyUser,
    action: str,
    *,
    target: User | None = None,
    event_id: int | None = None,
    reason: str = "",
    **detail: Any,
) -> AuditEntry:
    return AuditEntry.objects.create(
        room=room,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "",
        action=action,
        target_user=target,
        target_name=target.get_username() if target is not None else "",
        target_event=event_id,
        reason=reason,
        detail=detail,
    )


def audit_to_wire(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "ts": format_ts(entry.created_at),
        "actor": entry.actor_name or None,
        "action": entry.action,
        "target": entry.target_name or None,
        "target_event": entry.target_event,
        "reason": entry.reason,
        "detail": entry.detail,
    }


# Field cleaning for the moderation API.


def clean_reason(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ChatError("invalid", "reason must be a string.", field="reason")
    from .text import clean_text

    if not value.strip():
        return ""
    return clean_text(value, max_chars=REASON_MAX_CHARS)


def find_user(name: object) -> User:
    if not isinstance(name, str) or not name or len(name) > 150 or "\x00" in name:
        raise ChatError("invalid", "user must be a user name.", field="user")
    user = User.objects.filter(username=name).first()
    if user is None:
        raise ChatError("not_found", f"There is no user {name!r}.", status=404, field="user")
    return user


def _event_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**62:
        raise ChatError("invalid", "id must be the id of a message or comment.", field="id")
    return value


# Actions.


def delete_event(room: Room, actor: AnyUser, event_id: object, reason: object = None) -> RoomEvent:
    """Delete a message or a danmaku comment: it keeps its seq but loses its content everywhere
    (history, time-window and export APIs), and a `delete` event tells every live viewer."""
    require_moderator(actor, room)
    target_id = _event_id(event_id)
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


def sanction_user(room: Room, actor: AnyUser, name: object, seconds: object, reason: object) -> RoomEvent:
    """Time out (`seconds` 10 s .. 24 h) or, with seconds None, ban a user from posting here."""
    require_moderator(actor, room)
    target = find_user(name)
    why = clean_reason(reason)
    if seconds is not None and (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not TIMEOUT_MIN_SECONDS <= seconds <= TIMEOUT_MAX_SECONDS
    ):
        raise ChatError(
            "invalid",
            f"seconds must be a whole number from {TIMEOUT_MIN_SECONDS} to {TIMEOUT_MAX_SECONDS}.",
            field="seconds",
        )
    if can_moderate(target, room):
        raise ChatError("forbidden", "Moderators cannot be timed out or banned here.", status=403)
    kind = Sanction.Kind.BAN if seconds is None else Sanction.Kind.TIMEOUT
    until = None if seconds is None else timezone.now() + timedelta(seconds=seconds)
    with transaction.atomic():
        Sanction.objects.create(room=room, user=target, kind=kind, until=until, reason=why, created_by=actor)
        wire_until = format_ts(until) if until is not None else None
        event = append_event(
            room,
            EventKind.BAN,
            user=target,
            data={"sanction": str(kind), "until": wire_until, "reason": why},
        )
        audit(room, actor, str(kind), target=target, reason=why, until=wire_until, seconds=seconds)
    return event


def lift_sanctions(room: Room, actor: AnyUser, name: object, reason: object = None) -> RoomEvent:
    """Lift a user's timeout and ban in this room."""
    require_moderator(actor, room)
    target = find_user(name)
    why = clean_reason(reason)
    with transaction.atomic():
        lifted = Sanction.objects.filter(room_id=room.pk, user=target, lifted_at=None).update(
            lifted_at=timezone.now()
        )
        if not lifted:
            raise ChatError(
                "not_found", f"{target.get_username()} is not timed out or banned here.", status=404
            )
        event = append_event(room, EventKind.UNBAN, user=target)
        audit(room, actor, "unban", target=target, reason=why)
    return event


PUBLIC_SETTINGS = ("private", "posting", "slow_mode_seconds")
ALL_SETTINGS = (
    *PUBLIC_SETTINGS,
    "blocked_words",
    "blocked_action",
    "review",
    "review_account_age_hours",
)


def room_settings(room: Room) -> dict[str, Any]:
    return {name: getattr(room, name) for name in ALL_SETTINGS}


def _int_setting(value: object, name: str, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise ChatError("invalid", f"{name} must be a whole number from 0 to {high}.", field=name)
    return value


def _choice_setting(value: object, name: str, choices: list[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ChatError("invalid", f"{name} must be one of: {', '.join(choices)}.", field=name)
    return value


def _blocked_words(value: object) -> list[str]:
    if not isinstance(value, list) or len(value) > BLOCKED_WORDS_MAX:
        raise ChatError(
            "invalid", f"blocked_words must be a list of at most {BLOCKED_WORDS_MAX}.", field="blocked_words"
        )
    words: list[str] = []
    for item in value:
        # No NUL: PostgreSQL's jsonb cannot store one.
        if not isinstance(item, str) or len(item.strip()) > BLOCKED_WORD_MAX_CHARS or "\x00" in item:
            raise ChatError(
                "invalid",
                f"each blocked word is at most {BLOCKED_WORD_MAX_CHARS} characters.",
                field="blocked_words",
            )
        word = item.strip()
        if not word or word in words:
            continue
        if is_pattern(word):
            if repeats(word[1:-1]) > BLOCKED_PATTERN_MAX_REPEATS:
                raise ChatError(
                    "invalid",
                    f"{word} repeats too much: its counted repetitions ({{n}}, {{m,n}}) multiply to "
                    f"more than {BLOCKED_PATTERN_MAX_REPEATS}.",
                    field="blocked_words",
                )
            try:
                regex.compile(word[1:-1])
            except regex.error as error:
                raise ChatError(
                    "invalid", f"{word} is not a valid regular expression: {error}.", field="blocked_words"
                ) from None
            if backtracks(word[1:-1]):
                raise ChatError(
                    "invalid",
                    f"{word} takes too long on some messages (a repeated group inside a repetition, "
                    "such as (a|aa)+ or (x+)+); write it so that each character can match one way.",
                    field="blocked_words",
                )
        words.append(word)
    return words


def backtracks(pattern: str) -> bool:
    """Whether `pattern` runs out of the per-message budget on a probe: a long run of one of its
    own characters (or a letter, a digit, a space, a punctuation mark) and then a character
    that matches nothing, the input on which nested repetitions backtrack without end. A
    heuristic that catches the usual mistakes when a moderator saves a pattern; the budget in
    `blocked_word` is what guarantees the write path, for whatever it misses."""
    characters = sorted({c for c in pattern if c.isprintable()} | set("a0 -."))
    deadline = time.monotonic() + BLOCKED_PATTERNS_BUDGET_SECS
    try:
        for character in characters:
            _matches(pattern, character * 300 + "\x01", deadline)
    except TimeoutError:
        return True
    return False


def clean_settings(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(ALL_SETTINGS))
    if unknown:
        raise ChatError("invalid", f"unknown settings: {', '.join(unknown)}.", field=unknown[0])
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "private":
            if not isinstance(value, bool):
                raise ChatError("invalid", "private must be true or false.", field=name)
            cleaned[name] = value
        elif name == "posting":
            cleaned[name] = _choice_setting(value, name, list(Posting.values))
        elif name == "blocked_action":
            cleaned[name] = _choice_setting(value, name, list(BlockedAction.values))
        elif name == "review":
            cleaned[name] = _choice_setting(value, name, list(Review.values))
        elif name == "slow_mode_seconds":
            cleaned[name] = _int_setting(value, name, SLOW_MODE_MAX_SECONDS)
        elif name == "review_account_age_hours":
            cleaned[name] = _int_setting(value, name, REVIEW_AGE_MAX_HOURS)
        else:
            cleaned[name] = _blocked_words(value)
    return cleaned


def update_settings(room: Room, actor: AnyUser, changes: object) -> RoomEvent:
    """Change the room's moderation settings; a `settings` event tells viewers the public ones."""
    require_moderator(actor, room)
    if not isinstance(changes, dict) or not changes:
        raise ChatError("invalid", "Send the settings to change as a JSON object.")
    cleaned = clean_settings(changes)
    with transaction.atomic():
        fresh = Room.objects.select_for_update().get(pk=room.pk)
        before = room_settings(fresh)
        for name, value in cleaned.items():
            setattr(fresh, name, value)
        fresh.save(update_fields=list(cleaned))
        for name, value in cleaned.items():
            setattr(room, name, value)
        public = {name: getattr(fresh, name) for name in PUBLIC_SETTINGS}
        event = append_event(room, EventKind.SETTINGS, data={"settings": public})
        changed = {name: value for name, value in cleaned.items() if before[name] != value}
        audit(room, actor, "settings", event_id=event.pk, changed=changed)
    return event


def set_role(room: Room, actor: AnyUser, role: str, changes: object) -> dict[str, Any]:
    """`{"add": name}` or `{"remove": name}` for moderators (owner/staff) or members."""
    require_moderator(actor, room)
    if role == RoomRole.Role.MODERATOR and not can_appoint(actor, room):
        raise ChatError("forbidden", "Only the room's owner appoints moderators.", status=403)
    if role == RoomRole.Role.MEMBER and not can_moderate(actor, room):
        raise ChatError("forbidden", "Only the room's moderators invite members.", status=403)
    if not isinstance(changes, dict) or len(changes) != 1 or next(iter(changes)) not in {"add", "remove"}:
        raise ChatError("invalid", 'Send {"add": name} or {"remove": name}.')
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


def room_state(room: Room) -> dict[str, Any]:
    roles = RoomRole.objects.filter(room_id=room.pk).select_related("user").order_by("user__username")
    now = timezone.now()
    sanctions = (
        Sanction.objects.filter(room_id=room.pk, lifted_at=None)
        .exclude(kind=Sanction.Kind.TIMEOUT, until__lte=now)
        .select_related("user")
        .order_by("-created_at")
    )
    return {
        "settings": room_settings(room),
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


def decide_held(room: Room, actor: AnyUser, held_id: int, approve: object) -> RoomEvent | None:
    """Approve (publish now, with a new seq) or reject a held message."""
    require_moderator(actor, room)
    if not isinstance(approve, bool):
        raise ChatError("invalid", "approve must be true or false.", field="approve")
    with transaction.atomic():
        held = HeldMessage.objects.select_related("user").filter(room_id=room.pk, pk=held_id).first()
        if held is None:
            raise ChatError("not_found", f"There is no held message {held_id} in this room.", status=404)
        decided = HeldMessage.objects.filter(pk=held.pk, decision=HeldMessage.Decision.PENDING).update(
            decision=HeldMessage.Decision.APPROVED if approve else HeldMessage.Decision.REJECTED,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        if not decided:
            raise ChatError("already_decided", "Another moderator has already decided.", status=409)
        event = None
        if approve:
            event = append_event(
                room,
                EventKind(held.kind),
                user=held.user,
                text=held.text,
                data=held.data,
                video_ms=held.video_ms,
            )
            HeldMessage.objects.filter(pk=held.pk).update(event=event)
        audit(
            room,
            actor,
            "approve" if approve else "reject",
            target=held.user,
            event_id=event.pk if event is not None else None,
            text=held.text[:200],
            reason_held=held.reason,
        )
    return event
