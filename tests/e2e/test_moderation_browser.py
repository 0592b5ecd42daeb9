"""The moderator's page in a real Chromium against a real daphne: who may open it, a delete that
leaves viewers' pages and the overlay within a second, a timed-out user told why, the page's
buttons (ban, time out, lift, clear, settings, review, people) and hostile text shown as text."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from .browsing import LIVE_MS, Contexts, message_line, open_live, open_overlay, open_room
from .conftest import Site, create_rooms, manage, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# A moderator's delete must be gone from every viewer's screen within this.
DELETE_GONE_MS = 1_000
# The page polls the review queue every 5 s.
REVIEW_MS = 10_000
OWNER = "alice"
ROOMS = ("access", "delete", "timeout", "buttons", "patterns", "review", "held", "people", "audit", "hostile")
# Audit entries the page shows at first; older ones come a page at a time.
AUDIT_PAGE = 50
# Markup, script, a javascript: link, bidi overrides, zero-width and control characters.
HOSTILE = (
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    '<a href="javascript:window.__pwned=1">click me</a> <b onmouseover="window.__pwned=1">bold?</b> &amp;',
    "\u202eevil override\u202c \u05e9\u05dc\u05d5\u05dd \u2067isolate",
    "zero\u200bwidth\u200d\ufeffjoin bell\u0007null\u0000esc\u001b[31m",
)
# Elements user text must never turn into.
INJECTED = "img, script, iframe, b, a[href^='javascript:'], [onerror], [onmouseover]"


@dataclass
class ModerationSite(Site):
    staff: str = ""  # a site staff user who owns no room


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModerationSite]:
    """One server for the module, a room per test (each owned by OWNER), and a staff user."""
    suffix = uuid.uuid4().hex[:8]
    rooms = {name: f"mod-{name}-{suffix}" for name in ROOMS}
    staff = f"staff{suffix}"
    create_rooms(e2e_env, {slug: ["--owner", OWNER] for slug in rooms.values()}, staff=[staff])
    with running_server(e2e_env, tmp_path_factory.mktemp("moderation")) as server:
        yield ModerationSite(server, rooms, viewport=(1400, 1000), staff=staff)


def open_moderate(context: BrowserContext, slug: str) -> Page:
    """The moderator's page of `slug`, its feed live and its first answers in."""
    page = open_live(context, f"/rooms/{slug}/moderate")
    expect(page.get_by_test_id("room-owner")).to_have_text(OWNER)  # the state endpoint answered
    return page


def feed_line(page: Page, text: str) -> Locator:
    """The line of the moderator's feed whose text is exactly `text`."""
    return message_line(page, text, within=page.get_by_test_id("feed"))


def notice(page: Page) -> Locator:
    return page.get_by_test_id("mod-notice")


def sanction(page: Page, user: str) -> Locator:
    return page.get_by_test_id("sanctions").locator(f'li[data-name="{user}"]')


