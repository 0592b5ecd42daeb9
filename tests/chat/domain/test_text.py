from __future__ import annotations

import pytest

from chat.domain.text import MESSAGE_MAX_CHARS, clean_text
from chat.errors import ChatError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello  ", "hello"),
        ("a\x00b\x07c\x1b[31m", "abc[31m"),
        ("line one\nline two\r\n", "line one line two"),
        ("tab\there", "tab here"),
        ("del\x7fand c1\x85\x9bend", "deland c1 end"),
        ("lone \ud800 surrogate", "lone  surrogate"),
        ("e\u0301", "\u00e9"),  # NFC
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # escaping is the renderer's job
        ("\u202eevil\u200b", "\u202eevil\u200b"),  # shown inert, not stripped
        ("non\ufffechar\uffff", "nonchar"),  # XML 1.0 forbids both: they would break the export
    ],
)
def test_clean_text_strips_controls_and_trims(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01", "\n\t "])
def test_empty_text_is_refused(raw: str) -> None:
    with pytest.raises(ChatError) as info:
        clean_text(raw)
    assert info.value.code == "empty"


def test_limit_counts_characters_after_trimming() -> None:
    assert clean_text(" " * 50 + "x" * MESSAGE_MAX_CHARS + " " * 50) == "x" * MESSAGE_MAX_CHARS
    with pytest.raises(ChatError) as info:
        clean_text("\U0001f600" * (MESSAGE_MAX_CHARS + 1))
    assert info.value.code == "too_long"
    assert info.value.status == 413


@pytest.mark.parametrize("raw", [None, 5, ["hi"], {"text": "hi"}, True])
def test_non_string_is_invalid(raw: object) -> None:
    with pytest.raises(ChatError) as info:
        clean_text(raw)
    assert info.value.code == "invalid"


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("one\ntwo", "one\ntwo"),
        ("one\r\ntwo\rthree\x85four\u2028five\u2029six", "one\ntwo\nthree\nfour\nfive\nsix"),
        ("\n\n  indented art\n  second line  \n\n", "  indented art\n  second line  "),
        ("tab\there\x00", "tab here"),
    ],
)
def test_line_breaks_are_kept_only_when_asked(raw: str, kept: str) -> None:
    assert clean_text(raw, line_breaks=True) == kept
    assert "\n" not in clean_text(raw)


def test_a_kept_line_break_counts_one_character() -> None:
    assert clean_text("a" * 4 + "\r\n" + "b" * 5, max_chars=10, line_breaks=True) == "aaaa\nbbbbb"
    with pytest.raises(ChatError, match="11 characters"):
        clean_text("a" * 5 + "\n" + "b" * 5, max_chars=10, line_breaks=True)
    with pytest.raises(ChatError) as empty:
        clean_text(" \n \u3000\n", line_breaks=True)
    assert empty.value.code == "empty"
