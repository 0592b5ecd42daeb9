"""The audit log: who did what to whom in a room, and why. Append-only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from chat.models import AuditEntry, Room
from chat.types import AnyUser

from .wire import format_ts


def audit(
    room: Room,
    actor: AnyUser,
    action: str,
    *,
    target: User | None = None,
    event_id: int | None = None,
    reason: str = "",
    **detail: Any,
) -> AuditEntry:
    account = actor if isinstance(actor, User) else None  # None: the shell or a signed-out caller
    return AuditEntry.objects.create(
        room=room,
        actor=account,
        actor_name=account.get_username() if account is not None else "",
        action=action,
        target_user=target,
        target_name=target.get_username() if target is not None else "",
        target_event=event_id,
        reason=reason,
        detail=detail,
    )


def audit_to_wire(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "ts": format_ts(entry.created_at),
        "actor": entry.actor_name or None,
        "action": entry.action,
        "target": entry.target_name or None,
        "target_event": entry.target_event,
        "reason": entry.reason,
        "detail": entry.detail,
    }
