"""Durations as people write them: "1:23:45", "23:45", "45" or "45.5" seconds."""

from __future__ import annotations

import re

from django.utils.translation import gettext

# Up to a week: longer than any video, short enough that the figure is plainly a mistake.
DURATION_MAX_MS = 7 * 24 * 3600 * 1000
_TIMECODE = re.compile(r"^(?:([0-9]{1,3}):)??(?:([0-9]{1,4}):)?([0-9]{1,6})(?:\.([0-9]{1,3}))?$")


def parse_duration(text: str) -> int | None:
    """Milliseconds of `text` (h:m:s, m:s or s, with an optional fraction of a second); None
    for an empty text. ValueError with a sentence for anything else."""
    text = text.strip()
    if not text:
        return None
    match = _TIMECODE.match(text)
    if match is None:
        raise ValueError(gettext("Use hours:minutes:seconds, for example 1:23:45 or 23:45."))
    hours, minutes, seconds, fraction = match.groups()
    if (hours is not None or minutes is not None) and int(seconds) >= 60:
        raise ValueError(gettext("Seconds go up to 59 after the minutes."))
    if hours is not None and minutes is not None and int(minutes) >= 60:
        raise ValueError(gettext("Minutes go up to 59 after the hours."))
    total_ms = (int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds)) * 1000 + int(
        (fraction or "0").ljust(3, "0")
    )
    if total_ms == 0:
        raise ValueError(gettext("A duration is longer than zero."))
    if total_ms > DURATION_MAX_MS:
        raise ValueError(gettext("That is longer than a week: check the figure."))
    return total_ms


def format_duration(ms: int | None) -> str:
    """`ms` as h:mm:ss (or m:ss under an hour), with milliseconds only when there are any."""
    if ms is None:
        return ""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    return f"{text}.{millis:03d}".rstrip("0") if millis else text
