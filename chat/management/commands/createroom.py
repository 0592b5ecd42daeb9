"""`python manage.py createroom <slug> --title "..." --owner <username>`.

Other apps add options of their own (danmaku: the room's video) with `add_room_options`: chat
never imports them.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chat.domain.rooms import find_room
from chat.models import Room, validate_room_slug


class RoomOptions(Protocol):
    """More options for `createroom`, from another app."""

    def add_arguments(self, parser: CommandParser) -> None: ...

    def check(self, options: dict[str, Any]) -> None:
        """Refuse bad values with CommandError, before the room exists."""

    def apply(self, room: Room, options: dict[str, Any]) -> None:
        """Act on them once the room is created."""


_extensions: list[RoomOptions] = []


def add_room_options(extension: RoomOptions) -> None:
    if extension not in _extensions:
        _extensions.append(extension)


class Command(BaseCommand):
    help = "Create a chat room."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the room's address: 1-50 of a-z, 0-9 and -")
        parser.add_argument("--title", help="the room's title (default: the slug)")
        parser.add_argument("--owner", help="username of the room's owner")
        parser.add_argument(
            "--exist-ok", action="store_true", help="succeed quietly if the room already exists"
        )
        for extension in _extensions:
            extension.add_arguments(parser)

    def handle(
        self, *args: Any, slug: str, title: str | None, owner: str | None, exist_ok: bool, **options: Any
    ) -> None:
        try:
            validate_room_slug(slug)
        except ValidationError as error:
            raise CommandError(f"invalid slug {slug!r}: {' '.join(error.messages)}") from None
        owner_user = None
        if owner:
            owner_user = get_user_model().objects.filter(username=owner).first()
            if owner_user is None:
                raise CommandError(f"no user named {owner!r}")
        if find_room(slug) is not None:
            if exist_ok:
                self.stdout.write(f"Room {slug!r} already exists.")
                return
            raise CommandError(f"room {slug!r} already exists")
        title = (title or slug).strip()
        if not title or len(title) > 200:
            raise CommandError("the title must be 1 to 200 characters")
        for extension in _extensions:
            extension.check(options)
        room = Room.objects.create(slug=slug, title=title, owner=owner_user)
        for extension in _extensions:
            extension.apply(room, options)
        self.stdout.write(self.style.SUCCESS(f"Created room {slug!r}: /rooms/{slug}/"))