def post(site: Site, slug: str, user: str, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send client frames (messages unless they say otherwise) as `user`; the answer to each."""
    return site.post(slug, user, [{"type": "message", **frame} for frame in frames])


def refusal(site: Site, slug: str, user: str, text: str) -> str:
    """The error code refusing `text` from `user` over HTTP (fails if it was accepted)."""
    answer = site.api(user, slug).post("messages", {"text": text})
    assert answer.status_code >= 400, answer.text
    return str(answer.json()["code"])


def test_only_moderators_may_open_the_page(contexts: Contexts, site: ModerationSite) -> None:
    slug = site.rooms["access"]
    guest = site.browse(contexts).new_page()
    guest.goto(f"/rooms/{slug}/moderate")
    guest.wait_for_url("**/accounts/login/**")
    expect(guest.get_by_label("Username")).to_be_visible()

    stranger = site.browse(contexts, "bob").new_page()
    answer = stranger.goto(f"/rooms/{slug}/moderate")
    assert answer is not None
    assert answer.status == 403
    expect(stranger.get_by_test_id("feed")).to_have_count(0)
    refused = site.api("bob", slug).post("mod/ban", {"user": "carol"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"

    owner = open_moderate(site.browse(contexts, OWNER), slug)
    expect(owner.get_by_role("heading", level=1)).to_contain_text(slug)
    expect(owner.get_by_test_id("room-link")).to_have_attribute("href", f"/rooms/{slug}/")
    expect(owner.get_by_test_id("moderator-name")).to_be_visible()  # the owner appoints moderators


def test_delete_leaves_the_room_page_and_the_overlay_within_a_second(
    contexts: Contexts, site: ModerationSite
) -> None:
    slug = site.rooms["delete"]
    marker = uuid.uuid4().hex[:6]
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    viewer_context = site.browse(contexts)
    viewer = open_room(viewer_context, slug)
    overlay = open_overlay(viewer_context, slug, "?speed=0.25")  # slow: the comment stays on screen

    kept, doomed_message, doomed_comment = f"kept {marker}", f"delete this {marker}", f"fly away {marker}"
    site.post_messages(slug, "carol", [kept, doomed_message])
    comment_ack = post(site, slug, "carol", [{"type": "danmaku", "text": doomed_comment, "mode": "top"}])[0]
    assert comment_ack["type"] == "ack", comment_ack
    for text in (kept, doomed_message, doomed_comment):
        expect(feed_line(moderator, text)).to_have_count(1, timeout=LIVE_MS)
        expect(message_line(viewer, text)).to_have_count(1, timeout=LIVE_MS)
    overlay.wait_for_function(
        "id => window.danmaku.snapshot().comments.some((c) => c.id === id)",
        arg=comment_ack["id"],
        timeout=LIVE_MS,
    )
    expect(feed_line(moderator, doomed_comment).locator(".kind-badge")).to_have_text("danmaku")
    # Viewers now: the moderator and the guests (guests without a session count one each).
    moderator.wait_for_function(
        "() => Number(document.querySelector('[data-testid=viewers-now]').textContent) >= 2", timeout=LIVE_MS
    )

    # The comment: off the overlay's screen and out of the viewer's list within a second.
    clicked = time.monotonic()
    feed_line(moderator, doomed_comment).get_by_role("button", name="Delete").click()
    overlay.wait_for_function(
        "id => !window.danmaku.snapshot().comments.some((c) => c.id === id)",
        arg=comment_ack["id"],
        timeout=DELETE_GONE_MS,
    )
    expect(message_line(viewer, doomed_comment)).to_have_count(0, timeout=DELETE_GONE_MS)
    assert time.monotonic() - clicked < DELETE_GONE_MS / 1000

    # A chat message the same way.
    clicked = time.monotonic()
    feed_line(moderator, doomed_message).get_by_role("button", name="Delete").click()
    expect(message_line(viewer, doomed_message)).to_have_count(0, timeout=DELETE_GONE_MS)
    assert time.monotonic() - clicked < DELETE_GONE_MS / 1000

    expect(feed_line(moderator, doomed_message)).to_have_count(0)
    expect(feed_line(moderator, doomed_comment)).to_have_count(0)
    expect(message_line(viewer, kept)).to_have_count(1)
    expect(feed_line(moderator, kept)).to_have_count(1)
    expect(notice(moderator)).to_have_text("Deleted the message by carol.")
    # It stays deleted for a page opened afterwards, and the audit log names who did it.
    later = open_room(site.browse(contexts), slug)
    expect(message_line(later, kept)).to_have_count(1)
    expect(message_line(later, doomed_message)).to_have_count(0)
    deletions = moderator.get_by_test_id("audit-log").locator('[data-action="delete"]')
    expect(deletions).to_have_count(2, timeout=LIVE_MS)
    expect(deletions.first).to_contain_text(f"{OWNER} deleted a message of carol")


def test_a_timed_out_user_is_told_why_and_can_post_once_lifted(
    contexts: Contexts, site: ModerationSite
) -> None:
    slug = site.rooms["timeout"]
    marker = uuid.uuid4().hex[:6]
    bob = open_room(site.browse(contexts, "bob"), slug)
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    box = bob.get_by_test_id("message-input")
    first = f"first {marker}"
    box.fill(first)
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)

    moderator.get_by_test_id("timeout-duration").select_option(label="5 minutes")
    moderator.get_by_test_id("action-reason").fill("cool down")
    feed_line(moderator, first).get_by_role("button", name="Time out").click()
    expect(notice(moderator)).to_have_text("bob is timed out for 5 min.", timeout=LIVE_MS)
    expect(sanction(moderator, "bob")).to_contain_text("timed out for 5 min more", timeout=LIVE_MS)
    expect(sanction(moderator, "bob")).to_contain_text("cool down")
    expect(moderator.get_by_test_id("action-reason")).to_have_value("")  # a reason is used once
    state = site.api(OWNER, slug).get("mod/state")
    [timeout] = [entry for entry in state["sanctions"] if entry["user"] == "bob"]
    assert timeout["kind"] == "timeout"
    assert timeout["reason"] == "cool down"

    # Bob is told at once, without trying to post: how long, and why; his composer is closed.
    told = bob.get_by_test_id("room-notice")
    expect(told).to_contain_text("You are timed out: you can post again in 4 min", timeout=LIVE_MS)
    expect(told).to_contain_text("Reason: cool down")
    expect(box).to_be_disabled()
    # A post that gets through anyway (another tab, a script) is refused with the same words.
    refused = f"am I muted {marker}"
    assert refusal(site, slug, "bob", refused) == "muted"
    expect(feed_line(moderator, refused)).to_have_count(0)

    sanction(moderator, "bob").get_by_role("button", name="Lift").click()
    expect(sanction(moderator, "bob")).to_have_count(0, timeout=LIVE_MS)
    expect(notice(moderator)).to_have_text("bob may post again.")
    expect(told).to_be_hidden(timeout=LIVE_MS)
    expect(box).to_be_enabled()
    box.fill(refused)
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)
    expect(feed_line(moderator, refused)).to_have_count(1, timeout=LIVE_MS)


def test_ban_time_out_lift_clear_and_settings_buttons(contexts: Contexts, site: ModerationSite) -> None:
    slug = site.rooms["buttons"]
    marker = uuid.uuid4().hex[:6]
    api = site.api(OWNER, slug)
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    viewer = open_room(site.browse(contexts), slug)
    spam = f"spam {marker}"
    site.post_messages(slug, "bob", [spam])

    # Ban from the feed: bob's posts are refused until it is lifted.
    feed_line(moderator, spam).get_by_role("button", name="Ban").click()
    expect(notice(moderator)).to_have_text("bob is banned from the room.", timeout=LIVE_MS)
    expect(sanction(moderator, "bob")).to_have_attribute("data-kind", "ban", timeout=LIVE_MS)
    expect(sanction(moderator, "bob")).to_contain_text("banned")
    assert refusal(site, slug, "bob", f"banned? {marker}") == "banned"
    sanction(moderator, "bob").get_by_role("button", name="Lift").click()
    expect(sanction(moderator, "bob")).to_have_count(0, timeout=LIVE_MS)
    site.post_messages(slug, "bob", [f"back {marker}"])

    # Time out by name, with the shortest length.
    moderator.get_by_test_id("timeout-duration").select_option("10")
    moderator.get_by_test_id("sanction-user").fill("carol")
    moderator.get_by_test_id("sanction-timeout").click()
    expect(sanction(moderator, "carol")).to_have_attribute("data-kind", "timeout", timeout=LIVE_MS)
    expect(moderator.get_by_test_id("sanction-user")).to_have_value("")
    [carol] = [entry for entry in api.get("mod/state")["sanctions"] if entry["user"] == "carol"]
    assert carol["kind"] == "timeout"
    assert carol["until"] is not None
    assert refusal(site, slug, "carol", f"muted? {marker}") == "muted"
    sanction(moderator, "carol").get_by_role("button", name="Lift").click()
    expect(sanction(moderator, "carol")).to_have_count(0, timeout=LIVE_MS)

    # An error from the server is shown: there is no such user.
    moderator.get_by_test_id("sanction-user").fill(f"nobody{marker}")
    moderator.get_by_test_id("sanction-ban").click()
    expect(notice(moderator)).to_have_attribute("data-kind", "error", timeout=LIVE_MS)
    expect(notice(moderator)).to_contain_text(f"There is no user 'nobody{marker}'")

    # Clear: asks once more, then empties the feed and every viewer's list.
    expect(message_line(viewer, spam)).to_have_count(1)
    moderator.get_by_test_id("clear-room").click()
    moderator.get_by_test_id("clear-confirm").click()
    expect(moderator.get_by_test_id("feed").locator(".msg")).to_have_count(
        1, timeout=LIVE_MS
    )  # the clear's line
    # Viewers keep one line: the clear's own ("The chat was cleared by a moderator.").
    expect(viewer.get_by_test_id("messages").locator(".msg")).to_have_count(1, timeout=LIVE_MS)
    expect(viewer.get_by_test_id("messages").locator(".msg-system .msg-text")).to_have_text(
        "The chat was cleared by a moderator."
    )
    expect(notice(moderator)).to_have_text("Cleared the room.")

    # Settings: a bad value is caught in the page; good ones are saved.
    form = moderator.get_by_test_id("settings-form")
    expect(moderator.get_by_test_id("set-slow-mode")).to_have_value("0")
    moderator.get_by_test_id("set-slow-mode").fill("5000")
    moderator.get_by_test_id("settings-save").click()
    expect(moderator.get_by_test_id("settings-status")).to_contain_text("from 0 to 3600")
    expect(moderator.get_by_test_id("set-slow-mode")).to_have_attribute("aria-invalid", "true")
    moderator.get_by_test_id("set-slow-mode").fill("7")
    # A pattern the server's engine cannot run is refused by the page, in the server's words.
    moderator.get_by_test_id("set-blocked-words").fill("spoiler\n/(?<=a)b/")
    form.get_by_test_id("settings-save").click()
    expect(moderator.get_by_test_id("settings-status")).to_have_text(
        "/(?<=a)b/ cannot be used: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported."
    )
    expect(moderator.get_by_test_id("set-blocked-words")).to_have_attribute("aria-invalid", "true")
    moderator.get_by_test_id("set-blocked-words").fill(f"  spoiler{marker}\n\n/fo+bar/  \n")
    moderator.get_by_test_id("set-blocked-action").select_option("hold")
    moderator.get_by_test_id("set-review").select_option("new_accounts")
    moderator.get_by_test_id("set-account-age").fill("48")
    moderator.get_by_test_id("set-posting").select_option("moderators")
    form.get_by_test_id("settings-save").click()
    expect(moderator.get_by_test_id("settings-status")).to_have_text("Saved.", timeout=LIVE_MS)
    assert refusal(site, slug, "bob", f"may I? {marker}") == "moderators_only"
    moderator.get_by_test_id("set-private").check()
    expect(moderator.get_by_test_id("settings-status")).to_have_text("")  # edited since
    form.get_by_test_id("settings-save").click()
    expect(moderator.get_by_test_id("settings-status")).to_have_text("Saved.", timeout=LIVE_MS)
    assert refusal(site, slug, "bob", f"let me in {marker}") == "private_room"
    assert api.get("mod/state")["settings"] == {
        "slow_mode_seconds": 7,
        "blocked_words": [f"spoiler{marker}", "/fo+bar/"],
        "blocked_action": "hold",
        "review": "new_accounts",
        "review_account_age_hours": 48,
        "posting": "moderators",
        "private": True,
        "removed_display": "placeholder",
        "unique_chat": False,
        "unique_chat_seconds": 30,
        "chat_delay_seconds": 0,
    }
    # Saved values survive a reload of the page.
    moderator.reload()
    expect(moderator.get_by_test_id("set-blocked-words")).to_have_value(f"spoiler{marker}\n/fo+bar/")
    expect(moderator.get_by_test_id("set-private")).to_be_checked()
    expect(moderator.get_by_test_id("set-posting")).to_have_value("moderators")
    # The two messages published in this room are in the last hour's chart (loaded with the page).
    chart = moderator.get_by_test_id("rate-chart").locator("svg")
    expect(chart).to_have_attribute("data-total", "2")
    expect(chart.locator("rect")).to_have_count(60)
    expect(moderator.get_by_test_id("per-hour")).to_have_text("2")

    # Everything above is in the audit log, newest first.
    entries = moderator.get_by_test_id("audit-log").locator("[data-testid=audit-entry]")
    expect(entries.first).to_have_attribute("data-action", "settings", timeout=LIVE_MS)
    actions = entries.evaluate_all("items => items.map((item) => item.dataset.action)")
    assert actions == ["settings", "settings", "clear", "unban", "timeout", "unban", "ban"]
    expect(entries.first.locator(".audit-detail dd")).to_have_text("private: true")  # what changed
    expect(entries.nth(1)).to_contain_text("slow mode seconds: 7")
    expect(entries.nth(1)).to_contain_text(f"blocked words: spoiler{marker}, /fo+bar/")


def test_saved_patterns_the_rules_now_refuse_are_pointed_out(
    contexts: Contexts, site: ModerationSite
) -> None:
    """A /pattern/ saved before the rules refused it (or through the admin) matches nothing; the
    page names it and why, and keeps the room's other words."""
    slug = site.rooms["patterns"]
    words = ["spoiler", "/(?=x)x/", "/c[o0]de/"]
    manage(
        site.server.env,
        "shell",
        "-c",
        f"from chat.models import Room; Room.objects.filter(slug={slug!r}).update(blocked_words={words!r})",
    )
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    expect(moderator.get_by_test_id("set-blocked-words")).to_have_value("\n".join(words))
    expect(moderator.get_by_test_id("blocked-problems")).to_have_text(
        "Saved, but matching nothing until fixed: /(?=x)x/ cannot be used: lookahead and lookbehind "
        "((?=, (?!, (?<=, (?<!) are not supported."
    )
    assert refusal(site, slug, "bob", "the C0DE is") == "blocked"  # the others still apply
    moderator.get_by_test_id("set-blocked-words").fill("spoiler\n/c[o0]de/")
    moderator.get_by_test_id("settings-form").get_by_test_id("settings-save").click()
    expect(moderator.get_by_test_id("settings-status")).to_have_text("Saved.", timeout=LIVE_MS)
    expect(moderator.get_by_test_id("blocked-problems")).to_be_hidden()


def test_review_queue_approve_and_reject(contexts: Contexts, site: ModerationSite) -> None:
    slug = site.rooms["review"]
    marker = uuid.uuid4().hex[:6]
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    viewer = open_room(site.browse(contexts), slug)
    moderator.get_by_test_id("set-review").select_option("all")
    moderator.get_by_test_id("settings-save").click()
    expect(moderator.get_by_test_id("settings-status")).to_have_text("Saved.", timeout=LIVE_MS)

    good, bad = f"please approve {marker}", f"please reject {marker}"
    answers = post(site, slug, "carol", [{"text": good}, {"text": bad}])
    assert all(answer["type"] == "ack" and answer.get("held") is True for answer in answers), answers
    queue = moderator.get_by_test_id("review-queue")
    held = queue.locator("[data-testid=review-item]")
    expect(held).to_have_count(2, timeout=REVIEW_MS)  # found by the page's polling
    expect(moderator.get_by_test_id("review-count")).to_have_text("2")
    assert held.locator("[data-testid=review-text]").all_text_contents() == [good, bad]  # oldest first
    expect(held.first).to_contain_text("carol")
    expect(held.first).to_contain_text("every message is reviewed")

    held.filter(has_text=good).get_by_test_id("review-approve").click()
    expect(message_line(viewer, good)).to_have_count(1, timeout=LIVE_MS)
    expect(feed_line(moderator, good)).to_have_count(1, timeout=LIVE_MS)
    expect(held).to_have_count(1)
    held.filter(has_text=bad).get_by_test_id("review-reject").click()
    expect(held).to_have_count(0, timeout=LIVE_MS)
    expect(moderator.get_by_test_id("review-empty")).to_be_visible()
    expect(moderator.get_by_test_id("review-count")).to_have_text("0")

    # A moderator's own post is not held; once it arrives, the rejected one would have too.
    after = f"moderator speaking {marker}"
    site.post_messages(slug, OWNER, [after])
    expect(message_line(viewer, after)).to_have_count(1, timeout=LIVE_MS)
    expect(message_line(viewer, bad)).to_have_count(0)
    expect(feed_line(moderator, bad)).to_have_count(0)
    entries = moderator.get_by_test_id("audit-log").locator("[data-testid=audit-entry]")
    expect(entries.first).to_have_attribute("data-action", "reject", timeout=LIVE_MS)
    expect(entries.nth(1)).to_have_attribute("data-action", "approve")
    expect(entries.first).to_contain_text(f"{OWNER} rejected a held message of carol")
    expect(entries.first).to_contain_text(bad)


def test_the_author_of_a_held_message_is_told_a_moderator_will_review_it(
    contexts: Contexts, site: ModerationSite
) -> None:
    """Posted over the page's WebSocket: the ack says `held`, and the page shows the server's words."""
    slug = site.rooms["held"]
    api = site.api(OWNER, slug)
    assert api.post("mod/settings", {"review": "all"}).status_code == 200
    bob = open_room(site.browse(contexts, "bob"), slug)
    expect(bob.get_by_test_id("connection-state")).to_have_attribute("data-transport", "WebSocket")

    text = f"may I say this {uuid.uuid4().hex[:6]}"
    box = bob.get_by_test_id("message-input")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)  # taken: nothing to send again
    notice = bob.get_by_test_id("send-error")
    expect(notice).to_be_visible()
    expect(notice).to_have_text("A moderator will review your message before it appears.")
    # Shown to bob as pending, not in the room's list.
    expect(message_line(bob, text, within=bob.get_by_test_id("pending"))).to_have_count(1)
    expect(message_line(bob, text, within=bob.get_by_test_id("messages"))).to_have_count(0)
    assert [item["text"] for item in api.get("mod/review")["held"]] == [text]


