"""API tokens on the ASGI paths (chat/transports/routing.py): the WebSocket handshake, SSE and
long-poll accept `Authorization: Bearer`, within the token's scopes and rooms."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AbstractBaseUser

from chat.domain.posting import post_message
from chat.domain.tokens import create_token, revoke_token
from chat.models import Room, RoomEvent
from chat.realtime.hub import Hub
from config.asgi import application
from tests.chat.asgi_clients import HOST, ORIGIN, asgi_get, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]

make_token = database_sync_to_async(create_token)
post = database_sync_to_async(post_message)


def bearer(raw: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {raw}".encode())]


async def test_a_websocket_with_a_token_reads_and_posts_as_its_account(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    raw = (await make_token(alice, "bot", "read,post")).raw
    comm = await connect("/ws/rooms/lobby/", headers=bearer(raw))
    hello = await comm.next_frame("hello")
    assert hello["me"] == {"id": alice.pk, "name": "alice"}
    ack = await comm.send({"type": "message", "text": "beep", "nonce": 1})
    assert ack["type"] == "ack"
    (event,) = await comm.receive_events(1)
    assert event["user"]["name"] == "alice"
    await comm.disconnect()


async def test_a_read_token_cannot_post_over_the_websocket(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    raw = (await make_token(alice, "reader", "read")).raw
    comm = await connect("/ws/rooms/lobby/", headers=bearer(raw))
    await comm.next_frame("hello")
    error = await comm.send({"type": "message", "text": "nope", "nonce": 2})
    assert (error["type"], error["code"], error["nonce"]) == ("error", "token_scope", 2)
    assert not await database_sync_to_async(RoomEvent.objects.exists)()
    await comm.disconnect()


async def test_a_bad_token_closes_the_websocket_4401(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    made = await make_token(alice, "bot", "read")
    await database_sync_to_async(revoke_token)(alice, made.token.pk)
    for raw, code in ((made.raw, "token_revoked"), ("garbage", "invalid_token")):
        comm = WebsocketCommunicator(application, "/ws/rooms/lobby/", headers=[HOST, ORIGIN, *bearer(raw)])
        await comm.connect(timeout=5)
        assert json.loads(await comm.receive_from(timeout=5))["code"] == code
        assert (await comm.receive_output(timeout=5))["code"] == 4401


async def test_a_token_for_another_room_or_without_read_is_refused_4403(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    other = await database_sync_to_async(Room.objects.create)(slug="other", title="Other")
    for scopes, rooms, code in (("read", [other], "token_room"), ("post", [], "token_scope")):
        raw = (await make_token(alice, f"t-{code}", scopes, rooms=rooms)).raw
        comm = WebsocketCommunicator(application, "/ws/rooms/lobby/", headers=[HOST, ORIGIN, *bearer(raw)])
        await comm.connect(timeout=5)
        assert json.loads(await comm.receive_from(timeout=5))["code"] == code
        assert (await comm.receive_output(timeout=5))["code"] == 4403


async def test_a_token_reads_a_private_room_over_long_poll_and_sse(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    room.private = True
    room.owner = alice
    await database_sync_to_async(room.save)()
    await post(room, alice, "secret")
    status, _, body = await asgi_get("/rooms/lobby/poll?after=0&timeout=1")
    assert (status, body["code"]) == (403, "private_room")
    raw = (await make_token(alice, "reader", "read")).raw
    status, _, body = await asgi_get("/rooms/lobby/poll?after=0&timeout=1", bearer(raw))
    assert status == 200
    assert [e["text"] for e in body["events"]] == ["secret"]
    status, _, body = await asgi_get("/rooms/lobby/events?after=0", [*bearer("garbage")])
    assert (status, body["code"]) == (401, "invalid_token")
    poster = (await make_token(alice, "poster", "post")).raw
    status, _, body = await asgi_get("/rooms/lobby/poll?after=0&timeout=1", bearer(poster))
    assert (status, body["code"]) == (403, "token_scope")
