"""Pages that look finished, in a real Chromium against a real daphne: the room form suggests
the address from the title, the video page takes a duration as h:m:s, confirms what was saved
and copies the overlay's address, the home page counts messages, and a refused page has the
site's header and a way back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from .browsing import LIVE_MS, Contexts
from .conftest import Site, create_rooms, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OWNER = "alice"


@pytest.fixture(scope="module")
def site(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    room = f"pages-{uuid.uuid4().hex[:8]}"
    create_rooms(e2e_env, {room: ["--title", "Finished pages", "--owner", OWNER]})
    with running_server(e2e_env, tmp_path_factory.mktemp("pages")) as server:
        yield Site(server, {"main": room}, viewport=(1366, 900))


def test_creating_a_room_suggests_its_address_from_the_title(contexts: Contexts, site: Site) -> None:
    page = site.browse(contexts, OWNER).new_page()
    page.goto("/rooms/new")
    title = f"Friday Movie Night {uuid.uuid4().hex[:4]}"
    page.get_by_label("Title").press_sequentially(title)
    address = page.get_by_label("Address")
    expected = re.sub(r"[^a-z0-9]+", "-", title.lower())
    expect(address).to_have_value(expected)
    page.get_by_role("button", name="Create room").click()
    page.wait_for_url(f"**/rooms/{expected}/")
    expect(page.get_by_test_id("connection-state")).to_have_text("Connected", timeout=LIVE_MS)


def test_the_video_page_takes_h_m_s_confirms_and_copies_the_overlay_address(
    contexts: Contexts, site: Site
) -> None:
    context = site.browse(contexts, OWNER)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base_url)
    page = context.new_page()
    slug = site.rooms["main"]
    page.goto(f"/rooms/{slug}/video")
    page.get_by_label("Video address").fill("https://videos.example/film.mp4")
    page.get_by_label("Duration").fill("1:02:03")
    page.get_by_role("button", name="Save video").click()
    expect(page.get_by_test_id("saved-note")).to_have_text("Video saved.")
    expect(page.get_by_label("Duration")).to_have_value("1:02:03")

    page.get_by_label("Duration").fill("1:99")
    page.get_by_role("button", name="Save video").click()
    expect(page.get_by_text("Seconds go up to 59")).to_be_visible()
    expect(page.get_by_test_id("saved-note")).to_have_count(0)

    page.goto(f"/rooms/{slug}/video")
    page.get_by_test_id("copy-overlay-url").click()
    expect(page.locator("[data-copy-status=overlay-url]")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{site.base_url}/rooms/{slug}/overlay"


def test_home_counts_messages(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["main"]
    before = site.browse(contexts).new_page()
    before.goto("/")
    line = before.locator("li", has=before.locator(f'a[href="/rooms/{slug}/"]'))
    shown = line.get_by_test_id("room-messages").inner_text()
    count = int(re.sub(r"\D", "", shown))
    answers = site.post(slug, OWNER, [{"type": "message", "text": f"counted {n}"} for n in range(2)])
    assert [answer["type"] for answer in answers] == ["ack", "ack"]
    before.reload()
    expect(line.get_by_test_id("room-messages")).to_have_text(f"{count + 2} messages")


def test_a_refused_page_has_the_site_header_and_a_way_back(contexts: Contexts, site: Site) -> None:
    page = site.browse(contexts, "bob").new_page()
    response = page.goto(f"/rooms/{site.rooms['main']}/video")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_test_id("error-page")).to_contain_text("Only the room's owner")
    expect(page.get_by_test_id("current-user")).to_have_text("bob")
    page.get_by_role("link", name="Back to the rooms").click()
    expect(page.get_by_role("heading", name="Rooms")).to_be_visible()


def test_layouts_hold_still_at_1366_px(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["main"]
    page = site.browse(contexts, OWNER, viewport=(1366, 768)).new_page()
    page.goto(f"/rooms/{slug}/watch")
    expect(page.get_by_test_id("connection-state")).to_have_text("Connected", timeout=LIVE_MS)
    box = page.get_by_test_id("danmaku-input").bounding_box()
    send = page.get_by_test_id("danmaku-send").bounding_box()
    assert box is not None
    assert send is not None
    assert abs(send["y"] + send["height"] / 2 - (box["y"] + box["height"] / 2)) < 4  # one row

    # The links beside the connection label stay put whatever it says.
    link = page.get_by_role("link", name="Chat only")
    before = link.bounding_box()
    page.get_by_test_id("connection-state").evaluate("label => { label.textContent = 'Reconnecting…'; }")
    after = link.bounding_box()
    assert before == after

    # The moderator's page: the feed right under the header, no empty row between them.
    page.goto(f"/rooms/{slug}/moderate")
    header = page.locator(".moderate-header").bounding_box()
    feed = page.locator(".mod-feed").bounding_box()
    webhooks = page.locator(".mod-webhooks").bounding_box()
    assert header is not None
    assert feed is not None
    assert webhooks is not None
    assert feed["y"] - (header["y"] + header["height"]) <= 32
    assert webhooks["y"] > feed["y"] + feed["height"]


def test_an_error_line_never_hides_the_newest_message(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["main"]
    prefix = uuid.uuid4().hex[:6]
    answers = site.post(slug, OWNER, [{"type": "message", "text": f"{prefix} line {n}"} for n in range(40)])
    assert {answer["type"] for answer in answers} == {"ack"}
    page = site.browse(contexts, OWNER, viewport=(1024, 640)).new_page()
    page.goto(f"/rooms/{slug}/")
    newest = page.locator(".msg", has_text=f"{prefix} line 39")
    expect(newest).to_be_in_viewport(timeout=LIVE_MS)
    box = page.get_by_test_id("message-input")
    box.fill("x" * 5000)  # refused by the server: an error line appears under the list
    box.press("Enter")
    expect(page.get_by_test_id("send-error")).to_be_visible(timeout=LIVE_MS)
    scroller = page.locator(".message-scroll").bounding_box()
    line = newest.bounding_box()
    assert scroller is not None
    assert line is not None
    assert line["y"] + line["height"] <= scroller["y"] + scroller["height"] + 1


def tab_to(page: Page, test_id: str, limit: int = 60) -> None:
    """Press Tab until the element with `test_id` (or an element inside it) has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """(id) => {
              const target = document.querySelector(`[data-testid="${id}"]`);
              const focus = document.activeElement;
              return Boolean(target) && (target === focus || target.contains(focus));
            }""",
            test_id,
        )
        if focused:
            return
    raise AssertionError(f"Tab never reached {test_id}")


