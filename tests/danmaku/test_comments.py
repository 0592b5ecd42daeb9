"""Danmaku validation and posting on every write path: the domain function, WebSocket, HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.errors import ChatError
from chat.models import Room, RoomEvent
from chat.realtime.hub import Hub
from danmaku.comments import clean_comment, post_danmaku
from danmaku.models import RoomVideo
from danmaku.timeline import comments_in_window
from tests.chat.asgi_clients import connect

VALID = {"text": "hello", "mode": "top", "color": "#FFAA00", "size": "large", "video_ms": 1500}

# (field overrides, expected code) refused on every write path.
REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"text": ""}, "empty"),
    ({"text": " \t\n\x00 "}, "empty"),
    ({"text": "x" * 101}, "too_long"),
    ({"text": 5}, "invalid"),
    ({"mode": "diagonal"}, "invalid_mode"),
    ({"mode": 1}, "invalid_mode"),
    ({"color": "red"}, "invalid_color"),
    ({"color": "#12345"}, "invalid_color"),
    ({"color": "#1234567"}, "invalid_color"),
    ({"color": 0xFFFFFF}, "invalid_color"),
    ({"size": "huge"}, "invalid_size"),
    ({"video_ms": -1}, "invalid_video_ms"),
    ({"video_ms": 600_001}, "invalid_video_ms"),
    ({"video_ms": "12"}, "invalid_video_ms"),
    ({"video_ms": True}, "invalid_video_ms"),
    ({"video_ms": None}, "invalid_video_ms"),
    ({"video_ms": 1e308 * 10}, "invalid_video_ms"),
]


@pytest.mark.django_db
def test_valid_comment_is_normalised(recorded: RoomVideo) -> None:
    comment = clean_comment({**VALID, "text": "  hi\x00 there  "}, recorded)
    assert comment.text == "hi there"
    assert comment.color == "#ffaa00"
    assert (comment.mode, comment.size, comment.video_ms) == ("top", "large", 1500)
    defaults = clean_comment({"text": "x", "video_ms": 0}, recorded)
    assert (defaults.mode, defaults.color, defaults.size) == ("scroll", "#ffffff", "medium")
    assert clean_comment({"text": "x", "video_ms": 600_000}, recorded).video_ms == 600_000
    assert clean_comment({"text": "x", "video_ms": 12.6}, recorded).video_ms == 13


@pytest.mark.django_db
@pytest.mark.parametrize(("override", "code"), REFUSED)
def test_invalid_fields_are_refused_by_the_domain_function(
    recorded: RoomVideo, alice: AbstractBaseUser, override: dict[str, Any], code: str
) -> None:
    with pytest.raises(ChatError) as refused:
        post_danmaku(recorded.room, alice, {**VALID, **override})
    assert refused.value.code == code
    assert not RoomEvent.objects.exists()


@pytest.mark.django_db
def test_live_room_takes_no_video_time(room: Room, alice: AbstractBaseUser) -> None:
    event = post_danmaku(room, alice, {"text": "live!", "video_ms": None}).event
    assert event.video_ms is None
    with pytest.raises(ChatError) as refused:
        post_danmaku(room, alice, {"text": "live!", "video_ms": 5})
    assert refused.value.code == "invalid_video_ms"
    RoomVideo.objects.create(room=room, url="https://live.example/stream.m3u8", live=True)
    assert post_danmaku(room, alice, {"text": "still live"}).event.video_ms is None


@pytest.mark.django_db
def test_guests_and_rate_limits_apply(recorded: RoomVideo, alice: AbstractBaseUser, settings: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ChatError) as refused:
        post_danmaku(recorded.room, AnonymousUser(), VALID)
    assert refused.value.code == "login_required"
    settings.CHAT_MESSAGE_RATE = "2/60"
    post_danmaku(recorded.room, alice, VALID)
    post_danmaku(recorded.room, alice, VALID)
    with pytest.raises(ChatError) as limited:
        post_danmaku(recorded.room, alice, VALID)
    assert limited.value.code == "rate_limited"
    assert limited.value.status == 429


@pytest.mark.django_db
@pytest.mark.parametrize(("override", "code"), REFUSED[:12])
def test_http_write_path_refuses_with_the_same_codes(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser, override: dict[str, Any], code: str
) -> None:
    client.force_login(alice)
    answer = client.post(
        "/rooms/lobby/messages",
        data=json.dumps({"type": "danmaku", **VALID, **override, "nonce": "n1"}),
        content_type="application/json",
    )
    assert answer.status_code in {400, 413}
    assert answer.json()["code"] == code
    assert answer.json()["nonce"] == "n1"
    assert not RoomEvent.objects.exists()


@pytest.mark.django_db
def test_http_write_path_posts_a_comment(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser
) -> None:
    client.force_login(alice)
    answer = client.post(
        "/rooms/lobby/messages",
        data=json.dumps({"type": "danmaku", **VALID, "nonce": 7}),
        content_type="application/json",
    )
    assert answer.status_code == 200
    ack = answer.json()
    assert ack["type"] == "ack"
    assert ack["nonce"] == 7
    event = RoomEvent.objects.get(pk=ack["id"])
    assert (event.kind, event.text, event.video_ms) == ("danmaku", "hello", 1500)
    assert event.data == {"mode": "top", "color": "#ffaa00", "size": "large"}
    history = client.get("/rooms/lobby/history").json()["events"]
    assert history[-1]["kind"] == "danmaku"
    assert history[-1]["video_ms"] == 1500
    assert history[-1]["mode"] == "top"


@pytest.mark.django_db(transaction=True)
async def test_websocket_write_path_acks_broadcasts_and_refuses(
    hub: Hub, recorded: RoomVideo, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    writer = await connect("/ws/rooms/lobby/?after=0", alice)
    viewer = await connect("/ws/rooms/lobby/?after=0", bob)
    await writer.next_frame("hello")
    await viewer.next_frame("hello")
    ack = await writer.send({"type": "danmaku", **VALID, "nonce": "a"})
    assert ack["type"] == "ack"
    assert ack["nonce"] == "a"
    [event] = await viewer.receive_events(1)
    assert event == {
        "seq": ack["seq"],
        "kind": "danmaku",
        "id": ack["id"],
        "user": {"id": alice.pk, "name": "alice"},
        "text": "hello",
        "ts": event["ts"],
        "mode": "top",
        "color": "#ffaa00",
        "size": "large",
        "video_ms": 1500,
    }
    for override, code in REFUSED:
        answer = await writer.send({"type": "danmaku", **VALID, **override, "nonce": code})
        assert answer["type"] == "error", override
        assert answer["code"] == code, override
        assert answer["nonce"] == code
    assert await database_sync_to_async(RoomEvent.objects.count)() == 1
    await writer.disconnect()
    await viewer.disconnect()


@pytest.mark.django_db
def test_comments_obey_moderation_like_messages(
    recorded: RoomVideo, alice: AbstractBaseUser, bob: AbstractBaseUser, settings: Any
) -> None:
    """Blocked words, review (an approved comment keeps its style and video time), slow mode,
    timeouts and clear apply to danmaku exactly as to chat messages."""
    from chat.domain.moderation.removal import clear_room
    from chat.domain.moderation.review import decide_held
    from chat.domain.moderation.sanctions import sanction_user
    from chat.domain.room_settings import update_settings

    room = recorded.room
    room.owner = alice
    room.save()
    update_settings(room, alice, {"blocked_words": ["spoiler"], "blocked_action": "hold"})
    held = post_danmaku(room, bob, {**VALID, "text": "SPOILER ahead"})
    assert held.event is None
    assert held.held is not None
    approved = decide_held(room, alice, held.held.pk, True)
    assert approved is not None
    assert (approved.kind, approved.video_ms, approved.data["mode"]) == ("danmaku", 1500, "top")
    update_settings(room, alice, {"blocked_action": "refuse"})
    with pytest.raises(ChatError) as blocked:
        post_danmaku(room, bob, {**VALID, "text": "spoiler again"})
    assert blocked.value.code == "blocked"
    update_settings(room, alice, {"slow_mode_seconds": 60, "blocked_words": []})
    post_danmaku(room, bob, VALID)
    with pytest.raises(ChatError) as slow:
        post_danmaku(room, bob, {**VALID, "text": "too soon"})
    assert slow.value.code == "slow_mode"
    sanction_user(room, alice, "bob", 60, "")
    with pytest.raises(ChatError) as muted:
        post_danmaku(room, bob, {**VALID, "text": "muted"})
    assert muted.value.code == "muted"
    clear_room(room, alice)
    assert not RoomEvent.objects.filter(room=room, kind="danmaku", deleted_at=None).exists()


@pytest.mark.django_db
def test_a_comment_waits_for_the_rooms_chat_delay_like_a_message(
    recorded: RoomVideo, alice: AbstractBaseUser
) -> None:
    """The same rule as chat messages (docs/DECISIONS.md): a viewer's comment is held until its
    release time, then published with its video time and style and its held_id."""
    from datetime import timedelta

    from django.utils import timezone

    from chat.domain.moderation.delay import release_due
    from chat.models import HeldMessage

    room = recorded.room
    Room.objects.filter(pk=room.pk).update(chat_delay_seconds=20)
    posted = post_danmaku(room, alice, VALID)
    assert posted.event is None
    held = posted.held
    assert held is not None
    assert held.reason == HeldMessage.Reason.DELAYED
    assert posted.ack(1)["delayed"] is True
    assert not RoomEvent.objects.filter(kind="danmaku").exists()
    HeldMessage.objects.filter(pk=held.pk).update(release_at=timezone.now() - timedelta(seconds=1))
    assert release_due() == 1
    event = RoomEvent.objects.get(kind="danmaku")
    assert (event.text, event.video_ms, event.data["color"], event.data["held_id"]) == (
        "hello",
        1500,
        "#ffaa00",
        held.pk,
    )


def test_a_staff_comment_carries_its_role_on_user_in_the_time_window(
    recorded: RoomVideo, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    type(alice).objects.filter(pk=alice.pk).update(is_staff=True)
    alice.refresh_from_db()
    post_danmaku(recorded.room, alice, {**VALID, "video_ms": 1000})
    post_danmaku(recorded.room, bob, {**VALID, "video_ms": 2000})
    events, _ = comments_in_window(recorded.room, 0, 10_000, 10)
    assert [event["user"].get("role") for event in events] == ["staff", None]
    assert all("user_role" not in event for event in events)
