"""Viewer settings (saved per user) and overlay options (from the overlay URL): validated here."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from chat.domain.blocked_words import is_pattern, pattern_problem
from chat.domain.inputs import is_number
from chat.errors import ChatError, Text

AREAS = (0.25, 0.5, 0.75, 1.0)
# A viewer's saved speed and scale, and the overlay's ?speed= and ?scale=, share their ranges, as
# do the browser's renderer and settings panel (static/js/danmaku/viewer-settings.js RANGES).
SPEED_RANGE = (0.25, 4.0)
SCALE_RANGE = (0.25, 4.0)
HIDEABLE_MODES = ("scroll", "top", "bottom", "reverse", "color")
BLOCK_LIST_MAX = 200
BLOCK_ENTRY_MAX_CHARS = 100


def _invalid(message: Text, key: str) -> ChatError:
    return ChatError("invalid_settings", message, field=key)


def _number(value: object, key: str, low: float, high: float) -> float:
    if not is_number(value):
        raise _invalid(Text(_("%(key)s must be a number."), key=key), key)
    if not low <= value <= high:
        raise _invalid(
            Text(
                _("%(key)s must be between %(low)s and %(high)s."),
                key=key,
                low=format(low, "g"),
                high=format(high, "g"),
            ),
            key,
        )
    return float(value)


def _area(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value not in AREAS:
        raise _invalid(Text(_("%(key)s must be one of 0.25, 0.5, 0.75, 1."), key=key), key)
    return float(value)


def _strings(value: object, key: str) -> list[str]:
    if not isinstance(value, list) or len(value) > BLOCK_LIST_MAX:
        raise _invalid(
            Text(
                _("%(key)s must be a list of at most %(block_list_max)s strings."),
                key=key,
                block_list_max=BLOCK_LIST_MAX,
            ),
            key,
        )
    cleaned: list[str] = []
    for item in value:
        # No NUL: PostgreSQL's jsonb cannot store it (a 500 there, not a refusal).
        if (
            not isinstance(item, str)
            or not item.strip()
            or len(item) > BLOCK_ENTRY_MAX_CHARS
            or "\x00" in item
        ):
            raise _invalid(
                Text(
                    _("each of %(key)s must be 1 to %(block_entry_max_chars)s characters, without NUL."),
                    key=key,
                    block_entry_max_chars=BLOCK_ENTRY_MAX_CHARS,
                ),
                key,
            )
        if item.strip() not in cleaned:
            cleaned.append(item.strip())
    return cleaned


def _keywords(value: object, key: str) -> list[str]:
    """Keywords, each a /pattern/ only if both the server's and the browser's engines read it
    (the same rule and messages as a room's blocked words)."""
    keywords = _strings(value, key)
    for word in keywords:
        problem = pattern_problem(word) if is_pattern(word) else None
        if problem is not None:
            raise _invalid(problem, key)
    return keywords


def _modes(value: object, key: str) -> list[str]:
    if not isinstance(value, list) or any(mode not in HIDEABLE_MODES for mode in value):
        raise _invalid(
            Text(_("%(key)s must be a list of: %(choices)s."), key=key, choices=", ".join(HIDEABLE_MODES)),
            key,
        )
    return [mode for mode in HIDEABLE_MODES if mode in value]


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise _invalid(Text(_("%(key)s must be true or false."), key=key), key)
    return value


_VIEWER_FIELDS: dict[str, Any] = {
    "show": _bool,
    "opacity": lambda v, k: _number(v, k, 0.1, 1),
    "speed": lambda v, k: _number(v, k, *SPEED_RANGE),
    "scale": lambda v, k: _number(v, k, *SCALE_RANGE),
    "area": _area,
    "hidden_modes": _modes,
    "blocked_keywords": _keywords,
    "blocked_users": _strings,
    # Repeats within a few seconds show once with a count (static/js/danmaku/merge.js).
    "merge_repeats": _bool,
}


def clean_viewer_settings(value: object) -> dict[str, Any]:
    """A viewer's settings object: known keys only, each validated; ChatError("invalid_settings")."""
    if not isinstance(value, dict):
        raise ChatError("invalid_settings", _("settings must be a JSON object."))
    unknown = sorted(set(value) - set(_VIEWER_FIELDS))
    if unknown:
        raise ChatError(
            "invalid_settings",
            _("unknown settings: %(names)s."),
            params={"names": ", ".join(unknown)},
            field=unknown[0],
        )
    return {key: _VIEWER_FIELDS[key](item, key) for key, item in value.items()}


# Overlay URL options: name -> (default, parser of the raw query string value).
OVERLAY_DEFAULTS: dict[str, Any] = {
    "speed": 1.0,
    "opacity": 1.0,
    "scale": 1.0,
    "area": 1.0,
    "density": 120,
    "fps": 60,
    "chat": False,
    # The chat list (chat=1) starts with this many of the latest messages (0: only new ones).
    "history": 50,
    # Seconds every comment and message is held back, so that a moderator's delete lands
    # before the stream's audience sees it (static/js/danmaku/delay-queue.js).
    "delay": 0,
}
OVERLAY_HISTORY_MAX = 200  # the history endpoint's page (chat/domain/eventlog.py)
OVERLAY_DELAY_MAX_SECS = 600


def _query_number(raw: str, key: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ChatError("invalid", _("%(key)s must be a number."), params={"key": key}, field=key) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ChatError(
            "invalid",
            _("%(key)s must be between %(low)s and %(high)s."),
            params={"key": key, "low": format(low, "g"), "high": format(high, "g")},
            field=key,
        )
    return value


def _query_int(raw: str, key: str, low: int, high: int) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or not low <= int(raw) <= high:
        raise ChatError(
            "invalid",
            _("%(key)s must be a whole number from %(low)s to %(high)s."),
            params={"key": key, "low": low, "high": high},
            field=key,
        )
    return int(raw)


def _query_bool(raw: str, key: str) -> bool:
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ChatError("invalid", _("%(key)s must be 1 or 0."), params={"key": key}, field=key)


def _query_area(raw: str, key: str) -> float:
    value = _query_number(raw, key, 0.25, 1)
    if value not in AREAS:
        raise ChatError(
            "invalid", _("%(key)s must be one of 0.25, 0.5, 0.75, 1."), params={"key": key}, field=key
        )
    return value


_OVERLAY_PARSERS: dict[str, Any] = {
    "speed": lambda raw, k: _query_number(raw, k, *SPEED_RANGE),
    "opacity": lambda raw, k: _query_number(raw, k, 0, 1),
    "scale": lambda raw, k: _query_number(raw, k, *SCALE_RANGE),
    "area": _query_area,
    "density": lambda raw, k: _query_int(raw, k, 1, 1000),
    "fps": lambda raw, k: _query_int(raw, k, 1, 240),
    "chat": _query_bool,
    "history": lambda raw, k: _query_int(raw, k, 0, OVERLAY_HISTORY_MAX),
    "delay": lambda raw, k: _query_int(raw, k, 0, OVERLAY_DELAY_MAX_SECS),
}


def parse_overlay_options(query: Mapping[str, str]) -> dict[str, Any]:
    """The overlay's options from its URL; unknown names are ignored (OBS adds none, people may)."""
    options = dict(OVERLAY_DEFAULTS)
    for key, parse in _OVERLAY_PARSERS.items():
        raw = query.get(key)
        if raw is not None:
            options[key] = parse(raw.strip(), key)
    return options
