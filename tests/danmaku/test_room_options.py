"""`createroom --video-url ...`: danmaku's options on chat's command (chat never imports danmaku)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from chat.models import Room
from danmaku.models import RoomVideo

pytestmark = pytest.mark.django_db


def test_createroom_gives_the_room_its_video() -> None:
    call_command(
        "createroom", "film", "--video-url", "https://videos.example/a.mp4", "--duration-ms", "60000"
    )
    video = RoomVideo.objects.get(room__slug="film")
    assert (video.url, video.duration_ms, video.live) == ("https://videos.example/a.mp4", 60000, False)
    call_command("createroom", "stream", "--video-url", "https://videos.example/live.m3u8", "--live")
    assert RoomVideo.objects.get(room__slug="stream").live


def test_bad_video_options_create_no_room() -> None:
    with pytest.raises(CommandError, match="http or https"):
        call_command("createroom", "bad", "--video-url", "javascript:alert(1)")
    with pytest.raises(CommandError, match="negative"):
        call_command("createroom", "bad", "--video-url", "https://v.example/a.mp4", "--duration-ms", "-1")
    assert not Room.objects.filter(slug="bad").exists()


def test_a_room_without_video_options_has_no_video() -> None:
    call_command("createroom", "plain")
    assert not RoomVideo.objects.exists()


def test_live_alone_makes_a_live_room_with_no_video() -> None:
    call_command("createroom", "onair", "--live")
    video = RoomVideo.objects.get(room__slug="onair")
    assert (video.url, video.live, video.has_video) == ("", True, False)
