"""Server side of the pages: overlay key and options, viewer settings, the owner's video page,
and the moderator's delete."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import translation

from chat.domain.blocked_words import clean_blocked_words
from chat.errors import ChatError
from chat.models import AuditEntry, Room, RoomEvent, RoomRole
from danmaku.comments import post_danmaku
from danmaku.models import RoomVideo, ViewerSettings
from danmaku.options import OVERLAY_DEFAULTS, clean_viewer_settings, parse_overlay_options

pytestmark = pytest.mark.django_db


def test_overlay_options_parse_and_refuse() -> None:
    assert parse_overlay_options({}) == OVERLAY_DEFAULTS
    parsed = parse_overlay_options(
        {
            "speed": "1.5",
            "opacity": "0.4",
            "scale": "2",
            "area": "0.5",
            "density": "30",
            "fps": "30",
            "chat": "1",
            "history": "0",
            "delay": "15",
        }
    )
    assert parsed == {
        "speed": 1.5,
        "opacity": 0.4,
        "scale": 2.0,
        "area": 0.5,
        "density": 30,
        "fps": 30,
        "chat": True,
        "history": 0,
        "delay": 15,
    }
    assert (OVERLAY_DEFAULTS["history"], OVERLAY_DEFAULTS["delay"]) == (50, 0)
    assert parse_overlay_options({"unknown": "x"}) == OVERLAY_DEFAULTS
    for bad in [
        {"speed": "fast"},
        {"speed": "nan"},
        {"speed": "inf"},
        {"speed": "9"},
        {"opacity": "-0.1"},
        {"area": "0.3"},
        {"density": "0"},
        {"density": "1.5"},
        {"fps": "999999999"},
        {"chat": "maybe"},
        {"history": "201"},
        {"history": "-1"},
        {"delay": "601"},
        {"delay": "1.5"},
    ]:
        with pytest.raises(ChatError) as refused:
            parse_overlay_options(bad)
        assert getattr(refused.value, "code", None) == "invalid", bad


def test_overlay_key_guards_the_overlay_and_bad_options_are_400(client: Client, room: Room) -> None:
    room.overlay_key = "s3cret-key"
    room.save()
    assert client.get("/rooms/lobby/overlay").status_code == 403
    assert client.get("/rooms/lobby/overlay", {"key": "guess"}).status_code == 403
    assert client.get("/rooms/lobby/overlay", {"key": "s3cret-key", "speed": "fast"}).status_code == 400
    assert client.get("/rooms/nowhere/overlay").status_code == 404
    room.overlay_key = ""
    room.save()
    assert client.get("/rooms/lobby/overlay", {"speed": "fast"}).status_code == 400


def test_the_overlay_speaks_the_language_its_url_or_the_browser_asks_for(client: Client, room: Room) -> None:
    import json
    import re

    page = client.get("/rooms/lobby/overlay", {"lang": "ja"}, headers={"accept_language": "zh-CN"})
    assert page["Content-Language"] == "ja"
    body = page.content.decode()
    assert '<html lang="ja"' in body
    embedded = re.search(r'<script id="i18n-catalog" type="application/json">(.*?)</script>', body, re.S)
    assert embedded is not None
    assert (
        json.loads(embedded.group(1))["catalog"]["removed by a moderator"]
        == "モデレーターにより削除されました"
    )
    chinese = client.get("/rooms/lobby/overlay", headers={"accept_language": "zh-CN"})
    assert '<html lang="zh-hans"' in chinese.content.decode()
    other = client.get("/rooms/lobby/overlay", {"lang": "klingon"}, headers={"accept_language": "en"})
    assert other.status_code == 200
    assert '<html lang="en"' in other.content.decode()


def test_overlay_refusals_are_the_sites_error_pages(client: Client, room: Room) -> None:
    room.overlay_key = "s3cret-key"
    room.save()
    for query, status, words in [
        ({"key": "guess"}, 403, "This overlay needs the key from the room owner"),
        ({"key": "s3cret-key", "speed": "fast"}, 400, "Bad overlay option: "),
    ]:
        page = client.get("/rooms/lobby/overlay", query)
        assert page.status_code == status
        assert page["Content-Type"].startswith("text/html")
        body = page.content.decode()
        assert f'data-testid="error-page" data-status="{status}"' in body
        assert words in body
        assert "Back to the rooms" in body


def test_viewer_settings_are_validated() -> None:
    good = {
        "show": False,
        "opacity": 0.5,
        "speed": 2,
        "scale": 1.25,
        "area": 0.75,
        "hidden_modes": ["color", "top"],
        "blocked_keywords": ["spoiler", "/sp[o0]iler/", "spoiler"],
        "blocked_users": ["troll"],
    }
    cleaned = clean_viewer_settings(good)
    assert cleaned["hidden_modes"] == ["top", "color"]
    assert cleaned["blocked_keywords"] == ["spoiler", "/sp[o0]iler/"]
    assert cleaned["speed"] == 2.0
    # The scale's range is the renderer's and the overlay's: 0.25 to 4 (a saved 4 was refused).
    assert clean_viewer_settings({"scale": 0.25})["scale"] == 0.25
    assert clean_viewer_settings({"scale": 4})["scale"] == 4.0
    for bad in [
        {"scale": 0.2},
        {"scale": 4.5},
        [],
        {"colour": "red"},
        {"show": "yes"},
        {"opacity": 0},
        {"speed": float("nan")},
        {"area": 0.3},
        {"hidden_modes": ["sideways"]},
        {"blocked_keywords": ["/([/"]},
        {"blocked_keywords": ["x" * 101]},
        {"blocked_users": ["u"] * 201},
        {"blocked_users": [5]},
    ]:
        with pytest.raises(ChatError) as refused:
            clean_viewer_settings(bad)
        assert getattr(refused.value, "code", None) == "invalid_settings", bad


def test_merge_repeats_is_a_saved_setting_true_or_false(client: Client, alice: AbstractBaseUser) -> None:
    assert clean_viewer_settings({"merge_repeats": True}) == {"merge_repeats": True}
    for bad in ("yes", 1, None, "true"):
        with pytest.raises(ChatError) as refused:
            clean_viewer_settings({"merge_repeats": bad})
        assert refused.value.code == "invalid_settings"
        assert refused.value.extra["field"] == "merge_repeats"
    client.force_login(alice)
    assert put_settings(client, {"merge_repeats": True, "show": True}).status_code == 200
    assert client.get("/danmaku/settings").json()["settings"]["merge_repeats"] is True
    assert put_settings(client, {"merge_repeats": "on"}).status_code == 400


def test_keyword_patterns_follow_the_rules_and_words_of_blocked_words() -> None:
    """A viewer's /pattern/ keyword is matched in the browser, but saved by the server: it is
    refused there as a room's blocked word would be, in the same sentence."""
    for keyword in ["/(?=spoiler)/", "/(a)\\1/", "/(?<name>x)/", "/\\pL/", "/(?i)x/", "/a*/"]:
        with pytest.raises(ChatError) as as_keyword:
            clean_viewer_settings({"blocked_keywords": ["fine", keyword]})
        with pytest.raises(ChatError) as as_blocked_word:
            clean_blocked_words(["fine", keyword])
        assert as_keyword.value.code == "invalid_settings"
        assert as_keyword.value.message == as_blocked_word.value.message
        assert as_keyword.value.message.startswith(f"{keyword} cannot be used: ")
    assert clean_viewer_settings({"blocked_keywords": ["(?=plain)", "/sp[o0]iler/"]})["blocked_keywords"] == [
        "(?=plain)",
        "/sp[o0]iler/",
    ]


