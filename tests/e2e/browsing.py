"""Chromium for the browser tests: Debian's package driven by Playwright, which never downloads
a browser of its own; and what every browser test does in it: fresh browser profiles that
collect their pages' script errors, pages opened until they are live, chat lines found by their
text. The fixtures (`browser`, `contexts`) are in conftest.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from playwright.sync_api import Error as PageError

if TYPE_CHECKING:
    from .conftest import DaphneServer

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

# Live delivery to a page (a message, presence, a deletion) must happen within this.
LIVE_MS = 5_000
# Page loads, the first connection, a reconnect after a restart (the backoff grows to a few s).
SLOW_MS = 15_000


class Contexts(list[BrowserContext]):
    """Browser contexts (separate cookie jars and storage) made by a test, and the script errors
    their pages hit; the `contexts` fixture closes them and fails the test on any such error."""

    def __init__(self, browser: Browser) -> None:
        super().__init__()
        self.browser = browser
        self.page_errors: list[PageError] = []

    def new(
        self,
        base_url: str,
        *,
        cookies: Mapping[str, str] | None = None,
        viewport: tuple[int, int] | None = None,
    ) -> BrowserContext:
        """A fresh browser profile on `base_url`, with a signed-in user's `cookies` if given."""
        options: dict[str, Any] = {"base_url": base_url}
        if viewport is not None:
            options["viewport"] = {"width": viewport[0], "height": viewport[1]}
        context = self.browser.new_context(**options)
        context.set_default_timeout(SLOW_MS)
        context.on("page", lambda page: page.on("pageerror", lambda error: self.page_errors.append(error)))
        self.append(context)
        if cookies:
            context.add_cookies(
                [{"name": name, "value": value, "url": base_url} for name, value in cookies.items()]
            )
        return context


def open_live(context: BrowserContext, path: str, state: str = "connection-state") -> Page:
    """Open `path` and wait until the element with test id `state` says the page is live."""
    page = context.new_page()
    page.goto(path)
    expect(page.get_by_test_id(state)).to_have_attribute("data-state", "live")
    return page


def open_room(context: BrowserContext, slug: str, query: str = "") -> Page:
    return open_live(context, f"/rooms/{slug}/{query}")


def open_watch(context: BrowserContext, slug: str, query: str = "") -> Page:
    return open_live(context, f"/rooms/{slug}/watch{query}")


def open_overlay(context: BrowserContext, slug: str, query: str = "") -> Page:
    return open_live(context, f"/rooms/{slug}/overlay{query}", state="overlay")


def exact(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$")


def message_line(page: Page, text: str, within: Locator | None = None) -> Locator:
    """The chat line whose text is exactly `text`, in `within` (else anywhere on the page)."""
    lines = (within or page).locator(".msg")
    return lines.filter(has=page.locator(".msg-text", has_text=exact(text)))


def send_message(page: Page, text: str) -> None:
    """Type a message and press Enter; the input clears once the server acknowledged it."""
    box = page.get_by_test_id("message-input")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)


def texts_with_prefix(page: Page, prefix: str) -> list[str]:
    texts = page.locator(".msg .msg-text").all_text_contents()
    return [text for text in texts if text.startswith(prefix)]


def go_away(server: DaphneServer, context: BrowserContext, page: Page) -> None:
    """Stop the server under an open page, then take the browser offline so it stops retrying."""
    state = page.get_by_test_id("connection-state")
    server.stop()
    expect(state).to_have_text("Reconnecting…", timeout=LIVE_MS)
    context.set_offline(True)
    expect(state).to_have_text("Offline", timeout=LIVE_MS)
