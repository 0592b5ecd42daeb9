"""What the room page tells its viewer when it opens: the room's posting rules, and for a
signed-in user their own standing (a ban or timeout in force, their messages held for review).
Afterwards the room's events keep it current (docs/PROTOCOL.md "Moderation you can see")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from chat.domain.access import active_sanction, can_moderate
from chat.domain.room_settings import PUBLIC_SETTINGS
from chat.domain.wire import format_ts
from chat.models import HeldMessage, Room
from chat.types import AnyUser

# A rejection its author has not seen yet is still shown this long after it.
REJECTED_SHOWN_FOR = timedelta(hours=1)
# Held messages listed at most (a user posting into a room that reviews everything).
HELD_LISTED_MAX = 20


def page_standing(room: Room, user: AnyUser) -> dict[str, Any]:
    """`{"settings", "moderates", "sanction", "held"}` for the room page of `user`."""
    standing: dict[str, Any] = {
        "settings": {name: getattr(room, name) for name in PUBLIC_SETTINGS},
        "moderates": can_moderate(user, room),
        "sanction": None,
        "held": [],
    }
    if not user.is_authenticated:
        return standing
    sanction = active_sanction(room, user)
    if sanction is not None:
        standing["sanction"] = {
            "sanction": sanction.kind,
            "until": format_ts(sanction.until) if sanction.until is not None else None,
            "reason": sanction.reason,
        }
    recent = timezone.now() - REJECTED_SHOWN_FOR
    held = HeldMessage.objects.filter(room_id=room.pk, user_id=user.pk).filter(
        Q(decision=HeldMessage.Decision.PENDING)
        | Q(decision=HeldMessage.Decision.REJECTED, decided_at__gte=recent)
    )
    standing["held"] = [
        {
            "held_id": item.pk,
            "kind": item.kind,
            "text": item.text,
            # A hidden user's messages show to them as their own, not as waiting for review.
            "decision": "private" if item.reason == HeldMessage.Reason.HIDDEN_USER else item.decision,
            **({"release_at": format_ts(item.release_at)} if item.release_at is not None else {}),
        }
        for item in reversed(held.order_by("-id")[:HELD_LISTED_MAX])
    ]
    return standing
