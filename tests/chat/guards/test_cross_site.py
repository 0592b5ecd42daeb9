"""Every state-changing HTTP path refuses a cross-site request: Django's CSRF check (token and
Origin/Referer) everywhere, and the Origin check of the one view exempt from it (DPlayer's API).

`WRITES` lists each (URL name, method) that accepts a write. For each, a request from another
site (the victim's cookies ride along; the attacker cannot read the CSRF token) is refused with
403 and changes nothing, and the same request from this site's own page does what it is for,
which shows that the refusal is the cross-site check and not a malformed request.
`test_writes_cover_every_route` fails when a route accepts a write that `WRITES` does not list,
and `test_every_route_refuses_cross_site_writes` sends every method to every route, the admin's
included. The WebSocket handshake and the ASGI-level routes are checked against a real daphne
in tests/e2e/test_security.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_encode

from chat.domain.moderation.pins import pin_message
from chat.domain.moderation.reports import report_event
from chat.domain.moderation.sanctions import hide_user, sanction_user
from chat.domain.posting import post_message
from chat.domain.tokens import create_token
from chat.models import HeldMessage, Room
from danmaku.models import RoomVideo

pytestmark = pytest.mark.django_db

SITE = "http://testserver"
EVIL = "https://evil.example"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
OWNER_PASSWORD = "pw-owner-123"
BOB_PASSWORD = "pw-bob-123"
ROOM = "lobby"
# Views exempt from Django's CSRF check, each checking Origin itself (tested below).
ORIGIN_CHECKED_VIEWS = {"dplayer"}
XML = b'<?xml version="1.0"?><i><d p="1.5,1,25,16777215,1700000000,0,abc,1">imported</d></i>'


@dataclass
class World:
    owner: Any  # alice: owns the room, staff and superuser, so every write is hers to make
    bob: Any
    room: Room
    message_id: int
    held_id: int
    token_id: int  # one of the owner's API tokens


@pytest.fixture
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: None, fast_hashing: None) -> World:
    users = get_user_model().objects
    owner = users.create_superuser("alice", email="alice@example.com", password=OWNER_PASSWORD)
    bob = users.create_user("bob", email="bob@example.com", password=BOB_PASSWORD)
    room = Room.objects.create(slug=ROOM, title="Lobby", owner=owner)
    RoomVideo.objects.create(room=room, url="https://videos.example/a.mp4", duration_ms=600_000)
    posted = post_message(room, bob, "a message to moderate")
    assert posted.event is not None
    held = HeldMessage.objects.create(room=room, user=bob, kind="message", text="held", reason="review_all")
    token = create_token(owner, "site bot", "read,post")
    return World(owner, bob, room, posted.event.pk, held.pk, token.token.pk)


def snapshot(client: Client) -> Any:
    """Everything a write could change: every row of every model (sessions aside), who the
    client is signed in as, and the mail sent."""
    rows = {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model is not Session
    }
    return rows, client.session.get("_auth_user_id"), len(mail.outbox)


@dataclass
class Request:
    path: str
    data: Any = None
    content_type: str | None = None  # None: a form (urlencoded, or multipart with files)
    multipart: bool = False


@dataclass
class Write:
    name: str  # the URL name
    method: str
    signed_in: bool  # as the owner; otherwise a signed-out visitor
    build: Callable[[World, Client], Request]
    ok: int | None  # the status of the same request from this site; None: the method is
    # accepted but can never do anything (Django's form views take PUT, with no form data)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.name}-{self.method}"


def form(path: str, **data: Any) -> Callable[[World, Client], Request]:
    return lambda world, client: Request(path.format(room=ROOM), data)


def json_request(path: str, body: Any) -> Callable[[World, Client], Request]:
    def build(world: World, client: Client) -> Request:
        value = body(world) if callable(body) else body
        return Request(path.format(room=ROOM, held=world.held_id), json.dumps(value), "application/json")

    return build


def reset_confirm(world: World, client: Client) -> Request:
    """The link of a password-reset mail, opened: its token moves into the session."""
    uid = urlsafe_base64_encode(force_bytes(world.owner.pk))
    token = default_token_generator.make_token(world.owner)
    opened = client.get(f"/accounts/reset/{uid}/{token}/")
    assert opened.status_code == 302
    return Request(
        opened["Location"], {"new_password1": "a-new-pass-phrase-7", "new_password2": "a-new-pass-phrase-7"}
    )


def import_upload(world: World, client: Client) -> Request:
    return Request(f"/rooms/{ROOM}/mod/import", {"file": SimpleUploadedFile("d.xml", XML)}, multipart=True)


NEW_PASSWORD = {
    "old_password": OWNER_PASSWORD,
    "new_password1": "a-new-pass-7",
    "new_password2": "a-new-pass-7",
}
SIGNUP = {"username": "newbie", "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"}

WRITES = [
    # Accounts (login CSRF: another site signing the visitor in to the attacker's account).
    Write("login", "POST", False, form("/accounts/login/", username="bob", password=BOB_PASSWORD), 302),
    Write("login", "PUT", False, form("/accounts/login/"), None),
    Write("logout", "POST", True, form("/accounts/logout/"), 302),
    # The language switcher (chat/web/language.py): the account's language is a write.
    Write("set_language", "POST", True, form("/i18n/language", language="ja", next="/"), 302),
    Write("signup", "POST", False, form("/accounts/signup/", **SIGNUP), 302),
    Write("password_change", "POST", True, form("/accounts/password_change/", **NEW_PASSWORD), 302),
    Write("password_change", "PUT", True, form("/accounts/password_change/"), None),
    Write("password_reset", "POST", False, form("/accounts/password_reset/", email="alice@example.com"), 302),
    Write("password_reset", "PUT", False, form("/accounts/password_reset/"), None),
    Write("password_reset_confirm", "POST", False, reset_confirm, 302),
    Write("password_reset_confirm", "PUT", False, reset_confirm, None),
    # Without a valid link the view renders its page whatever the method.
    Write("password_reset_confirm", "PATCH", False, form("/accounts/reset/MQ/set-password/"), None),
    Write("password_reset_confirm", "DELETE", False, form("/accounts/reset/MQ/set-password/"), None),
    # Rooms and messages.
    Write("create_room", "POST", True, form("/rooms/new", slug="new-room", title="New"), 302),
    Write(
        "room_messages", "POST", True, json_request("/rooms/{room}/messages", {"text": "hi", "nonce": 1}), 200
    ),
    # Moderation API.
    Write(
        "mod_delete",
        "POST",
        True,
        json_request("/rooms/{room}/mod/delete", lambda w: {"id": w.message_id}),
        200,
    ),
    Write("mod_clear", "POST", True, json_request("/rooms/{room}/mod/clear", {}), 200),
    Write(
        "mod_timeout",
        "POST",
        True,
        json_request("/rooms/{room}/mod/timeout", {"user": "bob", "seconds": 60}),
        200,
    ),
    Write("mod_ban", "POST", True, json_request("/rooms/{room}/mod/ban", {"user": "bob"}), 200),
    Write(
        "mod_unban",
        "POST",
        True,
        json_request("/rooms/{room}/mod/unban", {"user": "bob"}),
        200,
        {"banned": True},
    ),
    Write(
        "mod_settings",
        "POST",
        True,
        json_request("/rooms/{room}/mod/settings", {"slow_mode_seconds": 5}),
        200,
    ),
    Write("mod_moderators", "POST", True, json_request("/rooms/{room}/mod/moderators", {"add": "bob"}), 200),
    Write("mod_members", "POST", True, json_request("/rooms/{room}/mod/members", {"add": "bob"}), 200),
    Write(
        "mod_review_item",
        "POST",
        True,
        json_request("/rooms/{room}/mod/review/{held}", {"approve": True}),
        200,
    ),
    Write("mod_import", "POST", True, import_upload, 200),
    Write(
        "mod_pin", "POST", True, json_request("/rooms/{room}/mod/pin", lambda w: {"id": w.message_id}), 200
    ),
    Write("mod_unpin", "POST", True, json_request("/rooms/{room}/mod/unpin", {}), 200, {"pinned": True}),
    # A dry run reads and changes nothing (its rate is counted in the cache, not the database).
    Write(
        "mod_dry_run",
        "POST",
        True,
        json_request("/rooms/{room}/mod/dry-run", {"blocked_words": ["message"]}),
        None,
    ),
    Write("mod_hide", "POST", True, json_request("/rooms/{room}/mod/hide", {"user": "bob"}), 200),
    Write(
        "mod_unhide",
        "POST",
        True,
        json_request("/rooms/{room}/mod/unhide", {"user": "bob"}),
        200,
        {"hidden": True},
    ),
    Write(
        "mod_report_item",
        "POST",
        True,
        lambda world, client: Request(
            f"/rooms/{ROOM}/mod/reports/{world.message_id}", json.dumps({"dismiss": True}), "application/json"
        ),
        200,
        {"reported": True},
    ),
    Write(
        "room_report",
        "POST",
        True,
        json_request("/rooms/{room}/report", lambda w: {"id": w.message_id, "reason": "spam"}),
        200,
    ),
    Write("mod_system", "POST", True, json_request("/rooms/{room}/mod/system", {"text": "notice"}), 200),
    # Who may join the room's calls (the owner's).
    Write(
        "call_settings",
        "POST",
        True,
        json_request("/rooms/{room}/call/settings", {"access": "members"}),
        200,
    ),
    # API tokens: made and revoked with a session; a ticket is made with a token, never a session.
    Write("tokens", "POST", True, form("/accounts/tokens/", name="bot", scopes="read"), 200),
    Write(
        "revoke_token",
        "POST",
        True,
        lambda world, client: Request(f"/accounts/tokens/{world.token_id}/revoke", {}),
        302,
    ),
    Write("room_tickets", "POST", True, json_request("/rooms/{room}/tickets", {}), None),
    # A new endpoint's secret is shown once, on the page itself (an address literal: no lookup).
    Write(
        "mod_webhooks",
        "POST",
        True,
        form("/rooms/{room}/webhooks", action="add", url="http://8.8.8.8/hook", events="message"),
        200,
    ),
    # Danmaku.
    Write("room_video", "POST", True, form("/rooms/{room}/video", url="https://videos.example/b.mp4"), 302),
    Write(
        "danmaku_settings",
        "PUT",
        True,
        json_request("/danmaku/settings", {"settings": {"opacity": 0.5}}),
        200,
    ),
    Write(
        "dplayer",
        "POST",
        True,
        json_request("/dplayer/v3/", {"id": ROOM, "text": "hi", "time": 1, "type": 0}),
        200,
    ),
    # The admin: every route is checked below; these show that a real write is refused.
    Write(
        "admin:login", "POST", False, form("/admin/login/", username="alice", password=OWNER_PASSWORD), 302
    ),
    Write("admin:logout", "POST", True, form("/admin/logout/"), 302),
    Write("admin:auth_group_add", "POST", True, form("/admin/auth/group/add/", name="editors"), 302),
]


def client_for(world: World, write: Write) -> tuple[Client, str]:
    """A browser of the victim: CSRF enforced, signed in if the write needs it, with a CSRF
    cookie (which a cross-site request carries too); returns the client and the token."""
    client = Client(enforce_csrf_checks=True)
    if write.signed_in:
        client.force_login(world.owner)
    assert client.get("/accounts/login/").status_code in {200, 302}
    return client, client.cookies["csrftoken"].value


def send(
    client: Client, write: Write, request: Request, headers: dict[str, str], secure: bool = False
) -> Any:
    kwargs: dict[str, Any] = {"headers": headers, "secure": secure}
    data, content_type = request.data, request.content_type
    if content_type is None and write.method != "POST" and data is not None:
        # Only POST bodies are forms to Django; send the fields the way a browser's fetch would.
        data, content_type = urlencode(data), "application/x-www-form-urlencoded"
    if data is not None:
        kwargs["data"] = data
    if content_type is not None:
        kwargs["content_type"] = content_type
    return getattr(client, write.method.lower())(request.path, **kwargs)


def prepare(world: World, write: Write) -> None:
    if write.extra.get("banned"):
        sanction_user(world.room, world.owner, "bob", None, "")
    if write.extra.get("pinned"):
        pin_message(world.room, world.owner, world.message_id)
    if write.extra.get("hidden"):
        hide_user(world.room, world.owner, "bob")
    if write.extra.get("reported"):
        carol = get_user_model().objects.create_user("carol")
        report_event(world.room, carol, world.message_id, "spam")


# Each cross-site attempt: the request headers a page on another site could produce.
CROSS_SITE = {
    # A form or fetch on another site: the CSRF cookie rides along, the token cannot.
    "no-token": lambda token: {"Origin": EVIL},
    # Even a stolen token does not help from another origin.
    "token-other-origin": lambda token: {"Origin": EVIL, "X-CSRFToken": token},
    # Sandboxed frames and some redirects send `Origin: null`.
    "token-null-origin": lambda token: {"Origin": "null", "X-CSRFToken": token},
}


@pytest.mark.parametrize("attempt", sorted(CROSS_SITE))
@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.id)
def test_a_cross_site_write_is_refused(world: World, write: Write, attempt: str) -> None:
    prepare(world, write)
    client, token = client_for(world, write)
    request = write.build(world, client)
    before = snapshot(client)
    answer = send(client, write, request, CROSS_SITE[attempt](token))
    assert answer.status_code == 403, answer.content[:300]
    assert snapshot(client) == before


@pytest.mark.parametrize(
    "write", [w for w in WRITES if w.name not in ORIGIN_CHECKED_VIEWS], ids=lambda w: w.id
)
def test_over_https_a_foreign_referer_is_refused(world: World, write: Write) -> None:
    """Over HTTPS, a request without Origin is judged by its Referer (Django's strict check)."""
    prepare(world, write)
    client, token = client_for(world, write)
    request = write.build(world, client)
    before = snapshot(client)
    answer = send(client, write, request, {"Referer": f"{EVIL}/page", "X-CSRFToken": token}, secure=True)
    assert answer.status_code == 403, answer.content[:300]
    assert snapshot(client) == before


@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.id)
def test_the_same_write_from_this_site_works(world: World, write: Write) -> None:
    """The control: from this site's own page the request is accepted (and does something)."""
    prepare(world, write)
    client, token = client_for(world, write)
    request = write.build(world, client)
    before = snapshot(client)
    answer = send(client, write, request, {"Origin": SITE, "X-CSRFToken": token})
    if write.ok is None:
        assert answer.status_code not in {403, 405}
        assert snapshot(client) == before
        return
    assert answer.status_code == write.ok, answer.content[:500]
    assert snapshot(client) != before


