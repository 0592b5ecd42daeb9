"""Chat delay across server processes (daphne on the real Redis, one database): a process that
dies leaves its delayed messages to the other process's sweep, each published once though both
sweep; and messages whose time passed while no server ran are published by the next one to
start."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from .conftest import DaphneServer, create_rooms, manage, unique_prefix
from .test_websocket import Peer

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.timeout(120), pytest.mark.alone]

DELAY_S = 3
SWEEP_S = 1


def set_delay(env: dict[str, str], slug: str, seconds: int) -> None:
    manage(
        env,
        "shell",
        "-c",
        "from chat.models import Room; "
        f"Room.objects.filter(slug={slug!r}).update(chat_delay_seconds={seconds})",
    )


def history(server: DaphneServer, slug: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{server.base_url}/rooms/{slug}/history?limit=100")
    events: list[dict[str, object]] = answer.json()["events"]
    return events


def test_a_dead_processs_delayed_messages_are_released_once_by_another_and_after_a_restart(
    e2e_env: dict[str, str], start_server: Callable[..., DaphneServer], redis_url: str
) -> None:
    slug = f"delay-{uuid.uuid4().hex[:8]}"
    create_rooms(e2e_env, {slug: ["--owner", "alice"]})
    set_delay(e2e_env, slug, DELAY_S)
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": unique_prefix(), "CHAT_DELAY_SWEEP_SECONDS": str(SWEEP_S)}
    one, two = start_server(**env), start_server(**env)
    viewer = Peer(two, None, after=0, room=slug)
    bob = Peer(one, "bob", room=slug)
    acks = [bob.post(f"delayed {n}", nonce=f"n{n}") for n in range(5)]
    assert all(ack["delayed"] is True and ack["seq"] is None for ack in acks), acks
    bob.close()
    one.stop(signal.SIGKILL)  # its release loop dies with it
    posted = time.monotonic()
    # The other process's sweep publishes them, each once, after the delay.
    events = viewer.events(5, timeout=DELAY_S + SWEEP_S + 10)
    assert time.monotonic() - posted >= DELAY_S - 1
    assert sorted(event["held_id"] for event in events) == sorted(ack["held_id"] for ack in acks)
    assert [event["seq"] for event in events] == list(range(events[0]["seq"], events[0]["seq"] + 5))
    with pytest.raises(TimeoutError):
        viewer.events(1, timeout=SWEEP_S * 3)  # no second copy
    viewer.close()

    # Now no server runs while a delayed message's time passes; the next one to start releases it.
    carol = Peer(two, "carol", room=slug)
    late = carol.post("while nobody was up", nonce="late")
    assert late["delayed"] is True
    carol.close()
    two.stop(signal.SIGKILL)
    time.sleep(DELAY_S + 1)
    four = start_server(**env)
    deadline = time.monotonic() + 10
    while not any(e.get("held_id") == late["held_id"] for e in history(four, slug)):
        assert time.monotonic() < deadline, "the restarted server did not release the message"
        time.sleep(0.2)
    texts = [e["text"] for e in history(four, slug)]
    assert texts.count("while nobody was up") == 1
    assert len(texts) == 6
