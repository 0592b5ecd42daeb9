"""A room's blocked words (chat/domain/blocked_words.py): plain words and /patterns/, one RE2
program per room, bounded in size, so no pattern makes checking a message slow."""

from __future__ import annotations

import logging
import random
import time

import pytest

from chat.domain.blocked_words import (
    BLOCKED_PATTERNS_MAX_STEPS,
    clean_blocked_words,
    contains_blocked_word,
    room_matcher,
)
from chat.domain.text import MESSAGE_MAX_CHARS
from chat.errors import ChatError
from chat.models import Room

# The patterns that backtracked without end in the old matcher, and a message that made them.
BACKTRACKING = {
    "/(?:xy|x|y)+$/": "xy" * (MESSAGE_MAX_CHARS // 2 - 1) + "z",
    "/(a|aa)+$/": "a" * (MESSAGE_MAX_CHARS - 1) + "!",
    "/(x+x+)+y/": "x" * MESSAGE_MAX_CHARS,
    "/(.*a){12}/": "a" * 20 + "b" * (MESSAGE_MAX_CHARS - 20),
}


def room_with(words: list[str]) -> Room:
    return Room(slug="lobby", title="Lobby", blocked_words=words)


def test_words_and_patterns_ignore_case() -> None:
    room = room_with(clean_blocked_words(["Spoiler", "/b[a4]d\\s*word/", "/^regex\\d+/"]))
    assert contains_blocked_word(room, "a SPOILER ahead")
    assert contains_blocked_word(room, "what a B4D\u3000Word")  # JavaScript's \s, as in browsers
    assert contains_blocked_word(room, "REGEX42 first")
    assert not contains_blocked_word(room, "a regex42 later")
    assert not contains_blocked_word(room, "fine text")
    assert not contains_blocked_word(room_with([]), "anything")


def test_patterns_that_backtracked_without_end_take_microseconds() -> None:
    """The incident of issue 12: `/(?:xy|x|y)+$/` passed the old save-time probe, and each
    message like these took the old matcher's whole 50 ms budget."""
    room = room_with(clean_blocked_words(list(BACKTRACKING)))
    for text in BACKTRACKING.values():
        started = time.perf_counter()
        for _ in range(100):
            contains_blocked_word(room, text)
        per_message = (time.perf_counter() - started) / 100
        print(f"{text[:12]}...: {per_message * 1e6:.0f} µs a message")
        assert per_message < 0.002, text


def test_a_room_at_its_size_limit_checks_a_message_in_milliseconds() -> None:
    """The worst we could build within the limit: every character of a random text makes a new
    state of RE2's automaton (`[ab]*a[ab]{20}` remembers the last 20 characters). Linear in the
    message all the same; the bound is generous for slow machines, the figure is printed."""
    words: list[str] = []
    for n in range(BLOCKED_PATTERNS_MAX_STEPS):
        try:
            words = clean_blocked_words([*words, f"/[ab]*a[ab]{{20}}(?:c|{n})/"])
        except ChatError:
            break
    assert len(words) > 10
    room = room_with(words)
    rng = random.Random(12)
    texts = ["".join(rng.choice("ab") for _ in range(MESSAGE_MAX_CHARS)) for _ in range(50)]
    started = time.perf_counter()
    for text in texts:
        contains_blocked_word(room, text)
    per_message = (time.perf_counter() - started) / len(texts)
    print(f"{len(words)} patterns at the limit: {per_message * 1e3:.2f} ms a message")
    assert per_message < 0.05


def test_the_room_s_patterns_together_are_bounded_when_saved() -> None:
    with pytest.raises(ChatError) as refused:
        clean_blocked_words([f"/w{n}[^a]{{40}}!/" for n in range(40)])
    assert refused.value.extra == {"field": "blocked_words"}
    assert "the /patterns/ together are too large" in refused.value.message
    assert f"the limit is {BLOCKED_PATTERNS_MAX_STEPS} steps" in refused.value.message
    assert len(clean_blocked_words(["spoiler"] * 3 + [f"plain word {n}" for n in range(150)])) == 151


def test_a_stored_pattern_the_rules_refuse_matches_nothing_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Saved before these rules (or through the admin): left out, never an error."""
    room_matcher.cache_clear()
    room = room_with(["/(?=a)a/", "/(?i)b/", "/a{99999}/", "later", "/c[o0]de/"])
    with caplog.at_level(logging.WARNING, logger="chat.domain.blocked_words"):
        assert not contains_blocked_word(room, "a b")
        assert contains_blocked_word(room, "see you LATER")
        assert contains_blocked_word(room, "the C0DE")
        assert not contains_blocked_word(room, "aaa bbb")
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 3
    assert (
        "room lobby: a stored blocked word matches nothing: /(?=a)a/ cannot be used: lookahead" in warnings[0]
    )


def test_stored_patterns_past_the_size_limit_keep_the_first_that_fit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    room_matcher.cache_clear()
    words = [f"/w{n}[^a]{{40}}!/" for n in range(40)]
    room = room_with(words)
    with caplog.at_level(logging.WARNING, logger="chat.domain.blocked_words"):
        assert contains_blocked_word(room, "w0" + "x" * 40 + "!")
        assert not contains_blocked_word(room, "w39" + "x" * 40 + "!")
    assert "past the room's 500 steps" in caplog.text
