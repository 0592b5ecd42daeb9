"""API tokens over Django's HTTP paths (chat/web/tokens.py, chat/web/account.py): a bearer
request is its token's user, within its scopes and rooms, under every limit and sanction of the
account; the account page and `createtoken` make them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.management import CommandError, call_command
from django.test import Client

from chat.domain.moderation.sanctions import sanction_user
from chat.domain.posting import post_message
from chat.domain.tokens import authenticate, create_token, revoke_token
from chat.models import ApiToken, BotAccount, Room, RoomEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def post(raw: str, body: Any, path: str = "/rooms/lobby/messages") -> Any:
    # enforce_csrf_checks: a bearer request needs no CSRF token (it carries no trusted cookie).
    return Client(enforce_csrf_checks=True).post(
        path, data=json.dumps(body), content_type="application/json", headers=bearer(raw)
    )


def test_a_token_posts_as_its_account_without_csrf(room: Room, alice: AbstractBaseUser) -> None:
    raw = create_token(alice, "bot", "post").raw
    answer = post(raw, {"text": "from a bot", "nonce": "b1"})
    assert answer.status_code == 200, answer.content
    event = RoomEvent.objects.get()
    assert (event.user, event.text) == (alice, "from a bot")
    assert answer.json()["seq"] == event.seq


def test_a_session_post_still_needs_csrf(room: Room, alice: AbstractBaseUser) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    answer = client.post("/rooms/lobby/messages", data='{"text":"x"}', content_type="application/json")
    assert answer.status_code == 403
    assert answer.json()["code"] == "csrf_failed"


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        ("Bearer nope", 401, "invalid_token"),
        ("Bearer ", 401, "invalid_token"),
    ],
)
def test_bad_tokens_get_401_even_with_a_session(
    room: Room, alice: AbstractBaseUser, header: str, status: int, code: str
) -> None:
    client = Client()
    client.force_login(alice)
    answer = client.get("/rooms/lobby/history", headers={"Authorization": header})
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.json()["type"] == "error"


def test_a_revoked_token_gets_401(room: Room, alice: AbstractBaseUser) -> None:
    made = create_token(alice, "bot", "read,post")
    revoke_token(alice, made.token.pk)
    answer = post(made.raw, {"text": "late"})
    assert (answer.status_code, answer.json()["code"]) == (401, "token_revoked")
    assert not RoomEvent.objects.exists()


def test_scopes_are_enforced(room: Room, alice: AbstractBaseUser) -> None:
    reader = create_token(alice, "reader", "read").raw
    answer = post(reader, {"text": "no"})
    assert (answer.status_code, answer.json()["code"], answer.json()["scope"]) == (403, "token_scope", "post")
    poster = create_token(alice, "poster", "post").raw
    answer = Client().get("/rooms/lobby/history", headers=bearer(poster))
    assert (answer.status_code, answer.json()["code"]) == (403, "token_scope")
    assert Client().get("/rooms/lobby/history", headers=bearer(reader)).status_code == 200


def test_moderation_needs_the_moderate_scope_and_the_role(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    post_message(owned, bob, "spam")
    poster = create_token(alice, "poster", "post,read").raw
    answer = post(poster, {"user": "bob"}, "/rooms/lobby/mod/ban")
    assert answer.json()["code"] == "token_scope"
    moderator = create_token(alice, "mod", "moderate").raw
    answer = post(moderator, {"user": "bob", "reason": "spam"}, "/rooms/lobby/mod/ban")
    assert answer.status_code == 200, answer.content
    assert answer.json()["kind"] == "ban"
    # bob's token with the scope is still not a moderator of alice's room
    bobs = create_token(bob, "mod", "moderate").raw
    answer = post(bobs, {"user": "alice"}, "/rooms/lobby/mod/ban")
    assert (answer.status_code, answer.json()["code"]) == (403, "forbidden")


def test_a_token_for_some_rooms_opens_only_those(room: Room, alice: AbstractBaseUser) -> None:
    other = Room.objects.create(slug="other", title="Other")
    raw = create_token(alice, "bot", "read,post", rooms=[other]).raw
    answer = post(raw, {"text": "wrong room"})
    assert (answer.status_code, answer.json()["code"]) == (403, "token_room")
    assert post(raw, {"text": "right room"}, "/rooms/other/messages").status_code == 200


def test_a_token_obeys_the_accounts_sanctions(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    raw = create_token(bob, "bot", "post").raw
    sanction_user(owned, alice, "bob", None, "")
    answer = post(raw, {"text": "still here"})
    assert (answer.status_code, answer.json()["code"]) == (403, "banned")


def test_a_token_obeys_the_accounts_rate_limit(room: Room, alice: AbstractBaseUser, settings: Any) -> None:
    settings.CHAT_MESSAGE_RATE = "2/60"
    raw = create_token(alice, "bot", "post").raw
    client = Client()
    client.force_login(alice)  # the session and the token share the account's bucket
    client.get("/rooms/lobby/")
    assert post(raw, {"text": "one"}).status_code == 200
    assert post(raw, {"text": "two"}).status_code == 200
    answer = post(raw, {"text": "three"})
    assert (answer.status_code, answer.json()["code"]) == (429, "rate_limited")
    assert "Retry-After" in answer


def test_tokens_cannot_open_account_pages(alice: AbstractBaseUser) -> None:
    raw = create_token(alice, "bot", "read,post,moderate").raw
    for path in ("/accounts/tokens/", "/admin/"):
        answer = Client().get(path, headers=bearer(raw))
        assert (answer.status_code, answer.json()["code"]) == (403, "token_not_allowed")


def test_last_use_is_recorded(room: Room, alice: AbstractBaseUser) -> None:
    made = create_token(alice, "bot", "read")
    assert made.token.last_used_at is None
    Client().get("/rooms/lobby/history", headers=bearer(made.raw))
    assert ApiToken.objects.get().last_used_at is not None


# --- the account page -------------------------------------------------------------------


def test_the_account_page_shows_a_new_token_once_and_revokes(room: Room, alice: AbstractBaseUser) -> None:
    client = Client()
    assert client.get("/accounts/tokens/").status_code == 302  # to the login page
    client.force_login(alice)
    page = client.get("/accounts/tokens/")
    assert page.status_code == 200
    assert b"No tokens yet" in page.content
    made = client.post(
        "/accounts/tokens/",
        {"name": "<b>my bot</b>", "scopes": ["post", "read"], "rooms": "lobby", "expires": "30"},
    )
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    assert token.scopes == ["read", "post"]
    assert list(token.rooms.all()) == [room]
    assert token.expires_at is not None
    html = made.content.decode()
    raw = html.split('data-testid="new-token-value">')[1].split("<")[0]
    assert authenticate(raw).pk == token.pk
    assert "&lt;b&gt;my bot&lt;/b&gt;" in html
    assert "<b>my bot" not in html
    again = client.get("/accounts/tokens/").content.decode()
    assert raw not in again
    assert token.prefix in again
    assert client.post(f"/accounts/tokens/{token.pk}/revoke").status_code == 302
    assert ApiToken.objects.get().revoked_at is not None
    assert b"No tokens yet" in client.get("/accounts/tokens/").content


def test_the_account_page_refuses_bad_input(room: Room, alice: AbstractBaseUser) -> None:
    client = Client()
    client.force_login(alice)
    for body in (
        {"name": "x", "scopes": ["admin"]},
        {"name": "x", "scopes": ["read"], "rooms": "nowhere"},
        {"name": "", "scopes": ["read"]},
        {"name": "x", "scopes": ["read"], "expires": "99999"},
    ):
        assert client.post("/accounts/tokens/", body).status_code == 400
    assert not ApiToken.objects.exists()


def test_the_account_page_needs_csrf(alice: AbstractBaseUser) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/accounts/tokens/", {"name": "x", "scopes": ["read"]}).status_code == 403
    assert not ApiToken.objects.exists()


# --- createtoken ------------------------------------------------------------------------


def test_createtoken_prints_the_token_last(room: Room, alice: AbstractBaseUser, capsys: Any) -> None:
    call_command("createtoken", "alice", "--scopes", "post,read", "--room", "lobby", "--name", "ci")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    token = authenticate(raw)
    assert (token.name, token.scopes, token.room_ids) == ("ci", ["read", "post"], {room.pk})  # type: ignore[attr-defined]
    assert not BotAccount.objects.exists()
    call_command("createtoken", "alice", "--scopes", "post", "--bot")
    assert authenticate(capsys.readouterr().out.strip().splitlines()[-1]).user == alice
    assert BotAccount.objects.filter(user=alice).exists()


@pytest.mark.parametrize(
    "args",
    [
        ["ghost", "--scopes", "read"],
        ["alice", "--scopes", "admin"],
        ["alice", "--scopes", "read", "--room", "nowhere"],
        ["alice", "--scopes", "read", "--expires-days", "0"],
    ],
)
def test_createtoken_refuses_bad_arguments(room: Room, alice: AbstractBaseUser, args: list[str]) -> None:
    with pytest.raises(CommandError):
        call_command("createtoken", *args)
    assert not ApiToken.objects.exists()


def test_staff_mark_a_bot_in_the_admin(alice: AbstractBaseUser, bob: AbstractBaseUser) -> None:
    alice.is_staff = True
    alice.is_superuser = True
    alice.save()
    client = Client()
    client.force_login(alice)
    answer = client.post("/admin/chat/botaccount/add/", {"user": bob.pk})
    assert answer.status_code == 302, answer.content[:2000]
    assert BotAccount.objects.filter(user=bob).exists()
    made = create_token(bob, "bot", "read")
    assert "bot" in client.get("/admin/chat/apitoken/").content.decode()
    client.post(
        "/admin/chat/apitoken/",
        {"action": "revoke", "_selected_action": [made.token.pk]},
    )
    assert ApiToken.objects.get().revoked_at is not None


def test_a_ticket_in_a_pages_link_signs_nobody_in(room: Room, alice: AbstractBaseUser) -> None:
    raw = create_token(alice, "reader", "read").raw
    ticket = post(raw, {}, "/rooms/lobby/tickets").json()["ticket"]
    page = Client().get(f"/rooms/lobby/?ticket={ticket}")
    assert page.status_code == 200
    assert b'data-testid="current-user"' not in page.content
    history = Client().get(f"/rooms/lobby/history?ticket={ticket}")
    assert history.status_code == 200
    assert Client().get("/rooms/lobby/history?ticket=forged").json()["code"] == "invalid_ticket"