def test_the_room_and_the_player_work_from_the_keyboard(contexts: Contexts, site: Site) -> None:
    slug = site.rooms["main"]
    page = site.browse(contexts, OWNER).new_page()
    page.goto(f"/rooms/{slug}/")
    expect(page.get_by_test_id("connection-state")).to_have_text("Connected", timeout=LIVE_MS)
    text = f"typed without a mouse {uuid.uuid4().hex[:6]}"
    tab_to(page, "message-input")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    expect(page.locator(".msg", has_text=text)).to_have_count(1, timeout=LIVE_MS)
    # Back from the composer to that line's Reply, and a reply sent without leaving the keys.
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if page.evaluate(
            """(text) => document.activeElement?.dataset.testid === "reply"
                 && document.activeElement.closest(".msg")?.textContent.includes(text)""",
            text,
        ):
            break
    else:
        raise AssertionError("Shift+Tab never reached the line's Reply")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("reply-bar")).to_be_visible()
    expect(page.get_by_test_id("message-input")).to_be_focused()
    answer = f"answered from the keyboard {uuid.uuid4().hex[:6]}"
    page.keyboard.type(answer)
    page.keyboard.press("Enter")
    reply = page.locator(".msg", has_text=answer)
    expect(reply.get_by_test_id("reply-quote")).to_contain_text(text, timeout=LIVE_MS)
    expect(page.get_by_test_id("reply-bar")).to_be_hidden()

    page.goto(f"/rooms/{slug}/watch")
    expect(page.get_by_test_id("connection-state")).to_have_text("Connected", timeout=LIVE_MS)
    # The viewer's danmaku settings open and close from the keyboard.
    tab_to(page, "danmaku-settings")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("danmaku-settings")).to_have_attribute("open", "")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("danmaku-settings")).not_to_have_attribute("open", "")
    # Danmaku on/off is a toggle button.
    tab_to(page, "player-danmaku")
    page.keyboard.press("Space")
    expect(page.get_by_test_id("player-danmaku")).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Space")
    expect(page.get_by_test_id("player-danmaku")).to_have_attribute("aria-pressed", "true")
    comment = f"a comment from the keyboard {uuid.uuid4().hex[:6]}"
    tab_to(page, "danmaku-input")
    page.keyboard.type(comment)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("danmaku-input")).to_have_value("", timeout=LIVE_MS)
    expect(page.locator(".msg", has_text=comment)).to_have_count(1, timeout=LIVE_MS)
