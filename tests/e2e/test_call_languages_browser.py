"""The call page in Chinese, in Chromium (fake camera and microphone): what the page's script
writes (the status line, the tiles' names and states, the mute buttons, a moderator's "remove"
button and the removed page's notice) comes from the catalog the page embeds
(static/js/call/, static/js/pages/call.js)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .browsing import LIVE_MS, Contexts
from .calling import MEDIA_MS, callers, media_browser, open_call, tile_of
from .conftest import USERS, DaphneServer, create_rooms, login

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(180), pytest.mark.alone]

__all__ = ["callers", "media_browser"]  # fixtures


@pytest.fixture(scope="module")
def slug(e2e_env: dict[str, str]) -> str:
    name = "call-in-chinese"
    create_rooms(e2e_env, {name: ["--title", "通话", "--owner", "alice"]})
    return name


def in_chinese(callers: Contexts, server: DaphneServer, user: str) -> BrowserContext:
    """`user` signed in, with the language cookie the header's picker sets."""
    return callers.new(server.base_url, cookies={**login(server.base_url, user), "language": "zh-hans"})


def join(page: Page, *, camera: bool) -> None:
    page.get_by_test_id("use-camera").set_checked(camera)
    page.get_by_test_id("join-call").click()
    expect(page.get_by_test_id("leave-call")).to_be_visible(timeout=MEDIA_MS)


def test_the_call_pages_own_strings_are_in_chinese(
    callers: Contexts, server: DaphneServer, slug: str
) -> None:
    alice = open_call(in_chinese(callers, server, "alice"), slug)
    expect(alice.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(alice.get_by_test_id("join-call")).to_have_text("加入通话")
    join(alice, camera=True)
    expect(alice.get_by_test_id("call-status")).to_have_text("通话中。")
    mine = alice.locator('[data-testid="call-tile"][data-self="true"]')
    expect(mine.get_by_test_id("tile-name")).to_have_text("alice（你）")  # noqa: RUF001

    alice.get_by_test_id("mute-mic").click()
    expect(alice.get_by_test_id("mute-mic")).to_have_text("取消麦克风静音")
    expect(mine.get_by_test_id("tile-state")).to_have_text("麦克风已静音", timeout=LIVE_MS)
    alice.get_by_test_id("mute-camera").click()
    expect(alice.get_by_test_id("mute-camera")).to_have_text("打开摄像头")
    expect(mine.get_by_test_id("tile-state")).to_have_text("麦克风已静音、摄像头已关闭", timeout=LIVE_MS)

    bob = open_call(in_chinese(callers, server, "bob"), slug)
    join(bob, camera=False)
    theirs = tile_of(alice, "bob")
    expect(theirs.get_by_test_id("tile-state")).to_have_text("仅音频", timeout=LIVE_MS)
    expect(theirs.get_by_test_id("remove-participant")).to_have_text("移出通话")
    theirs.get_by_test_id("remove-participant").click()
    expect(bob.get_by_test_id("call-status")).to_have_text(
        "管理员已将你移出通话。10 分钟后可以重新加入。", timeout=LIVE_MS
    )

    alice.get_by_test_id("leave-call").click()
    expect(alice.get_by_test_id("call-status")).to_have_text("你已离开通话。")
    expect(alice.get_by_test_id("join-call")).to_have_text("加入通话")
    for page in (alice, bob):
        assert english_words(page) == set()


# Words that are the same in every language: names, API and WebSocket, the picker's language names.
NOT_ENGLISH = {"API", "English", "WebSocket", *USERS}  # USERS: the suite's accounts


def english_words(page: Page) -> set[str]:
    """Latin words of three letters or more that the page shows (text and labels)."""
    shown = page.locator("body").inner_text()
    labels = page.eval_on_selector_all(
        "[aria-label], [placeholder], [title]",
        "nodes => nodes.map(n => [n.ariaLabel, n.placeholder, n.title].filter(Boolean).join(' '))",
    )
    words = set(re.findall(r"[A-Za-z]{3,}", " ".join([shown, *labels])))
    return words - NOT_ENGLISH
