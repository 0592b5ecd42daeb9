"""The danmaku renderer, watch page and overlay in a real Chromium against a real daphne:
comments drawn on the canvas, tracks that never overlap, the density cap, seeking and pausing a
recorded video, a transparent overlay that drops a deleted comment at once (and reads a private
room with its key), hostile text drawn as text, viewer settings that persist, and the frame rate
with 300 comments on screen."""

from __future__ import annotations

import itertools
import json
import random
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from bench.media import media_server

from .browsing import LIVE_MS, Contexts, open_overlay, open_watch
from .conftest import Site, create_rooms, login, running_server
from .danmaku_png import decode_alpha

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

VIDEO_SECONDS = 120
OWNER = "alice"  # owns every room here, so may delete comments
MODES = ("scroll", "top", "bottom", "reverse")
SIZES = ("small", "medium", "large")
COLORS = ("#ffffff", "#fe0302", "#00cd00", "#00a2ff", "#ffd302")
ZERO_WIDTH_SPACES = "\u200b" * 5
# The renderer's limits (static/js/danmaku/sprites.js).
MAX_SPRITE_WIDTH_PX = 4096


@dataclass
class DanmakuSite(Site):
    video_url: str = ""  # the recorded video's, on a media server of its own


LIVE_ROOMS = ("canvas", "burst", "overlay", "private", "hostile", "settings")


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[DanmakuSite]:
    """One server for the module, with a live room per test and a room with a recorded video."""
    suffix = uuid.uuid4().hex[:8]
    rooms = {role: f"dm-{role}-{suffix}" for role in (*LIVE_ROOMS, "video")}
    with media_server(VIDEO_SECONDS) as video_url:
        options = {rooms[role]: ["--title", role.title(), "--owner", OWNER] for role in LIVE_ROOMS}
        video = ["--video-url", video_url, "--video-title", "Silence"]
        length = ["--duration-ms", str(VIDEO_SECONDS * 1000)]
        options[rooms["video"]] = ["--title", "Recorded", "--owner", OWNER, *video, *length]
        create_rooms(e2e_env, options)
        with running_server(e2e_env, tmp_path_factory.mktemp("danmaku")) as server:
            yield DanmakuSite(server, rooms, viewport=(1280, 900), video_url=video_url)


def post_danmaku(
    site: Site, slug: str, user: str, comments: list[dict[str, Any]], interval: float = 0
) -> list[dict[str, Any]]:
    """Post comments over one WebSocket as `user`, `interval` s apart, then read the answers; their acks."""
    style = {"type": "danmaku", "mode": "scroll", "color": "#ffffff", "size": "medium", "video_ms": None}
    acks = site.post(slug, user, [{**style, **comment} for comment in comments], interval)
    assert all(ack["type"] == "ack" for ack in acks), [ack for ack in acks if ack["type"] != "ack"]
    return acks


def as_owner(site: Site, slug: str, path: str, body: dict[str, Any]) -> httpx.Response:
    """A moderation API call by the rooms' owner: session, CSRF token and Origin, like the browser."""
    return site.api(OWNER, slug).post(path, body)


def overlay_key(site: Site, slug: str) -> str:
    """Have the owner require an overlay key (the video page's button); the key."""
    cookies = site.sessions(OWNER)
    with httpx.Client(base_url=site.base_url, cookies=cookies, timeout=10) as client:
        answer = client.post(
            f"/rooms/{slug}/video",
            data={"action": "rotate-key", "csrfmiddlewaretoken": cookies["csrftoken"]},
            headers={"Referer": f"{site.base_url}/rooms/{slug}/video"},
        )
        assert answer.status_code == 302, answer.text
        page = client.get(f"/rooms/{slug}/video").text
    match = re.search(r"overlay\?key=([A-Za-z0-9_-]+)", page)
    assert match, page
    return match.group(1)


def on_screen(page: Page) -> list[dict[str, Any]]:
    comments: list[dict[str, Any]] = page.evaluate("window.danmaku.snapshot().comments")
    return comments


