"""A database restored under a running server: every connected client is reset within seconds,
on every transport, and a client resuming with the old log's epoch is reset too."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .conftest import DaphneServer, create_rooms, manage, post_as, unique_prefix
from .test_websocket import Peer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120), pytest.mark.alone]

ROOM = "restored"

# What restoring a backup taken at seq 3 does to the room's log: the events after it are gone,
# and the room is back at seq 3 with the epoch it had then (the one clients know).
GO_BACK = f"""
from chat.models import Room, RoomEvent
room = Room.objects.get(slug={ROOM!r})
RoomEvent.objects.filter(room=room, seq__gt=3).delete()
Room.objects.filter(pk=room.pk).update(last_seq=3)
"""


def first_sse(server: DaphneServer, query: str, wanted: str, found: dict[str, Any]) -> None:
    """Read the room's SSE stream until an event named `wanted`; its data into `found`."""
    with httpx.stream("GET", f"{server.base_url}/rooms/{ROOM}/events?{query}", timeout=30) as stream:
        name = ""
        for line in stream.iter_lines():
            if line.startswith("event:"):
                name = line.partition(":")[2].strip()
            elif line.startswith("data:") and name == wanted:
                found.update(json.loads(line.partition(":")[2]))
                found["at"] = time.monotonic()
                return


def in_thread(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_a_restore_resets_every_connected_client_within_seconds(
    start_server: Callable[..., DaphneServer], e2e_env: dict[str, str]
) -> None:
    create_rooms(e2e_env, {ROOM: ["--title", "Restored"]})
    server = start_server()
    acks = post_as(server, "alice", [f"before {n}" for n in range(5)], slug=ROOM)
    assert [ack["seq"] for ack in acks] == [1, 2, 3, 4, 5]

    viewer = Peer(server, None, after=0, room=ROOM)
    epoch = viewer.hello["epoch"]
    assert [event["seq"] for event in viewer.events(5)] == [1, 2, 3, 4, 5]
    sse: dict[str, Any] = {}
    poll: dict[str, Any] = {}
    sse_reader = in_thread(lambda: first_sse(server, f"after=5&epoch={epoch}", "reset", sse))

    def long_poll() -> None:
        params: dict[str, Any] = {"after": 5, "epoch": epoch, "timeout": 30}
        answer = httpx.get(f"{server.base_url}/rooms/{ROOM}/poll", params=params, timeout=40)
        poll.update(answer.json(), at=time.monotonic())

    poller = in_thread(long_poll)
    time.sleep(1)  # both are held, waiting for seq 6 of the old log

    manage(server.env, "shell", "-c", GO_BACK)
    restored_at = time.monotonic()
    (new,) = post_as(server, "bob", ["after the restore"], slug=ROOM)
    assert new["seq"] == 4  # a seq the viewers saw already, with other content

    reset = viewer.next("reset", timeout=15)
    took = time.monotonic() - restored_at
    sse_reader.join(timeout=15)
    poller.join(timeout=15)
    print(
        f"reset after the restore: WebSocket {took:.2f} s, SSE {sse['at'] - restored_at:.2f} s, "
        f"long-poll {poll['at'] - restored_at:.2f} s"
    )
    assert reset["reason"] == "epoch_changed"
    assert reset["epoch"] != epoch
    assert reset["last_seq"] == 4
    assert took < 10
    assert (sse["reason"], sse["epoch"], sse["last_seq"]) == ("epoch_changed", reset["epoch"], 4)
    assert (poll["reset"], poll["epoch"], poll["last_seq"], poll["events"]) == (
        "epoch_changed",
        reset["epoch"],
        4,
        [],
    )

    # What the client does on a reset: reload history (it has the new message) and go on live.
    history = httpx.get(f"{server.base_url}/rooms/{ROOM}/history").json()
    assert history["epoch"] == reset["epoch"]
    assert [(e["seq"], e["text"]) for e in history["events"]][-1] == (4, "after the restore")
    (later,) = post_as(server, "bob", ["and on"], slug=ROOM)
    assert [(e["seq"], e["text"]) for e in viewer.events(1)] == [(later["seq"], "and on")]

    # A client that saw seq 5 of the old log and comes back now: its cursor is valid by number
    # (the log is at 5 again), but names other events. Its epoch tells.
    returning = Peer(server, None, after=5, room=ROOM, epoch=epoch)
    assert returning.hello["epoch"] == reset["epoch"]
    assert returning.next("reset")["reason"] == "epoch_changed"
    fresh = Peer(server, None, after=4, room=ROOM)  # no epoch: taken to be of the current log
    assert [e["seq"] for e in fresh.events(1)] == [5]
    for peer in (viewer, returning, fresh):
        peer.close()


@pytest.mark.redis
def test_every_process_resets_its_clients_into_the_same_new_epoch(
    start_server: Callable[..., DaphneServer], e2e_env: dict[str, str], redis_url: str
) -> None:
    """Two processes notice the restore (or one does and the other reads its epoch): each
    resets its own clients, and all of them land in one new epoch."""
    room = "restored-twice"
    create_rooms(e2e_env, {room: ["--title", "Restored twice"]})
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": unique_prefix()}
    one, two = start_server(**env), start_server(**env)
    post_as(one, "alice", [f"before {n}" for n in range(5)], slug=room)
    viewers = [Peer(server, None, after=0, room=room) for server in (one, two)]
    epoch = viewers[0].hello["epoch"]
    for viewer in viewers:
        assert viewer.hello["epoch"] == epoch
        assert len(viewer.events(5)) == 5

    manage(one.env, "shell", "-c", GO_BACK.replace(repr(ROOM), repr(room)))
    restored_at = time.monotonic()
    post_as(two, "bob", ["after the restore"], slug=room)
    resets = [viewer.next("reset", timeout=15) for viewer in viewers]
    print(f"both processes' clients reset within {time.monotonic() - restored_at:.2f} s")
    assert {reset["epoch"] for reset in resets} != {epoch}
    assert len({reset["epoch"] for reset in resets}) == 1
    assert all(reset["reason"] == "epoch_changed" for reset in resets)
    for viewer in viewers:
        viewer.close()
