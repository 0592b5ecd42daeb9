"""Bilibili's positioned comments (mode 7): the payload, validated, and back.

The text of a mode 7 `<d>` element is a JSON array; its elements by index:

    0 x, 1 y          start position: pixels of the reference stage, or fractions of the stage
                      when either is not a whole number
    2 "from-to"       alpha at the start and at the end (0 to 1)
    3 duration        seconds on screen
    4 text           `/n` is a line break
    5 rotate Z, 6 rotate Y   degrees
    7 to x, 8 to y    where the motion ends
    9 motion duration in ms ("" for the player's default), 10 delay before it in ms
    11 stroke         "true"/"false" (an outline around the text)
    12 font           a font family name
    13 linear         1: constant speed, 0: eased
    14 path           "M x,y L x,y ...": a motion along points (replaces 7 and 8)

Files have payloads of any length from 5 on: what is present is kept, and the export writes the
same elements back (numbers as JSON numbers). Stored as `positioned` in the event's data
(docs/PROTOCOL.md); anything out of bounds makes the comment `malformed`.

A room's owner and moderators also post positioned comments live (`clean_fields`: the wire
form's object, the same bounds, refused with `invalid_positioned` and the field's name).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from chat.errors import ChatError

# Bounds (docs/PROTOCOL.md): a drawing's text is longer than a comment's, but finite.
POSITIONED_MAX_CHARS = 1000
POSITIONED_MAX_MS = 60_000
COORDINATE_MAX = 10_000
ROTATION_MAX = 3600
FONT_MAX_CHARS = 64
PATH_MAX_POINTS = 200
PAYLOAD_MAX_ITEMS = 15

_PATH_POINT = re.compile(r"\s*([ML])\s*(-?[0-9.]+)\s*[, ]\s*(-?[0-9.]+)\s*")


class Malformed(ValueError):
    def __init__(self) -> None:
        super().__init__("malformed")


def _number(value: object, low: float, high: float) -> int | float:
    """A finite number in [low, high] from a JSON number or a numeric string; whole ones as int."""
    if isinstance(value, bool):
        raise Malformed
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise Malformed from None
    if not isinstance(value, int | float) or not low <= value <= high or not math.isfinite(value):
        raise Malformed  # the range first: math.isfinite(10**400) raises
    return int(value) if float(value).is_integer() else float(value)


def _flag(value: object) -> bool:
    if value in (True, 1, "1", "true"):
        return True
    if value in (False, 0, "0", "false"):
        return False
    raise Malformed


def _alpha(value: object) -> list[int | float]:
    parts = value.split("-") if isinstance(value, str) else [value]
    if not 1 <= len(parts) <= 2:
        raise Malformed
    values = [_number(part, 0, 1) for part in parts]
    return values if len(values) == 2 else values * 2


def _path(value: object) -> list[list[int | float]] | None:
    if value == "":
        return None
    if not isinstance(value, str) or len(value) > PATH_MAX_POINTS * 40:
        raise Malformed
    points: list[list[int | float]] = []
    position = 0
    while position < len(value):
        step = _PATH_POINT.match(value, position)
        if step is None or (not points and step.group(1) != "M") or len(points) >= PATH_MAX_POINTS:
            raise Malformed
        points.append([_number(step.group(n), -COORDINATE_MAX, COORDINATE_MAX) for n in (2, 3)])
        position = step.end()
    if not points:
        raise Malformed
    return points


def parse_payload(raw: str) -> tuple[str, dict[str, Any]]:
    """(text, positioned fields) from a mode 7 payload; raises ValueError("malformed").
    The text keeps its `/n` line breaks as line feeds; the caller cleans it."""
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        raise Malformed from None
    if not isinstance(payload, list) or not 5 <= len(payload) <= PAYLOAD_MAX_ITEMS:
        raise Malformed
    x = _number(payload[0], -COORDINATE_MAX, COORDINATE_MAX)
    y = _number(payload[1], -COORDINATE_MAX, COORDINATE_MAX)
    duration = _number(payload[3], 0, POSITIONED_MAX_MS / 1000)
    text = payload[4]
    if not isinstance(text, str) or duration <= 0:
        raise Malformed
    fields: dict[str, Any] = {
        "x": x,
        "y": y,
        "relative": not (float(x).is_integer() and float(y).is_integer()),
        "alpha": _alpha(payload[2]),
        "duration_ms": round(duration * 1000),
    }
    present = len(payload)
    if present > 5:
        fields["rotate_z"] = _number(payload[5], -ROTATION_MAX, ROTATION_MAX)
    if present > 6:
        fields["rotate_y"] = _number(payload[6], -ROTATION_MAX, ROTATION_MAX)
    if present > 7:
        if present < 11:
            raise Malformed  # a motion's end without its timing
        motion: dict[str, Any] = {
            "x": _number(payload[7], -COORDINATE_MAX, COORDINATE_MAX),
            "y": _number(payload[8], -COORDINATE_MAX, COORDINATE_MAX),
        }
        for key, value in (("duration_ms", payload[9]), ("delay_ms", payload[10])):
            motion[key] = None if value == "" else round(_number(value, 0, POSITIONED_MAX_MS))
        fields["motion"] = motion
    if present > 11:
        fields["stroke"] = _flag(payload[11])
    if present > 12:
        font = payload[12]
        if not isinstance(font, str) or len(font) > FONT_MAX_CHARS or not font.isprintable():
            raise Malformed
        fields["font"] = font
    if present > 13:
        fields["linear"] = _flag(payload[13])
    if present > 14:
        fields["path"] = _path(payload[14])
    return text.replace("/n", "\n"), fields


def _seconds(ms: int) -> int | float:
    seconds = ms / 1000
    return int(seconds) if seconds.is_integer() else seconds


def _point(x: int | float, y: int | float) -> str:
    return f"{x},{y}"


def export_payload(text: str, fields: dict[str, Any]) -> str:
    """The JSON array a stored positioned comment came from (the same elements, `/n` breaks)."""
    alpha = fields.get("alpha") or [1, 1]
    payload: list[Any] = [
        fields.get("x", 0),
        fields.get("y", 0),
        f"{alpha[0]}-{alpha[1]}",
        _seconds(int(fields.get("duration_ms", 4000))),
        text.replace("\n", "/n"),
    ]
    motion = fields.get("motion")
    optional: list[tuple[str, Any]] = [
        ("rotate_z", fields.get("rotate_z", 0)),
        ("rotate_y", fields.get("rotate_y", 0)),
    ]
    if motion is not None:
        optional += [
            ("motion", motion["x"]),
            ("motion", motion["y"]),
            ("motion", "" if motion.get("duration_ms") is None else motion["duration_ms"]),
            ("motion", "" if motion.get("delay_ms") is None else motion["delay_ms"]),
        ]
    path = fields.get("path")
    optional += [
        ("stroke", "true" if fields.get("stroke", True) else "false"),
        ("font", fields.get("font", "")),
        ("linear", 1 if fields.get("linear") else 0),
        ("path", "" if not path else "M" + "L".join(_point(*point) for point in path)),
    ]
    # Up to the last element the file had: keys present in the stored fields say which.
    keys = [key for key, _value in optional]
    last = max((index for index, key in enumerate(keys) if key in fields), default=-1)
    payload += [value for _key, value in optional[: last + 1]]
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


# The keys a client may send in a live positioned comment's `positioned` object (no path: it
# comes from files only); `relative` is not sent, it follows from x and y as in a file.
_AUTHORED_KEYS = frozenset(
    ("x", "y", "alpha", "duration_ms", "rotate_z", "rotate_y", "motion", "stroke", "font", "linear")
)
_MOTION_KEYS = frozenset(("x", "y", "duration_ms", "delay_ms"))


def _invalid(field: str, message: str) -> ChatError:
    return ChatError(
        "invalid_positioned",
        _("positioned.%(field)s: %(message)s"),
        params={"field": field, "message": message},
        field=f"positioned.{field}",
    )


def _field_number(value: object, low: float, high: float, field: str) -> int | float:
    if isinstance(value, str) or value is None:
        raise _invalid(field, f"a number from {low:g} to {high:g}")
    try:
        return _number(value, low, high)
    except Malformed:
        raise _invalid(field, f"a number from {low:g} to {high:g}") from None


def clean_fields(value: object) -> dict[str, Any]:
    """The `positioned` object of a live comment, checked against the import's bounds (the
    stored form, docs/PROTOCOL.md); raises ChatError `invalid_positioned` naming the field."""
    if not isinstance(value, dict):
        raise _invalid("*", "an object with x, y and duration_ms")
    unknown = sorted(str(key) for key in value if key not in _AUTHORED_KEYS)
    if unknown:
        raise _invalid(unknown[0], "not a field of a positioned comment")
    for key in ("x", "y", "duration_ms"):
        if key not in value:
            raise _invalid(key, "required")
    x = _field_number(value["x"], -COORDINATE_MAX, COORDINATE_MAX, "x")
    y = _field_number(value["y"], -COORDINATE_MAX, COORDINATE_MAX, "y")
    duration = _field_number(value["duration_ms"], 1, POSITIONED_MAX_MS, "duration_ms")
    alpha = value.get("alpha", [1, 1])
    if not isinstance(alpha, list) or len(alpha) != 2:
        raise _invalid("alpha", "[from, to], each from 0 to 1")
    fields: dict[str, Any] = {
        "x": x,
        "y": y,
        "relative": not (float(x).is_integer() and float(y).is_integer()),
        "alpha": [_field_number(part, 0, 1, "alpha") for part in alpha],
        "duration_ms": round(duration),
    }
    for key in ("rotate_z", "rotate_y"):
        if key in value:
            fields[key] = _field_number(value[key], -ROTATION_MAX, ROTATION_MAX, key)
    motion = value.get("motion")
    if motion is not None:
        if not isinstance(motion, dict) or not {"x", "y"} <= motion.keys() or motion.keys() - _MOTION_KEYS:
            raise _invalid("motion", "an object with x, y and optional duration_ms, delay_ms")
        fields["motion"] = {
            "x": _field_number(motion["x"], -COORDINATE_MAX, COORDINATE_MAX, "motion.x"),
            "y": _field_number(motion["y"], -COORDINATE_MAX, COORDINATE_MAX, "motion.y"),
            **{
                key: None
                if motion.get(key) is None
                else round(_field_number(motion[key], 0, POSITIONED_MAX_MS, f"motion.{key}"))
                for key in ("duration_ms", "delay_ms")
            },
        }
    for key in ("stroke", "linear"):
        if key in value:
            if not isinstance(value[key], bool):
                raise _invalid(key, "true or false")
            fields[key] = value[key]
    if "font" in value:
        font = value["font"]
        if not isinstance(font, str) or len(font) > FONT_MAX_CHARS or not font.isprintable():
            raise _invalid("font", f"up to {FONT_MAX_CHARS} printable characters")
        fields["font"] = font
    # Stored as a file holding its export would store it: the payload is positional, so a later
    # element brings the earlier ones with their defaults (rotation 0, stroke on, no font), and
    # stroke, font or linear without a motion bring a motion to the start itself.
    if "motion" not in fields and fields.keys() & {"stroke", "font", "linear"}:
        fields["motion"] = {"x": x, "y": y, "duration_ms": None, "delay_ms": None}
    try:
        _text, stored = parse_payload(export_payload("x", fields))
    except Malformed:  # pragma: no cover - every field was checked against the same bounds
        raise _invalid("*", "not a positioned comment") from None
    return stored
