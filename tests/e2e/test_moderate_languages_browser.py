"""The moderator's page for a Japanese (and a Chinese) browser, in a real Chromium against a
real daphne: the template's strings, the ones its scripts write (a notice, an audit entry, the
sanctions, the figures and the chart) and the audit log's times in the browser's language, with
no English left on screen."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, expect

from .browsing import LIVE_MS, Contexts, open_live
from .conftest import USERS, Site, create_rooms, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OWNER = "alice"
# Latin words the page may show in Japanese too: names (the suite's accounts), formats and protocol words.
LATIN_ALLOWED = {
    "xml",
    "http",
    "webhook",
    "bilibili",
    "niconico",
    "pattern",
    *USERS,
}  # USERS: the suite's accounts


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    room = f"modja-{uuid.uuid4().hex[:8]}"
    create_rooms(e2e_env, {room: ["--owner", OWNER, "--title", "テストのルーム"]})
    with running_server(e2e_env, tmp_path_factory.mktemp("moderate-languages")) as server:
        yield Site(server, {"main": room}, viewport=(1400, 1000))


def browser_in(
    contexts: Contexts, site: Site, user: str, locale: str = "ja-JP", timezone: str = "Asia/Tokyo"
) -> BrowserContext:
    """A profile of a browser in `locale` and `timezone` (Japan by default), signed in as `user`."""
    context = contexts.browser.new_context(
        base_url=site.base_url,
        locale=locale,
        timezone_id=timezone,
        viewport={"width": 1400, "height": 1000},
    )
    contexts.append(context)
    context.on("page", lambda page: page.on("pageerror", lambda error: contexts.page_errors.append(error)))
    cookies = site.sessions(user).items()
    context.add_cookies([{"name": name, "value": value, "url": site.base_url} for name, value in cookies])
    return context


def test_a_japanese_moderator_gets_the_page_its_scripts_and_its_times_in_japanese(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["main"]
    site.post_messages(slug, "bob", ["bob です、こんにちは", "もう一度"])
    page = open_live(browser_in(contexts, site, OWNER), f"/rooms/{slug}/moderate")
    expect(page.locator("html")).to_have_attribute("lang", "ja")

    # The template's strings.
    expect(page.get_by_role("heading", name="ライブフィード")).to_be_visible()
    expect(page.get_by_role("heading", name="操作ログ")).to_be_visible()
    expect(page.get_by_test_id("sanction-timeout")).to_have_text("タイムアウト")
    expect(page.get_by_test_id("settings-save")).to_have_text("設定を保存")
    expect(page.get_by_test_id("sanction-user")).to_have_attribute("placeholder", "ユーザー名")
    expect(page.get_by_test_id("timeout-duration").locator("option:checked")).to_have_text("5 分")
    expect(page.get_by_test_id("dry-run")).to_have_text("直近 1,000 件のメッセージで試す")

    # What the scripts write: the people, the feed's buttons, the figures and the chart.
    expect(page.get_by_test_id("room-owner")).to_have_text(OWNER, timeout=LIVE_MS)
    expect(page.get_by_test_id("moderators")).to_have_text("任命されていません。")
    feed = page.get_by_test_id("feed")
    expect(feed.get_by_test_id("ban").first).to_have_text("追放", timeout=LIVE_MS)
    expect(page.get_by_test_id("per-hour")).to_have_text("2", timeout=LIVE_MS)
    chart = page.get_by_test_id("rate-chart")
    expect(chart.locator(".rate-scale")).to_have_text("2 件/分")
    described = re.compile(r"^直近 60 分間のメッセージ 2 件。")
    expect(chart.locator("svg")).to_have_attribute("aria-label", described)

    # An action: its notice, the sanction it made, and its entry in the audit log.
    page.get_by_test_id("sanction-user").fill("bob")
    page.get_by_test_id("sanction-timeout").click()
    told = "bob を 5 分 タイムアウトしました。"
    expect(page.get_by_test_id("mod-notice")).to_have_text(told, timeout=LIVE_MS)
    sanction = page.get_by_test_id("sanctions").locator('li[data-name="bob"]')
    expect(sanction).to_contain_text("タイムアウト中\uff1a残り 5 分", timeout=LIVE_MS)
    expect(sanction.get_by_test_id("lift")).to_have_attribute("aria-label", "bob のタイムアウトを解除")
    entry = page.get_by_test_id("audit-log").locator('[data-action="timeout"]')
    expect(entry.locator(".audit-line")).to_have_text("alice が bob をタイムアウト", timeout=LIVE_MS)
    expect(entry.locator(".audit-detail")).to_contain_text("秒数")
    time = entry.locator("time").first
    expect(time).to_have_text(re.compile(r"^\d{2}:\d{2}:\d{2}$"))  # the 24-hour clock, no AM or PM
    expect(time).to_have_attribute("title", re.compile(r"^\d{4}/\d{2}/\d{2} \d{1,2}:\d{2}:\d{2}$"))

    # Nothing in English left on the page's visible text (but names and the formats' own words).
    shown = page.get_by_test_id("moderate").inner_text()
    words = {word.lower() for word in re.findall(r"[A-Za-z]{3,}", shown)} - LATIN_ALLOWED
    words -= {slug.split("-")[0]}
    assert words == set(), f"English on the Japanese page: {sorted(words)}"


def test_a_chinese_moderator_gets_the_page_and_its_scripts_in_chinese(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["main"]
    context = browser_in(contexts, site, OWNER, locale="zh-CN", timezone="Asia/Shanghai")
    page = open_live(context, f"/rooms/{slug}/moderate")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="禁言和封禁")).to_be_visible()
    expect(page.get_by_test_id("sanction-ban")).to_have_text("封禁")
    expect(page.get_by_test_id("moderators")).to_have_text("尚未任命。", timeout=LIVE_MS)
    page.get_by_test_id("sanction-user").fill("carol")
    page.get_by_test_id("sanction-ban").click()
    expect(page.get_by_test_id("mod-notice")).to_have_text("已将 carol 封禁。", timeout=LIVE_MS)
    entry = page.get_by_test_id("audit-log").locator('[data-action="ban"]')
    expect(entry.locator(".audit-line")).to_have_text("alice 封禁了 carol", timeout=LIVE_MS)
    expect(entry.locator("time").first).to_have_attribute(
        "title", re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}$")
    )
    shown = page.get_by_test_id("moderate").inner_text()
    words = {word.lower() for word in re.findall(r"[A-Za-z]{3,}", shown)} - LATIN_ALLOWED - {"carol"}
    words -= {slug.split("-")[0]}
    assert words == set(), f"English on the Chinese page: {sorted(words)}"
