"""What the call tests share: Chromium with a fake camera and microphone, a coturn server from
Debian's package, the call page's parts, a raw WebSocket participant, and the check that a
remote video is really playing."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright
from websockets.sync.client import ClientConnection, connect

from bench.turn import TURNSERVER, TurnServer
from tests.conftest import unavailable

from .browsing import CHROMIUM, CHROMIUM_ARGS, LIVE_MS, Contexts, open_live
from .conftest import DaphneServer, cookie_header, login

MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
# A fake camera's first frame reaches the other page well within this, also through TURN.
MEDIA_MS = 20_000


@pytest.fixture(scope="module")
def media_browser() -> Iterator[Browser]:
    """Chromium with a fake camera and microphone, allowed without asking."""
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        args = [*CHROMIUM_ARGS, *MEDIA_ARGS]
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def callers(media_browser: Browser) -> Iterator[Contexts]:
    made = Contexts(media_browser)
    yield made
    for context in made:
        context.close()
    assert not made.page_errors, f"uncaught errors in the page: {made.page_errors}"


def signed_in(contexts: Contexts, server: DaphneServer, user: str) -> BrowserContext:
    return contexts.new(server.base_url, cookies=login(server.base_url, user))


def open_call(context: BrowserContext, slug: str, query: str = "") -> Page:
    return open_live(context, f"/rooms/{slug}/call{query}")


def join(page: Page, *, camera: bool = True, mic: bool = True) -> None:
    page.get_by_test_id("use-camera").set_checked(camera)
    page.get_by_test_id("use-mic").set_checked(mic)
    page.get_by_test_id("join-call").click()
    expect(page.get_by_test_id("leave-call")).to_be_visible(timeout=MEDIA_MS)


def tile_of(page: Page, name: str) -> Locator:
    """The tile of another participant, by their name."""
    tiles = page.locator('[data-testid="call-tile"][data-self="false"]')
    return tiles.filter(has=page.get_by_test_id("tile-name").get_by_text(name, exact=True))


# Resolves once the video has shown five new frames: its size and how far its time moved
# (rejects if they do not come within 10 s).
_PLAYING = """video => new Promise((resolve, reject) => {
  const stuck = () => `no frames: readyState ${video.readyState}, ${video.videoWidth} wide`;
  setTimeout(() => reject(new Error(stuck())), 10000);
  const start = video.currentTime;
  let frames = 0;
  const step = () => {
    frames += 1;
    const advanced = video.currentTime - start;
    if (frames >= 5) resolve({width: video.videoWidth, height: video.videoHeight, advanced});
    else video.requestVideoFrameCallback(step);
  };
  video.requestVideoFrameCallback(step);
})"""


def expect_playing(tile: Locator, timeout: float = MEDIA_MS) -> dict[str, Any]:
    """The tile's video shows frames that keep coming (size above zero, time advancing)."""
    video = tile.get_by_test_id("call-video")
    expect(video).to_have_js_property("readyState", 4, timeout=timeout)
    playing: dict[str, Any] = video.evaluate(_PLAYING)
    assert playing["width"] > 0, playing
    assert playing["advanced"] > 0, playing
    return playing


def first_frame_ms(tile: Locator) -> int:
    expect(tile).to_have_attribute("data-first-frame-ms", re.compile(r"^\d+$"), timeout=LIVE_MS)
    return int(tile.get_attribute("data-first-frame-ms") or 0)


class RawParticipant:
    """A WebSocket client of a room that speaks the call frames itself, and keeps every frame
    it receives (to check what reached it)."""

    def __init__(self, server: DaphneServer, user: str | None, slug: str) -> None:
        headers = {"Origin": server.base_url}
        if user is not None:
            headers["Cookie"] = cookie_header(login(server.base_url, user))
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(f"{server.ws_url}/ws/rooms/{slug}/", additional_headers=headers, open_timeout=10)
        )
        self.frames: list[dict[str, Any]] = []
        self.nonce = 0
        assert self.next("hello")["type"] == "hello"

    def next(self, frame_type: str, timeout: float = 5) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            self.frames.append(frame)
            if frame["type"] == frame_type:
                return frame  # type: ignore[no-any-return]

    def send(self, frame: dict[str, Any]) -> dict[str, Any]:
        self.nonce += 1
        nonce = f"raw-{self.nonce}"
        self.ws.send(json.dumps({**frame, "nonce": nonce}))
        deadline = time.monotonic() + 5
        while True:
            answer = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            self.frames.append(answer)
            if answer["type"] in {"ack", "error"} and answer.get("nonce") == nonce:
                return answer  # type: ignore[no-any-return]

    def drain(self, seconds: float) -> None:
        """Take whatever arrives for `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.frames.append(json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))))
            except TimeoutError:
                return

    def of_type(self, frame_type: str) -> list[dict[str, Any]]:
        return [frame for frame in self.frames if frame["type"] == frame_type]

    def close(self) -> None:
        self._stack.close()


def start_turn(folder: Path, secret: str) -> TurnServer:
    """Debian's coturn for a test (fails under CI, skips elsewhere, when it is not installed)."""
    if not TURNSERVER.exists():
        unavailable(f"coturn is not installed at {TURNSERVER} (apt-get install -y coturn)")
    return TurnServer(folder, secret).start()
