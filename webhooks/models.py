"""Webhook endpoints of a room, the deliveries of its events to them, and each attempt."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import Room


class DisabledReason(models.TextChoices):
    NONE = "", _("Enabled")
    BY_OWNER = "owner", _("Turned off by the owner")
    GONE = "gone", _("The receiver answered 410 Gone")
    FAILING = "failing", _("Every delivery failed for days")


class Endpoint(models.Model):
    """A receiver of a room's events: where, which kinds, and the secrets that sign them."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("room")
    )
    url = models.URLField(max_length=2000, verbose_name=_("URL"))
    events = models.JSONField(
        default=list, help_text=_("event kinds delivered, e.g. message, danmaku"), verbose_name=_("events")
    )
    secret = models.CharField(
        max_length=80, help_text=_("whsec_...: signs every delivery"), verbose_name=_("secret")
    )
    # The secret before the last rotation: deliveries carry both signatures until it expires.
    previous_secret = models.CharField(max_length=80, blank=True, verbose_name=_("previous secret"))
    previous_secret_until = models.DateTimeField(
        null=True, blank=True, verbose_name=_("previous secret until")
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    disabled_reason = models.CharField(
        max_length=16, choices=DisabledReason.choices, blank=True, verbose_name=_("disabled reason")
    )
    disabled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("disabled at"))
    # Consecutive failed attempts, and when the first of them was: days of failure disable.
    failure_streak = models.PositiveIntegerField(default=0, verbose_name=_("failure streak"))
    failing_since = models.DateTimeField(null=True, blank=True, verbose_name=_("failing since"))
    # The seq of the newest event of the room turned into deliveries (the one cursor).
    cursor = models.PositiveBigIntegerField(default=0, verbose_name=_("cursor"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [models.Index(fields=["room", "enabled"])]

    def __str__(self) -> str:
        return f"{self.url} ({self.room_id})"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")  # the schedule ran out, or the endpoint was disabled


class Delivery(models.Model):
    """One event for one endpoint: the body and `webhook-id` are fixed when it is made, so
    every attempt (and a redelivery) sends the same bytes under the same id."""

    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    seq = models.PositiveBigIntegerField(verbose_name=_("sequence number"))
    kind = models.CharField(max_length=16, verbose_name=_("kind"))
    message_id = models.CharField(max_length=40, unique=True, verbose_name=_("message id"))
    payload = models.TextField(verbose_name=_("payload"))
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING, verbose_name=_("state")
    )
    # Attempts claimed so far: a worker sends attempt n+1 only if it moves this from n to n+1
    # (one UPDATE), so two processes never send the same attempt.
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    # When the next attempt is due (pending), or when the running one was claimed.
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    last_status = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("last HTTP status"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["endpoint", "seq"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["endpoint", "-created_at"]),
        ]


class Attempt(models.Model):
    """One POST of a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    number = models.PositiveIntegerField(verbose_name=_("number"))
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    status = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("HTTP status; empty: no answer"), verbose_name=_("status")
    )
    error = models.CharField(
        max_length=32,
        blank=True,
        help_text=_("a stable code when there was no answer"),
        verbose_name=_("error"),
    )
    latency_ms = models.PositiveIntegerField(default=0, verbose_name=_("latency (ms)"))
    excerpt = models.CharField(
        max_length=512, blank=True, help_text=_("the start of the answer's body"), verbose_name=_("excerpt")
    )

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "number"]
