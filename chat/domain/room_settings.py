"""A room's moderation settings: which there are, their checks, and changing them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from chat.errors import ChatError
from chat.models import BlockedAction, EventKind, Posting, RemovedDisplay, Review, Room, RoomEvent
from chat.types import AnyUser

from .access import require_moderator
from .audit import audit
from .blocked_words import clean_blocked_words
from .eventlog import append_event

SLOW_MODE_MAX_SECONDS = 3600
UNIQUE_CHAT_MAX_SECONDS = 3600
CHAT_DELAY_MAX_SECONDS = 60  # a delay longer than a minute is a review queue (moderation/delay.py)
REVIEW_AGE_MAX_HOURS = 24 * 365

PUBLIC_SETTINGS = (
    "private",
    "posting",
    "slow_mode_seconds",
    "removed_display",
    "unique_chat",
    "unique_chat_seconds",
    "chat_delay_seconds",
)
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
        raise ChatError(
            "invalid",
            _("%(name)s must be a whole number from 0 to %(high)s."),
            params={"name": name, "high": high},
            field=name,
        )
    return value


def _choice_setting(value: object, name: str, choices: list[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ChatError(
            "invalid",
            _("%(name)s must be one of: %(choices)s."),
            params={"name": name, "choices": ", ".join(choices)},
            field=name,
        )
    return value


def clean_settings(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(ALL_SETTINGS))
    if unknown:
        raise ChatError(
            "invalid",
            _("unknown settings: %(names)s."),
            params={"names": ", ".join(unknown)},
            field=unknown[0],
        )
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name in ("private", "unique_chat"):
            if not isinstance(value, bool):
                raise ChatError(
                    "invalid", _("%(name)s must be true or false."), params={"name": name}, field=name
                )
            cleaned[name] = value
        elif name == "unique_chat_seconds":
            cleaned[name] = _int_setting(value, name, UNIQUE_CHAT_MAX_SECONDS)
            if not cleaned[name]:
                raise ChatError(
                    "invalid",
                    _("%(name)s must be from 1 to %(unique_chat_max_seconds)s."),
                    params={"name": name, "unique_chat_max_seconds": UNIQUE_CHAT_MAX_SECONDS},
                    field=name,
                )
        elif name == "posting":
            cleaned[name] = _choice_setting(value, name, list(Posting.values))
        elif name == "blocked_action":
            cleaned[name] = _choice_setting(value, name, list(BlockedAction.values))
        elif name == "removed_display":
            cleaned[name] = _choice_setting(value, name, list(RemovedDisplay.values))
        elif name == "review":
            cleaned[name] = _choice_setting(value, name, list(Review.values))
        elif name == "chat_delay_seconds":
            cleaned[name] = _int_setting(value, name, CHAT_DELAY_MAX_SECONDS)
        elif name == "slow_mode_seconds":
            cleaned[name] = _int_setting(value, name, SLOW_MODE_MAX_SECONDS)
        elif name == "review_account_age_hours":
            cleaned[name] = _int_setting(value, name, REVIEW_AGE_MAX_HOURS)
        else:
            cleaned[name] = clean_blocked_words(value)
    return cleaned


def update_settings(room: Room, actor: AnyUser, changes: object) -> RoomEvent:
    """Change the room's moderation settings; a `settings` event tells viewers the public ones."""
    require_moderator(actor, room)
    if not isinstance(changes, dict) or not changes:
        raise ChatError("invalid", _("Send the settings to change as a JSON object."))
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
