"""The /pattern/ syntax of blocked words and viewers' keyword filters: the part of regular
expressions that the server's engine (RE2) and browsers' `new RegExp(source, "i")` both accept
and read the same way.

The server matches with RE2, whose time is linear in the text whatever the pattern; browsers
filter their own view with JavaScript's RegExp (static/js/ui/patterns.js mirrors this check, and
tests/pattern_cases.json holds the cases both are tested on). Neither engine can run at the
other's side, so a pattern is accepted only inside a subset both read alike, and anything else
is refused by name (docs/DECISIONS.md):

- characters, and a backslash before ASCII punctuation (`\\.`, `\\/`, `\\[`);
- `.`, `^`, `$`, `|`, groups `( )` and `(?: )`;
- `* + ? {n} {n,} {n,m}`, each also lazy (`*?`); counts up to 1000, nested ones multiplying to
  at most 1000 (RE2's own rule);
- `\\d \\D \\w \\W \\s \\S \\b \\B`, `\\t \\n \\v \\f \\r`, `\\xHH`, `\\uHHHH`;
- classes `[...]` and `[^...]` of those characters and escapes, and ranges `a-z`.

`to_re2` also rewrites what both accept but read differently: JavaScript's `\\s` includes
Unicode spaces (U+00A0, U+3000, ...) that RE2's does not, and RE2 writes `\\uHHHH` as `\\x{HHHH}`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import re2
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chat.errors import Text

# RE2 keeps each compiled program and its matching cache within this many bytes, and refuses a
# pattern whose program does not fit. The largest program a room may have (BLOCKED_PATTERNS_MAX_STEPS
# in blocked_words.py) takes about 16 KiB; 8 MiB, RE2's default, was no faster on the worst
# patterns we could build, and cached programs would each be allowed that much.
RE2_MAX_MEM = 256 * 1024
# JavaScript's \s: its WhiteSpace and LineTerminator characters, as an RE2 class body.
JS_SPACES = r"\t-\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}"
# RE2 refuses a count above 1000, or nested counts whose product is above it.
REPEAT_MAX = 1000

TOO_LARGE = _("it is too large for the server's matcher")
MATCHES_EMPTY = _("it matches empty text, so it would match every message")
LOOKAROUND = _("lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported")
NAMED = _("named groups and references ((?<name>, (?P<name>, \\k<name>) are not supported; use ( ) or (?: )")
INLINE = _("inline flags and other (? groups are not supported (patterns always ignore case)")
BACKREF = _("backreferences and octal escapes (\\1, \\0) are not supported")
PROPERTY = _("Unicode property classes (\\p{...}, \\P{...}) are not supported")
HEX2 = _("\\x takes two hex digits, as in \\x41")
HEX4 = _("\\u takes four hex digits, as in \\u00e9 (not \\u{...})")
SURROGATE = _("\\u cannot name half of a surrogate pair; write the character itself")
LONE_SURROGATE = _("it holds half of a surrogate pair, which is no character")
TRAILING = _("it ends with a lone \\")
UNCLOSED_GROUP = _("a ( is not closed")
UNOPENED_GROUP = _("a ) has no ( before it")
BRACE = _("a { that is not a repetition such as {2} or {2,5}; write \\{ for the character")
COUNT = Text(_("repetition counts are at most %(max)s"), max=REPEAT_MAX)
COUNT_ORDER = _("in {n,m}, n must not be larger than m")
REPEATS = Text(_("its nested repetitions ({n,m} inside {n,m}) multiply to more than %(max)s"), max=REPEAT_MAX)
UNCLOSED_CLASS = _("a [ is not closed")
EMPTY_CLASS = _("[] and [^] are read differently by the server and browsers; write \\] for the character ]")
CLASS_BRACKET = _(
    "a [ inside [...] must be written \\[ (POSIX classes such as [[:alpha:]] are not supported)"
)
CLASS_HYPHEN = _(
    "a - inside [...] must come first, last, or between the ends of a range; write \\- for the character"
)
CLASS_RANGE_SET = _("a range in [...] cannot start or end with \\d, \\w or \\s")
CLASS_RANGE_ORDER = _("a range in [...] is out of order")
CLASS_BACKSPACE = _("\\b inside [...] is not supported")
CLASS_NOT_SPACE = _("\\S inside [^...] is not supported")
ASTRAL = _(
    "characters beyond U+FFFF (most emoji) cannot be repeated or put inside [...]: browsers see two there"
)

_QUANTIFIER = re.compile(r"\{(\d+)(,(\d*))?\}")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_CONTROLS = {"t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r"}
_CLASS_SETS = {"d": r"\d", "D": r"\D", "w": r"\w", "W": r"\W", "s": JS_SPACES}


class PatternError(ValueError):
    """A pattern outside the shared syntax; `reason` says which part, for the person who wrote it
    (in the active language; `text` is the reason to render later, in another)."""

    def __init__(self, reason: str | Promise | Text) -> None:
        super().__init__(reason)
        self.text = reason

    @property
    def reason(self) -> str:
        return str(self.text)

    def __str__(self) -> str:
        return self.reason


def unsupported_escape(char: str) -> Text:
    return Text(_("\\%(char)s is not supported"), char=char)


@dataclass
class _Group:
    repeats: int = 1  # the largest product of nested counts on any path inside the group


@dataclass
class _Translator:
    source: str
    at: int = 0
    out: list[str] = field(default_factory=list)

    def fail(self, reason: str | Promise | Text) -> PatternError:
        return PatternError(reason)

    def translate(self) -> str:
        groups = [_Group()]
        repeatable = False  # whether the last piece may take a quantifier
        last_repeats = 1  # the nested-count product of the last piece (a group's, or 1)
        last_astral = False
        while self.at < len(self.source):
            char = self.source[self.at]
            if char in "*+?{":
                if char == "{":
                    match = _QUANTIFIER.match(self.source, self.at)
                    if match is None:
                        raise self.fail(BRACE)
                    count = self._count(match)
                    self.at = match.end()
                    piece = match.group()
                else:
                    count, piece = 1, char
                    self.at += 1
                if not repeatable:
                    raise self.fail(Text(_("%(piece)s has nothing to repeat"), piece=piece))
                if last_astral:
                    raise self.fail(ASTRAL)
                if self.source.startswith("?", self.at):
                    piece += "?"
                    self.at += 1
                self.out.append(piece)
                groups[-1].repeats = max(groups[-1].repeats, last_repeats * count)
                if groups[-1].repeats > REPEAT_MAX:
                    raise self.fail(REPEATS)
                repeatable = False
                continue
            repeatable, last_repeats, last_astral = True, 1, False
            if char == "\\":
                repeatable = self._escape()
            elif char == "[":
                self._class()
            elif char == "(":
                self._open_group()
                groups.append(_Group())
                repeatable = False
            elif char == ")":
                if len(groups) == 1:
                    raise self.fail(UNOPENED_GROUP)
                last_repeats = groups.pop().repeats
                groups[-1].repeats = max(groups[-1].repeats, last_repeats)
                self.out.append(char)
                self.at += 1
            else:
                repeatable = char not in "|^$"
                last_astral = ord(char) > 0xFFFF
                self.out.append(char)
                self.at += 1
        if len(groups) > 1:
            raise self.fail(UNCLOSED_GROUP)
        return "".join(self.out)

    def _count(self, match: re.Match[str]) -> int:
        low = int(match.group(1))
        high = low if match.group(2) is None else int(match.group(3) or low)
        if max(low, high) > REPEAT_MAX:
            raise self.fail(COUNT)
        if match.group(3) and high < low:
            raise self.fail(COUNT_ORDER)
        return max(high, 1)  # RE2 skips a {0} when it multiplies

    def _open_group(self) -> None:
        rest = self.source[self.at :]
        if rest.startswith("(?:"):
            self.out.append("(?:")
            self.at += 3
        elif rest.startswith(("(?=", "(?!", "(?<=", "(?<!")):
            raise self.fail(LOOKAROUND)
        elif rest.startswith(("(?<", "(?P")):
            raise self.fail(NAMED)
        elif rest.startswith("(?"):
            raise self.fail(INLINE)
        else:
            self.out.append("(")
            self.at += 1

    def _escape(self) -> bool:
        """An escape outside [...]: appends its RE2 form; whether it may be repeated."""
        char = self._escaped()
        if char in "bB":
            self.out.append("\\" + char)
            return False
        if char == "s":
            self.out.append(f"[{JS_SPACES}]")
        elif char == "S":
            self.out.append(f"[^{JS_SPACES}]")
        elif char in "dDwW":
            self.out.append("\\" + char)
        else:
            self.out.append(self._character_escape(char)[0])
        return True

    def _escaped(self) -> str:
        """The character after a backslash (consumed), refusing what neither side shares."""
        if self.at + 1 >= len(self.source):
            raise self.fail(TRAILING)
        char = self.source[self.at + 1]
        self.at += 2
        if char.isascii() and char.isdigit():
            raise self.fail(BACKREF)
        if char == "k":
            raise self.fail(NAMED)
        if char in "pP":
            raise self.fail(PROPERTY)
        return char

    def _character_escape(self, char: str) -> tuple[str, int]:
        """A one-character escape (`\\n`, `\\x41`, `\\u00e9`, `\\.`) in RE2's spelling, and
        the code point it stands for."""
        if char in _CONTROLS:
            return "\\" + char, ord(_CONTROLS[char])
        if char in "xu":
            digits = (_HEX2 if char == "x" else _HEX4).match(self.source, self.at)
            if digits is None:
                raise self.fail(HEX2 if char == "x" else HEX4)
            code = int(digits.group(), 16)
            if 0xD800 <= code <= 0xDFFF:
                raise self.fail(SURROGATE)
            self.at = digits.end()
            return f"\\x{{{digits.group()}}}", code
        if char.isascii() and not char.isalnum() and char.isprintable():
            return "\\" + char, ord(char)
        raise self.fail(unsupported_escape(char))

    def _class(self) -> None:
        """`[...]` or `[^...]`, from its `[`."""
        self.at += 1
        negated = self.source.startswith("^", self.at)
        self.at += negated
        if self.source.startswith("]", self.at):
            raise self.fail(EMPTY_CLASS)
        body: list[str] = []
        not_space = False
        while True:
            if self.at >= len(self.source):
                raise self.fail(UNCLOSED_CLASS)
            char = self.source[self.at]
            if char == "]":
                self.at += 1
                break
            first = not body and not not_space
            start, start_code = self._class_atom()
            if self.source.startswith("-", self.at) and not self.source.startswith("-]", self.at):
                self.at += 1
                end, end_code = self._class_atom()
                if start_code is None or end_code is None:
                    raise self.fail(CLASS_RANGE_SET)
                if end_code < start_code:
                    raise self.fail(CLASS_RANGE_ORDER)
                body.append(f"{start}-{end}")
            elif start == "\\S":
                not_space = True
            elif start == "-" and not first and not self.source.startswith("]", self.at):
                raise self.fail(CLASS_HYPHEN)
            else:
                body.append(start)
        if not_space:
            if negated:
                raise self.fail(CLASS_NOT_SPACE)
            self.out.append(f"(?:[^{JS_SPACES}]|[{''.join(body)}])" if body else f"[^{JS_SPACES}]")
        else:
            self.out.append(f"[{'^' if negated else ''}{''.join(body)}]")

    def _class_atom(self) -> tuple[str, int | None]:
        """One member of a class in RE2's spelling, and its code point (None for a set)."""
        if self.at >= len(self.source):
            raise self.fail(UNCLOSED_CLASS)
        char = self.source[self.at]
        if char == "[":
            raise self.fail(CLASS_BRACKET)
        if char != "\\":
            if ord(char) > 0xFFFF:
                raise self.fail(ASTRAL)
            self.at += 1
            return char, ord(char)
        escaped = self._escaped()
        if escaped == "b":
            raise self.fail(CLASS_BACKSPACE)
        if escaped == "S":
            return "\\S", None
        if escaped in _CLASS_SETS:
            return _CLASS_SETS[escaped], None
        return self._character_escape(escaped)


