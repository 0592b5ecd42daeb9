"""The blocked words' dry run: what a list would have caught among the room's last 1,000
messages, before it is saved, with the entries that caught each; the same refusals as saving;
moderators only; bounded per moderator; the room's settings unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client, override_settings

from chat.domain.moderation.dry_run import DRY_RUN_LISTED, DRY_RUN_MESSAGES
from chat.domain.posting import post_message
from chat.models import Room, RoomEvent
from tests.chat.web.test_visible_moderation import as_user

pytestmark = pytest.mark.django_db


def dry_run(client: Client, words: Any) -> Any:
    return client.post(
        "/rooms/lobby/mod/dry-run", data=json.dumps({"blocked_words": words}), content_type="application/json"
    )


def test_it_lists_what_the_words_and_patterns_would_have_caught(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    for text in ("call 555-1234 now", "Buy CHEAP watches", "hello there", "cheap and 555-0000"):
        post_message(owned, bob, text)
    answer = dry_run(as_user(alice), ["cheap", r"/\d{3}-\d{4}/"]).json()
    assert answer["checked"] == 4
    assert answer["caught"] == 3
    assert [(m["text"], m["entries"]) for m in answer["messages"]] == [
        ("cheap and 555-0000", ["cheap", r"/\d{3}-\d{4}/"]),  # newest first
        ("Buy CHEAP watches", ["cheap"]),
        ("call 555-1234 now", [r"/\d{3}-\d{4}/"]),
    ]
    assert answer["messages"][0]["user"] == "bob"
    assert Room.objects.get(pk=owned.pk).blocked_words == []  # nothing saved


def test_it_reads_only_the_last_thousand_visible_messages_and_lists_a_hundred(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    count = DRY_RUN_MESSAGES + 50
    RoomEvent.objects.bulk_create(
        RoomEvent(room=owned, seq=seq, kind="message", user=bob, user_name="bob", text=f"spam {seq}")
        for seq in range(1, count + 1)
    )
    Room.objects.filter(pk=owned.pk).update(last_seq=count)
    RoomEvent.objects.filter(room=owned, seq=count).update(deleted_at="2026-01-01T00:00:00Z")
    answer = dry_run(as_user(alice), ["spam"]).json()
    assert answer["checked"] == DRY_RUN_MESSAGES
    assert answer["caught"] == DRY_RUN_MESSAGES
    assert len(answer["messages"]) == DRY_RUN_LISTED
    assert answer["messages"][0]["seq"] == count - 1  # the deleted one is not read


def test_it_refuses_what_saving_refuses_and_non_moderators(
    owned: Room, alice: AbstractBaseUser, bob: AbstractBaseUser
) -> None:
    refused = dry_run(as_user(alice), ["/(?<=a)b/"])
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        400,
        "invalid",
        "blocked_words",
    )
    assert "lookahead and lookbehind" in refused.json()["message"]
    assert dry_run(as_user(alice), "spam").json()["code"] == "invalid"
    assert dry_run(as_user(bob), ["spam"]).json()["code"] == "forbidden"
    assert dry_run(as_user(None), ["spam"]).status_code == 401


@override_settings(CHAT_DRY_RUN_RATE="2/60")
def test_a_moderator_is_rate_limited(owned: Room, alice: AbstractBaseUser) -> None:
    statuses = [dry_run(as_user(alice), ["x"]).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
