"""Security headers as a browser receives them: HTTPS redirect (never for /healthz), HSTS,
secure cookies, and the Content-Security-Policy of every page (chat/guards/csp.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.models import Room
from danmaku.models import RoomVideo

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings: Any) -> Any:
    """The HTTPS settings as DEBUG=0 sets them (read by the middleware on a client's first request)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return settings


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for directive in header.split(";"):
        name, *values = directive.split()
        assert name not in parsed, f"{name} twice"
        parsed[name] = values
    return parsed


def assert_nothing_inline(html: str, path: str) -> None:
    """Nothing in the page that the policy blocks: inline script, event handler attributes,
    javascript: links, style blocks or attributes. JSON data blocks are not scripts."""
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", html, re.IGNORECASE), path
    assert "javascript:" not in html.lower(), path
    assert not re.search(r"<style\b|\sstyle\s*=", html, re.IGNORECASE), path


@pytest.mark.django_db(transaction=True)  # /healthz checks the database from another thread
def test_plain_http_is_redirected_but_not_the_health_check(production: Any) -> None:
    client = Client()
    page = client.get("/rooms/lobby/?x=1")
    assert page.status_code == 301
    assert page["Location"] == "https://testserver/rooms/lobby/?x=1"
    for path in ("/", "/accounts/login/"):
        assert client.get(path).status_code == 301
    assert client.post("/accounts/login/", {}).status_code == 301

    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert "Strict-Transport-Security" not in health  # HSTS only over HTTPS


def test_https_answers_with_hsts(production: Any) -> None:
    page = Client().get("/", secure=True)
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"


def test_behind_a_proxy_the_forwarded_scheme_counts_only_when_enabled(production: Any) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    assert Client().get("/", headers=forwarded).status_code == 301  # a client could send it
    production.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    page = Client().get("/", headers=forwarded)
    assert page.status_code == 200
    assert "Strict-Transport-Security" in page


def test_session_and_csrf_cookies_are_secure(production: Any, alice: AbstractBaseUser) -> None:
    client = Client()
    form = client.get("/accounts/login/", secure=True)
    assert form.cookies["csrftoken"]["secure"] is True
    login = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"}, secure=True)
    assert login.status_code == 302
    session = login.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"


def test_pages_carry_a_strict_policy(client: Client, room: Room, alice: AbstractBaseUser) -> None:
    room.owner = alice
    room.save()
    RoomVideo.objects.create(room=room, url="https://videos.example/a.mp4")
    client.force_login(alice)
    for path in ("/", "/accounts/login/", "/rooms/lobby/", "/rooms/lobby/watch", "/rooms/lobby/moderate"):
        page = client.get(path)
        assert page.status_code == 200, path
        policy = directives(page["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], path
        assert policy["style-src"] == ["'self'"], path
        assert policy["default-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert policy["form-action"] == ["'self'"], path
        assert policy["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"], path
        assert page["X-Frame-Options"] == "DENY", path
        assert_nothing_inline(page.content.decode(), path)


def test_the_overlay_may_be_framed(client: Client, room: Room) -> None:
    page = client.get("/rooms/lobby/overlay")
    assert page.status_code == 200
    policy = directives(page["Content-Security-Policy"])
    assert "frame-ancestors" not in policy
    assert "X-Frame-Options" not in page
    assert policy["script-src"] == ["'self'"]


def test_videos_from_other_sites_play(client: Client, room: Room, settings: Any) -> None:
    """The watch page plays whatever address the owner set: any https host; over plain HTTP
    (development) any http host too; CSP_MEDIA_SRC narrows it."""
    assert directives(client.get("/rooms/lobby/watch", secure=True)["Content-Security-Policy"])[
        "media-src"
    ] == [
        "'self'",
        "blob:",
        "https:",
    ]
    assert directives(client.get("/rooms/lobby/watch")["Content-Security-Policy"])["media-src"] == [
        "'self'",
        "blob:",
        "https:",
        "http:",
    ]
    settings.CSP_MEDIA_SRC = ["'self'", "https://videos.example"]
    narrowed = directives(client.get("/rooms/lobby/watch")["Content-Security-Policy"])
    assert narrowed["media-src"] == ["'self'", "https://videos.example"]


def test_report_only_and_report_uri(client: Client, room: Room, settings: Any) -> None:
    settings.CSP_REPORT_ONLY = True
    settings.CSP_REPORT_URI = "https://reports.example/csp"
    page = client.get("/rooms/lobby/")
    assert "Content-Security-Policy" not in page
    policy = directives(page["Content-Security-Policy-Report-Only"])
    assert policy["report-uri"] == ["https://reports.example/csp"]
    assert policy["script-src"] == ["'self'"]


def test_json_and_async_views_get_the_policy_too(client: Client, room: Room) -> None:
    assert "Content-Security-Policy" in client.get("/rooms/lobby/history")
    assert "Content-Security-Policy" in client.get("/healthz")  # an async view


def test_an_ipv6_host_is_left_to_self(client: Client) -> None:
    """CSP cannot spell an IPv6 literal; 'self' covers the WebSocket in current browsers."""
    policy = directives(client.get("/", headers={"Host": "[::1]:8000"})["Content-Security-Policy"])
    assert policy["connect-src"] == ["'self'"]
