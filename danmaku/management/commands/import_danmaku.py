"""`python manage.py import_danmaku <slug> file.xml`: add a Bilibili or Niconico XML file's
comments to a room.

The path is relative to the current directory; `-` reads the file from standard input, which
lets an administrator import a file the service's user cannot read
(`chat-manage import_danmaku film - < comments.xml`, docs/OPERATIONS.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chat.domain.rooms import find_room
from chat.errors import ChatError
from danmaku.bilibili import XmlRefused
from danmaku.imports import import_xml


class Command(BaseCommand):
    help = "Import a Bilibili or Niconico danmaku XML file into a room's recorded video (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the room")
        parser.add_argument("path", type=Path, help="the XML file, or - for standard input")

    def handle(self, *args: Any, slug: str, path: Path, **options: Any) -> None:
        room = find_room(slug)
        if room is None:
            raise CommandError(f"no room {slug!r}")
        try:
            if str(path) == "-":
                report = import_xml(room, sys.stdin.buffer)
            else:
                with path.open("rb") as stream:
                    report = import_xml(room, stream)
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        except XmlRefused as error:
            raise CommandError(f"refused {path} ({error.code}): {error}") from None
        except ChatError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {report.imported} comments into {slug!r}."))
        self.stdout.write(f"Skipped {report.skipped_total}.")
        for reason, count in sorted(report.skipped.items()):
            self.stdout.write(f"  {reason}: {count}")
        if report.ignored_commands:
            self.stdout.write(f"Ignored commands: {report.ignored_commands.total()}.")
            for name, count in sorted(report.ignored_commands.items()):
                self.stdout.write(f"  {name}: {count}")
