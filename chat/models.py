"""Rooms and the per-room event log."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

ROOM_SLUG_PATTERN = r"[a-z0-9-]{1,50}"
validate_room_slug = RegexValidator(
    rf"^{ROOM_SLUG_PATTERN}\Z",
    "Use 1 to 50 lowercase letters, digits or hyphens.",
    code="invalid_slug",
)


class Room(models.Model):
    slug = models.CharField(max_length=50, unique=True, validators=[validate_room_slug])
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_rooms",
    )
    # The seq of the newest event; bumped under a row lock in the inserting transaction.
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class EventKind(models.TextChoices):
    MESSAGE = "message"
    DANMAKU = "danmaku"
    DELETE = "delete"
    CLEAR = "clear"
    BAN = "ban"
    UNBAN = "unban"
    SETTINGS = "settings"
    SYSTEM = "system"


# Kinds that are content a reader scrolls back through (the rest change other events or state).
CONTENT_KINDS = (EventKind.MESSAGE, EventKind.DANMAKU, EventKind.SYSTEM)


class RoomEvent(models.Model):
    """One visible change in a room; `seq` orders a room's events 1, 2, 3, ... with no gaps."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="room_events",
    )
    # The author's name when the event was written, so serialising never needs a join.
    user_name = models.CharField(max_length=150, blank=True)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)  # kind-specific fields
    # Danmaku on a recorded video: the position in the video it belongs to (null on live).
    # A column, not a field of `data`, so the time-window query is an index range scan.
    video_ms = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="room_event_unique_seq"),
        ]
        indexes = [
            models.Index(
                fields=["room", "video_ms", "seq"],
                name="room_event_video_time",
                condition=models.Q(video_ms__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq} {self.kind}"
