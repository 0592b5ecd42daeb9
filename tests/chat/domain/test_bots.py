"""Bot accounts (chat/domain/bots.py): their events carry `user.bot: true`; others' do not."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from chat.domain.bots import is_bot, mark_bot
from chat.domain.eventlog import history_before
from chat.domain.posting import post_message
from chat.models import Room

pytestmark = pytest.mark.django_db


def test_a_bots_events_say_so_on_the_wire(room: Room, alice: AbstractBaseUser, bob: AbstractBaseUser) -> None:
    mark_bot(bob)
    post_message(room, alice, "human")
    post_message(room, get_user_model().objects.get(pk=bob.pk), "beep")
    events, _ = history_before(room.pk, None, 10)
    assert [e["user"] for e in events] == [
        {"id": alice.pk, "name": "alice"},
        {"id": bob.pk, "name": "bob", "bot": True},
    ]


def test_unmarking_a_bot(bob: AbstractBaseUser) -> None:
    mark_bot(bob)
    assert is_bot(get_user_model().objects.get(pk=bob.pk))
    mark_bot(bob, False)
    assert not is_bot(get_user_model().objects.get(pk=bob.pk))
