"""A room's blocked words: plain words, or /regular expressions/ matched with a time budget.

Anyone who creates a room moderates it, so any account can save patterns: each is checked when
saved (it compiles, its counted repetitions stay small, it does not backtrack without end on a
probe), and matching runs with a budget per message, so no pattern can stall the write path.
"""

from __future__ import annotations

import functools
import logging
import time

import regex

from chat.errors import ChatError
from chat.models import Room

log = logging.getLogger(__name__)

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


def clean_blocked_words(value: object) -> list[str]:
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