def to_re2(source: str) -> str:
    """The pattern (without its slashes) in RE2's syntax with JavaScript's meaning, or
    PatternError naming the first part outside the shared syntax."""
    if any(0xD800 <= ord(char) <= 0xDFFF for char in source):
        raise PatternError(LONE_SURROGATE)
    return _Translator(source).translate()


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False  # as the browser's "i" flag
    options.never_capture = True  # only whether it matches: no submatch engine needed
    options.log_errors = False  # a refusal is the moderator's mistake, answered to them
    options.max_mem = RE2_MAX_MEM
    return options


_OPTIONS = _options()


@functools.lru_cache(maxsize=256)  # asked for every message of a room with patterns
def compile_re2(expression: str) -> Any:
    """RE2's compiled program for an expression in its syntax (case-insensitive), or
    PatternError when RE2 refuses it (after `to_re2`, only for being too large)."""
    try:
        return re2.compile(expression, _OPTIONS)
    except re2.error as error:
        detail = (
            error.args[0].decode(errors="replace")
            if error.args and isinstance(error.args[0], bytes)
            else str(error)
        )
        raise PatternError(
            TOO_LARGE
            if "too large" in detail
            else Text(_("the server's matcher refuses it (%(detail)s)"), detail=detail)
        ) from None


def check_pattern(source: str) -> Any:
    """The pattern (without its slashes) compiled for the server, or PatternError: outside the
    shared syntax, refused by RE2, or matching empty text (so every message)."""
    compiled = compile_re2(to_re2(source))
    if compiled.search("") is not None:
        raise PatternError(MATCHES_EMPTY)
    return compiled
