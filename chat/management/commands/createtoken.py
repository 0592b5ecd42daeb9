"""`python manage.py createtoken USER --scopes post[,read,moderate] [--room SLUG]... [--name NAME]
[--expires-days N] [--bot]`: makes an API token and prints it on its last line."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from chat.domain.bots import mark_bot
from chat.domain.rooms import find_room
from chat.domain.tokens import create_token
from chat.errors import ChatError


class Command(BaseCommand):
    help = "Create an API token for a user (printed once, on the last line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="the account's username")
        parser.add_argument("--scopes", required=True, help="comma-separated: read, post, moderate")
        parser.add_argument(
            "--room", action="append", default=[], help="limit the token to this room (repeatable)"
        )
        parser.add_argument("--name", default="", help="the token's name (default: from the command line)")
        parser.add_argument("--expires-days", type=int, help="expire after this many days (default: never)")
        parser.add_argument("--bot", action="store_true", help="also mark the account as a bot")

    def handle(
        self,
        *args: Any,
        user: str,
        scopes: str,
        room: list[str],
        name: str,
        expires_days: int | None,
        bot: bool,
        **options: Any,
    ) -> None:
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"no user named {user!r}")
        rooms = []
        for slug in room:
            found = find_room(slug)
            if found is None:
                raise CommandError(f"no room {slug!r}")
            rooms.append(found)
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be 1 or more")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            made = create_token(account, name or "command line", scopes, rooms=rooms, expires_at=expires_at)
        except ChatError as error:
            raise CommandError(error.message) from None
        if bot:
            mark_bot(account)
            self.stdout.write(f"Marked {user!r} as a bot.")
        where = ", ".join(r.slug for r in rooms) or "every room"
        self.stdout.write(
            f"Token {made.token.name!r} for {user!r}: {', '.join(made.token.scopes)} in {where}."
        )
        self.stdout.write(made.raw)
