from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from chat.models import Room
from chat.realtime.hub import Hub, get_hub


@pytest.fixture
def room(db: None) -> Room:
    return Room.objects.create(slug="lobby", title="Lobby")


@pytest.fixture
def alice(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_user("alice", password="pw-alice-123")


@pytest.fixture
def bob(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_user("bob", password="pw-bob-123")


@pytest.fixture
def carol(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_user("carol", password="pw-carol-123")


@pytest.fixture
def owned(room: Room, alice: AbstractBaseUser) -> Room:
    """`lobby`, owned by alice."""
    room.owner = alice
    room.save()
    return room


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    """This loop's hub, stopped after the test so no feed or task outlives it."""
    current = get_hub()
    yield current
    await current.stop()
