"""Hiding a user (YouTube's hide): their new messages are kept like held ones, answered to them
with a private ack and shown on their own page, listed for moderators, and never enter the
room's log, so no transport, history, overlay or export has them; hiding is silent (no room
event), audited, and lifted by unhide only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.models import AuditEntry, HeldMessage, Room
from chat.realtime.hub import Hub
from tests.chat.asgi_clients import SseStream, asgi_get, connect
from tests.chat.web.test_visible_moderation import as_user, standing_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def mod(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/rooms/lobby/mod/{path}", data=json.dumps(body), content_type="application/json")


async def test_a_hidden_users_messages_reach_only_them_and_the_moderators(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    moderator = await database_sync_to_async(as_user)(alice)
    before = await database_sync_to_async(lambda: Room.objects.get(pk=owned.pk).last_seq)()
    hidden = await database_sync_to_async(mod)(moderator, "hide", {"user": "bob", "reason": "spam bot"})
    assert hidden.json() == {"hidden": [{"user": "bob", "reason": "spam bot"}]}
    watcher = await connect(f"/ws/rooms/lobby/?after={before}", carol)
    await watcher.next_frame("hello")
    sse = await SseStream(f"/rooms/lobby/events?after={before}").open()
    bob_ws = await connect("/ws/rooms/lobby/", bob)
    await bob_ws.next_frame("hello")
    ack = await bob_ws.send({"type": "message", "text": "buy followers", "nonce": 1})
    assert ack == {
        "type": "ack",
        "nonce": 1,
        "seq": None,
        "id": None,
        "held_id": ack["held_id"],
        "private": True,
    }
    http = await database_sync_to_async(
        lambda: as_user(bob).post(
            "/rooms/lobby/messages", data='{"text": "more spam"}', content_type="application/json"
        )
    )()
    assert http.json()["private"] is True
    # Nothing reached the log: no event anywhere, the cursor did not move.
    await watcher.assert_silent("events", wait=0.5)
    with pytest.raises(TimeoutError):  # the SSE stream carries no event either
        await sse.blocks_until(lambda blocks: any("id" in block for block in blocks), timeout=0.5)
    _, _, polled = await asgi_get(f"/rooms/lobby/poll?after={before}&timeout=1")
    assert polled == {**polled, "events": [], "last_seq": before}
    history = await database_sync_to_async(lambda: as_user(None).get("/rooms/lobby/history").json())()
    assert history["events"] == []
    # Listed for moderators, echoed to bob's page, not carol's.
    queue = await database_sync_to_async(lambda: moderator.get("/rooms/lobby/mod/review").json())()
    assert [(h["text"], h["reason"]) for h in queue["held"]] == [
        ("buy followers", "hidden_user"),
        ("more spam", "hidden_user"),
    ]
    mine = await database_sync_to_async(standing_of)(bob)
    assert [(h["text"], h["decision"]) for h in mine["held"]] == [
        ("buy followers", "private"),
        ("more spam", "private"),
    ]
    assert mine["sanction"] is None  # bob is not told
    assert (await database_sync_to_async(standing_of)(carol))["held"] == []
    for client in (watcher, bob_ws):
        await client.disconnect()
    await sse.close()


def test_hiding_is_silent_audited_separate_from_bans_and_lifted_by_unhide(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    moderator = as_user(alice)
    last_seq = Room.objects.get(pk=owned.pk).last_seq
    assert mod(moderator, "hide", {"user": "bob"}).status_code == 200
    assert Room.objects.get(pk=owned.pk).last_seq == last_seq  # no room event
    assert mod(moderator, "hide", {"user": "bob"}).json()["code"] == "already_hidden"
    assert mod(moderator, "hide", {"user": "alice"}).json()["code"] == "forbidden"  # a moderator
    assert mod(as_user(bob), "hide", {"user": "alice"}).json()["code"] == "forbidden"
    state = moderator.get("/rooms/lobby/mod/state").json()
    assert state["sanctions"] == []
    assert state["hidden"] == [{"user": "bob", "reason": ""}]
    assert mod(moderator, "unban", {"user": "bob"}).status_code == 404  # an unban does not unhide
    assert mod(moderator, "unhide", {"user": "bob"}).json() == {"hidden": []}
    assert mod(moderator, "unhide", {"user": "bob"}).status_code == 404
    posted = as_user(bob).post(
        "/rooms/lobby/messages", data='{"text": "I am back"}', content_type="application/json"
    )
    assert posted.json()["seq"] == last_seq + 1
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["hide", "unhide"]
    assert not HeldMessage.objects.exists()
