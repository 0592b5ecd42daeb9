"""DPlayer on another site (danmaku/dplayer.py): a listed origin reads the comments and posts
with an API token (DPlayer's `token` field or `Authorization: Bearer`), as the token's account,
never with this site's cookies; an unlisted origin is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.domain.tokens import create_token
from chat.models import Room, RoomEvent
from danmaku.models import RoomVideo

pytestmark = pytest.mark.django_db

PLAYER_SITE = "https://videos.example"


@pytest.fixture
def embedded(recorded: RoomVideo, room: Room) -> Room:
    room.embed_origin = PLAYER_SITE
    room.save()
    return room


def dplayer_post(
    body: dict[str, Any], origin: str = PLAYER_SITE, client: Client | None = None, **headers: str
) -> Any:
    return (client or Client()).post(
        "/dplayer/v3/",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Origin": origin, **headers},
    )


def test_a_listed_origin_reads_the_comments(embedded: Room) -> None:
    answer = Client().get("/dplayer/v3/?id=lobby&max=10", headers={"Origin": PLAYER_SITE})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == PLAYER_SITE
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_the_preflight_of_a_post_is_answered_for_a_rooms_origin(embedded: Room) -> None:
    headers = {
        "Origin": PLAYER_SITE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    answer = Client().options("/dplayer/v3/", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == PLAYER_SITE
    unlisted = Client().options("/dplayer/v3/", headers={**headers, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in unlisted.headers


def test_dplayers_token_field_posts_as_the_tokens_account(embedded: Room, alice: AbstractBaseUser) -> None:
    raw = create_token(alice, "player", "post").raw
    body = {"id": "lobby", "author": "mallory", "time": 2, "text": "from the player", "type": 0, "token": raw}
    answer = dplayer_post(body)
    assert answer.status_code == 200, answer.content
    assert answer.json()["code"] == 0
    assert answer.headers["Access-Control-Allow-Origin"] == PLAYER_SITE
    event = RoomEvent.objects.get()
    assert (event.user_name, event.video_ms) == ("alice", 2000)


def test_a_bearer_header_works_too(embedded: Room, alice: AbstractBaseUser) -> None:
    raw = create_token(alice, "player", "post").raw
    answer = dplayer_post({"id": "lobby", "time": 1, "text": "hi"}, Authorization=f"Bearer {raw}")
    assert answer.json()["code"] == 0


def test_a_listed_origin_never_posts_with_cookies(embedded: Room, alice: AbstractBaseUser) -> None:
    client = Client()
    client.force_login(alice)
    answer = dplayer_post({"id": "lobby", "time": 1, "text": "cookie"}, client=client)
    assert (answer.status_code, answer.json()["error"]) == (401, "token_required")
    assert not RoomEvent.objects.exists()


@pytest.mark.parametrize(
    ("token", "status", "error"),
    [("nope", 401, "invalid_token"), (7, 401, "token_required")],
)
def test_bad_tokens_are_refused_in_dplayers_format(
    embedded: Room, token: object, status: int, error: str
) -> None:
    answer = dplayer_post({"id": "lobby", "time": 1, "text": "x", "token": token})
    assert answer.status_code == status
    assert (answer.json()["code"], answer.json()["error"]) == (1, error)


def test_scopes_and_rooms_hold(embedded: Room, alice: AbstractBaseUser) -> None:
    reader = create_token(alice, "reader", "read").raw
    answer = dplayer_post({"id": "lobby", "time": 1, "text": "x", "token": reader})
    assert answer.json()["error"] == "token_scope"
    other = Room.objects.create(slug="other", title="Other")
    elsewhere = create_token(alice, "elsewhere", "post", rooms=[other]).raw
    answer = dplayer_post({"id": "lobby", "time": 1, "text": "x", "token": elsewhere})
    assert answer.json()["error"] == "token_room"
    assert not RoomEvent.objects.exists()


def test_a_rooms_origin_posts_only_into_that_room(embedded: Room, alice: AbstractBaseUser) -> None:
    Room.objects.create(slug="other", title="Other")
    raw = create_token(alice, "player", "post").raw
    answer = dplayer_post({"id": "other", "time": 1, "text": "x", "token": raw})
    assert (answer.status_code, answer.json()["error"]) == (403, "csrf_failed")


def test_an_unlisted_origin_is_refused_even_with_a_token(embedded: Room, alice: AbstractBaseUser) -> None:
    raw = create_token(alice, "player", "post").raw
    answer = dplayer_post(
        {"id": "lobby", "time": 1, "text": "x", "token": raw}, origin="https://evil.example"
    )
    assert (answer.status_code, answer.json()["error"]) == (403, "csrf_failed")
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert not RoomEvent.objects.exists()
