"""SSE, long-poll and HTTP posting through the full ASGI stack (docs/PROTOCOL.md)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client

from chat.domain.posting import post_message
from chat.models import Room, RoomEvent
from chat.realtime.hub import Hub
from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

post = database_sync_to_async(post_message)


def parse_sse(text: str) -> list[dict[str, str]]:
    """Complete SSE blocks of `text`: {"id", "event", "data"} or {"comment"}."""
    blocks = []
    for raw in text.split("\n\n")[:-1]:
        block: dict[str, str] = {}
        for line in raw.split("\n"):
            if line.startswith(":"):
                block["comment"] = line[1:].strip()
            elif ": " in line:
                field, value = line.split(": ", 1)
                block[field] = value
        if block:
            blocks.append(block)
    return blocks


class SseStream:
    """An SSE request driven at the ASGI level, so disconnects and cleanup are observable."""

    def __init__(self, url: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        parts = urlsplit(url)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "headers": [(b"host", b"testserver"), *(headers or [])],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        self.comm = ApplicationCommunicator(application, scope)
        self.text = ""
        self.status = 0
        self.headers: dict[bytes, bytes] = {}

    async def open(self) -> SseStream:
        await self.comm.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await self._next_output(5)
        self.status = start["status"]
        self.headers = dict(start["headers"])
        return self

    async def _next_output(self, timeout: float) -> dict[str, Any]:
        # Poll: asgiref cancels the application when a receive times out.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.comm.output_queue.empty():
            if loop.time() > deadline:
                raise TimeoutError
            await asyncio.sleep(0.005)
        message: dict[str, Any] = await self.comm.receive_output(1)
        return message

    async def blocks_until(self, predicate: Any, timeout: float = 5) -> list[dict[str, str]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            blocks = parse_sse(self.text)
            if predicate(blocks):
                return blocks
            message = await self._next_output(max(0.01, deadline - loop.time()))
            self.text += message.get("body", b"").decode()

    async def events_until(self, count: int, timeout: float = 5) -> list[dict[str, Any]]:
        blocks = await self.blocks_until(lambda b: len([x for x in b if "id" in x]) >= count, timeout)
        return [
            {**json.loads(b["data"]), "sse_id": int(b["id"]), "sse_event": b["event"]}
            for b in blocks
            if "id" in b
        ]

    async def close(self) -> None:
        await self.comm.send_input({"type": "http.disconnect"})
        await self.comm.wait(timeout=5)


async def asgi_get(
    url: str, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, dict[bytes, bytes], Any]:
    """A whole GET through the ASGI application (SSE and long-poll are routed there)."""
    return await asgi_get_opened(SseStream(url, headers))


async def asgi_post_status(url: str) -> tuple[int, dict[bytes, bytes], Any]:
    stream = SseStream(url)
    stream.comm.scope["method"] = "POST"
    return await asgi_get_opened(stream)


async def asgi_get_opened(stream: SseStream) -> tuple[int, dict[bytes, bytes], Any]:
    await stream.open()
    body = b""
    while True:
        message = await stream._next_output(60)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await stream.comm.wait(timeout=5)
    return stream.status, stream.headers, json.loads(body)


# --- SSE ---------------------------------------------------------------------------------


async def test_sse_sends_hello_backlog_then_live(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    for n in range(3):
        await post(room, alice, f"old {n}")
    stream = await SseStream("/rooms/lobby/events?after=1").open()
    assert stream.status == 200
    assert stream.headers[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert stream.headers[b"cache-control"] == b"no-cache"
    assert stream.headers[b"x-accel-buffering"] == b"no"
    blocks = await stream.blocks_until(lambda b: len(b) >= 2)
    assert stream.text.startswith("retry: 3000\n\n")
    assert blocks[1]["event"] == "hello"
    assert "id" not in blocks[1]
    hello = json.loads(blocks[1]["data"])
    assert hello["type"] == "hello"
    assert hello["last_seq"] == 3
    assert hello["room"] == {"slug": "lobby", "title": "Lobby"}

    backlog = await stream.events_until(2)
    assert [(e["sse_id"], e["sse_event"], e["text"]) for e in backlog] == [
        (2, "message", "old 1"),
        (3, "message", "old 2"),
    ]
    await post(room, alice, "live")
    events = await stream.events_until(3)
    assert events[2]["seq"] == events[2]["sse_id"] == 4
    assert events[2]["text"] == "live"
    assert events[2]["user"] == {"id": alice.pk, "name": "alice"}
    await stream.close()


async def test_sse_last_event_id_wins_over_after(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    for n in range(5):
        await post(room, alice, f"m{n}")
    stream = await SseStream("/rooms/lobby/events?after=0", headers=[(b"last-event-id", b"3")]).open()
    events = await stream.events_until(2)
    assert [e["sse_id"] for e in events] == [4, 5]
    await stream.close()


async def test_sse_without_cursor_is_live_only(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    await post(room, alice, "before")
    stream = await SseStream("/rooms/lobby/events").open()
    await stream.blocks_until(lambda b: any(x.get("event") == "hello" for x in b))
    await post(room, alice, "after")
    (event,) = await stream.events_until(1)
    assert event["text"] == "after"
    await stream.close()


async def test_sse_reset_for_a_cursor_ahead(hub: Hub, room: Room) -> None:
    stream = await SseStream("/rooms/lobby/events?after=99").open()
    blocks = await stream.blocks_until(lambda b: any(x.get("event") == "reset" for x in b))
    reset = next(json.loads(b["data"]) for b in blocks if b.get("event") == "reset")
    assert reset == {"type": "reset", "last_seq": 0, "reason": "cursor_ahead"}
    await stream.close()


async def test_sse_keep_alive(hub: Hub, room: Room, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chat.transports.sse.KEEPALIVE_SECS", 0.1)
    stream = await SseStream("/rooms/lobby/events").open()
    await stream.blocks_until(lambda b: sum(1 for x in b if x.get("comment") == "keep-alive") >= 2, timeout=3)
    await stream.close()


async def test_sse_errors_are_json(hub: Hub, room: Room) -> None:
    for url in ["/rooms/nope/events", "/rooms/No_Such/events"]:
        status, _, body = await asgi_get(url)
        assert (status, body["code"]) == (404, "room_not_found")
    for query in ["after=-1", "after=abc", "after=" + "9" * 30]:
        status, _, body = await asgi_get(f"/rooms/lobby/events?{query}")
        assert (status, body["code"]) == (400, "invalid")
    status, _, body = await asgi_get("/rooms/lobby/events", headers=[(b"last-event-id", b"x1")])
    assert (status, body["code"]) == (400, "invalid")


async def test_two_hundred_closed_streams_leave_nothing_behind(
    hub: Hub, room: Room, alice: AbstractBaseUser
) -> None:
    tasks_before = len(asyncio.all_tasks())
    streams = [SseStream("/rooms/lobby/events") for _ in range(200)]
    await asyncio.gather(*(stream.open() for stream in streams))
    for stream in streams:
        await stream.blocks_until(lambda b: len(b) >= 2)
    assert hub.subscriber_count() == 200
    await post(room, alice, "to everyone")
    for stream in streams[:5]:
        assert (await stream.events_until(1))[0]["text"] == "to everyone"
    await asyncio.gather(*(stream.close() for stream in streams))
    assert hub.subscriber_count() == 0
    # Each stream's application task is gone; only the hub's own tasks (and this test) remain.
    leftover = [t for t in asyncio.all_tasks() if "event_stream" in repr(t.get_coro())]
    assert leftover == []
    assert len(asyncio.all_tasks()) <= tasks_before + 4  # the hub's room feed and its tickers


# --- long-poll ---------------------------------------------------------------------------


async def test_poll_answers_at_once_when_behind(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    for n in range(3):
        await post(room, alice, f"m{n}")
    status, headers, body = await asgi_get("/rooms/lobby/poll?after=1&timeout=30")
    assert status == 200
    assert headers[b"cache-control"] == b"no-store"
    assert [e["seq"] for e in body["events"]] == [2, 3]
    assert body["last_seq"] == 3
    assert body["presence"]["count"] >= 1


async def test_poll_holds_until_an_event_arrives(hub: Hub, room: Room, alice: AbstractBaseUser) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = asyncio.create_task(asgi_get("/rooms/lobby/poll?after=0&timeout=10"))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    await post(room, alice, "arrived")
    _, _, body = await waiting
    assert [e["text"] for e in body["events"]] == ["arrived"]
    assert body["last_seq"] == 1
    assert loop.time() - started < 3


async def test_poll_times_out_empty(hub: Hub, room: Room) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    _, _, body = await asgi_get("/rooms/lobby/poll?after=0&timeout=1")
    assert body["events"] == []
    assert body["last_seq"] == 0
    assert 0.9 <= loop.time() - started < 3


async def test_poll_without_cursor_and_resets(
    hub: Hub, room: Room, alice: AbstractBaseUser, settings: Any
) -> None:
    for n in range(4):
        await post(room, alice, f"m{n}")
    assert (await asgi_get("/rooms/lobby/poll"))[2]["last_seq"] == 4
    settings.CHAT_BACKLOG_MAX = 2
    _, _, behind = await asgi_get("/rooms/lobby/poll?after=0")
    assert behind["events"] == []
    assert behind["reset"] == "backlog_exceeded"
    assert behind["last_seq"] == 4
    _, _, ahead = await asgi_get("/rooms/lobby/poll?after=40")
    assert ahead["reset"] == "cursor_ahead"


async def test_poll_rejects_bad_parameters(hub: Hub, room: Room) -> None:
    for query in [
        "after=x",
        "after=-2",
        "timeout=56",
        "timeout=-1",
        "timeout=1.5",
        "after=1&timeout=" + "9" * 25,
    ]:
        status, _, body = await asgi_get(f"/rooms/lobby/poll?{query}")
        assert (status, body["code"]) == (400, "invalid"), query
    status, _, body = await asgi_get("/rooms/nope/poll?after=0")
    assert (status, body["code"]) == (404, "room_not_found")
    status, _, body = await asgi_post_status("/rooms/lobby/poll")
    assert (status, body["code"]) == (405, "method_not_allowed")


async def test_looping_poller_gets_every_seq_once_while_ten_writers_post(hub: Hub, room: Room) -> None:
    writers = await database_sync_to_async(
        lambda: [get_user_model().objects.create_user(f"w{n}") for n in range(10)]
    )()
    total = 500

    def write(user: AbstractBaseUser) -> None:
        try:
            for n in range(total // len(writers)):
                post_message(room, user, f"{user.get_username()} {n}")
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(user,)) for user in writers]
    for thread in threads:
        thread.start()
    cursor, seen = 0, []
    while len(seen) < total:
        _, _, body = await asgi_get(f"/rooms/lobby/poll?after={cursor}&timeout=5")
        assert "reset" not in body
        seen.extend(e["seq"] for e in body["events"])
        cursor = body["last_seq"]
    for thread in threads:
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert seen == list(range(1, total + 1))
    assert (await asgi_get(f"/rooms/lobby/poll?after={cursor}&timeout=0"))[2]["events"] == []


async def test_a_poll_the_client_abandons_is_released(hub: Hub, room: Room) -> None:
    comm = ApplicationCommunicator(
        application,
        {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/rooms/lobby/poll",
            "raw_path": b"/rooms/lobby/poll",
            "query_string": b"after=0&timeout=30",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        },
    )
    await comm.send_input({"type": "http.request", "body": b"", "more_body": False})
    for _ in range(100):
        if hub.subscriber_count() == 1:
            break
        await asyncio.sleep(0.01)
    assert hub.subscriber_count() == 1
    await comm.send_input({"type": "http.disconnect"})
    await comm.wait(timeout=5)
    assert hub.subscriber_count() == 0


# --- posting over HTTP -------------------------------------------------------------------


def csrf_client(user: AbstractBaseUser | None) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.get("/rooms/lobby/")  # the room page sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


def post_json(client: Client, token: str | None, body: Any, **extra: Any) -> Any:
    headers = {"X-CSRFToken": token} if token else {}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(
        "/rooms/lobby/messages", data=data, content_type="application/json", headers=headers, **extra
    )


def test_post_answers_like_the_websocket(room: Room, alice: AbstractBaseUser) -> None:
    client, token = csrf_client(alice)
    answer = post_json(client, token, {"text": "  over http  ", "nonce": "h1"})
    assert answer.status_code == 200
    event = RoomEvent.objects.get()
    assert answer.json() == {"type": "ack", "nonce": "h1", "seq": 1, "id": event.pk}
    assert event.text == "over http"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("not json", 400, "invalid"),
        ("[1]", 400, "invalid"),
        ("[" * 30_000 + "]" * 30_000, 400, "invalid"),
        ({"nonce": 1}, 400, "invalid"),
        ({"text": 7}, 400, "invalid"),
        ({"text": " \u0000 "}, 400, "empty"),
        ({"text": "x" * 501, "nonce": 9}, 413, "too_long"),
        ({"text": "x" * 70_000}, 413, "too_long"),
        ({"text": "hi", "nonce": ["no"]}, 400, "invalid"),
    ],
)
def test_post_refusals_have_stable_codes(
    room: Room, alice: AbstractBaseUser, body: Any, status: int, code: str
) -> None:
    client, token = csrf_client(alice)
    answer = post_json(client, token, body)
    assert answer.status_code == status
    assert answer.json()["type"] == "error"
    assert answer.json()["code"] == code
    assert not RoomEvent.objects.exists()


def test_post_needs_json_login_csrf_and_a_room(room: Room, alice: AbstractBaseUser) -> None:
    guest, guest_token = csrf_client(None)
    answer = post_json(guest, guest_token, {"text": "hi"})
    assert (answer.status_code, answer.json()["code"]) == (401, "login_required")
    client, token = csrf_client(alice)
    no_csrf = post_json(client, None, {"text": "hi"})
    assert (no_csrf.status_code, no_csrf.json()["code"]) == (403, "csrf_failed")
    form = client.post("/rooms/lobby/messages", {"text": "hi"}, headers={"X-CSRFToken": token})
    assert (form.status_code, form.json()["code"]) == (400, "invalid")
    missing = client.post(
        "/rooms/nope/messages", "{}", content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "room_not_found")
    assert client.get("/rooms/lobby/messages").status_code == 405
    assert not RoomEvent.objects.exists()


def test_rate_limit_is_shared_by_http_and_answers_429(
    room: Room, alice: AbstractBaseUser, settings: Any
) -> None:
    settings.CHAT_MESSAGE_RATE = "3/60"
    client, token = csrf_client(alice)
    post_message(room, alice, "one")  # through the domain, as the WebSocket does
    for n in range(2):
        assert post_json(client, token, {"text": f"ok {n}"}).status_code == 200
    refused = post_json(client, token, {"text": "too many", "nonce": "r"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["nonce"] == "r"
    assert body["retry_after"] == int(refused["Retry-After"])
    assert RoomEvent.objects.count() == 3
