"""Webhook endpoints of a room, the deliveries of its events to them, and each attempt."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from chat.models import Room


class DisabledReason(models.TextChoices):
    NONE = "", "Enabled"
    BY_OWNER = "owner", "Turned off by the owner"
    GONE = "gone", "The receiver answered 410 Gone"
    FAILING = "failing", "Every delivery failed for days"


class Endpoint(models.Model):
    """A receiver of a room's events: where, which kinds, and the secrets that sign them."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="event kinds delivered, e.g. message, danmaku")
    secret = models.CharField(max_length=80, help_text="whsec_...: signs every delivery")
    # The secret before the last rotation: deliveries carry both signatures until it expires.
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=16, choices=DisabledReason.choices, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Consecutive failed attempts, and when the first of them was: days of failure disable.
    failure_streak = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    # The seq of the newest event of the room turned into deliveries (the one cursor).
    cursor = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["room", "enabled"])]

    def __str__(self) -> str:
        return f"{self.url} ({self.room_id})"


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the schedule ran out, or the endpoint was disabled


class Delivery(models.Model):
    """One event for one endpoint: the body and `webhook-id` are fixed when it is made, so
    every attempt (and a redelivery) sends the same bytes under the same id."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=16)
    message_id = models.CharField(max_length=40, unique=True)
    payload = models.TextField()
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    # Attempts claimed so far: a worker sends attempt n+1 only if it moves this from n to n+1
    # (one UPDATE), so two processes never send the same attempt.
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt is due (pending), or when the running one was claimed.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "seq"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["endpoint", "-created_at"]),
        ]


class Attempt(models.Model):
    """One POST of a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    status = models.PositiveIntegerField(null=True, blank=True, help_text="HTTP status; empty: no answer")
    error = models.CharField(max_length=32, blank=True, help_text="a stable code when there was no answer")
    latency_ms = models.PositiveIntegerField(default=0)
    excerpt = models.CharField(max_length=512, blank=True, help_text="the start of the answer's body")

    class Meta:
        ordering = ["delivery", "number"]
