"""Calls across two daphne processes on the real Redis server: the roster and addressed frames
cross processes, nothing addressed to one participant reaches anyone else, a participant whose
process died expires, and a page whose WebSocket dropped keeps its place and its video."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from .browsing import LIVE_MS, SLOW_MS, Contexts
from .calling import (
    RawParticipant,
    callers,
    expect_playing,
    join,
    media_browser,
    open_call,
    signed_in,
    tile_of,
)
from .conftest import DaphneServer, create_rooms, login, restarted, unique_prefix

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.timeout(240), pytest.mark.alone]

__all__ = ["callers", "media_browser"]  # fixtures

TIMEOUT = 6  # CHAT_CALL_TIMEOUT of the first test, short so expiry is quick to see
OFFER = {"type": "call.signal", "kind": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}


def pair(
    start_server: Callable[..., DaphneServer], redis_url: str, timeout: int
) -> tuple[DaphneServer, DaphneServer]:
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": unique_prefix(), "CHAT_CALL_TIMEOUT": str(timeout)}
    return start_server(**env), start_server(**env)


def roster_where(
    peer: RawParticipant, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        frame = peer.next("call.roster", timeout=max(0.01, deadline - time.monotonic()))
        if predicate(frame["participants"]):
            return list(frame["participants"])


def names(participants: list[dict[str, Any]]) -> list[str]:
    return sorted(p["user"]["name"] for p in participants)


def test_signalling_crosses_processes_and_reaches_only_its_participant(
    start_server: Callable[..., DaphneServer], redis_url: str, e2e_env: dict[str, str]
) -> None:
    create_rooms(e2e_env, {"call-across": ["--title", "Across"]})
    one, two = pair(start_server, redis_url, timeout=TIMEOUT)
    observer = RawParticipant(one, None, "call-across")  # a guest reading the room
    alice = RawParticipant(one, "alice", "call-across")
    bob = RawParticipant(two, "bob", "call-across")
    carol = RawParticipant(two, "carol", "call-across")
    ids = {}
    for name, peer in (("alice", alice), ("bob", bob), ("carol", carol)):
        answer = peer.send({"type": "call.join", "audio": True, "video": True})
        assert answer["type"] == "ack", answer
        ids[name] = answer["id"]
    assert names(roster_where(observer, lambda p: len(p) == 3, LIVE_MS / 1000)) == ["alice", "bob", "carol"]

    assert alice.send({**OFFER, "to": ids["bob"]})["type"] == "ack"  # process one -> process two
    offer = bob.next("call.signal")
    assert offer == {"type": "call.signal", "from": ids["alice"], "kind": "offer", "sdp": OFFER["sdp"]}
    answer = {"type": "call.signal", "kind": "answer", "to": ids["alice"], "sdp": "v=0\r\n"}
    assert bob.send(answer)["type"] == "ack"  # and back
    assert alice.next("call.signal")["from"] == ids["bob"]
    for peer in (observer, carol):
        peer.drain(1.0)
        assert peer.of_type("call.signal") == [], peer.of_type("call.signal")

    assert alice.send({"type": "call.heartbeat"})["type"] == "ack"
    assert bob.send({"type": "call.mute", "audio": True, "video": True, "audio_muted": True})["type"] == "ack"
    muted = roster_where(observer, lambda p: any(x["audio_muted"] for x in p), LIVE_MS / 1000)
    assert [p["user"]["name"] for p in muted if p["audio_muted"]] == ["bob"]

    state = httpx.get(f"{one.base_url}/rooms/call-across/state").json()
    assert state["last_seq"] == 0  # signalling is never written to the event log

    # Process two dies: bob and carol stop heartbeating, and process one expires them; alice,
    # who heartbeats, stays.
    two.stop(signal.SIGKILL)
    killed = time.monotonic()
    while True:
        assert alice.send({"type": "call.heartbeat"})["type"] == "ack"
        observer.drain(1.0)
        rosters = observer.of_type("call.roster")
        if names(rosters[-1]["participants"]) == ["alice"]:
            break
        assert time.monotonic() - killed < 3 * TIMEOUT, rosters[-1]
    took = time.monotonic() - killed
    print(f"the participants of a killed process left the roster {took:.1f} s later (timeout {TIMEOUT} s)")
    assert took < TIMEOUT + 2 * 2 + 2  # the timeout, a sweep on each side of it, a margin
    for peer in (observer, alice):
        peer.close()
    for peer in (bob, carol):
        peer.ws.close_socket()


def test_a_removal_keeps_the_participant_out_on_every_process(
    start_server: Callable[..., DaphneServer], redis_url: str, e2e_env: dict[str, str]
) -> None:
    """The owner removes bob on process one; bob, on process two, is kept out there and on a
    new connection to process one alike (the bar is in Redis)."""
    create_rooms(e2e_env, {"call-remove-across": ["--title", "Removal", "--owner", "alice"]})
    one, two = pair(start_server, redis_url, timeout=20)
    alice = RawParticipant(one, "alice", "call-remove-across")
    bob = RawParticipant(two, "bob", "call-remove-across")
    assert alice.send({"type": "call.join", "audio": True})["type"] == "ack"
    bob_id = bob.send({"type": "call.join", "audio": True})["id"]
    assert alice.send({"type": "call.remove", "participant": bob_id})["type"] == "ack"
    assert bob.next("call.ended") == {"type": "call.ended", "reason": "removed", "retry_after": 600}
    again = bob.send({"type": "call.join", "audio": True})
    assert (again["code"], again["retry_after"]) == ("call_removed", 600), again
    elsewhere = RawParticipant(one, "bob", "call-remove-across")
    assert elsewhere.send({"type": "call.join", "audio": True, "resume": bob_id})["code"] == "call_removed"
    with httpx.Client(base_url=one.base_url, cookies=login(one.base_url, "bob")) as client:
        ice = client.get("/rooms/call-remove-across/call/ice")
    assert (ice.status_code, ice.json()["code"]) == (403, "call_removed")
    alice.drain(0.5)
    assert names(alice.of_type("call.roster")[-1]["participants"]) == ["alice"]
    for peer in (alice, bob, elsewhere):
        peer.close()


def test_a_call_across_processes_survives_a_dropped_websocket(
    callers: Contexts,
    start_server: Callable[..., DaphneServer],
    redis_url: str,
    e2e_env: dict[str, str],
    tmp_path: Path,
) -> None:
    create_rooms(e2e_env, {"call-browsers": ["--title", "Browsers"]})
    one, two = pair(start_server, redis_url, timeout=20)
    alice = open_call(signed_in(callers, one, "alice"), "call-browsers")
    bob = open_call(signed_in(callers, two, "bob"), "call-browsers")
    observer = RawParticipant(one, None, "call-browsers")
    carol = RawParticipant(one, "carol", "call-browsers")  # in the call, never answering
    assert carol.send({"type": "call.join", "audio": False, "video": False})["type"] == "ack"
    join(alice)
    join(bob)
    bob_on_alice = tile_of(alice, "bob")
    expect_playing(bob_on_alice)
    expect_playing(tile_of(bob, "alice"))

    # What alice and bob sent each other reached neither the observer nor carol: carol made no
    # offer, so an answer reaching her would be one addressed to someone else.
    observer.drain(1.0)
    carol.drain(1.0)
    assert observer.of_type("call.signal") == []
    to_carol = carol.of_type("call.signal")
    assert to_carol, "alice and bob offer to carol too"
    assert {frame["kind"] for frame in to_carol} <= {"offer", "candidate"}, to_carol
    carol.send({"type": "call.leave"})

    bob.get_by_test_id("mute-mic").click()
    expect(bob_on_alice).to_have_attribute("data-audio-muted", "true", timeout=LIVE_MS)

    # bob's process restarts: his WebSocket drops; the peer connection between the browsers
    # stands, and his page takes its place back when it reconnects.
    bob_id = bob_on_alice.get_attribute("data-participant")
    two.stop()
    expect(bob.get_by_test_id("connection-state")).not_to_have_attribute(
        "data-state", "live", timeout=LIVE_MS
    )
    with restarted(two, tmp_path) as replacement:
        assert replacement.port == two.port
        expect(bob.get_by_test_id("connection-state")).to_have_attribute(
            "data-state", "live", timeout=SLOW_MS
        )
        expect(bob.get_by_test_id("leave-call")).to_be_visible()
        expect_playing(bob_on_alice)  # the video never stopped
        assert bob_on_alice.get_attribute("data-participant") == bob_id
        expect(tile_of(bob, "alice")).to_have_count(1)
        bob.get_by_test_id("mute-mic").click()  # the roster changes again through the new connection
        expect(bob_on_alice).to_have_attribute("data-audio-muted", "false", timeout=LIVE_MS)

        bob.get_by_test_id("leave-call").click()
        expect(bob_on_alice).to_have_count(0, timeout=LIVE_MS)
    observer.close()
    carol.close()
