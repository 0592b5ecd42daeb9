"""Flood protection for HTTP writes: every POST, PUT, PATCH and DELETE counts against its
client address (`CHAT_HTTP_WRITE_RATE_IP`), which also slows password guessing on the login form."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .ratelimit import hit, parse_rate

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class HttpWriteRateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in UNSAFE_METHODS:
            ip = str(request.META.get("REMOTE_ADDR") or "")
            retry_after = hit(f"http-write:ip:{ip}", parse_rate(settings.CHAT_HTTP_WRITE_RATE_IP))
            if retry_after is not None:
                response = JsonResponse(
                    {
                        "type": "error",
                        "nonce": None,
                        "code": "rate_limited",
                        "message": f"Too many requests from your network; try again in {retry_after} s.",
                        "retry_after": retry_after,
                    },
                    status=429,
                )
                response["Retry-After"] = str(retry_after)
                return response
        return self.get_response(request)
