"""The interface's languages in a real Chromium against a real daphne: the browser's language picks
the page's, the client's own strings come from the catalog the page embeds, and the header's
picker switches and remembers (chat/web/language.py, static/js/ui/i18n.js)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .browsing import LIVE_MS, Contexts
from .conftest import Site, create_rooms, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    room = f"lang-{uuid.uuid4().hex[:8]}"
    create_rooms(e2e_env, {room: ["--title", "Languages"]})
    with running_server(e2e_env, tmp_path_factory.mktemp("languages")) as server:
        yield Site(server, {"main": room}, viewport=(1366, 900))


def test_a_japanese_browser_gets_the_room_in_japanese_and_the_clients_own_strings_too(
    contexts: Contexts, site: Site
) -> None:
    context = contexts.browser.new_context(base_url=site.base_url, locale="ja-JP")
    contexts.append(context)
    page = context.new_page()
    page.goto(f"/rooms/{site.rooms['main']}/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    state = page.get_by_test_id("connection-state")
    expect(state).to_have_attribute("data-state", "live", timeout=LIVE_MS)
    expect(state).to_have_text("接続済み")  # written by the client, from the embedded catalog
    expect(state).to_have_attribute("title", "WebSocket で接続中")
    expect(page.get_by_test_id("login-notice")).to_contain_text("ログインして投稿")
    expect(page.get_by_role("link", name="ログイン", exact=True)).to_be_visible()


def test_the_picker_switches_the_language_and_the_browser_keeps_it(contexts: Contexts, site: Site) -> None:
    context = contexts.browser.new_context(base_url=site.base_url, locale="en-US")
    contexts.append(context)
    page = context.new_page()
    page.goto(f"/rooms/{site.rooms['main']}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("connection-state")).to_have_text("Connected", timeout=LIVE_MS)
    expect(page.locator("[data-language-submit]")).to_be_hidden()  # the select sends it
    page.get_by_test_id("language-picker").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(f"{site.base_url}/rooms/{site.rooms['main']}/")  # back where it was
    expect(page.get_by_test_id("connection-state")).to_have_text("已连接", timeout=LIVE_MS)
    expect(page.get_by_test_id("send-button").or_(page.get_by_test_id("login-notice"))).to_contain_text(
        "登录"
    )
    assert {cookie["name"]: cookie["value"] for cookie in context.cookies()}["language"] == "zh-hans"
    again = context.new_page()
    again.goto("/")
    expect(again.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(again.get_by_role("heading", name="房间")).to_be_visible()
