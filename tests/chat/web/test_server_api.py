"""The server API a site's backend uses with a token (docs/PROTOCOL.md "Server API"): a system
notice, a danmaku, the room's state, the moderation actions; the same validation and log as
every other write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.domain.posting import post_message
from chat.domain.tokens import create_token
from chat.models import AuditEntry, Room, RoomEvent
from chat.realtime.hub import Hub
from tests.chat.asgi_clients import asgi_get, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def call(raw: str, path: str, body: Any) -> Any:
    return Client().post(
        f"/rooms/lobby/{path}",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )


def test_a_backend_posts_a_system_notice(owned: Room, alice: AbstractBaseUser) -> None:
    raw = create_token(alice, "site", "moderate").raw
    answer = call(raw, "mod/system", {"text": "  Stream starts in 5 minutes  "})
    assert answer.status_code == 200, answer.content
    event = RoomEvent.objects.get()
    assert answer.json() == {"seq": 1, "kind": "system", "id": event.pk}
    assert (event.kind, event.text, event.user) == ("system", "Stream starts in 5 minutes", None)
    assert AuditEntry.objects.get().action == "system"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [({}, 400, "invalid"), ({"text": " "}, 400, "empty"), ({"text": "x" * 501}, 413, "too_long")],
)
def test_a_bad_notice_is_refused(
    owned: Room, alice: AbstractBaseUser, body: Any, status: int, code: str
) -> None:
    raw = create_token(alice, "site", "moderate").raw
    answer = call(raw, "mod/system", body)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert not RoomEvent.objects.exists()


def test_only_moderators_post_notices(owned: Room, bob: AbstractBaseUser) -> None:
    raw = create_token(bob, "site", "moderate").raw
    assert call(raw, "mod/system", {"text": "hi"}).json()["code"] == "forbidden"
    poster = create_token(bob, "poster", "post").raw
    assert call(poster, "mod/system", {"text": "hi"}).json()["code"] == "token_scope"


def test_notices_are_rate_limited(owned: Room, alice: AbstractBaseUser, settings: Any) -> None:
    settings.CHAT_MESSAGE_RATE = "2/60"
    raw = create_token(alice, "site", "moderate").raw
    assert call(raw, "mod/system", {"text": "1"}).status_code == 200
    assert call(raw, "mod/system", {"text": "2"}).status_code == 200
    answer = call(raw, "mod/system", {"text": "3"})
    assert (answer.status_code, answer.json()["code"]) == (429, "rate_limited")


def test_a_backend_posts_a_danmaku(room: Room, alice: AbstractBaseUser) -> None:
    raw = create_token(alice, "site", "post").raw
    body = {"type": "danmaku", "text": "wow", "mode": "top", "color": "#FF0000", "size": "large"}
    answer = call(raw, "messages", body)
    assert answer.status_code == 200, answer.content
    event = RoomEvent.objects.get()
    assert (event.kind, event.data["color"], event.data["mode"]) == ("danmaku", "#ff0000", "top")
    answer = call(raw, "messages", {**body, "mode": "sideways"})
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_mode")


async def test_a_backend_reads_presence_and_last_seq(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    raw = (await database_sync_to_async(create_token)(alice, "site", "read")).raw
    await database_sync_to_async(post_message)(room, alice, "one")
    viewer = await connect("/ws/rooms/lobby/")
    await viewer.next_frame("hello")
    status, _, body = await asgi_get("/rooms/lobby/state", [(b"authorization", f"Bearer {raw}".encode())])
    assert status == 200
    assert body["room"] == "lobby"
    assert body["last_seq"] == 1
    assert body["presence"] == {"count": 1, "guests": 1}
    assert isinstance(body["epoch"], str)
    await viewer.disconnect()


def test_state_follows_the_rooms_access(room: Room, alice: AbstractBaseUser) -> None:
    room.private = True
    room.save()
    answer = Client().get("/rooms/lobby/state")
    assert (answer.status_code, answer.json()["code"]) == (403, "private_room")
    assert Client().get("/rooms/nowhere/state").status_code == 404


def test_a_members_token_reads_a_private_rooms_state(room: Room, alice: AbstractBaseUser) -> None:
    room.private = True
    room.owner = alice
    room.save()
    raw = create_token(alice, "site", "read").raw
    answer = Client().get("/rooms/lobby/state", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200
    assert answer.json()["last_seq"] == 0
