"""`manage.py addwebhook ROOM URL --events message,danmaku`: the secret is the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chat.models import Room
from webhooks.errors import WebhookError
from webhooks.registration import EVENT_KINDS, add_endpoint


class Command(BaseCommand):
    help = "Register a webhook endpoint for a room's events and print its signing secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("room", help="the room's slug")
        parser.add_argument("url", help="where deliveries are POSTed (http:// or https://)")
        parser.add_argument(
            "--events",
            default="message,danmaku,delete",
            help=f"comma-separated event kinds (of {', '.join(EVENT_KINDS)}); default: %(default)s",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            room = Room.objects.get(slug=options["room"])
        except Room.DoesNotExist:
            raise CommandError(f"room_not_found: no room {options['room']!r}") from None
        try:
            endpoint = add_endpoint(room, options["url"], options["events"])
        except WebhookError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(
            f"Endpoint {endpoint.pk} of room {room.slug}: {endpoint.url} ({', '.join(endpoint.events)})"
        )
        self.stdout.write(endpoint.secret)
