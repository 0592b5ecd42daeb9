"""The watch page's player in a real Chromium: one element with the video, the comments and its
own controls, which goes fullscreen with the comments still drawn; keyboard shortcuts that never
fire while typing; a name for every control; comments never over the controls; the chat beside
it telling a scrolled-up reader of new comments, and the send box counting characters left."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from bench.media import media_server

from .browsing import LIVE_MS, Contexts, message_line, open_watch
from .conftest import Site, create_rooms, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OWNER = "alice"
VIDEO_SECONDS = 120
RED = "#fe0302"
BROKEN_VIDEO = "http://127.0.0.1:9/gone.mp4"
CONTROL_NAMES = ("Play", "Mute", "Danmaku on/off", "Web fullscreen", "Fullscreen")


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    suffix = uuid.uuid4().hex[:8]
    roles = ("live", "video", "empty", "onair", "broken", "dense", "chatty")
    rooms = {role: f"pl-{role}-{suffix}" for role in roles}
    with media_server(VIDEO_SECONDS) as video_url:
        options = {
            rooms["live"]: ["--title", "Live", "--owner", OWNER],
            rooms["video"]: [
                *("--title", "Recorded", "--owner", OWNER, "--video-url", video_url),
                *("--duration-ms", str(VIDEO_SECONDS * 1000)),
            ],
        }
        options[rooms["dense"]] = [*options[rooms["video"]][:1], "Dense", *options[rooms["video"]][2:]]
        options[rooms["empty"]] = ["--title", "Empty", "--owner", OWNER]
        options[rooms["chatty"]] = ["--title", "Chatty", "--owner", OWNER]
        options[rooms["onair"]] = ["--title", "On air", "--owner", OWNER, "--live"]
        # Nothing listens on port 9: the browser's request fails.
        options[rooms["broken"]] = ["--title", "Broken", "--owner", OWNER, "--video-url", BROKEN_VIDEO]
        create_rooms(e2e_env, options)
        with running_server(e2e_env, tmp_path_factory.mktemp("player")) as server:
            yield Site(server, rooms, viewport=(1280, 900))


def post(site: Site, slug: str, text: str, **style: Any) -> None:
    frame = {"type": "danmaku", "text": text, "mode": "top", "color": RED, "size": "large", "video_ms": None}
    acks = site.post(slug, "bob", [{**frame, **style}], 0)
    assert [ack["type"] for ack in acks] == ["ack"], acks


def shown(page: Page, text: str) -> dict[str, Any]:
    page.wait_for_function(
        "text => window.danmaku.snapshot().comments.some((c) => c.text === text)", arg=text, timeout=LIVE_MS
    )
    comments: list[dict[str, Any]] = page.evaluate("window.danmaku.snapshot().comments")
    return next(comment for comment in comments if comment["text"] == text)


def red_pixels(page: Page, comment: dict[str, Any], right: float | None = None) -> int:
    """Red, opaque pixels of the canvas inside the comment's rectangle (only its `right` px)."""
    if right is not None:
        comment = {**comment, "x": comment["x"] + comment["w"] - right, "w": right}
    count: int = page.evaluate(
        """([x, y, w, h]) => {
          const canvas = document.querySelector('[data-testid="danmaku-canvas"]');
          const ratio = canvas.width / canvas.clientWidth;
          const box = [x, y, w, h].map((value) => Math.round(value * ratio));
          const data = canvas.getContext("2d").getImageData(...box).data;
          let red = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3] > 200 && data[i] > 200 && data[i + 1] < 80) red += 1;
          }
          return red;
        }""",
        [comment["x"], comment["y"], comment["w"], comment["h"]],
    )
    return count


def test_fullscreen_through_the_players_button_keeps_the_comments(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["live"]
    page = open_watch(site.browse(contexts, OWNER), slug)
    page.get_by_role("button", name="Fullscreen", exact=True).click()
    page.wait_for_function("() => document.fullscreenElement?.dataset.testid === 'player'")
    expect(page.get_by_role("button", name="Exit fullscreen")).to_be_visible()
    # The canvas fills the screen above the bar, and the send box sits in the bar.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=danmaku-canvas]').clientWidth === window.innerWidth"
    )
    expect(page.get_by_test_id("player-bar").get_by_test_id("danmaku-input")).to_be_visible()

    text = f"fullscreen {uuid.uuid4().hex[:6]}"
    post(site, slug, text)
    comment = shown(page, text)
    assert red_pixels(page, comment) > 100

    # One sent from the bar's send box while in fullscreen flies too.
    mine = f"from the bar {uuid.uuid4().hex[:6]}"
    box = page.get_by_test_id("danmaku-input")
    box.fill(mine)
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)
    assert shown(page, mine)["mine"] is True

    page.get_by_role("button", name="Exit fullscreen").click()
    page.wait_for_function("() => document.fullscreenElement === null")
    expect(page.get_by_test_id("player-bar").get_by_test_id("danmaku-input")).to_have_count(0)
    expect(page.get_by_test_id("danmaku-input")).to_be_visible()


