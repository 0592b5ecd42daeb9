"""API tokens on the ASGI paths (chat/transports/routing.py): the WebSocket handshake, SSE and
long-poll accept `Authorization: Bearer`, within the token's scopes and rooms."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone

from chat.domain import tokens
from chat.domain.posting import post_message
from chat.domain.tokens import TICKET_SECONDS, create_token, revoke_token
from chat.models import Room, RoomEvent
from chat.realtime.hub import Hub
from chat.transports import token_watch
from config.asgi import application
from tests.chat.asgi_clients import HOST, ORIGIN, SseStream, asgi_get, connect, parse_sse, until
from tests.chat.transports.test_access_changes import sse_ended

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


# --- tickets and other sites' pages ------------------------------------------------------

PLAYER_SITE = b"https://videos.example"


def get_ticket(raw: str, slug: str = "lobby", scopes: list[str] | None = None) -> Any:
    body = json.dumps({"scopes": scopes}) if scopes is not None else ""
    return Client().post(
        f"/rooms/{slug}/tickets",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )


def private(room: Room, owner: AbstractBaseUser) -> None:
    room.private = True
    room.owner = owner
    room.embed_origin = PLAYER_SITE.decode()
    room.save()


def test_tickets_are_made_with_a_token_within_its_scopes(room: Room, alice: AbstractBaseUser) -> None:
    client = Client()
    client.force_login(alice)
    answer = client.post("/rooms/lobby/tickets")
    assert (answer.status_code, answer.json()["code"]) == (401, "token_required")
    reader = create_token(alice, "reader", "read").raw
    answer = get_ticket(reader)
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == TICKET_SECONDS
    assert get_ticket(reader, scopes=["read", "post"]).json()["code"] == "token_scope"
    assert get_ticket(reader, scopes=["moderate"]).json()["code"] == "invalid"
    poster = create_token(alice, "poster", "post").raw
    assert get_ticket(poster).json()["code"] == "token_scope"
    assert get_ticket(reader, slug="nowhere").status_code == 404


async def test_a_ticket_opens_a_private_rooms_streams_and_history(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    await database_sync_to_async(private)(room, alice)
    await post(room, alice, "secret")
    raw = (await make_token(alice, "reader", "read")).raw
    ticket = (await database_sync_to_async(get_ticket)(raw)).json()["ticket"]
    status, _, body = await asgi_get(f"/rooms/lobby/poll?after=0&timeout=1&ticket={ticket}")
    assert status == 200
    assert [e["text"] for e in body["events"]] == ["secret"]
    stream = await SseStream(
        f"/rooms/lobby/events?after=0&ticket={ticket}", [(b"origin", PLAYER_SITE)]
    ).open()
    assert stream.headers[b"access-control-allow-origin"] == PLAYER_SITE
    assert [e["text"] for e in await stream.events_until(1)] == ["secret"]
    await stream.close()
    history = await database_sync_to_async(Client().get)(f"/rooms/lobby/history?ticket={ticket}")
    assert [e["text"] for e in history.json()["events"]] == ["secret"]


async def test_bad_expired_and_revoked_tickets_are_refused(
    hub: Hub, room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await database_sync_to_async(private)(room, alice)
    made = await make_token(alice, "reader", "read")
    ticket = (await database_sync_to_async(get_ticket)(made.raw)).json()["ticket"]
    status, _, body = await asgi_get(f"/rooms/lobby/poll?timeout=1&ticket={ticket}x")
    assert (status, body["code"]) == (401, "invalid_ticket")
    other = await database_sync_to_async(Room.objects.create)(slug="other", title="Other")
    status, _, body = await asgi_get(f"/rooms/other/poll?timeout=1&ticket={ticket}")
    assert (status, body["code"]) == (403, "token_room")
    assert other.pk
    await database_sync_to_async(revoke_token)(alice, made.token.pk)
    status, _, body = await asgi_get(f"/rooms/lobby/poll?timeout=1&ticket={ticket}")
    assert (status, body["code"]) == (401, "token_revoked")
    monkeypatch.setattr(tokens, "TICKET_SECONDS", -1)
    fresh = await make_token(alice, "again", "read")
    ticket = (await database_sync_to_async(get_ticket)(fresh.raw)).json()["ticket"]
    status, _, body = await asgi_get(f"/rooms/lobby/poll?timeout=1&ticket={ticket}")
    assert (status, body["code"]) == (401, "invalid_ticket")


async def test_a_listed_sites_websocket_posts_with_a_ticket_never_with_cookies(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    room.embed_origin = PLAYER_SITE.decode()
    await database_sync_to_async(room.save)()
    raw = (await make_token(alice, "player", "read,post")).raw
    ticket = (await database_sync_to_async(get_ticket)(raw, "lobby", ["read", "post"])).json()["ticket"]
    comm = await connect(f"/ws/rooms/lobby/?ticket={ticket}", origin=PLAYER_SITE)
    assert (await comm.next_frame("hello"))["me"]["name"] == "alice"
    assert (await comm.send({"type": "message", "text": "from the player", "nonce": 1}))["type"] == "ack"
    await comm.disconnect()
    # alice's session cookie from the listed site's page: a guest there
    comm = await connect("/ws/rooms/lobby/", alice, origin=PLAYER_SITE)
    assert (await comm.next_frame("hello"))["me"] is None
    assert (await comm.send({"type": "message", "text": "cookie", "nonce": 2}))["code"] == "login_required"
    await comm.disconnect()


async def test_an_unlisted_sites_websocket_is_refused_even_with_a_ticket(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    raw = (await make_token(alice, "player", "read")).raw
    ticket = (await database_sync_to_async(get_ticket)(raw)).json()["ticket"]
    comm = WebsocketCommunicator(
        application, f"/ws/rooms/lobby/?ticket={ticket}", headers=[HOST, (b"origin", b"https://evil.example")]
    )
    connected, _ = await comm.connect(timeout=5)
    assert not connected


async def test_a_revoked_tokens_websocket_stops_posting(
    hub: Hub, room: Room, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await make_token(alice, "bot", "read,post")
    comm = await connect("/ws/rooms/lobby/", headers=bearer(made.raw))
    await comm.next_frame("hello")
    assert (await comm.send({"type": "message", "text": "one", "nonce": 1}))["type"] == "ack"
    await database_sync_to_async(revoke_token)(alice, made.token.pk)
    # Within RECHECK_SECONDS the connection has not looked again; past it, it has.
    monkeypatch.setattr(tokens, "RECHECK_SECONDS", 0.0)
    error = await comm.send({"type": "message", "text": "two", "nonce": 2})
    assert (error["type"], error["code"]) == ("error", "token_revoked")
    assert [e.text for e in await database_sync_to_async(list)(RoomEvent.objects.all())] == ["one"]
    await comm.disconnect()


# --- revocation and expiry end what a token opened ----------------------------------------


async def sse_refusal(stream: SseStream, timeout: float = 5) -> str:
    """The code of the stream's `refused` event, once its response has ended."""
    assert await sse_ended(stream, timeout), stream.text
    refused = [b for b in parse_sse(stream.text) if b.get("event") == "refused"]
    assert len(refused) == 1, stream.text
    return str(json.loads(refused[0]["data"])["code"])


