"""`python manage.py newlogepoch`: a new log epoch for every room, after restoring the database.

A restored database carries the epochs of its time, so clients that saw events after it was
taken would resume with cursors that are valid in it by number but name other events. With a
new epoch they are told to reset (docs/OPERATIONS.md, "Restoring"; docs/PROTOCOL.md, "Log
epochs"). Running servers notice within seconds; run it before starting them after a restore.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from chat.domain.eventlog import renew_all_log_epochs


class Command(BaseCommand):
    help = "Give every room's event log a new epoch (after restoring the database)."

    def handle(self, *args: Any, **options: Any) -> None:
        rooms = renew_all_log_epochs()
        self.stdout.write(f"new log epoch for {rooms} room(s)")