def test_web_fullscreen_fills_the_window_with_the_comments(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["live"]
    page = open_watch(site.browse(contexts, OWNER), slug)
    button = page.get_by_role("button", name="Web fullscreen")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    box = page.get_by_test_id("player").bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 1280, 900)
    text = f"web fullscreen {uuid.uuid4().hex[:6]}"
    post(site, slug, text)
    assert red_pixels(page, shown(page, text)) > 100
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")


def test_every_control_has_a_name_and_no_comment_covers_one(contexts: Contexts, site: Site) -> None:
    page = open_watch(site.browse(contexts, OWNER), site.rooms["video"])
    bar = page.get_by_test_id("player-bar")
    for name in CONTROL_NAMES:
        expect(bar.get_by_role("button", name=name, exact=True)).to_have_count(1)
    expect(bar.get_by_role("slider", name="Seek")).to_have_count(1)
    expect(bar.get_by_role("slider", name="Volume")).to_have_count(1)
    expect(bar.get_by_text("Comment display")).to_be_visible()
    nameless = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=player-bar] :is(button, input)')]
          .filter((control) => !(control.getAttribute('aria-label') || control.textContent.trim()
            || control.labels?.[0]?.textContent.trim()))
          .map((control) => control.outerHTML)"""
    )
    assert nameless == []
    # The video has no controls of its own (they would fullscreen it without the comments).
    assert page.evaluate("document.querySelector('video').controls") is False
    # The canvas ends where the bar begins: bottom comments are drawn above the controls.
    canvas = page.get_by_test_id("danmaku-canvas").bounding_box()
    controls = bar.bounding_box()
    assert canvas is not None
    assert controls is not None
    assert canvas["y"] + canvas["height"] <= controls["y"] + 0.5


def test_seek_bar_time_and_danmaku_toggle(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["video"]
    marker = uuid.uuid4().hex[:6]
    early, late = f"seek early {marker}", f"seek late {marker}"
    post(site, slug, early, video_ms=5_000)
    post(site, slug, late, video_ms=60_000)
    page = open_watch(site.browse(contexts, OWNER), slug)
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    page.get_by_role("slider", name="Seek").fill("60.5")
    shown(page, late)
    expect(page.get_by_test_id("player-time")).to_have_text("1:00 / 2:00")
    page.get_by_role("slider", name="Seek").fill("5.2")
    shown(page, early)

    toggle = page.get_by_role("button", name="Danmaku on/off")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.wait_for_function("() => window.danmaku.snapshot().comments.length === 0")
    assert page.evaluate("window.danmaku.settings().show") is False
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")


def test_shortcuts_act_on_the_player_and_never_while_typing(contexts: Contexts, site: Site) -> None:
    page = open_watch(site.browse(contexts, OWNER), site.rooms["video"])
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    video = "document.querySelector('video')"
    page.locator("body").click(position={"x": 5, "y": 5})  # focus on the page, not a control

    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => Math.abs({video}.currentTime - 5) < 0.01")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => {video}.currentTime === 0")
    page.evaluate(f"{video}.volume = 0.5")
    page.keyboard.press("ArrowUp")
    page.wait_for_function(f"() => Math.abs({video}.volume - 0.6) < 0.001")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_function(f"() => Math.abs({video}.volume - 0.4) < 0.001")

    page.keyboard.press(" ")
    page.wait_for_function(f"() => !{video}.paused")
    page.keyboard.press(" ")
    page.wait_for_function(f"() => {video}.paused")

    toggle = page.get_by_role("button", name="Danmaku on/off")
    page.keyboard.press("d")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("d")
    expect(toggle).to_have_attribute("aria-pressed", "true")

    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement?.dataset.testid === 'player'")
    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement === null")

    # Typing "fd " and arrows in the comment box: text, not shortcuts.
    position = page.evaluate(f"{video}.currentTime")
    box = page.get_by_test_id("danmaku-input")
    box.click()
    box.press_sequentially("fd d f")
    box.press("ArrowLeft")
    box.press("ArrowUp")
    expect(box).to_have_value("fd d f")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("document.fullscreenElement") is None
    assert page.evaluate(f"{video}.paused") is True
    assert page.evaluate(f"{video}.currentTime") == position
    assert abs(page.evaluate(f"{video}.volume") - 0.4) < 0.001


def chat_and_comments_keep_working(site: Site, page: Page, slug: str, video_ms: int | None = None) -> str:
    """A chat message and a comment posted by someone else both reach the page's list; the
    comment's text."""
    marker = uuid.uuid4().hex[:6]
    site.post_messages(slug, "bob", [f"chat {marker}"])
    post(site, slug, f"comment {marker}", video_ms=video_ms)
    expect(message_line(page, f"chat {marker}")).to_be_visible(timeout=LIVE_MS)
    expect(message_line(page, f"comment {marker}")).to_be_visible(timeout=LIVE_MS)
    return f"comment {marker}"


