"""The site's error pages (400, 403, 404, 500): the site's header and a way back for people,
JSON with a stable code for API clients (the same frames as the API's own refusals)."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext_lazy as _

from chat.errors import ChatError, error_response
from chat.guards.login import wants_json

logger = logging.getLogger(__name__)

PAGES = {
    400: ("bad_request", _("Bad request"), _("The address or the form was not understood.")),
    403: ("forbidden", _("Not allowed"), _("You do not have access to this page.")),
    404: ("not_found", _("Page not found"), _("There is nothing at this address.")),
    500: (
        "server_error",
        _("Something went wrong"),
        _("The server failed to answer. Try again in a moment."),
    ),
}
# The last resort: a page that needs no template, no session and no database.
BARE = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>'
    '<meta name="color-scheme" content="light dark">'
    '<body style="font-family:system-ui,sans-serif;margin:3rem auto;max-width:32rem;padding:0 1rem">'
    "<h1>{title}</h1><p>{message}</p>"
    '<p><a href="/">{back}</a></p></body></html>'
)


def error_page(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    """The styled page (or, for an API client, the JSON frame) for `status`."""
    code, title, default_message = PAGES[status]
    text = str(message or default_message)
    if wants_json(request):
        return error_response(ChatError(code, text, status=status))
    if not hasattr(request, "user"):
        # Refused before the authentication middleware ran (a Host not allowed, a body too
        # large to read): the page is a guest's.
        request.user = AnonymousUser()
    body = loader.render_to_string(
        "errors/error.html",
        {"status": status, "title": title, "message": text, "path": request.path},
        request,
    )
    return HttpResponse(body, status=status)


def bare_page(status: int) -> HttpResponse:
    """A page that needs no template, no session and no database."""
    _code, title, message = PAGES[status]
    return HttpResponse(BARE.format(title=title, message=message, back=_("Back to the rooms")), status=status)


def safe_error_page(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    """error_page, or the bare page if even that fails."""
    try:
        return error_page(request, status, message)
    except Exception:
        logger.exception("the %s page failed; answering the bare one", status)
        return bare_page(status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return safe_error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The exception's text is shown only when a view chose it for people to read.
    message = str(exception) if isinstance(exception, ChatError) else None
    return safe_error_page(request, 403, message)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return safe_error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page; if even that fails (the template, the session, the database behind the
    account's name), a bare page that needs none of them."""
    return safe_error_page(request, 500)