def test_dplayer_without_origin_is_a_non_browser_client(world: World) -> None:
    """Browsers send Origin on every POST; a request without one carries no browser's cookies
    to abuse (the same rule as the WebSocket handshake), so it is judged like any API call."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner)
    body = json.dumps({"id": ROOM, "text": "from a script", "time": 1})
    assert client.post("/dplayer/v3/", body, content_type="application/json").status_code == 200
    # A cross-site form cannot send JSON without a preflight this server never answers.
    plain = client.post("/dplayer/v3/", body, content_type="text/plain", headers={"Origin": SITE})
    assert plain.status_code == 400


# Coverage: every route of the URL configuration.


def routes() -> Iterator[tuple[str, str, Any]]:
    """(name, sample path, view) for every URL pattern, the admin's included."""

    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> Iterator[tuple[str, str, Any]]:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + sample(pattern.pattern), pattern.namespace or namespace)
            else:
                assert isinstance(pattern, URLPattern)
                name = pattern.name or f"<unnamed {pattern.pattern}>"
                if namespace and pattern.name:
                    name = f"{namespace}:{name}"
                yield name, "/" + prefix + sample(pattern.pattern), pattern.callback

    yield from walk(get_resolver(), "", None)


SAMPLES = {
    "slug": ROOM,
    "held_id": "1",
    "event_id": "1",
    "token_id": "1",
    "uidb64": "MQ",
    "token": "set-password",
    "object_id": "1",
    "content_type_id": "1",
    "id": "1",
    "app_label": "chat",
    "url": "no-such-page/",
}


