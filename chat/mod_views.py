"""The moderation API, `/rooms/<slug>/mod/...`, and the moderator's page (docs/PROTOCOL.md).

Thin: decode the JSON body, call a domain function in chat/moderation.py, answer with the room
event it caused (`{"seq", "kind", "id"}`) or an error with a stable code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from .cache import shared_cache
from .errors import ChatError
from .hub import get_hub
from .models import AuditEntry, HeldMessage, Room, RoomEvent, RoomRole
from .moderation import (
    audit_to_wire,
    can_appoint,
    clear_room,
    decide_held,
    delete_event,
    held_to_wire,
    lift_sanctions,
    require_moderator,
    room_state,
    sanction_user,
    set_role,
    update_settings,
)
from .params import parse_int
from .views import error_response, json_body, moderators_page_room, room_or_404

AUDIT_MAX_LIMIT = 200


def event_answer(event: RoomEvent, **extra: Any) -> JsonResponse:
    return JsonResponse({"seq": event.seq, "kind": event.kind, "id": event.pk, **extra})


def _has_body(request: HttpRequest) -> bool:
    """Without reading it: a form-encoded body has been read already (by the CSRF check), and
    `request.body` then raises. json_body refuses anything but JSON with `invalid`."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or request.content_type == "application/json" or length not in {"", "0"}


