"""The pinned message: one at a time, with an optional end, a `pin` event on every transport
(live and from a cursor), in the history answer while it is in force, audited, and taken down
with its own event when the message is deleted, cleared or purged, or its author banned."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone

from chat.domain.posting import post_message
from chat.models import AuditEntry, Room, RoomEvent
from chat.realtime.hub import Hub
from tests.chat.web.test_visible_moderation import as_user, every_transport

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def mod(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/rooms/lobby/mod/{path}", data=json.dumps(body), content_type="application/json")


def history_pin(client: Client) -> Any:
    return client.get("/rooms/lobby/history").json()["pinned"]


async def test_a_pin_and_an_unpin_reach_every_transport_and_the_history(
    hub: Hub, owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    rules = (await database_sync_to_async(post_message)(owned, bob, "read the rules")).event
    moderator = await database_sync_to_async(as_user)(alice)
    pinned = (await database_sync_to_async(mod)(moderator, "pin", {"id": rules.pk, "seconds": 600})).json()
    assert pinned["kind"] == "pin"
    unpinned = (await database_sync_to_async(mod)(moderator, "unpin", {})).json()
    for events in await every_transport(rules.seq, 2):
        pin, unpin = events
        assert pin["seq"] == pinned["seq"]
        assert unpin["seq"] == unpinned["seq"]
        assert pin["pinned"]["id"] == rules.pk
        assert pin["pinned"]["user"] == {"id": bob.pk, "name": "bob"}
        assert pin["pinned"]["text"] == "read the rules"
        assert pin["pinned"]["until"].endswith("Z")
        assert unpin["pinned"] is None
        assert unpin["user"] is None
    actions = await database_sync_to_async(
        lambda: list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    )()
    assert actions == ["pin", "unpin"]


def test_the_history_names_the_pin_while_it_is_in_force(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    moderator, guest = as_user(alice), as_user(None)
    first = post_message(owned, bob, "first").event
    second = post_message(owned, bob, "second").event
    assert history_pin(guest) is None
    mod(moderator, "pin", {"id": first.pk})
    assert history_pin(guest)["id"] == first.pk
    assert history_pin(guest)["until"] is None
    mod(moderator, "pin", {"id": second.pk, "seconds": 60})  # one at a time: it replaces
    assert history_pin(guest)["id"] == second.pk
    Room.objects.filter(pk=owned.pk).update(pinned_until=timezone.now() - timedelta(seconds=1))
    assert history_pin(guest) is None  # ended
    assert (mod(moderator, "unpin", {}).status_code, mod(moderator, "unpin", {}).json()["code"]) == (
        404,
        "not_found",
    )


def test_a_pin_is_refused_for_what_cannot_be_pinned_and_to_non_moderators(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    moderator = as_user(alice)
    message = post_message(owned, bob, "hello").event
    for body in ({"id": message.pk, "seconds": 5}, {"id": message.pk, "seconds": "60"}, {"id": "x"}):
        answer = mod(moderator, "pin", body)
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid"), body
    assert mod(moderator, "pin", {"id": 999_999}).json()["code"] == "not_found"
    settings = mod(moderator, "settings", {"slow_mode_seconds": 1}).json()
    assert mod(moderator, "pin", {"id": settings["id"]}).status_code == 404  # not a message
    assert mod(as_user(bob), "pin", {"id": message.pk}).json()["code"] == "forbidden"
    assert mod(as_user(bob), "unpin", {}).json()["code"] == "forbidden"
    assert not RoomEvent.objects.filter(kind="pin").exists()


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("delete", lambda pinned: {"id": pinned.pk}),
        ("clear", lambda pinned: {}),
        ("ban", lambda pinned: {"user": "bob"}),
        ("timeout", lambda pinned: {"user": "bob", "seconds": 60, "purge": True}),
    ],
)
def test_the_pin_goes_with_its_message_or_its_banned_author(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, action: str, body: Any
) -> None:
    moderator = as_user(alice)
    pinned = post_message(owned, bob, "pin me").event
    mod(moderator, "pin", {"id": pinned.pk})
    answer = mod(moderator, action, body(pinned))
    assert answer.status_code == 200, answer.content
    after = list(RoomEvent.objects.filter(room=owned, seq__gt=answer.json()["seq"]).order_by("seq"))
    assert [(e.kind, e.data.get("pinned", "-")) for e in after if e.kind == "pin"] == [("pin", None)]
    assert history_pin(as_user(None)) is None


def test_a_timeout_without_purge_leaves_the_pin(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    moderator = as_user(alice)
    pinned = post_message(owned, bob, "still pinned").event
    mod(moderator, "pin", {"id": pinned.pk})
    assert mod(moderator, "timeout", {"user": "bob", "seconds": 60}).status_code == 200
    assert history_pin(as_user(None))["id"] == pinned.pk
