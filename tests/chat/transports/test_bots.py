"""Bots on the live transports: `hello`'s `me` and the presence lists say `bot`, and a
connection open when its account is marked posts as a bot from its next post."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser

from chat.domain.bots import mark_bot
from chat.models import Room
from chat.realtime.hub import Hub
from tests.chat.asgi_clients import SseStream, connect, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]

mark = database_sync_to_async(mark_bot)


async def test_hello_and_presence_say_a_bot_is_a_bot(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    await mark(bob)
    human = await connect("/ws/rooms/lobby/", alice)
    hello = await human.next_frame("hello")
    assert hello["me"] == {"id": alice.pk, "name": "alice"}
    bot = await connect("/ws/rooms/lobby/", bob)
    hello = await bot.next_frame("hello")
    assert hello["me"] == {"id": bob.pk, "name": "bob", "bot": True}
    assert {"id": bob.pk, "name": "bob", "bot": True} in hello["presence"]["users"]
    presence = await human.next_frame("presence")
    assert sorted(presence["users"], key=lambda u: u["name"]) == [
        {"id": alice.pk, "name": "alice"},
        {"id": bob.pk, "name": "bob", "bot": True},
    ]
    cookie = await database_sync_to_async(session_cookie)(bob)
    sse = await SseStream("/rooms/lobby/events", cookie).open()
    blocks = await sse.blocks_until(lambda b: any(x.get("event") == "hello" for x in b))
    assert json.loads(blocks[0]["data"])["me"] == {"id": bob.pk, "name": "bob", "bot": True}
    await sse.close()
    for comm in (human, bot):
        await comm.disconnect()


async def test_a_connection_posts_as_a_bot_once_marked_without_reconnecting(
    hub: Hub, room: Room, bob: AbstractBaseUser
) -> None:
    comm = await connect("/ws/rooms/lobby/", bob)
    assert "bot" not in (await comm.next_frame("hello"))["me"]
    assert (await comm.send({"type": "message", "text": "human", "nonce": 1}))["type"] == "ack"
    await mark(bob)
    assert (await comm.send({"type": "message", "text": "beep", "nonce": 2}))["type"] == "ack"
    await mark(bob, False)
    assert (await comm.send({"type": "danmaku", "text": "human again", "nonce": 3}))["type"] == "ack"
    events = await comm.receive_events(3)
    assert [(e["text"], e["user"].get("bot")) for e in events] == [
        ("human", None),
        ("beep", True),
        ("human again", None),
    ]
    await comm.disconnect()
