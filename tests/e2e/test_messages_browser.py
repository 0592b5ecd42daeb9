"""The room's messages as people expect them, in a real Chromium against a real daphne, with each
person in a browser profile of their own: links that can be followed (http and https only, with
rel="nofollow ugc noopener", opening a new tab) on the room, the moderator's feed and the watch
page, plain text on the stream overlay; "@name" marked for the person named and for no one else."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from .browsing import LIVE_MS, Contexts, message_line, open_live, open_overlay, open_room, send_message
from .conftest import Site, create_rooms, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OWNER = "alice"
ROOMS = ("links", "mentions")


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
