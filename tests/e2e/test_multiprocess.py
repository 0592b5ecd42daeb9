"""Two daphne processes on one database and the real Redis server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets

from .conftest import DaphneServer, unique_prefix
from .test_websocket import Peer

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.timeout(120), pytest.mark.alone]

PRESENCE_TTL = 6  # seconds; shortened from the default so the test is quick


@pytest.fixture
def pair(start_server: Callable[..., DaphneServer], redis_url: str) -> tuple[DaphneServer, DaphneServer, str]:
    prefix = unique_prefix()
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": prefix, "CHAT_PRESENCE_TTL": str(PRESENCE_TTL)}
    return start_server(**env), start_server(**env), prefix


def wait_presence(peer: Peer, predicate: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame = peer.next("presence", timeout=max(0.01, deadline - time.monotonic()))
        if predicate(frame):
            return frame


def test_message_crosses_processes_and_presence_counts_both(
    pair: tuple[DaphneServer, DaphneServer, str], redis_url: str
) -> None:
    one, two, prefix = pair
    for server in (one, two):  # the health check exercises the database and the Redis layer
        assert httpx.get(f"{server.base_url}/healthz").json() == {
            "status": "ok",
            "database": "ok",
            "channel_layer": "ok",
        }
    alice = Peer(one, "alice")
    bob = Peer(two, "bob")
    viewers = [Peer(two, None) for _ in range(3)]

    ack = alice.post("hello from process one", nonce="x")
    assert ack["type"] == "ack"
    (event,) = bob.events(1)
    assert event["seq"] == ack["seq"]
    assert event["text"] == "hello from process one"
    for viewer in viewers:
        assert viewer.events(1)[0]["seq"] == ack["seq"]

    assert alice.events(1)[0]["seq"] == ack["seq"]  # her own message, through the hub too
    reply = bob.post("hello back from process two", nonce="y")
    (back,) = alice.events(1)
    assert back["seq"] == reply["seq"] == ack["seq"] + 1

    both = wait_presence(alice, lambda f: f["count"] == 5, timeout=5)
    assert sorted(u["name"] for u in both["users"]) == ["alice", "bob"]
    assert both["guests"] == 3
    assert wait_presence(bob, lambda f: f["count"] == 5, timeout=5)["guests"] == 3

    # One group membership per process for the room, whatever the number of sockets.
    client = redis.Redis.from_url(redis_url)
    # (and one group of every hub, for notices: chat/realtime/notices.py)
    group_keys = [key for key in client.scan_iter(f"{prefix}:layer:*group*") if b"notices" not in key]
    assert len(group_keys) == 1
    members = client.zrange(group_keys[0], 0, -1)
    assert len(members) == 2, (group_keys, members)
    client.close()

    for peer in [alice, bob, *viewers]:
        peer.close()


def test_users_of_a_killed_process_drop_out(pair: tuple[DaphneServer, DaphneServer, str]) -> None:
    one, two, _ = pair
    alice = Peer(one, "alice")
    bob = Peer(two, "bob")
    if bob.hello["presence"]["count"] != 2:
        wait_presence(bob, lambda f: f["count"] == 2, timeout=5)

    one.stop(signal.SIGKILL)  # no goodbye: only the TTL can remove alice
    killed_at = time.monotonic()
    alone = wait_presence(bob, lambda f: f["count"] == 1, timeout=PRESENCE_TTL * 3)
    assert alone["users"][0]["name"] == "bob"
    assert time.monotonic() - killed_at <= PRESENCE_TTL * 2
    assert bob.post("still here", nonce="z")["type"] == "ack"
    bob.close()
    alice.ws.close_socket()


def test_users_of_a_stopped_process_drop_out_at_once(pair: tuple[DaphneServer, DaphneServer, str]) -> None:
    """A graceful stop (SIGTERM, as systemd stops a unit) removes the process's members from the
    online list itself: the other process's viewers see the count drop within about a second,
    not after the presence TTL."""
    one, two, _ = pair
    assert one.process is not None
    alice = Peer(one, "alice")
    guest = Peer(one, None)
    bob = Peer(two, "bob")
    if bob.hello["presence"]["count"] != 3:
        wait_presence(bob, lambda f: f["count"] == 3, timeout=5)

    one.process.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    alone = wait_presence(bob, lambda f: f["count"] == 1, timeout=PRESENCE_TTL)
    took = time.monotonic() - stopped_at
    print(f"presence dropped {took:.2f} s after SIGTERM (TTL {PRESENCE_TTL} s)")
    assert alone["users"] == [{"id": bob.hello["me"]["id"], "name": "bob"}]
    assert took < 2.0, took
    assert one.process.wait(timeout=10) == 0
    assert "Exception" not in one.log(), one.log()[-2000:]
    bob.close()
    alice.ws.close_socket()
    guest.ws.close_socket()


def test_flood_limits_and_moderation_hold_across_processes(
    start_server: Callable[..., DaphneServer], redis_url: str
) -> None:
    """With REDIS_URL the per-user rate and the duplicate rule, met through one
    process hold for a client of the other; a refused post counts against no limit."""
    env = {
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": unique_prefix(),
        "CHAT_MESSAGE_RATE": "3/60",  # posts that go through count; the refused duplicate does not
        "CHAT_DUPLICATE_SECONDS": "30",
    }
    one, two = start_server(**env), start_server(**env)
    on_one, on_two = Peer(one, "carol"), Peer(two, "carol")
    first = on_one.post("first", nonce="1")
    assert first["type"] == "ack", first
    assert on_two.post("first", nonce="2")["code"] == "duplicate"  # said through the other process
    second = on_two.post("second", nonce="3")
    assert second["type"] == "ack", second
    assert on_one.post("third", nonce="4")["type"] == "ack"
    limited = on_two.post("fourth", nonce="5")
    assert limited["code"] == "rate_limited"
    assert limited["retry_after"] >= 1
    on_one.close()
    on_two.close()


def open_sockets(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            count += os.readlink(fd).startswith("socket:")
    return count


def test_viewers_share_the_process_redis_connections(
    start_server: Callable[..., DaphneServer], redis_url: str
) -> None:
    """Each viewer costs the server one socket: its own. Django's per-task cache objects each
    opened a Redis connection pool, so every WebSocket viewer also held a Redis connection."""
    server = start_server(REDIS_URL=redis_url, REDIS_PREFIX=unique_prefix())
    assert server.process is not None
    viewers = 60

    async def grown() -> int:
        before = open_sockets(server.process.pid)  # type: ignore[union-attr]
        headers = {"Origin": server.base_url}
        connections = []
        for _ in range(viewers):
            ws = await websockets.connect(f"{server.ws_url}/ws/rooms/demo/", additional_headers=headers)
            assert json.loads(await ws.recv())["type"] == "hello"
            connections.append(ws)
        after = open_sockets(server.process.pid)  # type: ignore[union-attr]
        for ws in connections:
            await ws.close()
        return after - before

    growth = asyncio.run(grown())
    assert viewers <= growth <= viewers + 8, growth
