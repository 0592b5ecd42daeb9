"""Chat delay in a real Chromium against a real daphne (whose release loop publishes the delayed
messages), with the moderator, the author and another viewer in separate browser profiles: the
setting saved on the moderator's panel and labelled on the room page; the author's message
pending with its time, then published; the other viewer sees it only after the delay; a
message the moderator removes during the delay is never seen by anyone else; the moderator's own
message appears at once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from .browsing import LIVE_MS, Contexts, message_line, open_live, open_room, send_message
from .conftest import Site, create_rooms, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OWNER = "alice"
DELAY_S = 12  # long enough for the moderator to remove a message on a busy machine
REJECTED_TEXT = "not approved by a moderator: no one else saw it"  # static/js/ui/messages.js


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    slug = f"delay-{uuid.uuid4().hex[:8]}"
    create_rooms(e2e_env, {slug: ["--owner", OWNER]})
    with running_server(e2e_env, tmp_path_factory.mktemp("delay")) as server:
        yield Site(server, {"delay": slug}, viewport=(1400, 1000))


def open_moderate(context: BrowserContext, slug: str) -> Page:
    page = open_live(context, f"/rooms/{slug}/moderate")
    expect(page.get_by_test_id("room-owner")).to_have_text(OWNER)
    return page


def in_list(page: Page, text: str) -> Locator:
    return message_line(page, text, within=page.get_by_test_id("messages"))


def pending_line(page: Page, text: str) -> Locator:
    return message_line(page, text, within=page.get_by_test_id("pending"))


def test_delayed_messages_appear_after_the_delay_unless_a_moderator_removes_them(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["delay"]
    marker = uuid.uuid4().hex[:6]
    moderator_context = site.browse(contexts, OWNER)
    moderator = open_moderate(moderator_context, slug)
    bob = open_room(site.browse(contexts, "bob"), slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=sse")

    # The moderator turns the delay on from the settings panel; everyone's page labels it.
    expect(moderator.get_by_test_id("set-chat-delay")).to_have_value("0")
    moderator.get_by_test_id("set-chat-delay").fill(str(DELAY_S))
    moderator.get_by_test_id("settings-save").click()
    expect(moderator.get_by_test_id("settings-status")).to_have_text("Saved.", timeout=LIVE_MS)
    label = f"Chat delay: messages appear {DELAY_S} s after they are sent"
    for page in (bob, carol):
        expect(page.get_by_test_id("room-mode")).to_have_text(label, timeout=LIVE_MS)
    owner = open_room(moderator_context, slug, "?transport=poll")
    expect(owner.get_by_test_id("room-mode")).to_have_text(f"{label} (not for you: you moderate)")

    # Bob's message: pending for him, with when it appears; nobody else has it until then.
    kept = f"worth the wait {marker}"
    sent = time.monotonic()
    send_message(bob, kept)
    expect(pending_line(bob, kept)).to_contain_text("pending: appears to everyone at")
    expect(in_list(bob, kept)).to_have_count(0)
    carol.wait_for_timeout((DELAY_S - 4) * 1000)
    assert time.monotonic() - sent < DELAY_S - 1
    expect(message_line(carol, kept)).to_have_count(0)
    expect(message_line(owner, kept)).to_have_count(0)
    # Then it appears for everyone, and replaces bob's pending line.
    for page in (carol, bob, owner):
        expect(in_list(page, kept)).to_have_count(1, timeout=DELAY_S * 1000)
    assert time.monotonic() - sent >= DELAY_S - 1
    expect(pending_line(bob, kept)).to_have_count(0)

    # The moderator posts at once.
    quick = f"moderators are not delayed {marker}"
    send_message(owner, quick)
    expect(in_list(carol, quick)).to_have_count(1, timeout=LIVE_MS)
    expect(pending_line(owner, quick)).to_have_count(0)

    # A message the moderator removes during the delay: its author is told, nobody sees it.
    rude = f"something rude {marker}"
    send_message(bob, rude)
    removed_at = time.monotonic()
    moderator.reload()
    queue = moderator.get_by_test_id("review-queue").locator("[data-testid=review-item]")
    item = queue.filter(has_text=rude)
    expect(item).to_have_count(1, timeout=LIVE_MS)
    expect(item).to_contain_text("chat delay")
    expect(item).to_contain_text("appears at")
    item.get_by_test_id("review-reject").click()
    assert time.monotonic() - removed_at < DELAY_S
    expect(pending_line(bob, rude)).to_contain_text(REJECTED_TEXT, timeout=LIVE_MS)
    carol.wait_for_timeout(max(0, int((DELAY_S + 3 - (time.monotonic() - removed_at)) * 1000)))
    for page in (carol, owner, bob):
        expect(in_list(page, rude)).to_have_count(0)
    expect(message_line(carol, rude)).to_have_count(0)
    # A fresh page of carol's (history) has the kept message, not the removed one.
    again = open_room(site.browse(contexts, "carol"), slug, "?transport=poll")
    expect(in_list(again, kept)).to_have_count(1, timeout=LIVE_MS)
    expect(message_line(again, rude)).to_have_count(0)
