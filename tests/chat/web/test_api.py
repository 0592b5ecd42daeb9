"""The HTTP API: posting (`POST /rooms/<slug>/messages`, the same ack and errors as the
WebSocket) and history (chat/web/api.py, docs/PROTOCOL.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.domain.posting import post_message
from chat.models import Room, RoomEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


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


# --- history -----------------------------------------------------------------------------


def test_history_validates_parameters(client: Client, room: Room, alice: AbstractBaseUser) -> None:
    for n in range(3):
        post_message(room, alice, f"m{n}")
    ok = client.get("/rooms/lobby/history?limit=2").json()
    assert [e["text"] for e in ok["events"]] == ["m1", "m2"]
    assert ok["last_seq"] == 3
    assert ok["has_more"] is True
    for query in ["limit=0", "limit=201", "limit=abc", "before=-1", "before=1e9", "limit=" + "9" * 40]:
        answer = client.get(f"/rooms/lobby/history?{query}")
        assert answer.status_code == 400, query
        assert answer.json()["code"] == "invalid"
    missing = client.get("/rooms/nope/history")
    assert missing.status_code == 404
    assert missing.json() == {
        "type": "error",
        "nonce": None,
        "code": "room_not_found",
        "message": "There is no room 'nope'.",
    }