def test_owner_appoints_moderators_and_invites_members(contexts: Contexts, site: ModerationSite) -> None:
    slug = site.rooms["people"]
    owner = open_moderate(site.browse(contexts, OWNER), slug)
    moderators = owner.get_by_test_id("moderators")
    members = owner.get_by_test_id("members")

    owner.get_by_test_id("moderator-name").fill("carol")
    owner.get_by_test_id("moderator-add").click()
    expect(moderators.locator('li[data-name="carol"]')).to_have_count(1, timeout=LIVE_MS)
    owner.get_by_test_id("member-name").fill("bob")
    owner.get_by_test_id("member-add").click()
    expect(members.locator('li[data-name="bob"]')).to_have_count(1, timeout=LIVE_MS)
    expect(owner.get_by_test_id("member-name")).to_have_value("")

    # An appointed moderator moderates, but does not appoint.
    carol_context = site.browse(contexts, "carol")
    carol = open_moderate(carol_context, slug)
    expect(carol.get_by_test_id("moderators").locator('li[data-name="carol"]')).to_have_count(1)
    expect(carol.get_by_test_id("moderator-name")).to_have_count(0)
    expect(carol.get_by_test_id("moderators").get_by_role("button")).to_have_count(0)
    expect(carol.get_by_test_id("members").locator('li[data-name="bob"]')).to_have_count(1)
    expect(carol.get_by_test_id("member-add")).to_be_visible()
    # Site staff moderate every room and may appoint.
    staff = open_moderate(site.browse(contexts, site.staff), slug)
    expect(staff.get_by_test_id("moderator-name")).to_be_visible()

    members.locator('li[data-name="bob"]').get_by_role("button", name="Remove").click()
    expect(members.locator('li[data-name="bob"]')).to_have_count(0, timeout=LIVE_MS)
    moderators.locator('li[data-name="carol"]').get_by_role("button", name="Remove").click()
    expect(moderators.locator('li[data-name="carol"]')).to_have_count(0, timeout=LIVE_MS)
    expect(notice(owner)).to_have_text("carol is no longer a moderator.")
    answer = carol_context.new_page().goto(f"/rooms/{slug}/moderate")
    assert answer is not None
    assert answer.status == 403
    actions = owner.get_by_test_id("audit-log").locator("[data-testid=audit-entry]")
    expect(actions.first).to_have_attribute("data-action", "moderator_remove", timeout=LIVE_MS)


