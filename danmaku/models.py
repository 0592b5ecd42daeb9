"""A room's video and viewers' saved danmaku settings. Comments themselves are room events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from chat.models import Room


class RoomVideo(models.Model):
    """What a room's watch page plays. Without one (or with an empty URL) the room is live only."""

    room = models.OneToOneField(Room, on_delete=models.CASCADE, primary_key=True, related_name="video")
    url = models.URLField(max_length=2000, blank=True, help_text="http(s) address of the video; empty: none")
    title = models.CharField(max_length=200, blank=True)
    duration_ms = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="length of a recorded video, if known"
    )
    live = models.BooleanField(default=False, help_text="a live stream: comments carry no video time")
    # Comments with a seq above this belong to the current video; changing the video raises it,
    # so the old video's comments never replay over the new one (they stay in the log and history).
    since_seq = models.PositiveBigIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.room_id}: {self.url or 'no video'}"

    @property
    def has_video(self) -> bool:
        return bool(self.url)

    @property
    def recorded(self) -> bool:
        """Comments carry a position in the video (a video that is not a live stream)."""
        return self.has_video and not self.live


class ViewerSettings(models.Model):
    """A signed-in viewer's danmaku preferences (the same keys the watch page keeps locally)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="danmaku_settings"
    )
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "viewer settings"

    def __str__(self) -> str:
        return f"settings of user {self.user_id}"
