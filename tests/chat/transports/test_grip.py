"""GRIP mode at the ASGI level (chat/transports/grip.py, chat/realtime/grip.py): what a request
signed by Pushpin is answered, what a request without (or with a forged) signature is answered,
the recovery link, and the items published for an event. tests/e2e/test_pushpin.py runs the
same against the real Pushpin."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import unquote

import jwt
import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.test import override_settings

from chat.domain.posting import post_message
from chat.models import Room, RoomRole
from chat.realtime.batch import RateSampler
from chat.realtime.grip import event_items, rate_channel, register_rate, registered_rates
from chat.realtime.hub import Hub
from chat.transports.grip import LINK_PARAM, LINK_SALT, trust_forwarded_address
from tests.chat.asgi_clients import SseStream, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

KEY = "grip-unit-test-key-of-32-bytes-or-more"
OTHER_KEY = "another-key-of-32-bytes-or-more-too"
# Nothing listens there: the publish thread's posts fail and are logged, which these tests ignore.
GRIP = override_settings(GRIP_URL="http://127.0.0.1:9", GRIP_KEY=KEY)

post = database_sync_to_async(post_message)


def grip_sig(key: str = KEY, expires_in: int = 3600) -> tuple[bytes, bytes]:
    token = jwt.encode({"iss": "pushpin", "exp": int(time.time()) + expires_in}, key, algorithm="HS256")
    return (b"grip-sig", token.encode())


async def whole(url: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[bytes, bytes], str]:
    """A request answered at once (as a GRIP answer is): status, headers, body."""
    stream = await SseStream(url, headers).open()
    body = b""
    while True:
        message = await stream._next_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await stream.comm.wait(timeout=5)
    return stream.status, stream.headers, body.decode()


def blocks(text: str) -> list[dict[str, str]]:
    parsed = []
    for block in text.strip().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            fields[name] = value
        parsed.append(fields)
    return parsed


@GRIP
async def test_an_sse_request_signed_by_pushpin_gets_the_backlog_and_a_hold(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    for n in range(3):
        await post(room, alice, f"m{n}")
    status, headers, body = await whole("/rooms/lobby/events?after=1", [grip_sig()])
    assert status == 200
    assert headers[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert headers[b"grip-hold"] == b"stream"
    assert headers[b"grip-channel"] == f"room-{room.pk}; prev-id=3".encode()
    assert headers[b"grip-keep-alive"] == b": keep-alive\\n\\n; format=cstring; timeout=15"
    assert headers[b"grip-link"].startswith(f"</rooms/lobby/events?{LINK_PARAM}=".encode())
    assert headers[b"grip-link"].endswith(b">; rel=next")
    parsed = blocks(body)
    assert parsed[0]["retry"] == "3000"
    assert parsed[0]["event"] == "hello"
    assert [(b["id"], b["event"]) for b in parsed[1:]] == [("2", "message"), ("3", "message")]


@GRIP
async def test_without_a_valid_grip_sig_the_stream_is_served_directly(hub: Hub, room: Room) -> None:
    for headers in (
        [],
        [grip_sig(OTHER_KEY)],
        [grip_sig(expires_in=-10)],
        [(b"grip-sig", b"junk")],
    ):
        stream = await SseStream("/rooms/lobby/events", headers).open()
        assert stream.status == 200
        assert b"grip-hold" not in stream.headers  # a live stream of daphne's own
        await stream.comm.send_input({"type": "http.disconnect"})
        await stream.comm.wait(timeout=5)


@GRIP
async def test_a_long_poll_with_nothing_new_is_held_by_pushpin(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    await post(room, alice, "one")
    status, headers, body = await whole("/rooms/lobby/poll?after=1&timeout=20", [grip_sig()])
    assert status == 200
    assert headers[b"grip-hold"] == b"response"
    assert headers[b"grip-timeout"] == b"20"
    assert headers[b"grip-channel"] == f"room-{room.pk}; prev-id=1".encode()
    answer = json.loads(body)  # what Pushpin answers when the hold times out
    assert answer["events"] == []
    assert answer["last_seq"] == 1
    assert "presence" in answer
    # Something newer than the cursor: answered at once, as without Pushpin.
    status, headers, body = await whole("/rooms/lobby/poll?after=0", [grip_sig()])
    assert b"grip-hold" not in headers
    assert [e["text"] for e in json.loads(body)["events"]] == ["one"]


def link_for(room: Room, user: AbstractBaseUser | None, **extra: Any) -> str:
    reader = {"r": room.pk, "k": "sse", "u": user.pk if user else None, "o": None, "t": None, **extra}
    return signing.dumps(reader, salt=LINK_SALT, compress=True)


@GRIP
async def test_the_link_answers_what_pushpin_missed_and_holds_again(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    for n in range(4):
        await post(room, alice, f"m{n}")
    url = f"/rooms/lobby/events?{LINK_PARAM}={link_for(room, None)}"
    status, headers, body = await whole(
        url, [grip_sig(), (b"grip-last", f"room-{room.pk}; last-id=2".encode())]
    )
    assert status == 200
    assert headers[b"grip-hold"] == b"stream"
    assert headers[b"grip-channel"] == f"room-{room.pk}; prev-id=4".encode()
    assert [b["id"] for b in blocks(body)] == ["3", "4"]  # no hello: the stream goes on


@GRIP
async def test_the_link_refuses_a_reader_who_lost_access_and_ends_the_stream(
    hub: Hub, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    await database_sync_to_async(RoomRole.objects.create)(room=room, user=bob, role=RoomRole.Role.MEMBER)
    await post(room, alice, "secret")
    room.private = True
    await database_sync_to_async(room.save)()
    last = (b"grip-last", f"room-{room.pk}; last-id=0".encode())
    url = f"/rooms/lobby/events?{LINK_PARAM}={link_for(room, bob)}"
    _, headers, body = await whole(url, [grip_sig(), last])
    assert headers[b"grip-hold"] == b"stream"  # a member: held on
    await database_sync_to_async(RoomRole.objects.filter(user=bob).delete)()
    _, headers, body = await whole(url, [grip_sig(), last])
    assert b"grip-hold" not in headers  # Pushpin ends the stream after this
    assert blocks(body)[0]["event"] == "refused"
    assert json.loads(blocks(body)[0]["data"])["code"] == "private_room"
    assert "secret" not in body


@GRIP
async def test_a_forged_or_unsigned_link_is_refused(hub: Hub, room: Room) -> None:
    last = (b"grip-last", f"room-{room.pk}; last-id=0".encode())
    forged = signing.dumps({"r": room.pk, "k": "sse"}, salt="another salt")
    status, _, body = await whole(f"/rooms/lobby/events?{LINK_PARAM}={forged}", [grip_sig(), last])
    assert (status, json.loads(body)["code"]) == (400, "invalid")
    # The same link without Pushpin's signature is no link: a direct stream of a guest.
    stream = await SseStream(f"/rooms/lobby/events?{LINK_PARAM}={link_for(room, None)}", [last]).open()
    assert b"grip-hold" not in stream.headers
    await stream.comm.send_input({"type": "http.disconnect"})
    await stream.comm.wait(timeout=5)


@GRIP
async def test_a_private_room_is_refused_through_pushpin_too(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    room.private = True
    await database_sync_to_async(room.save)()
    cookie = await database_sync_to_async(session_cookie)(alice)
    status, headers, body = await whole("/rooms/lobby/events", [grip_sig(), *cookie])
    assert (status, json.loads(body)["code"]) == (403, "private_room")
    assert b"grip-hold" not in headers


@GRIP
def test_the_forwarded_address_is_trusted_only_on_a_verified_signature() -> None:
    forwarded = (b"x-forwarded-for", b"203.0.113.9, 127.0.0.1")
    signed: dict[str, Any] = {"headers": [grip_sig(), forwarded], "client": ("127.0.0.1", 1)}
    trust_forwarded_address(signed)
    assert signed["client"] == ("203.0.113.9", 0)
    forged: dict[str, Any] = {
        "headers": [grip_sig(OTHER_KEY), forwarded],
        "client": ("127.0.0.1", 1),
    }
    trust_forwarded_address(forged)
    assert forged["client"] == ("127.0.0.1", 1)


@GRIP
def test_each_event_is_published_with_its_seq_and_previous_seq(room: Room) -> None:
    event = {
        "seq": 7,
        "kind": "message",
        "id": 70,
        "user": None,
        "text": "hi",
        "ts": "2026-01-01T00:00:00.000Z",
    }
    [item] = event_items(room.pk, event)
    assert item["channel"] == f"room-{room.pk}"
    assert (item["id"], item["prev-id"]) == ("7", "6")
    assert item["formats"]["http-stream"]["content"].startswith("id: 7\nevent: message\ndata: ")
    assert json.loads(item["formats"]["http-response"]["body"]) == {"events": [event], "last_seq": 7}
    # A private room's access changed: every stream's hold ends (each asks its link).
    change = {"seq": 8, "kind": "settings", "id": 80, "settings": {"private": True}}
    items = event_items(room.pk, change)
    assert items[-1] == {"channel": f"room-{room.pk}", "formats": {"http-stream": {"action": "close"}}}


@GRIP
def test_sampled_channels_keep_the_id_chain_and_skip_comments(room: Room) -> None:
    assert register_rate(room.pk, 1)
    assert set(registered_rates(room.pk)) == {1}
    sent = []
    for seq in range(1, 11):
        danmaku = {"seq": seq, "kind": "danmaku", "id": seq, "text": f"c{seq}", "mode": "scroll"}
        [_, rated] = event_items(room.pk, danmaku)
        assert rated["channel"] == rate_channel(room.pk, 1)
        assert (rated["id"], rated["prev-id"]) == (str(seq), str(seq - 1))
        sent.append(rated["formats"]["http-stream"]["content"])
    assert sent[0]  # the bucket's first token
    assert sum(1 for content in sent if content) <= RateSampler(1).capacity + 1
    message = {"seq": 11, "kind": "message", "id": 11, "text": "always"}
    [_, rated] = event_items(room.pk, message)
    assert "always" in rated["formats"]["http-stream"]["content"]


@GRIP
async def test_the_link_keeps_an_overlays_key_hashed_and_a_rotated_key_is_refused(
    hub: Hub, room: Room
) -> None:
    room.private = True
    room.overlay_key = "overlay-key-" + "x" * 30
    await database_sync_to_async(room.save)()
    _, headers, _ = await whole(f"/rooms/lobby/events?key={room.overlay_key}", [grip_sig()])
    assert headers[b"grip-hold"] == b"stream"
    link = headers[b"grip-link"].decode()
    path = link[1 : link.index(">")]
    reader = signing.loads(unquote(path.split(f"{LINK_PARAM}=", 1)[1]), salt=LINK_SALT)
    assert reader["o"] == hashlib.sha256(room.overlay_key.encode()).hexdigest()  # never the key
    last = (b"grip-last", f"room-{room.pk}; last-id=0".encode())
    _, headers, _ = await whole(path, [grip_sig(), last])
    assert headers[b"grip-hold"] == b"stream"
    room.overlay_key = "rotated-" + "y" * 30
    await database_sync_to_async(room.save)()
    _, headers, body = await whole(path, [grip_sig(), last])
    assert b"grip-hold" not in headers
    assert blocks(body)[0]["event"] == "refused"
