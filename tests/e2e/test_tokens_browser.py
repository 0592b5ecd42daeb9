"""API tokens and bots in Chromium: the account's token page (make a token, shown once; see its
last use after a client used it; revoke it, and the revoked token is refused), and a bot in the
room page's online list."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from .browsing import LIVE_MS, Contexts, open_room
from .conftest import DEMO_ROOM, DaphneServer, login, manage

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_token_made_on_the_account_page_is_shown_once_shows_its_last_use_and_is_revoked(
    server: DaphneServer, contexts: Contexts
) -> None:
    name = f"stream bot <{uuid.uuid4().hex[:6]}>"  # other tests of the session make tokens too
    context = contexts.new(server.base_url, cookies=login(server.base_url, "alice"))
    page = context.new_page()
    page.goto("/accounts/tokens/")
    page.locator('input[name="name"]').fill(name)
    page.locator('input[name="scopes"][value="post"]').check()
    page.get_by_role("button", name="Create token").click()

    shown = page.get_by_test_id("new-token-value")
    expect(shown).to_be_visible()
    raw = shown.inner_text().strip()
    assert re.fullmatch(r"cdt_[A-Za-z0-9_-]{43}", raw), raw
    row = page.get_by_test_id("tokens").locator("tbody tr", has_text=name)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text(name)
    expect(row.locator("td").nth(1)).to_have_text(raw[:8] + "…")
    expect(row.locator("td").nth(2)).to_have_text("Read rooms, Post messages and comments")
    expect(row.locator("td").nth(5)).to_have_text("never")

    # Shown once: the page again has it no more.
    page.goto("/accounts/tokens/")
    expect(row).to_have_count(1)
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    assert raw not in page.content()

    # A client uses it, as curl would.
    bearer = {"Authorization": f"Bearer {raw}"}
    answer = httpx.post(
        f"{server.base_url}/rooms/{DEMO_ROOM}/messages", headers=bearer, json={"text": "from a script"}
    )
    assert answer.status_code == 200, answer.text
    page.reload()
    # In English's DATETIME_FORMAT ("Dec. 5, 2026, 4:35 p.m. UTC"), with the time zone.
    expect(row.locator("td").nth(5)).to_have_text(re.compile(r"^\w+\.? \d{1,2}, \d{4}, [\w:. ]+ UTC$"))

    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("heading", name="Your tokens")).to_be_visible()
    expect(row).to_have_count(0)
    read = httpx.get(f"{server.base_url}/rooms/{DEMO_ROOM}/state", headers=bearer)
    room = f"{server.base_url}/rooms/{DEMO_ROOM}"
    write = httpx.post(f"{room}/messages", headers=bearer, json={"text": "again"})
    for refused in (read, write):
        assert (refused.status_code, refused.json()["code"]) == (401, "token_revoked")


def test_the_online_list_shows_a_bot_with_its_badge(server: DaphneServer, contexts: Contexts) -> None:
    raw = manage(server.env, "createtoken", "carol", "--scopes", "read", "--bot").strip().splitlines()[-1]
    url = f"{server.ws_url}/ws/rooms/{DEMO_ROOM}/"
    with connect(url, additional_headers={"Authorization": f"Bearer {raw}"}, open_timeout=10) as bot:
        hello = json.loads(bot.recv(timeout=5))
        assert hello["me"]["bot"] is True
        page = open_room(contexts.new(server.base_url, cookies=login(server.base_url, "alice")), DEMO_ROOM)
        online = page.get_by_test_id("online-users")
        carol = online.locator("li", has_text="carol")
        expect(carol.locator(".bot-badge")).to_have_text("bot", timeout=LIVE_MS)
        expect(carol.locator("bdi")).to_have_text("carol")
        expect(online.locator("li", has_text="alice").locator(".bot-badge")).to_have_count(0)
