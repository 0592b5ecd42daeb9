"""Moderation people can see, in a real Chromium against a real daphne, with the moderator and
the people it touches in separate browser profiles: a timed-out user's countdown and closed
composer, a banned user told why, slow mode and the posting mode labelled, a held message shown
to its author as pending until approved or rejected, a deletion's placeholder (or none), a
clear's system line, and a purge removing a user's messages from everyone's screen at once. The
viewers follow the room over WebSocket, SSE and long-poll."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from chat.domain.moderation.removal import CLEARED_LINE

from .browsing import LIVE_MS, Contexts, message_line, open_live, open_overlay, open_room, send_message
from .conftest import Site, create_rooms, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OWNER = "alice"
ROOMS = ("timeout", "ban", "slow", "held", "delete", "pin", "report", "unique", "dryrun", "hide")
# A 10 s timeout (the shortest) ends within this, counted from the moment it was given.
TIMEOUT_ENDS_MS = 15_000
# The moderator's page polls the review queue every 5 s.
REVIEW_MS = 10_000
# The room page's words (static/js/ui/messages.js).
REMOVED_TEXT = "removed by a moderator"
PENDING_TEXT = "pending: a moderator reviews it before anyone else sees it"
REJECTED_TEXT = "not approved by a moderator: no one else saw it"


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    suffix = uuid.uuid4().hex[:8]
    rooms = {name: f"seen-{name}-{suffix}" for name in ROOMS}
    create_rooms(e2e_env, {slug: ["--owner", OWNER] for slug in rooms.values()})
    with running_server(e2e_env, tmp_path_factory.mktemp("visible")) as server:
        yield Site(server, rooms, viewport=(1400, 1000))


def open_moderate(context: BrowserContext, slug: str) -> Page:
    page = open_live(context, f"/rooms/{slug}/moderate")
    expect(page.get_by_test_id("room-owner")).to_have_text(OWNER)
    return page


def in_list(page: Page, text: str) -> Locator:
    """The line with `text` in the room's message list (not among the author's pending ones)."""
    return message_line(page, text, within=page.get_by_test_id("messages"))


def pending_line(page: Page, text: str) -> Locator:
    return message_line(page, text, within=page.get_by_test_id("pending"))


def mod_post(site: Site, slug: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = site.api(OWNER, slug).post(f"mod/{path}", body)
    assert answer.status_code == 200, answer.text
    payload: dict[str, Any] = answer.json()
    return payload


def test_a_timeout_with_purge_counts_down_for_its_user_and_removes_their_lines_for_everyone(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["timeout"]
    marker = uuid.uuid4().hex[:6]
    bob = open_room(site.browse(contexts, "bob"), slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=sse")
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    spam = [f"spam one {marker}", f"spam two {marker}"]
    for text in spam:
        send_message(bob, text)
    kept = f"carol stays {marker}"
    send_message(carol, kept)
    for page in (bob, carol):
        expect(in_list(page, spam[1])).to_have_count(1, timeout=LIVE_MS)

    moderator.get_by_test_id("timeout-duration").select_option("10")
    moderator.get_by_test_id("action-reason").fill("no links please")
    moderator.get_by_test_id("action-purge").check()
    line = message_line(moderator, spam[1], within=moderator.get_by_test_id("feed"))
    line.get_by_role("button", name="Time out").click()
    expect(moderator.get_by_test_id("mod-notice")).to_have_text(
        "bob is timed out for 10 s. 2 of their messages removed.", timeout=LIVE_MS
    )

    # Bob: a countdown with the reason, and a closed composer.
    notice = bob.get_by_test_id("room-notice")
    expect(notice).to_be_visible(timeout=LIVE_MS)
    expect(notice).to_contain_text(re.compile(r"You are timed out: you can post again in \d+ s\."))
    expect(notice).to_contain_text("Reason: no links please")
    expect(bob.get_by_test_id("message-input")).to_be_disabled()
    expect(bob.get_by_test_id("send-button")).to_be_disabled()
    first = notice.text_content()
    expect(notice).not_to_have_text(first or "", timeout=3_000)  # it counts down
    # Everyone: bob's lines are "removed by a moderator", in one go; carol's stays.
    for page in (bob, carol):
        expect(in_list(page, REMOVED_TEXT)).to_have_count(2, timeout=LIVE_MS)
        for text in spam:
            expect(in_list(page, text)).to_have_count(0)
        expect(in_list(page, kept)).to_have_count(1)
    expect(carol.get_by_test_id("room-notice")).to_be_hidden()  # not carol's business
    expect(carol.get_by_test_id("message-input")).to_be_enabled()

    # When it ends, bob's composer opens by itself.
    expect(notice).to_be_hidden(timeout=TIMEOUT_ENDS_MS)
    expect(bob.get_by_test_id("message-input")).to_be_enabled()
    send_message(bob, f"sorry {marker}")
    expect(in_list(carol, f"sorry {marker}")).to_have_count(1, timeout=LIVE_MS)


def test_a_banned_user_sees_why_live_and_after_a_reload(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["ban"]
    bob_context = site.browse(contexts, "bob")
    bob = open_room(bob_context, slug, "?transport=poll")
    carol = open_room(site.browse(contexts, "carol"), slug)
    mod_post(site, slug, "ban", {"user": "bob", "reason": "spam links"})
    for page in (bob, open_room(bob_context, slug)):
        notice = page.get_by_test_id("room-notice")
        expect(notice).to_have_text("You are banned from this room. Reason: spam links", timeout=LIVE_MS)
        expect(page.get_by_test_id("message-input")).to_be_disabled()
    expect(carol.get_by_test_id("room-notice")).to_be_hidden()
    mod_post(site, slug, "unban", {"user": "bob"})
    expect(bob.get_by_test_id("room-notice")).to_be_hidden(timeout=LIVE_MS)
    expect(bob.get_by_test_id("message-input")).to_be_enabled()


def test_slow_mode_and_the_posting_mode_are_labelled_with_a_countdown_after_each_post(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["slow"]
    marker = uuid.uuid4().hex[:6]
    bob = open_room(site.browse(contexts, "bob"), slug)
    owner = open_room(site.browse(contexts, OWNER), slug, "?transport=poll")
    label = bob.get_by_test_id("room-mode")
    expect(label).to_be_hidden()
    mod_post(site, slug, "settings", {"slow_mode_seconds": 4})
    expect(label).to_have_text("Slow mode: one message every 4 s", timeout=LIVE_MS)
    expect(owner.get_by_test_id("room-mode")).to_contain_text("not for you", timeout=LIVE_MS)

    send_message(bob, f"one {marker}")
    notice = bob.get_by_test_id("room-notice")
    expect(notice).to_contain_text(re.compile(r"Slow mode: you can post again in [1-4] s\."))
    expect(bob.get_by_test_id("message-input")).to_be_disabled()
    expect(notice).to_be_hidden(timeout=LIVE_MS + 4_000)
    expect(bob.get_by_test_id("message-input")).to_be_enabled()
    send_message(owner, f"owner is exempt {marker}")
    send_message(owner, f"owner again {marker}")
    expect(owner.get_by_test_id("room-notice")).to_be_hidden()

    mod_post(site, slug, "settings", {"slow_mode_seconds": 0, "posting": "moderators"})
    expect(label).to_have_text("Announcements: only moderators post", timeout=LIVE_MS)
    expect(notice).to_have_text("Only moderators can post in this room right now.")
    expect(bob.get_by_test_id("message-input")).to_be_disabled()
    expect(owner.get_by_test_id("message-input")).to_be_enabled()


def test_a_held_message_is_pending_for_its_author_then_approved_for_all_or_rejected_for_them(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["held"]
    marker = uuid.uuid4().hex[:6]
    mod_post(site, slug, "settings", {"review": "all"})
    bob_context = site.browse(contexts, "bob")
    bob = open_room(bob_context, slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=poll")
    good, bad = f"a fine question {marker}", f"something rude {marker}"
    for text in (good, bad):
        send_message(bob, text)
        expect(pending_line(bob, text)).to_contain_text(PENDING_TEXT)
    expect(in_list(bob, good)).to_have_count(0)
    # A reload keeps them pending: the page is told its user's held messages.
    bob = open_room(bob_context, slug, "?transport=sse")
    expect(pending_line(bob, good)).to_have_count(1)
    expect(pending_line(bob, bad)).to_have_count(1)

    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    held = moderator.get_by_test_id("review-queue").locator("[data-testid=review-item]")
    expect(held).to_have_count(2, timeout=REVIEW_MS)
    held.filter(has_text=good).get_by_test_id("review-approve").click()
    for page in (bob, carol):
        expect(in_list(page, good)).to_have_count(1, timeout=LIVE_MS)
    expect(pending_line(bob, good)).to_have_count(0)

    held.filter(has_text=bad).get_by_test_id("review-reject").click()
    expect(pending_line(bob, bad)).to_contain_text(REJECTED_TEXT, timeout=LIVE_MS)
    expect(in_list(bob, bad)).to_have_count(0)
    expect(message_line(carol, bad)).to_have_count(0)
    expect(carol.get_by_test_id("pending").locator(".msg")).to_have_count(0)


def test_a_deletion_leaves_a_placeholder_or_vanishes_and_a_clear_leaves_a_line(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["delete"]
    marker = uuid.uuid4().hex[:6]
    viewer_context = site.browse(contexts)
    viewer = open_room(viewer_context, slug, "?transport=sse")
    bob = open_room(site.browse(contexts, "bob"), slug)
    first, second, third = (f"{word} {marker}" for word in ("first", "second", "third"))
    acks = site.post_messages(slug, "carol", [first, second, third])
    expect(in_list(viewer, third)).to_have_count(1, timeout=LIVE_MS)

    mod_post(site, slug, "delete", {"id": acks[0]["id"]})
    for page in (viewer, bob):
        expect(in_list(page, first)).to_have_count(0, timeout=LIVE_MS)
        expect(in_list(page, REMOVED_TEXT)).to_have_count(1)
        lines = page.get_by_test_id("messages").locator(".msg .msg-text").all_text_contents()
        assert lines == [REMOVED_TEXT, second, third]  # in its place
    reloaded = open_room(viewer_context, slug)
    expect(in_list(reloaded, REMOVED_TEXT)).to_have_count(1)

    mod_post(site, slug, "settings", {"removed_display": "vanish"})
    mod_post(site, slug, "delete", {"id": acks[1]["id"]})
    expect(in_list(viewer, second)).to_have_count(0, timeout=LIVE_MS)
    expect(in_list(viewer, REMOVED_TEXT)).to_have_count(1)  # no new placeholder

    mod_post(site, slug, "clear", {})
    for page in (viewer, bob, reloaded):
        expect(page.get_by_test_id("messages").locator(".msg")).to_have_count(1, timeout=LIVE_MS)
        expect(in_list(page, CLEARED_LINE)).to_have_count(1)
    expect(in_list(open_room(viewer_context, slug), CLEARED_LINE)).to_have_count(1)


def test_a_pinned_message_shows_atop_the_room_and_the_overlay_until_deleted_or_its_author_banned(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["pin"]
    marker = uuid.uuid4().hex[:6]
    rules, other = f"Read the rules {marker}", f"another {marker}"
    acks = site.post_messages(slug, "bob", [rules, other])
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=poll")
    overlay = open_overlay(site.browse(contexts), slug, "?chat=1&history=0")

    # Pinned from the moderator's feed, for 30 minutes.
    moderator.get_by_test_id("pin-length").select_option("1800")
    message_line(moderator, rules, within=moderator.get_by_test_id("feed")).get_by_test_id("pin").click()
    expect(moderator.get_by_test_id("mod-notice")).to_have_text(
        "Pinned the message by bob for 30 min.", timeout=LIVE_MS
    )
    for page in (carol, overlay, moderator):
        box = page.get_by_test_id("pinned")
        expect(box).to_be_visible(timeout=LIVE_MS)
        expect(box.locator(".msg-text")).to_have_text(rules)
        expect(box.locator(".msg-author")).to_have_text("bob")
    # A page opened later shows it too (the history answer names it), the overlay's chat as well.
    later = open_room(site.browse(contexts), slug)
    expect(later.get_by_test_id("pinned").locator(".msg-text")).to_have_text(rules)
    later_overlay = open_overlay(site.browse(contexts), slug, "?chat=1&history=0")
    expect(later_overlay.get_by_test_id("pinned").locator(".msg-text")).to_have_text(rules)

    # Deleting it takes the pin down everywhere.
    mod_post(site, slug, "delete", {"id": acks[0]["id"]})
    for page in (carol, overlay, later, later_overlay, moderator):
        expect(page.get_by_test_id("pinned")).to_be_hidden(timeout=LIVE_MS)
    expect(moderator.get_by_test_id("unpin")).to_be_hidden()

    # Another pin, then its author is banned: it goes too.
    mod_post(site, slug, "pin", {"id": acks[1]["id"]})
    expect(carol.get_by_test_id("pinned").locator(".msg-text")).to_have_text(other, timeout=LIVE_MS)
    expect(moderator.get_by_test_id("unpin")).to_be_visible(timeout=LIVE_MS)
    mod_post(site, slug, "ban", {"user": "bob"})
    for page in (carol, overlay):
        expect(page.get_by_test_id("pinned")).to_be_hidden(timeout=LIVE_MS)

    # And the Unpin button takes a pin down.
    mine = site.post_messages(slug, OWNER, [f"welcome {marker}"])[0]
    mod_post(site, slug, "pin", {"id": mine["id"]})
    expect(overlay.get_by_test_id("pinned")).to_be_visible(timeout=LIVE_MS)
    moderator.get_by_test_id("unpin").click()
    expect(moderator.get_by_test_id("mod-notice")).to_have_text("Unpinned the message.", timeout=LIVE_MS)
    for page in (carol, overlay, moderator):
        expect(page.get_by_test_id("pinned")).to_be_hidden(timeout=LIVE_MS)


def report_from(page: Page, text: str, reason: str) -> None:
    """Report the line with `text` on a room page, and wait for the page's answer."""
    in_list(page, text).get_by_test_id("report").click()
    expect(page.get_by_test_id("report-quote")).to_contain_text(text)
    page.get_by_test_id("report-reason").fill(reason)
    page.get_by_test_id("report-send").click()
    expect(page.get_by_test_id("report-status")).to_have_text(
        "Reported. Thank you: the room's moderators will look at it.", timeout=LIVE_MS
    )


