"""Chromium for the browser tests: Debian's package driven by Playwright, which never downloads
a browser of its own. The fixtures (`browser`, `contexts`) are in conftest.py."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext
from playwright.sync_api import Error as PageError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",  # the danmaku tests start the video from script
]


class Contexts(list[BrowserContext]):
    """Browser contexts (separate cookie jars) made by a test, and the script errors they hit."""

    def __init__(self) -> None:
        super().__init__()
        self.page_errors: list[PageError] = []