def test_audit_log_pages_back_newest_first(contexts: Contexts, site: ModerationSite) -> None:
    slug = site.rooms["audit"]
    api = site.api(OWNER, slug)
    for seconds in range(1, AUDIT_PAGE + 6):
        assert api.post("mod/settings", {"slow_mode_seconds": seconds}).status_code == 200
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    entries = moderator.get_by_test_id("audit-log").locator("[data-testid=audit-entry]")
    expect(entries).to_have_count(AUDIT_PAGE)
    expect(entries.first).to_contain_text(f"slow mode seconds: {AUDIT_PAGE + 5}")
    older = moderator.get_by_test_id("audit-older")
    older.click()
    expect(entries).to_have_count(AUDIT_PAGE + 5)
    expect(older).to_be_hidden()
    expect(entries.last).to_contain_text("slow mode seconds: 1")
    ids = [int(value) for value in entries.evaluate_all("items => items.map((item) => item.dataset.id)")]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)

    # A new action goes on top without reloading.
    moderator.get_by_test_id("set-slow-mode").fill("0")
    moderator.get_by_test_id("settings-save").click()
    expect(entries).to_have_count(AUDIT_PAGE + 6, timeout=LIVE_MS)
    expect(entries.first).to_contain_text("slow mode seconds: 0")


