"""What every page and JSON endpoint of the site shares: request bodies, query strings, the
room a request names, the answers for rooms it may not open. Errors go out through
`chat.errors.error_response`, the one shape for every transport."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware import csrf
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.csrf import csrf_failure as django_csrf_failure

from chat.clients import client_address
from chat.domain.access import can_appoint, can_moderate, can_read, require_reader
from chat.domain.inputs import parse_json_object
from chat.domain.posting import WriteContext
from chat.domain.rooms import find_room, get_room
from chat.domain.wire import FRAME_MAX_BYTES, size_label
from chat.errors import ChatError, error_response
from chat.guards.login import wants_json
from chat.models import Room
from chat.web.errors import error_page


def body_too_large() -> ChatError:
    return ChatError(
        "too_long",
        _("Request bodies are limited to %(limit)s."),
        params={"limit": size_label(FRAME_MAX_BYTES)},
        status=413,
    )


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object body, refusing oversized bodies before reading them."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > FRAME_MAX_BYTES:
        raise body_too_large()
    if request.content_type != "application/json":
        raise ChatError("invalid", _("Send JSON with Content-Type: application/json."))
    try:
        body = request.body
    except RequestDataTooBig:  # chunked, so no Content-Length, and over Django's own ceiling
        raise body_too_large() from None
    if len(body) > FRAME_MAX_BYTES:
        raise body_too_large()
    return parse_json_object(body)


def write_context(request: HttpRequest) -> WriteContext:
    """Where a write over HTTP comes from (its address, for per-address limits)."""
    return WriteContext(ip=client_address(request))


def query_params(request: HttpRequest) -> QueryDict:
    """`request.GET`, or ChatError("invalid") for more parameters than Django will parse
    (DATA_UPLOAD_MAX_NUMBER_FIELDS): its own refusal is an HTML page, and a 500 under DEBUG."""
    try:
        return request.GET
    except TooManyFieldsSent:
        raise ChatError("invalid", _("Too many query parameters.")) from None


def readable_room(request: HttpRequest, slug: str) -> Room:
    """The room, if this request may read it: ChatError room_not_found or private_room."""
    room = get_room(slug)
    require_reader(request.user, room, query_params(request).get("key"))
    return room


# Django's reasons that are fixed strings, in the reader's language (the others carry the
# address they name, and stay as Django wrote them).
CSRF_REASONS: dict[str, Promise] = {
    csrf.REASON_NO_CSRF_COOKIE: _("the CSRF cookie is missing."),
    csrf.REASON_CSRF_TOKEN_MISSING: _("the CSRF token is missing."),
    csrf.REASON_INCORRECT_LENGTH: _("the CSRF token has the wrong length."),
    csrf.REASON_INVALID_CHARACTERS: _("the CSRF token has invalid characters."),
    csrf.REASON_NO_REFERER: _("the request has no Referer."),
    csrf.REASON_MALFORMED_REFERER: _("the Referer is malformed."),
    csrf.REASON_INSECURE_REFERER: _("the Referer is not secure (https) while this page is."),
}


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF refusals: JSON with a stable code for API calls, Django's page for forms."""
    if wants_json(request):
        said = CSRF_REASONS.get(reason, reason)
        return error_response(
            ChatError("csrf_failed", _("CSRF check failed: %(reason)s"), params={"reason": said}, status=403)
        )
    if settings.DEBUG:
        return django_csrf_failure(request, reason)  # Django's page says what to check
    message = _("The form expired or came from another site. Reload the page and try again.")
    return error_page(request, 403, str(message))


def login_redirect(request: HttpRequest) -> HttpResponse:
    """To the login page, coming back here afterwards."""
    return redirect(f"{reverse('login')}?next={request.path}")


def room_missing_page(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "chat/room_missing.html", {"slug": slug}, status=404)


def private_page(request: HttpRequest, room: Room) -> HttpResponse:
    """The page a non-member gets for a private room (signed out: the way to sign in)."""
    if not request.user.is_authenticated:
        return login_redirect(request)
    return render(request, "chat/room_private.html", {"room": room}, status=403)


def moderators_page_room(
    request: HttpRequest, slug: str, refusal: str | Promise, *, owner_only: bool = False
) -> Room | HttpResponse:
    """The room of a page only its moderators (`owner_only`: its owner and staff) may open, or
    the answer for anyone else: 404 for no room, the login page for a guest, 403 with `refusal`."""
    room = find_room(slug)
    if room is None:
        return room_missing_page(request, slug)
    if not request.user.is_authenticated:
        return login_redirect(request)
    allowed = can_appoint if owner_only else can_moderate
    if not allowed(request.user, room):
        return error_page(request, 403, str(refusal))
    return room


def readers_page_room(request: HttpRequest, slug: str) -> Room | HttpResponse:
    """The room of a page for its readers (chat, watch), or the 404 or private-room page."""
    room = find_room(slug)
    if room is None:
        return room_missing_page(request, slug)
    if not can_read(request.user, room):
        return private_page(request, room)
    return room
