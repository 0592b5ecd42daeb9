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
        parser.add_argument("--video-url", help="http(s) address of the room's video")
        parser.add_argument("--video-title", default="", help="the video's title")
        parser.add_argument("--duration-ms", type=int, help="length of a recorded video in ms")
        parser.add_argument("--live", action="store_true", help="the video is a live stream")

    def handle(
        self,
        *args: Any,
        slug: str,
        title: str | None,
        owner: str | None,
        exist_ok: bool,
        video_url: str | None,
        video_title: str,
        duration_ms: int | None,
        live: bool,
        **options: Any,
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
        if video_url is not None and not video_url.lower().startswith(("http://", "https://")):
            raise CommandError("--video-url must be an http or https address")
        if duration_ms is not None and duration_ms < 0:
            raise CommandError("--duration-ms must not be negative")
        room = Room.objects.create(slug=slug, title=title, owner=owner_user)
        if video_url:
            from danmaku.models import RoomVideo

            RoomVideo.objects.create(
                room=room, url=video_url, title=video_title, duration_ms=duration_ms, live=live
            )
        self.stdout.write(self.style.SUCCESS(f"Created room {slug!r}: /rooms/{slug}/"))
