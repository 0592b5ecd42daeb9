"""The room's messages as people expect them, in a real Chromium against a real daphne, with each
person in a browser profile of their own: links that can be followed (http and https only, with
rel="nofollow ugc noopener", opening a new tab) on the room and the moderator's feed, plain text
on the stream overlay; "@name" marked for the person named and for no one else; replies that
quote their parent for everyone, jump to it (loading older history when needed) and say when it
was removed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, Request, expect

from .browsing import LIVE_MS, Contexts, message_line, open_live, open_overlay, open_room, send_message
from .conftest import Site, create_rooms, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OWNER = "alice"
ROOMS = ("links", "mentions", "replies", "far", "names", "flow", "guests")


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    suffix = uuid.uuid4().hex[:8]
    rooms = {name: f"msgs-{name}-{suffix}" for name in ROOMS}
    create_rooms(e2e_env, {slug: ["--owner", OWNER] for slug in rooms.values()})
    with running_server(e2e_env, tmp_path_factory.mktemp("messages")) as server:
        yield Site(server, rooms, viewport=(1400, 1000))


def link_checks(page: Page, text: str, href: str) -> None:
    line = message_line(page, text)
    expect(line).to_have_count(1, timeout=LIVE_MS)
    links = line.locator("a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", href)
    expect(links).to_have_attribute("rel", "nofollow ugc noopener")
    expect(links).to_have_attribute("target", "_blank")
    expect(links).to_have_text(href)


def test_http_links_are_clickable_for_everyone_and_other_schemes_stay_text(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["links"]
    marker = uuid.uuid4().hex[:6]
    bob = open_room(site.browse(contexts, "bob"), slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=sse")
    moderator = open_live(site.browse(contexts, OWNER), f"/rooms/{slug}/moderate")
    overlay = open_overlay(site.browse(contexts), slug, "?chat=1&history=0")
    href = f"https://example.org/{marker}?a=1&b=2"
    text = f"look {href}, not javascript:alert('{marker}') nor <a href=x>{marker}</a>"
    send_message(bob, text)
    for page in (bob, carol, moderator):
        link_checks(page, text, href)
    # The overlay is shown on a stream, where no one can click: its line is plain text.
    overlay_line = message_line(overlay, text)
    expect(overlay_line).to_have_count(1, timeout=LIVE_MS)
    expect(overlay_line.locator("a")).to_have_count(0)
    # A page opened later renders history the same way; markup in the text was never parsed.
    later = open_room(site.browse(contexts, "writer1"), slug, "?transport=poll")
    link_checks(later, text, href)
    assert later.evaluate("document.querySelectorAll('.msg-text img, .msg-text a[href=\"x\"]').length") == 0
    # Following the link opens a new tab, the room stays where it is.
    room_url = later.url
    with later.context.expect_page() as opened:
        later.context.route(
            "https://example.org/**", lambda route: route.fulfill(status=200, body="elsewhere")
        )
        message_line(later, text).locator("a").click()
    assert opened.value.url == href
    assert later.url == room_url
    # No one fetched a preview: nothing on the page asked for the address.
    asked: list[str] = []
    carol.on("request", lambda request: asked.append(request.url))
    send_message(carol, f"again {href}")
    expect(message_line(bob, f"again {href}").locator("a")).to_have_count(1, timeout=LIVE_MS)
    assert not [url for url in asked if "example.org" in url]


def test_a_mention_is_marked_for_the_person_named_only(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["mentions"]
    marker = uuid.uuid4().hex[:6]
    bob = open_room(site.browse(contexts, "bob"), slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=sse")
    dave = open_room(site.browse(contexts, "writer1"), slug, "?transport=poll")
    text = f"hey @Carol, seen {marker}? @caroline too"
    send_message(bob, text)
    line = message_line(carol, text)
    expect(line).to_have_count(1, timeout=LIVE_MS)
    expect(line).to_have_class(re.compile(r"\bmsg-mentions-me\b"))
    expect(line.locator("mark.mention")).to_have_text(["@Carol"])
    for page in (bob, dave):
        other = message_line(page, text)
        expect(other).to_have_count(1, timeout=LIVE_MS)
        expect(other).not_to_have_class(re.compile(r"\bmsg-mentions-me\b"))
        expect(other.locator("mark")).to_have_count(0)
    # The mark stands out: its background is not the line's.
    mark_bg, line_bg = carol.evaluate(
        """([text]) => {
          const line = [...document.querySelectorAll('.msg')].find((li) => li.textContent.includes(text));
          const style = (node) => getComputedStyle(node).backgroundColor;
          return [style(line.querySelector('mark')), style(line)];
        }""",
        [marker],
    )
    assert mark_bg != line_bg
    # Carol's own name in a message to dave marks dave's screen, not hers.
    send_message(carol, f"@WRITER1 {marker} over")
    expect(message_line(dave, f"@WRITER1 {marker} over").locator("mark.mention")).to_have_text(
        "@WRITER1", timeout=LIVE_MS
    )
    expect(message_line(carol, f"@WRITER1 {marker} over").locator("mark")).to_have_count(0)


def quote_of(page: Page, text: str) -> Locator:
    return message_line(page, text).get_by_test_id("reply-quote")


def test_a_reply_quotes_its_parent_for_everyone_jumps_to_it_and_says_when_it_was_removed(
    contexts: Contexts, site: Site
) -> None:
    slug = site.rooms["replies"]
    marker = uuid.uuid4().hex[:6]
    bob = open_room(site.browse(contexts, "bob"), slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=poll")  # posts over HTTP
    writer = open_room(site.browse(contexts, "writer1"), slug, "?transport=sse")
    question = f"when does it start {marker}?"
    send_message(bob, question)
    parent = message_line(carol, question)
    expect(parent).to_have_count(1, timeout=LIVE_MS)
    parent.get_by_test_id("reply").click()
    expect(carol.get_by_test_id("reply-label")).to_have_text("Replying to bob")
    expect(carol.get_by_test_id("message-input")).to_be_focused()
    # Cancel drops the reply; a second Reply takes it up again.
    carol.get_by_test_id("reply-cancel").click()
    expect(carol.get_by_test_id("reply-bar")).to_be_hidden()
    parent.get_by_test_id("reply").click()
    answer = f"at nine {marker}"
    send_message(carol, answer)
    expect(carol.get_by_test_id("reply-bar")).to_be_hidden()
    for page in (bob, carol, writer):
        quote = quote_of(page, answer)
        expect(quote.locator(".msg-reply-excerpt")).to_have_text(question, timeout=LIVE_MS)
        expect(quote.locator(".msg-reply-author")).to_have_text("bob")
    # Announced (the list is a polite live region) as a reply to bob, then carol's answer.
    spoken = message_line(writer, answer).aria_snapshot()
    assert f'button "In reply to bob : {question} ."' in spoken, spoken
    assert spoken.index("In reply to bob") < spoken.index(f"carol {answer}"), spoken
    # The next message is not a reply.
    send_message(carol, f"plain {marker}")
    expect(quote_of(bob, f"plain {marker}")).to_have_count(0, timeout=LIVE_MS)
    # Clicking the quote brings the parent into view, highlighted.
    writer.get_by_test_id("messages").evaluate("list => { list.parentElement.scrollTop = 0; }")
    quote_of(writer, answer).click()
    expect(message_line(writer, question)).to_have_class(re.compile(r"\bmsg-jumped\b"))
    expect(message_line(writer, question)).to_be_in_viewport()
    # A moderator deletes the parent: every reply says so at once, without the quote's text.
    acks = site.post_messages(slug, "bob", [f"to delete {marker}"])
    doomed = f"to delete {marker}"
    message_line(writer, doomed).get_by_test_id("reply").click()
    send_message(writer, f"re doomed {marker}")
    expect(quote_of(bob, f"re doomed {marker}")).to_contain_text(doomed, timeout=LIVE_MS)
    answer_delete = site.api(OWNER, slug).post("mod/delete", {"id": acks[0]["id"]})
    assert answer_delete.status_code == 200, answer_delete.text
    for page in (bob, carol, writer):
        quote = quote_of(page, f"re doomed {marker}")
        expect(quote).to_have_text("↪In reply to a message that was removed.", timeout=LIVE_MS)
        expect(quote).to_be_disabled()
    # A page opened later is told by the server's history.
    later = open_room(site.browse(contexts, "writer2"), slug)
    expect(quote_of(later, f"re doomed {marker}")).to_have_text("↪In reply to a message that was removed.")
    expect(later.get_by_test_id("messages")).not_to_contain_text(doomed)
    # Replying to it now is refused with a stable code.
    refused = site.post(slug, "carol", [{"type": "message", "text": "late", "reply_to": acks[0]["id"]}])
    assert refused[0]["code"] == "bad_reply", refused
    assert refused[0]["field"] == "reply_to"


def test_a_reply_to_a_message_older_than_the_loaded_history_loads_it(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["far"]
    marker = uuid.uuid4().hex[:6]
    first = site.post_messages(slug, "bob", [f"the first {marker}"])[0]
    site.post_messages(slug, "writer1", [f"filler {n} {marker}" for n in range(70)])
    reply = {"type": "message", "text": f"replying to the first {marker}", "reply_to": first["id"]}
    assert site.post(slug, "carol", [reply])[0]["type"] == "ack"
    page = open_room(site.browse(contexts, "writer2"), slug)
    expect(message_line(page, f"the first {marker}")).to_have_count(0)  # beyond the first page
    quote_of(page, f"replying to the first {marker}").click()
    line = message_line(page, f"the first {marker}")
    expect(line).to_have_class(re.compile(r"\bmsg-jumped\b"), timeout=LIVE_MS)
    expect(line).to_be_in_viewport()


def author_colours(page: Page, marker: str) -> dict[str, str]:
    """Each author's computed name colour on the lines with `marker`."""
    colours: dict[str, str] = page.evaluate(
        """(marker) => Object.fromEntries([...document.querySelectorAll('.msg')]
             .filter((li) => li.textContent.includes(marker))
             .map((li) => [li.querySelector('.msg-author').textContent,
                           getComputedStyle(li.querySelector('.msg-author')).color]))""",
        marker,
    )
    return colours


