"""The README's screenshots are made by a script (`make screenshots`, bench/screenshots.py): it
runs here into a temporary folder, so a change to the pages or the seeding that breaks it
fails the suite instead of leaving the pictures to go stale. Each file must be a 1280x800 PNG
of a page that drew something (hundreds of colours, not a blank or error page), small enough
for a README, and the dark one of each page darker than the light one.

The same run shows each page in Chinese and in Japanese (and reads the site's other pages in
each language), and what those pages show a reader is checked against the catalogs
(locale/): no string of the interface may remain in English. A string fails when it is one
of the catalogs' English msgids (a msgid with placeholders matches with anything in their
place), or when the English page shows it too and it is neither the people's own words nor a
name no language translates."""

from __future__ import annotations

import base64
import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from playwright.sync_api import Browser

from bench.screenshots import (
    ALONG_TEXTS,
    CONVERSATION,
    IN_FLIGHT,
    LANGUAGES,
    OTHER_PAGES,
    PAGES,
    PEOPLE,
    REPORT_REASON,
    SLUG,
    THEMES,
)

from .conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(480)]

SIZE = (1280, 800)
MAX_BYTES = 300 * 1024
# A page of text, badges, buttons and comments over a video, anti-aliased: thousands of colours.
# A blank page has one, an unstyled error page a few dozen.
MIN_COLOURS = 500


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def colours_and_brightness(browser: Browser, data: bytes) -> tuple[int, float]:
    """Distinct colours, and the mean brightness (0-255), of the PNG's pixels, read in Chromium."""
    page = browser.new_page()
    try:
        result: list[float] = page.evaluate(
            """async (source) => {
              const image = new Image();
              image.src = source;
              await image.decode();
              const canvas = new OffscreenCanvas(image.width, image.height);
              const context = canvas.getContext("2d");
              context.drawImage(image, 0, 0);
              const pixels = context.getImageData(0, 0, image.width, image.height).data;
              const seen = new Set();
              let sum = 0;
              for (let i = 0; i < pixels.length; i += 4) {
                seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
                sum += (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
              }
              return [seen.size, sum / (pixels.length / 4)];
            }""",
            "data:image/png;base64," + base64.b64encode(data).decode(),
        )
    finally:
        page.close()
    return int(result[0]), result[1]


# What the people wrote and who they are: the same in every language.
THEIR_WORDS = (
    *(text for _author, text, _parent in CONVERSATION),
    *(text for _author, text, *_rest in IN_FLIGHT),
    *ALONG_TEXTS,
    *PEOPLE,
    "Launch party",
    SLUG,
    "no-such-room",  # the address of the missing room's page
    REPORT_REASON,
)
# Names no language here translates, and the switcher's own entry for English.
NAMES = {"English", "WebSocket", "SSE", "OBS", "URL", "API", "CSV", "JSON", "XML"}
NAMES |= {"DPlayer", "Bilibili", "Niconico"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
CATALOGS = ROOT / "locale"


def english_msgids() -> list[re.Pattern[str]]:
    """The catalogs' msgids that read as English (their own translation differs), as patterns
    that match the whole string, placeholders matching anything."""
    patterns = {}
    for domain in ("django", "djangojs"):
        for entry in polib.pofile(str(CATALOGS / "ja" / "LC_MESSAGES" / f"{domain}.po")):
            msgids = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
            for msgid in msgids:
                text = " ".join(msgid.split())
                if not re.search(r"[A-Za-z]{2}", PLACEHOLDER.sub("", text)) or text in NAMES:
                    continue  # placeholders and signs only: nothing English in it
                parts = [re.escape(part) for part in PLACEHOLDER.split(text)]
                patterns[text] = re.compile(".+?".join(parts))
    return list(patterns.values())


# A message shows its links and mentions as elements of their own, so its text comes in pieces.
PIECES = re.compile(r"(https?://\S+|@\w+)")
ADDRESS = re.compile(r"/[\w/-]*|https?://\S+")  # a room's address; a web address (an example)
THEIR_PIECES = {piece.strip() for words in THEIR_WORDS for piece in PIECES.split(words)} | set(THEIR_WORDS)


def is_their_words(text: str) -> bool:
    """The people's own words: whole, in the pieces a message shows, or cut short with an
    ellipsis (a reply's quote)."""
    if text in THEIR_PIECES or text in NAMES or ADDRESS.fullmatch(text):
        return True
    cut = text.removesuffix("…").strip()
    return cut != text and len(cut) >= 8 and any(words.startswith(cut) for words in THEIR_WORDS)


def test_the_english_check_catches_a_string_left_in_english() -> None:
    """The check below would see an untranslated label, a msgid with its placeholder filled, and
    an English string that never reached the catalogs; and not the people's words."""
    msgids = english_msgids()
    assert len(msgids) > 200
    assert leftovers(["Send", "Connected", "and 3 more"], [], msgids) == ["Connected", "Send", "and 3 more"]
    assert leftovers(["送信", "carol", "Berlin here"], ["Berlin here"], msgids) == []
    assert leftovers(["Not in any catalog"], ["Not in any catalog"], msgids) == ["Not in any catalog"]


def leftovers(shown: list[str], english: list[str], msgids: list[re.Pattern[str]]) -> list[str]:
    """What a translated page shows that is still English."""
    in_english = set(english)
    found = []
    for text in shown:
        if is_their_words(text) or not re.search(r"[A-Za-z]{2}", text):
            continue
        if text in in_english or any(msgid.fullmatch(text) for msgid in msgids):
            found.append(text)
    return sorted(found)


def test_the_screenshot_script_writes_finished_pages_in_every_language(
    browser: Browser, tmp_path: Path
) -> None:
    out = tmp_path / "screenshots"
    texts_file = tmp_path / "texts.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.screenshots", "--out", str(out), "--texts", str(texts_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    expected = {f"{page}-{theme}.png" for page in PAGES for theme in THEMES}
    expected |= {f"{page}-{language}.png" for page in PAGES for language in LANGUAGES}
    assert {path.name for path in out.iterdir()} == expected
    for page in PAGES:
        brightness = {}
        for theme in THEMES:
            data = (out / f"{page}-{theme}.png").read_bytes()
            assert png_size(data) == SIZE, (page, theme)
            assert len(data) < MAX_BYTES, (page, theme, len(data))
            colours, brightness[theme] = colours_and_brightness(browser, data)
            assert colours > MIN_COLOURS, (page, theme, colours)
        assert brightness["dark"] < brightness["light"] - 40, (page, brightness)
        for language in LANGUAGES:
            data = (out / f"{page}-{language}.png").read_bytes()
            assert png_size(data) == SIZE, (page, language)
            assert len(data) < MAX_BYTES, (page, language, len(data))
            assert colours_and_brightness(browser, data)[0] > MIN_COLOURS, (page, language)
    texts = json.loads(texts_file.read_text())
    msgids = english_msgids()
    assert set(texts) == {*PAGES, *(name for name, _path, _person in OTHER_PAGES)}
    left = {
        (page, language): leftovers(texts[page][language], texts[page]["en"], msgids)
        for page in texts
        for language in LANGUAGES
    }
    assert {key: found for key, found in left.items() if found} == {}
    for page in texts:  # and the English pages were read at all
        assert len(texts[page]["en"]) > 8, (page, texts[page]["en"])
