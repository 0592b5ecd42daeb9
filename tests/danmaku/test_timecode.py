"""Durations typed as h:m:s (danmaku/timecode.py)."""

from __future__ import annotations

import pytest

from danmaku.timecode import DURATION_MAX_MS, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("", None),
        ("  ", None),
        ("45", 45_000),
        ("45.5", 45_500),
        ("0:45", 45_000),
        ("23:45", 1_425_000),
        ("1:23:45", 5_025_000),
        ("1:00:00.125", 3_600_125),
        ("90", 90_000),  # seconds alone may pass 59
        ("100:00", 6_000_000),  # minutes alone may pass 59
    ],
)
def test_accepted(text: str, ms: int | None) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize(
    "text", ["1:75", "1:60:00", "abc", "1::2", "-5", "1:2:3:4", "0", "0:00", "999:00:00", "1e3", "٣"]
)
def test_refused_with_a_sentence(text: str) -> None:
    with pytest.raises(ValueError, match=r"\w+"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, ""), (45_000, "0:45"), (1_425_000, "23:45"), (5_025_000, "1:23:45"), (3_600_125, "1:00:00.125")],
)
def test_shown_the_way_it_is_typed(ms: int | None, text: str) -> None:
    assert format_duration(ms) == text
    assert parse_duration(text) == ms


def test_a_week_at_most() -> None:
    assert parse_duration("168:00:00") == DURATION_MAX_MS
    with pytest.raises(ValueError, match="week"):
        parse_duration("168:00:01")
