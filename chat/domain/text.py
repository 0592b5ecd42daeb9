"""Validation of user-written text, shared by every write path."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

from chat.errors import ChatError

MESSAGE_MAX_CHARS = 500

# Tabs and line breaks become spaces; every other control character (C0, DEL, C1), lone
# surrogates (valid JSON can carry "\ud800", which UTF-8 cannot store) and the noncharacters
# U+FFFE and U+FFFF (XML 1.0 forbids them: one would break the room's XML export) are removed.
_WHITESPACE_CONTROLS = re.compile(r"[\t\n\r\v\f\x1c-\x1f\x85\u2028\u2029]")
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")

# What may not be in a name however it is shown: the bidi embeddings, overrides and isolates and
# the three direction marks (they reorder or disguise the name), and the zero-width characters
# (two names that look the same), on top of every control character above.
_NAME_INVISIBLES = re.compile(r"[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


# A line break in text that keeps them (imported danmaku): CR LF, CR, LF, NEL, U+2028, U+2029.
_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def clean_text(value: object, *, max_chars: int = MESSAGE_MAX_CHARS, line_breaks: bool = False) -> str:
    """Return the text a user meant to post, or raise ChatError (invalid, empty, too_long).

    With `line_breaks`, every line break becomes one line feed (one character toward
    `max_chars`) instead of a space, and only line breaks are trimmed from the ends, so the
    spaces that align a drawing's lines stay; the text must still hold more than white space.
    """
    if not isinstance(value, str):
        raise ChatError("invalid", _("text must be a string."))
    lines = _LINE_BREAKS.split(value) if line_breaks else [value]
    text = "\n".join(_OTHER_CONTROLS.sub("", _WHITESPACE_CONTROLS.sub(" ", line)) for line in lines)
    text = unicodedata.normalize("NFC", text)
    text = text.strip("\n") if line_breaks else text.strip()
    if not text.strip():
        raise ChatError("empty", _("The message is empty."))
    if len(text) > max_chars:
        raise ChatError(
            "too_long",
            _("The message is %(length)s characters; the limit is %(max_chars)s."),
            params={"length": len(text), "max_chars": max_chars},
            status=413,
            limit=max_chars,
        )
    return text


def clean_name(value: str) -> str:
    """A user name without control, bidi-control or zero-width characters, NFC-normalized and
    trimmed: what a sign-up stores (the caller checks what is left, e.g. that it is not empty)."""
    text = _OTHER_CONTROLS.sub("", _WHITESPACE_CONTROLS.sub(" ", value))
    return unicodedata.normalize("NFC", _NAME_INVISIBLES.sub("", text)).strip()
