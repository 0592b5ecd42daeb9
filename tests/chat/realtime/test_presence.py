from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from chat.realtime.presence import (
    BOT_MARK,
    PRESENCE_USERS_MAX,
    LocalPresenceStore,
    PresenceSnapshot,
    PresenceStore,
    RedisPresenceStore,
    summarize,
)


@pytest.fixture(params=["local", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[PresenceStore]:
    if request.param == "local":
        LocalPresenceStore._rooms.clear()
        yield LocalPresenceStore(ttl=0.5)
        return
    url = request.getfixturevalue("redis_url")
    redis_store = RedisPresenceStore(url, f"test-{uuid.uuid4().hex[:8]}:", ttl=0.5)
    yield redis_store
    await redis_store.close()


async def test_union_across_processes_counts_each_user_once(store: PresenceStore) -> None:
    await store.put(1, "proc-a", {"u:1": "ann", "g:s1": ""})
    await store.put(1, "proc-b", {"u:1": "ann", "u:2": "bo"})
    snapshot = await store.snapshot(1)
    assert snapshot.count == 3
    assert snapshot.guests == 1
    assert snapshot.users == [{"id": 1, "name": "ann"}, {"id": 2, "name": "bo"}]
    assert (await store.snapshot(2)).count == 0


async def test_a_bot_is_listed_as_one_across_processes(store: PresenceStore) -> None:
    await store.put(1, "proc-a", {"u:1": "ann", "u:2": BOT_MARK + "quizbot", "g:x": ""})
    snapshot = await store.snapshot(1)
    assert (snapshot.count, snapshot.guests) == (3, 1)
    assert snapshot.users == [{"id": 1, "name": "ann"}, {"id": 2, "name": "quizbot", "bot": True}]
    joined = PresenceSnapshot().with_member("u:9", BOT_MARK + "helper")
    assert joined.users == [{"id": 9, "name": "helper", "bot": True}]


async def test_empty_put_removes_a_process(store: PresenceStore) -> None:
    await store.put(1, "proc-a", {"u:1": "ann"})
    await store.put(1, "proc-b", {"u:2": "bo"})
    await store.put(1, "proc-a", {})
    assert (await store.snapshot(1)).users == [{"id": 2, "name": "bo"}]


async def test_a_process_that_stops_refreshing_expires(store: PresenceStore) -> None:
    await store.put(1, "dead", {"u:1": "ann"})
    await store.put(1, "alive", {"u:2": "bo"})
    await asyncio.sleep(0.3)
    await store.put(1, "alive", {"u:2": "bo"})  # the heartbeat of the live process
    await asyncio.sleep(0.35)
    snapshot = await store.snapshot(1)
    assert snapshot.users == [{"id": 2, "name": "bo"}]
    assert snapshot.count == 1


def test_list_is_bounded_but_count_is_exact() -> None:
    members = {f"u:{i}": f"user{i:05d}" for i in range(PRESENCE_USERS_MAX + 50)}
    members.update({f"g:{i}": "" for i in range(7)})
    snapshot = summarize(members)
    assert snapshot.count == PRESENCE_USERS_MAX + 57
    assert snapshot.guests == 7
    assert len(snapshot.users) == PRESENCE_USERS_MAX


def test_joiner_sees_itself_once() -> None:
    base = PresenceSnapshot(count=1, guests=0, users=[{"id": 1, "name": "ann"}])
    assert base.with_member("u:1", "ann") == base
    joined = base.with_member("u:2", "bo")
    assert joined.count == 2
    assert [u["name"] for u in joined.users] == ["ann", "bo"]
    guest = base.with_member("g:xyz", "")
    assert guest.count == 2
    assert guest.guests == 1
