"""Unique-chat mode: a text the same as one anyone posted in the room in the last N seconds
(case and runs of spaces aside) is refused with `unique_chat` and `retry_after`, on every write
path; moderators are exempt; other rooms, and the mode turned off, are not affected; a post
that is not written after all does not hold the text."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from chat.domain.posting import post_message
from chat.domain.room_settings import update_settings
from chat.errors import ChatError
from chat.models import Room

pytestmark = pytest.mark.django_db


def test_the_same_text_from_anyone_is_refused_within_the_window(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    event = update_settings(owned, alice, {"unique_chat": True, "unique_chat_seconds": 45})
    assert event.data["settings"]["unique_chat"] is True
    assert event.data["settings"]["unique_chat_seconds"] == 45
    assert post_message(owned, bob, "First!").event is not None
    for copy in ("first!", "  FIRST!  ", "First!"):
        with pytest.raises(ChatError) as refused:
            post_message(owned, carol, copy)
        assert refused.value.code == "unique_chat"
        assert refused.value.status == 429
        assert 0 < refused.value.extra["retry_after"] <= 45
    assert post_message(owned, carol, "first !").event is not None  # different text
    assert post_message(owned, alice, "First!").event is not None  # moderators are exempt
    other = Room.objects.create(slug="elsewhere", title="Elsewhere")
    assert post_message(other, carol, "First!").event is not None  # room-wide, not site-wide


def test_off_by_default_and_off_again(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    assert Room.objects.get(pk=owned.pk).unique_chat_seconds == 30
    post_message(owned, bob, "same")
    assert post_message(owned, carol, "same").event is not None
    update_settings(owned, alice, {"unique_chat": True})
    post_message(owned, bob, "again")
    with pytest.raises(ChatError):
        post_message(owned, carol, "again")
    update_settings(owned, alice, {"unique_chat": False})
    assert post_message(owned, carol, "again").event is not None


def test_a_refused_post_does_not_claim_its_text(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    update_settings(owned, alice, {"unique_chat": True, "blocked_words": ["forbidden"]})
    with pytest.raises(ChatError) as blocked:
        post_message(owned, bob, "forbidden words")
    assert blocked.value.code == "blocked"
    dan = get_user_model().objects.create_user("dan")
    update_settings(owned, alice, {"blocked_words": []})
    assert post_message(owned, dan, "forbidden words").event is not None


def test_the_settings_are_checked_and_the_http_path_refuses_alike(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser, carol: AbstractBaseUser
) -> None:
    moderator = Client()
    moderator.force_login(alice)
    for bad in ({"unique_chat": "yes"}, {"unique_chat_seconds": 0}, {"unique_chat_seconds": 3601}):
        answer = moderator.post(
            "/rooms/lobby/mod/settings", data=json.dumps(bad), content_type="application/json"
        )
        assert (answer.status_code, answer.json()["field"]) == (400, next(iter(bad))), bad
    moderator.post(
        "/rooms/lobby/mod/settings",
        data='{"unique_chat": true, "unique_chat_seconds": 20}',
        content_type="application/json",
    )
    post_message(owned, bob, "hello there")
    writer = Client()
    writer.force_login(carol)
    answer = writer.post(
        "/rooms/lobby/messages", data='{"text": "HELLO  there"}', content_type="application/json"
    )
    assert (answer.status_code, answer.json()["code"]) == (429, "unique_chat")
    assert 0 < int(answer["Retry-After"]) <= 20
