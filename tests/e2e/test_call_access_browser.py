"""Who may join a room's call, in Chromium (fake camera and microphone): the owner chooses the
mode and invites accounts with the form on the moderator's page, and the call page lets in the
members or the invited accounts and refuses the others with a sentence that says why."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .browsing import LIVE_MS, Contexts, open_live
from .calling import callers, join, media_browser, open_call, signed_in, tile_of
from .conftest import DaphneServer, create_rooms

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(180), pytest.mark.alone]

__all__ = ["callers", "media_browser"]  # fixtures


@pytest.fixture(scope="module")
def rooms(e2e_env: dict[str, str]) -> dict[str, str]:
    slugs = {"members": "call-for-members", "invited": "call-for-invited"}
    create_rooms(e2e_env, {slug: ["--title", slug, "--owner", "alice"] for slug in slugs.values()})
    return slugs


def moderate(callers: Contexts, server: DaphneServer, slug: str) -> Page:
    """The owner's (alice's) moderator page of `slug`, live."""
    return open_live(signed_in(callers, server, "alice"), f"/rooms/{slug}/moderate")


def choose_access(page: Page, value: str, saved: str) -> None:
    page.get_by_test_id("call-access").select_option(value)
    page.get_by_test_id("call-access-save").click()
    expect(page.get_by_test_id("call-settings-status")).to_have_text(saved, timeout=LIVE_MS)


def invite(page: Page, name: str) -> None:
    page.get_by_test_id("call-invite-name").fill(name)
    page.get_by_test_id("call-invite-add").click()


def refused(page: Page, text: str) -> None:
    """Join is refused on the call page with `text`, and the page is not in the call."""
    page.get_by_test_id("join-call").click()
    expect(page.get_by_test_id("call-status")).to_have_text(text, timeout=LIVE_MS)
    expect(page.get_by_test_id("leave-call")).to_be_hidden()
    expect(page.get_by_test_id("call-tile")).to_have_count(0)


def test_in_members_mode_a_member_joins_and_a_non_member_is_refused(
    callers: Contexts, server: DaphneServer, rooms: dict[str, str]
) -> None:
    slug = rooms["members"]
    owner = moderate(callers, server, slug)
    expect(owner.get_by_test_id("call-access")).to_have_value("signed_in", timeout=LIVE_MS)
    choose_access(owner, "members", "Saved: the call is open to the room's members (and moderators).")
    owner.get_by_test_id("member-name").fill("bob")
    owner.get_by_test_id("member-add").click()
    expect(owner.get_by_test_id("members").get_by_text("bob", exact=True)).to_be_visible(timeout=LIVE_MS)
    audit = owner.get_by_test_id("audit-log")
    expect(audit.locator('[data-action="call_access"]')).to_contain_text(
        "changed who may join the call", timeout=LIVE_MS
    )

    # The mode was saved, not just shown: a fresh page reads it back.
    owner.reload()
    expect(owner.get_by_test_id("call-access")).to_have_value("members", timeout=LIVE_MS)

    carol = open_call(signed_in(callers, server, "carol"), slug)
    refused(carol, "Only the room's members and moderators may join its call.")
    alice = open_call(signed_in(callers, server, "alice"), slug)
    bob = open_call(signed_in(callers, server, "bob"), slug)
    join(alice)
    join(bob)
    expect(tile_of(alice, "bob")).to_have_count(1, timeout=LIVE_MS)
    expect(tile_of(bob, "alice")).to_have_count(1, timeout=LIVE_MS)
    expect(carol.locator('[data-testid="call-tile"]')).to_have_count(0)


def test_in_invited_mode_only_the_invited_account_joins(
    callers: Contexts, server: DaphneServer, rooms: dict[str, str]
) -> None:
    slug = rooms["invited"]
    owner = moderate(callers, server, slug)
    invited = owner.get_by_test_id("call-invited")
    expect(owner.get_by_test_id("call-access")).to_have_value("signed_in", timeout=LIVE_MS)
    choose_access(owner, "invited", "Saved: the call is open to moderators and the invited accounts.")

    invite(owner, "nobody-by-this-name")
    status = owner.get_by_test_id("call-settings-status")
    expect(status).to_have_text("There is no account named “nobody-by-this-name”.", timeout=LIVE_MS)
    expect(status).to_have_attribute("data-kind", "error")
    expect(owner.get_by_test_id("call-invite-name")).to_have_value("nobody-by-this-name")

    invite(owner, "bob")
    expect(status).to_have_text("Invited bob to the call.", timeout=LIVE_MS)
    invite(owner, "carol")
    expect(invited.get_by_test_id("call-invitee")).to_have_count(2, timeout=LIVE_MS)
    invited.locator('[data-name="carol"]').get_by_test_id("call-uninvite").click()
    expect(status).to_have_text("carol is no longer invited to the call.", timeout=LIVE_MS)
    expect(invited.get_by_test_id("call-invitee")).to_have_text(["bob Remove"])
    audit = owner.get_by_test_id("audit-log")
    expect(audit).to_contain_text("withdrew the call invitation of carol", timeout=LIVE_MS)
    expect(audit).to_contain_text("invited to the call: bob")

    carol = open_call(signed_in(callers, server, "carol"), slug)  # signed in, invitation withdrawn
    refused(carol, "Only the room's invited accounts and moderators may join its call.")
    writer = open_call(signed_in(callers, server, "writer0"), slug)  # signed in, never invited
    refused(writer, "Only the room's invited accounts and moderators may join its call.")
    alice = open_call(signed_in(callers, server, "alice"), slug)
    bob = open_call(signed_in(callers, server, "bob"), slug)
    join(alice)
    join(bob)
    expect(tile_of(alice, "bob")).to_have_count(1, timeout=LIVE_MS)


def test_a_moderator_who_is_not_the_owner_sees_the_mode_but_no_form(
    callers: Contexts, server: DaphneServer, rooms: dict[str, str]
) -> None:
    slug = rooms["members"]
    owner = moderate(callers, server, slug)
    owner.get_by_test_id("moderator-name").fill("writer1")
    owner.get_by_test_id("moderator-add").click()
    moderators = owner.get_by_test_id("moderators")
    expect(moderators.get_by_text("writer1", exact=True)).to_be_visible(timeout=LIVE_MS)
    mod = open_live(signed_in(callers, server, "writer1"), f"/rooms/{slug}/moderate")
    expect(mod.get_by_test_id("call-access-form")).to_have_count(0)
    expect(mod.get_by_test_id("call-access-readonly")).to_contain_text("The call is open to")