def test_names_keep_one_colour_for_everyone_and_roles_show_badges(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["names"]
    marker = uuid.uuid4().hex[:6]
    assert site.api(OWNER, slug).post("mod/moderators", {"add": "bob"}).status_code == 200
    bob = open_room(site.browse(contexts, "bob"), slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=sse")
    owner = open_room(site.browse(contexts, OWNER), slug)
    send_message(owner, f"welcome {marker}")
    send_message(bob, f"mod here {marker}")
    send_message(carol, f"hello {marker}")
    send_message(carol, f"again {marker}")
    for page in (bob, carol, owner):
        expect(message_line(page, f"again {marker}")).to_have_count(1, timeout=LIVE_MS)
        expect(message_line(page, f"welcome {marker}").locator(".role-badge")).to_have_text("owner")
        expect(message_line(page, f"mod here {marker}").locator(".role-badge")).to_have_text("moderator")
        expect(message_line(page, f"hello {marker}").locator(".role-badge")).to_have_count(0)
    seen = [author_colours(page, marker) for page in (bob, carol, owner)]
    assert seen[0] == seen[1] == seen[2], seen
    assert len(set(seen[0].values())) == 3, seen[0]  # three people, three colours
    # A page opened later, in the dark theme, shows the same badges from history.
    later = site.browse(contexts, "writer3")
    later.add_cookies([{"name": "theme", "value": "dark", "url": site.base_url}])
    dark = open_room(later, slug)
    expect(message_line(dark, f"mod here {marker}").locator(".role-badge")).to_have_text("moderator")
    assert author_colours(dark, marker)["carol"] != seen[0]["carol"]  # the dark theme's shade


def test_grouping_new_messages_below_and_characters_left(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["flow"]
    marker = uuid.uuid4().hex[:6]
    site.post_messages(slug, "writer1", [f"older {n} {marker}" for n in range(40)])
    bob = open_room(site.browse(contexts, "bob", viewport=(1000, 700)), slug)
    carol = open_room(site.browse(contexts, "carol"), slug, "?transport=sse")
    # Grouped: bob's two messages in a row show his name once, for carol and for him.
    send_message(bob, f"one {marker}")
    send_message(bob, f"two {marker}")
    send_message(carol, f"three {marker}")
    for page in (bob, carol):
        expect(message_line(page, f"two {marker}")).to_have_class(
            re.compile(r"\bmsg-grouped\b"), timeout=LIVE_MS
        )
        expect(message_line(page, f"one {marker}")).not_to_have_class(re.compile(r"\bmsg-grouped\b"))
        expect(message_line(page, f"three {marker}")).not_to_have_class(re.compile(r"\bmsg-grouped\b"))
        expect(message_line(page, f"one {marker}").locator(".msg-author")).to_be_visible()
        # The grouped line's name is there for screen readers, not on screen.
        author = message_line(page, f"two {marker}").locator(".msg-author")
        expect(author).to_have_text("bob")
        assert author.bounding_box() is not None
        assert author.bounding_box()["width"] <= 1  # type: ignore[index]
    # The list is a polite live region, and the grouped line's text names its author.
    expect(carol.get_by_test_id("messages")).to_have_attribute("aria-live", "polite")
    assert f"bob two {marker}" in message_line(carol, f"two {marker}").aria_snapshot()
    # Scrolled up, bob is told of new messages instead of being pulled down.
    new_below = bob.get_by_test_id("new-below")
    expect(new_below).to_be_hidden()
    bob.get_by_test_id("messages").evaluate("list => { list.parentElement.scrollTop = 0; }")
    send_message(carol, f"four {marker}")
    send_message(carol, f"five {marker}")
    expect(new_below).to_have_text("2 new messages below", timeout=LIVE_MS)
    expect(message_line(bob, f"five {marker}")).not_to_be_in_viewport()
    new_below.click()
    expect(message_line(bob, f"five {marker}")).to_be_in_viewport()
    expect(new_below).to_be_hidden()
    # Carol, at the bottom all along, never saw the button.
    expect(carol.get_by_test_id("new-below")).to_be_hidden()
    # Characters left: hidden for short text, counting down near the 500 limit, over past it.
    box = carol.get_by_test_id("message-input")
    left = carol.get_by_test_id("chars-left")
    box.fill("short")
    expect(left).to_be_hidden()
    box.fill("x" * 488)
    expect(left).to_have_text("12 characters left")
    box.fill("x" * 505)
    expect(left).to_have_text("5 characters over the limit")
    box.press("Enter")
    expect(carol.get_by_test_id("send-error")).to_be_visible(timeout=LIVE_MS)
    box.fill("x" * 450)
    send_message(carol, "x" * 450)
    expect(left).to_be_hidden()


def test_a_guest_reading_by_long_poll_gets_each_message_once(contexts: Contexts, site: Site) -> None:
    """A guest's polls are the kind the server answers below ASGI (chat/transports/direct_poll.py):
    no session cookie, no Origin, a cursor. Each message reaches the page once, in order."""
    slug = site.rooms["guests"]
    marker = uuid.uuid4().hex[:6]
    guest = site.browse(contexts)
    polls: list[tuple[set[str], dict[str, str]]] = []

    def seen(request: Request) -> None:
        if "/poll?" in request.url and "after=" in request.url:
            polls.append((set(parse_qs(urlsplit(request.url).query)), request.all_headers()))

    guest.on("request", seen)
    reader = open_room(guest, slug, "?transport=poll")
    bob = open_room(site.browse(contexts, "bob"), slug)
    texts = [f"{marker} {n}" for n in range(5)]
    for text in texts:
        send_message(bob, text)
    for text in texts:
        expect(message_line(reader, text)).to_have_count(1, timeout=LIVE_MS)
    shown = reader.evaluate("[...document.querySelectorAll('.msg-text')].map(e => e.textContent)")
    assert [text for text in shown if text.startswith(marker)] == texts
    assert len(polls) >= 3
    for parameters, headers in polls:
        assert parameters <= {"after", "epoch", "timeout"}
        assert "origin" not in headers
        assert "sessionid=" not in headers.get("cookie", "")
