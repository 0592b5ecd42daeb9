"""The overlay key moved from the room's video onto the room: existing overlay addresses keep
working after the migration, and the migration runs backwards."""

from __future__ import annotations

import pytest

from tests.migrations import migrate, migrate_to_latest

BEFORE = [("chat", "0003_moderation"), ("danmaku", "0001_initial")]
AFTER = [("chat", "0004_room_overlay_key"), ("danmaku", "0002_overlay_key_on_room")]


@pytest.mark.django_db(transaction=True)
def test_overlay_keys_move_onto_their_rooms_and_back() -> None:
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    room = old.get_model("chat", "Room").objects.create(slug="keyed", title="Keyed")
    old.get_model("chat", "Room").objects.create(slug="open", title="Open")
    old.get_model("danmaku", "RoomVideo").objects.create(room=room, url="", overlay_key="the-old-key")

    new = migrate(AFTER).loader.project_state(AFTER).apps
    keys = dict(new.get_model("chat", "Room").objects.values_list("slug", "overlay_key"))
    assert keys == {"keyed": "the-old-key", "open": ""}

    back = migrate(BEFORE).loader.project_state(BEFORE).apps
    videos = back.get_model("danmaku", "RoomVideo").objects.values_list("room__slug", "overlay_key")
    assert list(videos) == [("keyed", "the-old-key")]
    migrate_to_latest()
