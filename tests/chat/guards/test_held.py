"""Held connections per address and per process (chat/guards/held.py); across processes on the
real Redis. (tests/e2e/test_held_connections.py floods a real daphne.)"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from chat.errors import ChatError
from chat.guards.held import HeldConnections, LocalCounts, RedisCounts, _giving_back
from chat.guards.redis_pool import REDIS_POOL_MAX


@pytest.fixture
def caps(settings: Any) -> Any:
    settings.CHAT_HELD_PER_IP = 3
    settings.CHAT_CONNECTIONS_MAX = 5
    return settings


async def test_an_address_holds_at_most_its_cap_and_gets_its_places_back(caps: Any) -> None:
    held = HeldConnections(LocalCounts())
    places = [await held.hold("10.0.0.1") for _ in range(3)]
    with pytest.raises(ChatError) as refused:
        await held.hold("10.0.0.1")
    assert (refused.value.code, refused.value.status) == ("rate_limited", 429)
    assert refused.value.retry_after is not None
    other = await held.hold("10.0.0.2")  # another address is not held back
    places[0].release()
    places[0].release()  # releasing twice gives back one place, not two
    await _settle()
    places.append(await held.hold("10.0.0.1"))
    with pytest.raises(ChatError):
        await held.hold("10.0.0.1")
    assert held.held == 4
    other.release()


async def test_the_process_cap_refuses_with_server_busy(caps: Any) -> None:
    held = HeldConnections(LocalCounts())
    places = [await held.hold(f"10.0.1.{n}") for n in range(5)]
    with pytest.raises(ChatError) as busy:
        await held.hold("10.0.1.99")
    assert (busy.value.code, busy.value.status) == ("server_busy", 503)
    places.pop().release()
    await _settle()
    await held.hold("10.0.1.99")


async def test_a_refused_address_does_not_use_up_the_process_cap(caps: Any) -> None:
    held = HeldConnections(LocalCounts())
    for _ in range(3):
        await held.hold("10.0.2.1")
    for _ in range(10):
        with pytest.raises(ChatError):
            await held.hold("10.0.2.1")
    assert held.held == 3
    await held.hold("10.0.2.2")
    await held.hold("10.0.2.3")


@pytest.mark.redis
async def test_processes_share_an_address_cap_on_redis(caps: Any, redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    one = HeldConnections(RedisCounts(redis_url, prefix, process_id="one"))
    two = HeldConnections(RedisCounts(redis_url, prefix, process_id="two"))
    try:
        first = [await one.hold("10.0.3.1") for _ in range(2)]
        await two.hold("10.0.3.1")
        with pytest.raises(ChatError):
            await two.hold("10.0.3.1")  # 2 + 1 held in the two processes: the cap is 3
        with pytest.raises(ChatError):
            await one.hold("10.0.3.1")
        first[0].release()
        await _settle()
        await two.hold("10.0.3.1")
    finally:
        await _close(one, two)


@pytest.mark.redis
async def test_a_crowd_that_leaves_at_once_gives_every_place_back(caps: Any, redis_url: str) -> None:
    """More give-backs at once than the client has connections (a room's viewers leaving
    together): each waits for a connection, none fails, every place comes back."""
    crowd = REDIS_POOL_MAX * 3
    caps.CHAT_HELD_PER_IP = crowd
    caps.CHAT_CONNECTIONS_MAX = crowd
    held = HeldConnections(RedisCounts(redis_url, f"test-{uuid.uuid4().hex[:8]}:", process_id="crowd"))
    try:
        for _ in range(2):
            places = await asyncio.gather(*(held.hold("10.0.6.1") for _ in range(crowd)))
            assert all(place._counted for place in places)  # each counted on Redis, none let through
            with pytest.raises(ChatError):
                await held.hold("10.0.6.1")
            for place in places:
                place.release()
            await asyncio.wait_for(asyncio.gather(*list(_giving_back)), 30)
    finally:
        await _close(held)


@pytest.mark.redis
async def test_the_places_of_a_process_that_died_come_back(caps: Any, redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    doomed = RedisCounts(redis_url, prefix, process_id="doomed")
    survivor = HeldConnections(RedisCounts(redis_url, prefix, process_id="survivor"))
    try:
        for _ in range(3):
            assert await doomed.take("10.0.4.1", 3)
        with pytest.raises(ChatError):
            await survivor.hold("10.0.4.1")
        # The process dies: it refreshes its liveness key no more, and the key expires.
        await doomed.close()
        await survivor.counts.redis.delete(f"{prefix}held-process:doomed")  # type: ignore[attr-defined]
        for _ in range(3):
            await survivor.hold("10.0.4.1")
    finally:
        await _close(survivor)


async def test_a_cache_outage_lets_connections_through(caps: Any, caplog: pytest.LogCaptureFixture) -> None:
    held = HeldConnections(RedisCounts("redis://127.0.0.1:9/0", "test:"))  # nothing listens on port 9
    try:
        places = [await held.hold("10.0.5.1") for _ in range(4)]  # past the address cap: not counted
        assert len(places) == 4
        assert "the cache failed" in caplog.text
        await held.hold("10.0.5.1")  # the fifth: the process's cap
        with pytest.raises(ChatError) as busy:
            await held.hold("10.0.5.1")
        assert busy.value.code == "server_busy"  # the process's own cap still holds
    finally:
        await _close(held)


async def _settle() -> None:
    """Let the give-backs (tasks on the loop) run."""
    import asyncio

    for _ in range(5):
        await asyncio.sleep(0.01)


async def _close(*helds: HeldConnections) -> None:
    for held in helds:
        await held.counts.close()  # type: ignore[attr-defined]