def mod_action(
    action: Callable[[HttpRequest, Room, dict[str, Any]], HttpResponse],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """POST with a JSON body (session + CSRF), ChatError answered as JSON."""

    @require_POST
    def view(request: HttpRequest, slug: str) -> HttpResponse:
        try:
            room = room_or_404(slug)
            body = json_body(request) if _has_body(request) else {}
            return action(request, room, body)
        except ChatError as error:
            return error_response(error)

    view.__name__ = action.__name__
    view.__doc__ = action.__doc__
    return view


def mod_read(
    reader: Callable[[HttpRequest, Room], dict[str, Any]],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """GET for moderators only."""

    @require_GET
    def view(request: HttpRequest, slug: str) -> HttpResponse:
        try:
            room = room_or_404(slug)
            require_moderator(request.user, room)
            return JsonResponse(reader(request, room))
        except ChatError as error:
            return error_response(error)

    view.__name__ = reader.__name__
    view.__doc__ = reader.__doc__
    return view


@mod_action
def delete(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/delete {"id", "reason"?}`"""
    return event_answer(delete_event(room, request.user, body.get("id"), body.get("reason")))


@mod_action
def clear(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/clear {"reason"?}`"""
    return event_answer(clear_room(room, request.user, body.get("reason")))


@mod_action
def timeout(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/timeout {"user", "seconds", "reason"?}`"""
    seconds = body.get("seconds")
    if seconds is None:
        raise ChatError("invalid", "seconds is required (10 to 86400).", field="seconds")
    return event_answer(sanction_user(room, request.user, body.get("user"), seconds, body.get("reason")))


@mod_action
def ban(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/ban {"user", "reason"?}`"""
    return event_answer(sanction_user(room, request.user, body.get("user"), None, body.get("reason")))


@mod_action
def unban(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/unban {"user", "reason"?}`: lifts a timeout or a ban."""
    return event_answer(lift_sanctions(room, request.user, body.get("user"), body.get("reason")))


@mod_action
def settings_view(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/settings {...}`"""
    event = update_settings(room, request.user, body)
    return event_answer(event, settings=room_state(room)["settings"])


@mod_action
def moderators(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/moderators {"add"|"remove": name}` (owner and staff)"""
    return JsonResponse(set_role(room, request.user, RoomRole.Role.MODERATOR, body))


@mod_action
def members(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/members {"add"|"remove": name}`"""
    return JsonResponse(set_role(room, request.user, RoomRole.Role.MEMBER, body))


@require_POST
def review_item(request: HttpRequest, slug: str, held_id: int) -> HttpResponse:
    """`POST mod/review/<id> {"approve": true|false}`"""
    try:
        room = room_or_404(slug)
        event = decide_held(room, request.user, held_id, json_body(request).get("approve"))
    except ChatError as error:
        return error_response(error)
    if event is None:
        return JsonResponse({"rejected": True})
    return event_answer(event)


@mod_read
def review_queue(request: HttpRequest, room: Room) -> dict[str, Any]:
    """`GET mod/review`: the held messages waiting, oldest first."""
    held = (
        HeldMessage.objects.filter(room_id=room.pk, decision=HeldMessage.Decision.PENDING)
        .select_related("user")
        .order_by("id")[:500]
    )
    return {"held": [held_to_wire(item) for item in held]}


@mod_read
def audit_log(request: HttpRequest, room: Room) -> dict[str, Any]:
    """`GET mod/audit?before=<id>&limit=<n>`: newest first."""
    before = parse_int(request.GET.get("before"), "before", low=1, high=2**62)
    limit = parse_int(request.GET.get("limit"), "limit", low=1, high=AUDIT_MAX_LIMIT) or 50
    entries = AuditEntry.objects.filter(room_id=room.pk)
    if before is not None:
        entries = entries.filter(id__lt=before)
    page = list(entries.order_by("-id")[: limit + 1])
    return {"entries": [audit_to_wire(e) for e in page[:limit]], "has_more": len(page) > limit}


@mod_read
def state(request: HttpRequest, room: Room) -> dict[str, Any]:
    """`GET mod/state`: settings, moderators, members, sanctions in force."""
    return room_state(room)


def minute_counts(room: Room) -> list[dict[str, Any]]:
    """Messages and comments per minute over the last hour (chat/messages.py counts them)."""
    now_minute = int(timezone.now().timestamp() // 60)
    minutes = list(range(now_minute - 59, now_minute + 1))
    counts = shared_cache().get_many([f"stats:{room.pk}:{m}" for m in minutes])
    return [
        {
            "minute": datetime.fromtimestamp(m * 60, tz=UTC).strftime("%Y-%m-%dT%H:%M:00Z"),
            "messages": int(counts.get(f"stats:{room.pk}:{m}", 0)),
        }
        for m in minutes
    ]


def _moderated_room(request: HttpRequest, slug: str) -> Room:
    room = room_or_404(slug)
    require_moderator(request.user, room)
    return room


async def stats(request: HttpRequest, slug: str) -> HttpResponse:
    """`GET mod/stats`: viewers now (this process's hub knows presence across processes);
    messages per minute over the last hour."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    try:
        room = await sync_to_async(_moderated_room)(request, slug)
    except ChatError as error:
        return error_response(error)
    snapshot = await get_hub().presence_store.snapshot(room.pk)
    per_minute = await sync_to_async(minute_counts)(room)
    return JsonResponse({"viewers": snapshot.count, "per_minute": per_minute})


@require_GET
@ensure_csrf_cookie
def moderate_page(request: HttpRequest, slug: str) -> HttpResponse:
    """`/rooms/<slug>/moderate`: the moderator's page."""
    room = moderators_page_room(request, slug, "Only the room's moderators may open this page.")
    if isinstance(room, HttpResponse):
        return room
    base = f"/rooms/{room.slug}/mod/"
    urls = {
        name: base + name
        for name in (
            "delete",
            "clear",
            "timeout",
            "ban",
            "unban",
            "settings",
            "review",
            "audit",
            "state",
            "stats",
            "moderators",
            "members",
        )
    }
    urls["review_item"] = base + "review/0"
    urls["import"] = base + "import"
    urls["room"] = reverse("room", kwargs={"slug": room.slug})
    return render(
        request,
        "chat/moderate.html",
        {
            "room": room,
            "me": {"id": request.user.pk, "name": request.user.get_username()},
            "is_owner": can_appoint(request.user, room),
            "urls": urls,
        },
    )
