"""The moderation API, `/rooms/<slug>/mod/...`, and the moderator's page (docs/PROTOCOL.md).

Thin: decode the JSON body, call a domain function in chat/domain/, answer with the room
event it caused (`{"seq", "kind", "id"}`) or an error with a stable code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST, require_safe

from chat.domain.access import can_appoint, require_moderator
from chat.domain.audit import audit_to_wire
from chat.domain.calls import call_settings
from chat.domain.inputs import SEQ_MAX, parse_int
from chat.domain.moderation.dry_run import dry_run_blocked_words
from chat.domain.moderation.notices import post_system_notice
from chat.domain.moderation.pins import pin_message, unpin_message
from chat.domain.moderation.removal import clear_room, delete_event
from chat.domain.moderation.reports import dismiss_reports, report_queue
from chat.domain.moderation.review import decide_held, held_to_wire
from chat.domain.moderation.roles import room_state, set_role
from chat.domain.moderation.sanctions import hide_user, lift_sanctions, sanction_user, unhide_user
from chat.domain.room_settings import update_settings
from chat.domain.rooms import get_room
from chat.domain.stats import minute_counts
from chat.errors import ChatError, error_response
from chat.models import AuditEntry, CallAccess, EventKind, HeldMessage, Room, RoomEvent, RoomRole
from chat.realtime.hub import get_hub

from .http import json_body, moderators_page_room, query_params

AUDIT_MAX_LIMIT = 200
# The moderator's page is given the address of each (route names `mod_<name>`).
MODERATION_ROUTES = (
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
    "pin",
    "unpin",
    "dry_run",
    "hide",
    "unhide",
)
# Routes other apps add to the moderator's page when they are installed (danmaku's upload).
OPTIONAL_ROUTES = ("import", "webhooks")
AUDIT_DEFAULT_LIMIT = 50
# Notices other apps show at the top of the moderator's page (webhooks: a disabled endpoint).
PageNotices = Callable[[Room], list[str]]
_page_notices: list[PageNotices] = []


def add_page_notices(notices: PageNotices) -> None:
    """Show `notices(room)`, plain text lines, on the moderator's page of each room."""
    if notices not in _page_notices:
        _page_notices.append(notices)


REVIEW_QUEUE_MAX = 500


def event_answer(event: RoomEvent, **extra: Any) -> JsonResponse:
    return JsonResponse({"seq": event.seq, "kind": event.kind, "id": event.pk, **extra})


