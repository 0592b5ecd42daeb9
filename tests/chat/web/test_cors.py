"""Other sites read rooms and post with tokens (docs/PROTOCOL.md "Other sites"): the origins of
CORS_ALLOWED_ORIGINS and a room's embed origin get CORS headers on Django's views
(django-cors-headers) and on SSE and long-poll (chat/transports/routing.py), preflights are
answered, credentials never, and an unlisted origin gets nothing."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.domain.tokens import create_token
from chat.guards.origin import normalize_origin
from chat.models import Room
from chat.realtime.hub import Hub
from config.asgi import application
from tests.chat.asgi_clients import SseStream, asgi_get

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

LISTED = "https://video.example"
ROOMS_OWN = "http://player.example:8080"
UNLISTED = "https://evil.example"


@pytest.fixture(autouse=True)
def listed(settings: Any, room: Room) -> None:
    settings.CORS_ALLOWED_ORIGINS = [LISTED]
    room.embed_origin = ROOMS_OWN
    room.save()


def allow_origin(response: Any) -> str | None:
    return response.headers.get("Access-Control-Allow-Origin")


@pytest.mark.parametrize(
    "path", ["/rooms/lobby/history", "/rooms/lobby/state", "/rooms/lobby/danmaku", "/rooms/lobby/danmaku.xml"]
)
def test_listed_origins_read_django_paths(path: str) -> None:
    for origin in (LISTED, ROOMS_OWN):
        answer = Client().get(path, headers={"Origin": origin})
        assert answer.status_code == 200
        assert allow_origin(answer) == origin
        assert "Access-Control-Allow-Credentials" not in answer.headers
    answer = Client().get(path, headers={"Origin": UNLISTED})
    assert answer.status_code == 200  # a read anyone may make; the browser keeps it from the page
    assert allow_origin(answer) is None


def test_a_rooms_origin_reads_only_that_room() -> None:
    Room.objects.create(slug="other", title="Other")
    answer = Client().get("/rooms/other/history", headers={"Origin": ROOMS_OWN})
    assert allow_origin(answer) is None


def test_preflights_are_answered_for_listed_origins_only() -> None:
    headers = {
        "Origin": LISTED,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    answer = Client().options("/rooms/lobby/messages", headers=headers)
    assert answer.status_code == 200
    assert allow_origin(answer) == LISTED
    assert "authorization" in answer.headers["Access-Control-Allow-Headers"]
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in answer.headers
    refused = Client().options("/rooms/lobby/messages", headers={**headers, "Origin": UNLISTED})
    assert allow_origin(refused) is None


def test_pages_get_no_cors_headers() -> None:
    answer = Client().get("/rooms/lobby/", headers={"Origin": LISTED})
    assert allow_origin(answer) is None


def test_a_listed_origin_posts_with_a_token_and_gets_the_answer(alice: AbstractBaseUser) -> None:
    raw = create_token(alice, "player", "post").raw
    answer = Client(enforce_csrf_checks=True).post(
        "/rooms/lobby/messages",
        data='{"text": "from another site"}',
        content_type="application/json",
        headers={"Origin": LISTED, "Authorization": f"Bearer {raw}"},
    )
    assert answer.status_code == 200
    assert allow_origin(answer) == LISTED


def test_a_listed_origin_cannot_post_with_cookies(alice: AbstractBaseUser) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    answer = client.post(
        "/rooms/lobby/messages",
        data='{"text": "x"}',
        content_type="application/json",
        headers={"Origin": LISTED},
    )
    assert (answer.status_code, answer.json()["code"]) == (403, "csrf_failed")


async def preflight(path: str, origin: str) -> tuple[int, dict[bytes, bytes]]:
    app = ApplicationCommunicator(
        application,
        {
            "type": "http",
            "http_version": "1.1",
            "method": "OPTIONS",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "scheme": "http",
            "headers": [
                (b"host", b"testserver"),
                (b"origin", origin.encode()),
                (b"access-control-request-method", b"GET"),
            ],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        },
    )
    await app.send_input({"type": "http.request", "body": b""})
    start = await app.receive_output(5)
    await app.receive_output(5)
    return start["status"], dict(start["headers"])


@pytest.mark.parametrize("path", ["/rooms/lobby/events", "/rooms/lobby/poll"])
async def test_the_streams_answer_preflights_of_listed_origins(hub: Hub, path: str) -> None:
    for origin in (LISTED, ROOMS_OWN):
        status, headers = await preflight(path, origin)
        assert status == 200
        assert headers[b"access-control-allow-origin"] == origin.encode()
        assert b"last-event-id" in headers[b"access-control-allow-headers"]
        assert b"access-control-allow-credentials" not in headers
    status, headers = await preflight(path, UNLISTED)
    assert b"access-control-allow-origin" not in headers


async def test_long_poll_carries_cors_headers_for_listed_origins(hub: Hub) -> None:
    for origin, expected in ((LISTED, LISTED.encode()), (ROOMS_OWN, ROOMS_OWN.encode()), (UNLISTED, None)):
        status, headers, _ = await asgi_get("/rooms/lobby/poll?timeout=1", [(b"origin", origin.encode())])
        assert status == 200
        assert headers.get(b"access-control-allow-origin") == expected
        assert b"access-control-allow-credentials" not in headers


@pytest.mark.parametrize(
    ("value", "normal"),
    [
        ("https://Video.Example", "https://video.example"),
        ("http://a.example:8080/", "http://a.example:8080"),
        ("https://a.example/page", None),
        ("https://user@a.example", None),
        ("ftp://a.example", None),
        ("null", None),
        ("https://a.example:99999", None),
        ("", None),
    ],
)
def test_origins_are_normalised(value: str, normal: str | None) -> None:
    assert normalize_origin(value) == normal


async def test_sse_carries_cors_headers_for_listed_origins(hub: Hub) -> None:
    for origin, expected in ((ROOMS_OWN, ROOMS_OWN.encode()), (UNLISTED, None)):
        stream = await SseStream("/rooms/lobby/events", [(b"origin", origin.encode())]).open()
        assert stream.headers.get(b"access-control-allow-origin") == expected
        assert b"access-control-allow-credentials" not in stream.headers
        await stream.close()
