"""`max_rate`: a viewer takes at most K danmaku a second, sampled evenly; nothing else is sampled."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser

from chat.domain.moderation.removal import delete_event
from chat.domain.posting import post_message
from chat.models import Room
from chat.realtime import hub as hub_module
from chat.realtime.batch import Batch, RateSampler
from chat.realtime.hub import Hub
from danmaku.comments import post_danmaku
from tests.chat.asgi_clients import SseStream, asgi_get, connect


def test_sampler_spreads_its_quota_evenly(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(hub_module.time, "monotonic", lambda: clock[0])
    sampler = RateSampler(10)
    admitted: list[float] = []
    for _ in range(4000):  # 2,000 comments a second for 2 s
        clock[0] += 0.0005
        if sampler.admit():
            admitted.append(clock[0])
    assert 20 <= len(admitted) <= 23  # 10 a second, plus the small initial burst
    for start in (100.0 + n * 0.2 for n in range(10)):  # every fifth of a second gets its share
        assert any(start <= t < start + 0.2 for t in admitted), start


def test_viewers_with_the_same_rate_share_one_filtered_batch() -> None:
    events: list[dict[str, Any]] = [
        {"seq": n, "kind": "danmaku" if n % 5 else "message", "text": str(n)} for n in range(1, 101)
    ]
    batch = Batch(events)
    sampler = RateSampler(5)
    first = batch.sampled(sampler)
    assert batch.sampled(sampler) is first
    assert [e["seq"] for e in first.events if e["kind"] == "message"] == list(range(5, 101, 5))
    assert sum(e["kind"] == "danmaku" for e in first.events) == 1  # the burst allows one now


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(30)
async def test_max_rate_samples_danmaku_only_and_keeps_order(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    sampled = await connect("/ws/rooms/lobby/?after=0&max_rate=5")
    everything = await connect("/ws/rooms/lobby/?after=0")
    sse = await SseStream("/rooms/lobby/events?after=0&max_rate=5").open()
    for client in (sampled, everything):
        await client.next_frame("hello")

    def flood() -> tuple[int, int]:
        room.owner = alice
        room.save()
        first = None
        for n in range(120):
            event = post_danmaku(room, alice, {"text": f"d{n}"}).event
            first = first or event
            if n % 20 == 0:
                post_message(room, alice, f"m{n}")
        delete_event(room, alice, first.pk)
        return first.pk, Room.objects.get(pk=room.pk).last_seq

    loop = asyncio.get_running_loop()
    began = loop.time()
    deleted_id, last_seq = await database_sync_to_async(flood)()
    elapsed = loop.time() - began
    full = await everything.receive_events(last_seq)
    assert [e["seq"] for e in full] == list(range(1, last_seq + 1))

    got: list[dict[str, Any]] = []
    while not got or got[-1]["seq"] < last_seq:
        got.extend((await sampled.next_frame("events"))["events"])
    seqs = [e["seq"] for e in got]
    assert seqs == sorted(set(seqs))  # ordered, nothing twice
    kinds = [e["kind"] for e in got]
    assert kinds.count("message") == 6  # chat messages are never sampled
    assert kinds.count("delete") == 1  # nor moderation
    danmaku = kinds.count("danmaku")
    assert 1 <= danmaku <= 2 + 5 * elapsed, (danmaku, elapsed)
    assert danmaku < 120
    blocks = await sse.blocks_until(lambda b: any(x.get("event") == "delete" for x in b))
    over_sse = [json.loads(b["data"]) for b in blocks if "id" in b]
    assert sum(e["kind"] == "message" for e in over_sse) == 6
    assert over_sse[-1]["target"] == deleted_id
    assert sum(e["kind"] == "danmaku" for e in over_sse) < 120
    for client in (sampled, everything):
        await client.disconnect()
    await sse.close()


@pytest.mark.django_db(transaction=True)
async def test_bad_max_rate_is_refused(hub: Hub, room: Room) -> None:
    status, _, body = await asgi_get("/rooms/lobby/events?max_rate=0")
    assert (status, body["code"]) == (400, "invalid")
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    comm = WebsocketCommunicator(
        application,
        "/ws/rooms/lobby/?max_rate=lots",
        headers=[(b"host", b"testserver"), (b"origin", b"http://testserver")],
    )
    await comm.connect(timeout=5)
    assert json.loads(await comm.receive_from(timeout=5))["code"] == "invalid"
    assert (await comm.receive_output(timeout=5))["code"] == 4400
