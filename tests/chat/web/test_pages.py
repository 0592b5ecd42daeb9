"""The site's pages (chat/web/pages.py): home, sign-up and login, creating a room, the room page;
and the Django admin's lists."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.domain.posting import post_message
from chat.models import Room

pytestmark = pytest.mark.django_db


def test_home_lists_rooms_and_offers_creation_only_to_members(
    client: Client, alice: AbstractBaseUser
) -> None:
    Room.objects.create(slug="news", title="Evening <b>news</b>")
    page = client.get("/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "/rooms/news/" in body
    assert "Evening &lt;b&gt;news&lt;/b&gt;" in body  # escaped by Jinja2
    assert 'action="/rooms/new"' not in body
    client.force_login(alice)
    assert 'action="/rooms/new"' in client.get("/").content.decode()


def test_signup_logs_in_and_login_logout_work(client: Client) -> None:
    answer = client.post(
        "/accounts/signup/",
        {"username": "newbie", "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"},
    )
    assert answer.status_code == 302
    assert get_user_model().objects.filter(username="newbie").exists()
    assert "newbie" in client.get("/").content.decode()
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/rooms/new").status_code == 302  # back to the login page
    login = client.post("/accounts/login/", {"username": "newbie", "password": "a-long-pass-phrase-9"})
    assert login.status_code == 302
    bad = client.post("/accounts/login/", {"username": "newbie", "password": "wrong"})
    assert bad.status_code == 200  # the form again, with an error


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [("/rooms/new", "/rooms/new"), ("https://evil.example/", "/"), ("//evil.example/x", "/")],
)
def test_signup_redirects_only_within_the_site(client: Client, next_url: str, landing: str) -> None:
    answer = client.post(
        f"/accounts/signup/?next={next_url}",
        {"username": "newbie", "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"},
    )
    assert answer.status_code == 302
    assert answer["Location"] == landing


def test_signup_rejects_mismatched_passwords(client: Client) -> None:
    answer = client.post(
        "/accounts/signup/", {"username": "x", "password1": "a-long-pass-1", "password2": "other-pass-2"}
    )
    assert answer.status_code == 400
    assert not get_user_model().objects.filter(username="x").exists()


def test_logged_in_user_creates_a_room(client: Client, alice: AbstractBaseUser) -> None:
    assert client.post("/rooms/new", {"slug": "mine", "title": "Mine"}).status_code == 302  # login first
    client.force_login(alice)
    answer = client.post("/rooms/new", {"slug": "mine", "title": "Mine"})
    assert answer.status_code == 302
    assert answer["Location"] == "/rooms/mine/"
    room = Room.objects.get(slug="mine")
    assert room.owner == alice
    assert client.post("/rooms/new", {"slug": "mine", "title": "Again"}).status_code == 400
    assert client.post("/rooms/new", {"slug": "Bad Slug!", "title": "x"}).status_code == 400
    assert Room.objects.count() == 1


def test_room_page_and_unknown_room(client: Client, room: Room) -> None:
    page = client.get("/rooms/lobby/")
    assert page.status_code == 200
    assert 'data-slug="lobby"' in page.content.decode()
    assert client.get("/rooms/nope/").status_code == 404


def test_admin_lists_rooms_and_events(client: Client, room: Room, alice: AbstractBaseUser) -> None:
    post_message(room, alice, "<script>alert(1)</script>")
    staff = get_user_model().objects.create_superuser("root", password="pw")
    client.force_login(staff)
    assert client.get("/admin/chat/room/").status_code == 200
    events = client.get("/admin/chat/roomevent/")
    assert events.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in events.content.decode()


def signup_as(client: Client, username: str) -> Any:
    password = "a-long-pass-phrase-9"
    fields = {"username": username, "password1": password, "password2": password}
    return client.post("/accounts/signup/", fields)


def test_signup_removes_bidi_controls_and_invisible_characters_from_the_name(client: Client) -> None:
    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    invisibles = bidi + "\u200b\u200c\u200d\u2060\ufeff"
    answer = signup_as(client, f"new\u202e{invisibles}bie\u200b")
    assert answer.status_code == 302
    assert get_user_model().objects.filter(username="newbie").exists()


@pytest.mark.parametrize(
    "lookalike",
    [
        "\u0430lice",  # CYRILLIC SMALL LETTER A
        "alic\u0435",  # CYRILLIC SMALL LETTER IE
        "AIice",  # capital I for l, looks like "Alice"
        "Al\u0456ce",  # CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I
        "a\u200blice",  # a zero-width space, removed: then the same name
        "\uff41lice",  # fullwidth a
    ],
)
def test_signup_refuses_a_name_that_looks_like_a_taken_one(
    client: Client, alice: AbstractBaseUser, lookalike: str
) -> None:
    answer = signup_as(client, lookalike)
    assert answer.status_code == 400
    body = answer.content.decode()
    assert "looks too much like someone else" in body or "already exists" in body
    assert get_user_model().objects.count() == 1


def test_signup_refuses_a_name_that_looks_like_one_taken_before_the_check(client: Client) -> None:
    """Users created before the skeletons were stored have theirs filled by the migration; one
    made by any path (the admin, createsuperuser) gets it when saved."""
    get_user_model().objects.create_user("Ru\u0455t")  # CYRILLIC SMALL LETTER DZE
    answer = signup_as(client, "Rust")
    assert answer.status_code == 400
    assert "looks too much like someone else" in answer.content.decode()
    assert signup_as(client, "Rusty").status_code == 302


def test_names_and_titles_are_bidi_isolated_on_the_pages(client: Client, room: Room) -> None:
    """A right-to-left override in a name or a room's title (from before names were cleaned, or
    in a title) cannot reorder the page around it: each is rendered inside a <bdi>."""
    evil = get_user_model().objects.create_user("\u202eevil")
    room.title = "\u202eLobby\u2066"
    room.private = True
    room.save()
    client.force_login(evil)
    home = client.get("/").content.decode()
    assert '<bdi class="site-user" data-testid="current-user">\u202eevil</bdi>' in home
    private = client.get("/rooms/lobby/").content.decode()
    assert "<strong><bdi>\u202eevil</bdi></strong>" in private
    room.private = False
    room.save()
    assert '<bdi class="room-title">\u202eLobby\u2066</bdi>' in client.get("/").content.decode()
    page = client.get("/rooms/lobby/").content.decode()
    assert '<h1 class="room-name"><bdi>\u202eLobby\u2066</bdi></h1>' in page


def test_home_counts_the_messages_a_reader_can_see_not_events(
    client: Client, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chat.domain import stats
    from chat.domain.moderation.notices import post_system_notice
    from chat.domain.moderation.removal import clear_room, delete_event

    room = Room.objects.create(slug="count", title="Count", owner=alice)

    def shown() -> str:
        page = client.get("/").content.decode()
        start = page.index('data-testid="room-messages">') + len('data-testid="room-messages">')
        return page[start : page.index("</span>", start)].strip()

    assert shown() == "0 messages"
    first = post_message(room, alice, "one").event
    assert shown() == "1 message"
    post_message(room, alice, "two")
    post_system_notice(room, alice, "The stream starts at eight")  # not a message
    assert shown() == "2 messages"
    assert first is not None
    delete_event(room, alice, first.pk)
    assert shown() == "1 message"  # the delete is an event; the message it removed is gone
    monkeypatch.setattr(stats, "MESSAGE_COUNT_CAP", 2)
    import chat.web.pages as pages

    monkeypatch.setattr(pages, "MESSAGE_COUNT_CAP", 2)
    for text in ("three", "four"):
        post_message(room, alice, text)
    assert shown() == "2+ messages"
    clear_room(room, alice)
    assert shown() == "0 messages"


def test_home_counts_without_the_cache_when_it_is_down(
    client: Client, alice: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chat.domain import stats

    class Down:
        def get_many(self, keys: object) -> dict[str, object]:
            raise ConnectionError("the cache is down")

        def set(self, *args: object, **kwargs: object) -> None:
            raise ConnectionError("the cache is down")

    room = Room.objects.create(slug="down", title="Down", owner=alice)
    post_message(room, alice, "still counted")
    monkeypatch.setattr(stats, "shared_cache", lambda: Down())
    page = client.get("/")
    assert page.status_code == 200
    assert "1 message" in page.content.decode()
