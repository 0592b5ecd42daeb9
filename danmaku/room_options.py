"""`createroom`'s video options (`--video-url` and the rest), added by danmaku to chat's command."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from chat.models import Room

from .models import RoomVideo


class VideoOptions:
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--video-url", help="http(s) address of the room's video")
        parser.add_argument("--video-title", default="", help="the video's title")
        parser.add_argument("--duration-ms", type=int, help="length of a recorded video in ms")
        parser.add_argument("--live", action="store_true", help="the video is a live stream")

    def check(self, options: dict[str, Any]) -> None:
        url, duration_ms = options.get("video_url"), options.get("duration_ms")
        if url is not None and not url.lower().startswith(("http://", "https://")):
            raise CommandError("--video-url must be an http or https address")
        if duration_ms is not None and duration_ms < 0:
            raise CommandError("--duration-ms must not be negative")

    def apply(self, room: Room, options: dict[str, Any]) -> None:
        # `--live` alone: a live room with no video (comments on the wall clock).
        if options.get("video_url") or options.get("live"):
            RoomVideo.objects.create(
                room=room,
                url=options.get("video_url") or "",
                title=options.get("video_title") or "",
                duration_ms=options.get("duration_ms"),
                live=bool(options.get("live")),
            )
