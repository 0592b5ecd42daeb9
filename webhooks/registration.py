"""Registering endpoints: validated input, a fresh secret, rotation, redelivery."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import EventKind, Room

from .errors import WebhookError
from .models import Delivery, DeliveryState, DisabledReason, Endpoint
from .signing import new_secret
from .ssrf import parse_url, resolve
from .tasks import enqueue_delivery

EVENT_KINDS = tuple(kind.value for kind in EventKind)
ENDPOINTS_PER_ROOM_MAX = 20  # each endpoint multiplies the room's deliveries
URL_MAX_CHARS = 2000


def parse_kinds(raw: str | Iterable[str]) -> list[str]:
    """`message,danmaku,delete` (or a list of them) as a list, or a `bad_events` error."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    kinds = sorted({item.strip() for item in items if item.strip()})
    unknown = [kind for kind in kinds if kind not in EVENT_KINDS]
    if unknown:
        raise WebhookError(
            "bad_events",
            _("Unknown event kinds: %(names)s (known: %(kinds)s)."),
            params={"names": ", ".join(unknown), "kinds": ", ".join(EVENT_KINDS)},
        )
    if not kinds:
        raise WebhookError(
            "bad_events",
            _("Name at least one event kind (%(kinds)s)."),
            params={"kinds": ", ".join(EVENT_KINDS)},
        )
    return kinds


def check_url(url: str) -> str:
    url = url.strip()
    if len(url) > URL_MAX_CHARS:
        raise WebhookError(
            "bad_url",
            _("The URL is longer than %(url_max_chars)s characters."),
            params={"url_max_chars": URL_MAX_CHARS},
        )
    parse_url(url)
    resolve(url)  # refused now rather than at the first delivery
    return url


def add_endpoint(room: Room, url: str, kinds: str | Iterable[str]) -> Endpoint:
    """A new enabled endpoint; it receives the events committed from now on."""
    url = check_url(url)
    events = parse_kinds(kinds)
    with transaction.atomic():
        locked = Room.objects.select_for_update().get(pk=room.pk)
        if Endpoint.objects.filter(room=locked).count() >= ENDPOINTS_PER_ROOM_MAX:
            raise WebhookError(
                "too_many_endpoints",
                _("A room has at most %(endpoints_per_room_max)s endpoints."),
                params={"endpoints_per_room_max": ENDPOINTS_PER_ROOM_MAX},
            )
        return Endpoint.objects.create(
            room=locked, url=url, events=events, secret=new_secret(), cursor=locked.last_seq
        )


def rotate_secret(endpoint: Endpoint) -> str:
    """A new secret; the old one still signs (a second signature) for WEBHOOK_ROTATION_WINDOW."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = timezone.now() + settings.WEBHOOK_ROTATION_WINDOW
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return endpoint.secret


def set_enabled(endpoint: Endpoint, enabled: bool) -> None:
    """On again (from the log's end: what was missed is in the log, by seq), or off."""
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=endpoint.room_id)
        endpoint.enabled = enabled
        if enabled:
            endpoint.disabled_reason = DisabledReason.NONE
            endpoint.disabled_at = None
            endpoint.failure_streak = 0
            endpoint.failing_since = None
            endpoint.cursor = max(endpoint.cursor, room.last_seq)
        else:
            endpoint.disabled_reason = DisabledReason.BY_OWNER
            endpoint.disabled_at = timezone.now()
        endpoint.save()


def redeliver(delivery: Delivery) -> None:
    """Send a delivery again (same `webhook-id`, same body), now."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
        if not locked.endpoint.enabled:
            raise WebhookError(
                "endpoint_disabled", _("Turn the endpoint on before redelivering."), status=409
            )
        if locked.state == DeliveryState.PENDING:
            raise WebhookError(
                "already_pending", _("This delivery is already waiting for its next attempt."), status=409
            )
        locked.state = DeliveryState.PENDING
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["state", "next_attempt_at"])
        enqueue_delivery(locked.pk, locked.attempts)
        delivery.refresh_from_db()
