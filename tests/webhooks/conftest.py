from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chat.models import Room
from tests.chat.conftest import alice, bob, carol, owned, room  # noqa: F401  (shared fixtures)

from .receiver import Receiver


@pytest.fixture(autouse=True)
def _private_receivers_allowed(settings: Any) -> None:
    """The receivers run on 127.0.0.1; the SSRF tests turn the check back on."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


@pytest.fixture
def lobby(room: Room) -> Room:  # noqa: F811
    return room