def shown(page: Page, text: str) -> dict[str, Any]:
    """Wait until a comment with exactly this text is on screen; its snapshot entry."""
    page.wait_for_function(
        "text => window.danmaku.snapshot().comments.some((c) => c.text === text)", arg=text, timeout=LIVE_MS
    )
    return next(comment for comment in on_screen(page) if comment["text"] == text)


def texts_on_screen(page: Page) -> set[str]:
    return {comment["text"] for comment in on_screen(page)}


# Samples the renderer's state on consecutive animation frames (every `every`-th one).
SAMPLE_FRAMES = """async ([count, every]) => {
  const frames = [];
  for (let index = 0; index < count * every; index++) {
    await new Promise((resolve) => requestAnimationFrame(resolve));
    if (index % every === 0) frames.push(window.danmaku.snapshot().comments);
  }
  return frames;
}"""

# Records, on every animation frame from now on, the most comments on screen and every text shown.
RECORD_FRAMES = """() => {
  window.__most = 0;
  window.__seen = new Set();
  const record = () => {
    const comments = window.danmaku.snapshot().comments;
    window.__most = Math.max(window.__most, comments.length);
    for (const comment of comments) window.__seen.add(comment.text);
    requestAnimationFrame(record);
  };
  requestAnimationFrame(record);
}"""

# Waits for some animation frames: time passes for the renderer, however busy the machine is.
WAIT_FRAMES = """async (count) => {
  for (let index = 0; index < count; index++) await new Promise((resolve) => requestAnimationFrame(resolve));
}"""


