"""Niconico's comment XML: `<packet><chat vpos mail date user_id>text</chat>...</packet>`.

`vpos` is the position in hundredths of a second; `mail` holds space-separated commands, of
which these have an equivalent here: `ue` (top), `shita` (bottom), `naka` (scroll), `big`,
`medium`, `small`, a colour name or `#rrggbb`. Any other command (`184`, `device:3DS`,
`patissier`, ...) is ignored and counted in the import's report; the comment itself is imported.
A comment whose text starts with `/` is a script of the uploader (`/nicoscript`, `/replace`,
...): never executed, skipped as `code_comment`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# Colour names of Niconico's players (those for premium members included).
COLOURS = {
    "white": "#ffffff",
    "red": "#ff0000",
    "pink": "#ff8080",
    "orange": "#ffc000",
    "yellow": "#ffff00",
    "green": "#00ff00",
    "cyan": "#00ffff",
    "blue": "#0000ff",
    "purple": "#c000ff",
    "black": "#000000",
    "white2": "#cccc99",
    "niconicowhite": "#cccc99",
    "red2": "#cc0033",
    "truered": "#cc0033",
    "pink2": "#ff33cc",
    "orange2": "#ff6600",
    "passionorange": "#ff6600",
    "yellow2": "#999900",
    "madyellow": "#999900",
    "green2": "#00cc66",
    "elementalgreen": "#00cc66",
    "cyan2": "#00cccc",
    "blue2": "#3399ff",
    "marineblue": "#3399ff",
    "purple2": "#6633cc",
    "nobleviolet": "#6633cc",
    "black2": "#666666",
}
MODES = {"ue": "top", "shita": "bottom", "naka": "scroll"}
SIZES = {"big": "large", "medium": "medium", "small": "small"}
_HEX = re.compile(r"#[0-9a-fA-F]{6}\Z")
# Names an import's report counts ignored commands under: a few dozen at most, whatever the file.
IGNORED_NAMES_MAX = 50
IGNORED_NAME_CHARS = 32


@dataclass(frozen=True)
class Style:
    mode: str | None = None
    size: str | None = None
    color: str | None = None


def ignored_name(command: str) -> str:
    """What an ignored command is counted as: `device:3DS` as `device`, bounded in length."""
    return command.split(":", 1)[0][:IGNORED_NAME_CHARS] or command[:IGNORED_NAME_CHARS]


def parse_mail(mail: str, ignored: Counter[str]) -> Style:
    """The style `mail`'s commands give; each command without an equivalent is counted in
    `ignored` (past IGNORED_NAMES_MAX names, under `other`). A later command wins over an
    earlier one of the same kind, as in Niconico's player."""
    mode = size = color = None
    for command in mail.split():
        word = command.lower()
        if word in MODES:
            mode = MODES[word]
        elif word in SIZES:
            size = SIZES[word]
        elif word in COLOURS:
            color = COLOURS[word]
        elif _HEX.match(word):
            color = word
        else:
            name = ignored_name(word)
            if name not in ignored and len(ignored) >= IGNORED_NAMES_MAX:
                name = "other"
            ignored[name] += 1
    return Style(mode, size, color)


def parse_vpos(value: str) -> int:
    """Milliseconds from `vpos` (hundredths of a second); ValueError("malformed")."""
    try:
        hundredths = int(value.strip())
    except ValueError:
        raise ValueError("malformed") from None
    if not 0 <= hundredths < 10**13:
        raise ValueError("malformed")
    return hundredths * 10
