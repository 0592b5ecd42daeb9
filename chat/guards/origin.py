"""Refuse requests from other sites by their Origin header (browsers always send it)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from chat.clients import header
from chat.types import Scope


def same_site(origin: str | None, host: str | None) -> bool:
    """`origin` (an Origin header) names the site at `host`, or one in CSRF_TRUSTED_ORIGINS.

    No Origin at all comes from a non-browser client (browsers send it on every WebSocket
    handshake and every POST): it carries no ambient browser credentials for another site to
    abuse, so it is allowed.
    """
    if origin is None:
        return True
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    if host is None or parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    return parts.netloc.lower() == host.lower()


def origin_allowed(scope: Scope) -> bool:
    """A WebSocket handshake from this site (see same_site)."""
    return same_site(header(scope, b"origin"), header(scope, b"host"))
