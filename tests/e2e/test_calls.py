"""Calls in Chromium (fake camera and microphone) on one daphne process: two users see and hear
each other, mute and leave; an audio-only participant shows their name; a full call, a banned
user; and a call forced through Debian's coturn with the app's TURN credentials."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bench.turn import TurnServer

from .browsing import LIVE_MS, Contexts, open_room
from .calling import (
    MEDIA_MS,
    RawParticipant,
    callers,
    expect_playing,
    first_frame_ms,
    join,
    media_browser,
    open_call,
    signed_in,
    start_turn,
    tile_of,
)
from .conftest import DaphneServer, create_rooms, manage

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(180), pytest.mark.alone]

__all__ = ["callers", "media_browser"]  # fixtures

TURN_SECRET = "a-long-random-secret-shared-with-coturn"


@pytest.fixture(scope="module")
def rooms(e2e_env: dict[str, str]) -> dict[str, str]:
    slugs = {"call": "call-room", "banned": "call-banned", "full": "call-full", "turn": "call-turn"}
    slugs["owned"] = "call-owned"
    rooms = {slug: ["--title", slug] for slug in slugs.values()}
    rooms["call-owned"] += ["--owner", "alice"]
    create_rooms(e2e_env, rooms)
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from chat.models import Room, Sanction\n"
        "Sanction.objects.create(room=Room.objects.get(slug='call-banned'),"
        " user=get_user_model().objects.get(username='carol'), kind='ban')\n"
    )
    manage(e2e_env, "shell", "-c", script)
    return slugs


def test_two_users_see_each_other_mute_and_leave(
    callers: Contexts, server: DaphneServer, rooms: dict[str, str]
) -> None:
    slug = rooms["call"]
    alice = open_call(signed_in(callers, server, "alice"), slug)
    bob = open_call(signed_in(callers, server, "bob"), slug)
    lobby = open_room(signed_in(callers, server, "carol"), slug)  # the room page, not in the call
    join(alice)
    join(bob)

    bob_on_alice = tile_of(alice, "bob")
    alice_on_bob = tile_of(bob, "alice")
    seen = expect_playing(bob_on_alice)
    expect_playing(alice_on_bob)
    print(f"bob's video on alice's page: {seen}; first frame {first_frame_ms(bob_on_alice)} ms after join")
    expect(lobby.get_by_test_id("call-count")).to_have_text("(2 in the call)", timeout=LIVE_MS)

    bob.get_by_test_id("mute-mic").click()
    expect(bob_on_alice).to_have_attribute("data-audio-muted", "true", timeout=LIVE_MS)
    expect(bob_on_alice.get_by_test_id("tile-state")).to_have_text("microphone muted")
    bob.get_by_test_id("mute-camera").click()
    expect(bob_on_alice).to_have_attribute("data-video-muted", "true", timeout=LIVE_MS)
    bob.get_by_test_id("mute-mic").click()
    expect(bob_on_alice).to_have_attribute("data-audio-muted", "false", timeout=LIVE_MS)

    # Chat stays beside the call.
    alice.get_by_test_id("message-input").fill("can you hear me?")
    alice.get_by_test_id("send-button").click()
    expect(bob.get_by_test_id("messages").get_by_text("can you hear me?")).to_be_visible(timeout=LIVE_MS)

    bob.get_by_test_id("leave-call").click()
    expect(bob_on_alice).to_have_count(0, timeout=LIVE_MS)
    expect(bob.get_by_test_id("call-tile")).to_have_count(0)
    expect(bob.get_by_test_id("join-call")).to_be_visible()
    expect(lobby.get_by_test_id("call-count")).to_have_text("(1 in the call)", timeout=LIVE_MS)


def test_an_audio_only_participant_shows_their_name(
    callers: Contexts, server: DaphneServer, rooms: dict[str, str]
) -> None:
    slug = rooms["call"]
    alice = open_call(signed_in(callers, server, "alice"), slug)
    bob = open_call(signed_in(callers, server, "bob"), slug)
    join(alice)
    join(bob, camera=False)
    bob_on_alice = tile_of(alice, "bob")
    expect(bob_on_alice).to_have_attribute("data-audio-only", "true", timeout=LIVE_MS)
    expect(bob_on_alice.get_by_test_id("tile-name")).to_have_text("bob")
    expect(bob_on_alice.get_by_test_id("tile-state")).to_have_text("audio only")
    expect(tile_of(bob, "alice")).to_have_count(1, timeout=LIVE_MS)
    expect_playing(tile_of(bob, "alice"))


def test_a_banned_user_is_refused(callers: Contexts, server: DaphneServer, rooms: dict[str, str]) -> None:
    slug = rooms["banned"]
    alice = open_call(signed_in(callers, server, "alice"), slug)
    join(alice)
    carol = open_call(signed_in(callers, server, "carol"), slug)
    carol.get_by_test_id("join-call").click()
    expect(carol.get_by_test_id("call-status")).to_contain_text("sanctioned", timeout=LIVE_MS)
    expect(carol.get_by_test_id("call-tile")).to_have_count(0)
    expect(carol.get_by_test_id("leave-call")).to_be_hidden()
    expect(alice.locator('[data-testid="call-tile"][data-self="false"]')).to_have_count(0)


def test_the_owner_removes_a_participant(
    callers: Contexts, server: DaphneServer, rooms: dict[str, str]
) -> None:
    slug = rooms["owned"]
    alice = open_call(signed_in(callers, server, "alice"), slug)  # the room's owner
    bob = open_call(signed_in(callers, server, "bob"), slug)
    join(alice)
    join(bob)
    expect(tile_of(bob, "alice").get_by_test_id("remove-participant")).to_have_count(0)  # not his to do
    tile_of(alice, "bob").get_by_test_id("remove-participant").click()
    removed = "A moderator removed you from the call. You may join it again in 10 minutes."
    expect(bob.get_by_test_id("call-status")).to_have_text(removed, timeout=LIVE_MS)
    expect(bob.get_by_test_id("call-tile")).to_have_count(0)
    expect(tile_of(alice, "bob")).to_have_count(0, timeout=LIVE_MS)
    # Removal keeps him out (CHAT_CALL_REMOVAL_SECS), from this page and from a new one alike.
    kept_out = "A moderator removed you from this call; you may join it again in 10 minutes."
    bob.get_by_test_id("join-call").click()
    expect(bob.get_by_test_id("call-status")).to_have_text(kept_out, timeout=LIVE_MS)
    again = open_call(signed_in(callers, server, "bob"), slug)
    again.get_by_test_id("join-call").click()
    expect(again.get_by_test_id("call-status")).to_have_text(kept_out, timeout=LIVE_MS)
    expect(again.get_by_test_id("leave-call")).to_be_hidden()
    expect(tile_of(alice, "bob")).to_have_count(0)


def test_a_seventh_person_is_refused_clearly(
    callers: Contexts, server: DaphneServer, rooms: dict[str, str]
) -> None:
    slug = rooms["full"]
    six = [RawParticipant(server, f"writer{n}", slug) for n in range(6)]
    try:
        for participant in six:
            assert participant.send({"type": "call.join", "audio": True})["type"] == "ack"
        alice = open_call(signed_in(callers, server, "alice"), slug)
        alice.get_by_test_id("join-call").click()
        expect(alice.get_by_test_id("call-status")).to_have_text(
            "This call is full: a call holds at most 6 people.", timeout=LIVE_MS
        )
        expect(alice.get_by_test_id("leave-call")).to_be_hidden()
    finally:
        for participant in six:
            participant.close()


@pytest.fixture
def turn(tmp_path: Path) -> Iterator[TurnServer]:
    server = start_turn(tmp_path, TURN_SECRET)
    yield server
    server.stop()


def test_a_call_through_turn_only(
    callers: Contexts,
    start_server: Callable[..., DaphneServer],
    turn: TurnServer,
    rooms: dict[str, str],
) -> None:
    """Both pages allow only relayed paths (iceTransportPolicy "relay"): the media flows only
    if coturn took the credentials the app issued."""
    server = start_server(CHAT_TURN_URLS=turn.url, CHAT_TURN_SECRET=TURN_SECRET, CHAT_TURN_TTL="600")
    slug = rooms["turn"]
    alice = open_call(signed_in(callers, server, "alice"), slug, "?relay=1")
    bob = open_call(signed_in(callers, server, "bob"), slug, "?relay=1")
    join(alice)
    join(bob)
    bob_on_alice = tile_of(alice, "bob")
    expect_playing(bob_on_alice, timeout=MEDIA_MS)
    expect_playing(tile_of(bob, "alice"), timeout=MEDIA_MS)
    print(f"through TURN: first frame {first_frame_ms(bob_on_alice)} ms after join")
    log = turn.log()
    assert "ALLOCATE processed, success" in log, log[-3000:]
    assert "CREATE_PERMISSION processed, success" in log or "CHANNEL_BIND processed, success" in log


def test_turn_refuses_credentials_of_another_secret(
    callers: Contexts,
    start_server: Callable[..., DaphneServer],
    turn: TurnServer,
    rooms: dict[str, str],
) -> None:
    """The control: the same call with credentials made with another secret gets no media."""
    server = start_server(CHAT_TURN_URLS=turn.url, CHAT_TURN_SECRET="not-the-secret", CHAT_TURN_TTL="600")
    slug = rooms["turn"]
    alice = open_call(signed_in(callers, server, "alice"), slug, "?relay=1")
    bob = open_call(signed_in(callers, server, "bob"), slug, "?relay=1")
    join(alice)
    join(bob)
    bob_on_alice = tile_of(alice, "bob")
    expect(bob_on_alice).to_have_count(1, timeout=LIVE_MS)
    alice.wait_for_timeout(5_000)
    assert bob_on_alice.get_by_test_id("call-video").evaluate("video => video.videoWidth") == 0
    assert "ALLOCATE processed, success" not in turn.log()