def test_no_video_tells_the_owner_how_to_set_one(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["empty"]
    owner = open_watch(site.browse(contexts, OWNER), slug)
    state = owner.get_by_test_id("player-state")
    expect(state).to_have_attribute("data-state", "no-video")
    expect(state).to_contain_text("No video in this room yet")
    link = state.get_by_role("link", name="Video and overlay")
    expect(link).to_have_attribute("href", f"/rooms/{slug}/video")
    viewer = open_watch(site.browse(contexts, "carol"), slug)
    expect(viewer.get_by_test_id("player-state")).to_contain_text("No video in this room yet")
    expect(viewer.get_by_test_id("set-video-hint")).to_have_count(0)
    shown(viewer, chat_and_comments_keep_working(site, viewer, slug))  # and it flies


def test_a_live_room_without_video_says_so(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["onair"]
    page = open_watch(site.browse(contexts, "carol"), slug)
    state = page.get_by_test_id("player-state")
    expect(state).to_have_attribute("data-state", "live")
    expect(state).to_contain_text("Live, with no video")
    shown(page, chat_and_comments_keep_working(site, page, slug))


def test_a_video_that_fails_to_load_says_why(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["broken"]
    page = open_watch(site.browse(contexts, "carol"), slug)
    state = page.get_by_test_id("player-state")
    expect(state).to_have_attribute("data-state", "error", timeout=LIVE_MS)
    expect(state).to_be_visible()
    expect(state).to_contain_text("The video could not be loaded: ")
    reason = page.evaluate("document.querySelector('video').error.code")
    assert reason in {2, 4}
    chat_and_comments_keep_working(site, page, slug, video_ms=0)


def test_buffering_shows_and_clears(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["video"]
    page = open_watch(site.browse(contexts, "carol"), slug)
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    state = page.get_by_test_id("player-state")
    expect(state).to_be_hidden()
    # What the browser fires when playback stops for want of data, then resumes.
    page.evaluate("document.querySelector('video').dispatchEvent(new Event('waiting'))")
    expect(state).to_have_text("Buffering…")
    expect(state).to_be_visible()
    page.evaluate("document.querySelector('video').play()")
    expect(state).to_be_hidden()
    chat_and_comments_keep_working(site, page, slug, video_ms=0)


# The column of bucket `index` (of `buckets`) on the density canvas: how many of its rows, from
# the bottom, are painted.
PAINTED_ROWS = """([index, buckets]) => {
  const canvas = document.querySelector('[data-testid=player-density]');
  const x = Math.floor((index + 0.5) * canvas.width / buckets);
  const data = canvas.getContext('2d').getImageData(x, 0, 1, canvas.height).data;
  let rows = 0;
  for (let y = canvas.height - 1; y >= 0 && data[y * 4 + 3] > 0; y--) rows += 1;
  return [rows, canvas.height];
}"""


def test_the_seek_bar_draws_the_density_live_and_hover_shows_the_time(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["dense"]
    for video_ms in (0, 100, 200, 300, 60_000, 60_500):  # 120 s in 100 buckets of 1.2 s
        post(site, slug, f"dense {video_ms}", video_ms=video_ms)
    answer = httpx.get(f"{site.base_url}/rooms/{slug}/danmaku/density", params={"buckets": 100}).json()
    assert answer["bucket_ms"] == 1_200
    assert (answer["counts"][0], answer["counts"][50], sum(answer["counts"])) == (4, 2, 6)

    page = open_watch(site.browse(contexts, "carol"), slug)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=player-density]').dataset.buckets === '100'"
    )
    full, height = page.evaluate(PAINTED_ROWS, [0, 100])
    assert full == height  # the busiest bucket: the whole height
    half, _ = page.evaluate(PAINTED_ROWS, [50, 100])
    assert abs(half - height / 2) <= 1
    assert page.evaluate(PAINTED_ROWS, [25, 100])[0] == 0

    # Two more at one minute arrive over the stream: that bucket is now as busy as the first.
    post(site, slug, "dense more 1", video_ms=60_100)
    post(site, slug, "dense more 2", video_ms=60_200)
    page.wait_for_function(f"() => ({PAINTED_ROWS})([50, 100])[0] === ({PAINTED_ROWS})([0, 100])[0]")

    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    seek = page.get_by_role("slider", name="Seek")
    box = seek.bounding_box()
    assert box is not None
    # Three quarters along (and a pixel, so that rounding lands inside the second): 1:30.
    seek.hover(position={"x": box["width"] * 0.75 + 1, "y": box["height"] / 2})
    expect(page.get_by_test_id("player-hover-time")).to_have_text("1:30")


def test_the_watch_page_works_on_a_phone(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["video"]
    context = contexts.new(site.base_url, cookies=site.sessions(OWNER), viewport=(390, 844))
    page = open_watch(context, slug)
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    # Nothing wider than the screen; the player and its controls fit it.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    bar = page.get_by_test_id("player-bar").bounding_box()
    assert bar is not None
    assert bar["x"] >= 0
    assert bar["x"] + bar["width"] <= 390
    for name in ("Play", "Danmaku on/off", "Fullscreen"):
        button = page.get_by_role("button", name=name, exact=True)
        box = button.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 390, name
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => !document.querySelector('video').paused")
    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_function("() => document.querySelector('video').paused")

    # The keyboard opens: the visible area shrinks to 390x450, and the send box stays in it.
    box = page.get_by_test_id("danmaku-input")
    box.focus()
    page.set_viewport_size({"width": 390, "height": 450})
    page.wait_for_function(
        """() => {
          const rect = document.querySelector('[data-testid=danmaku-input]').getBoundingClientRect();
          return rect.top >= 0 && rect.bottom <= window.visualViewport.height;
        }"""
    )
    text = f"from a phone {uuid.uuid4().hex[:6]}"
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)
    expect(message_line(page, text)).to_be_visible(timeout=LIVE_MS)


def ours(page: Page, marker: str) -> list[dict[str, Any]]:
    comments: list[dict[str, Any]] = page.evaluate("window.danmaku.snapshot().comments")
    return [comment for comment in comments if comment["text"].startswith(marker)]


def top_red(text: str) -> dict[str, Any]:
    return {"type": "danmaku", "text": text, "mode": "top", "color": RED, "size": "large"}


def test_merge_repeats_draws_one_comment_with_its_count(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["live"]
    page = open_watch(site.browse(contexts), slug)
    page.get_by_text("Comment display").click()
    merge = page.get_by_test_id("setting-merge")
    merge.check()
    page.wait_for_function("() => window.danmaku.settings().merge_repeats === true")

    marker = f"m{uuid.uuid4().hex[:6]}"
    # Four spellings of one comment (runs, width, case, spaces) and one other comment.
    wide = "\uff12\uff13\uff13\uff13"  # 2333 in full-width digits
    repeats = [f"{marker} 2333", f"{marker} 233333333", f"{marker.upper()}{wide}", f"{marker}  2 3 3 3 3"]
    frames = [top_red(text) for text in repeats]
    frames.append(top_red(f"{marker} other"))
    acks = site.post(slug, "bob", frames, 0)
    assert [ack["type"] for ack in acks] == ["ack"] * 5, acks
    page.wait_for_function(
        "m => window.danmaku.snapshot().comments.some((c) => c.text.startsWith(m) && c.count === 4)",
        arg=marker,
        timeout=LIVE_MS,
    )
    page.wait_for_function(
        "marker => window.danmaku.snapshot().comments.some((c) => c.text === `${marker} other`)",
        arg=marker,
        timeout=LIVE_MS,
    )
    page.wait_for_timeout(300)  # nothing else of the group turns up
    shown_now = ours(page, marker)
    assert sorted((c["text"], c["count"]) for c in shown_now) == [(repeats[0], 4), (f"{marker} other", 1)]
    merged = next(c for c in shown_now if c["count"] == 4)
    other = next(c for c in shown_now if c["count"] == 1)
    assert merged["slot"] > 0
    # The badge is drawn in the slot: red pixels there on the merged comment, none on the other.
    assert red_pixels(page, merged, right=merged["slot"]) > 30
    assert red_pixels(page, other, right=other["slot"] - 6) == 0
    assert page.evaluate("window.danmaku.stats().merged") == 3

    # Off: every repeat is drawn.
    merge.uncheck()
    page.wait_for_function("() => window.danmaku.settings().merge_repeats === false")
    marker = f"n{uuid.uuid4().hex[:6]}"
    repeats = [f"{marker} 666", f"{marker} 66666", f"{marker} 666666666"]
    frames = [top_red(text) for text in repeats]
    assert [ack["type"] for ack in site.post(slug, "bob", frames, 0)] == ["ack"] * 3
    page.wait_for_function(
        "marker => window.danmaku.snapshot().comments.filter((c) => c.text.startsWith(marker)).length === 3",
        arg=marker,
        timeout=LIVE_MS,
    )
    drawn = ours(page, marker)
    assert all(c["count"] == 1 and c["slot"] == 0 for c in drawn)
    assert all(red_pixels(page, c) > 100 for c in drawn)


def test_the_side_chat_says_new_comments_below_and_the_send_box_counts_characters_left(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["chatty"]
    marker = uuid.uuid4().hex[:6]
    older = [top_red(f"older {n} {marker}") for n in range(40)]
    assert [ack["type"] for ack in site.post(slug, "writer1", older, 0)] == ["ack"] * 40
    carol = open_watch(site.browse(contexts, "carol", viewport=(1280, 700)), slug)
    bob = open_watch(site.browse(contexts, "bob"), slug, "?transport=sse")
    expect(message_line(carol, f"older 39 {marker}")).to_be_in_viewport()
    # Carol scrolls up: bob's comments are counted on a button instead of pulling her down.
    new_below = carol.get_by_test_id("new-below")
    expect(new_below).to_be_hidden()
    carol.get_by_test_id("messages").evaluate("list => { list.parentElement.scrollTop = 0; }")
    box = bob.get_by_test_id("danmaku-input")
    for text in (f"one {marker}", f"two {marker}"):
        box.fill(text)
        box.press("Enter")
        expect(box).to_have_value("", timeout=LIVE_MS)
    expect(new_below).to_have_text("2 new messages below", timeout=LIVE_MS)
    expect(message_line(carol, f"two {marker}")).not_to_be_in_viewport()
    new_below.click()
    expect(message_line(carol, f"two {marker}")).to_be_in_viewport()
    expect(new_below).to_be_hidden()
    # Bob, at the bottom all along, never saw the button.
    expect(bob.get_by_test_id("new-below")).to_be_hidden()

    # Characters left against the comment limit (100): hidden while short, counting down near
    # it, over past it, where the server refuses; a taken comment empties the count.
    left = bob.get_by_test_id("chars-left")
    box.fill("short")
    expect(left).to_be_hidden()
    box.fill("x" * 88)
    expect(left).to_have_text("12 characters left")
    box.fill("y" * 104)
    expect(left).to_have_text("4 characters over the limit")
    expect(left).to_have_attribute("data-over", "true")
    box.press("Enter")
    expect(bob.get_by_test_id("send-error")).to_have_text(
        "Comment too long: the limit is 100 characters.", timeout=LIVE_MS
    )
    expect(box).to_have_value("y" * 104)  # kept whole for the writer to shorten
    last = f"last {marker} " + "z" * 80
    box.fill(last)
    expect(bob.get_by_test_id("send-error")).to_be_hidden()
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)
    expect(left).to_be_hidden()
    expect(message_line(carol, last)).to_be_in_viewport(timeout=LIVE_MS)


def test_play_pause_mute_and_unmute_each_draw_their_own_icon(contexts: Contexts, site: Site) -> None:
    """Four different pictures, whatever fonts the desktop has: emoji characters for Pause and
    the speaker drew the same empty box for each where no emoji font is installed."""
    page = open_watch(site.browse(contexts, OWNER), site.rooms["video"])
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    play, mute = page.get_by_test_id("player-play"), page.get_by_test_id("player-mute")

    def icon(button: Any, state: str) -> bytes:
        expect(button).to_have_attribute("data-state", state)
        page.mouse.move(0, 0)  # no hover border in the picture
        picture: bytes = button.screenshot()
        return picture

    pictures = {"paused": icon(play, "paused"), "sound": icon(mute, "sound")}
    play.click()
    mute.click()
    pictures["playing"] = icon(play, "playing")
    pictures["muted"] = icon(mute, "muted")
    play.click()
    alike = [f"{a} = {b}" for a, b in itertools.combinations(pictures, 2) if pictures[a] == pictures[b]]
    assert alike == []
