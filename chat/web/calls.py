"""The call page and the call's HTTP API: ICE servers with TURN credentials, and the owner's
call settings (docs/PROTOCOL.md "Calls"). The call itself runs over the room's WebSocket
(chat/transports/calls.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_safe

from chat.domain.access import can_moderate, require_owner
from chat.domain.calls import (
    CALL_MAX_PARTICIPANTS,
    call_settings,
    check_may_join_call,
    ice_servers,
    update_call_settings,
)
from chat.domain.rooms import get_room
from chat.domain.wire import user_ref
from chat.errors import ChatError, error_response
from chat.guards.ratelimit import hit, parse_rate

from .http import json_body, login_redirect, readers_page_room

# TURN credentials one user may fetch: the page asks once per call and once per TTL; a client
# asking more is scraping relay credentials.
ICE_RATE = "30/60"


@require_safe
@ensure_csrf_cookie
def call_page(request: HttpRequest, slug: str) -> HttpResponse:
    """`/rooms/<slug>/call`: the room's call beside its chat."""
    room = readers_page_room(request, slug)
    if isinstance(room, HttpResponse):
        return room
    if not request.user.is_authenticated:
        return login_redirect(request)
    context = {
        "room": room,
        "me": user_ref(request.user),
        "can_moderate": can_moderate(request.user, room),
        "max_participants": CALL_MAX_PARTICIPANTS,
    }
    return render(request, "chat/call.html", context)


@require_safe
def ice_view(request: HttpRequest, slug: str) -> HttpResponse:
    """`GET /rooms/<slug>/call/ice`: `{"ice_servers": [...], "ttl": s}` for someone who may
    join the room's call, with TURN credentials of their own that expire after `ttl`."""
    try:
        room = get_room(slug)
        check_may_join_call(room, request.user)
        wait = hit(f"call-ice:{request.user.pk}", parse_rate(ICE_RATE))
        if wait is not None:
            raise ChatError(
                "rate_limited", _("Too many requests for ICE servers."), status=429, retry_after=wait
            )
        answer = JsonResponse(ice_servers(request.user))
    except ChatError as error:
        return error_response(error)
    answer["Cache-Control"] = "no-store"  # the credentials are the user's own
    return answer


@require_http_methods(["GET", "HEAD", "POST"])
def settings_view(request: HttpRequest, slug: str) -> HttpResponse:
    """`GET|HEAD|POST /rooms/<slug>/call/settings`: who may join (`access`) and the invited
    accounts. The owner (and staff) changes them: `{"access"?, "invite"?, "uninvite"?}`."""
    try:
        room = get_room(slug)
        require_owner(request.user, room, _("change who may join the call"))
        if request.method == "POST":
            return JsonResponse(update_call_settings(room, request.user, json_body(request)))
        return JsonResponse(call_settings(room))
    except ChatError as error:
        return error_response(error)