def put_settings(client: Client, settings: Any) -> Any:
    return client.put(
        "/danmaku/settings", data=json.dumps({"settings": settings}), content_type="application/json"
    )


def test_viewer_settings_api(client: Client, alice: AbstractBaseUser, bob: AbstractBaseUser) -> None:
    assert client.get("/danmaku/settings").status_code == 401
    assert put_settings(client, {"show": False}).status_code == 401
    client.force_login(alice)
    assert client.get("/danmaku/settings").json() == {"settings": {}}
    saved = put_settings(client, {"opacity": 0.6, "blocked_users": ["bob"]})
    assert saved.status_code == 200
    assert client.get("/danmaku/settings").json() == {"settings": {"opacity": 0.6, "blocked_users": ["bob"]}}
    refused = put_settings(client, {"opacity": 7})
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_settings"
    assert ViewerSettings.objects.get(user=alice).data["opacity"] == 0.6  # unchanged by the refusal
    other = Client()
    other.force_login(bob)
    assert other.get("/danmaku/settings").json() == {"settings": {}}


def test_viewer_settings_put_needs_csrf(alice: AbstractBaseUser) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    answer = put_settings(client, {"show": False})
    assert answer.status_code == 403
    assert answer.json()["code"] == "csrf_failed"
    assert not ViewerSettings.objects.exists()


