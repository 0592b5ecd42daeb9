"""The danmaku pages in Chinese and Japanese in a real Chromium against a real daphne: comments of
full-width characters take the room they really take on a track, and the watch page, the video
and overlay page and the overlay itself show no English (static/js/danmaku, templates/danmaku)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from bench.media import media_server

from .browsing import LIVE_MS, Contexts, open_live
from .conftest import USERS, Site, create_rooms, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OWNER = "alice"
VIDEO_SECONDS = 60
FULL_WIDTH = "弾幕弾幕弾幕弾幕"
# As many characters as FULL_WIDTH: half-width katakana (half an em each in a CJK font), and
# Latin letters (proportional, a little wider than half an em in the renderer's bold).
HALF_WIDTH = "ﾀﾝﾏｸﾀﾝﾏｸ"
LATIN = "danmakus"


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    suffix = uuid.uuid4().hex[:8]
    rooms = {"video": f"dmi-video-{suffix}", "live": f"dmi-live-{suffix}"}
    with media_server(VIDEO_SECONDS) as video_url:
        create_rooms(
            e2e_env,
            {
                rooms["video"]: [
                    *("--title", "Kino", "--owner", OWNER, "--video-url", video_url),
                    *("--duration-ms", str(VIDEO_SECONDS * 1000)),
                ],
                rooms["live"]: ["--title", "Kino", "--owner", OWNER],
            },
        )
        with running_server(e2e_env, tmp_path_factory.mktemp("danmaku-i18n")) as server:
            yield Site(server, rooms, viewport=(1280, 900))


# The renderer on a bare page with a clock the test moves. Each comment's real width is the
# canvas's own measure of its text in the renderer's font, to compare with what the renderer
# allotted it, and to find any two comments of one track whose drawn text would overlap.
WIDTH_HARNESS = """async ({ full, half, latin, arrivals, seconds }) => {
  const { DanmakuRenderer } = await import("/static/js/danmaku/renderer.js");
  const { ManualClock } = await import("/static/js/danmaku/clock.js");
  const { FONT_FAMILY, FONT_PX } = await import("/static/js/danmaku/sprites.js");
  await document.fonts.ready;
  const probe = document.createElement("canvas").getContext("2d");
  probe.font = `600 ${FONT_PX.medium}px ${FONT_FAMILY}`;
  const real = (text) => probe.measureText(text).width;
  const canvas = document.createElement("canvas");
  document.body.append(canvas);
  const clock = new ManualClock(0);
  const renderer = new DanmakuRenderer(canvas, { clock, density: 1000, autoStart: false, autoResize: false });
  renderer.resize(1280, 96);
  const event = (seq, text) => ({
    seq, kind: "danmaku", id: seq, user: { id: 1, name: "writer" }, text, ts: "2026-01-01T00:00:00.000Z",
    mode: "scroll", color: "#ffffff", size: "medium", video_ms: null,
  });
  renderer.push(event(1, full));
  renderer.push(event(2, half));
  renderer.push(event(3, latin));
  let first = [];
  for (let now = 0; first.length < 3 && now < 1000; now += 1000 / 60) {
    clock.set(now);
    renderer.tick();
    first = renderer.snapshot().comments;
  }
  // Then a stream of full-width comments, more than the rows hold at once: they share tracks.
  let seq = 3;
  const frames = [];
  const pending = [...arrivals];
  for (let now = 1000; now <= seconds * 1000; now += 1000 / 60) {
    while (pending.length && pending[0] <= now) {
      pending.shift();
      seq += 1;
      renderer.push(event(seq, full));
    }
    clock.set(now);
    renderer.tick();
    frames.push(renderer.snapshot().comments.map((c) => [c.seq, c.text, c.x, c.y, c.w, c.h, c.track.row]));
  }
  return JSON.stringify({
    first: first.map((c) => ({ text: c.text, w: c.w, h: c.h })),
    real: { [full]: real(full), [half]: real(half), [latin]: real(latin), one: real(full[0]) },
    px: FONT_PX.medium,
    frames,
  });
}"""


def test_full_width_comments_take_their_real_width_on_a_track(contexts: Contexts, site: Site) -> None:
    page = site.browse(contexts).new_page()
    page.goto("/healthz")  # any page of the site: the modules load from its origin
    page.set_content("<!doctype html><style>html,body{margin:0}</style>")
    arrivals = [1000 + index * 250 for index in range(24)]
    result = json.loads(
        page.evaluate(
            WIDTH_HARNESS,
            {"full": FULL_WIDTH, "half": HALF_WIDTH, "latin": LATIN, "arrivals": arrivals, "seconds": 12},
        )
    )
    real = result["real"]
    # A real CJK font: each full-width character is one em wide.
    assert real["one"] == pytest.approx(result["px"], rel=0.05), real
    assert real[FULL_WIDTH] == pytest.approx(len(FULL_WIDTH) * result["px"], rel=0.05), real
    widths = {comment["text"]: comment["w"] for comment in result["first"]}
    assert set(widths) == {FULL_WIDTH, HALF_WIDTH, LATIN}, result["first"]
    # Each box is its measured text and the same padding; so the full-width text is allotted
    # twice the half-width one's width, and more than the Latin one's, as the canvas draws them
    # (a width per character would give all three the same).
    padding = widths[HALF_WIDTH] - real[HALF_WIDTH]
    assert 0 <= padding <= 20, (widths, real)
    for text in (FULL_WIDTH, LATIN):
        assert widths[text] - real[text] == pytest.approx(padding, abs=1.5), (text, widths, real)
    text_width = {text: width - padding for text, width in widths.items()}
    assert text_width[FULL_WIDTH] / text_width[HALF_WIDTH] == pytest.approx(2, rel=0.05), (widths, real)
    assert text_width[FULL_WIDTH] / text_width[LATIN] >= 1.25, (widths, real)

    # Full-width comments sharing a track never overlap as drawn (their real text width).
    shared = 0
    for frame in result["frames"]:
        comments = [dict(zip(("seq", "text", "x", "y", "w", "h", "row"), row, strict=True)) for row in frame]
        for index, a in enumerate(comments):
            for b in comments[index + 1 :]:
                if a["y"] >= b["y"] + b["h"] or b["y"] >= a["y"] + a["h"]:
                    continue  # different tracks
                shared += 1
                ends = [(c["x"], c["x"] + real[c["text"]] + padding) for c in (a, b)]
                (a_left, a_right), (b_left, b_right) = ends
                assert a_right <= b_left or b_right <= a_left, (a, b, real)
    assert shared > 100, shared  # the stream did fill the tracks


def english_words(page: Page, allowed: set[str]) -> list[str]:
    """Latin words of three letters or more in what the page shows or reads out (text, labels,
    titles, placeholders, values of buttons), apart from `allowed` (names, addresses)."""
    shown: str = page.evaluate(
        """() => {
          const parts = [document.title, document.body.innerText];
          for (const element of document.querySelectorAll("[aria-label], [title], [placeholder]")) {
            if (element.closest("[hidden]") || element.getClientRects().length === 0) continue;
            for (const name of ["aria-label", "title", "placeholder"]) {
              parts.push(element.getAttribute(name) ?? "");
            }
          }
          return parts.join("\\n");
        }"""
    )
    words = set(re.findall(r"[A-Za-z]{3,}", re.sub(r"https?://\S+", "", shown)))
    return sorted(word for word in words if word.lower() not in allowed)


def browse_in(contexts: Contexts, site: Site, language: str, user: str | None = None) -> BrowserContext:
    context = site.browse(contexts, user=user)
    context.add_cookies([{"name": "language", "value": language, "url": site.base_url}])
    return context


# Words that are names or addresses, whatever the language: the room's title, the users', the
# site's host, the overlay's options as its address spells them, the language picker's
# "English", and the names of things (API, WebSocket).
ALLOWED = {"kino", "alice", "http", "https", "localhost", "rooms", "overlay", "watch", "key", "lang", "chat"}
ALLOWED |= {"english", "api", "websocket", "dplayer", "obs", "host", "port", "videos", "example", "zh"}
ALLOWED |= {"speed", "opacity", "scale", "area", "density", "fps", "hans", "webm", "mp4", "wav", "media"}
# Every account of the suite's database: the owner's saved settings may name another (another
# module blocks "carol" as alice, and the settings follow the account).
ALLOWED |= set(USERS)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ja", {"mute": "ミュート解除", "remove": "削除", "saved": "アカウントに保存しました。"}),
        ("zh-hans", {"mute": "取消静音", "remove": "移除", "saved": "已保存到你的账户。"}),
    ],
)
def test_the_watch_page_shows_no_english(
    contexts: Contexts, site: Site, language: str, words: dict[str, str]
) -> None:
    context = browse_in(contexts, site, language, user=OWNER)
    page = open_live(context, f"/rooms/{site.rooms['video']}/watch")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.get_by_test_id("player-mute").click()
    expect(page.get_by_test_id("player-mute")).to_have_attribute("aria-label", words["mute"])
    page.locator('[data-testid="danmaku-settings"] summary').click()
    page.get_by_test_id("block-keyword-input").fill("ネタバレ")
    page.get_by_test_id("block-keyword-add").click()
    expect(page.get_by_test_id("blocked-keywords").get_by_role("button")).to_have_text(words["remove"])
    expect(page.get_by_test_id("settings-status")).to_have_text(words["saved"], timeout=LIVE_MS)
    page.get_by_test_id("positioned-composer").locator("summary").click()
    form = page.get_by_test_id("positioned-form")
    form.locator('[data-field="text"]').fill("弾幕")
    form.locator('[data-field="duration"]').fill("600")
    form.locator('button[type="submit"]').click()
    expect(page.get_by_test_id("positioned-error")).to_be_visible()
    assert (found := english_words(page, ALLOWED)) == [], found


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_the_video_page_and_the_overlay_show_no_english(
    contexts: Contexts, site: Site, language: str
) -> None:
    context = browse_in(contexts, site, language, user=OWNER)
    page = context.new_page()
    page.goto(f"/rooms/{site.rooms['video']}/video")
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert (found := english_words(page, ALLOWED)) == [], found
    slug = site.rooms["live"]
    site.post_messages(slug, OWNER, ["こんにちは"])
    for query in ("", "?chat=1&history=5"):
        overlay = context.browser.new_context(base_url=site.base_url)  # OBS: no cookie, the address's ?lang=
        contexts.append(overlay)
        shown = open_live(
            overlay, f"/rooms/{slug}/overlay{query}{'&' if query else '?'}lang={language}", state="overlay"
        )
        expect(shown.locator("html")).to_have_attribute("lang", language)
        if query:
            expect(shown.get_by_text("こんにちは").first).to_be_visible(timeout=LIVE_MS)
        assert (found := english_words(shown, ALLOWED)) == [], (query, found)