def expect_inert(page: Page, nodes: Locator, texts: list[str]) -> None:
    """`nodes` show exactly `texts`, as isolated text, and nothing in the page ran or was built."""
    expect(nodes).to_have_text(texts)
    for index in range(len(texts)):
        node = nodes.nth(index)
        expect(node).to_have_attribute("dir", "auto")
        assert node.evaluate("node => getComputedStyle(node).unicodeBidi") in {"isolate", "plaintext"}
        node.hover()
    assert page.locator(f":is(#moderate) :is({INJECTED})").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_hostile_text_is_shown_as_text(contexts: Contexts, site: ModerationSite) -> None:
    slug = site.rooms["hostile"]
    marker = uuid.uuid4().hex[:6]
    api = site.api(OWNER, slug)
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    hostile = [f"{marker} {text}" for text in HOSTILE]

    # In the live feed: the server's cleaned text, character for character.
    acks = site.post_messages(slug, "carol", hostile)
    history = {
        event["id"]: event["text"]
        for event in httpx.get(f"{site.base_url}/rooms/{slug}/history").json()["events"]
    }
    published = [history[ack["id"]] for ack in acks]
    assert published[0] == hostile[0]  # markup kept as characters
    assert published[3] == hostile[3]  # and bidi controls too
    feed_texts = moderator.locator(
        ", ".join(f'[data-testid=feed] .msg[data-id="{ack["id"]}"] .msg-text' for ack in acks)
    )
    expect_inert(moderator, feed_texts, published)

    # In the review queue.
    assert api.post("mod/settings", {"review": "all"}).status_code == 200
    answers = post(site, slug, "carol", [{"text": text} for text in hostile])
    assert all(answer.get("held") is True for answer in answers), answers
    moderator.get_by_test_id("review-refresh").click()  # rather than wait for the next poll
    queue = moderator.get_by_test_id("review-queue").locator("[data-testid=review-text]")
    expect(queue).to_have_count(len(hostile), timeout=LIVE_MS)
    expect_inert(moderator, queue, [item["text"] for item in api.get("mod/review")["held"]])

    # In the audit log: a hostile reason, and the deleted message's text.
    moderator.get_by_test_id("action-reason").fill(hostile[2] + " " + hostile[3])
    feed_line(moderator, published[2]).get_by_role("button", name="Time out").click()
    expect(notice(moderator)).to_have_text("carol is timed out for 5 min.", timeout=LIVE_MS)
    moderator.get_by_test_id("action-reason").fill(hostile[1])
    feed_line(moderator, published[0]).get_by_role("button", name="Delete").click()
    expect(feed_line(moderator, published[0])).to_have_count(0, timeout=LIVE_MS)
    entries = api.get("mod/audit")["entries"]
    [deleted, timed_out] = [entry for entry in entries if entry["action"] in {"delete", "timeout"}]
    reasons = moderator.get_by_test_id("audit-log").get_by_test_id("audit-reason")
    expect(reasons).to_have_count(2, timeout=LIVE_MS)
    expect_inert(moderator, reasons, [deleted["reason"], timed_out["reason"]])
    deleted_text = moderator.locator(f'[data-testid=audit-entry][data-id="{deleted["id"]}"] .audit-detail dd')
    expect_inert(moderator, deleted_text, [deleted["detail"]["text"]])
    expect_inert(moderator, sanction(moderator, "carol").locator(".reason"), [timed_out["reason"]])


