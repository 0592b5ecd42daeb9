"""A room's video and viewers' saved danmaku settings. Comments themselves are room events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import Room


class RoomVideo(models.Model):
    """What a room's watch page plays. Without one (or with an empty URL) the room is live only."""

    room = models.OneToOneField(
        Room, on_delete=models.CASCADE, primary_key=True, related_name="video", verbose_name=_("room")
    )
    url = models.URLField(
        max_length=2000,
        blank=True,
        help_text=_("http(s) address of the video; empty: none"),
        verbose_name=_("URL"),
    )
    title = models.CharField(max_length=200, blank=True, verbose_name=_("title"))
    duration_ms = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text=_("length of a recorded video, if known"),
        verbose_name=_("duration (ms)"),
    )
    live = models.BooleanField(
        default=False, help_text=_("a live stream: comments carry no video time"), verbose_name=_("live")
    )
    # Comments with a seq above this belong to the current video; changing the video raises it,
    # so the old video's comments never replay over the new one (they stay in the log and history).
    since_seq = models.PositiveBigIntegerField(
        default=0, editable=False, verbose_name=_("since sequence number")
    )
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("room video")
        verbose_name_plural = _("room videos")

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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="danmaku_settings",
        verbose_name=_("user"),
    )
    data = models.JSONField(default=dict, verbose_name=_("data"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("viewer settings")
        verbose_name_plural = _("viewer settings")

    def __str__(self) -> str:
        return f"settings of user {self.user_id}"


class DanmakuImport(models.Model):
    """One import of a file into a room. Its comments wait in `StagedComment`, written in small
    transactions while the file is read, and join the room's log in one statement when the
    last one is in (danmaku/imports.py). The record stays: the import quotas count it."""

    class Status(models.TextChoices):
        STAGING = "staging", _("Staging")
        COMMITTED = "committed", _("Committed")
        FAILED = "failed", _("Failed")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+", verbose_name=_("room"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.STAGING, verbose_name=_("status")
    )
    # Comments staged so far; once finished, what the quotas count (a failed import's work too).
    comments = models.PositiveIntegerField(default=0, verbose_name=_("comments"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    # Moved on with every chunk: a staging import left alone this long was abandoned (its
    # process died) and is cleared by the next import.
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))
    last_seq = models.PositiveBigIntegerField(null=True, blank=True, verbose_name=_("last sequence number"))

    class Meta:
        verbose_name = _("danmaku import")
        verbose_name_plural = _("danmaku imports")
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

    batch = models.ForeignKey(
        DanmakuImport, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("batch")
    )
    ordinal = models.PositiveIntegerField(
        verbose_name=_("ordinal")
    )  # 1, 2, ... in file order: its seq is the base + this
    text = models.TextField(verbose_name=_("text"))
    data = models.JSONField(default=dict, verbose_name=_("data"))
    video_ms = models.BigIntegerField(verbose_name=_("video time (ms)"))

    class Meta:
        verbose_name = _("staged comment")
        verbose_name_plural = _("staged comments")
        constraints = [models.UniqueConstraint(fields=["batch", "ordinal"], name="staged_comment_order")]
