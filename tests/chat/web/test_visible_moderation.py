"""Moderation people can see (docs/PROTOCOL.md "Moderation you can see"): a purge is one event
listing what it removed, a rejected held message is a `review` event naming only its held id,
an approved one carries it, a delete says whether it leaves a placeholder; each arrives the same
over WebSocket, SSE and long-poll, live and when resuming from a cursor; the room page tells a
signed-in user their own sanction and held messages, and no one else's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.domain.moderation.removal import PURGE_MAX
from chat.domain.posting import post_message
from chat.errors import ChatError
from chat.models import AuditEntry, EventKind, HeldMessage, Room, RoomEvent
from chat.realtime.hub import Hub
from tests.chat.asgi_clients import SseStream, asgi_get, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def as_user(user: AbstractBaseUser | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api(client: Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(f"/rooms/lobby/mod/{path}", data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 200, answer.content
    payload: dict[str, Any] = answer.json()
    return payload


def standing_of(user: AbstractBaseUser | None) -> dict[str, Any]:
    """The `room-standing` data the room page was rendered with for `user`."""
    html = as_user(user).get("/rooms/lobby/").content.decode()
    start = html.index('<script type="application/json" id="room-standing">') + len(
        '<script type="application/json" id="room-standing">'
    )
    payload: dict[str, Any] = json.loads(html[start : html.index("</script>", start)])
    return payload


async def every_transport(
    after: int, count: int, viewer: AbstractBaseUser | None = None
) -> list[list[dict[str, Any]]]:
    """The `count` events after `after` as WebSocket, SSE and long-poll each deliver them."""
    ws = await connect(f"/ws/rooms/lobby/?after={after}", viewer)
    await ws.next_frame("hello")
    over_ws = await ws.receive_events(count)
    await ws.disconnect()
    sse = await SseStream(f"/rooms/lobby/events?after={after}").open()
    over_sse = [
        {k: v for k, v in e.items() if not k.startswith("sse_")} for e in await sse.events_until(count)
    ]
    await sse.close()
    _, _, poll = await asgi_get(f"/rooms/lobby/poll?after={after}&timeout=1")
    return [over_ws, over_sse, poll["events"]]


async def test_a_purge_is_one_event_listing_what_it_removed_on_every_transport(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    live = await connect("/ws/rooms/lobby/?after=0", carol)
    await live.next_frame("hello")
    posted = []
    for text in ("spam one", "spam two"):
        posted.append((await database_sync_to_async(post_message)(owned, bob, text)).event)
    kept = (await database_sync_to_async(post_message)(owned, carol, "not bob")).event
    mod = await database_sync_to_async(as_user)(alice)
    answer = await database_sync_to_async(api)(mod, "timeout", {"user": "bob", "seconds": 600, "purge": True})
    assert answer["kind"] == "ban"
    assert answer["removed"] == [
        {"id": e.pk, "seq": e.seq} for e in posted
    ]  # the moderator's page says how many
    live_events = await live.receive_events(4)
    await live.disconnect()
    # Resuming from before the purge, on each transport: the same one event.
    for events in [[live_events[-1]], *(await every_transport(kept.seq, 1))]:
        (purge,) = events
        assert purge["kind"] == "ban"
        assert purge["sanction"] == "timeout"
        assert purge["removed"] == [{"id": e.pk, "seq": e.seq} for e in posted]
        assert purge["placeholder"] is True
    history = (await database_sync_to_async(as_user(None).get)("/rooms/lobby/history")).json()["events"]
    assert [(e["text"], e.get("deleted", False)) for e in history] == [
        ("", True),
        ("", True),
        ("not bob", False),
    ]
    entry = await database_sync_to_async(AuditEntry.objects.get)(action="timeout")
    assert entry.detail["removed"] == 2


def test_a_purge_is_bounded_and_refuses_what_is_not_a_boolean(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    mod = as_user(alice)
    refused = mod.post(
        "/rooms/lobby/mod/ban",
        data=json.dumps({"user": "bob", "purge": "yes"}),
        content_type="application/json",
    )
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (400, "invalid", "purge")
    RoomEvent.objects.bulk_create(
        RoomEvent(room=owned, seq=seq, kind="message", user=bob, user_name="bob", text=f"m{seq}")
        for seq in range(1, PURGE_MAX + 11)
    )
    Room.objects.filter(pk=owned.pk).update(last_seq=PURGE_MAX + 10)
    answer = api(mod, "ban", {"user": "bob", "purge": True})
    event = RoomEvent.objects.get(pk=answer["id"])
    assert len(event.data["removed"]) == PURGE_MAX
    assert event.data["removed"][-1]["seq"] == PURGE_MAX + 10  # the newest go first
    assert RoomEvent.objects.filter(room=owned, kind="message", deleted_at=None).count() == 10


async def test_a_vanishing_room_deletes_without_a_trace(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    mod = await database_sync_to_async(as_user)(alice)
    settings = await database_sync_to_async(api)(mod, "settings", {"removed_display": "vanish"})
    doomed = (await database_sync_to_async(post_message)(owned, bob, "doomed")).event
    await database_sync_to_async(api)(mod, "delete", {"id": doomed.pk})
    for events in await every_transport(settings["seq"], 2):
        assert events[0]["kind"] == "message"
        assert events[0]["deleted"] is True
        assert events[1] == {**events[1], "kind": "delete", "target": doomed.pk, "placeholder": False}
    history = (await database_sync_to_async(as_user(None).get)("/rooms/lobby/history")).json()["events"]
    assert history == []
    bad = await database_sync_to_async(mod.post)(
        "/rooms/lobby/mod/settings", data='{"removed_display": "gone"}', content_type="application/json"
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "removed_display")


async def test_held_messages_are_approved_with_their_held_id_and_rejected_without_a_name(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    mod = await database_sync_to_async(as_user)(alice)
    start = (await database_sync_to_async(api)(mod, "settings", {"review": "all"}))["seq"]
    kept = (await database_sync_to_async(post_message)(owned, bob, "approve me")).held
    dropped = (await database_sync_to_async(post_message)(owned, bob, "reject me")).held
    assert kept is not None
    assert dropped is not None
    watcher = await connect(f"/ws/rooms/lobby/?after={start}", carol)
    await watcher.next_frame("hello")
    await watcher.assert_silent("events")  # held: no one sees them yet
    decide = mod.post
    approved = await database_sync_to_async(decide)(
        f"/rooms/lobby/mod/review/{kept.pk}", data='{"approve": true}', content_type="application/json"
    )
    rejected = await database_sync_to_async(decide)(
        f"/rooms/lobby/mod/review/{dropped.pk}", data='{"approve": false}', content_type="application/json"
    )
    assert rejected.json()["kind"] == "review"
    live_events = await watcher.receive_events(2)
    await watcher.disconnect()
    for events in [live_events, *(await every_transport(start, 2, bob))]:
        message, review = events
        assert (message["kind"], message["text"], message["held_id"]) == ("message", "approve me", kept.pk)
        assert message["seq"] == approved.json()["seq"]
        assert review == {
            "seq": rejected.json()["seq"],
            "kind": "review",
            "id": rejected.json()["id"],
            "user": None,
            "text": "",
            "ts": review["ts"],
            "held_id": dropped.pk,
            "decision": "rejected",
        }


def test_the_room_page_tells_each_user_their_own_standing(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    mod = as_user(alice)
    api(mod, "settings", {"review": "all"})
    held = post_message(owned, carol, "wait for it").held
    rejected = post_message(owned, carol, "no way").held
    api(mod, "settings", {"slow_mode_seconds": 30})
    assert held is not None
    assert rejected is not None
    mod.post(
        f"/rooms/lobby/mod/review/{rejected.pk}", data='{"approve": false}', content_type="application/json"
    )
    api(mod, "ban", {"user": "bob", "reason": "spam links"})

    assert standing_of(bob)["sanction"] == {"sanction": "ban", "until": None, "reason": "spam links"}
    assert standing_of(bob)["held"] == []
    with pytest.raises(ChatError) as banned:
        post_message(owned, bob, "hello?")
    assert (banned.value.code, banned.value.extra["reason"]) == ("banned", "spam links")

    mine = standing_of(carol)
    assert mine["sanction"] is None
    assert mine["settings"]["slow_mode_seconds"] == 30
    assert mine["moderates"] is False
    assert [(h["held_id"], h["text"], h["decision"]) for h in mine["held"]] == [
        (held.pk, "wait for it", HeldMessage.Decision.PENDING),
        (rejected.pk, "no way", HeldMessage.Decision.REJECTED),
    ]
    guest = standing_of(None)
    assert (guest["sanction"], guest["held"], guest["moderates"]) == (None, [], False)
    assert standing_of(alice)["moderates"] is True


def test_the_browser_sse_client_listens_for_every_event_kind() -> None:
    """EventSource dispatches only the event names listened for: a kind the client does not list
    would never reach a room page on SSE (and its seq would be replayed after every reconnect)."""
    source = (Path(__file__).resolve().parents[3] / "static/js/client/sse.js").read_text()
    listed = re.search(r"ROOM_EVENT_KINDS = Object\.freeze\(\[(.*?)\]\)", source, re.S)
    assert listed is not None
    assert set(re.findall(r'"([a-z_]+)"', listed.group(1))) == set(EventKind.values)
