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


class DanmakuImport(models.Model):
    """One import of a file into a room. Its comments wait in `StagedComment`, written in small
    transactions while the file is read, and join the room's log in one statement when the
    last one is in (danmaku/imports.py). The record stays: the import quotas count it."""

    class Status(models.TextChoices):
        STAGING = "staging"
        COMMITTED = "committed"
        FAILED = "failed"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STAGING)
    # Comments staged so far; once finished, what the quotas count (a failed import's work too).
    comments = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # Moved on with every chunk: a staging import left alone this long was abandoned (its
    # process died) and is cleared by the next import.
    updated_at = models.DateTimeField(default=timezone.now)
    last_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["room"], condition=models.Q(status="staging"), name="one_import_at_a_time_per_room"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="staging"), name="one_import_at_a_time_per_user"
            ),
        ]
        indexes = [
            models.Index(fields=["room", "created_at"], name="import_room_recent"),
            models.Index(fields=["user", "created_at"], name="import_user_recent"),
        ]

    def __str__(self) -> str:
        return f"import {self.pk} into room {self.room_id}: {self.status}"


class StagedComment(models.Model):
    """A comment of an import that has not committed yet: invisible to every reader."""

    batch = models.ForeignKey(DanmakuImport, on_delete=models.CASCADE, related_name="+", db_index=False)
    ordinal = models.PositiveIntegerField()  # 1, 2, ... in file order: its seq is the base + this
    text = models.TextField()
    data = models.JSONField(default=dict)
    video_ms = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "ordinal"], name="staged_comment_order")]
