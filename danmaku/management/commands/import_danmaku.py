"""`python manage.py import_danmaku <slug> file.xml`: add a Bilibili XML file's comments to a room."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chat.domain.rooms import find_room
from chat.errors import ChatError
from danmaku.bilibili import XmlRefused
from danmaku.imports import import_xml


class Command(BaseCommand):
    help = "Import a Bilibili danmaku XML file into a room's recorded video (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the room")
        parser.add_argument("path", type=Path, help="the XML file")

    def handle(self, *args: Any, slug: str, path: Path, **options: Any) -> None:
        room = find_room(slug)
        if room is None:
            raise CommandError(f"no room {slug!r}")
        try:
            with path.open("rb") as stream:
                report = import_xml(room, stream)
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        except XmlRefused as error:
            raise CommandError(f"refused {path}: {error}") from None
        except ChatError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {report.imported} comments into {slug!r}."))
        self.stdout.write(f"Skipped {report.skipped_total}.")
        for reason, count in sorted(report.skipped.items()):
            self.stdout.write(f"  {reason}: {count}")