# With the watch checking every 0.1 s (`quick_watch`): room for a loaded machine.
ENDED_WITHIN = 5.0


@pytest.fixture
def quick_watch(settings: Any) -> None:
    settings.CHAT_TOKEN_CHECK_SECS = 0.1


async def test_revoking_a_token_ends_its_websocket_sse_long_poll_and_ticket_streams(
    hub: Hub, room: Room, alice: AbstractBaseUser, quick_watch: None
) -> None:
    made = await make_token(alice, "bot", "read,post")
    other = await make_token(alice, "other", "read")
    ws = await connect("/ws/rooms/lobby/", headers=bearer(made.raw))
    await ws.next_frame("hello")
    untouched = await connect("/ws/rooms/lobby/", headers=bearer(other.raw))
    await untouched.next_frame("hello")
    sse = await SseStream("/rooms/lobby/events", bearer(made.raw)).open()
    ticket = (await database_sync_to_async(get_ticket)(made.raw)).json()["ticket"]
    ticketed = await SseStream(f"/rooms/lobby/events?ticket={ticket}").open()
    assert (sse.status, ticketed.status) == (200, 200)
    poll = asyncio.ensure_future(asgi_get("/rooms/lobby/poll?after=0&timeout=30", bearer(made.raw)))
    await asyncio.sleep(0.3)  # everything is open and the poll waits

    assert await database_sync_to_async(revoke_token)(alice, made.token.pk)
    error = await ws.next_frame("error", timeout=ENDED_WITHIN)
    assert error["code"] == "token_revoked"
    assert await ws.comm.receive_output(timeout=ENDED_WITHIN) == {"type": "websocket.close", "code": 4401}
    assert await sse_refusal(sse, ENDED_WITHIN) == "token_revoked"
    assert await sse_refusal(ticketed, ENDED_WITHIN) == "token_revoked"
    status, _, body = await asyncio.wait_for(poll, ENDED_WITHIN)
    assert (status, body["code"]) == (401, "token_revoked")
    # Another token's connection reads on.
    await post(room, alice, "still here")
    assert [e["text"] for e in await untouched.receive_events(1)] == ["still here"]
    await untouched.disconnect()
    assert not token_watch.token_watch().watchers.get(made.token.pk)


