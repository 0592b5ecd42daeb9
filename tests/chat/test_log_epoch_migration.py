"""Migration 0006 gives every existing room a log epoch of its own, and runs backwards."""

from __future__ import annotations

import pytest

from tests.migrations import migrate, migrate_to_latest

BEFORE = [("chat", "0005_nameskeleton")]
AFTER = [("chat", "0006_room_log_epoch")]


@pytest.mark.django_db(transaction=True)
def test_existing_rooms_get_distinct_epochs_and_the_migration_runs_backwards() -> None:
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    for slug in ("one", "two", "three"):
        old.get_model("chat", "Room").objects.create(slug=slug, title=slug)
    new = migrate(AFTER).loader.project_state(AFTER).apps
    epochs = list(new.get_model("chat", "Room").objects.values_list("log_epoch", flat=True))
    assert len(epochs) == 3
    assert len(set(epochs)) == 3
    assert all(len(epoch) == 8 and epoch.isalnum() for epoch in epochs)
    migrate(BEFORE)
    migrate_to_latest()
