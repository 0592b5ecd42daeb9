"""Trips to the database thread shared by waiting calls (chat/domain/batching.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from chat.domain import batching

# Every trip is a transaction, so every test touches the database (from the database thread).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many calls each trip to the database thread carried."""
    carried: list[int] = []
    run_all = batching._run_all

    def counting(calls: list[Any]) -> list[tuple[bool, Any]]:
        carried.append(len(calls))
        return run_all(calls)

    monkeypatch.setattr(batching, "_run_all", counting)
    return carried


async def test_waiting_calls_share_a_trip_and_run_in_order(trips: list[int]) -> None:
    ran: list[int] = []
    threads: set[int] = set()

    def work(number: int) -> int:
        ran.append(number)
        threads.add(threading.get_ident())
        return number * 10

    results = await asyncio.gather(*(batching.run_batched(work, n) for n in range(40)))
    assert results == [n * 10 for n in range(40)]
    assert ran == list(range(40))
    assert threading.get_ident() not in threads  # off the event loop
    assert sum(trips) == 40
    assert len(trips) < 40  # the calls queued during the first trip went together


async def test_a_trip_carries_at_most_its_limit(trips: list[int]) -> None:
    count = batching.TRIP_MAX_CALLS * 2 + 5
    await asyncio.gather(*(batching.run_batched(int, n) for n in range(count)))
    assert max(trips) <= batching.TRIP_MAX_CALLS
    assert sum(trips) == count


async def test_rooms_take_turns_so_a_flood_in_one_does_not_hold_up_another(trips: list[int]) -> None:
    ran: list[tuple[str, int]] = []

    def work(room: str, number: int) -> None:
        ran.append((room, number))

    flood = [batching.run_batched(work, "a", n, key="a") for n in range(batching.TRIP_MAX_CALLS * 3)]
    others = [batching.run_batched(work, room, 0, key=room) for room in ("b", "c")]
    await asyncio.gather(*flood, *others)
    # Room b and c queued after 192 calls of room a, yet went in the first trip.
    first_trip = ran[: trips[0]]
    assert ("b", 0) in first_trip
    assert ("c", 0) in first_trip
    assert ran.index(("b", 0)) <= 1
    # Each room's calls kept their order.
    assert [number for room, number in ran if room == "a"] == list(range(batching.TRIP_MAX_CALLS * 3))
    assert max(trips) <= batching.TRIP_MAX_CALLS


async def test_a_failing_call_fails_only_its_caller(trips: list[int]) -> None:
    def work(number: int) -> int:
        if number == 3:
            raise ValueError("three")
        return number

    outcomes = await asyncio.gather(
        *(batching.run_batched(work, n) for n in range(6)), return_exceptions=True
    )
    assert [o if not isinstance(o, Exception) else repr(o) for o in outcomes] == [
        0,
        1,
        2,
        "ValueError('three')",
        4,
        5,
    ]


async def test_a_cancelled_caller_leaves_the_others_alone(trips: list[int]) -> None:
    gate = threading.Event()
    ran: list[int] = []

    def work(number: int) -> int:
        if number == 0:
            gate.wait(5)
        ran.append(number)
        return number

    first = asyncio.ensure_future(batching.run_batched(work, 0))
    await asyncio.sleep(0.05)  # the first trip is under way, holding call 0
    waiting = [asyncio.ensure_future(batching.run_batched(work, n)) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    waiting[1].cancel()
    gate.set()
    assert await first == 0
    assert await waiting[0] == 1
    assert await waiting[2] == 3
    assert waiting[1].cancelled()
    assert ran == [0, 1, 2, 3]  # a cancelled caller's call still ran, in its place


# A trip is one transaction (group commit).


async def test_a_trip_commits_once_and_refusals_touch_nothing(room: Any, alice: Any) -> None:
    from django.db import connection

    from chat.domain.posting import post_message
    from chat.errors import ChatError
    from chat.models import RoomEvent

    commits: list[str] = []

    def post(text: object) -> int:
        return post_message(room, alice, text).event.seq  # type: ignore[union-attr]

    def trip() -> list[Any]:
        return batching._run_all([lambda: post("one"), lambda: post(""), lambda: post("two")])

    def run() -> list[Any]:
        real_commit = connection.commit

        def commit() -> None:
            commits.append("commit")
            real_commit()

        connection.commit = commit  # type: ignore[method-assign]
        try:
            return trip()
        finally:
            del connection.commit

    from channels.db import database_sync_to_async

    outcomes = await database_sync_to_async(run)()
    assert [ok for ok, _ in outcomes] == [True, False, True]
    assert isinstance(outcomes[1][1], ChatError)
    assert outcomes[1][1].code == "empty"
    assert [value for ok, value in outcomes if ok] == [1, 2]
    assert commits == ["commit"]
    texts = await database_sync_to_async(lambda: list(RoomEvent.objects.values_list("text", flat=True)))()
    assert texts == ["one", "two"]


async def test_a_database_error_rolls_the_whole_trip_back(room: Any, alice: Any, settings: Any) -> None:
    """Nothing of the trip stays: no event, no count in the moderator's chart, and no text marked
    as just posted (sending it again is not refused as a duplicate)."""
    from channels.db import database_sync_to_async
    from django.db import IntegrityError, transaction

    from chat.domain.posting import post_message
    from chat.guards.cache import shared_cache
    from chat.models import RoomEvent

    settings.CHAT_DUPLICATE_SECONDS = 30
    minute = int(time.time() // 60)

    def duplicate_seq() -> None:
        with transaction.atomic(savepoint=False):
            RoomEvent.objects.create(room=room, seq=1, kind="message", text="clash")

    outcomes = await asyncio.gather(
        batching.run_batched(post_message, room, alice, "first"),  # seq 1 ...
        batching.run_batched(duplicate_seq),  # ... which this one clashes with
        batching.run_batched(post_message, room, alice, "third"),
        return_exceptions=True,
    )
    assert all(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert isinstance(outcomes[1], IntegrityError)
    assert await database_sync_to_async(RoomEvent.objects.count)() == 0
    # The next trip starts clean: seq 1 was never taken.
    posted = await batching.run_batched(post_message, room, alice, "first")
    assert posted.event is not None
    assert posted.event.seq == 1
    counted = shared_cache().get_many(
        [f"stats:{room.pk}:{m}" for m in range(minute, int(time.time() // 60) + 1)]
    )
    assert sum(counted.values()) == 1
