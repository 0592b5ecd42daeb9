"""Chat delay: a non-moderator's message is kept like a held one until its release time, then
published as an approval would be (its seq then, its `held_id` on it), unless a moderator
removed it meanwhile; moderators post at once. Released by the release loop (or any process's
sweep), claimed once."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone

from chat.domain.moderation import delay
from chat.domain.posting import post_message
from chat.models import AuditEntry, HeldMessage, Room, RoomEvent
from chat.realtime.hub import Hub
from tests.chat.asgi_clients import SseStream, asgi_get, connect
from tests.chat.web.test_visible_moderation import api, as_user, every_transport, standing_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def due_now() -> None:
    """The delay has passed (without waiting for it)."""
    HeldMessage.objects.filter(reason=HeldMessage.Reason.DELAYED).update(
        release_at=timezone.now() - timedelta(seconds=1)
    )


def post(client: Client, text: str) -> Any:
    return client.post(
        "/rooms/lobby/messages", data=json.dumps({"text": text}), content_type="application/json"
    )


def test_the_setting_is_checked_audited_and_announced(owned: Room, alice: AbstractBaseUser) -> None:
    mod = as_user(alice)
    event = api(mod, "settings", {"chat_delay_seconds": 10})
    settings_event = RoomEvent.objects.get(room=owned, seq=event["seq"])
    assert settings_event.data["settings"]["chat_delay_seconds"] == 10
    entry = AuditEntry.objects.filter(room=owned, action="settings").latest("id")
    assert entry.detail["changed"] == {"chat_delay_seconds": 10}
    assert standing_of(None)["settings"]["chat_delay_seconds"] == 10
    for bad in (61, -1, True, "5", 2.5):
        answer = mod.post(
            "/rooms/lobby/mod/settings",
            data=json.dumps({"chat_delay_seconds": bad}),
            content_type="application/json",
        )
        assert answer.status_code == 400
        assert answer.json() == {**answer.json(), "code": "invalid", "field": "chat_delay_seconds"}


async def test_a_delayed_message_reaches_no_transport_until_its_time_then_every_one(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    mod = await database_sync_to_async(as_user)(alice)
    bob_ws = await connect("/ws/rooms/lobby/", bob)  # connected before the delay is turned on
    await bob_ws.next_frame("hello")
    start = (await database_sync_to_async(api)(mod, "settings", {"chat_delay_seconds": 30}))["seq"]
    watcher = await connect(f"/ws/rooms/lobby/?after={start}", carol)
    await watcher.next_frame("hello")
    sse = await SseStream(f"/rooms/lobby/events?after={start}").open()
    ack = await bob_ws.send({"type": "message", "text": "hello after a while", "nonce": 7})
    assert ack == {
        **ack,
        "type": "ack",
        "nonce": 7,
        "seq": None,
        "id": None,
        "held": True,
        "delayed": True,
    }
    held_id = ack["held_id"]
    release_at = ack["release_at"]
    assert release_at > timezone.now().isoformat()[:19]
    # Before its time: not in the log, on no transport, not in history.
    await watcher.assert_silent("events", wait=0.5)
    with pytest.raises(TimeoutError):
        await sse.blocks_until(lambda blocks: any("id" in block for block in blocks), timeout=0.5)
    _, _, polled = await asgi_get(f"/rooms/lobby/poll?after={start}&timeout=1")
    assert polled["events"] == []
    assert polled["last_seq"] == start
    history = await database_sync_to_async(lambda: as_user(None).get("/rooms/lobby/history").json())()
    assert history["events"] == []
    # Its author's page shows it pending with its time; moderators see it in the queue.
    mine = await database_sync_to_async(standing_of)(bob)
    assert mine["held"] == [
        {
            "held_id": held_id,
            "kind": "message",
            "text": "hello after a while",
            "decision": "pending",
            "release_at": release_at,
        }
    ]
    queue = await database_sync_to_async(lambda: mod.get("/rooms/lobby/mod/review").json())()
    assert [(h["id"], h["reason"], h["release_at"]) for h in queue["held"]] == [
        (held_id, "delayed", release_at)
    ]
    # The owner (a moderator) posts at once.
    owners = (await database_sync_to_async(post_message)(owned, alice, "no delay for me")).event
    assert owners is not None
    assert owners.seq == start + 1
    # The time comes: released with the next seq and its held_id, on every transport.
    await database_sync_to_async(due_now)()
    assert await database_sync_to_async(delay.release_due)() == 1
    for events in await every_transport(start, 2, carol):
        assert [(e["seq"], e["text"]) for e in events] == [
            (start + 1, "no delay for me"),
            (start + 2, "hello after a while"),
        ]
        assert events[1]["held_id"] == held_id
        assert events[1]["user"]["name"] == "bob"
    live = await watcher.receive_events(2)
    assert live[1] == {**live[1], "seq": start + 2, "held_id": held_id}
    streamed = await sse.events_until(2)
    assert streamed[1]["held_id"] == held_id
    history = await database_sync_to_async(lambda: as_user(None).get("/rooms/lobby/history").json())()
    assert history["events"][-1] == {
        **history["events"][-1],
        "text": "hello after a while",
        "held_id": held_id,
    }
    assert (await database_sync_to_async(standing_of)(bob))["held"] == []
    for client in (watcher, bob_ws):
        await client.disconnect()
    await sse.close()


def test_a_message_a_moderator_removes_never_appears(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    mod = as_user(alice)
    start = api(mod, "settings", {"chat_delay_seconds": 30})["seq"]
    held_id = post(as_user(bob), "rude remark").json()["held_id"]
    api(mod, f"review/{held_id}", {"approve": False})
    due_now()
    assert delay.release_due() == 0
    events = list(RoomEvent.objects.filter(room=owned, seq__gt=start).values("kind", "text", "data"))
    assert events == [{"kind": "review", "text": "", "data": {"held_id": held_id, "decision": "rejected"}}]
    assert AuditEntry.objects.filter(room=owned, action="reject").count() == 1
    # Approving early publishes it now, and its release later does nothing.
    early = post(as_user(bob), "worth it").json()["held_id"]
    approved = api(mod, f"review/{early}", {"approve": True})
    assert approved["seq"] == start + 2
    due_now()
    assert delay.release_due() == 0
    assert RoomEvent.objects.filter(room=owned, text="worth it").count() == 1


def test_a_message_whose_author_is_banned_meanwhile_is_not_released(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    mod = as_user(alice)
    api(mod, "settings", {"chat_delay_seconds": 30})
    held_id = post(as_user(bob), "last words").json()["held_id"]
    api(mod, "ban", {"user": "bob"})
    due_now()
    assert delay.release_due() == 1  # claimed, and rejected
    assert not RoomEvent.objects.filter(room=owned, text="last words").exists()
    assert HeldMessage.objects.get(pk=held_id).decision == HeldMessage.Decision.REJECTED
    assert RoomEvent.objects.filter(room=owned, kind="review", data__held_id=held_id).exists()


def test_two_releasers_publish_a_message_once(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    api(as_user(alice), "settings", {"chat_delay_seconds": 5})
    held_id = post(as_user(bob), "only once").json()["held_id"]
    due_now()
    # Both processes found it due; each tries to claim it.
    first = delay.release_one(held_id)
    second = delay.release_one(held_id)
    assert first is not None
    assert second is None
    assert delay.release_due() == 0
    assert RoomEvent.objects.filter(room=owned, text="only once").count() == 1


def test_a_fresh_release_loop_sweeps_what_no_process_released(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    """A message whose time passed while no loop ran (its process stopped): the next process's
    loop releases it at its first sweep, and one it is told of at its release time."""
    api(as_user(alice), "settings", {"chat_delay_seconds": 1})
    left = post(as_user(bob), "left behind").json()["held_id"]
    due_now()
    loop = delay.start_with_server()
    try:
        deadline = time.monotonic() + 10
        while not HeldMessage.objects.get(pk=left).event_id and time.monotonic() < deadline:
            time.sleep(0.05)
        assert RoomEvent.objects.filter(room=owned, text="left behind").count() == 1
        posted = time.monotonic()
        fresh = post(as_user(bob), "on time").json()
        assert fresh["delayed"] is True
        while not HeldMessage.objects.get(pk=fresh["held_id"]).event_id and time.monotonic() < deadline:
            time.sleep(0.05)
        took = time.monotonic() - posted
        assert RoomEvent.objects.filter(room=owned, text="on time").count() == 1
        assert 0.9 <= took < 1.9  # woken at its release time, not at the next sweep
    finally:
        delay.stop()
        loop.join(5)


def test_pending_messages_are_bounded_per_user(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser, settings: Any
) -> None:
    settings.CHAT_DELAY_PENDING_PER_USER = 2
    settings.CHAT_DELAY_PENDING_PER_ROOM = 3
    settings.CHAT_DUPLICATE_SECONDS = 0
    api(as_user(alice), "settings", {"chat_delay_seconds": 30})
    bob_client = as_user(bob)
    assert [post(bob_client, f"m{n}").status_code for n in range(2)] == [200, 200]
    refused = post(bob_client, "one too many")
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_pending"
    carol_client = as_user(carol)
    assert post(carol_client, "c1").status_code == 200
    assert post(carol_client, "c2").json()["code"] == "too_many_pending"  # the room's bound
    assert post(as_user(alice), "moderators are not delayed").json()["seq"] is not None
