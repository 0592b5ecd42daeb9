"""Refuse WebSocket handshakes from other sites (browsers always send Origin)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Same origin as the Host the client connected to, or listed in CSRF_TRUSTED_ORIGINS.

    A handshake without Origin comes from a non-browser client (a bot, a load generator):
    it carries no ambient browser credentials for another site to abuse, so it is allowed.
    """
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    host = _header(scope, b"host")
    parts = urlsplit(origin)
    if host is None or parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    return parts.netloc.lower() == host.lower()


class SameOriginMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)