def overlaps(comments: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Pairs of comments of one track type whose rectangles intersect."""
    found = []
    for mode in MODES:
        column = sorted((c for c in comments if c["mode"] == mode), key=lambda c: c["y"])
        for index, a in enumerate(column):
            for b in column[index + 1 :]:
                if b["y"] >= a["y"] + a["h"]:
                    break  # sorted by top edge: no later one reaches up into `a`
                if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]:
                    found.append((mode, a["text"], b["text"]))
    return found


def random_comments(rng: random.Random, count: int, prefix: str) -> list[dict[str, Any]]:
    """Comments of every mode, size and colour with texts of very different lengths (so speeds differ)."""
    return [
        {
            "text": f"{prefix} {index} " + "w" * rng.choice((0, 2, 5, 10, 20, 40)),
            "mode": rng.choice(MODES),
            "size": rng.choice(SIZES),
            "color": rng.choice(COLORS),
        }
        for index in range(count)
    ]


# The renderer on a bare page with a clock the test moves: exact and independent of timing.
RENDERER_HARNESS = """async ({ live, timeline, density, seconds, width, height, sampleEvery }) => {
  const { DanmakuRenderer } = await import("/static/js/danmaku/renderer.js");
  const { ManualClock } = await import("/static/js/danmaku/clock.js");
  const canvas = document.createElement("canvas");
  document.body.append(canvas);
  const clock = new ManualClock(0);
  const renderer = new DanmakuRenderer(canvas, {
    clock, recorded: timeline.length > 0, density, autoStart: false, autoResize: false,
  });
  renderer.resize(width, height);
  renderer.schedule(timeline);
  const frames = [];
  const firstShown = {};
  let maxOnScreen = 0;
  const frameMs = 1000 / 60;
  for (let frame = 0; frame * frameMs <= seconds * 1000; frame++) {
    const now = frame * frameMs;
    while (live.length && live[0].at <= now) renderer.push(live.shift().event);
    clock.set(now);
    renderer.tick();
    const comments = renderer.snapshot().comments;
    maxOnScreen = Math.max(maxOnScreen, comments.length);
    for (const comment of comments) if (!(comment.seq in firstShown)) firstShown[comment.seq] = now;
    if (frame % sampleEvery === 0) frames.push(comments.map((c) => [c.mode, c.x, c.y, c.w, c.h, c.seq]));
  }
  // One string: Playwright hands large object graphs back far more slowly than one string.
  return JSON.stringify({ frames, firstShown, maxOnScreen, stats: renderer.stats() });
}"""


def run_harness(page: Page, scenario: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(page.evaluate(RENDERER_HARNESS, scenario))
    return result


def unpack(frame: list[list[Any]]) -> list[dict[str, Any]]:
    keys = ("mode", "x", "y", "w", "h", "text")
    return [dict(zip(keys, row, strict=True)) for row in frame]


def danmaku_event(seq: int, comment: dict[str, Any], video_ms: int | None = None) -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": "danmaku",
        "id": seq,
        "user": {"id": 1, "name": "writer"},
        "text": comment["text"],
        "ts": "2026-01-01T00:00:00.000Z",
        "mode": comment["mode"],
        "color": comment["color"],
        "size": comment["size"],
        "video_ms": video_ms,
    }


def harness_page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.goto("/healthz")  # any page of the site: the modules load from its origin
    page.set_content("<!doctype html><style>html,body{margin:0}</style>")
    return page


def test_renderer_never_overlaps_and_samples_evenly(contexts: Contexts, site: DanmakuSite) -> None:
    page = harness_page(site.browse(contexts))
    rng = random.Random(7)

    # A burst of 400 at once, then 50 a second for 10 s, of every mode, size and length, live.
    burst = random_comments(rng, 900, "burst")
    live = [{"at": 0 if index < 400 else (index - 400) * 20, "event": danmaku_event(index + 1, comment)}
            for index, comment in enumerate(burst)]  # fmt: skip
    result = run_harness(
        page,
        {
            "live": live,
            "timeline": [],
            "density": 1000,
            "seconds": 14,
            "width": 1280,
            "height": 720,
            "sampleEvery": 4,
        },
    )
    assert result["maxOnScreen"] >= 150, result["stats"]  # crowded enough to mean something
    frames = [unpack(frame) for frame in result["frames"]]
    for frame in frames:
        assert not overlaps(frame), overlaps(frame)[:5]
    assert {comment["mode"] for frame in frames for comment in frame} == set(MODES)

    # A recorded video with 20 comments a second for 30 s, and room for 12 on screen.
    flood = random_comments(rng, 600, "flood")
    timeline = [danmaku_event(index + 1, comment, video_ms=index * 50) for index, comment in enumerate(flood)]
    result = run_harness(
        page,
        {
            "live": [],
            "timeline": timeline,
            "density": 12,
            "seconds": 40,
            "width": 1280,
            "height": 720,
            "sampleEvery": 5,
        },
    )
    assert result["maxOnScreen"] <= 12
    assert all(len(frame) <= 12 for frame in result["frames"])
    shown_at = sorted(result["firstShown"].values())
    positions = sorted(timeline[int(seq) - 1]["video_ms"] for seq in result["firstShown"])
    # Spread over the whole flood, not its first second: every 3 s of it is represented...
    for start in range(0, 30_000, 3_000):
        assert any(start <= position < start + 3_000 for position in positions), (start, positions)
    # ...and the screen never goes blank for long while comments keep coming.
    gaps = [later - earlier for earlier, later in itertools.pairwise(shown_at) if later < 30_000]
    assert max(gaps) < 2_000, max(gaps)
    assert 25 <= len(positions) <= 150, len(positions)


def test_watch_page_draws_posted_comments_on_the_canvas(contexts: Contexts, site: DanmakuSite) -> None:
    slug = site.rooms["canvas"]
    viewer = open_watch(site.browse(contexts), slug)
    expect(viewer.get_by_test_id("login-notice")).to_be_visible()
    # The writer is on SSE, so the comment goes out by HTTP POST (the fallback's write path).
    writer = open_watch(site.browse(contexts, OWNER), slug, "?transport=sse")
    expect(writer.get_by_test_id("connection-state")).to_have_attribute("title", "Connected over SSE")

    text = f"canvas probe {uuid.uuid4().hex[:6]}"
    writer.get_by_test_id("danmaku-mode").select_option("top")
    writer.get_by_test_id("danmaku-size").select_option("large")
    writer.get_by_role("button", name="red").click()
    box = writer.get_by_test_id("danmaku-input")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)

    comment = shown(viewer, text)
    assert (comment["mode"], comment["size"], comment["color"]) == ("top", "large", "#fe0302")
    assert comment["user"] == OWNER
    stage = viewer.evaluate("(({width, height}) => ({width, height}))(window.danmaku.snapshot())")
    assert abs(comment["x"] + comment["w"] / 2 - stage["width"] / 2) < 2  # top comments are centred
    assert comment["y"] < 20
    assert shown(writer, text)["mine"] is True
    # The pixels are there: red text inside its rectangle, nothing far below it.
    counts = viewer.evaluate(
        """([x, y, w, h]) => {
          const canvas = document.querySelector('[data-testid="danmaku-canvas"]');
          const ratio = canvas.width / canvas.clientWidth;
          const scaled = (values) => values.map((value) => Math.round(value * ratio));
          const pixels = (...box) => canvas.getContext("2d").getImageData(...scaled(box)).data;
          const inside = pixels(x, y, w, h);
          let red = 0;
          for (let i = 0; i < inside.length; i += 4) {
            if (inside[i + 3] > 200 && inside[i] > 200 && inside[i + 1] < 80) red += 1;
          }
          const below = pixels(x, y + 200, w, h);
          let painted = 0;
          for (let i = 3; i < below.length; i += 4) if (below[i] > 0) painted += 1;
          return { red, painted };
        }""",
        [comment["x"], comment["y"], comment["w"], comment["h"]],
    )
    assert counts["red"] > 100, counts
    assert counts["painted"] == 0, counts
    # The chat list beside the video shows it too, from the same stream.
    expect(viewer.locator(".msg .msg-text", has_text=text)).to_have_count(1)


def test_a_burst_on_the_watch_page_never_overlaps_within_a_track_type(
    contexts: Contexts, site: DanmakuSite
) -> None:
    slug = site.rooms["burst"]
    page = open_watch(site.browse(contexts), slug)
    rng = random.Random(11)
    post_danmaku(site, slug, "bob", random_comments(rng, 160, f"burst-{uuid.uuid4().hex[:4]}"))
    page.wait_for_function("() => window.danmaku.snapshot().comments.length >= 40", timeout=LIVE_MS)
    frames = page.evaluate(SAMPLE_FRAMES, [40, 3])
    assert max(len(frame) for frame in frames) >= 40
    for frame in frames:
        assert not overlaps(frame), overlaps(frame)[:5]
    modes = {comment["mode"] for frame in frames for comment in frame}
    assert modes == set(MODES)


def test_overlay_density_cap(contexts: Contexts, site: DanmakuSite) -> None:
    slug = site.rooms["burst"]
    overlay = open_overlay(site.browse(contexts), slug, "?density=6&speed=2")
    overlay.evaluate(RECORD_FRAMES)
    prefix = f"dense-{uuid.uuid4().hex[:4]}"
    # 40 comments a second for 3 s.
    post_danmaku(site, slug, "carol", [{"text": f"{prefix} {index}"} for index in range(120)], interval=0.025)
    overlay.wait_for_function("() => window.danmaku.stats().waiting === 0")
    record = overlay.evaluate("({most: window.__most, seen: [...window.__seen]})")
    stats = overlay.evaluate("window.danmaku.stats()")
    assert 4 <= stats["maxOnScreen"] <= 6, stats  # close to the cap, never past it
    assert record["most"] <= 6, record
    assert stats["density"] > 60, stats  # most were passed over, not queued for later
    # What was shown is spread over the whole stream, not taken from its start.
    indexes = sorted(int(text.rsplit(" ", 1)[1]) for text in record["seen"] if text.startswith(prefix))
    assert indexes[0] < 30, indexes
    assert indexes[-1] >= 90, indexes


def test_recorded_video_seek_pause_and_post(contexts: Contexts, site: DanmakuSite) -> None:
    slug = site.rooms["video"]
    marker = uuid.uuid4().hex[:6]
    early, late = f"early {marker}", f"late {marker}"
    post_danmaku(
        site,
        slug,
        "bob",
        [
            {"text": early, "video_ms": 5_000},
            {"text": late, "video_ms": 60_000},
            *({"text": f"later {marker} {index}", "video_ms": 61_000 + 500 * index} for index in range(20)),
        ],
    )
    page = open_watch(site.browse(contexts, OWNER), slug)
    expect(page.get_by_test_id("video-admin-link")).to_be_visible()
    video = page.get_by_test_id("video")
    expect(video).to_have_attribute("src", site.video_url)
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    assert page.evaluate("document.querySelector('video').paused")
    assert on_screen(page) == []

    # Seeking to 61 s shows what is in flight there, mid-way across; nothing from 5 s.
    page.evaluate("document.querySelector('video').currentTime = 61")
    comment = shown(page, late)
    width = page.evaluate("window.danmaku.snapshot().width")
    assert comment["x"] < width - 20  # entered a second ago: already on its way
    assert early not in texts_on_screen(page)
    assert page.evaluate("window.danmaku.windowRequests()") >= 1

    # Paused: nothing moves.
    page.evaluate(WAIT_FRAMES, 20)
    assert shown(page, late)["x"] == comment["x"]
    # Playing: it moves; paused again: it stops again.
    page.evaluate("document.querySelector('video').play()")
    page.wait_for_function(
        "([text, x]) => window.danmaku.snapshot().comments.some((c) => c.text === text && c.x < x - 20)",
        arg=[late, comment["x"]],
        timeout=LIVE_MS,
    )
    page.evaluate("document.querySelector('video').pause()")
    page.wait_for_function("() => document.querySelector('video').paused")
    page.evaluate(WAIT_FRAMES, 2)
    stopped = shown(page, late)["x"]
    page.evaluate(WAIT_FRAMES, 20)
    assert shown(page, late)["x"] == stopped

    # Seeking back shows the early comment and drops the late ones.
    page.evaluate("document.querySelector('video').currentTime = 5.5")
    shown(page, early)
    page.wait_for_function(
        "text => !window.danmaku.snapshot().comments.some((c) => c.text === text)",
        arg=late,
    )

    # A comment posted now carries the video's position and shows at once for its writer.
    page.evaluate("document.querySelector('video').currentTime = 30")
    page.wait_for_function("() => Math.abs(document.querySelector('video').currentTime - 30) < 0.01")
    posted = f"at thirty {marker}"
    box = page.get_by_test_id("danmaku-input")
    box.fill(posted)
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)
    assert shown(page, posted)["mine"] is True
    window = httpx.get(
        f"{site.base_url}/rooms/{slug}/danmaku", params={"from_ms": 29_000, "to_ms": 31_000}
    ).json()
    mine = [event for event in window["events"] if event["text"] == posted]
    assert len(mine) == 1, window
    assert abs(mine[0]["video_ms"] - 30_000) <= 50, mine

    # Someone else's comment for a moment just ahead arrives over the stream and waits for it.
    ahead = f"just ahead {marker}"
    post_danmaku(site, slug, "bob", [{"text": ahead, "video_ms": 31_000}])
    # The chat list shows it: the same stream event reached the renderer.
    expect(page.locator(".msg .msg-text", has_text=ahead)).to_have_count(1, timeout=LIVE_MS)
    page.evaluate(WAIT_FRAMES, 10)
    assert ahead not in texts_on_screen(page)  # paused at 30 s
    page.evaluate("document.querySelector('video').play()")
    shown(page, ahead)
    assert page.evaluate("document.querySelector('video').currentTime") >= 31


def test_overlay_is_transparent_and_drops_a_deleted_comment_at_once(
    contexts: Contexts, site: DanmakuSite
) -> None:
    slug = site.rooms["overlay"]
    context = site.browse(contexts, viewport=(960, 540))
    overlay = open_overlay(context, slug, "?speed=0.5")
    marker = uuid.uuid4().hex[:6]
    doomed, kept = f"delete me {marker}", f"keep me {marker}"
    doomed_ack, _ = post_danmaku(
        site,
        slug,
        "bob",
        [{"text": doomed, "mode": "top", "size": "large"}, {"text": kept, "mode": "bottom", "size": "large"}],
    )
    shown(overlay, kept)
    target = shown(overlay, doomed)

    image = decode_alpha(overlay.screenshot(omit_background=True))
    assert (image.width, image.height) == (960, 540)
    transparent = sum(row.count(0) for row in image.rows)
    assert transparent / (image.width * image.height) > 0.9
    for x, y in ((0, 0), (959, 0), (0, 539), (959, 539), (480, 270)):
        assert image.alpha(x, y) == 0, (x, y)
    rect = (
        int(target["x"]),
        int(target["y"]),
        int(target["x"] + target["w"]),
        int(target["y"] + target["h"]),
    )
    assert max(image.alphas(*rect)) > 200  # the comment itself is opaque

    answer = as_owner(site, slug, "mod/delete", {"id": doomed_ack["id"]})
    assert answer.status_code == 200, answer.text
    deleted_at = time.monotonic()
    overlay.wait_for_function(
        "text => !window.danmaku.snapshot().comments.some((c) => c.text === text)", arg=doomed, timeout=1_000
    )
    assert time.monotonic() - deleted_at < 1.0
    overlay.evaluate(WAIT_FRAMES, 2)
    image = decode_alpha(overlay.screenshot(omit_background=True))
    assert max(image.alphas(*rect)) == 0  # gone from the pixels, not only from the state
    assert kept in texts_on_screen(overlay)

    # ?chat=1: a chat list instead of flying comments, on the same transparent page.
    chat = open_overlay(context, slug, "?chat=1")
    expect(chat.get_by_test_id("danmaku-canvas")).to_have_count(0)
    line = f"chat line {marker}"
    post_danmaku(site, slug, "carol", [{"text": line}])
    expect(chat.get_by_test_id("messages").locator(".msg-text", has_text=line)).to_have_count(
        1, timeout=LIVE_MS
    )
    assert decode_alpha(chat.screenshot(omit_background=True)).alpha(959, 0) == 0


def test_overlay_of_a_private_room_reads_with_its_key(contexts: Contexts, site: DanmakuSite) -> None:
    slug = site.rooms["private"]
    key = overlay_key(site, slug)
    answer = as_owner(site, slug, "mod/settings", {"private": True})
    assert answer.status_code == 200, answer.text
    context = site.browse(contexts)  # OBS: no session, only the overlay's address
    refused = context.request.get(f"/rooms/{slug}/overlay")
    assert refused.status == 403

    overlay = open_overlay(context, slug, f"?key={key}")
    text = f"for the stream {uuid.uuid4().hex[:6]}"
    post_danmaku(site, slug, OWNER, [{"text": text}])
    shown(overlay, text)


def test_hostile_text_is_drawn_as_text(contexts: Contexts, site: DanmakuSite) -> None:
    slug = site.rooms["hostile"]
    page = open_watch(site.browse(contexts), slug)
    marker = uuid.uuid4().hex[:6]
    hostile = [
        f'{marker} <img src=x onerror="window.__pwned=1">',
        f"{marker} <script>window.__pwned=1</script>",
        f"{marker} bell\u0007null\u0000escape\u001b[31m",
        f"{marker} \u202eevil override\u202c \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
        f"{marker} Z" + "\u0336\u0310\u0351\u0300\u0489" * 15,
        f"{marker} " + "\ufdfd" * 40,
        f"{marker} \U0001f600\U0001f4a9 {ZERO_WIDTH_SPACES}",
    ]
    acks = post_danmaku(
        site, slug, "bob", [{"text": text, "mode": "scroll", "size": "large"} for text in hostile]
    )

    for ack in acks:
        page.wait_for_function(
            "id => window.danmaku.snapshot().comments.some((c) => c.id === id)",
            arg=ack["id"],
            timeout=LIVE_MS,
        )
    drawn = {comment["id"]: comment for comment in on_screen(page)}
    row_unit = page.evaluate("window.danmaku.snapshot().rowUnit")
    for ack in acks:
        comment = drawn[ack["id"]]
        listed = page.locator(f'.msg[data-id="{ack["id"]}"] .msg-text').text_content()
        assert comment["text"] == listed  # the same characters in the chat list and on the canvas
        assert not any(ord(character) < 0x20 for character in comment["text"])
        assert comment["h"] <= comment["track"]["rows"] * row_unit  # stays inside its own rows
        assert comment["w"] <= MAX_SPRITE_WIDTH_PX
    assert drawn[acks[0]["id"]]["text"] == hostile[0]  # markup kept as characters
    assert (
        page.locator(
            "[data-testid=danmaku-stage] *:not(canvas, .player-state, .player-state *),"
            " .message-list img, .message-list script"
        ).count()
        == 0
    )
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_viewer_settings_persist_locally_and_across_browsers(contexts: Contexts, site: DanmakuSite) -> None:
    slug = site.rooms["settings"]
    marker = uuid.uuid4().hex[:6]

    # A guest's settings stay in this browser (localStorage) and filter what is drawn.
    guest = open_watch(site.browse(contexts), slug)
    guest.get_by_text("Comment display").click()
    guest.get_by_test_id("setting-opacity").fill("0.5")
    guest.get_by_test_id("setting-scale").fill("0.25")  # the overlay's smallest, too
    guest.get_by_test_id("hide-top").check()
    # A pattern the server would refuse is refused here first, in the server's words.
    guest.get_by_test_id("block-keyword-input").fill("/(?=spoiler)/")
    guest.get_by_test_id("block-keyword-add").click()
    expect(guest.locator("[data-list=blocked_keywords] [data-list-error]")).to_have_text(
        "/(?=spoiler)/ cannot be used: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported."
    )
    guest.get_by_test_id("block-keyword-input").fill("spoiler")
    guest.get_by_test_id("block-keyword-add").click()
    guest.get_by_test_id("block-keyword-input").fill("/^regex\\d+/")
    guest.get_by_test_id("block-keyword-input").press("Enter")
    expect(guest.get_by_test_id("settings-status")).to_have_attribute("data-state", "local")
    guest.reload()
    expect(guest.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")
    expect(guest.get_by_test_id("setting-opacity")).to_have_value("0.5")
    expect(guest.get_by_test_id("setting-scale")).to_have_value("0.25")
    expect(guest.get_by_test_id("hide-top")).to_be_checked()
    expect(guest.get_by_test_id("blocked-keywords")).to_contain_text("spoiler")
    view = guest.evaluate("window.danmaku.snapshot().view")
    assert view["opacity"] == 0.5
    assert view["scale"] == 0.25
    assert view["hidden_modes"] == ["top"]
    assert view["blocked_keywords"] == ["spoiler", "/^regex\\d+/"]
    stored = json.loads(guest.evaluate("localStorage.getItem('danmaku:viewer-settings')"))
    assert stored["opacity"] == 0.5

    visible = f"visible {marker}"
    post_danmaku(
        site,
        slug,
        "bob",
        [
            {"text": f"big SPOILER {marker}"},
            {"text": f"regex42 {marker}"},
            {"text": f"on top {marker}", "mode": "top"},
            {"text": visible},
        ],
    )
    shown(guest, visible)
    assert texts_on_screen(guest) == {visible}
    assert guest.evaluate("window.danmaku.stats().filtered") >= 3

    # A signed-in viewer's settings follow them to another browser.
    first = open_watch(site.browse(contexts, OWNER), slug)
    first.get_by_text("Comment display").click()
    first.get_by_test_id("setting-speed").fill("2")
    first.get_by_test_id("setting-scale").fill("4")  # the overlay's largest: saved to the account too
    first.get_by_test_id("block-user-input").fill("carol")
    first.get_by_test_id("block-user-add").click()
    expect(first.get_by_test_id("settings-status")).to_have_attribute("data-state", "saved", timeout=LIVE_MS)

    # Another browser signs in by itself: a session of its own, and none of the first's storage.
    elsewhere = contexts.new(site.base_url, cookies=login(site.base_url, OWNER), viewport=site.viewport)
    second = open_watch(elsewhere, slug)
    expect(second.get_by_test_id("setting-speed")).to_have_value("2")
    expect(second.get_by_test_id("setting-scale")).to_have_value("4")
    expect(second.get_by_test_id("blocked-users")).to_contain_text("carol")
    assert second.evaluate("window.danmaku.snapshot().view.speed") == 2
    assert second.evaluate("window.danmaku.snapshot().view.scale") == 4
    post_danmaku(site, slug, "carol", [{"text": f"from carol {marker}"}])
    post_danmaku(site, slug, "bob", [{"text": f"from bob {marker}"}])
    shown(second, f"from bob {marker}")
    assert f"from carol {marker}" not in texts_on_screen(second)


# The frame rate with 300+ comments on screen at 1920x1080: the real requestAnimationFrame loop,
# fed 80 comments a second until 300 are on screen, then measured for 4 s while still fed.
FRAME_RATE = """async () => {
  const { DanmakuRenderer } = await import("/static/js/danmaku/renderer.js");
  const canvas = document.createElement("canvas");
  canvas.style.cssText = "position:fixed;inset:0;width:100vw;height:100vh";
  document.body.append(canvas);
  const renderer = new DanmakuRenderer(canvas, { density: 400 });
  const modes = ["scroll", "scroll", "scroll", "scroll", "scroll", "scroll", "reverse", "top", "bottom"];
  const sizes = ["small", "medium", "medium", "large"];
  const colors = ["#ffffff", "#ffffff", "#fe0302", "#00cd00", "#00a2ff", "#ffd302"];
  let seq = 0;
  const feed = setInterval(() => {
    for (let index = 0; index < 4; index++) {
      seq += 1;
      renderer.push({
        seq, id: seq, kind: "danmaku", user: { id: 1, name: "writer" }, video_ms: null,
        text: `comment ${seq} ` + "w".repeat(seq % 12), mode: modes[seq % modes.length],
        size: sizes[seq % sizes.length], color: colors[seq % colors.length],
      });
    }
  }, 50);
  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const started = performance.now();
  while (renderer.snapshot().comments.length < 300 && performance.now() - started < 30000) await wait(100);
  renderer.resetStats();
  let least = Infinity;
  for (let index = 0; index < 40; index++) {
    await wait(100);
    least = Math.min(least, renderer.snapshot().comments.length);
  }
  clearInterval(feed);
  return { least, stats: renderer.stats() };
}"""


@pytest.mark.alone  # measures frames per second
def test_frame_rate_with_300_comments_on_screen(contexts: Contexts, site: DanmakuSite) -> None:
    page = harness_page(site.browse(contexts, viewport=(1920, 1080)))
    result = page.evaluate(FRAME_RATE)
    stats = result["stats"]
    print(
        f"\n300+ comments at 1920x1080: {stats['fps']:.1f} fps,"
        f" frame interval p50 {stats['frameMs']['p50']:.1f} ms,"
        f" p95 {stats['frameMs']['p95']:.1f} ms, p99 {stats['frameMs']['p99']:.1f} ms,"
        f" {stats['frameMs']['over20']} of {stats['frames']} frames over 20 ms;"
        f" renderer work per frame p50 {stats['costMs']['p50']:.1f} ms, p95 {stats['costMs']['p95']:.1f} ms;"
        f" {result['least']} to {stats['maxOnScreen']} comments on screen"
    )
    assert result["least"] >= 300
    assert stats["frames"] >= 150
    # A steady 60 fps is 16.7 ms a frame. The margin is for a test machine busy with other work
    # (docs/RENDERER.md), not for a renderer that cannot keep up: that one sits at 33 ms.
    assert stats["frameMs"]["p50"] <= 18, stats
    assert stats["fps"] >= 45, stats
