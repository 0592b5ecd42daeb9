from __future__ import annotations

import pytest

from chat.models import Room
from danmaku.models import RoomVideo
from tests.chat.conftest import alice, bob, carol, hub, room  # noqa: F401  (shared fixtures)


@pytest.fixture
def recorded(room: Room) -> RoomVideo:  # noqa: F811
    """The room plays a recorded video of 10 minutes."""
    return RoomVideo.objects.create(room=room, url="https://videos.example/a.mp4", duration_ms=600_000)
