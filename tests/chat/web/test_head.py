"""Every page and GET API answers HEAD as it answers GET (uptime checkers send HEAD)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.models import Room
from danmaku.models import RoomVideo

# Every route that answers GET (chat/urls.py, danmaku/urls.py, config/urls.py), as the owner.
# SSE and long-poll are streams routed ahead of Django: GET only (docs/PROTOCOL.md).
GET_ROUTES = [
    "/",
    "/healthz",
    "/favicon.ico",
    "/accounts/signup/",
    "/accounts/login/",
    "/admin/login/",
    "/rooms/new",
    "/rooms/lobby/",
    "/rooms/lobby/history",
    "/rooms/lobby/moderate",
    "/rooms/lobby/mod/review",
    "/rooms/lobby/mod/audit",
    "/rooms/lobby/mod/state",
    "/rooms/lobby/mod/stats",
    "/rooms/lobby/watch",
    "/rooms/lobby/overlay",
    "/rooms/lobby/video",
    "/rooms/lobby/danmaku",
    "/rooms/lobby/danmaku.xml",
    "/danmaku/settings",
    "/dplayer/v3/?id=lobby",
]


@pytest.mark.django_db(transaction=True)  # /healthz checks the database from another thread
@pytest.mark.parametrize("path", GET_ROUTES)
def test_head_answers_as_get_does(owned: Room, alice: AbstractBaseUser, path: str) -> None:
    RoomVideo.objects.get_or_create(room=owned, defaults={"url": "https://videos.example/a.mp4"})
    client = Client()
    client.force_login(alice)
    got = client.get(path)
    assert got.status_code in {200, 301, 302}, path
    head = client.head(path)
    assert head.status_code == got.status_code, path
    assert head["Content-Type"] == got["Content-Type"]
    assert not b"".join(head.streaming_content if head.streaming else [head.content])