def sanction_answer(event: RoomEvent) -> JsonResponse:
    """A timeout's or ban's event; with a purge, also the `removed` messages it lists."""
    purged = {"removed": event.data["removed"]} if "removed" in event.data else {}
    return event_answer(event, **purged)


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
            room = get_room(slug)
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

    @require_safe
    def view(request: HttpRequest, slug: str) -> HttpResponse:
        try:
            room = get_room(slug)
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
def system(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/system {"text"}`: a system notice."""
    return event_answer(post_system_notice(room, request.user, body.get("text")))


@mod_action
def timeout(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/timeout {"user", "seconds", "reason"?, "purge"?}`"""
    seconds = body.get("seconds")
    if seconds is None:
        raise ChatError("invalid", _("seconds is required (10 to 86400)."), field="seconds")
    target, reason, purge = body.get("user"), body.get("reason"), body.get("purge", False)
    return sanction_answer(sanction_user(room, request.user, target, seconds, reason, purge))


@mod_action
def ban(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/ban {"user", "reason"?, "purge"?}`"""
    target, reason, purge = body.get("user"), body.get("reason"), body.get("purge", False)
    return sanction_answer(sanction_user(room, request.user, target, None, reason, purge))


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
def hide(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/hide {"user", "reason"?}`: answers with the hidden users."""
    hide_user(room, request.user, body.get("user"), body.get("reason"))
    return JsonResponse({"hidden": room_state(room)["hidden"]})


@mod_action
def unhide(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/unhide {"user", "reason"?}`"""
    unhide_user(room, request.user, body.get("user"), body.get("reason"))
    return JsonResponse({"hidden": room_state(room)["hidden"]})


@mod_action
def dry_run(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/dry-run {"blocked_words": [...]}`: what they would have caught lately."""
    return JsonResponse(dry_run_blocked_words(room, request.user, body.get("blocked_words")))


@mod_action
def pin(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/pin {"id", "seconds"?}`: pins a message (one at a time)."""
    event = pin_message(room, request.user, body.get("id"), body.get("seconds"))
    return event_answer(event, pinned=event.data["pinned"])


@mod_action
def unpin(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/unpin {"reason"?}`"""
    return event_answer(unpin_message(room, request.user, body.get("reason")), pinned=None)


@mod_action
def moderators(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/moderators {"add"|"remove": name}` (owner and staff)"""
    return JsonResponse(set_role(room, request.user, RoomRole.Role.MODERATOR, body))


@mod_action
def members(request: HttpRequest, room: Room, body: dict[str, Any]) -> HttpResponse:
    """`POST mod/members {"add"|"remove": name}`"""
    return JsonResponse(set_role(room, request.user, RoomRole.Role.MEMBER, body))


@require_POST
def report_item(request: HttpRequest, slug: str, event_id: int) -> HttpResponse:
    """`POST mod/reports/<id> {"dismiss": true}`: the message stays; its reports leave the queue."""
    try:
        room = get_room(slug)
        if json_body(request).get("dismiss") is not True:
            raise ChatError("invalid", _('Send {"dismiss": true}.'), field="dismiss")
        return JsonResponse({"dismissed": dismiss_reports(room, request.user, event_id)})
    except ChatError as error:
        return error_response(error)


@require_POST
def review_item(request: HttpRequest, slug: str, held_id: int) -> HttpResponse:
    """`POST mod/review/<id> {"approve": true|false}`"""
    try:
        room = get_room(slug)
        event = decide_held(room, request.user, held_id, json_body(request).get("approve"))
    except ChatError as error:
        return error_response(error)
    if event.kind == EventKind.REVIEW:
        return event_answer(event, rejected=True)
    return event_answer(event)


@mod_read
def review_queue(request: HttpRequest, room: Room) -> dict[str, Any]:
    """`GET mod/review`: the held messages waiting, oldest first; the reported messages."""
    held = (
        HeldMessage.objects.filter(room_id=room.pk, decision=HeldMessage.Decision.PENDING)
        .select_related("user__bot_account")
        .order_by("id")[:REVIEW_QUEUE_MAX]
    )
    return {"held": [held_to_wire(item) for item in held], "reports": report_queue(room)}


@mod_read
def audit_log(request: HttpRequest, room: Room) -> dict[str, Any]:
    """`GET mod/audit?before=<id>&limit=<n>`: newest first."""
    query = query_params(request)
    before = parse_int(query.get("before"), "before", low=1, high=SEQ_MAX)
    limit = parse_int(query.get("limit"), "limit", low=1, high=AUDIT_MAX_LIMIT) or AUDIT_DEFAULT_LIMIT
    entries = AuditEntry.objects.filter(room_id=room.pk)
    if before is not None:
        entries = entries.filter(id__lt=before)
    page = list(entries.order_by("-id")[: limit + 1])
    return {"entries": [audit_to_wire(e) for e in page[:limit]], "has_more": len(page) > limit}


@mod_read
def state(request: HttpRequest, room: Room) -> dict[str, Any]:
    """`GET mod/state`: settings, moderators, members, sanctions in force."""
    return room_state(room)


def _moderated_room(request: HttpRequest, slug: str) -> Room:
    room = get_room(slug)
    require_moderator(request.user, room)
    return room


async def stats(request: HttpRequest, slug: str) -> HttpResponse:
    """`GET mod/stats`: viewers now (this process's hub knows presence across processes);
    messages per minute over the last hour."""
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    try:
        room = await sync_to_async(_moderated_room)(request, slug)
    except ChatError as error:
        return error_response(error)
    snapshot = await get_hub().presence_store.snapshot(room.pk)
    per_minute = await sync_to_async(minute_counts)(room.pk)
    return JsonResponse({"viewers": snapshot.count, "per_minute": per_minute})


def call_access_phrase(access: str) -> str:
    """Who may join the room's call, as the moderator's page words it after "The call is open to"."""
    phrases = {
        CallAccess.SIGNED_IN: gettext("everyone signed in"),
        CallAccess.MEMBERS: gettext("the room's members"),
        CallAccess.INVITED: gettext("moderators and the accounts the owner invites"),
    }
    return phrases[CallAccess(access)]


@require_safe
@ensure_csrf_cookie
def moderate_page(request: HttpRequest, slug: str) -> HttpResponse:
    """`/rooms/<slug>/moderate`: the moderator's page."""
    room = moderators_page_room(request, slug, gettext("Only the room's moderators may open this page."))
    if isinstance(room, HttpResponse):
        return room
    urls = {name: reverse(f"mod_{name}", kwargs={"slug": room.slug}) for name in MODERATION_ROUTES}
    for name in OPTIONAL_ROUTES:
        with contextlib.suppress(NoReverseMatch):
            urls[name] = reverse(f"mod_{name}", kwargs={"slug": room.slug})
    # The page adds a held message's id to this one's path ("review/0" -> "review/<id>").
    urls["review_item"] = reverse("mod_review_item", kwargs={"slug": room.slug, "held_id": 0})
    urls["report_item"] = reverse("mod_report_item", kwargs={"slug": room.slug, "event_id": 0})
    urls["room"] = reverse("room", kwargs={"slug": room.slug})
    urls["call_settings"] = reverse("call_settings", kwargs={"slug": room.slug})
    return render(
        request,
        "chat/moderate.html",
        {
            "room": room,
            "me": {"id": request.user.pk, "name": request.user.get_username()},
            "is_owner": can_appoint(request.user, room),
            "urls": urls,
            "call_access": call_access_phrase(call_settings(room)["access"]),
            "page_notices": [line for notices in _page_notices for line in notices(room)],
        },
    )
