"""The /pattern/ syntax the server (RE2) and browsers (RegExp) share (chat/domain/patterns.py):
the cases in tests/pattern_cases.json are also the browser's (tests/js/ui/patterns.test.js)."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest

from chat.domain.patterns import (
    LONE_SURROGATE,
    MATCHES_EMPTY,
    TOO_LARGE,
    PatternError,
    check_pattern,
    to_re2,
)

CASES: dict[str, Any] = json.loads((Path(__file__).parents[2] / "pattern_cases.json").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES["refused"], ids=lambda case: case["pattern"])
def test_what_either_engine_refuses_or_reads_differently_is_refused_by_name(case: dict[str, str]) -> None:
    with pytest.raises(PatternError) as refused:
        check_pattern(case["pattern"])
    assert refused.value.reason == case["reason"]


@pytest.mark.parametrize("case", CASES["accepted"], ids=lambda case: case["pattern"])
def test_accepted_patterns_match_what_the_browser_matches(case: dict[str, Any]) -> None:
    compiled = check_pattern(case["pattern"])
    assert [compiled.search(text) is not None for text in case["matches"]] == [True] * len(case["matches"])
    assert [compiled.search(text) is not None for text in case["misses"]] == [False] * len(case["misses"])


def test_javascripts_whitespace_and_unicode_escapes_keep_their_meaning() -> None:
    """RE2's \\s is ASCII only, and it spells \\u00e9 as \\x{00e9}: the translation keeps what
    the pattern means in a browser (an ideographic space is a space there)."""
    assert check_pattern(r"a\sb").search("a\u3000b") is not None
    assert check_pattern(r"a\Sb").search("a\u3000b") is None
    assert check_pattern(r"caf\u00e9").search("CAFÉ") is not None
    assert to_re2(r"\u00e9") == r"\x{00e9}"


def test_every_ascii_punctuation_escape_is_the_character() -> None:
    for char in string.punctuation + " ":
        assert check_pattern("\\" + char).search(f"a{char}b") is not None, char


def test_too_large_lone_surrogates_and_empty_matches_are_refused() -> None:
    with pytest.raises(PatternError) as large:
        check_pattern(r"\w{1000}\w{1000}\w{1000}\w{1000}\w{1000}\w{1000}")
    assert large.value.reason == TOO_LARGE
    with pytest.raises(PatternError) as surrogate:
        check_pattern("a\ud800")
    assert surrogate.value.reason == LONE_SURROGATE
    with pytest.raises(PatternError) as empty:
        check_pattern("(?:spoiler)?")
    assert empty.value.reason == MATCHES_EMPTY


def test_a_reason_is_written_in_the_language_active_when_it_is_read() -> None:
    from django.utils import translation

    from chat.domain.blocked_words import clean_blocked_words
    from chat.errors import ChatError

    with pytest.raises(PatternError) as refused:
        check_pattern("+a")
    with translation.override("ja"):
        assert refused.value.reason == "+ の前に繰り返す対象がありません"
    with translation.override("en"):
        assert refused.value.reason == "+ has nothing to repeat"
    with pytest.raises(ChatError) as blocked:
        clean_blocked_words(["fine", "/a{2000}/"])
    with translation.override("ja"):
        assert blocked.value.message == "/a{2000}/ は使えません: 繰り返し回数は 1000 までです。"
    with translation.override("en"):
        assert blocked.value.message == "/a{2000}/ cannot be used: repetition counts are at most 1000."
