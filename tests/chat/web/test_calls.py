"""The call's HTTP side (chat/web/calls.py): the page, ICE servers with coturn's TURN
credentials, and the owner's call settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.domain.calls import turn_credentials
from chat.models import AuditEntry, CallInvite, Room, RoomRole, Sanction

pytestmark = [pytest.mark.django_db]

SECRET = "north-wind-turn-secret"


def as_user(user: AbstractBaseUser | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def turn(settings: Any) -> None:
    settings.CHAT_STUN_URLS = ["stun:turn.example.org:3478"]
    settings.CHAT_TURN_URLS = [
        "turn:turn.example.org:3478?transport=udp",
        "turn:turn.example.org:3478?transport=tcp",
    ]
    settings.CHAT_TURN_SECRET = SECRET
    settings.CHAT_TURN_TTL = 600


def test_turn_credentials_are_corturns_shared_secret_format() -> None:
    username, password = turn_credentials(7, "s3cret", 600, now=1_700_000_000)
    assert username == "1700000600:7"
    expected = base64.b64encode(hmac.new(b"s3cret", b"1700000600:7", hashlib.sha1).digest()).decode()
    assert password == expected


def test_ice_servers_come_from_settings_with_the_users_own_short_lived_credentials(
    turn: None, room: Room, alice: AbstractBaseUser
) -> None:
    answer = as_user(alice).get("/rooms/lobby/call/ice")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["ttl"] == 600
    stun, relay = body["ice_servers"]
    assert stun == {"urls": ["stun:turn.example.org:3478"]}
    assert relay["urls"] == [
        "turn:turn.example.org:3478?transport=udp",
        "turn:turn.example.org:3478?transport=tcp",
    ]
    expiry, user = relay["username"].split(":")
    assert user == str(alice.pk)
    assert 590 <= int(expiry) - time.time() <= 610
    digest = hmac.new(SECRET.encode(), relay["username"].encode(), hashlib.sha1).digest()
    assert relay["credential"] == base64.b64encode(digest).decode()


def test_no_turn_without_a_secret(settings: Any, room: Room, alice: AbstractBaseUser) -> None:
    settings.CHAT_STUN_URLS, settings.CHAT_TURN_URLS, settings.CHAT_TURN_SECRET = [], ["turn:x:3478"], ""
    assert as_user(alice).get("/rooms/lobby/call/ice").json()["ice_servers"] == []


def test_ice_servers_only_for_who_may_join(turn: None, room: Room, alice: AbstractBaseUser) -> None:
    assert as_user(None).get("/rooms/lobby/call/ice").json()["code"] == "login_required"
    Sanction.objects.create(room=room, user=alice, kind=Sanction.Kind.BAN)
    refused = as_user(alice).get("/rooms/lobby/call/ice")
    assert refused.status_code == 403
    assert refused.json()["code"] == "banned"
    assert as_user(alice).get("/rooms/nowhere/call/ice").status_code == 404


def test_ice_servers_are_rate_limited_per_user(turn: None, room: Room, alice: AbstractBaseUser) -> None:
    client = as_user(alice)
    statuses = [client.get("/rooms/lobby/call/ice").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429


def test_the_call_page_links_from_the_room(room: Room, alice: AbstractBaseUser) -> None:
    client = as_user(alice)
    assert 'href="/rooms/lobby/call"' in client.get("/rooms/lobby/").content.decode()
    page = client.get("/rooms/lobby/call").content.decode()
    assert 'data-max-participants="6"' in page
    assert "/static/js/pages/call." in page
    assert as_user(None).get("/rooms/lobby/call").status_code == 302  # to the login page


def test_only_the_owner_sets_who_may_join(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    def post(client: Client, body: dict[str, Any]) -> Any:
        return client.post(
            "/rooms/lobby/call/settings", data=json.dumps(body), content_type="application/json"
        )

    assert post(as_user(bob), {"access": "members"}).json()["code"] == "forbidden"
    answer = post(as_user(alice), {"access": "invited", "invite": "bob"})
    assert answer.status_code == 200
    assert answer.json() == {"access": "invited", "invited": ["bob"], "max_participants": 6}
    assert CallInvite.objects.filter(room=owned, user=bob).exists()
    assert post(as_user(alice), {"access": "everyone"}).json()["code"] == "invalid"
    assert post(as_user(alice), {"invite": "nobody"}).json()["code"] == "unknown_user"
    assert post(as_user(alice), {"uninvite": "bob"}).json()["invited"] == []
    assert as_user(alice).get("/rooms/lobby/call/settings").json()["access"] == "invited"


def post_settings(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/rooms/lobby/call/settings", data=json.dumps(body), content_type="application/json")


def test_each_change_of_who_may_join_is_in_the_audit_log(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    owner = as_user(alice)
    post_settings(owner, {"access": "invited", "invite": "bob"})
    post_settings(owner, {"access": "invited", "invite": "bob"})  # no change: nothing to log
    post_settings(owner, {"uninvite": "bob"})
    post_settings(owner, {"uninvite": "bob"})
    entries = AuditEntry.objects.filter(room=owned).order_by("id")
    logged = [(entry.actor_name, entry.action, entry.target_name, entry.detail) for entry in entries]
    assert logged == [
        ("alice", "call_access", "", {"access": "invited"}),
        ("alice", "call_invite", "bob", {}),
        ("alice", "call_uninvite", "bob", {}),
    ]


def test_a_refused_change_changes_nothing(owned: Room, alice: AbstractBaseUser) -> None:
    answer = post_settings(as_user(alice), {"access": "members", "invite": "nobody"})
    assert (answer.status_code, answer.json()["code"]) == (404, "unknown_user")
    assert Room.objects.get(pk=owned.pk).call_access == "signed_in"
    assert not AuditEntry.objects.filter(room=owned).exists()


def test_the_moderators_page_has_the_call_form_for_the_owner_only(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    RoomRole.objects.create(room=owned, user=bob, role=RoomRole.Role.MODERATOR)
    Room.objects.filter(pk=owned.pk).update(call_access="members")
    page = as_user(alice).get("/rooms/lobby/moderate").content.decode()
    assert 'data-testid="call-access-form"' in page
    assert "/rooms/lobby/call/settings" in page
    assert 'data-testid="call-access-readonly"' not in page
    page = as_user(bob).get("/rooms/lobby/moderate").content.decode()
    assert 'data-testid="call-access-form"' not in page
    assert "The call is open to the room&#39;s members. Only the room's owner changes who may join." in page
