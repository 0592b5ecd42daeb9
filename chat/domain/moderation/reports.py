"""Reports: a viewer reports a message or comment with a reason; moderators see the reported
messages in the review queue with the count of people who reported each (one report per person
and message: reporting again updates the reason), and delete the message or dismiss the reports.

Reports are not room events: who reported what, and why, is for moderators only (the audit log
records each new report)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.domain.access import require_moderator, require_reader
from chat.domain.audit import audit
from chat.domain.text import clean_text
from chat.domain.wire import event_to_wire, format_ts
from chat.errors import ChatError, login_required, rate_limited
from chat.guards.ratelimit import hit, parse_rate
from chat.models import EventKind, Report, Room, RoomEvent
from chat.types import AnyUser

from .fields import clean_event_id

REASON_MAX_CHARS = 200
# Reported messages listed at once (most reporters first), and reasons shown for each.
REPORTS_LISTED_MAX = 100
REASONS_SHOWN = 5
REPORTABLE_KINDS = (EventKind.MESSAGE, EventKind.DANMAKU)


def report_event(room: Room, user: AnyUser, event_id: object, reason: object) -> dict[str, Any]:
    """Report a message or comment of someone else; `{"reported": true, "id"}`. Raises
    login_required, private_room, invalid, not_found, own_message or rate_limited."""
    if not user.is_authenticated:
        raise login_required()
    require_reader(user, room)
    target_id = clean_event_id(event_id)
    if not isinstance(reason, str) or not reason.strip():
        raise ChatError("invalid", _("Say why you report it (1 to 200 characters)."), field="reason")
    why = clean_text(reason, max_chars=REASON_MAX_CHARS)
    retry_after = hit(f"report:user:{user.pk}", parse_rate(settings.CHAT_REPORT_RATE))
    if retry_after is not None:
        raise rate_limited(_("Too many reports."), retry_after)
    with transaction.atomic():
        target = RoomEvent.objects.filter(
            room_id=room.pk, pk=target_id, kind__in=REPORTABLE_KINDS, deleted_at=None
        ).first()
        if target is None:
            raise ChatError(
                "not_found",
                _("There is no message %(target_id)s in this room."),
                params={"target_id": target_id},
                status=404,
            )
        if target.user_id == user.pk:
            raise ChatError("own_message", _("You cannot report your own message."), field="id")
        _report, created = Report.objects.update_or_create(
            event=target,
            reporter_id=user.pk,
            defaults={"room": room, "reason": why, "resolved_at": None, "created_at": timezone.now()},
        )
        if created:  # one audit entry per reporter and message, however often they report it
            audit(
                room,
                user,
                "report",
                target=target.user,
                event_id=target.pk,
                reason=why,
                text=target.text[:200],
            )
    return {"reported": True, "id": target.pk}


def report_queue(room: Room) -> list[dict[str, Any]]:
    """The reported messages not dealt with yet: most reporters first, then oldest."""
    rows = list(
        Report.objects.filter(room_id=room.pk, resolved_at=None)
        .values("event_id")
        .annotate(reporters=Count("id"), first=Min("created_at"), last=Max("created_at"))
        .order_by("-reporters", "first")[:REPORTS_LISTED_MAX]
    )
    events = RoomEvent.objects.in_bulk([row["event_id"] for row in rows])
    reasons: dict[int, list[str]] = {}
    for event_id, why in (
        Report.objects.filter(event_id__in=list(events), resolved_at=None)
        .order_by("-created_at")
        .values_list("event_id", "reason")
    ):
        shown = reasons.setdefault(event_id, [])
        if len(shown) < REASONS_SHOWN:
            shown.append(why)
    return [
        {
            "event": event_to_wire(events[row["event_id"]]),
            "reporters": row["reporters"],
            "reasons": reasons.get(row["event_id"], []),
            "first": format_ts(row["first"]),
            "last": format_ts(row["last"]),
        }
        for row in rows
        if row["event_id"] in events
    ]


def dismiss_reports(room: Room, actor: AnyUser, event_id: object) -> int:
    """A moderator looked and keeps the message: its reports leave the queue. How many."""
    require_moderator(actor, room)
    target_id = clean_event_id(event_id)
    with transaction.atomic():
        dismissed = Report.objects.filter(room_id=room.pk, event_id=target_id, resolved_at=None).update(
            resolved_at=timezone.now()
        )
        if not dismissed:
            raise ChatError(
                "not_found",
                _("Message %(target_id)s has no open reports."),
                params={"target_id": target_id},
                status=404,
            )
        audit(room, actor, "dismiss_reports", event_id=target_id, reports=dismissed)
    return dismissed


def resolve_removed(room: Room, event_ids: list[int] | None = None) -> None:
    """Inside a deletion, clear or purge: reports of what went are dealt with (None: all)."""
    reports = Report.objects.filter(room_id=room.pk, resolved_at=None)
    if event_ids is not None:
        reports = reports.filter(event_id__in=event_ids)
    reports.update(resolved_at=timezone.now())
