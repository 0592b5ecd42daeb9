"""What clients send, checked: integers from query strings and headers, JSON objects, nonces.
One parser for every transport and page."""

from __future__ import annotations

import json
import math
from typing import Any, TypeGuard

from django.utils.translation import gettext_lazy as _

from chat.errors import ChatError

SEQ_MAX = 2**62  # far beyond any room's log; keeps absurd values out of queries
# The largest integer a JavaScript number holds exactly (Number.MAX_SAFE_INTEGER is one less):
# what browsers send and read back as numbers (nonces, positions in a video).
JS_SAFE_INTEGER_LIMIT = 2**53
_DIGITS_MAX = 19


def is_number(value: object) -> TypeGuard[int | float]:
    """A finite JSON number (not a bool). `math.isfinite` alone overflows on a huge integer
    such as 10**400, which JSON allows; integers are always finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


def parse_int(raw: str | None, name: str, *, low: int, high: int) -> int | None:
    """`raw` as an integer within [low, high]; None when absent or empty; ChatError("invalid")."""
    if raw is None or raw == "":
        return None
    digits = raw[1:] if raw.startswith("-") else raw
    if not digits.isascii() or not digits.isdigit() or len(digits) > _DIGITS_MAX:
        raise ChatError("invalid", _("%(name)s must be an integer."), params={"name": name})
    value = int(raw)
    if not low <= value <= high:
        raise ChatError(
            "invalid",
            _("%(name)s must be between %(low)s and %(high)s."),
            params={"name": name, "low": low, "high": high},
        )
    return value


def parse_cursor(raw: str | None, name: str = "after") -> int | None:
    """A client's cursor: the last seq it has, a non-negative integer, or None."""
    return parse_int(raw, name, low=0, high=SEQ_MAX)


EPOCH_MAX_CHARS = 32


def parse_epoch(raw: str | None) -> str | None:
    """`?epoch=E`: the log epoch the client's cursor counts in (docs/PROTOCOL.md), or None."""
    if raw is None or raw == "":
        return None
    if len(raw) > EPOCH_MAX_CHARS or not raw.isascii() or not raw.isalnum():
        raise ChatError(
            "invalid",
            _("epoch must be at most %(epoch_max_chars)s letters and digits."),
            params={"epoch_max_chars": EPOCH_MAX_CHARS},
        )
    return raw


MAX_RATE_MAX = 1000


def parse_max_rate(raw: str | None) -> int | None:
    """`?max_rate=K`: at most K danmaku a second for this viewer (docs/PROTOCOL.md)."""
    return parse_int(raw, "max_rate", low=1, high=MAX_RATE_MAX)


NONCE_MAX_CHARS = 100


def clean_nonce(value: object) -> str | int | None:
    """A client's nonce, echoed in the answer: a short string or a safe integer."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= NONCE_MAX_CHARS and _encodable(value):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < JS_SAFE_INTEGER_LIMIT:
        return value
    raise ChatError(
        "invalid",
        _("nonce must be a string of at most %(nonce_max_chars)s characters or an integer."),
        params={"nonce_max_chars": NONCE_MAX_CHARS},
    )


def _encodable(text: str) -> bool:
    """False for text with a lone surrogate: valid JSON can carry "\\ud800", UTF-8 cannot, so
    echoing it back would fail the frame that answers it."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def parse_json_object(raw: str | bytes) -> dict[str, Any]:
    """A client frame or body: a JSON object, or ChatError("invalid")."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser allows
        raise ChatError("invalid", _("Send a JSON object.")) from None
    if not isinstance(value, dict):
        raise ChatError("invalid", _("Send a JSON object."))
    return value
