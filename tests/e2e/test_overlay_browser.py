"""The overlay's history and safety delay in a real Chromium: `?chat=1` starts with the latest
messages, and `?delay=SECONDS` holds every comment back, so that a moderator's delete lands
before the stream's audience sees it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from .browsing import LIVE_MS, Contexts, open_overlay
from .conftest import Site, create_rooms, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OWNER = "alice"
DELAY_S = 3


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    suffix = uuid.uuid4().hex[:8]
    rooms = {role: f"ov-{role}-{suffix}" for role in ("history", "delay")}
    create_rooms(e2e_env, {slug: ["--title", role.title(), "--owner", OWNER] for role, slug in rooms.items()})
    with running_server(e2e_env, tmp_path_factory.mktemp("overlay")) as server:
        yield Site(server, rooms, viewport=(1280, 720))


def chat_lines(page: Page) -> list[str]:
    texts: list[str] = page.get_by_test_id("messages").locator(".msg-text").all_inner_texts()
    return texts


def test_the_chat_overlay_starts_with_the_latest_messages(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["history"]
    site.post_messages(slug, "bob", [f"old {index}" for index in range(60)])
    context = site.browse(contexts)
    page = open_overlay(context, slug, "?chat=1")
    expect(page.get_by_test_id("messages").locator(".msg-text")).to_have_count(50)
    assert chat_lines(page) == [f"old {index}" for index in range(10, 60)]
    # Then live, after them, without a repeat.
    site.post_messages(slug, "bob", ["new one"])
    expect(page.get_by_test_id("messages").locator(".msg-text")).to_have_count(51, timeout=LIVE_MS)
    assert chat_lines(page)[-2:] == ["old 59", "new one"]

    few = open_overlay(context, slug, "?chat=1&history=5")
    expect(few.get_by_test_id("messages").locator(".msg-text")).to_have_count(5)
    assert chat_lines(few) == ["old 56", "old 57", "old 58", "old 59", "new one"]
    none = open_overlay(context, slug, "?chat=1&history=0")
    expect(none.get_by_test_id("messages").locator(".msg-text")).to_have_count(0)


def test_the_delay_holds_comments_back_and_a_delete_within_it_is_never_shown(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["delay"]
    page = open_overlay(site.browse(contexts), slug, f"?chat=1&history=0&delay={DELAY_S}")
    flying = open_overlay(site.browse(contexts), slug, f"?delay={DELAY_S}")
    marker = uuid.uuid4().hex[:6]
    doomed, kept = f"doomed {marker}", f"kept {marker}"
    posted_at = time.monotonic()
    style = {"type": "danmaku", "mode": "top", "color": "#ffffff", "size": "medium", "video_ms": None}
    acks = site.post(slug, "bob", [{**style, "text": doomed}, {**style, "text": kept}], 0)
    assert [ack["type"] for ack in acks] == ["ack", "ack"], acks
    page.wait_for_timeout(1_000)
    assert chat_lines(page) == []  # held back
    assert flying.evaluate("window.danmaku.snapshot().comments") == []
    answer = site.api(OWNER, slug).post("mod/delete", {"id": acks[0]["id"]})
    assert answer.status_code == 200, answer.text

    expect(page.get_by_test_id("messages").locator(".msg-text")).to_have_count(
        1, timeout=LIVE_MS + DELAY_S * 1000
    )
    assert time.monotonic() - posted_at >= DELAY_S - 0.5
    assert chat_lines(page) == [kept]
    flying.wait_for_function(
        "text => window.danmaku.snapshot().comments.some((c) => c.text === text)", arg=kept, timeout=LIVE_MS
    )
    seen = flying.evaluate("window.danmaku.snapshot().comments.map((c) => c.text)")
    assert doomed not in seen
