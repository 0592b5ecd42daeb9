"""The room page in a real Chromium against a real daphne: login, live chat, presence,
hostile text shown as text, scrollback, and reconnecting (resume and reset) across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .browsing import (
    LIVE_MS,
    SLOW_MS,
    Contexts,
    go_away,
    message_line,
    open_room,
    send_message,
    texts_with_prefix,
)
from .conftest import DEMO_ROOM, PASSWORD, DaphneServer, post_as, restarted, unique_prefix

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ROOM = DEMO_ROOM
HISTORY_PAGE = 50


def open_demo(context: BrowserContext) -> Page:
    """Open the demo room and wait until its live feed is connected over WebSocket."""
    page = open_room(context, ROOM)
    expect_live(page)
    return page


def expect_live(page: Page, timeout: float = SLOW_MS) -> None:
    label = page.get_by_test_id("connection-state")
    expect(label).to_have_attribute("title", "Connected over WebSocket", timeout=timeout)
    expect(label).to_have_text("Connected")


def log_in_from_room(context: BrowserContext, username: str, password: str) -> Page:
    """As a guest in the room, follow "Log in to post", fill the real form, land back live."""
    page = context.new_page()
    page.goto(f"/rooms/{ROOM}/")
    page.get_by_test_id("login-notice").get_by_role("link", name="Log in to post").click()
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/rooms/{ROOM}/")
    expect(page.get_by_test_id("message-input")).to_be_visible()
    expect_live(page)
    return page


def test_two_users_chat_live_and_see_each_other(contexts: Contexts, server: DaphneServer) -> None:
    alice = log_in_from_room(contexts.new(server.base_url), "alice", PASSWORD)
    bob = log_in_from_room(contexts.new(server.base_url), "bob", PASSWORD)

    for page, other in ((alice, "bob"), (bob, "alice")):
        expect(page.get_by_test_id("online-count")).to_have_text("2", timeout=LIVE_MS)
        expect(page.get_by_test_id("online-users")).to_contain_text(other)
    expect(alice.get_by_test_id("current-user")).to_have_text("alice")

    hello = f"{unique_prefix()} hello from alice"
    send_message(alice, hello)
    seen = message_line(bob, hello)
    expect(seen).to_have_count(1, timeout=LIVE_MS)
    expect(seen.locator(".msg-author")).to_have_text("alice")
    expect(message_line(alice, hello)).to_have_count(1)

    reply = f"{unique_prefix()} bob answers"
    send_message(bob, reply)
    expect(message_line(alice, reply).locator(".msg-author")).to_have_text("bob", timeout=LIVE_MS)
    # In order, each once, on both sides.
    for page in (alice, bob):
        shown = page.locator(".msg .msg-text").all_text_contents()
        assert shown.count(hello) == 1
        assert shown.count(reply) == 1
        assert shown.index(hello) < shown.index(reply)

    alice.close()
    expect(bob.get_by_test_id("online-count")).to_have_text("1", timeout=LIVE_MS)
    expect(bob.get_by_test_id("online-users")).not_to_contain_text("alice")


def test_guest_reads_but_cannot_post(contexts: Contexts, server: DaphneServer) -> None:
    text = f"{unique_prefix()} for the guests"
    post_as(server, "carol", [text])

    guest = open_demo(contexts.new(server.base_url))
    expect(message_line(guest, text).locator(".msg-author")).to_have_text("carol")
    notice = guest.get_by_test_id("login-notice")
    expect(notice).to_contain_text("Log in to post")
    expect(notice.get_by_role("link", name="Log in to post")).to_have_attribute(
        "href", f"/accounts/login/?next=/rooms/{ROOM}/"
    )
    expect(guest.get_by_test_id("message-input")).to_have_count(0)
    expect(guest.locator("textarea, .composer")).to_have_count(0)

    # A live message reaches the guest too.
    later = f"{unique_prefix()} live for the guests"
    post_as(server, "carol", [later])
    expect(message_line(guest, later)).to_have_count(1, timeout=LIVE_MS)


def test_hostile_text_is_shown_as_text(contexts: Contexts, server: DaphneServer) -> None:
    prefix = unique_prefix()
    hostile = [
        f'{prefix} <img src=x onerror="window.__pwned=1">',
        f"{prefix} <script>window.__pwned=1</script>",
        f'{prefix} <b onmouseover="window.__pwned=1">bold?</b> &amp; &lt;',
    ]
    alice = log_in_from_room(contexts.new(server.base_url), "alice", PASSWORD)
    bob = open_demo(contexts.new(server.base_url))

    for text in hostile:
        send_message(alice, text)
    # Live, then again from history in a fresh page.
    fresh = open_demo(contexts.new(server.base_url))
    for page in (bob, fresh, alice):
        for text in hostile:
            expect(message_line(page, text).locator(".msg-text")).to_have_text(text, timeout=LIVE_MS)
        assert page.locator(".message-list img, .message-list script, .message-list b").count() == 0
        page.locator(".message-list .msg").last.hover()
        assert page.evaluate("typeof window.__pwned") == "undefined"


def test_rejected_message_shows_the_reason(contexts: Contexts, server: DaphneServer) -> None:
    alice = log_in_from_room(contexts.new(server.base_url), "alice", PASSWORD)
    box = alice.get_by_test_id("message-input")
    too_long = unique_prefix() + "x" * 600
    box.fill(too_long)
    box.press("Enter")
    expect(alice.get_by_test_id("send-error")).to_contain_text("too long", timeout=LIVE_MS)
    expect(box).to_have_value(too_long)  # kept, so the writer can shorten it
    expect(message_line(alice, too_long)).to_have_count(0)

    box.fill("fine now " + unique_prefix())
    expect(alice.get_by_test_id("send-error")).to_be_hidden()
    box.press("Enter")
    expect(box).to_have_value("", timeout=LIVE_MS)


def test_scrollback_loads_older_messages_in_order(contexts: Contexts, server: DaphneServer) -> None:
    prefix = unique_prefix()
    texts = [f"{prefix} #{index:02d}" for index in range(60)]
    post_as(server, "alice", texts)

    page = open_demo(contexts.new(server.base_url))
    expect(message_line(page, texts[-1])).to_be_in_viewport()  # starts at the bottom
    assert texts_with_prefix(page, prefix) == texts[-HISTORY_PAGE:]
    assert page.locator(".msg").count() == HISTORY_PAGE

    older = page.get_by_test_id("load-older")
    expect(older).to_be_visible()
    older.click()  # scrolls up to the button first, so the oldest shown is in view
    expect(message_line(page, texts[0])).to_have_count(1, timeout=LIVE_MS)
    assert texts_with_prefix(page, prefix) == texts
    seqs = [int(seq) for seq in page.locator(".msg").evaluate_all("items => items.map(i => i.dataset.seq)")]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    # Prepending keeps the reader where they were: what was the oldest message stays in view.
    expect(message_line(page, texts[-HISTORY_PAGE])).to_be_in_viewport()


def test_reconnect_delays_grow_with_full_jitter(contexts: Contexts, server: DaphneServer) -> None:
    """static/js/client/backoff.js, as the pages load it, in the browser: the n-th delay is uniformly
    random below a bound that doubles from 0.5 s to a cap of 30 s, and a stable connection starts
    it over, so viewers dropped together come back spread out, not in one instant."""
    page = open_demo(contexts.new(server.base_url))
    drawn = page.evaluate(
        """async () => {
            const { Backoff } = await import(new URL("/static/js/client/backoff.js", location.href).href);
            const attempts = Array.from({ length: 9 }, () => []);
            const afterReset = [];
            for (let n = 0; n < 2000; n++) {
                const backoff = new Backoff();
                for (const delays of attempts) delays.push(backoff.next());
                backoff.reset();
                afterReset.push(backoff.next());
            }
            return { attempts, afterReset };
        }"""
    )
    bounds = [min(30_000, 500 * 2**attempt) for attempt in range(9)]
    for bound, delays in [*zip(bounds, drawn["attempts"], strict=True), (500, drawn["afterReset"])]:
        delays.sort()
        assert delays[0] >= 0, bound
        assert delays[-1] < bound, (bound, delays[-1])
        # Spread over the whole window: deciles near 10% and 90% of the bound (2,000 draws).
        assert delays[200] < 0.15 * bound, (bound, delays[200])
        assert delays[1800] > 0.85 * bound, (bound, delays[1800])
        assert 0.45 * bound < sum(delays) / len(delays) < 0.55 * bound


def test_reconnects_and_resumes_after_a_restart(
    contexts: Contexts, server: DaphneServer, tmp_path: Path
) -> None:
    before = f"{unique_prefix()} before the restart"
    post_as(server, "carol", [before])
    context = contexts.new(server.base_url)
    page = open_demo(context)
    expect(message_line(page, before)).to_have_count(1)

    go_away(server, context, page)
    with restarted(server, tmp_path) as replacement:
        # Posted while the page is away: it must arrive by resuming from the page's cursor.
        missed = f"{unique_prefix()} posted while the page was away"
        post_as(replacement, "carol", [missed])
        expect(page.get_by_test_id("connection-state")).to_have_text("Offline")
        context.set_offline(False)
        expect_live(page, timeout=LIVE_MS)
        expect(message_line(page, missed)).to_have_count(1, timeout=LIVE_MS)

        live = f"{unique_prefix()} after the reconnect"
        post_as(replacement, "carol", [live])
        expect(message_line(page, live)).to_have_count(1, timeout=LIVE_MS)
        expect(message_line(page, before)).to_have_count(1)
        shown = texts_with_prefix(page, "test-")
        assert shown.index(before) < shown.index(missed) < shown.index(live)


def test_reset_reloads_history_when_too_far_behind(
    contexts: Contexts, server: DaphneServer, tmp_path: Path
) -> None:
    before = f"{unique_prefix()} before the reset"
    post_as(server, "carol", [before])
    context = contexts.new(server.base_url)
    page = open_demo(context)
    expect(message_line(page, before)).to_have_count(1)

    go_away(server, context, page)
    # More missed events than the server replays: it answers the resume with a reset.
    with restarted(server, tmp_path, CHAT_BACKLOG_MAX="3") as replacement:
        prefix = unique_prefix()
        missed = [f"{prefix} missed #{index}" for index in range(5)]
        post_as(replacement, "carol", missed)
        context.set_offline(False)
        expect_live(page, timeout=LIVE_MS)
        expect(message_line(page, missed[-1])).to_have_count(1, timeout=LIVE_MS)
        assert texts_with_prefix(page, prefix) == missed
        expect(message_line(page, before)).to_have_count(1)

        live = f"{prefix} live after the reset"
        post_as(replacement, "carol", [live])
        expect(message_line(page, live)).to_have_count(1, timeout=LIVE_MS)
        assert texts_with_prefix(page, prefix) == [*missed, live]


def test_names_and_messages_are_bidi_isolated(contexts: Contexts, server: DaphneServer) -> None:
    """A message takes its direction from its own letters, and an override left open in it
    reorders nothing around it: the author, the text and the time stay in the page's order."""
    prefix = unique_prefix()
    rtl = f"\u05e9\u05dc\u05d5\u05dd {prefix}"  # Hebrew first: a right-to-left message
    hostile = f"{prefix} \u202eevil"  # RIGHT-TO-LEFT OVERRIDE, never closed
    post_as(server, "carol", [rtl, hostile])
    page = open_demo(contexts.new(server.base_url))
    expect(page.locator(".msg", has_text=prefix)).to_have_count(2, timeout=LIVE_MS)
    lines = page.evaluate(
        """(prefix) => [...document.querySelectorAll(".msg")]
          .filter((line) => line.textContent.includes(prefix))
          .map((line) => {
            const parts = [".msg-author", ".msg-text", ".msg-time"].map((name) => line.querySelector(name));
            const [author, text] = parts;
            return {
              text: text.textContent,
              tags: [author.tagName, text.tagName],
              bidi: [author, text].map((node) => getComputedStyle(node).unicodeBidi),
              direction: getComputedStyle(text).direction,
              lefts: parts.map((node) => node.getBoundingClientRect().left),
            };
          })""",
        prefix,
    )
    assert [line["text"] for line in lines] == [rtl, hostile]
    for line, direction in zip(lines, ["rtl", "ltr"], strict=True):
        assert line["tags"] == ["BDI", "BDI"]
        assert line["bidi"] == ["isolate", "isolate"]
        assert line["direction"] == direction
        assert line["lefts"] == sorted(line["lefts"])  # author, then text, then time
