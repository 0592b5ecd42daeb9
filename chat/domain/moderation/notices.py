"""System notices: a moderator (or a site's backend with a `moderate` token) announces
something in a room, as a `system` event without an author."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from chat.domain.access import require_moderator
from chat.domain.audit import audit
from chat.domain.eventlog import append_event
from chat.domain.text import clean_text
from chat.errors import rate_limited
from chat.guards.ratelimit import hit, parse_rate
from chat.models import EventKind, Room, RoomEvent
from chat.types import AnyUser


def post_system_notice(room: Room, actor: AnyUser, text: object) -> RoomEvent:
    """Append a `system` event with `text` (cleaned like every post: 1 to 500 characters); the
    actor's messages-per-user rate counts it, so a runaway backend cannot flood the room."""
    require_moderator(actor, room)
    clean = clean_text(text)
    retry_after = hit(f"system:user:{actor.pk}", parse_rate(settings.CHAT_MESSAGE_RATE))
    if retry_after is not None:
        raise rate_limited(_("Too many notices."), retry_after)
    with transaction.atomic():
        event = append_event(room, EventKind.SYSTEM, text=clean)
        audit(room, actor, "system", event_id=event.pk, text=clean[:200])
    return event
