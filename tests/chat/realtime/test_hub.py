"""The hub and its room feeds (chat/realtime/hub.py, feed.py), driven directly: subscribers are
fakes with the feed's `Subscriber` methods, events come through the channel layer (or through
the real publish path, some of them dropped on the way). And `EventRules` (batch.py): the
domain's word on which events change access and which a viewer may be spared."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured

from chat.domain.posting import post_message
from chat.domain.wire import WireEvent
from chat.models import Room
from chat.realtime import batch as batch_module
from chat.realtime import publish
from chat.realtime.batch import Batch, EventRules, RateSampler, use_event_rules
from chat.realtime.groups import room_group_name
from chat.realtime.hub import Hub
from chat.realtime.publish import ROOM_EVENTS_MESSAGE

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]

post = database_sync_to_async(post_message)


class Recorder:
    """A subscriber (feed.py's `Subscriber`) that keeps every batch the hub hands it, and when."""

    def __init__(self, key: str = "g:recorder") -> None:
        self.presence_key = key
        self.presence_name = ""
        self.batches: list[Batch] = []
        self.arrivals: list[float] = []
        self.presence: list[str] = []

    async def deliver(self, batch: Batch) -> None:
        self.batches.append(batch)
        self.arrivals.append(asyncio.get_running_loop().time())

    async def deliver_presence(self, frame: str) -> None:
        self.presence.append(frame)

    @property
    def seqs(self) -> list[int]:
        return [event["seq"] for batch in self.batches for event in batch.events]

    async def wait_for(self, seq: int, timeout: float = 5) -> None:
        """Until the batch carrying `seq` (or a later one) has arrived."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.seqs or self.seqs[-1] < seq:
            if loop.time() > deadline:
                raise TimeoutError(f"seq {seq} never arrived; got {self.seqs}")
            await asyncio.sleep(0.005)


class Refuser(Recorder):
    """A subscriber whose connection broke: taking a batch raises."""

    async def deliver(self, batch: Batch) -> None:
        raise RuntimeError("connection reset")


def message(seq: int) -> WireEvent:
    return {"seq": seq, "kind": "message", "text": f"m{seq}"}


async def send(hub: Hub, room: Room, *seqs: int) -> None:
    """One layer message to the room's group, as another process's publish sends it."""
    events = [message(seq) for seq in seqs]
    await hub.layer.group_send(
        room_group_name(room.pk), {"type": ROOM_EVENTS_MESSAGE, "room_id": room.pk, "events": events}
    )


def group_members(hub: Hub, room: Room) -> list[str]:
    """The in-memory layer's members of the room's group (tests run on it)."""
    return list(getattr(hub.layer, "groups", {}).get(room_group_name(room.pk), {}))


def drop_seqs(monkeypatch: pytest.MonkeyPatch, lost: set[int] | None) -> list[int]:
    """Make the channel layer lose the publish of each seq in `lost` (None: every one)."""
    real_publish = publish._publish
    dropped: list[int] = []

    def lossy_publish(room_id: int, event: dict[str, Any]) -> None:
        if lost is None or event["seq"] in lost:
            dropped.append(event["seq"])
            return
        real_publish(room_id, event)

    monkeypatch.setattr("chat.realtime.publish._publish", lossy_publish)
    return dropped


# --- delivery: every seq once, in order, in shared batches ------------------------------


async def test_events_from_the_layer_reach_every_subscriber_in_seq_order_once(hub: Hub, room: Room) -> None:
    viewers = [Recorder(f"g:{n}") for n in range(3)]
    for viewer in viewers:
        await hub.subscribe(room.pk, viewer)
    assert group_members(hub, room) == [hub.channel_name]  # one membership, however many viewers
    await send(hub, room, 3, 1, 2)  # a message's events, out of order
    for viewer in viewers:
        await viewer.wait_for(3)
    await send(hub, room, 2, 3)  # a duplicate delivery by the layer
    await send(hub, room, 3, 4)
    for viewer in viewers:
        await viewer.wait_for(4)
    await asyncio.sleep(0.1)
    for viewer in viewers:
        assert viewer.seqs == [1, 2, 3, 4]
        assert [e["text"] for b in viewer.batches for e in b.events] == ["m1", "m2", "m3", "m4"]
    # One Batch for every subscriber, so each wire format is encoded once per process.
    first, *others = viewers
    for viewer in others:
        assert all(mine is theirs for mine, theirs in zip(viewer.batches, first.batches, strict=True))


async def test_events_arriving_together_go_out_as_one_batch(
    hub: Hub, room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chat.realtime.feed.COALESCE_SECS", 0.3)
    viewer = Recorder()
    await hub.subscribe(room.pk, viewer)
    loop = asyncio.get_running_loop()
    sent = loop.time()
    await send(hub, room, 1)
    await viewer.wait_for(1)
    assert viewer.arrivals[0] - sent < 0.2  # a quiet room delivers at once
    for seq in (2, 3, 4, 5):  # four layer messages within one tick
        await send(hub, room, seq)
    await viewer.wait_for(5)
    assert [[e["seq"] for e in b.events] for b in viewer.batches] == [[1], [2, 3, 4, 5]]
    assert viewer.arrivals[1] - viewer.arrivals[0] >= 0.25  # at most one batch per tick


class Costly(Recorder):
    """A subscriber whose write takes `cost` seconds of the event loop (a big room's share)."""

    def __init__(self, key: str, cost: float) -> None:
        super().__init__(key)
        self.cost = cost

    async def deliver(self, batch: Batch) -> None:
        await super().deliver(batch)
        end = time.perf_counter() + self.cost
        while time.perf_counter() < end:  # busy, as a send() to thousands of sockets is
            pass


async def test_a_costly_fan_out_widens_the_window_and_a_cheap_one_narrows_it(hub: Hub, room: Room) -> None:
    from chat.realtime import feed as feed_module

    viewer = Costly("g:costly", 0.05)  # 50 ms a broadcast: the window becomes 100 ms
    feed = await hub.subscribe(room.pk, viewer)
    for seq in range(1, 41):  # 40 events over about a second
        await send(hub, room, seq)
        await asyncio.sleep(0.025)
    await viewer.wait_for(40)
    assert feed.window() > 0.08
    gaps = [b - a for a, b in zip(viewer.arrivals[5:], viewer.arrivals[6:], strict=False)]
    # Once the cost is known, at most one batch per (wide) window, not one per 20 ms tick.
    assert min(gaps) >= 0.08
    assert viewer.seqs == list(range(1, 41))

    viewer.cost = 0.0  # the room got cheap (viewers left): the window narrows back
    for seq in range(41, 61):
        await send(hub, room, seq)
        await asyncio.sleep(0.025)
    await viewer.wait_for(60)
    assert feed.window() == feed_module.COALESCE_SECS
    assert viewer.seqs == list(range(1, 61))


async def test_the_window_never_exceeds_its_ceiling(hub: Hub, room: Room) -> None:
    from chat.realtime import feed as feed_module

    viewer = Costly("g:huge", 0.5)
    feed = await hub.subscribe(room.pk, viewer)
    await send(hub, room, 1)
    await viewer.wait_for(1)
    assert feed.fanout_cost > 0.1
    assert feed.window() == feed_module.COALESCE_MAX_SECS


async def test_a_subscriber_that_fails_does_not_stop_the_room(
    hub: Hub, room: Room, caplog: pytest.LogCaptureFixture
) -> None:
    broken, viewer = Refuser("g:broken"), Recorder("g:viewer")
    await hub.subscribe(room.pk, broken)
    await hub.subscribe(room.pk, viewer)
    with caplog.at_level(logging.ERROR, logger="chat.realtime.feed"):
        await send(hub, room, 1)
        await viewer.wait_for(1)
        await send(hub, room, 2)
        await viewer.wait_for(2)
    assert viewer.seqs == [1, 2]
    assert "a subscriber failed to take a batch" in caplog.text


# --- gap repair: what the layer dropped is read from the log -----------------------------


async def test_hub_repairs_a_dropped_layer_message_from_the_log(
    hub: Hub, room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = Recorder()
    await hub.subscribe(room.pk, viewer)
    dropped = drop_seqs(monkeypatch, {2, 3})
    for n in range(4):
        await post(room, alice, f"m{n}")
    await viewer.wait_for(4)
    assert dropped == [2, 3]
    assert viewer.seqs == [1, 2, 3, 4]
    assert [e["text"] for b in viewer.batches for e in b.events] == ["m0", "m1", "m2", "m3"]


async def test_a_long_gap_is_read_back_in_pages(
    hub: Hub, room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk import (or a long outage of the layer) becomes ordinary batches, not one huge frame."""
    monkeypatch.setattr("chat.realtime.feed.GAP_PAGE", 3)
    viewer = Recorder()
    await hub.subscribe(room.pk, viewer)
    drop_seqs(monkeypatch, set(range(1, 10)))
    for n in range(10):
        await post(room, alice, f"m{n}")
    await viewer.wait_for(10)
    assert viewer.seqs == list(range(1, 11))
    assert [len(b.events) for b in viewer.batches] == [3, 3, 3, 1]


async def test_hub_repairs_a_dropped_final_event_by_its_periodic_check(
    hub: Hub, room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chat.realtime.hub.GAP_CHECK_SECS", 0.2)
    await hub.stop()  # restart so the maintenance loop picks up the shorter period
    viewer = Recorder()
    await hub.subscribe(room.pk, viewer)
    dropped = drop_seqs(monkeypatch, None)
    await post(room, alice, "never published")
    await viewer.wait_for(1, timeout=3)  # no later event reveals the gap: only the check can
    assert dropped == [1]
    assert [e["text"] for b in viewer.batches for e in b.events] == ["never published"]


# --- a room's feed: lingers, then leaves the group -------------------------------------


async def test_a_feed_lingers_after_its_last_subscriber_then_leaves_the_group(
    hub: Hub, room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chat.realtime.hub.FEED_LINGER_SECS", 1.0)
    loop = asyncio.get_running_loop()
    gone = Recorder("g:gone")
    feed = await hub.subscribe(room.pk, gone)
    hub.unsubscribe(room.pk, gone)
    left = loop.time()
    await asyncio.sleep(0.5)
    assert hub.feeds.get(room.pk) is feed  # a reconnecting client finds the room still joined
    assert group_members(hub, room) == [hub.channel_name]

    back = Recorder("g:back")
    assert await hub.subscribe(room.pk, back) is feed  # no new join, no new read of the log
    await send(hub, room, 1)
    await back.wait_for(1)
    assert gone.batches == []  # nothing for a subscriber that left
    hub.unsubscribe(room.pk, back)  # the linger starts again from here
    await asyncio.sleep(max(0.0, left + 1.2 - loop.time()))
    assert hub.feeds.get(room.pk) is feed  # the first linger was cancelled when `back` came

    await asyncio.sleep(1.3)
    assert room.pk not in hub.feeds
    assert hub.subscriber_count() == 0
    assert group_members(hub, room) == []


# --- EventRules: the domain decides, the fan-out obeys ----------------------------------


@pytest.fixture
def restore_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules installed by a test are replaced by the app's own afterwards."""
    monkeypatch.setattr(batch_module, "_rules", batch_module._rules)


def test_the_apps_rules_say_which_batches_change_access() -> None:
    """Installed when chat is ready (delivery.py): a settings event of a private room makes
    live readers re-check that they may still read; a message or a public room's does not."""
    private = {"seq": 2, "kind": "settings", "settings": {"private": True, "posting": "open"}}
    public = {"seq": 2, "kind": "settings", "settings": {"private": False, "posting": "open"}}
    assert Batch([message(1), private]).changes_access is True
    assert Batch([message(1), public]).changes_access is False
    assert Batch([message(1)]).changes_access is False


def test_a_batch_under_rules_that_change_no_access_reports_false(restore_rules: None) -> None:
    calls: list[int] = []

    def nothing_changes_access(event: WireEvent) -> bool:
        calls.append(event["seq"])
        return False

    use_event_rules(EventRules(changes_access=nothing_changes_access, may_sample=lambda event: False))
    private = {"seq": 2, "kind": "settings", "settings": {"private": True}}
    batch = Batch([message(1), private])
    for _ in range(3):  # three live connections ask
        assert batch.changes_access is False
    assert calls == [1, 2]  # decided once per batch, not per connection


def test_sampling_skips_only_what_the_rules_allow(restore_rules: None) -> None:
    danmaku = [{"seq": n, "kind": "danmaku", "text": str(n)} for n in range(1, 41)]
    chat = [message(n) for n in range(41, 81)]
    use_event_rules(EventRules(changes_access=lambda event: False, may_sample=lambda event: False))
    assert Batch(danmaku).sampled(RateSampler(1)).events == danmaku  # nothing may be skipped
    # The fan-out knows no kinds: rules that let chat messages be skipped skip those instead.
    use_event_rules(
        EventRules(changes_access=lambda event: False, may_sample=lambda event: event["kind"] == "message")
    )
    kept = Batch(danmaku + chat).sampled(RateSampler(1)).events
    assert [e for e in kept if e["kind"] == "danmaku"] == danmaku
    assert 1 <= sum(e["kind"] == "message" for e in kept) <= 2  # the burst, then at most 1 a second


def test_without_rules_the_fan_out_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_module, "_rules", None)
    with pytest.raises(ImproperlyConfigured, match="event rules"):
        _ = Batch([message(1)]).changes_access
    with pytest.raises(ImproperlyConfigured, match="event rules"):
        Batch([message(1)]).sampled(RateSampler(5))