def test_reports_reach_the_review_queue_with_a_count_of_distinct_reporters(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["report"]
    marker = uuid.uuid4().hex[:6]
    spam, rude = f"cheap watches {marker}", f"rude remark {marker}"
    site.post_messages(slug, "bob", [spam, rude])
    carol = open_room(site.browse(contexts, "carol"), slug)
    writer = open_room(site.browse(contexts, "writer1"), slug, "?transport=sse")
    bob = open_room(site.browse(contexts, "bob"), slug)
    expect(in_list(bob, spam)).to_have_count(1, timeout=LIVE_MS)
    expect(in_list(bob, spam).get_by_test_id("report")).to_have_count(0)  # not one's own
    report_from(carol, spam, "spam")
    report_from(carol, spam, "spam, and again")  # the same person: still one reporter
    report_from(writer, spam, "advertising")
    report_from(writer, rude, "insulting")

    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    reported = moderator.get_by_test_id("report-queue").locator("[data-testid=report-item]")
    expect(reported).to_have_count(2, timeout=REVIEW_MS)
    expect(moderator.get_by_test_id("reported-count")).to_have_text("2")
    expect(reported.first.get_by_test_id("report-text")).to_have_text(spam)  # most reporters first
    expect(reported.first.get_by_test_id("report-count")).to_have_text("2 reporters")
    expect(reported.first).to_contain_text("advertising")
    expect(reported.nth(1).get_by_test_id("report-count")).to_have_text("1 reporter")

    reported.filter(has_text=rude).get_by_test_id("report-dismiss").click()
    expect(reported).to_have_count(1, timeout=LIVE_MS)
    expect(in_list(carol, rude)).to_have_count(1)  # dismissed: it stays
    reported.first.get_by_test_id("report-delete").click()
    expect(reported).to_have_count(0, timeout=LIVE_MS)
    for page in (carol, writer, bob):
        expect(in_list(page, spam)).to_have_count(0, timeout=LIVE_MS)
    actions = moderator.get_by_test_id("audit-log").locator("[data-testid=audit-entry]")
    expect(actions.first).to_have_attribute("data-action", "delete", timeout=LIVE_MS)
    expect(moderator.get_by_test_id("audit-log").locator('[data-action="report"]')).to_have_count(3)


def test_unique_chat_refuses_what_anyone_just_said_and_is_labelled(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["unique"]
    marker = uuid.uuid4().hex[:6]
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    bob = open_room(site.browse(contexts, "bob"), slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=poll")
    expect(moderator.get_by_test_id("set-unique-seconds")).to_have_value("30")
    moderator.get_by_test_id("set-unique-chat").check()
    moderator.get_by_test_id("set-unique-seconds").fill("60")
    moderator.get_by_test_id("settings-save").click()
    expect(moderator.get_by_test_id("settings-status")).to_have_text("Saved.", timeout=LIVE_MS)
    for page in (bob, carol):
        expect(page.get_by_test_id("room-mode")).to_have_text(
            "Unique chat: nothing anyone said in the last 1 min", timeout=LIVE_MS
        )

    send_message(bob, f"GG {marker}")
    box = carol.get_by_test_id("message-input")
    box.fill(f"  gg   {marker} ")
    box.press("Enter")
    error = carol.get_by_test_id("send-error")
    expect(error).to_contain_text("Unique chat is on: someone just sent that message.", timeout=LIVE_MS)
    expect(box).to_have_value(f"  gg   {marker} ")  # kept, to reword
    send_message(carol, f"gg wp {marker}")
    expect(in_list(bob, f"gg wp {marker}")).to_have_count(1, timeout=LIVE_MS)
    expect(in_list(bob, f"gg {marker}")).to_have_count(0)


def test_a_dry_run_shows_what_blocked_words_would_have_caught_before_saving(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["dryrun"]
    marker = uuid.uuid4().hex[:6]
    bob = open_room(site.browse(contexts, "bob"), slug)
    send_message(bob, f"call 555-1234 {marker}")
    send_message(bob, f"nice stream {marker}")
    site.post_messages(slug, "carol", [f"<b>CHEAP</b> pills {marker}"])
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    moderator.get_by_test_id("set-blocked-words").fill("cheap\n/\\d{3}-\\d{4}/")
    moderator.get_by_test_id("dry-run").click()
    expect(moderator.get_by_test_id("dry-run-summary")).to_have_text(
        "They would have caught 2 of the last 3 messages.", timeout=LIVE_MS
    )
    caught = moderator.get_by_test_id("dry-run-list").locator("[data-testid=dry-run-item]")
    expect(caught).to_have_count(2)
    expect(caught.first).to_contain_text(f"<b>CHEAP</b> pills {marker}")  # as text, newest first
    expect(caught.first).to_contain_text("carol")
    expect(caught.nth(1)).to_contain_text("/\\d{3}-\\d{4}/")
    expect(moderator.locator("#moderate b")).to_have_count(0)
    # Nothing was saved: bob may still say it.
    send_message(bob, f"cheap talk {marker}")
    # A pattern the rules refuse is refused by the dry run in the server's words.
    moderator.get_by_test_id("set-blocked-words").fill("/(?<=a)b/")
    moderator.get_by_test_id("dry-run").click()
    expect(moderator.get_by_test_id("dry-run-summary")).to_contain_text(
        "lookahead and lookbehind", timeout=LIVE_MS
    )
    expect(caught).to_have_count(0)


def test_a_hidden_users_messages_reach_only_them_and_the_moderators(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["hide"]
    marker = uuid.uuid4().hex[:6]
    moderator = open_moderate(site.browse(contexts, OWNER), slug)
    bob = open_room(site.browse(contexts, "bob"), slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=sse")
    overlay = open_overlay(site.browse(contexts), slug, "?chat=1&history=0")
    moderator.get_by_test_id("sanction-user").fill("bob")
    moderator.get_by_test_id("sanction-hide").click()
    expect(moderator.get_by_test_id("mod-notice")).to_have_text(
        "bob is hidden: only they and moderators see their new messages.", timeout=LIVE_MS
    )
    expect(moderator.get_by_test_id("hidden-users").locator('li[data-name="bob"]')).to_have_count(
        1, timeout=LIVE_MS
    )

    spam = f"follow my channel {marker}"
    send_message(bob, spam)
    expect(pending_line(bob, spam)).to_have_count(1)  # bob sees his line, with nothing odd about it
    expect(pending_line(bob, spam)).not_to_contain_text(PENDING_TEXT)
    expect(bob.get_by_test_id("room-notice")).to_be_hidden()
    held = moderator.get_by_test_id("review-queue").locator("[data-testid=review-item]")
    expect(held).to_have_count(1, timeout=REVIEW_MS)
    expect(held.first).to_contain_text("hidden user")
    expect(held.first.get_by_test_id("review-text")).to_have_text(spam)
    # A line carol posts after it arrives; bob's never does, nor on the overlay.
    after = f"carol here {marker}"
    send_message(carol, after)
    expect(message_line(overlay, after)).to_have_count(1, timeout=LIVE_MS)
    expect(in_list(bob, after)).to_have_count(1, timeout=LIVE_MS)
    for page in (carol, overlay):
        expect(message_line(page, spam)).to_have_count(0)
    expect(message_line(moderator, spam, within=moderator.get_by_test_id("feed"))).to_have_count(0)

    moderator.get_by_test_id("hidden-users").locator('li[data-name="bob"]').get_by_role(
        "button", name="Unhide"
    ).click()
    expect(moderator.get_by_test_id("mod-notice")).to_have_text("bob is no longer hidden.", timeout=LIVE_MS)
    back = f"back to normal {marker}"
    send_message(bob, back)
    expect(in_list(carol, back)).to_have_count(1, timeout=LIVE_MS)