MAILS = ("ue", "shita", "red big")  # Niconico's commands for a comment's place, colour and size


def test_an_uploaded_niconico_file_is_imported_and_reported(
    contexts: Contexts, site: ModerationSite, tmp_path: Path
) -> None:
    slug = f"mod-import-{uuid.uuid4().hex[:8]}"
    manage(
        site.server.env, "createroom", slug, "--owner", OWNER,
        "--video-url", "https://videos.example/film.mp4", "--duration-ms", "600000",
    )  # fmt: skip
    chats = "".join(
        f'<chat vpos="{n * 100}" user_id="u{n}" mail="184 {MAILS[n % 3]}">comment {n}</chat>'
        for n in range(1, 7)
    )
    upload = tmp_path / "comments.xml"
    upload.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><packet>{chats}<chat vpos="1">/nicoscript</chat></packet>'
    )
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    moderator.get_by_test_id("import-file").set_input_files(upload)
    moderator.get_by_test_id("import-submit").click()
    expect(moderator.get_by_test_id("import-report")).to_have_text(
        "Imported 6 comments from a Niconico file. Skipped: code comment 1. Ignored commands: 184 6.",
        timeout=LIVE_MS,
    )
    window = httpx.get(f"{site.base_url}/rooms/{slug}/danmaku", params={"from": 0, "to": 600000}, timeout=10)
    assert sorted(event["text"] for event in window.json()["events"]) == [f"comment {n}" for n in range(1, 7)]
