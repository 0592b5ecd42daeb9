"""Every page and GET API answers HEAD as it answers GET (uptime checkers send HEAD)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import URLResolver, get_resolver

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


# A sample value for each path converter, to turn every route into a path.
CONVERTER_SAMPLES = {"slug": "lobby", "int": "1", "str": "sample", "path": "sample"}
_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?\w+>")


def routed_paths(patterns: list[Any], prefix: str = "") -> list[str]:
    """Every path the URL configuration routes, with sample values for its parameters; the
    admin's own pages (Django's, behind its login) aside: its login is routed on its own."""
    paths = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route == "admin/":
            continue
        if isinstance(pattern, URLResolver):
            paths += routed_paths(pattern.url_patterns, route)
        else:
            paths.append("/" + _CONVERTER.sub(lambda m: CONVERTER_SAMPLES[m["converter"] or "str"], route))
    return paths


@pytest.mark.django_db(transaction=True)  # /healthz checks the database from another thread
def test_every_route_that_answers_get_answers_head(owned: Room, alice: AbstractBaseUser) -> None:
    """Not only the routes listed above: any route added later is checked too."""
    RoomVideo.objects.get_or_create(room=owned, defaults={"url": "https://videos.example/a.mp4"})
    paths = routed_paths(get_resolver().url_patterns)
    assert {"/rooms/lobby/call/settings", "/rooms/lobby/webhooks", "/accounts/tokens/"} <= set(paths)
    client = Client()
    client.force_login(alice)
    refused = []
    for path in paths:
        got = client.get(path)
        if got.status_code == 405:  # a route for POST alone
            continue
        head = client.head(path)
        body = b"".join(head.streaming_content if head.streaming else [head.content])
        if head.status_code != got.status_code or body:
            refused.append(f"{path}: GET {got.status_code}, HEAD {head.status_code}, {len(body)} bytes")
    assert refused == []