def test_owner_sets_the_video_and_rotates_the_overlay_key(
    client: Client, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    room.owner = alice
    room.save()
    assert client.get("/rooms/lobby/video").status_code == 302  # to the login page
    client.force_login(bob)
    assert client.get("/rooms/lobby/video").status_code == 403
    assert client.post("/rooms/lobby/video", {"url": "https://evil.example/x.mp4"}).status_code == 403
    assert not RoomVideo.objects.exists()
    client.force_login(alice)
    assert client.get("/rooms/lobby/video").status_code == 200
    bad = client.post("/rooms/lobby/video", {"url": "javascript:alert(1)", "title": "t"})
    assert bad.status_code == 400
    saved = client.post(
        "/rooms/lobby/video", {"url": "https://videos.example/a.mp4", "title": "A", "duration": "1:01:00.5"}
    )
    assert saved.status_code == 302
    video = RoomVideo.objects.get(room=room)
    assert (video.url, video.duration_ms, video.live) == ("https://videos.example/a.mp4", 3_660_500, False)
    page = client.get(saved["Location"]).content.decode()
    assert 'data-testid="saved-note">Video saved.' in page
    assert 'value="1:01:00.5"' in page  # shown as it is entered
    refused = client.post("/rooms/lobby/video", {"url": "https://videos.example/a.mp4", "duration": "1:75"})
    assert refused.status_code == 400
    assert "Seconds go up to 59" in refused.content.decode()
    assert RoomVideo.objects.get(room=room).duration_ms == 3_660_500
    assert Room.objects.get(pk=room.pk).overlay_key == ""
    client.post("/rooms/lobby/video", {"action": "rotate-key"})
    first_key = Room.objects.get(pk=room.pk).overlay_key
    assert len(first_key) >= 20
    assert first_key in client.get("/rooms/lobby/video").content.decode()
    client.post("/rooms/lobby/video", {"action": "rotate-key"})
    assert Room.objects.get(pk=room.pk).overlay_key not in {"", first_key}
    client.post("/rooms/lobby/video", {"action": "clear-key"})
    assert Room.objects.get(pk=room.pk).overlay_key == ""
    actions = list(AuditEntry.objects.filter(room=room).order_by("pk").values_list("actor_name", "action"))
    assert actions == [
        ("alice", "video"),
        ("alice", "overlay_key_rotate"),
        ("alice", "overlay_key_rotate"),
        ("alice", "overlay_key_clear"),
    ]
    video_entry = AuditEntry.objects.get(room=room, action="video")
    assert video_entry.detail["url"] == "https://videos.example/a.mp4"


def test_moderators_manage_neither_the_video_nor_the_overlay_key(
    client: Client, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    room.owner = alice
    room.overlay_key = "owner-chosen-key-0123456789"
    room.save()
    RoomRole.objects.create(room=room, user=bob, role=RoomRole.Role.MODERATOR)
    client.force_login(bob)
    page = client.get("/rooms/lobby/video")
    assert page.status_code == 403
    assert room.overlay_key not in page.content.decode()
    for form in ({"url": "https://videos.example/b.mp4"}, {"action": "rotate-key"}, {"action": "clear-key"}):
        assert client.post("/rooms/lobby/video", form).status_code == 403
    assert not RoomVideo.objects.exists()
    assert Room.objects.get(pk=room.pk).overlay_key == "owner-chosen-key-0123456789"
    assert not AuditEntry.objects.filter(room=room).exists()
    assert b"video-admin-link" not in client.get("/rooms/lobby/watch").content


def mod_delete(client: Client, event_id: Any) -> Any:
    return client.post(
        "/rooms/lobby/mod/delete", data=json.dumps({"id": event_id}), content_type="application/json"
    )


def test_mod_delete_by_owner_or_staff_only(
    client: Client, recorded: RoomVideo, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    room = recorded.room
    room.owner = alice
    room.save()
    target = post_danmaku(room, bob, {"text": "rude", "video_ms": 10}).event
    assert mod_delete(client, target.pk).status_code == 401
    client.force_login(bob)  # the author is no moderator
    refused = mod_delete(client, target.pk)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert RoomEvent.objects.get(pk=target.pk).deleted_at is None
    client.force_login(alice)
    for bad, status, code in [("x", 400, "invalid"), (True, 400, "invalid"), (999_999, 404, "not_found")]:
        answer = mod_delete(client, bad)
        assert (answer.status_code, answer.json()["code"]) == (status, code)
    done = mod_delete(client, target.pk)
    assert done.status_code == 200
    assert done.json()["kind"] == "delete"
    delete = RoomEvent.objects.get(seq=done.json()["seq"], room=room)
    assert delete.data == {"target": target.pk, "target_seq": target.seq, "placeholder": True}
    assert RoomEvent.objects.get(pk=target.pk).deleted_at is not None
    assert mod_delete(client, target.pk).json()["code"] == "already_deleted"
    assert mod_delete(client, delete.pk).status_code == 404  # only content can be deleted
    history = client.get("/rooms/lobby/history").json()["events"]
    # Its place stays (the room's default placeholder), without its content.
    assert [(e["id"], e["text"], e.get("deleted")) for e in history if e["id"] == target.pk] == [
        (target.pk, "", True)
    ]
    staff = bob
    staff.is_staff = True  # type: ignore[attr-defined]
    staff.save()
    client.force_login(staff)
    other = post_danmaku(room, alice, {"text": "also", "video_ms": 20}).event
    assert mod_delete(client, other.pk).status_code == 200


def test_the_watch_page_isolates_the_titles(client: Client, recorded: RoomVideo) -> None:
    """A bidi control in the room's or the video's title cannot reorder the page around it."""
    recorded.room.title = "\u202eLobby"
    recorded.room.save()
    recorded.title = "Clip\u2067"
    recorded.save()
    page = client.get("/rooms/lobby/watch").content.decode()
    assert '<h1 class="room-name"><bdi>\u202eLobby</bdi></h1>' in page
    assert 'data-testid="video-title"><bdi>Clip\u2067</bdi></p>' in page


def test_the_owner_names_the_embedding_site(
    client: Client, room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    room.owner = alice
    room.save()
    client.force_login(bob)
    answer = client.post("/rooms/lobby/video", {"action": "embed-origin", "origin": "https://evil.example"})
    assert answer.status_code == 403
    client.force_login(alice)
    for bad in ("https://videos.example/page", "javascript:alert(1)", "ftp://videos.example"):
        answer = client.post("/rooms/lobby/video", {"action": "embed-origin", "origin": bad})
        assert answer.status_code == 400
        assert b"https://host" in answer.content
    assert Room.objects.get(pk=room.pk).embed_origin == ""
    answer = client.post(
        "/rooms/lobby/video", {"action": "embed-origin", "origin": " https://Videos.Example "}
    )
    assert answer.status_code == 302
    assert Room.objects.get(pk=room.pk).embed_origin == "https://videos.example"
    assert 'value="https://videos.example"' in client.get("/rooms/lobby/video").content.decode()
    client.post("/rooms/lobby/video", {"action": "embed-origin", "origin": ""})
    assert Room.objects.get(pk=room.pk).embed_origin == ""
    assert not RoomVideo.objects.exists()  # the video form was not touched
    assert list(AuditEntry.objects.filter(action="embed_origin").values_list("detail", flat=True)) == [
        {"origin": "https://videos.example"},
        {"origin": ""},
    ]


def test_the_overlay_key_reads_a_private_rooms_latest_messages(client: Client, room: Room) -> None:
    """The chat overlay starts with the latest messages: its key opens a private room's history."""
    room.private = True
    room.overlay_key = "s3cret-key"
    room.save()
    assert client.get("/rooms/lobby/history").status_code == 403
    assert client.get("/rooms/lobby/history", {"key": "guess"}).status_code == 403
    answer = client.get("/rooms/lobby/history", {"key": "s3cret-key", "limit": 5})
    assert answer.status_code == 200
    assert answer.json()["events"] == []


def test_only_the_rooms_moderators_get_the_positioned_form(
    client: Client,
    recorded: RoomVideo,
    alice: AbstractBaseUser,
    bob: AbstractBaseUser,
    carol: AbstractBaseUser,
) -> None:
    recorded.room.owner = alice
    recorded.room.save()
    RoomRole.objects.create(room=recorded.room, user=carol, role=RoomRole.Role.MODERATOR)
    form = 'data-testid="positioned-form"'
    assert form not in client.get("/rooms/lobby/watch").content.decode()  # a guest
    for user, shown in ((bob, False), (alice, True), (carol, True)):
        client.force_login(user)
        assert (form in client.get("/rooms/lobby/watch").content.decode()) is shown, user


def test_the_video_form_speaks_the_page_language(client: Client, room: Room, alice: AbstractBaseUser) -> None:
    # The requests activate the page's language in this thread: English again afterwards.
    with translation.override("en"):
        room.owner = alice
        room.save()
        client.force_login(alice)
        client.cookies["language"] = "ja"
        page = client.get("/rooms/lobby/video").content.decode()
        for english in ["Video address", "Duration (optional)", "hours:minutes:seconds", "Live stream"]:
            assert english not in page, english
        assert "動画のアドレス" in page
        assert "ライブ配信" in page
        client.cookies["language"] = "zh-hans"
        refused = client.post("/rooms/lobby/video", {"url": "ftp://videos.example/a.mp4", "duration": "1:75"})
        assert refused.status_code == 400
        body = refused.content.decode()
        assert "分钟后面的秒数最大为 59。" in body
        assert "请使用 http 或 https 地址。" in body
        assert "Seconds go up to 59" not in body
