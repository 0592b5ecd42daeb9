"""`python manage.py createroom <slug> --title "..." --owner <username>`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chat.models import Room, validate_room_slug


class Command(BaseCommand):
    help = "Create a chat room."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the room's address: 1-50 of a-z, 0-9 and -")
        parser.add_argument("--title", help="the room's title (default: the slug)")
        parser.add_argument("--owner", help="username of the room's owner")
        parser.add_argument(
            "--exist-ok", action="store_true", help="succeed quietly if the room already exists"
        )

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
        if Room.objects.filter(slug=slug).exists():
            if exist_ok:
                self.stdout.write(f"Room {slug!r} already exists.")
                return
            raise CommandError(f"room {slug!r} already exists")
        title = (title or slug).strip()
        if not title or len(title) > 200:
            raise CommandError("the title must be 1 to 200 characters")
        Room.objects.create(slug=slug, title=title, owner=owner_user)
        self.stdout.write(self.style.SUCCESS(f"Created room {slug!r}: /rooms/{slug}/"))