def sample(pattern: Any) -> str:
    """The pattern with a sample value for each parameter (a new parameter name fails here)."""
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLES[m.group(1)], str(pattern))
    assert isinstance(pattern, RegexPattern), pattern
    text = str(pattern).lstrip("^").rstrip("$")
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLES[m.group(1)], text)
    assert not re.search(r"[\\()\[\]*+?|]", text), f"add a sample for {pattern}"
    return text


def test_writes_cover_every_route(world: World) -> None:
    """Each route outside the admin answers every unsafe method with 405, or is in WRITES.

    Probed as the owner from this site with a valid token, so nothing but the method decides.
    """
    listed = {(write.name, write.method) for write in WRITES}
    accepting = set()
    for name, path, _view in routes():
        if path.startswith("/admin/"):
            continue
        for method in UNSAFE_METHODS:
            client = Client(enforce_csrf_checks=True)
            client.force_login(world.owner)
            client.get("/accounts/login/")
            token = client.cookies["csrftoken"].value
            answer = getattr(client, method.lower())(
                path,
                data="{}",
                content_type="application/json",
                headers={"Origin": SITE, "X-CSRFToken": token},
            )
            if answer.status_code != 405:
                accepting.add((name, method))
    assert accepting - listed == set(), "routes that accept writes without a cross-site test"
    assert {write for write in listed if not write[0].startswith("admin:")} <= accepting


def test_only_known_views_skip_the_csrf_check() -> None:
    exempt = {name for name, _path, view in routes() if getattr(view, "csrf_exempt", False)}
    assert exempt == ORIGIN_CHECKED_VIEWS


@pytest.mark.parametrize(("name", "path"), [(name, path) for name, path, _view in routes()])
def test_every_route_refuses_cross_site_writes(world: World, name: str, path: str) -> None:
    """Any method, any route (every admin page too): from another site, refused, nothing changes."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner)
    client.get("/accounts/login/")
    for method in UNSAFE_METHODS:
        before = snapshot(client)
        answer = getattr(client, method.lower())(
            path, data="x=1", content_type="application/x-www-form-urlencoded", headers={"Origin": EVIL}
        )
        assert answer.status_code in {403, 405}, (method, answer.status_code)
        if name not in ORIGIN_CHECKED_VIEWS:
            assert answer.status_code == 403, method  # Django's CSRF check, before the view
        assert snapshot(client) == before, method