async def test_an_expiring_token_ends_its_streams_and_a_disabled_account_its_websocket(
    hub: Hub, room: Room, alice: AbstractBaseUser, quick_watch: None
) -> None:
    soon = timezone.now() + timedelta(seconds=1)
    made = await make_token(alice, "brief", "read", expires_at=soon)
    sse = await SseStream("/rooms/lobby/events", bearer(made.raw)).open()
    assert sse.status == 200
    assert await sse_refusal(sse, 1 + ENDED_WITHIN) == "token_expired"

    lasting = await make_token(alice, "lasting", "read")
    ws = await connect("/ws/rooms/lobby/", headers=bearer(lasting.raw))
    await ws.next_frame("hello")
    alice.is_active = False
    await database_sync_to_async(alice.save)()
    assert (await ws.next_frame("error", timeout=ENDED_WITHIN))["code"] == "invalid_token"
    assert await ws.comm.receive_output(timeout=ENDED_WITHIN) == {"type": "websocket.close", "code": 4401}


async def test_the_watch_asks_once_per_check_whatever_the_number_of_connections(
    hub: Hub, room: Room, alice: AbstractBaseUser, quick_watch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[int]] = []
    real = token_watch.ended_tokens

    def counting(token_ids: list[int]) -> Any:
        calls.append(list(token_ids))
        return real(token_ids)

    monkeypatch.setattr(token_watch, "ended_tokens", counting)
    monkeypatch.setattr(token_watch, "TOKEN_CHECK_BATCH", 2)
    made = [await make_token(alice, f"t{n}", "read") for n in range(3)]
    streams = [await SseStream("/rooms/lobby/events", bearer(m.raw)).open() for m in made for _ in range(2)]
    calls.clear()
    await until(lambda: len(calls) >= 3)
    # A check is two queries (a batch of 2, then 1) for six connections of three tokens (the
    # first call seen may be the second half of a check that was running).
    assert all(len(ids) <= 2 for ids in calls)
    every = sorted(m.token.pk for m in made)
    assert any(sorted(calls[i] + calls[i + 1]) == every for i in (0, 1)), calls
    watch = token_watch.token_watch()
    for stream in streams:
        await stream.close()
    assert watch.watchers == {}
    await until(lambda: watch.task is None or watch.task.done())  # nothing held: the watch stops


def revoke_on_the_account_page(owner: AbstractBaseUser, token_id: int) -> None:
    client = Client()
    client.force_login(owner)
    assert client.post(f"/accounts/tokens/{token_id}/revoke").status_code == 302


def revoke_in_the_admin(owner: AbstractBaseUser, token_id: int) -> None:
    staff = get_user_model().objects.create_user("staff", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    client.post("/admin/chat/apitoken/", {"action": "revoke", "_selected_action": [token_id]})


@pytest.mark.parametrize("revoke", [revoke_on_the_account_page, revoke_in_the_admin])
async def test_a_revocation_on_the_account_page_or_in_the_admin_ends_connections_at_once(
    hub: Hub, room: Room, alice: AbstractBaseUser, settings: Any, revoke: Any
) -> None:
    settings.CHAT_TOKEN_CHECK_SECS = 60  # only the notice can end them in time
    made = await make_token(alice, "bot", "read,post")
    ws = await connect("/ws/rooms/lobby/", headers=bearer(made.raw))
    await ws.next_frame("hello")
    sse = await SseStream("/rooms/lobby/events", bearer(made.raw)).open()
    await sse.blocks_until(lambda b: any(x.get("event") == "hello" for x in b))
    await asyncio.sleep(0.1)  # the watch is waiting
    await database_sync_to_async(revoke)(alice, made.token.pk)
    assert (await ws.next_frame("error", timeout=ENDED_WITHIN))["code"] == "token_revoked"
    assert await ws.comm.receive_output(timeout=ENDED_WITHIN) == {"type": "websocket.close", "code": 4401}
    assert await sse_refusal(sse, ENDED_WITHIN) == "token_revoked"
