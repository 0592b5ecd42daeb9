"""`Authorization: Bearer <token>` on every Django path: the token's account becomes the
request's user, as a session's would, for what the token's scopes and rooms allow.

A bearer request is not a browser's credentialed request: no cookie it carries is trusted, so
CSRF (which protects cookies) does not apply to it, and CORS never grants credentials
(docs/DECISIONS.md). Pages that manage the account (tokens, password, the admin) need a session.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from chat.domain.rooms import find_room
from chat.domain.tokens import authenticate, bearer_token, redeem_ticket, require_scope
from chat.errors import ChatError, error_response, token_forbidden
from chat.models import ApiToken, TokenScope

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Paths a token never opens: making tokens with a token, changing a password, the admin.
SESSION_ONLY_PREFIXES = ("/accounts/", "/admin/")


def request_token(request: HttpRequest) -> ApiToken | None:
    """The API token the request was authenticated with, None for a session or a guest."""
    return getattr(request, "api_token", None)


def required_scope(request: HttpRequest) -> str:
    """What a request does, as a token scope: moderation paths (and the room's video settings)
    need `moderate`, other writes `post`, reads `read`."""
    path = request.path
    if "/mod/" in path or path.endswith(("/moderate", "/video")):
        return TokenScope.MODERATE
    if request.method in SAFE_METHODS or path.endswith("/tickets"):  # a ticket checks its own scopes
        return TokenScope.READ
    return TokenScope.POST


def url_ticket(request: HttpRequest) -> str | None:
    """A read's `?ticket=` (chat.domain.tokens.issue_ticket), None without one. Only on the
    paths other sites may read (CORS_URLS_REGEX): a link to a page never signs anyone in."""
    if request.method not in SAFE_METHODS or not re.match(settings.CORS_URLS_REGEX, request.path_info):
        return None
    try:
        ticket = request.GET.get("ticket")
    except TooManyFieldsSent:
        return None  # the view refuses the query string itself
    return ticket or None


class BearerTokenMiddleware:
    """Placed after AuthenticationMiddleware, whose user it replaces for a bearer request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            raw = bearer_token(request.headers.get("Authorization"))
            ticket = url_ticket(request) if raw is None else None
            if raw is None and ticket is None:
                return self.get_response(request)
            if request.path.startswith(SESSION_ONLY_PREFIXES):
                raise token_forbidden(
                    "token_not_allowed", _("This page needs a signed-in session, not a token.")
                )
            token = authenticate(raw) if raw is not None else redeem_ticket(str(ticket))
        except ChatError as error:
            return error_response(error)
        request.user = token.user

        async def auser() -> Any:  # what async views ask, instead of the session's user
            return token.user

        request.auser = auser
        request.api_token = token  # type: ignore[attr-defined]
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]  # no cookie is trusted
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        token = request_token(request)
        if token is None:
            return None
        slug = kwargs.get("slug")
        room = find_room(slug) if isinstance(slug, str) else None
        try:
            require_scope(token, required_scope(request), room)
        except ChatError as error:
            return error_response(error)
        return None
