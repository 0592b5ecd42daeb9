"""Migrations of chat that carry data."""

from __future__ import annotations

import pytest

from chat.domain.names import name_skeleton
from tests.migrations import migrate, migrate_to_latest

BEFORE = [("chat", "0004_room_overlay_key")]
AFTER = [("chat", "0005_nameskeleton")]


@pytest.mark.django_db(transaction=True)
def test_existing_users_get_their_name_skeletons() -> None:
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    users = old.get_model("auth", "User").objects
    users.create(username="alice")
    users.create(username="B\u043eb")  # CYRILLIC SMALL LETTER O
    new = migrate(AFTER).loader.project_state(AFTER).apps
    stored = dict(new.get_model("chat", "NameSkeleton").objects.values_list("user__username", "skeleton"))
    assert stored == {"alice": name_skeleton("alice"), "B\u043eb": name_skeleton("bob")}
    assert name_skeleton("bob") == name_skeleton("Bob") == name_skeleton("B\u043eb")
    migrate(BEFORE)
    migrate_to_latest()
