"""A room's blocked words: plain words, or /patterns/ matched by RE2 in time linear in the message.

Anyone who creates a room moderates it, so any account can save patterns, and every message of
the room is checked against them on the thread that every write of the process waits for. Each
pattern is checked when saved (the syntax RE2 and browsers share, `patterns.py`), and a room's
patterns are compiled together into one RE2 program of bounded size: one pass over a message
checks them all, and no pattern can make that pass long (docs/DECISIONS.md).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from chat.errors import ChatError, Text
from chat.models import Room

from .patterns import PatternError, check_pattern, compile_re2, to_re2

log = logging.getLogger(__name__)

BLOCKED_WORDS_MAX = 200
BLOCKED_WORD_MAX_CHARS = 100
# The size of a room's patterns compiled together (RE2's program, in instructions). RE2's time
# on a message grows with it: within 500, the worst room we could build took 4 to 6 ms on a
# 500-character message (a backtracking matcher had no bound at all), while ten everyday
# patterns take 10 µs. 500 is about 40 patterns of ten characters; plain words do not count.
BLOCKED_PATTERNS_MAX_STEPS = 500


def is_pattern(entry: str) -> bool:
    """Whether a blocked word or filter keyword is a /regular expression/."""
    return len(entry) > 2 and entry.startswith("/") and entry.endswith("/")


def pattern_problem(entry: str) -> Text | None:
    """Why a /pattern/ cannot be used, in a sentence that names it; None when it can. The same
    sentences answer a room's blocked words and a viewer's keyword filters."""
    try:
        check_pattern(entry[1:-1])
    except PatternError as error:
        return Text(_("%(entry)s cannot be used: %(reason)s."), entry=entry, reason=error.text)
    return None


def contains_blocked_word(room: Room, text: str) -> bool:
    """Whether the text contains one of the room's blocked words (ignoring case) or matches one
    of its /patterns/ (also ignoring case)."""
    entries = [entry for entry in room.blocked_words or [] if isinstance(entry, str) and entry]
    folded = text.casefold()
    if any(not is_pattern(entry) and entry.casefold() in folded for entry in entries):
        return True
    patterns = tuple(entry for entry in entries if is_pattern(entry))
    if not patterns:
        return False
    matcher = room_matcher(room.slug, patterns)
    return matcher is not None and matcher.search(text) is not None


@functools.lru_cache(maxsize=128)  # asked for every message of a room with patterns
def room_matcher(slug: str, patterns: tuple[str, ...]) -> Any | None:
    """The room's /patterns/ as one RE2 program, or None if none is usable. A pattern stored
    before the rules refused it (or through the admin) is left out, and so are those past the
    size limit: they match nothing, and a warning names each, once while the list is cached."""
    usable: list[tuple[str, str]] = []  # (the entry, its RE2 expression)
    for entry in patterns:
        problem = pattern_problem(entry)
        if problem is None:
            usable.append((entry, to_re2(entry[1:-1])))
        else:
            log.warning("room %s: a stored blocked word matches nothing: %s", slug, problem)
    expressions = [expression for _entry, expression in usable]
    fitting = _fitting(expressions)
    for entry, _expression in usable[fitting:]:
        log.warning(
            "room %s: a stored blocked word matches nothing: it is past the room's %d steps: %s",
            slug,
            BLOCKED_PATTERNS_MAX_STEPS,
            entry,
        )
    return compile_re2(_together(expressions[:fitting])) if fitting else None


def _together(expressions: Sequence[str]) -> str:
    return "|".join(f"(?:{expression})" for expression in expressions)


def _steps(expressions: Sequence[str]) -> int | None:
    """The size of RE2's program for these expressions together; None if RE2 refuses it."""
    if not expressions:
        return 0
    try:
        return int(compile_re2(_together(expressions)).programsize)
    except PatternError:
        return None


def _fits(expressions: Sequence[str]) -> bool:
    steps = _steps(expressions)
    return steps is not None and steps <= BLOCKED_PATTERNS_MAX_STEPS


def _fitting(expressions: Sequence[str]) -> int:
    """How many of the expressions, from the first, fit in the room's program together."""
    if _fits(expressions):
        return len(expressions)
    low, high = 0, len(expressions) - 1  # the answer is in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(expressions[:middle]):
            low = middle
        else:
            high = middle - 1
    return low


def clean_blocked_words(value: object) -> list[str]:
    if not isinstance(value, list) or len(value) > BLOCKED_WORDS_MAX:
        raise ChatError(
            "invalid",
            _("blocked_words must be a list of at most %(blocked_words_max)s."),
            params={"blocked_words_max": BLOCKED_WORDS_MAX},
            field="blocked_words",
        )
    words: list[str] = []
    for item in value:
        # No NUL: PostgreSQL's jsonb cannot store one.
        if not isinstance(item, str) or len(item.strip()) > BLOCKED_WORD_MAX_CHARS or "\x00" in item:
            raise ChatError(
                "invalid",
                _("each blocked word is at most %(blocked_word_max_chars)s characters."),
                params={"blocked_word_max_chars": BLOCKED_WORD_MAX_CHARS},
                field="blocked_words",
            )
        word = item.strip()
        if not word or word in words:
            continue
        if is_pattern(word):
            problem = pattern_problem(word)
            if problem is not None:
                raise ChatError("invalid", problem, field="blocked_words")
        words.append(word)
    steps = _steps([to_re2(word[1:-1]) for word in words if is_pattern(word)])
    if steps is None or steps > BLOCKED_PATTERNS_MAX_STEPS:
        raise ChatError(
            "invalid",
            _(
                "the /patterns/ together are too large for the matcher (the limit is %(limit)s "
                "steps): remove some, or make them simpler."
            )
            if steps is None
            else _(
                "the /patterns/ together are too large for the matcher (%(steps)s steps; the limit "
                "is %(limit)s steps): remove some, or make them simpler."
            ),
            params={"steps": steps, "limit": BLOCKED_PATTERNS_MAX_STEPS},
            field="blocked_words",
        )
    return words
