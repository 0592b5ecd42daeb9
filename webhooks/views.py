"""`/rooms/<slug>/webhooks`: the room's endpoints and delivery log. Moderators see them and
redeliver; the owner (or staff) also adds, turns off and on, rotates and removes endpoints."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from chat.domain.access import can_appoint
from chat.domain.audit import audit
from chat.models import EventKind, Room
from chat.web.http import moderators_page_room

from .errors import WebhookError
from .models import Attempt, Delivery, DisabledReason, Endpoint
from .registration import EVENT_KINDS, add_endpoint, redeliver, rotate_secret, set_enabled

LOG_ROWS = 50  # deliveries shown, newest first
OWNER_ACTIONS = {"add", "enable", "disable", "rotate", "remove"}


@require_http_methods(["GET", "HEAD", "POST"])
def webhooks_page(request: HttpRequest, slug: str) -> HttpResponse:
    room = moderators_page_room(request, slug, gettext("Only the room's moderators may open this page."))
    if isinstance(room, HttpResponse):
        return room
    is_owner = can_appoint(request.user, room)
    error: WebhookError | None = None
    shown_secret = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in OWNER_ACTIONS and not is_owner:
                raise WebhookError(
                    "owner_only", _("Only the room's owner may change its endpoints."), status=403
                )
            shown_secret = _act(request, room, action)
        except WebhookError as refused:
            error = refused
        else:
            if not shown_secret:
                return redirect("mod_webhooks", slug=room.slug)
    return render(
        request,
        "webhooks/webhooks.html",
        _context(room, is_owner, error, shown_secret, request.POST if error else None),
        status=error.status if error else 200,
    )


def _act(request: HttpRequest, room: Room, action: str) -> str:
    """Carry out a form's action; a secret to show once (a new endpoint's, a rotated one)."""
    if action not in OWNER_ACTIONS and action != "redeliver":
        raise WebhookError(
            "bad_action", _("Unknown action %(action)s."), params={"action": repr(action[:40])}
        )
    if action == "add":
        endpoint = add_endpoint(room, request.POST.get("url", ""), request.POST.getlist("events"))
        audit(
            room,
            request.user,
            "webhook_added",
            endpoint=endpoint.pk,
            url=endpoint.url,
            events=endpoint.events,
        )
        return endpoint.secret
    if action == "redeliver":
        delivery = _find(Delivery.objects.filter(endpoint__room=room), request.POST.get("delivery"))
        redeliver(delivery)
        return ""
    endpoint = _find(Endpoint.objects.filter(room=room), request.POST.get("endpoint"))
    if action == "rotate":
        secret = rotate_secret(endpoint)
        audit(room, request.user, "webhook_secret_rotated", endpoint=endpoint.pk, url=endpoint.url)
        return secret
    if action in ("enable", "disable"):
        set_enabled(endpoint, action == "enable")
        audit(room, request.user, f"webhook_{action}d", endpoint=endpoint.pk, url=endpoint.url)
        return ""
    audit(room, request.user, "webhook_removed", endpoint=endpoint.pk, url=endpoint.url)
    endpoint.delete()
    return ""


def _find(rows: Any, raw: str | None) -> Any:
    if raw is None or not raw.isdigit() or len(raw) > 18:
        raise WebhookError("not_found", _("No such endpoint or delivery in this room."), status=404)
    found = rows.filter(pk=int(raw)).first()
    if found is None:
        raise WebhookError("not_found", _("No such endpoint or delivery in this room."), status=404)
    return found


def _context(
    room: Room, is_owner: bool, error: WebhookError | None, shown_secret: str, posted: Any
) -> dict[str, Any]:
    endpoints = list(Endpoint.objects.filter(room=room).order_by("pk"))
    attempts = Prefetch("attempt_log", queryset=Attempt.objects.order_by("number"))
    log = list(
        Delivery.objects.filter(endpoint__room=room)
        .select_related("endpoint")
        .prefetch_related(attempts)
        .order_by("-created_at", "-pk")[:LOG_ROWS]
    )
    return {
        "room": room,
        "is_owner": is_owner,
        "endpoints": endpoints,
        "log": log,
        "kinds": EVENT_KINDS,
        "kind_names": dict(EventKind.choices),
        "error": error,
        "shown_secret": shown_secret,
        "posted_url": posted.get("url", "") if posted else "",
        "posted_kinds": posted.getlist("events") if posted else ["message", "danmaku", "delete"],
    }


def disabled_notices(room: Room) -> list[str]:
    """The moderator's page says which endpoints the server turned off, and why."""
    rows = Endpoint.objects.filter(room=room, enabled=False).exclude(disabled_reason=DisabledReason.BY_OWNER)
    return [
        gettext("Webhook %(url)s was turned off: %(reason)s.")
        % {"url": endpoint.url, "reason": DisabledReason(endpoint.disabled_reason).label}
        for endpoint in rows[:10]
    ]
