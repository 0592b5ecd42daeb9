"""The call roster's stores (chat/realtime/calls.py): atomic changes, versions that only grow,
what clients see of an entry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chat.realtime.calls import Entries, LocalRosterStore, RedisRosterStore, RosterStore, public_roster


@pytest.fixture(params=["local", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RosterStore]:
    if request.param == "local":
        yield LocalRosterStore()
        return
    url = request.getfixturevalue("redis_url")
    redis_store = RedisRosterStore(url, f"test-{uuid.uuid4().hex[:8]}:", ttl=0.3)
    yield redis_store
    await redis_store.close()


def entry(pid: str, name: str, joined: float, **extra: Any) -> dict[str, Any]:
    media = {"audio": True, "video": True, "audio_muted": False, "video_muted": False}
    user = {"id": len(name), "name": name}
    return {"id": pid, "user": user, "joined": joined, "channel": "hub.x", "expires": 9e9, **media, **extra}


def add(new: dict[str, Any]) -> Any:
    def apply(entries: Entries) -> None:
        entries[new["id"]] = new

    return apply


async def test_changes_bump_the_version_and_say_whether_clients_see_them(store: RosterStore) -> None:
    _, v1, _, changed = await store.change(1, add(entry("b", "bob", 2.0)))
    assert changed
    _, v2, entries, _ = await store.change(1, add(entry("a", "ann", 1.0)))
    assert v2 > v1
    assert [p["id"] for p in public_roster(entries)] == ["a", "b"]  # in the order they joined
    assert set(public_roster(entries)[0]) == {"id", "user", "audio", "video", "audio_muted", "video_muted"}

    def heartbeat(entries: Entries) -> None:
        entries["a"]["expires"] = 1e10

    _, v3, _, changed = await store.change(1, heartbeat)
    assert not changed  # the roster clients see is the same: nothing to send
    assert v3 > v2
    result, v4, _, changed = await store.change(1, lambda entries: entries.pop("zz", None))
    assert (result, v4, changed) == (None, v3, False)  # no change, no new version
    assert (await store.read(1))[0] == v3
    assert (await store.read(2)) == (0, {})


async def test_the_version_keeps_growing_after_the_roster_expired(store: RosterStore) -> None:
    _, before, _, _ = await store.change(1, add(entry("a", "ann", 1.0)))
    await store.change(1, lambda entries: entries.clear())
    await asyncio.sleep(0.4)  # past the Redis keys' TTL: the counter is gone
    _, after, _, _ = await store.change(1, add(entry("b", "bob", 2.0)))
    assert after > before


async def test_concurrent_changes_are_all_kept(store: RosterStore) -> None:
    await asyncio.gather(*(store.change(1, add(entry(f"p{n}", f"user{n}", n))) for n in range(6)))
    _, entries = await store.read(1)
    assert sorted(entries) == [f"p{n}" for n in range(6)]
