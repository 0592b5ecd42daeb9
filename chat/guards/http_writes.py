"""Flood protection for HTTP writes: every POST, PUT, PATCH and DELETE counts against its
client address (`CHAT_HTTP_WRITE_RATE_IP`), which also slows password guessing on the login form."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from chat.clients import client_address
from chat.errors import error_response, rate_limited

from .ratelimit import hit, parse_rate

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class HttpWriteRateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in UNSAFE_METHODS:
            key = f"http-write:ip:{client_address(request)}"
            retry_after = hit(key, parse_rate(settings.CHAT_HTTP_WRITE_RATE_IP))
            if retry_after is not None:
                return error_response(rate_limited(_("Too many requests from your network."), retry_after))
        return self.get_response(request)
