"""The room's JSON endpoints over plain HTTP: posting without WebSocket, and scrollback."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from chat.domain.access import require_reader
from chat.domain.eventlog import HISTORY_MAX_LIMIT, history_before, log_position
from chat.domain.inputs import SEQ_MAX, clean_nonce, parse_int
from chat.domain.moderation.pins import current_pin
from chat.domain.moderation.reports import report_event
from chat.domain.posting import submit_frame
from chat.domain.rooms import get_room
from chat.domain.tokens import TICKET_SECONDS, issue_ticket
from chat.errors import ChatError, error_response
from chat.models import RemovedDisplay, Room
from chat.realtime.hub import get_hub

from .http import json_body, query_params, write_context
from .tokens import request_token

HISTORY_DEFAULT_LIMIT = 50


@require_POST
def post_message_view(request: HttpRequest, slug: str) -> JsonResponse:
    """`POST /rooms/<slug>/messages` {"type", "text", "nonce", ...}: the WebSocket's write frames
    over HTTP (`type` defaults to "message"), answered with the same ack or error."""
    nonce: str | int | None = None
    try:
        room = get_room(slug)
        frame = json_body(request)
        nonce = clean_nonce(frame.get("nonce"))
        posted = submit_frame(room, request.user, frame, write_context(request), default_type="message")
    except ChatError as error:
        return error_response(error, nonce)
    return JsonResponse(posted.ack(nonce))


@require_POST
def report_view(request: HttpRequest, slug: str) -> JsonResponse:
    """`POST /rooms/<slug>/report {"id", "reason"}`: report a message to the room's moderators."""
    try:
        room = get_room(slug)
        body = json_body(request)
        return JsonResponse(report_event(room, request.user, body.get("id"), body.get("reason")))
    except ChatError as error:
        return error_response(error)


@require_safe
def history(request: HttpRequest, slug: str) -> JsonResponse:
    """Older messages for scrollback: `?before=<seq>&limit=<n>`, newest last."""
    try:
        room = get_room(slug)
        query = query_params(request)
        # An overlay of a private room reads its latest messages with the room's overlay key.
        require_reader(request.user, room, query.get("key"))
        before = parse_int(query.get("before"), "before", low=1, high=SEQ_MAX)
        limit = parse_int(query.get("limit"), "limit", low=1, high=HISTORY_MAX_LIMIT)
    except ChatError as error:
        return error_response(error)
    placeholders = room.cleared_seq if room.removed_display == RemovedDisplay.PLACEHOLDER else None
    events, has_more = history_before(room.pk, before, limit or HISTORY_DEFAULT_LIMIT, placeholders)
    answer = {
        "events": events,
        "last_seq": room.last_seq,
        "epoch": room.log_epoch,
        "has_more": has_more,
        "pinned": current_pin(room),
    }
    return JsonResponse(answer)


def _readable_room(request: HttpRequest, slug: str) -> Room:
    room = get_room(slug)
    require_reader(request.user, room)
    return room


async def room_state_view(request: HttpRequest, slug: str) -> HttpResponse:
    """`GET /rooms/<slug>/state`: `{"room", "last_seq", "epoch", "presence": {"count", "guests"}}`,
    for a site's backend (a `read` token) as for anyone who may read the room."""
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    try:
        room = await sync_to_async(_readable_room)(request, slug)
    except ChatError as error:
        return error_response(error)
    last_seq, epoch = await sync_to_async(log_position)(room.pk)
    snapshot = await get_hub().presence_store.snapshot(room.pk)
    presence = {"count": snapshot.count, "guests": snapshot.guests}
    return JsonResponse({"room": room.slug, "last_seq": last_seq, "epoch": epoch, "presence": presence})


@require_POST
def ticket_view(request: HttpRequest, slug: str) -> JsonResponse:
    """`POST /rooms/<slug>/tickets {"scopes"?}` with an API token: a short-lived ticket that a
    browser page puts in a stream's URL (`?ticket=`), where it cannot send a header."""
    try:
        token = request_token(request)
        if token is None:
            raise ChatError("token_required", _("Tickets are made with an API token."), status=401)
        room = get_room(slug)
        body = json_body(request) if request.body else {}
        ticket = issue_ticket(token, room, body.get("scopes"))
    except ChatError as error:
        return error_response(error)
    return JsonResponse({"ticket": ticket, "expires_in": TICKET_SECONDS})
